// SPDX-License-Identifier: GPL-2.0
/* The probe table: adding a probe means adding its entry here. */
#include "user/probe.h"
#include "user/exits.h"

const struct kp_probe kp_probe_table[] = {
	{
		.name = "exits",
		.start = kp_exits_start,
		.read = kp_exits_read,
		.stop = kp_exits_stop,
	},
};

const size_t kp_probe_count = sizeof(kp_probe_table) /
			      sizeof(kp_probe_table[0]);
