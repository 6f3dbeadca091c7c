/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The shared KVM_RUN entry marker (bpf/kvmrun.bpf.c): one program on
 * kvm_fpu for every probe that needs KVM_RUN entry (exits, sched), not one
 * per probe. The first probe to join loads and attaches it; its object owns
 * the per-thread maps those probes share, which their objects reuse
 * (bpf_map__reuse_fd() before their load). The last to leave destroys it.
 */
#ifndef KP_KVMRUN_H
#define KP_KVMRUN_H

#include <stdbool.h>
#include <stdint.h>
#include "user/probes/probe.h"

struct kvmrun_bpf;

enum kp_kvmrun_user {
	KP_KVMRUN_EXITS,
	KP_KVMRUN_SCHED,
};

/*
 * Join: ps (the joining probe's status entry for kvm_fpu) says how the
 * marker is attached, or why not. Returns the marker's skeleton, whose
 * maps the probe reuses, or NULL when it could not be loaded (the probe
 * then runs on maps of its own, without KVM_RUN entry). Every join, even
 * one returning NULL, is matched by a kp_kvmrun_leave().
 */
struct kvmrun_bpf *kp_kvmrun_join(const struct kp_probe_env *env,
				  struct kp_prog_status *ps);
/* Turn who's part of the marker on once its probe is attached, or off. */
void kp_kvmrun_enable(enum kp_kvmrun_user who, bool on);
/*
 * Whether the sched probe's BTF-typed sched_switch programs share the
 * exits probe's per-thread state: then exit handling times are split into
 * on a CPU, waiting and blocked (bpf/exit_split.bpf.h). Set by the sched
 * probe, read by the exits probe.
 */
void kp_kvmrun_set_split(bool on);
bool kp_kvmrun_split(void);
/* Events the marker lost (a full sched stats map). */
uint64_t kp_kvmrun_lost(void);
void kp_kvmrun_leave(void);

#endif /* KP_KVMRUN_H */
