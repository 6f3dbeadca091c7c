// SPDX-License-Identifier: GPL-2.0
/*
 * The exits probe: loads exits.bpf.c, picks per event the BTF-typed or the
 * classic program, attaches what the kernel supports and turns the exits map
 * into per-interval samples.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "bpf/exits.h"
#include "exits.skel.h"
#include "user/probes/exits.h"
#include "user/identity/procfs.h"
#include "user/core/reasons.h"
#include "user/core/snap.h"
#include "user/probes/tpprog.h"

#define GC_PERIOD_S 10
#define NEVENTS 5

struct exits_state {
	struct exits_bpf *skel;
	struct bpf_link *links[NEVENTS];
	int map_fd;
	uint32_t max_entries;
	const char *proc_root;
	struct kp_snap prev, cur;
	uint64_t lost_prev;
	time_t last_gc;
};

/* One traced event, with its BTF-typed and its classic program. */
struct exits_event {
	const char *name;
	const char *btf_prog, *btf_how;
	const char *btf_target; /* BTF name the BTF-typed program needs */
	int btf_kind;
	const char *classic_prog, *classic_how;
	bool kvm_exit; /* tp_btf kvm_exit also needs the vendor vcpu struct */
};

static const struct exits_event events[] = {
	{ "kvm_exit", "exit_btf", "tp_btf", "btf_trace_kvm_exit",
	  BTF_KIND_TYPEDEF, "exit_tp", "tracepoint", true },
	{ "kvm_entry", "entry_btf", "tp_btf", "btf_trace_kvm_entry",
	  BTF_KIND_TYPEDEF, "entry_tp", "tracepoint", false },
	{ "kvm_userspace_exit", "uexit_btf", "tp_btf",
	  "btf_trace_kvm_userspace_exit", BTF_KIND_TYPEDEF, "uexit_tp",
	  "tracepoint", false },
	{ "kvm_vcpu_wakeup", "wakeup_btf", "tp_btf", "btf_trace_kvm_vcpu_wakeup",
	  BTF_KIND_TYPEDEF, "wakeup_tp", "tracepoint", false },
	/* kvm_fpu(1) marks KVM_RUN entry, see on_run() in exits.bpf.c */
	{ "kvm_fpu", "run_btf", "tp_btf", "btf_trace_kvm_fpu",
	  BTF_KIND_TYPEDEF, "run_tp", "tracepoint", false },
};

_Static_assert(sizeof(events) / sizeof(events[0]) == NEVENTS,
	       "NEVENTS must match events[]");

static bool btf_usable(struct kp_ksupport *ks, const struct exits_event *ev,
		       char *why, size_t len)
{
	if (!kp_ksupport_has_vmlinux_btf(ks)) {
		snprintf(why, len, "kernel has no BTF (/sys/kernel/btf/vmlinux)");
		return false;
	}
	if (!kp_ksupport_btf_has(ks, ev->btf_target, ev->btf_kind)) {
		snprintf(why, len, "%s not in kernel BTF (kvm module not loaded?)",
			 ev->btf_target);
		return false;
	}
	if (ev->kvm_exit && !kp_ksupport_btf_has(ks, "vcpu_svm", BTF_KIND_STRUCT) &&
	    !kp_ksupport_btf_has(ks, "vcpu_vmx", BTF_KIND_STRUCT)) {
		snprintf(why, len,
			 "neither vcpu_svm nor vcpu_vmx in kernel BTF (kvm_amd/kvm_intel without BTF?)");
		return false;
	}
	return true;
}

static struct bpf_program *prog(struct exits_bpf *skel, const char *name)
{
	return bpf_object__find_program_by_name(skel->obj, name);
}

/*
 * Choose one program per event for mode, before load: a BTF-typed program
 * whose target is missing would fail the whole object's load.
 */
static void choose(struct exits_bpf *skel, const struct kp_probe_env *env,
		   enum kp_attach mode, struct kp_probe_status *st)
{
	size_t i;

	st->nprogs = NEVENTS;
	for (i = 0; i < NEVENTS; i++) {
		const struct exits_event *ev = &events[i];
		struct kp_prog_status *ps = &st->progs[i];
		bool btf = false;

		memset(ps, 0, sizeof(*ps));
		ps->name = ev->name;
		if (mode != KP_ATTACH_CLASSIC)
			btf = btf_usable(env->ks, ev, ps->reason,
					 sizeof(ps->reason));
		if (mode == KP_ATTACH_BTF && !btf) {
			bpf_program__set_autoload(prog(skel, ev->btf_prog), false);
			bpf_program__set_autoload(prog(skel, ev->classic_prog),
						  false);
			continue;
		}
		ps->reason[0] = '\0';
		bpf_program__set_autoload(prog(skel, ev->btf_prog), btf);
		bpf_program__set_autoload(prog(skel, ev->classic_prog), !btf);
		ps->how = btf ? ev->btf_how : ev->classic_how;
	}
}

/* Attach each chosen program on its own: one failure leaves the rest. */
static int attach_all(struct exits_state *es, struct kp_probe_status *st)
{
	int attached = 0;
	size_t i;

	for (i = 0; i < NEVENTS; i++) {
		const struct exits_event *ev = &events[i];
		struct kp_prog_status *ps = &st->progs[i];
		bool btf;

		if (!ps->how)
			continue;
		btf = ps->how == ev->btf_how;
		es->links[i] = bpf_program__attach(prog(es->skel, btf ?
				ev->btf_prog : ev->classic_prog));
		if (!es->links[i]) {
			kp_attach_error(-errno, btf ? NULL : "kvm", ev->name,
					btf ? ev->btf_prog : ev->classic_prog,
					ps->reason, sizeof(ps->reason));
			ps->how = NULL;
			continue;
		}
		attached++;
	}
	return attached;
}

static void state_free(struct exits_state *es)
{
	size_t i;

	if (!es)
		return;
	for (i = 0; i < NEVENTS; i++)
		bpf_link__destroy(es->links[i]);
	exits_bpf__destroy(es->skel);
	kp_snap_free(&es->prev);
	kp_snap_free(&es->cur);
	free(es);
}

static int open_load(struct exits_state *es, const struct kp_probe_env *env,
		     enum kp_attach mode, struct kp_probe_status *st)
{
	const struct kp_opts *o = env->opts;
	int err;

	es->skel = exits_bpf__open();
	if (!es->skel)
		return -errno;
	es->skel->rodata->filter_pid = o->npids > 0;
	err = bpf_map__set_max_entries(es->skel->maps.exits, o->map_entries);
	if (err)
		return err;
	choose(es->skel, env, mode, st);
	return exits_bpf__load(es->skel);
}

int kp_exits_start(const struct kp_probe_env *env, void **state,
		   struct kp_probe_status *st)
{
	struct exits_state *es;
	int err;

	es = calloc(1, sizeof(*es));
	if (!es)
		return -ENOMEM;
	es->proc_root = env->proc_root;
	es->max_entries = env->opts->map_entries;
	kp_snap_init(&es->prev, sizeof(struct exits_key),
		     sizeof(struct exits_val));
	kp_snap_init(&es->cur, sizeof(struct exits_key),
		     sizeof(struct exits_val));

	err = open_load(es, env, env->opts->attach, st);
	if (err && err != -EPERM && env->opts->attach == KP_ATTACH_AUTO) {
		/* a BTF-typed program the verifier refused: go classic */
		exits_bpf__destroy(es->skel);
		es->skel = NULL;
		err = open_load(es, env, KP_ATTACH_CLASSIC, st);
	}
	if (err) {
		kp_tp_load_error(err, st);
		goto err_free;
	}
	err = kp_set_pid_filter(bpf_map__fd(es->skel->maps.pid_filter),
				 env->opts);
	if (err) {
		snprintf(st->reason, sizeof(st->reason),
			 "failed to set the pid filter: %s", strerror(-err));
		goto err_free;
	}
	es->map_fd = bpf_map__fd(es->skel->maps.exits);
	if (!attach_all(es, st)) {
		kp_no_program_reason(st);
		err = -ENOENT;
		goto err_free;
	}
	st->attached = true;
	es->last_gc = time(NULL);
	*state = es;
	return 0;

err_free:
	state_free(es);
	return err;
}

static int decode(const void *k, const uint64_t *delta, void *arg)
{
	const struct exits_val *d = (const struct exits_val *)delta;
	const struct exits_key *key = k;
	struct kp_interval *iv = arg;
	enum kp_metric_id count_m, hist_m;
	char buf[KP_REASON_NAME_MAX];
	const char *name;
	int vcpu, err;

	name = kp_reason_name(key->kind, key->reason, buf, sizeof(buf));
	vcpu = key->vcpu == EXITS_VCPU_UNKNOWN ? -1 : key->vcpu;
	switch (key->kind) {
	case EXITS_KIND_SVM:
	case EXITS_KIND_VMX:
		count_m = KP_M_EXITS;
		hist_m = KP_M_EXIT_TIME;
		break;
	case EXITS_KIND_USER:
		count_m = KP_M_UEXITS;
		hist_m = KP_M_UEXIT_TIME;
		break;
	case EXITS_KIND_HALT:
		return kp_interval_add(iv, key->pid, key->tid, vcpu,
				       KP_M_HALT_TIME, name, 0, &d->hist);
	default:
		return 0;
	}
	if (d->count) {
		err = kp_interval_add(iv, key->pid, key->tid, vcpu, count_m,
				      name, d->count, NULL);
		if (err)
			return err;
	}
	if (!d->hist.count)
		return 0;
	return kp_interval_add(iv, key->pid, key->tid, vcpu, hist_m, name, 0,
			       &d->hist);
}

/*
 * Threads that ended keep their entries in the map; drop them once their
 * last counts were reported. Liveness is taken before the map is read, so
 * an entry deleted after the read cannot have changed since.
 */
static size_t find_dead(struct exits_state *es, uint64_t **dead)
{
	size_t i, n = 0;
	uint64_t last = 0, id;

	*dead = NULL;
	if (time(NULL) - es->last_gc < GC_PERIOD_S)
		return 0;
	es->last_gc = time(NULL);
	*dead = calloc(es->prev.n ? es->prev.n : 1, sizeof(**dead));
	if (!*dead)
		return 0;
	for (i = 0; i < es->prev.n; i++) {
		const struct exits_key *k = kp_snap_key(&es->prev, i);

		id = (uint64_t)k->pid << 32 | k->tid;
		if (id == last)
			continue;
		last = id;
		if (!kp_proc_thread_alive(es->proc_root, k->pid, k->tid))
			(*dead)[n++] = id;
	}
	return n;
}

static bool is_dead(const uint64_t *dead, size_t ndead,
		    const struct exits_key *k)
{
	uint64_t id = (uint64_t)k->pid << 32 | k->tid;
	size_t i;

	for (i = 0; i < ndead; i++) /* ndead is small: threads end rarely */
		if (dead[i] == id)
			return true;
	return false;
}

static void drop_dead(struct exits_state *es, const uint64_t *dead,
		      size_t ndead)
{
	struct kp_snap *s = &es->cur;
	size_t i, j = 0;

	for (i = 0; i < s->n; i++) {
		struct exits_key *k = kp_snap_key(s, i);

		if (is_dead(dead, ndead, k)) {
			bpf_map_delete_elem(es->map_fd, k);
			continue;
		}
		if (i != j) {
			memcpy(kp_snap_key(s, j), k, s->key_size);
			memcpy(kp_snap_val(s, j), kp_snap_val(s, i),
			       s->nvals * sizeof(uint64_t));
		}
		j++;
	}
	s->n = j;
}

int kp_exits_read(void *state, struct kp_interval *iv)
{
	struct exits_state *es = state;
	uint64_t *dead, lost;
	size_t ndead;
	int err;

	ndead = find_dead(es, &dead);
	err = kp_map_read(es->map_fd, &es->cur, es->max_entries);
	if (!err)
		err = kp_snap_sort(&es->cur);
	if (!err)
		err = kp_snap_delta(&es->prev, &es->cur, decode, iv);
	if (err)
		goto out;
	lost = es->skel->bss->lost_events;
	err = kp_interval_add_lost(iv, "exits", lost - es->lost_prev);
	es->lost_prev = lost;
	if (ndead)
		drop_dead(es, dead, ndead);
	kp_snap_swap(&es->prev, &es->cur);
out:
	free(dead);
	return err;
}

void kp_exits_stop(void *state)
{
	state_free(state);
}
