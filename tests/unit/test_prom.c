// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for user/sinks/prom.c: the Prometheus store. Intervals of deltas are
 * built with user/core/record.c as the probes build them, added to a store, and
 * the rendered text is parsed back by a strict parser of the text
 * exposition format (every render of every test goes through it), so the
 * tests assert on series and values, not on byte layout. Metrics are looked
 * up by JSON key: the registry grows concurrently.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "user/core/hist.h"
#include "user/core/metrics.h"
#include "user/sinks/prom.h"
#include "user/core/record.h"

#define UUID_WEB "8a5c9a2e-0000-4000-8000-000000000001"
#define UUID_DB "8a5c9a2e-0000-4000-8000-000000000002"

#define assert_near(a, b)                                                  \
	do {                                                               \
		double a_ = (a), b_ = (b);                                 \
		if (fabs(a_ - b_) > 1e-12 * (fabs(b_) > 1 ? fabs(b_) : 1)) \
			fail_msg("%s is %.17g, not %.17g", #a, a_, b_);    \
	} while (0)

static enum kp_metric_id metric(const char *json)
{
	int id = kp_metric_by_json(json);

	if (id < 0)
		fail_msg("no metric '%s' in the registry", json);
	return (enum kp_metric_id)id;
}

static const char *prom_name(const char *json)
{
	return kp_metric(metric(json))->prom;
}

/* ---- liveness: every pid is alive unless listed dead ---- */

static uint32_t dead[16];
static size_t ndead;
static unsigned int alive_calls;

static bool alive(uint32_t pid, void *arg)
{
	size_t i;

	(void)arg;
	alive_calls++;
	for (i = 0; i < ndead; i++)
		if (dead[i] == pid)
			return false;
	return true;
}

static void kill_pid(uint32_t pid)
{
	assert_true(ndead < sizeof(dead) / sizeof(dead[0]));
	dead[ndead++] = pid;
}

/* ---- the interval being built ---- */

static struct kp_interval iv;
static struct kp_prom *store;

static void add(uint32_t pid, uint32_t tid, int vcpu, const char *json,
		const char *label, uint64_t value)
{
	assert_int_equal(kp_interval_add(&iv, pid, tid, vcpu, metric(json),
					 label, value, NULL),
			 0);
}

static void add_hist(uint32_t pid, uint32_t tid, int vcpu, const char *json,
		     const char *label, const struct kp_hist *h)
{
	assert_int_equal(kp_interval_add(&iv, pid, tid, vcpu, metric(json),
					 label, 0, h),
			 0);
}

static struct kp_vm_rec *vm_of(uint32_t pid)
{
	size_t i;

	for (i = 0; i < iv.nvms; i++)
		if (iv.vms[i].pid == pid)
			return &iv.vms[i];
	fail_msg("no VM %u in the interval", pid);
	return NULL;
}

static void identity(uint32_t pid, const char *name, const char *uuid)
{
	struct kp_vm_rec *vm = vm_of(pid);

	free(vm->name);
	free(vm->uuid);
	vm->name = name ? strdup(name) : NULL;
	vm->uuid = uuid ? strdup(uuid) : NULL;
}

static void gauge(uint32_t pid, const char *json, uint64_t v)
{
	assert_int_equal(kp_vm_set_gauge(vm_of(pid), metric(json), v), 0);
}

/* Finish the interval, add it to the store, start a new one. */
static void commit(void)
{
	iv.interval_s = 1.0;
	assert_int_equal(kp_interval_finish(&iv), 0);
	assert_int_equal(kp_prom_update(store, &iv), 0);
	kp_interval_clear(&iv);
}

/* ---- a strict parser of the text exposition format ---- */

#define MAX_LABELS 8
#define NAME_MAX_ 128

struct psample {
	char name[NAME_MAX_];
	size_t nl;
	char key[MAX_LABELS][64];
	char val[MAX_LABELS][1024];
	double value;
	char raw[64];           /* the value as written */
	size_t family;
	unsigned int line;
};

struct pfamily {
	char name[NAME_MAX_];
	char type[16];
	char help[4096];
	bool has_help, has_type, had_samples;
	size_t nsamples;
};

static struct {
	char *text;
	size_t len;
	struct psample *s;
	size_t n, cap;
	struct pfamily *f;
	size_t nf, capf;
} out;

static void out_free(void)
{
	free(out.text);
	free(out.s);
	free(out.f);
	memset(&out, 0, sizeof(out));
}

#define bad(line, text, ...)                                               \
	fail_msg("line %u: %s\n    | %s", line,                            \
		 (snprintf(why, sizeof(why), __VA_ARGS__), why), text)

static char why[512];

/* A metric or label name: [a-zA-Z_:][a-zA-Z0-9_:]*; labels take no ':'. */
static size_t name_len(const char *p, bool colon)
{
	size_t n = 0;

	if (!(isalpha((unsigned char)p[0]) || p[0] == '_' ||
	      (colon && p[0] == ':')))
		return 0;
	while (isalnum((unsigned char)p[n]) || p[n] == '_' ||
	       (colon && p[n] == ':'))
		n++;
	return n;
}

static struct pfamily *family_get(const char *name, bool create)
{
	size_t i;

	for (i = 0; i < out.nf; i++)
		if (!strcmp(out.f[i].name, name))
			return &out.f[i];
	if (!create)
		return NULL;
	if (out.nf == out.capf) {
		out.capf = out.capf ? out.capf * 2 : 64;
		out.f = realloc(out.f, out.capf * sizeof(*out.f));
		assert_non_null(out.f);
	}
	memset(&out.f[out.nf], 0, sizeof(out.f[0]));
	snprintf(out.f[out.nf].name, NAME_MAX_, "%s", name);
	return &out.f[out.nf++];
}

/* The family a sample name belongs to: histograms own _bucket/_sum/_count */
static struct pfamily *family_of(const char *name)
{
	static const char *const suffix[] = { "_bucket", "_sum", "_count" };
	char base[NAME_MAX_];
	struct pfamily *f;
	size_t i, n = strlen(name), k;

	for (i = 0; i < 3; i++) {
		k = strlen(suffix[i]);
		if (n <= k || strcmp(name + n - k, suffix[i]))
			continue;
		snprintf(base, sizeof(base), "%.*s", (int)(n - k), name);
		f = family_get(base, false);
		if (f && !strcmp(f->type, "histogram"))
			return f;
	}
	return family_get(name, false);
}

static bool parse_value(const char *v, double *d)
{
	char *end;

	if (!strcmp(v, "+Inf")) {
		*d = INFINITY;
		return true;
	}
	if (!strcmp(v, "-Inf")) {
		*d = -INFINITY;
		return true;
	}
	if (!strcmp(v, "NaN")) {
		*d = NAN;
		return true;
	}
	if (!*v || isspace((unsigned char)*v))
		return false;
	errno = 0;
	*d = strtod(v, &end);
	return !*end && !errno;
}

/* "# HELP name text" or "# TYPE name type" */
static void parse_comment(char *l, unsigned int ln, const char *text,
			  size_t cur)
{
	bool help = !strncmp(l, "# HELP ", 7);
	char name[NAME_MAX_], *p, *o;
	struct pfamily *f;
	size_t n;

	if (!help && strncmp(l, "# TYPE ", 7))
		bad(ln, text, "a comment that is neither HELP nor TYPE");
	p = l + 7;
	n = name_len(p, true);
	if (!n || n >= sizeof(name) || p[n] != ' ')
		bad(ln, text, "no metric name followed by a space");
	snprintf(name, sizeof(name), "%.*s", (int)n, p);
	p += n + 1;
	f = family_get(name, true);
	(void)cur;
	if (f->had_samples)
		bad(ln, text, "HELP/TYPE of %s after its samples", name);
	if (help) {
		if (f->has_help)
			bad(ln, text, "a second HELP for %s", name);
		f->has_help = true;
		for (o = f->help; *p; p++) {
			if (o >= f->help + sizeof(f->help) - 1)
				bad(ln, text, "HELP too long for the test");
			if (*p != '\\') {
				*o++ = *p;
				continue;
			}
			p++;
			if (*p == '\\')
				*o++ = '\\';
			else if (*p == 'n')
				*o++ = '\n';
			else
				bad(ln, text, "HELP escape '\\%c'", *p);
		}
		*o = '\0';
	} else {
		if (f->has_type)
			bad(ln, text, "a second TYPE for %s", name);
		if (strcmp(p, "counter") && strcmp(p, "gauge") &&
		    strcmp(p, "histogram") && strcmp(p, "summary") &&
		    strcmp(p, "untyped"))
			bad(ln, text, "TYPE '%s'", p);
		f->has_type = true;
		snprintf(f->type, sizeof(f->type), "%s", p);
	}
}

static void parse_sample(char *l, unsigned int ln, const char *text,
			 size_t *cur)
{
	struct psample *s;
	struct pfamily *f;
	size_t n, i;
	char *p = l, *o;

	if (out.n == out.cap) {
		out.cap = out.cap ? out.cap * 2 : 256;
		out.s = realloc(out.s, out.cap * sizeof(*out.s));
		assert_non_null(out.s);
	}
	s = &out.s[out.n];
	memset(s, 0, sizeof(*s));
	s->line = ln;
	n = name_len(p, true);
	if (!n || n >= sizeof(s->name))
		bad(ln, text, "no metric name");
	snprintf(s->name, sizeof(s->name), "%.*s", (int)n, p);
	p += n;
	if (*p == '{') {
		p++;
		while (*p != '}') {
			if (s->nl == MAX_LABELS)
				bad(ln, text, "over %d labels", MAX_LABELS);
			n = name_len(p, false);
			if (!n || n >= sizeof(s->key[0]) || p[n] != '=' ||
			    p[n + 1] != '"')
				bad(ln, text, "no label name=\"");
			snprintf(s->key[s->nl], sizeof(s->key[0]), "%.*s",
				 (int)n, p);
			for (i = 0; i < s->nl; i++)
				if (!strcmp(s->key[i], s->key[s->nl]))
					bad(ln, text, "label %s twice",
					    s->key[i]);
			p += n + 2;
			for (o = s->val[s->nl]; *p != '"'; p++) {
				if (!*p)
					bad(ln, text, "unterminated value");
				if (o >= s->val[s->nl] + sizeof(s->val[0]) - 1)
					bad(ln, text, "value too long");
				if (*p != '\\') {
					*o++ = *p;
					continue;
				}
				p++;
				if (*p == '\\' || *p == '"')
					*o++ = *p;
				else if (*p == 'n')
					*o++ = '\n';
				else
					bad(ln, text, "label escape '\\%c'",
					    *p ? *p : '0');
			}
			*o = '\0';
			s->nl++;
			p++;
			if (*p == ',')
				p++;
			else if (*p != '}')
				bad(ln, text, "no ',' or '}' after a label");
		}
		p++;
	}
	if (*p != ' ')
		bad(ln, text, "no single space before the value");
	p++;
	if (strchr(p, ' '))
		bad(ln, text, "a timestamp or trailing text");
	if (strlen(p) >= sizeof(s->raw) || !parse_value(p, &s->value))
		bad(ln, text, "value '%s' is not a float", p);
	snprintf(s->raw, sizeof(s->raw), "%s", p);
	f = family_of(s->name);
	if (!f || !f->has_type || !f->has_help)
		bad(ln, text, "sample of %s without HELP and TYPE before it",
		    s->name);
	if (f->had_samples && *cur != (size_t)(f - out.f))
		bad(ln, text, "samples of %s are not together", f->name);
	f->had_samples = true;
	f->nsamples++;
	*cur = f - out.f;
	s->family = *cur;
	out.n++;
}

/* The value of label key of s, NULL when absent. */
static const char *label(const struct psample *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->nl; i++)
		if (!strcmp(s->key[i], key))
			return s->val[i];
	return NULL;
}

/* Same label set, le aside. */
static bool same_series(const struct psample *a, const struct psample *b)
{
	size_t i, na = 0, nb = 0;
	const char *v;

	for (i = 0; i < a->nl; i++) {
		if (!strcmp(a->key[i], "le"))
			continue;
		na++;
		v = label(b, a->key[i]);
		if (!v || strcmp(v, a->val[i]))
			return false;
	}
	for (i = 0; i < b->nl; i++)
		nb += strcmp(b->key[i], "le") != 0;
	return na == nb;
}

/*
 * Every histogram series: buckets first, le ascending and cumulative counts
 * non-decreasing, +Inf last and equal to _count, then _sum and _count.
 */
static void check_histograms(void)
{
	const struct psample *first = NULL, *inf = NULL;
	double le = -INFINITY, cum = 0, v;
	size_t i, n;
	bool sum = false;

	for (i = 0; i < out.n; i++) {
		const struct psample *s = &out.s[i];
		const struct pfamily *f = &out.f[s->family];

		if (strcmp(f->type, "histogram"))
			continue;
		n = strlen(f->name);
		if (!strcmp(s->name + n, "_bucket")) {
			if (!label(s, "le"))
				fail_msg("line %u: a bucket without le",
					 s->line);
			if (!first || inf || !same_series(first, s)) {
				if (first && !inf)
					fail_msg("line %u: %s: buckets end "
						 "without +Inf", s->line,
						 f->name);
				first = s;
				inf = NULL;
				sum = false;
				le = -INFINITY;
				cum = 0;
			}
			if (!parse_value(label(s, "le"), &v) || v <= le)
				fail_msg("line %u: le=\"%s\" after %g",
					 s->line, label(s, "le"), le);
			if (s->value < cum)
				fail_msg("line %u: cumulative count falls",
					 s->line);
			le = v;
			cum = s->value;
			if (isinf(v))
				inf = s;
		} else if (!strcmp(s->name + n, "_sum")) {
			if (!inf || !same_series(first, s) || label(s, "le"))
				fail_msg("line %u: _sum not after its +Inf "
					 "bucket", s->line);
			sum = true;
		} else if (!strcmp(s->name + n, "_count")) {
			if (!inf || !sum || !same_series(first, s) ||
			    label(s, "le"))
				fail_msg("line %u: _count not after its _sum",
					 s->line);
			if (s->value != inf->value)
				fail_msg("line %u: _count %s != +Inf bucket %s",
					 s->line, s->raw, inf->raw);
			first = NULL;
			inf = NULL;
		} else {
			fail_msg("line %u: %s in histogram %s", s->line,
				 s->name, f->name);
		}
	}
	if (first)
		fail_msg("a histogram series without _count at the end");
}

static void parse(const char *text, size_t len)
{
	size_t cur = (size_t)-1;
	unsigned int ln = 0;
	char *copy, *l, *nl;

	out_free();
	if (len == 0 || text[len - 1] != '\n')
		fail_msg("the text does not end with a newline");
	if (strlen(text) != len)
		fail_msg("a NUL byte at %zu of %zu", strlen(text), len);
	out.text = strdup(text);
	out.len = len;
	copy = strdup(text);
	assert_non_null(copy);
	for (l = copy; *l; l = nl + 1) {
		char line[256];

		nl = strchr(l, '\n');
		*nl = '\0';
		ln++;
		snprintf(line, sizeof(line), "%s", l);
		if (!*l)
			bad(ln, line, "an empty line");
		if (*l == '#')
			parse_comment(l, ln, line, cur);
		else
			parse_sample(l, ln, line, &cur);
	}
	free(copy);
	check_histograms();
}

/* Render the store and parse the text: every render is checked. */
static void render(void)
{
	char *buf = NULL;
	size_t len = 0;

	assert_int_equal(kp_prom_render(store, &buf, &len), 0);
	assert_non_null(buf);
	/* the buffer may be longer than the text: keep len bytes */
	buf = realloc(buf, len + 1);
	assert_non_null(buf);
	buf[len] = '\0';
	parse(buf, len);
	free(buf);
}

/*
 * The one sample of name with exactly the labels given as key, value
 * pairs (NULL-terminated), or NULL.
 */
static const struct psample *vfind(const char *name, va_list ap)
{
	const char *k[MAX_LABELS + 1], *v[MAX_LABELS + 1];
	const struct psample *hit = NULL;
	size_t nk = 0, i, j;

	while ((k[nk] = va_arg(ap, const char *))) {
		v[nk] = va_arg(ap, const char *);
		if (++nk > MAX_LABELS)
			fail_msg("too many labels asked for");
	}
	for (i = 0; i < out.n; i++) {
		const struct psample *s = &out.s[i];

		if (strcmp(s->name, name) || s->nl != nk)
			continue;
		for (j = 0; j < nk; j++) {
			const char *lv = label(s, k[j]);

			if (!lv || strcmp(lv, v[j]))
				break;
		}
		if (j < nk)
			continue;
		if (hit)
			fail_msg("%s: two samples with the same labels "
				 "(lines %u and %u)", name, hit->line,
				 s->line);
		hit = s;
	}
	return hit;
}

static const struct psample *find(const char *name, ...)
{
	const struct psample *s;
	va_list ap;

	va_start(ap, name);
	s = vfind(name, ap);
	va_end(ap);
	return s;
}

/* Print the samples of name, for a failure message. */
static void show(const char *name)
{
	size_t i, j;

	for (i = 0; i < out.n; i++) {
		if (strcmp(out.s[i].name, name))
			continue;
		print_message("    line %u: %s{", out.s[i].line, name);
		for (j = 0; j < out.s[i].nl; j++)
			print_message("%s%s=\"%s\"", j ? "," : "",
				      out.s[i].key[j], out.s[i].val[j]);
		print_message("} %s\n", out.s[i].raw);
	}
}

static double value_of(const char *name, ...)
{
	const struct psample *s;
	va_list ap;

	va_start(ap, name);
	s = vfind(name, ap);
	va_end(ap);
	if (!s) {
		print_message("the samples of %s:\n", name);
		show(name);
		fail_msg("no sample of %s with exactly the labels asked for",
			 name);
	}
	return s->value;
}

static size_t samples_named(const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < out.n; i++)
		n += !strcmp(out.s[i].name, name);
	return n;
}

static char *suffixed(char *buf, size_t len, const char *json,
		      const char *suffix)
{
	snprintf(buf, len, "%s%s", prom_name(json), suffix);
	return buf;
}

/* ---- fixtures ---- */

static int setup(void **state)
{
	(void)state;
	memset(&iv, 0, sizeof(iv));
	ndead = 0;
	alive_calls = 0;
	store = kp_prom_new(alive, NULL);
	return store ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	kp_interval_clear(&iv);
	kp_prom_free(store);
	store = NULL;
	out_free();
	return 0;
}

/* ---- counters, gauges, units ---- */

static void prom_counter__two_intervals__is_the_cumulative_sum(void **state)
{
	const char *exits = prom_name("exits");

	(void)state;
	/* VMs added in reverse pid order: rendering sorts and must reindex */
	add(300, 301, 0, "exits", "HLT", 2);
	add(100, 101, 0, "exits", "HLT", 5);
	add(100, 101, 0, "exits", "MSR_WRITE", 1);
	add(100, 102, 1, "exits", "HLT", 9);
	commit();
	render();
	assert_near(value_of(exits, "pid", "100", "vcpu", "0", "reason",
			     "HLT", NULL), 5);
	add(100, 102, 1, "exits", "HLT", 1);
	add(100, 101, 0, "exits", "HLT", 7);
	add(300, 301, 0, "exits", "HLT", 3);
	commit();
	render();
	assert_near(value_of(exits, "pid", "100", "vcpu", "0", "reason",
			     "HLT", NULL), 12);
	assert_near(value_of(exits, "pid", "100", "vcpu", "0", "reason",
			     "MSR_WRITE", NULL), 1);
	assert_near(value_of(exits, "pid", "100", "vcpu", "1", "reason",
			     "HLT", NULL), 10);
	assert_near(value_of(exits, "pid", "300", "vcpu", "0", "reason",
			     "HLT", NULL), 5);
	assert_int_equal(samples_named(exits), 4);
	/* a third interval after a render: still the same four series */
	add(100, 101, 0, "exits", "HLT", 1);
	commit();
	render();
	assert_int_equal(samples_named(exits), 4);
	assert_near(value_of(exits, "pid", "100", "vcpu", "0", "reason",
			     "HLT", NULL), 13);
}

static void prom_counter__ns_metric__is_in_seconds(void **state)
{
	const char *cpu = prom_name("cpu_pct");

	(void)state;
	assert_int_equal(kp_metric(metric("cpu_pct"))->unit, KP_UNIT_NS);
	assert_non_null(strstr(cpu, "_seconds_total"));
	add(100, 101, 0, "cpu_pct", "", 1500000000ULL);
	commit();
	add(100, 101, 0, "cpu_pct", "", 250000000ULL);
	commit();
	render();
	assert_near(value_of(cpu, "pid", "100", "vcpu", "0", NULL), 1.75);
	assert_string_equal(family_of(cpu)->type, "counter");
}

static void prom_gauge__kib_metric__is_latest_value_in_bytes(void **state)
{
	const char *rss = prom_name("memory.rss_kib");

	(void)state;
	assert_int_equal(kp_metric(metric("memory.rss_kib"))->unit,
			 KP_UNIT_KIB);
	add(100, 101, 0, "exits", "HLT", 1);
	gauge(100, "memory.rss_kib", 1000);
	gauge(100, "memory.balloon_current_kib", 4096);
	commit();
	render();
	assert_near(value_of(rss, "pid", "100", NULL), 1024000);
	add(100, 101, 0, "exits", "HLT", 1);
	gauge(100, "memory.rss_kib", 2000);
	commit();
	render();
	/* the latest value, not a sum */
	assert_near(value_of(rss, "pid", "100", NULL), 2048000);
	assert_near(value_of(prom_name("memory.balloon_current_kib"), "pid",
			     "100", NULL), 4194304);
	assert_string_equal(family_of(rss)->type, "gauge");
}

/* ---- histograms ---- */

/* Values spanning the slots: bounds, bound + 1, the overflow slot. */
static const uint64_t hist_values[] = {
	0, 1, 2, 3, 999, 1000, 1023, 1024, 1025, 4096, 4097, 65536,
	1000000, 1048576, 1048577, 123456789, 1073741824ULL, 1073741825ULL,
	8589934592ULL, 8589934593ULL, 17179869183ULL, 17179869184ULL,
	17179869185ULL, 34359738368ULL, 100000000000ULL, 3, 1024, 1024,
};
#define NHIST (sizeof(hist_values) / sizeof(hist_values[0]))

/* The slot whose exact upper bound in seconds le is, or -1. */
static int slot_of_le(const char *le)
{
	double v;
	int k;

	if (!parse_value(le, &v))
		return -1;
	for (k = 0; k < KP_HIST_SLOTS - 1; k++)
		if ((double)kp_hist_le(k) / 1e9 == v)
			return k;
	return -1;
}

/*
 * The series of histogram json with the labels of s: every bucket count is
 * exactly the number of values <= its le, le an exact slot bound.
 */
static void check_hist_exact(const char *json, const uint64_t *v, size_t n,
			     const char *pid, const char *lname,
			     const char *lval)
{
	char bucket[NAME_MAX_], count[NAME_MAX_], sum[NAME_MAX_];
	uint64_t total = 0;
	size_t i, j, nb = 0;
	double want_sum = 0;
	int k;

	suffixed(bucket, sizeof(bucket), json, "_bucket");
	suffixed(count, sizeof(count), json, "_count");
	suffixed(sum, sizeof(sum), json, "_sum");
	for (i = 0; i < n; i++)
		total += v[i];
	want_sum = total / 1e9;
	for (i = 0; i < out.n; i++) {
		const struct psample *s = &out.s[i];
		const char *le = label(s, "le");
		uint64_t want = 0;

		if (strcmp(s->name, bucket) || strcmp(label(s, "pid"), pid) ||
		    (lname && strcmp(label(s, lname) ?: "", lval)))
			continue;
		nb++;
		if (!strcmp(le, "+Inf")) {
			assert_near(s->value, n);
			continue;
		}
		k = slot_of_le(le);
		if (k < 0)
			fail_msg("line %u: le=\"%s\" is not an exact slot "
				 "bound 2^k ns in seconds", s->line, le);
		for (j = 0; j < n; j++)
			want += v[j] <= kp_hist_le(k);
		if (s->value != (double)want)
			fail_msg("line %u: le=\"%s\" (2^%d ns) counts %s, "
				 "%llu values are <= it", s->line, le, k,
				 s->raw, (unsigned long long)want);
	}
	assert_true(nb >= 2);
	if (lname) {
		assert_near(value_of(count, "pid", pid, lname, lval, NULL), n);
		assert_near(value_of(sum, "pid", pid, lname, lval, NULL),
			    want_sum);
	} else {
		assert_near(value_of(count, "pid", pid, NULL), n);
		assert_near(value_of(sum, "pid", pid, NULL), want_sum);
	}
}

static void prom_histogram__buckets__count_exactly_the_values_at_or_below_le(
	void **state)
{
	struct kp_hist h1 = { 0 }, h2 = { 0 };
	size_t i;

	(void)state;
	/* two vCPUs, two intervals: the VM-level series merges all four */
	for (i = 0; i < NHIST; i++)
		kp_hist_add(i % 2 ? &h1 : &h2, hist_values[i]);
	add_hist(100, 101, 0, "exit_time", "HLT", &h1);
	commit();
	add_hist(100, 102, 1, "exit_time", "HLT", &h2);
	commit();
	render();
	check_hist_exact("exit_time", hist_values, NHIST, "100", "reason",
			 "HLT");
	assert_string_equal(family_of(prom_name("exit_time"))->type,
			    "histogram");
}

static void prom_histogram__le_values__are_exact_slot_bounds_in_seconds(
	void **state)
{
	char bucket[NAME_MAX_];
	struct kp_hist h = { 0 };
	size_t i, n = 0;

	(void)state;
	kp_hist_add(&h, 5000);
	add_hist(100, 101, 0, "run_delay", "", &h);
	commit();
	render();
	suffixed(bucket, sizeof(bucket), "run_delay", "_bucket");
	for (i = 0; i < out.n; i++) {
		const char *le = label(&out.s[i], "le");

		if (strcmp(out.s[i].name, bucket) || !strcmp(le, "+Inf"))
			continue;
		n++;
		if (slot_of_le(le) < 0)
			fail_msg("line %u: le=\"%s\" is not 2^k ns in seconds",
				 out.s[i].line, le);
	}
	assert_true(n >= 2);
}

static void prom_histogram__sum__is_in_seconds_at_full_precision(
	void **state)
{
	struct kp_hist h = { 0 };
	char sum[NAME_MAX_];

	(void)state;
	/* 123.456789012345 s: more digits than %.9g keeps */
	kp_hist_add(&h, 123456789012345ULL / 1000);
	kp_hist_add(&h, 12345);
	add_hist(100, 101, 0, "run_delay", "", &h);
	commit();
	render();
	suffixed(sum, sizeof(sum), "run_delay", "_sum");
	assert_near(value_of(sum, "pid", "100", "vcpu", "0", NULL),
		    (123456789012ULL + 12345ULL) / 1e9);
}

static void prom_histogram__vcpu_scope__has_vcpu_label_and_count(
	void **state)
{
	struct kp_hist h = { 0 };
	char count[NAME_MAX_];

	(void)state;
	kp_hist_add(&h, 3000);
	kp_hist_add(&h, 7000);
	add_hist(100, 101, 0, "run_delay", "", &h);
	add_hist(100, 102, 1, "run_delay", "", &h);
	add_hist(100, 102, 1, "run_delay", "", &h);
	commit();
	render();
	suffixed(count, sizeof(count), "run_delay", "_count");
	assert_near(value_of(count, "pid", "100", "vcpu", "0", NULL), 2);
	assert_near(value_of(count, "pid", "100", "vcpu", "1", NULL), 4);
}

/*
 * run_delay's total is the counter tier's, its histogram the per-event
 * tier's: the total is a counter of its own, summed over intervals, which
 * the histogram need not add up to.
 */
static void prom_histogram__prom_total__counts_the_totals_not_the_hist(
	void **state)
{
	const struct kp_metric_desc *d = kp_metric(metric("run_delay"));
	struct kp_hist h = { 0 };
	char sum[NAME_MAX_];

	(void)state;
	assert_non_null(d->prom_total);
	kp_hist_add(&h, 1000000);
	assert_int_equal(kp_interval_add(&iv, 100, 101, 0, metric("run_delay"),
					 "", 5000000000ULL, &h), 0);
	commit();
	assert_int_equal(kp_interval_add(&iv, 100, 101, 0, metric("run_delay"),
					 "", 2500000000ULL, NULL), 0);
	commit();
	render();
	assert_string_equal(family_get(d->prom_total, false)->type, "counter");
	assert_near(value_of(d->prom_total, "pid", "100", "vcpu", "0", NULL),
		    7.5);
	suffixed(sum, sizeof(sum), "run_delay", "_sum");
	assert_near(value_of(sum, "pid", "100", "vcpu", "0", NULL), 0.001);
}

/* The per-event tier's attached time accumulates; absent before it ran. */
static void prom_host__sched_events__seconds_attached_so_far(void **state)
{
	const struct kp_metric_desc *d = kp_host_metric(KP_HM_SCHED_EVENTS);

	(void)state;
	commit();
	render();
	assert_int_equal(samples_named(d->prom), 0);
	iv.sched_events.on_ns = 200000000;
	iv.sched_events.window_ns = 1000000000;
	commit();
	iv.sched_events.on_ns = 1000000000;
	iv.sched_events.window_ns = 1000000000;
	commit();
	render();
	assert_near(value_of(d->prom, NULL), 1.2);
}

/* ---- HELP, TYPE, labels ---- */

/* The registry entry whose Prometheus name is name, or NULL. */
static const struct kp_metric_desc *desc_of(const char *name)
{
	int id;

	for (id = 0; id < KP_M__COUNT; id++)
		if (!strcmp(kp_metric(id)->prom, name))
			return kp_metric(id);
	return NULL;
}

/* A store with one of nearly everything. */
static void fill_rich(void)
{
	struct kp_peer peer = { .pid = 900, .tid = 901, .comm = "stress",
				.vm_pid = -1, .vm_vcpu = -1 };
	struct kp_hist h = { 0 };
	size_t i;

	for (i = 0; i < NHIST; i++)
		kp_hist_add(&h, hist_values[i]);
	add(100, 101, 0, "exits", "HLT", 5);
	add(100, 101, 0, "exits", "EPT_VIOLATION", 3);
	add(100, 102, 1, "exits", "HLT", 4);
	add(100, 101, 0, "userspace_exits", "KVM_EXIT_IO", 2);
	add(100, 101, 0, "cpu_pct", "", 400000000);
	add(100, 101, 0, "preemptions", "", 6);
	add_hist(100, 101, 0, "exit_time", "HLT", &h);
	add_hist(100, 101, 0, "halt", "poll", &h);
	add_hist(100, 101, 0, "run_delay", "", &h);
	add_hist(100, 102, 1, "run_delay", "", &h);
	assert_int_equal(kp_interval_add_peer(&iv, 100, 101, 0,
					      metric("preempted_by"), &peer,
					      1000),
			 0);
	identity(100, "web", UUID_WEB);
	gauge(100, "memory.rss_kib", 1000);
	gauge(100, "memory.balloon_max_kib", 2048);
	add(200, 201, 0, "exits", "HLT", 1);
	add(200, 202, -1, "exits", "HLT", 1);
	identity(200, "a\"b\\c\n", UUID_DB);
	add(300, 301, 0, "exits", "IO_INSTRUCTION", 1);
	assert_int_equal(kp_interval_add_lost(&iv, "exits", 3), 0);
	assert_int_equal(kp_interval_add_lost(&iv, "sched", 1), 0);
	commit();
	kp_prom_set_dropped(store, 2);
}

static void prom_render__each_metric__one_help_and_type_from_the_registry(
	void **state)
{
	const struct kp_metric_desc *d;
	size_t i, registry = 0;

	(void)state;
	fill_rich();
	render();
	/* the parser already refused a second HELP or TYPE */
	for (i = 0; i < out.nf; i++) {
		const struct pfamily *f = &out.f[i];

		assert_true(f->has_help);
		assert_true(f->has_type);
		d = desc_of(f->name);
		if (!d) {
			assert_true(!strncmp(f->name, "kvmprobe_", 9));
			continue;
		}
		registry++;
		if (strcmp(f->type, kp_mtype_name(d->type)))
			fail_msg("%s: TYPE %s, the registry says %s", f->name,
				 f->type, kp_mtype_name(d->type));
		if (strcmp(f->help, d->help))
			fail_msg("%s: HELP unescapes to\n  '%s', the registry "
				 "says\n  '%s'", f->name, f->help, d->help);
	}
	/* exits, userspace_exits, cpu_pct, preemptions, exit_time, halt,
	 * run_delay, rss, balloon_max */
	assert_int_equal(registry, 9);
	assert_non_null(family_get("kvmprobe_lost_events_total", false));
	assert_string_equal(
		family_get("kvmprobe_lost_events_total", false)->type,
		"counter");
	assert_non_null(family_get("kvmprobe_records_dropped_total", false));
}

static void prom_render__help_with_percent_sign__is_written_verbatim(
	void **state)
{
	const struct kp_metric_desc *d = kp_metric(metric("run_delay"));
	struct kp_hist h = { 0 };

	(void)state;
	/* the help text goes through no printf format */
	kp_hist_add(&h, 1);
	add_hist(100, 101, 0, "run_delay", "", &h);
	commit();
	render();
	assert_non_null(strchr(d->help, '%'));
	assert_string_equal(family_get(d->prom, false)->help, d->help);
}

static void prom_labels__vcpu_counter__pid_domain_uuid_vcpu_and_label(
	void **state)
{
	(void)state;
	fill_rich();
	render();
	assert_near(value_of(prom_name("exits"), "pid", "100", "domain",
			     "web", "uuid", UUID_WEB, "vcpu", "0", "reason",
			     "EPT_VIOLATION", NULL), 3);
	/* unlabelled vCPU metrics: no empty label */
	assert_near(value_of(prom_name("preemptions"), "pid", "100",
			     "domain", "web", "uuid", UUID_WEB, "vcpu", "0",
			     NULL), 6);
}

static void prom_labels__vm_metrics__have_no_vcpu_label(void **state)
{
	char count[NAME_MAX_];

	(void)state;
	fill_rich();
	render();
	assert_near(value_of(suffixed(count, sizeof(count), "exit_time",
				      "_count"),
			     "pid", "100", "domain", "web", "uuid", UUID_WEB,
			     "reason", "HLT", NULL), NHIST);
	assert_near(value_of(suffixed(count, sizeof(count), "halt", "_count"),
			     "pid", "100", "domain", "web", "uuid", UUID_WEB,
			     kp_metric(metric("halt"))->label, "poll", NULL),
		    NHIST);
	assert_near(value_of(prom_name("memory.balloon_max_kib"), "pid",
			     "100", "domain", "web", "uuid", UUID_WEB, NULL),
		    2048.0 * 1024);
}

static void prom_labels__unknown_domain_and_uuid__are_omitted(void **state)
{
	(void)state;
	fill_rich();
	render();
	assert_near(value_of(prom_name("exits"), "pid", "300", "vcpu", "0",
			     "reason", "IO_INSTRUCTION", NULL), 1);
	assert_null(strstr(out.text, "domain=\"\""));
	assert_null(strstr(out.text, "uuid=\"\""));
	assert_null(strstr(out.text, "(null)"));
}

static void prom_labels__domain_known_uuid_unknown__only_domain(void **state)
{
	(void)state;
	add(100, 101, 0, "exits", "HLT", 1);
	identity(100, "web", NULL);
	commit();
	render();
	assert_near(value_of(prom_name("exits"), "pid", "100", "domain", "web",
			     "vcpu", "0", "reason", "HLT", NULL), 1);
}

static void prom_labels__vcpus_of_unknown_index__stay_apart(void **state)
{
	const struct psample *a, *b;
	size_t i;

	(void)state;
	add(100, 101, -1, "exits", "HLT", 1);
	add(100, 102, -1, "exits", "HLT", 2);
	commit();
	render();
	assert_int_equal(samples_named(prom_name("exits")), 2);
	for (i = 0, a = b = NULL; i < out.n; i++) {
		if (strcmp(out.s[i].name, prom_name("exits")))
			continue;
		if (!a)
			a = &out.s[i];
		else
			b = &out.s[i];
	}
	assert_non_null(label(a, "vcpu"));
	assert_non_null(label(b, "vcpu"));
	assert_string_not_equal(label(a, "vcpu"), label(b, "vcpu"));
	assert_near(a->value + b->value, 3);
}

static void prom_labels__domain_with_quote_backslash_newline__is_escaped(
	void **state)
{
	const char *name = "a\"b\\c\n";

	(void)state;
	fill_rich();
	render();
	/* the parser unescapes: the domain comes back as it was */
	assert_near(value_of(prom_name("exits"), "pid", "200", "domain", name,
			     "uuid", UUID_DB, "vcpu", "0", "reason", "HLT",
			     NULL), 1);
	assert_non_null(strstr(out.text, "domain=\"a\\\"b\\\\c\\n\""));
}

static void prom_escape__quote_backslash_newline__are_escaped(void **state)
{
	char buf[64];

	(void)state;
	kp_prom_escape("a\"b\\c\nd", buf, sizeof(buf));
	assert_string_equal(buf, "a\\\"b\\\\c\\nd");
	kp_prom_escape("plain-name_1.2", buf, sizeof(buf));
	assert_string_equal(buf, "plain-name_1.2");
	kp_prom_escape("", buf, sizeof(buf));
	assert_string_equal(buf, "");
}

static void prom_escape__short_buffer__truncates_without_splitting_escape(
	void **state)
{
	const char *in = "\\\"\n\\x\"";
	char buf[32];
	size_t len, n, bs;

	(void)state;
	for (len = 1; len < sizeof(buf) - 1; len++) {
		memset(buf, 'Z', sizeof(buf));
		kp_prom_escape(in, buf, len);
		n = strlen(buf);
		assert_true(n < len);
		assert_int_equal(buf[len], 'Z'); /* nothing written past */
		/* an even run of trailing backslashes: no half escape */
		for (bs = 0; bs < n && buf[n - 1 - bs] == '\\'; bs++)
			;
		if (bs % 2)
			fail_msg("outlen %zu: '%s' ends in half an escape",
				 len, buf);
	}
}

/* ---- gone VMs ---- */

static void prom_expire__vm_absent_but_alive__keeps_its_series(void **state)
{
	(void)state;
	add(100, 101, 0, "exits", "HLT", 1);
	add(200, 201, 0, "exits", "HLT", 4);
	commit();
	add(100, 101, 0, "exits", "HLT", 1);
	commit();
	render();
	assert_near(value_of(prom_name("exits"), "pid", "200", "vcpu", "0",
			     "reason", "HLT", NULL), 4);
	assert_true(alive_calls > 0);
}

static void prom_expire__vm_absent_and_dead__loses_every_series(void **state)
{
	struct kp_hist h = { 0 };
	char count[NAME_MAX_];
	size_t before;
	size_t i;

	(void)state;
	kp_hist_add(&h, 100);
	add(100, 101, 0, "exits", "HLT", 1);
	add(200, 201, 0, "exits", "HLT", 4);
	add_hist(200, 201, 0, "run_delay", "", &h);
	add_hist(200, 201, 0, "exit_time", "HLT", &h);
	identity(200, "db", UUID_DB);
	commit();
	add(200, 201, 0, "exits", "HLT", 1);
	gauge(200, "memory.rss_kib", 10);
	commit();
	before = kp_prom_series(store);
	kill_pid(200);
	add(100, 101, 0, "exits", "HLT", 1);
	commit();
	assert_int_equal(kp_prom_series(store), 1);
	assert_true(before > 1);
	render();
	for (i = 0; i < out.n; i++)
		if (label(&out.s[i], "pid") &&
		    !strcmp(label(&out.s[i], "pid"), "200"))
			fail_msg("line %u: %s of the gone VM", out.s[i].line,
				 out.s[i].name);
	assert_null(strstr(out.text, "domain=\"db\""));
	assert_near(value_of(prom_name("exits"), "pid", "100", "vcpu", "0",
			     "reason", "HLT", NULL), 2);

	/* the pid comes back (a new VM): counters restart from its deltas */
	kp_hist_add(&h, 200);
	add(200, 201, 0, "exits", "HLT", 3);
	add_hist(200, 201, 0, "run_delay", "", &h);
	commit();
	render();
	assert_near(value_of(prom_name("exits"), "pid", "200", "vcpu", "0",
			     "reason", "HLT", NULL), 3);
	assert_near(value_of(suffixed(count, sizeof(count), "run_delay",
				      "_count"),
			     "pid", "200", "vcpu", "0", NULL), 2);
	/* no identity, no gauge carried over from the old VM */
	assert_null(strstr(out.text, "domain=\"db\""));
	assert_null(strstr(out.text, UUID_DB));
	assert_null(find(prom_name("memory.rss_kib"), "pid", "200", NULL));
}

static void prom_expire__vm_in_the_interval__is_kept_even_if_dead(
	void **state)
{
	(void)state;
	kill_pid(100);
	add(100, 101, 0, "exits", "HLT", 2);
	commit();
	render();
	assert_near(value_of(prom_name("exits"), "pid", "100", "vcpu", "0",
			     "reason", "HLT", NULL), 2);
}

/* ---- what is not exported, host series ---- */

static void prom_top_metrics__per_peer__are_not_exported(void **state)
{
	int id;

	(void)state;
	fill_rich();
	render();
	for (id = 0; id < KP_M__COUNT; id++) {
		const struct kp_metric_desc *d = kp_metric(id);

		if (d->show != KP_SHOW_TOP)
			continue;
		if (strstr(out.text, d->prom))
			fail_msg("%s (per peer) is in the output", d->prom);
	}
	assert_null(strstr(out.text, "\"901\""));
}

static void prom_lost_events__two_intervals__accumulate_per_probe(
	void **state)
{
	const char *lost = "kvmprobe_lost_events_total";

	(void)state;
	add(100, 101, 0, "exits", "HLT", 1);
	assert_int_equal(kp_interval_add_lost(&iv, "exits", 3), 0);
	assert_int_equal(kp_interval_add_lost(&iv, "sched", 2), 0);
	commit();
	assert_int_equal(kp_interval_add_lost(&iv, "exits", 4), 0);
	commit();
	render();
	assert_near(value_of(lost, "probe", "exits", NULL), 7);
	assert_near(value_of(lost, "probe", "sched", NULL), 2);
	assert_int_equal(samples_named(lost), 2);
	assert_near(value_of("kvmprobe_intervals_total", NULL), 2);
}

/* host CPU busy seconds since boot: the latest interval's, once read */
static void prom_host_cpu__interval__busy_seconds_counter(void **state)
{
	const char *busy = "kvmprobe_host_cpu_busy_seconds_total";

	(void)state;
	commit(); /* /proc/stat not read: no sample */
	render();
	assert_int_equal(samples_named(busy), 0);
	iv.cpu.busy_pct = 50;
	iv.cpu.busy_s = 1234.5;
	iv.cpu.ncpus = 2;
	commit();
	render();
	assert_near(value_of(busy, NULL), 1234.5);
	assert_string_equal(family_get(busy, false)->type, "counter");
}

static void prom_records_dropped__set_dropped__is_the_value_rendered(
	void **state)
{
	(void)state;
	render();
	assert_near(value_of("kvmprobe_records_dropped_total", NULL), 0);
	kp_prom_set_dropped(store, 5);
	kp_prom_set_dropped(store, 42);
	render();
	assert_near(value_of("kvmprobe_records_dropped_total", NULL), 42);
	assert_string_equal(
		family_get("kvmprobe_records_dropped_total", false)->type,
		"counter");
}

/* kvmprobe's own series: name, TYPE, HELP and label from kp_host_metric. */
static void prom_render__host_series__are_the_host_registry_entries(
	void **state)
{
	const struct kp_metric_desc *d;
	const struct pfamily *f;
	int id;

	(void)state;
	add(100, 101, 0, "exits", "HLT", 1);
	assert_int_equal(kp_interval_add_lost(&iv, "exits", 3), 0);
	commit();
	render();
	for (id = 0; id < KP_HM__COUNT; id++) {
		d = kp_host_metric(id);
		f = family_get(d->prom, false);
		if (!f)
			fail_msg("%s is not rendered", d->prom);
		assert_string_equal(f->type, kp_mtype_name(d->type));
		assert_string_equal(f->help, d->help);
	}
	d = kp_host_metric(KP_HM_LOST_EVENTS);
	assert_near(value_of(d->prom, d->label, "exits", NULL), 3);
	assert_near(value_of(kp_host_metric(KP_HM_INTERVALS)->prom, NULL), 1);
}

static void prom_render__empty_store__host_series_only(void **state)
{
	size_t i;

	(void)state;
	render();
	assert_int_equal(kp_prom_series(store), 0);
	for (i = 0; i < out.n; i++)
		assert_null(label(&out.s[i], "pid"));
}

/* ---- devices ---- */

static void prom_devices__disk_and_iface__labelled_by_device(void **state)
{
	(void)state;
	add(100, 101, 0, "exits", "HLT", 1);
	assert_int_equal(kp_interval_add_dev(&iv, 100, metric("disks.ios"),
					     "loop0", "read", 5, NULL),
			 0);
	assert_int_equal(kp_interval_add_dev(&iv, 100,
					     metric("interfaces.packets"),
					     "vnet0", "rx", 7, NULL),
			 0);
	commit();
	render();
	assert_near(value_of(prom_name("disks.ios"), "pid", "100", "disk",
			     "loop0", kp_metric(metric("disks.ios"))->label,
			     "read", NULL), 5);
	assert_near(value_of(prom_name("interfaces.packets"), "pid", "100",
			     "iface", "vnet0",
			     kp_metric(metric("interfaces.packets"))->label,
			     "rx", NULL), 7);
}

/* ---- scale ---- */

static void prom_render__1000_vcpus__every_line_parses_and_values_hold(
	void **state)
{
	char count[NAME_MAX_];
	const char *exits = prom_name("exits");
	struct kp_hist h = { 0 };
	unsigned int vm, vc, round;
	size_t i, n = 0;
	char name[32];

	(void)state;
	kp_hist_add(&h, 1500);
	kp_hist_add(&h, 70000);
	for (round = 0; round < 2; round++) {
		for (vm = 0; vm < 10; vm++) {
			uint32_t pid = 1000 + vm;

			for (vc = 0; vc < 100; vc++) {
				add(pid, pid * 1000 + vc, vc, "exits", "HLT",
				    vc + 1);
				add(pid, pid * 1000 + vc, vc, "cpu_pct", "",
				    1000000);
				add_hist(pid, pid * 1000 + vc, vc, "run_delay",
					 "", &h);
			}
			snprintf(name, sizeof(name), "vm-%u", vm);
			identity(pid, name, NULL);
		}
		commit();
	}
	render();
	suffixed(count, sizeof(count), "run_delay", "_count");
	assert_int_equal(samples_named(exits), 1000);
	assert_int_equal(samples_named(count), 1000);
	assert_int_equal(samples_named(prom_name("cpu_pct")), 1000);
	for (i = 0; i < out.n; i++) {
		const struct psample *s = &out.s[i];
		unsigned long pid, vcpu;

		if (strcmp(s->name, exits))
			continue;
		pid = strtoul(label(s, "pid"), NULL, 10);
		vcpu = strtoul(label(s, "vcpu"), NULL, 10);
		snprintf(name, sizeof(name), "vm-%lu", pid - 1000);
		assert_string_equal(label(s, "domain"), name);
		assert_near(s->value, 2.0 * (vcpu + 1));
		n++;
	}
	assert_int_equal(n, 1000);
	assert_near(value_of(count, "pid", "1009", "domain", "vm-9", "vcpu",
			     "99", NULL), 4);
}

/* ---- promtool ---- */

static void prom_render__rich_store__passes_promtool_check_metrics(
	void **state)
{
	char path[256], log[300], cmd[1024], line[512];
	struct stat st;
	FILE *f;
	int rc;

	(void)state;
	if (system("command -v promtool >/dev/null 2>&1")) {
		print_message("SKIP: promtool is not installed (Debian "
			      "package prometheus): not checked\n");
		skip();
	}
	fill_rich();
	render();
	if (!stat("build/tests", &st) && S_ISDIR(st.st_mode))
		snprintf(path, sizeof(path), "build/tests/prom_rich.txt");
	else
		snprintf(path, sizeof(path), "/tmp/kp_prom_rich.%d.txt",
			 (int)getpid());
	snprintf(log, sizeof(log), "%s.promtool", path);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(out.text, 1, out.len, f), out.len);
	assert_int_equal(fclose(f), 0);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < '%s' > '%s' 2>&1",
		 path, log);
	rc = system(cmd);
	f = fopen(log, "r");
	while (f && fgets(line, sizeof(line), f))
		print_message("promtool: %s", line);
	if (f)
		fclose(f);
	if (rc)
		fail_msg("promtool check metrics %s: status %d", path, rc);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(prom_counter__two_intervals__is_the_cumulative_sum),
		T(prom_counter__ns_metric__is_in_seconds),
		T(prom_gauge__kib_metric__is_latest_value_in_bytes),
		T(prom_histogram__buckets__count_exactly_the_values_at_or_below_le),
		T(prom_histogram__le_values__are_exact_slot_bounds_in_seconds),
		T(prom_histogram__sum__is_in_seconds_at_full_precision),
		T(prom_histogram__vcpu_scope__has_vcpu_label_and_count),
		T(prom_histogram__prom_total__counts_the_totals_not_the_hist),
		T(prom_host__sched_events__seconds_attached_so_far),
		T(prom_render__each_metric__one_help_and_type_from_the_registry),
		T(prom_render__help_with_percent_sign__is_written_verbatim),
		T(prom_labels__vcpu_counter__pid_domain_uuid_vcpu_and_label),
		T(prom_labels__vm_metrics__have_no_vcpu_label),
		T(prom_labels__unknown_domain_and_uuid__are_omitted),
		T(prom_labels__domain_known_uuid_unknown__only_domain),
		T(prom_labels__vcpus_of_unknown_index__stay_apart),
		T(prom_labels__domain_with_quote_backslash_newline__is_escaped),
		T(prom_escape__quote_backslash_newline__are_escaped),
		T(prom_escape__short_buffer__truncates_without_splitting_escape),
		T(prom_expire__vm_absent_but_alive__keeps_its_series),
		T(prom_expire__vm_absent_and_dead__loses_every_series),
		T(prom_expire__vm_in_the_interval__is_kept_even_if_dead),
		T(prom_top_metrics__per_peer__are_not_exported),
		T(prom_lost_events__two_intervals__accumulate_per_probe),
		T(prom_records_dropped__set_dropped__is_the_value_rendered),
		T(prom_host_cpu__interval__busy_seconds_counter),
		T(prom_render__empty_store__host_series_only),
		T(prom_render__host_series__are_the_host_registry_entries),
		T(prom_devices__disk_and_iface__labelled_by_device),
		T(prom_render__1000_vcpus__every_line_parses_and_values_hold),
		T(prom_render__rich_store__passes_promtool_check_metrics),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
