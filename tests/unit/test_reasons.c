// SPDX-License-Identifier: GPL-2.0
/* Unit tests for user/core/reasons.c: exit reason names as the kernel prints them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <linux/types.h>
#include "bpf/exits.h"
#include "user/core/reasons.h"
#include "user/core/record.h" /* KP_LABEL_MAX: names become sample labels */

static char buf[KP_REASON_NAME_MAX];

static const char *name(unsigned int kind, uint32_t reason)
{
	memset(buf, 0, sizeof(buf));
	return kp_reason_name(kind, reason, buf, sizeof(buf));
}

static void reason_name__svm_codes__use_kernel_svm_names(void **state)
{
	assert_string_equal(name(EXITS_KIND_SVM, 0x7b), "io");
	assert_string_equal(name(EXITS_KIND_SVM, 0x400), "npf");
	assert_string_equal(name(EXITS_KIND_SVM, 0x78), "hlt");
	assert_string_equal(name(EXITS_KIND_SVM, 0x72), "cpuid");
	assert_string_equal(name(EXITS_KIND_SVM, 0x60), "interrupt");
	assert_string_equal(name(EXITS_KIND_SVM, 0x7c), "msr");
}

static void reason_name__svm_exit_err__is_invalid_guest_state(void **state)
{
	/* SVM_EXIT_ERR is -1: the table must match it as a u32 */
	assert_string_equal(name(EXITS_KIND_SVM, 0xffffffffu),
			    "invalid_guest_state");
}

static void reason_name__vmx_codes__use_kernel_vmx_names(void **state)
{
	assert_string_equal(name(EXITS_KIND_VMX, 30), "IO_INSTRUCTION");
	assert_string_equal(name(EXITS_KIND_VMX, 48), "EPT_VIOLATION");
	assert_string_equal(name(EXITS_KIND_VMX, 12), "HLT");
	assert_string_equal(name(EXITS_KIND_VMX, 10), "CPUID");
	assert_string_equal(name(EXITS_KIND_VMX, 1), "EXTERNAL_INTERRUPT");
}

static void reason_name__same_code_of_other_isa__is_not_mixed_up(void **state)
{
	/* 0x7b is "io" on SVM, 123 is not a VMX reason */
	assert_string_equal(name(EXITS_KIND_VMX, 0x7b), "0x7b");
	/* 30 is IO_INSTRUCTION on VMX, "write_cr14" on SVM */
	assert_string_not_equal(name(EXITS_KIND_SVM, 30), "IO_INSTRUCTION");
}

static void reason_name__kvm_exit_codes__drop_the_prefix(void **state)
{
	assert_string_equal(name(EXITS_KIND_USER, 2), "IO");
	assert_string_equal(name(EXITS_KIND_USER, 6), "MMIO");
	assert_string_equal(name(EXITS_KIND_USER, 5), "HLT");
	assert_string_equal(name(EXITS_KIND_USER, 10), "INTR");
	assert_string_equal(name(EXITS_KIND_USER, 8), "SHUTDOWN");
	assert_string_equal(name(EXITS_KIND_USER, 24), "SYSTEM_EVENT");
}

static void reason_name__kvm_run_error__is_error(void **state)
{
	assert_string_equal(name(EXITS_KIND_USER, EXITS_USER_ERROR), "ERROR");
}

static void reason_name__halt_kinds__are_poll_and_wait(void **state)
{
	assert_string_equal(name(EXITS_KIND_HALT, EXITS_HALT_POLL), "poll");
	assert_string_equal(name(EXITS_KIND_HALT, EXITS_HALT_WAIT), "wait");
	assert_string_equal(name(EXITS_KIND_HALT, 2), "0x2");
}

static void reason_name__unknown_code__is_hex_in_buf(void **state)
{
	const char *s;

	s = name(EXITS_KIND_SVM, 0x1234);
	assert_ptr_equal(s, buf);
	assert_string_equal(s, "0x1234");
	assert_string_equal(name(EXITS_KIND_VMX, 0x1234), "0x1234");
	assert_string_equal(name(EXITS_KIND_USER, 0x1234), "0x1234");
	assert_string_equal(name(EXITS_KIND_VMX, 0xfffffffeu), "0xfffffffe");
}

static void reason_name__unknown_kind__is_hex_in_buf(void **state)
{
	const char *s = name(0, 0x7b);

	assert_ptr_equal(s, buf);
	assert_string_equal(s, "0x7b");
	assert_string_equal(name(99, 2), "0x2");
}

static void reason_name__small_buffer__truncates_without_overflow(void **state)
{
	char small[8];
	const char *s;

	memset(small, 'X', sizeof(small));
	s = kp_reason_name(EXITS_KIND_SVM, 0x12345678, small, 4);
	assert_ptr_equal(s, small);
	assert_string_equal(s, "0x1");
	assert_memory_equal(small + 4, "XXXX", 4);
}

static void reason_name__longest_hex__fits_name_max(void **state)
{
	/* name() passes a KP_REASON_NAME_MAX buffer */
	assert_string_equal(name(EXITS_KIND_HALT, 0xffffffffu), "0xffffffff");
}

static void reason_name__table_names__fit_a_sample_label(void **state)
{
	static const unsigned int kinds[] = { EXITS_KIND_VMX, EXITS_KIND_SVM,
					      EXITS_KIND_USER };
	uint32_t code;
	size_t k;

	/* every code of every table, plus SVM's VMGEXIT codes */
	for (k = 0; k < 3; k++) {
		for (code = 0; code < 0x1000; code++)
			assert_true(strlen(name(kinds[k], code)) <
				    KP_LABEL_MAX);
	}
	for (code = 0x80000000; code < 0x80000020; code++)
		assert_true(strlen(name(EXITS_KIND_SVM, code)) < KP_LABEL_MAX);
	for (code = 0x8000ff00; code <= 0x8000ffff; code++)
		assert_true(strlen(name(EXITS_KIND_SVM, code)) < KP_LABEL_MAX);
	assert_true(strlen(name(EXITS_KIND_SVM, 0xffffffffu)) < KP_LABEL_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reason_name__svm_codes__use_kernel_svm_names),
		cmocka_unit_test(reason_name__svm_exit_err__is_invalid_guest_state),
		cmocka_unit_test(reason_name__vmx_codes__use_kernel_vmx_names),
		cmocka_unit_test(reason_name__same_code_of_other_isa__is_not_mixed_up),
		cmocka_unit_test(reason_name__kvm_exit_codes__drop_the_prefix),
		cmocka_unit_test(reason_name__kvm_run_error__is_error),
		cmocka_unit_test(reason_name__halt_kinds__are_poll_and_wait),
		cmocka_unit_test(reason_name__unknown_code__is_hex_in_buf),
		cmocka_unit_test(reason_name__unknown_kind__is_hex_in_buf),
		cmocka_unit_test(reason_name__small_buffer__truncates_without_overflow),
		cmocka_unit_test(reason_name__longest_hex__fits_name_max),
		cmocka_unit_test(reason_name__table_names__fit_a_sample_label),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
