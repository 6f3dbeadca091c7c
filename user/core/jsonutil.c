// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "user/core/hist.h"
#include "user/core/jsonutil.h"

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
static size_t utf8_seq(const unsigned char *s)
{
	size_t n, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

char *kp_utf8_sanitize(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), o = 0, n;
	char *out;

	out = malloc(len * 3 + 1); /* each bad byte becomes 3 bytes */
	if (!out)
		return NULL;
	while (*p) {
		n = utf8_seq(p);
		if (n) {
			memcpy(out + o, p, n);
			o += n;
			p += n;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
		}
	}
	out[o] = '\0';
	return out;
}

struct json_object *kp_json_string(const char *s)
{
	struct json_object *obj;
	char *clean;

	if (!s)
		return NULL;
	clean = kp_utf8_sanitize(s);
	if (!clean)
		return NULL;
	obj = json_object_new_string(clean);
	free(clean);
	return obj;
}

struct json_object *kp_json_fixed3(double v)
{
	char buf[48];

	snprintf(buf, sizeof(buf), "%.3f", v);
	return json_object_new_double_s(strtod(buf, NULL), buf);
}

static struct json_object *us(double ns)
{
	return kp_json_fixed3(ns / 1000.0);
}

struct json_object *kp_json_hist(const struct kp_hist *h)
{
	return kp_json_hist_ext(h, true);
}

struct json_object *kp_json_hist_ext(const struct kp_hist *h, bool buckets_too)
{
	struct json_object *o, *buckets, *b;
	uint64_t n = 0;
	unsigned int i;

	o = json_object_new_object();
	buckets = json_object_new_array();
	if (!o || !buckets) {
		json_object_put(o);
		json_object_put(buckets);
		return NULL;
	}
	/* the bucket total, not h->count: a map read can land between the
	 * BPF side's slot and count increments (docs/output.md: HIST) */
	for (i = 0; i < KP_HIST_SLOTS; i++)
		n += h->slots[i];
	json_object_object_add(o, "count", json_object_new_uint64(n));
	json_object_object_add(o, "sum_ns", json_object_new_uint64(h->sum));
	json_object_object_add(o, "p50_us", us(kp_hist_percentile(h, 50)));
	json_object_object_add(o, "p99_us", us(kp_hist_percentile(h, 99)));
	if (!buckets_too) {
		json_object_put(buckets);
		return o;
	}
	for (i = 0; i < KP_HIST_SLOTS; i++) {
		if (!h->slots[i])
			continue;
		b = json_object_new_array_ext(2);
		json_object_array_add(b, kp_hist_le_is_inf(i) ? NULL :
				      json_object_new_uint64(kp_hist_le(i)));
		json_object_array_add(b, json_object_new_uint64(h->slots[i]));
		json_object_array_add(buckets, b);
	}
	json_object_object_add(o, "buckets", buckets);
	return o;
}

int kp_format_ts(const struct timespec *ts, char *buf, size_t len)
{
	struct tm tm;
	size_t n;

	if (!gmtime_r(&ts->tv_sec, &tm))
		return -1;
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!n || n + 6 > len)
		return -1;
	snprintf(buf + n, len - n, ".%03ldZ", ts->tv_nsec / 1000000);
	return 0;
}

const char *kp_json_line(struct json_object *obj)
{
	return json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
}
