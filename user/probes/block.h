/* SPDX-License-Identifier: GPL-2.0 */
/* The block probe: block I/O per submitting process, device and operation. */
#ifndef KP_USER_BLOCK_H
#define KP_USER_BLOCK_H

#include <stddef.h>
#include <stdint.h>
#include "user/probes/probe.h"

int kp_block_start(const struct kp_probe_env *env, void **state,
		   struct kp_probe_status *st);
int kp_block_read(void *state, struct kp_interval *iv);
void kp_block_stop(void *state);

/*
 * The hook for the guest's name of a disk: given the process (VMM) pid and
 * the host device it does I/O on (devno as makedev(), comparable with
 * stat()'s st_rdev and st_dev), write the guest's target name ("vda") to
 * buf and return 0; any other return leaves "target" null. The resolver,
 * which knows libvirt's disk topology, sets it; by default there is none.
 * Called from the sampling path: it must not block.
 */
typedef int (*kp_disk_target_fn)(void *arg, uint32_t pid, uint64_t devno,
				 char *buf, size_t len);
void kp_block_set_target_fn(kp_disk_target_fn fn, void *arg);

#endif /* KP_USER_BLOCK_H */
