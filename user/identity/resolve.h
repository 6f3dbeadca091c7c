/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The resolver: who every VMM process is. Its own thread scans /proc and
 * cgroups (QEMU's -name and -uuid, libvirt's machine cgroups, thread roles,
 * tap devices) and joins what the libvirt backend (user/identity/virt.h) says, into
 * an identity table it publishes by pointer swap. The sampling path only
 * takes a reference to the latest table: no libvirt call, no wait on one.
 *
 * A libvirt call stuck longer than a watchdog, or a lost connection, makes
 * the resolver name VMs from /proc and cgroups alone; each change between
 * libvirt available and unavailable is reported once, as a notice.
 */
#ifndef KP_RESOLVE_H
#define KP_RESOLVE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "user/identity/idtable.h"
#include "user/core/record.h"

#define KP_NOTICE_MSG_MAX 256

struct kp_notice {
	struct timespec ts;   /* CLOCK_REALTIME */
	const char *source;   /* "libvirt" */
	const char *state;    /* "available" or "unavailable"; NULL for a
			       * message meant for stderr only */
	char message[KP_NOTICE_MSG_MAX];
};

struct kp_resolver_config {
	const char *proc_root;        /* "/proc" */
	const char *libvirt_uri;      /* NULL: no libvirt */
	const char *libvirt_run_dir;  /* QEMU pid files ("/run/libvirt/qemu") */
	const char *const *domains;   /* -d filters: names or UUIDs */
	size_t ndomains;
	const uint32_t *pids;         /* -p processes: VMMs by definition */
	size_t npids;
};

struct kp_resolver;

struct kp_resolver *kp_resolver_new(const struct kp_resolver_config *cfg);
/* Start the resolver and libvirt threads. 0 or -errno. */
int kp_resolver_start(struct kp_resolver *r);
void kp_resolver_free(struct kp_resolver *r);

/*
 * Fill identities in a finished interval. A record stays a "vm" only for a
 * VMM: a process holding a KVM VM or vCPU fd (or one with vCPU samples),
 * or one -p or -d names; the device samples of every other process are
 * folded into the host record. Tap samples of the host record (by their
 * ifindex) go to the VMM that holds the tap or whose domain XML names it.
 * Then comm, libvirt name and UUID (the command line's until libvirt
 * reports the domain), memory gauges, vCPU indexes, the guest's names of
 * disks (by the devid of disk samples); VMs the domain filter excludes
 * are dropped.
 * Never blocks on libvirt. 0 or -ENOMEM.
 */
int kp_resolver_apply(struct kp_resolver *r, struct kp_interval *iv);
/*
 * Move up to max notices to out (how many): those that came with the table
 * the last kp_resolver_apply used, to be written before its records.
 */
size_t kp_resolver_notices(struct kp_resolver *r, struct kp_notice *out,
			   size_t max);
/*
 * The latest identity table, referenced (kp_idtable_put it): thread roles,
 * disks and tap devices per VM for the probes that attribute I/O.
 */
struct kp_idtable *kp_resolver_table(struct kp_resolver *r);

#endif /* KP_RESOLVE_H */
