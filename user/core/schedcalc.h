/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The arithmetic of the sched probe, apart from libbpf so it is unit-tested:
 * the kernel's counters since tracking began, deltas of counters read
 * racily, the top-N selection of preemptors (percentages of an interval:
 * kp_pct, record.h) and the per-event tier's duty cycle. Pure functions.
 */
#ifndef KP_SCHEDCALC_H
#define KP_SCHEDCALC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "bpf/sched.h"

/* Preemptors reported per vCPU (and per VM) and interval. */
#define KP_SCHED_TOP 5

/* One vCPU's cumulative readings since tracking began; each only grows. */
struct kp_sched_flat {
	struct kp_hist delay;  /* waits the per-event tier saw end */
	uint64_t ready_ns;     /* the kernel's run delay */
	uint64_t cpu_ns;       /* its CPU time */
	uint64_t preemptions;  /* its involuntary context switches */
};

/*
 * A reading of the counters iterator (the kernel's counters and their
 * bases) and the thread's histogram, as counts since tracking began. A
 * counter below its base (a reused tid) counts nothing.
 */
void kp_sched_flatten(const struct sched_reading *r,
		      const struct kp_hist *delay, struct kp_sched_flat *out);

/*
 * delta = cur - prev, counter by counter; a counter behind prev gives 0,
 * and prev becomes the larger of the two. A reading that ran ahead (a map
 * copy can see a span both in its counter and in progress) is taken back
 * from the next deltas, so the sum of the deltas stays exact.
 */
void kp_sched_delta(struct kp_sched_flat *prev,
		    const struct kp_sched_flat *cur,
		    struct kp_sched_flat *delta);

/*
 * The indexes of the (at most) k largest of vals[0..n), largest first;
 * equal values keep their order. Returns how many were written to out.
 */
size_t kp_top_n(const uint64_t *vals, size_t n, size_t k, size_t *out);

/*
 * The per-event tier's duty cycle: whether it is attached at tick of a
 * period of ticks, to run a share duty (0-1) of the time; on at the start
 * of each period. duty 0: never, 1: always.
 */
bool kp_sched_duty_on(double duty, unsigned int tick, unsigned int ticks);

/*
 * Whether a vCPU's run delay of ready_ns over an interval of interval_ns
 * reaches trigger_pct percent of it (trigger_pct 0: never).
 */
bool kp_sched_triggered(uint64_t ready_ns, uint64_t interval_ns,
			double trigger_pct);

#endif /* KP_SCHEDCALC_H */
