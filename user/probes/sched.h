/* SPDX-License-Identifier: GPL-2.0 */
/* The sched probe: vCPU run delay, CPU time, preemptions, noisy neighbours. */
#ifndef KP_USER_SCHED_H
#define KP_USER_SCHED_H

#include "user/probes/probe.h"

int kp_sched_start(const struct kp_probe_env *env, void **state,
		   struct kp_probe_status *st);
int kp_sched_read(void *state, struct kp_interval *iv);
void kp_sched_stop(void *state);

#endif /* KP_USER_SCHED_H */
