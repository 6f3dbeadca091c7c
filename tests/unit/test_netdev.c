// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for user/probes/netdev.c: tap devices from a fake /sys
 * (tests/fixtures/sys/class/net), /proc/net/dev parsing, sampling and duty
 * cycle arithmetic. (Who holds a tap: test_vmproc, the resolver's.)
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
#include <string.h>
#include <unistd.h>
#include "user/probes/netdev.h"
#include "tests/unit/fixture.h"

#define FIXTURE_REL "tests/fixtures"

static char sys[PATH_MAX + 8];

/* The fixture root: from the repository root, else from this binary. */
static int find_fixtures(void **state)
{
	char root[PATH_MAX];

	(void)state;
	if (kp_fixture_dir(root, sizeof(root), FIXTURE_REL, "/sys/class/net/kptap0/tun_flags"))
		return -1;
	snprintf(sys, sizeof(sys), "%s/sys", root);
	return 0;
}

static void tun_flags__hex_with_newline__parses(void **state)
{
	unsigned int f;

	assert_int_equal(kp_parse_tun_flags("0x1002\n", &f), 0);
	assert_int_equal(f, 0x1002);
	assert_int_equal(kp_parse_tun_flags("0x5001", &f), 0);
	assert_int_equal(f, 0x5001);
}

static void tun_flags__garbage__is_einval(void **state)
{
	unsigned int f;

	assert_int_equal(kp_parse_tun_flags("", &f), -EINVAL);
	assert_int_equal(kp_parse_tun_flags("zz\n", &f), -EINVAL);
	assert_int_equal(kp_parse_tun_flags("0x1002 x", &f), -EINVAL);
	assert_int_equal(kp_parse_tun_flags("0x100000", &f), -EINVAL);
}

static const struct kp_tap *find_tap(const struct kp_tap *t, int n,
				     const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(t[i].name, name))
			return &t[i];
	return NULL;
}

static void sys_taps__fixture__lists_taps_only(void **state)
{
	struct kp_tap taps[8];
	int n = kp_sys_taps(sys, taps, 8);

	/* kptap0 and vnet9 are taps; tun0 is IFF_TUN, eth0 no tun device,
	 * badtap has unreadable flags */
	assert_int_equal(n, 2);
	assert_non_null(find_tap(taps, n, "kptap0"));
	assert_int_equal(find_tap(taps, n, "kptap0")->ifindex, 9);
	assert_non_null(find_tap(taps, n, "vnet9"));
	assert_int_equal(find_tap(taps, n, "vnet9")->ifindex, 70001);
}

static void sys_taps__max__is_respected(void **state)
{
	struct kp_tap taps[1];

	assert_int_equal(kp_sys_taps(sys, taps, 1), 1);
	assert_int_equal(kp_sys_taps("/nonexistent", taps, 1), -ENOENT);
}

static const char proc_net_dev[] =
	"Inter-|   Receive                                                |  Transmit\n"
	" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
	"    lo: 67525066    4268    0    0    0     0          0         0 67525066    4268    0    0    0     0       0          0\n"
	"kptap0:    9000     150    0  150    0     0          0         0    12960     216    0   84    0     0       0          0\n"
	"vnet12345678901: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n";

static void proc_net_dev__two_headers_then_devices(void **state)
{
	struct kp_netdev_stats st[4];

	assert_int_equal(kp_parse_proc_net_dev(proc_net_dev, st, 4), 3);
	assert_string_equal(st[0].name, "lo");
	assert_int_equal(st[0].rx_packets, 4268);
	assert_string_equal(st[1].name, "kptap0");
	assert_int_equal(st[1].rx_packets, 150);
	assert_int_equal(st[1].rx_bytes, 9000);
	assert_int_equal(st[1].tx_packets, 216);
	assert_int_equal(st[1].tx_bytes, 12960);
	/* a 15-character name runs into its colon */
	assert_string_equal(st[2].name, "vnet12345678901");
	assert_int_equal(st[2].rx_bytes, 1);
	assert_int_equal(st[2].tx_packets, 10);
	assert_int_equal(kp_parse_proc_net_dev(proc_net_dev, st, 1), 1);
}

static void proc_net_dev__malformed_line__is_einval(void **state)
{
	struct kp_netdev_stats st[2];

	assert_int_equal(kp_parse_proc_net_dev("  eth0: 1 2 3\n", st, 2),
			 -EINVAL);
	assert_int_equal(kp_parse_proc_net_dev("noname 1 2 3\n", st, 2),
			 -EINVAL);
	assert_int_equal(kp_parse_proc_net_dev("", st, 2), 0);
}

static void trace_duty__rates__full_until_ok_then_proportional(void **state)
{
	assert_true(kp_trace_duty(0, 20000, 0.05) == 1.0);
	assert_true(kp_trace_duty(20000, 20000, 0.05) == 1.0);
	assert_true(kp_trace_duty(200000, 20000, 0.05) == 0.1);
	assert_true(kp_trace_duty(1e9, 20000, 0.05) == 0.05);
}

static void sample_shift__rates__smallest_shift_under_target(void **state)
{
	assert_int_equal(kp_sample_shift(0, 2000, 16), 0);
	assert_int_equal(kp_sample_shift(2000, 2000, 16), 0);
	assert_int_equal(kp_sample_shift(2001, 2000, 16), 1);
	assert_int_equal(kp_sample_shift(1000000, 2000, 16), 9); /* 1953/s */
	assert_int_equal(kp_sample_shift(1e12, 2000, 16), 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tun_flags__hex_with_newline__parses),
		cmocka_unit_test(tun_flags__garbage__is_einval),
		cmocka_unit_test(sys_taps__fixture__lists_taps_only),
		cmocka_unit_test(sys_taps__max__is_respected),
		cmocka_unit_test(proc_net_dev__two_headers_then_devices),
		cmocka_unit_test(proc_net_dev__malformed_line__is_einval),
		cmocka_unit_test(trace_duty__rates__full_until_ok_then_proportional),
		cmocka_unit_test(sample_shift__rates__smallest_shift_under_target),
	};

	return cmocka_run_group_tests(tests, find_fixtures, NULL);
}
