// SPDX-License-Identifier: GPL-2.0
/*
 * kvmrun: the one KVM_RUN entry marker, shared by the probes that need it.
 * kvm_arch_vcpu_ioctl_run() loads the guest FPU on every KVM_RUN, before
 * anything can return, and kvm_load_guest_fpu() fires kvm_fpu(1): a
 * tracepoint at KVM_RUN entry on every kernel (kvm_fpu(0) follows when
 * KVM_RUN returns). One program for all probes, not one per probe: kvm_fpu
 * fires twice per exit, and each program on it costs its dispatch and
 * body every time.
 *
 *  - exits: the VMM finished handling the thread's last userspace exit;
 *  - sched: the thread is a vCPU (marked, and its first slice begins).
 *
 * This object owns the per-thread state of both (the exits probe's
 * vcpu_state, the sched probe's vcpus and stats maps); their objects reuse
 * these maps (user/probes/kvmrun.c). A probe not running leaves its flag
 * in .bss false.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "exits.h"
#include "sched.h"
#include "kp_helpers.bpf.h"
#include "kp_common.bpf.h" /* sched's pid filter and lost counter */
#include "vcpu_name.bpf.h"
#include "core_fixes.bpf.h"
#include "exits_maps.bpf.h"
#include "sched_maps.bpf.h"
#include "exit_split.bpf.h"

/* Set by the loader while the exits or the sched probe runs. */
bool exits_on = false;
bool sched_on = false;

static const struct sched_stats zero_stats;

/*
 * exits: the sample of the userspace exit just handled is kept in task
 * storage and added by the thread's next exit to userspace, together with
 * that exit's count: one map lookup per exit instead of two. Only threads
 * the exits probe already tracks (it created their state, pid filter
 * passed) have any.
 */
static __always_inline void exits_run(struct task_struct *task)
{
	struct exits_vcpu_state *st;
	__u64 now;

	st = bpf_task_storage_get(&vcpu_state, task, NULL, 0);
	if (!st || !st->user_ts)
		return;
	now = bpf_ktime_get_ns();
	st->user_ns = now - st->user_ts;
	st->user_unsplit = !split_end(st, task, now, st->user_ns,
				      &st->user_wait_ns, &st->user_block_ns);
	st->user_ns_reason = st->user_reason;
	st->user_ns_valid = 1;
	st->user_ts = 0;
}

/*
 * sched: known vCPUs leave after one task storage lookup; a new one is
 * marked, and its counters count from now (unless the loader seeded it).
 */
static __always_inline void sched_run(struct task_struct *task)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 pid = pid_tgid >> 32, tid = pid_tgid;
	struct sched_vcpu_mark *mark;
	struct sched_stats *st;

	if (bpf_task_storage_get(&vcpus, task, NULL, 0))
		return;
	if (!kp_pid_wanted(pid))
		return;
	mark = bpf_task_storage_get(&vcpus, task, NULL,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!mark)
		return;
	st = kp_lookup_or_init(&stats, &tid, &zero_stats);
	if (!st) {
		kp_lost();
		return;
	}
	if (!st->pid) {
		st->pid = pid;
		st->vcpu = SCHED_VCPU_UNKNOWN;
		sched_base(st, task);
	}
	/* not seeded by the loader: the index from the thread's name, now
	 * (a VMM may be gone before the loader could read /proc) */
	if (st->vcpu == SCHED_VCPU_UNKNOWN) {
		int v = kp_comm_vcpu();

		if (v >= 0)
			st->vcpu = v;
	}
	mark->pid = pid;
	mark->vcpu = st->vcpu; /* the loader's, when it seeded this thread */
}

static __always_inline void on_run(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

	if (exits_on)
		exits_run(task);
	if (sched_on)
		sched_run(task);
}

SEC("tp_btf/kvm_fpu")
int BPF_PROG(run_btf, int load)
{
	if (load)
		on_run();
	return 0;
}

/* returns KP_TP_PASS: 0 would drop the event for every perf user */
SEC("tracepoint/kvm/kvm_fpu")
int run_tp(struct trace_event_raw_kvm_fpu *ctx)
{
	if (ctx->load)
		on_run();
	return KP_TP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
