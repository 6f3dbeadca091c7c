// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "user/probes/blkdev.h"

/* enum req_op (include/linux/blk_types.h) */
#define OP_READ 0
#define OP_WRITE 1
#define OP_FLUSH 2
#define OP_DISCARD 3
#define OP_SECURE_ERASE 5
#define OP_WRITE_ZEROES 9

const char *kp_block_op_name(uint32_t op)
{
	switch (op) {
	case OP_READ:
		return "read";
	case OP_WRITE:
	case OP_WRITE_ZEROES:
		return "write";
	case OP_FLUSH:
		return "flush";
	case OP_DISCARD:
	case OP_SECURE_ERASE:
		return "discard";
	default:
		return "other";
	}
}

int kp_parse_uevent_devname(const char *buf, char *name, size_t len)
{
	const char *p = buf, *v;
	size_t n;

	for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, "DEVNAME=", 8))
			continue;
		v = p + 8;
		n = strcspn(v, "\n");
		if (!n || n >= len)
			return -EINVAL;
		memcpy(name, v, n);
		name[n] = '\0';
		return 0;
	}
	return -ENOENT;
}

int kp_sys_blkdev_name(const char *sys_root, unsigned int major,
		       unsigned int minor, char *name, size_t len)
{
	char path[PATH_MAX], buf[1024];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/dev/block/%u:%u/uevent", sys_root,
		 major, minor);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return kp_parse_uevent_devname(buf, name, len);
}
