/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One interval's records: per VM (VMM process) and per vCPU thread, the
 * samples the probes decoded from their map deltas. Probes add samples,
 * the resolver fills identities, the sinks read. Pure: no I/O.
 */
#ifndef KP_RECORD_H
#define KP_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <linux/types.h>
#include "bpf/hist.h"
#include "user/core/metrics.h"

#define KP_LABEL_MAX 32
#define KP_COMM_MAX 16
#define KP_MAX_LOST 8

/* The thread a KP_SHOW_TOP sample is about (a preemptor). */
struct kp_peer {
	uint32_t pid, tid;
	char comm[KP_COMM_MAX];  /* the thread's name */
	int64_t vm_pid;          /* its VMM when it is a vCPU thread, else -1 */
	int vm_vcpu;             /* and its vCPU index, -1 when unknown */
};

struct kp_sample {
	enum kp_metric_id metric;
	char dev[KP_LABEL_MAX]; /* disk and iface scopes: the device ("loop0",
				 * "vnet0"); "" for every other scope */
	uint64_t devid;         /* disk scope: the device's dev_t (makedev(),
				 * as stat()'s st_rdev); iface scope: its
				 * network namespace and ifindex
				 * (kp_ifdev); 0 when unknown or another
				 * scope */
	char label[KP_LABEL_MAX];
	uint32_t dev_key;       /* kp_label_key() of dev and of label: */
	uint32_t label_key;     /* lookups compare these before the text */
	uint64_t value;         /* counters; KP_SHOW_DELAY: the total */
	struct kp_hist *hist;   /* histograms, owned */
	struct kp_peer *peer;   /* KP_SHOW_TOP metrics, owned */
	/*
	 * Derived once by kp_interval_finish; the sinks and the alerts read
	 * these and compute nothing of their own.
	 * pct: metrics in ns, the sample's time as a percentage of the
	 * interval (kp_pct): value, the ready part of a KP_SHOW_DELAY
	 * total (kp_ready_ns), or the sum of a KP_SHOW_LABELS histogram; 0
	 * for other units.
	 * worst_pct: a VM's KP_SHOW_DELAY and KP_SHOW_PCT samples, the
	 * largest pct of the same sample of its vCPUs (the worst vCPU's
	 * %RDY, %LMT); 0 elsewhere.
	 */
	double pct;
	double worst_pct;
};

/* An iface sample's devid: the device's network namespace (inode number,
 * 0: unknown) and its ifindex there. */
static inline uint64_t kp_ifdev(uint32_t netns, uint32_t ifindex)
{
	return (uint64_t)netns << 32 | ifindex;
}

static inline uint32_t kp_ifdev_netns(uint64_t devid)
{
	return devid >> 32;
}

static inline uint32_t kp_ifdev_ifindex(uint64_t devid)
{
	return (uint32_t)devid;
}

struct kp_sample_set {
	struct kp_sample *v;
	size_t n, cap;
};

struct kp_vcpu_rec {
	uint32_t tid;
	int index; /* -1 when unknown */
	struct kp_sample_set s;
};

struct kp_vm_rec {
	uint32_t pid;
	char comm[KP_COMM_MAX];
	char *name; /* libvirt domain, NULL when unknown */
	char *uuid;
	struct kp_vcpu_rec *vcpus;
	size_t nvcpus, cap;
	uint32_t *vidx;         /* tid -> 1 + its index in vcpus, open
				 * addressing over nvidx (a power of 2)
				 * slots; NULL: not built (few vCPUs) */
	size_t nvidx;
	struct kp_sample_set s; /* sums over the vCPUs */
	struct kp_sample_set gauges; /* VM-wide gauges (memory), unlabelled,
				      * set by the resolver */
};

struct kp_lost {
	const char *probe;
	uint64_t n;
};

struct kp_interval {
	struct timespec ts; /* CLOCK_REALTIME at the end of the interval */
	double interval_s;
	struct kp_vm_rec *vms;
	size_t nvms, cap;
	struct kp_lost lost[KP_MAX_LOST];
	size_t nlost;
	uint64_t records_dropped; /* batches a slow output lost, so far */
	struct kp_host_cpu {       /* KP_HM_CPU_BUSY, from /proc/stat */
		double busy_pct;   /* of all CPUs over the interval, NAN:
				    * no baseline yet */
		double busy_s;     /* since boot, all CPUs */
		unsigned int ncpus; /* 0: not read */
	} cpu;
	struct kp_tier_share {     /* KP_HM_SCHED_EVENTS: the sched probe's
				    * per-event tier */
		uint64_t on_ns;    /* attached in the interval */
		uint64_t window_ns; /* the probe's interval; 0: not running */
	} sched_events;
	struct kp_sample_set host; /* device samples of no VMM: I/O the
				    * kernel did on its own (KP_PID_HOST),
				    * and the resolver folds other
				    * processes' in (kp_interval_fold_vm) */
};

/* kp_interval_add_dev's pid for the host record (no process has pid 0) */
#define KP_PID_HOST 0

/*
 * Add value (a counter metric) or hist (a histogram metric) to the sample
 * (metric, label) of thread tid of process pid; vcpu is the vCPU index or -1.
 * Returns 0 or -ENOMEM.
 */
int kp_interval_add(struct kp_interval *iv, uint32_t pid, uint32_t tid,
		    int vcpu, enum kp_metric_id metric, const char *label,
		    uint64_t value, const struct kp_hist *hist);
/*
 * Add value to the sample of metric (a KP_SHOW_TOP metric) about peer,
 * labelled by the peer's tid. Returns 0, -EINVAL or -ENOMEM.
 */
int kp_interval_add_peer(struct kp_interval *iv, uint32_t pid, uint32_t tid,
			 int vcpu, enum kp_metric_id metric,
			 const struct kp_peer *peer, uint64_t value);
int kp_interval_add_lost(struct kp_interval *iv, const char *probe,
			 uint64_t n);
/*
 * Add value or hist to the sample (metric, dev, label) of a disk or iface
 * scope metric of process pid, or of the host record when pid is
 * KP_PID_HOST. A process gets a record without vCPUs. 0, -EINVAL or
 * -ENOMEM.
 */
int kp_interval_add_dev(struct kp_interval *iv, uint32_t pid,
			enum kp_metric_id metric, const char *dev,
			const char *label, uint64_t value,
			const struct kp_hist *hist);
/*
 * kp_interval_add_dev, with the device's number (struct kp_sample's devid):
 * the resolver names disks and places taps by it.
 */
int kp_interval_add_dev_id(struct kp_interval *iv, uint32_t pid,
			   enum kp_metric_id metric, const char *dev,
			   uint64_t devid, const char *label, uint64_t value,
			   const struct kp_hist *hist);
/* The same into sample set s (a VM's, or the host's). */
int kp_samples_add_dev(struct kp_sample_set *s, enum kp_metric_id metric,
		       const char *dev, uint64_t devid, const char *label,
		       uint64_t value, const struct kp_hist *hist);
/* The record of process pid, added (without vCPUs) when absent; NULL when
 * out of memory. */
struct kp_vm_rec *kp_interval_vm(struct kp_interval *iv, uint32_t pid);
/*
 * Move each device sample of the host record that place() gives a pid
 * (KP_PID_HOST: it stays) to that process's record, added when absent.
 * 0 or -ENOMEM (what could not move stays in the host record).
 */
typedef uint32_t (*kp_place_fn)(const struct kp_sample *s, void *arg);
int kp_interval_place_host(struct kp_interval *iv, kp_place_fn place,
			   void *arg);
/*
 * Fold record i (a process that is not a VMM) into the host record: its
 * device samples are added to the host's, the rest is dropped with it.
 * 0 or -ENOMEM.
 */
int kp_interval_fold_vm(struct kp_interval *iv, size_t i);
/* Sort a set as kp_interval_finish does (by metric, device, label). */
void kp_samples_sort(struct kp_sample_set *s);
/*
 * Sum vCPU samples into their VM, sort vCPUs by index, samples by name,
 * and derive each sample's pct and worst_pct over iv->interval_s (set it
 * first).
 */
int kp_interval_finish(struct kp_interval *iv);
/*
 * ns as a percentage of interval_s seconds; 0 for an empty interval. The
 * one percent-of-interval formula: kp_interval_finish uses it.
 */
double kp_pct(uint64_t ns, double interval_s);
/* Sort vCPUs: known indexes first, ascending, then by thread id. */
void kp_vm_sort_vcpus(struct kp_vm_rec *vm);
/* Set the VM-wide gauge metric of vm to value. 0 or -ENOMEM. */
int kp_vm_set_gauge(struct kp_vm_rec *vm, enum kp_metric_id metric,
		    uint64_t value);
/*
 * The memory gauges derived from libvirt's: guest_used_kib (available less
 * usable, else less unused) and ballooned_kib (max less current), each
 * when its inputs are set. 0 or -ENOMEM.
 */
int kp_vm_derive_memory(struct kp_vm_rec *vm);
/* Remove VM i from iv (the domain filter), keeping the order. */
void kp_interval_drop_vm(struct kp_interval *iv, size_t i);
/* Free everything; iv can be reused afterwards. */
void kp_interval_clear(struct kp_interval *iv);

const struct kp_sample *kp_sample_find(const struct kp_sample_set *s,
				       enum kp_metric_id metric,
				       const char *label);
/* The sample (metric, dev, label) of a device scope, or NULL. */
const struct kp_sample *kp_sample_find_dev(const struct kp_sample_set *s,
					   enum kp_metric_id metric,
					   const char *dev, const char *label);
/* Index of the first sample of metric in a finished set, or s->n. */
size_t kp_sample_first(const struct kp_sample_set *s, enum kp_metric_id m);
uint64_t kp_sample_sum(const struct kp_sample_set *s, enum kp_metric_id m);
/*
 * Ready time (waiting while the cgroup was allowed to run): a run delay
 * total of set s less the limited time (KP_M_LIMITED) of the same set.
 */
uint64_t kp_ready_ns(const struct kp_sample_set *s, uint64_t total);

#endif /* KP_RECORD_H */
