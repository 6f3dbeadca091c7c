// SPDX-License-Identifier: GPL-2.0
/*
 * net: drops by reason and the host -> guest delivery latency of tap
 * devices. Packet and byte counts come from the taps' own counters, which
 * the tun driver keeps anyway (user/probes/net.c): counting here would put map
 * updates on every packet. Only interfaces the loader marks as watched (tap
 * devices, of any network namespace: bpf/net.h) are looked at; every other
 * packet costs three loads and a test.
 *
 * Attach points, all tracepoints of the core stack that v5.17 through
 * v6.18 have (tun itself has no tracepoints, and kprobes or fentry on tun_*
 * cannot be relied on: some hosts have neither):
 *   net:net_dev_start_xmit  the host hands a packet to the tap: tun_net_xmit()
 *                           is next and puts it in the tap's ring
 *   skb:consume_skb         tun_do_read() copied the packet to the VM's side
 *                           (QEMU's read() or vhost-net's recvmsg) and frees
 *                           it: delivered
 *   skb:kfree_skb           freed with a drop reason: the ring was full
 *                           (FULL_RING), the reader failed, or a packet the
 *                           VM sent was dropped by the host stack
 *
 * Delivery latency is sampled: a packet is timed when a hash of its data
 * buffer's address has its top s bits clear, s the tap's shift in watch[].
 * Both ends compute the same answer from the address, so an untimed packet
 * costs no map operation at either end; the loader raises s for busy taps. A timed
 * packet is remembered by skb address until it is consumed or dropped.
 *
 * BTF-typed programs with raw_tp twins, as in block.bpf.c.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "net.h"
#include "kp_helpers.bpf.h"
#define KP_NO_PID_FILTER /* taps are chosen by the loader (watch[]) */
#include "kp_common.bpf.h"
#include "core_fixes.bpf.h"

/* The loader's network namespace (inode number), whose devices watch[]
 * is about; 0 when unknown: watch[] then matches any namespace. */
const volatile __u32 netns_ino = 0;

/* Written by the loader at any time (bpf/net.h). watch[i]: 1 + sampling
 * shift of interface i of netns_ino, 0: not watched. foreign[i]: non-zero
 * when watch_ns may hold interface i of some namespace. */
__u8 watch[NET_WATCH_MAX];
__u8 foreign[NET_WATCH_MAX];

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct net_dev);
	__type(value, __u8);
} watch_ns SEC(".maps");

/*
 * skb -> when (ns) the timed packet was handed to a watched tap; the tap
 * it is delivered from is the skb's device then. LRU: a packet
 * freed on a path without a tracepoint, or timed at one end and not at the
 * other because the shift changed in between, ages out.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u64);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct net_key);
	__type(value, struct net_val);
} stats SEC(".maps");

static const struct net_val zero_val;

/*
 * 1 + the sampling shift of dev when it is watched, else 0; sets *nd to
 * its namespace and ifindex. btf: dev is a BTF pointer (tp_btf) and is
 * read directly, else through CO-RE probe reads (raw_tp).
 */
static __always_inline __u32 watched(const struct net_device *dev,
				     struct net_dev *nd, bool btf)
{
	__u32 idx, w = 0;
	__u8 *p;

	if (!dev)
		return 0;
	idx = btf ? dev->ifindex : BPF_CORE_READ(dev, ifindex);
	if (idx < NET_WATCH_MAX) {
		w = watch[idx];
		if (!w && !foreign[idx])
			return 0;
	}
	nd->ifindex = idx;
	nd->netns = kp_dev_netns(dev, btf);
	if (w && (!netns_ino || nd->netns == netns_ino))
		return w;
	p = bpf_map_lookup_elem(&watch_ns, nd);
	return p ? *p : 0;
}

/*
 * Whether the packet is timed when 1 in 2^(w - 1) is: by a hash of its
 * data buffer's address (skb->head), which both ends read alike. Not the
 * skb's own address: tp_btf programs may not do arithmetic on it.
 */
static __always_inline bool timed(const struct sk_buff *skb, __u32 w, bool btf)
{
	__u32 shift = w - 1;
	__u64 h;

	if (!shift)
		return true;
	h = (__u64)(btf ? skb->head : BPF_CORE_READ(skb, head));
	h = (h >> 6) * 0x9e3779b97f4a7c15ULL;
	if (shift > NET_SHIFT_MAX)
		shift = NET_SHIFT_MAX;
	return !(h >> (64 - shift));
}

static __always_inline const struct net_device *
skb_dev(const struct sk_buff *skb, bool btf)
{
	return btf ? skb->dev : BPF_CORE_READ(skb, dev);
}

static __always_inline struct net_val *stat_get(const struct net_dev *nd,
						__u32 kind, __u32 reason)
{
	struct net_key k = { .netns = nd->netns, .ifindex = nd->ifindex,
			     .reason = reason, .kind = kind };
	struct net_val *v = kp_lookup_or_init(&stats, &k, &zero_val);

	if (!v)
		kp_lost();
	return v;
}

static __always_inline int on_xmit(const struct sk_buff *skb,
				   const struct net_device *dev, bool btf)
{
	__u64 key = (__u64)skb, ts;
	struct net_dev nd;
	__u32 w;

	w = watched(dev, &nd, btf);
	if (!w || !timed(skb, w, btf))
		return 0;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&pending, &key, &ts, BPF_ANY);
	return 0;
}

static __always_inline int on_consume(const struct sk_buff *skb, bool btf)
{
	__u64 key = (__u64)skb, delay;
	struct net_val *v;
	__u64 *ts;
	struct net_dev nd;
	__u32 w;

	w = watched(skb_dev(skb, btf), &nd, btf);
	if (!w || !timed(skb, w, btf))
		return 0;
	/* absent: not handed to a tap (one the VM sent, freed by a host
	 * socket), or timed under another shift */
	ts = bpf_map_lookup_elem(&pending, &key);
	if (!ts)
		return 0;
	delay = bpf_ktime_get_ns() - *ts;
	bpf_map_delete_elem(&pending, &key);
	v = stat_get(&nd, NET_KIND_DELIVERY, 0);
	if (!v)
		return 0;
	__sync_fetch_and_add(&v->packets, 1);
	__sync_fetch_and_add(&v->bytes, btf ? skb->len : BPF_CORE_READ(skb, len));
	kp_hist_add_atomic(&v->hist, delay);
	return 0;
}

static __always_inline int on_drop(const struct sk_buff *skb, __u32 reason,
				   bool btf)
{
	__u64 key = (__u64)skb;
	struct net_val *v;
	struct net_dev nd;
	__u32 w;

	w = watched(skb_dev(skb, btf), &nd, btf);
	if (!w)
		return 0;
	if (timed(skb, w, btf))
		bpf_map_delete_elem(&pending, &key);
	v = stat_get(&nd, NET_KIND_DROP, reason);
	if (!v)
		return 0;
	__sync_fetch_and_add(&v->packets, 1);
	__sync_fetch_and_add(&v->bytes, btf ? skb->len : BPF_CORE_READ(skb, len));
	return 0;
}

/* BTF-typed flavours */

SEC("tp_btf/net_dev_start_xmit")
int BPF_PROG(xmit_btf, const struct sk_buff *skb, const struct net_device *dev)
{
	return on_xmit(skb, dev, true);
}

SEC("tp_btf/consume_skb")
int BPF_PROG(consume_btf, struct sk_buff *skb)
{
	return on_consume(skb, true);
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(drop_btf, struct sk_buff *skb, void *location,
	     enum skb_drop_reason reason)
{
	return on_drop(skb, reason, true);
}

/* raw tracepoints */

SEC("raw_tp/net_dev_start_xmit")
int BPF_PROG(xmit_raw, const struct sk_buff *skb, const struct net_device *dev)
{
	return on_xmit(skb, dev, false);
}

SEC("raw_tp/consume_skb")
int BPF_PROG(consume_raw, struct sk_buff *skb)
{
	return on_consume(skb, false);
}

SEC("raw_tp/kfree_skb")
int BPF_PROG(drop_raw, struct sk_buff *skb, void *location, int reason)
{
	return on_drop(skb, reason, false);
}

char LICENSE[] SEC("license") = "GPL";
