// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "user/core/alert.h"
#include "user/core/hist.h"

/* an entity not in this many intervals in a row is forgotten */
#define GONE_INTERVALS 3

struct instance {
	size_t rule;
	uint32_t pid;
	int vcpu;                  /* -1: the VM, or an unknown index */
	uint32_t tid;              /* the thread when the index is unknown */
	enum kp_alert_state state;
	double pending_since, firing_since;
	bool seen;                 /* in the interval being evaluated */
	unsigned int missing;
	bool has_gauge;
	uint64_t last_gauge;       /* KP_STAT_DELTA */
	char *name, *uuid;         /* identity at the last sighting */
	char comm[KP_COMM_MAX];
};

struct kp_alerts {
	struct kp_alert_rule *rules;
	size_t nrules;
	struct instance *inst;
	size_t n, cap;
	/* open-addressing index of inst by (rule, pid, vcpu): 1000s of vCPUs
	 * times the rules must not cost a linear scan per lookup */
	size_t *idx;    /* slot -> inst index + 1, 0 empty */
	size_t nidx;    /* power of two, > 2 * cap */
};

static size_t inst_hash(size_t rule, uint32_t pid, int vcpu, uint32_t tid)
{
	uint64_t h = (uint64_t)rule * 0x9e3779b97f4a7c15ULL;

	h ^= ((uint64_t)pid << 20) ^ (uint32_t)vcpu ^ ((uint64_t)tid << 40);
	h *= 0xff51afd7ed558ccdULL;
	return (size_t)(h ^ (h >> 29));
}

/* Index every instance again in the table as it is (sized > 2 * n). */
static void fill_index(struct kp_alerts *a)
{
	size_t i, slot;

	memset(a->idx, 0, a->nidx * sizeof(*a->idx));
	for (i = 0; i < a->n; i++) {
		slot = inst_hash(a->inst[i].rule, a->inst[i].pid,
				 a->inst[i].vcpu, a->inst[i].tid) &
		       (a->nidx - 1);
		while (a->idx[slot])
			slot = (slot + 1) & (a->nidx - 1);
		a->idx[slot] = i + 1;
	}
}

static int reindex(struct kp_alerts *a)
{
	size_t want = 64;

	while (want <= 2 * a->n)
		want *= 2;
	if (want != a->nidx) {
		size_t *idx = calloc(want, sizeof(*idx));

		if (!idx)
			return -ENOMEM;
		free(a->idx);
		a->idx = idx;
		a->nidx = want;
	}
	fill_index(a);
	return 0;
}

static const char *const sev_names[] = { "info", "warning", "critical" };
static const char *const stat_names[] = { "rate", "pct", "p50_us", "p99_us",
					   "mean_us", "value", "delta",
					   "ratio", "avg_pct" };

const char *kp_severity_name(enum kp_severity s)
{
	return (unsigned int)s < 3 ? sev_names[s] : "?";
}

const char *kp_stat_name(enum kp_stat s)
{
	return (unsigned int)s < sizeof(stat_names) / sizeof(stat_names[0]) ?
		       stat_names[s] : "?";
}

struct kp_alerts *kp_alerts_new(const struct kp_alert_rule *rules,
				size_t nrules)
{
	struct kp_alerts *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	if (nrules) {
		a->rules = malloc(nrules * sizeof(*rules));
		if (!a->rules) {
			free(a);
			return NULL;
		}
		memcpy(a->rules, rules, nrules * sizeof(*rules));
	}
	a->nrules = nrules;
	return a;
}

static void inst_free(struct instance *in)
{
	free(in->name);
	free(in->uuid);
}

void kp_alerts_free(struct kp_alerts *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->n; i++)
		inst_free(&a->inst[i]);
	free(a->inst);
	free(a->idx);
	free(a->rules);
	free(a);
}

size_t kp_alerts_tracked(const struct kp_alerts *a)
{
	return a->n;
}

enum kp_alert_state kp_alert_step(const struct kp_alert_rule *r,
				  enum kp_alert_state s, double *pending_since,
				  double value, double now, bool *fired,
				  bool *resolved)
{
	bool cond = r->above ? value > r->threshold : value < r->threshold;
	bool clear = r->above ? value <= r->clear : value >= r->clear;

	*fired = *resolved = false;
	switch (s) {
	case KP_ALERT_OK:
		if (!cond)
			return KP_ALERT_OK;
		*pending_since = now;
		/* a zero "for" fires at once */
		__attribute__((fallthrough));
	case KP_ALERT_PENDING:
		if (!cond)
			return KP_ALERT_OK;
		if (now - *pending_since < r->for_s)
			return KP_ALERT_PENDING;
		*fired = true;
		return KP_ALERT_FIRING;
	case KP_ALERT_FIRING:
		if (!clear)
			return KP_ALERT_FIRING;
		*resolved = true;
		return KP_ALERT_OK;
	}
	return s;
}

/* Stats for which "no sample this interval" means zero, not no data. */
static bool zero_when_absent(enum kp_stat s)
{
	return s == KP_STAT_RATE || s == KP_STAT_PCT || s == KP_STAT_RATIO ||
	       s == KP_STAT_AVG_PCT;
}

static void sum_metric(const struct kp_sample_set *s, enum kp_metric_id m,
		       const char *label, uint64_t *value, struct kp_hist *h,
		       bool *found)
{
	size_t i;

	for (i = kp_sample_first(s, m); i < s->n && s->v[i].metric == m;
	     i++) {
		const struct kp_sample *p = &s->v[i];

		if (*label && strcmp(p->label, label))
			continue;
		*found = true;
		*value += p->value;
		if (p->hist)
			kp_hist_merge(h, p->hist);
	}
}

static double rate_of(const struct kp_sample_set *s, enum kp_metric_id m,
		      const char *label, double secs)
{
	struct kp_hist h = { 0 };
	bool found = false;
	uint64_t v = 0;

	sum_metric(s, m, label, &v, &h, &found);
	if (kp_metric(m)->type == KP_HISTOGRAM)
		v = h.count; /* samples, also of KP_SHOW_DELAY metrics */
	return v / secs;
}

static double pct_of(const struct kp_sample_set *s, enum kp_metric_id m,
		     const char *label)
{
	double pct = 0;
	size_t i;

	for (i = kp_sample_first(s, m); i < s->n && s->v[i].metric == m; i++)
		if (!*label || !strcmp(s->v[i].label, label))
			pct += s->v[i].pct;
	return pct;
}

bool kp_alert_value(const struct kp_alert_rule *r,
		    const struct kp_sample_set *s, double interval_s,
		    double *value)
{
	double secs = interval_s > 0 ? interval_s : 1, den;
	struct kp_hist h = { 0 };
	bool found = false;
	uint64_t v = 0;

	sum_metric(s, r->metric, r->label, &v, &h, &found);
	switch (r->stat) {
	case KP_STAT_RATE:
		*value = rate_of(s, r->metric, r->label, secs);
		return true;
	case KP_STAT_PCT:
	case KP_STAT_AVG_PCT: /* eval_entity() divides by the vCPUs */
		/* the samples' shares of the interval, as kp_interval_finish
		 * derived them (a time histogram's share is its sum, a run
		 * delay's its ready part, as the records' ready_pct) */
		*value = pct_of(s, r->metric, r->label);
		return true;
	case KP_STAT_RATIO:
		den = rate_of(s, r->of, "", secs);
		*value = den > 0 ? rate_of(s, r->metric, r->label, secs) /
					   den * 100.0 : 0;
		return true;
	case KP_STAT_P50_US:
	case KP_STAT_P99_US:
	case KP_STAT_MEAN_US:
		if (!h.count)
			return false;
		if (r->stat == KP_STAT_MEAN_US)
			*value = (double)h.sum / h.count / 1e3;
		else
			*value = kp_hist_percentile(&h, r->stat ==
						    KP_STAT_P50_US ? 50 : 99) /
				 1e3;
		return true;
	case KP_STAT_VALUE:
	case KP_STAT_DELTA:
		*value = v;
		return found;
	case KP_STAT__COUNT:
		break;
	}
	return false;
}

static bool domain_wanted(const struct kp_alert_rule *r,
			  const struct kp_vm_rec *vm)
{
	size_t i;

	if (!r->ndomains)
		return true;
	for (i = 0; i < r->ndomains; i++)
		if ((vm->name && !strcmp(vm->name, r->domains[i])) ||
		    (vm->uuid && !strcasecmp(vm->uuid, r->domains[i])))
			return true;
	return false;
}

static struct instance *inst_get(struct kp_alerts *a, size_t rule,
				 uint32_t pid, int vcpu, uint32_t tid)
{
	struct instance *in;
	size_t slot;

	if (a->nidx) {
		slot = inst_hash(rule, pid, vcpu, tid) & (a->nidx - 1);
		for (; a->idx[slot]; slot = (slot + 1) & (a->nidx - 1)) {
			in = &a->inst[a->idx[slot] - 1];
			if (in->rule == rule && in->pid == pid &&
			    in->vcpu == vcpu && in->tid == tid)
				return in;
		}
	}
	if (a->n == a->cap) {
		size_t ncap = a->cap ? a->cap * 2 : 16;

		in = realloc(a->inst, ncap * sizeof(*in));
		if (!in)
			return NULL;
		a->inst = in;
		a->cap = ncap;
	}
	in = &a->inst[a->n++];
	memset(in, 0, sizeof(*in));
	in->rule = rule;
	in->pid = pid;
	in->vcpu = vcpu;
	in->tid = tid;
	if (a->nidx <= 2 * a->n)
		return reindex(a) ? NULL : in; /* grows; indexes the new one */
	slot = inst_hash(rule, pid, vcpu, tid) & (a->nidx - 1);
	while (a->idx[slot])
		slot = (slot + 1) & (a->nidx - 1);
	a->idx[slot] = a->n;
	return in;
}

static void remember_identity(struct instance *in, const struct kp_vm_rec *vm)
{
	if (vm->name && (!in->name || strcmp(in->name, vm->name))) {
		free(in->name);
		in->name = strdup(vm->name);
	}
	if (vm->uuid && (!in->uuid || strcmp(in->uuid, vm->uuid))) {
		free(in->uuid);
		in->uuid = strdup(vm->uuid);
	}
	memcpy(in->comm, vm->comm, sizeof(in->comm));
}

static int emit(struct kp_alerts *a, struct instance *in, bool firing,
		bool has_value, double value, kp_alert_cb cb, void *arg)
{
	struct kp_alert_event ev = {
		.rule = &a->rules[in->rule],
		.firing = firing,
		.pid = in->pid,
		.name = in->name,
		.uuid = in->uuid,
		.comm = in->comm[0] ? in->comm : NULL,
		.vcpu = in->vcpu,
		.has_value = has_value,
		.value = value,
		.since = firing ? in->pending_since : in->firing_since,
	};

	return cb ? cb(&ev, arg) : 0;
}

/* Feed one value (or "no data") to an instance; emit what it fires. */
static int step(struct kp_alerts *a, struct instance *in, bool has,
		double value, double now, kp_alert_cb cb, void *arg)
{
	const struct kp_alert_rule *r = &a->rules[in->rule];
	bool fired, resolved;

	if (!has)
		return 0; /* no data: hold the state */
	in->state = kp_alert_step(r, in->state, &in->pending_since, value,
				  now, &fired, &resolved);
	if (fired)
		in->firing_since = now;
	if (fired || resolved)
		return emit(a, in, fired, true, value, cb, arg);
	return 0;
}

static int eval_entity(struct kp_alerts *a, size_t rule,
		       const struct kp_vm_rec *vm, int vcpu, uint32_t tid,
		       const struct kp_sample_set *s, double secs, double now,
		       kp_alert_cb cb, void *arg)
{
	const struct kp_alert_rule *r = &a->rules[rule];
	struct instance *in;
	double value = 0;
	bool has;

	has = kp_alert_value(r, s, secs, &value);
	if (r->stat == KP_STAT_AVG_PCT && vcpu < 0 && !tid)
		value = vm->nvcpus ? value / vm->nvcpus : 0;
	in = inst_get(a, rule, vm->pid, vcpu, tid);
	if (!in)
		return -ENOMEM;
	in->seen = true;
	in->missing = 0;
	remember_identity(in, vm);
	if (r->stat == KP_STAT_DELTA && has) {
		uint64_t g = (uint64_t)value;

		value = in->has_gauge ? (double)g - (double)in->last_gauge : 0;
		has = in->has_gauge;
		in->has_gauge = true;
		in->last_gauge = g;
	}
	return step(a, in, has, value, now, cb, arg);
}

static int eval_vm(struct kp_alerts *a, size_t rule,
		   const struct kp_vm_rec *vm, double secs, double now,
		   kp_alert_cb cb, void *arg)
{
	const struct kp_alert_rule *r = &a->rules[rule];
	const struct kp_sample_set *s;
	size_t j;
	int err;

	if (!domain_wanted(r, vm))
		return 0;
	if (r->scope != KP_SCOPE_VCPU) {
		s = kp_metric(r->metric)->type == KP_GAUGE ? &vm->gauges :
							      &vm->s;
		return eval_entity(a, rule, vm, -1, 0, s, secs, now, cb, arg);
	}
	for (j = 0; j < vm->nvcpus; j++) {
		/* an unknown index: the thread is the vCPU */
		err = eval_entity(a, rule, vm, vm->vcpus[j].index,
				  vm->vcpus[j].index < 0 ? vm->vcpus[j].tid : 0,
				  &vm->vcpus[j].s, secs, now, cb, arg);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Instances not seen in this interval: for rates a silent entity is at
 * zero; an entity gone for GONE_INTERVALS is forgotten, with a resolved
 * event (no value) if it was firing.
 */
static int age_unseen(struct kp_alerts *a, double now, kp_alert_cb cb,
		      void *arg)
{
	size_t i = 0, removed = 0;
	int err;

	while (i < a->n) {
		struct instance *in = &a->inst[i];
		const struct kp_alert_rule *r = &a->rules[in->rule];

		if (in->seen) {
			in->seen = false;
			i++;
			continue;
		}
		if (zero_when_absent(r->stat)) {
			err = step(a, in, true, 0, now, cb, arg);
			if (err)
				return err;
		}
		if (++in->missing < GONE_INTERVALS) {
			i++;
			continue;
		}
		if (in->state == KP_ALERT_FIRING) {
			err = emit(a, in, false, false, 0, cb, arg);
			if (err)
				return err;
		}
		inst_free(in);
		a->inst[i] = a->inst[--a->n];
		removed++;
	}
	return removed ? reindex(a) : 0;
}

bool kp_alert_rule_same(const struct kp_alert_rule *a,
			const struct kp_alert_rule *b)
{
	size_t i;

	if (strcmp(a->name, b->name) || a->metric != b->metric ||
	    a->stat != b->stat || strcmp(a->label, b->label) ||
	    a->scope != b->scope || a->above != b->above ||
	    a->threshold != b->threshold || a->clear != b->clear ||
	    a->for_s != b->for_s || a->severity != b->severity ||
	    a->ndomains != b->ndomains)
		return false;
	if (a->stat == KP_STAT_RATIO && a->of != b->of)
		return false;
	for (i = 0; i < a->ndomains; i++)
		if (strcmp(a->domains[i], b->domains[i]))
			return false;
	return true;
}

/* The index of the rule in rules that old is unchanged as, or SIZE_MAX. */
static size_t same_rule(const struct kp_alert_rule *old,
			const struct kp_alert_rule *rules, size_t n)
{
	size_t j;

	for (j = 0; j < n; j++)
		if (!strcmp(rules[j].name, old->name))
			return kp_alert_rule_same(old, &rules[j]) ? j :
								    SIZE_MAX;
	return SIZE_MAX;
}

int kp_alerts_replace(struct kp_alerts *a, const struct kp_alert_rule *rules,
		      size_t nrules, kp_alert_cb cb, void *arg)
{
	struct kp_alert_rule *nr = NULL;
	size_t *map, i = 0;
	int ret = 0, err;

	map = calloc(a->nrules ? a->nrules : 1, sizeof(*map));
	if (nrules)
		nr = malloc(nrules * sizeof(*nr));
	if (!map || (nrules && !nr)) {
		free(map);
		free(nr);
		return -ENOMEM;
	}
	if (nrules)
		memcpy(nr, rules, nrules * sizeof(*nr));
	for (i = 0; i < a->nrules; i++)
		map[i] = same_rule(&a->rules[i], nr, nrules);
	/* the old rules are still in place for the events' rule pointers */
	for (i = 0; i < a->n;) {
		struct instance *in = &a->inst[i];

		if (map[in->rule] != SIZE_MAX) {
			in->rule = map[in->rule];
			i++;
			continue;
		}
		if (in->state == KP_ALERT_FIRING) {
			err = emit(a, in, false, false, 0, cb, arg);
			if (err && !ret)
				ret = err;
		}
		inst_free(in);
		a->inst[i] = a->inst[--a->n];
	}
	free(map);
	free(a->rules);
	a->rules = nr;
	a->nrules = nrules;
	/* rule indexes changed; the table (if any) is big enough: n shrank */
	if (a->nidx)
		fill_index(a);
	return ret;
}

int kp_alerts_eval(struct kp_alerts *a, const struct kp_interval *iv,
		   double now, kp_alert_cb cb, void *arg)
{
	size_t rule, i;
	int err;

	for (rule = 0; rule < a->nrules; rule++) {
		for (i = 0; i < iv->nvms; i++) {
			err = eval_vm(a, rule, &iv->vms[i], iv->interval_s,
				      now, cb, arg);
			if (err)
				return err;
		}
	}
	return age_unseen(a, now, cb, arg);
}
