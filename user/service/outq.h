/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The output queue: records go to a bounded queue that a writer thread
 * drains into the output file, so a slow or stuck reader never delays
 * sampling. When the queue is full the new record is dropped and counted.
 * The file is reopened on request (SIGHUP, for logrotate).
 *
 * Write errors degrade, they do not end the run: a record that cannot be
 * written (ENOSPC, EIO, a failed reopen) is dropped and counted, and the
 * queue says it stopped writing (kp_outq_status); each later record tries
 * again (a failed reopen: opening the path again), so writing resumes by
 * itself. A record is written whole or not at all: the part of a torn one
 * is truncated away (or, where that cannot be done, the next record starts
 * on a new line). Only a reader that went away (EPIPE) is final.
 */
#ifndef KP_OUTQ_H
#define KP_OUTQ_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define KP_OUTQ_DEFAULT 1024 /* records (intervals' worth of text) */

struct kp_outq;

/*
 * Open path for appending (NULL: stdout, never reopened) and start the
 * writer. Returns NULL with errno set.
 */
struct kp_outq *kp_outq_new(const char *path, size_t max_records);
/* Queue buf (malloc'd, taken over even on error). 0, or -ENOBUFS when
 * full (dropped and counted), or the sticky error (-EPIPE). */
int kp_outq_push(struct kp_outq *q, char *buf, size_t len);
/*
 * Keep buf (taken over) to be written before any other record as soon as
 * writing works again: the notice that it stopped. One at a time (a
 * second replaces the first).
 */
void kp_outq_hold(struct kp_outq *q, char *buf, size_t len);

struct kp_outq_status {
	int error;              /* why writing stopped (-errno); 0: writing */
	struct timespec since;  /* CLOCK_REALTIME: when it stopped */
	uint64_t lost;          /* records dropped since it (last) stopped */
	uint64_t dropped;       /* records dropped since the start */
};
void kp_outq_status(struct kp_outq *q, struct kp_outq_status *st);
/* Reopen the file before the next write. */
void kp_outq_reopen(struct kp_outq *q);
uint64_t kp_outq_dropped(const struct kp_outq *q);
/* The sticky error (-EPIPE: the reader went away), 0 if none. */
int kp_outq_error(const struct kp_outq *q);
/*
 * Write what is queued (waiting at most timeout_ms), stop and free. 0, the
 * sticky error, or why writing had stopped (the last records were lost).
 */
int kp_outq_close(struct kp_outq *q, int timeout_ms);

#endif /* KP_OUTQ_H */
