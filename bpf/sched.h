/* SPDX-License-Identifier: GPL-2.0 */
/* Structs shared between sched.bpf.c and user/probes/sched.c. */
#ifndef KP_SCHED_H
#define KP_SCHED_H

#include "hist.h"

#define SCHED_VCPU_UNKNOWN 0xffffu

/*
 * One vCPU thread, keyed by its tid in the stats map. The counters come
 * first and the stamps of what is in progress after them: the BPF side
 * clears a stamp before it adds the finished span to its counter, and
 * userspace reads the counters before the stamps, so a read never counts a
 * span twice (see kp_sched_flatten() in user/core/schedcalc.c).
 */
struct sched_stats {
	struct kp_hist delay;  /* completed waits: runnable until running */
	__u64 cpu_ns;          /* completed on-CPU slices */
	__u64 preemptions;     /* switched out while still runnable */
	__u64 wait_since;      /* a wait in progress began, else 0 */
	__u64 run_since;       /* the slice in progress began, else 0 */
	__u64 exec_seen;       /* its se.sum_exec_runtime when last seen
				* switched out */
	__u32 pid;             /* tgid of the VMM */
	__u16 vcpu;            /* index, or SCHED_VCPU_UNKNOWN */
	__u8 wait_slot;        /* 1 + its waiter slot on wait_cpu, 0: none */
	__u8 pad;
	__u32 wait_cpu;        /* the CPU whose queue the wait is on */
	__u32 pad2;
};

/* The mark of a vCPU thread, in task storage; its state is in stats. */
struct sched_vcpu_mark {
	__u32 pid;
	__u16 vcpu;
	__u16 pad;
};

/* Time taken on a waiting vCPU's CPU, per (vCPU thread, thread that ran) */
struct sched_preempt_key {
	__u32 vcpu_tid;
	__u32 tid;             /* the thread that ran while the vCPU waited */
};

struct sched_preempt_val {
	__u64 ns;
	__u32 pid;             /* its tgid */
	__u32 pad;
	char comm[16];         /* its thread name */
};

#endif /* KP_SCHED_H */
