/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The arithmetic of the sched probe, apart from libbpf so it is unit-tested:
 * spans still in progress, deltas of counters read racily and the top-N
 * selection of preemptors (percentages of an interval: kp_pct, record.h).
 * Pure functions.
 */
#ifndef KP_SCHEDCALC_H
#define KP_SCHEDCALC_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "bpf/sched.h"

/* Preemptors reported per vCPU (and per VM) and interval. */
#define KP_SCHED_TOP 5

/* One vCPU's cumulative readings; every field only grows. */
struct kp_sched_flat {
	struct kp_hist delay;  /* completed waits */
	uint64_t ready_ns;     /* delay.sum plus the wait in progress */
	uint64_t cpu_ns;       /* completed slices plus the one in progress */
	uint64_t preemptions;
};

/*
 * Fold the spans in progress at now (CLOCK_MONOTONIC ns, the clock of
 * bpf_ktime_get_ns()) into cumulative readings. A stamp later than now
 * (read after the clock) counts nothing.
 */
void kp_sched_flatten(const struct sched_stats *raw, uint64_t now,
		      struct kp_sched_flat *out);

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

#endif /* KP_SCHEDCALC_H */
