// SPDX-License-Identifier: GPL-2.0
/* The NDJSON sink: docs/output.md, schema 1. Everything goes through json-c. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "user/core/hist.h"
#include "user/core/jsonutil.h"
#include "user/core/metrics.h"
#include "user/core/schedcalc.h"
#include "user/sinks/sink.h"
#include "user/sinks/sink_dev.h"

#define KP_SCHEMA 1

int kp_sink_flush(FILE *f)
{
	int err = 0;

	if (fflush(f) || ferror(f)) {
		err = errno ? -errno : -EIO;
		clearerr(f);
	}
	return err;
}

static struct json_object *record(const char *type, const struct timespec *ts)
{
	struct json_object *o = json_object_new_object();
	char buf[40];

	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "schema", json_object_new_int(KP_SCHEMA));
	if (!kp_format_ts(ts, buf, sizeof(buf)))
		json_object_object_add(o, "ts", json_object_new_string(buf));
	return o;
}

static int emit(struct kp_sink *s, struct json_object *o)
{
	const char *line = kp_json_line(o);

	if (line) {
		fputs(line, s->out);
		fputc('\n', s->out);
	}
	json_object_put(o);
	return line ? 0 : -ENOMEM;
}

static struct json_object *probe_json(const struct kp_probe_status *p)
{
	struct json_object *o = json_object_new_object();
	struct json_object *progs = json_object_new_object();
	struct json_object *missing = json_object_new_object();
	size_t i;

	json_object_object_add(o, "name", json_object_new_string(p->name));
	json_object_object_add(o, "attached",
			       json_object_new_boolean(p->attached));
	if (!p->attached)
		json_object_object_add(o, "reason",
				       kp_json_string(p->reason));
	for (i = 0; i < p->nprogs; i++) {
		const struct kp_prog_status *ps = &p->progs[i];

		if (ps->how)
			json_object_object_add(progs, ps->name,
					       json_object_new_string(ps->how));
		else
			json_object_object_add(missing, ps->name,
					       kp_json_string(ps->reason));
	}
	json_object_object_add(o, "programs", progs);
	json_object_object_add(o, "missing", missing);
	return o;
}

static int json_start(struct kp_sink *s, const struct kp_start_info *info)
{
	struct json_object *o = record("start", &info->ts);
	struct json_object *pids, *probes;
	size_t i;

	json_object_object_add(o, "version",
			       json_object_new_string(info->version));
	json_object_object_add(o, "interval_s",
			       kp_json_fixed3(info->interval_s));
	pids = json_object_new_array();
	for (i = 0; i < info->npids; i++)
		json_object_array_add(pids, json_object_new_int64(info->pids[i]));
	json_object_object_add(o, "pid_filter", pids);
	pids = json_object_new_array();
	for (i = 0; i < info->ndomains; i++)
		json_object_array_add(pids, kp_json_string(info->domains[i]));
	json_object_object_add(o, "domain_filter", pids);
	probes = json_object_new_array();
	for (i = 0; i < info->nprobes; i++)
		json_object_array_add(probes, probe_json(&info->probes[i]));
	json_object_object_add(o, "probes", probes);
	emit(s, o);
	return kp_sink_flush(s->out);
}

/* The sched probe's per-event tier's share of the interval, or NULL. */
static struct json_object *events_pct(const struct kp_interval *iv)
{
	const struct kp_tier_share *t = &iv->sched_events;

	if (!t->window_ns)
		return NULL;
	return kp_json_fixed3(100.0 * t->on_ns / t->window_ns);
}

/*
 * KP_SHOW_DELAY, keys from the registry: {total_ns, ready_pct,
 * worst_ready_pct (vm_level: the VM's own sample), p50_us, p99_us, hist,
 * sched_events_pct (the histogram's tier's share)} for run_delay.
 */
static struct json_object *delay_json(const struct kp_interval *iv,
				      const struct kp_sample *p, bool vm_level,
				      bool buckets)
{
	const struct kp_metric_desc *d = kp_metric(p->metric);
	struct json_object *o = json_object_new_object();
	char k[64];

	json_object_object_add(o, "total_ns", json_object_new_uint64(p->value));
	snprintf(k, sizeof(k), "%s_pct", d->share);
	json_object_object_add(o, k, kp_json_fixed3(p->pct));
	if (vm_level) {
		snprintf(k, sizeof(k), "worst_%s_pct", d->share);
		json_object_object_add(o, k, kp_json_fixed3(p->worst_pct));
	}
	kp_json_add_percentiles(o, d, p->hist);
	json_object_object_add(o, "hist", kp_json_hist_ext(p->hist, buckets));
	if (iv->sched_events.window_ns)
		json_object_object_add(o,
				       kp_host_metric(KP_HM_SCHED_EVENTS)->json,
				       events_pct(iv));
	return o;
}

static struct json_object *peer_json(const struct kp_sample *p)
{
	const struct kp_peer *w = p->peer;
	struct json_object *o = json_object_new_object(), *vm = NULL;

	json_object_object_add(o, "pid", json_object_new_int64(w->pid));
	json_object_object_add(o, "tid", json_object_new_int64(w->tid));
	json_object_object_add(o, "comm",
			       w->comm[0] ? kp_json_string(w->comm) : NULL);
	if (w->vm_pid >= 0) {
		vm = json_object_new_object();
		json_object_object_add(vm, "pid",
				       json_object_new_int64(w->vm_pid));
		json_object_object_add(vm, "vcpu", w->vm_vcpu < 0 ? NULL :
				       json_object_new_int(w->vm_vcpu));
	}
	json_object_object_add(o, "vm", vm);
	json_object_object_add(o, "ns", json_object_new_uint64(p->value));
	return o;
}

/* KP_SHOW_TOP: the largest of the samples set->v[first..end), first */
static struct json_object *top_json(const struct kp_sample_set *set,
				    size_t first, size_t end)
{
	struct json_object *a = json_object_new_array();
	size_t top[KP_SCHED_TOP], n = end - first, m, i;
	uint64_t *vals = calloc(n, sizeof(*vals));

	if (!vals)
		return a;
	for (i = 0; i < n; i++)
		vals[i] = set->v[first + i].value;
	m = kp_top_n(vals, n, KP_SCHED_TOP, top);
	for (i = 0; i < m; i++)
		if (set->v[first + top[i]].peer)
			json_object_array_add(a,
				peer_json(&set->v[first + top[i]]));
	free(vals);
	return a;
}

/*
 * Add to o, for every metric of the registry present in set (and, when
 * vcpu_only, recorded per vCPU), its value as the registry says to show it
 * (enum kp_show); percentages are the ones kp_interval_finish derived.
 * vm_level: set is a VM's own set. buckets: histograms with their buckets,
 * else their count, sum and percentiles only.
 */
static void add_metrics(struct json_object *o, const struct kp_interval *iv,
			const struct kp_sample_set *set, bool vcpu_only,
			bool vm_level, bool buckets)
{
	const struct kp_metric_desc *d;
	const struct kp_sample *p;
	struct json_object *m;
	size_t i, first;
	int id;

	for (id = 0; id < KP_M__COUNT; id++) {
		d = kp_metric(id);
		if ((vcpu_only && d->scope != KP_SCOPE_VCPU) ||
		    kp_metric_is_dev(id)) /* kp_json_add_devices() */
			continue;
		first = kp_sample_first(set, id);
		if (first == set->n)
			continue;
		p = &set->v[first];
		for (i = first; i < set->n &&
		     set->v[i].metric == (enum kp_metric_id)id; i++)
			;
		switch (d->show) {
		case KP_SHOW_COUNT:
			m = json_object_new_uint64(p->value);
			break;
		case KP_SHOW_PCT:
			m = kp_json_fixed3(p->pct);
			break;
		case KP_SHOW_DELAY:
			m = delay_json(iv, p, vm_level, buckets);
			break;
		case KP_SHOW_INFO: /* a VM: the label most of its vCPUs have */
			for (; first < i; first++)
				if (set->v[first].value > p->value)
					p = &set->v[first];
			m = kp_json_string(p->label);
			break;
		case KP_SHOW_TOP:
			m = top_json(set, first, i);
			break;
		default:
			m = json_object_new_object();
			for (; p < set->v + i; p++)
				json_object_object_add(m, p->label, p->hist ?
					kp_json_hist_ext(p->hist, buckets) :
					json_object_new_uint64(p->value));
		}
		json_object_object_add(o, d->json, m);
	}
}

static struct json_object *vm_identity(const struct kp_vm_rec *vm)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "pid", json_object_new_int64(vm->pid));
	json_object_object_add(o, "name", kp_json_string(vm->name));
	json_object_object_add(o, "uuid", kp_json_string(vm->uuid));
	json_object_object_add(o, "comm",
			       vm->comm[0] ? kp_json_string(vm->comm) : NULL);
	return o;
}

/*
 * The VM-wide gauges in registry order, as numbers; a key "a.b" of the
 * registry nests: {"a":{"b":value}}.
 */
static void add_gauges(struct json_object *o, const struct kp_sample_set *set)
{
	const struct kp_sample *p;
	struct json_object *parent;
	const char *key, *dot;
	char group[32];
	int id;

	for (id = 0; id < KP_M__COUNT && set->n; id++) {
		p = kp_sample_find(set, id, "");
		if (!p)
			continue;
		key = kp_metric(id)->json;
		dot = strchr(key, '.');
		parent = o;
		if (dot && (size_t)(dot - key) < sizeof(group)) {
			snprintf(group, sizeof(group), "%.*s", (int)(dot - key),
				 key);
			if (!json_object_object_get_ex(o, group, &parent)) {
				parent = json_object_new_object();
				json_object_object_add(o, group, parent);
			}
			key = dot + 1;
		}
		json_object_object_add(parent, key,
				       json_object_new_uint64(p->value));
	}
}

static int vm_record(struct kp_sink *s, const struct kp_interval *iv,
		     const struct kp_vm_rec *vm)
{
	struct json_object *o = record("vm", &iv->ts), *vcpus, *v;
	/* a vCPU's buckets only with --hist: most of a large VM's record */
	bool buckets = s->opts && s->opts->hist;
	size_t i;

	json_object_object_add(o, "interval_s",
			       kp_json_fixed3(iv->interval_s));
	json_object_object_add(o, "vm", vm_identity(vm));
	vcpus = json_object_new_array();
	for (i = 0; i < vm->nvcpus; i++) {
		const struct kp_vcpu_rec *vc = &vm->vcpus[i];

		v = json_object_new_object();
		json_object_object_add(v, "index", vc->index < 0 ? NULL :
				       json_object_new_int(vc->index));
		json_object_object_add(v, "tid", json_object_new_int64(vc->tid));
		add_metrics(v, iv, &vc->s, true, false, buckets);
		json_object_array_add(vcpus, v);
	}
	add_metrics(o, iv, &vm->s, false, true, true);
	add_gauges(o, &vm->gauges);
	kp_json_add_devices(o, &vm->s);
	json_object_object_add(o, "vcpus", vcpus);
	return emit(s, o);
}

static int json_interval(struct kp_sink *s, const struct kp_interval *iv)
{
	struct json_object *o, *lost, *cpu;
	size_t i;

	for (i = 0; i < iv->nvms; i++)
		vm_record(s, iv, &iv->vms[i]);
	if (iv->host.n) {
		/* I/O of no process: the kernel's own (docs/output.md) */
		o = record("host", &iv->ts);
		json_object_object_add(o, "interval_s",
				       kp_json_fixed3(iv->interval_s));
		kp_json_add_devices(o, &iv->host);
		emit(s, o);
	}
	o = record("interval", &iv->ts);
	json_object_object_add(o, "interval_s",
			       kp_json_fixed3(iv->interval_s));
	json_object_object_add(o, "vms", json_object_new_int64(iv->nvms));
	lost = json_object_new_object();
	for (i = 0; i < iv->nlost; i++)
		json_object_object_add(lost, iv->lost[i].probe,
				       json_object_new_uint64(iv->lost[i].n));
	json_object_object_add(o, kp_host_metric(KP_HM_LOST_EVENTS)->json,
			       lost);
	json_object_object_add(o, kp_host_metric(KP_HM_RECORDS_DROPPED)->json,
			       json_object_new_uint64(iv->records_dropped));
	if (iv->cpu.ncpus) {
		cpu = json_object_new_object();
		json_object_object_add(cpu, "busy_pct", isnan(iv->cpu.busy_pct) ?
				       NULL : kp_json_fixed3(iv->cpu.busy_pct));
		json_object_object_add(cpu, "cpus",
				       json_object_new_int64(iv->cpu.ncpus));
		json_object_object_add(o, kp_host_metric(KP_HM_CPU_BUSY)->json,
				       cpu);
	}
	if (iv->sched_events.window_ns)
		json_object_object_add(o,
				       kp_host_metric(KP_HM_SCHED_EVENTS)->json,
				       events_pct(iv));
	emit(s, o);
	return kp_sink_flush(s->out);
}

static int json_stop(struct kp_sink *s, const struct kp_stop_info *info)
{
	struct json_object *o = record("stop", &info->ts);

	json_object_object_add(o, kp_host_metric(KP_HM_INTERVALS)->json,
			       json_object_new_uint64(info->intervals));
	json_object_object_add(o, "reason",
			       json_object_new_string(info->reason));
	emit(s, o);
	return kp_sink_flush(s->out);
}

static int json_notice(struct kp_sink *s, const struct kp_notice *n)
{
	struct json_object *o = record("notice", &n->ts);

	json_object_object_add(o, "source", kp_json_string(n->source));
	json_object_object_add(o, "state", kp_json_string(n->state));
	json_object_object_add(o, "message", kp_json_string(n->message));
	emit(s, o);
	return kp_sink_flush(s->out);
}

/* docs/output.md: "alert" */
static int json_alert(struct kp_sink *s, const struct kp_alert_event *ev,
		      const struct timespec *ts)
{
	struct json_object *o = record("alert", ts), *vm;
	struct timespec since = { .tv_sec = (time_t)ev->since };
	char buf[40];

	json_object_object_add(o, "state", json_object_new_string(
					   ev->firing ? "firing" : "resolved"));
	json_object_object_add(o, "rule", kp_json_string(ev->rule->name));
	json_object_object_add(o, "severity", json_object_new_string(
					   kp_severity_name(ev->rule->severity)));
	vm = json_object_new_object();
	json_object_object_add(vm, "pid", json_object_new_int64(ev->pid));
	json_object_object_add(vm, "name", kp_json_string(ev->name));
	json_object_object_add(vm, "uuid", kp_json_string(ev->uuid));
	json_object_object_add(vm, "comm", kp_json_string(ev->comm));
	json_object_object_add(o, "vm", vm);
	json_object_object_add(o, "vcpu", ev->vcpu < 0 ? NULL :
				   json_object_new_int(ev->vcpu));
	json_object_object_add(o, "metric", json_object_new_string(
					   kp_metric(ev->rule->metric)->json));
	json_object_object_add(o, "stat", json_object_new_string(
					   kp_stat_name(ev->rule->stat)));
	json_object_object_add(o, "value", ev->has_value ?
				   kp_json_fixed3(ev->value) : NULL);
	json_object_object_add(o, "threshold",
			       kp_json_fixed3(ev->rule->threshold));
	since.tv_nsec = (long)((ev->since - (double)since.tv_sec) * 1e9);
	if (!kp_format_ts(&since, buf, sizeof(buf)))
		json_object_object_add(o, "since", json_object_new_string(buf));
	emit(s, o);
	return kp_sink_flush(s->out);
}

void kp_sink_json_init(struct kp_sink *s, FILE *out, const struct kp_opts *o)
{
	memset(s, 0, sizeof(*s));
	s->name = "json";
	s->start = json_start;
	s->interval = json_interval;
	s->stop = json_stop;
	s->notice = json_notice;
	s->alert = json_alert;
	s->out = out;
	s->opts = o;
}
