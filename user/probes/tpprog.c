// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include "user/probes/tpprog.h"

static struct bpf_program *prog(struct bpf_object *obj, const char *name)
{
	return bpf_object__find_program_by_name(obj, name);
}

void kp_tp_choose(struct bpf_object *obj, const struct kp_tp_event *ev,
		  size_t n, struct kp_ksupport *ks, enum kp_attach mode,
		  struct kp_probe_status *st)
{
	struct kp_prog_status *ps;
	char target[96];
	bool btf;
	size_t i;

	st->nprogs = n < KP_PROBE_MAX_PROGS ? n : KP_PROBE_MAX_PROGS;
	for (i = 0; i < st->nprogs; i++) {
		ps = &st->progs[i];
		memset(ps, 0, sizeof(*ps));
		ps->name = ev[i].name;
		snprintf(target, sizeof(target), "btf_trace_%s", ev[i].name);
		btf = mode != KP_ATTACH_CLASSIC &&
		      kp_ksupport_btf_has(ks, target, BTF_KIND_TYPEDEF);
		bpf_program__set_autoload(prog(obj, ev[i].btf_prog), btf);
		bpf_program__set_autoload(prog(obj, ev[i].raw_prog),
					  !btf && mode != KP_ATTACH_BTF);
		if (btf)
			ps->how = "tp_btf";
		else if (mode != KP_ATTACH_BTF)
			ps->how = "raw_tp";
		else if (!kp_ksupport_has_vmlinux_btf(ks))
			snprintf(ps->reason, sizeof(ps->reason),
				 "kernel has no BTF (/sys/kernel/btf/vmlinux)");
		else
			snprintf(ps->reason, sizeof(ps->reason),
				 "%s not in kernel BTF (tracepoint missing in this kernel?)",
				 target);
	}
}

void kp_attach_error(int err, const char *category, const char *event,
		     const char *prog, char *why, size_t len)
{
	int tfs;

	if (err == -EPERM) {
		snprintf(why, len,
			 "permission denied (run as root, or with CAP_BPF and CAP_PERFMON)");
		return;
	}
	if (category) { /* a classic tracepoint: tracefs tells what is wrong */
		tfs = kp_ksupport_tracefs_event(category, event);
		if (tfs == -ENODEV) {
			snprintf(why, len,
				 "tracefs not mounted (mount -t tracefs nodev /sys/kernel/tracing)");
			return;
		}
		if (tfs == -ENOENT) {
			snprintf(why, len,
				 "tracepoint %s:%s not found (is the %s module loaded?)",
				 category, event, category);
			return;
		}
	} else if (err == -ENOENT) {
		snprintf(why, len, "tracepoint %s not found in this kernel",
			 event);
		return;
	}
	snprintf(why, len, "failed to attach %s: %s", prog, strerror(-err));
}

size_t kp_tp_attach(struct bpf_object *obj, const struct kp_tp_event *ev,
		    size_t n, struct bpf_link **links,
		    struct kp_probe_status *st)
{
	struct kp_prog_status *ps;
	size_t i, attached = 0;
	int err;

	for (i = 0; i < n && i < st->nprogs; i++) {
		ps = &st->progs[i];
		if (!ps->how)
			continue;
		links[i] = bpf_program__attach(prog(obj, strcmp(ps->how,
				"tp_btf") ? ev[i].raw_prog : ev[i].btf_prog));
		if (links[i]) {
			attached++;
			continue;
		}
		err = -errno;
		kp_attach_error(err, NULL, ev[i].name, ps->how, ps->reason,
				sizeof(ps->reason));
		ps->how = NULL;
	}
	return attached;
}

void kp_tp_load_error(int err, struct kp_probe_status *st)
{
	if (err == -EPERM)
		snprintf(st->reason, sizeof(st->reason),
			 "failed to load BPF programs: permission denied (run as root, or with CAP_BPF, CAP_PERFMON)");
	else if (err == -EACCES)
		snprintf(st->reason, sizeof(st->reason),
			 "failed to load BPF programs: rejected by the kernel's verifier (run with -v for its log)");
	else
		snprintf(st->reason, sizeof(st->reason),
			 "failed to load BPF programs: %s (run with -v for the verifier log)",
			 strerror(-err));
}

void kp_no_program_reason(struct kp_probe_status *st)
{
	size_t i;

	for (i = 0; i < st->nprogs; i++) {
		if (st->progs[i].how || !st->progs[i].reason[0])
			continue;
		/* the first reason names the common cause (no tracefs, ...) */
		snprintf(st->reason, sizeof(st->reason),
			 "no program attached: %s: %.100s", st->progs[i].name,
			 st->progs[i].reason);
		return;
	}
	snprintf(st->reason, sizeof(st->reason), "no program attached");
}

int kp_set_pid_filter(int fd, const struct kp_opts *o)
{
	__u8 one = 1;
	size_t i;

	for (i = 0; i < o->npids; i++)
		if (bpf_map_update_elem(fd, &o->pids[i], &one, BPF_ANY))
			return -errno;
	return 0;
}

bool kp_tp_attached(const struct kp_probe_status *st, const char *name)
{
	size_t i;

	for (i = 0; i < st->nprogs; i++)
		if (!strcmp(st->progs[i].name, name))
			return st->progs[i].how != NULL;
	return false;
}

int kp_map_read(int fd, struct kp_snap *s, uint32_t max)
{
	unsigned char batch[64], next[64], prevk[64];
	size_t want = s->n + s->n / 2 + 256; /* last size + headroom */
	void *in = NULL;
	bool have_prev = false;
	__u32 count;
	int err;

	if (s->key_size > sizeof(batch))
		return -EINVAL;
	/*
	 * Buffers follow what the map holds, not its maximum: a map of 16k
	 * entries with 100 in use costs 100 entries of memory here.
	 */
	err = kp_snap_reserve(s, want < max ? want : max);
	if (err)
		return err;
	s->n = 0;
	for (;;) {
		if (s->n == s->cap) {
			if (s->cap >= max)
				return 0;
			err = kp_snap_reserve(s, s->cap * 2 < max ? s->cap * 2 :
					      max);
			if (err)
				return err;
		}
		count = s->cap - s->n;
		err = bpf_map_lookup_batch(fd, in, batch, kp_snap_key(s, s->n),
					   kp_snap_val(s, s->n), &count, NULL);
		if (err && errno == ENOSPC && s->cap < max) {
			/* a hash bucket larger than the room left */
			err = kp_snap_reserve(s, s->cap * 2 < max ?
					      s->cap * 2 : max);
			if (err)
				return err;
			continue;
		}
		if (err && errno != ENOENT) {
			if (errno == EINVAL && !in && !s->n)
				break; /* no batch ops: iterate below */
			return -errno;
		}
		s->n += count;
		if (err)
			return 0;
		in = batch;
	}
	err = kp_snap_reserve(s, max);
	if (err)
		return err;
	/* kernels without BPF_MAP_LOOKUP_BATCH on hash maps */
	while (s->n < max &&
	       !bpf_map_get_next_key(fd, have_prev ? prevk : NULL, next)) {
		memcpy(kp_snap_key(s, s->n), next, s->key_size);
		if (!bpf_map_lookup_elem(fd, next, kp_snap_val(s, s->n)))
			s->n++;
		memcpy(prevk, next, s->key_size);
		have_prev = true;
	}
	return 0;
}
