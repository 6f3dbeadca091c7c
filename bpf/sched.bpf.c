// SPDX-License-Identifier: GPL-2.0
/*
 * sched: per vCPU thread, run delay (runnable but not running: CPU ready,
 * esxtop's %RDY), on-CPU time, involuntary preemptions, and who ran on a
 * waiting vCPU's CPU in its place (noisy neighbours).
 *
 * Two tiers (struct sched_stats). The totals are the kernel's own counters,
 * read by the counters iterator once per interval: no cost per event. The
 * scheduler programs are the per-event tier, which the loader attaches
 * part of the time (user/probes/sched.c): the histogram of waits, and who
 * ran meanwhile. Each attachment is an epoch: state stamped in an earlier
 * one is dropped at its first use, as events were missed in between.
 *
 * Only vCPU threads are tracked. A thread becomes one when it enters
 * KVM_RUN (the shared marker, sched_run() in kvmrun.bpf.c, whose object
 * owns the vcpus and stats maps this object reuses) or when the loader
 * seeds it from /proc; either way it gets a mark in the vcpus task storage
 * and an entry in the stats map. Task storage goes with its task: nothing
 * to clean up in the kernel.
 *
 * What the budget is spent on is a context switch without a vCPU: an array
 * lookup and four loads (task storage lookups only when prev or next has
 * any task storage at all), then out. The clock is read only when a vCPU
 * is involved.
 *
 * Scheduler events come BTF-typed (tp_btf) or as raw tracepoints. A raw
 * tracepoint's task pointers cannot key task storage, so those programs use
 * the stats map (a hash lookup) as the mark. The loader autoloads one
 * flavour of each. sched_wakeup_new is not traced: a task being created
 * cannot be a tracked vCPU yet (task storage is not inherited, and a thread
 * is named and enters KVM_RUN only after it runs).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "sched.h"
#include "kp_helpers.bpf.h"
#define KP_NO_PID_FILTER /* vCPUs are marked (and filtered) in kvmrun.bpf.c */
#include "kp_common.bpf.h"
#include "core_fixes.bpf.h"
#include "sched_maps.bpf.h"
#include "exits_maps.bpf.h" /* the exits probe's, for exit_split.bpf.h */
#include "exit_split.bpf.h"

#define TASK_RUNNING 0
#define WAITERS 8

/* Waits not attributed to preemptors: all waiter slots of the CPU taken. */
__u64 unattributed = 0;
/*
 * The per-event tier's attachment, set by the loader before each attach;
 * 0: none yet (the loader's check that the programs attach): they do
 * nothing.
 */
__u32 epoch = 0;

struct waiter {
	__u32 tid;   /* 0: free */
	__u32 pad;
	__u64 since; /* the vCPU's wait_since */
};

/*
 * Per CPU, indexed by CPU number. The waiter slots list the vCPUs waiting
 * on this CPU's runqueue, so that each switch here can charge the time of
 * the task that ran to them. Slots change only under this CPU's runqueue
 * lock, which both sched_switch here and sched_wakeup onto this CPU hold:
 * plain stores suffice.
 */
struct cpu_state {
	__u32 nwait;     /* occupied waiter slots */
	__u32 epoch;     /* the attachment the slots belong to */
	__u64 seg_start; /* last switch here while a vCPU waited */
	struct waiter w[WAITERS];
	__u64 pad[6];    /* 192 bytes: no false sharing between CPUs */
};


/* Drained by the loader every interval. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384); /* set by the loader */
	__type(key, struct sched_preempt_key);
	__type(value, struct sched_preempt_val);
} preempt SEC(".maps");

/*
 * The last counters of tracked threads that exited since the loader's last
 * read (the counters iterator no longer sees them): drained every interval.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct sched_exited);
} exited SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* set by the loader to the possible CPUs */
	__type(key, __u32);
	__type(value, struct cpu_state);
} cpus SEC(".maps");

static const struct sched_stats zero_stats;
static const struct sched_exited zero_exited;

/* Stamps of an earlier attachment are stale: events were missed since. */
static __always_inline void stats_fresh(struct sched_stats *st)
{
	if (st->epoch == epoch)
		return;
	st->wait_since = 0;
	st->wait_slot = 0;
	st->exec_seen = 0;
	st->epoch = epoch;
}

static __always_inline void cpu_fresh(struct cpu_state *cs)
{
	__u32 i;

	if (cs->epoch == epoch)
		return;
	for (i = 0; i < WAITERS; i++)
		cs->w[i].tid = 0;
	cs->nwait = 0;
	cs->seg_start = 0;
	cs->epoch = epoch;
}

/* The stats of vCPU tid (task), created when missing. */
static __always_inline struct sched_stats *stats_get(__u32 tid, __u32 pid,
						     __u16 vcpu, void *task)
{
	struct sched_stats *st;

	st = kp_lookup_or_init(&stats, &tid, &zero_stats);
	if (!st) {
		kp_lost();
		return NULL;
	}
	if (!st->pid) {
		st->pid = pid;
		st->vcpu = vcpu;
		sched_base(st, task);
	}
	stats_fresh(st);
	return st;
}

/* The vCPU begins to wait on cpu's runqueue (cs: that CPU's state). */
static __always_inline void start_wait(struct sched_stats *st, __u32 tid,
				       struct cpu_state *cs, __u32 cpu,
				       __u64 now)
{
	__u32 i;

	if (st->wait_since)
		return;
	st->wait_since = now;
	st->wait_cpu = cpu;
	st->wait_slot = 0;
	if (!cs)
		return;
	for (i = 0; i < WAITERS; i++) {
		if (cs->w[i].tid)
			continue;
		cs->w[i].since = now;
		cs->w[i].tid = tid;
		cs->nwait++;
		st->wait_slot = i + 1;
		return;
	}
	/* more vCPUs wait here than there are slots: this wait is not charged */
	__sync_fetch_and_add(&unattributed, 1);
}

/* The vCPU runs on cpu since at: its wait, if any, is one sample. */
static __always_inline void end_wait(struct sched_stats *st, __u32 tid,
				     struct cpu_state *cs, __u32 cpu, __u64 at)
{
	__u64 since = st->wait_since, slot = st->wait_slot;

	if (!since)
		return;
	st->wait_since = 0;
	kp_hist_add(&st->delay, at > since ? at - since : 0);
	st->wait_slot = 0;
	/* a slot on another CPU is freed there: its since no longer matches */
	if (!slot || st->wait_cpu != cpu)
		return;
	slot--;
	if (slot < WAITERS && cs->w[slot].tid == tid) {
		cs->w[slot].tid = 0;
		cs->nwait--;
	}
}

/* ns of this CPU went to task prev (tid) while vCPU vcpu_tid waited. */
static __always_inline void charge_one(__u32 vcpu_tid, struct task_struct *prev,
				       __u32 tid, __u64 ns, bool btf)
{
	struct sched_preempt_key key = { .vcpu_tid = vcpu_tid, .tid = tid };
	struct sched_preempt_val *val, init = {};

	val = bpf_map_lookup_elem(&preempt, &key);
	if (!val) {
		init.pid = btf ? prev->tgid : BPF_CORE_READ(prev, tgid);
		BPF_CORE_READ_STR_INTO(&init.comm, prev, comm);
		val = kp_lookup_or_init(&preempt, &key, &init);
		if (!val) {
			kp_lost();
			return;
		}
	}
	__sync_fetch_and_add(&val->ns, ns);
}

/*
 * A switch on this CPU while vCPUs wait here: the task that ran since the
 * last switch (prev) took the CPU from each of them, since its wait began
 * or since that switch, whichever is later. Slots whose vCPU no longer
 * waits here (it ran on another CPU after a migration) are freed.
 */
static __always_inline void charge(struct cpu_state *cs, __u32 cpu,
				   struct task_struct *prev, __u32 prev_tid,
				   __u64 now, bool btf)
{
	struct sched_stats *st;
	__u64 start;
	__u32 i, tid;

	for (i = 0; i < WAITERS; i++) {
		tid = cs->w[i].tid;
		if (!tid)
			continue;
		st = bpf_map_lookup_elem(&stats, &tid);
		if (st)
			stats_fresh(st);
		if (!st || st->wait_since != cs->w[i].since ||
		    st->wait_cpu != cpu) {
			cs->w[i].tid = 0;
			cs->nwait--;
			continue;
		}
		/* the CPU was idle (wake-up latency, no one's), or the vCPU
		 * itself ran: its switch in was not traced, see switch_out() */
		if (!prev_tid || prev_tid == tid)
			continue;
		start = cs->w[i].since > cs->seg_start ? cs->w[i].since :
							 cs->seg_start;
		if (now > start)
			charge_one(tid, prev, prev_tid, now - start, btf);
	}
	cs->seg_start = now;
}

/*
 * A vCPU switched out while it still waited got back on the CPU by a
 * switch no sched_switch reported. That happens: on this project's
 * development host (6.18) switches away from some threads are never
 * traced, so the vCPU that follows them runs unseen. Its slice began
 * exec - exec_seen ns ago (the kernel's own count of its CPU time since it
 * last left a CPU): its wait ended then.
 */
static __always_inline void switch_out(struct cpu_state *cs, __u32 cpu,
				       __u32 tid, __u64 exec, bool runnable,
				       __u64 now)
{
	struct sched_stats *st;
	__u64 at, slice;

	st = bpf_map_lookup_elem(&stats, &tid);
	if (!st)
		return;
	stats_fresh(st);
	slice = st->exec_seen && exec > st->exec_seen ? exec - st->exec_seen : 0;
	if (st->wait_since) {
		at = now - st->wait_since > slice ? now - slice : st->wait_since;
		end_wait(st, tid, cs, cpu, at);
	}
	st->exec_seen = exec;
	/* still runnable: preempted (what schedstat counts as run delay) */
	if (runnable)
		start_wait(st, tid, cs, cpu, now);
}

static __always_inline void switch_in(struct cpu_state *cs, __u32 cpu,
				      struct task_struct *next, __u32 tid,
				      struct sched_vcpu_mark *mark, __u64 now)
{
	struct sched_stats *st;

	st = bpf_map_lookup_elem(&stats, &tid);
	if (st)
		stats_fresh(st);
	else if (mark) /* the loader dropped it, or the map was full */
		st = stats_get(tid, mark->pid, mark->vcpu, next);
	if (!st)
		return;
	end_wait(st, tid, cs, cpu, now);
}

/*
 * btf is a constant: with tp_btf the task pointers are BTF pointers (direct
 * loads, task storage); with raw_tp plain numbers (probe reads, and the
 * stats map as the mark).
 */
static __always_inline int on_switch(struct task_struct *prev,
				     struct task_struct *next, bool btf)
{
	__u32 cpu = bpf_get_smp_processor_id(), prev_tid, next_tid;
	struct sched_vcpu_mark *mark = NULL;
	bool prev_vcpu, next_vcpu;
	struct cpu_state *cs;
	__u64 now, exec;
	bool runnable;

	if (!epoch)
		return 0;
	cs = bpf_map_lookup_elem(&cpus, &cpu);
	if (!cs)
		return 0;
	cpu_fresh(cs);
	if (btf) {
		/* most tasks have no task storage at all: out without a call */
		if (!cs->nwait && !prev->bpf_storage && !next->bpf_storage)
			return 0;
		prev_vcpu = prev->bpf_storage &&
			    bpf_task_storage_get(&vcpus, prev, NULL, 0);
		mark = next->bpf_storage ?
		       bpf_task_storage_get(&vcpus, next, NULL, 0) : NULL;
		next_vcpu = mark;
		prev_tid = prev->pid;
		next_tid = next->pid;
	} else {
		prev_tid = BPF_CORE_READ(prev, pid);
		next_tid = BPF_CORE_READ(next, pid);
		prev_vcpu = bpf_map_lookup_elem(&stats, &prev_tid) != NULL;
		next_vcpu = bpf_map_lookup_elem(&stats, &next_tid) != NULL;
		/* else clang tests (prev | next) == 0: pointer arithmetic */
		barrier_var(prev_vcpu);
		barrier_var(next_vcpu);
	}
	if (!prev_vcpu && !next_vcpu && !cs->nwait)
		return 0;

	now = bpf_ktime_get_ns();
	if (cs->nwait)
		charge(cs, cpu, prev, prev_tid, now, btf);
	if (prev_vcpu) {
		exec = btf ? prev->se.sum_exec_runtime :
		       BPF_CORE_READ(prev, se.sum_exec_runtime);
		runnable = kp_task_state(prev) == TASK_RUNNING;
		switch_out(cs, cpu, prev_tid, exec, runnable, now);
		/* where exit handling goes (task storage: BTF-typed only) */
		if (btf)
			split_out(prev, now, exec, runnable);
	}
	if (next_vcpu) {
		switch_in(cs, cpu, next, next_tid, mark, now);
		if (btf)
			split_in(next, now);
	}
	return 0;
}

/*
 * p was woken and queued on its CPU (we run under that runqueue's lock). A
 * wake-up of a task still on its CPU (woken before it slept) starts no wait.
 */
static __always_inline int on_wakeup(struct task_struct *p, bool btf)
{
	struct sched_stats *st;
	struct cpu_state *cs;
	__u32 tid, cpu;
	__u64 now = 0;

	if (!epoch || (btf && (!p->bpf_storage ||
			       !bpf_task_storage_get(&vcpus, p, NULL, 0))))
		return 0;
	if (btf) /* where exit handling goes: woken, it waits */
		split_wake(p, &now);
	tid = btf ? p->pid : BPF_CORE_READ(p, pid);
	st = bpf_map_lookup_elem(&stats, &tid);
	if (!st)
		return 0;
	stats_fresh(st);
	if (st->wait_since)
		return 0;
	if (btf ? p->on_cpu : BPF_CORE_READ(p, on_cpu))
		return 0;
	cpu = kp_task_cpu(p);
	cs = bpf_map_lookup_elem(&cpus, &cpu);
	if (cs)
		cpu_fresh(cs);
	start_wait(st, tid, cs, cpu, now ? now : bpf_ktime_get_ns());
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(switch_btf, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	return on_switch(prev, next, true);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(wakeup_btf, struct task_struct *p)
{
	return on_wakeup(p, true);
}

SEC("raw_tp/sched_switch")
int BPF_PROG(switch_raw, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	return on_switch(prev, next, false);
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(wakeup_raw, struct task_struct *p)
{
	return on_wakeup(p, false);
}

/*
 * Seeding, run once by the loader after it put the vCPU threads it found in
 * /proc into the stats map (the raw_tp programs' mark): marks them in task
 * storage for the tp_btf ones and for the counters iterator (userspace
 * cannot reach a thread's task storage on kernels without PIDFD_THREAD,
 * v6.9), and takes their counters' bases: they count from now.
 */
SEC("iter/task")
int seed(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct sched_vcpu_mark *mark;
	struct sched_stats *st;
	__u32 tid;

	if (!task)
		return 0;
	tid = task->pid;
	st = bpf_map_lookup_elem(&stats, &tid);
	if (!st || st->pid != task->tgid)
		return 0;
	mark = bpf_task_storage_get(&vcpus, task, NULL,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!mark)
		return 0;
	mark->pid = st->pid;
	mark->vcpu = st->vcpu;
	if (!st->base_exec) /* not yet taken by the KVM_RUN marker */
		sched_base(st, task);
	return 0;
}

/* A reading of tracked thread task (tid: r->tid), whose entry is st. */
static __always_inline void reading_fill(struct sched_reading *r,
					 const struct sched_stats *st,
					 void *task)
{
	r->pid = st->pid;
	r->vcpu = st->vcpu;
	r->base_delay = st->base_delay;
	r->base_exec = st->base_exec;
	r->base_nivcsw = st->base_nivcsw;
	kp_task_counters(task, &r->run_delay, &r->exec, &r->nivcsw);
}

/*
 * The first tier, run by the loader once per interval: for every tracked
 * vCPU thread (marked in task storage; most tasks have none, one load),
 * a struct sched_reading followed by its stats entry's histogram.
 */
SEC("iter/task")
int counters(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct sched_reading r = {};
	struct sched_stats *st;

	if (!task || !task->bpf_storage ||
	    !bpf_task_storage_get(&vcpus, task, NULL, 0))
		return 0;
	r.tid = task->pid;
	st = bpf_map_lookup_elem(&stats, &r.tid);
	if (!st || st->pid != task->tgid)
		return 0;
	reading_fill(&r, st, task);
	bpf_seq_write(seq, &r, sizeof(r));
	bpf_seq_write(seq, &st->delay, sizeof(st->delay));
	return 0;
}

/*
 * A tracked thread exits: its last counters go to the exited map for the
 * loader's next read, and its entry goes. Always attached with the first
 * tier; a thread exit of another task costs a hash lookup. The stats map,
 * not the task storage mark, says whether it is tracked: an entry the
 * loader seeded may have no mark yet, and an entry left behind would stay
 * (the counters iterator sees live threads only).
 */
static __always_inline int on_exit(struct task_struct *p, bool btf)
{
	struct sched_exited *e;
	struct sched_stats *st;
	__u32 tid;

	tid = btf ? p->pid : BPF_CORE_READ(p, pid);
	st = bpf_map_lookup_elem(&stats, &tid);
	if (!st || st->pid != (btf ? p->tgid : BPF_CORE_READ(p, tgid)))
		return 0;
	e = kp_lookup_or_init(&exited, &tid, &zero_exited);
	if (!e) {
		kp_lost();
		return 0;
	}
	e->r.tid = tid;
	reading_fill(&e->r, st, p);
	e->delay = st->delay;
	bpf_map_delete_elem(&stats, &tid);
	/* the exiting thread still switches: without its mark, switch_in()
	 * cannot create its entry again */
	if (btf)
		bpf_task_storage_delete(&vcpus, p);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(exit_btf, struct task_struct *p)
{
	return on_exit(p, true);
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(exit_raw, struct task_struct *p)
{
	return on_exit(p, false);
}

char LICENSE[] SEC("license") = "GPL";
