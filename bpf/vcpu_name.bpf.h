/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A vCPU thread's index from its name, in BPF (exits and sched probes).
 * Pure apart from bpf_get_current_comm(): tests/unit/test_vmproc.c builds
 * it for the host and checks it against kp_parse_vcpu_name().
 */
#ifndef KP_VCPU_NAME_BPF_H
#define KP_VCPU_NAME_BPF_H

/*
 * The vCPU index in the current thread's name "CPU <n>/KVM" (how QEMU
 * names its vCPU threads, and kvm-exerciser its own), or -1. Read when a
 * thread is first seen: a VMM that ends within an interval keeps its
 * indexes although /proc has forgotten the names by the time the loader
 * reads the maps. Unrolled over the 16 bytes of comm: constant offsets.
 */
static __always_inline int kp_comm_vcpu(void)
{
	char c[16];
	int i, n = 0, digits = 0, state = 0;

	if (bpf_get_current_comm(c, sizeof(c)))
		return -1;
	if (c[0] != 'C' || c[1] != 'P' || c[2] != 'U' || c[3] != ' ')
		return -1;
#ifdef __clang__
#pragma unroll
#endif
	for (i = 4; i < 16; i++) {
		char ch = c[i];

		if (state == 0) {
			if (ch >= '0' && ch <= '9' && digits < 5) {
				n = n * 10 + (ch - '0');
				digits++;
				continue;
			}
			if (ch != '/' || !digits)
				return -1;
			state = 1;
		} else if (state == 1) {
			if (ch != 'K')
				return -1;
			state = 2;
		} else if (state == 2) {
			if (ch != 'V')
				return -1;
			state = 3;
		} else if (state == 3) {
			if (ch != 'M')
				return -1;
			state = 4;
		} else {
			return !ch && n < 0xffff ? n : -1;
		}
	}
	return -1;
}

#endif /* KP_VCPU_NAME_BPF_H */
