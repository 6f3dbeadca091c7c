// SPDX-License-Identifier: GPL-2.0
/*
 * kvmprobe: parse arguments, start the probes of the probe table, then per
 * interval read them into one kp_interval, resolve identities and hand the
 * interval to the sink. One cleanup path.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include "user/core/cli.h"
#include "user/service/config.h"
#include "user/service/outq.h"
#include "user/service/privs.h"
#include "user/service/service.h"
#include "user/core/metrics.h"
#include "user/probes/probe.h"
#include "user/identity/resolve.h"
#include "user/sinks/sink.h"

#ifndef KP_VERSION
#define KP_VERSION "0.0.0"
#endif

/*
 * Signals are blocked in every thread (kp_block_signals() runs before any
 * thread starts, and threads inherit the mask); the sampling loop takes
 * them synchronously with sigtimedwait() while it waits for the next
 * interval, so no signal is lost to another thread or to a busy moment.
 */
static int stop_signal;
static int verbose;
static sigset_t loop_signals;

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
		       kp_scope_name(d->scope), d->label ? d->label : "-",
		       d->help);
	}
	kp_config_print_rules(stdout);
}

static int setup_signals(void)
{
	sigemptyset(&loop_signals);
	sigaddset(&loop_signals, SIGINT);
	sigaddset(&loop_signals, SIGTERM);
	sigaddset(&loop_signals, SIGHUP);
	signal(SIGPIPE, SIG_IGN); /* write errors report EPIPE instead */
	return -pthread_sigmask(SIG_BLOCK, &loop_signals, NULL);
}

struct run {
	const struct kp_opts *opts;
	void *state[8];
	struct kp_probe_status status[8];
	struct kp_resolver *resolver;
	struct kp_sink sink;
	struct kp_outq *outq;
	struct kp_service svc;
	const char *const *names;
	char *buf;           /* the record text being built (memstream) */
	size_t len;
	struct timespec last;
	uint64_t intervals;
};

static double elapsed(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) + (b->tv_nsec - a->tv_nsec) / 1e9;
}

/*
 * The notices that came with the identity table this interval was resolved
 * with, written before its records: changes of the identity source go to
 * the sink, other messages (a -d domain that is not running) to stderr.
 */
static int drain_notices(struct run *r, const struct timespec *ts)
{
	struct kp_notice n[8];
	size_t i, got;
	int err = 0;

	while ((got = kp_resolver_notices(r->resolver, n, 8))) {
		for (i = 0; i < got && !err; i++) {
			/* the stream's timestamps never go back */
			if (n[i].ts.tv_sec > ts->tv_sec ||
			    (n[i].ts.tv_sec == ts->tv_sec &&
			     n[i].ts.tv_nsec > ts->tv_nsec))
				n[i].ts = *ts;
			if (!n[i].state)
				fprintf(stderr, "kvmprobe: %s\n", n[i].message);
			else if (r->sink.notice)
				err = r->sink.notice(&r->sink, &n[i]);
		}
	}
	return err;
}

/*
 * Sinks write each batch of records (the start record, an interval, the
 * stop record) into memory; the batch then goes to the output queue, whose
 * writer thread does the blocking write: a stuck reader never delays
 * sampling. A full queue drops the batch and counts it (not an error).
 */
static int emit_begin(struct run *r)
{
	r->sink.out = open_memstream(&r->buf, &r->len);
	return r->sink.out ? 0 : -errno;
}

static int emit_end(struct run *r)
{
	int err;

	if (fclose(r->sink.out))
		return -errno;
	r->sink.out = NULL;
	err = kp_outq_push(r->outq, r->buf, r->len);
	r->buf = NULL;
	return err == -ENOBUFS ? 0 : err;
}

/* SIGHUP: reopen the output (logrotate) and reload the alert rules. */
static int on_hup(struct run *r)
{
	struct kp_notice n = { .source = "config" };
	int err;

	kp_outq_reopen(r->outq);
	if (!r->svc.config_path)
		return 0;
	clock_gettime(CLOCK_REALTIME, &n.ts);
	err = kp_service_reload(&r->svc, r->names, kp_probe_count, n.message,
				sizeof(n.message));
	n.state = err ? "invalid" : "reloaded";
	if (err)
		fprintf(stderr, "kvmprobe: config not reloaded, old rules kept: %s\n",
			n.message);
	err = emit_begin(r);
	if (err)
		return err;
	err = r->sink.notice ? r->sink.notice(&r->sink, &n) : 0;
	return err ? err : emit_end(r);
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
	iv.records_dropped = kp_outq_dropped(r->outq);
	err = kp_interval_finish(&iv);
	if (!err)
		err = kp_resolver_apply(r->resolver, &iv);
	if (!err)
		err = emit_begin(r);
	if (!err)
		err = drain_notices(r, &iv.ts);
	if (!err)
		err = r->sink.interval(&r->sink, &iv);
	if (!err)
		err = kp_service_interval(&r->svc, &iv, iv.records_dropped);
	if (r->sink.out) {
		int e = emit_end(r);

		err = err ? err : e;
	}
	kp_interval_clear(&iv);
	r->intervals++;
	return err;
}

static int start_probes(struct run *r, struct kp_ksupport *ks)
{
	struct kp_probe_env env = {
		.opts = r->opts, .ks = ks, .proc_root = "/proc",
		.resolver = r->resolver,
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

/* Wait for deadline (CLOCK_MONOTONIC), handling SIGHUP on the way. */
static int sleep_until(struct run *r, const struct timespec *deadline)
{
	struct timespec now, left;
	int sig, err;

	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left.tv_sec = deadline->tv_sec - now.tv_sec;
		left.tv_nsec = deadline->tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_sec--;
			left.tv_nsec += 1000000000L;
		}
		if (left.tv_sec < 0)
			return 0;
		sig = sigtimedwait(&loop_signals, NULL, &left);
		if (sig == SIGHUP) {
			err = on_hup(r);
			if (err)
				return err;
		} else if (sig > 0) {
			stop_signal = sig;
			return 0;
		} else if (errno == EAGAIN) {
			return 0;
		}
	}
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
		*err = sleep_until(r, &deadline);
		if (*err)
			return NULL;
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
		.domains = r->opts->domains,
		.ndomains = r->opts->ndomains,
		.probes = r->status,
		.nprobes = kp_probe_count,
	};
	struct kp_stop_info stop = { 0 };
	int err;

	clock_gettime(CLOCK_REALTIME, &info.ts);
	clock_gettime(CLOCK_MONOTONIC, &r->last);
	err = emit_begin(r);
	if (!err)
		err = r->sink.start(&r->sink, &info);
	if (!err)
		err = emit_end(r);
	if (!err)
		stop.reason = loop(r, &err);
	if (err)
		return err;
	clock_gettime(CLOCK_REALTIME, &stop.ts);
	stop.intervals = r->intervals;
	err = emit_begin(r);
	if (!err)
		err = r->sink.stop(&r->sink, &stop);
	return err ? err : emit_end(r);
}

/* Everything after the probes are attached (and the /metrics socket
 * bound): drop privileges, then start the threads, the probes' own
 * included (they keep the capabilities they start with). */
static int start_service(struct run *r, char *msg, size_t len)
{
	size_t i;
	int err;

	err = kp_drop_privileges();
	if (err)
		fprintf(stderr, "kvmprobe: failed to drop privileges: %s (running with them)\n",
			strerror(-err));
	for (i = 0; i < kp_probe_count; i++) {
		if (!r->state[i] || !kp_probe_table[i].run)
			continue;
		err = kp_probe_table[i].run(r->state[i]);
		if (err) /* the probe keeps counting, without its thread */
			fprintf(stderr, "kvmprobe: failed to start the %s probe's thread: %s\n",
				kp_probe_table[i].name, strerror(-err));
	}
	err = kp_resolver_start(r->resolver);
	if (err) {
		snprintf(msg, len, "failed to start the resolver: %s",
			 strerror(-err));
		return err;
	}
	return kp_service_start(&r->svc, &r->sink, msg, len);
}

int main(int argc, char **argv)
{
	const char *names[8];
	struct kp_ksupport *ks = NULL;
	struct kp_opts opts;
	struct run r = { .opts = &opts, .names = names };
	char msg[512];
	int err, status = KP_EXIT_FAILURE;
	size_t i;

	/*
	 * Large buffers (map snapshots, the BTF parsed at start) back to the
	 * kernel when freed: glibc would otherwise raise its mmap threshold
	 * after the first big free and keep later ones on the heap.
	 */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	for (i = 0; i < kp_probe_count; i++)
		names[i] = kp_probe_table[i].name;
	if (kp_service_load(&r.svc, argc, argv, &opts, names, kp_probe_count,
			    msg, sizeof(msg))) {
		fprintf(stderr, "kvmprobe: %s%s\n", msg,
			r.svc.config_path ? "" : " (see --help)");
		kp_service_stop(&r.svc);
		return KP_EXIT_USAGE;
	}
	if (opts.help || opts.version || opts.list_metrics) {
		if (opts.help)
			fputs(kp_cli_usage(), stdout);
		else if (opts.version)
			printf("kvmprobe %s\n", KP_VERSION);
		else
			print_metrics();
		kp_service_stop(&r.svc);
		return KP_EXIT_OK;
	}
	verbose = opts.verbose;
	libbpf_set_print(libbpf_print);

	err = setup_signals(); /* before any thread starts */
	if (err) {
		fprintf(stderr, "kvmprobe: failed to block signals: %s\n",
			strerror(-err));
		goto err_svc;
	}
	/* the output opens first: a bad path fails before anything attaches */
	r.outq = kp_outq_new(opts.output, KP_OUTQ_DEFAULT);
	if (!r.outq) {
		fprintf(stderr, "kvmprobe: failed to open %s: %s\n",
			opts.output ? opts.output : "stdout", strerror(errno));
		goto err_svc;
	}
	if (opts.format == KP_FMT_JSON)
		kp_sink_json_init(&r.sink, NULL, &opts);
	else
		kp_sink_text_init(&r.sink, NULL, &opts);

	ks = kp_ksupport_new();
	r.resolver = kp_resolver_new(&(struct kp_resolver_config){
		.proc_root = "/proc",
		.libvirt_uri = opts.connect,
		.libvirt_run_dir = "/run/libvirt/qemu",
		.domains = opts.domains,
		.ndomains = opts.ndomains,
		.pids = opts.pids,
		.npids = opts.npids,
	});
	if (!ks || !r.resolver) {
		fprintf(stderr, "kvmprobe: failed to allocate memory\n");
		goto err_free;
	}
	/* a busy port fails before anything attaches */
	if (kp_service_bind(&r.svc, &opts, msg, sizeof(msg))) {
		fprintf(stderr, "kvmprobe: %s\n", msg);
		goto err_free;
	}
	if (start_probes(&r, ks)) {
		report_no_probe(&r);
		status = KP_EXIT_NOPROBE;
		goto err_stop;
	}
	kp_ksupport_free(ks); /* BTF is only needed to choose programs */
	ks = NULL;
	if (start_service(&r, msg, sizeof(msg))) {
		fprintf(stderr, "kvmprobe: %s\n", msg);
		goto err_stop;
	}

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
	free(r.buf);
	/* flush what is queued; give a stuck reader 2 s, not forever */
	err = kp_outq_close(r.outq, 2000);
	if (err && err != -EPIPE && status == KP_EXIT_OK) {
		fprintf(stderr, "kvmprobe: failed to write records: %s\n",
			strerror(-err));
		status = KP_EXIT_FAILURE;
	}
err_svc:
	kp_service_stop(&r.svc);
	return status;
}
