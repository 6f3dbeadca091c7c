// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include "user/core/hist.h"

unsigned int kp_hist_slot(uint64_t v)
{
	unsigned int slot;

	if (v <= 1)
		return 0;
	slot = 64 - __builtin_clzll(v - 1); /* ceil(log2(v)) */
	return slot >= KP_HIST_SLOTS ? KP_HIST_SLOTS - 1 : slot;
}

bool kp_hist_le_is_inf(unsigned int slot)
{
	return slot >= KP_HIST_SLOTS - 1;
}

uint64_t kp_hist_le(unsigned int slot)
{
	return kp_hist_le_is_inf(slot) ? UINT64_MAX : 1ULL << slot;
}

void kp_hist_add(struct kp_hist *h, uint64_t v)
{
	h->slots[kp_hist_slot(v)]++;
	h->sum += v;
	h->count++;
}

void kp_hist_merge(struct kp_hist *dst, const struct kp_hist *src)
{
	unsigned int i;

	for (i = 0; i < KP_HIST_SLOTS; i++)
		dst->slots[i] += src->slots[i];
	dst->sum += src->sum;
	dst->count += src->count;
}

void kp_hist_sub(struct kp_hist *dst, const struct kp_hist *a,
		 const struct kp_hist *b)
{
	unsigned int i;

	for (i = 0; i < KP_HIST_SLOTS; i++)
		dst->slots[i] = a->slots[i] - b->slots[i];
	dst->sum = a->sum - b->sum;
	dst->count = a->count - b->count;
}

bool kp_hist_empty(const struct kp_hist *h)
{
	unsigned int i;

	for (i = 0; i < KP_HIST_SLOTS; i++)
		if (h->slots[i])
			return false;
	return true;
}

static uint64_t slot_total(const struct kp_hist *h)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < KP_HIST_SLOTS; i++)
		n += h->slots[i];
	return n;
}

double kp_hist_percentile(const struct kp_hist *h, double p)
{
	uint64_t total = slot_total(h), seen = 0;
	double rank, lo, hi;
	unsigned int i;

	if (!total || p <= 0)
		return 0;
	if (p > 100)
		p = 100;
	rank = p / 100.0 * (double)total;
	for (i = 0; i < KP_HIST_SLOTS; i++) {
		if (!h->slots[i] || (double)(seen + h->slots[i]) < rank) {
			seen += h->slots[i];
			continue;
		}
		lo = i == 0 ? 0 : (double)(1ULL << (i - 1));
		if (kp_hist_le_is_inf(i))
			return lo;
		hi = (double)kp_hist_le(i);
		return lo + (hi - lo) * (rank - (double)seen) / (double)h->slots[i];
	}
	return 0;
}
