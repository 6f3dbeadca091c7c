// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "user/core/hist.h"
#include "user/core/record.h"

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	p = realloc(*v, ncap * size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = ncap;
	return 0;
}

/*
 * FNV-1a of a label as a sample keeps it (at most KP_LABEL_MAX - 1 bytes):
 * a VM of 1,000 vCPUs looks its samples up hundreds of thousands of times
 * an interval, and most candidates differ in this number already.
 */
static uint32_t label_key(const char *s)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < KP_LABEL_MAX - 1 && s[i]; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static bool same_label(const struct kp_sample *p, uint32_t key,
		       const char *label)
{
	return p->label_key == key &&
	       !strncmp(p->label, label, KP_LABEL_MAX - 1);
}

static bool same_dev(const struct kp_sample *p, uint32_t key,
		     const char *dev)
{
	return p->dev_key == key && !strncmp(p->dev, dev, KP_LABEL_MAX - 1);
}

/*
 * The sample (metric, dev, label) of s, added when absent. Two devices of
 * one name with different numbers (taps of two network namespaces) are
 * two samples; a number 0 (unknown) is any.
 */
static struct kp_sample *sample_get_dev(struct kp_sample_set *s,
					enum kp_metric_id metric,
					const char *dev, const char *label,
					uint64_t devid)
{
	uint32_t lkey = label_key(label), dkey = label_key(dev);
	struct kp_sample *p;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].metric == metric &&
		    same_label(&s->v[i], lkey, label) &&
		    same_dev(&s->v[i], dkey, dev) &&
		    (!s->v[i].devid || !devid || s->v[i].devid == devid)) {
			if (!s->v[i].devid)
				s->v[i].devid = devid;
			return &s->v[i];
		}
	if (grow((void **)&s->v, &s->cap, s->n, sizeof(*s->v)))
		return NULL;
	p = &s->v[s->n];
	memset(p, 0, sizeof(*p));
	p->metric = metric;
	p->devid = devid;
	strncpy(p->dev, dev, KP_LABEL_MAX - 1);
	strncpy(p->label, label, KP_LABEL_MAX - 1);
	p->dev_key = dkey;
	p->label_key = lkey;
	if (kp_metric(metric)->type == KP_HISTOGRAM) {
		p->hist = calloc(1, sizeof(*p->hist));
		if (!p->hist)
			return NULL;
	}
	if (kp_metric(metric)->show == KP_SHOW_TOP) {
		p->peer = calloc(1, sizeof(*p->peer));
		if (!p->peer) {
			free(p->hist);
			return NULL;
		}
	}
	s->n++;
	return p;
}

static struct kp_sample *sample_get(struct kp_sample_set *s,
				    enum kp_metric_id metric,
				    const char *label)
{
	return sample_get_dev(s, metric, "", label, 0);
}

/* Add value, hist and peer to the sample (metric, label) of s: it, or NULL. */
static struct kp_sample *sample_merge(struct kp_sample_set *s,
				      enum kp_metric_id metric,
				      const char *label, uint64_t value,
				      const struct kp_hist *hist,
				      const struct kp_peer *peer)
{
	struct kp_sample *p = sample_get(s, metric, label);

	if (!p)
		return NULL;
	p->value += value;
	if (p->hist && hist)
		kp_hist_merge(p->hist, hist);
	if (p->peer && peer)
		*p->peer = *peer;
	return p;
}

static int sample_add(struct kp_sample_set *s, enum kp_metric_id metric,
		      const char *label, uint64_t value,
		      const struct kp_hist *hist, const struct kp_peer *peer)
{
	return sample_merge(s, metric, label, value, hist, peer) ? 0 : -ENOMEM;
}

static void samples_free(struct kp_sample_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].hist);
		free(s->v[i].peer);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

struct kp_vm_rec *kp_interval_vm(struct kp_interval *iv, uint32_t pid)
{
	struct kp_vm_rec *vm;
	size_t i;

	/* probes add in key order: the last VM is the likely hit */
	for (i = iv->nvms; i > 0; i--)
		if (iv->vms[i - 1].pid == pid)
			return &iv->vms[i - 1];
	if (grow((void **)&iv->vms, &iv->cap, iv->nvms, sizeof(*iv->vms)))
		return NULL;
	vm = &iv->vms[iv->nvms++];
	memset(vm, 0, sizeof(*vm));
	vm->pid = pid;
	return vm;
}

/* Below this many vCPUs a VM's are searched, not indexed. */
#define VIDX_MIN 16

/* The slot of tid in vm->vidx: its own, or the free one it would take. */
static size_t vidx_slot(const struct kp_vm_rec *vm, uint32_t tid)
{
	size_t mask = vm->nvidx - 1, i = (tid * 2654435761u) & mask;

	while (vm->vidx[i] && vm->vcpus[vm->vidx[i] - 1].tid != tid)
		i = (i + 1) & mask;
	return i;
}

/* (Re)build the index for room above nvcpus + 1 at half load. */
static int vidx_build(struct kp_vm_rec *vm)
{
	size_t n = 64, i;

	while (n < 2 * (vm->nvcpus + 1))
		n *= 2;
	free(vm->vidx);
	vm->vidx = calloc(n, sizeof(*vm->vidx));
	vm->nvidx = vm->vidx ? n : 0;
	if (!vm->vidx)
		return -ENOMEM;
	for (i = 0; i < vm->nvcpus; i++)
		vm->vidx[vidx_slot(vm, vm->vcpus[i].tid)] = i + 1;
	return 0;
}

static struct kp_vcpu_rec *vcpu_get(struct kp_vm_rec *vm, uint32_t tid)
{
	struct kp_vcpu_rec *vc;
	size_t i, slot = 0;

	if (vm->nvcpus < VIDX_MIN) {
		for (i = vm->nvcpus; i > 0; i--)
			if (vm->vcpus[i - 1].tid == tid)
				return &vm->vcpus[i - 1];
	} else {
		if ((!vm->vidx || vm->nvidx < 2 * (vm->nvcpus + 1)) &&
		    vidx_build(vm))
			return NULL;
		slot = vidx_slot(vm, tid);
		if (vm->vidx[slot])
			return &vm->vcpus[vm->vidx[slot] - 1];
	}
	if (grow((void **)&vm->vcpus, &vm->cap, vm->nvcpus,
		 sizeof(*vm->vcpus)))
		return NULL;
	vc = &vm->vcpus[vm->nvcpus++];
	memset(vc, 0, sizeof(*vc));
	vc->tid = tid;
	vc->index = -1;
	if (vm->vidx)
		vm->vidx[slot] = vm->nvcpus;
	return vc;
}

static struct kp_vcpu_rec *vcpu_find(struct kp_interval *iv, uint32_t pid,
				     uint32_t tid, int vcpu)
{
	struct kp_vcpu_rec *vc;
	struct kp_vm_rec *vm;

	vm = kp_interval_vm(iv, pid);
	if (!vm)
		return NULL;
	vc = vcpu_get(vm, tid);
	if (vc && vcpu >= 0)
		vc->index = vcpu;
	return vc;
}

int kp_interval_add(struct kp_interval *iv, uint32_t pid, uint32_t tid,
		    int vcpu, enum kp_metric_id metric, const char *label,
		    uint64_t value, const struct kp_hist *hist)
{
	struct kp_vcpu_rec *vc;

	if (!kp_metric(metric))
		return -EINVAL;
	vc = vcpu_find(iv, pid, tid, vcpu);
	if (!vc)
		return -ENOMEM;
	return sample_add(&vc->s, metric, label, value, hist, NULL);
}

int kp_interval_add_peer(struct kp_interval *iv, uint32_t pid, uint32_t tid,
			 int vcpu, enum kp_metric_id metric,
			 const struct kp_peer *peer, uint64_t value)
{
	struct kp_vcpu_rec *vc;
	char label[16];

	if (!kp_metric(metric) || kp_metric(metric)->show != KP_SHOW_TOP)
		return -EINVAL;
	vc = vcpu_find(iv, pid, tid, vcpu);
	if (!vc)
		return -ENOMEM;
	snprintf(label, sizeof(label), "%u", peer->tid);
	return sample_add(&vc->s, metric, label, value, NULL, peer);
}

int kp_interval_add_lost(struct kp_interval *iv, const char *probe, uint64_t n)
{
	size_t i;

	for (i = 0; i < iv->nlost; i++) {
		if (!strcmp(iv->lost[i].probe, probe)) {
			iv->lost[i].n += n;
			return 0;
		}
	}
	if (iv->nlost == KP_MAX_LOST)
		return -ENOSPC;
	iv->lost[iv->nlost].probe = probe;
	iv->lost[iv->nlost].n = n;
	iv->nlost++;
	return 0;
}

static int cmp_sample(const void *a, const void *b)
{
	const struct kp_sample *x = a, *y = b;

	int c;

	if (x->metric != y->metric)
		return x->metric < y->metric ? -1 : 1;
	c = strcmp(x->dev, y->dev);
	return c ? c : strcmp(x->label, y->label);
}

/* vCPUs with a known index first, by index; then by thread id */
static int cmp_vcpu(const void *a, const void *b)
{
	const struct kp_vcpu_rec *x = a, *y = b;

	if ((x->index < 0) != (y->index < 0))
		return x->index < 0 ? 1 : -1;
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

void kp_samples_sort(struct kp_sample_set *s)
{
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), cmp_sample);
}

void kp_vm_sort_vcpus(struct kp_vm_rec *vm)
{
	/* qsort(NULL, 0) is undefined (its pointer is nonnull) */
	if (vm->nvcpus > 1)
		qsort(vm->vcpus, vm->nvcpus, sizeof(*vm->vcpus), cmp_vcpu);
	/* the index holds positions the sort moved: built again on use */
	free(vm->vidx);
	vm->vidx = NULL;
	vm->nvidx = 0;
}

double kp_pct(uint64_t ns, double interval_s)
{
	if (interval_s <= 0)
		return 0;
	return (double)ns / (interval_s * 1e7);
}

/*
 * The time of sample p of set s in ns: its value (counters), the ready
 * part of a KP_SHOW_DELAY metric's total (kp_ready_ns: without the time
 * the set's CPU limit accounts for), or the sum of a KP_SHOW_LABELS
 * histogram (exit handling time, ...).
 */
static uint64_t sample_ns(const struct kp_sample_set *s,
			  const struct kp_sample *p)
{
	const struct kp_metric_desc *d = kp_metric(p->metric);

	if (d->show == KP_SHOW_DELAY)
		return kp_ready_ns(s, p->value);
	if (d->type == KP_HISTOGRAM && d->show == KP_SHOW_LABELS && p->hist)
		return p->hist->sum;
	return p->value;
}

static void derive_pct(struct kp_sample_set *s, double secs)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		s->v[i].pct = kp_metric(s->v[i].metric)->unit == KP_UNIT_NS ?
			      kp_pct(sample_ns(s, &s->v[i]), secs) : 0;
}

/*
 * Sum vCPU vc's samples into its VM's set, after their percentages: a VM's
 * KP_SHOW_DELAY and KP_SHOW_PCT samples keep the largest of its vCPUs'
 * (the worst vCPU's %RDY, %LMT) on the way, without a search per vCPU.
 */
static int sum_vcpu(struct kp_vm_rec *vm, struct kp_vcpu_rec *vc,
		    double secs)
{
	const struct kp_sample *p;
	struct kp_sample *q;
	enum kp_show show;
	size_t k;

	derive_pct(&vc->s, secs);
	for (k = 0; k < vc->s.n; k++) {
		p = &vc->s.v[k];
		q = sample_merge(&vm->s, p->metric, p->label, p->value,
				 p->hist, p->peer);
		if (!q)
			return -ENOMEM;
		show = kp_metric(p->metric)->show;
		if ((show == KP_SHOW_DELAY || show == KP_SHOW_PCT) &&
		    p->pct > q->worst_pct)
			q->worst_pct = p->pct;
	}
	if (vc->s.n > 1)
		qsort(vc->s.v, vc->s.n, sizeof(*vc->s.v), cmp_sample);
	return 0;
}

int kp_interval_finish(struct kp_interval *iv)
{
	size_t i, j;
	int err;

	for (i = 0; i < iv->nvms; i++) {
		struct kp_vm_rec *vm = &iv->vms[i];

		for (j = 0; j < vm->nvcpus; j++) {
			err = sum_vcpu(vm, &vm->vcpus[j], iv->interval_s);
			if (err)
				return err;
		}
		if (vm->s.n > 1)
			qsort(vm->s.v, vm->s.n, sizeof(*vm->s.v), cmp_sample);
		kp_vm_sort_vcpus(vm);
		derive_pct(&vm->s, iv->interval_s);
	}
	if (iv->host.n > 1)
		qsort(iv->host.v, iv->host.n, sizeof(*iv->host.v),
		      cmp_sample);
	derive_pct(&iv->host, iv->interval_s);
	return 0;
}

int kp_vm_set_gauge(struct kp_vm_rec *vm, enum kp_metric_id metric,
		    uint64_t value)
{
	struct kp_sample *p;

	if (!kp_metric(metric) || kp_metric(metric)->type != KP_GAUGE)
		return -EINVAL;
	p = sample_get(&vm->gauges, metric, "");
	if (!p)
		return -ENOMEM;
	p->value = value;
	return 0;
}

static void vm_free(struct kp_vm_rec *vm)
{
	size_t j;

	for (j = 0; j < vm->nvcpus; j++)
		samples_free(&vm->vcpus[j].s);
	free(vm->vcpus);
	free(vm->vidx);
	samples_free(&vm->s);
	samples_free(&vm->gauges);
	free(vm->name);
	free(vm->uuid);
}

void kp_interval_drop_vm(struct kp_interval *iv, size_t i)
{
	if (i >= iv->nvms)
		return;
	vm_free(&iv->vms[i]);
	memmove(&iv->vms[i], &iv->vms[i + 1],
		(iv->nvms - i - 1) * sizeof(*iv->vms));
	iv->nvms--;
}

void kp_interval_clear(struct kp_interval *iv)
{
	size_t i;

	for (i = 0; i < iv->nvms; i++)
		vm_free(&iv->vms[i]);
	free(iv->vms);
	samples_free(&iv->host);
	memset(iv, 0, sizeof(*iv));
}

int kp_samples_add_dev(struct kp_sample_set *s, enum kp_metric_id metric,
		       const char *dev, uint64_t devid, const char *label,
		       uint64_t value, const struct kp_hist *hist)
{
	struct kp_sample *p;

	if (!kp_metric_is_dev(metric))
		return -EINVAL;
	p = sample_get_dev(s, metric, dev, label, devid);
	if (!p)
		return -ENOMEM;
	p->value += value;
	if (p->hist && hist)
		kp_hist_merge(p->hist, hist);
	return 0;
}

int kp_interval_add_dev_id(struct kp_interval *iv, uint32_t pid,
			   enum kp_metric_id metric, const char *dev,
			   uint64_t devid, const char *label, uint64_t value,
			   const struct kp_hist *hist)
{
	struct kp_vm_rec *vm;

	if (!kp_metric_is_dev(metric))
		return -EINVAL;
	if (pid == KP_PID_HOST)
		return kp_samples_add_dev(&iv->host, metric, dev, devid, label,
					  value, hist);
	vm = kp_interval_vm(iv, pid);
	if (!vm)
		return -ENOMEM;
	return kp_samples_add_dev(&vm->s, metric, dev, devid, label, value,
				  hist);
}

int kp_interval_add_dev(struct kp_interval *iv, uint32_t pid,
			enum kp_metric_id metric, const char *dev,
			const char *label, uint64_t value,
			const struct kp_hist *hist)
{
	return kp_interval_add_dev_id(iv, pid, metric, dev, 0, label, value,
				      hist);
}

static bool is_dev(const struct kp_sample *p)
{
	return kp_metric_is_dev(p->metric);
}

int kp_interval_place_host(struct kp_interval *iv, kp_place_fn place,
			   void *arg)
{
	struct kp_sample_set *h = &iv->host;
	struct kp_vm_rec *vm;
	struct kp_sample *p;
	size_t i, j = 0;
	uint32_t pid;
	int err = 0;

	for (i = 0; i < h->n; i++) {
		p = &h->v[i];
		pid = err || !is_dev(p) ? KP_PID_HOST : place(p, arg);
		if (pid != KP_PID_HOST) {
			vm = kp_interval_vm(iv, pid);
			err = vm ? kp_samples_add_dev(&vm->s, p->metric, p->dev,
						      p->devid, p->label,
						      p->value, p->hist) :
				   -ENOMEM;
			if (!err) {
				free(p->hist);
				free(p->peer);
				continue;
			}
		}
		if (i != j)
			h->v[j] = *p;
		j++;
	}
	h->n = j;
	/* samples merged or added after kp_interval_finish: derive again */
	for (i = 0; i < iv->nvms; i++) {
		kp_samples_sort(&iv->vms[i].s);
		derive_pct(&iv->vms[i].s, iv->interval_s);
	}
	return err;
}

int kp_interval_fold_vm(struct kp_interval *iv, size_t i)
{
	struct kp_sample_set *s;
	struct kp_sample *p;
	size_t k;
	int err = 0;

	if (i >= iv->nvms)
		return 0;
	s = &iv->vms[i].s;
	for (k = 0; k < s->n && !err; k++) {
		p = &s->v[k];
		if (is_dev(p) && p->metric != KP_M_DISK_TARGET)
			err = kp_samples_add_dev(&iv->host, p->metric, p->dev,
						 p->devid, p->label, p->value,
						 p->hist);
	}
	kp_interval_drop_vm(iv, i);
	kp_samples_sort(&iv->host);
	derive_pct(&iv->host, iv->interval_s);
	return err;
}

const struct kp_sample *kp_sample_find_dev(const struct kp_sample_set *s,
					   enum kp_metric_id metric,
					   const char *dev, const char *label)
{
	uint32_t lkey = label_key(label), dkey = label_key(dev);
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].metric == metric &&
		    same_label(&s->v[i], lkey, label) &&
		    same_dev(&s->v[i], dkey, dev))
			return &s->v[i];
	return NULL;
}

const struct kp_sample *kp_sample_find(const struct kp_sample_set *s,
				       enum kp_metric_id metric,
				       const char *label)
{
	uint32_t lkey = label_key(label);
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].metric == metric &&
		    same_label(&s->v[i], lkey, label))
			return &s->v[i];
	return NULL;
}

size_t kp_sample_first(const struct kp_sample_set *s, enum kp_metric_id m)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].metric == m)
			return i;
	return s->n;
}

uint64_t kp_sample_sum(const struct kp_sample_set *s, enum kp_metric_id m)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].metric == m)
			n += s->v[i].hist ? s->v[i].hist->count : s->v[i].value;
	return n;
}

uint64_t kp_ready_ns(const struct kp_sample_set *s, uint64_t total)
{
	const struct kp_sample *l = kp_sample_find(s, KP_M_LIMITED, "");

	if (!l)
		return total;
	return l->value < total ? total - l->value : 0;
}

static bool gauge_of(const struct kp_vm_rec *vm, enum kp_metric_id m,
		     uint64_t *v)
{
	const struct kp_sample *p = kp_sample_find(&vm->gauges, m, "");

	if (p)
		*v = p->value;
	return p;
}

int kp_vm_derive_memory(struct kp_vm_rec *vm)
{
	uint64_t avail, free_kib, max, cur;
	int err = 0;

	if (gauge_of(vm, KP_M_MEM_AVAILABLE, &avail) &&
	    (gauge_of(vm, KP_M_MEM_USABLE, &free_kib) ||
	     gauge_of(vm, KP_M_MEM_UNUSED, &free_kib)))
		err = kp_vm_set_gauge(vm, KP_M_MEM_GUEST_USED,
				      avail > free_kib ? avail - free_kib : 0);
	if (!err && gauge_of(vm, KP_M_MEM_BALLOON_MAX, &max) &&
	    gauge_of(vm, KP_M_MEM_BALLOON_CURRENT, &cur))
		err = kp_vm_set_gauge(vm, KP_M_MEM_BALLOONED,
				      max > cur ? max - cur : 0);
	return err;
}
