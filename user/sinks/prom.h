/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Prometheus exporter's store: it accumulates the per-interval deltas
 * of every registry metric into cumulative series (counters only go up,
 * histograms get cumulative le buckets, _sum and _count) and renders them
 * in the text exposition format. Series of VMs that are gone are removed.
 * Pure: liveness comes from a callback; locking is the caller's.
 */
#ifndef KP_PROM_H
#define KP_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "user/core/record.h"

struct kp_prom;

/* Whether VMM process pid still exists. */
typedef bool (*kp_prom_alive_fn)(uint32_t pid, void *arg);

struct kp_prom *kp_prom_new(kp_prom_alive_fn alive, void *arg);
void kp_prom_free(struct kp_prom *p);
/* Add a finished, resolved interval. 0 or -ENOMEM. */
int kp_prom_update(struct kp_prom *p, const struct kp_interval *iv);
/*
 * Render every series; *buf is malloc'd text of *len bytes (the caller
 * frees it). 0 or -ENOMEM.
 */
int kp_prom_render(struct kp_prom *p, char **buf, size_t *len);
size_t kp_prom_series(const struct kp_prom *p);
/* Extra host series: records dropped by a slow sink, and the like. */
void kp_prom_set_dropped(struct kp_prom *p, uint64_t records_dropped);

/* Escape a label value: backslash, double quote and newline. */
void kp_prom_escape(const char *in, char *out, size_t outlen);

#endif /* KP_PROM_H */
