// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for user/probes/halts.c: the haltpoll iterator's records (one
 * per vCPU, cumulative kvm_vcpu_stat counters) into interval samples.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include "user/probes/halts.h"

#define ALL (HALTPOLL_F_HALTS | HALTPOLL_F_WAIT)

static struct kp_halts h;
static struct kp_interval iv;

static int setup(void **state)
{
	kp_halts_init(&h);
	memset(&iv, 0, sizeof(iv));
	iv.interval_s = 1;
	return 0;
}

static int teardown(void **state)
{
	kp_halts_free(&h);
	kp_interval_clear(&iv);
	return 0;
}

static struct haltpoll_rec rec(uint32_t pid, uint32_t tid, uint32_t vcpu,
			       uint64_t halts, uint64_t polls, uint64_t wins,
			       uint64_t win_ns, uint64_t fail_ns,
			       uint64_t wait_ns)
{
	struct haltpoll_rec r = { .pid = pid, .tid = tid, .vcpu = vcpu,
				  .flags = ALL };

	r.v[HALTPOLL_HALTS] = halts;
	r.v[HALTPOLL_POLLS] = polls;
	r.v[HALTPOLL_WINS] = wins;
	r.v[HALTPOLL_WIN_NS] = win_ns;
	r.v[HALTPOLL_FAIL_NS] = fail_ns;
	r.v[HALTPOLL_WAIT_NS] = wait_ns;
	return r;
}

static const struct kp_vcpu_rec *vcpu_of(uint32_t pid, uint32_t tid)
{
	size_t i, j;

	for (i = 0; i < iv.nvms; i++)
		for (j = 0; pid == iv.vms[i].pid && j < iv.vms[i].nvcpus; j++)
			if (iv.vms[i].vcpus[j].tid == tid)
				return &iv.vms[i].vcpus[j];
	return NULL;
}

static uint64_t val(const struct kp_vcpu_rec *v, enum kp_metric_id m,
		    const char *label)
{
	const struct kp_sample *s = kp_sample_find(&v->s, m, label);

	assert_non_null(s);
	return s->value;
}

static int read_recs(const struct haltpoll_rec *r, size_t n)
{
	return kp_halts_read(&h, r, n * sizeof(*r), &iv);
}

/* The first read is a baseline: counters since the VM began are no
 * interval's; the next read gives the differences. */
static void test_baseline_then_delta(void **state)
{
	struct haltpoll_rec r1[] = { rec(10, 11, 0, 100, 80, 30, 5000, 7000,
					 90000) };
	struct haltpoll_rec r2[] = { rec(10, 11, 0, 150, 120, 40, 5600, 9000,
					 99000) };
	const struct kp_vcpu_rec *v;

	assert_int_equal(read_recs(r1, 1), 0);
	assert_int_equal(iv.nvms, 0);
	assert_int_equal(read_recs(r2, 1), 0);
	v = vcpu_of(10, 11);
	assert_non_null(v);
	assert_int_equal(v->index, 0);
	assert_int_equal(val(v, KP_M_HALTS, ""), 50);
	assert_int_equal(val(v, KP_M_HALT_POLLS, "win"), 10);
	assert_int_equal(val(v, KP_M_HALT_POLLS, "fail"), 30);
	assert_int_equal(val(v, KP_M_POLL_WIN, ""), 600);
	assert_int_equal(val(v, KP_M_POLL_FAIL, ""), 2000);
	assert_int_equal(val(v, KP_M_HALT_WAIT, ""), 9000);
}

/* A vCPU first seen after the baseline was created since: from zero. */
static void test_new_vcpu_counts_from_zero(void **state)
{
	struct haltpoll_rec r1[] = { rec(10, 11, 0, 5, 5, 5, 1, 1, 1) };
	struct haltpoll_rec r2[] = { rec(10, 11, 0, 5, 5, 5, 1, 1, 1),
				     rec(20, 21, 3, 7, 4, 1, 10, 20, 30) };

	assert_int_equal(read_recs(r1, 1), 0);
	assert_int_equal(read_recs(r2, 2), 0);
	/* the unchanged vCPU gives nothing */
	assert_null(vcpu_of(10, 11));
	assert_int_equal(val(vcpu_of(20, 21), KP_M_HALTS, ""), 7);
	assert_int_equal(val(vcpu_of(20, 21), KP_M_HALT_POLLS, "fail"), 3);
	assert_int_equal(vcpu_of(20, 21)->index, 3);
}

/* A vCPU fd held by two processes is one vCPU: counted once. A vCPU that
 * never ran has no thread and no record. */
static void test_dup_and_unrun(void **state)
{
	struct haltpoll_rec r2[] = { rec(10, 11, 0, 9, 0, 0, 0, 0, 0),
				     rec(10, 11, 0, 9, 0, 0, 0, 0, 0),
				     rec(10, 0, 1, 0, 0, 0, 0, 0, 0) };

	assert_int_equal(read_recs(NULL, 0), 0);
	assert_int_equal(read_recs(r2, 3), 0);
	assert_int_equal(iv.nvms, 1);
	assert_int_equal(iv.vms[0].nvcpus, 1);
	assert_int_equal(val(vcpu_of(10, 11), KP_M_HALTS, ""), 9);
}

/* Without halt_exits (not x86) or halt_wait_ns (before v5.14) those
 * samples are absent, not zero. */
static void test_flags(void **state)
{
	struct haltpoll_rec r = rec(10, 11, 0, 0, 4, 1, 10, 20, 0);

	r.flags = 0;
	assert_int_equal(read_recs(NULL, 0), 0);
	assert_int_equal(read_recs(&r, 1), 0);
	assert_null(kp_sample_find(&vcpu_of(10, 11)->s, KP_M_HALTS, ""));
	assert_null(kp_sample_find(&vcpu_of(10, 11)->s, KP_M_HALT_WAIT, ""));
	assert_int_equal(val(vcpu_of(10, 11), KP_M_HALT_POLLS, "win"), 1);
}

/* A counter that went back (a new vCPU on the same thread and index)
 * counts from zero. */
static void test_counter_reset(void **state)
{
	struct haltpoll_rec r1[] = { rec(10, 11, 0, 100, 0, 0, 0, 0, 0) };
	struct haltpoll_rec r2[] = { rec(10, 11, 0, 3, 0, 0, 0, 0, 0) };

	assert_int_equal(read_recs(r1, 1), 0);
	assert_int_equal(read_recs(r2, 1), 0);
	assert_int_equal(val(vcpu_of(10, 11), KP_M_HALTS, ""), 3);
}

static void test_torn_buffer(void **state)
{
	struct haltpoll_rec r = rec(10, 11, 0, 1, 0, 0, 0, 0, 0);

	assert_int_equal(kp_halts_read(&h, &r, sizeof(r) - 1, &iv), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_baseline_then_delta, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_new_vcpu_counts_from_zero,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_dup_and_unrun, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counter_reset, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_torn_buffer, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
