/* SPDX-License-Identifier: GPL-2.0 */
/* Log2 histogram math on struct kp_hist (bpf/hist.h). Pure functions. */
#ifndef KP_USER_HIST_H
#define KP_USER_HIST_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "bpf/hist.h"

unsigned int kp_hist_slot(uint64_t v);
/* Upper bound of slot in ns; UINT64_MAX for the overflow slot. */
uint64_t kp_hist_le(unsigned int slot);
bool kp_hist_le_is_inf(unsigned int slot);
void kp_hist_add(struct kp_hist *h, uint64_t v);
void kp_hist_merge(struct kp_hist *dst, const struct kp_hist *src);
/* dst = a - b, slot by slot (a is a later reading of the same counters). */
void kp_hist_sub(struct kp_hist *dst, const struct kp_hist *a,
		 const struct kp_hist *b);
bool kp_hist_empty(const struct kp_hist *h);
/*
 * The p-th percentile (0 < p <= 100) in ns, interpolated linearly inside its
 * slot; 0 for an empty histogram. A percentile in the overflow slot returns
 * that slot's lower bound.
 */
double kp_hist_percentile(const struct kp_hist *h, double p);

#endif /* KP_USER_HIST_H */
