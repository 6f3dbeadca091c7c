// SPDX-License-Identifier: GPL-2.0
/*
 * The exits probe: its event table for the shared lifecycle (tpprog.h), the
 * KVM_RUN marker it shares with the sched probe (kvmrun.h), and the decoding
 * of the exits map into per-interval samples.
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
#include "kvmrun.skel.h"
#include "user/probes/probe.h"
#include "user/identity/procfs.h"
#include "user/core/reasons.h"
#include "user/core/snap.h"
#include "user/probes/kvmrun.h"
#include "user/probes/tpprog.h"

/* kvm_exit, kvm_entry, kvm_userspace_exit, kvm_vcpu_wakeup; then kvm_fpu */
#define NEVENTS 4
#define EV_RUN NEVENTS /* the shared KVM_RUN marker's entry in the status */

struct exits_state {
	struct exits_bpf *skel;
	struct kp_progs progs;
	struct kp_counts counts;
	bool joined;  /* the KVM_RUN marker (kvmrun.c) */
	struct kvmrun_bpf *run;  /* its skeleton, or NULL */
};

static int exits_open(void *p, const struct kp_probe_env *env,
		      struct kp_progs *pp)
{
	struct exits_state *es = p;
	struct exits_bpf *skel;
	int err;

	es->skel = skel = exits_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->filter_pid = env->opts->npids > 0;
	err = bpf_map__set_max_entries(skel->maps.exits, env->opts->map_entries);
	if (err)
		return err;
	/* the state KVM_RUN entry completes lives in the marker's object */
	if (es->run) {
		err = bpf_map__reuse_fd(skel->maps.vcpu_state,
					bpf_map__fd(es->run->maps.vcpu_state));
		if (err)
			return err;
	}
	pp->ev[0] = (struct kp_event){
		.name = "kvm_exit", .btf = skel->progs.exit_btf,
		.fallback = skel->progs.exit_tp, .category = "kvm",
		/* the exit reason is read from the vendor's vcpu struct */
		.needs = { "vcpu_svm", "vcpu_vmx" },
		.needs_hint = "kvm_amd/kvm_intel without BTF?",
	};
	pp->ev[1] = (struct kp_event){
		.name = "kvm_entry", .btf = skel->progs.entry_btf,
		.fallback = skel->progs.entry_tp, .category = "kvm",
	};
	pp->ev[2] = (struct kp_event){
		.name = "kvm_userspace_exit", .btf = skel->progs.uexit_btf,
		.fallback = skel->progs.uexit_tp, .category = "kvm",
	};
	pp->ev[3] = (struct kp_event){
		.name = "kvm_vcpu_wakeup", .btf = skel->progs.wakeup_btf,
		.fallback = skel->progs.wakeup_tp, .category = "kvm",
	};
	pp->n = NEVENTS;
	pp->pid_filter = skel->maps.pid_filter;
	return 0;
}

static int exits_load(void *p)
{
	return exits_bpf__load(((struct exits_state *)p)->skel);
}

static void exits_destroy(void *p)
{
	struct exits_state *es = p;

	exits_bpf__destroy(es->skel);
	es->skel = NULL;
}

static const struct kp_bpf_ops exits_ops = {
	.open = exits_open,
	.load = exits_load,
	.destroy = exits_destroy,
};

/* Entries belong to a vCPU thread. */
static uint64_t exits_owner(const void *key)
{
	const struct exits_key *k = key;

	return (uint64_t)k->pid << 32 | k->tid;
}

static void state_free(struct exits_state *es)
{
	if (!es)
		return;
	if (es->joined) {
		kp_kvmrun_split_target(NULL); /* before its object goes */
		kp_kvmrun_enable(KP_KVMRUN_EXITS, false);
		kp_kvmrun_leave();
	}
	kp_progs_detach(&es->progs);
	exits_destroy(es);
	kp_counts_free(&es->counts);
	free(es);
}

static int kp_exits_start(const struct kp_probe_env *env, void **state,
			  struct kp_probe_status *st)
{
	struct kp_prog_status run;
	struct exits_state *es;
	int err;

	es = calloc(1, sizeof(*es));
	if (!es)
		return -ENOMEM;
	kp_counts_init(&es->counts, sizeof(struct exits_key),
		       sizeof(struct exits_val), exits_owner, env->proc_root);
	/* KVM_RUN entry: the shared marker, listed as this probe's kvm_fpu */
	es->run = kp_kvmrun_join(env, &run);
	es->joined = true;
	err = kp_progs_load(&es->progs, &exits_ops, es, env, st);
	if (err)
		goto err_free;
	es->counts.fd = bpf_map__fd(es->skel->maps.exits);
	es->counts.max = env->opts->map_entries;
	if (!kp_progs_attach(&es->progs, st)) {
		err = -ENOENT;
		goto err_free;
	}
	st->progs[EV_RUN] = run;
	st->nprogs = EV_RUN + 1;
	kp_kvmrun_enable(KP_KVMRUN_EXITS, true);
	/* the sched probe's epochs, for the split of exits it begins */
	kp_kvmrun_split_target(&es->skel->bss->split_epoch);
	st->attached = true;
	*state = es;
	return 0;

err_free:
	state_free(es);
	return err;
}

/* Where handling time goes: on a CPU, waiting, blocked. */
static const enum kp_metric_id exit_split[3] = {
	KP_M_EXIT_ONCPU, KP_M_EXIT_WAIT, KP_M_EXIT_BLOCK,
};
static const enum kp_metric_id uexit_split[3] = {
	KP_M_UEXIT_ONCPU, KP_M_UEXIT_WAIT, KP_M_UEXIT_BLOCK,
};

/*
 * Where the handling times in d went, as the metrics of split. On a CPU
 * is what the other two leave of the histogram's sum.
 */
static int add_split(struct kp_interval *iv, const struct exits_key *key,
		     int vcpu, const enum kp_metric_id *split,
		     const char *name, const struct exits_val *d)
{
	uint64_t off = d->wait_ns + d->block_ns;
	uint64_t v[3] = {
		d->hist.sum > off ? d->hist.sum - off : 0, d->wait_ns,
		d->block_ns,
	};
	int i, err = 0;

	for (i = 0; i < 3 && !err; i++)
		err = kp_interval_add(iv, key->pid, key->tid, vcpu, split[i],
				      name, v[i], NULL);
	return err;
}

static int decode(const void *k, const uint64_t *delta, void *arg)
{
	const struct exits_val *d = (const struct exits_val *)delta;
	const struct exits_key *key = k;
	struct kp_interval *iv = arg;
	const enum kp_metric_id *split;
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
		split = exit_split;
		break;
	case EXITS_KIND_USER:
		count_m = KP_M_UEXITS;
		hist_m = KP_M_UEXIT_TIME;
		split = uexit_split;
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
	err = kp_interval_add(iv, key->pid, key->tid, vcpu, hist_m, name, 0,
			      &d->hist);
	/* a split only where every handling could be split */
	if (err || d->unsplit_ns)
		return err;
	return add_split(iv, key, vcpu, split, name, d);
}

static int kp_exits_read(void *state, struct kp_interval *iv)
{
	struct exits_state *es = state;
	int err;

	err = kp_counts_read(&es->counts, decode, iv);
	if (!err)
		err = kp_counts_lost(&es->counts, iv, "exits",
				     es->skel->bss->lost_events);
	return err;
}

static void kp_exits_stop(void *state)
{
	state_free(state);
}

const struct kp_probe kp_probe_exits = {
	.name = "exits",
	.start = kp_exits_start,
	.read = kp_exits_read,
	.stop = kp_exits_stop,
};
