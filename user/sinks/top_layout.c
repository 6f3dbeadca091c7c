// SPDX-License-Identifier: GPL-2.0
/*
 * kvmprobe top, the pure part: frames from NDJSON records, the tables of
 * the views, widths and cells. Every number comes from a record's key
 * (docs/output.md); rates divide a record's count by its interval_s, and
 * p99 of several histograms merges them with the helpers of user/core/hist.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "user/core/hist.h"
#include "user/sinks/top_layout.h"

static struct json_object *get(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, k, &v))
		return NULL;
	return v;
}

/* a number key, NAN when absent or null */
static double num(struct json_object *o, const char *k)
{
	struct json_object *v = get(o, k);

	if (!v || !(json_object_is_type(v, json_type_int) ||
		    json_object_is_type(v, json_type_double)))
		return NAN;
	return json_object_get_double(v);
}

static const char *str(struct json_object *o, const char *k)
{
	struct json_object *v = get(o, k);

	return v && json_object_is_type(v, json_type_string) ?
		json_object_get_string(v) : NULL;
}

static double rate(double v, double secs)
{
	return isnan(v) ? NAN : v / secs;
}

/* Merge a HIST object (docs/output.md) into h. */
static void hist_from_json(struct kp_hist *h, struct json_object *o)
{
	struct json_object *b = get(o, "buckets"), *e, *le;
	size_t i, n;
	unsigned int slot;

	if (!b || !json_object_is_type(b, json_type_array))
		return;
	n = json_object_array_length(b);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(b, i);
		if (!json_object_is_type(e, json_type_array) ||
		    json_object_array_length(e) != 2)
			continue;
		le = json_object_array_get_idx(e, 0);
		slot = le ? kp_hist_slot(json_object_get_uint64(le)) :
			KP_HIST_SLOTS - 1;
		h->slots[slot] += json_object_get_uint64(
			json_object_array_get_idx(e, 1));
		h->count += json_object_get_uint64(
			json_object_array_get_idx(e, 1));
	}
	h->sum += json_object_get_uint64(get(o, "sum_ns"));
}

/* p99 in us of the merge of every HIST under o ({label: HIST}) */
static double p99_of_labels(struct json_object *o)
{
	struct kp_hist h = { 0 };

	if (!o || !json_object_is_type(o, json_type_object))
		return NAN;
	json_object_object_foreach(o, k, v) {
		(void)k;
		hist_from_json(&h, v);
	}
	return h.count ? kp_hist_percentile(&h, 99) / 1e3 : NAN;
}

/* {label: count}: the sum, and the two largest with their share */
static double top_labels(struct json_object *o, char *buf, size_t len)
{
	const char *name[2] = { NULL, NULL };
	uint64_t val[2] = { 0, 0 }, total = 0, x;
	int n = 0, i;

	buf[0] = '\0';
	if (!o || !json_object_is_type(o, json_type_object))
		return NAN;
	json_object_object_foreach(o, k, v) {
		x = json_object_get_uint64(v);
		total += x;
		if (!name[0] || x > val[0]) {
			name[1] = name[0];
			val[1] = val[0];
			name[0] = k;
			val[0] = x;
		} else if (!name[1] || x > val[1]) {
			name[1] = k;
			val[1] = x;
		}
	}
	for (i = 0; i < 2 && name[i] && total; i++)
		if (val[i])
			n += snprintf(buf + n, len - n, "%s%s %.0f%%",
				      i ? " " : "", name[i],
				      100.0 * val[i] / total);
	return (double)total;
}

/* The ns of every label of o as a percentage of secs (as %USED); NAN when
 * o is absent. */
static double labels_pct(struct json_object *o, double secs)
{
	char scratch[KP_TOP_STR];

	return rate(top_labels(o, scratch, sizeof(scratch)), secs * 1e7);
}

/* The first of preempted_by: "comm pid 33%" */
static void neighbour(struct json_object *a, double secs, char *buf,
		      size_t len)
{
	struct json_object *p;
	const char *comm;

	snprintf(buf, len, "-");
	if (!a || !json_object_is_type(a, json_type_array) ||
	    !json_object_array_length(a))
		return;
	p = json_object_array_get_idx(a, 0);
	comm = str(p, "comm");
	snprintf(buf, len, "%s[%.0f] %.0f%%", comm ? comm : "?",
		 num(p, "tid"), num(p, "ns") / secs / 1e7);
}

static void cpu_fields(struct json_object *o, double secs, double *used,
		       double *rdy, double *preempt_s, char *nb, size_t nblen)
{
	*used = num(o, "cpu_pct");
	*rdy = num(get(o, "run_delay"), "ready_pct");
	*preempt_s = rate(num(o, "preemptions"), secs);
	neighbour(get(o, "preempted_by"), secs, nb, nblen);
}

static int vcpus_from_json(struct kp_top_vm *vm, struct json_object *a,
			   double secs)
{
	struct kp_top_vcpu *c;
	struct json_object *o;
	char scratch[KP_TOP_STR];
	size_t i, n;

	if (!a || !json_object_is_type(a, json_type_array))
		return 0;
	n = json_object_array_length(a);
	if (!n)
		return 0;
	vm->vcpus = calloc(n, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		o = json_object_array_get_idx(a, i);
		c = &vm->vcpus[vm->nvcpus++];
		c->index = get(o, "index") ? json_object_get_int(
			get(o, "index")) : -1;
		c->tid = (uint32_t)num(o, "tid");
		cpu_fields(o, secs, &c->used, &c->rdy, &c->preempt_s,
			   c->neighbour, sizeof(c->neighbour));
		c->exits_s = rate(top_labels(get(o, "exits"), scratch,
					     sizeof(scratch)), secs);
		c->uexits_s = rate(top_labels(get(o, "userspace_exits"),
					      scratch, sizeof(scratch)), secs);
		c->halts_s = num(o, "halts") / secs;
		c->pfail = num(o, "poll_fail_pct");
		c->uwait = labels_pct(get(o, "userspace_waiting_ns"), secs);
		c->ublk = labels_pct(get(o, "userspace_blocked_ns"), secs);
	}
	return 0;
}

/* the sum of key k over every operation of a disk object */
static void disk_from_json(struct kp_top_disk *d, struct json_object *o,
			   double secs)
{
	static const char *const ops[] = { "read", "write", "flush",
					   "discard", "other" };
	struct kp_hist q = { 0 }, dv = { 0 }, t = { 0 };
	struct json_object *op;
	const char *s;
	size_t i;

	s = str(o, "dev");
	snprintf(d->dev, sizeof(d->dev), "%s", s ? s : "?");
	s = str(o, "target");
	snprintf(d->target, sizeof(d->target), "%s", s ? s : "-");
	op = get(o, "read");
	d->r_iops = op ? num(op, "ios") / secs : 0;
	d->r_mbs = op ? num(op, "bytes") / secs / 1e6 : 0;
	op = get(o, "write");
	d->w_iops = op ? num(op, "ios") / secs : 0;
	d->w_mbs = op ? num(op, "bytes") / secs / 1e6 : 0;
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		op = get(o, ops[i]);
		hist_from_json(&q, get(op, "queue_hist"));
		hist_from_json(&dv, get(op, "device_hist"));
		hist_from_json(&t, get(op, "latency_hist"));
	}
	d->q99 = q.count ? kp_hist_percentile(&q, 99) / 1e3 : NAN;
	d->d99 = dv.count ? kp_hist_percentile(&dv, 99) / 1e3 : NAN;
	d->t99 = t.count ? kp_hist_percentile(&t, 99) / 1e3 : NAN;
}

static void nic_from_json(struct kp_top_nic *n, struct json_object *o,
			  double secs)
{
	struct json_object *rx = get(o, "rx"), *tx = get(o, "tx");
	double rxp = rx ? num(rx, "packets") : 0;
	double txp = tx ? num(tx, "packets") : 0;
	double drops;
	const char *s = str(o, "dev");
	char top[KP_TOP_STR];

	snprintf(n->dev, sizeof(n->dev), "%s", s ? s : "?");
	n->rx_pps = rxp / secs;
	n->tx_pps = txp / secs;
	n->rx_mbps = (rx ? num(rx, "bytes") : 0) * 8 / secs / 1e6;
	n->tx_mbps = (tx ? num(tx, "bytes") : 0) * 8 / secs / 1e6;
	drops = top_labels(get(o, "drops"), top, sizeof(top));
	if (isnan(drops))
		drops = 0;
	/* drops of either way against every packet the tap saw */
	n->drp_pct = rxp + txp + drops > 0 ?
		100.0 * drops / (rxp + txp + drops) : 0;
	/* the top reason alone: "FULL_RING 80%" */
	snprintf(n->drop, sizeof(n->drop), "%s", drops > 0 ? top : "-");
	if (strchr(n->drop, ' ') && strchr(strchr(n->drop, ' ') + 1, ' '))
		*strchr(strchr(n->drop, ' ') + 1, ' ') = '\0';
	n->dlv99 = num(o, "delivery_p99_us");
}

static int devs_from_json(struct kp_top_vm *vm, struct json_object *rec,
			  double secs)
{
	struct json_object *d = get(rec, "disks"), *n = get(rec, "interfaces");
	size_t i, len;

	if (d && json_object_is_type(d, json_type_array) &&
	    (len = json_object_array_length(d))) {
		vm->disks = calloc(len, sizeof(*vm->disks));
		if (!vm->disks)
			return -ENOMEM;
		for (i = 0; i < len; i++)
			disk_from_json(&vm->disks[vm->ndisks++],
				       json_object_array_get_idx(d, i), secs);
	}
	if (n && json_object_is_type(n, json_type_array) &&
	    (len = json_object_array_length(n))) {
		vm->nics = calloc(len, sizeof(*vm->nics));
		if (!vm->nics)
			return -ENOMEM;
		for (i = 0; i < len; i++)
			nic_from_json(&vm->nics[vm->nnics++],
				      json_object_array_get_idx(n, i), secs);
	}
	return 0;
}

static int vm_from_json(struct kp_top_vm *vm, struct json_object *rec,
			double secs)
{
	struct json_object *id = get(rec, "vm"), *mem = get(rec, "memory");
	const char *name = str(id, "name");
	char scratch[KP_TOP_STR];
	int err;

	if (!name)
		name = str(id, "comm");
	vm->pid = (uint32_t)num(id, "pid");
	snprintf(vm->name, sizeof(vm->name), "%s", name ? name : "?");
	cpu_fields(rec, secs, &vm->used, &vm->rdy, &vm->preempt_s,
		   vm->neighbour, sizeof(vm->neighbour));
	vm->maxrdy = num(get(rec, "run_delay"), "worst_ready_pct");
	vm->exits_s = rate(top_labels(get(rec, "exits"), vm->top_exits,
				      sizeof(vm->top_exits)), secs);
	vm->uexits_s = rate(top_labels(get(rec, "userspace_exits"),
				       vm->top_uexits, sizeof(vm->top_uexits)),
			    secs);
	vm->exit_p99 = p99_of_labels(get(rec, "exit_time"));
	vm->vmm_p99 = p99_of_labels(get(rec, "userspace_time"));
	vm->halts_s = num(rec, "halts") / secs;
	vm->pfail = num(rec, "poll_fail_pct");
	vm->uwait = labels_pct(get(rec, "userspace_waiting_ns"), secs);
	vm->ublk = labels_pct(get(rec, "userspace_blocked_ns"), secs);
	vm->bal_cur = num(mem, "balloon_current_kib");
	vm->bal_max = num(mem, "balloon_max_kib");
	vm->rss = num(mem, "rss_kib");
	vm->swin = num(mem, "swap_in_kib");
	vm->swout = num(mem, "swap_out_kib");
	vm->majflt = num(mem, "major_faults");
	(void)scratch;
	err = vcpus_from_json(vm, get(rec, "vcpus"), secs);
	return err ? err : devs_from_json(vm, rec, secs);
}

double kp_top_parse_ts(const char *s)
{
	struct tm tm = { 0 };
	int ms = 0;

	if (!s || sscanf(s, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon,
			 &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
			 &ms) != 7)
		return NAN;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (double)timegm(&tm) + ms / 1e3;
}

static int alert_from_json(struct kp_top_alerts *a, struct json_object *rec)
{
	struct json_object *vm = get(rec, "vm");
	const char *rule = str(rec, "rule"), *who = str(vm, "name");
	const char *state = str(rec, "state"), *sev = str(rec, "severity");
	const char *metric = str(rec, "metric");
	struct kp_top_alert *x = NULL;
	uint32_t pid = (uint32_t)num(vm, "pid");
	int vcpu = get(rec, "vcpu") ? json_object_get_int(get(rec, "vcpu")) :
		-1;
	size_t i;

	if (!rule || !state)
		return -EINVAL;
	if (!who)
		who = str(vm, "comm");
	for (i = 0; i < a->n && !x; i++)
		if (!strcmp(a->v[i].rule, rule) && a->v[i].pid == pid &&
		    a->v[i].vcpu == vcpu)
			x = &a->v[i];
	if (!x) {
		if (a->n == a->cap) {
			size_t cap = a->cap ? a->cap * 2 : 16;
			void *p = realloc(a->v, cap * sizeof(*a->v));

			if (!p)
				return -ENOMEM;
			a->v = p;
			a->cap = cap;
		}
		x = &a->v[a->n++];
		memset(x, 0, sizeof(*x));
		snprintf(x->rule, sizeof(x->rule), "%s", rule);
		x->pid = pid;
		x->vcpu = vcpu;
	}
	snprintf(x->who, sizeof(x->who), "%s", who ? who : "?");
	snprintf(x->severity, sizeof(x->severity), "%s", sev ? sev : "?");
	snprintf(x->metric, sizeof(x->metric), "%s", metric ? metric : "?");
	x->firing = !strcmp(state, "firing");
	x->value = num(rec, "value");
	x->threshold = num(rec, "threshold");
	x->changed = kp_top_parse_ts(str(rec, "ts"));
	x->since = kp_top_parse_ts(str(rec, "since"));
	return 0;
}

int kp_top_frame_add(struct kp_top_frame *f, struct kp_top_alerts *a,
		     struct json_object *rec)
{
	const char *type = str(rec, "type"), *ts = str(rec, "ts");
	double secs = num(rec, "interval_s");
	struct kp_top_vm *vm;
	int err;

	if (!type)
		return -EINVAL;
	if (!strcmp(type, "alert")) {
		f->nalerts++;
		if (!strcmp(str(rec, "state") ?: "", "firing"))
			f->nfiring++;
		return a ? alert_from_json(a, rec) : 0;
	}
	if (strcmp(type, "vm") && strcmp(type, "host") &&
	    strcmp(type, "interval"))
		return 0;
	if (isnan(secs) || secs <= 0)
		secs = 1;
	if (ts) {
		snprintf(f->ts, sizeof(f->ts), "%s", ts);
		f->t = kp_top_parse_ts(ts);
	}
	f->interval_s = secs;
	if (!strcmp(type, "interval")) {
		struct json_object *lost = get(rec, "lost");

		f->lost = 0;
		if (lost && json_object_is_type(lost, json_type_object)) {
			json_object_object_foreach(lost, k, v) {
				(void)k;
				f->lost += json_object_get_uint64(v);
			}
		}
		f->dropped = (uint64_t)num(rec, "records_dropped");
		f->cpu_pct = num(get(rec, "host_cpu"), "busy_pct");
		f->ncpus = isnan(num(get(rec, "host_cpu"), "cpus")) ? 0 :
			(unsigned int)num(get(rec, "host_cpu"), "cpus");
		f->sched_events_pct = num(rec, "sched_events_pct");
		f->complete = true;
		return 0;
	}
	if (f->nvms == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		void *p = realloc(f->vms, cap * sizeof(*f->vms));

		if (!p)
			return -ENOMEM;
		f->vms = p;
		f->cap = cap;
	}
	vm = &f->vms[f->nvms++];
	memset(vm, 0, sizeof(*vm));
	if (!strcmp(type, "host")) {
		snprintf(vm->name, sizeof(vm->name), "(host)");
		vm->used = vm->rdy = vm->maxrdy = vm->preempt_s = NAN;
		vm->exits_s = vm->uexits_s = vm->exit_p99 = NAN;
		vm->halts_s = vm->pfail = vm->uwait = vm->ublk = NAN;
		vm->vmm_p99 = vm->bal_cur = vm->bal_max = vm->rss = NAN;
		vm->swin = vm->swout = vm->majflt = NAN;
		snprintf(vm->neighbour, sizeof(vm->neighbour), "-");
		err = devs_from_json(vm, rec, secs);
	} else {
		err = vm_from_json(vm, rec, secs);
	}
	return err;
}

void kp_top_frame_clear(struct kp_top_frame *f)
{
	size_t i;

	for (i = 0; i < f->nvms; i++) {
		free(f->vms[i].vcpus);
		free(f->vms[i].disks);
		free(f->vms[i].nics);
	}
	free(f->vms);
	memset(f, 0, sizeof(*f));
}

void kp_top_alerts_clear(struct kp_top_alerts *a)
{
	free(a->v);
	memset(a, 0, sizeof(*a));
}

static int sev_rank(const char *s)
{
	return !strcmp(s, "critical") ? 3 : !strcmp(s, "warning") ? 2 :
		!strcmp(s, "info") ? 1 : 0;
}

size_t kp_top_alerts_firing(const struct kp_top_alerts *a,
			    const struct kp_top_alert **worst)
{
	const struct kp_top_alert *w = NULL;
	size_t i, n = 0;

	for (i = 0; a && i < a->n; i++) {
		if (!a->v[i].firing)
			continue;
		n++;
		if (!w || sev_rank(a->v[i].severity) > sev_rank(w->severity) ||
		    (sev_rank(a->v[i].severity) == sev_rank(w->severity) &&
		     a->v[i].since < w->since))
			w = &a->v[i];
	}
	if (worst)
		*worst = w;
	return n;
}

/* ---- views ---- */

static const struct kp_top_col cpu_cols[] = {
	{ "PID", 7, 0, false, false },
	{ "NAME", 12, 0, true, true },
	{ "NVCPU", 5, 0, false, false },
	{ "%USED", 7, 1, false, false },
	{ "%RDY", 7, 1, false, false },
	{ "%MAXRDY", 7, 1, false, false },
	{ "PREEMPT/s", 9, 0, false, false },
	{ "TOP NEIGHBOUR", 24, 0, true, false },
};

static const struct kp_top_col exit_cols[] = {
	{ "PID", 7, 0, false, false },
	{ "NAME", 12, 0, true, true },
	{ "EXITS/s", 9, 0, false, false },
	{ "VMMEXIT/s", 9, 0, false, false },
	{ "TOP EXITS", 20, 0, true, false },
	{ "TOP VMM EXITS", 20, 0, true, false },
	{ "EXIT p99us", 10, 1, false, false },
	{ "VMM p99us", 10, 1, false, false },
	{ "HALTS/s", 8, 0, false, false },
	{ "%PFAIL", 6, 1, false, false },
	{ "%UWAIT", 6, 1, false, false },
	{ "%UBLK", 6, 1, false, false },
};

static const struct kp_top_col disk_cols[] = {
	{ "PID", 7, 0, false, false },
	{ "NAME", 12, 0, true, true },
	{ "DEV", 8, 0, true, false },
	{ "GUEST", 5, 0, true, false },
	{ "R-IOPS", 8, 0, false, false },
	{ "W-IOPS", 8, 0, false, false },
	{ "R-MB/s", 7, 1, false, false },
	{ "W-MB/s", 7, 1, false, false },
	{ "QUEUE p99", 9, 1, false, false },
	{ "DEV p99", 9, 1, false, false },
	{ "TOTAL p99", 9, 1, false, false },
};

static const struct kp_top_col net_cols[] = {
	{ "PID", 7, 0, false, false },
	{ "NAME", 12, 0, true, true },
	{ "DEV", 8, 0, true, false },
	{ "RX-pps", 8, 0, false, false },
	{ "TX-pps", 8, 0, false, false },
	{ "RX-Mb/s", 8, 1, false, false },
	{ "TX-Mb/s", 8, 1, false, false },
	{ "%DRP", 6, 1, false, false },
	{ "TOP DROP", 18, 0, true, false },
	{ "DLV p99us", 10, 1, false, false },
};

static const struct kp_top_col mem_cols[] = {
	{ "PID", 7, 0, false, false },
	{ "NAME", 12, 0, true, true },
	{ "BALLOON MiB", 11, 0, false, false },
	{ "MAX MiB", 8, 0, false, false },
	{ "RSS MiB", 8, 0, false, false },
	{ "SWIN KiB", 9, 0, false, false },
	{ "SWOUT KiB", 9, 0, false, false },
	{ "MAJFLT", 8, 0, false, false },
};

static const struct kp_top_col alert_cols[] = {
	{ "STATE", 8, 0, true, false },
	{ "SEVERITY", 8, 0, true, false },
	{ "RULE", 20, 0, true, false },
	{ "PID", 7, 0, false, false },
	{ "NAME", 12, 0, true, true },
	{ "VCPU", 4, 0, false, false },
	{ "METRIC", 14, 0, true, false },
	{ "VALUE", 9, 1, false, false },
	{ "THRESH", 9, 1, false, false },
	{ "FOR s", 7, 0, false, false },
};

#define COLS(a) a, sizeof(a) / sizeof(a[0])

static const struct {
	int key;
	const char *name;
	const struct kp_top_col *cols;
	size_t ncols;
} views[KP_VIEW__COUNT] = {
	[KP_VIEW_CPU] = { 'c', "CPU", COLS(cpu_cols) },
	[KP_VIEW_EXITS] = { 'x', "exits", COLS(exit_cols) },
	[KP_VIEW_DISK] = { 'd', "disk", COLS(disk_cols) },
	[KP_VIEW_NET] = { 'n', "network", COLS(net_cols) },
	[KP_VIEW_MEM] = { 'm', "memory", COLS(mem_cols) },
	[KP_VIEW_ALERTS] = { 'a', "alerts", COLS(alert_cols) },
};

int kp_top_view_of_key(int c)
{
	int i;

	for (i = 0; i < KP_VIEW__COUNT; i++)
		if (views[i].key == c)
			return i;
	return -1;
}

const char *kp_top_view_name(enum kp_top_view v)
{
	return v < KP_VIEW__COUNT ? views[v].name : "?";
}

const struct kp_top_col *kp_top_cols(enum kp_top_view v, size_t *n)
{
	*n = views[v].ncols;
	return views[v].cols;
}

void kp_top_state_init(struct kp_top_state *st)
{
	memset(st, 0, sizeof(*st));
	st->view = KP_VIEW_CPU;
	st->sort[KP_VIEW_CPU] = 3;    /* %USED */
	st->sort[KP_VIEW_EXITS] = 2;  /* EXITS/s */
	st->sort[KP_VIEW_DISK] = 4;   /* R-IOPS */
	st->sort[KP_VIEW_NET] = 3;    /* RX-pps */
	st->sort[KP_VIEW_MEM] = 4;    /* RSS */
	st->sort[KP_VIEW_ALERTS] = 0; /* STATE: firing first */
}

bool kp_top_is_expanded(const struct kp_top_state *st, uint32_t pid)
{
	size_t i;

	if (st->expand_all)
		return true;
	for (i = 0; i < st->nexpanded; i++)
		if (st->expanded[i] == pid)
			return true;
	return false;
}

void kp_top_toggle_expand(struct kp_top_state *st, uint32_t pid)
{
	size_t i;

	for (i = 0; i < st->nexpanded; i++) {
		if (st->expanded[i] == pid) {
			st->expanded[i] = st->expanded[--st->nexpanded];
			return;
		}
	}
	if (st->nexpanded < sizeof(st->expanded) / sizeof(st->expanded[0]))
		st->expanded[st->nexpanded++] = pid;
}

bool kp_top_matches(const char *filter, const struct kp_top_vm *vm)
{
	char pid[16];

	if (!filter || !*filter)
		return true;
	snprintf(pid, sizeof(pid), "%u", vm->pid);
	return strstr(vm->name, filter) || !strcmp(pid, filter);
}

static struct kp_top_row *add_row(struct kp_top_table *t, int level,
				  uint32_t pid)
{
	struct kp_top_row *r;
	size_t i;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		void *p = realloc(t->rows, cap * sizeof(*t->rows));

		if (!p)
			return NULL;
		t->rows = p;
		t->cap = cap;
	}
	r = &t->rows[t->n++];
	memset(r, 0, sizeof(*r));
	r->level = level;
	r->pid = pid;
	r->vcpu = -1;
	for (i = 0; i < KP_TOP_MAXCOLS; i++)
		r->c[i].v = NAN;
	return r;
}

static void set_s(struct kp_top_row *r, int col, const char *s)
{
	snprintf(r->c[col].s, sizeof(r->c[col].s), "%.*s",
		 (int)sizeof(r->c[col].s) - 1, s);
}

static void set_pid(struct kp_top_row *r, int col, uint32_t pid)
{
	if (pid)
		r->c[col].v = pid;
}

static void cpu_row(struct kp_top_row *r, const struct kp_top_vm *vm)
{
	set_pid(r, 0, vm->pid);
	set_s(r, 1, vm->name);
	r->c[2].v = vm->nvcpus;
	r->c[3].v = vm->used;
	r->c[4].v = vm->rdy;
	r->c[5].v = vm->maxrdy;
	r->c[6].v = vm->preempt_s;
	set_s(r, 7, vm->neighbour);
}

static void vcpu_row(struct kp_top_row *r, const struct kp_top_vcpu *c,
		     enum kp_top_view v)
{
	char name[KP_TOP_STR];

	if (c->index >= 0)
		snprintf(name, sizeof(name), "  vcpu %d", c->index);
	else
		snprintf(name, sizeof(name), "  vcpu ?");
	r->vcpu = c->index;
	r->c[0].v = c->tid;
	set_s(r, 1, name);
	if (v == KP_VIEW_CPU) {
		r->c[2].v = 1;
		r->c[3].v = c->used;
		r->c[4].v = c->rdy;
		r->c[5].v = c->rdy;
		r->c[6].v = c->preempt_s;
		set_s(r, 7, c->neighbour);
	} else {
		r->c[2].v = c->exits_s;
		r->c[3].v = c->uexits_s;
		r->c[8].v = c->halts_s;
		r->c[9].v = c->pfail;
		r->c[10].v = c->uwait;
		r->c[11].v = c->ublk;
	}
}

static void exit_row(struct kp_top_row *r, const struct kp_top_vm *vm)
{
	set_pid(r, 0, vm->pid);
	set_s(r, 1, vm->name);
	r->c[2].v = vm->exits_s;
	r->c[3].v = vm->uexits_s;
	set_s(r, 4, vm->top_exits[0] ? vm->top_exits : "-");
	set_s(r, 5, vm->top_uexits[0] ? vm->top_uexits : "-");
	r->c[6].v = vm->exit_p99;
	r->c[7].v = vm->vmm_p99;
	r->c[8].v = vm->halts_s;
	r->c[9].v = vm->pfail;
	r->c[10].v = vm->uwait;
	r->c[11].v = vm->ublk;
}

static void disk_row(struct kp_top_row *r, const struct kp_top_vm *vm,
		     const struct kp_top_disk *d)
{
	set_pid(r, 0, vm->pid);
	set_s(r, 1, vm->name);
	set_s(r, 2, d->dev);
	set_s(r, 3, d->target);
	r->c[4].v = d->r_iops;
	r->c[5].v = d->w_iops;
	r->c[6].v = d->r_mbs;
	r->c[7].v = d->w_mbs;
	r->c[8].v = d->q99;
	r->c[9].v = d->d99;
	r->c[10].v = d->t99;
}

static void nic_row(struct kp_top_row *r, const struct kp_top_vm *vm,
		    const struct kp_top_nic *n)
{
	set_pid(r, 0, vm->pid);
	set_s(r, 1, vm->name);
	set_s(r, 2, n->dev);
	r->c[3].v = n->rx_pps;
	r->c[4].v = n->tx_pps;
	r->c[5].v = n->rx_mbps;
	r->c[6].v = n->tx_mbps;
	r->c[7].v = n->drp_pct;
	set_s(r, 8, n->drop);
	r->c[9].v = n->dlv99;
}

static double mib(double kib)
{
	return kib / 1024;
}

static void mem_row(struct kp_top_row *r, const struct kp_top_vm *vm)
{
	set_pid(r, 0, vm->pid);
	set_s(r, 1, vm->name);
	r->c[2].v = mib(vm->bal_cur);
	r->c[3].v = mib(vm->bal_max);
	r->c[4].v = mib(vm->rss);
	r->c[5].v = vm->swin;
	r->c[6].v = vm->swout;
	r->c[7].v = vm->majflt;
}

static void alert_row(struct kp_top_row *r, const struct kp_top_alert *x,
		      double now)
{
	set_s(r, 0, x->firing ? "FIRING" : "resolved");
	set_s(r, 1, x->severity);
	set_s(r, 2, x->rule);
	set_pid(r, 3, x->pid);
	set_s(r, 4, x->who);
	if (x->vcpu >= 0)
		r->c[5].v = x->vcpu;
	set_s(r, 6, x->metric);
	r->c[7].v = x->value;
	r->c[8].v = x->threshold;
	/* firing: for how long; resolved: how long it fired */
	r->c[9].v = (x->firing ? now : x->changed) - x->since;
	if (r->c[9].v < 0)
		r->c[9].v = 0;
}

static int sort_col;
static bool sort_text, sort_rev;

/* numbers descending, text ascending; reverse flips; NAN last; then pid */
static int cmp_rows(const void *pa, const void *pb)
{
	const struct kp_top_row *a = pa, *b = pb;
	const struct kp_top_cell *x = &a->c[sort_col], *y = &b->c[sort_col];
	int c = 0;

	if (sort_text) {
		c = strcmp(x->s, y->s);
	} else if (isnan(x->v) || isnan(y->v)) {
		if (isnan(x->v) != isnan(y->v))
			return isnan(x->v) ? 1 : -1;
	} else {
		c = x->v > y->v ? -1 : x->v < y->v ? 1 : 0;
	}
	if (sort_rev)
		c = -c;
	if (c)
		return c;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return strcmp(a->c[2].s, b->c[2].s);
}

static int cmp_vcpu(const void *pa, const void *pb)
{
	const struct kp_top_vcpu *a = pa, *b = pb;

	if ((a->index < 0) != (b->index < 0))
		return a->index < 0 ? 1 : -1;
	if (a->index != b->index)
		return a->index < b->index ? -1 : 1;
	return a->tid < b->tid ? -1 : a->tid > b->tid;
}

/* insert the vCPU rows of every expanded VM after its row */
static int add_vcpus(struct kp_top_table *t, const struct kp_top_state *st,
		     const struct kp_top_frame *f)
{
	struct kp_top_row *old = t->rows, *r;
	size_t n = t->n, i, j, k;
	struct kp_top_vcpu *sorted;
	const struct kp_top_vm *vm;

	t->rows = NULL;
	t->n = t->cap = 0;
	for (i = 0; i < n; i++) {
		r = add_row(t, 0, 0);
		if (!r)
			goto err;
		*r = old[i];
		if (!kp_top_is_expanded(st, old[i].pid))
			continue;
		for (vm = NULL, j = 0; j < f->nvms && !vm; j++)
			if (f->vms[j].pid == old[i].pid)
				vm = &f->vms[j];
		if (!vm || !vm->nvcpus)
			continue;
		sorted = malloc(vm->nvcpus * sizeof(*sorted));
		if (!sorted)
			goto err;
		memcpy(sorted, vm->vcpus, vm->nvcpus * sizeof(*sorted));
		qsort(sorted, vm->nvcpus, sizeof(*sorted), cmp_vcpu);
		for (k = 0; k < vm->nvcpus; k++) {
			r = add_row(t, 1, vm->pid);
			if (!r) {
				free(sorted);
				goto err;
			}
			vcpu_row(r, &sorted[k], st->view);
		}
		free(sorted);
	}
	free(old);
	return 0;
err:
	free(old);
	return -ENOMEM;
}

int kp_top_build(struct kp_top_table *t, const struct kp_top_state *st,
		 const struct kp_top_frame *f, const struct kp_top_alerts *a,
		 double now)
{
	const struct kp_top_vm *vm;
	struct kp_top_row *r;
	size_t i, j;

	t->n = 0;
	t->cols = kp_top_cols(st->view, &t->ncols);
	for (i = 0; st->view == KP_VIEW_ALERTS && a && i < a->n; i++) {
		if (st->filter[0] &&
		    !kp_top_matches(st->filter, &(struct kp_top_vm){
				.pid = a->v[i].pid }) &&
		    !strstr(a->v[i].who, st->filter))
			continue;
		r = add_row(t, 0, a->v[i].pid);
		if (!r)
			return -ENOMEM;
		alert_row(r, &a->v[i], now);
	}
	for (i = 0; st->view != KP_VIEW_ALERTS && f && i < f->nvms; i++) {
		vm = &f->vms[i];
		if (!kp_top_matches(st->filter, vm))
			continue;
		switch (st->view) {
		case KP_VIEW_CPU:
		case KP_VIEW_EXITS:
		case KP_VIEW_MEM:
			if (!vm->pid)
				break; /* the host record has only devices */
			r = add_row(t, 0, vm->pid);
			if (!r)
				return -ENOMEM;
			if (st->view == KP_VIEW_CPU)
				cpu_row(r, vm);
			else if (st->view == KP_VIEW_EXITS)
				exit_row(r, vm);
			else
				mem_row(r, vm);
			break;
		case KP_VIEW_DISK:
			for (j = 0; j < vm->ndisks; j++) {
				r = add_row(t, 0, vm->pid);
				if (!r)
					return -ENOMEM;
				disk_row(r, vm, &vm->disks[j]);
			}
			break;
		default:
			for (j = 0; j < vm->nnics; j++) {
				r = add_row(t, 0, vm->pid);
				if (!r)
					return -ENOMEM;
				nic_row(r, vm, &vm->nics[j]);
			}
		}
	}
	sort_col = st->sort[st->view];
	if (sort_col < 0 || (size_t)sort_col >= t->ncols)
		sort_col = 0;
	sort_text = t->cols[sort_col].text;
	sort_rev = st->reverse[st->view];
	if (t->n)
		qsort(t->rows, t->n, sizeof(*t->rows), cmp_rows);
	if (f && (st->view == KP_VIEW_CPU || st->view == KP_VIEW_EXITS))
		return add_vcpus(t, st, f);
	return 0;
}

void kp_top_table_clear(struct kp_top_table *t)
{
	free(t->rows);
	memset(t, 0, sizeof(*t));
}

size_t kp_top_layout(const struct kp_top_col *cols, size_t ncols, int width,
		     int *widths)
{
	int used = 0, flex = -1;
	size_t i, n = 0;

	for (i = 0; i < ncols; i++) {
		int w = cols[i].width + (i ? 1 : 0); /* a space before */

		if (i && used + w > width)
			break;
		widths[i] = cols[i].width;
		used += w;
		if (cols[i].flex)
			flex = (int)i;
		n++;
	}
	if (flex >= 0 && used < width) {
		int more = width - used;

		if (widths[flex] + more > 40)
			more = 40 - widths[flex];
		if (more > 0)
			widths[flex] += more;
	}
	return n ? n : 1;
}

void kp_top_fmt_num(double v, int prec, int width, char *buf, size_t len)
{
	static const char suffix[] = "kMGT";
	int p, s;
	double x;

	if (isnan(v)) {
		snprintf(buf, len, "-");
		return;
	}
	for (p = prec; p >= 0; p--)
		if (snprintf(buf, len, "%.*f", p, v) <= width)
			return;
	for (s = 0, x = v / 1e3; s < 4; s++, x /= 1e3)
		for (p = 1; p >= 0; p--)
			if (snprintf(buf, len, "%.*f%c", p, x, suffix[s]) <=
			    width)
				return;
	snprintf(buf, len, "%.*s", width, "################");
}

void kp_top_format_row(const struct kp_top_table *t,
		       const struct kp_top_row *row, const int *widths,
		       size_t nvis, char *buf, size_t len)
{
	char cell[64];
	size_t i, off = 0;
	int n;

	buf[0] = '\0';
	for (i = 0; i < nvis && i < t->ncols && off < len; i++) {
		const struct kp_top_col *c = &t->cols[i];
		int w = widths[i];

		if (!row)
			snprintf(cell, sizeof(cell), "%s", c->title);
		else if (c->text)
			snprintf(cell, sizeof(cell), "%s",
				 row->c[i].s[0] ? row->c[i].s : "-");
		else
			kp_top_fmt_num(row->c[i].v, c->prec, w, cell,
				       sizeof(cell));
		if (c->text)
			n = snprintf(buf + off, len - off, "%s%-*.*s",
				     i ? " " : "", w, w, cell);
		else
			n = snprintf(buf + off, len - off, "%s%*.*s",
				     i ? " " : "", w, w, cell);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	/* no trailing blanks */
	if (off >= len)
		off = len - 1;
	while (off && buf[off - 1] == ' ')
		buf[--off] = '\0';
}

void kp_top_header(const struct kp_top_frame *f, const struct kp_top_alerts *a,
		   char *buf, size_t len)
{
	const struct kp_top_alert *worst;
	size_t i, nvms = 0, nvcpus = 0, firing;
	double rdy = 0;
	char when[16] = "--:--:--", cpu[16] = "-";
	int n;

	for (i = 0; f && i < f->nvms; i++) {
		if (!f->vms[i].pid)
			continue;
		nvms++;
		nvcpus += f->vms[i].nvcpus;
		if (!isnan(f->vms[i].rdy))
			rdy += f->vms[i].rdy;
	}
	/* the clock time of the interval's end, UTC, as in the records */
	if (f && f->ts[0] && strlen(f->ts) >= 19)
		snprintf(when, sizeof(when), "%.8s", f->ts + 11);
	if (f && f->ncpus && !isnan(f->cpu_pct))
		snprintf(cpu, sizeof(cpu), "%.1f%%", f->cpu_pct);
	firing = kp_top_alerts_firing(a, &worst);
	n = snprintf(buf, len,
		     "%s UTC  interval %.2fs  VMs %zu  vCPUs %zu  host CPU %s  %%RDY sum %.1f  lost %llu",
		     when, f ? f->interval_s : 0, nvms, nvcpus, cpu, rdy,
		     f ? (unsigned long long)f->lost : 0ULL);
	if (n < 0 || (size_t)n >= len)
		return;
	if (f && f->complete && !isnan(f->sched_events_pct)) {
		int m = snprintf(buf + n, len - n, "  events %.0f%%",
				 f->sched_events_pct);

		if (m < 0 || (size_t)m >= len - n)
			return;
		n += m;
	}
	if (firing)
		snprintf(buf + n, len - n, "  ALERTS %zu: %s %s %s", firing,
			 worst->severity, worst->rule, worst->who);
	else
		snprintf(buf + n, len - n, "  alerts 0");
}
