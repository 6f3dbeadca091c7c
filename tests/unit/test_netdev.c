// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for user/probes/netdev.c: tap devices from a fake /sys
 * (tests/fixtures/sys/class/net) and who holds them, from the fake /proc
 * (tests/fixtures/proc: process 6100 holds kptap0 twice and vnet7).
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

#define FIXTURE_REL "tests/fixtures"

static char sys[PATH_MAX + 8], proc[PATH_MAX + 8];

/* The fixture root: from the repository root, else from this binary. */
static int find_fixtures(void **state)
{
	char exe[PATH_MAX], root[PATH_MAX];
	ssize_t n;

	snprintf(root, sizeof(root), "%s", FIXTURE_REL);
	if (access(FIXTURE_REL "/sys/class/net/kptap0/tun_flags", R_OK)) {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n <= 0)
			return -1;
		exe[n] = '\0';
		snprintf(root, sizeof(root), "%s/../../" FIXTURE_REL,
			 dirname(exe));
	}
	snprintf(sys, sizeof(sys), "%s/sys", root);
	snprintf(proc, sizeof(proc), "%s/proc", root);
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

struct seen {
	uint32_t pid[8];
	char name[8][IF_NAMESIZE];
	int n;
};

static int collect(uint32_t pid, const char *ifname, void *arg)
{
	struct seen *s = arg;

	if (s->n == 8)
		return -ENOSPC;
	s->pid[s->n] = pid;
	snprintf(s->name[s->n], IF_NAMESIZE, "%s", ifname);
	s->n++;
	return 0;
}

static void owners__all_processes__finds_each_tap_once(void **state)
{
	struct seen s = { 0 };
	int i;

	assert_int_equal(kp_proc_tap_owners(proc, NULL, 0, collect, &s), 0);
	assert_int_equal(s.n, 2); /* kptap0's two queues count once */
	for (i = 0; i < s.n; i++)
		assert_int_equal(s.pid[i], 6100);
	assert_true((!strcmp(s.name[0], "kptap0") && !strcmp(s.name[1], "vnet7")) ||
		    (!strcmp(s.name[1], "kptap0") && !strcmp(s.name[0], "vnet7")));
}

static void owners__pid_list__scans_only_those(void **state)
{
	uint32_t pids[] = { 4242, 999999 };
	uint32_t owner[] = { 6100 };
	struct seen s = { 0 };

	assert_int_equal(kp_proc_tap_owners(proc, pids, 2, collect, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(kp_proc_tap_owners(proc, owner, 1, collect, &s), 0);
	assert_int_equal(s.n, 2);
}

static int stop_at_first(uint32_t pid, const char *ifname, void *arg)
{
	(*(int *)arg)++;
	return 7;
}

static void owners__callback_error__stops_the_walk(void **state)
{
	int calls = 0;

	assert_int_equal(kp_proc_tap_owners(proc, NULL, 0, stop_at_first,
					    &calls), 7);
	assert_int_equal(calls, 1);
	assert_int_equal(kp_proc_tap_owners("/nonexistent", NULL, 0,
					    stop_at_first, &calls), -ENOENT);
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
		cmocka_unit_test(owners__all_processes__finds_each_tap_once),
		cmocka_unit_test(owners__pid_list__scans_only_those),
		cmocka_unit_test(owners__callback_error__stops_the_walk),
		cmocka_unit_test(proc_net_dev__two_headers_then_devices),
		cmocka_unit_test(proc_net_dev__malformed_line__is_einval),
		cmocka_unit_test(trace_duty__rates__full_until_ok_then_proportional),
		cmocka_unit_test(sample_shift__rates__smallest_shift_under_target),
	};

	return cmocka_run_group_tests(tests, find_fixtures, NULL);
}
