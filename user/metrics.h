/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The metric registry: one description of every metric kvmprobe reports.
 * The JSON and text sinks, the docs (kvmprobe --list-metrics) and later the
 * Prometheus exporter and alert rules all derive from this table.
 */
#ifndef KP_METRICS_H
#define KP_METRICS_H

enum kp_metric_id {
	KP_M_EXITS,
	KP_M_EXIT_TIME,
	KP_M_UEXITS,
	KP_M_UEXIT_TIME,
	KP_M_HALT_TIME,
	KP_M__COUNT,
};

enum kp_mtype { KP_COUNTER, KP_GAUGE, KP_HISTOGRAM };

/* The finest scope a metric is recorded at; coarser scopes are sums. */
enum kp_scope { KP_SCOPE_HOST, KP_SCOPE_VM, KP_SCOPE_VCPU };

enum kp_unit { KP_UNIT_EVENTS, KP_UNIT_NS };

struct kp_metric_desc {
	const char *json;   /* key in the "vm" record */
	const char *prom;   /* Prometheus name, base units */
	const char *label;  /* what the sample label names: "reason", ... */
	const char *probe;  /* the probe that produces it */
	enum kp_mtype type;
	enum kp_scope scope;
	enum kp_unit unit;
	const char *help;
};

const struct kp_metric_desc *kp_metric(enum kp_metric_id id);
const char *kp_mtype_name(enum kp_mtype t);
const char *kp_scope_name(enum kp_scope s);
const char *kp_unit_name(enum kp_unit u);

#endif /* KP_METRICS_H */
