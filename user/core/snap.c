// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "user/core/snap.h"

void kp_snap_init(struct kp_snap *s, size_t key_size, size_t val_size)
{
	memset(s, 0, sizeof(*s));
	s->key_size = key_size;
	s->nvals = val_size / sizeof(uint64_t);
}

int kp_snap_reserve(struct kp_snap *s, size_t n)
{
	unsigned char *k;
	uint64_t *v;

	if (n <= s->cap)
		return 0;
	k = realloc(s->keys, n * s->key_size);
	if (!k)
		return -ENOMEM;
	s->keys = k;
	v = realloc(s->vals, n * s->nvals * sizeof(uint64_t));
	if (!v)
		return -ENOMEM;
	s->vals = v;
	s->cap = n;
	return 0;
}

void kp_snap_free(struct kp_snap *s)
{
	free(s->keys);
	free(s->vals);
	s->keys = NULL;
	s->vals = NULL;
	s->n = s->cap = 0;
}

void kp_snap_swap(struct kp_snap *a, struct kp_snap *b)
{
	struct kp_snap t = *a;

	*a = *b;
	*b = t;
}

static size_t sort_key_size;
static const unsigned char *sort_keys;

static int cmp_idx(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return memcmp(sort_keys + x * sort_key_size,
		      sort_keys + y * sort_key_size, sort_key_size);
}

/* Sort an index, then permute: values can be large (histograms). */
int kp_snap_sort(struct kp_snap *s)
{
	size_t i, *idx, vb = s->nvals * sizeof(uint64_t);
	unsigned char *keys;
	uint64_t *vals;

	if (s->n < 2)
		return 0;
	idx = malloc(s->n * sizeof(*idx));
	keys = malloc(s->n * s->key_size);
	vals = malloc(s->n * vb);
	if (!idx || !keys || !vals) {
		free(idx);
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	for (i = 0; i < s->n; i++)
		idx[i] = i;
	sort_key_size = s->key_size;
	sort_keys = s->keys;
	if (s->n > 1) /* qsort(NULL, 0) is undefined */
		qsort(idx, s->n, sizeof(*idx), cmp_idx);
	for (i = 0; i < s->n; i++) {
		memcpy(keys + i * s->key_size, kp_snap_key(s, idx[i]),
		       s->key_size);
		memcpy((unsigned char *)vals + i * vb, kp_snap_val(s, idx[i]),
		       vb);
	}
	free(idx);
	free(s->keys);
	free(s->vals);
	s->keys = keys;
	s->vals = vals;
	s->cap = s->n;
	return 0;
}

int kp_snap_delta(const struct kp_snap *prev, const struct kp_snap *cur,
		  kp_delta_fn fn, void *arg)
{
	size_t i, j = 0, k;
	uint64_t *delta;
	int c, err = 0;
	delta = calloc(cur->nvals ? cur->nvals : 1, sizeof(*delta));
	if (!delta)
		return -ENOMEM;
	for (i = 0; i < cur->n && !err; i++) {
		const uint64_t *cv = kp_snap_val(cur, i), *pv = NULL;
		int changed = 0;

		c = 1;
		while (j < prev->n) {
			c = memcmp(kp_snap_key(prev, j), kp_snap_key(cur, i),
				   cur->key_size);
			if (c >= 0)
				break;
			j++;
		}
		if (j < prev->n && c == 0)
			pv = kp_snap_val(prev, j);
		for (k = 0; k < cur->nvals; k++) {
			delta[k] = pv && cv[k] >= pv[k] ? cv[k] - pv[k] : cv[k];
			changed |= delta[k] != 0;
		}
		if (pv) {
			/* a counter went back: the key was re-created */
			for (k = 0; k < cur->nvals; k++)
				if (cv[k] < pv[k])
					break;
			if (k < cur->nvals) {
				memcpy(delta, cv, cur->nvals * sizeof(*delta));
				changed = 1;
			}
		}
		if (changed)
			err = fn(kp_snap_key(cur, i), delta, arg);
	}
	free(delta);
	return err;
}
