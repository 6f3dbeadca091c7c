/* SPDX-License-Identifier: GPL-2.0 */
/* Sinks: where finished intervals go (text for people, NDJSON). */
#ifndef KP_SINK_H
#define KP_SINK_H

#include <stdio.h>
#include "user/core/cli.h"
#include "user/probes/probe.h"
#include "user/core/record.h"
#include "user/identity/resolve.h"
#include "user/core/alert.h"

struct kp_start_info {
	const char *version;
	struct timespec ts;
	double interval_s;
	const uint32_t *pids;
	size_t npids;
	const char *const *domains;
	size_t ndomains;
	const struct kp_probe_status *probes;
	size_t nprobes;
};

struct kp_stop_info {
	struct timespec ts;
	uint64_t intervals;
	const char *reason; /* "count" or "signal" */
};

struct kp_sink {
	const char *name;
	/* each returns 0 or -errno (a write error: -EPIPE, -ENOSPC, ...) */
	int (*start)(struct kp_sink *s, const struct kp_start_info *info);
	int (*interval)(struct kp_sink *s, const struct kp_interval *iv);
	int (*stop)(struct kp_sink *s, const struct kp_stop_info *info);
	/* a change of an identity source (libvirt available or not) */
	int (*notice)(struct kp_sink *s, const struct kp_notice *n);
	/* an alert fired or resolved; ts is when it was evaluated */
	int (*alert)(struct kp_sink *s, const struct kp_alert_event *ev,
		     const struct timespec *ts);
	/* restore what the sink took (the terminal) before an error is
	 * printed; NULL: nothing to restore */
	void (*close)(struct kp_sink *s);
	FILE *out;
	const struct kp_opts *opts;
	void *priv; /* the sink's own state */
};

void kp_sink_json_init(struct kp_sink *s, FILE *out, const struct kp_opts *o);
void kp_sink_text_init(struct kp_sink *s, FILE *out, const struct kp_opts *o);

/* 0, or -errno of the last failed write to f (then f's error is cleared) */
int kp_sink_flush(FILE *f);

#endif /* KP_SINK_H */
