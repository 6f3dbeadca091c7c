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
 * Whether the sched probe's BTF-typed sched_switch programs, which share
 * the exits probe's per-thread state, are attached: while they are, exit
 * handling times are split into on a CPU, waiting and blocked
 * (bpf/exit_split.bpf.h). Set by the sched probe at each attach (a new
 * epoch) and detach (none) of its per-event tier; a handling that did not
 * run under one epoch from its start to its end is not split. The epoch
 * goes to this marker's object and to the one kp_kvmrun_split_target()
 * names: the exits probe's split_epoch, NULL before its object goes.
 */
void kp_kvmrun_set_split(bool on);
void kp_kvmrun_split_target(__u32 *epoch);
/* Events the marker lost (a full sched stats map). */
uint64_t kp_kvmrun_lost(void);
void kp_kvmrun_leave(void);

#endif /* KP_KVMRUN_H */
