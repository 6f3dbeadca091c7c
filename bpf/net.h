/* SPDX-License-Identifier: GPL-2.0 */
/* Structs shared between net.bpf.c and user/probes/net.c. */
#ifndef KP_NET_H
#define KP_NET_H

#include "hist.h"

/*
 * An interface is known by its network namespace (the inode number of
 * /proc/<pid>/ns/net) and its ifindex: ifindexes are per namespace, and
 * every namespace's taps may be watched. Watched interfaces of the
 * loader's own namespace with ifindex below NET_WATCH_MAX are bytes in
 * .bss (watch[ifindex]); the rest, those of other namespaces and the rare
 * big ifindexes, a hash map keyed by struct net_dev, with a .bss byte per
 * ifindex (foreign[]) that says whether to look there at all. A watch byte
 * is 0 for an interface not watched, else 1 + the sampling shift s of its
 * delivery latency: 1 packet in 2^s is timed (s = 0: every packet).
 */
#define NET_WATCH_MAX 65536
#define NET_SHIFT_MAX 16

enum net_kind {
	NET_KIND_DELIVERY = 1, /* a timed packet delivered to the VM */
	NET_KIND_DROP = 2,     /* freed with a drop reason (skb:kfree_skb)
				* while the tap was its device, either way */
};

struct net_dev {
	__u32 netns;
	__u32 ifindex;
};

struct net_key {
	__u32 netns;
	__u32 ifindex;
	__u32 reason;  /* NET_KIND_DROP: enum skb_drop_reason, else 0 */
	__u32 kind;    /* enum net_kind */
};

/*
 * NET_KIND_DELIVERY: packets and bytes of the timed packets, hist their
 * delivery latency: from the host handing the packet to the tap
 * (net_dev_start_xmit) until the VM's side consumed it (consume_skb after
 * tun_do_read()). NET_KIND_DROP: packets and bytes dropped, no hist.
 */
struct net_val {
	__u64 packets;
	__u64 bytes;
	struct kp_hist hist;
};

#endif /* KP_NET_H */
