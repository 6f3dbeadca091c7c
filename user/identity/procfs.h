/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What /proc says about VMM processes and their threads. Every function
 * takes the proc root ("/proc", or a fixture tree in tests).
 */
#ifndef KP_PROCFS_H
#define KP_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "user/identity/vmproc.h" /* kp_parse_vcpu_name() */

/* Read <root>/<pid>/comm (no trailing newline). 0 or -errno. */
int kp_proc_comm(const char *root, uint32_t pid, char *buf, size_t len);
/* Read <root>/<pid>/task/<tid>/comm. 0 or -errno. */
int kp_proc_thread_comm(const char *root, uint32_t pid, uint32_t tid,
			char *buf, size_t len);
/* Whether thread tid of process pid still exists. */
bool kp_proc_thread_alive(const char *root, uint32_t pid, uint32_t tid);

/*
 * Call fn for every thread under root named "CPU <n>/KVM", with its process,
 * its tid and n. Stops at fn's first nonzero return and returns it; returns
 * 0 when all were visited, -errno when root cannot be read. Processes and
 * threads that end during the walk are skipped.
 */
typedef int (*kp_vcpu_fn)(uint32_t pid, uint32_t tid, int vcpu, void *arg);
int kp_proc_vcpu_threads(const char *root, kp_vcpu_fn fn, void *arg);

#endif /* KP_PROCFS_H */
