/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel differences, in one place. Each shim names the change it covers.
 * Types the build's vmlinux.h may lack (the vendor-specific KVM structs live
 * in the kvm_amd / kvm_intel modules' BTF) are declared here as local
 * flavours; libbpf's CO-RE resolves them against vmlinux or module BTF.
 */
#ifndef KP_CORE_FIXES_BPF_H
#define KP_CORE_FIXES_BPF_H

#include <bpf/bpf_core_read.h>

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
 * picks tp_btf for kvm_exit when one exists, see user/exits.c).
 */
static __always_inline __s64 kp_exit_reason(void *vcpu, __u32 isa)
{
	if (isa == EXITS_ISA_SVM) {
		if (!bpf_core_type_exists(struct vcpu_svm___kp))
			return -1;
		return BPF_CORE_READ((struct vcpu_svm___kp *)vcpu, vmcb,
				     control.exit_code);
	}
	if (!bpf_core_type_exists(struct vcpu_vmx___kp))
		return -1;
	return BPF_CORE_READ((struct vcpu_vmx___kp *)vcpu, exit_reason.full);
}

#endif /* KP_CORE_FIXES_BPF_H */
