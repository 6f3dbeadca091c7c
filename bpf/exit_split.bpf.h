/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where the handling of an exit goes: from kvm_exit to the next kvm_entry
 * (in the kernel) and from kvm_userspace_exit to the next KVM_RUN (the
 * VMM), split into on a CPU, waiting for one (runnable: preempted, or
 * woken and not running yet) and blocked (asleep: a page fault's I/O, a
 * lock, an I/O thread).
 *
 * The sched probe's BTF-typed programs (the per-event tier: task storage)
 * note, while a thread has a handling pending, when it leaves its CPU
 * (sched_switch: preempted, so waiting, or asleep), when it is woken
 * (sched_wakeup: from asleep to waiting) and when it gets a CPU back
 * (sched_switch). The rest of the handling time is on a CPU.
 *
 * Not the kernel's run_delay: after a wake-up on an idle CPU the kernel
 * counts the time until the thread runs as its CPU time, not as run
 * delay. Measured on this project's development host: a VMM handler's
 * nanosleep() had 41 µs of thread CPU time but 17 µs between its switch
 * out and back in, and the split finds 23-30 µs of waiting per sleep
 * (probably the runqueue clock update skipped after the wake-up; not
 * traced to the line).
 *
 * A switch back in that no sched_switch reported (see switch_out() in
 * sched.bpf.c) is dated by the thread's CPU time since it left
 * (sum_exec_runtime: exact at a switch, up to a tick behind at the end).
 * The sched programs are attached part of the time. A handling is split
 * only when they were attached all along: split_epoch, set by the loader
 * in each object that begins or ends handlings, names the attachment in
 * progress (0: none, or programs that cannot split, raw tracepoints). A
 * handling that began under another epoch or under none is not split: its
 * time goes to unsplit_ns, and the loader writes a split only for what
 * has none (user/probes/exits.c).
 */
#ifndef KP_EXIT_SPLIT_BPF_H
#define KP_EXIT_SPLIT_BPF_H

#include "exits.h"

__u32 split_epoch = 0;

/* A handling begins in the current thread. */
static __always_inline void split_begin(struct exits_vcpu_state *st)
{
	st->split_epoch = split_epoch;
	st->off_ts = 0;
	st->wait_ns = 0;
	st->block_ns = 0;
}

/* The off-CPU stretch since off_ts ends at `at`: waiting or blocked. */
static __always_inline void split_close(struct exits_vcpu_state *st, __u64 at)
{
	__u64 ns = at > st->off_ts ? at - st->off_ts : 0;

	if (st->off_runnable)
		st->wait_ns += ns;
	else
		st->block_ns += ns;
	st->off_ts = 0;
}

/* A thread that left its CPU and has since run `ran` ns came back then. */
static __always_inline void split_back(struct exits_vcpu_state *st, __u64 now,
				       __u64 ran)
{
	split_close(st, now > ran ? now - ran : 0);
}

/*
 * The handling of total ns that began with split_begin() ends in task:
 * what of it was waiting and blocked. false: it cannot be split (the
 * sched programs were not attached all along), *wait and *block are 0.
 */
static __always_inline bool split_end(struct exits_vcpu_state *st,
				      struct task_struct *task, __u64 now,
				      __u64 total, __u64 *wait, __u64 *block)
{
	__u64 w, b;

	if (!st->split_epoch || st->split_epoch != split_epoch) {
		*wait = 0;
		*block = 0;
		st->off_ts = 0;
		st->wait_ns = 0;
		st->block_ns = 0;
		return false;
	}
	if (st->off_ts) /* its switch back in was not reported */
		split_back(st, now, task->se.sum_exec_runtime - st->off_exec);
	w = st->wait_ns < total ? st->wait_ns : total;
	b = st->block_ns < total - w ? st->block_ns : total - w;
	*wait = w;
	*block = b;
	st->wait_ns = 0;
	st->block_ns = 0;
	return true;
}

static __always_inline struct exits_vcpu_state *
split_state(struct task_struct *task)
{
	struct exits_vcpu_state *st;

	st = bpf_task_storage_get(&vcpu_state, task, NULL, 0);
	return st && (st->exit_ts || st->user_ts) ? st : NULL;
}

/*
 * sched_switch: task leaves its CPU now, runnable (preempted) or asleep;
 * exec: its sum_exec_runtime, exact at a switch.
 */
static __always_inline void split_out(struct task_struct *task, __u64 now,
				      __u64 exec, bool runnable)
{
	struct exits_vcpu_state *st = split_state(task);

	if (!st)
		return;
	if (st->off_ts) /* its switch back in was not reported */
		split_back(st, now, exec - st->off_exec);
	st->off_ts = now;
	st->off_exec = exec;
	st->off_runnable = runnable;
}

/*
 * sched_wakeup: an asleep task is runnable from now: it waits. *now: the
 * clock, read here when 0 and needed, for the caller's use too.
 */
static __always_inline void split_wake(struct task_struct *task, __u64 *now)
{
	struct exits_vcpu_state *st = split_state(task);

	if (!st || !st->off_ts || st->off_runnable)
		return;
	if (!*now)
		*now = bpf_ktime_get_ns();
	split_close(st, *now);
	st->off_ts = *now;
	st->off_runnable = 1;
}

/* sched_switch: task gets a CPU now. */
static __always_inline void split_in(struct task_struct *task, __u64 now)
{
	struct exits_vcpu_state *st = split_state(task);

	if (st && st->off_ts)
		split_close(st, now);
}

#endif /* KP_EXIT_SPLIT_BPF_H */
