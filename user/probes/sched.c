// SPDX-License-Identifier: GPL-2.0
/*
 * The sched probe: loads sched.bpf.c with one flavour of the scheduler
 * programs and seeds the vCPU threads that already exist from /proc.
 *
 * Two tiers. Per interval, one read of the counters iterator gives every
 * tracked vCPU's run delay, CPU time and involuntary switches as the
 * kernel counts them (sched_info, what schedstat shows): exact, and no cost
 * per event. The scheduler programs are the per-event tier: the run-delay
 * histogram, who preempted (drained from the preempt map) and where exit
 * handling goes. A thread of this probe attaches them a share of the time
 * (--sched-duty), and all the time while a vCPU's ready reaches
 * --sched-trigger; every record says which share of its interval they ran
 * (sched_events_pct).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "bpf/sched.h"
#include "sched.skel.h"
#include "kvmrun.skel.h"
#include "user/identity/procfs.h"
#include "user/probes/cgcpu.h"
#include "user/probes/probe.h"
#include "user/probes/kvmrun.h"
#include "user/probes/tpprog.h"
#include "user/core/schedcalc.h"

#define NEVENTS 3          /* sched_switch, sched_wakeup, sched_process_exit */
#define NTIER2 2           /* the first NTIER2 are the per-event tier */
#define EV_RUN NEVENTS     /* the shared KVM_RUN marker's entry in the status */
#define SEED (NEVENTS + 1) /* the seeding step's */
#define COUNTERS (SEED + 1) /* the first tier's iterator */
#define TICK_NS 50000000LL /* the duty cycle's step */
#define TICKS 20           /* a period: 1 s */
#define RECORD (sizeof(struct sched_reading) + sizeof(struct kp_hist))
#define SWEEP_READS 10     /* reads between two sweeps of the stats map */

/* One vCPU's readings, as of one read of the counters iterator. */
struct reading {
	uint32_t tid, pid;
	int vcpu;
	struct kp_sched_flat flat;
	uint64_t dready; /* this interval's run delay, for decode_limits() */
};

struct preemption {
	struct sched_preempt_key key;
	struct sched_preempt_val val;
};

struct sched_state {
	struct sched_bpf *skel;
	struct kp_progs progs;
	struct kvmrun_bpf *run;  /* the KVM_RUN marker, or NULL */
	bool joined;
	int stats_fd, preempt_fd, exited_fd;
	uint32_t max_entries;
	struct kp_snap preempt, exited, sweep; /* map reads */
	const char *proc_root;
	unsigned int reads;     /* for sweep() */
	struct preemption *pre;
	/* readings sorted by tid: last interval's (as reported) and this one's */
	struct reading *prev, *cur;
	size_t nprev, ncur;
	struct kp_gc gc;
	uint64_t lost_prev, unattributed_prev;
	struct kp_cgcpu *cgl; /* CPU limits of the vCPUs' cgroups, or NULL */
	struct bpf_link *counters; /* the first tier's iterator */
	struct kp_iter_buf ibuf;
	bool btf;               /* tp_btf programs: the exit split */
	/* the per-event tier's duty cycle (step()), under tk.lock */
	struct kp_ticker tk;
	double duty, trigger_pct;
	bool triggered;         /* a vCPU's ready reached trigger_pct */
	bool on;                /* attached */
	uint64_t on_since;      /* CLOCK_MONOTONIC ns, while on */
	uint64_t on_ns;         /* attached, in all */
	uint64_t read_ns, read_on_ns; /* at the last read */
};

/*
 * Both scheduler events take the same flavour (group 1): tp_btf programs
 * know vCPUs by their task storage, raw_tp ones by their entry in the
 * stats map (both are always kept). The vcpus and stats maps are the
 * KVM_RUN marker's, which marks new vCPUs in them.
 */
static int sched_open(void *p, const struct kp_probe_env *env,
		      struct kp_progs *pp)
{
	const struct kp_opts *o = env->opts;
	struct sched_state *ss = p;
	struct sched_bpf *skel;
	int err, ncpus;

	ss->skel = skel = sched_bpf__open();
	if (!skel)
		return -errno;
	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 0)
		return ncpus;
	err = bpf_map__set_max_entries(skel->maps.cpus, ncpus);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.stats, o->map_entries);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.preempt,
					       o->map_entries);
	if (!err && ss->run)
		err = bpf_map__reuse_fd(skel->maps.vcpus,
					bpf_map__fd(ss->run->maps.vcpus));
	if (!err && ss->run)
		err = bpf_map__reuse_fd(skel->maps.stats,
					bpf_map__fd(ss->run->maps.stats));
	/* the exits probe's state: where exit handling goes */
	if (!err && ss->run)
		err = bpf_map__reuse_fd(skel->maps.vcpu_state,
					bpf_map__fd(ss->run->maps.vcpu_state));
	if (err)
		return err;
	pp->ev[0] = kp_event_raw("sched_switch", skel->progs.switch_btf,
				 skel->progs.switch_raw);
	pp->ev[1] = kp_event_raw("sched_wakeup", skel->progs.wakeup_btf,
				 skel->progs.wakeup_raw);
	pp->ev[0].group = pp->ev[1].group = 1;
	/* the first tier's: a vCPU thread's last counters */
	pp->ev[2] = kp_event_raw("sched_process_exit", skel->progs.exit_btf,
				 skel->progs.exit_raw);
	pp->n = NEVENTS;
	return 0;
}

static int sched_load(void *p)
{
	return sched_bpf__load(((struct sched_state *)p)->skel);
}

static void sched_destroy(void *p)
{
	struct sched_state *ss = p;

	sched_bpf__destroy(ss->skel);
	ss->skel = NULL;
}

static const struct kp_bpf_ops sched_ops = {
	.open = sched_open,
	.load = sched_load,
	.destroy = sched_destroy,
};

static void state_free(struct sched_state *ss)
{
	if (!ss)
		return;
	kp_ticker_stop(&ss->tk);
	kp_ticker_destroy(&ss->tk);
	bpf_link__destroy(ss->counters);
	free(ss->ibuf.p);
	if (ss->joined) {
		kp_kvmrun_set_split(false);
		kp_kvmrun_enable(KP_KVMRUN_SCHED, false);
		kp_kvmrun_leave();
	}
	kp_progs_detach(&ss->progs);
	sched_destroy(ss);
	kp_snap_free(&ss->preempt);
	kp_snap_free(&ss->exited);
	kp_snap_free(&ss->sweep);
	kp_gc_done(&ss->gc);
	kp_cgcpu_free(ss->cgl);
	free(ss->pre);
	free(ss->prev);
	free(ss->cur);
	free(ss);
}

struct seed_ctx {
	struct sched_state *ss;
	const struct kp_opts *opts;
	size_t n;
};

static int seed_one(uint32_t pid, uint32_t tid, int vcpu, void *arg)
{
	struct seed_ctx *c = arg;
	struct sched_stats st = { .pid = pid, .vcpu = vcpu };

	if (!kp_opts_pid_wanted(c->opts, pid))
		return 0;
	/* EEXIST: KVM_RUN found it first; E2BIG: full, lost counts none yet */
	if (!bpf_map_update_elem(c->ss->stats_fd, &tid, &st, BPF_NOEXIST))
		c->n++;
	if (c->ss->cgl) /* the baseline of its cgroup's throttled time */
		kp_cgcpu_note(c->ss->cgl, pid, tid, 0);
	return 0;
}

/* Run the seeding iterator once: it marks the seeded threads. */
static int run_seed_iter(struct sched_state *ss)
{
	struct bpf_link *link;
	int err;

	link = bpf_program__attach_iter(ss->skel->progs.seed, NULL);
	if (!link)
		return -errno;
	err = kp_iter_read(link, NULL);
	bpf_link__destroy(link);
	return err;
}

/*
 * Track the vCPU threads that exist already (a vCPU inside KVM_RUN fires
 * no kvm_fpu until it returns to the VMM, maybe never): the threads named
 * "CPU <n>/KVM" go into the stats map, then the iterator marks them in
 * task storage and starts the slice of those running now.
 */
static void seed(struct sched_state *ss, const struct kp_probe_env *env,
		 struct kp_prog_status *ps)
{
	struct seed_ctx c = { .ss = ss, .opts = env->opts };
	int err;

	if (ss->cgl)
		kp_cgcpu_begin(ss->cgl, kp_mono_s());
	err = kp_proc_vcpu_threads(env->proc_root, seed_one, &c);
	if (ss->cgl)
		kp_cgcpu_end(ss->cgl);
	if (!err)
		err = run_seed_iter(ss);
	if (err) {
		snprintf(ps->reason, sizeof(ps->reason),
			 "failed to seed vCPU threads from %s: %s (they are found at their next KVM_RUN)",
			 env->proc_root, strerror(-err));
		return;
	}
	ps->how = "iter/task";
}

/* Before an attach: the programs' state of earlier ones is stale. */
static void epoch_next(struct sched_state *ss)
{
	/* 0 is none (the programs do nothing), also after a wrap */
	if (!__atomic_add_fetch(&ss->skel->bss->epoch, 1, __ATOMIC_RELEASE))
		__atomic_add_fetch(&ss->skel->bss->epoch, 1, __ATOMIC_RELEASE);
}

/* Attach or detach the per-event tier's programs. true: done. */
static bool tier_switch(struct sched_state *ss, bool on)
{
	int err = 0;
	size_t i;

	if (on)
		epoch_next(ss);
	for (i = 0; i < NTIER2 && !err; i++)
		err = kp_progs_set(&ss->progs, i, on);
	if (!on || !err)
		return true;
	for (i = 0; i < NTIER2; i++) /* tried again at the next tick */
		kp_progs_set(&ss->progs, i, false);
	return false;
}

/*
 * The per-event tier on or off, called under ss->tk.lock, which it drops
 * while the programs attach or detach (a few hundred us each, more on a
 * busy host): the interval's read must not wait for that. A new
 * attachment is a new epoch: stamps of the last one are stale
 * (bpf/sched.bpf.c).
 */
static void tier_set(struct sched_state *ss, bool on)
{
	uint64_t now;
	bool done;

	if (on == ss->on)
		return;
	if (!on) /* no handling split from here on: events go missing */
		kp_kvmrun_set_split(false);
	pthread_mutex_unlock(&ss->tk.lock);
	done = tier_switch(ss, on);
	pthread_mutex_lock(&ss->tk.lock);
	if (!done)
		return;
	now = kp_mono_ns();
	if (ss->on)
		ss->on_ns += now - ss->on_since;
	ss->on = on;
	ss->on_since = now;
	if (on)
		kp_kvmrun_set_split(ss->btf);
}

/*
 * kp_progs_attach() attached the per-event tier to say whether it can,
 * doing nothing yet (epoch 0): it runs from now with duty 1, else it goes
 * until the duty cycle's thread (kp_sched_run) wants it.
 */
static void tier_start(struct sched_state *ss)
{
	size_t i;

	ss->read_ns = kp_mono_ns();
	if (ss->duty >= 1) {
		epoch_next(ss);
		ss->on = true;
		ss->on_since = ss->read_ns;
		kp_kvmrun_set_split(ss->btf);
		return;
	}
	for (i = 0; i < NTIER2; i++)
		kp_progs_set(&ss->progs, i, false);
}

/* ns the tier was attached, up to now (under ss->tk.lock). */
static uint64_t tier_on_ns(const struct sched_state *ss, uint64_t now)
{
	return ss->on_ns + (ss->on ? now - ss->on_since : 0);
}

/* Every tick: the per-event tier as the duty cycle or the trigger wants. */
static void step(void *arg, unsigned int tick)
{
	struct sched_state *ss = arg;

	tier_set(ss, ss->triggered || kp_sched_duty_on(ss->duty, tick, TICKS));
}

/* Always attached (duty 1) there is nothing to switch: no thread. */
static int kp_sched_run(void *state)
{
	struct sched_state *ss = state;

	return ss->duty >= 1 ? 0 : kp_ticker_start(&ss->tk);
}

/* The first tier's iterator, created once and run every interval. */
static void counters_attach(struct sched_state *ss, struct kp_prog_status *ps)
{
	memset(ps, 0, sizeof(*ps));
	ps->name = "vcpu_counters";
	ss->counters = bpf_program__attach_iter(ss->skel->progs.counters,
						NULL);
	if (!ss->counters) {
		snprintf(ps->reason, sizeof(ps->reason),
			 "failed to create the counters iterator: %s",
			 strerror(errno));
		return;
	}
	ps->how = "iter/task";
}

static int alloc_buffers(struct sched_state *ss)
{
	size_t n = ss->max_entries;

	ss->pre = calloc(n, sizeof(*ss->pre));
	ss->prev = calloc(n, sizeof(*ss->prev));
	ss->cur = calloc(n, sizeof(*ss->cur));
	if (!ss->pre || !ss->prev || !ss->cur)
		return -ENOMEM;
	return 0;
}

static int kp_sched_start(const struct kp_probe_env *env, void **state,
			  struct kp_probe_status *st)
{
	struct kp_prog_status run;
	struct sched_state *ss;
	int err;

	/* the counter tier's run delay: task_struct.sched_info */
	if (kp_ksupport_has_vmlinux_btf(env->ks) &&
	    !kp_ksupport_btf_member(env->ks, "task_struct", "sched_info")) {
		snprintf(st->reason, sizeof(st->reason),
			 "kernel without CONFIG_SCHED_INFO (task_struct.sched_info): no run delay counters");
		return -EOPNOTSUPP;
	}
	ss = calloc(1, sizeof(*ss));
	if (!ss)
		return -ENOMEM;
	kp_ticker_init(&ss->tk, TICK_NS, step, ss);
	ss->duty = env->opts->sched_duty;
	ss->trigger_pct = env->opts->sched_trigger_pct;
	ss->gc.proc_root = env->proc_root;
	ss->gc.last = time(NULL);
	ss->max_entries = env->opts->map_entries;
	kp_snap_init(&ss->preempt, sizeof(struct sched_preempt_key),
		     sizeof(struct sched_preempt_val));
	kp_snap_init(&ss->exited, sizeof(__u32), sizeof(struct sched_exited));
	kp_snap_init(&ss->sweep, sizeof(__u32), sizeof(struct sched_stats));
	ss->proc_root = env->proc_root;
	err = alloc_buffers(ss);
	if (err) {
		snprintf(st->reason, sizeof(st->reason),
			 "failed to allocate memory");
		goto err_free;
	}
	/* KVM_RUN entry: the shared marker, listed as this probe's kvm_fpu */
	ss->run = kp_kvmrun_join(env, &run);
	ss->joined = true;
	err = kp_progs_load(&ss->progs, &sched_ops, ss, env, st);
	if (err)
		goto err_free;
	ss->stats_fd = bpf_map__fd(ss->skel->maps.stats);
	/* no cgroup CPU controller: no limited_pct, nothing else changes */
	ss->cgl = kp_cgcpu_new(env->proc_root, "");
	ss->preempt_fd = bpf_map__fd(ss->skel->maps.preempt);
	ss->exited_fd = bpf_map__fd(ss->skel->maps.exited);
	if (!kp_progs_attach(&ss->progs, st)) {
		err = -ENOENT;
		goto err_free;
	}
	st->progs[EV_RUN] = run;
	memset(&st->progs[SEED], 0, sizeof(st->progs[SEED]));
	st->progs[SEED].name = "vcpu_seed";
	st->nprogs = COUNTERS + 1;
	counters_attach(ss, &st->progs[COUNTERS]);
	if (!ss->counters) {
		snprintf(st->reason, sizeof(st->reason), "%s",
			 st->progs[COUNTERS].reason);
		err = -ENOENT;
		goto err_free;
	}
	kp_kvmrun_enable(KP_KVMRUN_SCHED, true);
	ss->btf = ss->run && st->progs[0].how &&
		  !strcmp(st->progs[0].how, "tp_btf");
	tier_start(ss);
	seed(ss, env, &st->progs[SEED]);
	st->attached = true;
	*state = ss;
	return 0;

err_free:
	state_free(ss);
	return err;
}

static int cmp_reading(const void *a, const void *b)
{
	const struct reading *x = a, *y = b;

	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static struct reading *find(struct reading *v, size_t n, uint32_t tid)
{
	struct reading key = { .tid = tid };

	return bsearch(&key, v, n, sizeof(*v), cmp_reading);
}

static void reading_set(struct reading *r, const struct sched_reading *raw,
			const struct kp_hist *h)
{
	r->tid = raw->tid;
	r->pid = raw->pid;
	r->vcpu = raw->vcpu == SCHED_VCPU_UNKNOWN ? -1 : raw->vcpu;
	kp_sched_flatten(raw, h, &r->flat);
}

/* The last readings of the threads that exited, appended to ss->cur. */
static int read_exited(struct sched_state *ss)
{
	const struct sched_exited *e;
	size_t i;
	int err;

	err = kp_map_drain(ss->exited_fd, &ss->exited, ss->max_entries);
	for (i = 0; i < ss->exited.n && ss->ncur < ss->max_entries; i++) {
		e = (const struct sched_exited *)kp_snap_val(&ss->exited, i);
		reading_set(&ss->cur[ss->ncur++], &e->r, &e->delay);
	}
	return err;
}

/*
 * A thread read by the iterator that exited before the drain is there
 * twice (sorted: side by side); its exit reading is the later, larger one.
 */
static void dedup(struct sched_state *ss)
{
	size_t i, j = 0;

	for (i = 0; i < ss->ncur; i++) {
		if (j && ss->cur[j - 1].tid == ss->cur[i].tid) {
			if (ss->cur[i].flat.cpu_ns >= ss->cur[j - 1].flat.cpu_ns)
				ss->cur[j - 1] = ss->cur[i];
			continue;
		}
		ss->cur[j++] = ss->cur[i];
	}
	ss->ncur = j;
}

/* This interval's readings, from the counters iterator, into ss->cur. */
static int read_stats(struct sched_state *ss)
{
	const struct sched_reading *raw;
	size_t i, n;
	int err;

	ss->ibuf.len = 0;
	err = kp_iter_read(ss->counters, &ss->ibuf);
	if (err)
		return err;
	n = ss->ibuf.len / RECORD;
	if (n > ss->max_entries)
		n = ss->max_entries;
	for (i = 0; i < n; i++) {
		struct kp_hist h;

		raw = (const struct sched_reading *)(ss->ibuf.p + i * RECORD);
		memcpy(&h, (const char *)raw + sizeof(*raw), sizeof(h));
		reading_set(&ss->cur[i], raw, &h);
	}
	ss->ncur = n;
	err = read_exited(ss);
	if (ss->ncur > 1) /* qsort(NULL, 0) is undefined */
		qsort(ss->cur, ss->ncur, sizeof(*ss->cur), cmp_reading);
	if (ss->ncur > 1)
		dedup(ss);
	return err;
}

static int add_vcpu(struct kp_interval *iv, const struct reading *r,
		    const struct kp_sched_flat *d)
{
	int err;

	if (!d->cpu_ns && !d->ready_ns && !d->preemptions && !d->delay.count)
		return 0;
	err = kp_interval_add(iv, r->pid, r->tid, r->vcpu, KP_M_RUN_DELAY, "",
			      d->ready_ns, &d->delay);
	if (!err)
		err = kp_interval_add(iv, r->pid, r->tid, r->vcpu,
				      KP_M_CPU_TIME, "", d->cpu_ns, NULL);
	if (!err)
		err = kp_interval_add(iv, r->pid, r->tid, r->vcpu,
				      KP_M_PREEMPTIONS, "", d->preemptions,
				      NULL);
	return err;
}

/*
 * Per vCPU: this interval's deltas into iv. Afterwards cur holds what was
 * reported (the larger of the last report and this reading, counter by
 * counter), the base of the next deltas.
 */
static int decode_vcpus(struct sched_state *ss, struct kp_interval *iv)
{
	struct kp_sched_flat zero = { 0 }, d;
	struct reading *p;
	size_t i;
	int err;

	for (i = 0; i < ss->ncur; i++) {
		struct reading *r = &ss->cur[i];

		p = find(ss->prev, ss->nprev, r->tid);
		if (p && p->pid == r->pid) {
			kp_sched_delta(&p->flat, &r->flat, &d);
			r->flat = p->flat;
		} else {
			/* a new entry (or a reused tid): counts from zero */
			zero = (struct kp_sched_flat){ 0 };
			kp_sched_delta(&zero, &r->flat, &d);
		}
		r->dready = d.ready_ns;
		err = add_vcpu(iv, r, &d);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Limited vs ready time per vCPU (user/probes/cgcpu.h): every vCPU's run
 * delay is noted against its cgroup first, then each gets its share of the
 * cgroup's throttled time, as limited_pct and the source it came from.
 */
static int decode_limits(struct sched_state *ss, struct kp_interval *iv)
{
	uint64_t limited;
	enum kp_cg_ver ver;
	int *slot, err = 0;
	size_t i;

	if (!kp_cgcpu_usable(ss->cgl) || !ss->ncur)
		return 0;
	slot = calloc(ss->ncur, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	kp_cgcpu_begin(ss->cgl, kp_mono_s());
	for (i = 0; i < ss->ncur; i++)
		slot[i] = kp_cgcpu_note(ss->cgl, ss->cur[i].pid,
					ss->cur[i].tid, ss->cur[i].dready);
	for (i = 0; !err && i < ss->ncur; i++) {
		const struct reading *r = &ss->cur[i];

		if (!r->dready ||
		    !kp_cgcpu_share(ss->cgl, slot[i], r->dready, &limited, &ver))
			continue;
		err = kp_interval_add(iv, r->pid, r->tid, r->vcpu, KP_M_LIMITED,
				      "", limited, NULL);
		if (!err)
			err = kp_interval_add(iv, r->pid, r->tid, r->vcpu,
					      KP_M_LIMIT_SOURCE,
					      kp_cg_ver_name(ver), 1, NULL);
	}
	kp_cgcpu_end(ss->cgl);
	free(slot);
	return err;
}

static int cmp_preemption(const void *a, const void *b)
{
	const struct preemption *x = a, *y = b;

	if (x->key.vcpu_tid != y->key.vcpu_tid)
		return x->key.vcpu_tid < y->key.vcpu_tid ? -1 : 1;
	return x->key.tid < y->key.tid ? -1 : x->key.tid > y->key.tid;
}

static void peer_of(struct sched_state *ss, const struct preemption *e,
		    struct kp_peer *peer)
{
	const struct reading *r = find(ss->cur, ss->ncur, e->key.tid);

	memset(peer, 0, sizeof(*peer));
	peer->pid = e->val.pid;
	peer->tid = e->key.tid;
	memcpy(peer->comm, e->val.comm, sizeof(peer->comm) - 1);
	peer->vm_pid = -1;
	peer->vm_vcpu = -1;
	if (r && r->pid == e->val.pid) { /* another vCPU thread */
		peer->vm_pid = r->pid;
		peer->vm_vcpu = r->vcpu >= 0 ? r->vcpu :
				kp_parse_vcpu_name(peer->comm);
	}
}

/* The top KP_SCHED_TOP preemptors of the vCPU of pre[0..n) into iv. */
static int add_top(struct sched_state *ss, struct kp_interval *iv,
		   const struct preemption *pre, size_t n, uint64_t *ns)
{
	const struct reading *r = find(ss->cur, ss->ncur, pre->key.vcpu_tid);
	size_t top[KP_SCHED_TOP], m, i;
	struct kp_peer peer;
	int err;

	if (!r) /* dropped meanwhile */
		return 0;
	for (i = 0; i < n; i++)
		ns[i] = pre[i].val.ns;
	m = kp_top_n(ns, n, KP_SCHED_TOP, top);
	for (i = 0; i < m; i++) {
		if (!ns[top[i]])
			continue;
		peer_of(ss, &pre[top[i]], &peer);
		err = kp_interval_add_peer(iv, r->pid, r->tid, r->vcpu,
					   KP_M_PREEMPTED_BY, &peer,
					   ns[top[i]]);
		if (err)
			return err;
	}
	return 0;
}

/* Drain the preempt map: this interval's time per (vCPU, preemptor). */
static int decode_preemptors(struct sched_state *ss, struct kp_interval *iv)
{
	uint64_t *ns;
	size_t i, j, n;
	int err;

	err = kp_map_drain(ss->preempt_fd, &ss->preempt, ss->max_entries);
	n = ss->preempt.n;
	if (err || !n)
		return err;
	ns = calloc(n, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		memcpy(&ss->pre[i].key, kp_snap_key(&ss->preempt, i),
		       sizeof(ss->pre[i].key));
		memcpy(&ss->pre[i].val, kp_snap_val(&ss->preempt, i),
		       sizeof(ss->pre[i].val));
	}
	if (n > 1)
		qsort(ss->pre, n, sizeof(*ss->pre), cmp_preemption);
	for (i = 0; !err && i < n; i = j) {
		for (j = i + 1; j < n &&
		     ss->pre[j].key.vcpu_tid == ss->pre[i].key.vcpu_tid; j++)
			;
		err = add_top(ss, iv, &ss->pre[i], j - i, ns);
	}
	free(ns);
	return err;
}

/* A reading belongs to its vCPU thread. */
static uint64_t reading_owner(const void *elem)
{
	const struct reading *r = elem;

	return (uint64_t)r->pid << 32 | r->tid;
}

/*
 * Threads that ended keep their stats entries (the iterator no longer
 * sees them): delete those of the last read's threads found dead since
 * (ss->gc).
 */
static void drop_dead(struct sched_state *ss)
{
	size_t i;

	for (i = 0; i < ss->nprev; i++)
		if (kp_gc_dead(&ss->gc, reading_owner(&ss->prev[i])))
			bpf_map_delete_elem(ss->stats_fd, &ss->prev[i].tid);
}

/*
 * Entries no exit program removed (the exited map was full, a thread
 * seeded from /proc ended before it was marked) are not in any reading:
 * every SWEEP_READS reads, delete those of threads /proc no longer has.
 */
static void sweep(struct sched_state *ss)
{
	const struct sched_stats *st;
	char path[96];
	uint32_t tid;
	size_t i;

	if (++ss->reads % SWEEP_READS ||
	    kp_map_read(ss->stats_fd, &ss->sweep, ss->max_entries))
		return;
	for (i = 0; i < ss->sweep.n; i++) {
		tid = *(const uint32_t *)kp_snap_key(&ss->sweep, i);
		st = (const struct sched_stats *)kp_snap_val(&ss->sweep, i);
		if (find(ss->cur, ss->ncur, tid))
			continue;
		snprintf(path, sizeof(path), "%s/%u/task/%u", ss->proc_root,
			 st->pid, tid);
		if (access(path, F_OK) && errno == ENOENT)
			bpf_map_delete_elem(ss->stats_fd, &tid);
	}
}

/*
 * The per-event tier's share of the interval into iv, and the trigger for
 * the next one: whether a vCPU's ready reached trigger_pct.
 */
static void tier_account(struct sched_state *ss, struct kp_interval *iv)
{
	uint64_t now = kp_mono_ns(), on, worst = 0;
	size_t i;

	for (i = 0; i < ss->ncur; i++)
		if (ss->cur[i].dready > worst)
			worst = ss->cur[i].dready;
	pthread_mutex_lock(&ss->tk.lock);
	on = tier_on_ns(ss, now);
	iv->sched_events.on_ns = on - ss->read_on_ns;
	iv->sched_events.window_ns = now - ss->read_ns;
	ss->triggered = kp_sched_triggered(worst, now - ss->read_ns,
					   ss->trigger_pct);
	if (ss->triggered && !ss->on)
		kp_ticker_wake(&ss->tk); /* attach now, not at the next tick */
	ss->read_on_ns = on;
	ss->read_ns = now;
	pthread_mutex_unlock(&ss->tk.lock);
}

static int kp_sched_read(void *state, struct kp_interval *iv)
{
	struct sched_state *ss = state;
	struct reading *tmp;
	uint64_t lost;
	size_t ndead;
	int err;

	ndead = kp_gc_scan(&ss->gc, ss->prev, ss->nprev, sizeof(*ss->prev),
			   reading_owner);
	if (ndead)
		drop_dead(ss);
	err = read_stats(ss);
	if (!err)
		err = decode_vcpus(ss, iv);
	if (!err)
		err = decode_limits(ss, iv);
	if (!err)
		err = decode_preemptors(ss, iv);
	if (err)
		goto out;
	tier_account(ss, iv);
	sweep(ss);
	/* this object's, and the KVM_RUN marker's (new vCPUs) */
	lost = ss->skel->bss->lost_events + kp_kvmrun_lost();
	err = kp_interval_add_lost(iv, "sched", lost - ss->lost_prev);
	ss->lost_prev = lost;
	/* not a map: the per-CPU waiter slots, see docs/output.md */
	lost = ss->skel->bss->unattributed;
	if (!err)
		err = kp_interval_add_lost(iv, "sched_attribution",
					   lost - ss->unattributed_prev);
	ss->unattributed_prev = lost;
	tmp = ss->prev;
	ss->prev = ss->cur;
	ss->nprev = ss->ncur;
	ss->cur = tmp;
out:
	kp_gc_done(&ss->gc);
	return err;
}

static void kp_sched_stop(void *state)
{
	state_free(state);
}

const struct kp_probe kp_probe_sched = {
	.name = "sched",
	.start = kp_sched_start,
	.run = kp_sched_run,
	.read = kp_sched_read,
	.stop = kp_sched_stop,
};
