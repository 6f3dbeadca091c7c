// SPDX-License-Identifier: GPL-2.0
/*
 * The sched probe: loads sched.bpf.c with one flavour of the scheduler
 * programs, seeds the vCPU threads that already exist from /proc, and per
 * interval turns the stats map into run delay, CPU time and preemptions per
 * vCPU, and drains the preempt map into each vCPU's top preemptors.
 */
#include <errno.h>
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
#include "user/identity/procfs.h"
#include "user/probes/cgcpu.h"
#include "user/probes/sched.h"
#include "user/probes/tpprog.h"
#include "user/core/schedcalc.h"

#define GC_PERIOD_S 10
#define NEVENTS 3
#define SEED NEVENTS /* the seeding step's entry in the status */

/* One vCPU's readings, as of one read of the stats map. */
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
	struct bpf_link *links[NEVENTS];
	int stats_fd, preempt_fd;
	uint32_t max_entries;
	const char *proc_root;
	/* buffers of max_entries, for map reads */
	__u32 *tids;
	struct sched_stats *raw;
	struct sched_preempt_key *pkeys;
	struct sched_preempt_val *pvals;
	struct preemption *pre;
	/* readings sorted by tid: last interval's (as reported) and this one's */
	struct reading *prev, *cur;
	size_t nprev, ncur;
	uint64_t lost_prev, unattributed_prev;
	time_t last_gc;
	struct kp_cgcpu *cgl; /* CPU limits of the vCPUs' cgroups, or NULL */
};

/* One traced event, with its BTF-typed and its classic program. */
struct sched_event {
	const char *name;
	const char *btf_prog, *btf_target;
	const char *classic_prog, *classic_how;
	const char *category; /* tracefs category of a classic tracepoint */
};

static const struct sched_event events[NEVENTS] = {
	{ "sched_switch", "switch_btf", "btf_trace_sched_switch", "switch_raw",
	  "raw_tp", NULL },
	{ "sched_wakeup", "wakeup_btf", "btf_trace_sched_wakeup", "wakeup_raw",
	  "raw_tp", NULL },
	/* kvm_fpu(1) marks KVM_RUN entry, see on_run() in exits.bpf.c */
	{ "kvm_fpu", "run_btf", "btf_trace_kvm_fpu", "run_tp", "tracepoint",
	  "kvm" },
};

static struct bpf_program *prog(struct sched_bpf *skel, const char *name)
{
	return bpf_object__find_program_by_name(skel->obj, name);
}

static bool btf_has(struct kp_ksupport *ks, const char *name, char *why,
		    size_t len)
{
	if (!kp_ksupport_has_vmlinux_btf(ks)) {
		snprintf(why, len, "kernel has no BTF (/sys/kernel/btf/vmlinux)");
		return false;
	}
	if (!kp_ksupport_btf_has(ks, name, BTF_KIND_TYPEDEF)) {
		snprintf(why, len, "%s not in kernel BTF%s", name,
			 strstr(name, "kvm") ? " (kvm module not loaded?)" : "");
		return false;
	}
	return true;
}

/*
 * Choose one program per event for mode, before load. Both scheduler events
 * take the same flavour: tp_btf programs know vCPUs by their task storage,
 * raw_tp ones by their entry in the stats map (both are always kept).
 */
static void choose(struct sched_bpf *skel, const struct kp_probe_env *env,
		   enum kp_attach mode, struct kp_probe_status *st)
{
	char why_sched[KP_REASON_MAX] = "", why_kvm[KP_REASON_MAX] = "";
	bool sched_btf, kvm_btf;
	size_t i;

	sched_btf = mode != KP_ATTACH_CLASSIC &&
		    btf_has(env->ks, events[0].btf_target, why_sched,
			    sizeof(why_sched)) &&
		    btf_has(env->ks, events[1].btf_target, why_sched,
			    sizeof(why_sched));
	kvm_btf = mode != KP_ATTACH_CLASSIC &&
		  btf_has(env->ks, events[2].btf_target, why_kvm,
			  sizeof(why_kvm));
	st->nprogs = NEVENTS + 1;
	for (i = 0; i < NEVENTS; i++) {
		const struct sched_event *ev = &events[i];
		struct kp_prog_status *ps = &st->progs[i];
		bool btf = ev->category ? kvm_btf : sched_btf;

		memset(ps, 0, sizeof(*ps));
		ps->name = ev->name;
		if (mode == KP_ATTACH_BTF && !btf) {
			snprintf(ps->reason, sizeof(ps->reason), "%s",
				 ev->category ? why_kvm : why_sched);
			bpf_program__set_autoload(prog(skel, ev->btf_prog), false);
			bpf_program__set_autoload(prog(skel, ev->classic_prog),
						  false);
			continue;
		}
		bpf_program__set_autoload(prog(skel, ev->btf_prog), btf);
		bpf_program__set_autoload(prog(skel, ev->classic_prog), !btf);
		ps->how = btf ? "tp_btf" : ev->classic_how;
	}
	memset(&st->progs[SEED], 0, sizeof(st->progs[SEED]));
	st->progs[SEED].name = "vcpu_seed";
}

/* Attach each chosen program on its own: one failure leaves the rest. */
static int attach_all(struct sched_state *ss, struct kp_probe_status *st)
{
	int attached = 0;
	size_t i;

	for (i = 0; i < NEVENTS; i++) {
		const struct sched_event *ev = &events[i];
		struct kp_prog_status *ps = &st->progs[i];
		bool btf;

		if (!ps->how)
			continue;
		btf = !strcmp(ps->how, "tp_btf");
		ss->links[i] = bpf_program__attach(prog(ss->skel, btf ?
				ev->btf_prog : ev->classic_prog));
		if (!ss->links[i]) {
			kp_attach_error(-errno, btf ? NULL : ev->category, ev->name,
					btf ? ev->btf_prog : ev->classic_prog,
					ps->reason, sizeof(ps->reason));
			ps->how = NULL;
			continue;
		}
		attached++;
	}
	return attached;
}

static void state_free(struct sched_state *ss)
{
	size_t i;

	if (!ss)
		return;
	for (i = 0; i < NEVENTS; i++)
		bpf_link__destroy(ss->links[i]);
	sched_bpf__destroy(ss->skel);
	kp_cgcpu_free(ss->cgl);
	free(ss->tids);
	free(ss->raw);
	free(ss->pkeys);
	free(ss->pvals);
	free(ss->pre);
	free(ss->prev);
	free(ss->cur);
	free(ss);
}

static int open_load(struct sched_state *ss, const struct kp_probe_env *env,
		     enum kp_attach mode, struct kp_probe_status *st)
{
	const struct kp_opts *o = env->opts;
	int err, ncpus;

	ss->skel = sched_bpf__open();
	if (!ss->skel)
		return -errno;
	ss->skel->rodata->filter_pid = o->npids > 0;
	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 0)
		return ncpus;
	err = bpf_map__set_max_entries(ss->skel->maps.cpus, ncpus);
	if (!err)
		err = bpf_map__set_max_entries(ss->skel->maps.stats,
					       o->map_entries);
	if (!err)
		err = bpf_map__set_max_entries(ss->skel->maps.preempt,
					       o->map_entries);
	if (err)
		return err;
	choose(ss->skel, env, mode, st);
	return sched_bpf__load(ss->skel);
}

struct seed_ctx {
	struct sched_state *ss;
	const struct kp_opts *opts;
	size_t n;
};

static bool pid_wanted(const struct kp_opts *o, uint32_t pid)
{
	size_t i;

	if (!o->npids)
		return true;
	for (i = 0; i < o->npids; i++)
		if (o->pids[i] == pid)
			return true;
	return false;
}

static int seed_one(uint32_t pid, uint32_t tid, int vcpu, void *arg)
{
	struct seed_ctx *c = arg;
	struct sched_stats st = { .pid = pid, .vcpu = vcpu };

	if (!pid_wanted(c->opts, pid))
		return 0;
	/* EEXIST: KVM_RUN found it first; E2BIG: full, lost counts none yet */
	if (!bpf_map_update_elem(c->ss->stats_fd, &tid, &st, BPF_NOEXIST))
		c->n++;
	if (c->ss->cgl) /* the baseline of its cgroup's throttled time */
		kp_cgcpu_note(c->ss->cgl, pid, tid, 0);
	return 0;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Run the seeding iterator once: it marks the seeded threads. */
static int run_seed_iter(struct sched_state *ss)
{
	struct bpf_link *link;
	char buf[64];
	ssize_t n;
	int fd, err = 0;

	link = bpf_program__attach_iter(ss->skel->progs.seed, NULL);
	if (!link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = -errno;
		goto out_link;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	if (n < 0)
		err = -errno;
	close(fd);
out_link:
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
		kp_cgcpu_begin(ss->cgl, mono_s());
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

static int alloc_buffers(struct sched_state *ss)
{
	size_t n = ss->max_entries;

	ss->tids = calloc(n, sizeof(*ss->tids));
	ss->raw = calloc(n, sizeof(*ss->raw));
	ss->pkeys = calloc(n, sizeof(*ss->pkeys));
	ss->pvals = calloc(n, sizeof(*ss->pvals));
	ss->pre = calloc(n, sizeof(*ss->pre));
	ss->prev = calloc(n, sizeof(*ss->prev));
	ss->cur = calloc(n, sizeof(*ss->cur));
	if (!ss->tids || !ss->raw || !ss->pkeys || !ss->pvals || !ss->pre ||
	    !ss->prev || !ss->cur)
		return -ENOMEM;
	return 0;
}

int kp_sched_start(const struct kp_probe_env *env, void **state,
		   struct kp_probe_status *st)
{
	struct sched_state *ss;
	int err;

	ss = calloc(1, sizeof(*ss));
	if (!ss)
		return -ENOMEM;
	ss->proc_root = env->proc_root;
	ss->max_entries = env->opts->map_entries;
	err = alloc_buffers(ss);
	if (err) {
		snprintf(st->reason, sizeof(st->reason),
			 "failed to allocate memory");
		goto err_free;
	}
	err = open_load(ss, env, env->opts->attach, st);
	if (err && err != -EPERM && env->opts->attach == KP_ATTACH_AUTO) {
		/* a BTF-typed program the verifier refused: go classic */
		sched_bpf__destroy(ss->skel);
		ss->skel = NULL;
		err = open_load(ss, env, KP_ATTACH_CLASSIC, st);
	}
	if (err) {
		kp_tp_load_error(err, st);
		goto err_free;
	}
	err = kp_set_pid_filter(bpf_map__fd(ss->skel->maps.pid_filter),
				 env->opts);
	if (err) {
		snprintf(st->reason, sizeof(st->reason),
			 "failed to set the pid filter: %s", strerror(-err));
		goto err_free;
	}
	ss->stats_fd = bpf_map__fd(ss->skel->maps.stats);
	/* no cgroup CPU controller: no limited_pct, nothing else changes */
	ss->cgl = kp_cgcpu_new(env->proc_root, "");
	ss->preempt_fd = bpf_map__fd(ss->skel->maps.preempt);
	if (!attach_all(ss, st)) {
		kp_no_program_reason(st);
		err = -ENOENT;
		goto err_free;
	}
	seed(ss, env, &st->progs[SEED]);
	st->attached = true;
	ss->last_gc = time(NULL);
	*state = ss;
	return 0;

err_free:
	state_free(ss);
	return err;
}

/*
 * Read up to max entries of a hash map into keys and vals, in batches
 * where the kernel supports it; with del, each entry read is deleted.
 * Returns the number read or -errno.
 */
static long read_hash(int fd, void *keys, size_t key_size, void *vals,
		      size_t val_size, size_t max, bool del)
{
	unsigned char key[64], last[64];
	bool have_last = false;
	__u32 batch, count;
	void *in = NULL;
	size_t n = 0;
	int err;

	if (key_size > sizeof(key))
		return -EINVAL;
	for (;;) {
		count = max - n;
		if (del)
			err = bpf_map_lookup_and_delete_batch(fd, in, &batch,
				(char *)keys + n * key_size,
				(char *)vals + n * val_size, &count, NULL);
		else
			err = bpf_map_lookup_batch(fd, in, &batch,
				(char *)keys + n * key_size,
				(char *)vals + n * val_size, &count, NULL);
		if (err && errno != ENOENT) {
			if (errno == EINVAL && !in && !n)
				break; /* no batch ops: iterate below */
			return -errno;
		}
		n += count;
		if (err || n >= max)
			return n;
		in = &batch;
	}
	/* fallback for kernels without batch operations on hash maps */
	while (n < max &&
	       !bpf_map_get_next_key(fd, have_last ? last : NULL, key)) {
		if (!bpf_map_lookup_elem(fd, key, (char *)vals + n * val_size)) {
			memcpy((char *)keys + n * key_size, key, key_size);
			n++;
		}
		if (del) {
			bpf_map_delete_elem(fd, key);
			continue; /* from the first key again */
		}
		memcpy(last, key, key_size);
		have_last = true;
	}
	return n;
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

/* This interval's readings, from the stats map, into ss->cur. */
static int read_stats(struct sched_state *ss)
{
	struct timespec ts;
	uint64_t now;
	long n;
	size_t i;

	n = read_hash(ss->stats_fd, ss->tids, sizeof(*ss->tids), ss->raw,
		      sizeof(*ss->raw), ss->max_entries, false);
	if (n < 0)
		return n;
	/* after the read: no span in progress is counted twice, see
	 * struct sched_stats */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	for (i = 0; i < (size_t)n; i++) {
		struct reading *r = &ss->cur[i];

		r->tid = ss->tids[i];
		r->pid = ss->raw[i].pid;
		r->vcpu = ss->raw[i].vcpu == SCHED_VCPU_UNKNOWN ? -1 :
			  ss->raw[i].vcpu;
		kp_sched_flatten(&ss->raw[i], now, &r->flat);
	}
	ss->ncur = n;
	qsort(ss->cur, ss->ncur, sizeof(*ss->cur), cmp_reading);
	return 0;
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
	kp_cgcpu_begin(ss->cgl, mono_s());
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
	size_t i, j;
	long n;
	int err = 0;

	n = read_hash(ss->preempt_fd, ss->pkeys, sizeof(*ss->pkeys),
		      ss->pvals, sizeof(*ss->pvals), ss->max_entries, true);
	if (n <= 0)
		return n;
	ns = calloc(n, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (i = 0; i < (size_t)n; i++) {
		ss->pre[i].key = ss->pkeys[i];
		ss->pre[i].val = ss->pvals[i];
	}
	qsort(ss->pre, n, sizeof(*ss->pre), cmp_preemption);
	for (i = 0; !err && i < (size_t)n; i = j) {
		for (j = i + 1; j < (size_t)n &&
		     ss->pre[j].key.vcpu_tid == ss->pre[i].key.vcpu_tid; j++)
			;
		err = add_top(ss, iv, &ss->pre[i], j - i, ns);
	}
	free(ns);
	return err;
}

/*
 * Threads that ended keep their stats entries; drop them once their last
 * counts were reported. Liveness is taken before the map is read, so an
 * entry deleted after the read cannot have changed since. Returns the
 * number of dead tids put in dead (allocated), 0 between GC periods.
 */
static size_t find_dead(struct sched_state *ss, uint32_t **dead)
{
	size_t i, n = 0;

	*dead = NULL;
	if (time(NULL) - ss->last_gc < GC_PERIOD_S || !ss->nprev)
		return 0;
	ss->last_gc = time(NULL);
	*dead = calloc(ss->nprev, sizeof(**dead));
	if (!*dead)
		return 0;
	for (i = 0; i < ss->nprev; i++)
		if (!kp_proc_thread_alive(ss->proc_root, ss->prev[i].pid,
					  ss->prev[i].tid))
			(*dead)[n++] = ss->prev[i].tid;
	return n;
}

static void drop_dead(struct sched_state *ss, const uint32_t *dead,
		      size_t ndead)
{
	struct reading *r;
	size_t i, j = 0;

	for (i = 0; i < ndead; i++) {
		r = find(ss->cur, ss->ncur, dead[i]);
		if (!r)
			continue;
		bpf_map_delete_elem(ss->stats_fd, &r->tid);
		r->tid = 0; /* removed below */
	}
	for (i = 0; i < ss->ncur; i++)
		if (ss->cur[i].tid)
			ss->cur[j++] = ss->cur[i];
	ss->ncur = j;
}

int kp_sched_read(void *state, struct kp_interval *iv)
{
	struct sched_state *ss = state;
	struct reading *tmp;
	uint32_t *dead;
	uint64_t lost;
	size_t ndead;
	int err;

	ndead = find_dead(ss, &dead);
	err = read_stats(ss);
	if (!err)
		err = decode_vcpus(ss, iv);
	if (!err)
		err = decode_limits(ss, iv);
	if (!err)
		err = decode_preemptors(ss, iv);
	if (err)
		goto out;
	lost = ss->skel->bss->lost_events;
	err = kp_interval_add_lost(iv, "sched", lost - ss->lost_prev);
	ss->lost_prev = lost;
	/* not a map: the per-CPU waiter slots, see docs/output.md */
	lost = ss->skel->bss->unattributed;
	if (!err)
		err = kp_interval_add_lost(iv, "sched_attribution",
					   lost - ss->unattributed_prev);
	ss->unattributed_prev = lost;
	if (ndead)
		drop_dead(ss, dead, ndead);
	tmp = ss->prev;
	ss->prev = ss->cur;
	ss->nprev = ss->ncur;
	ss->cur = tmp;
out:
	free(dead);
	return err;
}

void kp_sched_stop(void *state)
{
	state_free(state);
}
