/* SPDX-License-Identifier: GPL-2.0 */
/* The block probe: block I/O per submitting process, device and operation. */
#ifndef KP_USER_BLOCK_H
#define KP_USER_BLOCK_H

#include "user/probes/probe.h"

int kp_block_start(const struct kp_probe_env *env, void **state,
		   struct kp_probe_status *st);
int kp_block_read(void *state, struct kp_interval *iv);
void kp_block_stop(void *state);

#endif /* KP_USER_BLOCK_H */
