/* SPDX-License-Identifier: GPL-2.0 */
/* Structs shared between block.bpf.c and user/probes/block.c. */
#ifndef KP_BLOCK_H
#define KP_BLOCK_H

#include "hist.h"

/* The pid of I/O no user process submitted: kernel threads (writeback,
 * kworkers, the loop driver's workers). Reported as host I/O. */
#define BLOCK_PID_HOST 0

/* req_op's width in request.cmd_flags (REQ_OP_BITS, stable since v4.10) */
#define BLOCK_OP_MASK 0xffu
#define BLOCK_OP_WRITE 1  /* REQ_OP_WRITE */
#define BLOCK_OP_FLUSH 2  /* REQ_OP_FLUSH */

/* Requests completed per submitter, device and operation. */
struct block_key {
	__u32 pid;   /* tgid of the submitter, or BLOCK_PID_HOST */
	__u32 dev;   /* the kernel's dev_t: major << 20 | minor */
	__u32 op;    /* REQ_OP_* (request.cmd_flags & BLOCK_OP_MASK) */
};

/*
 * Updated at completion, on whichever CPU completes: every field is added
 * with atomics, so the layout keeps only what cannot be derived. Each
 * request adds one sample to each histogram, so a histogram's count is the
 * request count (the sum of its slots, the same for all three), and its
 * total time is queue time plus device time; userspace fills both in.
 */
struct block_val {
	__u64 bytes;
	__u64 queue_sum;   /* ns: insert -> issue; 0 when issued directly */
	__u64 device_sum;  /* ns: issue -> complete */
	__u64 queue[KP_HIST_SLOTS];
	__u64 device[KP_HIST_SLOTS];
	__u64 total[KP_HIST_SLOTS]; /* insert or issue, whichever came
				     * first, -> complete */
};

/*
 * A request in flight. Most live in a direct-mapped array slot picked by a
 * hash of the struct request pointer, owned by the request whose pointer is
 * in rq (0: free); a request whose slot another one holds goes to a small
 * hash map instead (spilled).
 */
struct block_rq {
	__u64 rq;         /* the owner's struct request *; 0: free slot */
	__u64 start_ts;   /* first seen; block_io_start: created, for
			   * flushes only (0 otherwise) */
	__u64 insert_ts;  /* 0: not inserted (issued directly) */
	__u64 issue_ts;   /* 0: not issued yet */
	__u32 pid;
	__u32 dev;
	__u32 bytes;      /* request.__data_len when issued */
	__u8 op;
	__u8 requeued;    /* block_rq_requeue: insert or issue again next */
	__u8 spilled;     /* lives in the spill hash, not the array */
	__u8 pad;
};

/* The submitter of a bio, from block_getrq (kernels before v6.5). */
struct block_bio {
	__u64 ts;
	__u32 pid;
	__u32 op;  /* as kp_bio_op() read it then: the flush machinery
		    * rewrites its requests' flags before they complete */
};

#endif /* KP_BLOCK_H */
