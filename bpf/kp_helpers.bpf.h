/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by kvmprobe's BPF programs. */
#ifndef KP_HELPERS_BPF_H
#define KP_HELPERS_BPF_H

#include "hist.h"

/*
 * What a program on a classic (tracefs) tracepoint returns: 1 lets the
 * event through to perf and ftrace users of the same tracepoint, 0 would
 * drop it for all of them (perf_trace_run_bpf_submit()). BTF-typed and
 * raw tracepoints ignore the value.
 */
#define KP_TP_PASS 1

/* errno values (vmlinux.h has no macros) */
#ifndef EINTR
#define EINTR 4
#endif
#ifndef EEXIST
#define EEXIST 17
#endif

/* floor(log2(v)) for v > 0, without a loop (the BPF ISA has no clz). */
static __always_inline __u32 kp_log2(__u32 v)
{
	__u32 r, shift;

	r = (v > 0xFFFF) << 4;
	v >>= r;
	shift = (v > 0xFF) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xF) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline __u32 kp_log2l(__u64 v)
{
	__u32 hi = v >> 32;

	if (hi)
		return kp_log2(hi) + 32;
	return kp_log2(v);
}

/*
 * The slot of value v: ceil(log2(v)), clamped to the overflow slot. 64-bit
 * on purpose: with a __u32, clang clamps a zero-extended copy and older
 * verifiers (v6.1) never learn the bound of the index actually used.
 */
static __always_inline __u64 kp_hist_slot(__u64 v)
{
	__u64 slot;

	if (v <= 1)
		return 0;
	slot = kp_log2l(v - 1) + 1;
	if (slot >= KP_HIST_SLOTS)
		slot = KP_HIST_SLOTS - 1;
	return slot;
}

/*
 * Record v in h. Plain adds, not atomics: callers use this only on map
 * entries keyed by thread id, which one thread (on one CPU at a time)
 * writes. Locked adds would cost tens of ns per event for nothing.
 */
static __always_inline void kp_hist_add(struct kp_hist *h, __u64 v)
{
	__u64 slot = kp_hist_slot(v);

	h->slots[slot]++;
	h->sum += v;
	h->count++;
}

/*
 * Record v in h with atomic adds: for entries that several CPUs update at
 * once (per device: requests complete and packets arrive on any CPU).
 */
static __always_inline void kp_hist_add_atomic(struct kp_hist *h, __u64 v)
{
	__u64 slot = kp_hist_slot(v);

	__sync_fetch_and_add(&h->slots[slot], 1);
	__sync_fetch_and_add(&h->sum, v);
	__sync_fetch_and_add(&h->count, 1);
}

/*
 * Look key up in map, inserting init if absent. Returns NULL when the map is
 * full (the caller counts a lost event).
 */
static __always_inline void *kp_lookup_or_init(void *map, const void *key,
					       const void *init)
{
	void *val;
	int err;

	val = bpf_map_lookup_elem(map, key);
	if (val)
		return val;
	err = bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	if (err && err != -EEXIST) /* EEXIST: another CPU inserted it */
		return NULL;
	return bpf_map_lookup_elem(map, key);
}

#endif /* KP_HELPERS_BPF_H */
