// SPDX-License-Identifier: GPL-2.0
/*
 * The /metrics server's request path: libmicrohttpd parsing the request
 * and kvmprobe's handler routing it. One server on a loopback port for the
 * whole run; each input is sent on a new connection as the raw request
 * bytes, then the write side is shut and the reply read to its end.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "tests/fuzz/fuzz.h"
#include "user/service/http.h"

#define BODY "# TYPE kvmprobe_intervals_total counter\n" \
	     "kvmprobe_intervals_total 7\n"

static struct sockaddr_in addr;

static int render(void *arg, char **buf, size_t *len)
{
	(void)arg;
	*buf = strdup(BODY);
	if (!*buf)
		return -ENOMEM;
	*len = strlen(BODY);
	return 0;
}

static int start(void)
{
	socklen_t sl = sizeof(addr);
	struct kp_http *h;
	char err[256];
	int fd;

	signal(SIGPIPE, SIG_IGN);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(fd, 64) ||
	    getsockname(fd, (struct sockaddr *)&addr, &sl))
		return -1;
	/* lives for the whole run: the fuzzer exits without a stop */
	h = kp_http_start_fd(fd, render, NULL, err, sizeof(err));
	if (!h) {
		fprintf(stderr, "fuzz_http: %s\n", err);
		return -1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int started;
	struct timeval tv = { .tv_sec = 5 };
	char buf[4096];
	size_t off = 0;
	ssize_t n;
	int fd;

	if (!started) {
		if (start())
			abort();
		started = 1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		abort();
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
		abort(); /* the server stopped listening */
	while (off < size) {
		n = send(fd, data + off, size - off, MSG_NOSIGNAL);
		if (n <= 0)
			break; /* the server may close early on a bad request */
		off += n;
	}
	shutdown(fd, SHUT_WR);
	do
		n = recv(fd, buf, sizeof(buf), 0);
	while (n > 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		abort(); /* no reply and no close within 5 s: the server hangs */
	close(fd);
	return 0;
}
