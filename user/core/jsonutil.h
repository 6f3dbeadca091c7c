/* SPDX-License-Identifier: GPL-2.0 */
/* JSON building blocks on json-c. Pure: no I/O. */
#ifndef KP_JSONUTIL_H
#define KP_JSONUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <json-c/json.h>
#include <linux/types.h>
#include "bpf/hist.h"

/*
 * A JSON string for s, which may hold any bytes (process names are not
 * checked by the kernel): invalid UTF-8 becomes U+FFFD. json-c escapes
 * quotes, backslashes and control characters.
 */
struct json_object *kp_json_string(const char *s);
/* Copy s into a new string with invalid UTF-8 sequences replaced. */
char *kp_utf8_sanitize(const char *s);
/* v with exactly three decimals (not json-c's 17 significant digits). */
struct json_object *kp_json_fixed3(double v);
/* A histogram as documented in docs/output.md (HIST). */
struct json_object *kp_json_hist(const struct kp_hist *h);
/* The same, without "buckets" unless buckets_too: count, sum, p50, p99. */
struct json_object *kp_json_hist_ext(const struct kp_hist *h, bool buckets_too);
/* RFC 3339 UTC with milliseconds: 2026-11-22T10:00:01.000Z */
int kp_format_ts(const struct timespec *ts, char *buf, size_t len);
/* Serialize obj as one line (no newline). */
const char *kp_json_line(struct json_object *obj);

#endif /* KP_JSONUTIL_H */
