/* SPDX-License-Identifier: GPL-2.0 */
/* Names of exit reasons, from the kernel's own tables. Pure functions. */
#ifndef KP_REASONS_H
#define KP_REASONS_H

#include <stddef.h>
#include <stdint.h>

#define KP_REASON_NAME_MAX 24

/*
 * The name of reason for an entry of kind (enum exits_kind): the SVM or VMX
 * exit reason name, the KVM_EXIT_* name without its prefix, or the halt
 * kind. An unknown code is formatted as "0x%x" into buf, which is returned.
 */
const char *kp_reason_name(unsigned int kind, uint32_t reason, char *buf,
			   size_t len);

#endif /* KP_REASONS_H */
