/* SPDX-License-Identifier: GPL-2.0 */
/* Structs shared between sched.bpf.c and user/probes/sched.c. */
#ifndef KP_SCHED_H
#define KP_SCHED_H

#include "hist.h"

#define SCHED_VCPU_UNKNOWN 0xffffu

/*
 * One vCPU thread, keyed by its tid in the stats map.
 *
 * Two tiers. Its totals (run delay, CPU time, involuntary switches) are the
 * kernel's own counters (task_struct.sched_info, se.sum_exec_runtime,
 * nivcsw), read once per interval by the counters iterator, less their
 * values when tracking began (base_*, taken by whoever marked the thread).
 * The per-event tier (sched_switch, sched_wakeup; attached part of the
 * time) adds what only events can see: the histogram of the waits it saw
 * and who ran meanwhile. Its stamps belong to one attachment of it
 * (epoch): a stamp of an earlier one is stale, as events were missed
 * while it was detached.
 */
struct sched_stats {
	struct kp_hist delay;  /* waits the per-event tier saw end */
	__u64 base_delay;      /* sched_info.run_delay when tracking began */
	__u64 base_exec;       /* se.sum_exec_runtime then */
	__u64 base_nivcsw;     /* nivcsw then */
	__u64 wait_since;      /* a wait in progress began, else 0 */
	__u64 exec_seen;       /* its se.sum_exec_runtime when last seen
				* switched out */
	__u32 pid;             /* tgid of the VMM */
	__u16 vcpu;            /* index, or SCHED_VCPU_UNKNOWN */
	__u8 wait_slot;        /* 1 + its waiter slot on wait_cpu, 0: none */
	__u8 pad;
	__u32 wait_cpu;        /* the CPU whose queue the wait is on */
	__u32 epoch;           /* the attachment its stamps belong to */
};

/*
 * What the counters iterator writes per tracked thread: the kernel's
 * counters now and the stats entry's bases and histogram.
 */
struct sched_reading {
	__u32 tid;
	__u32 pid;
	__u16 vcpu;
	__u16 pad;
	__u32 pad2;
	__u64 run_delay;       /* sched_info.run_delay */
	__u64 exec;            /* se.sum_exec_runtime */
	__u64 nivcsw;
	__u64 base_delay;
	__u64 base_exec;
	__u64 base_nivcsw;
	struct kp_hist delay;
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

/* A tracked thread's last counters, kept by sched_process_exit. */
struct sched_exited {
	struct sched_reading r;
	struct kp_hist delay;
};

#endif /* KP_SCHED_H */
