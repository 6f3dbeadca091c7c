/* SPDX-License-Identifier: GPL-2.0 */
/* The net probe: packets, bytes, drops and delivery latency of VM taps. */
#ifndef KP_USER_NET_H
#define KP_USER_NET_H

#include "user/probes/probe.h"

int kp_net_start(const struct kp_probe_env *env, void **state,
		 struct kp_probe_status *st);
/* Start the control thread (duty cycle, sampling shifts). */
int kp_net_run(void *state);
int kp_net_read(void *state, struct kp_interval *iv);
void kp_net_stop(void *state);

#endif /* KP_USER_NET_H */
