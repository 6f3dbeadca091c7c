/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The identity table: who every VMM process is. One entry per process,
 * keyed by pid and start time (a reused pid is a new entry and never
 * inherits a name): the libvirt domain (name, UUID, id, state) or what
 * /proc and cgroups say when libvirt cannot, the roles of its threads,
 * its disks and tap devices, its memory figures.
 *
 * The resolver thread builds a table, seals it and publishes it; readers
 * take a reference and never see it change. Pure: no I/O, no locks.
 */
#ifndef KP_IDTABLE_H
#define KP_IDTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>
#include "user/identity/vmproc.h"

#define KP_START_ANY UINT64_MAX /* kp_idtable_find: any start time */

enum kp_ident_source {
	KP_ID_NONE,      /* a VMM libvirt does not manage: name unknown */
	KP_ID_PROC,      /* libvirt's, named from /proc and cgroups */
	KP_ID_LIBVIRT,   /* named by libvirt */
};

/* Memory figures of a domain, from libvirt's balloon stats. */
enum kp_mem_stat {
	KP_MEM_BALLOON_CURRENT,  /* KiB */
	KP_MEM_BALLOON_MAX,      /* KiB */
	KP_MEM_RSS,              /* KiB */
	KP_MEM_SWAP_IN,          /* KiB, since the guest booted */
	KP_MEM_SWAP_OUT,         /* KiB, since the guest booted */
	KP_MEM_MAJOR_FAULTS,     /* since the guest booted */
	KP_MEM_AVAILABLE,        /* KiB the guest sees (its MemTotal) */
	KP_MEM_USABLE,           /* KiB it could use without swapping */
	KP_MEM_UNUSED,           /* KiB left entirely unused (MemFree) */
	KP_MEM__COUNT,
};

struct kp_mem {
	uint32_t known; /* bit i: v[i] is set */
	uint64_t v[KP_MEM__COUNT];
};

struct kp_ident_thread {
	uint32_t tid;
	enum kp_thread_kind kind;
	int index; /* vCPU or iothread index, -1 when none */
};

struct kp_ident_disk {
	char *target;    /* "vda" */
	char *source;    /* path or network name, NULL when empty */
	uint64_t devno;  /* host dev_t (makedev), 0 when unknown */
	bool block;      /* devno is the block device's own (st_rdev),
			  * else the filesystem's holding the file (st_dev) */
};

struct kp_ident_nic {
	char ifname[IF_NAMESIZE];
	uint32_t netns;         /* its network namespace (kp_proc_netns), 0
				 * when unknown */
	unsigned int ifindex;   /* in that namespace; 0 when the device is
				 * gone */
	bool in_xml;            /* named by the domain XML */
	bool held;              /* the process holds it open (fdinfo) */
};

struct kp_ident {
	uint32_t pid;
	uint64_t start_time;
	enum kp_ident_source source;
	char *name;         /* NULL when unknown */
	char *uuid;         /* lowercase, NULL when unknown */
	int dom_id;         /* libvirt's domain id, -1 when unknown */
	int dom_state;      /* virDomainState, 0 when unknown */
	bool gone;          /* the process has exited (kept a while) */
	struct kp_ident_thread *threads;
	size_t nthreads;
	struct kp_ident_disk *disks;
	size_t ndisks;
	struct kp_ident_nic *nics;
	size_t nnics;
	struct kp_mem mem;
};

struct kp_idtable;

struct kp_idtable *kp_idtable_new(void);
/* Take a reference; drop it with kp_idtable_put (frees on the last). */
struct kp_idtable *kp_idtable_get(struct kp_idtable *t);
void kp_idtable_put(struct kp_idtable *t);

/*
 * A new zeroed entry (dom_id -1) for pid; valid until the next add or the
 * seal. NULL on allocation failure.
 */
struct kp_ident *kp_idtable_add(struct kp_idtable *t, uint32_t pid,
				uint64_t start_time);
/* Sort for lookups; the table is read-only afterwards. */
void kp_idtable_seal(struct kp_idtable *t);

size_t kp_idtable_count(const struct kp_idtable *t);
const struct kp_ident *kp_idtable_at(const struct kp_idtable *t, size_t i);
/*
 * The entry of process pid started at start_time (KP_START_ANY: the live
 * one, else the one that exited last). NULL when none.
 */
const struct kp_ident *kp_idtable_find(const struct kp_idtable *t,
				       uint32_t pid, uint64_t start_time);
/*
 * The live VM whose domain XML or open fds name tap device ifindex of
 * network namespace netns (0 on either side: any namespace).
 */
const struct kp_ident *kp_idtable_find_ifindex(const struct kp_idtable *t,
					       uint32_t netns,
					       unsigned int ifindex);
/* The live VM with a disk on host device devno, and that disk. */
const struct kp_ident *kp_idtable_find_devno(const struct kp_idtable *t,
					     uint64_t devno,
					     const struct kp_ident_disk **disk);

const struct kp_ident_thread *kp_ident_thread(const struct kp_ident *id,
					      uint32_t tid);
/* Whether filter names the entry's domain: its name, or UUID in any case. */
bool kp_ident_matches(const struct kp_ident *id, const char *filter);

/* Builders for a fresh entry; 0 or -ENOMEM. */
int kp_ident_set_names(struct kp_ident *id, const char *name,
		       const char *uuid);
int kp_ident_add_thread(struct kp_ident *id, uint32_t tid,
			enum kp_thread_kind kind, int index);
int kp_ident_add_disk(struct kp_ident *id, const char *target,
		      const char *source, uint64_t devno, bool block);
/* Add or merge (by name) a tap device; netns and ifindex 0: unknown. */
int kp_ident_add_nic(struct kp_ident *id, const char *ifname, uint32_t netns,
		     unsigned int ifindex, bool in_xml, bool held);
/* Deep copy of src into a new entry of t; NULL when out of memory. */
struct kp_ident *kp_idtable_add_copy(struct kp_idtable *t,
				     const struct kp_ident *src);

#endif /* KP_IDTABLE_H */
