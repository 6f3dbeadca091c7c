/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every probe object has, in one place: the lost-event counter (events
 * a full map could not take, read by the loader from .bss) and the -p pid
 * filter (filter_pid set through .rodata before load, pid_filter filled by
 * the loader). An object without a pid filter (net: per device, not per
 * process) defines KP_NO_PID_FILTER before including this.
 */
#ifndef KP_COMMON_BPF_H
#define KP_COMMON_BPF_H

/* Events lost because a map was full, read by the loader. */
__u64 lost_events = 0;

static __always_inline void kp_lost(void)
{
	__sync_fetch_and_add(&lost_events, 1);
}

#ifndef KP_NO_PID_FILTER
const volatile bool filter_pid = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} pid_filter SEC(".maps");

/* Whether process pid is traced: always without -p, else when listed. */
static __always_inline bool kp_pid_wanted(__u32 pid)
{
	return !filter_pid || bpf_map_lookup_elem(&pid_filter, &pid);
}
#endif

#endif /* KP_COMMON_BPF_H */
