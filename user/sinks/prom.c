// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "user/core/hist.h"
#include "user/core/metrics.h"
#include "user/sinks/prom.h"

/*
 * Histogram buckets: every second slot bound from 2^10 ns (~1 us) to
 * 2^34 ns (~17 s). Each is an exact slot upper bound (bpf/hist.h), so the
 * cumulative counts are exact; +Inf is the count.
 */
#define LE_FIRST 10
#define LE_LAST 34
#define LE_STEP 2

struct vm_id {
	uint32_t pid;
	char *name, *uuid;
	bool seen;
};

struct series {
	enum kp_metric_id metric;
	uint32_t pid;
	int vcpu;              /* -1: VM-level */
	uint32_t tid;          /* vcpu == -1 and a vCPU series: unknown index */
	char dev[KP_LABEL_MAX]; /* disk and iface scopes: the device */
	char label[KP_LABEL_MAX];
	double value;          /* counters (base units) and gauges; a
				* histogram with prom_total: the total */
	struct kp_hist *hist;  /* histograms */
};

struct kp_prom {
	kp_prom_alive_fn alive;
	void *arg;
	struct series *s;
	size_t n, cap;
	size_t *idx;           /* open addressing: slot -> series index + 1 */
	size_t nidx;
	struct vm_id *vms;
	size_t nvms, vcap;
	uint64_t lost[KP_MAX_LOST];
	const char *lost_probe[KP_MAX_LOST];
	size_t nlost;
	uint64_t dropped, intervals;
	double cpu_busy_s;     /* host CPU busy since boot; < 0: unknown */
	double sched_events_s; /* the sched per-event tier attached; < 0:
				* the probe never ran */
	bool unsorted;         /* series were added since the last render */
};

struct kp_prom *kp_prom_new(kp_prom_alive_fn alive, void *arg)
{
	struct kp_prom *p = calloc(1, sizeof(*p));

	if (p) {
		p->alive = alive;
		p->arg = arg;
		p->cpu_busy_s = -1;
		p->sched_events_s = -1;
	}
	return p;
}

static void vm_id_free(struct vm_id *v)
{
	free(v->name);
	free(v->uuid);
}

void kp_prom_free(struct kp_prom *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++)
		free(p->s[i].hist);
	for (i = 0; i < p->nvms; i++)
		vm_id_free(&p->vms[i]);
	free(p->s);
	free(p->idx);
	free(p->vms);
	free(p);
}

size_t kp_prom_series(const struct kp_prom *p)
{
	return p->n;
}

void kp_prom_set_dropped(struct kp_prom *p, uint64_t records_dropped)
{
	p->dropped = records_dropped;
}

static size_t key_hash(enum kp_metric_id m, uint32_t pid, int vcpu,
		       uint32_t tid, const char *dev, const char *label)
{
	uint64_t h = 1469598103934665603ULL;
	const unsigned char *c = (const unsigned char *)dev;

	h = (h ^ m) * 1099511628211ULL;
	h = (h ^ pid) * 1099511628211ULL;
	h = (h ^ (uint32_t)vcpu) * 1099511628211ULL;
	h = (h ^ tid) * 1099511628211ULL;
	while (*c)
		h = (h ^ *c++) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (c = (const unsigned char *)label; *c; c++)
		h = (h ^ *c) * 1099511628211ULL;
	return (size_t)h;
}

static int reindex(struct kp_prom *p)
{
	size_t want = 256, i, slot;
	size_t *idx;

	while (want <= 2 * p->n)
		want *= 2;
	idx = calloc(want, sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	for (i = 0; i < p->n; i++) {
		const struct series *s = &p->s[i];

		slot = key_hash(s->metric, s->pid, s->vcpu, s->tid, s->dev,
				s->label) &
		       (want - 1);
		while (idx[slot])
			slot = (slot + 1) & (want - 1);
		idx[slot] = i + 1;
	}
	free(p->idx);
	p->idx = idx;
	p->nidx = want;
	return 0;
}

static struct series *series_get(struct kp_prom *p, enum kp_metric_id m,
				 uint32_t pid, int vcpu, uint32_t tid,
				 const char *dev, const char *label)
{
	struct series *s;
	size_t slot;

	if (p->nidx) {
		slot = key_hash(m, pid, vcpu, tid, dev, label) &
		       (p->nidx - 1);
		for (; p->idx[slot]; slot = (slot + 1) & (p->nidx - 1)) {
			s = &p->s[p->idx[slot] - 1];
			if (s->metric == m && s->pid == pid &&
			    s->vcpu == vcpu && s->tid == tid &&
			    !strcmp(s->dev, dev) && !strcmp(s->label, label))
				return s;
		}
	}
	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 64;

		s = realloc(p->s, ncap * sizeof(*s));
		if (!s)
			return NULL;
		p->s = s;
		p->cap = ncap;
	}
	s = &p->s[p->n];
	memset(s, 0, sizeof(*s));
	s->metric = m;
	s->pid = pid;
	s->vcpu = vcpu;
	s->tid = tid;
	snprintf(s->dev, sizeof(s->dev), "%s", dev);
	snprintf(s->label, sizeof(s->label), "%s", label);
	if (kp_metric(m)->type == KP_HISTOGRAM) {
		s->hist = calloc(1, sizeof(*s->hist));
		if (!s->hist)
			return NULL;
	}
	p->n++;
	p->unsorted = true;
	if (p->nidx <= 2 * p->n)
		return reindex(p) ? NULL : s;
	slot = key_hash(m, pid, vcpu, tid, dev, label) & (p->nidx - 1);
	while (p->idx[slot])
		slot = (slot + 1) & (p->nidx - 1);
	p->idx[slot] = p->n;
	return s;
}

/* A sample's value in the metric's Prometheus base unit. */
static double base_value(const struct kp_metric_desc *d, uint64_t v)
{
	switch (d->unit) {
	case KP_UNIT_NS:
		return v / 1e9;
	case KP_UNIT_KIB:
		return v * 1024.0;
	default:
		return v;
	}
}

/* Device samples (kp_interval_add_dev) are in the VM's set. */
static bool at_scope(const struct kp_metric_desc *d, enum kp_scope scope)
{
	if (kp_scope(d->scope)->device)
		return scope == KP_SCOPE_VM;
	return d->scope == scope;
}

static int add_set(struct kp_prom *p, uint32_t pid, int vcpu, uint32_t tid,
		   const struct kp_sample_set *set, enum kp_scope scope)
{
	const struct kp_metric_desc *d;
	struct series *s;
	size_t i;

	for (i = 0; i < set->n; i++) {
		const struct kp_sample *x = &set->v[i];

		d = kp_metric(x->metric);
		/* each metric at its own scope only; per-peer samples
		 * (noisy neighbours) would be unbounded series */
		if (!at_scope(d, scope) || d->show == KP_SHOW_TOP)
			continue;
		s = series_get(p, x->metric, pid, vcpu, tid, x->dev,
			       x->label);
		if (!s)
			return -ENOMEM;
		if (d->type == KP_HISTOGRAM) {
			kp_hist_merge(s->hist, x->hist);
			s->value += base_value(d, x->value);
		} else if (d->type == KP_GAUGE)
			s->value = base_value(d, x->value);
		else
			s->value += base_value(d, x->value);
	}
	return 0;
}

static struct vm_id *vm_id_get(struct kp_prom *p, uint32_t pid)
{
	struct vm_id *v;
	size_t i;

	for (i = 0; i < p->nvms; i++)
		if (p->vms[i].pid == pid)
			return &p->vms[i];
	if (p->nvms == p->vcap) {
		size_t ncap = p->vcap ? p->vcap * 2 : 16;

		v = realloc(p->vms, ncap * sizeof(*v));
		if (!v)
			return NULL;
		p->vms = v;
		p->vcap = ncap;
	}
	v = &p->vms[p->nvms++];
	memset(v, 0, sizeof(*v));
	v->pid = pid;
	return v;
}

static void set_str(char **dst, const char *src)
{
	if (!src || (*dst && !strcmp(*dst, src)))
		return;
	free(*dst);
	*dst = strdup(src);
}

/* Drop every series of VMs not seen this interval whose process is gone. */
static int expire(struct kp_prom *p)
{
	size_t i, j, k;
	bool removed = false;

	for (i = 0; i < p->nvms;) {
		struct vm_id *v = &p->vms[i];

		if (v->seen || !p->alive || p->alive(v->pid, p->arg)) {
			v->seen = false;
			i++;
			continue;
		}
		for (j = 0, k = 0; j < p->n; j++) {
			if (p->s[j].pid == v->pid) {
				free(p->s[j].hist);
				continue;
			}
			p->s[k++] = p->s[j];
		}
		p->n = k;
		removed = true;
		vm_id_free(v);
		p->vms[i] = p->vms[--p->nvms];
	}
	return removed ? reindex(p) : 0;
}

static int add_lost(struct kp_prom *p, const struct kp_interval *iv)
{
	size_t i, j;

	for (i = 0; i < iv->nlost; i++) {
		for (j = 0; j < p->nlost; j++)
			if (!strcmp(p->lost_probe[j], iv->lost[i].probe))
				break;
		if (j == p->nlost) {
			if (p->nlost == KP_MAX_LOST)
				continue;
			p->lost_probe[p->nlost++] = iv->lost[i].probe;
		}
		p->lost[j] += iv->lost[i].n;
	}
	return 0;
}

int kp_prom_update(struct kp_prom *p, const struct kp_interval *iv)
{
	size_t i, j;
	int err;

	for (i = 0; i < iv->nvms; i++) {
		const struct kp_vm_rec *vm = &iv->vms[i];
		struct vm_id *v = vm_id_get(p, vm->pid);

		if (!v)
			return -ENOMEM;
		v->seen = true;
		set_str(&v->name, vm->name);
		set_str(&v->uuid, vm->uuid);
		err = add_set(p, vm->pid, -1, 0, &vm->s, KP_SCOPE_VM);
		if (!err)
			err = add_set(p, vm->pid, -1, 0, &vm->gauges,
				      KP_SCOPE_VM);
		for (j = 0; !err && j < vm->nvcpus; j++) {
			const struct kp_vcpu_rec *vc = &vm->vcpus[j];

			err = add_set(p, vm->pid, vc->index,
				      vc->index < 0 ? vc->tid : 0, &vc->s,
				      KP_SCOPE_VCPU);
		}
		if (err)
			return err;
	}
	p->intervals++;
	p->cpu_busy_s = iv->cpu.ncpus ? iv->cpu.busy_s : -1;
	if (iv->sched_events.window_ns)
		p->sched_events_s = (p->sched_events_s > 0 ?
				     p->sched_events_s : 0) +
				    iv->sched_events.on_ns / 1e9;
	add_lost(p, iv);
	return expire(p);
}

void kp_prom_escape(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	for (; *in && o + 2 < outlen; in++) {
		if (*in == '\\' || *in == '"' || *in == '\n') {
			out[o++] = '\\';
			out[o++] = *in == '\n' ? 'n' : *in;
		} else {
			out[o++] = *in;
		}
	}
	out[o] = '\0';
}

struct buf {
	char *p;
	size_t len, cap;
	int err;
};

static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *np;
	int n;

	for (;;) {
		if (b->err)
			return;
		va_start(ap, fmt);
		/* NULL + 0 is undefined: the first call measures */
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->cap - b->len,
			      fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < b->cap - b->len) {
			b->len += n;
			return;
		}
		np = realloc(b->p, b->cap * 2 + (n > 0 ? n : 0) + 4096);
		if (!np) {
			b->err = -ENOMEM;
			return;
		}
		b->p = np;
		b->cap = b->cap * 2 + (n > 0 ? n : 0) + 4096;
	}
}

/*
 * The labels of series s, without braces: pid="1",domain="x",... The
 * names of the entity labels (pid, vcpu, disk, iface), of the VM's
 * libvirt identity (domain, uuid) and the metric's own label come from the
 * registry.
 */
static void labels(struct kp_prom *p, const struct series *s, char *out,
		   size_t len)
{
	const struct kp_metric_desc *d = kp_metric(s->metric);
	const struct kp_scope_desc *sc = kp_scope(d->scope);
	const struct kp_scope_desc *vm = kp_scope(KP_SCOPE_VM);
	char esc[1024];
	struct vm_id *v = vm_id_get(p, s->pid);
	size_t n;

	n = snprintf(out, len, "%s=\"%u\"", vm->label, s->pid);
	if (v && v->name && n < len) {
		kp_prom_escape(v->name, esc, sizeof(esc));
		n += snprintf(out + n, len - n, ",%s=\"%s\"", vm->name_label,
			      esc);
	}
	if (v && v->uuid && n < len) {
		kp_prom_escape(v->uuid, esc, sizeof(esc));
		n += snprintf(out + n, len - n, ",%s=\"%s\"", vm->uuid_label,
			      esc);
	}
	if (sc->device && n < len) {
		kp_prom_escape(s->dev, esc, sizeof(esc));
		n += snprintf(out + n, len - n, ",%s=\"%s\"", sc->label, esc);
	}
	if (d->scope == KP_SCOPE_VCPU && n < len) {
		if (s->vcpu >= 0)
			n += snprintf(out + n, len - n, ",%s=\"%d\"",
				      sc->label, s->vcpu);
		else
			n += snprintf(out + n, len - n, ",%s=\"tid%u\"",
				      sc->label, s->tid);
	}
	if (d->label && n < len) {
		kp_prom_escape(s->label, esc, sizeof(esc));
		snprintf(out + n, len - n, ",%s=\"%s\"", d->label, esc);
	}
}

static void header(struct buf *b, const char *name, const char *type,
		   const char *help)
{
	put(b, "# HELP %s ", name);
	for (; *help; help++) /* HELP escapes backslash and newline */
		put(b, *help == '\\' ? "\\\\" : *help == '\n' ? "\\n" : "%c",
		    *help);
	put(b, "\n# TYPE %s %s\n", name, type);
}

static void render_hist(struct buf *b, const char *name, const char *lab,
			const struct kp_hist *h)
{
	uint64_t cum = 0, total = 0;
	unsigned int i;

	for (i = 0; i < KP_HIST_SLOTS; i++)
		total += h->slots[i];
	for (i = 0; i <= LE_LAST; i++) {
		cum += h->slots[i];
		if (i >= LE_FIRST && (i - LE_FIRST) % LE_STEP == 0)
			put(b, "%s_bucket{%s,le=\"%.15g\"} %llu\n", name, lab,
			    (double)kp_hist_le(i) / 1e9,
			    (unsigned long long)cum);
	}
	put(b, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, lab,
	    (unsigned long long)total);
	put(b, "%s_sum{%s} %.17g\n", name, lab, h->sum / 1e9);
	put(b, "%s_count{%s} %llu\n", name, lab, (unsigned long long)total);
}

/*
 * The counter of the totals of histogram series s[first..end) of one
 * metric, when it has one (prom_total: the histogram is of another tier).
 */
static void render_totals(struct kp_prom *p, struct buf *b, size_t first,
			  size_t end)
{
	const struct kp_metric_desc *d = kp_metric(p->s[first].metric);
	char lab[4096];
	size_t i;

	if (!d->prom_total)
		return;
	header(b, d->prom_total, "counter", d->help);
	for (i = first; i < end; i++) {
		labels(p, &p->s[i], lab, sizeof(lab));
		put(b, "%s{%s} %.17g\n", d->prom_total, lab, p->s[i].value);
	}
}

static int cmp_series(const void *a, const void *b)
{
	const struct series *x = a, *y = b;
	int c;

	if (x->metric != y->metric)
		return x->metric < y->metric ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->vcpu != y->vcpu)
		return x->vcpu < y->vcpu ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	c = strcmp(x->dev, y->dev);
	return c ? c : strcmp(x->label, y->label);
}

/* kvmprobe's own series (kp_host_metric), in registry order */
static void render_host(struct kp_prom *p, struct buf *b)
{
	const struct kp_metric_desc *d;
	int id;
	size_t i;

	for (id = 0; id < KP_HM__COUNT; id++) {
		d = kp_host_metric(id);
		header(b, d->prom, kp_mtype_name(d->type), d->help);
		switch (id) {
		case KP_HM_LOST_EVENTS:
			for (i = 0; i < p->nlost; i++)
				put(b, "%s{%s=\"%s\"} %llu\n", d->prom,
				    d->label, p->lost_probe[i],
				    (unsigned long long)p->lost[i]);
			break;
		case KP_HM_RECORDS_DROPPED:
			put(b, "%s %llu\n", d->prom,
			    (unsigned long long)p->dropped);
			break;
		case KP_HM_INTERVALS:
			put(b, "%s %llu\n", d->prom,
			    (unsigned long long)p->intervals);
			break;
		case KP_HM_CPU_BUSY:
			if (p->cpu_busy_s >= 0)
				put(b, "%s %.17g\n", d->prom, p->cpu_busy_s);
			break;
		case KP_HM_SCHED_EVENTS:
			if (p->sched_events_s >= 0)
				put(b, "%s %.17g\n", d->prom,
				    p->sched_events_s);
			break;
		}
	}
}

int kp_prom_render(struct kp_prom *p, char **out, size_t *len)
{
	struct buf b = { 0 };
	int err;
	int last = -1;
	char lab[4096];
	size_t i, first = 0;

	/*
	 * Rendered once per interval, for publishing: sorted only when series
	 * were added (removing keeps the order); sorting moves series, so
	 * the index is rebuilt after.
	 */
	if (p->unsorted && p->n)
		qsort(p->s, p->n, sizeof(*p->s), cmp_series);
	for (i = 0; i < p->n; i++) {
		const struct series *s = &p->s[i];
		const struct kp_metric_desc *d = kp_metric(s->metric);

		if ((int)s->metric != last) {
			if (last >= 0)
				render_totals(p, &b, first, i);
			header(&b, d->prom, kp_mtype_name(d->type), d->help);
			last = s->metric;
			first = i;
		}
		labels(p, s, lab, sizeof(lab));
		if (d->type == KP_HISTOGRAM)
			render_hist(&b, d->prom, lab, s->hist);
		else
			put(&b, "%s{%s} %.17g\n", d->prom, lab, s->value);
	}
	if (last >= 0)
		render_totals(p, &b, first, p->n);
	render_host(p, &b);
	if (p->unsorted) {
		err = reindex(p); /* whatever happened: the sort moved series */
		if (!b.err)
			b.err = err;
		p->unsorted = err != 0;
	}
	if (b.err) {
		free(b.p);
		return b.err;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}
