/* SPDX-License-Identifier: GPL-2.0 */
/* The exits probe: VM exits, exits to the VMM and halt time. */
#ifndef KP_USER_EXITS_H
#define KP_USER_EXITS_H

#include "user/probes/probe.h"

int kp_exits_start(const struct kp_probe_env *env, void **state,
		   struct kp_probe_status *st);
int kp_exits_read(void *state, struct kp_interval *iv);
void kp_exits_stop(void *state);

#endif /* KP_USER_EXITS_H */
