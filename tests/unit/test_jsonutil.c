// SPDX-License-Identifier: GPL-2.0
/* Unit tests for user/core/jsonutil.c: strings, histograms, timestamps. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "user/core/hist.h"
#include "user/core/jsonutil.h"

#define FFFD "\xef\xbf\xbd"

/*
 * Length of the well-formed UTF-8 sequence at s, or 0: Unicode 15, table
 * 3-7 "Well-Formed UTF-8 Byte Sequences", row by row.
 */
static size_t ref_utf8_len(const unsigned char *s)
{
	static const struct {
		unsigned char lo, hi;  /* lead byte range */
		unsigned char lo2, hi2; /* second byte range */
		size_t len;
	} rows[] = {
		{ 0x00, 0x7f, 0, 0, 1 },
		{ 0xc2, 0xdf, 0x80, 0xbf, 2 },
		{ 0xe0, 0xe0, 0xa0, 0xbf, 3 },
		{ 0xe1, 0xec, 0x80, 0xbf, 3 },
		{ 0xed, 0xed, 0x80, 0x9f, 3 },
		{ 0xee, 0xef, 0x80, 0xbf, 3 },
		{ 0xf0, 0xf0, 0x90, 0xbf, 4 },
		{ 0xf1, 0xf3, 0x80, 0xbf, 4 },
		{ 0xf4, 0xf4, 0x80, 0x8f, 4 },
	};
	size_t r, i;

	for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		if (s[0] < rows[r].lo || s[0] > rows[r].hi)
			continue;
		if (rows[r].len == 1)
			return 1;
		if (s[1] < rows[r].lo2 || s[1] > rows[r].hi2)
			return 0;
		for (i = 2; i < rows[r].len; i++)
			if (s[i] < 0x80 || s[i] > 0xbf)
				return 0;
		return rows[r].len;
	}
	return 0;
}

static bool ref_utf8_valid(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n;

	while (*s) {
		n = ref_utf8_len(s);
		if (!n)
			return false;
		s += n;
	}
	return true;
}

/* Serialize {"s": kp_json_string(in)}, parse it back strictly, return s. */
static char *round_trip(const char *in, char *line, size_t linelen)
{
	struct json_object *o = json_object_new_object(), *back, *s;
	struct json_tokener *tok;
	char *out;

	json_object_object_add(o, "s", kp_json_string(in));
	snprintf(line, linelen, "%s", kp_json_line(o));
	json_object_put(o);

	tok = json_tokener_new();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
				    JSON_TOKENER_VALIDATE_UTF8);
	back = json_tokener_parse_ex(tok, line, strlen(line));
	if (!back)
		fail_msg("output does not parse: %s: %s", line,
			 json_tokener_error_desc(json_tokener_get_error(tok)));
	json_tokener_free(tok);
	assert_true(json_object_object_get_ex(back, "s", &s));
	assert_true(json_object_is_type(s, json_type_string));
	out = strdup(json_object_get_string(s));
	json_object_put(back);
	return out;
}

/* in becomes want in JSON, and the serialized line is valid UTF-8. */
static void assert_json_string(const char *in, const char *want)
{
	char line[1024];
	char *got = round_trip(in, line, sizeof(line));

	assert_true(ref_utf8_valid(line));
	assert_string_equal(got, want);
	free(got);
}

static const char *serialize(struct json_object *o)
{
	static char line[4096];

	snprintf(line, sizeof(line), "%s", kp_json_line(o));
	json_object_put(o);
	return line;
}

static void json_string__quotes_and_backslash__are_escaped(void **state)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "s", kp_json_string("a\"b\\c/d"));
	assert_string_equal(serialize(o), "{\"s\":\"a\\\"b\\\\c/d\"}");
	assert_json_string("a\"b\\c/d", "a\"b\\c/d");
}

static void json_string__control_characters__use_json_escapes(void **state)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "s", kp_json_string("l1\nl2\tx\x01y\x1f"));
	assert_string_equal(serialize(o),
			    "{\"s\":\"l1\\nl2\\tx\\u0001y\\u001f\"}");
	assert_json_string("l1\nl2\tx\x01y\x1f", "l1\nl2\tx\x01y\x1f");
}

static void json_string__valid_utf8__passes_unchanged(void **state)
{
	static const char *const ok[] = {
		"vm \"prod\" \xc3\xa9",        /* é */
		"\xe6\x97\xa5\xe6\x9c\xac",    /* 日本 */
		"\xf0\x9f\x98\x80",            /* U+1F600 */
		"\xc2\x80",                    /* U+0080, lowest 2-byte */
		"\xe0\xa0\x80",                /* U+0800, lowest 3-byte */
		"\xed\x9f\xbf",                /* U+D7FF, below surrogates */
		"\xee\x80\x80",                /* U+E000, above surrogates */
		"\xef\xbf\xbf",                /* U+FFFF */
		"\xf0\x90\x80\x80",            /* U+10000, lowest 4-byte */
		"\xf4\x8f\xbf\xbf",            /* U+10FFFF, the last */
		FFFD,
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_json_string(ok[i], ok[i]);
}

static void json_string__lone_invalid_byte__becomes_fffd(void **state)
{
	assert_json_string("\xff", FFFD);
	assert_json_string("a\xfe" "b", "a" FFFD "b");
	assert_json_string("\x80", FFFD);             /* lone continuation */
	assert_json_string("x\xc3", "x" FFFD);        /* 2-byte cut at end */
	assert_json_string("\xc3(", FFFD "(");        /* not a continuation */
}

static void json_string__truncated_sequence__becomes_fffd(void **state)
{
	char line[256], *got;
	const char *p;

	/* 3-byte 日 without its last byte, then ASCII */
	got = round_trip("a\xe6\x97z", line, sizeof(line));
	assert_true(ref_utf8_valid(got));
	assert_true(got[0] == 'a');
	/* one or more U+FFFD (either policy Unicode allows), then "z" */
	p = got + 1;
	assert_memory_equal(p, FFFD, 3);
	while (!strncmp(p, FFFD, 3))
		p += 3;
	assert_string_equal(p, "z");
	free(got);

	/* 4-byte emoji cut after 3 bytes, at the end */
	got = round_trip("\xf0\x9f\x98", line, sizeof(line));
	assert_true(ref_utf8_valid(got));
	assert_memory_equal(got, FFFD, 3);
	free(got);
}

static void json_string__overlong_encoding__becomes_fffd(void **state)
{
	assert_json_string("\xc0\xaf", FFFD FFFD);               /* '/' */
	assert_json_string("\xe0\x80\xaf", FFFD FFFD FFFD);
	assert_json_string("\xf0\x80\x80\xaf", FFFD FFFD FFFD FFFD);
}

static void json_string__surrogate__becomes_fffd(void **state)
{
	assert_json_string("\xed\xa0\x80", FFFD FFFD FFFD);      /* U+D800 */
	assert_json_string("\xed\xbf\xbf", FFFD FFFD FFFD);      /* U+DFFF */
}

static void json_string__above_10ffff__becomes_fffd(void **state)
{
	assert_json_string("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);
	assert_json_string("\xf5\x80\x80\x80", FFFD FFFD FFFD FFFD);
}

static void json_string__null__returns_null(void **state)
{
	assert_null(kp_json_string(NULL));
}

/* xorshift64*: fixed seed, so a failure reproduces. */
static uint64_t rng(void)
{
	static uint64_t x = 0x243f6a8885a308d3ULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	return x * 0x2545f4914f6cdd1dULL;
}

static void utf8_sanitize__random_bytes__always_valid_keeping_ascii(void **state)
{
	char in[33], ascii_in[33], ascii_out[200], *out;
	size_t len, i, a, b;
	int round;

	for (round = 0; round < 100000; round++) {
		len = rng() % 32;
		for (i = 0; i < len; i++) {
			/* bias towards bytes that build multi-byte sequences */
			uint64_t r = rng();

			in[i] = r & 1 ? (char)(0x80 | (r >> 8 & 0x7f)) :
					(char)(1 + (r >> 8) % 255);
		}
		in[len] = '\0';
		out = kp_utf8_sanitize(in);
		assert_non_null(out);
		if (!ref_utf8_valid(out))
			fail_msg("invalid output for input of %zu bytes", len);
		if (ref_utf8_valid(in))
			assert_string_equal(out, in);
		/* ASCII is never swallowed into a replacement */
		for (i = a = 0; in[i]; i++)
			if ((unsigned char)in[i] < 0x80)
				ascii_in[a++] = in[i];
		ascii_in[a] = '\0';
		for (i = b = 0; out[i]; i++)
			if ((unsigned char)out[i] < 0x80)
				ascii_out[b++] = out[i];
		ascii_out[b] = '\0';
		assert_string_equal(ascii_in, ascii_out);
		free(out);
	}
}

static void json_fixed3__values__have_exactly_three_decimals(void **state)
{
	static const struct {
		double v;
		const char *text;
	} cases[] = {
		{ 0, "0.000" },    { 1, "1.000" },        { 2.5, "2.500" },
		{ 1.23456, "1.235" }, { -1.5, "-1.500" }, { 1e6 / 3, "333333.333" },
		{ 16.384, "16.384" },
	};
	struct json_object *o;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		o = kp_json_fixed3(cases[i].v);
		assert_string_equal(kp_json_line(o), cases[i].text);
		assert_true(json_object_is_type(o, json_type_double));
		assert_float_equal(json_object_get_double(o),
				   strtod(cases[i].text, NULL), 0);
		json_object_put(o);
	}
}

/* Field name of obj, which must exist. */
static struct json_object *field(struct json_object *obj, const char *name)
{
	struct json_object *f;

	if (!json_object_object_get_ex(obj, name, &f))
		fail_msg("no field '%s' in %s", name, kp_json_line(obj));
	return f;
}

static void json_hist__empty__has_zero_fields_and_no_buckets(void **state)
{
	struct kp_hist h = { 0 };
	struct json_object *o = kp_json_hist(&h);

	assert_non_null(o);
	assert_string_equal(kp_json_line(o),
			    "{\"count\":0,\"sum_ns\":0,\"p50_us\":0.000,"
			    "\"p99_us\":0.000,\"buckets\":[]}");
	json_object_put(o);
}

static void json_hist__docs_example__has_documented_shape(void **state)
{
	struct kp_hist h = { 0 };
	struct json_object *o, *b;
	int i;

	/* docs/output.md's HIST: 3 in (2048, 4096], 1990 in (4096, 8192],
	 * 7 in (8192, 16384] */
	for (i = 0; i < 3; i++)
		kp_hist_add(&h, 4000);
	for (i = 0; i < 1990; i++)
		kp_hist_add(&h, 7000);
	for (i = 0; i < 7; i++)
		kp_hist_add(&h, 16000);
	o = kp_json_hist(&h);
	assert_int_equal(json_object_get_uint64(field(o, "count")), 2000);
	assert_int_equal(json_object_get_uint64(field(o, "sum_ns")),
			 3 * 4000 + 1990 * 7000 + 7 * 16000);
	/* p50: rank 1000, 997 of 1990 into (4096, 8192]: 6148.07 ns
	 * p99: rank 1980, 1977 of 1990 into it: 8165.24 ns */
	assert_string_equal(kp_json_line(field(o, "p50_us")), "6.148");
	assert_string_equal(kp_json_line(field(o, "p99_us")), "8.165");
	b = field(o, "buckets");
	assert_string_equal(kp_json_line(b),
			    "[[4096,3],[8192,1990],[16384,7]]");
	/* key order as documented */
	assert_non_null(strstr(kp_json_line(o),
			       "{\"count\":2000,\"sum_ns\":14054000,"
			       "\"p50_us\":6.148,\"p99_us\":8.165,"
			       "\"buckets\":["));
	json_object_put(o);
}

static void json_hist__first_and_overflow_slots__le_one_and_null(void **state)
{
	struct kp_hist h = { 0 };
	struct json_object *o, *b, *last;

	kp_hist_add(&h, 0);
	kp_hist_add(&h, 1);
	kp_hist_add(&h, 1ULL << 40);
	kp_hist_add(&h, UINT64_MAX / 2);
	o = kp_json_hist(&h);
	b = field(o, "buckets");
	assert_string_equal(kp_json_line(b), "[[1,2],[null,2]]");
	last = json_object_array_get_idx(b, 1);
	assert_null(json_object_array_get_idx(last, 0));
	json_object_put(o);
}

static void json_hist__largest_finite_bucket__is_exact_integer(void **state)
{
	struct kp_hist h = { 0 };
	struct json_object *o;

	kp_hist_add(&h, 1ULL << (KP_HIST_SLOTS - 2));
	o = kp_json_hist(&h);
	assert_string_equal(kp_json_line(field(o, "buckets")),
			    "[[17179869184,1]]");
	json_object_put(o);
}

static void json_hist__count__is_the_sum_of_bucket_counts(void **state)
{
	struct kp_hist h = { 0 };
	struct json_object *o;

	/* a delta of two readings taken while the BPF side was between its
	 * slot and count increments: the buckets are the truth */
	kp_hist_add(&h, 100);
	kp_hist_add(&h, 100);
	h.slots[kp_hist_slot(5000)]++;
	o = kp_json_hist(&h);
	assert_int_equal(json_object_get_uint64(field(o, "count")), 3);
	json_object_put(o);
}

static void format_ts__epoch__is_rfc3339_utc_with_millis(void **state)
{
	struct timespec ts = { 0, 0 };
	char buf[64];

	assert_int_equal(kp_format_ts(&ts, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
}

static void format_ts__known_time__is_formatted(void **state)
{
	struct timespec ts = { 1000000000, 123456789 };
	char buf[64];

	assert_int_equal(kp_format_ts(&ts, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2001-09-09T01:46:40.123Z");
}

static void format_ts__nanoseconds__are_truncated_not_rounded(void **state)
{
	struct timespec ts = { 59, 999999999 };
	char buf[64];

	assert_int_equal(kp_format_ts(&ts, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1970-01-01T00:00:59.999Z");
	ts.tv_nsec = 1999999;
	assert_int_equal(kp_format_ts(&ts, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1970-01-01T00:00:59.001Z");
}

static void format_ts__buffer_too_small__fails_without_overflow(void **state)
{
	struct timespec ts = { 0, 0 };
	char buf[32];

	/* "1970-01-01T00:00:00.000Z" is 24 characters */
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(kp_format_ts(&ts, buf, 25), 0);
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	memset(buf, 'X', sizeof(buf));
	assert_int_not_equal(kp_format_ts(&ts, buf, 24), 0);
	assert_memory_equal(buf + 24, "XXXXXXXX", 8);
	assert_int_not_equal(kp_format_ts(&ts, buf, 10), 0);
}

static void json_line__object__is_one_plain_line(void **state)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "a", json_object_new_int(1));
	json_object_object_add(o, "b", json_object_new_string("x/y"));
	json_object_object_add(o, "c", NULL);
	assert_string_equal(kp_json_line(o), "{\"a\":1,\"b\":\"x/y\",\"c\":null}");
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_string__quotes_and_backslash__are_escaped),
		cmocka_unit_test(json_string__control_characters__use_json_escapes),
		cmocka_unit_test(json_string__valid_utf8__passes_unchanged),
		cmocka_unit_test(json_string__lone_invalid_byte__becomes_fffd),
		cmocka_unit_test(json_string__truncated_sequence__becomes_fffd),
		cmocka_unit_test(json_string__overlong_encoding__becomes_fffd),
		cmocka_unit_test(json_string__surrogate__becomes_fffd),
		cmocka_unit_test(json_string__above_10ffff__becomes_fffd),
		cmocka_unit_test(json_string__null__returns_null),
		cmocka_unit_test(utf8_sanitize__random_bytes__always_valid_keeping_ascii),
		cmocka_unit_test(json_fixed3__values__have_exactly_three_decimals),
		cmocka_unit_test(json_hist__empty__has_zero_fields_and_no_buckets),
		cmocka_unit_test(json_hist__docs_example__has_documented_shape),
		cmocka_unit_test(json_hist__first_and_overflow_slots__le_one_and_null),
		cmocka_unit_test(json_hist__largest_finite_bucket__is_exact_integer),
		cmocka_unit_test(json_hist__count__is_the_sum_of_bucket_counts),
		cmocka_unit_test(format_ts__epoch__is_rfc3339_utc_with_millis),
		cmocka_unit_test(format_ts__known_time__is_formatted),
		cmocka_unit_test(format_ts__nanoseconds__are_truncated_not_rounded),
		cmocka_unit_test(format_ts__buffer_too_small__fails_without_overflow),
		cmocka_unit_test(json_line__object__is_one_plain_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
