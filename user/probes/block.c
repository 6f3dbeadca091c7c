// SPDX-License-Identifier: GPL-2.0
/*
 * The block probe: its event table for the shared lifecycle (tpprog.h; per
 * tracepoint the BTF-typed or the raw_tp program) and the decoding of the
 * stats map (per submitter, device and operation) into disk samples of each
 * process's record, or of the host record for I/O of kernel threads.
 * Samples carry the device's number: the resolver names the guest's disks
 * from it.
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
#include "user/probes/probe.h"
#include "user/identity/procfs.h"
#include "user/probes/tpprog.h"

#define NEVENTS 6 /* block_io_start or block_getrq, and the rest */
#define DEVNAME_TTL_S 30
#define MAX_DEVNAMES 256
#define STATS_MIN 64
#define SPILL_MIN 64
#define INFLIGHT_MIN_BITS 6
#define INFLIGHT_MAX_BITS 20

struct devname {
	uint32_t kdev;
	time_t at;
	char name[KP_LABEL_MAX];
};

struct block_state {
	struct block_bpf *skel;
	struct kp_progs progs;
	struct kp_counts counts;
	const char *sys_root;
	struct devname names[MAX_DEVNAMES];
	size_t nnames;
};

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
 * Where the submitter is captured: block_io_start (v6.5+) gives the new
 * request in the submitter's context; older kernels have block_getrq with
 * the submitter's bio. One of the two is loaded.
 */
static int block_open(void *p, const struct kp_probe_env *env,
		      struct kp_progs *pp)
{
	const struct kp_opts *o = env->opts;
	struct block_state *bs = p;
	struct block_bpf *skel;
	bool io_start;
	uint32_t bits;
	int err;

	bs->skel = skel = block_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->filter_pid = o->npids > 0;
	bs->counts.max = o->map_entries / 4 > STATS_MIN ? o->map_entries / 4 :
			 STATS_MIN;
	bits = inflight_bits(o->map_entries);
	skel->rodata->inflight_bits = bits;
	err = bpf_map__set_max_entries(skel->maps.stats, bs->counts.max);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.inflight, 1U << bits);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.inflight_spill,
					       spill_entries(o->map_entries));
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.bio_owner,
					       o->map_entries);
	if (err)
		return err;
	io_start = kp_ksupport_btf_has(env->ks, "btf_trace_block_io_start",
				       BTF_KIND_TYPEDEF);
	skel->rodata->use_io_start = io_start;
	bpf_program__set_autoload(io_start ? skel->progs.getrq_btf :
				  skel->progs.io_start_btf, false);
	bpf_program__set_autoload(io_start ? skel->progs.getrq_raw :
				  skel->progs.io_start_raw, false);
	pp->ev[0] = io_start ?
		kp_event_raw("block_io_start", skel->progs.io_start_btf,
			     skel->progs.io_start_raw) :
		kp_event_raw("block_getrq", skel->progs.getrq_btf,
			     skel->progs.getrq_raw);
	pp->ev[1] = kp_event_raw("block_rq_insert", skel->progs.insert_btf,
				 skel->progs.insert_raw);
	pp->ev[2] = kp_event_raw("block_rq_issue", skel->progs.issue_btf,
				 skel->progs.issue_raw);
	pp->ev[3] = kp_event_raw("block_rq_requeue", skel->progs.requeue_btf,
				 skel->progs.requeue_raw);
	pp->ev[4] = kp_event_raw("block_rq_merge", skel->progs.merge_btf,
				 skel->progs.merge_raw);
	pp->ev[5] = kp_event_raw("block_rq_complete", skel->progs.complete_btf,
				 skel->progs.complete_raw);
	pp->n = NEVENTS;
	pp->pid_filter = skel->maps.pid_filter;
	return 0;
}

static int block_load(void *p)
{
	return block_bpf__load(((struct block_state *)p)->skel);
}

static void block_destroy(void *p)
{
	struct block_state *bs = p;

	block_bpf__destroy(bs->skel);
	bs->skel = NULL;
}

static const struct kp_bpf_ops block_ops = {
	.open = block_open,
	.load = block_load,
	.destroy = block_destroy,
};

/* Entries belong to the submitting process; the host's never end. */
static uint64_t block_owner(const void *key)
{
	const struct block_key *k = key;

	return k->pid == BLOCK_PID_HOST ? 0 : (uint64_t)k->pid << 32;
}

static void state_free(struct block_state *bs)
{
	if (!bs)
		return;
	kp_progs_detach(&bs->progs);
	block_destroy(bs);
	kp_counts_free(&bs->counts);
	free(bs);
}

static int kp_block_start(const struct kp_probe_env *env, void **state,
			  struct kp_probe_status *st)
{
	struct block_state *bs;
	int err;

	bs = calloc(1, sizeof(*bs));
	if (!bs)
		return -ENOMEM;
	bs->sys_root = "/sys";
	kp_counts_init(&bs->counts, sizeof(struct block_key),
		       sizeof(struct block_val), block_owner, env->proc_root);
	err = kp_progs_load(&bs->progs, &block_ops, bs, env, st);
	if (err)
		goto err_free;
	bs->counts.fd = bpf_map__fd(bs->skel->maps.stats);
	kp_progs_attach(&bs->progs, st);
	if (!kp_progs_attached(&bs->progs, "block_rq_issue") ||
	    !kp_progs_attached(&bs->progs, "block_rq_complete")) {
		snprintf(st->reason, sizeof(st->reason),
			 "block_rq_issue and block_rq_complete are both needed (see missing)");
		err = -ENOENT;
		goto err_free;
	}
	st->attached = true;
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

static int kp_block_read(void *state, struct kp_interval *iv)
{
	struct block_state *bs = state;
	struct decode_ctx c = { .bs = bs, .iv = iv };
	int err;

	err = kp_counts_read(&bs->counts, decode, &c);
	if (!err)
		err = kp_counts_lost(&bs->counts, iv, "block",
				     bs->skel->bss->lost_events);
	return err;
}

static void kp_block_stop(void *state)
{
	state_free(state);
}

const struct kp_probe kp_probe_block = {
	.name = "block",
	.start = kp_block_start,
	.read = kp_block_read,
	.stop = kp_block_stop,
};
