/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One probe lifecycle, shared by every probe. A probe describes its BPF
 * object by an event table (struct kp_event: each traced event with its
 * BTF-typed program and its fallback twin, the skeleton's typed programs)
 * and three skeleton calls (struct kp_bpf_ops); this module does the rest:
 * check the kernel, choose tp_btf or the fallback per event before load,
 * load (in auto mode a verifier refusal of the BTF-typed flavour retries
 * with the fallbacks), fill the pid filter, attach each program on its own
 * and record how, or why not, in the probe's status. kp_counts turns a
 * probe's counting map into per-interval deltas and deletes the entries of
 * threads that ended.
 */
#ifndef KP_TPPROG_H
#define KP_TPPROG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <time.h>
#include <bpf/libbpf.h>
#include "user/probes/probe.h"
#include "user/core/snap.h"

/* One traced event of a probe. */
struct kp_event {
	const char *name;             /* the tracepoint: "kvm_exit" */
	struct bpf_program *btf;      /* its tp_btf program */
	struct bpf_program *fallback; /* its classic or raw_tp twin, or NULL */
	const char *category;         /* the fallback is the classic tracefs
				       * tracepoint category:name; NULL: raw_tp */
	/* the tp_btf program also needs one of these BTF structs (kvm_exit:
	 * the vendor vcpu struct it reads the exit reason from) */
	const char *needs[2];
	const char *needs_hint;       /* why they may be missing */
	unsigned int group;           /* nonzero: the events of one group all
				       * take the same flavour */
};

/* An event whose fallback is a raw_tp twin (block, net, sched). */
static inline struct kp_event kp_event_raw(const char *name,
					   struct bpf_program *btf,
					   struct bpf_program *raw)
{
	return (struct kp_event){ .name = name, .btf = btf, .fallback = raw };
}

/* A probe's events, as chosen and attached (filled by kp_bpf_ops.open). */
struct kp_progs {
	struct kp_event ev[KP_PROBE_MAX_PROGS];
	size_t n;
	struct bpf_map *pid_filter;   /* filled with the -p pids, or NULL */
	struct bpf_program *prog[KP_PROBE_MAX_PROGS]; /* chosen, NULL: none */
	struct bpf_link *link[KP_PROBE_MAX_PROGS];
};

/* What the lifecycle needs of a probe's skeleton; p is the probe's state. */
struct kp_bpf_ops {
	/* Open the skeleton and configure it (rodata, map sizes, maps it
	 * shares); fill pp->ev, pp->n and pp->pid_filter. 0 or -errno. */
	int (*open)(void *p, const struct kp_probe_env *env,
		    struct kp_progs *pp);
	int (*load)(void *p);
	void (*destroy)(void *p);     /* the skeleton; NULL-safe */
};

/*
 * Open, choose, load and fill the pid filter; on error st->reason says
 * why. In KP_ATTACH_AUTO a refused load is retried with the fallbacks.
 * 0 or -errno.
 */
int kp_progs_load(struct kp_progs *pp, const struct kp_bpf_ops *ops, void *p,
		  const struct kp_probe_env *env, struct kp_probe_status *st);
/*
 * Attach every chosen program on its own: one failure leaves the rest and
 * is recorded in st. Returns how many attached; none: st->reason says why.
 */
size_t kp_progs_attach(struct kp_progs *pp, struct kp_probe_status *st);
/* Attach or detach event i's chosen program (a duty cycle). 0 or -errno. */
int kp_progs_set(struct kp_progs *pp, size_t i, bool on);
void kp_progs_detach(struct kp_progs *pp);
/* Whether event name's program attached. */
bool kp_progs_attached(const struct kp_progs *pp, const char *name);

/*
 * Why program prog of event could not attach (err: -errno), as a one-line
 * reason in why. category: the tracefs category of a classic tracepoint
 * ("kvm"), whose absence tracefs can explain, or NULL.
 */
void kp_attach_error(int err, const char *category, const char *event,
		     const char *prog, char *why, size_t len);
/* Why a skeleton's load failed (err: -errno), as st->reason. */
void kp_load_error(int err, struct kp_probe_status *st);
/* Fill a pid_filter map (fd) with the -p pids. 0 or -errno. */
int kp_set_pid_filter(int fd, const struct kp_opts *o);
/* Whether process pid passes the -p filter (always without -p). */
bool kp_opts_pid_wanted(const struct kp_opts *o, uint32_t pid);

/*
 * Read hash map fd (at most max entries) into s, in batches where the
 * kernel supports it; kp_map_drain() deletes what it read. 0 or -errno.
 */
int kp_map_read(int fd, struct kp_snap *s, uint32_t max);
int kp_map_drain(int fd, struct kp_snap *s, uint32_t max);

/*
 * The thread an entry belongs to, as pid << 32 | tid (tid 0: the whole
 * process), for deleting the entries of threads that ended; 0: an entry
 * that never ends (the host's).
 */
typedef uint64_t (*kp_owner_fn)(const void *elem);

/* Owners that ended, checked every GC period against /proc. */
struct kp_gc {
	const char *proc_root;
	time_t last;
	uint64_t *dead;
	size_t ndead;
	bool pressure; /* the map was full or lost events at the last read:
			* collect at every read, not once per period */
};

/*
 * Once per GC period: which owners of elems (n of stride bytes) ended,
 * taken before the map is read (an entry deleted after that read cannot
 * have changed since). Returns how many (0 between periods).
 */
size_t kp_gc_scan(struct kp_gc *gc, const void *elems, size_t n,
		  size_t stride, kp_owner_fn owner);
bool kp_gc_dead(const struct kp_gc *gc, uint64_t owner);
void kp_gc_done(struct kp_gc *gc);

/* CLOCK_MONOTONIC in seconds, and in ns (bpf_ktime_get_ns()'s clock). */
double kp_mono_s(void);
uint64_t kp_mono_ns(void);
/* t += ns, normalized (a timed wait's deadline). */
void kp_ts_add_ns(struct timespec *t, long long ns);

/*
 * A probe's own thread, for a duty cycle: step(arg, tick) every period_ns
 * (tick counts from 0), under lock, which also guards the state the step
 * shares with the probe's read. A step may drop the lock around slow work
 * that touches none of that state. From kp_ticker_start() (after kvmprobe
 * dropped its privileges: probe.h, run) until kp_ticker_stop().
 */
struct kp_ticker {
	pthread_mutex_t lock;
	pthread_cond_t cond;    /* on CLOCK_MONOTONIC */
	pthread_t thread;
	bool started, stop, wake;
	long long period_ns;
	void (*step)(void *arg, unsigned int tick);
	void *arg;
};

void kp_ticker_init(struct kp_ticker *t, long long period_ns,
		    void (*step)(void *arg, unsigned int tick), void *arg);
int kp_ticker_start(struct kp_ticker *t);
/* Stop and join the thread, if started. */
void kp_ticker_stop(struct kp_ticker *t);
void kp_ticker_destroy(struct kp_ticker *t);
/* Under t->lock: the next step now, not at the end of the period. */
void kp_ticker_wake(struct kp_ticker *t);

/* What a BPF iterator wrote: p[0..len), grown as needed. */
struct kp_iter_buf {
	char *p;
	size_t cap, len;
};

/*
 * Run iterator link once, appending all it writes to b (NULL: read and
 * drop it, for an iterator run for its side effects). 0 or -errno.
 */
int kp_iter_read(struct bpf_link *link, struct kp_iter_buf *b);

/* A probe's counting map, read each interval into per-key deltas. */
struct kp_counts {
	int fd;
	uint32_t max;
	struct kp_snap prev, cur;
	kp_owner_fn owner;            /* NULL: entries are never collected */
	struct kp_gc gc;
	uint64_t lost_prev;
};

void kp_counts_init(struct kp_counts *c, size_t key_size, size_t val_size,
		    kp_owner_fn owner, const char *proc_root);
/*
 * Read the map, hand each key's delta since the last read to fn, then
 * delete the entries of owners that ended (their last counts are in this
 * read). 0 or -errno.
 */
int kp_counts_read(struct kp_counts *c, kp_delta_fn fn, void *arg);
/* Events lost since the last call (lost: the probe's counter) into iv. */
int kp_counts_lost(struct kp_counts *c, struct kp_interval *iv,
		   const char *name, uint64_t lost);
void kp_counts_free(struct kp_counts *c);

#endif /* KP_TPPROG_H */
