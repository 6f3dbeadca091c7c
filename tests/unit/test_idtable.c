// SPDX-License-Identifier: GPL-2.0
/* Unit tests for user/identity/idtable.c: lookups, PID reuse, filters, topology. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "user/identity/idtable.h"

#define UUID_A "c0ba2922-ce9c-468a-82e4-113eaae6c9fa"

/* A table with a libvirt VM (pid 100), an unmanaged VMM (200), and pid 300
 * reused: an exited domain and the unrelated process that has it now. */
static struct kp_idtable *sample_table(void)
{
	struct kp_idtable *t = kp_idtable_new();
	struct kp_ident *id;

	assert_non_null(t);
	id = kp_idtable_add(t, 300, 5000); /* the new process */
	assert_non_null(id);
	id = kp_idtable_add(t, 100, 1000);
	assert_non_null(id);
	id->source = KP_ID_LIBVIRT;
	id->dom_id = 7;
	assert_int_equal(kp_ident_set_names(id, "kp \"test\" é", UUID_A), 0);
	assert_int_equal(kp_ident_add_thread(id, 101, KP_THREAD_VCPU, 0), 0);
	assert_int_equal(kp_ident_add_thread(id, 102, KP_THREAD_VCPU, 1), 0);
	assert_int_equal(kp_ident_add_thread(id, 103, KP_THREAD_IOTHREAD, 1),
			 0);
	assert_int_equal(kp_ident_add_disk(id, "vda", "/dev/loop7", 0x700007,
					   true), 0);
	assert_int_equal(kp_ident_add_nic(id, "vnet0", 0, 17, true, false), 0);
	assert_int_equal(kp_ident_add_nic(id, "vnet0", 0, 0, false, true), 0);
	id->mem.known = 1u << KP_MEM_RSS;
	id->mem.v[KP_MEM_RSS] = 4096;
	id = kp_idtable_add(t, 200, 2000);
	assert_non_null(id);
	assert_int_equal(kp_ident_add_nic(id, "tap9", 0, 23, false, true), 0);
	/* taps of two other namespaces, both ifindex 2 */
	id = kp_idtable_add(t, 410, 4000);
	assert_non_null(id);
	assert_int_equal(kp_ident_add_nic(id, "tap0", 4001, 2, false, true), 0);
	id = kp_idtable_add(t, 510, 5000);
	assert_non_null(id);
	assert_int_equal(kp_ident_add_nic(id, "tap0", 5001, 2, false, true), 0);
	id = kp_idtable_add(t, 300, 3000); /* the exited domain */
	assert_non_null(id);
	id->gone = true;
	assert_int_equal(kp_ident_set_names(id, "old-vm", NULL), 0);
	kp_idtable_seal(t);
	return t;
}

static void find__pid_and_start_time__give_the_entry(void **state)
{
	struct kp_idtable *t = sample_table();
	const struct kp_ident *id;

	assert_int_equal(kp_idtable_count(t), 6);
	id = kp_idtable_find(t, 100, 1000);
	assert_non_null(id);
	assert_string_equal(id->name, "kp \"test\" é");
	assert_string_equal(id->uuid, UUID_A);
	assert_non_null(kp_idtable_find(t, 100, KP_START_ANY));
	assert_null(kp_idtable_find(t, 101, KP_START_ANY));
	assert_null(kp_idtable_find(t, 99, KP_START_ANY));
	assert_null(kp_idtable_find(t, 400, KP_START_ANY));
	assert_null(kp_idtable_find(NULL, 100, 1000));
	kp_idtable_put(t);
}

static void find__reused_pid__never_gives_the_old_name(void **state)
{
	struct kp_idtable *t = sample_table();
	const struct kp_ident *id;

	/* the live process that has pid 300 now is not old-vm */
	id = kp_idtable_find(t, 300, 5000);
	assert_non_null(id);
	assert_null(id->name);
	assert_false(id->gone);
	/* nor is any live lookup */
	id = kp_idtable_find(t, 300, KP_START_ANY);
	assert_int_equal(id->start_time, 5000);
	/* a process started at yet another time is unknown */
	assert_null(kp_idtable_find(t, 300, 4000));
	/* the exited one is still there for its last interval */
	id = kp_idtable_find(t, 300, 3000);
	assert_non_null(id);
	assert_string_equal(id->name, "old-vm");
	assert_true(id->gone);
	kp_idtable_put(t);
}

static void find__exited_only__gives_the_latest(void **state)
{
	struct kp_idtable *t = kp_idtable_new();
	struct kp_ident *id;

	id = kp_idtable_add(t, 50, 10);
	id->gone = true;
	id = kp_idtable_add(t, 50, 20);
	id->gone = true;
	kp_idtable_seal(t);
	assert_int_equal(kp_idtable_find(t, 50, KP_START_ANY)->start_time, 20);
	kp_idtable_put(t);
}

static void threads__roles_by_tid(void **state)
{
	struct kp_idtable *t = sample_table();
	const struct kp_ident *id = kp_idtable_find(t, 100, 1000);
	const struct kp_ident_thread *th;

	th = kp_ident_thread(id, 102);
	assert_non_null(th);
	assert_int_equal(th->kind, KP_THREAD_VCPU);
	assert_int_equal(th->index, 1);
	assert_int_equal(kp_ident_thread(id, 103)->kind, KP_THREAD_IOTHREAD);
	assert_null(kp_ident_thread(id, 999));
	assert_null(kp_ident_thread(NULL, 101));
	kp_idtable_put(t);
}

static void matches__name_exactly_or_uuid_in_any_case(void **state)
{
	struct kp_idtable *t = sample_table();
	const struct kp_ident *id = kp_idtable_find(t, 100, 1000);

	assert_true(kp_ident_matches(id, "kp \"test\" é"));
	assert_true(kp_ident_matches(id, UUID_A));
	assert_true(kp_ident_matches(id, "C0BA2922-CE9C-468A-82E4-113EAAE6C9FA"));
	assert_false(kp_ident_matches(id, "kp \"TEST\" é"));
	assert_false(kp_ident_matches(id, "kp"));
	assert_false(kp_ident_matches(kp_idtable_find(t, 200, 2000), "kp"));
	kp_idtable_put(t);
}

static void topology__tap_and_disk__lead_to_the_vm(void **state)
{
	struct kp_idtable *t = sample_table();
	const struct kp_ident_disk *disk = NULL;
	const struct kp_ident *id;

	id = kp_idtable_find_ifindex(t, 0, 17);
	assert_non_null(id);
	assert_int_equal(id->pid, 100);
	assert_int_equal(id->nnics, 1); /* merged: in the XML and held */
	assert_true(id->nics[0].in_xml && id->nics[0].held);
	assert_int_equal(kp_idtable_find_ifindex(t, 0, 23)->pid, 200);
	/* a nic of unknown namespace matches any */
	assert_int_equal(kp_idtable_find_ifindex(t, 77, 23)->pid, 200);
	assert_null(kp_idtable_find_ifindex(t, 0, 0));
	assert_null(kp_idtable_find_ifindex(t, 0, 99));
	/* the same ifindex in two namespaces: each its own VM */
	assert_int_equal(kp_idtable_find_ifindex(t, 4001, 2)->pid, 410);
	assert_int_equal(kp_idtable_find_ifindex(t, 5001, 2)->pid, 510);
	assert_null(kp_idtable_find_ifindex(t, 6001, 2));
	id = kp_idtable_find_devno(t, 0x700007, &disk);
	assert_non_null(id);
	assert_string_equal(disk->target, "vda");
	assert_true(disk->block);
	assert_null(kp_idtable_find_devno(t, 0, NULL));
	kp_idtable_put(t);
}

static void copy__is_deep_and_survives_the_source(void **state)
{
	struct kp_idtable *t = sample_table(), *u = kp_idtable_new();
	const struct kp_ident *id;
	struct kp_ident *c;

	c = kp_idtable_add_copy(u, kp_idtable_find(t, 100, 1000));
	assert_non_null(c);
	assert_non_null(kp_idtable_add_copy(u, kp_idtable_find(t, 410, 4000)));
	c->gone = true;
	kp_idtable_seal(u);
	kp_idtable_put(t);
	id = kp_idtable_find(u, 100, 1000);
	assert_string_equal(id->name, "kp \"test\" é");
	assert_int_equal(id->nthreads, 3);
	assert_int_equal(id->ndisks, 1);
	assert_string_equal(id->disks[0].source, "/dev/loop7");
	assert_int_equal(id->mem.v[KP_MEM_RSS], 4096);
	assert_true(id->gone);
	id = kp_idtable_find(u, 410, 4000);
	assert_int_equal(id->nics[0].netns, 4001);
	assert_int_equal(id->nics[0].ifindex, 2);
	kp_idtable_put(u);
}

static void refs__last_put_frees(void **state)
{
	struct kp_idtable *t = sample_table();

	assert_ptr_equal(kp_idtable_get(t), t);
	kp_idtable_put(t);
	assert_int_equal(kp_idtable_count(t), 6); /* still referenced */
	kp_idtable_put(t);
	kp_idtable_put(NULL);
	assert_null(kp_idtable_get(NULL));
}

static void many_threads__grow_past_initial_capacity(void **state)
{
	struct kp_idtable *t = kp_idtable_new();
	struct kp_ident *id = kp_idtable_add(t, 1, 1);
	const struct kp_ident *f;
	uint32_t i;

	for (i = 0; i < 1000; i++)
		assert_int_equal(kp_ident_add_thread(id, 10 + i, KP_THREAD_VCPU,
						     i), 0);
	for (i = 0; i < 100; i++)
		assert_int_equal(kp_ident_add_nic(id, i % 2 ? "a" : "b", 0,
						  i, false, true), 0);
	kp_idtable_seal(t);
	f = kp_idtable_find(t, 1, 1);
	assert_int_equal(f->nthreads, 1000);
	assert_int_equal(kp_ident_thread(f, 1009)->index, 999);
	assert_int_equal(f->nnics, 2);
	kp_idtable_put(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(find__pid_and_start_time__give_the_entry),
		cmocka_unit_test(find__reused_pid__never_gives_the_old_name),
		cmocka_unit_test(find__exited_only__gives_the_latest),
		cmocka_unit_test(threads__roles_by_tid),
		cmocka_unit_test(matches__name_exactly_or_uuid_in_any_case),
		cmocka_unit_test(topology__tap_and_disk__lead_to_the_vm),
		cmocka_unit_test(copy__is_deep_and_survives_the_source),
		cmocka_unit_test(refs__last_put_frees),
		cmocka_unit_test(many_threads__grow_past_initial_capacity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
