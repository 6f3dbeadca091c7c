// SPDX-License-Identifier: GPL-2.0
/*
 * Two sides. The resolver thread (scan_main) owns the /proc cache and
 * builds identity tables; the sampling path (kp_resolver_apply) reads the
 * latest table and /proc's comm and stat files of the VMs it reports.
 * r->lock guards only the table pointer, the wanted pids and the notices
 * published with the table: a notice reaches the sampling path together
 * with the first table built in the state it announces.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <net/if.h>
#include "user/identity/domxml.h"
#include "user/identity/procfs.h"
#include "user/identity/resolve.h"
#include "user/identity/virt.h"

#define CACHE_MAX 4096
#define CACHE_TTL_S 300
#define SCAN_PERIOD_S 0.5
#define WATCHDOG_S 3.0          /* a libvirt call this old: unavailable */
#define GONE_KEEP_S 10.0        /* identities of exited VMMs, for the last
				 * interval that still reports them */
#define THREADS_REFRESH_S 5.0
#define TAPS_REFRESH_S 5.0
#define SCOPE_RETRY_S 2.0
#define MAX_WANTED 64
#define MAX_NOTICES 16
#define MAX_PIDFILES 1024
#define MAX_VHOST_KTHREADS 4096
#define MAX_THREADS 4096        /* per VMM */
#define SIGHT_MAX 256
#define DISCOVER_RETRY_S 5.0    /* a tap nobody is known to hold: look
				 * at every process's fds again */
#define FD_CHECKS_MAX 16        /* per interval, on the sampling path */
#define STATUS_XML_MAX (4 * 1024 * 1024)

/*
 * Names of processes (tid 0) and threads seen alive, so the last interval
 * of a VM that just exited still carries its names. An entry whose /proc
 * file reads fine is always re-read: a reused id never shows an old name.
 * Only the sampling path uses it.
 */
struct comm_entry {
	uint32_t pid, tid;
	time_t seen;
	uint64_t start_time; /* processes (tid 0): 0 when unknown */
	int vcpu;            /* threads: the vCPU index once known, else -1 */
	char comm[KP_COMM_MAX];
};

/*
 * A VMM process the sampling path met before the scanner's table had it
 * (QEMU reads its disks while it starts, before libvirt reports the
 * domain): what its command line says, read once at first sight.
 */
#define SIGHT_DISKS 16

struct first_sight {
	uint32_t pid;
	uint64_t start_time;
	time_t seen;
	time_t checked;      /* when its fds were last looked at */
	bool vmm;            /* it holds a KVM fd, or -p/-d names it */
	bool loaded;         /* what follows was read */
	bool named;          /* libvirt's QEMU: args are its names */
	struct kp_qemu_args args;
	/* its disks from libvirt's status file, for their targets */
	struct {
		uint64_t devno;
		char target[KP_LABEL_MAX];
	} disks[SIGHT_DISKS];
	size_t ndisks;
};

/* A tap device a VMM holds, in the VMM's network namespace. */
struct vmm_tap {
	char name[IF_NAMESIZE];
	uint32_t netns;        /* 0: unknown */
	unsigned int ifindex;  /* 0: unknown */
};

/* What the scanner knows about a VMM process. */

struct vmm {
	struct kp_qemu_args args;
	bool has_args;
	struct kp_machine_scope scope;
	bool has_scope;
	bool in_pod;        /* a Kubernetes pod's (KubeVirt): no libvirt the
			     * host can reach knows it */
	double scope_at;
	struct kp_ident_thread *threads;
	size_t nthreads;
	uint32_t nthreads_stat;
	double threads_at;
	struct vmm_tap *taps;
	size_t ntaps;
	double taps_at;
};

/* One process of the last /proc scan (or a VMM that exited lately). */
struct proc_entry {
	uint32_t pid;
	uint64_t start_time;
	char comm[KP_PROC_COMM_MAX];
	struct vmm *vmm;    /* NULL: not a VMM */
	double gone_at;     /* 0 while alive */
	bool candidate;     /* QEMU or libvirt's, not a VMM yet: its fds
			     * are looked at each scan */
	bool managed;       /* libvirt's (machine cgroup or pid file) */
};

struct vhost_kthread {
	uint32_t tid, owner;
};

enum lv_state { LV_UNKNOWN, LV_UP, LV_DOWN };

struct kp_resolver {
	struct kp_resolver_config cfg;
	uint32_t netns; /* kvmprobe's network namespace, 0: unknown */

	/* sampling path only */
	struct comm_entry cache[CACHE_MAX];
	size_t n;
	struct kp_notice taken[MAX_NOTICES]; /* with the table last applied */
	size_t ntaken;
	struct first_sight sights[SIGHT_MAX];
	size_t nsights;

	/* scanner thread only */
	struct proc_entry *procs;
	size_t nprocs;
	struct vhost_kthread *kthreads;
	size_t nkthreads;
	uint32_t pidfiles[MAX_PIDFILES];
	size_t npidfiles;
	struct kp_virt *virt;
	enum lv_state lv;
	struct kp_notice pending[MAX_NOTICES]; /* until the next table */
	size_t npending;
	bool filters_reported;
	double discovered_at; /* last look at every process's fds */
	bool discovered;
	pthread_t thread;
	bool started;

	pthread_mutex_t lock; /* below */
	pthread_cond_t cond;
	bool quit, wake;
	bool discover;        /* the sampling path asks for a discovery */
	struct kp_idtable *table;
	uint32_t wanted[MAX_WANTED];
	size_t nwanted;
	struct kp_notice notices[MAX_NOTICES]; /* published with table */
	size_t nnotices;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct kp_resolver *kp_resolver_new(const struct kp_resolver_config *cfg)
{
	struct kp_resolver *r = calloc(1, sizeof(*r));
	pthread_condattr_t ca;

	if (!r)
		return NULL;
	r->cfg = *cfg;
	r->netns = kp_proc_netns(cfg->proc_root, 0);
	r->table = kp_idtable_new();
	if (!r->table) {
		free(r);
		return NULL;
	}
	kp_idtable_seal(r->table);
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);
	return r;
}

static void vmm_free(struct vmm *m)
{
	if (!m)
		return;
	free(m->threads);
	free(m->taps);
	free(m);
}

static void wake(void *arg)
{
	struct kp_resolver *r = arg;

	pthread_mutex_lock(&r->lock);
	r->wake = true;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

void kp_resolver_free(struct kp_resolver *r)
{
	size_t i;

	if (!r)
		return;
	if (r->started) {
		pthread_mutex_lock(&r->lock);
		r->quit = true;
		pthread_cond_signal(&r->cond);
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->thread, NULL);
	}
	kp_virt_stop(r->virt);
	for (i = 0; i < r->nprocs; i++)
		vmm_free(r->procs[i].vmm);
	free(r->procs);
	free(r->kthreads);
	kp_idtable_put(r->table);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

struct kp_idtable *kp_resolver_table(struct kp_resolver *r)
{
	struct kp_idtable *t;

	pthread_mutex_lock(&r->lock);
	t = kp_idtable_get(r->table);
	pthread_mutex_unlock(&r->lock);
	return t;
}

size_t kp_resolver_notices(struct kp_resolver *r, struct kp_notice *out,
			   size_t max)
{
	size_t n = r->ntaken < max ? r->ntaken : max;

	memcpy(out, r->taken, n * sizeof(*out));
	memmove(r->taken, r->taken + n, (r->ntaken - n) * sizeof(*r->taken));
	r->ntaken -= n;
	return n;
}

/* Append n notices of src to the queue dst holding *ndst; drop overflow. */
static void move_notices(struct kp_notice *dst, size_t *ndst,
			 struct kp_notice *src, size_t *nsrc)
{
	size_t n = MAX_NOTICES - *ndst < *nsrc ? MAX_NOTICES - *ndst : *nsrc;

	memcpy(dst + *ndst, src, n * sizeof(*src));
	*ndst += n;
	*nsrc = 0;
}

static void notice(struct kp_resolver *r, const char *state, const char *fmt,
		   ...) __attribute__((format(printf, 3, 4)));

static void notice(struct kp_resolver *r, const char *state, const char *fmt,
		   ...)
{
	struct kp_notice *n;
	va_list ap;

	if (r->npending == MAX_NOTICES)
		return;
	n = &r->pending[r->npending++];
	clock_gettime(CLOCK_REALTIME, &n->ts);
	n->source = "libvirt";
	n->state = state;
	va_start(ap, fmt);
	vsnprintf(n->message, sizeof(n->message), fmt, ap);
	va_end(ap);
}

/* ---- the scanner: /proc into proc entries ---- */

static struct proc_entry *proc_find(struct proc_entry *v, size_t n,
				    uint32_t pid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].pid == pid)
			return &v[mid];
		if (v[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int cmp_proc(const void *a, const void *b)
{
	const struct proc_entry *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static bool in_list(const uint32_t *v, size_t n, uint32_t pid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == pid)
			return true;
	return false;
}

/* Whether pid was given with -p. */
static bool given(const struct kp_resolver *r, uint32_t pid)
{
	return in_list(r->cfg.pids, r->cfg.npids, pid);
}

/*
 * Note what a new process may be: QEMU or libvirt's (then its fds are
 * looked at each scan until it holds a VM), or given with -p.
 */
static void classify_new(struct kp_resolver *r, struct proc_entry *e)
{
	struct kp_machine_scope m;

	e->managed = in_list(r->pidfiles, r->npidfiles, e->pid) ||
		     !kp_proc_read_machine_cgroup(r->cfg.proc_root, e->pid, &m);
	e->candidate = e->managed || !strncmp(e->comm, "qemu", 4);
}

/*
 * Whether to follow process e as a VMM: it holds a KVM VM or vCPU fd (the
 * candidates' fds are looked at each scan, everyone's in a discovery), the
 * sampling path found it one (wanted), or -p names it, or, with -d, it is
 * libvirt's QEMU (the domain filter then keeps only the domains asked).
 */
static bool is_vmm(struct kp_resolver *r, const struct proc_entry *e,
		   const uint32_t *wanted, size_t nwanted, bool discover)
{
	if (in_list(wanted, nwanted, e->pid) || given(r, e->pid) ||
	    (r->cfg.ndomains && e->managed))
		return true;
	if (!e->candidate && !discover)
		return false;
	return kp_proc_holds_kvm(r->cfg.proc_root, e->pid) > 0;
}

static void read_threads(struct kp_resolver *r, uint32_t pid, struct vmm *m)
{
	char path[4096], comm[KP_PROC_COMM_MAX];
	struct kp_ident_thread *v = NULL, *nv;
	size_t n = 0, cap = 0;
	struct dirent *de;
	uint32_t tid;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%u/task", r->cfg.proc_root, pid);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d)) && n < MAX_THREADS) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		tid = strtoul(de->d_name, NULL, 10);
		if (kp_proc_thread_comm(r->cfg.proc_root, pid, tid, comm,
					sizeof(comm)))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		v[n].tid = tid;
		v[n].kind = kp_classify_thread(pid, tid, comm, &v[n].index);
		n++;
	}
	closedir(d);
	free(m->threads);
	m->threads = v;
	m->nthreads = n;
}

/*
 * The taps pid holds, each numbered in pid's network namespace: a VMM's
 * tap may live in another namespace than kvmprobe's (KubeVirt, Kata), where
 * the same name and ifindex may belong to another device.
 */
static void read_taps(struct kp_resolver *r, uint32_t pid, struct vmm *m)
{
	const char *root = r->cfg.proc_root;
	char (*names)[IF_NAMESIZE];
	struct vmm_tap *taps;
	uint32_t netns;
	int n, i;

	names = calloc(KP_MAX_TAPS, IF_NAMESIZE);
	if (!names)
		return;
	n = kp_proc_read_taps(root, pid, names, KP_MAX_TAPS);
	taps = n > 0 ? calloc(n, sizeof(*taps)) : NULL;
	if (n < 0 || (n > 0 && !taps))
		goto out;
	netns = n > 0 ? kp_proc_netns(root, pid) : 0;
	for (i = 0; i < n; i++) {
		memcpy(taps[i].name, names[i], IF_NAMESIZE);
		taps[i].netns = netns ? netns : r->netns;
		if (!netns || netns == r->netns)
			taps[i].ifindex = if_nametoindex(names[i]);
		else
			taps[i].ifindex = kp_proc_ifindex(root, pid, names[i]);
	}
	free(m->taps);
	m->taps = taps;
	m->ntaps = n;
out:
	free(names);
}

/* Bring what we know of VMM e up to date. */
static void vmm_refresh(struct kp_resolver *r, struct proc_entry *e,
			const struct kp_proc_stat *st, double now)
{
	struct vmm *m = e->vmm;
	char cg[4096];

	if (!m->has_args)
		m->has_args = !kp_proc_read_qemu_args(r->cfg.proc_root, e->pid,
						      &m->args);
	if (!m->has_scope && !m->in_pod && now - m->scope_at >= SCOPE_RETRY_S) {
		/* one read: libvirt's machine scope, or a pod's */
		if (!kp_proc_read_cgroup(r->cfg.proc_root, e->pid, cg,
					 sizeof(cg))) {
			m->has_scope = !kp_parse_machine_cgroup(cg, &m->scope);
			m->in_pod = !m->has_scope && kp_parse_kube_cgroup(cg);
		}
		m->scope_at = now;
	}
	if (st->num_threads != m->nthreads_stat ||
	    now - m->threads_at >= THREADS_REFRESH_S) {
		read_threads(r, e->pid, m);
		m->nthreads_stat = st->num_threads;
		m->threads_at = now;
	}
	if (now - m->taps_at >= TAPS_REFRESH_S) {
		read_taps(r, e->pid, m);
		m->taps_at = now;
	}
}

static void add_kthread(struct kp_resolver *r, struct vhost_kthread **v,
			size_t *cap, uint32_t tid, uint32_t owner)
{
	struct vhost_kthread *nv;

	if (r->nkthreads == MAX_VHOST_KTHREADS)
		return;
	if (r->nkthreads == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		nv = realloc(*v, *cap * sizeof(**v));
		if (!nv)
			return;
		*v = nv;
	}
	(*v)[r->nkthreads].tid = tid;
	(*v)[r->nkthreads++].owner = owner;
}

/* A new slot at the end of *v, or NULL when out of memory. */
static struct proc_entry *push(struct proc_entry **v, size_t *n, size_t *cap)
{
	struct proc_entry *nv;

	if (*n == *cap) {
		nv = realloc(*v, (*cap ? *cap * 2 : 256) * sizeof(*nv));
		if (!nv)
			return NULL;
		*v = nv;
		*cap = *cap ? *cap * 2 : 256;
	}
	return &(*v)[(*n)++];
}

/*
 * One pass over /proc: every process's start time and name; VMMs are
 * followed, others only remembered. Exited VMMs are kept GONE_KEEP_S.
 * Returns 0 or -errno (the old cache stays).
 */
static int scan_proc(struct kp_resolver *r, const uint32_t *wanted,
		     size_t nwanted, bool discover, double now)
{
	struct proc_entry *nv = NULL, *e, *old;
	struct vhost_kthread *kt = NULL;
	size_t n = 0, cap = 0, kcap = 0, i;
	struct kp_proc_stat st;
	struct dirent *de;
	uint32_t pid, owner;
	bool same;
	DIR *d;
	int got;

	d = opendir(r->cfg.proc_root);
	if (!d)
		return -errno;
	got = r->cfg.libvirt_run_dir ?
	      kp_read_pidfiles(r->cfg.libvirt_run_dir, r->pidfiles,
			       MAX_PIDFILES) : 0;
	r->npidfiles = got > 0 ? got : 0;
	free(r->kthreads);
	r->kthreads = NULL;
	r->nkthreads = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		pid = strtoul(de->d_name, NULL, 10);
		if (kp_proc_read_stat(r->cfg.proc_root, pid, &st))
			continue;
		if (st.flags & KP_PF_KTHREAD) {
			if (!kp_parse_vhost_comm(st.comm, &owner))
				add_kthread(r, &kt, &kcap, pid, owner);
			continue;
		}
		e = push(&nv, &n, &cap);
		if (!e)
			break;
		memset(e, 0, sizeof(*e));
		e->pid = pid;
		e->start_time = st.start_time;
		memcpy(e->comm, st.comm, sizeof(e->comm));
		old = proc_find(r->procs, r->nprocs, pid);
		same = old && !old->gone_at &&
		       old->start_time == st.start_time &&
		       !strcmp(old->comm, st.comm);
		if (same) {
			e->candidate = old->candidate;
			e->managed = old->managed ||
				     in_list(r->pidfiles, r->npidfiles, pid);
		} else {
			classify_new(r, e);
		}
		if (same && old->vmm) {
			e->vmm = old->vmm; /* same process, same program */
			old->vmm = NULL;
		} else if (is_vmm(r, e, wanted, nwanted, discover)) {
			e->vmm = calloc(1, sizeof(*e->vmm));
		}
		if (e->vmm)
			vmm_refresh(r, e, &st, now);
	}
	closedir(d);
	r->kthreads = kt;
	/* VMMs that exited (or exec'd another program): kept a while */
	for (i = 0; i < r->nprocs; i++) {
		old = &r->procs[i];
		if (!old->vmm)
			continue;
		if (!old->gone_at)
			old->gone_at = now;
		if (now - old->gone_at > GONE_KEEP_S ||
		    !(e = push(&nv, &n, &cap))) {
			vmm_free(old->vmm);
			continue;
		}
		*e = *old;
	}
	free(r->procs);
	if (n > 1) /* nv may be NULL when n is 0 */
		qsort(nv, n, sizeof(*nv), cmp_proc);
	r->procs = nv;
	r->nprocs = n;
	return 0;
}

/* ---- the scanner: proc entries and libvirt's view into a table ---- */

/* The running domain of view that VMM m is: by UUID, else by domain id. */
static const struct kp_virt_dom *virt_match(const struct kp_virt_view *view,
					    const struct vmm *m)
{
	size_t i;

	for (i = 0; view && i < view->n; i++) {
		const struct kp_virt_dom *d = &view->v[i];

		if (d->id < 0)
			continue;
		if (m->has_args && m->args.uuid[0]) {
			if (!strcmp(d->uuid, m->args.uuid))
				return d;
		} else if (m->has_scope && d->id == m->scope.dom_id) {
			return d;
		}
	}
	return NULL;
}

/* netns: kvmprobe's, where libvirt's own taps are (libvirt is on the host) */
static int ident_from_virt(struct kp_ident *id, const struct kp_virt_dom *d,
			   uint32_t netns)
{
	size_t i;
	int err;

	id->source = KP_ID_LIBVIRT;
	id->dom_id = d->id;
	id->dom_state = d->state;
	id->mem = d->mem;
	err = kp_ident_set_names(id, d->name, d->uuid);
	for (i = 0; !err && i < d->ndisks; i++)
		err = kp_ident_add_disk(id, d->disks[i].target,
					d->disks[i].source, d->disks[i].devno,
					d->disks[i].block);
	for (i = 0; !err && i < d->nnics; i++)
		err = kp_ident_add_nic(id, d->nics[i], netns,
				       if_nametoindex(d->nics[i]), true, false);
	return err;
}

/* The identity of VMM e, libvirt's when view has it. 0 or -ENOMEM. */
static int build_ident(struct kp_resolver *r, struct kp_idtable *t,
		       const struct kp_idtable *prev,
		       const struct proc_entry *e,
		       const struct kp_virt_view *view)
{
	const struct vmm *m = e->vmm;
	const struct kp_virt_dom *d;
	const struct kp_ident *was;
	struct kp_ident *id;
	size_t i;
	int err = 0;

	if (e->gone_at) { /* the exited process: as it was last seen */
		was = kp_idtable_find(prev, e->pid, e->start_time);
		if (was) {
			id = kp_idtable_add_copy(t, was);
			if (id)
				id->gone = true;
			return id ? 0 : -ENOMEM;
		}
	}
	id = kp_idtable_add(t, e->pid, e->start_time);
	if (!id)
		return -ENOMEM;
	id->gone = e->gone_at != 0;
	for (i = 0; !err && i < m->nthreads; i++)
		err = kp_ident_add_thread(id, m->threads[i].tid,
					  m->threads[i].kind,
					  m->threads[i].index);
	for (i = 0; !err && i < r->nkthreads; i++)
		if (r->kthreads[i].owner == e->pid)
			err = kp_ident_add_thread(id, r->kthreads[i].tid,
						  KP_THREAD_VHOST, -1);
	d = virt_match(view, m);
	if (!err && d) {
		err = ident_from_virt(id, d, r->netns);
	} else if (!err && (m->has_scope || m->in_pod ||
			    in_list(r->pidfiles, r->npidfiles, e->pid))) {
		/* libvirt's QEMU, while libvirt cannot tell, or a KubeVirt
		 * pod's, whose libvirt names it "<namespace>_<vm>": its
		 * arguments */
		id->source = KP_ID_PROC;
		id->dom_id = m->has_scope ? m->scope.dom_id : -1;
		err = kp_ident_set_names(
			id, m->has_args && m->args.name[0] ? m->args.name : NULL,
			m->has_args && m->args.uuid[0] ? m->args.uuid : NULL);
	}
	for (i = 0; !err && i < m->ntaps; i++)
		err = kp_ident_add_nic(id, m->taps[i].name, m->taps[i].netns,
				       m->taps[i].ifindex, false, true);
	return err;
}

static struct kp_idtable *build_table(struct kp_resolver *r,
				      const struct kp_idtable *prev,
				      const struct kp_virt_view *view)
{
	struct kp_idtable *t = kp_idtable_new();
	size_t i;

	if (!t)
		return NULL;
	for (i = 0; i < r->nprocs; i++) {
		if (!r->procs[i].vmm)
			continue;
		if (build_ident(r, t, prev, &r->procs[i], view)) {
			kp_idtable_put(t);
			return NULL;
		}
	}
	kp_idtable_seal(t);
	return t;
}

/*
 * Whether libvirt can be trusted now; one notice per change between
 * available and unavailable (none for "available" at start).
 */
static bool update_lv(struct kp_resolver *r)
{
	const char *uri = r->cfg.libvirt_uri;
	struct kp_virt_status st;
	enum lv_state lv = r->lv;

	if (!r->virt) {
		r->lv = LV_DOWN;
		return false;
	}
	kp_virt_status(r->virt, &st);
	if (st.busy_s >= WATCHDOG_S) {
		lv = LV_DOWN;
		if (r->lv != LV_DOWN)
			notice(r, "unavailable",
			       "a libvirt call on %s has not returned for %.0f s: names from /proc and cgroups until it does",
			       uri, st.busy_s);
	} else if (st.connected) {
		lv = LV_UP;
		if (r->lv == LV_DOWN)
			notice(r, "available", "connected to %s: names from libvirt",
			       uri);
	} else if (st.tried) {
		lv = LV_DOWN;
		if (r->lv != LV_DOWN)
			notice(r, "unavailable",
			       "%s: names from /proc and cgroups, retrying",
			       st.error);
	}
	r->lv = lv;
	return lv == LV_UP;
}

/* Once libvirt's answer is known: say which -d domains are not running. */
static void report_filters(struct kp_resolver *r, const struct kp_idtable *t,
			   const struct kp_virt_view *view)
{
	const struct kp_ident *id;
	const char *f, *why;
	size_t i, j;

	if (r->filters_reported || r->lv == LV_UNKNOWN)
		return;
	r->filters_reported = true;
	for (i = 0; i < r->cfg.ndomains; i++) {
		f = r->cfg.domains[i];
		for (j = 0; (id = kp_idtable_at(t, j)); j++)
			if (!id->gone && kp_ident_matches(id, f))
				break;
		if (id)
			continue;
		why = "is not running";
		for (j = 0; view && j < view->n; j++)
			if (!strcmp(view->v[j].name, f) ||
			    !strcasecmp(view->v[j].uuid, f))
				break;
		if (view && j == view->n)
			why = "is not defined";
		notice(r, NULL,
		       "domain '%s' %s: kvmprobe reports it once it runs", f,
		       why);
	}
}

static void *scan_main(void *arg)
{
	struct kp_resolver *r = arg;
	struct kp_idtable *t, *old;
	struct kp_virt_view *view;
	uint32_t wanted[MAX_WANTED];
	struct timespec ts;
	size_t nwanted;
	bool discover;
	double next;

	pthread_mutex_lock(&r->lock);
	while (!r->quit) {
		nwanted = r->nwanted;
		memcpy(wanted, r->wanted, nwanted * sizeof(*wanted));
		r->nwanted = 0;
		r->wake = false;
		/* every process's fds: at the first scan, then when the
		 * sampling path meets a tap no known VMM holds */
		discover = !r->discovered ||
			   (r->discover &&
			    now_s() - r->discovered_at >= DISCOVER_RETRY_S);
		if (discover)
			r->discover = false;
		pthread_mutex_unlock(&r->lock);

		scan_proc(r, wanted, nwanted, discover, now_s());
		if (discover) {
			r->discovered = true;
			r->discovered_at = now_s();
		}
		view = update_lv(r) ? kp_virt_view_get(r->virt) : NULL;
		old = kp_resolver_table(r);
		t = build_table(r, old, view);
		kp_idtable_put(old);
		if (t) {
			report_filters(r, t, view);
			pthread_mutex_lock(&r->lock);
			old = r->table;
			r->table = t;
			move_notices(r->notices, &r->nnotices, r->pending,
				     &r->npending);
			pthread_mutex_unlock(&r->lock);
			kp_idtable_put(old);
		}
		kp_virt_view_put(view);

		next = now_s() + SCAN_PERIOD_S;
		pthread_mutex_lock(&r->lock);
		while (!r->quit && !r->wake && now_s() < next) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += SCAN_PERIOD_S * 1e9 / 5;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&r->cond, &r->lock, &ts);
		}
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

static int start_threads(struct kp_resolver *r)
{
	int err;

	if (r->cfg.libvirt_uri) {
		r->virt = kp_virt_start(r->cfg.libvirt_uri, wake, r);
		if (!r->virt)
			notice(r, "unavailable",
			       "failed to start the libvirt client: %s: names from /proc and cgroups",
			       strerror(errno));
	}
	err = pthread_create(&r->thread, NULL, scan_main, r);
	if (err)
		return -err;
	r->started = true;
	return 0;
}

int kp_resolver_start(struct kp_resolver *r)
{
	sigset_t all, old;
	int err;

	/* our threads never take the process's signals */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = start_threads(r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

/* ---- the sampling path ---- */

static struct comm_entry *cache_find(struct kp_resolver *r, uint32_t pid,
				     uint32_t tid)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->cache[i].pid == pid && r->cache[i].tid == tid)
			return &r->cache[i];
	return NULL;
}

static struct comm_entry *cache_slot(struct kp_resolver *r, time_t now)
{
	size_t i, oldest = 0;

	if (r->n < CACHE_MAX)
		return &r->cache[r->n++];
	for (i = 0; i < r->n; i++) {
		if (now - r->cache[i].seen > CACHE_TTL_S)
			return &r->cache[i];
		if (r->cache[i].seen < r->cache[oldest].seen)
			oldest = i;
	}
	return &r->cache[oldest];
}

/*
 * The cache entry of process pid (tid 0: name and start time from its
 * stat file) or of its thread tid, re-read from /proc when it exists.
 */
static struct comm_entry *comm_of(struct kp_resolver *r, uint32_t pid,
				  uint32_t tid, time_t now)
{
	struct comm_entry *e = cache_find(r, pid, tid);
	char comm[KP_COMM_MAX];
	struct kp_proc_stat st;
	int err;

	memset(&st, 0, sizeof(st));
	if (tid) {
		err = kp_proc_thread_comm(r->cfg.proc_root, pid, tid, comm,
					  sizeof(comm));
	} else {
		err = kp_proc_read_stat(r->cfg.proc_root, pid, &st);
		if (!err)
			snprintf(comm, sizeof(comm), "%s", st.comm);
	}
	if (err)
		return e;
	if (!e) {
		e = cache_slot(r, now);
		e->pid = pid;
		e->tid = tid;
		e->vcpu = -1;
	}
	memcpy(e->comm, comm, sizeof(e->comm));
	e->start_time = st.start_time;
	e->seen = now;
	return e;
}

/* Ask the scanner to look at pid now (a VMM the table does not know). */
static void want(struct kp_resolver *r, uint32_t pid)
{
	pthread_mutex_lock(&r->lock);
	if (!in_list(r->wanted, r->nwanted, pid) && r->nwanted < MAX_WANTED) {
		r->wanted[r->nwanted++] = pid;
		r->wake = true;
		pthread_cond_signal(&r->cond);
	}
	pthread_mutex_unlock(&r->lock);
}

static const enum kp_metric_id mem_metric[KP_MEM__COUNT] = {
	[KP_MEM_BALLOON_CURRENT] = KP_M_MEM_BALLOON_CURRENT,
	[KP_MEM_BALLOON_MAX] = KP_M_MEM_BALLOON_MAX,
	[KP_MEM_RSS] = KP_M_MEM_RSS,
	[KP_MEM_SWAP_IN] = KP_M_MEM_SWAP_IN,
	[KP_MEM_SWAP_OUT] = KP_M_MEM_SWAP_OUT,
	[KP_MEM_MAJOR_FAULTS] = KP_M_MEM_MAJOR_FAULTS,
	[KP_MEM_AVAILABLE] = KP_M_MEM_AVAILABLE,
	[KP_MEM_USABLE] = KP_M_MEM_USABLE,
	[KP_MEM_UNUSED] = KP_M_MEM_UNUSED,
};

static int fill_ident(struct kp_vm_rec *vm, const struct kp_ident *id)
{
	int i, err = 0;

	if (id->name && !(vm->name = strdup(id->name)))
		return -ENOMEM;
	if (id->uuid && !(vm->uuid = strdup(id->uuid)))
		return -ENOMEM;
	for (i = 0; !err && i < KP_MEM__COUNT; i++)
		if (id->mem.known & (1u << i))
			err = kp_vm_set_gauge(vm, mem_metric[i], id->mem.v[i]);
	return err ? err : kp_vm_derive_memory(vm);
}

/*
 * The vCPU index of thread tid of VMM pid: the table's, else the one
 * remembered here, else its name's ("CPU <n>/KVM"). Remembered once known:
 * the last interval of a VMM that exited keeps its indexes although the
 * thread names are gone from /proc by then. -1 when unknown.
 */
static int vcpu_index(struct kp_resolver *r, const struct kp_ident *id,
		      uint32_t pid, uint32_t tid, time_t now)
{
	const struct kp_ident_thread *th = kp_ident_thread(id, tid);
	struct comm_entry *e = cache_find(r, pid, tid);

	if (th && th->kind == KP_THREAD_VCPU) {
		if (!e) {
			e = cache_slot(r, now);
			memset(e, 0, sizeof(*e));
			e->pid = pid;
			e->tid = tid;
		}
		e->vcpu = th->index;
		e->seen = now;
		return th->index;
	}
	if (e && e->vcpu >= 0) {
		e->seen = now;
		return e->vcpu;
	}
	e = comm_of(r, pid, tid, now);
	if (!e)
		return -1;
	e->vcpu = kp_parse_vcpu_name(e->comm);
	return e->vcpu;
}

/* libvirt's status file of domain name: its disks into s. */
static void sight_disks(struct kp_resolver *r, struct first_sight *s,
			const char *name)
{
	char path[4096], *buf;
	struct kp_domxml x;
	ssize_t n, got = 0;
	size_t i;
	bool block;
	int fd;

	if (!r->cfg.libvirt_run_dir || !*name || strchr(name, '/'))
		return;
	snprintf(path, sizeof(path), "%s/%s.xml", r->cfg.libvirt_run_dir,
		 name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	buf = malloc(STATUS_XML_MAX);
	while (buf && got < STATUS_XML_MAX &&
	       (n = read(fd, buf + got, STATUS_XML_MAX - got)) > 0)
		got += n;
	close(fd);
	if (!buf || kp_domxml_parse(buf, got, &x)) {
		free(buf);
		return;
	}
	free(buf);
	for (i = 0; i < x.ndisks && s->ndisks < SIGHT_DISKS; i++) {
		if (!x.disks[i].target)
			continue;
		kp_path_devno(x.disks[i].source, &s->disks[s->ndisks].devno,
			      &block);
		snprintf(s->disks[s->ndisks].target, KP_LABEL_MAX, "%s",
			 x.disks[i].target);
		s->ndisks++;
	}
	kp_domxml_free(&x);
}

/*
 * Read what the command line of pid says, and for libvirt's QEMU its disks
 * from libvirt's status file (written before QEMU runs): once per process.
 */
static void sight_load(struct kp_resolver *r, struct first_sight *s)
{
	struct kp_machine_scope m;
	uint32_t pids[MAX_PIDFILES];
	int n;

	if (s->loaded)
		return;
	s->loaded = true;
	if (kp_proc_read_qemu_args(r->cfg.proc_root, s->pid, &s->args))
		memset(&s->args, 0, sizeof(s->args));
	/* libvirt's QEMU, as build_ident() tells it */
	s->named = !kp_proc_read_machine_cgroup(r->cfg.proc_root, s->pid, &m);
	if (!s->named && r->cfg.libvirt_run_dir) {
		n = kp_read_pidfiles(r->cfg.libvirt_run_dir, pids, MAX_PIDFILES);
		s->named = n > 0 && in_list(pids, n, s->pid);
	}
	if (s->named)
		sight_disks(r, s, s->args.name);
}

/*
 * The sampling path's own record of process pid, which the table does not
 * know as libvirt's (yet), or NULL when a new one would exceed this
 * interval's budget of looks (*budget).
 */
static struct first_sight *first_sight(struct kp_resolver *r, uint32_t pid,
				       uint64_t start_time, time_t now,
				       int *budget)
{
	struct first_sight *s = NULL;
	size_t i;

	for (i = 0; i < r->nsights; i++) {
		s = &r->sights[i];
		if (s->pid == pid && s->start_time == start_time) {
			s->seen = now;
			return s;
		}
	}
	if (*budget <= 0)
		return NULL;
	if (r->nsights < SIGHT_MAX) {
		s = &r->sights[r->nsights++];
	} else {
		s = &r->sights[0];
		for (i = 1; i < r->nsights; i++)
			if (r->sights[i].seen < s->seen)
				s = &r->sights[i];
	}
	memset(s, 0, sizeof(*s));
	s->pid = pid;
	s->start_time = start_time;
	s->seen = now;
	s->checked = now - 1;
	return s;
}

/* Whether a -d filter names the domain of s's command line. */
static bool sight_wanted(const struct kp_resolver *r,
			 const struct first_sight *s)
{
	size_t i;

	for (i = 0; s->named && i < r->cfg.ndomains; i++)
		if ((s->args.name[0] &&
		     !strcmp(s->args.name, r->cfg.domains[i])) ||
		    (s->args.uuid[0] &&
		     !strcasecmp(s->args.uuid, r->cfg.domains[i])))
			return true;
	return false;
}

/*
 * Whether the process of s is a VMM now: it holds a KVM fd (looked at
 * most once a second, within the interval's budget), or it is the QEMU of
 * a domain -d asks for. Once a VMM, always.
 */
static bool sight_vmm(struct kp_resolver *r, struct first_sight *s,
		      time_t now, int *budget)
{
	if (s->vmm || s->checked == now || *budget <= 0)
		return s->vmm;
	(*budget)--;
	s->checked = now;
	s->vmm = kp_proc_holds_kvm(r->cfg.proc_root, s->pid) > 0;
	if (!s->vmm && r->cfg.ndomains) {
		sight_load(r, s);
		s->vmm = sight_wanted(r, s);
	}
	if (s->vmm)
		sight_load(r, s);
	return s->vmm;
}

/* Names of a VMM the table does not know yet: its command line's. */
static int fill_first_sight(struct kp_vm_rec *vm, const struct first_sight *s)
{
	if (!s || !s->named)
		return 0;
	if (s->args.name[0] && !(vm->name = strdup(s->args.name)))
		return -ENOMEM;
	if (s->args.uuid[0] && !(vm->uuid = strdup(s->args.uuid)))
		return -ENOMEM;
	return 0;
}

/* The disk of id on host device devno that has a guest name, or NULL. */
static const struct kp_ident_disk *disk_of(const struct kp_ident *id,
					   uint64_t devno)
{
	size_t i;

	for (i = 0; id && devno && i < id->ndisks; i++)
		if (id->disks[i].devno == devno && id->disks[i].target)
			return &id->disks[i];
	return NULL;
}

/*
 * The guest's name (target "vda") of each disk VMM vm does I/O on, from
 * the domain XML's disks by the host device number the samples carry.
 */
/* The same from what libvirt's status file said at first sight. */
static const char *sight_target(const struct first_sight *fs, uint64_t devno)
{
	size_t i;

	for (i = 0; fs && devno && i < fs->ndisks; i++)
		if (fs->disks[i].devno == devno)
			return fs->disks[i].target;
	return NULL;
}

static int fill_targets(struct kp_vm_rec *vm, const struct kp_ident *id,
			const struct first_sight *fs)
{
	const struct kp_ident_disk *disk;
	struct kp_sample_set *s = &vm->s;
	char dev[KP_LABEL_MAX];
	size_t i, n = s->n;
	const char *target;
	bool added = false;
	uint64_t devno;
	int err = 0;

	for (i = 0; i < n && !err; i++) {
		if (kp_metric(s->v[i].metric)->scope != KP_SCOPE_DISK ||
		    s->v[i].metric == KP_M_DISK_TARGET)
			continue;
		devno = s->v[i].devid;
		disk = disk_of(id, devno);
		target = disk ? disk->target : sight_target(fs, devno);
		if (!target || kp_sample_find_dev(s, KP_M_DISK_TARGET,
						  s->v[i].dev, target))
			continue;
		memcpy(dev, s->v[i].dev, sizeof(dev));
		err = kp_samples_add_dev(s, KP_M_DISK_TARGET, dev, devno,
					 target, 1, NULL);
		added = true;
	}
	if (added)
		kp_samples_sort(s);
	return err;
}

/*
 * Resolve record vm: *vmm tells whether it is a VMM (else the caller folds
 * it into the host record); for one, its names, disk targets and vCPU
 * indexes. Returns its table entry, NULL when the table has none.
 */
static const struct kp_ident *resolve_vm(struct kp_resolver *r,
					 const struct kp_idtable *t,
					 struct kp_vm_rec *vm, time_t now,
					 int *budget, bool *vmm, int *err)
{
	struct comm_entry *e = comm_of(r, vm->pid, 0, now);
	struct first_sight *fs = NULL;
	const struct kp_ident *id;
	bool changed = false;
	size_t i;

	if (e)
		memcpy(vm->comm, e->comm, sizeof(vm->comm));
	/* the table holds VMMs only */
	id = kp_idtable_find(t, vm->pid, e ? e->start_time : KP_START_ANY);
	if ((!id || id->source != KP_ID_LIBVIRT) && e)
		fs = first_sight(r, vm->pid, e->start_time, now, budget);
	*vmm = id || vm->nvcpus || given(r, vm->pid) ||
	       (fs && sight_vmm(r, fs, now, budget));
	if (!*vmm)
		return NULL;
	if (fs)
		sight_load(r, fs);
	if (!id) {
		/* named from its command line now, by libvirt from the
		 * scanner's next table on */
		want(r, vm->pid);
		*err = fill_first_sight(vm, fs);
	} else {
		*err = fill_ident(vm, id);
	}
	if (!*err)
		*err = fill_targets(vm, id, fs);
	for (i = 0; i < vm->nvcpus; i++) {
		struct kp_vcpu_rec *vc = &vm->vcpus[i];

		if (vc->index >= 0) /* the kernel's */
			continue;
		vc->index = vcpu_index(r, id, vm->pid, vc->tid, now);
		changed |= vc->index >= 0;
	}
	if (changed)
		kp_vm_sort_vcpus(vm);
	return id;
}

/* Whether a -d filter names vm's domain: its name, or UUID in any case. */
static bool wanted_domain(const struct kp_resolver *r,
			  const struct kp_vm_rec *vm)
{
	size_t i;

	for (i = 0; i < r->cfg.ndomains; i++)
		if ((vm->name && !strcmp(vm->name, r->cfg.domains[i])) ||
		    (vm->uuid && !strcasecmp(vm->uuid, r->cfg.domains[i])))
			return true;
	return false;
}

struct placing {
	const struct kp_idtable *t;
	bool unplaced;  /* a tap sample no known VMM holds */
};

/* The VMM a tap sample of the host record belongs to, by its ifindex. */
static uint32_t tap_owner(const struct kp_sample *s, void *arg)
{
	struct placing *p = arg;
	const struct kp_ident *id;

	if (kp_metric(s->metric)->scope != KP_SCOPE_IFACE || !s->devid)
		return KP_PID_HOST;
	id = kp_idtable_find_ifindex(p->t, kp_ifdev_netns(s->devid),
				     kp_ifdev_ifindex(s->devid));
	if (!id) {
		p->unplaced = true;
		return KP_PID_HOST;
	}
	return id->pid;
}

/* Ask the scanner to look at every process's fds: who holds that tap. */
static void want_discovery(struct kp_resolver *r)
{
	pthread_mutex_lock(&r->lock);
	if (!r->discover) {
		r->discover = true;
		r->wake = true;
		pthread_cond_signal(&r->cond);
	}
	pthread_mutex_unlock(&r->lock);
}

int kp_resolver_apply(struct kp_resolver *r, struct kp_interval *iv)
{
	struct placing pl = { 0 };
	int budget = FD_CHECKS_MAX;
	time_t now = time(NULL);
	struct kp_idtable *t;
	size_t i = 0;
	bool vmm;
	int err;

	pthread_mutex_lock(&r->lock);
	t = kp_idtable_get(r->table);
	move_notices(r->taken, &r->ntaken, r->notices, &r->nnotices);
	pthread_mutex_unlock(&r->lock);
	pl.t = t;
	err = kp_interval_place_host(iv, tap_owner, &pl);
	if (pl.unplaced)
		want_discovery(r);
	while (i < iv->nvms && !err) {
		resolve_vm(r, t, &iv->vms[i], now, &budget, &vmm, &err);
		if (err)
			break;
		if (!vmm)
			err = kp_interval_fold_vm(iv, i);
		else if (r->cfg.ndomains && !wanted_domain(r, &iv->vms[i]))
			kp_interval_drop_vm(iv, i);
		else
			i++;
	}
	kp_idtable_put(t);
	return err;
}
