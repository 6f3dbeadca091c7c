// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include "user/probes/halts.h"

/* a snapshot entry: the vCPU and which counters its kernel has (the
 * same for every read), then its counters */
struct halts_key {
	uint32_t pid, tid, vcpu, flags;
};

#define NVALS HALTPOLL_NVALS

void kp_halts_init(struct kp_halts *h)
{
	memset(h, 0, sizeof(*h));
	kp_snap_init(&h->prev, sizeof(struct halts_key),
		     NVALS * sizeof(uint64_t));
	kp_snap_init(&h->cur, sizeof(struct halts_key),
		     NVALS * sizeof(uint64_t));
}

void kp_halts_free(struct kp_halts *h)
{
	kp_snap_free(&h->prev);
	kp_snap_free(&h->cur);
}

static int fill(struct kp_snap *s, const struct haltpoll_rec *r, size_t n)
{
	struct halts_key *k;
	uint64_t *v;
	size_t i;
	int err;

	s->n = 0;
	err = kp_snap_reserve(s, n);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		if (!r[i].tid)
			continue;
		k = kp_snap_key(s, s->n);
		*k = (struct halts_key){ r[i].pid, r[i].tid, r[i].vcpu,
					 r[i].flags };
		v = kp_snap_val(s, s->n);
		memcpy(v, r[i].v, sizeof(r[i].v));
		s->n++;
	}
	return kp_snap_sort(s);
}

/* Drop repeated keys of a sorted snapshot (one vCPU fd, two holders). */
static void dedup(struct kp_snap *s)
{
	size_t i, out = 0;

	for (i = 0; i < s->n; i++) {
		if (out && !memcmp(kp_snap_key(s, out - 1), kp_snap_key(s, i),
				   s->key_size))
			continue;
		if (out != i) {
			memcpy(kp_snap_key(s, out), kp_snap_key(s, i),
			       s->key_size);
			memcpy(kp_snap_val(s, out), kp_snap_val(s, i),
			       s->nvals * sizeof(uint64_t));
		}
		out++;
	}
	s->n = out;
}

static int add(struct kp_interval *iv, const struct halts_key *k,
	       enum kp_metric_id m, const char *label, uint64_t v)
{
	return kp_interval_add(iv, k->pid, k->tid, (int)k->vcpu, m, label, v,
			       NULL);
}

static int decode(const void *key, const uint64_t *d, void *arg)
{
	const struct halts_key *k = key;
	struct kp_interval *iv = arg;
	uint32_t flags = k->flags;
	uint64_t fails;
	int err = 0;

	fails = d[HALTPOLL_POLLS] > d[HALTPOLL_WINS] ?
		d[HALTPOLL_POLLS] - d[HALTPOLL_WINS] : 0;
	if (flags & HALTPOLL_F_HALTS)
		err = add(iv, k, KP_M_HALTS, "", d[HALTPOLL_HALTS]);
	if (!err)
		err = add(iv, k, KP_M_HALT_POLLS, "win", d[HALTPOLL_WINS]);
	if (!err)
		err = add(iv, k, KP_M_HALT_POLLS, "fail", fails);
	if (!err)
		err = add(iv, k, KP_M_POLL_WIN, "", d[HALTPOLL_WIN_NS]);
	if (!err)
		err = add(iv, k, KP_M_POLL_FAIL, "", d[HALTPOLL_FAIL_NS]);
	if (!err && (flags & HALTPOLL_F_WAIT))
		err = add(iv, k, KP_M_HALT_WAIT, "", d[HALTPOLL_WAIT_NS]);
	return err;
}

int kp_halts_read(struct kp_halts *h, const void *buf, size_t len,
		  struct kp_interval *iv)
{
	int err;

	if (len % sizeof(struct haltpoll_rec))
		return -EINVAL;
	err = fill(&h->cur, buf, len / sizeof(struct haltpoll_rec));
	if (err)
		return err;
	dedup(&h->cur);
	if (h->baseline)
		err = kp_snap_delta(&h->prev, &h->cur, decode, iv);
	kp_snap_swap(&h->prev, &h->cur);
	h->baseline = true;
	return err;
}
