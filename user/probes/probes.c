// SPDX-License-Identifier: GPL-2.0
/* The probe table: adding a probe means adding its entry here. */
#include "user/probes/probe.h"
#include "user/probes/exits.h"
#include "user/probes/sched.h"
#include "user/probes/block.h"
#include "user/probes/net.h"

const struct kp_probe kp_probe_table[] = {
	{
		.name = "exits",
		.start = kp_exits_start,
		.read = kp_exits_read,
		.stop = kp_exits_stop,
	},
	{
		.name = "sched",
		.start = kp_sched_start,
		.read = kp_sched_read,
		.stop = kp_sched_stop,
	},
	{
		.name = "block",
		.start = kp_block_start,
		.read = kp_block_read,
		.stop = kp_block_stop,
	},
	{
		.name = "net",
		.start = kp_net_start,
		.run = kp_net_run,
		.read = kp_net_read,
		.stop = kp_net_stop,
	},
};

const size_t kp_probe_count = sizeof(kp_probe_table) /
			      sizeof(kp_probe_table[0]);
_Static_assert(sizeof(kp_probe_table) / sizeof(kp_probe_table[0]) <=
		       KP_PROBE_MAX,
	       "the probe table outgrew KP_PROBE_MAX (probe.h)");
_Static_assert(KP_PROBE_MAX <= 32, "--probes is a 32-bit mask");
