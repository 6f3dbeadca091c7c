// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "user/identity/idtable.h"

struct kp_idtable {
	int refs;
	struct kp_ident *v;
	size_t n, cap;
};

struct kp_idtable *kp_idtable_new(void)
{
	struct kp_idtable *t = calloc(1, sizeof(*t));

	if (t)
		t->refs = 1;
	return t;
}

struct kp_idtable *kp_idtable_get(struct kp_idtable *t)
{
	if (t)
		__atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
	return t;
}

static void ident_clear(struct kp_ident *id)
{
	size_t i;

	for (i = 0; i < id->ndisks; i++) {
		free(id->disks[i].target);
		free(id->disks[i].source);
	}
	free(id->disks);
	free(id->nics);
	free(id->threads);
	free(id->name);
	free(id->uuid);
}

void kp_idtable_put(struct kp_idtable *t)
{
	size_t i;

	if (!t || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL))
		return;
	for (i = 0; i < t->n; i++)
		ident_clear(&t->v[i]);
	free(t->v);
	free(t);
}

struct kp_ident *kp_idtable_add(struct kp_idtable *t, uint32_t pid,
				uint64_t start_time)
{
	struct kp_ident *id;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;

		id = realloc(t->v, cap * sizeof(*id));
		if (!id)
			return NULL;
		t->v = id;
		t->cap = cap;
	}
	id = &t->v[t->n++];
	memset(id, 0, sizeof(*id));
	id->pid = pid;
	id->start_time = start_time;
	id->dom_id = -1;
	return id;
}

/* by pid; the live entry first, then the latest started */
static int cmp_ident(const void *a, const void *b)
{
	const struct kp_ident *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->gone != y->gone)
		return x->gone ? 1 : -1;
	if (x->start_time != y->start_time)
		return x->start_time > y->start_time ? -1 : 1;
	return 0;
}

void kp_idtable_seal(struct kp_idtable *t)
{
	/* qsort(NULL, 0) is undefined (its pointer is nonnull) */
	if (t->n > 1)
		qsort(t->v, t->n, sizeof(*t->v), cmp_ident);
}

size_t kp_idtable_count(const struct kp_idtable *t)
{
	return t ? t->n : 0;
}

const struct kp_ident *kp_idtable_at(const struct kp_idtable *t, size_t i)
{
	return t && i < t->n ? &t->v[i] : NULL;
}

const struct kp_ident *kp_idtable_find(const struct kp_idtable *t,
				       uint32_t pid, uint64_t start_time)
{
	size_t lo = 0, hi, i;

	if (!t)
		return NULL;
	hi = t->n;
	while (lo < hi) { /* the first entry of pid */
		size_t mid = lo + (hi - lo) / 2;

		if (t->v[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < t->n && t->v[i].pid == pid; i++)
		if (start_time == KP_START_ANY ||
		    t->v[i].start_time == start_time)
			return &t->v[i];
	return NULL;
}

static bool nic_is(const struct kp_ident_nic *n, uint32_t netns,
		   unsigned int ifindex)
{
	return n->ifindex == ifindex &&
	       (!netns || !n->netns || n->netns == netns);
}

const struct kp_ident *kp_idtable_find_ifindex(const struct kp_idtable *t,
					       uint32_t netns,
					       unsigned int ifindex)
{
	size_t i, j;

	for (i = 0; t && ifindex && i < t->n; i++) {
		if (t->v[i].gone)
			continue;
		for (j = 0; j < t->v[i].nnics; j++)
			if (nic_is(&t->v[i].nics[j], netns, ifindex))
				return &t->v[i];
	}
	return NULL;
}

const struct kp_ident *kp_idtable_find_devno(const struct kp_idtable *t,
					     uint64_t devno,
					     const struct kp_ident_disk **disk)
{
	size_t i, j;

	for (i = 0; t && devno && i < t->n; i++) {
		if (t->v[i].gone)
			continue;
		for (j = 0; j < t->v[i].ndisks; j++) {
			if (t->v[i].disks[j].devno != devno)
				continue;
			if (disk)
				*disk = &t->v[i].disks[j];
			return &t->v[i];
		}
	}
	return NULL;
}

const struct kp_ident_thread *kp_ident_thread(const struct kp_ident *id,
					      uint32_t tid)
{
	size_t i;

	for (i = 0; id && i < id->nthreads; i++)
		if (id->threads[i].tid == tid)
			return &id->threads[i];
	return NULL;
}

bool kp_ident_matches(const struct kp_ident *id, const char *filter)
{
	if (id->name && !strcmp(id->name, filter))
		return true;
	return id->uuid && !strcasecmp(id->uuid, filter);
}

static int dup_or_null(char **dst, const char *s)
{
	*dst = NULL;
	if (!s)
		return 0;
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

int kp_ident_set_names(struct kp_ident *id, const char *name,
		       const char *uuid)
{
	free(id->name);
	free(id->uuid);
	id->uuid = NULL;
	if (dup_or_null(&id->name, name) || dup_or_null(&id->uuid, uuid))
		return -ENOMEM;
	return 0;
}

/* Make room for one more element of size in *v (n used). */
static int grow(void **v, size_t n, size_t size)
{
	void *p;

	/* capacities are the powers of two from 4 up */
	if (n >= 4 && (n & (n - 1)))
		return 0;
	if (n && n < 4)
		return 0;
	p = realloc(*v, (n ? n * 2 : 4) * size);
	if (!p)
		return -ENOMEM;
	*v = p;
	return 0;
}

int kp_ident_add_thread(struct kp_ident *id, uint32_t tid,
			enum kp_thread_kind kind, int index)
{
	struct kp_ident_thread *th;

	if (grow((void **)&id->threads, id->nthreads, sizeof(*th)))
		return -ENOMEM;
	th = &id->threads[id->nthreads++];
	th->tid = tid;
	th->kind = kind;
	th->index = index;
	return 0;
}

int kp_ident_add_disk(struct kp_ident *id, const char *target,
		      const char *source, uint64_t devno, bool block)
{
	struct kp_ident_disk *d;

	if (grow((void **)&id->disks, id->ndisks, sizeof(*d)))
		return -ENOMEM;
	d = &id->disks[id->ndisks];
	memset(d, 0, sizeof(*d));
	if (dup_or_null(&d->target, target) ||
	    dup_or_null(&d->source, source)) {
		free(d->target);
		return -ENOMEM;
	}
	d->devno = devno;
	d->block = block;
	id->ndisks++;
	return 0;
}

int kp_ident_add_nic(struct kp_ident *id, const char *ifname, uint32_t netns,
		     unsigned int ifindex, bool in_xml, bool held)
{
	struct kp_ident_nic *n;
	size_t i;

	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE)
		return 0;
	for (i = 0; i < id->nnics; i++) {
		n = &id->nics[i];
		if (strcmp(n->ifname, ifname))
			continue;
		n->in_xml |= in_xml;
		n->held |= held;
		if (ifindex) {
			n->netns = netns;
			n->ifindex = ifindex;
		}
		return 0;
	}
	if (grow((void **)&id->nics, id->nnics, sizeof(*n)))
		return -ENOMEM;
	n = &id->nics[id->nnics++];
	memset(n, 0, sizeof(*n));
	strcpy(n->ifname, ifname);
	n->netns = netns;
	n->ifindex = ifindex;
	n->in_xml = in_xml;
	n->held = held;
	return 0;
}

struct kp_ident *kp_idtable_add_copy(struct kp_idtable *t,
				     const struct kp_ident *src)
{
	struct kp_ident *id = kp_idtable_add(t, src->pid, src->start_time);
	size_t i;
	int err;

	if (!id)
		return NULL;
	id->source = src->source;
	id->dom_id = src->dom_id;
	id->dom_state = src->dom_state;
	id->gone = src->gone;
	id->mem = src->mem;
	err = kp_ident_set_names(id, src->name, src->uuid);
	for (i = 0; !err && i < src->nthreads; i++)
		err = kp_ident_add_thread(id, src->threads[i].tid,
					  src->threads[i].kind,
					  src->threads[i].index);
	for (i = 0; !err && i < src->ndisks; i++)
		err = kp_ident_add_disk(id, src->disks[i].target,
					src->disks[i].source,
					src->disks[i].devno,
					src->disks[i].block);
	for (i = 0; !err && i < src->nnics; i++)
		err = kp_ident_add_nic(id, src->nics[i].ifname,
				       src->nics[i].netns, src->nics[i].ifindex,
				       src->nics[i].in_xml, src->nics[i].held);
	return err ? NULL : id;
}
