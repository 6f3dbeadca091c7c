/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The /metrics endpoint, served by libmicrohttpd from its own thread: a
 * scrape never runs on the sampling path, and a slow client only holds its
 * own connection.
 */
#ifndef KP_HTTP_H
#define KP_HTTP_H

#include <stddef.h>

struct kp_http;

/*
 * Render the exposition text: *buf malloc'd, or return -errno. NULL: the
 * server serves the text last given to kp_http_publish instead (503
 * before the first one).
 */
typedef int (*kp_http_render_fn)(void *arg, char **buf, size_t *len);

/*
 * Listen on "ADDR:PORT" (see kp_parse_listen). Returns NULL with a reason
 * in err (port in use, bad address, ...).
 */
struct kp_http *kp_http_start(const char *listen, kp_http_render_fn render,
			      void *arg, char *err, size_t errlen);
/*
 * The same in two steps: bind the socket (while still privileged, before
 * kvmprobe drops capabilities), then start serving it from a new thread.
 * kp_http_bind returns the socket or -errno with the reason in err.
 */
int kp_http_bind(const char *listen, char *err, size_t errlen);
struct kp_http *kp_http_start_fd(int fd, kp_http_render_fn render, void *arg,
				 char *err, size_t errlen);
/*
 * Serve buf (malloc'd, len bytes, taken over) from now on. Scrapes being
 * sent keep the text they started with (reference-counted); the lock
 * shared with them is held for a pointer swap only, so a publisher never
 * waits for a scrape. 0 or -ENOMEM (buf freed).
 */
int kp_http_publish(struct kp_http *h, char *buf, size_t len);
void kp_http_stop(struct kp_http *h);

#endif /* KP_HTTP_H */
