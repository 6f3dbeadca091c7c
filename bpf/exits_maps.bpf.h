/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The exits probe's per-thread state, declared once: kvmrun.bpf.c owns it
 * (KVM_RUN entry ends the handling of a userspace exit), exits.bpf.c
 * reuses it (user/probes/kvmrun.c hands it the fd before load).
 */
#ifndef KP_EXITS_MAPS_BPF_H
#define KP_EXITS_MAPS_BPF_H

#include "exits.h"

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct exits_vcpu_state);
} vcpu_state SEC(".maps");

#endif /* KP_EXITS_MAPS_BPF_H */
