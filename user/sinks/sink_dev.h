/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Device objects for the sinks: the disk and iface scope samples of a
 * record (kp_sample.dev set) as "disks":[...] and "interfaces":[...] in JSON
 * (docs/output.md) and as indented lines in the text table.
 */
#ifndef KP_SINK_DEV_H
#define KP_SINK_DEV_H

#include <stdbool.h>
#include <stdio.h>
#include <json-c/json.h>
#include "user/core/record.h"

/* Add <pct>p50_us and <pct>p99_us of h to o when metric d has d->pct. */
void kp_json_add_percentiles(struct json_object *o,
			     const struct kp_metric_desc *d,
			     const struct kp_hist *h);

/*
 * Add to o one array per device group of the registry ("disks",
 * "interfaces") with one object per device of set, laid out as each
 * metric's show mode says.
 */
void kp_json_add_devices(struct json_object *o,
			 const struct kp_sample_set *set);

/* Text: one line per disk operation and per interface of set, rates per
 * second over secs. */
void kp_text_devices(FILE *f, const struct kp_sample_set *set, double secs);

#endif /* KP_SINK_DEV_H */
