// SPDX-License-Identifier: GPL-2.0
/*
 * The block probe: loads block.bpf.c, picks per tracepoint the BTF-typed or
 * the raw_tp program, attaches what the kernel has and turns the stats map
 * (per submitter, device and operation) into disk samples of each process's
 * record, or of the host record for I/O of kernel threads. Samples carry
 * the device's number: the resolver names the guest's disks from it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/sysmacros.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "bpf/block.h"
#include "block.skel.h"
#include "user/probes/blkdev.h"
#include "user/probes/block.h"
#include "user/identity/procfs.h"
#include "user/probes/tpprog.h"

#define NEVENTS 6 /* block_io_start or block_getrq, and the rest */
#define GC_PERIOD_S 10
#define DEVNAME_TTL_S 30
#define MAX_DEVNAMES 256
#define STATS_MIN 64
#define SPILL_MIN 64
#define INFLIGHT_MIN_BITS 6
#define INFLIGHT_MAX_BITS 20

/*
 * Where the submitter is captured: block_io_start (v6.5+) gives the new
 * request in the submitter's context; older kernels have block_getrq with
 * the submitter's bio. One of the two is loaded.
 */
static const struct kp_tp_event io_start = { "block_io_start", "io_start_btf",
					     "io_start_raw" };
static const struct kp_tp_event getrq = { "block_getrq", "getrq_btf",
					  "getrq_raw" };

static const struct kp_tp_event rest[NEVENTS - 1] = {
	{ "block_rq_insert", "insert_btf", "insert_raw" },
	{ "block_rq_issue", "issue_btf", "issue_raw" },
	{ "block_rq_requeue", "requeue_btf", "requeue_raw" },
	{ "block_rq_merge", "merge_btf", "merge_raw" },
	{ "block_rq_complete", "complete_btf", "complete_raw" },
};

struct devname {
	uint32_t kdev;
	time_t at;
	char name[KP_LABEL_MAX];
};

struct block_state {
	struct block_bpf *skel;
	struct kp_tp_event events[NEVENTS];
	struct bpf_link *links[NEVENTS];
	int stats_fd;
	uint32_t max_entries;
	const char *proc_root;
	const char *sys_root;
	struct kp_snap prev, cur;
	uint64_t lost_prev;
	time_t last_gc;
	struct devname names[MAX_DEVNAMES];
	size_t nnames;
};

static void state_free(struct block_state *bs)
{
	size_t i;

	if (!bs)
		return;
	for (i = 0; i < NEVENTS; i++)
		bpf_link__destroy(bs->links[i]);
	block_bpf__destroy(bs->skel);
	kp_snap_free(&bs->prev);
	kp_snap_free(&bs->cur);
	free(bs);
}

/* log2 of the inflight array's slots: --map-entries rounded up to a power
 * of two, within what the BPF side's hash can address. */
static uint32_t inflight_bits(uint32_t entries)
{
	uint32_t bits = INFLIGHT_MIN_BITS;

	while (bits < INFLIGHT_MAX_BITS && (1U << bits) < entries)
		bits++;
	return bits;
}

/* Requests whose array slot another live request holds: a few per cent at
 * most (a birthday bound on the requests in flight at once). */
static uint32_t spill_entries(uint32_t entries)
{
	return entries / 4 > SPILL_MIN ? entries / 4 : SPILL_MIN;
}

/*
 * Map sizes: requests in flight (an array of --map-entries rounded up to a
 * power of two, plus a spill hash of a quarter of that for collisions) and
 * bios awaiting their request take --map-entries each (their keys are
 * bounded by the queues' tags); the stats map holds (process, device, op)
 * triples, a quarter of that.
 */
static int open_load(struct block_state *bs, const struct kp_probe_env *env,
		     enum kp_attach mode, struct kp_probe_status *st)
{
	const struct kp_opts *o = env->opts;
	const struct kp_tp_event *unused;
	bool use_io_start;
	uint32_t bits;
	int err;

	bs->skel = block_bpf__open();
	if (!bs->skel)
		return -errno;
	bs->skel->rodata->filter_pid = o->npids > 0;
	bs->max_entries = o->map_entries / 4 > STATS_MIN ? o->map_entries / 4 :
			  STATS_MIN;
	bits = inflight_bits(o->map_entries);
	bs->skel->rodata->inflight_bits = bits;
	err = bpf_map__set_max_entries(bs->skel->maps.stats, bs->max_entries);
	if (!err)
		err = bpf_map__set_max_entries(bs->skel->maps.inflight,
					       1U << bits);
	if (!err)
		err = bpf_map__set_max_entries(bs->skel->maps.inflight_spill,
					       spill_entries(o->map_entries));
	if (!err)
		err = bpf_map__set_max_entries(bs->skel->maps.bio_owner,
					       o->map_entries);
	if (err)
		return err;
	use_io_start = kp_ksupport_btf_has(env->ks, "btf_trace_block_io_start",
					   BTF_KIND_TYPEDEF);
	bs->skel->rodata->use_io_start = use_io_start;
	unused = use_io_start ? &getrq : &io_start;
	bpf_program__set_autoload(bpf_object__find_program_by_name(
		bs->skel->obj, unused->btf_prog), false);
	bpf_program__set_autoload(bpf_object__find_program_by_name(
		bs->skel->obj, unused->raw_prog), false);
	bs->events[0] = use_io_start ? io_start : getrq;
	memcpy(&bs->events[1], rest, sizeof(rest));
	kp_tp_choose(bs->skel->obj, bs->events, NEVENTS, env->ks, mode, st);
	return block_bpf__load(bs->skel);
}

int kp_block_start(const struct kp_probe_env *env, void **state,
		   struct kp_probe_status *st)
{
	struct block_state *bs;
	int err;

	bs = calloc(1, sizeof(*bs));
	if (!bs)
		return -ENOMEM;
	bs->proc_root = env->proc_root;
	bs->sys_root = "/sys";
	kp_snap_init(&bs->prev, sizeof(struct block_key),
		     sizeof(struct block_val));
	kp_snap_init(&bs->cur, sizeof(struct block_key),
		     sizeof(struct block_val));

	err = open_load(bs, env, env->opts->attach, st);
	if (err && err != -EPERM && env->opts->attach == KP_ATTACH_AUTO) {
		/* a BTF-typed program the verifier refused: go raw_tp */
		block_bpf__destroy(bs->skel);
		bs->skel = NULL;
		err = open_load(bs, env, KP_ATTACH_CLASSIC, st);
	}
	if (err) {
		kp_tp_load_error(err, st);
		goto err_free;
	}
	err = kp_set_pid_filter(bpf_map__fd(bs->skel->maps.pid_filter),
				 env->opts);
	if (err) {
		snprintf(st->reason, sizeof(st->reason),
			 "failed to set the pid filter: %s", strerror(-err));
		goto err_free;
	}
	bs->stats_fd = bpf_map__fd(bs->skel->maps.stats);
	kp_tp_attach(bs->skel->obj, bs->events, NEVENTS, bs->links, st);
	if (!kp_tp_attached(st, "block_rq_issue") ||
	    !kp_tp_attached(st, "block_rq_complete")) {
		snprintf(st->reason, sizeof(st->reason),
			 "block_rq_issue and block_rq_complete are both needed (see missing)");
		err = -ENOENT;
		goto err_free;
	}
	st->attached = true;
	bs->last_gc = time(NULL);
	*state = bs;
	return 0;

err_free:
	state_free(bs);
	return err;
}

/* The kernel name of kdev ("loop0"), from a cache refreshed now and then:
 * a number can change hands when devices come and go. */
static const char *dev_name(struct block_state *bs, uint32_t kdev)
{
	time_t now = time(NULL);
	struct devname *d = NULL;
	size_t i;

	for (i = 0; i < bs->nnames; i++)
		if (bs->names[i].kdev == kdev)
			d = &bs->names[i];
	if (d && now - d->at < DEVNAME_TTL_S)
		return d->name;
	if (!d) {
		/* full: reuse the oldest entry */
		if (bs->nnames < MAX_DEVNAMES) {
			d = &bs->names[bs->nnames++];
		} else {
			d = &bs->names[0];
			for (i = 1; i < bs->nnames; i++)
				if (bs->names[i].at < d->at)
					d = &bs->names[i];
		}
	}
	d->kdev = kdev;
	d->at = now;
	if (kp_sys_blkdev_name(bs->sys_root, kp_kdev_major(kdev),
			       kp_kdev_minor(kdev), d->name, sizeof(d->name)))
		snprintf(d->name, sizeof(d->name), "%u:%u", kp_kdev_major(kdev),
			 kp_kdev_minor(kdev));
	return d->name;
}

struct decode_ctx {
	struct block_state *bs;
	struct kp_interval *iv;
};

/*
 * The histogram of slots with sum: every request adds one sample to each of
 * its entry's histograms (see struct block_val), so count is ios.
 */
static void to_hist(struct kp_hist *h, const __u64 *slots, uint64_t sum,
		    uint64_t ios)
{
	h->count = ios;
	h->sum = sum;
	memcpy(h->slots, slots, sizeof(h->slots));
}

static int decode(const void *key, const uint64_t *delta, void *arg)
{
	const struct block_val *d = (const struct block_val *)delta;
	const struct block_key *k = key;
	struct decode_ctx *c = arg;
	struct kp_hist queue, device, total;
	const char *dev, *op;
	uint64_t devno, ios = 0;
	size_t i;
	int err;

	for (i = 0; i < KP_HIST_SLOTS; i++)
		ios += d->total[i];
	if (!ios)
		return 0;
	to_hist(&queue, d->queue, d->queue_sum, ios);
	to_hist(&device, d->device, d->device_sum, ios);
	to_hist(&total, d->total, d->queue_sum + d->device_sum, ios);
	dev = dev_name(c->bs, k->dev);
	devno = makedev(kp_kdev_major(k->dev), kp_kdev_minor(k->dev));
	op = kp_block_op_name(k->op);
	err = kp_interval_add_dev_id(c->iv, k->pid, KP_M_DISK_IOS, dev, devno,
				     op, ios, NULL);
	if (!err)
		err = kp_interval_add_dev_id(c->iv, k->pid, KP_M_DISK_BYTES, dev,
					     devno, op, d->bytes, NULL);
	if (!err)
		err = kp_interval_add_dev_id(c->iv, k->pid, KP_M_DISK_QUEUE, dev,
					     devno, op, 0, &queue);
	if (!err)
		err = kp_interval_add_dev_id(c->iv, k->pid, KP_M_DISK_DEVICE,
					     dev, devno, op, 0, &device);
	if (!err)
		err = kp_interval_add_dev_id(c->iv, k->pid, KP_M_DISK_LATENCY,
					     dev, devno, op, 0, &total);
	return err;
}

/*
 * Entries of processes that ended stay in the map; delete them once their
 * last counts were reported. Liveness is taken before the map is read, so
 * an entry deleted after the read cannot have changed since.
 */
static size_t find_dead(struct block_state *bs, uint32_t **dead)
{
	uint32_t last = BLOCK_PID_HOST;
	size_t i, n = 0;

	*dead = NULL;
	if (time(NULL) - bs->last_gc < GC_PERIOD_S)
		return 0;
	bs->last_gc = time(NULL);
	*dead = calloc(bs->prev.n ? bs->prev.n : 1, sizeof(**dead));
	if (!*dead)
		return 0;
	for (i = 0; i < bs->prev.n; i++) {
		const struct block_key *k = kp_snap_key(&bs->prev, i);

		if (k->pid == BLOCK_PID_HOST || k->pid == last)
			continue;
		last = k->pid;
		if (!kp_proc_thread_alive(bs->proc_root, k->pid, k->pid))
			(*dead)[n++] = k->pid;
	}
	return n;
}

static void drop_dead(struct block_state *bs, const uint32_t *dead,
		      size_t ndead)
{
	struct kp_snap *s = &bs->cur;
	size_t i, j = 0, d;

	for (i = 0; i < s->n; i++) {
		struct block_key *k = kp_snap_key(s, i);

		for (d = 0; d < ndead && dead[d] != k->pid; d++)
			;
		if (d < ndead) {
			bpf_map_delete_elem(bs->stats_fd, k);
			continue;
		}
		if (i != j) {
			memcpy(kp_snap_key(s, j), k, s->key_size);
			memcpy(kp_snap_val(s, j), kp_snap_val(s, i),
			       s->nvals * sizeof(uint64_t));
		}
		j++;
	}
	s->n = j;
}

int kp_block_read(void *state, struct kp_interval *iv)
{
	struct block_state *bs = state;
	struct decode_ctx c = { .bs = bs, .iv = iv };
	uint32_t *dead;
	uint64_t lost;
	size_t ndead;
	int err;

	ndead = find_dead(bs, &dead);
	err = kp_map_read(bs->stats_fd, &bs->cur, bs->max_entries);
	if (!err)
		err = kp_snap_sort(&bs->cur);
	if (!err)
		err = kp_snap_delta(&bs->prev, &bs->cur, decode, &c);
	if (err)
		goto out;
	lost = bs->skel->bss->lost_events;
	err = kp_interval_add_lost(iv, "block", lost - bs->lost_prev);
	bs->lost_prev = lost;
	if (ndead)
		drop_dead(bs, dead, ndead);
	kp_snap_swap(&bs->prev, &bs->cur);
out:
	free(dead);
	return err;
}

void kp_block_stop(void *state)
{
	state_free(state);
}
