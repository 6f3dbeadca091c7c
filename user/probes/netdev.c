// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "user/probes/netdev.h"

#define TUN_IFF_TAP 0x0002 /* <linux/if_tun.h> IFF_TAP */

static ssize_t read_small(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

int kp_parse_tun_flags(const char *buf, unsigned int *flags)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(buf, &end, 16);
	if (errno || end == buf || (*end && *end != '\n') || v > 0xffff)
		return -EINVAL;
	*flags = v;
	return 0;
}

static int tap_ifindex(const char *sys_root, const char *name,
		       unsigned int *ifindex)
{
	char path[PATH_MAX], buf[32];
	unsigned int flags;
	unsigned long v;
	char *end;

	snprintf(path, sizeof(path), "%s/class/net/%s/tun_flags", sys_root,
		 name);
	if (read_small(path, buf, sizeof(buf)) < 0 ||
	    kp_parse_tun_flags(buf, &flags) || !(flags & TUN_IFF_TAP))
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/class/net/%s/ifindex", sys_root, name);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return -ENOENT;
	v = strtoul(buf, &end, 10);
	if (end == buf || !v || v > UINT32_MAX)
		return -EINVAL;
	*ifindex = v;
	return 0;
}

int kp_sys_taps(const char *sys_root, struct kp_tap *taps, size_t max)
{
	char path[PATH_MAX];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/class/net", sys_root);
	d = opendir(path);
	if (!d)
		return -errno;
	while (n < max && (de = readdir(d))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) >= IF_NAMESIZE)
			continue;
		if (tap_ifindex(sys_root, de->d_name, &taps[n].ifindex))
			continue;
		snprintf(taps[n].name, IF_NAMESIZE, "%s", de->d_name);
		n++;
	}
	closedir(d);
	return n;
}

/* "  name: n0 n1 ... n15" */
static int parse_dev_line(const char *line, struct kp_netdev_stats *st)
{
	unsigned long long v[16];
	const char *colon, *p = line;
	size_t n;
	char *end;
	int i;

	while (*p == ' ')
		p++;
	colon = strchr(p, ':');
	if (!colon || colon == p || (size_t)(colon - p) >= IF_NAMESIZE)
		return -EINVAL;
	n = colon - p;
	memcpy(st->name, p, n);
	st->name[n] = '\0';
	p = colon + 1;
	for (i = 0; i < 16; i++) {
		errno = 0;
		v[i] = strtoull(p, &end, 10);
		if (errno || end == p)
			return -EINVAL;
		p = end;
	}
	st->rx_bytes = v[0];
	st->rx_packets = v[1];
	st->tx_bytes = v[8];
	st->tx_packets = v[9];
	return 0;
}

int kp_parse_proc_net_dev(const char *buf, struct kp_netdev_stats *st,
			  size_t max)
{
	const char *line = buf;
	size_t n = 0;

	for (; line && *line && n < max;
	     line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		/* the two header lines have '|' and no device */
		if (strcspn(line, "|\n") < strcspn(line, "\n") ||
		    line[strspn(line, " ")] == '\n' || !line[strspn(line, " ")])
			continue;
		if (parse_dev_line(line, &st[n]))
			return -EINVAL;
		n++;
	}
	return n;
}

double kp_trace_duty(double rate, double rate_ok, double min_duty)
{
	double d;

	if (rate <= rate_ok)
		return 1.0;
	d = rate_ok / rate;
	return d < min_duty ? min_duty : d;
}

unsigned int kp_sample_shift(double rate, double target, unsigned int max)
{
	unsigned int s = 0;

	while (s < max && rate > target * (double)(1ULL << s))
		s++;
	return s;
}
