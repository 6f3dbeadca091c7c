// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <linux/kvm.h> /* *_VECTOR, used by SVM_EXIT_REASONS */
#include <asm/svm.h>
#include <asm/vmx.h>
#include <linux/types.h>
#include "bpf/exits.h"
#include "user/core/reasons.h"

struct reason_name {
	uint32_t code;
	const char *name;
};

/* The kernel's own tables, as the kvm_exit tracepoint prints them. */
static const struct reason_name svm_names[] = { SVM_EXIT_REASONS };
static const struct reason_name vmx_names[] = { VMX_EXIT_REASONS };
/* Generated from <linux/kvm.h> by tools/gen-kvm-exit-names.sh */
static const struct reason_name kvm_exit_names[] = {
#include "kvm_exit_names.h"
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *lookup(const struct reason_name *t, size_t n, uint32_t code)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i].code == code)
			return t[i].name;
	return NULL;
}

const char *kp_reason_name(unsigned int kind, uint32_t reason, char *buf,
			   size_t len)
{
	const char *name = NULL;

	switch (kind) {
	case EXITS_KIND_SVM:
		name = lookup(svm_names, ARRAY_SIZE(svm_names), reason);
		break;
	case EXITS_KIND_VMX:
		name = lookup(vmx_names, ARRAY_SIZE(vmx_names), reason);
		break;
	case EXITS_KIND_USER:
		if (reason == EXITS_USER_ERROR)
			return "ERROR";
		name = lookup(kvm_exit_names, ARRAY_SIZE(kvm_exit_names),
			      reason);
		break;
	case EXITS_KIND_HALT:
		if (reason == EXITS_HALT_POLL)
			return "poll";
		if (reason == EXITS_HALT_WAIT)
			return "wait";
		break;
	}
	if (name)
		return name;
	snprintf(buf, len, "0x%x", reason);
	return buf;
}
