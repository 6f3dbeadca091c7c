// SPDX-License-Identifier: GPL-2.0
/*
 * exits: VM exits by reason and their handling time, returns of KVM_RUN to
 * the VMM and the VMM's time to handle them, and halt wait times. Everything
 * is aggregated in the exits map; nothing is streamed per event.
 *
 * Every event comes in two flavours compiled into this object: BTF-typed
 * (tp_btf), which skip the trace-buffer fill, and classic tracefs
 * tracepoints. The loader autoloads one of each pair. KVM_RUN entry, where
 * the VMM's handling of a userspace exit ends, is the shared marker's
 * (exits_run() in kvmrun.bpf.c, whose object owns vcpu_state).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "exits.h"
#include "kp_helpers.bpf.h"
#include "kp_common.bpf.h"
#include "vcpu_name.bpf.h"
#include "core_fixes.bpf.h"
#include "exits_maps.bpf.h"
#include "exit_split.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct exits_key);
	__type(value, struct exits_val);
} exits SEC(".maps");


static const struct exits_val zero_val;

/*
 * The state of the current thread when it is one we trace, else NULL. The
 * pid filter is the first check, so filtered-out VMs cost one lookup.
 * flags: BPF_LOCAL_STORAGE_GET_F_CREATE where an event starts something.
 */
static __always_inline struct exits_vcpu_state *current_state(__u64 pid_tgid,
							      __u64 flags)
{
	__u32 pid = pid_tgid >> 32;

	if (!kp_pid_wanted(pid))
		return NULL;
	return bpf_task_storage_get(&vcpu_state, bpf_get_current_task_btf(),
				    NULL, flags);
}

/*
 * A thread seen for the first time: its vCPU index from its name until
 * kvm_exit (where it fires) gives the kernel's own vcpu_idx.
 */
static __always_inline void vcpu_from_name(struct exits_vcpu_state *st)
{
	int v;

	if (st->name_read)
		return;
	st->name_read = 1;
	v = kp_comm_vcpu();
	if (v >= 0 && !st->vcpu_known) {
		st->vcpu = v;
		st->vcpu_known = 1;
	}
}

static __always_inline struct exits_val *
stat_get(__u64 pid_tgid, const struct exits_vcpu_state *st, __u8 kind,
	 __u32 reason)
{
	struct exits_key key = {
		.pid = pid_tgid >> 32,
		.tid = (__u32)pid_tgid,
		.reason = reason,
		.vcpu = st->vcpu_known ? st->vcpu : EXITS_VCPU_UNKNOWN,
		.kind = kind,
	};
	struct exits_val *val;

	val = kp_lookup_or_init(&exits, &key, &zero_val);
	if (!val)
		kp_lost();
	return val;
}

/* End the handling of a pending guest exit: one histogram sample. */
static __always_inline void close_exit(__u64 pid_tgid,
				       struct exits_vcpu_state *st, __u64 now)
{
	struct exits_val *val;
	__u64 ns, wait, block;
	bool split;

	if (!st->exit_ts)
		return;
	ns = now - st->exit_ts;
	split = split_end(st, bpf_get_current_task_btf(), now, ns, &wait,
			  &block);
	val = stat_get(pid_tgid, st, st->exit_kind, st->exit_reason);
	if (val) {
		kp_hist_add(&val->hist, ns);
		if (split) {
			val->wait_ns += wait;
			val->block_ns += block;
		} else {
			val->unsplit_ns += ns;
		}
	}
	st->exit_ts = 0;
}

static __always_inline int on_exit(__s64 reason, __u32 isa, __u32 vcpu_id)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct exits_vcpu_state *st;
	struct exits_val *val;
	__u8 kind;

	if (reason < 0)
		return 0;
	st = current_state(pid_tgid, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st)
		return 0;
	if (isa == EXITS_ISA_VMX) {
		kind = EXITS_KIND_VMX;
		reason &= 0xffff; /* basic exit reason, as the tracepoint prints */
	} else {
		kind = EXITS_KIND_SVM;
	}
	if (!st->vcpu_known || st->vcpu != vcpu_id) {
		st->vcpu = vcpu_id; /* the kernel's index wins over the name's */
		st->vcpu_known = 1;
		st->name_read = 1;
	}
	val = stat_get(pid_tgid, st, kind, reason);
	if (val)
		val->count++; /* only this thread writes its keys */
	split_begin(st);
	st->exit_ts = bpf_ktime_get_ns();
	st->exit_reason = reason;
	st->exit_kind = kind;
	return 0;
}

static __always_inline int on_entry(void)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct exits_vcpu_state *st;

	st = current_state(pid_tgid, 0);
	if (st)
		close_exit(pid_tgid, st, bpf_ktime_get_ns());
	return 0;
}

static __always_inline int on_userspace_exit(__u32 reason, int err)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct exits_vcpu_state *st;
	struct exits_val *val;
	__u64 now;

	st = current_state(pid_tgid, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st)
		return 0;
	vcpu_from_name(st);
	now = bpf_ktime_get_ns();
	close_exit(pid_tgid, st, now);
	if (err < 0 && err != -EINTR)
		reason = EXITS_USER_ERROR;
	val = stat_get(pid_tgid, st, EXITS_KIND_USER, reason);
	if (val)
		val->count++; /* only this thread writes its keys */
	if (st->user_ns_valid) {
		/* the previous exit's handling time: mostly the same reason,
		 * so the same entry and no second lookup */
		if (st->user_ns_reason != reason)
			val = stat_get(pid_tgid, st, EXITS_KIND_USER,
				       st->user_ns_reason);
		if (val) {
			kp_hist_add(&val->hist, st->user_ns);
			if (st->user_unsplit) {
				val->unsplit_ns += st->user_ns;
			} else {
				val->wait_ns += st->user_wait_ns;
				val->block_ns += st->user_block_ns;
			}
		}
		st->user_ns_valid = 0;
	}
	split_begin(st);
	st->user_ts = now;
	st->user_reason = reason;
	return 0;
}

static __always_inline int on_wakeup(__u64 ns, bool waited)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct exits_vcpu_state *st;
	struct exits_val *val;

	st = current_state(pid_tgid, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st)
		return 0;
	vcpu_from_name(st);
	val = stat_get(pid_tgid, st, EXITS_KIND_HALT,
		       waited ? EXITS_HALT_WAIT : EXITS_HALT_POLL);
	if (!val)
		return 0;
	val->count++; /* only this thread writes its keys */
	kp_hist_add(&val->hist, ns);
	return 0;
}

/* BTF-typed flavours */

SEC("tp_btf/kvm_exit")
int BPF_PROG(exit_btf, struct kvm_vcpu *vcpu, __u32 isa)
{
	return on_exit(kp_exit_reason(vcpu, isa), isa, vcpu->vcpu_idx);
}

SEC("tp_btf/kvm_entry")
int BPF_PROG(entry_btf)
{
	return on_entry();
}

SEC("tp_btf/kvm_userspace_exit")
int BPF_PROG(uexit_btf, __u32 reason, int err)
{
	return on_userspace_exit(reason, err);
}

SEC("tp_btf/kvm_vcpu_wakeup")
int BPF_PROG(wakeup_btf, __u64 ns, bool waited)
{
	return on_wakeup(ns, waited);
}

/*
 * Classic flavours: tracefs tracepoints. Each returns KP_TP_PASS: 0 would
 * drop the event for every perf user of the tracepoint.
 */

SEC("tracepoint/kvm/kvm_exit")
int exit_tp(struct trace_event_raw_kvm_exit *ctx)
{
	on_exit(ctx->exit_reason, ctx->isa, ctx->vcpu_id);
	return KP_TP_PASS;
}

SEC("tracepoint/kvm/kvm_entry")
int entry_tp(void *ctx)
{
	on_entry();
	return KP_TP_PASS;
}

SEC("tracepoint/kvm/kvm_userspace_exit")
int uexit_tp(struct trace_event_raw_kvm_userspace_exit *ctx)
{
	on_userspace_exit(ctx->reason, ctx->errno);
	return KP_TP_PASS;
}

SEC("tracepoint/kvm/kvm_vcpu_wakeup")
int wakeup_tp(struct trace_event_raw_kvm_vcpu_wakeup *ctx)
{
	on_wakeup(ctx->ns, ctx->waited);
	return KP_TP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
