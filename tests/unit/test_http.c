// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for user/service/http.c: the /metrics endpoint on loopback, fetched
 * with raw HTTP/1.0 requests over a socket (no client library between the
 * test and the bytes). kp_parse_listen takes ports 1..65535 only, so a free
 * port is found by binding port 0 first.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "user/service/http.h"

#define BODY "# HELP kvmprobe_intervals_total Intervals.\n" \
	     "# TYPE kvmprobe_intervals_total counter\n"    \
	     "kvmprobe_intervals_total 7\n"

/* ---- the render callback ---- */

static const char *render_text = BODY;
static size_t render_len;   /* 0: strlen(render_text) */
static int render_err;
static atomic_int render_calls;

static int render(void *arg, char **buf, size_t *len)
{
	size_t n = render_len ? render_len : strlen(render_text);

	assert_ptr_equal(arg, &render_text);
	atomic_fetch_add(&render_calls, 1);
	if (render_err)
		return render_err;
	*buf = malloc(n ? n : 1);
	if (!*buf)
		return -ENOMEM;
	memcpy(*buf, render_text, n);
	*len = n;
	return 0;
}

/* ---- sockets ---- */

/* A port nothing listens on now (bound to port 0, read back, closed). */
static uint16_t free_port(int family)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl = sizeof(ss);
	uint16_t port;
	int fd = socket(family, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	ss.ss_family = family;
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_addr = in6addr_loopback;
		sl = sizeof(*in6);
	}
	if (bind(fd, (struct sockaddr *)&ss, sl)) {
		close(fd);
		return 0;
	}
	sl = sizeof(ss);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
	port = ntohs(family == AF_INET ?
			     ((struct sockaddr_in *)&ss)->sin_port :
			     ((struct sockaddr_in6 *)&ss)->sin6_port);
	close(fd);
	return port;
}

struct resp {
	int status;
	char head[4096];   /* status line and headers */
	char *body;
	size_t blen;
};

static void resp_free(struct resp *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* Send req as is to port on addr, read the whole reply (HTTP/1.0). */
static void request(int family, uint16_t port, const char *req,
		    struct resp *r)
{
	struct timeval tv = { .tv_sec = 5 };
	struct sockaddr_storage ss = { 0 };
	char *all = NULL, *sep;
	size_t n = 0, cap = 0;
	socklen_t sl;
	ssize_t k;
	int fd;

	memset(r, 0, sizeof(*r));
	fd = socket(family, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	ss.ss_family = family;
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		in->sin_port = htons(port);
		sl = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_addr = in6addr_loopback;
		in6->sin6_port = htons(port);
		sl = sizeof(*in6);
	}
	if (connect(fd, (struct sockaddr *)&ss, sl))
		fail_msg("connect to port %u: %s", port, strerror(errno));
	assert_int_equal(send(fd, req, strlen(req), MSG_NOSIGNAL),
			 (ssize_t)strlen(req));
	for (;;) {
		if (cap - n < 65536) {
			cap = cap * 2 + 131072;
			all = realloc(all, cap);
			assert_non_null(all);
		}
		k = recv(fd, all + n, cap - n - 1, 0);
		if (k < 0)
			fail_msg("recv: %s (no reply in 5 s?)",
				 strerror(errno));
		if (!k)
			break;
		n += k;
	}
	close(fd);
	all[n] = '\0';
	sep = strstr(all, "\r\n\r\n");
	if (!sep)
		fail_msg("no end of headers in %zu bytes: '%.200s'", n, all);
	if ((size_t)(sep - all) >= sizeof(r->head))
		fail_msg("headers too long");
	memcpy(r->head, all, sep - all);
	r->head[sep - all] = '\0';
	if (sscanf(r->head, "HTTP/1.%*d %d ", &r->status) != 1)
		fail_msg("no status line: '%.100s'", r->head);
	r->blen = n - (sep + 4 - all);
	r->body = malloc(r->blen + 1);
	memcpy(r->body, sep + 4, r->blen);
	r->body[r->blen] = '\0';
	free(all);
}

static void get(uint16_t port, const char *method, const char *url,
		struct resp *r)
{
	char req[512];

	snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: localhost\r\n"
		 "\r\n", method, url);
	request(AF_INET, port, req, r);
}

/* The value of header name (case-insensitive), or NULL. */
static const char *header(const struct resp *r, const char *name,
			  char *buf, size_t len)
{
	const char *l = strstr(r->head, "\r\n");
	size_t n = strlen(name);

	while (l) {
		const char *end;

		l += 2;
		end = strstr(l, "\r\n");
		if (!strncasecmp(l, name, n) && l[n] == ':') {
			const char *v = l + n + 1;
			size_t vl;

			while (*v == ' ')
				v++;
			vl = end ? (size_t)(end - v) : strlen(v);
			snprintf(buf, len, "%.*s", (int)vl, v);
			return buf;
		}
		l = end;
	}
	return NULL;
}

/* ---- the server under test ---- */

static struct kp_http *h;
static uint16_t port;

static struct kp_http *start_at(const char *addr, int family, uint16_t *p)
{
	char listen[128], err[256];
	struct kp_http *s;
	int tries;

	/* another process may take the free port first: try again */
	for (tries = 0; tries < 5; tries++) {
		*p = free_port(family);
		if (!*p)
			return NULL;
		snprintf(listen, sizeof(listen), "%s:%u", addr, *p);
		err[0] = '\0';
		s = kp_http_start(listen, render, &render_text, err,
				  sizeof(err));
		if (s)
			return s;
		print_message("kp_http_start(%s): %s\n", listen, err);
	}
	fail_msg("could not start on a free port");
	return NULL;
}

static int setup(void **state)
{
	(void)state;
	render_text = BODY;
	render_len = 0;
	render_err = 0;
	atomic_store(&render_calls, 0);
	h = start_at("127.0.0.1", AF_INET, &port);
	return h ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	kp_http_stop(h);
	h = NULL;
	return 0;
}

/* ---- /metrics ---- */

static void http_metrics__get__200_exposition_type_and_the_rendered_body(
	void **state)
{
	struct resp r;
	char v[256];

	(void)state;
	get(port, "GET", "/metrics", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(header(&r, "Content-Type", v, sizeof(v)));
	if (strncmp(v, "text/plain; version=0.0.4", 25))
		fail_msg("Content-Type '%s'", v);
	assert_int_equal(r.blen, strlen(BODY));
	assert_string_equal(r.body, BODY);
	assert_int_equal(atomic_load(&render_calls), 1);
	resp_free(&r);
}

static void http_metrics__each_scrape__renders_afresh(void **state)
{
	struct resp r;
	int i;

	(void)state;
	for (i = 0; i < 20; i++) {
		get(port, "GET", "/metrics", &r);
		assert_int_equal(r.status, 200);
		assert_string_equal(r.body, BODY);
		resp_free(&r);
	}
	assert_int_equal(atomic_load(&render_calls), 20);
}

static void http_metrics__large_body__arrives_whole(void **state)
{
	size_t n = 8 << 20, i;
	char *big = malloc(n);
	struct resp r;

	(void)state;
	for (i = 0; i < n; i++)
		big[i] = i % 64 == 63 ? '\n' : 'a' + i % 26;
	render_text = big;
	render_len = n;
	get(port, "GET", "/metrics", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.blen, n);
	assert_memory_equal(r.body, big, n);
	resp_free(&r);
	free(big);
}

static void http_metrics__head__200_without_a_body(void **state)
{
	struct resp r;

	(void)state;
	get(port, "HEAD", "/metrics", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.blen, 0);
	resp_free(&r);
}

static void http_metrics__render_error__500(void **state)
{
	struct resp r;

	(void)state;
	render_err = -ENOMEM;
	get(port, "GET", "/metrics", &r);
	assert_int_equal(r.status, 500);
	assert_int_equal(atomic_load(&render_calls), 1);
	assert_null(strstr(r.body, "kvmprobe_intervals_total"));
	resp_free(&r);
	/* and the next scrape works again */
	render_err = 0;
	get(port, "GET", "/metrics", &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
}

/* ---- other paths and methods ---- */

static void http_root__get__200(void **state)
{
	struct resp r;

	(void)state;
	get(port, "GET", "/", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "/metrics"));
	assert_int_equal(atomic_load(&render_calls), 0);
	resp_free(&r);
}

static void http_other_path__get__404(void **state)
{
	static const char *const urls[] = { "/other", "/metrics/", "/metricsx",
					    "/favicon.ico" };
	struct resp r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		get(port, "GET", urls[i], &r);
		if (r.status != 404)
			fail_msg("GET %s: %d", urls[i], r.status);
		resp_free(&r);
	}
	assert_int_equal(atomic_load(&render_calls), 0);
}

static void http_metrics__post__405(void **state)
{
	struct resp r;

	(void)state;
	request(AF_INET, port,
		"POST /metrics HTTP/1.0\r\nHost: localhost\r\n"
		"Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
		&r);
	assert_int_equal(r.status, 405);
	assert_int_equal(atomic_load(&render_calls), 0);
	resp_free(&r);
	get(port, "PUT", "/metrics", &r);
	assert_int_equal(r.status, 405);
	resp_free(&r);
	get(port, "DELETE", "/", &r);
	assert_int_equal(r.status, 405);
	resp_free(&r);
}

static void http_metrics__post__405_names_the_allowed_methods(void **state)
{
	struct resp r;
	char v[128];

	(void)state;
	/* RFC 9110 15.5.6: a 405 MUST carry Allow */
	get(port, "POST", "/metrics", &r);
	assert_int_equal(r.status, 405);
	if (!header(&r, "Allow", v, sizeof(v)))
		fail_msg("405 without an Allow header:\n%s", r.head);
	assert_non_null(strstr(v, "GET"));
	resp_free(&r);
}

/* ---- start and stop ---- */

static void http_start__bad_listen_address__null_with_a_message(void **state)
{
	static const char *const bad[] = {
		"", "nonsense", "127.0.0.1:", "127.0.0.1:0",
		"127.0.0.1:65536", "127.0.0.1:99x", "300.1.2.3:9100",
		"not.an.address:9100", "[::1:9100", "[]:9100",
	};
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (kp_http_start(bad[i], render, &render_text, err,
				  sizeof(err)))
			fail_msg("'%s' was accepted", bad[i]);
		if (!err[0])
			fail_msg("'%s': no message", bad[i]);
		print_message("'%s': %s\n", bad[i], err);
	}
}

static void http_start__port_in_use__null_with_a_message_naming_it(
	void **state)
{
	char listen[64], err[256];
	struct kp_http *other;

	(void)state;
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	err[0] = '\0';
	other = kp_http_start(listen, render, &render_text, err, sizeof(err));
	if (other) {
		kp_http_stop(other);
		fail_msg("a second server on %s started", listen);
	}
	print_message("%s\n", err);
	if (!strstr(err, listen))
		fail_msg("'%s' does not name %s", err, listen);
}

static void http_start__port_held_by_another_socket__null_with_a_message(
	void **state)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	char where[64], err[256];
	socklen_t sl = sizeof(in);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&in, sizeof(in)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&in, &sl), 0);
	snprintf(where, sizeof(where), "127.0.0.1:%u", ntohs(in.sin_port));
	err[0] = '\0';
	assert_null(kp_http_start(where, render, &render_text, err,
				  sizeof(err)));
	close(fd);
	print_message("%s\n", err);
	if (!strstr(err, where))
		fail_msg("'%s' does not name %s", err, where);
}

static void http_stop__then_start_on_the_same_port__serves_again(
	void **state)
{
	char listen[64], err[256];
	struct resp r;

	(void)state;
	kp_http_stop(h);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	h = kp_http_start(listen, render, &render_text, err, sizeof(err));
	if (!h)
		fail_msg("restart on %s: %s", listen, err);
	get(port, "GET", "/metrics", &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
}

static void http_stop__null__is_a_no_op(void **state)
{
	(void)state;
	kp_http_stop(NULL);
}

static void http_start__ipv6_loopback__serves_metrics(void **state)
{
	struct kp_http *h6;
	uint16_t p6;
	struct resp r;

	(void)state;
	h6 = start_at("[::1]", AF_INET6, &p6);
	if (!h6) {
		print_message("SKIP: no IPv6 loopback here\n");
		skip();
	}
	request(AF_INET6, p6, "GET /metrics HTTP/1.0\r\n\r\n", &r);
	kp_http_stop(h6);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, BODY);
	resp_free(&r);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(http_metrics__get__200_exposition_type_and_the_rendered_body),
		T(http_metrics__each_scrape__renders_afresh),
		T(http_metrics__large_body__arrives_whole),
		T(http_metrics__head__200_without_a_body),
		T(http_metrics__render_error__500),
		T(http_root__get__200),
		T(http_other_path__get__404),
		T(http_metrics__post__405),
		T(http_metrics__post__405_names_the_allowed_methods),
		T(http_start__bad_listen_address__null_with_a_message),
		T(http_start__port_in_use__null_with_a_message_naming_it),
		T(http_start__port_held_by_another_socket__null_with_a_message),
		T(http_stop__then_start_on_the_same_port__serves_again),
		T(http_stop__null__is_a_no_op),
		T(http_start__ipv6_loopback__serves_metrics),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
