/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The resolver: adds identity to an interval's records (process name, vCPU
 * index from the thread name when the kernel did not give it). The libvirt
 * resolver (domain name, UUID) plugs in here.
 */
#ifndef KP_RESOLVE_H
#define KP_RESOLVE_H

#include "user/record.h"

struct kp_resolver;

struct kp_resolver *kp_resolver_new(const char *proc_root);
void kp_resolver_free(struct kp_resolver *r);
/* Fill identities in iv (a finished interval may be re-sorted). */
int kp_resolver_apply(struct kp_resolver *r, struct kp_interval *iv);

#endif /* KP_RESOLVE_H */
