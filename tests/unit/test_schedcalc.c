// SPDX-License-Identifier: GPL-2.0
/* Unit tests for user/core/schedcalc.c: the sched probe's arithmetic. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "user/core/schedcalc.h"

static void flatten__counters__count_from_their_bases(void **state)
{
	struct sched_reading r = {
		.run_delay = 9500, .base_delay = 9000,
		.exec = 1700, .base_exec = 1000,
		.nivcsw = 13, .base_nivcsw = 10,
	};
	struct kp_hist h = { .count = 2, .sum = 400 };
	struct kp_sched_flat f;

	h.slots[9] = 2;
	kp_sched_flatten(&r, &h, &f);
	assert_int_equal(f.ready_ns, 500);
	assert_int_equal(f.cpu_ns, 700);
	assert_int_equal(f.preemptions, 3);
	/* the histogram is the per-event tier's: not tied to the total */
	assert_int_equal(f.delay.count, 2);
	assert_int_equal(f.delay.sum, 400);
	assert_int_equal(f.delay.slots[9], 2);
}

static void flatten__counter_below_its_base__counts_nothing(void **state)
{
	/* a tid reused by a thread younger than the entry's bases */
	struct sched_reading r = {
		.run_delay = 10, .base_delay = 9000,
		.exec = 5, .base_exec = 1000,
		.nivcsw = 1, .base_nivcsw = 10,
	};
	struct kp_hist h = { 0 };
	struct kp_sched_flat f;

	kp_sched_flatten(&r, &h, &f);
	assert_int_equal(f.ready_ns, 0);
	assert_int_equal(f.cpu_ns, 0);
	assert_int_equal(f.preemptions, 0);
}

static void duty__shares__attach_that_many_ticks(void **state)
{
	unsigned int t, on;

	for (on = 0, t = 0; t < 20; t++)
		on += kp_sched_duty_on(0.2, t, 20);
	assert_int_equal(on, 4);
	assert_true(kp_sched_duty_on(0.2, 20, 20)); /* next period */
	assert_false(kp_sched_duty_on(0.2, 24, 20));
	for (on = 0, t = 0; t < 20; t++)
		on += kp_sched_duty_on(0.001, t, 20);
	assert_int_equal(on, 1); /* above 0: a tick a period at least */
}

static void duty__zero_and_one__never_and_always(void **state)
{
	unsigned int t;

	for (t = 0; t < 40; t++) {
		assert_false(kp_sched_duty_on(0, t, 20));
		assert_true(kp_sched_duty_on(1, t, 20));
	}
}

static void trigger__ready_share__reaches_the_threshold(void **state)
{
	assert_true(kp_sched_triggered(50000000, 1000000000, 5));
	assert_false(kp_sched_triggered(49999999, 1000000000, 5));
	assert_false(kp_sched_triggered(1000000000, 1000000000, 0));
	assert_false(kp_sched_triggered(5, 0, 5));
}

static void delta__growing_counters__are_differences(void **state)
{
	struct kp_sched_flat prev = { .ready_ns = 100, .cpu_ns = 50 };
	struct kp_sched_flat cur = { .ready_ns = 350, .cpu_ns = 50,
				     .preemptions = 4 };
	struct kp_sched_flat d;

	cur.delay.count = 3;
	cur.delay.slots[5] = 3;
	kp_sched_delta(&prev, &cur, &d);
	assert_int_equal(d.ready_ns, 250);
	assert_int_equal(d.cpu_ns, 0);
	assert_int_equal(d.preemptions, 4);
	assert_int_equal(d.delay.count, 3);
	assert_int_equal(d.delay.slots[5], 3);
	assert_memory_equal(&prev, &cur, sizeof(cur));
}

/*
 * A read that counted a span both in its counter and in progress runs
 * ahead; the next reading is behind. Its delta is 0 and the excess comes
 * off the delta after, so the sum of the deltas is the true total.
 */
static void delta__reading_behind__gives_zero_and_sum_stays_exact(void **state)
{
	struct kp_sched_flat prev = { 0 }, cur = { 0 }, d;
	uint64_t sum = 0;

	cur.cpu_ns = 1200; /* ran ahead: the truth was 1000 */
	kp_sched_delta(&prev, &cur, &d);
	sum += d.cpu_ns;
	cur.cpu_ns = 1100; /* behind the last report */
	kp_sched_delta(&prev, &cur, &d);
	assert_int_equal(d.cpu_ns, 0);
	sum += d.cpu_ns;
	cur.cpu_ns = 2000; /* the truth at the end */
	kp_sched_delta(&prev, &cur, &d);
	sum += d.cpu_ns;
	assert_int_equal(sum, 2000);
	assert_int_equal(prev.cpu_ns, 2000);
}

static void top_n__more_than_k__keeps_the_largest_in_order(void **state)
{
	const uint64_t v[] = { 5, 90, 1, 70, 30, 100, 2, 60 };
	size_t out[3];

	assert_int_equal(kp_top_n(v, 8, 3, out), 3);
	assert_int_equal(out[0], 5);
	assert_int_equal(out[1], 1);
	assert_int_equal(out[2], 3);
}

static void top_n__fewer_than_k__returns_all_sorted(void **state)
{
	const uint64_t v[] = { 3, 9, 6 };
	size_t out[5];

	assert_int_equal(kp_top_n(v, 3, 5, out), 3);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 2);
	assert_int_equal(out[2], 0);
}

static void top_n__ties__keep_their_order(void **state)
{
	const uint64_t v[] = { 7, 9, 7, 9, 7 };
	size_t out[4];

	assert_int_equal(kp_top_n(v, 5, 4, out), 4);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 3);
	assert_int_equal(out[2], 0);
	assert_int_equal(out[3], 2);
}

static void top_n__empty_or_k_zero__returns_none(void **state)
{
	const uint64_t v[] = { 1 };
	size_t out[1];

	assert_int_equal(kp_top_n(v, 0, 5, out), 0);
	assert_int_equal(kp_top_n(v, 1, 0, out), 0);
}

static void top_n__ascending_input__matches_a_full_sort(void **state)
{
	uint64_t v[100];
	size_t out[KP_SCHED_TOP], i;

	for (i = 0; i < 100; i++)
		v[i] = i * 3;
	assert_int_equal(kp_top_n(v, 100, KP_SCHED_TOP, out), KP_SCHED_TOP);
	for (i = 0; i < KP_SCHED_TOP; i++)
		assert_int_equal(out[i], 99 - i);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(flatten__counters__count_from_their_bases),
		cmocka_unit_test(flatten__counter_below_its_base__counts_nothing),
		cmocka_unit_test(duty__shares__attach_that_many_ticks),
		cmocka_unit_test(duty__zero_and_one__never_and_always),
		cmocka_unit_test(trigger__ready_share__reaches_the_threshold),
		cmocka_unit_test(delta__growing_counters__are_differences),
		cmocka_unit_test(delta__reading_behind__gives_zero_and_sum_stays_exact),
		cmocka_unit_test(top_n__more_than_k__keeps_the_largest_in_order),
		cmocka_unit_test(top_n__fewer_than_k__returns_all_sorted),
		cmocka_unit_test(top_n__ties__keep_their_order),
		cmocka_unit_test(top_n__empty_or_k_zero__returns_none),
		cmocka_unit_test(top_n__ascending_input__matches_a_full_sort),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
