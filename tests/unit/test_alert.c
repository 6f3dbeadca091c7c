// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for user/core/alert.c: the pending -> firing -> resolved state
 * machine, the values rules derive from an interval's samples, and the
 * evaluation of rules over a sequence of intervals with a fake clock.
 * Metrics are looked up by JSON key: the registry grows concurrently.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "user/core/alert.h"
#include "user/core/hist.h"
#include "user/core/metrics.h"
#include "user/core/record.h"

#define UUID_WEB "8a5c9a2e-0000-4000-8000-000000000001"
#define UUID_DB "8a5c9a2e-0000-4000-8000-000000000002"

#define assert_near(a, b)                                                  \
	do {                                                               \
		double a_ = (a), b_ = (b);                                 \
		if (fabs(a_ - b_) > 1e-9 * (fabs(b_) > 1 ? fabs(b_) : 1))  \
			fail_msg("%s is %.17g, not %.17g", #a, a_, b_);    \
	} while (0)

static enum kp_metric_id metric(const char *json)
{
	int id = kp_metric_by_json(json);

	if (id < 0)
		fail_msg("no metric '%s' in the registry", json);
	return (enum kp_metric_id)id;
}

static struct kp_alert_rule rule(const char *name, const char *json,
				 enum kp_stat stat, enum kp_scope scope,
				 bool above, double threshold, double clear,
				 double for_s)
{
	struct kp_alert_rule r;

	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "%s", name);
	r.metric = metric(json);
	r.stat = stat;
	r.of = (enum kp_metric_id)-1;
	r.scope = scope;
	r.above = above;
	r.threshold = threshold;
	r.clear = clear;
	r.for_s = for_s;
	r.severity = KP_SEV_WARNING;
	return r;
}

/* ---- the interval being built ---- */

static struct kp_interval iv;

static void add(uint32_t pid, uint32_t tid, int vcpu, const char *json,
		const char *label, uint64_t value)
{
	assert_int_equal(kp_interval_add(&iv, pid, tid, vcpu, metric(json),
					 label, value, NULL),
			 0);
}

static void add_hist(uint32_t pid, uint32_t tid, int vcpu, const char *json,
		     const char *label, uint64_t value,
		     const struct kp_hist *h)
{
	assert_int_equal(kp_interval_add(&iv, pid, tid, vcpu, metric(json),
					 label, value, h),
			 0);
}

/* n values of v ns added to h */
static void hist_fill(struct kp_hist *h, uint64_t v, unsigned int n)
{
	while (n--)
		kp_hist_add(h, v);
}

static struct kp_vm_rec *vm_of(uint32_t pid)
{
	size_t i;

	for (i = 0; i < iv.nvms; i++)
		if (iv.vms[i].pid == pid)
			return &iv.vms[i];
	fail_msg("no VM %u in the interval", pid);
	return NULL;
}

/* A VM with no samples yet (only gauges, or nothing this interval). */
static struct kp_vm_rec *vm_empty(uint32_t pid)
{
	struct kp_vm_rec *vm;

	if (iv.nvms == iv.cap) {
		size_t cap = iv.cap ? iv.cap * 2 : 8;

		iv.vms = realloc(iv.vms, cap * sizeof(*iv.vms));
		assert_non_null(iv.vms);
		iv.cap = cap;
	}
	vm = &iv.vms[iv.nvms++];
	memset(vm, 0, sizeof(*vm));
	vm->pid = pid;
	return vm;
}

/* Finish the interval; then what the resolver would fill in. */
static void finish(double secs)
{
	iv.interval_s = secs;
	assert_int_equal(kp_interval_finish(&iv), 0);
}

static void identity(uint32_t pid, const char *name, const char *uuid,
		     const char *comm)
{
	struct kp_vm_rec *vm = vm_of(pid);

	vm->name = name ? strdup(name) : NULL;
	vm->uuid = uuid ? strdup(uuid) : NULL;
	snprintf(vm->comm, sizeof(vm->comm), "%s", comm ? comm : "");
}

static void gauge(uint32_t pid, const char *json, uint64_t v)
{
	assert_int_equal(kp_vm_set_gauge(vm_of(pid), metric(json), v), 0);
}

/* ---- events ---- */

struct ev {
	char rule[KP_RULE_NAME_MAX];
	bool firing;
	uint32_t pid;
	int vcpu;
	char name[64], uuid[64], comm[KP_COMM_MAX];
	bool has_name, has_uuid, has_comm;
	bool has_value;
	double value, since;
};

#define MAX_EVENTS 8192
static struct ev evs[MAX_EVENTS];
static size_t nev;
static int cb_result;        /* what the callback returns */
static size_t cb_calls;

static int record(const struct kp_alert_event *e, void *arg)
{
	struct ev *v;

	(void)arg;
	cb_calls++;
	if (nev == MAX_EVENTS)
		fail_msg("more than %d events", MAX_EVENTS);
	v = &evs[nev++];
	memset(v, 0, sizeof(*v));
	snprintf(v->rule, sizeof(v->rule), "%s", e->rule->name);
	v->firing = e->firing;
	v->pid = e->pid;
	v->vcpu = e->vcpu;
	v->has_name = e->name != NULL;
	v->has_uuid = e->uuid != NULL;
	v->has_comm = e->comm != NULL;
	if (e->name)
		snprintf(v->name, sizeof(v->name), "%s", e->name);
	if (e->uuid)
		snprintf(v->uuid, sizeof(v->uuid), "%s", e->uuid);
	if (e->comm)
		snprintf(v->comm, sizeof(v->comm), "%s", e->comm);
	v->has_value = e->has_value;
	v->value = e->value;
	v->since = e->since;
	return cb_result;
}

static struct kp_alerts *alerts;

/* Evaluate the interval built so far at now, then start a new one. */
static int eval_at(double now)
{
	int ret = kp_alerts_eval(alerts, &iv, now, record, NULL);

	kp_interval_clear(&iv);
	return ret;
}

/* Evaluate, expecting success and n new events; returns the first. */
static struct ev *eval_expect(double now, size_t n)
{
	size_t before = nev;

	assert_int_equal(eval_at(now), 0);
	if (nev - before != n)
		fail_msg("at t=%g: %zu events, not %zu", now, nev - before,
			 n);
	return n ? &evs[before] : NULL;
}

static int setup(void **state)
{
	memset(&iv, 0, sizeof(iv));
	nev = 0;
	cb_result = 0;
	cb_calls = 0;
	alerts = NULL;
	return 0;
}

static int teardown(void **state)
{
	kp_interval_clear(&iv);
	kp_alerts_free(alerts);
	alerts = NULL;
	return 0;
}

/* ---- kp_alert_step ---- */

struct stepper {
	struct kp_alert_rule r;
	enum kp_alert_state s;
	double since;
	unsigned int fired, resolved;
};

static enum kp_alert_state step(struct stepper *st, double value, double now)
{
	bool fired = true, resolved = true;

	st->s = kp_alert_step(&st->r, st->s, &st->since, value, now, &fired,
			      &resolved);
	assert_false(fired && resolved);
	st->fired += fired;
	st->resolved += resolved;
	return st->s;
}

static void alert_step__above_threshold__pends_and_fires_only_after_for(void **state)
{
	struct stepper st = {
		.r = rule("r", "exits", KP_STAT_RATE, KP_SCOPE_VM, true, 10,
			  10, 60),
	};

	assert_int_equal(step(&st, 5, 0), KP_ALERT_OK);
	assert_int_equal(step(&st, 11, 100), KP_ALERT_PENDING);
	assert_near(st.since, 100);
	assert_int_equal(step(&st, 50, 130), KP_ALERT_PENDING);
	assert_int_equal(step(&st, 11, 159.9), KP_ALERT_PENDING);
	assert_int_equal(st.fired, 0);
	assert_int_equal(step(&st, 11, 160), KP_ALERT_FIRING);
	assert_int_equal(st.fired, 1);
	assert_near(st.since, 100); /* when the condition started */
	assert_int_equal(step(&st, 1000, 170), KP_ALERT_FIRING);
	assert_int_equal(st.fired, 1);
	assert_int_equal(st.resolved, 0);
}

static void alert_step__value_at_threshold__is_not_past_it(void **state)
{
	struct stepper above = {
		.r = rule("r", "exits", KP_STAT_RATE, KP_SCOPE_VM, true, 10,
			  10, 0),
	};
	struct stepper below = {
		.r = rule("r", "exits", KP_STAT_RATE, KP_SCOPE_VM, false, 10,
			  10, 0),
	};

	assert_int_equal(step(&above, 10, 1), KP_ALERT_OK);
	assert_int_equal(step(&below, 10, 1), KP_ALERT_OK);
	assert_int_equal(above.fired + below.fired, 0);
}

static void alert_step__condition_drops_while_pending__returns_to_ok_silently(void **state)
{
	struct stepper st = {
		.r = rule("r", "exits", KP_STAT_RATE, KP_SCOPE_VM, true, 10,
			  10, 60),
	};

	assert_int_equal(step(&st, 20, 0), KP_ALERT_PENDING);
	assert_int_equal(step(&st, 20, 50), KP_ALERT_PENDING);
	assert_int_equal(step(&st, 9, 55), KP_ALERT_OK);
	assert_int_equal(st.fired + st.resolved, 0);
	/* a new episode waits the whole "for" again */
	assert_int_equal(step(&st, 20, 70), KP_ALERT_PENDING);
	assert_near(st.since, 70);
	assert_int_equal(step(&st, 20, 120), KP_ALERT_PENDING);
	assert_int_equal(step(&st, 20, 130), KP_ALERT_FIRING);
	assert_int_equal(st.fired, 1);
}

static void alert_step__for_zero__fires_at_once(void **state)
{
	struct stepper st = {
		.r = rule("r", "exits", KP_STAT_RATE, KP_SCOPE_VM, true, 10,
			  10, 0),
	};

	assert_int_equal(step(&st, 11, 42), KP_ALERT_FIRING);
	assert_int_equal(st.fired, 1);
	assert_near(st.since, 42);
}

static void alert_step__above_rule_between_clear_and_threshold__stays_firing(void **state)
{
	struct stepper st = {
		.r = rule("r", "exits", KP_STAT_RATE, KP_SCOPE_VM, true, 10, 8,
			  0),
	};

	assert_int_equal(step(&st, 12, 1), KP_ALERT_FIRING);
	assert_int_equal(step(&st, 10, 2), KP_ALERT_FIRING);
	assert_int_equal(step(&st, 8.5, 3), KP_ALERT_FIRING);
	assert_int_equal(st.resolved, 0);
	assert_int_equal(step(&st, 8, 4), KP_ALERT_OK); /* at clear */
	assert_int_equal(st.resolved, 1);
	/* back between clear and threshold: not past the threshold */
	assert_int_equal(step(&st, 9, 5), KP_ALERT_OK);
	assert_int_equal(st.fired, 1);
}

static void alert_step__below_rule_between_threshold_and_clear__stays_firing(void **state)
{
	struct stepper st = {
		.r = rule("r", "exits", KP_STAT_RATE, KP_SCOPE_VM, false, 10,
			  12, 0),
	};

	assert_int_equal(step(&st, 11, 1), KP_ALERT_OK);
	assert_int_equal(step(&st, 9, 2), KP_ALERT_FIRING);
	assert_int_equal(step(&st, 10, 3), KP_ALERT_FIRING);
	assert_int_equal(step(&st, 11.9, 4), KP_ALERT_FIRING);
	assert_int_equal(st.resolved, 0);
	assert_int_equal(step(&st, 12, 5), KP_ALERT_OK); /* at clear */
	assert_int_equal(st.resolved, 1);
	assert_int_equal(st.fired, 1);
}

static void alert_step__flapping_value__one_fired_and_one_resolved_per_episode(void **state)
{
	static const double values[] = { 0, 20, 15, 9, 25, 9.5, 30, 8, 8,
					 20, 20, 20, 1, 0 };
	struct stepper st = {
		.r = rule("r", "exits", KP_STAT_RATE, KP_SCOPE_VM, true, 10, 8,
			  1),
	};
	unsigned int i, episodes = 0;
	enum kp_alert_state prev = KP_ALERT_OK;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		step(&st, values[i], i);
		episodes += prev != KP_ALERT_FIRING && st.s == KP_ALERT_FIRING;
		prev = st.s;
	}
	/* 20 at t=1, fires at t=2 (15), holds to t=7 (8); 20 at t=9 fires
	 * at t=10, resolves at t=12 */
	assert_int_equal(episodes, 2);
	assert_int_equal(st.fired, 2);
	assert_int_equal(st.resolved, 2);
	assert_int_equal(st.s, KP_ALERT_OK);
}

/* ---- kp_alert_value ---- */

static double value_of(const struct kp_alert_rule *r,
		       const struct kp_sample_set *s, double secs)
{
	double v = -12345;

	if (!kp_alert_value(r, s, secs, &v))
		fail_msg("rule '%s': no value", r->name);
	return v;
}

static void alert_value__rate_of_counter__is_events_per_second(void **state)
{
	struct kp_alert_rule r = rule("r", "exits", KP_STAT_RATE, KP_SCOPE_VM,
				      true, 0, 0, 0);
	struct kp_vm_rec *vm;

	add(100, 101, 0, "exits", "HLT", 100);
	add(100, 102, 1, "exits", "HLT", 50);
	add(100, 102, 1, "exits", "IO", 30);
	add(100, 102, 1, "userspace_exits", "IO", 1000);
	finish(2);
	vm = vm_of(100);
	assert_near(value_of(&r, &vm->s, 2), 90);
	assert_near(value_of(&r, &vm->vcpus[1].s, 2), 40);
	strcpy(r.label, "HLT");
	assert_near(value_of(&r, &vm->s, 2), 75);
	assert_near(value_of(&r, &vm->vcpus[0].s, 2), 50);
	strcpy(r.label, "MMIO");
	assert_near(value_of(&r, &vm->s, 2), 0);
}

static void alert_value__rate_of_absent_counter__is_zero_not_no_data(void **state)
{
	struct kp_alert_rule r = rule("r", "exits", KP_STAT_RATE, KP_SCOPE_VM,
				      true, 0, 0, 0);

	add(100, 101, 0, "userspace_exits", "IO", 5);
	finish(1);
	assert_near(value_of(&r, &vm_of(100)->s, 1), 0);
}

static void alert_value__rate_of_histogram__is_samples_per_second(void **state)
{
	struct kp_alert_rule r = rule("r", "userspace_time", KP_STAT_RATE,
				      KP_SCOPE_VM, true, 0, 0, 0);
	struct kp_hist a = { 0 }, b = { 0 };

	hist_fill(&a, 1000, 10);
	hist_fill(&b, 5000, 6);
	add_hist(100, 101, 0, "userspace_time", "MMIO", 0, &a);
	add_hist(100, 102, 1, "userspace_time", "IO", 0, &b);
	finish(2);
	assert_near(value_of(&r, &vm_of(100)->s, 2), 8);
	strcpy(r.label, "MMIO");
	assert_near(value_of(&r, &vm_of(100)->s, 2), 5);
}

/*
 * run_delay is a histogram too (the waits that ended, value: the total
 * time waited): its rate is waits per second, as alert.h documents for
 * every histogram, not nanoseconds waited per second.
 */
static void alert_value__rate_of_run_delay__is_waits_per_second(void **state)
{
	struct kp_alert_rule r = rule("r", "run_delay", KP_STAT_RATE,
				      KP_SCOPE_VCPU, true, 0, 0, 0);
	struct kp_hist h = { 0 };

	hist_fill(&h, 1000000, 30);
	add_hist(100, 101, 0, "run_delay", "", 300000000, &h);
	finish(1);
	assert_near(value_of(&r, &vm_of(100)->vcpus[0].s, 1), 30);
}

static void alert_value__pct_of_ns_counter__is_share_of_the_interval(void **state)
{
	struct kp_alert_rule r = rule("r", "cpu_pct", KP_STAT_PCT,
				      KP_SCOPE_VCPU, true, 0, 0, 0);
	struct kp_vm_rec *vm;

	add(100, 101, 0, "cpu_pct", "", 500000000);
	add(100, 102, 1, "cpu_pct", "", 1500000000);
	finish(2);
	vm = vm_of(100);
	assert_near(value_of(&r, &vm->vcpus[0].s, 2), 25);
	assert_near(value_of(&r, &vm->vcpus[1].s, 2), 75);
	assert_near(value_of(&r, &vm->s, 2), 100); /* VM: sum of vCPUs */
}

static void alert_value__pct_of_run_delay__is_ready_percent(void **state)
{
	struct kp_alert_rule r = rule("r", "run_delay", KP_STAT_PCT,
				      KP_SCOPE_VCPU, true, 0, 0, 0);
	struct kp_hist h = { 0 };

	hist_fill(&h, 1000000, 30);
	/* the total counts a wait in progress the histogram does not hold */
	add_hist(100, 101, 0, "run_delay", "", 70000000, &h);
	finish(1);
	assert_near(value_of(&r, &vm_of(100)->vcpus[0].s, 1), 7);
}

static void alert_value__pct_of_run_delay__leaves_out_the_limited_time(void **state)
{
	struct kp_alert_rule r = rule("r", "run_delay", KP_STAT_PCT,
				      KP_SCOPE_VCPU, true, 0, 0, 0);
	struct kp_alert_rule l = rule("l", "limited_pct", KP_STAT_PCT,
				      KP_SCOPE_VCPU, true, 0, 0, 0);
	struct kp_hist h = { 0 };

	hist_fill(&h, 1000000, 70);
	/* 70% run delay of which 50 points were the vCPU's CPU limit */
	add_hist(100, 101, 0, "run_delay", "", 700000000, &h);
	add(100, 101, 0, "limited_pct", "", 500000000);
	finish(1);
	assert_near(value_of(&r, &vm_of(100)->vcpus[0].s, 1), 20);
	assert_near(value_of(&l, &vm_of(100)->vcpus[0].s, 1), 50);
	/* and at the VM level, the sums */
	assert_near(value_of(&r, &vm_of(100)->s, 1), 20);
}

/*
 * 50 values of 1000 ns (slot 10: 512..1024 ns) and 50 of 100000 ns
 * (slot 17: 65536..131072 ns), interpolated linearly inside the slot as
 * user/core/hist.c documents: p50 at rank 50 is the top of slot 10, 1024 ns;
 * p99 at rank 99 is 49/50 into slot 17, 65536 + 65536 * 49 / 50 ns.
 */
static void alert_value__percentiles_and_mean_of_histogram__in_microseconds(void **state)
{
	struct kp_alert_rule r = rule("r", "userspace_time", KP_STAT_P50_US,
				      KP_SCOPE_VM, true, 0, 0, 0);
	struct kp_hist fast = { 0 }, slow = { 0 };
	struct kp_vm_rec *vm;

	hist_fill(&fast, 1000, 50);
	hist_fill(&slow, 100000, 50);
	add_hist(100, 101, 0, "userspace_time", "MMIO", 0, &fast);
	add_hist(100, 102, 1, "userspace_time", "IO", 0, &slow);
	finish(1);
	vm = vm_of(100);

	assert_near(value_of(&r, &vm->s, 1), 1024 / 1e3);
	r.stat = KP_STAT_P99_US;
	assert_near(value_of(&r, &vm->s, 1), (65536 + 65536 * 49 / 50.0) / 1e3);
	r.stat = KP_STAT_MEAN_US;
	assert_near(value_of(&r, &vm->s, 1), (50 * 1000 + 50 * 100000) / 100.0 /
						     1e3);

	/* only MMIO: p50 at rank 25 of 50 in slot 10, p99 at rank 49.5 */
	strcpy(r.label, "MMIO");
	r.stat = KP_STAT_P50_US;
	assert_near(value_of(&r, &vm->s, 1), (512 + 512 * 25 / 50.0) / 1e3);
	r.stat = KP_STAT_P99_US;
	assert_near(value_of(&r, &vm->s, 1), (512 + 512 * 49.5 / 50.0) / 1e3);
	r.stat = KP_STAT_MEAN_US;
	assert_near(value_of(&r, &vm->s, 1), 1.0);

	/* per vCPU: vCPU 1 only has the slow ones */
	strcpy(r.label, "");
	r.stat = KP_STAT_P50_US;
	assert_near(value_of(&r, &vm->vcpus[1].s, 1),
		    (65536 + 65536 * 25 / 50.0) / 1e3);
}

static void alert_value__percentile_without_samples__is_no_data(void **state)
{
	static const enum kp_stat stats[] = { KP_STAT_P50_US, KP_STAT_P99_US,
					      KP_STAT_MEAN_US };
	struct kp_alert_rule r = rule("r", "userspace_time", KP_STAT_P50_US,
				      KP_SCOPE_VM, true, 0, 0, 0);
	struct kp_hist h = { 0 };
	double v = 7;
	size_t i;

	hist_fill(&h, 1000, 4);
	add(100, 101, 0, "exits", "IO", 10);
	add_hist(100, 101, 0, "userspace_time", "IO", 0, &h);
	finish(1);
	for (i = 0; i < 3; i++) {
		r.stat = stats[i];
		strcpy(r.label, "MMIO"); /* no sample with this label */
		assert_false(kp_alert_value(&r, &vm_of(100)->s, 1, &v));
		r.metric = metric("exit_time"); /* no sample of the metric */
		strcpy(r.label, "");
		assert_false(kp_alert_value(&r, &vm_of(100)->s, 1, &v));
		r.metric = metric("userspace_time");
	}
}

static void alert_value__gauge__value_and_raw_delta_input(void **state)
{
	struct kp_alert_rule r = rule("r", "memory.swap_in_kib",
				      KP_STAT_VALUE, KP_SCOPE_VM, true, 0, 0,
				      0);
	struct kp_vm_rec *vm = vm_empty(100);
	double v = 7;

	assert_int_equal(kp_vm_set_gauge(vm, metric("memory.swap_in_kib"),
					 1234),
			 0);
	assert_int_equal(kp_vm_set_gauge(vm, metric("memory.rss_kib"), 99),
			 0);
	finish(1);
	vm = vm_of(100);
	assert_near(value_of(&r, &vm->gauges, 1), 1234);
	/* delta is taken across intervals by the evaluator: the value here */
	r.stat = KP_STAT_DELTA;
	assert_near(value_of(&r, &vm->gauges, 1), 1234);
	/* a gauge not reported is no data, not zero */
	r.metric = metric("memory.swap_out_kib");
	assert_false(kp_alert_value(&r, &vm->gauges, 1, &v));
	r.stat = KP_STAT_VALUE;
	assert_false(kp_alert_value(&r, &vm->gauges, 1, &v));
}

static void alert_value__ratio__is_percent_of_the_other_metric(void **state)
{
	struct kp_alert_rule r = rule("r", "exits", KP_STAT_RATIO, KP_SCOPE_VM,
				      true, 0, 0, 0);

	r.of = metric("exits");
	strcpy(r.label, "HLT");
	add(100, 101, 0, "exits", "HLT", 25);
	add(100, 101, 0, "exits", "IO", 60);
	add(100, 102, 1, "exits", "IO", 15);
	add(100, 102, 1, "userspace_exits", "IO", 30);
	finish(5);
	assert_near(value_of(&r, &vm_of(100)->s, 5), 25);
	/* userspace exits as a share of all exits */
	r.metric = metric("userspace_exits");
	strcpy(r.label, "");
	assert_near(value_of(&r, &vm_of(100)->s, 5), 30);
	/* nothing to divide by: 0 */
	r.of = metric("preemptions");
	assert_near(value_of(&r, &vm_of(100)->s, 5), 0);
}

static void alert_value__zero_interval__counts_as_one_second(void **state)
{
	struct kp_alert_rule r = rule("r", "exits", KP_STAT_RATE, KP_SCOPE_VM,
				      true, 0, 0, 0);

	add(100, 101, 0, "exits", "IO", 42);
	finish(0);
	assert_near(value_of(&r, &vm_of(100)->s, 0), 42);
}

/* ---- kp_alerts_eval ---- */

/* Exits of pid 100 ("web", vCPUs 0 and 1) and pid 200 ("db", vCPU 0). */
static void exits_interval(uint64_t web0, uint64_t web1, uint64_t db0)
{
	add(100, 101, 0, "exits", "HLT", web0);
	add(100, 102, 1, "exits", "HLT", web1 / 2);
	add(100, 102, 1, "exits", "IO", web1 - web1 / 2);
	add(200, 201, 0, "exits", "HLT", db0);
	finish(1);
	identity(100, "web", UUID_WEB, "qemu-system-x86");
	identity(200, "db", UUID_DB, "qemu-system-x86");
}

static void alerts_eval__vcpu_rule_on_counter__fires_for_that_vcpu_only(void **state)
{
	struct kp_alert_rule r = rule("exit_storm", "exits", KP_STAT_RATE,
				      KP_SCOPE_VCPU, true, 1000, 800, 2);
	struct ev *e;

	alerts = kp_alerts_new(&r, 1);
	assert_non_null(alerts);

	exits_interval(100, 2000, 500);
	eval_expect(10, 0); /* pending since 10 */
	assert_int_equal(kp_alerts_tracked(alerts), 3);
	exits_interval(100, 2000, 500);
	eval_expect(11, 0);
	exits_interval(100, 2000, 500);
	e = eval_expect(12, 1);
	assert_string_equal(e->rule, "exit_storm");
	assert_true(e->firing);
	assert_int_equal(e->pid, 100);
	assert_int_equal(e->vcpu, 1);
	assert_string_equal(e->name, "web");
	assert_string_equal(e->uuid, UUID_WEB);
	assert_string_equal(e->comm, "qemu-system-x86");
	assert_true(e->has_value);
	assert_near(e->value, 2000);
	assert_near(e->since, 10);

	/* between clear and threshold: still firing */
	exits_interval(100, 900, 500);
	eval_expect(13, 0);
	exits_interval(100, 800, 500);
	e = eval_expect(14, 1);
	assert_false(e->firing);
	assert_int_equal(e->pid, 100);
	assert_int_equal(e->vcpu, 1);
	assert_string_equal(e->name, "web");
	assert_true(e->has_value);
	assert_near(e->value, 800);
	assert_near(e->since, 12); /* when it fired */

	exits_interval(100, 100, 100);
	eval_expect(15, 0);
	assert_int_equal(kp_alerts_tracked(alerts), 3);
}

static void alerts_eval__vm_rule_on_counter__sums_the_vcpus(void **state)
{
	struct kp_alert_rule r = rule("vm_exits", "exits", KP_STAT_RATE,
				      KP_SCOPE_VM, true, 1000, 1000, 0);
	struct ev *e;

	alerts = kp_alerts_new(&r, 1);
	exits_interval(600, 600, 900);
	e = eval_expect(1, 1);
	assert_int_equal(e->pid, 100);
	assert_int_equal(e->vcpu, -1);
	assert_near(e->value, 1200);
	assert_int_equal(kp_alerts_tracked(alerts), 2);
}

static void alerts_eval__vm_without_identity__has_null_name_uuid_comm(void **state)
{
	struct kp_alert_rule r = rule("vm_exits", "exits", KP_STAT_RATE,
				      KP_SCOPE_VM, true, 10, 10, 0);
	struct ev *e;

	alerts = kp_alerts_new(&r, 1);
	add(300, 301, 0, "exits", "HLT", 50);
	finish(1);
	e = eval_expect(1, 1);
	assert_int_equal(e->pid, 300);
	assert_false(e->has_name);
	assert_false(e->has_uuid);
	assert_false(e->has_comm);
}

static void alerts_eval__vm_gone__rate_rule_sees_zero_and_resolves(void **state)
{
	struct kp_alert_rule r = rule("vm_exits", "exits", KP_STAT_RATE,
				      KP_SCOPE_VCPU, true, 100, 100, 0);
	struct ev *e;

	alerts = kp_alerts_new(&r, 1);
	exits_interval(500, 10, 10);
	e = eval_expect(1, 1);
	assert_true(e->firing);
	assert_int_equal(e->vcpu, 0);

	/* the VM is gone: its rate is zero */
	e = eval_expect(2, 1);
	assert_false(e->firing);
	assert_int_equal(e->pid, 100);
	assert_int_equal(e->vcpu, 0);
	assert_string_equal(e->name, "web");
	assert_true(e->has_value);
	assert_near(e->value, 0);
	assert_near(e->since, 1);
	assert_int_equal(kp_alerts_tracked(alerts), 3);
	eval_expect(3, 0);
	assert_int_equal(kp_alerts_tracked(alerts), 3);
	/* gone for 3 intervals: forgotten, quietly (it resolved already) */
	eval_expect(4, 0);
	assert_int_equal(kp_alerts_tracked(alerts), 0);
	eval_expect(5, 0);
}

static void alerts_eval__gauge_rule__holds_without_data_then_forgets_with_resolved(void **state)
{
	struct kp_alert_rule r = rule("rss", "memory.rss_kib", KP_STAT_VALUE,
				      KP_SCOPE_VM, true, 1000000, 1000000, 0);
	struct ev *e;

	alerts = kp_alerts_new(&r, 1);
	add(100, 101, 0, "exits", "HLT", 1);
	finish(1);
	identity(100, "web", UUID_WEB, "qemu-system-x86");
	gauge(100, "memory.rss_kib", 2000000);
	e = eval_expect(1, 1);
	assert_true(e->firing);
	assert_near(e->value, 2000000);

	/* the VM is there, the gauge is not: the state holds */
	add(100, 101, 0, "exits", "HLT", 1);
	finish(1);
	identity(100, "web", UUID_WEB, "qemu-system-x86");
	eval_expect(2, 0);
	add(100, 101, 0, "exits", "HLT", 1);
	finish(1);
	eval_expect(3, 0);

	/* gone: held for two intervals, forgotten at the third */
	eval_expect(4, 0);
	eval_expect(5, 0);
	assert_int_equal(kp_alerts_tracked(alerts), 1);
	e = eval_expect(6, 1);
	assert_false(e->firing);
	assert_false(e->has_value);
	assert_int_equal(e->pid, 100);
	assert_int_equal(e->vcpu, -1);
	assert_string_equal(e->name, "web"); /* the identity last seen */
	assert_string_equal(e->uuid, UUID_WEB);
	assert_near(e->since, 1);
	assert_int_equal(kp_alerts_tracked(alerts), 0);
	eval_expect(7, 0);
}

static void alerts_eval__gauge_rule_not_firing__is_forgotten_silently(void **state)
{
	struct kp_alert_rule r = rule("rss", "memory.rss_kib", KP_STAT_VALUE,
				      KP_SCOPE_VM, true, 1000000, 1000000, 0);

	alerts = kp_alerts_new(&r, 1);
	vm_empty(100);
	finish(1);
	gauge(100, "memory.rss_kib", 10);
	eval_expect(1, 0);
	assert_int_equal(kp_alerts_tracked(alerts), 1);
	eval_expect(2, 0);
	eval_expect(3, 0);
	eval_expect(4, 0);
	assert_int_equal(kp_alerts_tracked(alerts), 0);
}

static void alerts_eval__percentile_rule__holds_while_no_samples(void **state)
{
	struct kp_alert_rule r = rule("slow_vmm", "userspace_time",
				      KP_STAT_P99_US, KP_SCOPE_VM, true, 100,
				      50, 0);
	struct kp_hist slow = { 0 }, fast = { 0 };
	struct ev *e;

	hist_fill(&slow, 1000000, 10);
	hist_fill(&fast, 1000, 10);
	alerts = kp_alerts_new(&r, 1);
	add_hist(100, 101, 0, "userspace_time", "MMIO", 0, &slow);
	finish(1);
	e = eval_expect(1, 1);
	assert_true(e->firing);
	assert_true(e->value > 100);

	/* no exit to userspace this interval: nothing known, still firing */
	add(100, 101, 0, "exits", "HLT", 1000);
	finish(1);
	eval_expect(2, 0);
	add(100, 101, 0, "exits", "HLT", 1000);
	finish(1);
	eval_expect(3, 0);
	add(100, 101, 0, "exits", "HLT", 1000);
	finish(1);
	eval_expect(4, 0);
	add(100, 101, 0, "exits", "HLT", 1000);
	finish(1);
	eval_expect(5, 0);

	add_hist(100, 101, 0, "userspace_time", "MMIO", 0, &fast);
	finish(1);
	e = eval_expect(6, 1);
	assert_false(e->firing);
	assert_true(e->has_value);
	assert_true(e->value < 50);
	assert_near(e->since, 1);
}

static void alerts_eval__delta_rule__fires_on_growth_between_intervals(void **state)
{
	struct kp_alert_rule r = rule("vm_swap_in", "memory.swap_in_kib",
				      KP_STAT_DELTA, KP_SCOPE_VM, true, 0, 0,
				      0);
	static const uint64_t swap[] = { 100, 100, 150, 150, 150 };
	static const size_t want[] = { 0, 0, 1, 1, 0 };
	size_t i;

	alerts = kp_alerts_new(&r, 1);
	for (i = 0; i < 5; i++) {
		struct ev *e;

		vm_empty(100);
		finish(1);
		identity(100, "web", UUID_WEB, "qemu-system-x86");
		gauge(100, "memory.swap_in_kib", swap[i]);
		e = eval_expect(i + 1, want[i]);
		if (i == 2) {
			assert_true(e->firing);
			assert_near(e->value, 50);
		}
		if (i == 3) {
			assert_false(e->firing);
			assert_near(e->value, 0);
		}
	}
}

static void alerts_eval__domain_filter__matches_name_or_uuid_any_case(void **state)
{
	struct kp_alert_rule r = rule("dom", "exits", KP_STAT_RATE,
				      KP_SCOPE_VM, true, 10, 10, 0);
	size_t i;
	bool seen[5] = { false };

	r.ndomains = 2;
	strcpy(r.domains[0], "web");
	strcpy(r.domains[1], "8A5C9A2E-0000-4000-8000-000000000002");
	alerts = kp_alerts_new(&r, 1);
	add(100, 101, 0, "exits", "HLT", 100);
	add(200, 201, 0, "exits", "HLT", 100);
	add(300, 301, 0, "exits", "HLT", 100);
	add(400, 401, 0, "exits", "HLT", 100);
	add(500, 501, 0, "exits", "HLT", 100);
	finish(1);
	identity(100, "web", UUID_WEB, "qemu");
	identity(200, "db", UUID_DB, "qemu");                 /* by UUID */
	identity(300, "other", "8a5c9a2e-ffff", "qemu");
	identity(400, NULL, NULL, "qemu");                    /* unknown */
	identity(500, "WEB", NULL, "qemu"); /* names are case-sensitive */
	eval_expect(1, 2);
	for (i = 0; i < 2; i++)
		seen[evs[i].pid / 100 - 1] = true;
	assert_true(seen[0]);
	assert_true(seen[1]);
	assert_int_equal(kp_alerts_tracked(alerts), 2);
}

static void alerts_eval__callback_error__is_returned(void **state)
{
	struct kp_alert_rule rules[2] = {
		rule("rate", "exits", KP_STAT_RATE, KP_SCOPE_VM, true, 10, 10,
		     0),
		rule("rss", "memory.rss_kib", KP_STAT_VALUE, KP_SCOPE_VM, true,
		     10, 10, 0),
	};
	int t, ret = 0;

	alerts = kp_alerts_new(rules, 2);
	cb_result = -EIO;
	add(100, 101, 0, "exits", "HLT", 100);
	finish(1);
	assert_int_equal(eval_at(1), -EIO);
	assert_int_equal(cb_calls, 1); /* stops at the first failure */

	/* a resolved event of an entity that is gone fails the same way */
	cb_result = 0;
	add(100, 101, 0, "exits", "HLT", 100);
	finish(1);
	gauge(100, "memory.rss_kib", 100);
	eval_expect(2, 1); /* rss fires; rate fired already */
	cb_result = -EPIPE;
	assert_int_equal(eval_at(3), -EPIPE); /* rate resolves: gone */
	/* rss, gone long enough, is forgotten with a resolved event */
	cb_result = -ENOSPC;
	for (t = 4; t < 10; t++) {
		ret = eval_at(t);
		if (ret)
			break;
	}
	assert_int_equal(ret, -ENOSPC);
	assert_string_equal(evs[nev - 1].rule, "rss");
	assert_false(evs[nev - 1].firing);
	assert_false(evs[nev - 1].has_value);
}

static void alerts_eval__no_rules__tracks_nothing(void **state)
{
	alerts = kp_alerts_new(NULL, 0);
	assert_non_null(alerts);
	exits_interval(1, 2, 3);
	eval_expect(1, 0);
	assert_int_equal(kp_alerts_tracked(alerts), 0);
	kp_alerts_free(NULL);
}

/*
 * Threads whose vCPU index is not known (a VMM that does not name them
 * "CPU n/KVM") are each their own vCPU: one busy thread must not share an
 * alert with an idle one and flap every interval.
 */
static void alerts_eval__vcpus_with_unknown_index__are_tracked_apart(void **state)
{
	struct kp_alert_rule r = rule("exit_storm", "exits", KP_STAT_RATE,
				      KP_SCOPE_VCPU, true, 1000, 1000, 0);
	struct ev *e;
	int i;

	alerts = kp_alerts_new(&r, 1);
	for (i = 1; i <= 3; i++) {
		add(100, 101, -1, "exits", "HLT", 5000);
		add(100, 102, -1, "exits", "HLT", 10);
		finish(1);
		e = eval_expect(i, i == 1 ? 1 : 0);
		if (e) {
			assert_true(e->firing);
			assert_int_equal(e->vcpu, -1);
			assert_near(e->value, 5000);
		}
	}
}

#define NVMS 4
#define NVCPUS 250

static void alerts_eval__1000_vcpus_times_3_rules__stay_correct(void **state)
{
	struct kp_alert_rule rules[3] = {
		rule("exits", "exits", KP_STAT_RATE, KP_SCOPE_VCPU, true, 1000,
		     1000, 0),
		rule("cpu", "cpu_pct", KP_STAT_PCT, KP_SCOPE_VCPU, true, 90,
		     80, 0),
		rule("preempt", "preemptions", KP_STAT_RATE, KP_SCOPE_VCPU,
		     true, 50, 50, 2),
	};
	static unsigned char fired[3][NVMS][NVCPUS], resolved[3][NVMS][NVCPUS];
	size_t want_fired[3] = { 0 }, i;
	int t, k, j;

	memset(fired, 0, sizeof(fired));
	memset(resolved, 0, sizeof(resolved));
	alerts = kp_alerts_new(rules, 3);
	for (t = 1; t <= 8; t++) {
		bool busy = t <= 3;

		/* t 1-3 busy, t 4 quiet, t 5+ gone */
		for (k = 0; t <= 4 && k < NVMS; k++) {
			uint32_t pid = 1000 + k * 1000;

			for (j = 0; j < NVCPUS; j++) {
				uint32_t tid = pid + 1 + j;

				add(pid, tid, j, "exits", "HLT",
				    busy && j % 7 == 0 ? 5000 : 10);
				add(pid, tid, j, "cpu_pct", "",
				    busy && j % 5 == 0 ? 950000000 :
							 100000000);
				add(pid, tid, j, "preemptions", "",
				    busy && j % 3 == 0 ? 100 : 0);
			}
		}
		if (t <= 4) {
			finish(1);
			for (k = 0; k < NVMS; k++)
				identity(1000 + k * 1000, NULL, NULL, "qemu");
		}
		i = nev;
		assert_int_equal(eval_at(t), 0);
		for (; i < nev; i++) {
			const struct ev *e = &evs[i];
			int rn = !strcmp(e->rule, "exits") ? 0 :
				 !strcmp(e->rule, "cpu")   ? 1 : 2;

			k = e->pid / 1000 - 1;
			assert_true(k >= 0 && k < NVMS);
			assert_true(e->vcpu >= 0 && e->vcpu < NVCPUS);
			if (e->firing) {
				fired[rn][k][e->vcpu]++;
				assert_int_equal(t, rn == 2 ? 3 : 1);
				assert_near(e->since, 1);
			} else {
				resolved[rn][k][e->vcpu]++;
				assert_int_equal(t, 4);
				assert_near(e->since, rn == 2 ? 3 : 1);
			}
		}
		if (t <= 6)
			assert_int_equal(kp_alerts_tracked(alerts),
					 3 * NVMS * NVCPUS);
	}
	assert_int_equal(kp_alerts_tracked(alerts), 0);

	for (k = 0; k < NVMS; k++) {
		for (j = 0; j < NVCPUS; j++) {
			bool want[3] = { j % 7 == 0, j % 5 == 0, j % 3 == 0 };
			int rn;

			for (rn = 0; rn < 3; rn++) {
				if (fired[rn][k][j] != want[rn] ||
				    resolved[rn][k][j] != want[rn])
					fail_msg("rule %d VM %d vCPU %d: fired %d, resolved %d, want %d",
						 rn, k, j, fired[rn][k][j],
						 resolved[rn][k][j], want[rn]);
				want_fired[rn] += want[rn];
			}
		}
	}
	assert_int_equal(nev, 2 * (want_fired[0] + want_fired[1] +
				   want_fired[2]));
}

/* ---- kp_alerts_replace (a reload) ---- */

static int replace(const struct kp_alert_rule *rules, size_t n)
{
	return kp_alerts_replace(alerts, rules, n, record, NULL);
}

static void alerts_replace__unchanged_rule__keeps_firing_without_firing_again(void **state)
{
	struct kp_alert_rule r = rule("exit_storm", "exits", KP_STAT_RATE,
				      KP_SCOPE_VCPU, true, 1000, 800, 0);
	struct kp_alert_rule again[2];
	struct ev *e;

	alerts = kp_alerts_new(&r, 1);
	exits_interval(100, 2000, 500);
	e = eval_expect(1, 1);
	assert_true(e->firing);
	/* the same rule, now second and on another line of the file */
	again[0] = rule("new_one", "exits", KP_STAT_RATE, KP_SCOPE_VM, true,
			1e9, 1e9, 0);
	again[1] = r;
	again[1].line = 42;
	assert_int_equal(replace(again, 2), 0);
	assert_int_equal(nev, 1);
	exits_interval(100, 2000, 500);
	eval_expect(2, 0); /* still firing: no second "firing" */
	exits_interval(100, 100, 500);
	e = eval_expect(3, 1); /* and it resolves, once, by its name */
	assert_false(e->firing);
	assert_string_equal(e->rule, "exit_storm");
	assert_int_equal(e->vcpu, 1);
	assert_true(e->has_value);
	assert_near(e->since, 1);
}

static void alerts_replace__unchanged_rule__keeps_pending_since(void **state)
{
	struct kp_alert_rule r = rule("exit_storm", "exits", KP_STAT_RATE,
				      KP_SCOPE_VCPU, true, 1000, 800, 2);
	struct ev *e;

	alerts = kp_alerts_new(&r, 1);
	exits_interval(100, 2000, 500);
	eval_expect(10, 0); /* pending since 10 */
	assert_int_equal(replace(&r, 1), 0);
	exits_interval(100, 2000, 500);
	eval_expect(11, 0);
	exits_interval(100, 2000, 500);
	e = eval_expect(12, 1); /* "for" counted from 10, not from the reload */
	assert_true(e->firing);
	assert_near(e->since, 10);
}

static void alerts_replace__changed_rule_that_was_firing__resolves_once(void **state)
{
	struct kp_alert_rule r = rule("exit_storm", "exits", KP_STAT_RATE,
				      KP_SCOPE_VCPU, true, 1000, 800, 0);
	struct kp_alert_rule changed = r;
	struct ev *e;

	alerts = kp_alerts_new(&r, 1);
	exits_interval(100, 2000, 500);
	eval_expect(1, 1);
	changed.threshold = 1500;
	changed.clear = 1500;
	assert_int_equal(replace(&changed, 1), 0);
	assert_int_equal(nev, 2);
	e = &evs[1];
	assert_false(e->firing);
	assert_string_equal(e->rule, "exit_storm");
	assert_int_equal(e->pid, 100);
	assert_int_equal(e->vcpu, 1);
	assert_false(e->has_value);
	assert_near(e->since, 1);
	assert_int_equal(kp_alerts_tracked(alerts), 0);
	/* the new definition starts afresh: fires again on its own terms */
	exits_interval(100, 2000, 500);
	e = eval_expect(2, 1);
	assert_true(e->firing);
	exits_interval(100, 2000, 500);
	eval_expect(3, 0);
}

static void alerts_replace__removed_rule__resolves_what_fired_and_forgets(void **state)
{
	struct kp_alert_rule rs[2] = {
		rule("storm", "exits", KP_STAT_RATE, KP_SCOPE_VCPU, true, 1000,
		     800, 0),
		rule("quiet", "exits", KP_STAT_RATE, KP_SCOPE_VCPU, false, 1,
		     1, 60),
	};

	alerts = kp_alerts_new(rs, 2);
	exits_interval(100, 2000, 500);
	eval_expect(1, 1);
	assert_int_equal(kp_alerts_tracked(alerts), 6);
	/* only "quiet" stays; it was not firing */
	assert_int_equal(replace(&rs[1], 1), 0);
	assert_int_equal(nev, 2);
	assert_false(evs[1].firing);
	assert_string_equal(evs[1].rule, "storm");
	assert_int_equal(kp_alerts_tracked(alerts), 3);
	/* no rules at all: nothing tracked, nothing more said */
	assert_int_equal(replace(NULL, 0), 0);
	assert_int_equal(nev, 2);
	assert_int_equal(kp_alerts_tracked(alerts), 0);
	exits_interval(100, 2000, 500);
	eval_expect(2, 0);
}

static void alerts_replace__callback_error__still_replaces_and_returns_it(void **state)
{
	struct kp_alert_rule r = rule("storm", "exits", KP_STAT_RATE,
				      KP_SCOPE_VM, true, 1000, 800, 0);
	struct kp_alert_rule other = rule("other", "exits", KP_STAT_RATE,
					  KP_SCOPE_VM, true, 1e9, 1e9, 0);

	alerts = kp_alerts_new(&r, 1);
	exits_interval(100, 2000, 500);
	eval_expect(1, 1);
	cb_result = -EPIPE;
	assert_int_equal(replace(&other, 1), -EPIPE);
	assert_int_equal(kp_alerts_tracked(alerts), 0);
	cb_result = 0;
	exits_interval(100, 2000, 500);
	eval_expect(2, 0);
}

static void alert_rule_same__each_field_counts_but_the_line(void **state)
{
	struct kp_alert_rule a = rule("r", "exits", KP_STAT_RATE, KP_SCOPE_VM,
				      true, 10, 5, 60);
	struct kp_alert_rule b = a;

	b.line = 99;
	assert_true(kp_alert_rule_same(&a, &b));
	b = a; b.threshold = 11;
	assert_false(kp_alert_rule_same(&a, &b));
	b = a; b.clear = 4;
	assert_false(kp_alert_rule_same(&a, &b));
	b = a; b.for_s = 30;
	assert_false(kp_alert_rule_same(&a, &b));
	b = a; b.severity = KP_SEV_CRITICAL;
	assert_false(kp_alert_rule_same(&a, &b));
	b = a; b.above = false;
	assert_false(kp_alert_rule_same(&a, &b));
	b = a; b.scope = KP_SCOPE_VCPU;
	assert_false(kp_alert_rule_same(&a, &b));
	b = a; strcpy(b.label, "HLT");
	assert_false(kp_alert_rule_same(&a, &b));
	b = a; b.stat = KP_STAT_PCT;
	assert_false(kp_alert_rule_same(&a, &b));
	b = a; strcpy(b.domains[b.ndomains++], "web");
	assert_false(kp_alert_rule_same(&a, &b));
	a = b; strcpy(b.domains[0], "db");
	assert_false(kp_alert_rule_same(&a, &b));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(alert_step__above_threshold__pends_and_fires_only_after_for),
		T(alert_step__value_at_threshold__is_not_past_it),
		T(alert_step__condition_drops_while_pending__returns_to_ok_silently),
		T(alert_step__for_zero__fires_at_once),
		T(alert_step__above_rule_between_clear_and_threshold__stays_firing),
		T(alert_step__below_rule_between_threshold_and_clear__stays_firing),
		T(alert_step__flapping_value__one_fired_and_one_resolved_per_episode),
		T(alert_value__rate_of_counter__is_events_per_second),
		T(alert_value__rate_of_absent_counter__is_zero_not_no_data),
		T(alert_value__rate_of_histogram__is_samples_per_second),
		T(alert_value__rate_of_run_delay__is_waits_per_second),
		T(alert_value__pct_of_ns_counter__is_share_of_the_interval),
		T(alert_value__pct_of_run_delay__is_ready_percent),
		T(alert_value__pct_of_run_delay__leaves_out_the_limited_time),
		T(alert_value__percentiles_and_mean_of_histogram__in_microseconds),
		T(alert_value__percentile_without_samples__is_no_data),
		T(alert_value__gauge__value_and_raw_delta_input),
		T(alert_value__ratio__is_percent_of_the_other_metric),
		T(alert_value__zero_interval__counts_as_one_second),
		T(alerts_eval__vcpu_rule_on_counter__fires_for_that_vcpu_only),
		T(alerts_eval__vm_rule_on_counter__sums_the_vcpus),
		T(alerts_eval__vm_without_identity__has_null_name_uuid_comm),
		T(alerts_eval__vm_gone__rate_rule_sees_zero_and_resolves),
		T(alerts_eval__gauge_rule__holds_without_data_then_forgets_with_resolved),
		T(alerts_eval__gauge_rule_not_firing__is_forgotten_silently),
		T(alerts_eval__percentile_rule__holds_while_no_samples),
		T(alerts_eval__delta_rule__fires_on_growth_between_intervals),
		T(alerts_eval__domain_filter__matches_name_or_uuid_any_case),
		T(alerts_eval__callback_error__is_returned),
		T(alerts_eval__no_rules__tracks_nothing),
		T(alerts_eval__vcpus_with_unknown_index__are_tracked_apart),
		T(alerts_eval__1000_vcpus_times_3_rules__stay_correct),
		T(alerts_replace__unchanged_rule__keeps_firing_without_firing_again),
		T(alerts_replace__unchanged_rule__keeps_pending_since),
		T(alerts_replace__changed_rule_that_was_firing__resolves_once),
		T(alerts_replace__removed_rule__resolves_what_fired_and_forgets),
		T(alerts_replace__callback_error__still_replaces_and_returns_it),
		T(alert_rule_same__each_field_counts_but_the_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
