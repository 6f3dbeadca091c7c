// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for user/probes/dropreason.c: drop reason names from BTF. The BTF
 * fixtures are built in memory with libbpf's BTF writer, shaped like the
 * kernel's enum skb_drop_reason of different versions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <bpf/btf.h>
#include "user/probes/dropreason.h"

static struct btf *kernel_like_btf(void)
{
	struct btf *btf = btf__new_empty();
	int id;

	assert_non_null(btf);
	/* some other type first, so the enum is not type 1 */
	assert_true(btf__add_int(btf, "int", 4, BTF_INT_SIGNED) > 0);
	id = btf__add_enum(btf, "skb_drop_reason", 4);
	assert_true(id > 0);
	assert_int_equal(btf__add_enum_value(btf, "SKB_NOT_DROPPED_YET", 0), 0);
	assert_int_equal(btf__add_enum_value(btf, "SKB_CONSUMED", 1), 0);
	assert_int_equal(btf__add_enum_value(btf, "SKB_DROP_REASON_NOT_SPECIFIED", 2), 0);
	assert_int_equal(btf__add_enum_value(btf, "SKB_DROP_REASON_FULL_RING", 80), 0);
	assert_int_equal(btf__add_enum_value(btf, "SKB_DROP_REASON_MAX", 120), 0);
	assert_int_equal(btf__add_enum_value(btf, "SKB_DROP_REASON_SUBSYS_MASK", 0xffff0000), 0);
	/* a different enum with a clashing value must not be read */
	id = btf__add_enum(btf, "other_reason", 4);
	assert_int_equal(btf__add_enum_value(btf, "SKB_DROP_REASON_BOGUS", 80), 0);
	return btf;
}

static void load__kernel_enum__strips_the_prefix(void **state)
{
	struct btf *btf = kernel_like_btf();
	struct kp_dropreasons t;
	char buf[24];

	assert_int_equal(kp_dropreasons_load(&t, btf), 0);
	assert_string_equal(kp_dropreason_name(&t, 2, buf, sizeof(buf)),
			    "NOT_SPECIFIED");
	assert_string_equal(kp_dropreason_name(&t, 80, buf, sizeof(buf)),
			    "FULL_RING");
	/* names without the prefix stay whole */
	assert_string_equal(kp_dropreason_name(&t, 1, buf, sizeof(buf)),
			    "SKB_CONSUMED");
	kp_dropreasons_free(&t);
	btf__free(btf);
}

static void name__unknown_or_subsystem_value__is_hex(void **state)
{
	struct btf *btf = kernel_like_btf();
	struct kp_dropreasons t;
	char buf[24];

	assert_int_equal(kp_dropreasons_load(&t, btf), 0);
	assert_string_equal(kp_dropreason_name(&t, 81, buf, sizeof(buf)),
			    "0x51");
	/* subsystem reasons (mac80211, ovs) live above 0xffff */
	assert_string_equal(kp_dropreason_name(&t, 0x10003, buf, sizeof(buf)),
			    "0x10003");
	kp_dropreasons_free(&t);
	btf__free(btf);
}

static void load__no_enum__is_enoent_and_names_are_hex(void **state)
{
	struct btf *btf = btf__new_empty();
	struct kp_dropreasons t;
	char buf[24];

	assert_true(btf__add_int(btf, "int", 4, BTF_INT_SIGNED) > 0);
	assert_int_equal(kp_dropreasons_load(&t, btf), -ENOENT);
	assert_string_equal(kp_dropreason_name(&t, 2, buf, sizeof(buf)), "0x2");
	assert_string_equal(kp_dropreason_name(NULL, 2, buf, sizeof(buf)),
			    "0x2");
	kp_dropreasons_free(&t);
	btf__free(btf);
}

static void load__enum64__is_read_too(void **state)
{
	struct btf *btf = btf__new_empty();
	struct kp_dropreasons t;
	char buf[24];

	assert_true(btf__add_enum64(btf, "skb_drop_reason", 8, false) > 0);
	assert_int_equal(btf__add_enum64_value(btf, "SKB_DROP_REASON_NO_SOCKET", 3), 0);
	assert_int_equal(kp_dropreasons_load(&t, btf), 0);
	assert_string_equal(kp_dropreason_name(&t, 3, buf, sizeof(buf)),
			    "NO_SOCKET");
	kp_dropreasons_free(&t);
	btf__free(btf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(load__kernel_enum__strips_the_prefix),
		cmocka_unit_test(name__unknown_or_subsystem_value__is_hex),
		cmocka_unit_test(load__no_enum__is_enoent_and_names_are_hex),
		cmocka_unit_test(load__enum64__is_read_too),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
