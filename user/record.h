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
#include "user/metrics.h"

#define KP_LABEL_MAX 32
#define KP_COMM_MAX 16
#define KP_MAX_LOST 8

struct kp_sample {
	enum kp_metric_id metric;
	char label[KP_LABEL_MAX];
	uint64_t value;         /* counters */
	struct kp_hist *hist;   /* histograms, owned */
};

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
	struct kp_sample_set s; /* sums over the vCPUs */
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
};

/*
 * Add value (a counter metric) or hist (a histogram metric) to the sample
 * (metric, label) of thread tid of process pid; vcpu is the vCPU index or -1.
 * Returns 0 or -ENOMEM.
 */
int kp_interval_add(struct kp_interval *iv, uint32_t pid, uint32_t tid,
		    int vcpu, enum kp_metric_id metric, const char *label,
		    uint64_t value, const struct kp_hist *hist);
int kp_interval_add_lost(struct kp_interval *iv, const char *probe,
			 uint64_t n);
/* Sum vCPU samples into their VM, sort vCPUs by index, samples by name. */
int kp_interval_finish(struct kp_interval *iv);
/* Sort vCPUs: known indexes first, ascending, then by thread id. */
void kp_vm_sort_vcpus(struct kp_vm_rec *vm);
/* Free everything; iv can be reused afterwards. */
void kp_interval_clear(struct kp_interval *iv);

const struct kp_sample *kp_sample_find(const struct kp_sample_set *s,
				       enum kp_metric_id metric,
				       const char *label);
/* Index of the first sample of metric in a finished set, or s->n. */
size_t kp_sample_first(const struct kp_sample_set *s, enum kp_metric_id m);
uint64_t kp_sample_sum(const struct kp_sample_set *s, enum kp_metric_id m);

#endif /* KP_RECORD_H */
