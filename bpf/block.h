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
 * with atomics. All three histograms get one sample per request.
 */
struct block_val {
	__u64 ios;
	__u64 bytes;
	struct kp_hist queue;   /* insert -> issue; 0 when issued directly */
	struct kp_hist device;  /* issue -> complete */
	struct kp_hist total;   /* insert or issue, whichever came first,
				 * -> complete */
};

/* A request in flight, keyed by its struct request pointer. */
struct block_rq {
	__u64 start_ts;   /* created (block_io_start), else first seen */
	__u64 insert_ts;  /* 0: not inserted (issued directly) */
	__u64 issue_ts;   /* 0: not issued yet */
	__u32 pid;
	__u32 dev;
	__u32 bytes;      /* request.__data_len when issued */
	__u8 op;
	__u8 requeued;    /* block_rq_requeue: insert or issue again next */
	__u8 pad[2];
};

/* The submitter of a bio, from block_getrq (kernels before v6.5). */
struct block_bio {
	__u64 ts;
	__u32 pid;
	__u32 op;  /* as kp_bio_op() read it then: the flush machinery
		    * rewrites its requests' flags before they complete */
};

#endif /* KP_BLOCK_H */
