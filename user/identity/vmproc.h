/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What /proc and cgroups say about a VMM process without asking libvirt:
 * its start time (identity across PID reuse), QEMU's -name guest=... and
 * -uuid arguments, libvirt's machine cgroup, the tap devices it holds
 * (fdinfo "iff:") and the roles of its threads. The parsers are pure; the
 * readers take the proc root ("/proc", or a fixture tree in tests).
 */
#ifndef KP_VMPROC_H
#define KP_VMPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>

#define KP_PROC_COMM_MAX 16
#define KP_DOM_NAME_MAX 256 /* longer -name values are not trusted */
#define KP_UUID_STR_LEN 36
#define KP_CMDLINE_MAX (128 * 1024)
#define KP_MAX_TAPS 64

/* The fields of /proc/<pid>/stat the resolver needs. */
struct kp_proc_stat {
	char comm[KP_PROC_COMM_MAX];
	char state;
	uint32_t ppid;
	unsigned int flags;    /* PF_*; PF_KTHREAD marks kernel threads */
	uint32_t num_threads;
	uint64_t start_time;   /* field 22: clock ticks after boot */
};

#define KP_PF_KTHREAD 0x00200000u

/*
 * Parse the text of /proc/<pid>/stat. comm may hold spaces and
 * parentheses: it ends at the last ')'. 0 or -EINVAL.
 */
int kp_parse_proc_stat(const char *buf, struct kp_proc_stat *st);
int kp_proc_read_stat(const char *root, uint32_t pid, struct kp_proc_stat *st);

/* What QEMU's command line says about its guest. */
struct kp_qemu_args {
	char name[KP_DOM_NAME_MAX];       /* "" when absent */
	char uuid[KP_UUID_STR_LEN + 1];   /* lowercase, "" when absent */
};

/*
 * Parse a NUL-separated command line of len bytes: "-name guest=NAME,..."
 * (or "-name NAME,..."; ",," is a literal comma) and "-uuid UUID".
 * 0 (fields may be empty), or -EINVAL when the name or uuid is malformed.
 */
int kp_parse_qemu_args(const char *buf, size_t len, struct kp_qemu_args *a);
int kp_proc_read_qemu_args(const char *root, uint32_t pid,
			   struct kp_qemu_args *a);

/* A libvirt machine cgroup: the domain id and libvirt's short name. */
struct kp_machine_scope {
	int dom_id;
	char name[KP_DOM_NAME_MAX]; /* shortened by libvirt: not the name */
};

/*
 * Find a libvirt machine cgroup in the text of /proc/<pid>/cgroup:
 * systemd's "machine-qemu\x2d<id>\x2d<name>.scope" (\xNN unescaped) or
 * libvirt's own "qemu-<id>-<name>.libvirt-qemu". 0, or -ENOENT when the
 * process is in none.
 */
int kp_parse_machine_cgroup(const char *buf, struct kp_machine_scope *m);
int kp_proc_read_machine_cgroup(const char *root, uint32_t pid,
				struct kp_machine_scope *m);
/* The text of /proc/<pid>/cgroup into buf (NUL-terminated). 0 or -errno. */
int kp_proc_read_cgroup(const char *root, uint32_t pid, char *buf, size_t len);

/*
 * Whether the text of /proc/<pid>/cgroup puts the process in a Kubernetes
 * pod: a path component "kubepods" (cgroupfs driver: /kubepods/burstable/
 * pod<uid>/...) or "kubepods.slice", "kubepods-*.slice" (systemd driver).
 * KubeVirt's QEMU runs there, under a libvirt of its own (in the
 * virt-launcher pod) that the host cannot reach.
 */
bool kp_parse_kube_cgroup(const char *buf);

/* The interface of a tun/tap fd from its fdinfo text ("iff:\tNAME"). */
int kp_parse_fdinfo_iff(const char *buf, char *ifname, size_t len);
/*
 * Names of the tap devices pid holds open (fds on /dev/net/tun), at most
 * max. Returns how many, or -errno when the fd directory is unreadable.
 */
int kp_proc_read_taps(const char *root, uint32_t pid,
		      char (*names)[IF_NAMESIZE], size_t max);

/*
 * The inode number of process pid's network namespace (/proc/<pid>/ns/net;
 * pid 0: "self"), 0 when it cannot be read. Devices are named and numbered
 * per namespace: (netns, ifindex) names a device on the host.
 */
uint32_t kp_proc_netns(const char *root, uint32_t pid);
/* The ifindex in the text of /proc/<pid>/net/dev_snmp6/<dev> ("ifIndex
 * <n>" on its first line). 0, or -EINVAL. */
int kp_parse_snmp6_ifindex(const char *buf, unsigned int *ifindex);
/* The ifindex of device name in the text of /proc/<pid>/net/igmp (devices
 * with IPv4 multicast: those up). 0, -ENOENT, or -EINVAL. */
int kp_parse_igmp_ifindex(const char *buf, const char *name,
			  unsigned int *ifindex);
/*
 * The ifindex of device name in pid's network namespace, read through
 * pid's view of it (/proc/<pid>/net: no need to enter the namespace):
 * dev_snmp6 when the namespace has IPv6, else igmp (a device that is up).
 * 0 when neither tells.
 */
unsigned int kp_proc_ifindex(const char *root, uint32_t pid, const char *name);

/*
 * Whether an fd's link text (readlink of /proc/<pid>/fd/<n>) is a KVM VM
 * or vCPU: "anon_inode:kvm-vm", "anon_inode:kvm-vcpu:<n>".
 */
bool kp_is_kvm_fd_link(const char *link);
/*
 * Whether process pid is a VMM: it holds a KVM VM or vCPU fd. 1, 0, or
 * -errno when its fd directory cannot be read (it ended, or no right).
 */
int kp_proc_holds_kvm(const char *root, uint32_t pid);

/*
 * The host device of a disk source path: the block device's own number
 * (st_rdev, *block true) or the filesystem's holding the file (st_dev);
 * 0 when path is not an absolute path that exists.
 */
void kp_path_devno(const char *path, uint64_t *devno, bool *block);

/* The role of a thread of a QEMU process, from its name. */
enum kp_thread_kind {
	KP_THREAD_MAIN,      /* tid == pid */
	KP_THREAD_VCPU,      /* "CPU <n>/KVM": index n */
	KP_THREAD_IOTHREAD,  /* "IO <id>": index n for id "iothread<n>" */
	KP_THREAD_VHOST,     /* "vhost-<pid>": vhost worker of the VM */
	KP_THREAD_KVM,       /* KVM's own workers: "kvm-nx-lpage-re", ... */
	KP_THREAD_EMULATOR,  /* any other QEMU thread */
	KP_THREAD__COUNT,
};

/* The vCPU index in a thread name "CPU <n>/KVM" (QEMU's), or -1. */
int kp_parse_vcpu_name(const char *comm);
/* Classify thread tid named comm of process pid; *index or -1. */
enum kp_thread_kind kp_classify_thread(uint32_t pid, uint32_t tid,
				       const char *comm, int *index);
const char *kp_thread_kind_name(enum kp_thread_kind k);
/* The VMM pid in a vhost worker name "vhost-<pid>". 0 or -EINVAL. */
int kp_parse_vhost_comm(const char *comm, uint32_t *owner);

/*
 * The pids in the "*.pid" files of dir (libvirt's /run/libvirt/qemu: one
 * per running QEMU it manages), at most max. How many, or -errno.
 */
int kp_read_pidfiles(const char *dir, uint32_t *pids, size_t max);

/* Whether s is a UUID in 8-4-4-4-12 hex form (any case). */
bool kp_uuid_valid(const char *s);

#endif /* KP_VMPROC_H */
