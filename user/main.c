// SPDX-License-Identifier: GPL-2.0
/*
 * kvmprobe: parse arguments, start the probes of the probe table, then per
 * interval read them into one kp_interval, resolve identities and hand the
 * interval to the sink. One cleanup path.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include "user/cli.h"
#include "user/metrics.h"
#include "user/probe.h"
#include "user/resolve.h"
#include "user/sink.h"

#ifndef KP_VERSION
#define KP_VERSION "0.0.0"
#endif

static volatile sig_atomic_t stop_signal;
static int verbose;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (!verbose || (level == LIBBPF_DEBUG && verbose < 2))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void print_metrics(void)
{
	const struct kp_metric_desc *d;
	int id;

	printf("| JSON key | Prometheus name | type | unit | scope | label | help |\n");
	printf("|---|---|---|---|---|---|---|\n");
	for (id = 0; id < KP_M__COUNT; id++) {
		d = kp_metric(id);
		printf("| `%s` | `%s` | %s | %s | %s | %s | %s |\n", d->json,
		       d->prom, kp_mtype_name(d->type), kp_unit_name(d->unit),
		       kp_scope_name(d->scope), d->label, d->help);
	}
}

static int setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL))
		return -errno;
	signal(SIGPIPE, SIG_IGN); /* write errors report EPIPE instead */
	return 0;
}

struct run {
	const struct kp_opts *opts;
	void *state[8];
	struct kp_probe_status status[8];
	struct kp_resolver *resolver;
	struct kp_sink sink;
	struct timespec last;
	uint64_t intervals;
};

static double elapsed(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) + (b->tv_nsec - a->tv_nsec) / 1e9;
}

/* Read every probe into one interval and hand it to the sink. */
static int collect(struct run *r)
{
	struct kp_interval iv = { 0 };
	struct timespec now;
	size_t i;
	int err;

	clock_gettime(CLOCK_MONOTONIC, &now);
	clock_gettime(CLOCK_REALTIME, &iv.ts);
	iv.interval_s = elapsed(&r->last, &now);
	r->last = now;
	for (i = 0; i < kp_probe_count; i++) {
		if (!r->state[i])
			continue;
		err = kp_probe_table[i].read(r->state[i], &iv);
		if (err)
			fprintf(stderr, "kvmprobe: failed to read probe %s: %s\n",
				kp_probe_table[i].name, strerror(-err));
	}
	err = kp_interval_finish(&iv);
	if (!err)
		err = kp_resolver_apply(r->resolver, &iv);
	if (!err)
		err = r->sink.interval(&r->sink, &iv);
	kp_interval_clear(&iv);
	r->intervals++;
	return err;
}

static int start_probes(struct run *r, struct kp_ksupport *ks)
{
	struct kp_probe_env env = {
		.opts = r->opts, .ks = ks, .proc_root = "/proc",
	};
	int attached = 0;
	size_t i;

	for (i = 0; i < kp_probe_count; i++) {
		r->status[i].name = kp_probe_table[i].name;
		if (!(r->opts->probes & (1U << i))) {
			snprintf(r->status[i].reason, KP_REASON_MAX,
				 "not requested (--probes)");
			continue;
		}
		if (!kp_probe_table[i].start(&env, &r->state[i],
					     &r->status[i]))
			attached++;
	}
	return attached ? 0 : -ENOENT;
}

/* One line naming why each requested probe failed. */
static void report_no_probe(const struct run *r)
{
	const char *sep = "";
	size_t i;

	fprintf(stderr, "kvmprobe: failed to attach any probe:");
	for (i = 0; i < kp_probe_count; i++) {
		if (!(r->opts->probes & (1U << i)))
			continue;
		fprintf(stderr, "%s %s: %s", sep, r->status[i].name,
			r->status[i].reason);
		sep = ";";
	}
	fputc('\n', stderr);
}

static void stop_probes(struct run *r)
{
	size_t i;

	for (i = 0; i < kp_probe_count; i++)
		if (r->state[i])
			kp_probe_table[i].stop(r->state[i]);
}

static int sleep_until(const struct timespec *deadline)
{
	int err;

	do {
		err = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, deadline,
				      NULL);
	} while (err == EINTR && !stop_signal);
	return err;
}

/* Returns the reason the loop ended, or NULL after a sink write error. */
static const char *loop(struct run *r, int *err)
{
	struct timespec deadline = r->last;
	long long step = (long long)(r->opts->interval_s * 1e9);

	for (;;) {
		deadline.tv_sec += step / 1000000000;
		deadline.tv_nsec += step % 1000000000;
		if (deadline.tv_nsec >= 1000000000) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000;
		}
		sleep_until(&deadline);
		*err = collect(r); /* on a signal: the partial last interval */
		if (*err)
			return NULL;
		if (stop_signal)
			return "signal";
		if (r->opts->count && r->intervals >= r->opts->count)
			return "count";
	}
}

static int run(struct run *r)
{
	struct kp_start_info info = {
		.version = KP_VERSION,
		.interval_s = r->opts->interval_s,
		.pids = r->opts->pids,
		.npids = r->opts->npids,
		.probes = r->status,
		.nprobes = kp_probe_count,
	};
	struct kp_stop_info stop = { 0 };
	int err;

	clock_gettime(CLOCK_REALTIME, &info.ts);
	clock_gettime(CLOCK_MONOTONIC, &r->last);
	err = r->sink.start(&r->sink, &info);
	if (!err)
		stop.reason = loop(r, &err);
	if (err)
		return err;
	clock_gettime(CLOCK_REALTIME, &stop.ts);
	stop.intervals = r->intervals;
	return r->sink.stop(&r->sink, &stop);
}

int main(int argc, char **argv)
{
	const char *names[8];
	struct kp_ksupport *ks = NULL;
	struct kp_opts opts;
	struct run r = { .opts = &opts };
	FILE *out = stdout;
	char err_msg[256];
	int err, status = KP_EXIT_FAILURE;
	size_t i;

	for (i = 0; i < kp_probe_count; i++)
		names[i] = kp_probe_table[i].name;
	if (kp_cli_parse(argc, argv, &opts, names, kp_probe_count, err_msg,
			 sizeof(err_msg))) {
		fprintf(stderr, "kvmprobe: %s (see --help)\n", err_msg);
		return KP_EXIT_USAGE;
	}
	if (opts.help) {
		fputs(kp_cli_usage(), stdout);
		return KP_EXIT_OK;
	}
	if (opts.version) {
		printf("kvmprobe %s\n", KP_VERSION);
		return KP_EXIT_OK;
	}
	if (opts.list_metrics) {
		print_metrics();
		return KP_EXIT_OK;
	}
	verbose = opts.verbose;
	libbpf_set_print(libbpf_print);

	if (opts.output) {
		out = fopen(opts.output, "w");
		if (!out) {
			fprintf(stderr, "kvmprobe: failed to open %s: %s\n",
				opts.output, strerror(errno));
			return KP_EXIT_FAILURE;
		}
	}
	if (opts.format == KP_FMT_JSON)
		kp_sink_json_init(&r.sink, out, &opts);
	else
		kp_sink_text_init(&r.sink, out, &opts);

	err = setup_signals();
	if (err) {
		fprintf(stderr, "kvmprobe: failed to set signal handlers: %s\n",
			strerror(-err));
		goto err_close;
	}
	ks = kp_ksupport_new();
	r.resolver = kp_resolver_new("/proc");
	if (!ks || !r.resolver) {
		fprintf(stderr, "kvmprobe: failed to allocate memory\n");
		goto err_free;
	}
	if (start_probes(&r, ks)) {
		report_no_probe(&r);
		status = KP_EXIT_NOPROBE;
		goto err_stop;
	}
	kp_ksupport_free(ks); /* BTF is only needed to choose programs */
	ks = NULL;

	err = run(&r);
	if (err == -EPIPE) {
		status = KP_EXIT_OK; /* the reader went away: end quietly */
	} else if (err) {
		fprintf(stderr, "kvmprobe: failed to write records: %s\n",
			strerror(-err));
	} else {
		status = KP_EXIT_OK;
	}
err_stop:
	stop_probes(&r);
err_free:
	kp_resolver_free(r.resolver);
	kp_ksupport_free(ks);
err_close:
	if (out != stdout)
		fclose(out);
	return status;
}
