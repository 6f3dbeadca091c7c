/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Block devices as the block probe reports them: the kernel's dev_t, the
 * names of request operations, device names from sysfs. Pure: readers take
 * the sysfs root ("/sys", or a fixture tree in tests).
 */
#ifndef KP_BLKDEV_H
#define KP_BLKDEV_H

#include <stddef.h>
#include <stdint.h>

/* The kernel's internal dev_t, as BPF reads it: major << 20 | minor. */
static inline unsigned int kp_kdev_major(uint32_t kdev)
{
	return kdev >> 20;
}

static inline unsigned int kp_kdev_minor(uint32_t kdev)
{
	return kdev & 0xfffff;
}

/*
 * The reported name of a REQ_OP_* code: "read", "write" (also WRITE_ZEROES),
 * "flush", "discard" (also SECURE_ERASE), and "other" for the rest (zone
 * management, driver-private). These codes have not changed since v4.10.
 */
const char *kp_block_op_name(uint32_t op);

/*
 * The DEVNAME= value of a uevent text ("DEVNAME=loop0\n"). 0, -ENOENT when
 * absent, -EINVAL when empty or longer than len - 1.
 */
int kp_parse_uevent_devname(const char *buf, char *name, size_t len);

/* The kernel name of block device major:minor from
 * <sys_root>/dev/block/MAJ:MIN/uevent. 0 or -errno. */
int kp_sys_blkdev_name(const char *sys_root, unsigned int major,
		       unsigned int minor, char *name, size_t len);

#endif /* KP_BLKDEV_H */
