// SPDX-License-Identifier: GPL-2.0
/*
 * The haltpoll probe: KVM's halt-polling counters of every vCPU, read once
 * per interval through a BPF task_file iterator (bpf/haltpoll.bpf.c), no
 * per-event program. Decoding is pure (user/probes/halts.h).
 *
 * A pass over every open file of the host costs about 0.35 us per file
 * (20 ms at 57,000 files here, 16-17 ms of it an empty iterator
 * program's), so it runs at start and every FULL_PERIOD_S to find VMMs;
 * each interval reads only the VMMs known, through one iterator scoped to
 * each process (v6.1+), which walks only that process's files. A VMM is known from a full pass, or from the interval's
 * records as soon as another probe saw its vCPUs, and is read every
 * interval until a read finds no vCPU of it (it ended, or its pid went to
 * another process): a VMM left out of one read and back in the next
 * would count its whole past again. So when a scoped iterator cannot be
 * made, and on kernels without them, every read is a full pass.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "haltpoll.skel.h"
#include "user/probes/halts.h"
#include "user/probes/probe.h"
#include "user/probes/tpprog.h"

#define EVENT "kvm_vcpu_stat"
#define HOW "iter/task_file"
#define FULL_PERIOD_S 10.0

/* An iterator over the files of one VMM. */
struct vmm_link {
	uint32_t pid;
	struct bpf_link *link;
};

struct haltpoll_state {
	struct haltpoll_bpf *skel;
	struct bpf_link *link;      /* every process's files */
	bool scoped;                /* the kernel has per-process iterators */
	struct vmm_link *vmms;      /* sorted by pid */
	size_t nvmms, cap_vmms;
	double last_full;
	struct kp_halts halts;
	struct kp_iter_buf buf;
};

static void vmms_free(struct haltpoll_state *hs)
{
	size_t i;

	for (i = 0; i < hs->nvmms; i++)
		bpf_link__destroy(hs->vmms[i].link);
	free(hs->vmms);
}

static void state_free(struct haltpoll_state *hs)
{
	if (!hs)
		return;
	vmms_free(hs);
	bpf_link__destroy(hs->link);
	haltpoll_bpf__destroy(hs->skel);
	kp_halts_free(&hs->halts);
	free(hs->buf.p);
	free(hs);
}

static struct bpf_link *attach(struct haltpoll_state *hs, uint32_t pid)
{
	LIBBPF_OPTS(bpf_iter_attach_opts, opts);
	union bpf_iter_link_info info = {};

	if (pid) {
		info.task.pid = pid;
		opts.link_info = &info;
		opts.link_info_len = sizeof(info);
	}
	return bpf_program__attach_iter(hs->skel->progs.dump_vcpus,
					pid ? &opts : NULL);
}

static struct vmm_link *vmm_find(struct haltpoll_state *hs, uint32_t pid,
				 size_t *at)
{
	size_t lo = 0, hi = hs->nvmms;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (hs->vmms[mid].pid == pid)
			return &hs->vmms[mid];
		if (hs->vmms[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return NULL;
}

static void vmms_drop_all(struct haltpoll_state *hs)
{
	size_t i;

	for (i = 0; i < hs->nvmms; i++)
		bpf_link__destroy(hs->vmms[i].link);
	hs->nvmms = 0;
	hs->scoped = false;
}

/*
 * Know VMM pid from now on: its own iterator. One that cannot be made
 * ends the scoped reads for good: full passes from then on, rather than
 * a VMM read now and then. 0 or -ENOMEM.
 */
static int vmm_add(struct haltpoll_state *hs, uint32_t pid)
{
	struct bpf_link *link;
	struct vmm_link *v;
	size_t at;

	if (!hs->scoped || vmm_find(hs, pid, &at))
		return 0;
	if (hs->nvmms == hs->cap_vmms) {
		size_t cap = hs->cap_vmms ? hs->cap_vmms * 2 : 16;

		v = realloc(hs->vmms, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		hs->vmms = v;
		hs->cap_vmms = cap;
	}
	link = attach(hs, pid);
	if (!link) {
		vmms_drop_all(hs);
		return 0;
	}
	memmove(&hs->vmms[at + 1], &hs->vmms[at],
		(hs->nvmms - at) * sizeof(*hs->vmms));
	hs->vmms[at] = (struct vmm_link){ .pid = pid, .link = link };
	hs->nvmms++;
	return 0;
}

/* Every VMM of a full pass (in hs->buf) is read from now on. */
static int vmms_learn(struct haltpoll_state *hs)
{
	const struct haltpoll_rec *r = (const void *)hs->buf.p;
	size_t i, n = hs->buf.len / sizeof(*r);
	int err = 0;

	for (i = 0; i < n && !err; i++)
		err = vmm_add(hs, r[i].pid);
	return err;
}

/*
 * The VMMs whose vCPUs other probes saw in this interval: read at once,
 * not only after the next full pass.
 */
static int vmms_from_interval(struct haltpoll_state *hs,
			      const struct kp_interval *iv)
{
	size_t i;
	int err = 0;

	for (i = 0; iv && i < iv->nvms && !err; i++)
		if (iv->vms[i].nvcpus)
			err = vmm_add(hs, iv->vms[i].pid);
	return err;
}

/*
 * Each known VMM's files, into hs->buf; a VMM whose read found no vCPU is
 * forgotten. 0 or -errno.
 */
static int read_vmms(struct haltpoll_state *hs)
{
	size_t i, out = 0, before;
	int err = 0;

	for (i = 0; i < hs->nvmms; i++) {
		before = hs->buf.len;
		if (!err)
			err = kp_iter_read(hs->vmms[i].link, &hs->buf);
		if (!err && hs->buf.len == before) {
			bpf_link__destroy(hs->vmms[i].link);
			continue;
		}
		hs->vmms[out++] = hs->vmms[i];
	}
	hs->nvmms = out;
	return err;
}

/* One read: each known VMM's files, or a full pass when one is due or
 * the scoped reads ended. */
static int read_all(struct haltpoll_state *hs, const struct kp_interval *iv)
{
	double now = kp_mono_s();
	int err;

	hs->buf.len = 0;
	if (hs->scoped && now - hs->last_full < FULL_PERIOD_S) {
		err = vmms_from_interval(hs, iv);
		if (err || hs->scoped)
			return err ? err : read_vmms(hs);
	}
	hs->last_full = now;
	err = kp_iter_read(hs->link, &hs->buf);
	if (!err)
		err = vmms_learn(hs);
	return err;
}

static int why(struct kp_probe_status *st, int err, const char *what)
{
	snprintf(st->reason, sizeof(st->reason), "%s: %s", what,
		 strerror(-err));
	snprintf(st->progs[0].reason, sizeof(st->progs[0].reason), "%s",
		 st->reason);
	return err;
}

static int open_load(struct haltpoll_state *hs, const struct kp_probe_env *env,
		     struct kp_probe_status *st)
{
	struct bpf_link *link;
	int err;

	if (!kp_ksupport_btf_has(env->ks, "kvm_vcpu", BTF_KIND_STRUCT))
		return why(st, -EOPNOTSUPP,
			   "kernel BTF has no struct kvm_vcpu (kvm not loaded, or without BTF)");
	hs->skel = haltpoll_bpf__open();
	if (!hs->skel)
		return why(st, -errno, "failed to open BPF object");
	hs->skel->rodata->filter_pid = env->opts->npids > 0;
	err = haltpoll_bpf__load(hs->skel);
	if (err) {
		kp_load_error(err, st);
		snprintf(st->progs[0].reason, sizeof(st->progs[0].reason),
			 "%s", st->reason);
		return err;
	}
	err = kp_set_pid_filter(bpf_map__fd(hs->skel->maps.pid_filter),
				env->opts);
	if (err)
		return why(st, err, "failed to set the pid filter");
	hs->link = attach(hs, 0);
	if (!hs->link)
		return why(st, -errno, "failed to attach the task_file iterator");
	/* per-process iterators (v6.1+): try one on ourselves */
	link = attach(hs, (uint32_t)getpid());
	hs->scoped = link != NULL;
	bpf_link__destroy(link);
	return 0;
}

static int kp_haltpoll_start(const struct kp_probe_env *env, void **state,
			     struct kp_probe_status *st)
{
	struct haltpoll_state *hs;
	int err;

	st->nprogs = 1;
	st->progs[0].name = EVENT;
	hs = calloc(1, sizeof(*hs));
	if (!hs)
		return -ENOMEM;
	kp_halts_init(&hs->halts);
	err = open_load(hs, env, st);
	if (err)
		goto err_free;
	/* the baseline of the vCPUs that exist already */
	err = read_all(hs, NULL);
	if (err) {
		err = why(st, err, "failed to read the iterator");
		goto err_free;
	}
	err = kp_halts_read(&hs->halts, hs->buf.p, hs->buf.len, NULL);
	if (err) {
		err = why(st, err, "failed to decode the iterator");
		goto err_free;
	}
	st->progs[0].how = HOW;
	st->attached = true;
	*state = hs;
	return 0;

err_free:
	state_free(hs);
	return err;
}

static int kp_haltpoll_read(void *state, struct kp_interval *iv)
{
	struct haltpoll_state *hs = state;
	int err = read_all(hs, iv);

	if (err)
		return err;
	return kp_halts_read(&hs->halts, hs->buf.p, hs->buf.len, iv);
}

static void kp_haltpoll_stop(void *state)
{
	state_free(state);
}

const struct kp_probe kp_probe_haltpoll = {
	.name = "haltpoll",
	.start = kp_haltpoll_start,
	.read = kp_haltpoll_read,
	.stop = kp_haltpoll_stop,
};
