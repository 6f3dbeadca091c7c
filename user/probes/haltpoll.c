// SPDX-License-Identifier: GPL-2.0
/*
 * The haltpoll probe: KVM's halt-polling counters of every vCPU, read once
 * per interval through a BPF task_file iterator (bpf/haltpoll.bpf.c): one
 * read() of the iterator for all vCPUs of the host, no per-event program.
 * Decoding is pure (user/probes/halts.h).
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

struct haltpoll_state {
	struct haltpoll_bpf *skel;
	struct bpf_link *link;
	struct kp_halts halts;
	char *buf;
	size_t cap;
};

static void state_free(struct haltpoll_state *hs)
{
	if (!hs)
		return;
	bpf_link__destroy(hs->link);
	haltpoll_bpf__destroy(hs->skel);
	kp_halts_free(&hs->halts);
	free(hs->buf);
	free(hs);
}

/* Everything the iterator writes in one pass, into hs->buf. */
static ssize_t iter_read(struct haltpoll_state *hs)
{
	size_t len = 0;
	ssize_t n;
	char *p;
	int fd;

	fd = bpf_iter_create(bpf_link__fd(hs->link));
	if (fd < 0)
		return -errno;
	for (;;) {
		if (hs->cap - len < 4096) {
			p = realloc(hs->buf, hs->cap ? hs->cap * 2 : 16384);
			if (!p) {
				len = -ENOMEM;
				break;
			}
			hs->buf = p;
			hs->cap = hs->cap ? hs->cap * 2 : 16384;
		}
		n = read(fd, hs->buf + len, hs->cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			len = -errno;
			break;
		}
		if (!n)
			break;
		len += n;
	}
	close(fd);
	return (ssize_t)len;
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
	int err;

	if (!kp_ksupport_btf_has(env->ks, "kvm_vcpu", BTF_KIND_STRUCT))
		return why(st, -EOPNOTSUPP,
			   "kernel BTF has no struct kvm_vcpu (kvm not loaded, or without BTF)");
	hs->skel = haltpoll_bpf__open();
	if (!hs->skel)
		return why(st, -errno, "failed to open BPF object");
	hs->skel->rodata->filter_pid = env->opts->npids > 0;
	err = haltpoll_bpf__load(hs->skel);
	if (err)
		return why(st, err, "failed to load BPF programs (run with -v for the verifier log)");
	err = kp_set_pid_filter(bpf_map__fd(hs->skel->maps.pid_filter),
				env->opts);
	if (err)
		return why(st, err, "failed to set the pid filter");
	hs->link = bpf_program__attach_iter(hs->skel->progs.dump_vcpus, NULL);
	if (!hs->link)
		return why(st, -errno, "failed to attach the task_file iterator");
	return 0;
}

static int kp_haltpoll_start(const struct kp_probe_env *env, void **state,
			     struct kp_probe_status *st)
{
	struct haltpoll_state *hs;
	ssize_t n;
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
	n = iter_read(hs);
	if (n < 0) {
		err = why(st, (int)n, "failed to read the iterator");
		goto err_free;
	}
	err = kp_halts_read(&hs->halts, hs->buf, n, NULL);
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
	ssize_t n = iter_read(hs);

	if (n < 0)
		return (int)n;
	return kp_halts_read(&hs->halts, hs->buf, n, iv);
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
