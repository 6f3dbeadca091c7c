// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for user/identity/vmproc.c: QEMU's arguments, libvirt's cgroups, stat
 * start times, tap fds and thread roles, against tests/fixtures/proc and
 * tests/fixtures/run (a fake /run/libvirt/qemu).
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
#include <sys/stat.h>
#include "user/identity/vmproc.h"

/* bpf/vcpu_name.bpf.h for the host: comm comes from fake_comm */
static const char *fake_comm;
static long bpf_get_current_comm(char *buf, unsigned int size)
{
	memset(buf, 0, size); /* the kernel pads comm with zeros too */
	snprintf(buf, size, "%s", fake_comm);
	return 0;
}
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#include "bpf/vcpu_name.bpf.h"
#include "tests/unit/fixture.h"

#define FIXTURE_REL "tests/fixtures"

static char fixtures[PATH_MAX], proc[PATH_MAX + 8], run[PATH_MAX + 32];

/* The fixture root: from the repository root, else from this binary. */
static int find_fixtures(void **state)
{
	(void)state;
	if (kp_fixture_dir(fixtures, sizeof(fixtures), FIXTURE_REL, "/proc/6100/stat"))
		return -1;
	snprintf(proc, sizeof(proc), "%s/proc", fixtures);
	snprintf(run, sizeof(run), "%s/run/libvirt/qemu", fixtures);
	return 0;
}

static int parse_args(const char *const *argv, size_t argc,
		      struct kp_qemu_args *a)
{
	char buf[4096];
	size_t len = 0, i, n;

	for (i = 0; i < argc; i++) {
		n = strlen(argv[i]) + 1;
		assert_true(len + n <= sizeof(buf));
		memcpy(buf + len, argv[i], n);
		len += n;
	}
	return kp_parse_qemu_args(buf, len, a);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__ }), \
	(sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(char *))

/* ---- /proc/<pid>/stat ---- */

static void parse_stat__comm_with_spaces_and_parens__ends_at_last_paren(void **state)
{
	struct kp_proc_stat st;

	assert_int_equal(kp_parse_proc_stat(
		"77 (a) b) (c) R 1 77 77 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 3 0 "
		"4242 0 0\n", &st), 0);
	assert_string_equal(st.comm, "a) b) (c");
	assert_int_equal(st.state, 'R');
	assert_int_equal(st.ppid, 1);
	assert_int_equal(st.num_threads, 3);
	assert_int_equal(st.start_time, 4242);
}

static void parse_stat__truncated_or_garbage__is_rejected(void **state)
{
	struct kp_proc_stat st;

	assert_int_equal(kp_parse_proc_stat("", &st), -EINVAL);
	assert_int_equal(kp_parse_proc_stat("1 (x", &st), -EINVAL);
	assert_int_equal(kp_parse_proc_stat("1 (x) S 1 2 3", &st), -EINVAL);
	assert_int_equal(kp_parse_proc_stat("1 (x)S 1 2 3", &st), -EINVAL);
	assert_int_equal(kp_parse_proc_stat(
		"1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 abc 0\n", &st),
		-EINVAL);
}

static void read_stat__fixtures__give_start_time_and_kthread_flag(void **state)
{
	struct kp_proc_stat st;

	assert_int_equal(kp_proc_read_stat(proc, 6100, &st), 0);
	assert_string_equal(st.comm, "qemu-system-x86");
	assert_int_equal(st.start_time, 120006);
	assert_int_equal(st.num_threads, 8);
	assert_false(st.flags & KP_PF_KTHREAD);
	/* the same pid number reused: another start time */
	assert_int_equal(kp_proc_read_stat(proc, 6200, &st), 0);
	assert_string_equal(st.comm, "a) b) (c");
	assert_int_equal(st.start_time, 987654321);
	assert_int_equal(kp_proc_read_stat(proc, 6400, &st), 0);
	assert_true(st.flags & KP_PF_KTHREAD);
	assert_int_equal(kp_proc_read_stat(proc, 99999, &st), -ENOENT);
}

/* ---- QEMU's command line ---- */

static void qemu_args__libvirt_style__give_name_and_lowercase_uuid(void **state)
{
	struct kp_qemu_args a;

	assert_int_equal(parse_args(ARGS("qemu-system-x86_64", "-name",
					 "guest=web-1,debug-threads=on", "-S",
					 "-uuid",
					 "C0BA2922-CE9C-468A-82E4-113EAAE6C9FA"),
				    &a), 0);
	assert_string_equal(a.name, "web-1");
	assert_string_equal(a.uuid, "c0ba2922-ce9c-468a-82e4-113eaae6c9fa");
}

static void qemu_args__doubled_commas_quotes_utf8__round_trip(void **state)
{
	struct kp_qemu_args a;

	assert_int_equal(parse_args(ARGS("qemu", "-name",
					 "guest=kp,, \"test\" é,,,debug-threads=on"),
				    &a), 0);
	assert_string_equal(a.name, "kp, \"test\" é,");
	assert_string_equal(a.uuid, "");
}

static void qemu_args__implied_key_and_double_dash__are_understood(void **state)
{
	struct kp_qemu_args a;

	assert_int_equal(parse_args(ARGS("qemu", "--name",
					 "legacy,process=qemu:legacy"), &a), 0);
	assert_string_equal(a.name, "legacy");
	assert_int_equal(parse_args(ARGS("qemu", "-name",
					 "process=p,guest=second"), &a), 0);
	assert_string_equal(a.name, "second");
	assert_int_equal(parse_args(ARGS("qemu", "-name", "process=p"), &a),
			 0);
	assert_string_equal(a.name, "");
}

static void qemu_args__other_options__are_skipped(void **state)
{
	struct kp_qemu_args a;

	assert_int_equal(parse_args(ARGS("qemu", "-append", "console",
					 "-enable-kvm", "-name", "guest=ok"),
				    &a), 0);
	assert_string_equal(a.name, "ok");
	/* an option at the very end has no value */
	assert_int_equal(parse_args(ARGS("qemu", "-name"), &a), 0);
	assert_string_equal(a.name, "");
}

static void qemu_args__bad_uuid_or_empty_name__are_rejected(void **state)
{
	struct kp_qemu_args a;

	assert_int_equal(parse_args(ARGS("qemu", "-uuid", "not-a-uuid"), &a),
			 -EINVAL);
	assert_int_equal(parse_args(ARGS("qemu", "-uuid",
					 "c0ba2922ce9c468a82e4113eaae6c9fa"),
				    &a), -EINVAL);
	assert_int_equal(parse_args(ARGS("qemu", "-name", "guest=,x=y"), &a),
			 -EINVAL);
}

static void qemu_args__name_too_long__is_not_trusted(void **state)
{
	char name[KP_DOM_NAME_MAX + 16] = "guest=";
	struct kp_qemu_args a;

	memset(name + 6, 'x', sizeof(name) - 7);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(parse_args(ARGS("qemu", "-name", name), &a),
			 -ENAMETOOLONG);
	assert_string_equal(a.name, "");
}

static void read_qemu_args__fixture__gives_name_with_comma(void **state)
{
	struct kp_qemu_args a;

	assert_int_equal(kp_proc_read_qemu_args(proc, 6100, &a), 0);
	assert_string_equal(a.name, "kp, \"test\" é");
	assert_string_equal(a.uuid, "c0ba2922-ce9c-468a-82e4-113eaae6c9fa");
	assert_int_equal(kp_proc_read_qemu_args(proc, 6200, &a), 0);
	assert_string_equal(a.name, "");
	assert_string_equal(a.uuid, "");
}

/* ---- cgroups ---- */

static void machine_cgroup__systemd_scope__is_unescaped(void **state)
{
	struct kp_machine_scope m;

	assert_int_equal(kp_parse_machine_cgroup(
		"0::/machine.slice/machine-qemu\\x2d12\\x2dweb\\x2d1.scope/libvirt/vcpu0\n",
		&m), 0);
	assert_int_equal(m.dom_id, 12);
	assert_string_equal(m.name, "web-1");
}

static void machine_cgroup__libvirt_own_cgroups__are_found(void **state)
{
	struct kp_machine_scope m;

	assert_int_equal(kp_proc_read_machine_cgroup(proc, 6300, &m), 0);
	assert_int_equal(m.dom_id, 3);
	assert_string_equal(m.name, "legacyvm");
	assert_int_equal(kp_proc_read_machine_cgroup(proc, 6100, &m), 0);
	assert_int_equal(m.dom_id, 7);
	assert_string_equal(m.name, "kptest");
}

static void machine_cgroup__other_cgroups__are_not_machines(void **state)
{
	struct kp_machine_scope m;

	assert_int_equal(kp_proc_read_machine_cgroup(proc, 6200, &m), -ENOENT);
	assert_int_equal(m.dom_id, -1);
	assert_int_equal(kp_parse_machine_cgroup("", &m), -ENOENT);
	assert_int_equal(kp_parse_machine_cgroup(
		"0::/machine.slice/machine-lxc\\x2d1\\x2dc.scope\n", &m),
		-ENOENT);
	assert_int_equal(kp_parse_machine_cgroup(
		"0::/machine.slice/machine-qemu\\x2dx\\x2dc.scope\n", &m),
		-ENOENT);
	assert_int_equal(kp_parse_machine_cgroup("garbage without colons\n",
						 &m), -ENOENT);
}

/* ---- tap devices ---- */

static void fdinfo_iff__tun_fd__gives_interface(void **state)
{
	char ifname[IF_NAMESIZE];

	assert_int_equal(kp_parse_fdinfo_iff("pos:\t0\nflags:\t0104002\n"
					     "iff:\tvnet0\n", ifname,
					     sizeof(ifname)), 0);
	assert_string_equal(ifname, "vnet0");
	assert_int_equal(kp_parse_fdinfo_iff("pos:\t0\nflags:\t02\n", ifname,
					     sizeof(ifname)), -ENOENT);
	assert_int_equal(kp_parse_fdinfo_iff("iff:\tthis-name-is-too-long\n",
					     ifname, sizeof(ifname)),
			 -EINVAL);
}

static void read_taps__fixture__dedups_queues_and_skips_others(void **state)
{
	char names[8][IF_NAMESIZE];
	int n, i, kptap = 0, vnet = 0;

	n = kp_proc_read_taps(proc, 6100, names, 8);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++) {
		kptap += !strcmp(names[i], "kptap0");
		vnet += !strcmp(names[i], "vnet7");
	}
	assert_int_equal(kptap, 1);
	assert_int_equal(vnet, 1);
	assert_int_equal(kp_proc_read_taps(proc, 6200, names, 8), -ENOENT);
}

static void parse_kube_cgroup__pod_paths__both_drivers(void **state)
{
	assert_true(kp_parse_kube_cgroup(
		"0::/kubepods.slice/kubepods-burstable.slice/"
		"kubepods-burstable-pod1a2b.slice/cri-containerd-ab12.scope\n"));
	assert_true(kp_parse_kube_cgroup(
		"12:pids:/kubepods/burstable/pod1a2b/ab12\n0::/\n"));
	assert_true(kp_parse_kube_cgroup("0::/kubepods\n"));
	assert_true(kp_parse_kube_cgroup("0::/kubepods-besteffort.slice/x\n"));
	assert_false(kp_parse_kube_cgroup(
		"0::/machine.slice/machine-qemu\\x2d7\\x2dkptest.scope\n"));
	assert_false(kp_parse_kube_cgroup("0::/user.slice/kubepodsfoo\n"));
	assert_false(kp_parse_kube_cgroup("0::/user.slice/notkubepods/x\n"));
	assert_false(kp_parse_kube_cgroup("/kubepods without colons\n"));
	assert_false(kp_parse_kube_cgroup(""));
}

static void parse_snmp6_ifindex__first_line__gives_it(void **state)
{
	unsigned int i = 0;

	assert_int_equal(kp_parse_snmp6_ifindex("ifIndex                 \t42\n"
						"Ip6InReceives\t0\n", &i), 0);
	assert_int_equal(i, 42);
	assert_int_equal(kp_parse_snmp6_ifindex("Ip6InReceives\t0\n", &i),
			 -EINVAL);
	assert_int_equal(kp_parse_snmp6_ifindex("ifIndexes\t3\n", &i), -EINVAL);
	assert_int_equal(kp_parse_snmp6_ifindex("ifIndex\t0\n", &i), -EINVAL);
	assert_int_equal(kp_parse_snmp6_ifindex("ifIndex\tx\n", &i), -EINVAL);
}

static void parse_igmp_ifindex__device_lines__match_the_whole_name(void **state)
{
	static const char buf[] =
		"Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n"
		"1\tlo        :     1      V3\n"
		"\t\t\t\t010000E0     1 0:00000000\t\t0\n"
		"5\ttap01     :     1      V3\n"
		"6\ttap0      :     1      V3\n"
		"8\ta-sixteen-name:     1      V3\n";
	unsigned int i = 0;

	assert_int_equal(kp_parse_igmp_ifindex(buf, "tap0", &i), 0);
	assert_int_equal(i, 6);
	assert_int_equal(kp_parse_igmp_ifindex(buf, "tap01", &i), 0);
	assert_int_equal(i, 5);
	assert_int_equal(kp_parse_igmp_ifindex(buf, "a-sixteen-name", &i), 0);
	assert_int_equal(i, 8);
	assert_int_equal(kp_parse_igmp_ifindex(buf, "tap", &i), -ENOENT);
	assert_int_equal(kp_parse_igmp_ifindex("7 tap0 : 1\n", "tap0", &i),
			 -EINVAL);
}

static void proc_ifindex__fixture__snmp6_then_igmp(void **state)
{
	/* vnet7 has IPv6 (dev_snmp6), kptap0 only IPv4 (igmp) */
	assert_int_equal(kp_proc_ifindex(proc, 6100, "vnet7"), 7);
	assert_int_equal(kp_proc_ifindex(proc, 6100, "kptap0"), 9);
	assert_int_equal(kp_proc_ifindex(proc, 6100, "verylongname"), 12);
	assert_int_equal(kp_proc_ifindex(proc, 6100, "nope"), 0);
	assert_int_equal(kp_proc_ifindex(proc, 6100, "../igmp"), 0);
	assert_int_equal(kp_proc_ifindex(proc, 6200, "vnet7"), 0);
	assert_int_equal(kp_proc_ifindex(proc, 99999, "vnet7"), 0);
}

static void proc_netns__real_and_fixture(void **state)
{
	struct stat st;

	assert_int_equal(stat("/proc/self/ns/net", &st), 0);
	assert_int_equal(kp_proc_netns("/proc", 0), (uint32_t)st.st_ino);
	assert_int_equal(kp_proc_netns("/proc", getpid()), (uint32_t)st.st_ino);
	assert_int_not_equal(kp_proc_netns(proc, 6100), 0);
	assert_int_equal(kp_proc_netns(proc, 6200), 0);
}

/* The BPF parser (exits, sched) reads names as kp_parse_vcpu_name does. */
static void bpf_comm_vcpu__agrees_with_the_userspace_parser(void **state)
{
	static const char *const names[] = {
		"CPU 0/KVM", "CPU 1/KVM", "CPU 17/KVM", "CPU 4095/KVM",
		"CPU 65534/KVM", "CPU 65535/KVM", "CPU 99999/KVM",
		"CPU 123456/KVM", "CPU /KVM", "CPU 1/KVMx", "CPU 1/KV",
		"CPU 1", "CPU x/KVM", "cpu 1/KVM", "CPU  1/KVM", "CPU 1/kvm",
		"qemu-system-x86", "IO iothread1", "", "CPU 0012/KVM",
	};
	size_t i;
	int want;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		fake_comm = names[i];
		want = kp_parse_vcpu_name(names[i]);
		if (want == 65535) /* the BPF maps' "unknown" */
			want = -1;
		if (kp_comm_vcpu() != want)
			fail_msg("\"%s\": BPF %d, userspace %d", names[i],
				 kp_comm_vcpu(), want);
	}
	fake_comm = "CPU 3/KVM";
	assert_int_equal(kp_comm_vcpu(), 3);
}

static void kvm_fd_link__vm_and_vcpu__are_kvm(void **state)
{
	assert_true(kp_is_kvm_fd_link("anon_inode:kvm-vm"));
	assert_true(kp_is_kvm_fd_link("anon_inode:kvm-vcpu:0"));
	assert_true(kp_is_kvm_fd_link("anon_inode:kvm-vcpu:17"));
	assert_false(kp_is_kvm_fd_link("/dev/kvm"));
	assert_false(kp_is_kvm_fd_link("anon_inode:kvm-vmx"));
	assert_false(kp_is_kvm_fd_link("anon_inode:[eventfd]"));
	assert_false(kp_is_kvm_fd_link("/dev/net/tun"));
	assert_false(kp_is_kvm_fd_link(""));
}

static void holds_kvm__fixture__only_the_vm_holder(void **state)
{
	assert_int_equal(kp_proc_holds_kvm(proc, 6100), 1);
	/* 4242 has no fd directory, 999999 does not exist */
	assert_int_equal(kp_proc_holds_kvm(proc, 4242), -ENOENT);
	assert_int_equal(kp_proc_holds_kvm(proc, 999999), -ENOENT);
	/* this test holds no KVM fd */
	assert_int_equal(kp_proc_holds_kvm("/proc", getpid()), 0);
}

static void read_pidfiles__fixture__gives_the_valid_pids(void **state)
{
	uint32_t pids[8];
	int n, i, a = 0, b = 0;

	n = kp_read_pidfiles(run, pids, 8);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++) {
		a += pids[i] == 6100;
		b += pids[i] == 6300;
	}
	assert_int_equal(a + b, 2);
	assert_int_equal(kp_read_pidfiles("/nonexistent-kp", pids, 8),
			 -ENOENT);
}

/* ---- threads ---- */

static void classify_thread__qemu_names__give_roles(void **state)
{
	static const struct {
		uint32_t tid;
		const char *comm;
		enum kp_thread_kind kind;
		int index;
	} cases[] = {
		{ 100, "qemu-system-x86", KP_THREAD_MAIN, -1 },
		{ 101, "CPU 0/KVM", KP_THREAD_VCPU, 0 },
		{ 102, "CPU 15/KVM", KP_THREAD_VCPU, 15 },
		{ 103, "IO iothread2", KP_THREAD_IOTHREAD, 2 },
		{ 104, "IO mon_iothread", KP_THREAD_IOTHREAD, -1 },
		{ 105, "vhost-100", KP_THREAD_VHOST, -1 },
		{ 106, "kvm-nx-lpage-re", KP_THREAD_KVM, -1 },
		{ 107, "worker", KP_THREAD_EMULATOR, -1 },
		{ 108, "CPU 1/KVMX", KP_THREAD_EMULATOR, -1 },
		{ 109, "CPU 99999/KVM", KP_THREAD_EMULATOR, -1 },
		{ 110, "vhost-", KP_THREAD_EMULATOR, -1 },
		{ 111, "qemu-system-x86", KP_THREAD_EMULATOR, -1 },
	};
	size_t i;
	int index;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum kp_thread_kind k = kp_classify_thread(100, cases[i].tid,
							   cases[i].comm,
							   &index);

		if (k != cases[i].kind || index != cases[i].index)
			fail_msg("'%s': %s %d, want %s %d", cases[i].comm,
				 kp_thread_kind_name(k), index,
				 kp_thread_kind_name(cases[i].kind),
				 cases[i].index);
	}
	assert_string_equal(kp_thread_kind_name(KP_THREAD__COUNT), "?");
}

static void vhost_comm__owner_pid__is_parsed(void **state)
{
	uint32_t owner = 0;

	assert_int_equal(kp_parse_vhost_comm("vhost-6100", &owner), 0);
	assert_int_equal(owner, 6100);
	assert_int_equal(kp_parse_vhost_comm("vhost-0", &owner), -EINVAL);
	assert_int_equal(kp_parse_vhost_comm("vhost-12a", &owner), -EINVAL);
	assert_int_equal(kp_parse_vhost_comm("vhostx-1", &owner), -EINVAL);
}

static void uuid_valid__forms(void **state)
{
	assert_true(kp_uuid_valid("c0ba2922-ce9c-468a-82e4-113eaae6c9fa"));
	assert_true(kp_uuid_valid("C0BA2922-CE9C-468A-82E4-113EAAE6C9FA"));
	assert_false(kp_uuid_valid("c0ba2922-ce9c-468a-82e4-113eaae6c9f"));
	assert_false(kp_uuid_valid("c0ba2922-ce9c-468a-82e4-113eaae6c9faa"));
	assert_false(kp_uuid_valid("c0ba2922xce9c-468a-82e4-113eaae6c9fa"));
	assert_false(kp_uuid_valid("g0ba2922-ce9c-468a-82e4-113eaae6c9fa"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_stat__comm_with_spaces_and_parens__ends_at_last_paren),
		cmocka_unit_test(parse_stat__truncated_or_garbage__is_rejected),
		cmocka_unit_test(read_stat__fixtures__give_start_time_and_kthread_flag),
		cmocka_unit_test(qemu_args__libvirt_style__give_name_and_lowercase_uuid),
		cmocka_unit_test(qemu_args__doubled_commas_quotes_utf8__round_trip),
		cmocka_unit_test(qemu_args__implied_key_and_double_dash__are_understood),
		cmocka_unit_test(qemu_args__other_options__are_skipped),
		cmocka_unit_test(qemu_args__bad_uuid_or_empty_name__are_rejected),
		cmocka_unit_test(qemu_args__name_too_long__is_not_trusted),
		cmocka_unit_test(read_qemu_args__fixture__gives_name_with_comma),
		cmocka_unit_test(machine_cgroup__systemd_scope__is_unescaped),
		cmocka_unit_test(machine_cgroup__libvirt_own_cgroups__are_found),
		cmocka_unit_test(machine_cgroup__other_cgroups__are_not_machines),
		cmocka_unit_test(fdinfo_iff__tun_fd__gives_interface),
		cmocka_unit_test(read_taps__fixture__dedups_queues_and_skips_others),
		cmocka_unit_test(parse_kube_cgroup__pod_paths__both_drivers),
		cmocka_unit_test(parse_snmp6_ifindex__first_line__gives_it),
		cmocka_unit_test(parse_igmp_ifindex__device_lines__match_the_whole_name),
		cmocka_unit_test(proc_ifindex__fixture__snmp6_then_igmp),
		cmocka_unit_test(proc_netns__real_and_fixture),
		cmocka_unit_test(read_pidfiles__fixture__gives_the_valid_pids),
		cmocka_unit_test(classify_thread__qemu_names__give_roles),
		cmocka_unit_test(vhost_comm__owner_pid__is_parsed),
		cmocka_unit_test(uuid_valid__forms),
		cmocka_unit_test(bpf_comm_vcpu__agrees_with_the_userspace_parser),
		cmocka_unit_test(kvm_fd_link__vm_and_vcpu__are_kvm),
		cmocka_unit_test(holds_kvm__fixture__only_the_vm_holder),
	};

	return cmocka_run_group_tests(tests, find_fixtures, NULL);
}
