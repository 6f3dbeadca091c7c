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
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	static uint32_t nconn;
	struct sockaddr_in src = { 0 };
	int tries;
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
	/*
	 * The server closes first and keeps each (client, server) pair in
	 * TIME_WAIT for a minute: hundreds of thousands of connections would
	 * exhaust the client ports of one address. Each connection comes
	 * from another address of 127.0.0.0/8.
	 */
	src.sin_family = AF_INET;
	src.sin_addr.s_addr = htonl(0x7f010000u | (nconn++ & 0xffff));
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)))
		abort();
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/*
	 * Hundreds of thousands of connections: a client port can run out
	 * for a moment (EADDRNOTAVAIL); only a refusal means the server
	 * stopped listening.
	 */
	for (tries = 0; connect(fd, (struct sockaddr *)&addr, sizeof(addr));
	     tries++) {
		if ((errno != EADDRNOTAVAIL && errno != EAGAIN) ||
		    tries == 200) {
			fprintf(stderr, "fuzz_http: connect: %s\n",
				strerror(errno));
			abort();
		}
		usleep(10000);
	}
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
	/* the server closed first; reset rather than keep a TIME_WAIT port */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	return 0;
}
