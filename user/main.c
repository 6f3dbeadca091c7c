// SPDX-License-Identifier: GPL-2.0
/*
 * kvmprobe: parse arguments, open the output, start the probes of the probe
 * table and the service threads, then hand over to the sampling loop
 * (user/service/loop.c). One cleanup path.
 */
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "user/core/cli.h"
#include "user/service/config.h"
#include "user/service/outq.h"
#include "user/service/privs.h"
#include "user/service/loop.h"
#include "user/service/service.h"
#include "user/core/metrics.h"
#include "user/probes/probe.h"
#include "user/identity/resolve.h"
#include "user/sinks/sink.h"
#include "user/sinks/top.h"

#ifndef KP_VERSION
#define KP_VERSION "0.0.0"
#endif

static int verbose;

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
		printf("| `%s` | `%s`%s%s%s | %s | %s | %s | %s | %s |\n",
		       d->json, d->prom, d->prom_total ? ", `" : "",
		       d->prom_total ? d->prom_total : "",
		       d->prom_total ? "` (counter)" : "",
		       kp_mtype_name(d->type), kp_unit_name(d->unit),
		       kp_scope_name(d->scope), d->label ? d->label : "-",
		       d->help);
	}
	for (id = 0; id < KP_HM__COUNT; id++) { /* kvmprobe's own */
		d = kp_host_metric(id);
		printf("| `%s` | `%s` | %s | %s | %s | %s | %s |\n", d->json,
		       d->prom, kp_mtype_name(d->type), kp_unit_name(d->unit),
		       kp_scope_name(d->scope), d->label ? d->label : "-",
		       d->help);
	}
	kp_config_print_rules(stdout);
}

/*
 * kvmprobe top: asked for, or the default when stdout is a terminal and
 * nothing asks for records (-f, -o, --config). A terminal curses cannot
 * drive (TERM=dumb, not a tty) gets the scrolling text.
 */
static bool use_top(const struct kp_opts *o)
{
	bool want = o->top == KP_TOP_ON ||
		(o->top == KP_TOP_AUTO && !o->format_set && !o->output &&
		 !o->config && isatty(STDOUT_FILENO));

	if (!want)
		return false;
	if (kp_top_usable())
		return true;
	if (o->top == KP_TOP_ON)
		fprintf(stderr, "kvmprobe: top needs a terminal (TERM=%s): scrolling text instead\n",
			getenv("TERM") ?: "");
	return false;
}

static int start_probes(struct kp_loop *r, struct kp_ksupport *ks)
{
	struct kp_probe_env env = {
		.opts = r->opts, .ks = ks, .proc_root = "/proc",
		.resolver = r->resolver,
	};
	int attached = 0;
	size_t i;

	for (i = 0; i < kp_probe_count; i++) {
		r->status[i].name = kp_probe_table[i]->name;
		if (!(r->opts->probes & (1U << i))) {
			snprintf(r->status[i].reason, KP_REASON_MAX,
				 "not requested (--probes)");
			continue;
		}
		if (!kp_probe_table[i]->start(&env, &r->state[i],
					     &r->status[i]))
			attached++;
	}
	return attached ? 0 : -ENOENT;
}

/* One line naming why each requested probe failed. */
static void report_no_probe(const struct kp_loop *r)
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

static void stop_probes(struct kp_loop *r)
{
	size_t i;

	for (i = 0; i < kp_probe_count; i++)
		if (r->state[i])
			kp_probe_table[i]->stop(r->state[i]);
}

/* Everything after the probes are attached (and the /metrics socket
 * bound): drop privileges, then start the threads, the probes' own
 * included (they keep the capabilities they start with). */
static int start_service(struct kp_loop *r, char *msg, size_t len)
{
	size_t i;
	int err;

	err = kp_drop_privileges();
	if (err)
		fprintf(stderr, "kvmprobe: failed to drop privileges: %s (running with them)\n",
			strerror(-err));
	for (i = 0; i < kp_probe_count; i++) {
		if (!r->state[i] || !kp_probe_table[i]->run)
			continue;
		err = kp_probe_table[i]->run(r->state[i]);
		if (err) /* the probe keeps counting, without its thread */
			fprintf(stderr, "kvmprobe: failed to start the %s probe's thread: %s\n",
				kp_probe_table[i]->name, strerror(-err));
	}
	err = kp_resolver_start(r->resolver);
	if (err) {
		snprintf(msg, len, "failed to start the resolver: %s",
			 strerror(-err));
		return err;
	}
	return kp_service_start(r->svc, msg, len);
}

int main(int argc, char **argv)
{
	const char *names[KP_PROBE_MAX];
	struct kp_ksupport *ks = NULL;
	struct kp_service svc;
	struct kp_sink sink;
	struct kp_opts opts;
	struct kp_loop r = {
		.opts = &opts, .names = names, .svc = &svc, .sink = &sink,
	};
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
		names[i] = kp_probe_table[i]->name;
	if (kp_service_load(&svc, argc, argv, &opts, names, kp_probe_count,
			    msg, sizeof(msg))) {
		fprintf(stderr, "kvmprobe: %s%s\n", msg,
			svc.config_path ? "" : " (see --help)");
		kp_service_stop(&svc);
		return KP_EXIT_USAGE;
	}
	if (opts.help || opts.version || opts.list_metrics) {
		if (opts.help)
			fputs(kp_cli_usage(), stdout);
		else if (opts.version)
			printf("kvmprobe %s\n", KP_VERSION);
		else
			print_metrics();
		kp_service_stop(&svc);
		return KP_EXIT_OK;
	}
	if (opts.replay) {
		kp_service_stop(&svc);
		return kp_top_replay(&opts);
	}
	verbose = opts.verbose;
	libbpf_set_print(libbpf_print);
	r.top = use_top(&opts);

	err = kp_loop_block_signals(r.top); /* before any thread starts */
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
	if (r.top) {
		/* with -o FILE the records also go to FILE, as NDJSON */
		if (kp_sink_top_init(&sink, &opts, opts.output)) {
			fprintf(stderr, "kvmprobe: failed to allocate memory\n");
			goto err_svc;
		}
	} else if (opts.format == KP_FMT_JSON)
		kp_sink_json_init(&sink, NULL, &opts);
	else
		kp_sink_text_init(&sink, NULL, &opts);

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
	if (kp_service_bind(&svc, &opts, msg, sizeof(msg))) {
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

	err = kp_loop_run(&r);
	if (sink.close) /* the terminal, before any message */
		sink.close(&sink);
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
	if (r.top)
		kp_top_free(&sink);
	kp_resolver_free(r.resolver);
	kp_ksupport_free(ks);
	kp_loop_free(&r);
	/* flush what is queued; give a stuck reader 2 s, not forever */
	err = kp_outq_close(r.outq, 2000);
	if (err && err != -EPIPE && status == KP_EXIT_OK) {
		fprintf(stderr, "kvmprobe: failed to write records: %s\n",
			strerror(-err));
		status = KP_EXIT_FAILURE;
	}
err_svc:
	kp_service_stop(&svc);
	return status;
}
