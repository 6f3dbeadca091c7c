// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "user/hist.h"
#include "user/record.h"

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

static struct kp_sample *sample_get(struct kp_sample_set *s,
				    enum kp_metric_id metric,
				    const char *label)
{
	struct kp_sample *p;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].metric == metric &&
		    !strncmp(s->v[i].label, label, KP_LABEL_MAX - 1))
			return &s->v[i];
	if (grow((void **)&s->v, &s->cap, s->n, sizeof(*s->v)))
		return NULL;
	p = &s->v[s->n];
	memset(p, 0, sizeof(*p));
	p->metric = metric;
	strncpy(p->label, label, KP_LABEL_MAX - 1);
	if (kp_metric(metric)->type == KP_HISTOGRAM) {
		p->hist = calloc(1, sizeof(*p->hist));
		if (!p->hist)
			return NULL;
	}
	s->n++;
	return p;
}

static int sample_add(struct kp_sample_set *s, enum kp_metric_id metric,
		      const char *label, uint64_t value,
		      const struct kp_hist *hist)
{
	struct kp_sample *p = sample_get(s, metric, label);

	if (!p)
		return -ENOMEM;
	p->value += value;
	if (p->hist && hist)
		kp_hist_merge(p->hist, hist);
	return 0;
}

static void samples_free(struct kp_sample_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i].hist);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static struct kp_vm_rec *vm_get(struct kp_interval *iv, uint32_t pid)
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

static struct kp_vcpu_rec *vcpu_get(struct kp_vm_rec *vm, uint32_t tid)
{
	struct kp_vcpu_rec *vc;
	size_t i;

	for (i = vm->nvcpus; i > 0; i--)
		if (vm->vcpus[i - 1].tid == tid)
			return &vm->vcpus[i - 1];
	if (grow((void **)&vm->vcpus, &vm->cap, vm->nvcpus,
		 sizeof(*vm->vcpus)))
		return NULL;
	vc = &vm->vcpus[vm->nvcpus++];
	memset(vc, 0, sizeof(*vc));
	vc->tid = tid;
	vc->index = -1;
	return vc;
}

int kp_interval_add(struct kp_interval *iv, uint32_t pid, uint32_t tid,
		    int vcpu, enum kp_metric_id metric, const char *label,
		    uint64_t value, const struct kp_hist *hist)
{
	struct kp_vcpu_rec *vc;
	struct kp_vm_rec *vm;

	if (!kp_metric(metric))
		return -EINVAL;
	vm = vm_get(iv, pid);
	if (!vm)
		return -ENOMEM;
	vc = vcpu_get(vm, tid);
	if (!vc)
		return -ENOMEM;
	if (vcpu >= 0)
		vc->index = vcpu;
	return sample_add(&vc->s, metric, label, value, hist);
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

	if (x->metric != y->metric)
		return x->metric < y->metric ? -1 : 1;
	return strcmp(x->label, y->label);
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

void kp_vm_sort_vcpus(struct kp_vm_rec *vm)
{
	qsort(vm->vcpus, vm->nvcpus, sizeof(*vm->vcpus), cmp_vcpu);
}

int kp_interval_finish(struct kp_interval *iv)
{
	struct kp_vcpu_rec *vc;
	struct kp_sample *p;
	size_t i, j, k;
	int err;

	for (i = 0; i < iv->nvms; i++) {
		struct kp_vm_rec *vm = &iv->vms[i];

		for (j = 0; j < vm->nvcpus; j++) {
			vc = &vm->vcpus[j];
			for (k = 0; k < vc->s.n; k++) {
				p = &vc->s.v[k];
				err = sample_add(&vm->s, p->metric, p->label,
						 p->value, p->hist);
				if (err)
					return err;
			}
			qsort(vc->s.v, vc->s.n, sizeof(*vc->s.v), cmp_sample);
		}
		qsort(vm->s.v, vm->s.n, sizeof(*vm->s.v), cmp_sample);
		kp_vm_sort_vcpus(vm);
	}
	return 0;
}

void kp_interval_clear(struct kp_interval *iv)
{
	size_t i, j;

	for (i = 0; i < iv->nvms; i++) {
		struct kp_vm_rec *vm = &iv->vms[i];

		for (j = 0; j < vm->nvcpus; j++)
			samples_free(&vm->vcpus[j].s);
		free(vm->vcpus);
		samples_free(&vm->s);
		free(vm->name);
		free(vm->uuid);
	}
	free(iv->vms);
	memset(iv, 0, sizeof(*iv));
}

const struct kp_sample *kp_sample_find(const struct kp_sample_set *s,
				       enum kp_metric_id metric,
				       const char *label)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].metric == metric &&
		    !strncmp(s->v[i].label, label, KP_LABEL_MAX - 1))
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
