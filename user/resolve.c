// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "user/procfs.h"
#include "user/resolve.h"

#define CACHE_MAX 4096
#define CACHE_TTL_S 300

/*
 * Names of processes (tid 0) and threads seen alive, so the last interval
 * of a VM that just exited still carries its names. An entry whose /proc
 * file reads fine is always re-read: a reused id never shows an old name.
 */
struct comm_entry {
	uint32_t pid, tid;
	time_t seen;
	char comm[KP_COMM_MAX];
};

struct kp_resolver {
	const char *proc_root;
	struct comm_entry cache[CACHE_MAX];
	size_t n;
};

struct kp_resolver *kp_resolver_new(const char *proc_root)
{
	struct kp_resolver *r = calloc(1, sizeof(*r));

	if (r)
		r->proc_root = proc_root;
	return r;
}

void kp_resolver_free(struct kp_resolver *r)
{
	free(r);
}

static struct comm_entry *cache_find(struct kp_resolver *r, uint32_t pid,
				     uint32_t tid)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->cache[i].pid == pid && r->cache[i].tid == tid)
			return &r->cache[i];
	return NULL;
}

static struct comm_entry *cache_slot(struct kp_resolver *r, time_t now)
{
	size_t i, oldest = 0;

	if (r->n < CACHE_MAX)
		return &r->cache[r->n++];
	for (i = 0; i < r->n; i++) {
		if (now - r->cache[i].seen > CACHE_TTL_S)
			return &r->cache[i];
		if (r->cache[i].seen < r->cache[oldest].seen)
			oldest = i;
	}
	return &r->cache[oldest];
}

/* The name of pid (tid 0) or of its thread tid, from /proc or the cache. */
static const char *comm_of(struct kp_resolver *r, uint32_t pid, uint32_t tid,
			   time_t now)
{
	struct comm_entry *e = cache_find(r, pid, tid);
	char comm[KP_COMM_MAX];
	int err;

	if (tid)
		err = kp_proc_thread_comm(r->proc_root, pid, tid, comm,
					  sizeof(comm));
	else
		err = kp_proc_comm(r->proc_root, pid, comm, sizeof(comm));
	if (!err) {
		if (!e) {
			e = cache_slot(r, now);
			e->pid = pid;
			e->tid = tid;
		}
		memcpy(e->comm, comm, sizeof(e->comm));
		e->seen = now;
	}
	return e ? e->comm : NULL;
}

static void resolve_vm(struct kp_resolver *r, struct kp_vm_rec *vm, time_t now)
{
	const char *comm = comm_of(r, vm->pid, 0, now);
	bool changed = false;
	size_t i;

	if (comm)
		memcpy(vm->comm, comm, sizeof(vm->comm));
	for (i = 0; i < vm->nvcpus; i++) {
		struct kp_vcpu_rec *vc = &vm->vcpus[i];

		if (vc->index >= 0)
			continue;
		comm = comm_of(r, vm->pid, vc->tid, now);
		if (comm)
			vc->index = kp_parse_vcpu_name(comm);
		changed |= vc->index >= 0;
	}
	if (changed)
		kp_vm_sort_vcpus(vm);
}

int kp_resolver_apply(struct kp_resolver *r, struct kp_interval *iv)
{
	time_t now = time(NULL);
	size_t i;

	for (i = 0; i < iv->nvms; i++)
		resolve_vm(r, &iv->vms[i], now);
	return 0;
}
