/* SPDX-License-Identifier: GPL-2.0 */
/* Structs shared between exits.bpf.c and user/probes/exits.c. */
#ifndef KP_EXITS_H
#define KP_EXITS_H

#include "hist.h"

/* What an entry of the exits map counts; "reason" is read per kind. */
enum exits_kind {
	EXITS_KIND_VMX = 1,   /* kvm_exit on Intel: basic VMX exit reason */
	EXITS_KIND_SVM = 2,   /* kvm_exit on AMD: SVM exit code */
	EXITS_KIND_USER = 3,  /* kvm_userspace_exit: KVM_EXIT_* code */
	EXITS_KIND_HALT = 4,  /* kvm_vcpu_wakeup: EXITS_HALT_POLL or _WAIT */
};

/* kvm_exit's "isa" argument (arch/x86/kvm/trace.h) */
#define EXITS_ISA_VMX 1
#define EXITS_ISA_SVM 2

/* KVM_RUN failed with an errno other than EINTR */
#define EXITS_USER_ERROR 0xffffffffu

#define EXITS_HALT_POLL 0
#define EXITS_HALT_WAIT 1

#define EXITS_VCPU_UNKNOWN 0xffffu

struct exits_key {
	__u32 pid;    /* tgid of the VMM */
	__u32 tid;    /* the vCPU thread */
	__u32 reason;
	__u16 vcpu;   /* kvm_vcpu.vcpu_idx, or EXITS_VCPU_UNKNOWN */
	__u8 kind;    /* enum exits_kind */
	__u8 pad;
};

/*
 * count is taken when the event happens; hist gets one sample when the
 * handling of that event ends (see docs/output.md), so within an interval
 * count and hist.count may differ by the events still in flight.
 */
struct exits_val {
	__u64 count;
	/*
	 * Of the handling times in hist (kernel exits and userspace exits),
	 * the part spent waiting for a CPU (runnable, preempted or woken)
	 * and blocked (asleep): bpf/exit_split.bpf.h. The rest, hist.sum less
	 * both, was on a CPU.
	 */
	__u64 wait_ns;
	__u64 block_ns;
	/* of the handling times in hist, those of handlings the sched
	 * probe's per-event tier did not see through (not attached all along,
	 * or its programs cannot split): in neither wait_ns nor block_ns */
	__u64 unsplit_ns;
	struct kp_hist hist;
};

/* Per-thread state, in task storage: no cleanup when a thread ends. */
struct exits_vcpu_state {
	__u64 exit_ts;  /* kvm_exit not yet closed, 0 if none */
	__u64 user_ts;  /* userspace exit not yet re-entered, 0 if none */
	__u64 user_ns;  /* handling time of the last re-entered userspace
			 * exit, not yet in the map (see
			 * exits_run() in kvmrun.bpf.c) */
	/* where the pending handling (exit_ts or user_ts) spends its time:
	 * bpf/exit_split.bpf.h */
	__u64 off_ts;   /* off its CPU since (a traced switch out or a
			 * wake-up), 0: on a CPU */
	__u64 off_exec; /* its sum_exec_runtime at the switch out */
	__u64 wait_ns;  /* since it began: waiting for a CPU, blocked */
	__u64 block_ns;
	__u64 user_wait_ns;  /* of user_ns: waiting, blocked */
	__u64 user_block_ns;
	__u32 exit_reason;
	__u32 user_reason;
	__u32 user_ns_reason;
	__u32 split_epoch; /* split_epoch when the pending handling began */
	__u16 vcpu;       /* valid when vcpu_known */
	__u8 exit_kind;
	__u8 vcpu_known;
	__u8 user_ns_valid;
	__u8 name_read;   /* the thread's name was looked at for its index */
	__u8 off_runnable; /* off_ts: runnable (waiting), else asleep */
	__u8 user_unsplit; /* user_ns was not split (user_wait_ns, ... 0) */
};

#endif /* KP_EXITS_H */
