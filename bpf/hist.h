/* SPDX-License-Identifier: GPL-2.0 */
/* Log2 latency histogram shared by the BPF programs and the loader. */
#ifndef KP_HIST_H
#define KP_HIST_H

/*
 * Slot k counts values v (nanoseconds) with 2^(k-1) < v <= 2^k; slot 0 holds
 * 0 and 1. The upper bound of every finite slot is exactly 2^k ns, so the
 * slots map one to one onto Prometheus "le" buckets. The last slot is the
 * overflow slot (le = +Inf): values above 2^(KP_HIST_SLOTS - 2) ns (~17 s).
 */
#define KP_HIST_SLOTS 36

struct kp_hist {
	__u64 count;
	__u64 sum; /* exact sum of the recorded values, ns */
	__u64 slots[KP_HIST_SLOTS];
};

#endif /* KP_HIST_H */
