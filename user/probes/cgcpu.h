/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CPU limit vs contention (esxtop %MLMTD vs %RDY), kernel-counter tier:
 * the CPU controller of a vCPU thread's cgroup (libvirt puts each vCPU in
 * .../libvirt/vcpuN or .../vcpuN; other VMMs: whatever cgroup the thread
 * is in, from /proc/<pid>/task/<tid>/cgroup) says how long the cgroup was
 * throttled by its quota: cgroup v2 cpu.stat throttled_usec, v1
 * throttled_time (ns). The kernel adds a throttled span of each CPU's run
 * queue of the group while that run queue had tasks: wall time a runnable
 * thread of the group could not run because of the limit.
 *
 * Attribution per interval: T the cgroup's throttled time, D the sum of the
 * run delays of its vCPUs, d one vCPU's run delay; that vCPU's limited
 * time is d * min(1, T / D) (for a cgroup of one vCPU: min(d, T)) and the
 * rest of d is ready time (waiting while the cgroup was allowed to run).
 * Other threads of the cgroup (a VMM's I/O threads) add to T but not to
 * D, so they can move a vCPU's ready time to limited, never more than its
 * run delay. A quota on an ancestor cgroup only is not seen.
 *
 * Readers take the proc root and a prefix of the mount points, so fixture
 * trees can stand in for /proc and /sys/fs/cgroup. No libbpf.
 */
#ifndef KP_CGCPU_H
#define KP_CGCPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum kp_cg_ver { KP_CG_NONE, KP_CG_V1, KP_CG_V2 };

#define KP_CG_PATH_MAX 512

/* Where the hierarchies are mounted (mount point and the root of the
 * hierarchy the mount shows, mountinfo fields 5 and 4); "" when not. */
struct kp_cg_mounts {
	char v1_cpu[KP_CG_PATH_MAX], v1_root[KP_CG_PATH_MAX];
	char v2[KP_CG_PATH_MAX], v2_root[KP_CG_PATH_MAX];
};

/* The cgroup v1 hierarchy with the cpu controller and the cgroup2 one,
 * from mountinfo text. 0, or -ENOENT when neither is mounted. */
int kp_cg_parse_mountinfo(FILE *f, struct kp_cg_mounts *m);

/*
 * A task's cgroups from /proc/<pid>/task/<tid>/cgroup text: the path in
 * the v1 hierarchy whose controllers include cpu into v1, the v2 path
 * ("0::/...") into v2; "" when absent. 0, or -ENOENT when neither.
 */
int kp_cg_parse_task_cgroup(FILE *f, char *v1, char *v2, size_t len);

/*
 * The throttled time of a cpu.stat: v2 throttled_usec (in ns), v1
 * throttled_time. 0, or -ENOENT when the file has no such key (a v2
 * cgroup without the cpu controller).
 */
int kp_cg_parse_cpu_stat(FILE *f, enum kp_cg_ver ver, uint64_t *throttled_ns);

/* d * min(1, t / sum), without overflow: a vCPU's limited time. */
uint64_t kp_cg_limited(uint64_t t, uint64_t sum, uint64_t d);

const char *kp_cg_ver_name(enum kp_cg_ver v); /* "cgroup_v1", ... */

/*
 * Per interval: kp_cgcpu_begin(), then kp_cgcpu_note() for every vCPU
 * thread with its run delay of the interval, then kp_cgcpu_share() for
 * each (with the slot note returned), then kp_cgcpu_end(). The cgroup of
 * a thread is looked up on first sight and every 10 s, each cgroup's
 * cpu.stat read once per interval. Cgroups and threads not noted in an
 * interval are forgotten at its end.
 */
struct kp_cgcpu;

struct kp_cgcpu *kp_cgcpu_new(const char *proc_root, const char *fs_root);
void kp_cgcpu_free(struct kp_cgcpu *c);
/* The mounts found, for messages; KP_CG_NONE when no hierarchy has the
 * cpu controller's counters. */
bool kp_cgcpu_usable(const struct kp_cgcpu *c);
void kp_cgcpu_begin(struct kp_cgcpu *c, double now);
/* The slot of tid's cgroup (>= 0), or -errno: no cgroup with a CPU limit
 * counter, -ENOMEM. */
int kp_cgcpu_note(struct kp_cgcpu *c, uint32_t pid, uint32_t tid,
		  uint64_t delay_ns);
/*
 * The limited part of delay_ns of a thread noted in slot; false when the
 * cgroup has no baseline yet (first interval it was seen in).
 */
bool kp_cgcpu_share(const struct kp_cgcpu *c, int slot, uint64_t delay_ns,
		    uint64_t *limited_ns, enum kp_cg_ver *ver);
void kp_cgcpu_end(struct kp_cgcpu *c);

#endif /* KP_CGCPU_H */
