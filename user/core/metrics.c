// SPDX-License-Identifier: GPL-2.0
#include <stddef.h>
#include <string.h>
#include "user/core/metrics.h"

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
	[KP_M_EXIT_ONCPU] = {
		.json = "exit_oncpu_ns",
		.prom = "kvmprobe_exit_handling_oncpu_seconds_total",
		.label = "reason",
		.probe = "exits",
		.type = KP_COUNTER,
		.scope = KP_SCOPE_VCPU,
		.unit = KP_UNIT_NS,
		.help = "Of exit_time, the time the vCPU thread was on a CPU. "
			"Needs the sched probe's BTF-typed sched_switch "
			"(per-event tier): absent without it",
	},
	[KP_M_EXIT_WAIT] = {
		.json = "exit_waiting_ns",
		.prom = "kvmprobe_exit_handling_waiting_seconds_total",
		.label = "reason",
		.probe = "exits",
		.type = KP_COUNTER,
		.scope = KP_SCOPE_VCPU,
		.unit = KP_UNIT_NS,
		.help = "Of exit_time, the time the vCPU thread waited for a "
			"CPU, runnable (preempted, or woken and queued): the "
			"kernel's run_delay. Absent without the sched probe",
	},
	[KP_M_EXIT_BLOCK] = {
		.json = "exit_blocked_ns",
		.prom = "kvmprobe_exit_handling_blocked_seconds_total",
		.label = "reason",
		.probe = "exits",
		.type = KP_COUNTER,
		.scope = KP_SCOPE_VCPU,
		.unit = KP_UNIT_NS,
		.help = "Of exit_time, the time the vCPU thread slept (a page "
			"fault's I/O, a lock): off its CPU and not runnable. "
			"Absent without the sched probe",
	},
	[KP_M_UEXIT_ONCPU] = {
		.json = "userspace_oncpu_ns",
		.prom = "kvmprobe_userspace_exit_handling_oncpu_seconds_total",
		.label = "reason",
		.probe = "exits",
		.type = KP_COUNTER,
		.scope = KP_SCOPE_VCPU,
		.unit = KP_UNIT_NS,
		.help = "Of userspace_time, the time the vCPU thread was on a "
			"CPU (the VMM's handler running, the way in and out "
			"of the kernel). Needs the sched probe's BTF-typed "
			"sched_switch (per-event tier): absent without it",
	},
	[KP_M_UEXIT_WAIT] = {
		.json = "userspace_waiting_ns",
		.prom = "kvmprobe_userspace_exit_handling_waiting_seconds_total",
		.label = "reason",
		.probe = "exits",
		.type = KP_COUNTER,
		.scope = KP_SCOPE_VCPU,
		.unit = KP_UNIT_NS,
		.help = "Of userspace_time, the time the vCPU thread waited for "
			"a CPU, runnable (preempted, or woken and queued): "
			"the kernel's run_delay. Absent without the sched "
			"probe",
	},
	[KP_M_UEXIT_BLOCK] = {
		.json = "userspace_blocked_ns",
		.prom = "kvmprobe_userspace_exit_handling_blocked_seconds_total",
		.label = "reason",
		.probe = "exits",
		.type = KP_COUNTER,
		.scope = KP_SCOPE_VCPU,
		.unit = KP_UNIT_NS,
		.help = "Of userspace_time, the time the vCPU thread slept "
			"(the VMM waiting on a lock, its I/O thread, a page "
			"fault's I/O). Absent without the sched probe",
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
	[KP_M_HALTS] = {
		.json = "halts",
		.prom = "kvmprobe_vcpu_halts_total",
		.probe = "haltpoll",
		.type = KP_COUNTER,
		.scope = KP_SCOPE_VCPU,
		.unit = KP_UNIT_EVENTS,
		.show = KP_SHOW_COUNT,
		.help = "HLTs the guest executed that KVM handled (kernel "
			"counter halt_exits of the vCPU; x86), whether they "
			"halted in the kernel or exited to the VMM.",
	},
	[KP_M_HALT_POLLS] = {
		.json = "halt_polls",
		.prom = "kvmprobe_vcpu_halt_polls_total",
		.label = "outcome",
		.probe = "haltpoll",
		.type = KP_COUNTER,
		.scope = KP_SCOPE_VCPU,
		.unit = KP_UNIT_EVENTS,
		.help = "Halts KVM polled for (kernel counters of the vCPU): "
			"win, a wake-up came while polling "
			"(halt_successful_poll); fail, the poll gave up and "
			"the vCPU slept (halt_attempted_poll less the wins).",
	},
	[KP_M_POLL_WIN] = {
		.json = "poll_win_pct",
		.prom = "kvmprobe_vcpu_halt_poll_win_seconds_total",
		.probe = "haltpoll",
		.type = KP_COUNTER,
		.scope = KP_SCOPE_VCPU,
		.unit = KP_UNIT_NS,
		.show = KP_SHOW_PCT,
		.help = "CPU time KVM spent polling for a wake-up that came "
			"(kernel counter halt_poll_success_ns): latency "
			"bought with CPU, in records as a percentage of the "
			"interval (of one CPU; a VM's sums its vCPUs).",
	},
	[KP_M_POLL_FAIL] = {
		.json = "poll_fail_pct",
		.prom = "kvmprobe_vcpu_halt_poll_fail_seconds_total",
		.probe = "haltpoll",
		.type = KP_COUNTER,
		.scope = KP_SCOPE_VCPU,
		.unit = KP_UNIT_NS,
		.show = KP_SHOW_PCT,
		.help = "CPU time KVM spent polling in vain before the vCPU "
			"slept anyway (kernel counter halt_poll_fail_ns): CPU "
			"burnt for nothing, in records as a percentage of "
			"the interval (of one CPU; a VM's sums its vCPUs).",
	},
	[KP_M_HALT_WAIT] = {
		.json = "halt_wait_pct",
		.prom = "kvmprobe_vcpu_halt_wait_seconds_total",
		.probe = "haltpoll",
		.type = KP_COUNTER,
		.scope = KP_SCOPE_VCPU,
		.unit = KP_UNIT_NS,
		.show = KP_SHOW_PCT,
		.help = "Time halted vCPUs slept, after polling or without "
			"it, until a wake-up (kernel counter halt_wait_ns, "
			"v5.14+), in records as a percentage of the interval.",
	},
	[KP_M_RUN_DELAY] = {
		.json = "run_delay",
		.prom = "kvmprobe_vcpu_run_delay_seconds",
		.probe = "sched",
		.type = KP_HISTOGRAM,
		.scope = KP_SCOPE_VCPU,
		.unit = KP_UNIT_NS,
		.show = KP_SHOW_DELAY,
		.pct = "",
		.share = "ready",
		.prom_total = "kvmprobe_vcpu_run_delay_seconds_total",
		.help = "Run delay (CPU ready, esxtop %RDY, steal time in the "
			"guest): time a vCPU thread was runnable but not "
			"running, from its wake-up or preemption until it ran. "
			"The total is the kernel's count (schedstat, the "
			"counter tier, exact); the histogram holds the waits "
			"the per-event tier saw end while it ran "
			"(sched_events_pct of the interval).",
	},
	[KP_M_CPU_TIME] = {
		.json = "cpu_pct",
		.prom = "kvmprobe_vcpu_cpu_seconds_total",
		.probe = "sched",
		.type = KP_COUNTER,
		.scope = KP_SCOPE_VCPU,
		.unit = KP_UNIT_NS,
		.show = KP_SHOW_PCT,
		.help = "On-CPU time of a vCPU thread (guest time and the "
			"host's work in that thread; the kernel's count, "
			"counter tier), in records as a percentage of the "
			"interval.",
	},
	[KP_M_PREEMPTIONS] = {
		.json = "preemptions",
		.prom = "kvmprobe_vcpu_preemptions_total",
		.probe = "sched",
		.type = KP_COUNTER,
		.scope = KP_SCOPE_VCPU,
		.unit = KP_UNIT_EVENTS,
		.show = KP_SHOW_COUNT,
		.help = "Involuntary context switches: the vCPU thread was "
			"switched out while still runnable (the kernel's "
			"nivcsw, counter tier).",
	},
	[KP_M_PREEMPTED_BY] = {
		.json = "preempted_by",
		.prom = "kvmprobe_vcpu_preempted_by_seconds_total",
		.label = "tid",
		.probe = "sched",
		.type = KP_COUNTER,
		.scope = KP_SCOPE_VCPU,
		.unit = KP_UNIT_NS,
		.show = KP_SHOW_TOP,
		.help = "Noisy neighbours: time other threads ran on the CPU a "
			"vCPU was waiting for, per thread; the 5 that took "
			"most. Per-event tier: while it ran "
			"(sched_events_pct).",
	},
	[KP_M_LIMITED] = {
		.json = "limited_pct",
		.prom = "kvmprobe_vcpu_limited_seconds_total",
		.probe = "sched",
		.type = KP_COUNTER,
		.scope = KP_SCOPE_VCPU,
		.unit = KP_UNIT_NS,
		.show = KP_SHOW_PCT,
		.help = "CPU limit (esxtop %MLMTD): the part of the run delay "
			"the vCPU waited because its own cgroup was throttled "
			"by its CPU quota (cpu.max, cpu.cfs_quota_us, libvirt "
			"<cputune>), not for a busy CPU. The cgroup's "
			"throttled time (cpu.stat) shared among its vCPUs by "
			"run delay, at most each vCPU's run delay; run_delay's "
			"ready_pct is the rest. Absent without a cgroup CPU "
			"controller and in the first interval of a cgroup.",
	},
	[KP_M_LIMIT_SOURCE] = {
		.json = "limited_source",
		.prom = "kvmprobe_vcpu_limited_source_info",
		.label = "source",
		.probe = "sched",
		.type = KP_GAUGE,
		.scope = KP_SCOPE_VCPU,
		.unit = KP_UNIT_EVENTS,
		.show = KP_SHOW_INFO,
		.help = "Which tier produced limited_pct: cgroup_v1 "
			"(cpu.stat throttled_time) or cgroup_v2 (cpu.stat "
			"throttled_usec) kernel counters of the vCPU thread's "
			"cgroup; absent (null) when there is no figure.",
	},
	[KP_M_MEM_BALLOON_CURRENT] = {
		.json = "memory.balloon_current_kib",
		.prom = "kvmprobe_vm_balloon_current_bytes",
		.probe = "libvirt",
		.type = KP_GAUGE,
		.scope = KP_SCOPE_VM,
		.unit = KP_UNIT_KIB,
		.show = KP_SHOW_COUNT,
		.help = "Memory the guest has now (libvirt balloon.current).",
	},
	[KP_M_MEM_BALLOON_MAX] = {
		.json = "memory.balloon_max_kib",
		.prom = "kvmprobe_vm_balloon_maximum_bytes",
		.probe = "libvirt",
		.type = KP_GAUGE,
		.scope = KP_SCOPE_VM,
		.unit = KP_UNIT_KIB,
		.show = KP_SHOW_COUNT,
		.help = "Memory the guest can have at most (libvirt "
			"balloon.maximum).",
	},
	[KP_M_MEM_RSS] = {
		.json = "memory.rss_kib",
		.prom = "kvmprobe_vm_rss_bytes",
		.probe = "libvirt",
		.type = KP_GAUGE,
		.scope = KP_SCOPE_VM,
		.unit = KP_UNIT_KIB,
		.show = KP_SHOW_COUNT,
		.help = "Resident set size of the VMM process on the host "
			"(libvirt balloon.rss).",
	},
	[KP_M_MEM_SWAP_IN] = {
		.json = "memory.swap_in_kib",
		.prom = "kvmprobe_vm_guest_swap_in_bytes",
		.probe = "libvirt",
		.type = KP_GAUGE,
		.scope = KP_SCOPE_VM,
		.unit = KP_UNIT_KIB,
		.show = KP_SHOW_COUNT,
		.help = "Memory the guest swapped in since it booted, as its "
			"balloon driver reports (libvirt balloon.swap_in).",
	},
	[KP_M_MEM_SWAP_OUT] = {
		.json = "memory.swap_out_kib",
		.prom = "kvmprobe_vm_guest_swap_out_bytes",
		.probe = "libvirt",
		.type = KP_GAUGE,
		.scope = KP_SCOPE_VM,
		.unit = KP_UNIT_KIB,
		.show = KP_SHOW_COUNT,
		.help = "Memory the guest swapped out since it booted, as its "
			"balloon driver reports (libvirt balloon.swap_out).",
	},
	[KP_M_MEM_MAJOR_FAULTS] = {
		.json = "memory.major_faults",
		.prom = "kvmprobe_vm_guest_major_faults",
		.probe = "libvirt",
		.type = KP_GAUGE,
		.scope = KP_SCOPE_VM,
		.unit = KP_UNIT_EVENTS,
		.show = KP_SHOW_COUNT,
		.help = "Major page faults in the guest since it booted, as "
			"its balloon driver reports (libvirt "
			"balloon.major_fault).",
	},
	[KP_M_MEM_AVAILABLE] = {
		.json = "memory.available_kib",
		.prom = "kvmprobe_vm_guest_available_bytes",
		.probe = "libvirt",
		.type = KP_GAUGE,
		.scope = KP_SCOPE_VM,
		.unit = KP_UNIT_KIB,
		.show = KP_SHOW_COUNT,
		.help = "Memory the guest sees (its MemTotal), as its balloon "
			"driver reports (libvirt balloon.available); absent "
			"when the guest reports no stats (no virtio balloon, "
			"or no stats period: virsh dommemstat --period).",
	},
	[KP_M_MEM_USABLE] = {
		.json = "memory.usable_kib",
		.prom = "kvmprobe_vm_guest_usable_bytes",
		.probe = "libvirt",
		.type = KP_GAUGE,
		.scope = KP_SCOPE_VM,
		.unit = KP_UNIT_KIB,
		.show = KP_SHOW_COUNT,
		.help = "Memory the guest could use without swapping (its "
			"MemAvailable; libvirt balloon.usable), when reported.",
	},
	[KP_M_MEM_UNUSED] = {
		.json = "memory.unused_kib",
		.prom = "kvmprobe_vm_guest_unused_bytes",
		.probe = "libvirt",
		.type = KP_GAUGE,
		.scope = KP_SCOPE_VM,
		.unit = KP_UNIT_KIB,
		.show = KP_SHOW_COUNT,
		.help = "Memory the guest leaves entirely unused (its MemFree; "
			"libvirt balloon.unused), when reported.",
	},
	[KP_M_MEM_GUEST_USED] = {
		.json = "memory.guest_used_kib",
		.prom = "kvmprobe_vm_guest_used_bytes",
		.probe = "libvirt",
		.type = KP_GAUGE,
		.scope = KP_SCOPE_VM,
		.unit = KP_UNIT_KIB,
		.show = KP_SHOW_COUNT,
		.help = "Guest memory in use: available_kib less usable_kib "
			"(less unused_kib when the guest reports no usable); "
			"absent when the guest reports neither, and then no "
			"guest memory alert can fire.",
	},
	[KP_M_MEM_BALLOONED] = {
		.json = "memory.ballooned_kib",
		.prom = "kvmprobe_vm_ballooned_bytes",
		.probe = "libvirt",
		.type = KP_GAUGE,
		.scope = KP_SCOPE_VM,
		.unit = KP_UNIT_KIB,
		.show = KP_SHOW_COUNT,
		.help = "Memory the balloon took away from the guest: "
			"balloon_max_kib less balloon_current_kib.",
	},
	[KP_M_DISK_IOS] = {
		.json = "disks.ios",
		.prom = "kvmprobe_disk_requests_total",
		.label = "op",
		.probe = "block",
		.type = KP_COUNTER,
		.scope = KP_SCOPE_DISK,
		.unit = KP_UNIT_EVENTS,
		.show = KP_SHOW_NEST,
		.help = "Block requests completed, by the VMM that "
			"submitted them, device and operation (read, write, "
			"flush, discard, other); I/O of kernel threads "
			"(writeback) and of processes that are not VMMs is "
			"the host's.",
	},
	[KP_M_DISK_BYTES] = {
		.json = "disks.bytes",
		.prom = "kvmprobe_disk_bytes_total",
		.label = "op",
		.probe = "block",
		.type = KP_COUNTER,
		.scope = KP_SCOPE_DISK,
		.unit = KP_UNIT_BYTES,
		.show = KP_SHOW_NEST,
		.help = "Bytes of the completed block requests, as issued.",
	},
	[KP_M_DISK_QUEUE] = {
		.json = "disks.queue_hist",
		.prom = "kvmprobe_disk_queue_seconds",
		.label = "op",
		.probe = "block",
		.type = KP_HISTOGRAM,
		.scope = KP_SCOPE_DISK,
		.unit = KP_UNIT_NS,
		.show = KP_SHOW_NEST,
		.help = "Queue time of block requests: from insertion into the "
			"I/O scheduler or dispatch queue to issue to the "
			"driver; 0 for requests issued directly (the host "
			"side of esxtop's KAVG).",
	},
	[KP_M_DISK_DEVICE] = {
		.json = "disks.device_hist",
		.prom = "kvmprobe_disk_device_seconds",
		.label = "op",
		.probe = "block",
		.type = KP_HISTOGRAM,
		.scope = KP_SCOPE_DISK,
		.unit = KP_UNIT_NS,
		.show = KP_SHOW_NEST,
		.help = "Device time of block requests: from issue to the "
			"driver to completion (esxtop's DAVG).",
	},
	[KP_M_DISK_LATENCY] = {
		.json = "disks.latency_hist",
		.prom = "kvmprobe_disk_latency_seconds",
		.label = "op",
		.probe = "block",
		.type = KP_HISTOGRAM,
		.scope = KP_SCOPE_DISK,
		.unit = KP_UNIT_NS,
		.show = KP_SHOW_NEST,
		.pct = "",
		.help = "Total time of block requests, queue time plus device "
			"time; its percentiles are the op's p50_us and p99_us.",
	},
	[KP_M_DISK_TARGET] = {
		.json = "disks.target",
		.prom = "kvmprobe_disk_info",
		.label = "target",
		.probe = "block",
		.type = KP_GAUGE,
		.scope = KP_SCOPE_DISK,
		.unit = KP_UNIT_EVENTS,
		.show = KP_SHOW_INFO,
		.help = "The guest's name of the disk (libvirt's target, vda) "
			"when the resolver knows the VM's disk topology, else "
			"null.",
	},
	[KP_M_IF_PACKETS] = {
		.json = "interfaces.packets",
		.prom = "kvmprobe_iface_packets_total",
		.label = "direction",
		.probe = "net",
		.type = KP_COUNTER,
		.scope = KP_SCOPE_IFACE,
		.unit = KP_UNIT_EVENTS,
		.show = KP_SHOW_NEST,
		.help = "Packets of a VM's tap device from the VM's point of "
			"view, from the tap's own counters: rx delivered to the "
			"VM (taken by its vhost or QEMU side), tx sent by the "
			"VM.",
	},
	[KP_M_IF_BYTES] = {
		.json = "interfaces.bytes",
		.prom = "kvmprobe_iface_bytes_total",
		.label = "direction",
		.probe = "net",
		.type = KP_COUNTER,
		.scope = KP_SCOPE_IFACE,
		.unit = KP_UNIT_BYTES,
		.show = KP_SHOW_NEST,
		.help = "Bytes of those packets, link-layer header included.",
	},
	[KP_M_IF_DROPS] = {
		.json = "interfaces.drops",
		.prom = "kvmprobe_iface_drops_total",
		.label = "reason",
		.probe = "net",
		.type = KP_COUNTER,
		.scope = KP_SCOPE_IFACE,
		.unit = KP_UNIT_EVENTS,
		.help = "Packets dropped while the tap was their device, by "
			"the kernel's drop reason (skb:kfree_skb; enum "
			"skb_drop_reason without SKB_DROP_REASON_).",
	},
	[KP_M_IF_DELIVERY] = {
		.json = "interfaces.delivery_hist",
		.prom = "kvmprobe_iface_delivery_seconds",
		.probe = "net",
		.type = KP_HISTOGRAM,
		.scope = KP_SCOPE_IFACE,
		.unit = KP_UNIT_NS,
		.pct = "delivery_",
		.help = "Host to guest delivery latency: from the host handing "
			"a packet to the tap until the VM's vhost or QEMU side "
			"took it, for a sample of the packets (docs/output.md). "
			"Long tails mean a starved vhost thread.",
	},
};

static const struct kp_metric_desc host_metrics[KP_HM__COUNT] = {
	[KP_HM_LOST_EVENTS] = {
		.json = "lost",
		.prom = "kvmprobe_lost_events_total",
		.label = "probe",
		.probe = "all",
		.type = KP_COUNTER,
		.scope = KP_SCOPE_HOST,
		.unit = KP_UNIT_EVENTS,
		.help = "Events not recorded because a kernel map was full.",
	},
	[KP_HM_RECORDS_DROPPED] = {
		.json = "records_dropped",
		.prom = "kvmprobe_records_dropped_total",
		.probe = "all",
		.type = KP_COUNTER,
		.scope = KP_SCOPE_HOST,
		.unit = KP_UNIT_EVENTS,
		.show = KP_SHOW_COUNT,
		.help = "Records dropped because an output was too slow.",
	},
	[KP_HM_INTERVALS] = {
		.json = "intervals",
		.prom = "kvmprobe_intervals_total",
		.probe = "all",
		.type = KP_COUNTER,
		.scope = KP_SCOPE_HOST,
		.unit = KP_UNIT_EVENTS,
		.show = KP_SHOW_COUNT,
		.help = "Intervals sampled since kvmprobe started.",
	},
	[KP_HM_CPU_BUSY] = {
		.json = "host_cpu",
		.prom = "kvmprobe_host_cpu_busy_seconds_total",
		.probe = "all",
		.type = KP_COUNTER,
		.scope = KP_SCOPE_HOST,
		.unit = KP_UNIT_NS,
		.help = "Time the host's CPUs were busy, all CPUs together "
			"(/proc/stat: all but idle and iowait). The interval "
			"record has it as busy_pct of all CPUs' time and the "
			"number of CPUs.",
	},
	[KP_HM_SCHED_EVENTS] = {
		.json = "sched_events_pct",
		.prom = "kvmprobe_sched_events_seconds_total",
		.probe = "sched",
		.type = KP_COUNTER,
		.scope = KP_SCOPE_HOST,
		.unit = KP_UNIT_NS,
		.show = KP_SHOW_PCT,
		.help = "Time the sched probe's per-event tier (run-delay "
			"histograms, who preempted, where exit handling goes) "
			"was attached (--sched-duty, --sched-trigger); in "
			"records as a percentage of the interval, also in "
			"every run_delay object. Scale its figures by it.",
	},
};

static const struct kp_scope_desc scopes[KP_SCOPE__COUNT] = {
	[KP_SCOPE_HOST] = { .name = "host" },
	[KP_SCOPE_VM] = { .name = "vm", .label = "pid",
			  .name_label = "domain", .uuid_label = "uuid" },
	[KP_SCOPE_VCPU] = { .name = "vcpu", .label = "vcpu" },
	[KP_SCOPE_DISK] = { .name = "disk", .label = "disk", .group = "disks",
			    .device = true },
	[KP_SCOPE_IFACE] = { .name = "iface", .label = "iface",
			     .group = "interfaces", .device = true },
};

const struct kp_scope_desc *kp_scope(enum kp_scope s)
{
	return (unsigned int)s < KP_SCOPE__COUNT ? &scopes[s] : NULL;
}

bool kp_metric_is_dev(int id)
{
	const struct kp_metric_desc *d = kp_metric(id);

	return d && kp_scope(d->scope) && kp_scope(d->scope)->device;
}

const struct kp_metric_desc *kp_host_metric(enum kp_host_metric_id id)
{
	return (unsigned int)id < KP_HM__COUNT ? &host_metrics[id] : NULL;
}

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
	return kp_scope(s) ? kp_scope(s)->name : "?";
}

const char *kp_unit_name(enum kp_unit u)
{
	static const char *const names[] = { "events", "nanoseconds",
					      "kibibytes", "bytes" };

	return (unsigned int)u < 4 ? names[u] : "?";
}

int kp_metric_by_json(const char *json)
{
	int id;

	for (id = 0; id < KP_M__COUNT; id++)
		if (!strcmp(metrics[id].json, json))
			return id;
	return -1;
}
