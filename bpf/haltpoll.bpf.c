// SPDX-License-Identifier: GPL-2.0
/*
 * haltpoll: KVM's own halt-polling counters of every vCPU, kernel-counter
 * tier (no per-event cost). A task_file iterator walks the open files of
 * every process once per read(); a vCPU fd (an anon inode named
 * "kvm-vcpu:<id>", whose private_data is the struct kvm_vcpu) yields one
 * struct haltpoll_rec with the vCPU's cumulative struct kvm_vcpu_stat
 * counters, which the loader turns into per-interval deltas. The counters
 * are what KVM_GET_STATS_FD shows the VMM itself (and libvirt's
 * cpu.haltpoll.*); KVM refuses that ioctl to any other process.
 *
 * kvm_vcpu_fops is in neither BTF nor kallsyms, so the first vCPU file
 * found by name teaches its f_op; later files are told by one pointer
 * comparison. The program runs once per open file of the pass: the file
 * and its inode are read by direct (BTF-checked) loads, not probe-read
 * helper calls.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "haltpoll.h"
#include "core_fixes.bpf.h"
#include "kp_common.bpf.h"

#define ANON_INODE_FS_MAGIC 0x09041934
#define VCPU_PREFIX "kvm-vcpu:"
#define VCPU_PREFIX_LEN (sizeof(VCPU_PREFIX) - 1)

/* the f_op of vCPU files, once one was seen (0: not yet) */
__u64 vcpu_fops = 0;

static __always_inline bool named_vcpu(struct file *file)
{
	const char prefix[] = VCPU_PREFIX;
	const unsigned char *p;
	char name[16];
	int i;

	if (file->f_inode->i_sb->s_magic != ANON_INODE_FS_MAGIC)
		return false;
	p = file->f_path.dentry->d_name.name;
	if (bpf_probe_read_kernel_str(name, sizeof(name), p) <
	    (long)VCPU_PREFIX_LEN)
		return false;
	for (i = 0; i < VCPU_PREFIX_LEN; i++)
		if (name[i] != prefix[i])
			return false;
	return true;
}

static __always_inline bool is_vcpu_file(struct file *file)
{
	__u64 fops = (__u64)file->f_op;

	if (vcpu_fops)
		return fops == vcpu_fops;
	if (!named_vcpu(file))
		return false;
	vcpu_fops = fops;
	return true;
}

SEC("iter/task_file")
int dump_vcpus(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct haltpoll_rec r = {};
	struct kp_halt_stats h = {};
	struct kvm_vcpu *vcpu;

	if (!task || !file || !is_vcpu_file(file))
		return 0;
	r.pid = task->tgid;
	if (!kp_pid_wanted(r.pid))
		return 0;
	vcpu = file->private_data;
	if (!vcpu)
		return 0;
	r.vcpu = BPF_CORE_READ(vcpu, vcpu_idx);
	r.tid = BPF_CORE_READ(vcpu, pid, numbers[0].nr);
	r.poll_window_ns = BPF_CORE_READ(vcpu, halt_poll_ns);
	kp_vcpu_halt_stats(vcpu, &h);
	r.v[HALTPOLL_HALTS] = h.halts;
	r.v[HALTPOLL_POLLS] = h.polls;
	r.v[HALTPOLL_WINS] = h.wins;
	r.v[HALTPOLL_WIN_NS] = h.win_ns;
	r.v[HALTPOLL_FAIL_NS] = h.fail_ns;
	r.v[HALTPOLL_WAIT_NS] = h.wait_ns;
	r.flags = (h.has_halts ? HALTPOLL_F_HALTS : 0) |
		  (h.has_wait ? HALTPOLL_F_WAIT : 0);
	bpf_seq_write(seq, &r, sizeof(r));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
