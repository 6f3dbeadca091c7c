/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The output queue: records go to a bounded queue that a writer thread
 * drains into the output file, so a slow or stuck reader never delays
 * sampling. When the queue is full the new record is dropped and counted.
 * The file is reopened on request (SIGHUP, for logrotate).
 */
#ifndef KP_OUTQ_H
#define KP_OUTQ_H

#include <stddef.h>
#include <stdint.h>

#define KP_OUTQ_DEFAULT 1024 /* records (intervals' worth of text) */

struct kp_outq;

/*
 * Open path for appending (NULL: stdout, never reopened) and start the
 * writer. Returns NULL with errno set.
 */
struct kp_outq *kp_outq_new(const char *path, size_t max_records);
/* Queue buf (malloc'd, taken over even on error). 0, or -ENOBUFS when
 * full (dropped and counted), or the writer's sticky error (-EPIPE...). */
int kp_outq_push(struct kp_outq *q, char *buf, size_t len);
/* Reopen the file before the next write. */
void kp_outq_reopen(struct kp_outq *q);
uint64_t kp_outq_dropped(const struct kp_outq *q);
/* The writer's first write/reopen error (-errno), 0 if none. */
int kp_outq_error(const struct kp_outq *q);
/* Write what is queued (waiting at most timeout_ms), stop and free. */
int kp_outq_close(struct kp_outq *q, int timeout_ms);

#endif /* KP_OUTQ_H */
