// SPDX-License-Identifier: GPL-2.0
/* Unit tests for user/identity/procfs.c, against the fake /proc in tests/fixtures. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "user/identity/procfs.h"
#include "tests/unit/fixture.h"

#define FIXTURE_REL "tests/fixtures/proc"

static char root[PATH_MAX];

/*
 * The fixture root: relative to the repository root, which is the working
 * directory under tests/run.sh; else found from this binary's place,
 * build/tests/test_procfs.
 */
static int find_fixtures(void **state)
{
	(void)state;
	return kp_fixture_dir(root, sizeof(root), FIXTURE_REL, "/4242/comm");
}

static void parse_vcpu_name__qemu_vcpu_threads__give_their_index(void **state)
{
	assert_int_equal(kp_parse_vcpu_name("CPU 0/KVM"), 0);
	assert_int_equal(kp_parse_vcpu_name("CPU 17/KVM"), 17);
	assert_int_equal(kp_parse_vcpu_name("CPU 4095/KVM"), 4095);
}

static void parse_vcpu_name__other_names__give_minus_one(void **state)
{
	static const char *const bad[] = {
		"CPU 1/KVM ",        /* trailing space */
		"CPU /KVM",          /* no number */
		"CPU -1/KVM",        /* negative */
		"CPU +1/KVM",
		"CPU 99999999/KVM",  /* absurd index */
		"CPU 1x/KVM",
		"CPU 1/KV",
		"CPU 1/KVMX",
		"CPU 1",
		"cpu 1/KVM",
		" CPU 1/KVM",
		"CPU  1/KVM",
		"qemu-system-x86",
		"",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (kp_parse_vcpu_name(bad[i]) != -1)
			fail_msg("'%s' parsed as %d", bad[i],
				 kp_parse_vcpu_name(bad[i]));
}

static void proc_comm__process__reads_name_without_newline(void **state)
{
	char buf[64];

	memset(buf, 'X', sizeof(buf));
	assert_int_equal(kp_proc_comm(root, 4242, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "qemu-system-x86");
}

static void proc_comm__spaces_quotes_and_utf8__kept_byte_for_byte(void **state)
{
	char buf[64];

	assert_int_equal(kp_proc_comm(root, 5000, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "vm \"prod\" \xc3\xa9");
}

static void proc_comm__no_trailing_newline__reads_whole_name(void **state)
{
	char buf[64];

	assert_int_equal(kp_proc_comm(root, 5001, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "no-newline");
}

static void proc_comm__empty_file__gives_empty_name(void **state)
{
	char buf[64];

	memset(buf, 'X', sizeof(buf));
	assert_int_equal(kp_proc_comm(root, 5002, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
}

static void proc_comm__small_buffer__truncates_and_terminates(void **state)
{
	char buf[8];

	memset(buf, 'X', sizeof(buf));
	assert_int_equal(kp_proc_comm(root, 4242, buf, 5), 0);
	assert_string_equal(buf, "qemu");
	assert_memory_equal(buf + 5, "XXX", 3);
	assert_int_equal(kp_proc_comm(root, 4242, buf, 0), -EINVAL);
}

static void proc_comm__missing_process__is_enoent(void **state)
{
	char buf[64];

	assert_int_equal(kp_proc_comm(root, 999999, buf, sizeof(buf)),
			 -ENOENT);
	assert_int_equal(kp_proc_comm("/nonexistent-kvmprobe-root", 4242, buf,
				      sizeof(buf)),
			 -ENOENT);
}

static void proc_thread_comm__vcpu_thread__reads_and_parses(void **state)
{
	char buf[64];

	assert_int_equal(kp_proc_thread_comm(root, 4242, 4243, buf,
					     sizeof(buf)), 0);
	assert_string_equal(buf, "CPU 0/KVM");
	assert_int_equal(kp_parse_vcpu_name(buf), 0);
	assert_int_equal(kp_proc_thread_comm(root, 4242, 4244, buf,
					     sizeof(buf)), 0);
	assert_int_equal(kp_parse_vcpu_name(buf), 17);
	assert_int_equal(kp_proc_thread_comm(root, 4242, 4242, buf,
					     sizeof(buf)), 0);
	assert_int_equal(kp_parse_vcpu_name(buf), -1);
}

static void proc_thread_comm__missing_thread__is_enoent(void **state)
{
	char buf[64];

	assert_int_equal(kp_proc_thread_comm(root, 4242, 4299, buf,
					     sizeof(buf)), -ENOENT);
	assert_int_equal(kp_proc_thread_comm(root, 999999, 4243, buf,
					     sizeof(buf)), -ENOENT);
	/* a thread of another process is not found under this one */
	assert_int_equal(kp_proc_thread_comm(root, 5000, 4243, buf,
					     sizeof(buf)), -ENOENT);
}

static void proc_thread_alive__existing_thread__is_true(void **state)
{
	assert_true(kp_proc_thread_alive(root, 4242, 4242));
	assert_true(kp_proc_thread_alive(root, 4242, 4243));
	assert_true(kp_proc_thread_alive(root, 4242, 4244));
}

static void proc_thread_alive__gone_thread_or_process__is_false(void **state)
{
	assert_false(kp_proc_thread_alive(root, 4242, 4299));
	assert_false(kp_proc_thread_alive(root, 999999, 4243));
	assert_false(kp_proc_thread_alive(root, 5000, 5000));
}

static void proc_thread_alive__real_proc__sees_this_process(void **state)
{
	assert_true(kp_proc_thread_alive("/proc", getpid(), getpid()));
}

struct found {
	uint32_t pid[64], tid[64];
	int vcpu[64];
	size_t n;
	size_t stop_after; /* 0: never */
};

static int collect(uint32_t pid, uint32_t tid, int vcpu, void *arg)
{
	struct found *f = arg;

	if (f->n < 64) {
		f->pid[f->n] = pid;
		f->tid[f->n] = tid;
		f->vcpu[f->n] = vcpu;
	}
	f->n++;
	return f->stop_after && f->n >= f->stop_after ? 42 : 0;
}

static int found_vcpu(const struct found *f, uint32_t pid, uint32_t tid)
{
	size_t i;

	for (i = 0; i < f->n && i < 64; i++)
		if (f->pid[i] == pid && f->tid[i] == tid)
			return f->vcpu[i];
	return -1;
}

static void proc_vcpu_threads__fixture__finds_exactly_the_vcpu_threads(void **state)
{
	struct found f = { .n = 0 };
	char comm[32];
	size_t i;

	assert_int_equal(kp_proc_vcpu_threads(root, collect, &f), 0);
	assert_int_equal(found_vcpu(&f, 4242, 4243), 0);
	assert_int_equal(found_vcpu(&f, 4242, 4244), 17);
	assert_int_equal(found_vcpu(&f, 4242, 4242), -1);
	assert_true(f.n <= 64);
	/* nothing else: every thread reported is named CPU <n>/KVM */
	for (i = 0; i < f.n; i++) {
		assert_int_equal(kp_proc_thread_comm(root, f.pid[i], f.tid[i],
						     comm, sizeof(comm)), 0);
		assert_int_equal(kp_parse_vcpu_name(comm), f.vcpu[i]);
	}
}

static void proc_vcpu_threads__callback_nonzero__stops_and_returns_it(void **state)
{
	struct found f = { .stop_after = 1 };

	assert_int_equal(kp_proc_vcpu_threads(root, collect, &f), 42);
	assert_int_equal(f.n, 1);
}

static void proc_vcpu_threads__missing_root__is_enoent(void **state)
{
	struct found f = { .n = 0 };

	assert_int_equal(kp_proc_vcpu_threads("/nonexistent/proc", collect, &f),
			 -ENOENT);
	assert_int_equal(f.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_vcpu_name__qemu_vcpu_threads__give_their_index),
		cmocka_unit_test(parse_vcpu_name__other_names__give_minus_one),
		cmocka_unit_test(proc_comm__process__reads_name_without_newline),
		cmocka_unit_test(proc_comm__spaces_quotes_and_utf8__kept_byte_for_byte),
		cmocka_unit_test(proc_comm__no_trailing_newline__reads_whole_name),
		cmocka_unit_test(proc_comm__empty_file__gives_empty_name),
		cmocka_unit_test(proc_comm__small_buffer__truncates_and_terminates),
		cmocka_unit_test(proc_comm__missing_process__is_enoent),
		cmocka_unit_test(proc_thread_comm__vcpu_thread__reads_and_parses),
		cmocka_unit_test(proc_thread_comm__missing_thread__is_enoent),
		cmocka_unit_test(proc_thread_alive__existing_thread__is_true),
		cmocka_unit_test(proc_thread_alive__gone_thread_or_process__is_false),
		cmocka_unit_test(proc_thread_alive__real_proc__sees_this_process),
		cmocka_unit_test(proc_vcpu_threads__fixture__finds_exactly_the_vcpu_threads),
		cmocka_unit_test(proc_vcpu_threads__callback_nonzero__stops_and_returns_it),
		cmocka_unit_test(proc_vcpu_threads__missing_root__is_enoent),
	};

	return cmocka_run_group_tests(tests, find_fixtures, NULL);
}
