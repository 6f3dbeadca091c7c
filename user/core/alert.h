/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Threshold alerts: rules over the metrics of the registry, evaluated on
 * every finished interval, with a pending -> firing -> resolved state
 * machine per rule and entity (VM or vCPU), a "for" duration and a clear
 * threshold (hysteresis). Pure: no I/O; events go to a callback.
 */
#ifndef KP_ALERT_H
#define KP_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include "user/core/metrics.h"
#include "user/core/record.h"

#define KP_RULE_NAME_MAX 64
#define KP_RULE_DOMAINS_MAX 16
#define KP_DOMAIN_NAME_MAX 128

/* The number a rule watches, derived from a metric of one interval. */
enum kp_stat {
	KP_STAT_RATE,    /* events (counter) or samples (histogram) per s */
	KP_STAT_PCT,     /* ns-valued counter/total as % of the interval */
	KP_STAT_P50_US,  /* histogram percentiles and mean, microseconds */
	KP_STAT_P99_US,
	KP_STAT_MEAN_US,
	KP_STAT_VALUE,   /* a gauge's value */
	KP_STAT_DELTA,   /* a gauge's change since the previous interval */
	KP_STAT_RATIO,   /* rate of metric / rate of "of" metric, in %;
			  * gauges: value / value of "of" */
	KP_STAT_AVG_PCT, /* pct per vCPU: scope vm, the VM's pct over its
			  * vCPUs with a record (esxtop's VM %USED / vCPUs) */
	KP_STAT__COUNT,
};

enum kp_severity { KP_SEV_INFO, KP_SEV_WARNING, KP_SEV_CRITICAL };

struct kp_alert_rule {
	char name[KP_RULE_NAME_MAX];
	enum kp_metric_id metric;
	enum kp_stat stat;
	char label[KP_LABEL_MAX];   /* only samples with this label; "" all */
	enum kp_metric_id of;       /* KP_STAT_RATIO: the denominator */
	enum kp_scope scope;        /* KP_SCOPE_VM or KP_SCOPE_VCPU */
	bool above;                 /* fire above threshold, else below */
	double threshold;
	double clear;               /* resolve when back past this */
	double for_s;               /* condition held this long to fire */
	enum kp_severity severity;
	char domains[KP_RULE_DOMAINS_MAX][KP_DOMAIN_NAME_MAX];
	size_t ndomains;            /* 0: every VM */
	int line;                   /* where it was defined (messages) */
};

enum kp_alert_state { KP_ALERT_OK, KP_ALERT_PENDING, KP_ALERT_FIRING };

/* What a callback gets for each firing or resolved transition. */
struct kp_alert_event {
	const struct kp_alert_rule *rule;
	bool firing;                /* else resolved */
	uint32_t pid;
	const char *name, *uuid, *comm; /* the VM's identity, may be NULL */
	int vcpu;                   /* -1 for a VM-scope rule */
	bool has_value;             /* false when resolved because gone */
	double value;
	double since;               /* when the condition started (firing)
				     * or when it fired (resolved), s */
};

typedef int (*kp_alert_cb)(const struct kp_alert_event *ev, void *arg);

struct kp_alerts;

struct kp_alerts *kp_alerts_new(const struct kp_alert_rule *rules,
				size_t nrules);
void kp_alerts_free(struct kp_alerts *a);
/*
 * Evaluate every rule on a finished, resolved interval ending at now
 * (seconds, any monotonic-ish clock; events carry it). Returns 0, -ENOMEM,
 * or the first non-zero callback result.
 */
int kp_alerts_eval(struct kp_alerts *a, const struct kp_interval *iv,
		   double now, kp_alert_cb cb, void *arg);
/*
 * A new rule set (a reload): instances of a rule whose definition did not
 * change (same name, kp_alert_rule_same) keep their state, so a firing
 * alert does not fire again; those of a rule changed or removed are
 * forgotten, each one that was firing with a resolved event (no value)
 * first. Returns 0 (the rules are replaced even when cb fails: its first
 * non-zero result is returned), or -ENOMEM with nothing changed.
 */
int kp_alerts_replace(struct kp_alerts *a, const struct kp_alert_rule *rules,
		      size_t nrules, kp_alert_cb cb, void *arg);
/* Whether a and b define the same alert (where they were written aside). */
bool kp_alert_rule_same(const struct kp_alert_rule *a,
			const struct kp_alert_rule *b);
/* Number of instances (rule x entity) being tracked. */
size_t kp_alerts_tracked(const struct kp_alerts *a);

/*
 * One step of the state machine, exposed for tests: given the current
 * state and whether the condition / clear condition hold now, the next
 * state; *fired / *resolved say whether this step emits an event.
 */
enum kp_alert_state kp_alert_step(const struct kp_alert_rule *r,
				  enum kp_alert_state s, double *pending_since,
				  double value, double now, bool *fired,
				  bool *resolved);

/* The value of rule's stat for a sample set of a finished interval of
 * interval_s (pct: the percentages kp_interval_finish derived). false: no
 * data (a percentile of an empty histogram, a gauge not reported). */
bool kp_alert_value(const struct kp_alert_rule *r,
		    const struct kp_sample_set *s, double interval_s,
		    double *value);

const char *kp_severity_name(enum kp_severity s);
const char *kp_stat_name(enum kp_stat s);

#endif /* KP_ALERT_H */
