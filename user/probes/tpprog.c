// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include "user/identity/procfs.h"
#include "user/probes/tpprog.h"

#define GC_PERIOD_S 10

/* Why event ev's tp_btf program cannot be used, in why; true if it can. */
static bool btf_usable(struct kp_ksupport *ks, const struct kp_event *ev,
		       char *why, size_t len)
{
	char target[96];

	snprintf(target, sizeof(target), "btf_trace_%s", ev->name);
	if (!ev->btf || !kp_ksupport_btf_has(ks, target, BTF_KIND_TYPEDEF)) {
		if (ev->category)
			snprintf(why, len, "%s not in kernel BTF (is the %s module loaded?)",
				 target, ev->category);
		else
			snprintf(why, len, "%s not in kernel BTF (tracepoint missing in this kernel?)",
				 target);
		return false;
	}
	if (ev->needs[0] &&
	    !kp_ksupport_btf_has(ks, ev->needs[0], BTF_KIND_STRUCT) &&
	    !(ev->needs[1] &&
	      kp_ksupport_btf_has(ks, ev->needs[1], BTF_KIND_STRUCT))) {
		snprintf(why, len, "neither %s nor %s in kernel BTF (%s)",
			 ev->needs[0], ev->needs[1] ? ev->needs[1] : "-",
			 ev->needs_hint ? ev->needs_hint : "?");
		return false;
	}
	return true;
}

/*
 * Choose one program per event for mode, before load: a BTF-typed program
 * whose target is missing would fail the whole object's load. The events
 * of a group take the fallback together when one of them must.
 */
static void choose(struct kp_progs *pp, struct kp_ksupport *ks,
		   enum kp_attach mode, struct kp_probe_status *st)
{
	bool btf[KP_PROBE_MAX_PROGS];
	struct kp_prog_status *ps;
	size_t i, j;

	st->nprogs = pp->n;
	for (i = 0; i < pp->n; i++) {
		ps = &st->progs[i];
		memset(ps, 0, sizeof(*ps));
		ps->name = pp->ev[i].name;
		btf[i] = mode != KP_ATTACH_CLASSIC &&
			 btf_usable(ks, &pp->ev[i], ps->reason,
				    sizeof(ps->reason));
	}
	for (i = 0; i < pp->n; i++)
		for (j = 0; j < pp->n; j++)
			if (pp->ev[i].group && pp->ev[j].group == pp->ev[i].group &&
			    !btf[j] && btf[i]) {
				btf[i] = false;
				memcpy(st->progs[i].reason, st->progs[j].reason,
				       sizeof(st->progs[i].reason));
			}
	for (i = 0; i < pp->n; i++) {
		const struct kp_event *ev = &pp->ev[i];

		ps = &st->progs[i];
		pp->prog[i] = NULL;
		if (btf[i])
			pp->prog[i] = ev->btf;
		else if (mode != KP_ATTACH_BTF && ev->fallback)
			pp->prog[i] = ev->fallback;
		else if (mode != KP_ATTACH_BTF)
			snprintf(ps->reason, sizeof(ps->reason),
				 "no flavour without BTF-typed tracepoints");
		if (ev->btf)
			bpf_program__set_autoload(ev->btf, btf[i]);
		if (ev->fallback)
			bpf_program__set_autoload(ev->fallback,
						  pp->prog[i] == ev->fallback);
		if (!pp->prog[i])
			continue;
		ps->reason[0] = '\0';
		ps->how = btf[i] ? "tp_btf" : ev->category ? "tracepoint" :
							      "raw_tp";
	}
}

static int open_load(struct kp_progs *pp, const struct kp_bpf_ops *ops,
		     void *p, const struct kp_probe_env *env,
		     enum kp_attach mode, struct kp_probe_status *st)
{
	int err;

	memset(pp, 0, sizeof(*pp));
	err = ops->open(p, env, pp);
	if (err)
		return err;
	if (pp->n > KP_PROBE_MAX_PROGS)
		return -E2BIG;
	choose(pp, env->ks, mode, st);
	return ops->load(p);
}

void kp_attach_error(int err, const char *category, const char *event,
		     const char *prog, char *why, size_t len)
{
	int tfs;

	if (err == -EPERM) {
		snprintf(why, len,
			 "permission denied (run as root, or with CAP_BPF and CAP_PERFMON)");
		return;
	}
	if (category) { /* a classic tracepoint: tracefs tells what is wrong */
		tfs = kp_ksupport_tracefs_event(category, event);
		if (tfs == -ENODEV) {
			snprintf(why, len,
				 "tracefs not mounted (mount -t tracefs nodev /sys/kernel/tracing)");
			return;
		}
		if (tfs == -ENOENT) {
			snprintf(why, len,
				 "tracepoint %s:%s not found (is the %s module loaded?)",
				 category, event, category);
			return;
		}
	} else if (err == -ENOENT) {
		snprintf(why, len, "tracepoint %s not found in this kernel",
			 event);
		return;
	}
	snprintf(why, len, "failed to attach %s: %s", prog, strerror(-err));
}

void kp_load_error(int err, struct kp_probe_status *st)
{
	if (err == -EPERM)
		snprintf(st->reason, sizeof(st->reason),
			 "failed to load BPF programs: permission denied (run as root, or with CAP_BPF, CAP_PERFMON)");
	else if (err == -EACCES)
		snprintf(st->reason, sizeof(st->reason),
			 "failed to load BPF programs: rejected by the kernel's verifier (run with -v for its log)");
	else
		snprintf(st->reason, sizeof(st->reason),
			 "failed to load BPF programs: %s (run with -v for the verifier log)",
			 strerror(-err));
}

static void no_program_reason(struct kp_probe_status *st)
{
	size_t i;

	for (i = 0; i < st->nprogs; i++) {
		if (st->progs[i].how || !st->progs[i].reason[0])
			continue;
		/* the first reason names the common cause (no tracefs, ...) */
		snprintf(st->reason, sizeof(st->reason),
			 "no program attached: %s: %.100s", st->progs[i].name,
			 st->progs[i].reason);
		return;
	}
	snprintf(st->reason, sizeof(st->reason), "no program attached");
}

int kp_progs_load(struct kp_progs *pp, const struct kp_bpf_ops *ops, void *p,
		  const struct kp_probe_env *env, struct kp_probe_status *st)
{
	enum kp_attach mode = env->opts->attach;
	int err;

	/*
	 * Every flavour needs the kernel's BTF: CO-RE relocations, task
	 * storage and bpf_get_current_task_btf() in the classic and raw_tp
	 * programs too. Without it there is no fallback to offer.
	 */
	if (!kp_ksupport_has_vmlinux_btf(env->ks)) {
		snprintf(st->reason, sizeof(st->reason),
			 "kernel has no BTF (/sys/kernel/btf/vmlinux): every flavour of kvmprobe's programs needs it (CO-RE, task storage)");
		return -EOPNOTSUPP;
	}
	err = open_load(pp, ops, p, env, mode, st);
	if (err && err != -EPERM && mode == KP_ATTACH_AUTO) {
		/* a BTF-typed program the verifier refused: the fallbacks */
		ops->destroy(p);
		err = open_load(pp, ops, p, env, KP_ATTACH_CLASSIC, st);
	}
	if (err) {
		kp_load_error(err, st);
		return err;
	}
	if (pp->pid_filter) {
		err = kp_set_pid_filter(bpf_map__fd(pp->pid_filter), env->opts);
		if (err) {
			snprintf(st->reason, sizeof(st->reason),
				 "failed to set the pid filter: %s",
				 strerror(-err));
			return err;
		}
	}
	return 0;
}

size_t kp_progs_attach(struct kp_progs *pp, struct kp_probe_status *st)
{
	struct kp_prog_status *ps;
	size_t i, attached = 0;
	int err;

	for (i = 0; i < pp->n && i < st->nprogs; i++) {
		ps = &st->progs[i];
		if (!pp->prog[i])
			continue;
		err = kp_progs_set(pp, i, true);
		if (!err) {
			attached++;
			continue;
		}
		kp_attach_error(err, pp->prog[i] == pp->ev[i].fallback ?
				pp->ev[i].category : NULL, pp->ev[i].name,
				bpf_program__name(pp->prog[i]), ps->reason,
				sizeof(ps->reason));
		ps->how = NULL;
		pp->prog[i] = NULL;
	}
	if (!attached)
		no_program_reason(st);
	return attached;
}

int kp_progs_set(struct kp_progs *pp, size_t i, bool on)
{
	if (i >= pp->n || !pp->prog[i] || on == (pp->link[i] != NULL))
		return 0;
	if (!on) {
		bpf_link__destroy(pp->link[i]);
		pp->link[i] = NULL;
		return 0;
	}
	pp->link[i] = bpf_program__attach(pp->prog[i]);
	return pp->link[i] ? 0 : -errno;
}

void kp_progs_detach(struct kp_progs *pp)
{
	size_t i;

	for (i = 0; i < KP_PROBE_MAX_PROGS; i++) {
		bpf_link__destroy(pp->link[i]);
		pp->link[i] = NULL;
	}
}

bool kp_progs_attached(const struct kp_progs *pp, const char *name)
{
	size_t i;

	for (i = 0; i < pp->n; i++)
		if (!strcmp(pp->ev[i].name, name))
			return pp->link[i] != NULL;
	return false;
}

int kp_set_pid_filter(int fd, const struct kp_opts *o)
{
	__u8 one = 1;
	size_t i;

	for (i = 0; i < o->npids; i++)
		if (bpf_map_update_elem(fd, &o->pids[i], &one, BPF_ANY))
			return -errno;
	return 0;
}

bool kp_opts_pid_wanted(const struct kp_opts *o, uint32_t pid)
{
	size_t i;

	if (!o->npids)
		return true;
	for (i = 0; i < o->npids; i++)
		if (o->pids[i] == pid)
			return true;
	return false;
}

static int map_read(int fd, struct kp_snap *s, uint32_t max, bool del)
{
	unsigned char batch[64], next[64], prevk[64];
	size_t want = s->n + s->n / 2 + 256; /* last size + headroom */
	void *in = NULL;
	bool have_prev = false;
	__u32 count;
	int err;

	if (s->key_size > sizeof(batch))
		return -EINVAL;
	/*
	 * Buffers follow what the map holds, not its maximum: a map of 16k
	 * entries with 100 in use costs 100 entries of memory here.
	 */
	err = kp_snap_reserve(s, want < max ? want : max);
	if (err)
		return err;
	s->n = 0;
	for (;;) {
		if (s->n == s->cap) {
			if (s->cap >= max)
				return 0;
			err = kp_snap_reserve(s, s->cap * 2 < max ? s->cap * 2 :
					      max);
			if (err)
				return err;
		}
		count = s->cap - s->n;
		if (del)
			err = bpf_map_lookup_and_delete_batch(fd, in, batch,
				kp_snap_key(s, s->n), kp_snap_val(s, s->n),
				&count, NULL);
		else
			err = bpf_map_lookup_batch(fd, in, batch,
				kp_snap_key(s, s->n), kp_snap_val(s, s->n),
				&count, NULL);
		if (err && errno == ENOSPC && s->cap < max) {
			/* a hash bucket larger than the room left */
			err = kp_snap_reserve(s, s->cap * 2 < max ?
					      s->cap * 2 : max);
			if (err)
				return err;
			continue;
		}
		if (err && errno != ENOENT) {
			if (errno == EINVAL && !in && !s->n)
				break; /* no batch ops: iterate below */
			return -errno;
		}
		s->n += count;
		if (err)
			return 0;
		in = batch;
	}
	err = kp_snap_reserve(s, max);
	if (err)
		return err;
	/* kernels without BPF_MAP_LOOKUP_BATCH on hash maps */
	while (s->n < max &&
	       !bpf_map_get_next_key(fd, have_prev ? prevk : NULL, next)) {
		memcpy(kp_snap_key(s, s->n), next, s->key_size);
		if (!bpf_map_lookup_elem(fd, next, kp_snap_val(s, s->n)))
			s->n++;
		if (del) {
			bpf_map_delete_elem(fd, next);
			continue; /* from the first key again */
		}
		memcpy(prevk, next, s->key_size);
		have_prev = true;
	}
	return 0;
}

int kp_map_read(int fd, struct kp_snap *s, uint32_t max)
{
	return map_read(fd, s, max, false);
}

int kp_map_drain(int fd, struct kp_snap *s, uint32_t max)
{
	return map_read(fd, s, max, true);
}

size_t kp_gc_scan(struct kp_gc *gc, const void *elems, size_t n,
		  size_t stride, kp_owner_fn owner)
{
	uint64_t id, last = 0;
	size_t i;

	kp_gc_done(gc);
	/* under pressure each dead thread's entry is a live one's event lost */
	if ((time(NULL) - gc->last < GC_PERIOD_S && !gc->pressure) || !n)
		return 0;
	gc->last = time(NULL);
	gc->dead = calloc(n, sizeof(*gc->dead));
	if (!gc->dead)
		return 0;
	for (i = 0; i < n; i++) {
		id = owner((const char *)elems + i * stride);
		if (!id || id == last) /* sorted: an owner's entries adjoin */
			continue;
		last = id;
		if (!kp_proc_thread_alive(gc->proc_root, id >> 32,
					  (uint32_t)id ? (uint32_t)id : id >> 32))
			gc->dead[gc->ndead++] = id;
	}
	return gc->ndead;
}

bool kp_gc_dead(const struct kp_gc *gc, uint64_t owner)
{
	size_t i;

	for (i = 0; i < gc->ndead; i++) /* few: threads end rarely */
		if (gc->dead[i] == owner)
			return true;
	return false;
}

void kp_gc_done(struct kp_gc *gc)
{
	free(gc->dead);
	gc->dead = NULL;
	gc->ndead = 0;
}

void kp_counts_init(struct kp_counts *c, size_t key_size, size_t val_size,
		    kp_owner_fn owner, const char *proc_root)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->owner = owner;
	c->gc.proc_root = proc_root;
	c->gc.last = time(NULL);
	kp_snap_init(&c->prev, key_size, val_size);
	kp_snap_init(&c->cur, key_size, val_size);
}

/* Delete the entries of ended owners from the map and from cur. */
static void drop_dead(struct kp_counts *c)
{
	struct kp_snap *s = &c->cur;
	size_t i, j = 0;

	for (i = 0; i < s->n; i++) {
		void *k = kp_snap_key(s, i);

		if (kp_gc_dead(&c->gc, c->owner(k))) {
			bpf_map_delete_elem(c->fd, k);
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
}

int kp_counts_read(struct kp_counts *c, kp_delta_fn fn, void *arg)
{
	size_t ndead = 0;
	int err;

	if (c->owner)
		ndead = kp_gc_scan(&c->gc, c->prev.keys, c->prev.n,
				   c->prev.key_size, c->owner);
	err = kp_map_read(c->fd, &c->cur, c->max);
	if (!err)
		err = kp_snap_sort(&c->cur);
	if (!err)
		err = kp_snap_delta(&c->prev, &c->cur, fn, arg);
	if (!err) {
		c->gc.pressure = c->cur.n >= c->max;
		if (ndead)
			drop_dead(c);
		kp_snap_swap(&c->prev, &c->cur);
	}
	kp_gc_done(&c->gc);
	return err;
}

int kp_counts_lost(struct kp_counts *c, struct kp_interval *iv,
		   const char *name, uint64_t lost)
{
	int err = kp_interval_add_lost(iv, name, lost - c->lost_prev);

	if (lost != c->lost_prev)
		c->gc.pressure = true;
	c->lost_prev = lost;
	return err;
}

void kp_counts_free(struct kp_counts *c)
{
	kp_snap_free(&c->prev);
	kp_snap_free(&c->cur);
	kp_gc_done(&c->gc);
}

double kp_mono_s(void)
{
	return kp_mono_ns() / 1e9;
}

void kp_ts_add_ns(struct timespec *t, long long ns)
{
	t->tv_sec += (t->tv_nsec + ns) / 1000000000LL;
	t->tv_nsec = (t->tv_nsec + ns) % 1000000000LL;
}

void kp_ticker_init(struct kp_ticker *t, long long period_ns,
		    void (*step)(void *arg, unsigned int tick), void *arg)
{
	pthread_condattr_t ca;

	memset(t, 0, sizeof(*t));
	t->period_ns = period_ns;
	t->step = step;
	t->arg = arg;
	pthread_mutex_init(&t->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cond, &ca);
	pthread_condattr_destroy(&ca);
}

static void *ticker_main(void *arg)
{
	struct kp_ticker *t = arg;
	struct timespec next;
	unsigned int tick = 0;

	clock_gettime(CLOCK_MONOTONIC, &next);
	pthread_mutex_lock(&t->lock);
	while (!t->stop) {
		t->step(t->arg, tick++);
		kp_ts_add_ns(&next, t->period_ns);
		while (!t->stop && !t->wake &&
		       pthread_cond_timedwait(&t->cond, &t->lock, &next) !=
			       ETIMEDOUT)
			;
		t->wake = false;
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

int kp_ticker_start(struct kp_ticker *t)
{
	int err;

	if (t->started)
		return 0;
	err = pthread_create(&t->thread, NULL, ticker_main, t);
	if (err)
		return -err;
	t->started = true;
	return 0;
}

void kp_ticker_stop(struct kp_ticker *t)
{
	if (!t->started)
		return;
	pthread_mutex_lock(&t->lock);
	t->stop = true;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	t->started = false;
}

void kp_ticker_destroy(struct kp_ticker *t)
{
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
}

void kp_ticker_wake(struct kp_ticker *t)
{
	if (!t->started)
		return;
	t->wake = true;
	pthread_cond_signal(&t->cond);
}

uint64_t kp_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Room for one more read in b. 0 or -ENOMEM. */
static int iter_buf_room(struct kp_iter_buf *b)
{
	size_t cap;
	char *p;

	if (b->cap - b->len >= 4096)
		return 0;
	cap = b->cap ? b->cap * 2 : 16384;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int kp_iter_read(struct bpf_link *link, struct kp_iter_buf *b)
{
	char drop[256], *to;
	size_t room;
	ssize_t n;
	int fd, err = 0;

	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0)
		return -errno;
	for (;;) {
		if (b) {
			err = iter_buf_room(b);
			if (err)
				break;
			to = b->p + b->len;
			room = b->cap - b->len;
		} else {
			to = drop;
			room = sizeof(drop);
		}
		n = read(fd, to, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : 0;
			break;
		}
		if (b)
			b->len += n;
	}
	close(fd);
	return err;
}
