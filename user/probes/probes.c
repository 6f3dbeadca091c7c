// SPDX-License-Identifier: GPL-2.0
/*
 * The probe table: adding a probe means defining its struct kp_probe in its
 * own user/probes/<name>.c and adding it here.
 */
#include "user/probes/probe.h"

extern const struct kp_probe kp_probe_exits;
extern const struct kp_probe kp_probe_sched;
extern const struct kp_probe kp_probe_block;
extern const struct kp_probe kp_probe_net;
extern const struct kp_probe kp_probe_haltpoll;

const struct kp_probe *const kp_probe_table[] = {
	&kp_probe_exits,
	&kp_probe_sched,
	&kp_probe_block,
	&kp_probe_net,
	&kp_probe_haltpoll,
};

const size_t kp_probe_count = sizeof(kp_probe_table) /
			      sizeof(kp_probe_table[0]);
_Static_assert(sizeof(kp_probe_table) / sizeof(kp_probe_table[0]) <=
		       KP_PROBE_MAX,
	       "the probe table outgrew KP_PROBE_MAX (probe.h)");
_Static_assert(KP_PROBE_MAX <= 32, "--probes is a 32-bit mask");
