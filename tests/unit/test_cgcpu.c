// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for user/probes/cgcpu.c: the cgroup CPU limit reader, against
 * fake trees (tests/fixtures/cgroup/v1: libvirt without systemd, cpu and
 * cpuacct co-mounted; v2: libvirt under systemd, and a cgroup without the
 * cpu controller), and the attribution across intervals in a tree the test
 * writes under its own temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "user/probes/cgcpu.h"
#include "tests/unit/fixture.h"

#define FIXTURE_REL "tests/fixtures/cgroup"

static char root[PATH_MAX];

static int find_fixtures(void **state)
{
	(void)state;
	return kp_fixture_dir(root, sizeof(root), FIXTURE_REL, "/v1/proc/self/mountinfo");
}

static FILE *fixture(const char *rel)
{
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return fopen(path, "r");
}

static FILE *text(const char *s)
{
	return fmemopen((void *)s, strlen(s), "r");
}

static void mountinfo__v1_comounted__finds_cpu_not_cpuacct_or_cpuset(void **state)
{
	struct kp_cg_mounts m;
	FILE *f = fixture("v1/proc/self/mountinfo");

	assert_non_null(f);
	assert_int_equal(kp_cg_parse_mountinfo(f, &m), 0);
	fclose(f);
	assert_string_equal(m.v1_cpu, "/sys/fs/cgroup/cpu,cpuacct");
	assert_string_equal(m.v1_root, "/");
	assert_string_equal(m.v2, "/sys/fs/cgroup/unified");
}

static void mountinfo__v2_only__finds_cgroup2(void **state)
{
	struct kp_cg_mounts m;
	FILE *f = fixture("v2/proc/self/mountinfo");

	assert_non_null(f);
	assert_int_equal(kp_cg_parse_mountinfo(f, &m), 0);
	fclose(f);
	assert_string_equal(m.v1_cpu, "");
	assert_string_equal(m.v2, "/sys/fs/cgroup");
}

static void mountinfo__escaped_mount_point_and_no_cgroups(void **state)
{
	struct kp_cg_mounts m;
	FILE *f;

	f = text("40 31 0:40 /sub /mnt/cg\\040v1 rw - cgroup cgroup rw,cpu\n");
	assert_int_equal(kp_cg_parse_mountinfo(f, &m), 0);
	fclose(f);
	assert_string_equal(m.v1_cpu, "/mnt/cg v1");
	assert_string_equal(m.v1_root, "/sub");
	f = text("22 28 0:21 / /sys rw - sysfs sysfs rw\ngarbage\n");
	assert_int_equal(kp_cg_parse_mountinfo(f, &m), -ENOENT);
	fclose(f);
}

static void task_cgroup__v1_and_v2_lines(void **state)
{
	char v1[KP_CG_PATH_MAX], v2[KP_CG_PATH_MAX];
	FILE *f = fixture("v1/proc/7100/task/7101/cgroup");

	assert_non_null(f);
	assert_int_equal(kp_cg_parse_task_cgroup(f, v1, v2, sizeof(v1)), 0);
	fclose(f);
	assert_string_equal(v1, "/machine/qemu-1-vm1.libvirt-qemu/vcpu0");
	assert_string_equal(v2, "/");
	f = fixture("v1/proc/7100/task/7102/cgroup");
	assert_int_equal(kp_cg_parse_task_cgroup(f, v1, v2, sizeof(v1)),
			 -ENOENT);
	fclose(f);
}

static void cpu_stat__v1_ns_v2_usec_and_missing_key(void **state)
{
	uint64_t t = 0;
	FILE *f;

	f = fixture("v1/fs/sys/fs/cgroup/cpu,cpuacct/machine/qemu-1-vm1.libvirt-qemu/vcpu0/cpu.stat");
	assert_non_null(f);
	assert_int_equal(kp_cg_parse_cpu_stat(f, KP_CG_V1, &t), 0);
	fclose(f);
	assert_int_equal(t, 3000000123ULL);
	f = fixture("v2/fs/sys/fs/cgroup/machine.slice/machine-qemu\\x2d2\\x2dvm2.scope/libvirt/vcpu0/cpu.stat");
	assert_non_null(f);
	assert_int_equal(kp_cg_parse_cpu_stat(f, KP_CG_V2, &t), 0);
	fclose(f);
	assert_int_equal(t, 2500000000ULL);
	f = fixture("v2/fs/sys/fs/cgroup/system.slice/nocpu.service/cpu.stat");
	assert_int_equal(kp_cg_parse_cpu_stat(f, KP_CG_V2, &t), -ENOENT);
	fclose(f);
}

static void limited__is_delay_share_of_throttled_capped_by_delay(void **state)
{
	/* one vCPU: min(d, T) */
	assert_int_equal(kp_cg_limited(300, 500, 500), 300);
	assert_int_equal(kp_cg_limited(900, 500, 500), 500);
	/* two vCPUs waiting 400 and 100 of a cgroup throttled 250 */
	assert_int_equal(kp_cg_limited(250, 500, 400), 200);
	assert_int_equal(kp_cg_limited(250, 500, 100), 50);
	assert_int_equal(kp_cg_limited(0, 500, 100), 0);
	assert_int_equal(kp_cg_limited(100, 0, 0), 0);
	/* no overflow at 64-bit scale */
	assert_int_equal(kp_cg_limited(UINT64_MAX / 2, UINT64_MAX, UINT64_MAX),
			 UINT64_MAX / 2);
}

/* The fixture trees through the table: paths resolved, counters read. */
static void table__v1_fixture__first_interval_baseline_then_shares(void **state)
{
	char proc[PATH_MAX + 16], fs[PATH_MAX + 16];
	struct kp_cgcpu *c;
	enum kp_cg_ver ver;
	uint64_t lim;
	int slot;

	snprintf(proc, sizeof(proc), "%s/v1/proc", root);
	snprintf(fs, sizeof(fs), "%s/v1/fs", root);
	c = kp_cgcpu_new(proc, fs);
	assert_non_null(c);
	assert_true(kp_cgcpu_usable(c));
	kp_cgcpu_begin(c, 0);
	slot = kp_cgcpu_note(c, 7100, 7101, 1000);
	assert_true(slot >= 0);
	assert_false(kp_cgcpu_share(c, slot, 1000, &lim, &ver));
	assert_int_equal(kp_cgcpu_note(c, 7100, 7102, 1000), -ENOENT);
	assert_int_equal(kp_cgcpu_note(c, 7100, 9999, 1000), -ENOENT);
	kp_cgcpu_end(c);
	/* the counter did not move: nothing limited */
	kp_cgcpu_begin(c, 1);
	slot = kp_cgcpu_note(c, 7100, 7101, 1000);
	assert_true(kp_cgcpu_share(c, slot, 1000, &lim, &ver));
	assert_int_equal(lim, 0);
	assert_int_equal(ver, KP_CG_V1);
	assert_string_equal(kp_cg_ver_name(ver), "cgroup_v1");
	kp_cgcpu_end(c);
	kp_cgcpu_free(c);
}

static void table__v2_fixture__no_cpu_controller_is_no_source(void **state)
{
	char proc[PATH_MAX + 16], fs[PATH_MAX + 16];
	struct kp_cgcpu *c;

	snprintf(proc, sizeof(proc), "%s/v2/proc", root);
	snprintf(fs, sizeof(fs), "%s/v2/fs", root);
	c = kp_cgcpu_new(proc, fs);
	kp_cgcpu_begin(c, 0);
	assert_true(kp_cgcpu_note(c, 7200, 7201, 5) >= 0);
	assert_int_equal(kp_cgcpu_note(c, 7200, 7202, 5), -ENOENT);
	kp_cgcpu_end(c);
	kp_cgcpu_free(c);
	/* no mountinfo at all: not usable, every note says so */
	c = kp_cgcpu_new("/nonexistent", "");
	assert_false(kp_cgcpu_usable(c));
	kp_cgcpu_begin(c, 0);
	assert_int_equal(kp_cgcpu_note(c, 1, 1, 5), -ENOENT);
	kp_cgcpu_end(c);
	kp_cgcpu_free(c);
}

/* A v2 tree of its own: two vCPUs sharing one cgroup, one alone. */
struct tree {
	char dir[64], proc[128], fs[128];
};

static void put(const char *path, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(cmd), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

static void set_throttled(struct tree *t, const char *cg, uint64_t usec)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/cg%s/cpu.stat", t->fs, cg);
	put(path, "usage_usec 1\nnr_throttled 3\nthrottled_usec %llu\n",
	    (unsigned long long)usec);
}

static int tree_setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));
	char path[512];

	snprintf(t->dir, sizeof(t->dir), "/tmp/kp-test-cgcpu.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->proc, sizeof(t->proc), "%s/proc", t->dir);
	snprintf(t->fs, sizeof(t->fs), "%s/fs", t->dir);
	snprintf(path, sizeof(path), "%s/self/mountinfo", t->proc);
	put(path, "30 22 0:26 / /cg rw - cgroup2 cgroup2 rw\n");
	snprintf(path, sizeof(path), "%s/10/task/11/cgroup", t->proc);
	put(path, "0::/vm/shared\n");
	snprintf(path, sizeof(path), "%s/10/task/12/cgroup", t->proc);
	put(path, "0::/vm/shared\n");
	snprintf(path, sizeof(path), "%s/10/task/13/cgroup", t->proc);
	put(path, "0::/vm/alone\n");
	set_throttled(t, "/vm/shared", 1000);
	set_throttled(t, "/vm/alone", 0);
	*state = t;
	return 0;
}

static int tree_teardown(void **state)
{
	struct tree *t = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	assert_int_equal(system(cmd), 0);
	free(t);
	return 0;
}

static void table__shared_cgroup__throttled_time_split_by_run_delay(void **state)
{
	struct tree *t = *state;
	struct kp_cgcpu *c = kp_cgcpu_new(t->proc, t->fs);
	int s11, s12, s13;
	enum kp_cg_ver ver;
	uint64_t lim;

	assert_true(kp_cgcpu_usable(c));
	kp_cgcpu_begin(c, 0); /* the baseline */
	assert_true(kp_cgcpu_note(c, 10, 11, 0) >= 0);
	assert_true(kp_cgcpu_note(c, 10, 12, 0) >= 0);
	assert_true(kp_cgcpu_note(c, 10, 13, 0) >= 0);
	kp_cgcpu_end(c);

	/* shared: throttled 300 ms; run delays 400 and 200 ms: half each is
	 * limited. alone: throttled 700 ms, run delay 500 ms: all of it. */
	set_throttled(t, "/vm/shared", 1000 + 300000);
	set_throttled(t, "/vm/alone", 700000);
	kp_cgcpu_begin(c, 1);
	s11 = kp_cgcpu_note(c, 10, 11, 400000000);
	s12 = kp_cgcpu_note(c, 10, 12, 200000000);
	s13 = kp_cgcpu_note(c, 10, 13, 500000000);
	assert_int_equal(s11, s12);
	assert_int_not_equal(s11, s13);
	assert_true(kp_cgcpu_share(c, s11, 400000000, &lim, &ver));
	assert_int_equal(lim, 200000000);
	assert_int_equal(ver, KP_CG_V2);
	assert_true(kp_cgcpu_share(c, s12, 200000000, &lim, &ver));
	assert_int_equal(lim, 100000000);
	assert_true(kp_cgcpu_share(c, s13, 500000000, &lim, &ver));
	assert_int_equal(lim, 500000000);
	kp_cgcpu_end(c);

	/* thread 13 gone for an interval: its cgroup is forgotten, and when
	 * it comes back the first interval is a baseline again */
	kp_cgcpu_begin(c, 2);
	assert_true(kp_cgcpu_note(c, 10, 11, 0) >= 0);
	kp_cgcpu_end(c);
	kp_cgcpu_begin(c, 3);
	s13 = kp_cgcpu_note(c, 10, 13, 5);
	assert_true(s13 >= 0);
	assert_false(kp_cgcpu_share(c, s13, 5, &lim, &ver));
	kp_cgcpu_end(c);
	kp_cgcpu_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mountinfo__v1_comounted__finds_cpu_not_cpuacct_or_cpuset),
		cmocka_unit_test(mountinfo__v2_only__finds_cgroup2),
		cmocka_unit_test(mountinfo__escaped_mount_point_and_no_cgroups),
		cmocka_unit_test(task_cgroup__v1_and_v2_lines),
		cmocka_unit_test(cpu_stat__v1_ns_v2_usec_and_missing_key),
		cmocka_unit_test(limited__is_delay_share_of_throttled_capped_by_delay),
		cmocka_unit_test(table__v1_fixture__first_interval_baseline_then_shares),
		cmocka_unit_test(table__v2_fixture__no_cpu_controller_is_no_source),
		cmocka_unit_test_setup_teardown(
			table__shared_cgroup__throttled_time_split_by_run_delay,
			tree_setup, tree_teardown),
	};

	return cmocka_run_group_tests(tests, find_fixtures, NULL);
}
