// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include "user/identity/procfs.h"

static int read_line(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	if (!len)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int kp_proc_comm(const char *root, uint32_t pid, char *buf, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%u/comm", root, pid);
	return read_line(path, buf, len);
}

int kp_proc_thread_comm(const char *root, uint32_t pid, uint32_t tid,
			char *buf, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%u/task/%u/comm", root, pid, tid);
	return read_line(path, buf, len);
}

bool kp_proc_thread_alive(const char *root, uint32_t pid, uint32_t tid)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%u/task/%u", root, pid, tid);
	return stat(path, &st) == 0;
}

/* A /proc directory entry that names a process or thread: its id, else 0. */
static uint32_t dir_id(const struct dirent *d)
{
	char *end;
	unsigned long v;

	if (d->d_name[0] < '1' || d->d_name[0] > '9')
		return 0;
	v = strtoul(d->d_name, &end, 10);
	return *end || v > UINT32_MAX ? 0 : (uint32_t)v;
}

static int process_vcpus(const char *root, uint32_t pid, kp_vcpu_fn fn,
			 void *arg)
{
	char path[PATH_MAX], comm[32];
	struct dirent *d;
	uint32_t tid;
	int vcpu, ret = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/%u/task", root, pid);
	dir = opendir(path);
	if (!dir)
		return 0; /* it ended */
	while (!ret && (d = readdir(dir))) {
		tid = dir_id(d);
		if (!tid || kp_proc_thread_comm(root, pid, tid, comm,
						sizeof(comm)))
			continue;
		vcpu = kp_parse_vcpu_name(comm);
		if (vcpu >= 0)
			ret = fn(pid, tid, vcpu, arg);
	}
	closedir(dir);
	return ret;
}

int kp_proc_vcpu_threads(const char *root, kp_vcpu_fn fn, void *arg)
{
	struct dirent *d;
	uint32_t pid;
	int ret = 0;
	DIR *dir;

	dir = opendir(root);
	if (!dir)
		return -errno;
	while (!ret && (d = readdir(dir))) {
		pid = dir_id(d);
		if (pid)
			ret = process_vcpus(root, pid, fn, arg);
	}
	closedir(dir);
	return ret;
}
