/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The metric registry: one description of every metric kvmprobe reports.
 * The JSON and text sinks, the docs (kvmprobe --list-metrics) and later the
 * Prometheus exporter and alert rules all derive from this table.
 */
#ifndef KP_METRICS_H
#define KP_METRICS_H

#include <stdbool.h>

enum kp_metric_id {
	KP_M_EXITS,
	KP_M_EXIT_TIME,
	KP_M_UEXITS,
	KP_M_UEXIT_TIME,
	KP_M_EXIT_ONCPU,   /* where exit handling goes: bpf/exit_split.bpf.h */
	KP_M_EXIT_WAIT,
	KP_M_EXIT_BLOCK,
	KP_M_UEXIT_ONCPU,
	KP_M_UEXIT_WAIT,
	KP_M_UEXIT_BLOCK,
	KP_M_HALT_TIME,
	/* halt polling, from KVM's own vCPU counters (probe haltpoll) */
	KP_M_HALTS,
	KP_M_HALT_POLLS,
	KP_M_POLL_WIN,
	KP_M_POLL_FAIL,
	KP_M_HALT_WAIT,
	KP_M_RUN_DELAY,
	KP_M_CPU_TIME,
	KP_M_PREEMPTIONS,
	KP_M_PREEMPTED_BY,
	KP_M_LIMITED,
	KP_M_LIMIT_SOURCE,
	/* VM-wide gauges from libvirt (kp_vm_rec.gauges); "a.b" JSON keys
	 * nest: "memory":{"rss_kib":...} */
	KP_M_MEM_BALLOON_CURRENT,
	KP_M_MEM_BALLOON_MAX,
	KP_M_MEM_RSS,
	KP_M_MEM_SWAP_IN,
	KP_M_MEM_SWAP_OUT,
	KP_M_MEM_MAJOR_FAULTS,
	KP_M_MEM_AVAILABLE,
	KP_M_MEM_USABLE,
	KP_M_MEM_UNUSED,
	/* derived from the above (kp_vm_derive_memory) */
	KP_M_MEM_GUEST_USED,
	KP_M_MEM_BALLOONED,
	/* per device (kp_sample.dev): "group.key" JSON keys name the array
	 * of device objects and the key inside one, "disks":[{"dev":..}] */
	KP_M_DISK_IOS,
	KP_M_DISK_BYTES,
	KP_M_DISK_QUEUE,
	KP_M_DISK_DEVICE,
	KP_M_DISK_LATENCY,
	KP_M_DISK_TARGET,
	KP_M_IF_PACKETS,
	KP_M_IF_BYTES,
	KP_M_IF_DROPS,
	KP_M_IF_DELIVERY,
	KP_M__COUNT,
};

enum kp_mtype { KP_COUNTER, KP_GAUGE, KP_HISTOGRAM };

/* The finest scope a metric is recorded at; coarser scopes are sums. */
enum kp_scope { KP_SCOPE_HOST, KP_SCOPE_VM, KP_SCOPE_VCPU, KP_SCOPE_DISK,
		KP_SCOPE_IFACE, KP_SCOPE__COUNT };

/* What every reader needs to know of a scope (kp_scope()). */
struct kp_scope_desc {
	const char *name;   /* in the docs: "vm", "vcpu", "disk", ... */
	const char *label;  /* the Prometheus label naming one entity of the
			     * scope ("pid", "vcpu", "disk"); NULL: none */
	const char *group;  /* device scopes: the JSON array of device
			     * objects in a record, also the "group." prefix
			     * of their metrics' JSON keys; else NULL */
	bool device;        /* samples name a device (kp_sample.dev,
			     * kp_interval_add_dev) and live in the set of
			     * the VM (or the host) */
	const char *name_label; /* Prometheus labels of the entity's libvirt */
	const char *uuid_label; /* identity, when it has one ("domain",
				 * "uuid"); NULL: none */
};

enum kp_unit { KP_UNIT_EVENTS, KP_UNIT_NS, KP_UNIT_KIB, KP_UNIT_BYTES };

/*
 * How a record shows the metric (docs/output.md). COUNT, PCT and DELAY
 * metrics are unlabelled (label NULL): one sample per vCPU, label "".
 */
enum kp_show {
	KP_SHOW_LABELS, /* {label: count or HIST} */
	KP_SHOW_COUNT,  /* a number */
	KP_SHOW_PCT,    /* ns as a percentage of the interval */
	KP_SHOW_DELAY,  /* {total_ns, <share>_pct, worst_<share>_pct (VM),
			 * <pct>p50_us, <pct>p99_us, hist}: the
			 * value is the total (waits in progress included),
			 * the histogram holds the waits that ended */
	KP_SHOW_TOP,    /* per peer thread (label: its tid, the sample's
			 * peer: who), the KP_SCHED_TOP largest, as a list */
	KP_SHOW_NEST,   /* device scopes: under its label, {label: {key:
			 * count or HIST}}: "read":{"ios":..} */
	KP_SHOW_INFO,   /* device scopes: the label itself, a string ("target":
			 * "vda"), null when there is no sample */
};

struct kp_metric_desc {
	const char *json;   /* key in the "vm" record */
	const char *prom;   /* Prometheus name, base units */
	const char *label;  /* what the sample label names; NULL: unlabelled */
	const char *probe;  /* the probe that produces it */
	enum kp_mtype type;
	enum kp_scope scope;
	enum kp_unit unit;
	enum kp_show show;
	const char *pct;    /* histograms: also write <pct>p50_us and
			     * <pct>p99_us beside it (KP_SHOW_DELAY: in its
			     * object); NULL: not */
	const char *share;  /* KP_SHOW_DELAY: what its percentage of the
			     * interval is called, "ready": <share>_pct and,
			     * for a VM, worst_<share>_pct */
	const char *prom_total; /* KP_SHOW_DELAY: also this Prometheus
				 * counter of the total, which the histogram
				 * (of another tier) may not add up to */
	const char *help;
};

/*
 * kvmprobe's own series, of no VM: keys of the NDJSON "interval" and
 * "stop" records and host series of /metrics. Apart from kp_metric(): no
 * sample of an interval carries them, and the VM records never do.
 */
enum kp_host_metric_id {
	KP_HM_LOST_EVENTS,      /* labelled by probe */
	KP_HM_RECORDS_DROPPED,
	KP_HM_INTERVALS,
	KP_HM_CPU_BUSY,         /* {busy_pct, cpus} of the interval */
	KP_HM_SCHED_EVENTS,     /* the sched probe's per-event tier's share */
	KP_HM__COUNT,
};

const struct kp_metric_desc *kp_metric(enum kp_metric_id id);
/* The id of the metric whose JSON key is json, or -1. */
int kp_metric_by_json(const char *json);
/* Whether metric id is recorded per device (its scope's device). */
bool kp_metric_is_dev(int id);
const struct kp_metric_desc *kp_host_metric(enum kp_host_metric_id id);
/* NULL when s is out of range. */
const struct kp_scope_desc *kp_scope(enum kp_scope s);
const char *kp_mtype_name(enum kp_mtype t);
const char *kp_scope_name(enum kp_scope s);
const char *kp_unit_name(enum kp_unit u);

#endif /* KP_METRICS_H */
