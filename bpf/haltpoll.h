/* SPDX-License-Identifier: GPL-2.0 */
/* The record haltpoll.bpf.c writes per vCPU, read by user/probes/haltpoll.c. */
#ifndef KP_HALTPOLL_H
#define KP_HALTPOLL_H

/* The vCPU's own counters (struct kvm_vcpu_stat), since it was created. */
enum haltpoll_val {
	HALTPOLL_HALTS,       /* halt_exits: HLTs the kernel emulated (x86) */
	HALTPOLL_POLLS,       /* halt_attempted_poll: halts that polled */
	HALTPOLL_WINS,        /* halt_successful_poll: polls a wake-up ended */
	HALTPOLL_WIN_NS,      /* halt_poll_success_ns */
	HALTPOLL_FAIL_NS,     /* halt_poll_fail_ns: polled, then slept */
	HALTPOLL_WAIT_NS,     /* halt_wait_ns: slept after polling */
	HALTPOLL_NVALS,
};

/* flags: which counters this kernel has */
#define HALTPOLL_F_HALTS (1u << 0)    /* halt_exits (x86 only) */
#define HALTPOLL_F_WAIT (1u << 1)     /* halt_wait_ns (v5.14+) */

struct haltpoll_rec {
	__u32 pid;            /* the VMM: the process holding the vCPU fd */
	__u32 tid;            /* the thread that runs the vCPU (kvm_vcpu.pid),
			       * 0 before its first KVM_RUN */
	__u32 vcpu;           /* kvm_vcpu.vcpu_idx */
	__u32 flags;
	__u64 poll_window_ns; /* kvm_vcpu.halt_poll_ns: how long the next
			       * halt polls */
	__u64 v[HALTPOLL_NVALS];
};

#endif /* KP_HALTPOLL_H */
