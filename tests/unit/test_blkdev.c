// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for user/probes/blkdev.c: request operation names, the kernel's
 * dev_t and device names from a fake /sys (tests/fixtures/sys).
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
#include <unistd.h>
#include "user/probes/blkdev.h"
#include "tests/unit/fixture.h"

#define FIXTURE_REL "tests/fixtures/sys"

static char sys[PATH_MAX];

/* The fixture root: from the repository root, else from this binary. */
static int find_fixtures(void **state)
{
	(void)state;
	return kp_fixture_dir(sys, sizeof(sys), FIXTURE_REL, "/dev/block/7:3/uevent");
}

static void op_name__stable_codes__map_to_four_ops(void **state)
{
	assert_string_equal(kp_block_op_name(0), "read");
	assert_string_equal(kp_block_op_name(1), "write");
	assert_string_equal(kp_block_op_name(2), "flush");
	assert_string_equal(kp_block_op_name(3), "discard");
	assert_string_equal(kp_block_op_name(5), "discard"); /* SECURE_ERASE */
	assert_string_equal(kp_block_op_name(9), "write");   /* WRITE_ZEROES */
}

static void op_name__zone_and_driver_ops__are_other(void **state)
{
	assert_string_equal(kp_block_op_name(7), "other");  /* ZONE_APPEND */
	assert_string_equal(kp_block_op_name(17), "other"); /* ZONE_RESET */
	assert_string_equal(kp_block_op_name(34), "other"); /* DRV_IN */
	assert_string_equal(kp_block_op_name(0xff), "other");
}

static void kdev__major_minor__split_at_bit_20(void **state)
{
	uint32_t kdev = 259u << 20 | 65537u; /* nvme-style big minor */

	assert_int_equal(kp_kdev_major(kdev), 259);
	assert_int_equal(kp_kdev_minor(kdev), 65537);
	assert_int_equal(kp_kdev_major(7u << 20), 7);
	assert_int_equal(kp_kdev_minor(7u << 20), 0);
}

static void uevent__devname_anywhere__is_found(void **state)
{
	char name[32];

	assert_int_equal(kp_parse_uevent_devname("MAJOR=7\nMINOR=0\nDEVNAME=loop0\nDEVTYPE=disk\n",
						 name, sizeof(name)), 0);
	assert_string_equal(name, "loop0");
	assert_int_equal(kp_parse_uevent_devname("DEVNAME=dm-1", name,
						 sizeof(name)), 0);
	assert_string_equal(name, "dm-1");
}

static void uevent__missing_empty_or_long__is_an_error(void **state)
{
	char name[8];

	assert_int_equal(kp_parse_uevent_devname("MAJOR=7\n", name,
						 sizeof(name)), -ENOENT);
	assert_int_equal(kp_parse_uevent_devname("DEVNAME=\n", name,
						 sizeof(name)), -EINVAL);
	assert_int_equal(kp_parse_uevent_devname("DEVNAME=nvme0n1p12\n", name,
						 sizeof(name)), -EINVAL);
	/* DEVNAME must start a line */
	assert_int_equal(kp_parse_uevent_devname("XDEVNAME=a\n", name,
						 sizeof(name)), -ENOENT);
}

static void sys_name__fixture__reads_disks_and_partitions(void **state)
{
	char name[32];

	assert_int_equal(kp_sys_blkdev_name(sys, 7, 3, name, sizeof(name)), 0);
	assert_string_equal(name, "loop3");
	assert_int_equal(kp_sys_blkdev_name(sys, 8, 2, name, sizeof(name)), 0);
	assert_string_equal(name, "sda2");
	assert_int_equal(kp_sys_blkdev_name(sys, 8, 3, name, sizeof(name)),
			 -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(op_name__stable_codes__map_to_four_ops),
		cmocka_unit_test(op_name__zone_and_driver_ops__are_other),
		cmocka_unit_test(kdev__major_minor__split_at_bit_20),
		cmocka_unit_test(uevent__devname_anywhere__is_found),
		cmocka_unit_test(uevent__missing_empty_or_long__is_an_error),
		cmocka_unit_test(sys_name__fixture__reads_disks_and_partitions),
	};

	return cmocka_run_group_tests(tests, find_fixtures, NULL);
}
