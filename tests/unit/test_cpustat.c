// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for user/probes/cpustat.c: host CPU busy from /proc/stat,
 * against tests/fixtures/proc/stat (a 2-CPU host) and texts whose deltas
 * the test chose.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "user/probes/cpustat.h"
#include "tests/unit/fixture.h"

#define FIXTURE_REL "tests/fixtures/proc"

static char root[PATH_MAX];

static int find_fixtures(void **state)
{
	(void)state;
	return kp_fixture_dir(root, sizeof(root), FIXTURE_REL, "/stat");
}

static int parse(const char *s, struct kp_cpustat *st)
{
	FILE *f = fmemopen((void *)s, strlen(s), "r");
	int err;

	assert_non_null(f);
	err = kp_cpustat_parse(f, st);
	fclose(f);
	return err;
}

/* total: the first eight fields (guest is in user already); busy: all
 * but idle and iowait; one CPU per cpuN line */
static void read__fixture__totals_busy_and_cpus(void **state)
{
	struct kp_cpustat st;

	assert_int_equal(kp_cpustat_read(root, &st), 0);
	assert_int_equal(st.total, 248534 + 106168 + 255524 + 605793 + 4894 +
			 0 + 10649 + 28904);
	assert_int_equal(st.busy, st.total - 605793 - 4894);
	assert_int_equal(st.ncpus, 2);
	assert_int_equal(kp_cpustat_read("/nonexistent", &st), -ENOENT);
}

static void parse__no_cpu_line_or_short_line__enoent(void **state)
{
	struct kp_cpustat st;

	assert_int_equal(parse("intr 1 2 3\nctxt 5\n", &st), -ENOENT);
	assert_int_equal(parse("cpu  1 2 3\n", &st), -ENOENT);
	/* an old kernel: four fields */
	assert_int_equal(parse("cpu  10 0 5 85\ncpu0 10 0 5 85\n", &st), 0);
	assert_int_equal(st.total, 100);
	assert_int_equal(st.busy, 15);
	assert_int_equal(st.ncpus, 1);
}

/* a line longer than the reader's buffer: its rest is not a line */
static void parse__long_line__its_rest_is_no_cpu_line(void **state)
{
	char text[2048];
	struct kp_cpustat st;
	int n;

	n = snprintf(text, sizeof(text), "cpu  10 0 5 85 0 0 0 0 0 0\n"
		     "cpu0 10 0 5 85 0 0 0 0 0 0\nintr");
	memset(text + n, ' ', 2 * 511 - 4); /* cpu7 starts a chunk */
	snprintf(text + n + 2 * 511 - 4, sizeof(text) - n - 2 * 511 + 4,
		 "cpu7 1 2 3 4\nctxt 5\n");
	assert_int_equal(parse(text, &st), 0);
	assert_int_equal(st.ncpus, 1);
	assert_int_equal(st.total, 100);
}

/*
 * Over an interval: user +150, system +50, idle +100, guest +40 (inside
 * user): 200 busy of 300 ticks. Counting guest twice would give 240 / 340,
 * iowait as busy (second step, +100 iowait, +100 user) 200 / 200.
 */
static void busy_pct__deltas__busy_of_all_cpus_time(void **state)
{
	struct kp_cpustat a, b, c;

	assert_int_equal(parse("cpu  100 0 0 300 100 0 0 0 0 0\n"
			       "cpu0 50 0 0 150 50 0 0 0 0 0\n"
			       "cpu1 50 0 0 150 50 0 0 0 0 0\n", &a), 0);
	assert_int_equal(parse("cpu  250 0 50 400 100 0 0 0 40 0\n"
			       "cpu0 125 0 25 200 50 0 0 0 20 0\n"
			       "cpu1 125 0 25 200 50 0 0 0 20 0\n", &b), 0);
	assert_float_equal(kp_cpustat_busy_pct(&a, &b), 200.0 / 3, 1e-9);
	assert_int_equal(parse("cpu  350 0 50 400 200 0 0 0 40 0\n", &c), 0);
	assert_float_equal(kp_cpustat_busy_pct(&b, &c), 50.0, 1e-9);
	/* one CPU hogged of two, the other idle */
	assert_int_equal(parse("cpu  450 0 50 500 200 0 0 0 40 0\n", &a), 0);
	assert_float_equal(kp_cpustat_busy_pct(&c, &a), 50.0, 1e-9);
}

static void busy_pct__no_tick_or_counter_back__nan(void **state)
{
	struct kp_cpustat a, b;

	assert_int_equal(parse("cpu  100 0 0 300 100 0 0 0 0 0\n", &a), 0);
	assert_true(isnan(kp_cpustat_busy_pct(&a, &a)));
	assert_int_equal(parse("cpu  90 0 0 400 100 0 0 0 0 0\n", &b), 0);
	assert_true(isnan(kp_cpustat_busy_pct(&a, &b)));
	assert_true(isnan(kp_cpustat_busy_pct(&b, &a)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(read__fixture__totals_busy_and_cpus),
		cmocka_unit_test(parse__no_cpu_line_or_short_line__enoent),
		cmocka_unit_test(parse__long_line__its_rest_is_no_cpu_line),
		cmocka_unit_test(busy_pct__deltas__busy_of_all_cpus_time),
		cmocka_unit_test(busy_pct__no_tick_or_counter_back__nan),
	};

	return cmocka_run_group_tests(tests, find_fixtures, NULL);
}
