/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Names of the kernel's packet drop reasons (skb:kfree_skb's reason), read
 * from the running kernel's BTF: enum skb_drop_reason's enumerators without
 * the SKB_DROP_REASON_ prefix. No list is typed in here: every kernel has
 * its own. Pure: works on a struct btf the caller loads.
 */
#ifndef KP_DROPREASON_H
#define KP_DROPREASON_H

#include <stddef.h>
#include <stdint.h>

struct btf;

#define KP_DROPREASON_MAX 1024 /* core reasons; subsystem ones are above
				* 0xffff and are written in hex */
#define KP_DROPREASON_NAME_MAX 48

struct kp_dropreasons {
	char (*names)[KP_DROPREASON_NAME_MAX]; /* by value, "" when unknown */
	size_t n;
};

/*
 * Fill t from enum skb_drop_reason in btf. 0, -ENOENT when btf has no such
 * enum (kernels before v5.17), -ENOMEM.
 */
int kp_dropreasons_load(struct kp_dropreasons *t, const struct btf *btf);
/* The name of reason: from t, else "0x<hex>" written to buf. */
const char *kp_dropreason_name(const struct kp_dropreasons *t, uint32_t reason,
			       char *buf, size_t len);
void kp_dropreasons_free(struct kp_dropreasons *t);

#endif /* KP_DROPREASON_H */
