/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tap devices for the net probe: which interfaces are taps (sysfs), their
 * counters (/proc/net/dev), sampling and duty-cycle arithmetic. Who holds
 * a tap is the resolver's (user/identity/). Readers take the sysfs and
 * proc roots, so fixture trees can stand in for them.
 */
#ifndef KP_NETDEV_H
#define KP_NETDEV_H

#include <stddef.h>
#include <stdint.h>
#include <net/if.h>

struct kp_tap {
	char name[IF_NAMESIZE];
	unsigned int ifindex;
};

/* The flags of a tun device's sysfs tun_flags ("0x1002\n"). 0 or -EINVAL. */
int kp_parse_tun_flags(const char *buf, unsigned int *flags);

/*
 * The tap devices (tun driver in IFF_TAP mode; IFF_TUN point-to-point
 * devices are VPNs, not VMs) under <sys_root>/class/net, at most max.
 * Returns how many, or -errno when the directory is unreadable.
 */
int kp_sys_taps(const char *sys_root, struct kp_tap *taps, size_t max);

/* The counters the kernel keeps for a device, as /proc/net/dev has them. */
struct kp_netdev_stats {
	char name[IF_NAMESIZE];
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
};

/*
 * Parse the text of /proc/net/dev into st (at most max devices). Returns
 * how many, or -EINVAL when a device line is malformed.
 */
int kp_parse_proc_net_dev(const char *buf, struct kp_netdev_stats *st,
			  size_t max);

/*
 * The sampling shift for a rate of events per second: the smallest s with
 * rate / 2^s <= target, at most max.
 */
unsigned int kp_sample_shift(double rate, double target, unsigned int max);

/*
 * The share of time (0 < duty <= 1) to keep per-packet tracepoints
 * attached when packets pass at rate per second and rate_ok per second
 * cost little enough to trace all the time: rate_ok / rate, between
 * min_duty and 1.
 */
double kp_trace_duty(double rate, double rate_ok, double min_duty);

#endif /* KP_NETDEV_H */
