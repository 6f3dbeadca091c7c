// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <microhttpd.h>
#include "user/core/cli.h"
#include "user/service/http.h"

/* how far below the sampling loop the server's thread runs (nice levels) */
#define KP_HTTP_NICE 10

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* A published exposition, shared by the scrapes sending it. */
struct page {
	atomic_int refs;
	size_t len;
	char *text;
};

/* pages replaced while a scrape was taking one: dropped at a later publish */
#define KP_HTTP_RETIRED 4

/*
 * The page is published without a lock: the sampling loop must never wait
 * for the server's thread, which runs below it and can be preempted at any
 * instruction. A scrape counts itself in readers while it loads the page
 * and takes its reference; the loop swaps the pointer and drops the old
 * page's published reference once it sees no scrape in that window (any
 * later scrape loads the new page), else at a later publish.
 */
struct kp_http {
	struct MHD_Daemon *d;
	kp_http_render_fn render;
	void *arg;
	_Atomic(struct page *) page;
	atomic_int readers;    /* scrapes between loading page and their ref */
	struct page *retired[KP_HTTP_RETIRED]; /* the loop's only */
	size_t nretired;
};

static void page_put(void *cls)
{
	struct page *p = cls;

	if (p && atomic_fetch_sub(&p->refs, 1) == 1) {
		free(p->text);
		free(p);
	}
}

/* No scrape can still be taking a retired page: drop their published refs. */
static void drop_retired(struct kp_http *h)
{
	while (h->nretired)
		page_put(h->retired[--h->nretired]);
}

int kp_http_publish(struct kp_http *h, char *buf, size_t len)
{
	struct page *p = malloc(sizeof(*p)), *old;

	if (!p) {
		free(buf);
		return -ENOMEM;
	}
	atomic_init(&p->refs, 1);
	p->len = len;
	p->text = buf;
	old = atomic_exchange(&h->page, p);
	if (old)
		h->retired[h->nretired++] = old;
	/* full only if scrapes overlapped several publishes back to back:
	 * then wait the few instructions of one page_get() */
	while (h->nretired == KP_HTTP_RETIRED && atomic_load(&h->readers))
		sched_yield();
	if (!atomic_load(&h->readers))
		drop_retired(h);
	return 0;
}

/* The published page, with a reference for the response; NULL if none. */
static struct page *page_get(struct kp_http *h)
{
	struct page *p;

	atomic_fetch_add(&h->readers, 1);
	p = atomic_load(&h->page);
	if (p)
		atomic_fetch_add(&p->refs, 1);
	atomic_fetch_sub(&h->readers, 1);
	return p;
}

static struct MHD_Response *published(struct kp_http *h)
{
	struct MHD_Response *r;
	struct page *p = page_get(h);

	if (!p)
		return NULL;
	r = MHD_create_response_from_buffer_with_free_callback_cls(
		p->len, p->text, page_put, p);
	if (!r)
		page_put(p);
	return r;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status,
			     const char *text)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(text), (void *)text,
					    MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "text/plain");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED) /* RFC 9110 15.5.6 */
		MHD_add_response_header(r, "Allow", "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/*
 * The server's thread runs below the sampling loop. A burst of scrapes
 * keeps it busy sending; at the loop's own weight it would hold a CPU the
 * loop's wake-up needs, and intervals would come late. Lowering one's own
 * priority needs no privilege. Once, in the thread libmicrohttpd started
 * (PRIO_PROCESS with 0 is the calling thread on Linux).
 */
static void yield_to_sampling(void)
{
	static __thread bool done;
	int prio;

	if (done)
		return;
	done = true;
	errno = 0;
	prio = getpriority(PRIO_PROCESS, 0);
	if (prio == -1 && errno)
		return;
	/* best effort: scrapes are still served at the loop's weight */
	(void)setpriority(PRIO_PROCESS, 0, prio + KP_HTTP_NICE);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
			      const char *url, const char *method,
			      const char *version, const char *data,
			      size_t *data_size, void **state)
{
	struct kp_http *h = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t len;
	char *buf;

	(void)version;
	(void)data;
	(void)data_size;
	(void)state;
	yield_to_sampling();
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED,
			     "only GET and HEAD\n");
	if (!strcmp(url, "/"))
		return reply(c, MHD_HTTP_OK, "kvmprobe: metrics at /metrics\n");
	if (strcmp(url, "/metrics"))
		return reply(c, MHD_HTTP_NOT_FOUND, "not found\n");
	if (!h->render) {
		r = published(h);
		if (!r)
			return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				     "no interval yet\n");
	} else if (h->render(h->arg, &buf, &len)) {
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
			     "failed to render metrics\n");
	} else {
		r = MHD_create_response_from_buffer(len, buf,
						    MHD_RESPMEM_MUST_FREE);
		if (!r) {
			free(buf);
			return MHD_NO;
		}
	}
	MHD_add_response_header(r, "Content-Type", CONTENT_TYPE);
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

int kp_http_bind(const char *where, char *err, size_t errlen)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl;
	char addr[128];
	uint16_t port;
	int fd, one = 1, e;

	if (kp_parse_listen(where, addr, sizeof(addr), &port)) {
		snprintf(err, errlen, "'%s' is not ADDR:PORT", where);
		return -EINVAL;
	}
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		sl = sizeof(*in4);
	} else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		sl = sizeof(*in6);
	} else {
		snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address",
			 addr);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto err;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 64)) {
		e = errno;
		close(fd);
		errno = e;
		goto err;
	}
	return fd;
err:
	e = errno;
	snprintf(err, errlen, "failed to listen on %s:%u: %s", addr, port,
		 strerror(e));
	return -e;
}

struct kp_http *kp_http_start_fd(int fd, kp_http_render_fn render, void *arg,
				 char *err, size_t errlen)
{
	struct kp_http *h = calloc(1, sizeof(*h));

	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->render = render;
	h->arg = arg;
	errno = 0;
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
				handle, h, MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT, 32U,
				MHD_OPTION_CONNECTION_TIMEOUT, 10U,
				MHD_OPTION_END);
	if (!h->d) {
		snprintf(err, errlen, "failed to start the HTTP server: %s",
			 errno ? strerror(errno) : "unknown error");
		free(h);
		return NULL;
	}
	return h;
}

struct kp_http *kp_http_start(const char *listen, kp_http_render_fn render,
			      void *arg, char *err, size_t errlen)
{
	struct kp_http *h;
	int fd = kp_http_bind(listen, err, errlen);

	if (fd < 0)
		return NULL;
	h = kp_http_start_fd(fd, render, arg, err, errlen);
	if (!h)
		close(fd);
	return h;
}

void kp_http_stop(struct kp_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d); /* no scrape runs after it */
	drop_retired(h);
	page_put(atomic_load(&h->page));
	free(h);
}
