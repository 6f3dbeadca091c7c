// SPDX-License-Identifier: GPL-2.0
/* Unit tests for user/core/record.c: per-interval VM and vCPU records. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "user/core/hist.h"
#include "user/core/record.h"

static struct kp_interval iv;

static int teardown(void **state)
{
	kp_interval_clear(&iv);
	return 0;
}

static struct kp_vm_rec *find_vm(uint32_t pid)
{
	size_t i;

	for (i = 0; i < iv.nvms; i++)
		if (iv.vms[i].pid == pid)
			return &iv.vms[i];
	fail_msg("no VM with pid %u", pid);
	return NULL;
}

static struct kp_vcpu_rec *find_vcpu(struct kp_vm_rec *vm, uint32_t tid)
{
	size_t i;

	for (i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i].tid == tid)
			return &vm->vcpus[i];
	fail_msg("no vCPU with tid %u in VM %u", tid, vm->pid);
	return NULL;
}

static uint64_t value_of(const struct kp_sample_set *s,
			 enum kp_metric_id m, const char *label)
{
	const struct kp_sample *p = kp_sample_find(s, m, label);

	if (!p)
		fail_msg("no sample %d/%s", m, label);
	return p->value;
}

static int add(uint32_t pid, uint32_t tid, int vcpu, enum kp_metric_id m,
	       const char *label, uint64_t value)
{
	return kp_interval_add(&iv, pid, tid, vcpu, m, label, value, NULL);
}

static int add_hist(uint32_t pid, uint32_t tid, enum kp_metric_id m,
		    const char *label, const struct kp_hist *h)
{
	return kp_interval_add(&iv, pid, tid, -1, m, label, 0, h);
}

static void interval_add__counters_of_vcpus__finish_sums_them_into_vm(void **state)
{
	struct kp_vm_rec *vm;

	assert_int_equal(add(100, 101, 0, KP_M_EXITS, "io", 10), 0);
	assert_int_equal(add(100, 102, 1, KP_M_EXITS, "io", 5), 0);
	assert_int_equal(add(100, 102, 1, KP_M_EXITS, "hlt", 2), 0);
	assert_int_equal(add(100, 101, 0, KP_M_EXITS, "io", 1), 0);
	assert_int_equal(add(100, 101, 0, KP_M_UEXITS, "IO", 7), 0);
	assert_int_equal(kp_interval_finish(&iv), 0);

	assert_int_equal(iv.nvms, 1);
	vm = find_vm(100);
	assert_int_equal(vm->nvcpus, 2);
	assert_int_equal(value_of(&find_vcpu(vm, 101)->s, KP_M_EXITS, "io"), 11);
	assert_int_equal(value_of(&find_vcpu(vm, 102)->s, KP_M_EXITS, "io"), 5);
	assert_int_equal(value_of(&vm->s, KP_M_EXITS, "io"), 16);
	assert_int_equal(value_of(&vm->s, KP_M_EXITS, "hlt"), 2);
	assert_int_equal(value_of(&vm->s, KP_M_UEXITS, "IO"), 7);
	assert_int_equal(vm->s.n, 3);
}

/*
 * A VM of many vCPUs (indexed by tid past a few): samples added in any
 * order, before and after the index grows and after finish sorted the
 * vCPUs, each reach their own vCPU.
 */
static void interval_add__many_vcpus_any_order__each_its_own(void **state)
{
	struct kp_vm_rec *vm;
	uint32_t t;

	for (t = 0; t < 1000; t++) /* scattered tids */
		assert_int_equal(add(100, 5000 + (t * 7919) % 1000, -1,
				     KP_M_EXITS, "io", 1), 0);
	for (t = 1000; t > 0; t--)
		assert_int_equal(add(100, 5000 + t - 1, -1, KP_M_EXITS, "io",
				     t - 1), 0);
	assert_int_equal(kp_interval_finish(&iv), 0);
	vm = find_vm(100);
	assert_int_equal(vm->nvcpus, 1000);
	for (t = 0; t < 1000; t++)
		assert_int_equal(value_of(&find_vcpu(vm, 5000 + t)->s,
					  KP_M_EXITS, "io"), 1 + t);
	/* after the sort: adds still find their vCPU, none is made twice */
	assert_int_equal(add(100, 5999, -1, KP_M_EXITS, "hlt", 4), 0);
	assert_int_equal(add(100, 5000, -1, KP_M_EXITS, "hlt", 3), 0);
	assert_int_equal(vm->nvcpus, 1000);
	assert_int_equal(value_of(&find_vcpu(vm, 5999)->s, KP_M_EXITS, "hlt"), 4);
	assert_int_equal(value_of(&find_vcpu(vm, 5000)->s, KP_M_EXITS, "hlt"), 3);
}

static void interval_add__two_vms__are_kept_apart(void **state)
{
	assert_int_equal(add(100, 101, 0, KP_M_EXITS, "io", 10), 0);
	assert_int_equal(add(200, 201, 0, KP_M_EXITS, "io", 3), 0);
	assert_int_equal(kp_interval_finish(&iv), 0);
	assert_int_equal(iv.nvms, 2);
	assert_int_equal(value_of(&find_vm(100)->s, KP_M_EXITS, "io"), 10);
	assert_int_equal(value_of(&find_vm(200)->s, KP_M_EXITS, "io"), 3);
}

static void interval_add__same_metric_other_label__is_another_sample(void **state)
{
	struct kp_vcpu_rec *vc;

	assert_int_equal(add(1, 2, 0, KP_M_EXITS, "io", 1), 0);
	assert_int_equal(add(1, 2, 0, KP_M_UEXITS, "io", 1), 0);
	assert_int_equal(add(1, 2, 0, KP_M_EXITS, "npf", 1), 0);
	vc = find_vcpu(find_vm(1), 2);
	assert_int_equal(vc->s.n, 3);
}

static void interval_add__histograms__merge_in_vcpu_and_vm(void **state)
{
	struct kp_hist a = { 0 }, b = { 0 }, c = { 0 }, ab, abc;
	struct kp_vm_rec *vm;
	const struct kp_sample *p;

	kp_hist_add(&a, 100);
	kp_hist_add(&a, 5000);
	kp_hist_add(&b, 7);
	kp_hist_add(&c, 1ULL << 40);
	ab = a;
	kp_hist_merge(&ab, &b);
	abc = ab;
	kp_hist_merge(&abc, &c);

	assert_int_equal(add_hist(1, 2, KP_M_EXIT_TIME, "io", &a), 0);
	assert_int_equal(add_hist(1, 2, KP_M_EXIT_TIME, "io", &b), 0);
	assert_int_equal(add_hist(1, 3, KP_M_EXIT_TIME, "io", &c), 0);
	assert_int_equal(kp_interval_finish(&iv), 0);

	vm = find_vm(1);
	p = kp_sample_find(&find_vcpu(vm, 2)->s, KP_M_EXIT_TIME, "io");
	assert_non_null(p);
	assert_non_null(p->hist);
	assert_memory_equal(p->hist, &ab, sizeof(ab));
	p = kp_sample_find(&vm->s, KP_M_EXIT_TIME, "io");
	assert_non_null(p);
	assert_non_null(p->hist);
	assert_memory_equal(p->hist, &abc, sizeof(abc));
	/* the VM's copy is its own, not the vCPU's */
	assert_ptr_not_equal(p->hist,
			     kp_sample_find(&find_vcpu(vm, 2)->s,
					    KP_M_EXIT_TIME, "io")->hist);
}

static void interval_add__counter_metric__has_no_histogram(void **state)
{
	assert_int_equal(add(1, 2, 0, KP_M_EXITS, "io", 4), 0);
	assert_null(kp_sample_find(&find_vcpu(find_vm(1), 2)->s, KP_M_EXITS,
				   "io")->hist);
}

static void interval_add__invalid_metric__is_refused(void **state)
{
	assert_int_equal(add(1, 2, 0, KP_M__COUNT, "io", 1), -EINVAL);
	assert_int_equal(add(1, 2, 0, (enum kp_metric_id)-1, "io", 1),
			 -EINVAL);
}

static void interval_add__vcpu_index__is_kept_once_known(void **state)
{
	struct kp_vcpu_rec *vc;

	assert_int_equal(add(1, 2, -1, KP_M_EXITS, "io", 1), 0);
	vc = find_vcpu(find_vm(1), 2);
	assert_int_equal(vc->index, -1);
	assert_int_equal(add(1, 2, 3, KP_M_EXITS, "io", 1), 0);
	vc = find_vcpu(find_vm(1), 2);
	assert_int_equal(vc->index, 3);
	assert_int_equal(add(1, 2, -1, KP_M_EXITS, "io", 1), 0);
	vc = find_vcpu(find_vm(1), 2);
	assert_int_equal(vc->index, 3);
}

static void interval_add__long_label__is_truncated_and_still_merges(void **state)
{
	const char *lbl = "a_reason_name_much_longer_than_the_label_max";
	struct kp_vcpu_rec *vc;

	assert_true(strlen(lbl) >= KP_LABEL_MAX);
	assert_int_equal(add(1, 2, 0, KP_M_EXITS, lbl, 1), 0);
	assert_int_equal(add(1, 2, 0, KP_M_EXITS, lbl, 2), 0);
	vc = find_vcpu(find_vm(1), 2);
	assert_int_equal(vc->s.n, 1);
	assert_int_equal(strlen(vc->s.v[0].label), KP_LABEL_MAX - 1);
	assert_memory_equal(vc->s.v[0].label, lbl, KP_LABEL_MAX - 1);
	assert_int_equal(vc->s.v[0].value, 3);
	assert_ptr_equal(kp_sample_find(&vc->s, KP_M_EXITS, lbl), &vc->s.v[0]);
}

static void vm_sort_vcpus__known_indexes_ascending_then_unknown_by_tid(void **state)
{
	static const struct { uint32_t tid; int idx; } in[] = {
		{ 50, -1 }, { 10, 2 }, { 40, -1 }, { 30, 0 }, { 20, 1 },
		{ 60, 10 }, { 5, -1 },
	};
	static const uint32_t want[] = { 30, 20, 10, 60, 5, 40, 50 };
	struct kp_vm_rec *vm;
	size_t i;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		assert_int_equal(add(1, in[i].tid, in[i].idx, KP_M_EXITS, "io",
				     1), 0);
	assert_int_equal(kp_interval_finish(&iv), 0);
	vm = find_vm(1);
	assert_int_equal(vm->nvcpus, 7);
	for (i = 0; i < 7; i++)
		assert_int_equal(vm->vcpus[i].tid, want[i]);
}

static void vm_sort_vcpus__same_index__orders_by_tid(void **state)
{
	struct kp_vm_rec *vm;

	assert_int_equal(add(1, 9, 0, KP_M_EXITS, "io", 1), 0);
	assert_int_equal(add(1, 3, 0, KP_M_EXITS, "io", 1), 0);
	vm = find_vm(1);
	kp_vm_sort_vcpus(vm);
	assert_int_equal(vm->vcpus[0].tid, 3);
	assert_int_equal(vm->vcpus[1].tid, 9);
}

static void interval_finish__samples__sorted_by_metric_then_label(void **state)
{
	struct kp_vm_rec *vm;
	struct kp_sample_set *s;
	size_t i;

	/* added in an order unlike the sorted one */
	assert_int_equal(add(1, 2, 0, KP_M_UEXITS, "MMIO", 1), 0);
	assert_int_equal(add(1, 2, 0, KP_M_EXITS, "npf", 1), 0);
	assert_int_equal(add(1, 2, 0, KP_M_UEXITS, "IO", 1), 0);
	assert_int_equal(add(1, 2, 0, KP_M_EXITS, "hlt", 1), 0);
	assert_int_equal(add(1, 2, 0, KP_M_EXITS, "io", 1), 0);
	assert_int_equal(kp_interval_finish(&iv), 0);

	vm = find_vm(1);
	s = &vm->s;
	assert_int_equal(s->n, 5);
	assert_int_equal(s->v[0].metric, KP_M_EXITS);
	assert_string_equal(s->v[0].label, "hlt");
	assert_string_equal(s->v[1].label, "io");
	assert_string_equal(s->v[2].label, "npf");
	assert_int_equal(s->v[3].metric, KP_M_UEXITS);
	assert_string_equal(s->v[3].label, "IO");
	assert_string_equal(s->v[4].label, "MMIO");
	/* the vCPU's set is sorted the same way */
	s = &vm->vcpus[0].s;
	for (i = 0; i < 5; i++) {
		assert_int_equal(s->v[i].metric, vm->s.v[i].metric);
		assert_string_equal(s->v[i].label, vm->s.v[i].label);
	}
}

static void sample_first__finished_set__indexes_first_of_metric(void **state)
{
	struct kp_sample_set *s;

	assert_int_equal(add(1, 2, 0, KP_M_UEXITS, "IO", 1), 0);
	assert_int_equal(add(1, 2, 0, KP_M_EXITS, "npf", 1), 0);
	assert_int_equal(add(1, 2, 0, KP_M_EXITS, "io", 1), 0);
	assert_int_equal(kp_interval_finish(&iv), 0);
	s = &find_vm(1)->s;
	assert_int_equal(kp_sample_first(s, KP_M_EXITS), 0);
	assert_int_equal(kp_sample_first(s, KP_M_UEXITS), 2);
	assert_int_equal(kp_sample_first(s, KP_M_HALT_TIME), s->n);
}

static void sample_find__absent_sample__returns_null(void **state)
{
	struct kp_sample_set *s;

	assert_int_equal(add(1, 2, 0, KP_M_EXITS, "io", 1), 0);
	s = &find_vcpu(find_vm(1), 2)->s;
	assert_null(kp_sample_find(s, KP_M_EXITS, "hlt"));
	assert_null(kp_sample_find(s, KP_M_UEXITS, "io"));
	assert_null(kp_sample_find(s, KP_M_EXITS, "i"));
	assert_non_null(kp_sample_find(s, KP_M_EXITS, "io"));
}

static void sample_sum__counters_and_histograms__sum_their_counts(void **state)
{
	struct kp_hist h = { 0 };
	struct kp_sample_set *s;

	kp_hist_add(&h, 10);
	kp_hist_add(&h, 20);
	kp_hist_add(&h, 30);
	assert_int_equal(add(1, 2, 0, KP_M_EXITS, "io", 5), 0);
	assert_int_equal(add(1, 2, 0, KP_M_EXITS, "hlt", 7), 0);
	assert_int_equal(add(1, 2, 0, KP_M_UEXITS, "IO", 100), 0);
	assert_int_equal(add_hist(1, 2, KP_M_HALT_TIME, "poll", &h), 0);
	assert_int_equal(add_hist(1, 2, KP_M_HALT_TIME, "wait", &h), 0);
	assert_int_equal(kp_interval_finish(&iv), 0);
	s = &find_vm(1)->s;
	assert_int_equal(kp_sample_sum(s, KP_M_EXITS), 12);
	assert_int_equal(kp_sample_sum(s, KP_M_UEXITS), 100);
	assert_int_equal(kp_sample_sum(s, KP_M_HALT_TIME), 6);
	assert_int_equal(kp_sample_sum(s, KP_M_EXIT_TIME), 0);
}

static void interval_add_lost__same_probe__accumulates(void **state)
{
	assert_int_equal(kp_interval_add_lost(&iv, "exits", 3), 0);
	assert_int_equal(kp_interval_add_lost(&iv, "halt", 1), 0);
	/* a different pointer to an equal name is the same probe */
	assert_int_equal(kp_interval_add_lost(&iv, (char[]){ "exits" }, 4), 0);
	assert_int_equal(iv.nlost, 2);
	assert_string_equal(iv.lost[0].probe, "exits");
	assert_int_equal(iv.lost[0].n, 7);
	assert_string_equal(iv.lost[1].probe, "halt");
	assert_int_equal(iv.lost[1].n, 1);
}

static void interval_add_lost__more_probes_than_slots__is_refused(void **state)
{
	static const char *const names[KP_MAX_LOST + 1] = {
		"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8",
	};
	int i;

	for (i = 0; i < KP_MAX_LOST; i++)
		assert_int_equal(kp_interval_add_lost(&iv, names[i], 1), 0);
	assert_int_equal(kp_interval_add_lost(&iv, names[KP_MAX_LOST], 1),
			 -ENOSPC);
	assert_int_equal(kp_interval_add_lost(&iv, names[0], 1), 0);
	assert_int_equal(iv.lost[0].n, 2);
}

static void interval_clear__then_reuse__starts_empty(void **state)
{
	struct kp_hist h = { 0 };

	kp_hist_add(&h, 1000);
	assert_int_equal(add(1, 2, 0, KP_M_EXITS, "io", 5), 0);
	assert_int_equal(add_hist(1, 2, KP_M_EXIT_TIME, "io", &h), 0);
	assert_int_equal(kp_interval_add_lost(&iv, "exits", 1), 0);
	assert_int_equal(kp_interval_finish(&iv), 0);
	kp_interval_clear(&iv);
	assert_int_equal(iv.nvms, 0);
	assert_int_equal(iv.nlost, 0);
	assert_null(iv.vms);

	assert_int_equal(add(1, 2, 0, KP_M_EXITS, "io", 2), 0);
	assert_int_equal(kp_interval_finish(&iv), 0);
	assert_int_equal(iv.nvms, 1);
	assert_int_equal(value_of(&find_vm(1)->s, KP_M_EXITS, "io"), 2);
	assert_null(kp_sample_find(&find_vm(1)->s, KP_M_EXIT_TIME, "io"));
	kp_interval_clear(&iv);
	kp_interval_clear(&iv); /* clearing an empty interval is harmless */
}

static void interval_add__many_vms_and_vcpus__stay_correct(void **state)
{
	enum { NVMS = 20, NVCPUS = 1000 };
	static const char *const labels[] = { "io", "hlt", "npf" };
	uint32_t pid, v;
	struct kp_vm_rec *vm;
	uint64_t want;
	size_t i;

	/* vCPU v of VM pid gets (v + 1) "io", 1 "hlt", pid "npf"; added
	 * interleaved across VMs so every lookup sees many candidates */
	for (v = 0; v < NVCPUS; v++) {
		for (pid = 1; pid <= NVMS; pid++) {
			uint32_t tid = pid * 100000 + (NVCPUS - v);

			assert_int_equal(add(pid, tid, v, KP_M_EXITS,
					     labels[0], v + 1), 0);
			assert_int_equal(add(pid, tid, v, KP_M_EXITS,
					     labels[1], 1), 0);
			assert_int_equal(add(pid, tid, -1, KP_M_EXITS,
					     labels[2], pid), 0);
		}
	}
	assert_int_equal(kp_interval_finish(&iv), 0);
	assert_int_equal(iv.nvms, NVMS);
	for (pid = 1; pid <= NVMS; pid++) {
		vm = find_vm(pid);
		assert_int_equal(vm->nvcpus, NVCPUS);
		want = (uint64_t)NVCPUS * (NVCPUS + 1) / 2;
		assert_int_equal(value_of(&vm->s, KP_M_EXITS, "io"), want);
		assert_int_equal(value_of(&vm->s, KP_M_EXITS, "hlt"), NVCPUS);
		assert_int_equal(value_of(&vm->s, KP_M_EXITS, "npf"),
				 (uint64_t)NVCPUS * pid);
		for (i = 0; i < NVCPUS; i++) {
			assert_int_equal(vm->vcpus[i].index, i);
			assert_int_equal(vm->vcpus[i].tid,
					 pid * 100000 + (NVCPUS - i));
			assert_int_equal(value_of(&vm->vcpus[i].s, KP_M_EXITS,
						  "io"), i + 1);
		}
	}
}

static void vm_set_gauge__memory__is_set_not_summed(void **state)
{
	struct kp_vm_rec *vm;

	assert_int_equal(kp_interval_add(&iv, 10, 11, 0, KP_M_EXITS, "io", 1,
					 NULL), 0);
	vm = find_vm(10);
	assert_int_equal(kp_vm_set_gauge(vm, KP_M_MEM_RSS, 100), 0);
	assert_int_equal(kp_vm_set_gauge(vm, KP_M_MEM_RSS, 42), 0);
	assert_int_equal(kp_vm_set_gauge(vm, KP_M_MEM_MAJOR_FAULTS, 7), 0);
	assert_int_equal(vm->gauges.n, 2);
	assert_int_equal(kp_sample_find(&vm->gauges, KP_M_MEM_RSS, "")->value,
			 42);
	/* only gauges: a counter is per interval, not a VM-wide value */
	assert_int_equal(kp_vm_set_gauge(vm, KP_M_EXITS, 1), -EINVAL);
	assert_int_equal(kp_vm_set_gauge(vm, KP_M__COUNT, 1), -EINVAL);
}

static uint64_t gauge(const struct kp_vm_rec *vm, enum kp_metric_id m)
{
	const struct kp_sample *p = kp_sample_find(&vm->gauges, m, "");

	return p ? p->value : UINT64_MAX;
}

static void vm_derive_memory__used_and_ballooned__from_what_is_reported(void **state)
{
	struct kp_vm_rec *vm;

	assert_int_equal(kp_interval_add(&iv, 10, 11, 0, KP_M_EXITS, "io", 1,
					 NULL), 0);
	vm = find_vm(10);
	/* nothing reported: nothing derived */
	assert_int_equal(kp_vm_derive_memory(vm), 0);
	assert_int_equal(vm->gauges.n, 0);
	/* balloon sizes only (no guest stats): ballooned, no guest usage */
	assert_int_equal(kp_vm_set_gauge(vm, KP_M_MEM_BALLOON_MAX, 4000), 0);
	assert_int_equal(kp_vm_set_gauge(vm, KP_M_MEM_BALLOON_CURRENT, 2500), 0);
	assert_int_equal(kp_vm_set_gauge(vm, KP_M_MEM_AVAILABLE, 2400), 0);
	assert_int_equal(kp_vm_derive_memory(vm), 0);
	assert_int_equal(gauge(vm, KP_M_MEM_BALLOONED), 1500);
	assert_int_equal(gauge(vm, KP_M_MEM_GUEST_USED), UINT64_MAX);
	/* unused only: used is available less unused */
	assert_int_equal(kp_vm_set_gauge(vm, KP_M_MEM_UNUSED, 400), 0);
	assert_int_equal(kp_vm_derive_memory(vm), 0);
	assert_int_equal(gauge(vm, KP_M_MEM_GUEST_USED), 2000);
	/* usable wins over unused (page cache is reclaimable) */
	assert_int_equal(kp_vm_set_gauge(vm, KP_M_MEM_USABLE, 1400), 0);
	assert_int_equal(kp_vm_derive_memory(vm), 0);
	assert_int_equal(gauge(vm, KP_M_MEM_GUEST_USED), 1000);
	/* a balloon above max (racy reads) is 0, not a wrap */
	assert_int_equal(kp_vm_set_gauge(vm, KP_M_MEM_BALLOON_CURRENT, 5000), 0);
	assert_int_equal(kp_vm_derive_memory(vm), 0);
	assert_int_equal(gauge(vm, KP_M_MEM_BALLOONED), 0);
}

static void interval_drop_vm__middle__keeps_the_others_in_order(void **state)
{
	uint32_t pid;

	for (pid = 1; pid <= 3; pid++)
		assert_int_equal(kp_interval_add(&iv, pid, pid * 10, 0,
						 KP_M_EXITS, "io", pid, NULL),
				 0);
	assert_int_equal(kp_interval_finish(&iv), 0);
	assert_int_equal(kp_vm_set_gauge(&iv.vms[1], KP_M_MEM_RSS, 1), 0);
	iv.vms[1].name = strdup("dropped");
	kp_interval_drop_vm(&iv, 1);
	assert_int_equal(iv.nvms, 2);
	assert_int_equal(iv.vms[0].pid, 1);
	assert_int_equal(iv.vms[1].pid, 3);
	kp_interval_drop_vm(&iv, 5); /* out of range: nothing */
	assert_int_equal(iv.nvms, 2);
}

static void interval_add_dev__process_without_vcpus__gets_a_record(void **state)
{
	struct kp_hist h = { 0 };
	struct kp_vm_rec *vm;

	kp_hist_add(&h, 5000);
	assert_int_equal(kp_interval_add_dev(&iv, 77, KP_M_DISK_IOS, "loop0",
					     "read", 3, NULL), 0);
	assert_int_equal(kp_interval_add_dev(&iv, 77, KP_M_DISK_IOS, "loop0",
					     "read", 2, NULL), 0);
	assert_int_equal(kp_interval_add_dev(&iv, 77, KP_M_DISK_IOS, "loop1",
					     "read", 1, NULL), 0);
	assert_int_equal(kp_interval_add_dev(&iv, 77, KP_M_DISK_DEVICE, "loop0",
					     "read", 0, &h), 0);
	assert_int_equal(kp_interval_finish(&iv), 0);
	vm = find_vm(77);
	assert_int_equal(vm->nvcpus, 0);
	assert_int_equal(vm->s.n, 3);
	/* the same metric and label on another device is another sample */
	assert_int_equal(kp_sample_find_dev(&vm->s, KP_M_DISK_IOS, "loop0",
					    "read")->value, 5);
	assert_int_equal(kp_sample_find_dev(&vm->s, KP_M_DISK_IOS, "loop1",
					    "read")->value, 1);
	assert_int_equal(kp_sample_find_dev(&vm->s, KP_M_DISK_DEVICE, "loop0",
					    "read")->hist->count, 1);
	assert_null(kp_sample_find_dev(&vm->s, KP_M_DISK_IOS, "loop2", "read"));
}

static void interval_add_dev__host_pid__goes_to_the_host_record(void **state)
{
	assert_int_equal(kp_interval_add_dev(&iv, KP_PID_HOST, KP_M_DISK_IOS,
					     "vda", "write", 4, NULL), 0);
	assert_int_equal(kp_interval_add_dev(&iv, KP_PID_HOST, KP_M_IF_DROPS,
					     "vnet0", "FULL_RING", 2, NULL), 0);
	assert_int_equal(kp_interval_finish(&iv), 0);
	assert_int_equal(iv.nvms, 0);
	assert_int_equal(iv.host.n, 2);
	assert_int_equal(kp_sample_find_dev(&iv.host, KP_M_DISK_IOS, "vda",
					    "write")->value, 4);
	kp_interval_clear(&iv);
	assert_int_equal(iv.host.n, 0);
}

/* Taps of one name in two network namespaces stay two devices until each
 * is placed with its VM; an unknown number (0) merges with either. */
static uint32_t by_netns(const struct kp_sample *p, void *arg)
{
	return kp_ifdev_netns(p->devid) == 4001 ? 41 : 51;
}

static void interval_add_dev__same_name_other_devid__are_two_devices(void **state)
{
	assert_int_equal(kp_interval_add_dev_id(&iv, KP_PID_HOST,
			 KP_M_IF_PACKETS, "tap0", kp_ifdev(4001, 2), "rx", 3,
			 NULL), 0);
	assert_int_equal(kp_interval_add_dev_id(&iv, KP_PID_HOST,
			 KP_M_IF_PACKETS, "tap0", kp_ifdev(5001, 2), "rx", 5,
			 NULL), 0);
	assert_int_equal(kp_interval_add_dev_id(&iv, KP_PID_HOST,
			 KP_M_IF_PACKETS, "tap0", kp_ifdev(5001, 2), "rx", 1,
			 NULL), 0);
	assert_int_equal(iv.host.n, 2);
	assert_int_equal(kp_interval_add_dev(&iv, KP_PID_HOST, KP_M_IF_PACKETS,
					     "tap0", "rx", 10, NULL), 0);
	assert_int_equal(iv.host.n, 2);
	assert_int_equal(kp_ifdev_ifindex(kp_ifdev(5001, 2)), 2);
	assert_int_equal(kp_interval_finish(&iv), 0);
	assert_int_equal(kp_interval_place_host(&iv, by_netns, NULL), 0);
	assert_int_equal(iv.host.n, 0);
	/* the unnumbered 10 merged into the first tap0 */
	assert_int_equal(kp_sample_find_dev(&find_vm(41)->s, KP_M_IF_PACKETS,
					    "tap0", "rx")->value, 13);
	assert_int_equal(kp_sample_find_dev(&find_vm(51)->s, KP_M_IF_PACKETS,
					    "tap0", "rx")->value, 6);
}

static void interval_add_dev__not_a_device_metric__is_refused(void **state)
{
	assert_int_equal(kp_interval_add_dev(&iv, 1, KP_M_EXITS, "vda", "io",
					     1, NULL), -EINVAL);
	assert_int_equal(kp_interval_add_dev(&iv, 1, KP_M__COUNT, "vda", "io",
					     1, NULL), -EINVAL);
	assert_int_equal(iv.nvms, 0);
}

static void interval_finish__device_samples__sorted_by_metric_dev_label(void **state)
{
	const struct kp_sample_set *s;

	kp_interval_add_dev(&iv, 5, KP_M_DISK_BYTES, "b", "read", 1, NULL);
	kp_interval_add_dev(&iv, 5, KP_M_DISK_IOS, "b", "write", 1, NULL);
	kp_interval_add_dev(&iv, 5, KP_M_DISK_IOS, "a", "write", 1, NULL);
	kp_interval_add_dev(&iv, 5, KP_M_DISK_IOS, "b", "read", 1, NULL);
	assert_int_equal(kp_interval_finish(&iv), 0);
	s = &find_vm(5)->s;
	assert_int_equal(s->n, 4);
	assert_string_equal(s->v[0].dev, "a");
	assert_string_equal(s->v[1].dev, "b");
	assert_string_equal(s->v[1].label, "read");
	assert_string_equal(s->v[2].label, "write");
	assert_int_equal(s->v[3].metric, KP_M_DISK_BYTES);
}

#define T(f) cmocka_unit_test_teardown(f, teardown)

static struct kp_peer peer(uint32_t pid, uint32_t tid, const char *comm)
{
	struct kp_peer p = { .pid = pid, .tid = tid, .vm_pid = -1,
			     .vm_vcpu = -1 };

	snprintf(p.comm, sizeof(p.comm), "%s", comm);
	return p;
}

static void interval_add_peer__per_vcpu__sums_by_tid_and_into_vm(void **state)
{
	struct kp_peer hog = peer(900, 900, "hog"), kw = peer(2, 33, "kworker");
	const struct kp_sample *p;
	struct kp_vm_rec *vm;

	assert_int_equal(kp_interval_add_peer(&iv, 100, 101, 0,
					      KP_M_PREEMPTED_BY, &hog, 10), 0);
	assert_int_equal(kp_interval_add_peer(&iv, 100, 101, 0,
					      KP_M_PREEMPTED_BY, &kw, 1), 0);
	assert_int_equal(kp_interval_add_peer(&iv, 100, 102, 1,
					      KP_M_PREEMPTED_BY, &hog, 5), 0);
	assert_int_equal(kp_interval_add_peer(&iv, 100, 101, 0,
					      KP_M_PREEMPTED_BY, &hog, 2), 0);
	assert_int_equal(kp_interval_finish(&iv), 0);
	vm = find_vm(100);
	p = kp_sample_find(&find_vcpu(vm, 101)->s, KP_M_PREEMPTED_BY, "900");
	assert_non_null(p);
	assert_int_equal(p->value, 12);
	assert_non_null(p->peer);
	assert_string_equal(p->peer->comm, "hog");
	assert_int_equal(p->peer->pid, 900);
	assert_int_equal(p->peer->vm_pid, -1);
	p = kp_sample_find(&vm->s, KP_M_PREEMPTED_BY, "900");
	assert_int_equal(p->value, 17);
	assert_string_equal(p->peer->comm, "hog");
	p = kp_sample_find(&vm->s, KP_M_PREEMPTED_BY, "33");
	assert_int_equal(p->value, 1);
	assert_int_equal(p->peer->pid, 2);
}

static void interval_add_peer__metric_without_peers__is_refused(void **state)
{
	struct kp_peer p = peer(1, 1, "x");

	assert_int_equal(kp_interval_add_peer(&iv, 1, 1, 0, KP_M_EXITS, &p, 1),
			 -EINVAL);
	assert_int_equal(kp_interval_add_peer(&iv, 1, 1, 0, KP_M__COUNT, &p,
					      1), -EINVAL);
}

static void interval_add__delay_metric__keeps_total_and_histogram(void **state)
{
	struct kp_hist h = { 0 };
	const struct kp_sample *p;

	kp_hist_add(&h, 1000);
	/* the total counts a wait in progress the histogram does not hold */
	assert_int_equal(kp_interval_add(&iv, 7, 8, 0, KP_M_RUN_DELAY, "", 5000,
					 &h), 0);
	assert_int_equal(kp_interval_add(&iv, 7, 9, 1, KP_M_RUN_DELAY, "", 300,
					 NULL), 0);
	assert_int_equal(kp_interval_finish(&iv), 0);
	p = kp_sample_find(&find_vm(7)->s, KP_M_RUN_DELAY, "");
	assert_non_null(p);
	assert_int_equal(p->value, 5300);
	assert_int_equal(p->hist->count, 1);
	assert_int_equal(p->hist->sum, 1000);
	assert_null(p->peer);
}

/*
 * The derived figures are computed once, in kp_interval_finish, over the
 * interval's length: per vCPU and per VM (the sum), and for a VM's run
 * delay the worst of its vCPUs, which the sinks and alerts only read.
 */
static void interval_finish__ns_samples__get_pct_and_worst_vcpu(void **state)
{
	struct kp_hist h = { 0 };
	struct kp_vm_rec *vm;

	h.count = 1;
	h.sum = 30000000; /* 30 ms of exit handling in 0.5 s: 6% */
	assert_int_equal(add(100, 101, 0, KP_M_RUN_DELAY, "", 100000000), 0);
	assert_int_equal(add(100, 102, 1, KP_M_RUN_DELAY, "", 25000000), 0);
	assert_int_equal(add(100, 101, 0, KP_M_CPU_TIME, "", 400000000), 0);
	assert_int_equal(add(100, 101, 0, KP_M_EXITS, "io", 1000000000), 0);
	assert_int_equal(kp_interval_add(&iv, 100, 102, 1, KP_M_EXIT_TIME,
					 "io", 0, &h), 0);
	iv.interval_s = 0.5;
	assert_int_equal(kp_interval_finish(&iv), 0);
	vm = find_vm(100);
	assert_float_equal(kp_sample_find(&find_vcpu(vm, 101)->s,
					  KP_M_RUN_DELAY, "")->pct, 20, 1e-9);
	assert_float_equal(kp_sample_find(&find_vcpu(vm, 102)->s,
					  KP_M_RUN_DELAY, "")->pct, 5, 1e-9);
	assert_float_equal(kp_sample_find(&vm->s, KP_M_RUN_DELAY, "")->pct,
			   25, 1e-9);
	assert_float_equal(kp_sample_find(&vm->s, KP_M_RUN_DELAY,
					  "")->worst_pct, 20, 1e-9);
	assert_float_equal(kp_sample_find(&vm->s, KP_M_CPU_TIME, "")->pct,
			   80, 1e-9);
	/* a time histogram's share is its sum; events are no time */
	assert_float_equal(kp_sample_find(&vm->s, KP_M_EXIT_TIME, "io")->pct,
			   6, 1e-9);
	assert_float_equal(kp_sample_find(&vm->s, KP_M_EXITS, "io")->pct, 0, 0);
	/* percentages have a worst vCPU too (%LMT); counters do not */
	assert_float_equal(kp_sample_find(&vm->s, KP_M_CPU_TIME,
					  "")->worst_pct, 80, 1e-9);
	assert_float_equal(kp_sample_find(&vm->s, KP_M_EXIT_TIME,
					  "io")->worst_pct, 0, 0);
}

static uint32_t to_pid_9(const struct kp_sample *p, void *arg)
{
	return 9;
}

/* Device samples moved after kp_interval_finish keep their derived pct. */
static void interval_place_and_fold__moved_samples__keep_their_pct(void **state)
{
	struct kp_hist h = { 0 };
	const struct kp_sample *p;

	h.count = 1;
	h.sum = 50000000; /* 50 ms of delivery in 0.5 s: 10% */
	assert_int_equal(kp_interval_add_dev(&iv, KP_PID_HOST, KP_M_IF_DELIVERY,
					     "vnet0", "", 0, &h), 0);
	assert_int_equal(add(9, 9, -1, KP_M_EXITS, "io", 1), 0);
	iv.interval_s = 0.5;
	assert_int_equal(kp_interval_finish(&iv), 0);
	assert_float_equal(iv.host.v[0].pct, 10, 1e-9);
	assert_int_equal(kp_interval_place_host(&iv, to_pid_9, NULL), 0);
	assert_int_equal(iv.host.n, 0);
	p = kp_sample_find_dev(&find_vm(9)->s, KP_M_IF_DELIVERY, "vnet0", "");
	assert_non_null(p);
	assert_float_equal(p->pct, 10, 1e-9);
	assert_int_equal(kp_interval_fold_vm(&iv, 0), 0);
	assert_int_equal(iv.nvms, 0);
	p = kp_sample_find_dev(&iv.host, KP_M_IF_DELIVERY, "vnet0", "");
	assert_non_null(p);
	assert_float_equal(p->pct, 10, 1e-9);
}

/* kp_pct moved here from schedcalc: the same assertions */
static void pct__of_interval__is_percent(void **state)
{
	assert_float_equal(kp_pct(500000000, 1.0), 50.0, 1e-9);
	assert_float_equal(kp_pct(666666667, 1.0), 66.6666667, 1e-4);
	assert_float_equal(kp_pct(100000000, 0.2), 50.0, 1e-9);
	/* several vCPUs summed can pass 100 (esxtop's VM %RDY) */
	assert_float_equal(kp_pct(3000000000ULL, 1.0), 300.0, 1e-9);
}

static void pct__empty_or_negative_interval__is_zero(void **state)
{
	assert_float_equal(kp_pct(1000, 0), 0, 0);
	assert_float_equal(kp_pct(1000, -1), 0, 0);
	assert_float_equal(kp_pct(0, 1), 0, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(interval_add__counters_of_vcpus__finish_sums_them_into_vm),
		T(vm_derive_memory__used_and_ballooned__from_what_is_reported),
		T(interval_add__two_vms__are_kept_apart),
		T(interval_add__many_vcpus_any_order__each_its_own),
		T(interval_add__same_metric_other_label__is_another_sample),
		T(interval_add__histograms__merge_in_vcpu_and_vm),
		T(interval_add__counter_metric__has_no_histogram),
		T(interval_add__invalid_metric__is_refused),
		T(interval_add__vcpu_index__is_kept_once_known),
		T(interval_add__long_label__is_truncated_and_still_merges),
		T(vm_sort_vcpus__known_indexes_ascending_then_unknown_by_tid),
		T(vm_sort_vcpus__same_index__orders_by_tid),
		T(interval_finish__samples__sorted_by_metric_then_label),
		T(sample_first__finished_set__indexes_first_of_metric),
		T(sample_find__absent_sample__returns_null),
		T(sample_sum__counters_and_histograms__sum_their_counts),
		T(interval_add_lost__same_probe__accumulates),
		T(interval_add_lost__more_probes_than_slots__is_refused),
		T(interval_clear__then_reuse__starts_empty),
		T(interval_add__many_vms_and_vcpus__stay_correct),
		T(interval_add_peer__per_vcpu__sums_by_tid_and_into_vm),
		T(interval_add_peer__metric_without_peers__is_refused),
		T(interval_add__delay_metric__keeps_total_and_histogram),
		T(vm_set_gauge__memory__is_set_not_summed),
		T(interval_drop_vm__middle__keeps_the_others_in_order),
		T(interval_add_dev__process_without_vcpus__gets_a_record),
		T(interval_add_dev__host_pid__goes_to_the_host_record),
		T(interval_add_dev__same_name_other_devid__are_two_devices),
		T(interval_add_dev__not_a_device_metric__is_refused),
		T(interval_finish__device_samples__sorted_by_metric_dev_label),
		T(interval_finish__ns_samples__get_pct_and_worst_vcpu),
		T(interval_place_and_fold__moved_samples__keep_their_pct),
		cmocka_unit_test(pct__of_interval__is_percent),
		cmocka_unit_test(pct__empty_or_negative_interval__is_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
