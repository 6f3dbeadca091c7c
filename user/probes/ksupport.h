/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the running kernel supports, probed before a BPF object is loaded:
 * BTF types in vmlinux and the KVM modules (for tp_btf) and
 * tracefs events (for classic tracepoints).
 */
#ifndef KP_KSUPPORT_H
#define KP_KSUPPORT_H

#include <stdbool.h>
#include <stddef.h>

struct btf;

struct kp_ksupport;

struct kp_ksupport *kp_ksupport_new(void);
void kp_ksupport_free(struct kp_ksupport *ks);

/* Whether name of BTF kind (BTF_KIND_*) is in vmlinux or a KVM module. */
bool kp_ksupport_btf_has(struct kp_ksupport *ks, const char *name, int kind);
bool kp_ksupport_has_vmlinux_btf(struct kp_ksupport *ks);
/* Whether vmlinux's struct type has a member named member (top level). */
bool kp_ksupport_btf_member(struct kp_ksupport *ks, const char *type,
			    const char *member);
/* The kernel's BTF (owned by ks), or NULL when it has none. */
const struct btf *kp_ksupport_vmlinux_btf(struct kp_ksupport *ks);

/*
 * Whether tracefs has event category/name: 0, -ENOENT (no such event) or
 * -ENODEV (tracefs is not mounted).
 */
int kp_ksupport_tracefs_event(const char *category, const char *name);

#endif /* KP_KSUPPORT_H */
