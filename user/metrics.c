// SPDX-License-Identifier: GPL-2.0
#include <stddef.h>
#include "user/metrics.h"

static const struct kp_metric_desc metrics[KP_M__COUNT] = {
	[KP_M_EXITS] = {
		.json = "exits",
		.prom = "kvmprobe_vm_exits_total",
		.label = "reason",
		.probe = "exits",
		.type = KP_COUNTER,
		.scope = KP_SCOPE_VCPU,
		.unit = KP_UNIT_EVENTS,
		.help = "Guest exits (kvm:kvm_exit) by exit reason.",
	},
	[KP_M_EXIT_TIME] = {
		.json = "exit_time",
		.prom = "kvmprobe_exit_handling_seconds",
		.label = "reason",
		.probe = "exits",
		.type = KP_HISTOGRAM,
		.scope = KP_SCOPE_VM,
		.unit = KP_UNIT_NS,
		.help = "In-kernel handling time of guest exits, from kvm_exit "
			"to the next kvm_entry or the return to userspace.",
	},
	[KP_M_UEXITS] = {
		.json = "userspace_exits",
		.prom = "kvmprobe_userspace_exits_total",
		.label = "reason",
		.probe = "exits",
		.type = KP_COUNTER,
		.scope = KP_SCOPE_VCPU,
		.unit = KP_UNIT_EVENTS,
		.help = "Returns of KVM_RUN to the VMM by KVM_EXIT_* reason.",
	},
	[KP_M_UEXIT_TIME] = {
		.json = "userspace_time",
		.prom = "kvmprobe_userspace_exit_handling_seconds",
		.label = "reason",
		.probe = "exits",
		.type = KP_HISTOGRAM,
		.scope = KP_SCOPE_VM,
		.unit = KP_UNIT_NS,
		.help = "Time the VMM took to handle an exit to userspace, from "
			"kvm_userspace_exit to the thread's next KVM_RUN.",
	},
	[KP_M_HALT_TIME] = {
		.json = "halt",
		.prom = "kvmprobe_halt_seconds",
		.label = "kind",
		.probe = "exits",
		.type = KP_HISTOGRAM,
		.scope = KP_SCOPE_VM,
		.unit = KP_UNIT_NS,
		.help = "Time vCPUs spent halted (kvm:kvm_vcpu_wakeup), by "
			"wake-up found while polling (poll) or after sleeping "
			"(wait).",
	},
};

const struct kp_metric_desc *kp_metric(enum kp_metric_id id)
{
	if ((unsigned int)id >= KP_M__COUNT)
		return NULL;
	return &metrics[id];
}

const char *kp_mtype_name(enum kp_mtype t)
{
	static const char *const names[] = { "counter", "gauge", "histogram" };

	return (unsigned int)t < 3 ? names[t] : "?";
}

const char *kp_scope_name(enum kp_scope s)
{
	static const char *const names[] = { "host", "vm", "vcpu" };

	return (unsigned int)s < 3 ? names[s] : "?";
}

const char *kp_unit_name(enum kp_unit u)
{
	static const char *const names[] = { "events", "nanoseconds" };

	return (unsigned int)u < 2 ? names[u] : "?";
}
