// SPDX-License-Identifier: GPL-2.0
/*
 * The net probe: tells net.bpf.c which interfaces to look at and how often
 * to time a packet, and turns the taps' own counters and the BPF drop and
 * delivery maps into iface samples of the host record that carry the tap's
 * network namespace and ifindex (kp_ifdev): the resolver moves them to the
 * VMM that holds the tap (or whose domain XML names it).
 *
 * The taps looked at (with --pid only those the given processes hold):
 *  - those of kvmprobe's own network namespace, from sysfs;
 *  - those VMMs hold in other namespaces (KubeVirt's virt-launcher pods,
 *    Kata, some OpenStack setups), from the resolver's identity table: a
 *    VMM's tun fds name them (fdinfo "iff:"), its /proc/<pid>/net shows its
 *    namespace (user/identity/vmproc.h). Such a tap is taken to be in its
 *    holder's namespace, where QEMU opens it.
 *
 * Packets and bytes come from the counters tun keeps per device
 * (/proc/net/dev, or /proc/<holder>/net/dev for another namespace: no need
 * to enter it), read each interval: exact and free, where counting in BPF
 * would put a map update on every packet. From the VM's point of view, rx
 * is the tap's tx (tun_put_user(): the VM's side took the packet) and tx is
 * the tap's rx.
 *
 * Delivery latency needs two per-packet tracepoints, net_dev_start_xmit and
 * consume_skb; once a program is attached every packet of the host passes
 * them (tens of ns each, whatever the program does), and a timed packet
 * costs map updates at both ends. A control thread keeps both bounded, from
 * the device counters every CONTROL_NS:
 *  - per tap, the sampling shift: all packets are timed up to TIMED_PER_S
 *    per second, beyond that 1 in 2^s (bpf/net.h);
 *  - the duty cycle: while the host moves more than TRACE_OK_PPS packets
 *    per second in all, the two programs are attached only part of each
 *    second (in proportion, at least MIN_DUTY): consume_skb GRACE_TICKS
 *    longer than net_dev_start_xmit, so that the packets timed in the
 *    window are seen delivered. The host's packets are those of kvmprobe's
 *    namespace: a pod's traffic crosses it too (the veth peer).
 *  The taps of other namespaces have their shift set every
 *  FOREIGN_CONTROL_STEPS, one read of each namespace's counters a second.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpf/net.h"
#include "net.skel.h"
#include "user/probes/dropreason.h"
#include "user/probes/probe.h"
#include "user/probes/netdev.h"
#include "user/probes/tpprog.h"
#include "user/identity/resolve.h"
#include "user/identity/vmproc.h"

#define NEVENTS 3
#define EV_XMIT 0
#define EV_CONSUME 1
#define MAX_TAPS 4096
#define MAX_DEVS 4096
#define DEVBUF_SIZE (MAX_DEVS * 160)
#define STATS_MIN 64
#define TIMED_PER_S 2000.0 /* delivery samples per second and tap */
/* until the control thread knows a new tap's rate: 1 packet in 256 */
#define INITIAL_SHIFT 8
#define TRACE_OK_PPS 20000.0  /* host packets/s traced all the time */
#define MIN_DUTY 0.05
#define TICK_NS 50000000LL    /* the duty cycle's step */
#define TICKS 20              /* per period of a second */
#define GRACE_TICKS 2
#define CONTROL_TICKS 2       /* rates and shifts every 100 ms */
#define FOREIGN_CONTROL_STEPS 10 /* other namespaces' taps: every second */

struct tap_rec {
	uint32_t netns;     /* its network namespace, 0: kvmprobe's unknown */
	unsigned int ifindex;
	char name[IF_NAMESIZE];
	uint32_t holder;    /* another namespace's: the VMM whose /proc/<pid>/net
			     * shows it; 0: a tap of kvmprobe's namespace */
	uint32_t owner;     /* with --pid: the VMM holding it, 0: none known */
	bool present;       /* seen in the last sysfs scan */
	bool watched;
	bool counted;       /* last holds a reading */
	struct kp_netdev_stats last;  /* at the last interval */
	/* the control thread's */
	unsigned int shift; /* 1 in 2^shift delivered packets is timed */
	uint64_t ctl_tx;    /* tx_packets at the last control step */
	struct timespec ctl_at;
	bool ctl_counted;
};

/* What a reading of a namespace's net/dev needs; one per thread. */
struct devs {
	struct kp_netdev_stats *v;
	char *buf;
	int n;
	bool valid;         /* holds the reading of netns */
	uint32_t netns;
};

struct net_state {
	struct net_bpf *skel;
	struct kp_progs progs;
	int stats_fd, watch_ns_fd;
	uint32_t netns;             /* kvmprobe's, 0: unknown */
	uint32_t max_entries;
	const struct kp_opts *opts;
	const char *proc_root, *sys_root;
	struct kp_snap prev, cur;
	uint64_t lost_prev;
	struct kp_dropreasons reasons;
	struct kp_tap *scan;        /* scratch for kp_sys_taps() */
	struct devs rd;             /* the sampling path's reading */
	struct kp_resolver *resolver;
	/* under tk.lock: the taps, and the control thread's state */
	struct kp_ticker tk;
	struct tap_rec *taps;
	size_t ntaps, cap;
	struct devs ctl;            /* the control thread's reading */
	uint64_t ctl_host;          /* all devices' packets, last step */
	struct timespec ctl_at;
	bool ctl_counted;
	unsigned int ctl_steps;
	double duty;
};

static void devs_free(struct devs *d)
{
	free(d->v);
	free(d->buf);
}

static int devs_alloc(struct devs *d)
{
	d->v = calloc(MAX_DEVS, sizeof(*d->v));
	d->buf = malloc(DEVBUF_SIZE);
	return d->v && d->buf ? 0 : -ENOMEM;
}

static void state_free(struct net_state *ns)
{
	if (!ns)
		return;
	kp_ticker_stop(&ns->tk);
	kp_progs_detach(&ns->progs);
	net_bpf__destroy(ns->skel);
	kp_snap_free(&ns->prev);
	kp_snap_free(&ns->cur);
	kp_dropreasons_free(&ns->reasons);
	devs_free(&ns->rd);
	devs_free(&ns->ctl);
	free(ns->scan);
	free(ns->taps);
	kp_ticker_destroy(&ns->tk);
	free(ns);
}

/* The tap (netns, ifindex) names; a BPF key of kvmprobe's namespace when
 * that is unknown has the device's own namespace. */
static struct tap_rec *tap_find(struct net_state *ns, uint32_t netns,
				unsigned int ifindex)
{
	struct tap_rec *t;
	size_t i;

	for (i = 0; i < ns->ntaps; i++) {
		t = &ns->taps[i];
		if (t->ifindex == ifindex &&
		    (t->netns == netns || (!t->netns && !t->holder)))
			return t;
	}
	return NULL;
}

/* foreign[ifindex]: whether a watched tap of another namespace has it. */
static void set_foreign(struct net_state *ns, unsigned int ifindex)
{
	__u8 any = 0;
	size_t i;

	if (ifindex >= NET_WATCH_MAX)
		return;
	for (i = 0; i < ns->ntaps && !any; i++)
		any = ns->taps[i].holder && ns->taps[i].watched &&
		      ns->taps[i].ifindex == ifindex;
	__atomic_store_n(&ns->skel->bss->foreign[ifindex], any,
			 __ATOMIC_RELAXED);
}

/* Tell the BPF side about t: not watched (0) or 1 + its shift. */
static void set_watch(struct net_state *ns, const struct tap_rec *t)
{
	struct net_dev nd = { .netns = t->netns, .ifindex = t->ifindex };
	__u8 w = t->watched ? 1 + t->shift : 0;

	if (!t->holder && t->ifindex < NET_WATCH_MAX) {
		__atomic_store_n(&ns->skel->bss->watch[t->ifindex], w,
				 __ATOMIC_RELAXED);
		return;
	}
	if (w)
		bpf_map_update_elem(ns->watch_ns_fd, &nd, &w, BPF_ANY);
	else
		bpf_map_delete_elem(ns->watch_ns_fd, &nd);
	if (t->holder)
		set_foreign(ns, t->ifindex);
}

/*
 * Read the net/dev of tap t's namespace into d, unless d holds it already;
 * 0 or -errno. kvmprobe's own is /proc/net/dev, another namespace's
 * /proc/<holder>/net/dev.
 */
static int read_devs(const struct net_state *ns, const struct tap_rec *t,
		     struct devs *d)
{
	uint32_t netns = t ? t->netns : ns->netns;
	char path[64];
	size_t n, got = 0;
	FILE *f;

	if (d->valid && d->netns == netns)
		return 0;
	d->valid = false;
	if (t && t->holder)
		snprintf(path, sizeof(path), "%s/%u/net/dev", ns->proc_root,
			 t->holder);
	else
		snprintf(path, sizeof(path), "%s/net/dev", ns->proc_root);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while ((n = fread(d->buf + got, 1, DEVBUF_SIZE - 1 - got, f)) > 0)
		got += n;
	fclose(f);
	d->buf[got] = '\0';
	d->n = kp_parse_proc_net_dev(d->buf, d->v, MAX_DEVS);
	if (d->n < 0)
		return d->n;
	d->valid = true;
	d->netns = netns;
	return 0;
}

static const struct kp_netdev_stats *dev_stats(const struct devs *d,
					       const char *name)
{
	int i;

	for (i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].name, name))
			return &d->v[i];
	return NULL;
}

/* Packets of every device of the namespace, both ways. */
static uint64_t host_packets(const struct devs *d)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < d->n; i++)
		n += d->v[i].rx_packets + d->v[i].tx_packets;
	return n;
}

/* With --pid: who holds each tap of kvmprobe's namespace, from the
 * resolver's identity table (another namespace's have their holder). */
static void tap_owners(struct net_state *ns, const struct kp_idtable *t)
{
	const struct kp_ident *id;
	size_t i;

	if (!ns->opts->npids)
		return;
	for (i = 0; i < ns->ntaps; i++) {
		if (ns->taps[i].holder) {
			ns->taps[i].owner = ns->taps[i].holder;
			continue;
		}
		id = kp_idtable_find_ifindex(t, ns->taps[i].netns,
					     ns->taps[i].ifindex);
		ns->taps[i].owner = id ? id->pid : 0;
	}
}

static struct tap_rec *tap_add(struct net_state *ns, uint32_t netns,
			       unsigned int ifindex)
{
	struct tap_rec *t;
	void *p;

	if (ns->ntaps == ns->cap) {
		p = realloc(ns->taps, (ns->cap ? ns->cap * 2 : 16) * sizeof(*t));
		if (!p)
			return NULL;
		ns->taps = p;
		ns->cap = ns->cap ? ns->cap * 2 : 16;
	}
	t = &ns->taps[ns->ntaps++];
	memset(t, 0, sizeof(*t));
	t->netns = netns;
	t->ifindex = ifindex;
	return t;
}

/* The tap (netns, ifindex) named name is there: add it, or mark it present. */
static int tap_seen(struct net_state *ns, uint32_t netns, unsigned int ifindex,
		    const char *name, uint32_t holder)
{
	struct tap_rec *t = tap_find(ns, netns, ifindex);

	if (!t)
		t = tap_add(ns, netns, ifindex);
	if (!t)
		return -ENOMEM;
	if (strcmp(t->name, name) || t->holder != holder) {
		/* a new tap, or another device with that ifindex */
		if (t->watched) {
			t->watched = false;
			set_watch(ns, t);
		}
		snprintf(t->name, IF_NAMESIZE, "%s", name);
		t->holder = holder;
		t->owner = 0;
		t->counted = t->ctl_counted = false;
		t->shift = INITIAL_SHIFT;
	}
	t->present = true;
	return 0;
}

/*
 * The taps VMMs hold in other network namespaces, from the resolver's
 * table. A holder that changed (the VMM restarted in the pod) reads the
 * same namespace.
 */
static int foreign_taps(struct net_state *ns, const struct kp_idtable *tab)
{
	const struct kp_ident_nic *nic;
	const struct kp_ident *id;
	size_t i, j;
	int err = 0;

	if (!ns->netns)
		return 0; /* cannot tell namespaces apart */
	for (i = 0; !err && i < kp_idtable_count(tab); i++) {
		id = kp_idtable_at(tab, i);
		for (j = 0; !err && !id->gone && j < id->nnics; j++) {
			nic = &id->nics[j];
			if (!nic->held || !nic->netns || !nic->ifindex ||
			    nic->netns == ns->netns)
				continue;
			err = tap_seen(ns, nic->netns, nic->ifindex,
				       nic->ifname, id->pid);
		}
	}
	return err;
}

static int tap_cmp(const void *a, const void *b)
{
	const struct tap_rec *x = a, *y = b;

	if (x->netns != y->netns)
		return x->netns < y->netns ? -1 : 1;
	return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

/*
 * Scan sysfs for taps and watch them (with --pid: those the table says the
 * processes hold). A newly watched tap's counters are read once as the
 * base of its first interval. Taps that vanished stay (unwatched) until
 * their last counts were read. Under ns->tk.lock.
 */
static int refresh(struct net_state *ns)
{
	const struct kp_netdev_stats *c;
	struct kp_idtable *tab;
	struct tap_rec *t;
	size_t i;
	int n, err = 0;
	bool on;

	n = kp_sys_taps(ns->sys_root, ns->scan, MAX_TAPS);
	if (n < 0)
		return n;
	for (i = 0; i < ns->ntaps; i++)
		ns->taps[i].present = false;
	for (i = 0; !err && i < (size_t)n; i++)
		err = tap_seen(ns, ns->netns, ns->scan[i].ifindex,
			       ns->scan[i].name, 0);
	tab = ns->resolver ? kp_resolver_table(ns->resolver) : NULL;
	if (!err)
		err = foreign_taps(ns, tab);
	if (!err)
		tap_owners(ns, tab);
	kp_idtable_put(tab);
	if (err)
		return err;
	/* a namespace's taps side by side: one reading of its counters */
	if (ns->ntaps > 1) /* qsort(NULL, 0) is undefined */
		qsort(ns->taps, ns->ntaps, sizeof(*ns->taps), tap_cmp);
	ns->rd.valid = false;
	for (i = 0; i < ns->ntaps; i++) {
		t = &ns->taps[i];
		on = t->present && (!ns->opts->npids ||
				    (t->owner && kp_opts_pid_wanted(ns->opts, t->owner)));
		if (on && !t->counted) {
			c = read_devs(ns, t, &ns->rd) ? NULL :
			    dev_stats(&ns->rd, t->name);
			if (c) {
				t->last = *c;
				t->counted = true;
			}
		}
		if (on != t->watched) {
			t->watched = on;
			set_watch(ns, t);
		}
	}
	return 0;
}

/* The control thread */

static double since(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) + (b->tv_nsec - a->tv_nsec) / 1e9;
}

/* Tap t's sampling shift from its rate since its last control step. */
static void tap_control(struct net_state *ns, struct tap_rec *t,
			const struct timespec *now)
{
	const struct kp_netdev_stats *c;
	unsigned int shift;
	double secs;

	c = read_devs(ns, t, &ns->ctl) ? NULL : dev_stats(&ns->ctl, t->name);
	if (!c)
		return;
	secs = since(&t->ctl_at, now);
	if (t->ctl_counted && secs > 0) {
		/* timed packets per second: while traced */
		shift = kp_sample_shift((c->tx_packets - t->ctl_tx) / secs *
					ns->duty, TIMED_PER_S, NET_SHIFT_MAX);
		if (shift != t->shift) {
			t->shift = shift;
			set_watch(ns, t);
		}
	}
	t->ctl_tx = c->tx_packets;
	t->ctl_at = *now;
	t->ctl_counted = true;
}

/*
 * Rates since the last step: the duty cycle, each tap's shift (another
 * namespace's every FOREIGN_CONTROL_STEPS).
 */
static void control(struct net_state *ns)
{
	bool foreign = !(ns->ctl_steps++ % FOREIGN_CONTROL_STEPS);
	struct timespec now;
	uint64_t host;
	double secs;
	size_t i;

	ns->ctl.valid = false;
	if (read_devs(ns, NULL, &ns->ctl))
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = since(&ns->ctl_at, &now);
	host = host_packets(&ns->ctl);
	if (ns->ctl_counted && secs > 0)
		ns->duty = kp_trace_duty((host - ns->ctl_host) / secs,
					 TRACE_OK_PPS, MIN_DUTY);
	ns->ctl_host = host;
	ns->ctl_at = now;
	ns->ctl_counted = true;
	for (i = 0; i < ns->ntaps; i++)
		if (ns->taps[i].watched && (foreign || !ns->taps[i].holder))
			tap_control(ns, &ns->taps[i], &now);
}

/*
 * Every tick: the control step (every CONTROL_TICKS), then the programs
 * attached as the duty cycle wants at this tick of the period.
 */
static void step(void *arg, unsigned int tick)
{
	struct net_state *ns = arg;
	int on;

	if (!(tick % CONTROL_TICKS))
		control(ns);
	on = (int)(ns->duty * TICKS + 0.5);
	if (on < 1)
		on = 1;
	/* attach failures: tried again at the next tick */
	kp_progs_set(&ns->progs, EV_XMIT,
		     on >= TICKS || (int)(tick % TICKS) < on);
	kp_progs_set(&ns->progs, EV_CONSUME,
		     on >= TICKS || (int)(tick % TICKS) < on + GRACE_TICKS);
}

static int kp_net_run(void *state)
{
	return kp_ticker_start(&((struct net_state *)state)->tk);
}

/* Start and load */

static int net_open(void *p, const struct kp_probe_env *env,
		    struct kp_progs *pp)
{
	const struct kp_opts *o = env->opts;
	struct net_state *ns = p;
	struct net_bpf *skel;
	int err;

	ns->skel = skel = net_bpf__open();
	if (!skel)
		return -errno;
	ns->netns = kp_proc_netns(env->proc_root, 0);
	skel->rodata->netns_ino = ns->netns;
	ns->max_entries = o->map_entries / 4 > STATS_MIN ? o->map_entries / 4 :
			  STATS_MIN;
	err = bpf_map__set_max_entries(skel->maps.stats, ns->max_entries);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.pending,
					       o->map_entries);
	if (err)
		return err;
	pp->ev[EV_XMIT] = kp_event_raw("net_dev_start_xmit",
				       skel->progs.xmit_btf, skel->progs.xmit_raw);
	pp->ev[EV_CONSUME] = kp_event_raw("consume_skb", skel->progs.consume_btf,
					  skel->progs.consume_raw);
	pp->ev[2] = kp_event_raw("kfree_skb", skel->progs.drop_btf,
				 skel->progs.drop_raw);
	pp->n = NEVENTS;
	return 0;
}

static int net_load(void *p)
{
	return net_bpf__load(((struct net_state *)p)->skel);
}

static void net_destroy(void *p)
{
	struct net_state *ns = p;

	net_bpf__destroy(ns->skel);
	ns->skel = NULL;
}

static const struct kp_bpf_ops net_ops = {
	.open = net_open,
	.load = net_load,
	.destroy = net_destroy,
};

static struct net_state *state_new(const struct kp_probe_env *env)
{
	struct net_state *ns = calloc(1, sizeof(*ns));

	if (!ns)
		return NULL;
	ns->opts = env->opts;
	ns->proc_root = env->proc_root;
	ns->resolver = env->resolver;
	ns->sys_root = "/sys";
	kp_snap_init(&ns->prev, sizeof(struct net_key), sizeof(struct net_val));
	kp_snap_init(&ns->cur, sizeof(struct net_key), sizeof(struct net_val));
	kp_ticker_init(&ns->tk, TICK_NS, step, ns);
	ns->scan = calloc(MAX_TAPS, sizeof(*ns->scan));
	if (!ns->scan || devs_alloc(&ns->rd) || devs_alloc(&ns->ctl)) {
		state_free(ns);
		return NULL;
	}
	return ns;
}

static int kp_net_start(const struct kp_probe_env *env, void **state,
			struct kp_probe_status *st)
{
	const struct btf *btf;
	struct net_state *ns;
	int err;

	ns = state_new(env);
	if (!ns)
		return -ENOMEM;
	btf = kp_ksupport_vmlinux_btf(env->ks);
	if (btf) /* without: reasons are written as numbers */
		kp_dropreasons_load(&ns->reasons, btf);

	err = kp_progs_load(&ns->progs, &net_ops, ns, env, st);
	if (err)
		goto err_free;
	ns->stats_fd = bpf_map__fd(ns->skel->maps.stats);
	ns->watch_ns_fd = bpf_map__fd(ns->skel->maps.watch_ns);
	err = refresh(ns);
	if (err) {
		snprintf(st->reason, sizeof(st->reason),
			 "failed to list network devices in /sys/class/net: %s",
			 strerror(-err));
		goto err_free;
	}
	if (!kp_progs_attach(&ns->progs, st)) {
		err = -ENOENT;
		goto err_free;
	}
	/* the control thread starts in kp_net_run(), after the privilege
	 * drop; until then every packet is traced (duty 1) */
	ns->duty = 1.0;
	st->attached = true;
	*state = ns;
	return 0;

err_free:
	state_free(ns);
	return err;
}

/* Read */

struct decode_ctx {
	struct net_state *ns;
	struct kp_interval *iv;
};

/* Whether a tap's samples are reported: not when --pid excludes its
 * holder (a tap that changed hands). */
static bool tap_reported(const struct net_state *ns, const struct tap_rec *t)
{
	return !ns->opts->npids || (t && t->owner &&
				    kp_opts_pid_wanted(ns->opts, t->owner));
}

static int decode(const void *key, const uint64_t *delta, void *arg)
{
	const struct net_val *d = (const struct net_val *)delta;
	const struct net_key *k = key;
	struct decode_ctx *c = arg;
	char ifname[IF_NAMESIZE + 8], buf[24];
	struct tap_rec *t;
	uint64_t devid;

	if (!d->packets)
		return 0;
	t = tap_find(c->ns, k->netns, k->ifindex);
	if (!tap_reported(c->ns, t))
		return 0;
	if (t)
		snprintf(ifname, sizeof(ifname), "%s", t->name);
	else
		snprintf(ifname, sizeof(ifname), "if%u", k->ifindex);
	devid = kp_ifdev(t ? t->netns : k->netns, k->ifindex);
	if (k->kind == NET_KIND_DROP)
		return kp_interval_add_dev_id(c->iv, KP_PID_HOST, KP_M_IF_DROPS,
				ifname, devid,
				kp_dropreason_name(&c->ns->reasons, k->reason,
						   buf, sizeof(buf)),
				d->packets, NULL);
	return kp_interval_add_dev_id(c->iv, KP_PID_HOST, KP_M_IF_DELIVERY,
				      ifname, devid, "", 0, &d->hist);
}

static int add_dir(struct kp_interval *iv, const struct tap_rec *t,
		   const char *dir, uint64_t packets, uint64_t bytes)
{
	uint64_t devid = kp_ifdev(t->netns, t->ifindex);
	int err;

	if (!packets)
		return 0;
	err = kp_interval_add_dev_id(iv, KP_PID_HOST, KP_M_IF_PACKETS, t->name,
				     devid, dir, packets, NULL);
	if (!err)
		err = kp_interval_add_dev_id(iv, KP_PID_HOST, KP_M_IF_BYTES,
					     t->name, devid, dir, bytes, NULL);
	return err;
}

/* Packets and bytes of every watched tap since the last reading, from the
 * VM's point of view. A namespace whose counters cannot be read (its
 * holder just exited) gives none: its counts go to the next reading. */
static int read_counters(struct net_state *ns, struct kp_interval *iv)
{
	const struct kp_netdev_stats *c;
	struct tap_rec *t;
	size_t i;
	int err;

	ns->rd.valid = false;
	for (i = 0; i < ns->ntaps; i++) {
		t = &ns->taps[i];
		if (!t->watched || !t->counted || read_devs(ns, t, &ns->rd))
			continue;
		c = dev_stats(&ns->rd, t->name);
		if (!c)
			continue;
		if (tap_reported(ns, t)) {
			err = add_dir(iv, t, "rx",
				      c->tx_packets - t->last.tx_packets,
				      c->tx_bytes - t->last.tx_bytes);
			if (!err)
				err = add_dir(iv, t, "tx",
					      c->rx_packets - t->last.rx_packets,
					      c->rx_bytes - t->last.rx_bytes);
			if (err)
				return err;
		}
		t->last = *c;
	}
	return 0;
}

/*
 * Taps that vanished: delete their map entries once their last counts
 * were reported (the read before this one saw them gone), then forget
 * them.
 */
static void drop_vanished(struct net_state *ns)
{
	struct kp_snap *s = &ns->cur;
	struct tap_rec *t;
	size_t i, j = 0;

	for (i = 0; i < s->n; i++) {
		struct net_key *k = kp_snap_key(s, i);

		t = tap_find(ns, k->netns, k->ifindex);
		if (!t || !t->present) {
			bpf_map_delete_elem(ns->stats_fd, k);
			continue;
		}
		if (i != j) {
			memcpy(kp_snap_key(s, j), k, s->key_size);
			memcpy(kp_snap_val(s, j), kp_snap_val(s, i),
			       s->nvals * sizeof(uint64_t));
		}
		j++;
	}
	s->n = j;
	for (i = 0, j = 0; i < ns->ntaps; i++)
		if (ns->taps[i].present)
			ns->taps[j++] = ns->taps[i];
	ns->ntaps = j;
}

static int kp_net_read(void *state, struct kp_interval *iv)
{
	struct net_state *ns = state;
	struct decode_ctx c = { .ns = ns, .iv = iv };
	uint64_t lost;
	int err;

	err = kp_map_read(ns->stats_fd, &ns->cur, ns->max_entries);
	if (!err)
		err = kp_snap_sort(&ns->cur);
	pthread_mutex_lock(&ns->tk.lock);
	if (!err)
		err = kp_snap_delta(&ns->prev, &ns->cur, decode, &c);
	if (!err)
		err = read_counters(ns, iv);
	if (!err) {
		lost = ns->skel->bss->lost_events;
		err = kp_interval_add_lost(iv, "net", lost - ns->lost_prev);
		ns->lost_prev = lost;
		drop_vanished(ns);
		kp_snap_swap(&ns->prev, &ns->cur);
	}
	if (!err)
		err = refresh(ns);
	pthread_mutex_unlock(&ns->tk.lock);
	return err;
}

static void kp_net_stop(void *state)
{
	state_free(state);
}

const struct kp_probe kp_probe_net = {
	.name = "net",
	.start = kp_net_start,
	.run = kp_net_run,
	.read = kp_net_read,
	.stop = kp_net_stop,
};
