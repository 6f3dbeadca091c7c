// SPDX-License-Identifier: GPL-2.0
/* Unit tests for user/core/snap.c: map snapshots and their per-key deltas. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include "user/core/snap.h"

/* A small key like exits_key: the byte order of memcmp is the sort order. */
struct key {
	uint32_t pid;
	uint16_t id;
	uint8_t kind;
	uint8_t pad;
};

#define NVALS 3

struct val {
	uint64_t v[NVALS];
};

static struct kp_snap prev, cur;

/* What the delta callback saw, in call order. */
static struct call {
	struct key key;
	uint64_t delta[NVALS];
} calls[64];
static size_t ncalls;

static int setup(void **state)
{
	kp_snap_init(&prev, sizeof(struct key), sizeof(struct val));
	kp_snap_init(&cur, sizeof(struct key), sizeof(struct val));
	ncalls = 0;
	return 0;
}

static int teardown(void **state)
{
	kp_snap_free(&prev);
	kp_snap_free(&cur);
	return 0;
}

static struct key K(uint32_t pid, uint16_t id)
{
	struct key k;

	memset(&k, 0, sizeof(k));
	k.pid = pid;
	k.id = id;
	return k;
}

static void put(struct kp_snap *s, struct key k, uint64_t a, uint64_t b,
		uint64_t c)
{
	uint64_t *v;

	assert_int_equal(kp_snap_reserve(s, s->n + 1), 0);
	memcpy(kp_snap_key(s, s->n), &k, sizeof(k));
	v = kp_snap_val(s, s->n);
	v[0] = a;
	v[1] = b;
	v[2] = c;
	s->n++;
}

static int record_call(const void *key, const uint64_t *delta, void *arg)
{
	assert_true(ncalls < sizeof(calls) / sizeof(calls[0]));
	memcpy(&calls[ncalls].key, key, sizeof(struct key));
	memcpy(calls[ncalls].delta, delta, sizeof(calls[0].delta));
	ncalls++;
	return 0;
}

static void delta(void)
{
	assert_int_equal(kp_snap_sort(&prev), 0);
	assert_int_equal(kp_snap_sort(&cur), 0);
	assert_int_equal(kp_snap_delta(&prev, &cur, record_call, NULL), 0);
}

static void assert_call(size_t i, struct key k, uint64_t a, uint64_t b,
			uint64_t c)
{
	assert_true(i < ncalls);
	assert_memory_equal(&calls[i].key, &k, sizeof(k));
	assert_int_equal(calls[i].delta[0], a);
	assert_int_equal(calls[i].delta[1], b);
	assert_int_equal(calls[i].delta[2], c);
}

static void snap_init__value_size__gives_counters_per_value(void **state)
{
	assert_int_equal(cur.key_size, sizeof(struct key));
	assert_int_equal(cur.nvals, NVALS);
	assert_int_equal(cur.n, 0);
}

static void snap_reserve__growing__keeps_entries(void **state)
{
	struct key k;
	uint64_t i;

	for (i = 0; i < 1000; i++)
		put(&cur, K(i, i), i, 2 * i, 3 * i);
	assert_true(cur.cap >= 1000);
	for (i = 0; i < 1000; i++) {
		k = K(i, i);
		assert_memory_equal(kp_snap_key(&cur, i), &k, sizeof(k));
		assert_int_equal(kp_snap_val(&cur, i)[2], 3 * i);
	}
	/* reserving less than the capacity changes nothing */
	assert_int_equal(kp_snap_reserve(&cur, 10), 0);
	assert_int_equal(kp_snap_val(&cur, 999)[1], 1998);
}

static void snap_sort__entries__ordered_by_key_bytes_with_values(void **state)
{
	struct key k;
	size_t i;

	/* scrambled insertion order; values derive from the key */
	for (i = 0; i < 500; i++) {
		uint32_t pid = (i * 7919) % 500;

		put(&cur, K(pid, pid % 7), pid, pid + 1, pid + 2);
	}
	assert_int_equal(kp_snap_sort(&cur), 0);
	assert_int_equal(cur.n, 500);
	for (i = 0; i < cur.n; i++) {
		memcpy(&k, kp_snap_key(&cur, i), sizeof(k));
		if (i > 0)
			assert_true(memcmp(kp_snap_key(&cur, i - 1), &k,
					   sizeof(k)) < 0);
		assert_int_equal(kp_snap_val(&cur, i)[0], k.pid);
		assert_int_equal(kp_snap_val(&cur, i)[1], k.pid + 1);
		assert_int_equal(kp_snap_val(&cur, i)[2], k.pid + 2);
	}
}

static void snap_delta__new_key__counts_from_zero(void **state)
{
	put(&cur, K(1, 1), 5, 0, 9);
	delta();
	assert_int_equal(ncalls, 1);
	assert_call(0, K(1, 1), 5, 0, 9);
}

static void snap_delta__unchanged_key__gets_no_callback(void **state)
{
	put(&prev, K(1, 1), 5, 6, 7);
	put(&cur, K(1, 1), 5, 6, 7);
	delta();
	assert_int_equal(ncalls, 0);
}

static void snap_delta__changed_key__gets_the_differences(void **state)
{
	put(&prev, K(1, 1), 5, 6, 7);
	put(&cur, K(1, 1), 15, 6, 1007);
	delta();
	assert_int_equal(ncalls, 1);
	assert_call(0, K(1, 1), 10, 0, 1000);
}

static void snap_delta__key_only_in_prev__gets_no_callback(void **state)
{
	put(&prev, K(1, 1), 5, 6, 7);
	put(&prev, K(2, 1), 5, 6, 7);
	put(&cur, K(2, 1), 5, 6, 8);
	delta();
	assert_int_equal(ncalls, 1);
	assert_call(0, K(2, 1), 0, 0, 1);
}

static void snap_delta__counter_went_backwards__is_taken_from_zero(void **state)
{
	/* the key was deleted and re-created between the snapshots */
	put(&prev, K(1, 1), 100, 6, 7);
	put(&cur, K(1, 1), 3, 8, 7);
	delta();
	assert_int_equal(ncalls, 1);
	assert_call(0, K(1, 1), 3, 8, 7);
}

static void snap_delta__interleaved_keys__each_matched_to_its_own(void **state)
{
	/* prev has keys before, between and after cur's */
	put(&prev, K(0, 0), 1, 1, 1);
	put(&prev, K(2, 0), 10, 10, 10);
	put(&prev, K(3, 0), 7, 7, 7);
	put(&prev, K(5, 0), 3, 3, 3);
	put(&prev, K(9, 0), 1, 1, 1);
	put(&cur, K(5, 0), 4, 3, 3);      /* changed */
	put(&cur, K(1, 0), 2, 2, 2);      /* new */
	put(&cur, K(2, 0), 10, 10, 10);   /* unchanged */
	put(&cur, K(4, 0), 1, 0, 0);      /* new */
	put(&cur, K(6, 0), 6, 6, 6);      /* new, after the last match */
	delta();
	assert_int_equal(ncalls, 4);
	/* callbacks come in key order */
	assert_call(0, K(1, 0), 2, 2, 2);
	assert_call(1, K(4, 0), 1, 0, 0);
	assert_call(2, K(5, 0), 1, 0, 0);
	assert_call(3, K(6, 0), 6, 6, 6);
}

static void snap_delta__keys_differing_only_in_last_byte__are_distinct(void **state)
{
	struct key a = K(1, 1), b = K(1, 1);

	b.kind = 2;
	put(&prev, a, 5, 5, 5);
	put(&cur, a, 5, 5, 5);
	put(&cur, b, 1, 1, 1);
	delta();
	assert_int_equal(ncalls, 1);
	assert_call(0, b, 1, 1, 1);
}

static void snap_delta__empty_prev__every_key_from_zero(void **state)
{
	put(&cur, K(2, 0), 1, 2, 3);
	put(&cur, K(1, 0), 4, 5, 6);
	delta();
	assert_int_equal(ncalls, 2);
	assert_call(0, K(1, 0), 4, 5, 6);
	assert_call(1, K(2, 0), 1, 2, 3);
}

static void snap_delta__empty_cur__gets_no_callback(void **state)
{
	put(&prev, K(2, 0), 1, 2, 3);
	delta();
	assert_int_equal(ncalls, 0);
}

static int fail_second(const void *key, const uint64_t *delta, void *arg)
{
	int *n = arg;

	return ++*n == 2 ? -EIO : 0;
}

static void snap_delta__callback_error__stops_and_is_returned(void **state)
{
	int n = 0;

	put(&cur, K(1, 0), 1, 0, 0);
	put(&cur, K(2, 0), 1, 0, 0);
	put(&cur, K(3, 0), 1, 0, 0);
	assert_int_equal(kp_snap_delta(&prev, &cur, fail_second, &n), -EIO);
	assert_int_equal(n, 2);
}

static void snap_swap__two_snapshots__exchange_contents(void **state)
{
	put(&prev, K(1, 0), 1, 1, 1);
	put(&cur, K(2, 0), 2, 2, 2);
	put(&cur, K(3, 0), 3, 3, 3);
	kp_snap_swap(&prev, &cur);
	assert_int_equal(prev.n, 2);
	assert_int_equal(cur.n, 1);
	assert_int_equal(kp_snap_val(&prev, 1)[0], 3);
	assert_int_equal(kp_snap_val(&cur, 0)[0], 1);
}

static void snap_delta__successive_intervals__sum_to_the_total(void **state)
{
	uint64_t total[4] = { 0 }, counter[4] = { 0 };
	unsigned int round, k;
	size_t i;

	/* each round: counters grow, cur becomes prev, as the probe does */
	for (round = 0; round < 10; round++) {
		cur.n = 0;
		for (k = 0; k < 4; k++) {
			counter[k] += (k + 1) * round;
			if (counter[k])
				put(&cur, K(k, 0), counter[k], 0, 0);
		}
		ncalls = 0;
		delta();
		for (i = 0; i < ncalls; i++)
			total[calls[i].key.pid] += calls[i].delta[0];
		kp_snap_swap(&prev, &cur);
	}
	for (k = 0; k < 4; k++)
		assert_int_equal(total[k], counter[k]);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(snap_init__value_size__gives_counters_per_value),
		T(snap_reserve__growing__keeps_entries),
		T(snap_sort__entries__ordered_by_key_bytes_with_values),
		T(snap_delta__new_key__counts_from_zero),
		T(snap_delta__unchanged_key__gets_no_callback),
		T(snap_delta__changed_key__gets_the_differences),
		T(snap_delta__key_only_in_prev__gets_no_callback),
		T(snap_delta__counter_went_backwards__is_taken_from_zero),
		T(snap_delta__interleaved_keys__each_matched_to_its_own),
		T(snap_delta__keys_differing_only_in_last_byte__are_distinct),
		T(snap_delta__empty_prev__every_key_from_zero),
		T(snap_delta__empty_cur__gets_no_callback),
		T(snap_delta__callback_error__stops_and_is_returned),
		T(snap_swap__two_snapshots__exchange_contents),
		T(snap_delta__successive_intervals__sum_to_the_total),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
