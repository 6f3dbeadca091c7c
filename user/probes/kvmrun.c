// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "kvmrun.skel.h"
#include "user/probes/kvmrun.h"
#include "user/probes/tpprog.h"

/* One marker per kvmprobe: the probes of the table join it. */
static struct {
	unsigned int users;
	struct kvmrun_bpf *skel;
	struct kp_progs progs;
	struct kp_probe_status st;
	/* kp_kvmrun_set_split(): the epoch in the objects that end
	 * handlings, this one's and the exits probe's (exits_epoch) */
	pthread_mutex_t split_lock;
	__u32 split_epoch, split_gen;
	__u32 *exits_epoch;
} run = { .split_lock = PTHREAD_MUTEX_INITIALIZER };

/* The sched probe's index in the table: its stats map is sized for it. */
static bool sched_wanted(const struct kp_opts *o)
{
	size_t i;

	for (i = 0; i < kp_probe_count; i++)
		if (!strcmp(kp_probe_table[i]->name, "sched"))
			return o->probes & (1U << i);
	return false;
}

static int kvmrun_open(void *p, const struct kp_probe_env *env,
		       struct kp_progs *pp)
{
	struct kvmrun_bpf **skel = p;
	int err;

	*skel = kvmrun_bpf__open();
	if (!*skel)
		return -errno;
	(*skel)->rodata->filter_pid = env->opts->npids > 0;
	err = bpf_map__set_max_entries((*skel)->maps.stats,
				       sched_wanted(env->opts) ?
				       env->opts->map_entries : 1);
	if (err)
		return err;
	pp->ev[0] = (struct kp_event){
		.name = "kvm_fpu",
		.btf = (*skel)->progs.run_btf,
		.fallback = (*skel)->progs.run_tp,
		.category = "kvm",
	};
	pp->n = 1;
	pp->pid_filter = (*skel)->maps.pid_filter;
	return 0;
}

static int kvmrun_load(void *p)
{
	return kvmrun_bpf__load(*(struct kvmrun_bpf **)p);
}

static void kvmrun_destroy(void *p)
{
	struct kvmrun_bpf **skel = p;

	kvmrun_bpf__destroy(*skel);
	*skel = NULL;
}

static const struct kp_bpf_ops kvmrun_ops = {
	.open = kvmrun_open,
	.load = kvmrun_load,
	.destroy = kvmrun_destroy,
};

static void start(const struct kp_probe_env *env)
{
	memset(&run.st, 0, sizeof(run.st));
	run.st.name = "kvmrun";
	if (kp_progs_load(&run.progs, &kvmrun_ops, &run.skel, env, &run.st)) {
		/* the load's reason, as the event's */
		run.st.nprogs = 1;
		run.st.progs[0].name = "kvm_fpu";
		run.st.progs[0].how = NULL;
		snprintf(run.st.progs[0].reason, sizeof(run.st.progs[0].reason),
			 "%s", run.st.reason);
		kvmrun_destroy(&run.skel);
		return;
	}
	kp_progs_attach(&run.progs, &run.st);
}

struct kvmrun_bpf *kp_kvmrun_join(const struct kp_probe_env *env,
				  struct kp_prog_status *ps)
{
	if (!run.users++)
		start(env);
	*ps = run.st.progs[0];
	return run.skel;
}

void kp_kvmrun_enable(enum kp_kvmrun_user who, bool on)
{
	if (!run.skel)
		return;
	if (who == KP_KVMRUN_EXITS)
		run.skel->bss->exits_on = on;
	else
		run.skel->bss->sched_on = on;
}

/* The epoch into the objects (under split_lock). */
static void split_publish(void)
{
	if (run.skel)
		__atomic_store_n(&run.skel->bss->split_epoch, run.split_epoch,
				 __ATOMIC_RELEASE);
	if (run.exits_epoch)
		__atomic_store_n(run.exits_epoch, run.split_epoch,
				 __ATOMIC_RELEASE);
}

void kp_kvmrun_set_split(bool on)
{
	pthread_mutex_lock(&run.split_lock);
	if (!on || !run.skel) {
		run.split_epoch = 0;
	} else if (!run.split_epoch) {
		if (!++run.split_gen) /* 0 means none */
			run.split_gen = 1;
		run.split_epoch = run.split_gen;
	}
	split_publish();
	pthread_mutex_unlock(&run.split_lock);
}

void kp_kvmrun_split_target(__u32 *epoch)
{
	pthread_mutex_lock(&run.split_lock);
	run.exits_epoch = epoch;
	split_publish();
	pthread_mutex_unlock(&run.split_lock);
}

uint64_t kp_kvmrun_lost(void)
{
	return run.skel ? run.skel->bss->lost_events : 0;
}

void kp_kvmrun_leave(void)
{
	if (!run.users || --run.users)
		return;
	kp_progs_detach(&run.progs);
	kvmrun_destroy(&run.skel);
}
