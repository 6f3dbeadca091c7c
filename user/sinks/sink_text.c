// SPDX-License-Identifier: GPL-2.0
/*
 * The text sink: an esxtop/virt-top-like table per interval, rates per
 * second and %CPU / %RDY as esxtop shows them, one row per VM (per vCPU
 * with --vcpus) and biolatency-style histograms with --hist.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "user/core/hist.h"
#include "user/core/metrics.h"
#include "user/sinks/sink.h"
#include "user/sinks/sink_dev.h"

static void top_label(const struct kp_sample_set *s, enum kp_metric_id m,
		      double secs, char *buf, size_t len)
{
	const struct kp_sample *best = NULL;
	uint64_t total = 0;
	size_t i;

	for (i = kp_sample_first(s, m); i < s->n && s->v[i].metric == m; i++) {
		total += s->v[i].value;
		if (!best || s->v[i].value > best->value)
			best = &s->v[i];
	}
	if (!best || !total) {
		snprintf(buf, len, "-");
		return;
	}
	snprintf(buf, len, "%s %.0f/s (%.0f%%)", best->label,
		 best->value / secs, 100.0 * best->value / total);
}

static uint64_t hist_count(const struct kp_sample_set *s, enum kp_metric_id m)
{
	return kp_sample_sum(s, m);
}

/* m's unlabelled sample in s as a percentage of the interval (derived by
 * kp_interval_finish), "-" when absent */
static void pct_cell(const struct kp_sample_set *s, enum kp_metric_id m,
		     char *buf, size_t len)
{
	const struct kp_sample *p = kp_sample_find(s, m, "");

	if (p)
		snprintf(buf, len, "%.1f", p->pct);
	else
		snprintf(buf, len, "-");
}

/* The time of m's samples in s (ns, any label) as a percentage of secs,
 * as %CPU is: "-" when s has none (m not measured). */
static void time_cell(const struct kp_sample_set *s, enum kp_metric_id m,
		      double secs, char *buf, size_t len)
{
	if (kp_sample_first(s, m) == s->n)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f",
			 kp_sample_sum(s, m) / (secs * 1e7));
}

/* The largest %RDY (m: run delay) or %LMT (m: limited) of vm's vCPUs
 * (esxtop's VM row sums; the worst vCPU is what a starved guest feels),
 * as kp_interval_finish derived it; "-" when none was measured. */
static void worst_cell(const struct kp_vm_rec *vm, enum kp_metric_id m,
		       char *buf, size_t len)
{
	const struct kp_sample *p = kp_sample_find(&vm->s, m, "");

	if (p)
		snprintf(buf, len, "%.1f", p->worst_pct);
	else
		snprintf(buf, len, "-");
}

static void row(FILE *f, const char *who, const char *name, size_t nvcpus,
		const struct kp_sample_set *s, const char *rdy, const char *lmt,
		double secs)
{
	char top_e[48], top_u[48], cpu[16], pfail[16], uwt[16], ublk[16];

	top_label(s, KP_M_EXITS, secs, top_e, sizeof(top_e));
	top_label(s, KP_M_UEXITS, secs, top_u, sizeof(top_u));
	pct_cell(s, KP_M_CPU_TIME, cpu, sizeof(cpu));
	pct_cell(s, KP_M_POLL_FAIL, pfail, sizeof(pfail));
	time_cell(s, KP_M_UEXIT_WAIT, secs, uwt, sizeof(uwt));
	time_cell(s, KP_M_UEXIT_BLOCK, secs, ublk, sizeof(ublk));
	fprintf(f, "%-8s %-16.16s %5zu %6s %6s %6s %10.0f %10.0f %6s %6s %9.0f %6s  %-22s %s\n",
		who, name, nvcpus, cpu, rdy, lmt, kp_sample_sum(s, KP_M_EXITS) / secs,
		kp_sample_sum(s, KP_M_UEXITS) / secs, uwt, ublk,
		hist_count(s, KP_M_HALT_TIME) / secs, pfail, top_e, top_u);
}

static void print_hist(FILE *f, const char *title, const struct kp_hist *h)
{
	uint64_t max = 0;
	unsigned int i, first = KP_HIST_SLOTS, last = 0, w;
	char lo[24], hi[24];

	for (i = 0; i < KP_HIST_SLOTS; i++) {
		if (!h->slots[i])
			continue;
		if (first == KP_HIST_SLOTS)
			first = i;
		last = i;
		if (h->slots[i] > max)
			max = h->slots[i];
	}
	if (!max)
		return;
	fprintf(f, "\n  %s: %llu samples, p50 %.1f us, p99 %.1f us\n", title,
		(unsigned long long)h->count, kp_hist_percentile(h, 50) / 1e3,
		kp_hist_percentile(h, 99) / 1e3);
	fprintf(f, "  %21s : %-9s %-40s\n", "nsecs", "count", "distribution");
	for (i = first; i <= last; i++) {
		snprintf(lo, sizeof(lo), "%llu",
			 i ? (unsigned long long)kp_hist_le(i - 1) + 1 : 0ULL);
		if (kp_hist_le_is_inf(i))
			snprintf(hi, sizeof(hi), "inf");
		else
			snprintf(hi, sizeof(hi), "%llu",
				 (unsigned long long)kp_hist_le(i));
		w = (unsigned int)(40.0 * h->slots[i] / max + 0.5);
		fprintf(f, "  %10s -> %-8s : %-9llu |%-40.*s|\n", lo, hi,
			(unsigned long long)h->slots[i], w,
			"****************************************");
	}
}

static void vm_hists(FILE *f, const struct kp_vm_rec *vm)
{
	const struct kp_sample_set *s = &vm->s;
	char title[96];
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (!s->v[i].hist)
			continue;
		snprintf(title, sizeof(title), "pid %u %s%s%s%s%s", vm->pid,
			 kp_metric(s->v[i].metric)->json,
			 s->v[i].dev[0] ? " " : "", s->v[i].dev,
			 s->v[i].label[0] ? " " : "", s->v[i].label);
		print_hist(f, title, s->v[i].hist);
	}
}

static int text_start(struct kp_sink *s, const struct kp_start_info *info)
{
	size_t i, j;

	fprintf(s->out, "kvmprobe %s: interval %.2f s", info->version,
		info->interval_s);
	if (info->npids)
		fprintf(s->out, ", %zu pid(s)", info->npids);
	fprintf(s->out, ". Ctrl-C to stop.\n");
	for (i = 0; i < info->nprobes; i++) {
		const struct kp_probe_status *p = &info->probes[i];

		if (!p->attached) {
			fprintf(s->out, "probe %s: not attached: %s\n",
				p->name, p->reason);
			continue;
		}
		for (j = 0; j < p->nprogs; j++)
			if (!p->progs[j].how)
				fprintf(s->out, "probe %s: %s missing: %s\n",
					p->name, p->progs[j].name,
					p->progs[j].reason);
	}
	return kp_sink_flush(s->out);
}

static int text_interval(struct kp_sink *s, const struct kp_interval *iv)
{
	double secs = iv->interval_s > 0 ? iv->interval_s : 1;
	char ts[16], who[16], name[24], rdy[16], lmt[16];
	uint64_t lost = 0;
	struct tm tm;
	size_t i, j;

	for (i = 0; i < iv->nlost; i++)
		lost += iv->lost[i].n;
	localtime_r(&iv->ts.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	fprintf(s->out, "\n%s  %zu VM(s) active, interval %.2f s", ts,
		iv->nvms, iv->interval_s);
	if (iv->cpu.ncpus && !isnan(iv->cpu.busy_pct))
		fprintf(s->out, ", host CPU %.1f%% busy of %u", iv->cpu.busy_pct,
			iv->cpu.ncpus);
	/* the share of the interval %RDY's histograms and preemptors cover */
	if (iv->sched_events.window_ns)
		fprintf(s->out, ", sched events %.0f%%",
			100.0 * iv->sched_events.on_ns /
				iv->sched_events.window_ns);
	fprintf(s->out, "%s\n", lost ? "  (events lost: see \"lost\" in -f json)" :
		"");
	if (!iv->nvms)
		goto host;
	fprintf(s->out, "%-8s %-16s %5s %6s %6s %6s %10s %10s %6s %6s %9s %6s  %-22s %s\n",
		"PID", "NAME", "VCPUS", "%CPU", "%RDY", "%LMT", "EXITS/s", "UEXITS/s",
		"%UWAIT", "%UBLK", "HALTS/s", "%PFAIL", "TOP EXIT",
		"TOP USERSPACE EXIT");
	for (i = 0; i < iv->nvms; i++) {
		const struct kp_vm_rec *vm = &iv->vms[i];

		snprintf(who, sizeof(who), "%u", vm->pid);
		worst_cell(vm, KP_M_RUN_DELAY, rdy, sizeof(rdy));
		worst_cell(vm, KP_M_LIMITED, lmt, sizeof(lmt));
		row(s->out, who, vm->name ? vm->name :
		    vm->comm[0] ? vm->comm : "?", vm->nvcpus,
		    &vm->s, rdy, lmt, secs);
		for (j = 0; s->opts->per_vcpu && j < vm->nvcpus; j++) {
			const struct kp_vcpu_rec *vc = &vm->vcpus[j];

			if (vc->index >= 0)
				snprintf(who, sizeof(who), " vcpu%d", vc->index);
			else
				snprintf(who, sizeof(who), " vcpu?");
			snprintf(name, sizeof(name), "tid %u", vc->tid);
			pct_cell(&vc->s, KP_M_RUN_DELAY, rdy, sizeof(rdy));
			pct_cell(&vc->s, KP_M_LIMITED, lmt, sizeof(lmt));
			row(s->out, who, name, 1, &vc->s, rdy, lmt, secs);
		}
		kp_text_devices(s->out, &vm->s, secs);
		if (s->opts->hist)
			vm_hists(s->out, vm);
	}
host:
	if (iv->host.n) {
		fprintf(s->out, "%-8s %s\n", "-", "host (kernel threads, processes that are not VMMs)");
		kp_text_devices(s->out, &iv->host, secs);
	}
	return kp_sink_flush(s->out);
}

static int text_stop(struct kp_sink *s, const struct kp_stop_info *info)
{
	fprintf(s->out, "\nkvmprobe: stopped after %llu interval(s) (%s)\n",
		(unsigned long long)info->intervals, info->reason);
	return kp_sink_flush(s->out);
}

static int text_notice(struct kp_sink *s, const struct kp_notice *n)
{
	char ts[16];
	struct tm tm;

	localtime_r(&n->ts.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	fprintf(s->out, "\n%s  %s %s: %s\n", ts, n->source, n->state,
		n->message);
	return kp_sink_flush(s->out);
}

static int text_alert(struct kp_sink *s, const struct kp_alert_event *ev,
		      const struct timespec *ts)
{
	const struct kp_alert_rule *r = ev->rule;
	char when[16], vcpu[24] = "";
	struct tm tm;

	localtime_r(&ts->tv_sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	if (ev->vcpu >= 0)
		snprintf(vcpu, sizeof(vcpu), " vcpu %d", ev->vcpu);
	fprintf(s->out, "\n%s  ALERT %s %s (%s): %s%s: %s %s", when,
		ev->firing ? "firing" : "resolved", r->name,
		kp_severity_name(r->severity),
		ev->name ? ev->name : ev->comm ? ev->comm : "?", vcpu,
		kp_metric(r->metric)->json, kp_stat_name(r->stat));
	if (ev->has_value)
		fprintf(s->out, " %.3f (threshold %s %g)\n", ev->value,
			r->above ? "above" : "below", r->threshold);
	else
		fprintf(s->out, " (VM gone)\n");
	return kp_sink_flush(s->out);
}

void kp_sink_text_init(struct kp_sink *s, FILE *out, const struct kp_opts *o)
{
	memset(s, 0, sizeof(*s));
	s->name = "text";
	s->start = text_start;
	s->interval = text_interval;
	s->stop = text_stop;
	s->notice = text_notice;
	s->alert = text_alert;
	s->out = out;
	s->opts = o;
}
