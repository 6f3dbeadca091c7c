// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "user/procfs.h"

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
