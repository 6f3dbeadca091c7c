// SPDX-License-Identifier: GPL-2.0
/* Unit tests for user/core/hist.c, and its agreement with bpf/kp_helpers.bpf.h. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>
#include <linux/types.h>

/*
 * The BPF helpers, compiled for the host under other names: they define
 * kp_hist_slot and kp_hist_add too. The map helper is never called here.
 */
#ifndef __always_inline /* glibc's <sys/cdefs.h> has one */
#define __always_inline inline __attribute__((always_inline))
#endif
#define BPF_NOEXIST 1
#define bpf_map_lookup_elem(map, key) ((void)(map), (void)(key), (void *)0)
#define bpf_map_update_elem(map, key, val, flags) \
	((void)(map), (void)(key), (void)(val), (long)(flags))
/* kp_comm_vcpu's helper and its unroll pragma: never called here */
#define bpf_get_current_comm(buf, size) ((void)(buf), (void)(size), -1L)
#define kp_hist_slot bpf_kp_hist_slot
#define kp_hist_add bpf_kp_hist_add
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunknown-pragmas"
#pragma GCC diagnostic ignored "-Wunused-function"
#include "bpf/kp_helpers.bpf.h"
#pragma GCC diagnostic pop
#undef kp_hist_slot
#undef kp_hist_add

#include "user/core/hist.h"

#define LAST_SLOT (KP_HIST_SLOTS - 1)

/* Reference slot: the smallest k with v <= 2^k, by counting up. */
static unsigned int ref_slot(uint64_t v)
{
	unsigned int k;

	for (k = 0; k < LAST_SLOT; k++)
		if (v <= (1ULL << k))
			return k;
	return LAST_SLOT;
}

/* xorshift64*: fixed seed, so a failure reproduces. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

/* A random value of random bit length, so every magnitude is covered. */
static uint64_t rng_any_magnitude(void)
{
	unsigned int bits = rng() % 65;

	return bits == 64 ? rng() : rng() & ((1ULL << bits) - 1);
}

static void hist_slot__zero_and_one__are_slot_zero(void **state)
{
	assert_int_equal(kp_hist_slot(0), 0);
	assert_int_equal(kp_hist_slot(1), 0);
}

static void hist_slot__small_values__follow_documented_boundaries(void **state)
{
	assert_int_equal(kp_hist_slot(2), 1);
	assert_int_equal(kp_hist_slot(3), 2);
	assert_int_equal(kp_hist_slot(4), 2);
	assert_int_equal(kp_hist_slot(5), 3);
	assert_int_equal(kp_hist_slot(8), 3);
	assert_int_equal(kp_hist_slot(9), 4);
}

static void hist_slot__power_of_two__is_its_exponent(void **state)
{
	unsigned int k;

	for (k = 1; k < LAST_SLOT; k++)
		assert_int_equal(kp_hist_slot(1ULL << k), k);
}

static void hist_slot__power_of_two_plus_one__is_next_slot(void **state)
{
	unsigned int k;

	for (k = 1; k < LAST_SLOT - 1; k++)
		assert_int_equal(kp_hist_slot((1ULL << k) + 1), k + 1);
}

static void hist_slot__above_last_finite_bound__is_overflow_slot(void **state)
{
	uint64_t last_le = 1ULL << (LAST_SLOT - 1);
	unsigned int k;

	assert_int_equal(kp_hist_slot(last_le), LAST_SLOT - 1);
	assert_int_equal(kp_hist_slot(last_le + 1), LAST_SLOT);
	for (k = LAST_SLOT; k < 64; k++)
		assert_int_equal(kp_hist_slot(1ULL << k), LAST_SLOT);
	assert_int_equal(kp_hist_slot(UINT64_MAX), LAST_SLOT);
}

static void hist_slot__random_values__match_reference(void **state)
{
	uint64_t v;
	int i;

	for (i = 0; i < 200000; i++) {
		v = rng_any_magnitude();
		assert_int_equal(kp_hist_slot(v), ref_slot(v));
	}
}

static void hist_le__finite_slot__is_two_to_the_slot(void **state)
{
	unsigned int k;

	for (k = 0; k < LAST_SLOT; k++) {
		assert_false(kp_hist_le_is_inf(k));
		assert_int_equal(kp_hist_le(k), 1ULL << k);
	}
}

static void hist_le__last_slot__is_infinite(void **state)
{
	assert_true(kp_hist_le_is_inf(LAST_SLOT));
	assert_int_equal(kp_hist_le(LAST_SLOT), UINT64_MAX);
}

/* The Prometheus contract: le(slot(v)) >= v > le(slot(v) - 1). */
static void hist_le__bounds_every_value_of_its_slot(void **state)
{
	unsigned int s;
	uint64_t v;
	int i;

	for (i = 0; i < 200000; i++) {
		v = rng_any_magnitude();
		s = kp_hist_slot(v);
		assert_true(v <= kp_hist_le(s));
		if (s > 0)
			assert_true(v > kp_hist_le(s - 1));
	}
}

static void hist_add__values__counts_sums_and_slots(void **state)
{
	static const uint64_t vals[] = { 0, 1, 2, 3, 4, 5, 1000, 1ULL << 40 };
	struct kp_hist h = { 0 };
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		kp_hist_add(&h, vals[i]);
		sum += vals[i];
	}
	assert_int_equal(h.count, 8);
	assert_int_equal(h.sum, sum);
	assert_int_equal(h.slots[0], 2);
	assert_int_equal(h.slots[1], 1);
	assert_int_equal(h.slots[2], 2);
	assert_int_equal(h.slots[3], 1);
	assert_int_equal(h.slots[10], 1);
	assert_int_equal(h.slots[LAST_SLOT], 1);
}

static void hist_add__many_values__count_equals_number_of_adds(void **state)
{
	struct kp_hist h = { 0 };
	uint64_t total = 0;
	unsigned int i;

	for (i = 0; i < 12345; i++)
		kp_hist_add(&h, rng() >> (rng() % 64));
	assert_int_equal(h.count, 12345);
	for (i = 0; i < KP_HIST_SLOTS; i++)
		total += h.slots[i];
	assert_int_equal(total, 12345);
}

static void hist_empty__new_and_after_add(void **state)
{
	struct kp_hist h = { 0 };

	assert_true(kp_hist_empty(&h));
	kp_hist_add(&h, UINT64_MAX);
	assert_false(kp_hist_empty(&h));
}

static void hist_merge__two_histograms__equals_adding_all_values(void **state)
{
	struct kp_hist a = { 0 }, b = { 0 }, all = { 0 };
	uint64_t v;
	int i;

	for (i = 0; i < 1000; i++) {
		v = rng_any_magnitude() >> 20;
		kp_hist_add(i % 3 ? &a : &b, v);
		kp_hist_add(&all, v);
	}
	kp_hist_merge(&a, &b);
	assert_memory_equal(&a, &all, sizeof(all));
}

static void hist_sub__later_reading__gives_the_difference(void **state)
{
	struct kp_hist before = { 0 }, after, delta, expect = { 0 };
	uint64_t v;
	int i;

	for (i = 0; i < 500; i++)
		kp_hist_add(&before, rng() >> (rng() % 64));
	after = before;
	for (i = 0; i < 300; i++) {
		v = rng() >> (rng() % 64);
		kp_hist_add(&after, v);
		kp_hist_add(&expect, v);
	}
	kp_hist_sub(&delta, &after, &before);
	assert_memory_equal(&delta, &expect, sizeof(expect));
}

static void hist_percentile__empty_histogram__returns_zero(void **state)
{
	struct kp_hist h = { 0 };

	assert_true(kp_hist_percentile(&h, 50) == 0.0);
	assert_true(kp_hist_percentile(&h, 100) == 0.0);
}

static void hist_percentile__all_in_one_slot__interpolates_inside_it(void **state)
{
	struct kp_hist h = { 0 };
	int i;

	/* 10 values in slot 7: (64, 128] */
	for (i = 0; i < 10; i++)
		kp_hist_add(&h, 100);
	assert_float_equal(kp_hist_percentile(&h, 50), 96.0, 1e-9);
	assert_float_equal(kp_hist_percentile(&h, 10), 70.4, 1e-9);
	assert_float_equal(kp_hist_percentile(&h, 100), 128.0, 1e-9);
}

static void hist_percentile__slot_zero__interpolates_from_zero(void **state)
{
	struct kp_hist h = { 0 };
	int i;

	for (i = 0; i < 4; i++)
		kp_hist_add(&h, 0);
	assert_float_equal(kp_hist_percentile(&h, 50), 0.5, 1e-9);
	assert_float_equal(kp_hist_percentile(&h, 100), 1.0, 1e-9);
}

static void hist_percentile__two_slots__matches_hand_computation(void **state)
{
	struct kp_hist h = { 0 };
	int i;

	/* 90 values in slot 3 (4, 8], 10 in slot 10 (512, 1024] */
	for (i = 0; i < 90; i++)
		kp_hist_add(&h, 6);
	for (i = 0; i < 10; i++)
		kp_hist_add(&h, 700);
	/* p50: rank 50 of 90 in slot 3: 4 + 4 * 50/90 */
	assert_float_equal(kp_hist_percentile(&h, 50), 4.0 + 4.0 * 50 / 90,
			   1e-9);
	/* p90: rank 90 closes slot 3 exactly: its upper bound */
	assert_float_equal(kp_hist_percentile(&h, 90), 8.0, 1e-9);
	/* p99: rank 99, 9 of 10 into slot 10: 512 + 512 * 9/10 */
	assert_float_equal(kp_hist_percentile(&h, 99), 972.8, 1e-9);
	assert_float_equal(kp_hist_percentile(&h, 100), 1024.0, 1e-9);
}

static void hist_percentile__empty_slots_between__are_skipped(void **state)
{
	struct kp_hist h = { 0 };

	kp_hist_add(&h, 2);        /* slot 1 */
	kp_hist_add(&h, 1 << 20);  /* slot 20 */
	/* rank 1.5: half-way into slot 20, (2^19, 2^20] */
	assert_float_equal(kp_hist_percentile(&h, 75), 786432.0, 1e-6);
	/* rank 1 closes slot 1 */
	assert_float_equal(kp_hist_percentile(&h, 50), 2.0, 1e-9);
}

static void hist_percentile__above_100__is_clamped_to_p100(void **state)
{
	struct kp_hist h = { 0 };

	kp_hist_add(&h, 3);
	kp_hist_add(&h, 100);
	assert_float_equal(kp_hist_percentile(&h, 250), 128.0, 1e-9);
}

static void hist_percentile__zero_or_negative__returns_zero(void **state)
{
	struct kp_hist h = { 0 };

	kp_hist_add(&h, 1000);
	assert_true(kp_hist_percentile(&h, 0) == 0.0);
	assert_true(kp_hist_percentile(&h, -5) == 0.0);
}

static void hist_percentile__in_overflow_slot__returns_its_lower_bound(void **state)
{
	struct kp_hist h = { 0 };
	double lower = (double)(1ULL << (LAST_SLOT - 1));

	kp_hist_add(&h, 10);
	kp_hist_add(&h, UINT64_MAX);
	kp_hist_add(&h, 1ULL << 50);
	assert_float_equal(kp_hist_percentile(&h, 99), lower, 1e-3);
	assert_float_equal(kp_hist_percentile(&h, 100), lower, 1e-3);
	/* rank 0.6 still inside slot 4 (8, 16] */
	assert_float_equal(kp_hist_percentile(&h, 20), 12.8, 1e-9);
}

static void hist_percentile__is_monotonic_in_p(void **state)
{
	struct kp_hist h = { 0 };
	double prev = 0, cur;
	int i, p;

	for (i = 0; i < 5000; i++)
		kp_hist_add(&h, rng() >> (30 + rng() % 34));
	for (p = 1; p <= 100; p++) {
		cur = kp_hist_percentile(&h, p);
		assert_true(cur >= prev);
		prev = cur;
	}
}

/* bpf/kp_helpers.bpf.h must bucket exactly like user/core/hist.c. */
static void bpf_hist_slot__powers_of_two_and_neighbours__match_user(void **state)
{
	uint64_t p, v[3];
	unsigned int k, i;

	for (k = 0; k < 64; k++) {
		p = 1ULL << k;
		v[0] = p - 1;
		v[1] = p;
		v[2] = p + 1;
		for (i = 0; i < 3; i++)
			assert_int_equal(bpf_kp_hist_slot(v[i]),
					 kp_hist_slot(v[i]));
	}
	assert_int_equal(bpf_kp_hist_slot(UINT64_MAX), kp_hist_slot(UINT64_MAX));
}

static void bpf_hist_slot__random_values__match_user(void **state)
{
	uint64_t v;
	int i;

	for (i = 0; i < 1000000; i++) {
		v = rng_any_magnitude();
		assert_int_equal(bpf_kp_hist_slot(v), kp_hist_slot(v));
	}
}

static void bpf_hist_add__same_values__gives_same_histogram(void **state)
{
	struct kp_hist bpf = { 0 }, user = { 0 };
	uint64_t v;
	int i;

	for (i = 0; i < 10000; i++) {
		v = rng_any_magnitude();
		bpf_kp_hist_add(&bpf, v);
		kp_hist_add(&user, v);
	}
	assert_memory_equal(&bpf, &user, sizeof(user));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hist_slot__zero_and_one__are_slot_zero),
		cmocka_unit_test(hist_slot__small_values__follow_documented_boundaries),
		cmocka_unit_test(hist_slot__power_of_two__is_its_exponent),
		cmocka_unit_test(hist_slot__power_of_two_plus_one__is_next_slot),
		cmocka_unit_test(hist_slot__above_last_finite_bound__is_overflow_slot),
		cmocka_unit_test(hist_slot__random_values__match_reference),
		cmocka_unit_test(hist_le__finite_slot__is_two_to_the_slot),
		cmocka_unit_test(hist_le__last_slot__is_infinite),
		cmocka_unit_test(hist_le__bounds_every_value_of_its_slot),
		cmocka_unit_test(hist_add__values__counts_sums_and_slots),
		cmocka_unit_test(hist_add__many_values__count_equals_number_of_adds),
		cmocka_unit_test(hist_empty__new_and_after_add),
		cmocka_unit_test(hist_merge__two_histograms__equals_adding_all_values),
		cmocka_unit_test(hist_sub__later_reading__gives_the_difference),
		cmocka_unit_test(hist_percentile__empty_histogram__returns_zero),
		cmocka_unit_test(hist_percentile__all_in_one_slot__interpolates_inside_it),
		cmocka_unit_test(hist_percentile__slot_zero__interpolates_from_zero),
		cmocka_unit_test(hist_percentile__two_slots__matches_hand_computation),
		cmocka_unit_test(hist_percentile__empty_slots_between__are_skipped),
		cmocka_unit_test(hist_percentile__above_100__is_clamped_to_p100),
		cmocka_unit_test(hist_percentile__zero_or_negative__returns_zero),
		cmocka_unit_test(hist_percentile__in_overflow_slot__returns_its_lower_bound),
		cmocka_unit_test(hist_percentile__is_monotonic_in_p),
		cmocka_unit_test(bpf_hist_slot__powers_of_two_and_neighbours__match_user),
		cmocka_unit_test(bpf_hist_slot__random_values__match_user),
		cmocka_unit_test(bpf_hist_add__same_values__gives_same_histogram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
