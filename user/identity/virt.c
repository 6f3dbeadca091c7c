// SPDX-License-Identifier: GPL-2.0
/*
 * Two threads: libvirt's default event loop (keepalive, lifecycle events,
 * close callbacks run there) and a worker that makes every libvirt call.
 * Callbacks only set flags and wake the worker.
 */
#define _GNU_SOURCE /* pthread_timedjoin_np */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include "user/identity/domxml.h"
#include "user/identity/virt.h"

#define REFRESH_S 1.0          /* state and balloon stats */
#define XML_REFRESH_S 30.0     /* re-read a running domain's XML (hotplug) */
#define BACKOFF_MIN_S 1.0
#define BACKOFF_MAX_S 30.0
#define KEEPALIVE_INTERVAL_S 2 /* the connection dies after 2 * (3 + 1) s */
#define KEEPALIVE_COUNT 3
#define STOP_WAIT_S 2
#define MAX_DOMAINS 4096

/* A running domain's topology, kept between refreshes. */
struct topo {
	char uuid[KP_UUID_STR_LEN + 1];
	int id;
	double read_at;
	struct kp_ident_disk *disks;
	size_t ndisks;
	char (*nics)[IF_NAMESIZE];
	size_t nnics;
	bool seen;
};

struct kp_virt {
	char *uri;
	void (*notify)(void *);
	void *arg;
	pthread_t worker, loop;
	bool worker_started, loop_started;

	pthread_mutex_t lock;   /* everything below */
	pthread_cond_t cond;
	bool quit, dirty, closed;
	struct kp_virt_view *view;
	struct kp_virt_status st;
	double busy_since;      /* 0: no call in progress */

	/* the worker's own */
	virConnectPtr conn;
	int cb_id;
	struct topo *topo;
	size_t ntopo;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void ignore_error(void *arg, virErrorPtr err)
{
	(void)arg;
	(void)err; /* reported through the status, never printed */
}

static void busy(struct kp_virt *v, bool on)
{
	pthread_mutex_lock(&v->lock);
	v->busy_since = on ? now_s() : 0;
	pthread_mutex_unlock(&v->lock);
}

static void free_disks(struct kp_ident_disk *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(d[i].target);
		free(d[i].source);
	}
	free(d);
}

void kp_virt_view_put(struct kp_virt_view *view)
{
	size_t i;

	if (!view || __atomic_sub_fetch(&view->refs, 1, __ATOMIC_ACQ_REL))
		return;
	for (i = 0; i < view->n; i++) {
		free(view->v[i].name);
		free_disks(view->v[i].disks, view->v[i].ndisks);
		free(view->v[i].nics);
	}
	free(view->v);
	free(view);
}

struct kp_virt_view *kp_virt_view_get(struct kp_virt *v)
{
	struct kp_virt_view *view;

	pthread_mutex_lock(&v->lock);
	view = v->view;
	if (view)
		__atomic_add_fetch(&view->refs, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&v->lock);
	return view;
}

void kp_virt_status(struct kp_virt *v, struct kp_virt_status *st)
{
	pthread_mutex_lock(&v->lock);
	*st = v->st;
	st->busy_s = v->busy_since ? now_s() - v->busy_since : 0;
	pthread_mutex_unlock(&v->lock);
}

/* Publish the connection state (and a view, NULL when down). */
static void publish(struct kp_virt *v, bool connected, const char *error,
		    struct kp_virt_view *view)
{
	void (*notify)(void *);
	struct kp_virt_view *old;

	pthread_mutex_lock(&v->lock);
	v->st.connected = connected;
	v->st.tried = true;
	snprintf(v->st.error, sizeof(v->st.error), "%s", error ? error : "");
	old = v->view;
	v->view = view;
	notify = v->notify;
	pthread_mutex_unlock(&v->lock);
	kp_virt_view_put(old);
	if (notify)
		notify(v->arg);
}

static void on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event,
			 int detail, void *opaque)
{
	struct kp_virt *v = opaque;

	(void)conn;
	(void)dom;
	(void)event;
	(void)detail;
	pthread_mutex_lock(&v->lock);
	v->dirty = true;
	pthread_cond_signal(&v->cond);
	pthread_mutex_unlock(&v->lock);
}

static void on_close(virConnectPtr conn, int reason, void *opaque)
{
	struct kp_virt *v = opaque;

	(void)conn;
	(void)reason;
	pthread_mutex_lock(&v->lock);
	v->closed = true;
	pthread_cond_signal(&v->cond);
	pthread_mutex_unlock(&v->lock);
}

/* Wait (lock held) until woken or secs passed; false when quitting. */
static bool wait_for(struct kp_virt *v, double secs, bool on_dirty)
{
	struct timespec ts;
	double end = now_s() + secs;

	while (!v->quit && !v->closed && !(on_dirty && v->dirty)) {
		double left = end - now_s();

		if (left <= 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)left;
		ts.tv_nsec += (long)((left - (time_t)left) * 1e9);
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&v->cond, &v->lock, &ts);
	}
	return !v->quit;
}

static void drop_conn(struct kp_virt *v)
{
	if (!v->conn)
		return;
	busy(v, true);
	if (v->cb_id >= 0)
		virConnectDomainEventDeregisterAny(v->conn, v->cb_id);
	virConnectUnregisterCloseCallback(v->conn, on_close);
	virConnectClose(v->conn);
	busy(v, false);
	v->conn = NULL;
	v->cb_id = -1;
}

static int try_connect(struct kp_virt *v, char *err, size_t len)
{
	const char *msg;

	busy(v, true);
	v->conn = virConnectOpenReadOnly(v->uri);
	if (!v->conn) {
		msg = virGetLastErrorMessage();
		snprintf(err, len, "failed to connect to %s: %s", v->uri,
			 msg ? msg : "unknown error");
		busy(v, false);
		return -ECONNREFUSED;
	}
	/* keepalive needs the event loop: it closes a dead connection */
	virConnectSetKeepAlive(v->conn, KEEPALIVE_INTERVAL_S,
			       KEEPALIVE_COUNT);
	virConnectRegisterCloseCallback(v->conn, on_close, v, NULL);
	v->cb_id = virConnectDomainEventRegisterAny(
		v->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
		VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), v, NULL);
	busy(v, false);
	if (v->cb_id < 0) {
		msg = virGetLastErrorMessage();
		snprintf(err, len,
			 "failed to subscribe to domain events on %s: %s",
			 v->uri, msg ? msg : "unknown error");
		drop_conn(v);
		return -EPROTO;
	}
	return 0;
}

static struct topo *topo_find(struct kp_virt *v, const char *uuid, int id)
{
	size_t i;

	for (i = 0; i < v->ntopo; i++)
		if (v->topo[i].id == id && !strcmp(v->topo[i].uuid, uuid))
			return &v->topo[i];
	return NULL;
}

static void topo_clear(struct topo *t)
{
	free_disks(t->disks, t->ndisks);
	free(t->nics);
	t->disks = NULL;
	t->nics = NULL;
	t->ndisks = t->nnics = 0;
}

/* Read a running domain's XML into t. 0 or -errno. */
static int topo_read(struct kp_virt *v, virDomainPtr dom, struct topo *t)
{
	struct kp_domxml x;
	size_t i, n = 0;
	char *xml;
	int err;

	busy(v, true);
	xml = virDomainGetXMLDesc(dom, 0);
	busy(v, false);
	if (!xml)
		return -EIO;
	err = kp_domxml_parse(xml, strlen(xml), &x);
	free(xml);
	if (err)
		return err;
	topo_clear(t);
	t->disks = calloc(x.ndisks ? x.ndisks : 1, sizeof(*t->disks));
	t->nics = calloc(x.nnics ? x.nnics : 1, sizeof(*t->nics));
	if (!t->disks || !t->nics) {
		kp_domxml_free(&x);
		return -ENOMEM;
	}
	for (i = 0; i < x.ndisks; i++) {
		struct kp_ident_disk *d = &t->disks[t->ndisks++];

		d->target = x.disks[i].target;
		d->source = x.disks[i].source;
		x.disks[i].target = x.disks[i].source = NULL;
		kp_path_devno(d->source, &d->devno, &d->block);
	}
	for (i = 0; i < x.nnics; i++) {
		if (!x.nics[i].target || strlen(x.nics[i].target) >= IF_NAMESIZE)
			continue;
		strcpy(t->nics[n++], x.nics[i].target);
	}
	t->nnics = n;
	kp_domxml_free(&x);
	return 0;
}

/* The topology of a running domain, read when new or stale. */
static struct topo *topo_get(struct kp_virt *v, virDomainPtr dom,
			     const char *uuid, int id, double now)
{
	struct topo *t = topo_find(v, uuid, id), *nt;

	if (!t) {
		nt = realloc(v->topo, (v->ntopo + 1) * sizeof(*nt));
		if (!nt)
			return NULL;
		v->topo = nt;
		t = &v->topo[v->ntopo++];
		memset(t, 0, sizeof(*t));
		snprintf(t->uuid, sizeof(t->uuid), "%s", uuid);
		t->id = id;
	}
	t->seen = true;
	if (!t->read_at || now - t->read_at > XML_REFRESH_S) {
		if (!topo_read(v, dom, t))
			t->read_at = now;
	}
	return t;
}

/* Forget topologies of domains that stopped. */
static void topo_sweep(struct kp_virt *v)
{
	size_t i = 0;

	while (i < v->ntopo) {
		if (v->topo[i].seen) {
			v->topo[i++].seen = false;
			continue;
		}
		topo_clear(&v->topo[i]);
		v->topo[i] = v->topo[--v->ntopo];
	}
}

static void fill_mem(struct kp_mem *m, virTypedParameterPtr p, int n)
{
	static const char *const keys[KP_MEM__COUNT] = {
		[KP_MEM_BALLOON_CURRENT] = "balloon.current",
		[KP_MEM_BALLOON_MAX] = "balloon.maximum",
		[KP_MEM_RSS] = "balloon.rss",
		[KP_MEM_SWAP_IN] = "balloon.swap_in",
		[KP_MEM_SWAP_OUT] = "balloon.swap_out",
		[KP_MEM_MAJOR_FAULTS] = "balloon.major_fault",
		[KP_MEM_AVAILABLE] = "balloon.available",
		[KP_MEM_USABLE] = "balloon.usable",
		[KP_MEM_UNUSED] = "balloon.unused",
	};
	unsigned long long val;
	int i;

	for (i = 0; i < KP_MEM__COUNT; i++) {
		if (virTypedParamsGetULLong(p, n, keys[i], &val) == 1) {
			m->v[i] = val;
			m->known |= 1u << i;
		}
	}
}

static int copy_topo(struct kp_virt_dom *d, const struct topo *t)
{
	size_t i;

	d->disks = calloc(t->ndisks ? t->ndisks : 1, sizeof(*d->disks));
	d->nics = calloc(t->nnics ? t->nnics : 1, sizeof(*d->nics));
	if (!d->disks || !d->nics)
		return -ENOMEM;
	for (i = 0; i < t->ndisks; i++) {
		d->disks[i] = t->disks[i];
		d->disks[i].target = t->disks[i].target ?
				     strdup(t->disks[i].target) : NULL;
		d->disks[i].source = t->disks[i].source ?
				     strdup(t->disks[i].source) : NULL;
		d->ndisks++;
	}
	memcpy(d->nics, t->nics, t->nnics * sizeof(*d->nics));
	d->nnics = t->nnics;
	return 0;
}

static int add_dom(struct kp_virt *v, struct kp_virt_view *view,
		   virDomainStatsRecordPtr rec, double now)
{
	struct kp_virt_dom *d = &view->v[view->n];
	const char *name = virDomainGetName(rec->dom);
	unsigned int id = virDomainGetID(rec->dom);
	char uuid[VIR_UUID_STRING_BUFLEN];
	struct topo *t;
	size_t i;

	if (!name || virDomainGetUUIDString(rec->dom, uuid))
		return 0;
	memset(d, 0, sizeof(*d));
	d->name = strdup(name);
	if (!d->name)
		return -ENOMEM;
	view->n++;
	for (i = 0; uuid[i] && i < KP_UUID_STR_LEN; i++)
		d->uuid[i] = tolower((unsigned char)uuid[i]);
	d->id = id == (unsigned int)-1 ? -1 : (int)id;
	virTypedParamsGetInt(rec->params, rec->nparams, "state.state",
			     &d->state);
	if (d->id < 0)
		return 0;
	fill_mem(&d->mem, rec->params, rec->nparams);
	t = topo_get(v, rec->dom, d->uuid, d->id, now);
	return t ? copy_topo(d, t) : -ENOMEM;
}

/* List every domain with its state and stats; publish a new view. */
static int refresh(struct kp_virt *v, char *err, size_t len)
{
	virDomainStatsRecordPtr *recs = NULL;
	struct kp_virt_view *view;
	double now = now_s();
	int n, i, ret = 0;

	busy(v, true);
	n = virConnectGetAllDomainStats(
		v->conn, VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_BALLOON,
		&recs, VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT);
	busy(v, false);
	if (n < 0) {
		const char *msg = virGetLastErrorMessage();

		snprintf(err, len, "failed to list domains on %s: %s", v->uri,
			 msg ? msg : "unknown error");
		return -EIO;
	}
	if (n > MAX_DOMAINS)
		n = MAX_DOMAINS;
	view = calloc(1, sizeof(*view));
	if (view)
		view->v = calloc(n ? n : 1, sizeof(*view->v));
	if (!view || !view->v) {
		free(view);
		virDomainStatsRecordListFree(recs);
		return -ENOMEM;
	}
	view->refs = 1;
	for (i = 0; i < n && !ret; i++)
		ret = add_dom(v, view, recs[i], now);
	virDomainStatsRecordListFree(recs);
	if (ret) {
		kp_virt_view_put(view);
		return ret;
	}
	topo_sweep(v);
	publish(v, true, NULL, view);
	return 0;
}

static void *worker_main(void *arg)
{
	struct kp_virt *v = arg;
	double backoff = BACKOFF_MIN_S;
	char err[192];

	pthread_mutex_lock(&v->lock);
	while (!v->quit) {
		if (v->closed && v->conn) {
			pthread_mutex_unlock(&v->lock);
			drop_conn(v);
			publish(v, false, "connection to libvirt closed", NULL);
			pthread_mutex_lock(&v->lock);
			v->closed = false;
			wait_for(v, backoff, false);
			continue;
		}
		if (!v->conn) {
			v->closed = false;
			pthread_mutex_unlock(&v->lock);
			if (try_connect(v, err, sizeof(err))) {
				publish(v, false, err, NULL);
				pthread_mutex_lock(&v->lock);
				wait_for(v, backoff, false);
				backoff = backoff * 2 > BACKOFF_MAX_S ?
					  BACKOFF_MAX_S : backoff * 2;
				continue;
			}
			backoff = BACKOFF_MIN_S;
			pthread_mutex_lock(&v->lock);
		}
		v->dirty = false;
		pthread_mutex_unlock(&v->lock);
		if (refresh(v, err, sizeof(err)) &&
		    virConnectIsAlive(v->conn) != 1) {
			pthread_mutex_lock(&v->lock);
			v->closed = true;
			continue;
		}
		pthread_mutex_lock(&v->lock);
		wait_for(v, REFRESH_S, true);
	}
	pthread_mutex_unlock(&v->lock);
	drop_conn(v);
	return NULL;
}

static void *loop_main(void *arg)
{
	struct kp_virt *v = arg;
	bool quit = false;

	/* calls do their own I/O: the worker never needs the loop to end */
	while (!quit) {
		virEventRunDefaultImpl();
		pthread_mutex_lock(&v->lock);
		quit = v->quit;
		pthread_mutex_unlock(&v->lock);
	}
	return NULL;
}

static void wake_loop(int timer, void *opaque)
{
	(void)opaque;
	virEventRemoveTimeout(timer);
}

static int init_err;

/* Once per process, before any connection: quiet errors, the event loop. */
static void init_once(void)
{
	virSetErrorFunc(NULL, ignore_error);
	init_err = virInitialize() || virEventRegisterDefaultImpl();
}

struct kp_virt *kp_virt_start(const char *uri, void (*notify)(void *),
			      void *arg)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_condattr_t ca;
	struct kp_virt *v;
	int err;

	pthread_once(&once, init_once);
	if (init_err) {
		errno = EIO;
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (!v || !(v->uri = strdup(uri))) {
		free(v);
		errno = ENOMEM;
		return NULL;
	}
	v->notify = notify;
	v->arg = arg;
	v->cb_id = -1;
	pthread_mutex_init(&v->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&v->cond, &ca);
	pthread_condattr_destroy(&ca);
	err = pthread_create(&v->loop, NULL, loop_main, v);
	v->loop_started = !err;
	if (!err)
		err = pthread_create(&v->worker, NULL, worker_main, v);
	v->worker_started = !err;
	if (err) {
		kp_virt_stop(v);
		errno = err;
		return NULL;
	}
	return v;
}

/* Join t within STOP_WAIT_S; false (and t detached) when it is stuck. */
static bool join_within(pthread_t t)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += STOP_WAIT_S;
	if (!pthread_timedjoin_np(t, NULL, &ts))
		return true;
	pthread_detach(t);
	return false;
}

void kp_virt_stop(struct kp_virt *v)
{
	bool clean = true;

	if (!v)
		return;
	pthread_mutex_lock(&v->lock);
	v->quit = true;
	v->notify = NULL; /* the caller goes away, even if a call is stuck */
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
	if (v->worker_started)
		clean = join_within(v->worker);
	if (v->loop_started) {
		virEventAddTimeout(0, wake_loop, NULL, NULL);
		clean &= join_within(v->loop);
	}
	if (!clean)
		return; /* a thread is stuck in libvirt: leave v to it */
	kp_virt_view_put(v->view);
	while (v->ntopo)
		topo_clear(&v->topo[--v->ntopo]);
	free(v->topo);
	pthread_cond_destroy(&v->cond);
	pthread_mutex_destroy(&v->lock);
	free(v->uri);
	free(v);
}
