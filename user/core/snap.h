/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Snapshots of a BPF hash map of monotonic u64 counters, and the per-key
 * difference between two snapshots. Pure: the caller fills the entries.
 */
#ifndef KP_SNAP_H
#define KP_SNAP_H

#include <stddef.h>
#include <stdint.h>

struct kp_snap {
	size_t key_size;   /* bytes */
	size_t nvals;      /* u64 counters per value */
	size_t n, cap;
	unsigned char *keys;
	uint64_t *vals;
};

void kp_snap_init(struct kp_snap *s, size_t key_size, size_t val_size);
int kp_snap_reserve(struct kp_snap *s, size_t n);
static inline void *kp_snap_key(const struct kp_snap *s, size_t i)
{
	return s->keys + i * s->key_size;
}
static inline uint64_t *kp_snap_val(const struct kp_snap *s, size_t i)
{
	return s->vals + i * s->nvals;
}
/* Sort entries by key bytes, so that entries sharing a key prefix group. */
int kp_snap_sort(struct kp_snap *s);
void kp_snap_free(struct kp_snap *s);
void kp_snap_swap(struct kp_snap *a, struct kp_snap *b);

/*
 * For every key of cur (sorted) whose counters differ from prev (sorted;
 * a key absent from prev counts from zero), call fn with the key and the
 * differences. delta points to scratch space valid during the call. A
 * counter that went backwards (the key was deleted and re-created between
 * the snapshots) is taken from zero.
 */
typedef int (*kp_delta_fn)(const void *key, const uint64_t *delta, void *arg);
int kp_snap_delta(const struct kp_snap *prev, const struct kp_snap *cur,
		  kp_delta_fn fn, void *arg);

#endif /* KP_SNAP_H */
