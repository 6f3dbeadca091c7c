/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The sched probe's per-thread maps, declared once: kvmrun.bpf.c owns them
 * (it marks a thread entering KVM_RUN as a vCPU), sched.bpf.c reuses them
 * (user/probes/kvmrun.c hands it their fds before load).
 */
#ifndef KP_SCHED_MAPS_BPF_H
#define KP_SCHED_MAPS_BPF_H

#include "sched.h"

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sched_vcpu_mark);
} vcpus SEC(".maps");

/* Preallocated: entries are created under the runqueue lock. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096); /* set by the loader */
	__type(key, __u32);        /* tid */
	__type(value, struct sched_stats);
} stats SEC(".maps");

/* Tracking of task begins: its counters' bases (needs core_fixes.bpf.h). */
static __always_inline void sched_base(struct sched_stats *st, void *task)
{
	kp_task_counters(task, &st->base_delay, &st->base_exec,
			 &st->base_nivcsw);
}

#endif /* KP_SCHED_MAPS_BPF_H */
