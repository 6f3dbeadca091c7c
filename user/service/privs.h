/* SPDX-License-Identifier: GPL-2.0 */
/* Least privilege: what kvmprobe keeps once its programs are attached. */
#ifndef KP_PRIVS_H
#define KP_PRIVS_H

/*
 * Drop every capability but those reading maps and /proc need, from the
 * effective, permitted, inheritable and bounding sets, and set
 * no_new_privs. Call it before starting any thread: capabilities are per
 * thread. Kept (README, "Least privilege"):
 *   CAP_BPF            map reads (kernels before 6.5 check it on every
 *                      bpf() call while unprivileged BPF is disabled)
 *   CAP_PERFMON        likewise for tracing maps on those kernels
 *   CAP_SYS_PTRACE     /proc/<pid>/fdinfo of QEMU (tap devices it holds)
 *   CAP_DAC_READ_SEARCH /proc and /run/libvirt files of other users
 * Returns 0 or -errno.
 */
int kp_drop_privileges(void);
/* The kept set as a CapEff bit mask, for tests and the start record. */
unsigned long long kp_kept_caps_mask(void);

#endif /* KP_PRIVS_H */
