// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "user/identity/vmproc.h"

/* Read up to len - 1 bytes of path; NUL-terminated. Bytes read or -errno. */
static ssize_t read_file(const char *path, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (got < len - 1) {
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			close(fd);
			return n;
		}
		if (!n)
			break;
		got += n;
	}
	close(fd);
	buf[got] = '\0';
	return got;
}

int kp_parse_proc_stat(const char *buf, struct kp_proc_stat *st)
{
	const char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	unsigned long long v[20];
	const char *p;
	char *end;
	size_t n;
	int i;

	if (!open || !close || close < open || close[1] != ' ')
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	n = close - open - 1;
	if (n >= sizeof(st->comm))
		n = sizeof(st->comm) - 1;
	memcpy(st->comm, open + 1, n);
	st->comm[n] = '\0';
	p = close + 2;
	if (!*p || p[1] != ' ')
		return -EINVAL;
	st->state = *p;
	p += 2;
	/* fields 4 (ppid) to 22 (starttime); pgrp and tty may be negative */
	for (i = 0; i < 19; i++) {
		errno = 0;
		v[i] = strtoull(p, &end, 10);
		if (end == p || errno || (*end != ' ' && *end != '\n' &&
					  *end != '\0'))
			return -EINVAL;
		p = end;
		while (*p == ' ')
			p++;
	}
	st->ppid = v[0];
	st->flags = v[5];
	st->num_threads = v[16];
	st->start_time = v[18];
	return 0;
}

int kp_proc_read_stat(const char *root, uint32_t pid, struct kp_proc_stat *st)
{
	char path[PATH_MAX], buf[1024];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/stat", root, pid);
	n = read_file(path, buf, sizeof(buf));
	if (n < 0)
		return n;
	return kp_parse_proc_stat(buf, st);
}

bool kp_uuid_valid(const char *s)
{
	int i;

	for (i = 0; i < KP_UUID_STR_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return s[i] == '\0';
}

/*
 * The guest name in a -name value: QemuOpts with the implied key "guest",
 * so "guest=NAME,debug-threads=on" or "NAME,process=..."; ",," is a comma.
 */
static int parse_name_opt(const char *v, char *out, size_t len)
{
	bool first = true;
	size_t n;

	while (*v) {
		const char *eq = NULL, *s = v;
		bool want;

		/* one element: up to a single comma */
		n = 0;
		while (*v && !(v[0] == ',' && v[1] != ',')) {
			if (*v == '=' && !eq)
				eq = v;
			v += *v == ',' ? 2 : 1;
		}
		want = eq ? (size_t)(eq - s) == 5 && !strncmp(s, "guest", 5) :
			    first;
		if (want) {
			s = eq ? eq + 1 : s;
			for (; s < v; s++) {
				if (n + 1 >= len)
					return -ENAMETOOLONG;
				out[n++] = *s;
				if (*s == ',')
					s++; /* ",," */
			}
			out[n] = '\0';
			return n ? 0 : -EINVAL;
		}
		first = false;
		if (*v)
			v++;
	}
	return -ENOENT;
}

int kp_parse_qemu_args(const char *buf, size_t len, struct kp_qemu_args *a)
{
	const char *p = buf, *end = buf + len, *arg, *val;
	size_t i;
	int err;

	memset(a, 0, sizeof(*a));
	while (p < end) {
		arg = p;
		p += strnlen(p, end - p) + 1;
		if (p >= end)
			break;
		val = p;
		if (!memchr(val, '\0', end - val))
			break; /* truncated last argument */
		/* QEMU takes -opt and --opt alike */
		if (arg[0] == '-' && arg[1] == '-')
			arg++;
		if (!strcmp(arg, "-name")) {
			err = parse_name_opt(val, a->name, sizeof(a->name));
			if (err && err != -ENOENT) {
				a->name[0] = '\0';
				return err;
			}
		} else if (!strcmp(arg, "-uuid")) {
			if (!kp_uuid_valid(val))
				return -EINVAL;
			for (i = 0; i < KP_UUID_STR_LEN; i++)
				a->uuid[i] = tolower((unsigned char)val[i]);
			a->uuid[i] = '\0';
		} else {
			continue;
		}
		p += strlen(val) + 1;
	}
	return 0;
}

int kp_proc_read_qemu_args(const char *root, uint32_t pid,
			   struct kp_qemu_args *a)
{
	char path[PATH_MAX], *buf;
	ssize_t n;
	int err;

	buf = malloc(KP_CMDLINE_MAX);
	if (!buf)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/%u/cmdline", root, pid);
	n = read_file(path, buf, KP_CMDLINE_MAX);
	err = n < 0 ? n : kp_parse_qemu_args(buf, n, a);
	free(buf);
	return err;
}

/* Decode systemd's unit name escapes (\xNN) of s into out. */
static void unescape_unit(const char *s, size_t n, char *out, size_t len)
{
	size_t o = 0;
	unsigned int c;

	while (n && o + 1 < len) {
		if (n >= 4 && s[0] == '\\' && s[1] == 'x' &&
		    isxdigit((unsigned char)s[2]) &&
		    isxdigit((unsigned char)s[3]) &&
		    sscanf(s + 2, "%2x", &c) == 1) {
			out[o++] = (char)c;
			s += 4;
			n -= 4;
			continue;
		}
		out[o++] = *s++;
		n--;
	}
	out[o] = '\0';
}

/* "qemu-<id>-<name>" into m. 0 or -ENOENT. */
static int parse_qemu_unit(const char *s, struct kp_machine_scope *m)
{
	char *end;
	long id;

	if (strncmp(s, "qemu-", 5))
		return -ENOENT;
	errno = 0;
	id = strtol(s + 5, &end, 10);
	if (end == s + 5 || errno || *end != '-' || id < 0 || id > INT_MAX)
		return -ENOENT;
	m->dom_id = id;
	snprintf(m->name, sizeof(m->name), "%s", end + 1);
	return 0;
}

/* One cgroup path component: a machine scope, or -ENOENT. */
static int parse_component(const char *c, size_t n, struct kp_machine_scope *m)
{
	static const char scope_pfx[] = "machine-", scope_sfx[] = ".scope";
	static const char own_sfx[] = ".libvirt-qemu";
	char unit[KP_DOM_NAME_MAX + 32];
	size_t ps = sizeof(scope_pfx) - 1, ss = sizeof(scope_sfx) - 1;
	size_t os = sizeof(own_sfx) - 1;

	if (n > ps + ss && !strncmp(c, scope_pfx, ps) &&
	    !strncmp(c + n - ss, scope_sfx, ss)) {
		unescape_unit(c + ps, n - ps - ss, unit, sizeof(unit));
		return parse_qemu_unit(unit, m);
	}
	if (n > os && !strncmp(c + n - os, own_sfx, os)) {
		if (n - os >= sizeof(unit))
			return -ENOENT;
		memcpy(unit, c, n - os);
		unit[n - os] = '\0';
		return parse_qemu_unit(unit, m);
	}
	return -ENOENT;
}

/*
 * Call fn on every component of every path of the text of /proc/<pid>/cgroup
 * ("<id>:<controllers>:<path>" lines) until it returns 0; 0 then, else
 * -ENOENT.
 */
static int cgroup_components(const char *buf,
			     int (*fn)(const char *c, size_t n, void *arg),
			     void *arg)
{
	const char *line = buf, *path, *nl, *c, *e;

	for (; *line; line = *nl ? nl + 1 : nl) {
		nl = line + strcspn(line, "\n");
		path = memchr(line, ':', nl - line);
		path = path ? memchr(path + 1, ':', nl - path - 1) : NULL;
		if (!path)
			continue;
		for (c = path + 1; c < nl; c = e + 1) {
			while (c < nl && *c == '/')
				c++;
			e = c;
			while (e < nl && *e != '/')
				e++;
			if (e > c && !fn(c, e - c, arg))
				return 0;
			if (e >= nl)
				break;
		}
	}
	return -ENOENT;
}

static int machine_component(const char *c, size_t n, void *arg)
{
	return parse_component(c, n, arg);
}

int kp_parse_machine_cgroup(const char *buf, struct kp_machine_scope *m)
{
	memset(m, 0, sizeof(*m));
	m->dom_id = -1;
	return cgroup_components(buf, machine_component, m);
}

int kp_proc_read_cgroup(const char *root, uint32_t pid, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/cgroup", root, pid);
	n = read_file(path, buf, len);
	return n < 0 ? n : 0;
}

int kp_proc_read_machine_cgroup(const char *root, uint32_t pid,
				struct kp_machine_scope *m)
{
	char buf[4096];
	int err = kp_proc_read_cgroup(root, pid, buf, sizeof(buf));

	return err ? err : kp_parse_machine_cgroup(buf, m);
}

/* "kubepods", or "kubepods.slice", "kubepods-burstable.slice", ... */
static int kube_component(const char *c, size_t n, void *arg)
{
	static const char k[] = "kubepods";
	size_t kn = sizeof(k) - 1;

	(void)arg;
	if (n < kn || strncmp(c, k, kn))
		return -ENOENT;
	return n == kn || c[kn] == '.' || c[kn] == '-' ? 0 : -ENOENT;
}

bool kp_parse_kube_cgroup(const char *buf)
{
	return !cgroup_components(buf, kube_component, NULL);
}

int kp_parse_fdinfo_iff(const char *buf, char *ifname, size_t len)
{
	const char *p = buf, *v;
	size_t n;

	for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, "iff:", 4))
			continue;
		v = p + 4;
		while (*v == ' ' || *v == '\t')
			v++;
		n = strcspn(v, "\n");
		if (!n || n >= len || n >= IF_NAMESIZE)
			return -EINVAL;
		memcpy(ifname, v, n);
		ifname[n] = '\0';
		return 0;
	}
	return -ENOENT;
}

int kp_proc_read_taps(const char *root, uint32_t pid,
		      char (*names)[IF_NAMESIZE], size_t max)
{
	char path[PATH_MAX], link[64], buf[1024];
	struct dirent *de;
	size_t n = 0, i;
	ssize_t len;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%u/fd", root, pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while (n < max && (de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/%u/fd/%s", root, pid,
			 de->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len < 0)
			continue;
		link[len] = '\0';
		if (strcmp(link, "/dev/net/tun"))
			continue;
		snprintf(path, sizeof(path), "%s/%u/fdinfo/%s", root, pid,
			 de->d_name);
		if (read_file(path, buf, sizeof(buf)) < 0 ||
		    kp_parse_fdinfo_iff(buf, names[n], IF_NAMESIZE))
			continue;
		for (i = 0; i < n; i++) /* multiqueue: one fd per queue */
			if (!strcmp(names[i], names[n]))
				break;
		if (i == n)
			n++;
	}
	closedir(d);
	return n;
}

uint32_t kp_proc_netns(const char *root, uint32_t pid)
{
	char path[PATH_MAX];
	struct stat st;

	if (pid)
		snprintf(path, sizeof(path), "%s/%u/ns/net", root, pid);
	else
		snprintf(path, sizeof(path), "%s/self/ns/net", root);
	return stat(path, &st) ? 0 : (uint32_t)st.st_ino;
}

static int parse_ifindex(const char *p, unsigned int *ifindex)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(p, &end, 10);
	if (errno || end == p || !v || v > 0x7fffffff)
		return -EINVAL;
	*ifindex = v;
	return 0;
}

int kp_parse_snmp6_ifindex(const char *buf, unsigned int *ifindex)
{
	if (strncmp(buf, "ifIndex", 7) || (buf[7] != ' ' && buf[7] != '\t'))
		return -EINVAL;
	return parse_ifindex(buf + 7 + strspn(buf + 7, " \t"), ifindex);
}

/* "Idx\tDevice    : Count Querier..." then per device "2\ttap0      :  1 V3"
 * and its groups on lines that start with a tab. */
int kp_parse_igmp_ifindex(const char *buf, const char *name,
			  unsigned int *ifindex)
{
	const char *p = buf, *dev;
	size_t n = strlen(name);

	for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (*p < '0' || *p > '9')
			continue;
		dev = p + strcspn(p, "\t\n");
		if (*dev != '\t')
			return -EINVAL;
		dev++;
		if (strncmp(dev, name, n) || (dev[n] != ' ' && dev[n] != ':'))
			continue;
		return parse_ifindex(p, ifindex);
	}
	return -ENOENT;
}

unsigned int kp_proc_ifindex(const char *root, uint32_t pid, const char *name)
{
	char path[PATH_MAX], buf[8192];
	unsigned int ifindex;

	if (!*name || strchr(name, '/') || name[0] == '.')
		return 0;
	snprintf(path, sizeof(path), "%s/%u/net/dev_snmp6/%s", root, pid, name);
	if (read_file(path, buf, 128) >= 0 &&
	    !kp_parse_snmp6_ifindex(buf, &ifindex))
		return ifindex;
	snprintf(path, sizeof(path), "%s/%u/net/igmp", root, pid);
	if (read_file(path, buf, sizeof(buf)) >= 0 &&
	    !kp_parse_igmp_ifindex(buf, name, &ifindex))
		return ifindex;
	return 0;
}

bool kp_is_kvm_fd_link(const char *link)
{
	return !strcmp(link, "anon_inode:kvm-vm") ||
	       !strncmp(link, "anon_inode:kvm-vcpu:", 20);
}

int kp_proc_holds_kvm(const char *root, uint32_t pid)
{
	char path[PATH_MAX], link[64];
	struct dirent *de;
	int found = 0;
	ssize_t len;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%u/fd", root, pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/%u/fd/%s", root, pid,
			 de->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len < 0)
			continue;
		link[len] = '\0';
		found = kp_is_kvm_fd_link(link);
	}
	closedir(d);
	return found;
}

void kp_path_devno(const char *path, uint64_t *devno, bool *block)
{
	struct stat st;

	*devno = 0;
	*block = false;
	if (!path || path[0] != '/' || stat(path, &st))
		return;
	*block = S_ISBLK(st.st_mode);
	*devno = *block ? st.st_rdev : st.st_dev;
}

int kp_read_pidfiles(const char *dir, uint32_t *pids, size_t max)
{
	char path[PATH_MAX], buf[32];
	struct dirent *de;
	size_t n = 0, len;
	char *end;
	long v;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return -errno;
	while (n < max && (de = readdir(d))) {
		len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".pid"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (read_file(path, buf, sizeof(buf)) <= 0)
			continue;
		errno = 0;
		v = strtol(buf, &end, 10);
		if (errno || end == buf || (*end && *end != '\n') || v <= 0 ||
		    v > INT_MAX)
			continue;
		pids[n++] = v;
	}
	closedir(d);
	return n;
}

/* Parse a decimal number that is all of s; -1 when it is not. */
static long parse_num(const char *s)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v > INT_MAX)
		return -1;
	return v;
}

int kp_parse_vhost_comm(const char *comm, uint32_t *owner)
{
	long v;

	if (strncmp(comm, "vhost-", 6))
		return -EINVAL;
	v = parse_num(comm + 6);
	if (v <= 0)
		return -EINVAL;
	*owner = v;
	return 0;
}

/* "CPU <n>/KVM", as QEMU names vCPU threads with debug-threads=on */
int kp_parse_vcpu_name(const char *comm)
{
	const char *p = comm;
	long v = 0;

	if (strncmp(p, "CPU ", 4))
		return -1;
	p += 4;
	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (*p++ - '0');
		if (v > 65535)
			return -1;
	}
	if (strcmp(p, "/KVM"))
		return -1;
	return (int)v;
}

enum kp_thread_kind kp_classify_thread(uint32_t pid, uint32_t tid,
				       const char *comm, int *index)
{
	static const char iothread_pfx[] = "IO iothread";
	uint32_t owner;

	*index = -1;
	if (tid == pid)
		return KP_THREAD_MAIN;
	*index = kp_parse_vcpu_name(comm);
	if (*index >= 0)
		return KP_THREAD_VCPU;
	if (!strncmp(comm, "IO ", 3)) {
		/* libvirt's iothread ids are "iothread<n>" */
		if (!strncmp(comm, iothread_pfx, sizeof(iothread_pfx) - 1))
			*index = parse_num(comm + sizeof(iothread_pfx) - 1);
		return KP_THREAD_IOTHREAD;
	}
	if (!kp_parse_vhost_comm(comm, &owner))
		return KP_THREAD_VHOST;
	if (!strncmp(comm, "kvm-", 4) || !strncmp(comm, "kvm_", 4))
		return KP_THREAD_KVM;
	return KP_THREAD_EMULATOR;
}

const char *kp_thread_kind_name(enum kp_thread_kind k)
{
	static const char *const names[KP_THREAD__COUNT] = {
		[KP_THREAD_MAIN] = "main",
		[KP_THREAD_VCPU] = "vcpu",
		[KP_THREAD_IOTHREAD] = "iothread",
		[KP_THREAD_VHOST] = "vhost",
		[KP_THREAD_KVM] = "kvm",
		[KP_THREAD_EMULATOR] = "emulator",
	};

	return (unsigned int)k < KP_THREAD__COUNT ? names[k] : "?";
}
