/*
 * In-kernel halts of kvm-exerciser (--hlt-wake): the in-kernel irqchip, the
 * guest's interrupt vector table, the timer thread that wakes the halted
 * vCPU, and the vCPU's own halt counters read back through
 * KVM_GET_STATS_FD (the ground truth of kvmprobe's halt-polling figures).
 */
#ifndef KVM_EXERCISER_IRQ_H
#define KVM_EXERCISER_IRQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* Create the irqchip and map the IVT page at GUEST_IVT_GPA (slot 1);
 * call before any KVM_CREATE_VCPU. *ivt: the page, for munmap. 0 or
 * -errno, reported. */
int irq_setup(int vm_fd, uint8_t **ivt);

/* Raises IRQ 0 every period_s seconds until wake_stop(). */
struct wake_timer {
	int vm_fd;
	double period_s;
	pthread_t thread;
	bool started;
	int stop; /* atomic */
};

int wake_start(struct wake_timer *t);
void wake_stop(struct wake_timer *t);

/* The vCPU's halt counters (KVM's binary stats), in this order. */
enum kstat {
	KSTAT_HALT_EXITS,
	KSTAT_ATTEMPTED_POLL,
	KSTAT_SUCCESSFUL_POLL,
	KSTAT_POLL_INVALID,
	KSTAT_WAKEUP,
	KSTAT_POLL_SUCCESS_NS,
	KSTAT_POLL_FAIL_NS,
	KSTAT_WAIT_NS,
	KSTAT__COUNT,
};

struct kstats {
	bool have;
	uint64_t v[KSTAT__COUNT];
};

/* Read them from vcpu_fd in the VMM's own process (KVM refuses others).
 * 0 or -errno; k->have says whether every counter was found. */
int kstats_read(int vcpu_fd, struct kstats *k);
/* ,"kstats":{...} or ,"kstats":null */
void kstats_print(const struct kstats *k);

#endif
