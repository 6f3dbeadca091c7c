// SPDX-License-Identifier: GPL-2.0
/*
 * block: requests per submitting process, device and operation, with their
 * queue time (insert -> issue), device time (issue -> complete) and total
 * time as log2 histograms. Aggregated in the stats map at completion.
 *
 * Attribution. Requests are issued and completed in whatever context runs
 * the queue (kblockd, softirq, the loop driver's workers), so the submitter
 * is captured where it is still current, in a hash keyed by struct
 * request * (the libbpf-tools biosnoop pattern):
 *  - v6.5+: block_io_start fires in blk_mq_bio_to_request(), in the
 *    submitter's context, with the new request (use_io_start);
 *  - before: block_getrq fires there with the submitter's bio; its owner is
 *    kept by bio until the request is first seen (insert or issue) and
 *    becomes the request's (bio_owner).
 * A request without a known owner is charged to the task that inserts or
 * issues it. Kernel threads (writeback, kworkers) are BLOCK_PID_HOST: host
 * I/O, reported per device.
 *
 * Flushes. fsync() sends an empty REQ_PREFLUSH write that is never issued
 * itself (reported as a flush, see kp_rq_op()): the flush machinery issues its own request without a bio (one
 * for many waiting flushes) and completes the originals when it is done.
 * That machinery request is not counted; each original is, for its
 * submitter, as queued from its start until the disk's latest machinery
 * flush was issued, then on the device until it completed.
 *
 * Every event has a BTF-typed program (tp_btf) and a raw_tp twin for
 * kernels without tracepoint BTF; the loader autoloads one of each pair.
 * Classic tracefs tracepoints are no fallback here: they carry no request
 * pointer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "block.h"
#include "kp_helpers.bpf.h"
#include "core_fixes.bpf.h"

#define PF_KTHREAD 0x00200000

const volatile bool filter_pid = false;
/* block_io_start creates requests (v6.5+); else block_getrq and bio_owner */
const volatile bool use_io_start = false;

/* Events lost because the stats or inflight map was full. */
__u64 lost_events = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} pid_filter SEC(".maps");

/*
 * bio -> submitter, from block_getrq until the request is first seen. LRU:
 * entries of bios that never reach insert or issue (merged into another
 * request, failed) age out.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct block_bio);
} bio_owner SEC(".maps");

/*
 * Requests in flight. Request structs are preallocated per tag, so the keys
 * are bounded by the tags of all queues; an entry lives until completion.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct block_rq);
} inflight SEC(".maps");

/* Disk (dev_t of the whole disk) -> when its flush machinery last issued. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} last_flush SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct block_key);
	__type(value, struct block_val);
} stats SEC(".maps");

static const struct block_val zero_val;

/*
 * The submitter of work done by the current task: its tgid, or
 * BLOCK_PID_HOST for kernel threads. -1 when the pid filter rejects it.
 */
static __always_inline __s64 current_submitter(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 pid;

	if (task->flags & PF_KTHREAD)
		pid = BLOCK_PID_HOST;
	else
		pid = bpf_get_current_pid_tgid() >> 32;
	if (filter_pid && !bpf_map_lookup_elem(&pid_filter, &pid))
		return -1;
	return pid;
}

static __always_inline __u32 disk_dev(struct request *rq, bool btf)
{
	struct gendisk *disk = kp_rq_disk(rq, btf);

	if (!disk)
		return 0;
	if (btf)
		return (__u32)disk->major << 20 | (__u32)disk->first_minor;
	return (__u32)BPF_CORE_READ(disk, major) << 20 |
	       (__u32)BPF_CORE_READ(disk, first_minor);
}

/* The flush machinery's own request: REQ_OP_FLUSH without a bio. */
static __always_inline bool machinery_flush(struct request *rq, bool btf)
{
	return !kp_rq_bio(rq, btf) && kp_rq_op(rq, btf) == BLOCK_OP_FLUSH;
}

/* Add one completed request to its (pid, dev, op) entry. */
static __always_inline void account(__u32 pid, __u32 dev, __u32 op,
				    __u64 bytes, __u64 insert, __u64 issue,
				    __u64 now)
{
	struct block_key k = { .pid = pid, .dev = dev, .op = op };
	struct block_val *v = kp_lookup_or_init(&stats, &k, &zero_val);
	__u64 first = insert ? insert : issue;

	if (!v) {
		__sync_fetch_and_add(&lost_events, 1);
		return;
	}
	__sync_fetch_and_add(&v->ios, 1);
	__sync_fetch_and_add(&v->bytes, bytes);
	kp_hist_add_atomic(&v->queue, issue - first);
	kp_hist_add_atomic(&v->device, now - issue);
	kp_hist_add_atomic(&v->total, now - first);
}

static __always_inline int on_io_start(struct request *rq, bool btf)
{
	__u64 key = (__u64)rq;
	struct block_rq r = {};
	__s64 pid = current_submitter();

	if (pid < 0) {
		/* not ours: no entry a reused request could inherit */
		bpf_map_delete_elem(&inflight, &key);
		return 0;
	}
	r.start_ts = bpf_ktime_get_ns();
	r.pid = pid;
	r.dev = kp_rq_dev(rq, btf);
	r.op = kp_rq_op(rq, btf);
	if (bpf_map_update_elem(&inflight, &key, &r, BPF_ANY))
		__sync_fetch_and_add(&lost_events, 1);
	return 0;
}

static __always_inline int on_getrq(struct bio *bio, bool btf)
{
	struct block_bio b = {};
	__u64 key = (__u64)bio;
	__s64 pid = current_submitter();

	if (pid < 0)
		return 0;
	b.ts = bpf_ktime_get_ns();
	b.pid = pid;
	b.op = kp_bio_op(bio, btf);
	bpf_map_update_elem(&bio_owner, &key, &b, BPF_ANY);
	return 0;
}

/*
 * Before v6.5: start tracking a request seen for the first time (insert or
 * issue), owned by its first bio's submitter, else by the current task.
 * NULL: not tracked (pid filter, map full).
 */
static __always_inline struct block_rq *first_seen(struct request *rq,
						   __u64 key, __u64 now,
						   bool btf)
{
	__u64 bio = (__u64)kp_rq_bio(rq, btf);
	struct block_rq r = {};
	struct block_bio *b;
	__s64 pid = -1;

	if (bio) {
		b = bpf_map_lookup_elem(&bio_owner, &bio);
		if (b) {
			pid = b->pid;
			bpf_map_delete_elem(&bio_owner, &bio);
		}
	}
	if (pid < 0)
		pid = current_submitter();
	if (pid < 0)
		return NULL;
	r.start_ts = now;
	r.pid = pid;
	r.dev = kp_rq_dev(rq, btf);
	r.op = kp_rq_op(rq, btf);
	if (bpf_map_update_elem(&inflight, &key, &r, BPF_ANY)) {
		__sync_fetch_and_add(&lost_events, 1);
		return NULL;
	}
	return bpf_map_lookup_elem(&inflight, &key);
}

static __always_inline int on_insert(struct request *rq, bool btf)
{
	__u64 key = (__u64)rq, now = bpf_ktime_get_ns();
	struct block_rq *r = bpf_map_lookup_elem(&inflight, &key);

	/* an entry issued before and not requeued is stale: a request
	 * whose completion was not seen */
	if (r && r->issue_ts && !r->requeued)
		r = NULL;
	if (!r) {
		if (use_io_start || machinery_flush(rq, btf))
			return 0;
		r = first_seen(rq, key, now, btf);
		if (!r)
			return 0;
	}
	r->insert_ts = now;
	r->issue_ts = 0;
	r->requeued = 0;
	return 0;
}

static __always_inline int on_issue(struct request *rq, bool btf)
{
	__u64 key = (__u64)rq, now = bpf_ktime_get_ns();
	struct block_rq *r = bpf_map_lookup_elem(&inflight, &key);
	__u32 dev;

	if (r && r->issue_ts && !r->requeued)
		r = NULL;
	if (!r) {
		if (machinery_flush(rq, btf)) {
			dev = disk_dev(rq, btf);
			bpf_map_update_elem(&last_flush, &dev, &now, BPF_ANY);
			return 0;
		}
		if (use_io_start)
			return 0;
		r = first_seen(rq, key, now, btf);
		if (!r)
			return 0;
	}
	if (r->requeued) { /* issued again without being inserted again */
		r->requeued = 0;
		r->insert_ts = 0;
	}
	r->issue_ts = now;
	r->bytes = kp_rq_bytes(rq, btf);
	return 0;
}

static __always_inline int on_requeue(struct request *rq)
{
	__u64 key = (__u64)rq;
	struct block_rq *r = bpf_map_lookup_elem(&inflight, &key);

	if (r)
		r->requeued = 1;
	return 0;
}

/* A request merged into another ends without completing. */
static __always_inline int on_merge(struct request *rq)
{
	__u64 key = (__u64)rq;

	bpf_map_delete_elem(&inflight, &key);
	return 0;
}

/*
 * A request that completes without having been issued: the original of a
 * flush sequence. Queued from start until the disk's machinery flush that
 * served it was issued (the latest one, if it was issued after start),
 * then on the device.
 */
static __always_inline void account_unissued(struct request *rq, __u32 pid,
					     __u32 dev, __u32 op, __u64 start,
					     __u64 now, bool btf)
{
	__u32 disk = disk_dev(rq, btf);
	__u64 *flushed = bpf_map_lookup_elem(&last_flush, &disk);
	__u64 issue = now;

	if (flushed && *flushed >= start && *flushed <= now)
		issue = *flushed;
	account(pid, dev, op, 0, start, issue, now);
}

/*
 * Account a completed request. A request may complete in parts
 * (blk_update_request() per chunk): the first part ends its tracking, as in
 * biolatency, and the whole request's bytes are counted.
 */
static __always_inline int on_complete(struct request *rq, bool btf)
{
	__u64 key = (__u64)rq, now = bpf_ktime_get_ns();
	struct block_rq *r = bpf_map_lookup_elem(&inflight, &key);
	struct block_bio *b;
	__u64 bio;

	if (r) {
		if (r->issue_ts)
			account(r->pid, r->dev, r->op, r->bytes, r->insert_ts,
				r->issue_ts, now);
		else
			account_unissued(rq, r->pid, r->dev, r->op, r->start_ts,
					 now, btf);
		bpf_map_delete_elem(&inflight, &key);
		return 0;
	}
	if (use_io_start)
		return 0;
	/* before v6.5 a flush original is never seen before it completes:
	 * its bio still names the submitter */
	bio = (__u64)kp_rq_bio(rq, btf);
	if (!bio)
		return 0;
	b = bpf_map_lookup_elem(&bio_owner, &bio);
	if (!b)
		return 0;
	account_unissued(rq, b->pid, kp_rq_dev(rq, btf), b->op, b->ts, now,
			 btf);
	bpf_map_delete_elem(&bio_owner, &bio);
	return 0;
}

/* BTF-typed flavours */

SEC("tp_btf/block_io_start")
int BPF_PROG(io_start_btf, struct request *rq)
{
	return on_io_start(rq, true);
}

SEC("tp_btf/block_getrq")
int BPF_PROG(getrq_btf, struct bio *bio)
{
	return on_getrq(bio, true);
}

SEC("tp_btf/block_rq_insert")
int BPF_PROG(insert_btf, struct request *rq)
{
	return on_insert(rq, true);
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(issue_btf, struct request *rq)
{
	return on_issue(rq, true);
}

SEC("tp_btf/block_rq_requeue")
int BPF_PROG(requeue_btf, struct request *rq)
{
	return on_requeue(rq);
}

SEC("tp_btf/block_rq_merge")
int BPF_PROG(merge_btf, struct request *rq)
{
	return on_merge(rq);
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(complete_btf, struct request *rq)
{
	return on_complete(rq, true);
}

/* raw tracepoints: the same arguments, read with CO-RE */

SEC("raw_tp/block_io_start")
int BPF_PROG(io_start_raw, struct request *rq)
{
	return on_io_start(rq, false);
}

SEC("raw_tp/block_getrq")
int BPF_PROG(getrq_raw, struct bio *bio)
{
	return on_getrq(bio, false);
}

SEC("raw_tp/block_rq_insert")
int BPF_PROG(insert_raw, struct request *rq)
{
	return on_insert(rq, false);
}

SEC("raw_tp/block_rq_issue")
int BPF_PROG(issue_raw, struct request *rq)
{
	return on_issue(rq, false);
}

SEC("raw_tp/block_rq_requeue")
int BPF_PROG(requeue_raw, struct request *rq)
{
	return on_requeue(rq);
}

SEC("raw_tp/block_rq_merge")
int BPF_PROG(merge_raw, struct request *rq)
{
	return on_merge(rq);
}

SEC("raw_tp/block_rq_complete")
int BPF_PROG(complete_raw, struct request *rq)
{
	return on_complete(rq, false);
}

char LICENSE[] SEC("license") = "GPL";
