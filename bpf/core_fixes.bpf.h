/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel differences, in one place. Each shim names the change it covers.
 * Types the build's vmlinux.h may lack (the vendor-specific KVM structs live
 * in the kvm_amd / kvm_intel modules' BTF) are declared here as local
 * flavours; libbpf's CO-RE resolves them against vmlinux or module BTF.
 * Kernel shims only: no probe's header is included here.
 */
#ifndef KP_CORE_FIXES_BPF_H
#define KP_CORE_FIXES_BPF_H

#include <bpf/bpf_core_read.h>

/* kvm_exit's "isa" argument: KVM_ISA_SVM in arch/x86/kvm/trace.h (a
 * #define, so not in vmlinux.h) */
#define KP_KVM_ISA_SVM 2
/* req_op's width in request.cmd_flags: REQ_OP_BITS, stable since v4.10 */
#define KP_REQ_OP_MASK 0xffu

/*
 * AMD: the exit code lives in the current VMCB, svm->vmcb->control.exit_code
 * (what svm_get_exit_info() hands to trace_kvm_exit()). exit_code was split
 * into u32 exit_code + exit_code_hi for years and is a u64 in newer kernels;
 * either way the low 32 bits sit at the field's offset (little endian), which
 * holds every SVM exit code, so a u32 read covers both.
 */
struct vmcb_control_area___kp {
	__u32 exit_code;
} __attribute__((preserve_access_index));

struct vmcb___kp {
	struct vmcb_control_area___kp control;
} __attribute__((preserve_access_index));

struct vcpu_svm___kp {
	struct vmcb___kp *vmcb;
} __attribute__((preserve_access_index));

/*
 * Intel: vmx->exit_reason, a union since v5.11 ("KVM: VMX: Convert
 * vcpu_vmx.exit_reason to a union"); kvmprobe needs v5.12+ anyway (task
 * storage in tracing programs), so the union is the only flavour.
 */
union vmx_exit_reason___kp {
	__u32 full;
} __attribute__((preserve_access_index));

struct vcpu_vmx___kp {
	union vmx_exit_reason___kp exit_reason;
} __attribute__((preserve_access_index));

/*
 * The exit reason of the exit being traced, from the raw tracepoint's vcpu.
 * Returns -1 when this kernel's BTF lacks the vendor struct (the loader only
 * picks tp_btf for kvm_exit when one exists, see user/probes/exits.c).
 */
static __always_inline __s64 kp_exit_reason(void *vcpu, __u32 isa)
{
	if (isa == KP_KVM_ISA_SVM) {
		if (!bpf_core_type_exists(struct vcpu_svm___kp))
			return -1;
		return BPF_CORE_READ((struct vcpu_svm___kp *)vcpu, vmcb,
				     control.exit_code);
	}
	if (!bpf_core_type_exists(struct vcpu_vmx___kp))
		return -1;
	return BPF_CORE_READ((struct vcpu_vmx___kp *)vcpu, exit_reason.full);
}

/*
 * A task's state: task_struct.state was renamed __state (and became an
 * unsigned int) in v5.14 ("sched: Change task_struct::state"). Only
 * TASK_RUNNING (0) matters here, which reads the same in both.
 */
struct task_struct___kp_state {
	unsigned int __state;
} __attribute__((preserve_access_index));

struct task_struct___kp_oldstate {
	long state;
} __attribute__((preserve_access_index));

static __always_inline __u32 kp_task_state(void *task)
{
	struct task_struct___kp_state *t = task;

	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___kp_oldstate *)task, state);
}

/*
 * The CPU a task is on or queued on (task_cpu()): thread_info.cpu on
 * architectures with THREAD_INFO_IN_TASK since v5.16 ("sched: move CPU
 * field back into thread_info if THREAD_INFO_IN_TASK=y"), task_struct.cpu
 * before.
 */
struct thread_info___kp {
	__u32 cpu;
} __attribute__((preserve_access_index));

struct task_struct___kp_ti {
	struct thread_info___kp thread_info;
} __attribute__((preserve_access_index));

struct task_struct___kp_oldcpu {
	unsigned int cpu;
} __attribute__((preserve_access_index));

static __always_inline __u32 kp_task_cpu(void *task)
{
	struct task_struct___kp_ti *t = task;

	if (bpf_core_field_exists(t->thread_info.cpu))
		return BPF_CORE_READ(t, thread_info.cpu);
	return BPF_CORE_READ((struct task_struct___kp_oldcpu *)task, cpu);
}

/*
 * A thread's own scheduler counters, what /proc/<pid>/task/<tid>/schedstat
 * and /proc/<pid>/task/<tid>/status show: run delay (sched_info.run_delay,
 * a member only with CONFIG_SCHED_INFO: 0 without; the loader refuses
 * the sched probe then, see kp_sched_start()), CPU time and involuntary context
 * switches. Probe reads: callers hold BTF and plain task pointers alike.
 */
struct task_struct___kp_si {
	struct sched_info sched_info;
} __attribute__((preserve_access_index));

static __always_inline void kp_task_counters(void *task, __u64 *run_delay,
					     __u64 *exec, __u64 *nivcsw)
{
	struct task_struct___kp_si *t = task;
	struct task_struct *tt = task;

	*run_delay = 0;
	if (bpf_core_field_exists(t->sched_info))
		*run_delay = BPF_CORE_READ(t, sched_info.run_delay);
	*exec = BPF_CORE_READ(tt, se.sum_exec_runtime);
	*nivcsw = BPF_CORE_READ(tt, nivcsw);
}

/*
 * Block requests. Every helper takes btf: true in tp_btf programs, whose
 * arguments are BTF pointers the verifier lets us follow with plain loads;
 * false in raw_tp programs, which read through CO-RE probe reads.
 *
 * The disk of a request: request.rq_disk until v5.16 ("block: remove the
 * ->rq_disk field in struct request"), then request.q->disk
 * (request_queue.disk since v5.15).
 */
struct request___kp_old {
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

static __always_inline struct gendisk *kp_rq_disk(struct request *rq, bool btf)
{
	struct request___kp_old *old = (void *)rq;

	if (bpf_core_field_exists(old->rq_disk))
		return btf ? old->rq_disk : BPF_CORE_READ(old, rq_disk);
	return btf ? rq->q->disk : BPF_CORE_READ(rq, q, disk);
}

static __always_inline struct bio *kp_rq_bio(struct request *rq, bool btf)
{
	return btf ? rq->bio : BPF_CORE_READ(rq, bio);
}

/*
 * The device a request is for, as the kernel's dev_t (major << 20 | minor):
 * the partition its first bio targets (bio.bi_bdev, v5.12+, which kvmprobe
 * requires anyway), else the whole disk: requests without bios (the flush
 * machinery's own flush request) or passthrough bios without a bdev.
 * request.part is not used: v6.1 sets it only when the queue keeps I/O
 * statistics (blk_account_io_start()).
 */
/* The whole disk of a request, as a dev_t (0: none). */
static __always_inline __u32 kp_rq_disk_dev(struct request *rq, bool btf)
{
	struct gendisk *disk = kp_rq_disk(rq, btf);

	if (!disk)
		return 0;
	if (btf)
		return (__u32)disk->major << 20 | (__u32)disk->first_minor;
	return (__u32)BPF_CORE_READ(disk, major) << 20 |
	       (__u32)BPF_CORE_READ(disk, first_minor);
}

static __always_inline __u32 kp_rq_dev(struct request *rq, bool btf)
{
	struct block_device *bdev = NULL;
	struct bio *bio;

	bio = kp_rq_bio(rq, btf);
	if (bio)
		bdev = btf ? bio->bi_bdev : BPF_CORE_READ(bio, bi_bdev);
	if (bdev)
		return btf ? bdev->bd_dev : BPF_CORE_READ(bdev, bd_dev);
	return kp_rq_disk_dev(rq, btf);
}

/* Bytes left in the request: request.__data_len (blk_rq_bytes()). */
static __always_inline __u32 kp_rq_bytes(struct request *rq, bool btf)
{
	return btf ? rq->__data_len : BPF_CORE_READ(rq, __data_len);
}

/*
 * REQ_OP_* of a request: the low REQ_OP_BITS (8) of cmd_flags, an unsigned
 * int before v6.0 and blk_opf_t (a __u32 typedef) since ("block: introduce
 * the blk_opf_t type"): the same read. A flush from fsync() is an empty
 * REQ_OP_WRITE with REQ_PREFLUSH (blkdev_issue_flush()); only the flush
 * machinery's own request is REQ_OP_FLUSH. An empty preflush write is
 * reported as REQ_OP_FLUSH. The bit of REQ_PREFLUSH in enum req_flag_bits
 * moves between kernels (18 in v6.18): CO-RE reads it.
 */
static __always_inline __u32 kp_op(__u32 flags, __u32 bytes)
{
	__u32 op = flags & KP_REQ_OP_MASK;
	__u32 preflush = 1U << bpf_core_enum_value(enum req_flag_bits,
						    __REQ_PREFLUSH);

	if (op == REQ_OP_WRITE && (flags & preflush) && !bytes)
		return REQ_OP_FLUSH;
	return op;
}

static __always_inline __u32 kp_rq_op(struct request *rq, bool btf)
{
	return kp_op(btf ? rq->cmd_flags : BPF_CORE_READ(rq, cmd_flags),
		     kp_rq_bytes(rq, btf));
}

/* The same for a bio: bio.bi_opf and bi_iter.bi_size. */
static __always_inline __u32 kp_bio_op(struct bio *bio, bool btf)
{
	if (btf)
		return kp_op(bio->bi_opf, bio->bi_iter.bi_size);
	return kp_op(BPF_CORE_READ(bio, bi_opf), BPF_CORE_READ(bio, bi_iter.bi_size));
}

/*
 * Packets. The network namespace of a device: net_device.nd_net is a
 * possible_net_t, whose only member net exists with CONFIG_NET_NS (every
 * distribution kernel); without it every device is in init_net and 0 is
 * returned, which the net probe takes as "any namespace". btf as for the
 * block helpers above.
 */
struct possible_net_t___kp {
	struct net *net;
} __attribute__((preserve_access_index));

struct net_device___kp {
	struct possible_net_t___kp nd_net;
} __attribute__((preserve_access_index));

static __always_inline __u32 kp_dev_netns(const struct net_device *dev,
					   bool btf)
{
	const struct net_device___kp *d = (const void *)dev;

	if (!bpf_core_field_exists(d->nd_net.net))
		return 0;
	if (btf)
		return d->nd_net.net->ns.inum;
	return BPF_CORE_READ(d, nd_net.net, ns.inum);
}

/*
 * A vCPU's halt counters: struct kvm_vcpu_stat_generic (stat.generic) since
 * v5.14 ("KVM: stats: Separate generic stats from architecture specific
 * ones"), before that fields of struct kvm_vcpu_stat itself, without
 * halt_wait_ns. halt_exits is x86's own (arch stat).
 */
struct kp_halt_stats {
	__u64 halts, polls, wins, win_ns, fail_ns, wait_ns;
	bool has_halts, has_wait;
};

struct kvm_vcpu_stat___old {
	__u64 halt_successful_poll;
	__u64 halt_attempted_poll;
	__u64 halt_poll_success_ns;
	__u64 halt_poll_fail_ns;
} __attribute__((preserve_access_index));

struct kvm_vcpu___old {
	struct kvm_vcpu_stat___old stat;
} __attribute__((preserve_access_index));

static __always_inline void kp_vcpu_halt_stats(struct kvm_vcpu *vcpu,
					       struct kp_halt_stats *h)
{
	struct kvm_vcpu___old *old = (void *)vcpu;

	if (bpf_core_field_exists(vcpu->stat.halt_exits)) {
		h->halts = BPF_CORE_READ(vcpu, stat.halt_exits);
		h->has_halts = true;
	}
	if (bpf_core_field_exists(vcpu->stat.generic)) {
		h->polls = BPF_CORE_READ(vcpu, stat.generic.halt_attempted_poll);
		h->wins = BPF_CORE_READ(vcpu, stat.generic.halt_successful_poll);
		h->win_ns = BPF_CORE_READ(vcpu, stat.generic.halt_poll_success_ns);
		h->fail_ns = BPF_CORE_READ(vcpu, stat.generic.halt_poll_fail_ns);
		h->wait_ns = BPF_CORE_READ(vcpu, stat.generic.halt_wait_ns);
		h->has_wait = true;
		return;
	}
	h->polls = BPF_CORE_READ(old, stat.halt_attempted_poll);
	h->wins = BPF_CORE_READ(old, stat.halt_successful_poll);
	h->win_ns = BPF_CORE_READ(old, stat.halt_poll_success_ns);
	h->fail_ns = BPF_CORE_READ(old, stat.halt_poll_fail_ns);
}

#endif /* KP_CORE_FIXES_BPF_H */
