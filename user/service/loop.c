// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "user/service/loop.h"
#include "user/sinks/top.h"

#ifndef KP_VERSION
#define KP_VERSION "0.0.0"
#endif

/*
 * Signals are blocked in every thread (kp_loop_block_signals() runs before
 * any thread starts, and threads inherit the mask); the loop takes them
 * synchronously with sigtimedwait() while it waits for the next interval,
 * so no signal is lost to another thread or to a busy moment.
 */
static sigset_t loop_signals;

int kp_loop_block_signals(bool top)
{
	sigemptyset(&loop_signals);
	sigaddset(&loop_signals, SIGINT);
	sigaddset(&loop_signals, SIGTERM);
	sigaddset(&loop_signals, SIGHUP);
	if (top) /* SIGWINCH: top redraws for the new size */
		kp_top_add_signals(&loop_signals);
	signal(SIGPIPE, SIG_IGN); /* write errors report EPIPE instead */
	return -pthread_sigmask(SIG_BLOCK, &loop_signals, NULL);
}

static double elapsed(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) + (b->tv_nsec - a->tv_nsec) / 1e9;
}

static bool ts_after(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

/*
 * Sinks write each batch of records (the start record, an interval, the
 * stop record) into memory; the batch then goes to the output queue, whose
 * writer thread does the blocking write: a stuck reader never delays
 * sampling. A full queue drops the batch and counts it (not an error).
 */
static int emit_begin(struct kp_loop *l)
{
	l->sink->out = open_memstream(&l->buf, &l->len);
	return l->sink->out ? 0 : -errno;
}

static int emit_end(struct kp_loop *l)
{
	int err;

	if (!l->sink->out)
		return 0;
	if (fclose(l->sink->out))
		return -errno;
	l->sink->out = NULL;
	err = kp_outq_push(l->outq, l->buf, l->len);
	l->buf = NULL;
	return err == -ENOBUFS ? 0 : err;
}

/* Close the batch whatever happened; the first error wins. */
static int emit_close(struct kp_loop *l, int err)
{
	int e = emit_end(l);

	return err ? err : e;
}

/*
 * The notices that came with the identity table this interval was resolved
 * with, written before its records: changes of the identity source go to
 * the sink, other messages (a -d domain that is not running) to stderr.
 */
static int drain_notices(struct kp_loop *l, const struct timespec *ts)
{
	struct kp_notice n[8];
	size_t i, got;
	int err = 0;

	while ((got = kp_resolver_notices(l->resolver, n, 8))) {
		for (i = 0; i < got && !err; i++) {
			/* the stream's timestamps never go back */
			if (ts_after(&n[i].ts, ts))
				n[i].ts = *ts;
			if (!n[i].state)
				fprintf(stderr, "kvmprobe: %s\n", n[i].message);
			else if (l->sink->notice)
				err = l->sink->notice(l->sink, &n[i]);
		}
	}
	return err;
}

struct alert_ctx {
	struct kp_loop *l;
	const struct timespec *ts;
};

static int to_sink(const struct kp_alert_event *ev, void *arg)
{
	struct alert_ctx *c = arg;
	struct kp_sink *s = c->l->sink;

	return s->alert ? s->alert(s, ev, c->ts) : 0;
}

/* The stages of a finished interval, in order. */
static int stage_records(struct kp_loop *l, const struct kp_interval *iv)
{
	int err = drain_notices(l, &iv->ts);

	return err ? err : l->sink->interval(l->sink, iv);
}

static int stage_alerts(struct kp_loop *l, const struct kp_interval *iv)
{
	struct alert_ctx c = { l, &iv->ts };

	return kp_service_alerts(l->svc, iv, to_sink, &c);
}

static int stage_metrics(struct kp_loop *l, const struct kp_interval *iv)
{
	return kp_service_metrics(l->svc, iv);
}

static const struct stage {
	const char *name;
	int (*run)(struct kp_loop *l, const struct kp_interval *iv);
} stages[] = {
	{ "records", stage_records },
	{ "alerts", stage_alerts },
	{ "metrics", stage_metrics },
};

/* SIGHUP: reopen the output (logrotate) and reload the alert rules. */
static int on_hup(struct kp_loop *l)
{
	struct kp_notice n = { .source = "config" };
	struct alert_ctx c = { l, &n.ts };
	int err;

	kp_outq_reopen(l->outq);
	if (!l->svc->config_path)
		return 0;
	clock_gettime(CLOCK_REALTIME, &n.ts);
	err = emit_begin(l);
	if (err)
		return err;
	err = kp_service_reload(l->svc, l->names, kp_probe_count, n.message,
				sizeof(n.message), to_sink, &c);
	n.state = err ? "invalid" : "reloaded";
	if (err)
		fprintf(stderr, "kvmprobe: config not reloaded, old rules kept: %s\n",
			n.message);
	err = l->sink->notice ? l->sink->notice(l->sink, &n) : 0;
	return emit_close(l, err);
}

static const char *out_name(const struct kp_loop *l)
{
	return l->opts->output ? l->opts->output : "stdout";
}

/*
 * Writing records stopped or resumed since the last interval: say so once
 * each way, on stderr and in the stream. The notice that it stopped is
 * held by the queue and written first once writing works again; the one
 * that it resumed goes at the head of this interval's batch (*resumed).
 */
static int watch_output(struct kp_loop *l, const struct timespec *ts,
			struct kp_notice *resumed)
{
	struct kp_notice n = { .source = "output", .state = "stopped" };
	struct kp_outq_status st;
	int err;

	kp_outq_status(l->outq, &st);
	resumed->state = NULL;
	if (!st.error == !l->out_stopped)
		return 0;
	l->out_stopped = st.error;
	if (!st.error) {
		*resumed = (struct kp_notice){ .ts = *ts, .source = "output",
					       .state = "resumed" };
		snprintf(resumed->message, sizeof(resumed->message),
			 "writing %s again: %llu record(s) dropped while it was stopped",
			 out_name(l), (unsigned long long)st.lost);
		fprintf(stderr, "kvmprobe: %s\n", resumed->message);
		return 0;
	}
	n.ts = ts_after(&st.since, ts) ? *ts : st.since;
	snprintf(n.message, sizeof(n.message),
		 "failed to write %s: %s; sampling goes on, records are dropped and counted (records_dropped) until writing resumes",
		 out_name(l), strerror(-st.error));
	fprintf(stderr, "kvmprobe: %s\n", n.message);
	if (!l->sink->notice)
		return 0;
	err = emit_begin(l);
	if (err)
		return err;
	err = l->sink->notice(l->sink, &n);
	if (fclose(l->sink->out) && !err)
		err = -errno;
	l->sink->out = NULL;
	if (!err)
		kp_outq_hold(l->outq, l->buf, l->len);
	else
		free(l->buf);
	l->buf = NULL;
	return err;
}

/* Host CPU busy of the interval since l->cpu (KP_HM_CPU_BUSY). */
static void host_cpu(struct kp_loop *l, struct kp_interval *iv)
{
	struct kp_cpustat now;
	long hz = sysconf(_SC_CLK_TCK);

	iv->cpu.busy_pct = NAN;
	if (kp_cpustat_read("/proc", &now) || hz <= 0) {
		l->cpu.ncpus = 0;
		return;
	}
	if (l->cpu.ncpus)
		iv->cpu.busy_pct = kp_cpustat_busy_pct(&l->cpu, &now);
	iv->cpu.busy_s = (double)now.busy / (double)hz;
	iv->cpu.ncpus = now.ncpus;
	l->cpu = now;
}

/* Read every probe into one interval and run the stages on it. */
static int collect(struct kp_loop *l)
{
	struct kp_interval iv = { 0 };
	struct kp_notice resumed;
	struct timespec now;
	size_t i;
	int err;

	clock_gettime(CLOCK_MONOTONIC, &now);
	clock_gettime(CLOCK_REALTIME, &iv.ts);
	iv.interval_s = elapsed(&l->last, &now);
	l->last = now;
	host_cpu(l, &iv);
	for (i = 0; i < kp_probe_count; i++) {
		if (!l->state[i])
			continue;
		err = kp_probe_table[i]->read(l->state[i], &iv);
		if (err)
			fprintf(stderr, "kvmprobe: failed to read probe %s: %s\n",
				kp_probe_table[i]->name, strerror(-err));
	}
	iv.records_dropped = kp_outq_dropped(l->outq);
	err = kp_interval_finish(&iv);
	if (!err)
		err = kp_resolver_apply(l->resolver, &iv);
	if (!err)
		err = watch_output(l, &iv.ts, &resumed);
	if (!err)
		err = emit_begin(l);
	if (!err && resumed.state && l->sink->notice)
		err = l->sink->notice(l->sink, &resumed);
	for (i = 0; !err && i < sizeof(stages) / sizeof(stages[0]); i++)
		err = stages[i].run(l, &iv);
	err = emit_close(l, err);
	kp_interval_clear(&iv);
	l->intervals++;
	return err;
}

/* Wait for deadline (CLOCK_MONOTONIC), handling SIGHUP on the way. */
static int sleep_until(struct kp_loop *l, const struct timespec *deadline)
{
	struct timespec now, left;
	int sig, err;

	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left.tv_sec = deadline->tv_sec - now.tv_sec;
		left.tv_nsec = deadline->tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_sec--;
			left.tv_nsec += 1000000000L;
		}
		if (left.tv_sec < 0)
			return 0;
		if (l->top) {
			/* keys and signals together (top.h) */
			switch (kp_top_wait(l->sink, &loop_signals,
					    left.tv_sec * 1000 +
					    (left.tv_nsec + 999999) / 1000000,
					    &sig)) {
			case KP_TOP_SIGNAL:
				break;
			case KP_TOP_QUIT:
				l->quit = true;
				return 0;
			case KP_TOP_INTERVAL:
			case KP_TOP_REFRESH:
				l->restart = true;
				return 0;
			default:
				continue; /* the deadline is checked above */
			}
		} else {
			sig = sigtimedwait(&loop_signals, NULL, &left);
		}
		if (sig == SIGHUP) {
			err = on_hup(l);
			if (err)
				return err;
		} else if (sig > 0) {
			l->stop_signal = sig;
			return 0;
		} else if (errno == EAGAIN) {
			return 0;
		}
	}
}

/* Returns the reason the loop ended, or NULL after a sink write error. */
static const char *loop(struct kp_loop *l, int *err)
{
	struct timespec deadline = l->last;
	long long step;

	for (;;) {
		/* top's s changes the interval */
		step = (long long)((l->top ? kp_top_interval(l->sink) :
				    l->opts->interval_s) * 1e9);
		deadline.tv_sec += step / 1000000000;
		deadline.tv_nsec += step % 1000000000;
		if (deadline.tv_nsec >= 1000000000) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000;
		}
		*err = sleep_until(l, &deadline);
		if (*err)
			return NULL;
		if (l->quit)
			return "quit";
		if (l->restart) { /* top's space or s: from now on */
			clock_gettime(CLOCK_MONOTONIC, &deadline);
			l->restart = false;
		}
		*err = collect(l); /* on a signal: the partial last interval */
		if (*err)
			return NULL;
		if (l->stop_signal)
			return "signal";
		if (l->opts->count && l->intervals >= l->opts->count)
			return "count";
	}
}

int kp_loop_run(struct kp_loop *l)
{
	struct kp_start_info info = {
		.version = KP_VERSION,
		.interval_s = l->opts->interval_s,
		.pids = l->opts->pids,
		.npids = l->opts->npids,
		.domains = l->opts->domains,
		.ndomains = l->opts->ndomains,
		.probes = l->status,
		.nprobes = kp_probe_count,
	};
	struct kp_stop_info stop = { 0 };
	int err;

	clock_gettime(CLOCK_REALTIME, &info.ts);
	clock_gettime(CLOCK_MONOTONIC, &l->last);
	if (kp_cpustat_read("/proc", &l->cpu))
		l->cpu.ncpus = 0; /* the first interval has no busy_pct */
	err = emit_begin(l);
	if (!err)
		err = emit_close(l, l->sink->start(l->sink, &info));
	if (!err)
		stop.reason = loop(l, &err);
	if (err)
		return err;
	clock_gettime(CLOCK_REALTIME, &stop.ts);
	stop.intervals = l->intervals;
	err = emit_begin(l);
	return err ? err : emit_close(l, l->sink->stop(l->sink, &stop));
}

void kp_loop_free(struct kp_loop *l)
{
	if (l->sink && l->sink->out) {
		fclose(l->sink->out);
		l->sink->out = NULL;
	}
	free(l->buf);
	l->buf = NULL;
}
