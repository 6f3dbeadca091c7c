/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The sampling loop: a deadline per interval (CLOCK_MONOTONIC, so late
 * intervals do not drift), signals taken synchronously while it waits
 * (SIGHUP reopens the output and reloads the rules, SIGINT/SIGTERM end the
 * run after the partial last interval), and per interval: read every
 * probe, resolve identities, then the stages in order: records (the sink),
 * alerts, metrics. Each batch of records (start, an interval, a reload,
 * stop) is built in memory and handed to the output queue whole.
 */
#ifndef KP_LOOP_H
#define KP_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "user/core/cli.h"
#include "user/identity/resolve.h"
#include "user/probes/cpustat.h"
#include "user/probes/probe.h"
#include "user/service/outq.h"
#include "user/service/service.h"
#include "user/sinks/sink.h"

struct kp_loop {
	/* set by the caller before kp_loop_run() */
	const struct kp_opts *opts;
	void *state[KP_PROBE_MAX];             /* NULL: not running */
	struct kp_probe_status status[KP_PROBE_MAX];
	const char *const *names;              /* probe names (reload) */
	struct kp_resolver *resolver;
	struct kp_sink *sink;
	struct kp_outq *outq;
	struct kp_service *svc;
	bool top;                              /* the sink is kvmprobe top:
						* it reads the keys */
	/* the loop's own */
	char *buf;                             /* the batch being built */
	size_t len;
	struct timespec last;                  /* end of the last interval */
	struct kp_cpustat cpu;                 /* /proc/stat at last; ncpus
						* 0: not read */
	uint64_t intervals;
	int stop_signal;
	bool out_stopped;                      /* writing records stopped */
	bool quit, restart;                    /* top: q; space or s */
};

/* Block the loop's signals (before any thread starts: threads inherit it). */
int kp_loop_block_signals(bool top);
/*
 * Write the start record, run intervals until -c or a signal, write the
 * stop record. 0, or -errno (-EPIPE: the reader went away).
 */
int kp_loop_run(struct kp_loop *l);
/* Free what a run left (safe after an error, and on a loop never run). */
void kp_loop_free(struct kp_loop *l);

#endif /* KP_LOOP_H */
