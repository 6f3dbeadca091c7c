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
#include "kp_common.bpf.h"
#include "core_fixes.bpf.h"

#define PF_KTHREAD 0x00200000

/* block_io_start creates requests (v6.5+); else block_getrq and bio_owner */
const volatile bool use_io_start = false;
/* log2 of the inflight array's entries (set with its size by the loader) */
const volatile __u32 inflight_bits = 14;

/* Entries in inflight_spill: while 0, a request not in its array slot is
 * not tracked, without a hash lookup to say so. */
__s64 spilled = 0;

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
 * Requests in flight, direct-mapped: a request lives in the slot a hash of
 * its struct request pointer picks, claimed with a compare-and-swap on the
 * slot's owner, from its start until completion. An array lookup is a few
 * instructions where a hash map's update and delete each took about 100 ns
 * per request here. Request structs are preallocated per tag and reused,
 * so a pointer keeps its slot; a request whose slot another live request
 * holds (a collision) goes to inflight_spill, which keeps tracking exact.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1 << 14);
	__type(key, __u32);
	__type(value, struct block_rq);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct block_rq);
} inflight_spill SEC(".maps");

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
static const struct block_rq zero_rq;

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
	if (!kp_pid_wanted(pid))
		return -1;
	return pid;
}

/* The flush machinery's own request: REQ_OP_FLUSH without a bio. */
static __always_inline bool machinery_flush(struct request *rq, bool btf)
{
	return !kp_rq_bio(rq, btf) && kp_rq_op(rq, btf) == BLOCK_OP_FLUSH;
}

/*
 * What the slot of request key is hashed from, as a number. In tp_btf
 * programs key is a pointer the verifier lets take part in nothing but a
 * pointer subtraction (privileged programs only, as kvmprobe's are): the
 * distance to a fixed address serves as well. raw_tp arguments are numbers.
 */
static __always_inline __u64 rq_hkey(struct request *rq, bool btf)
{
	if (btf)
		return (__u64)rq - (__u64)(void *)&inflight;
	return (__u64)rq;
}

/* The array slot for hkey: a multiplicative (Fibonacci) hash, whose top
 * bits spread the requests of one tag set (a fixed stride apart). */
static __always_inline struct block_rq *rq_slot(__u64 hkey)
{
	__u32 idx = (hkey * 0x9E3779B97F4A7C15ULL) >> (64 - inflight_bits);

	return bpf_map_lookup_elem(&inflight, &idx);
}

/* The entry of request key, NULL when it is not tracked. */
static __always_inline struct block_rq *rq_find(__u64 key, __u64 hkey)
{
	struct block_rq *r = rq_slot(hkey);

	if (r && r->rq == key)
		return r;
	if (!spilled)
		return NULL;
	return bpf_map_lookup_elem(&inflight_spill, &key);
}

static __always_inline void spill_delete(__u64 key)
{
	if (!bpf_map_delete_elem(&inflight_spill, &key))
		__sync_fetch_and_add(&spilled, -1);
}

/*
 * A fresh entry for request key: its array slot when free (or already its
 * own, left by a completion not seen), else one in inflight_spill. NULL
 * when inflight_spill is full (a lost event).
 */
static __always_inline struct block_rq *rq_claim(__u64 key, __u64 hkey,
						 __u32 pid, __u32 dev,
						 __u32 op, __u64 start)
{
	struct block_rq *r = rq_slot(hkey);
	__u64 owner;

	if (r) {
		owner = __sync_val_compare_and_swap(&r->rq, 0, key);
		if (owner == 0 || owner == key) {
			/* an older entry of the same pointer is stale */
			if (spilled)
				spill_delete(key);
			goto init;
		}
	}
	r = bpf_map_lookup_elem(&inflight_spill, &key);
	if (!r) {
		if (bpf_map_update_elem(&inflight_spill, &key, &zero_rq,
					BPF_NOEXIST)) {
			kp_lost();
			return NULL;
		}
		__sync_fetch_and_add(&spilled, 1);
		r = bpf_map_lookup_elem(&inflight_spill, &key);
		if (!r)
			return NULL;
	}
	r->rq = key;
	r->spilled = 1;
	goto fill;
init:
	r->spilled = 0;
fill:
	r->start_ts = start;
	r->insert_ts = 0;
	r->issue_ts = 0;
	r->pid = pid;
	r->dev = dev;
	r->bytes = 0;
	r->op = op;
	r->requeued = 0;
	return r;
}

/*
 * End the tracking of request key. The caller has read what it needs of
 * r: a freed slot may be claimed by another request at once (the compiler
 * barrier keeps the reads before the store; x86 keeps stores after loads).
 */
static __always_inline void rq_release(__u64 key, struct block_rq *r)
{
	if (r->spilled) {
		spill_delete(key);
		return;
	}
	asm volatile("" ::: "memory");
	*(volatile __u64 *)&r->rq = 0;
}

/*
 * Add one completed request to its (pid, dev, op) entry: six atomic adds
 * (see struct block_val for what userspace derives).
 */
static __always_inline void account(__u32 pid, __u32 dev, __u32 op,
				    __u64 bytes, __u64 insert, __u64 issue,
				    __u64 now)
{
	struct block_key k = { .pid = pid, .dev = dev, .op = op };
	struct block_val *v = kp_lookup_or_init(&stats, &k, &zero_val);
	__u64 first = insert ? insert : issue;

	if (!v) {
		kp_lost();
		return;
	}
	__sync_fetch_and_add(&v->bytes, bytes);
	__sync_fetch_and_add(&v->queue_sum, issue - first);
	__sync_fetch_and_add(&v->device_sum, now - issue);
	__sync_fetch_and_add(&v->queue[kp_hist_slot(issue - first)], 1);
	__sync_fetch_and_add(&v->device[kp_hist_slot(now - issue)], 1);
	__sync_fetch_and_add(&v->total[kp_hist_slot(now - first)], 1);
}

static __always_inline int on_io_start(struct request *rq, bool btf)
{
	__u64 key = (__u64)rq;
	struct block_rq *r;
	__u32 op;
	__s64 pid = current_submitter();

	if (pid < 0) {
		/* not ours: no entry a reused request could inherit */
		r = rq_find(key, rq_hkey(rq, btf));
		if (r)
			rq_release(key, r);
		return 0;
	}
	/* A clock read costs about as much as the rest of this program: only
	 * a request that may complete without being issued (an empty
	 * preflush, see account_unissued()) needs its start time. */
	op = kp_rq_op(rq, btf);
	rq_claim(key, rq_hkey(rq, btf), pid, kp_rq_dev(rq, btf), op,
		 op == BLOCK_OP_FLUSH ? bpf_ktime_get_ns() : 0);
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
	return rq_claim(key, rq_hkey(rq, btf), pid, kp_rq_dev(rq, btf),
			kp_rq_op(rq, btf), now);
}

static __always_inline int on_insert(struct request *rq, bool btf)
{
	__u64 key = (__u64)rq, now = bpf_ktime_get_ns();
	struct block_rq *r = rq_find(key, rq_hkey(rq, btf));

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
	struct block_rq *r = rq_find(key, rq_hkey(rq, btf));
	__u32 dev;

	if (r && r->issue_ts && !r->requeued)
		r = NULL;
	if (!r) {
		if (machinery_flush(rq, btf)) {
			dev = kp_rq_disk_dev(rq, btf);
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

static __always_inline int on_requeue(struct request *rq, bool btf)
{
	__u64 key = (__u64)rq;
	struct block_rq *r = rq_find(key, rq_hkey(rq, btf));

	if (r)
		r->requeued = 1;
	return 0;
}

/* A request merged into another ends without completing. */
static __always_inline int on_merge(struct request *rq, bool btf)
{
	__u64 key = (__u64)rq;
	struct block_rq *r = rq_find(key, rq_hkey(rq, btf));

	if (r)
		rq_release(key, r);
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
	__u32 disk = kp_rq_disk_dev(rq, btf);
	__u64 *flushed = bpf_map_lookup_elem(&last_flush, &disk);
	__u64 issue = now;

	if (!start) /* not a flush: ended before issue (an error), no time */
		start = now;
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
	struct block_rq *r = rq_find(key, rq_hkey(rq, btf));
	__u64 insert, issue, start, bytes;
	__u32 pid, dev, op;
	struct block_bio *b;
	__u64 bio;

	if (r) {
		pid = r->pid;
		dev = r->dev;
		op = r->op;
		bytes = r->bytes;
		start = r->start_ts;
		insert = r->insert_ts;
		issue = r->issue_ts;
		rq_release(key, r);
		if (issue)
			account(pid, dev, op, bytes, insert, issue, now);
		else
			account_unissued(rq, pid, dev, op, start, now, btf);
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
	return on_requeue(rq, true);
}

SEC("tp_btf/block_rq_merge")
int BPF_PROG(merge_btf, struct request *rq)
{
	return on_merge(rq, true);
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
	return on_requeue(rq, false);
}

SEC("raw_tp/block_rq_merge")
int BPF_PROG(merge_raw, struct request *rq)
{
	return on_merge(rq, false);
}

SEC("raw_tp/block_rq_complete")
int BPF_PROG(complete_raw, struct request *rq)
{
	return on_complete(rq, false);
}

char LICENSE[] SEC("license") = "GPL";
