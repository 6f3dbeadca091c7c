// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for user/identity/resolve.c: the identity table the resolver
 * builds from a /proc tree, without libvirt, against tests/fixtures/proc
 * and tests/fixtures/run (tests/fixtures/README.md says what each process
 * is): a VMM is a process holding a KVM VM or vCPU fd (6100), one -p
 * names, or with -d libvirt's QEMU (6300 holds no KVM fd: only -p or -d
 * make it one); VMMs named from their arguments and machine cgroups,
 * thread roles, the vhost kernel thread of a VM, tap devices; then what
 * kp_resolver_apply makes of an interval with that table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include "user/identity/resolve.h"

#define PROC "tests/fixtures/proc"
#define KUBE_PROC "tests/fixtures/kube/proc"
#define RUN "tests/fixtures/run/libvirt/qemu"

static struct kp_resolver *r;
static struct kp_idtable *t;
static struct kp_interval iv;

static int teardown(void **state)
{
	kp_idtable_put(t);
	t = NULL;
	kp_resolver_free(r);
	r = NULL;
	kp_interval_clear(&iv);
	return 0;
}

/* Start a resolver on the fixtures; wait for its first table of VMMs. */
static void start_in(const char *proc, const char *const *domains,
		     size_t ndomains, const uint32_t *pids, size_t npids)
{
	struct kp_resolver_config cfg = {
		.proc_root = proc, .libvirt_run_dir = RUN,
		.domains = domains, .ndomains = ndomains,
		.pids = pids, .npids = npids,
	};
	struct timespec ms = { .tv_nsec = 10000000 };
	int i;

	r = kp_resolver_new(&cfg);
	assert_non_null(r);
	assert_int_equal(kp_resolver_start(r), 0);
	for (i = 0; i < 500; i++) {
		t = kp_resolver_table(r);
		if (kp_idtable_count(t))
			return;
		kp_idtable_put(t);
		t = NULL;
		nanosleep(&ms, NULL);
	}
	fail_msg("no identity table from %s after 5 s", proc);
}

static void start_with(const char *const *domains, size_t ndomains,
		       const uint32_t *pids, size_t npids)
{
	start_in(PROC, domains, ndomains, pids, npids);
}

static void start(const char *const *domains, size_t ndomains)
{
	start_with(domains, ndomains, NULL, 0);
}

static const struct kp_ident *ident(uint32_t pid)
{
	const struct kp_ident *id = kp_idtable_find(t, pid, KP_START_ANY);

	if (!id)
		fail_msg("no identity for pid %u", pid);
	return id;
}

/*
 * Only VMMs are in the table: 6100, which holds a kvm-vm fd; not 6300,
 * libvirt's QEMU (pid file, machine cgroup) without a KVM fd, nor QEMU
 * 4242 without fds, nor 6200, nor the kernel thread 6400.
 */
static void table__fixture_proc__has_only_the_vmm_holding_a_kvm_fd(void **state)
{
	start(NULL, 0);
	assert_int_equal(kp_idtable_count(t), 1);
	assert_null(kp_idtable_find(t, 6300, KP_START_ANY));
	assert_null(kp_idtable_find(t, 4242, KP_START_ANY));
	assert_null(kp_idtable_find(t, 6200, KP_START_ANY));
	assert_null(kp_idtable_find(t, 6400, KP_START_ANY)); /* a kthread */
	assert_int_equal(ident(6100)->start_time, 120006);
	assert_false(ident(6100)->gone);
}

/* -p makes a process a VMM by definition: 6300 joins 6100, not 4242. */
static void table__pid_option__makes_a_vmm_of_a_process_without_kvm_fd(void **state)
{
	static const uint32_t pids[] = { 6300 };

	start_with(NULL, 0, pids, 1);
	assert_int_equal(kp_idtable_count(t), 2);
	assert_non_null(kp_idtable_find(t, 6100, KP_START_ANY));
	assert_non_null(kp_idtable_find(t, 6300, KP_START_ANY));
	assert_null(kp_idtable_find(t, 4242, KP_START_ANY));
}

/* With -d, libvirt's QEMUs are VMMs (6300 by pid file and cgroup). */
static void table__domain_option__makes_vmms_of_libvirts_qemus(void **state)
{
	static const char *const doms[] = { "legacy-vm" };

	start(doms, 1);
	assert_int_equal(kp_idtable_count(t), 2);
	assert_non_null(kp_idtable_find(t, 6100, KP_START_ANY));
	assert_string_equal(ident(6300)->name, "legacy-vm");
	assert_null(kp_idtable_find(t, 4242, KP_START_ANY)); /* not libvirt's */
	assert_null(kp_idtable_find(t, 6200, KP_START_ANY));
}

/* Without libvirt, libvirt's QEMUs are named from -name, -uuid, cgroup. */
static void table__without_libvirt__names_from_arguments_and_cgroup(void **state)
{
	static const uint32_t pids[] = { 6300 };
	const struct kp_ident *id;

	start_with(NULL, 0, pids, 1); /* 6300 holds no KVM fd */
	id = ident(6100); /* systemd machine scope, modern -name guest= */
	assert_int_equal(id->source, KP_ID_PROC);
	assert_string_equal(id->name, "kp, \"test\" \xc3\xa9");
	assert_string_equal(id->uuid, "c0ba2922-ce9c-468a-82e4-113eaae6c9fa");
	assert_int_equal(id->dom_id, 7);
	id = ident(6300); /* cgroup v1 machine, legacy -name NAME,process= */
	assert_int_equal(id->source, KP_ID_PROC);
	assert_string_equal(id->name, "legacy-vm");
	assert_string_equal(id->uuid, "0f4b3b8e-1111-4222-8333-944445555666");
	assert_int_equal(id->dom_id, 3);
	assert_int_equal(id->ndisks, 0); /* disks come from libvirt only */
}

static void table__threads__have_their_roles_and_the_vhost_kthread(void **state)
{
	static const struct {
		uint32_t tid;
		enum kp_thread_kind kind;
		int index;
	} want[] = {
		{ 6100, KP_THREAD_MAIN, -1 },
		{ 6101, KP_THREAD_VCPU, 0 },
		{ 6102, KP_THREAD_VCPU, 1 },
		{ 6103, KP_THREAD_IOTHREAD, 1 },
		{ 6105, KP_THREAD_VHOST, -1 },
		{ 6106, KP_THREAD_KVM, -1 },
		{ 6107, KP_THREAD_EMULATOR, -1 },
		{ 6400, KP_THREAD_VHOST, -1 }, /* kernel thread vhost-6100 */
	};
	const struct kp_ident_thread *th;
	const struct kp_ident *id;
	size_t i;

	start(NULL, 0);
	id = ident(6100);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		th = kp_ident_thread(id, want[i].tid);
		if (!th)
			fail_msg("thread %u of 6100 is not in the table",
				 want[i].tid);
		assert_int_equal(th->kind, want[i].kind);
		if (want[i].index >= 0)
			assert_int_equal(th->index, want[i].index);
	}
	assert_int_equal(id->nthreads, 9); /* 8 tasks and the kthread */
}

/* A -p VMM without task directory or fds: no threads, no taps. */
static void table__vmm_without_task_or_fd__has_no_threads_or_taps(void **state)
{
	static const uint32_t pids[] = { 6300 };

	start_with(NULL, 0, pids, 1);
	assert_int_equal(ident(6300)->nthreads, 0);
	assert_int_equal(ident(6300)->nnics, 0);
}

/* Taps come from the fds the VMM holds (fdinfo iff:), each once. */
static void table__taps__held_by_the_vmm_each_once(void **state)
{
	const struct kp_ident *id;
	bool kptap0 = false, vnet7 = false;
	size_t i;

	start(NULL, 0);
	id = ident(6100);
	assert_int_equal(id->nnics, 2);
	for (i = 0; i < id->nnics; i++) {
		assert_true(id->nics[i].held);
		assert_false(id->nics[i].in_xml);
		kptap0 |= !strcmp(id->nics[i].ifname, "kptap0");
		vnet7 |= !strcmp(id->nics[i].ifname, "vnet7");
	}
	assert_true(kptap0 && vnet7);
}

/*
 * Applied to an interval: the VM gets the table's name and UUID and its
 * comm from /proc, vCPU threads their index from the table.
 */
static void apply__vm_of_the_table__gets_name_comm_and_vcpu_index(void **state)
{
	struct kp_vm_rec *vm;

	start(NULL, 0);
	assert_int_equal(kp_interval_add(&iv, 6100, 6102, -1, KP_M_EXITS,
					 "io", 1, NULL), 0);
	assert_int_equal(kp_interval_add(&iv, 6100, 6101, -1, KP_M_EXITS,
					 "io", 1, NULL), 0);
	assert_int_equal(kp_interval_finish(&iv), 0);
	assert_int_equal(kp_resolver_apply(r, &iv), 0);
	assert_int_equal(iv.nvms, 1);
	vm = &iv.vms[0];
	assert_string_equal(vm->name, "kp, \"test\" \xc3\xa9");
	assert_string_equal(vm->uuid, "c0ba2922-ce9c-468a-82e4-113eaae6c9fa");
	assert_string_equal(vm->comm, "qemu-system-x86");
	assert_int_equal(vm->nvcpus, 2);
	/* indexes known: sorted by index */
	assert_int_equal(vm->vcpus[0].tid, 6101);
	assert_int_equal(vm->vcpus[0].index, 0);
	assert_int_equal(vm->vcpus[1].tid, 6102);
	assert_int_equal(vm->vcpus[1].index, 1);
}

/*
 * A process that holds no KVM fd, has no vCPU samples and that neither
 * -p nor -d names is no VM: its record (6300's disk I/O) is folded into
 * the host record; 6100's stays a VM.
 */
static void apply__process_without_kvm_fd__is_folded_into_the_host(void **state)
{
	size_t i, disk = 0;

	start(NULL, 0);
	assert_int_equal(kp_interval_add(&iv, 6100, 6101, -1, KP_M_EXITS,
					 "io", 1, NULL), 0);
	assert_int_equal(kp_interval_add_dev(&iv, 6300, KP_M_DISK_IOS, "sda",
					     "read", 3, NULL), 0);
	assert_int_equal(kp_interval_finish(&iv), 0);
	assert_int_equal(iv.nvms, 2);
	assert_int_equal(kp_resolver_apply(r, &iv), 0);
	assert_int_equal(iv.nvms, 1);
	assert_int_equal(iv.vms[0].pid, 6100);
	for (i = 0; i < iv.host.n; i++)
		if (iv.host.v[i].metric == KP_M_DISK_IOS)
			disk += iv.host.v[i].value;
	assert_int_equal(disk, 3);
}

/* The same process with -p is a VM and keeps its record. */
static void apply__pid_option__keeps_the_record_of_a_process_without_kvm_fd(void **state)
{
	static const uint32_t pids[] = { 6300 };

	start_with(NULL, 0, pids, 1);
	assert_int_equal(kp_interval_add_dev(&iv, 6300, KP_M_DISK_IOS, "sda",
					     "read", 3, NULL), 0);
	assert_int_equal(kp_interval_finish(&iv), 0);
	assert_int_equal(kp_resolver_apply(r, &iv), 0);
	assert_int_equal(iv.nvms, 1);
	assert_int_equal(iv.vms[0].pid, 6300);
	assert_string_equal(iv.vms[0].name, "legacy-vm");
}

/* -d: the VMs of other domains leave the interval; names or UUIDs. */
static void apply__domain_filter__drops_the_other_vms(void **state)
{
	static const char *const doms[] = {
		"0F4B3B8E-1111-4222-8333-944445555666", /* legacy-vm */
	};

	start(doms, 1);
	assert_int_equal(kp_interval_add(&iv, 6100, 6101, -1, KP_M_EXITS,
					 "io", 1, NULL), 0);
	assert_int_equal(kp_interval_add(&iv, 6300, 6300, -1, KP_M_EXITS,
					 "io", 1, NULL), 0);
	assert_int_equal(kp_interval_finish(&iv), 0);
	assert_int_equal(kp_resolver_apply(r, &iv), 0);
	assert_int_equal(iv.nvms, 1);
	assert_int_equal(iv.vms[0].pid, 6300);
	assert_string_equal(iv.vms[0].name, "legacy-vm");
}

/*
 * KubeVirt: QEMU in a pod's cgroup, named by the pod's libvirt
 * "<namespace>_<vm>", which the host cannot reach; its tap in the pod's
 * network namespace, numbered there (tests/fixtures/kube/proc).
 */
static void table__kubevirt_pod__named_from_arguments_tap_in_its_netns(void **state)
{
	const struct kp_ident *id;
	struct stat st;

	start_in(KUBE_PROC, NULL, 0, NULL, 0);
	id = ident(6500);
	assert_int_equal(id->source, KP_ID_PROC);
	assert_string_equal(id->name, "default_testvm");
	assert_string_equal(id->uuid, "5f0c1b1e-7a7d-5b40-9f52-0123456789ab");
	assert_int_equal(id->dom_id, -1);
	assert_int_equal(id->nnics, 1);
	assert_string_equal(id->nics[0].ifname, "tap0");
	assert_int_equal(id->nics[0].ifindex, 3);
	assert_int_equal(stat(KUBE_PROC "/6500/ns/net", &st), 0);
	assert_int_equal(id->nics[0].netns, (uint32_t)st.st_ino);
	assert_int_equal(kp_idtable_find_ifindex(t, st.st_ino, 3)->pid, 6500);
	assert_null(kp_idtable_find_ifindex(t, st.st_ino + 1, 3));
}

#define T(f) cmocka_unit_test_teardown(f, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(table__fixture_proc__has_only_the_vmm_holding_a_kvm_fd),
		T(table__pid_option__makes_a_vmm_of_a_process_without_kvm_fd),
		T(table__domain_option__makes_vmms_of_libvirts_qemus),
		T(table__without_libvirt__names_from_arguments_and_cgroup),
		T(table__threads__have_their_roles_and_the_vhost_kthread),
		T(table__vmm_without_task_or_fd__has_no_threads_or_taps),
		T(table__taps__held_by_the_vmm_each_once),
		T(table__kubevirt_pod__named_from_arguments_tap_in_its_netns),
		T(apply__vm_of_the_table__gets_name_comm_and_vcpu_index),
		T(apply__process_without_kvm_fd__is_folded_into_the_host),
		T(apply__pid_option__keeps_the_record_of_a_process_without_kvm_fd),
		T(apply__domain_filter__drops_the_other_vms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
