/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Halt polling, kernel-counter tier: the records the haltpoll iterator
 * (bpf/haltpoll.bpf.c) writes, one per vCPU with its cumulative struct
 * kvm_vcpu_stat halt counters, into per-interval samples. Pure: the caller
 * reads the iterator, this module parses, keeps the previous read and
 * decodes the differences. No libbpf.
 *
 * A vCPU first seen after the first read was created since the read
 * before (it would have been seen): its counters count from zero. The
 * first read is the baseline of the vCPUs that already ran and yields
 * nothing. A VMM that ends between two reads takes that part of its
 * interval with it (its vCPU files are gone); the per-event halt
 * histogram (kvm_vcpu_wakeup) still has its halts.
 */
#ifndef KP_HALTS_H
#define KP_HALTS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "bpf/haltpoll.h"
#include "user/core/record.h"
#include "user/core/snap.h"

struct kp_halts {
	struct kp_snap prev, cur;
	bool baseline;      /* prev holds a read */
};

void kp_halts_init(struct kp_halts *h);
void kp_halts_free(struct kp_halts *h);
/*
 * One read of the iterator: len bytes of struct haltpoll_rec. Adds the
 * differences since the last read to iv. A vCPU that never ran (no
 * thread) is skipped, a record repeated (the fd held by two processes)
 * counted once. 0, -EINVAL (len not a whole number of records) or
 * -ENOMEM.
 */
int kp_halts_read(struct kp_halts *h, const void *buf, size_t len,
		  struct kp_interval *iv);

#endif /* KP_HALTS_H */
