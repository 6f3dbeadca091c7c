// SPDX-License-Identifier: GPL-2.0
/*
 * The /metrics server's request path: libmicrohttpd parsing the request
 * and kvmprobe's handler routing it. One server on a loopback port for the
 * whole run; each input is sent on a new connection as the raw request
 * bytes, then the write side is shut and the reply read to its end.
 *
 * libFuzzer's -timeout raises SIGALRM every timeout / 2 + 1 seconds, and
 * a call on a socket with a timeout set is never restarted after a signal
 * (signal(7)): every call here takes EINTR as "again" (an interrupted
 * connect() goes on in the kernel: wait for its end).
 * Blocking SIGALRM here instead would lose libFuzzer's own timeout: the
 * alarm would go to another thread, where libFuzzer ignores it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
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
	sigset_t alrm, old;
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
	/*
	 * lives for the whole run: the fuzzer exits without a stop. Its
	 * thread starts with SIGALRM blocked, so that libFuzzer's alarm goes
	 * to a thread that can take it.
	 */
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alrm, &old);
	h = kp_http_start_fd(fd, render, NULL, err, sizeof(err));
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!h) {
		fprintf(stderr, "fuzz_http: %s\n", err);
		return -1;
	}
	return 0;
}

/* a connect() interrupted by a signal: wait for the handshake's end */
static int connect_wait(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err, r;

	do
		r = poll(&p, 1, 5000);
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		if (!r)
			errno = ETIMEDOUT;
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return -1;
	errno = err;
	return err ? -1 : 0;
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
	 * Each (client, server) pair stays in TIME_WAIT for a minute on the
	 * side that closed first (mostly this one, which shuts its write
	 * side first): hundreds of thousands of connections would exhaust
	 * the client ports of one address. Each connection comes
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
		if (errno == EINTR && !connect_wait(fd))
			break;
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
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the server may close early on a bad request */
		off += n;
	}
	shutdown(fd, SHUT_WR);
	do
		n = recv(fd, buf, sizeof(buf), 0);
	while (n > 0 || (n < 0 && errno == EINTR));
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		abort(); /* no reply and no close within 5 s: the server hangs */
	/* a pair not yet in TIME_WAIT: reset rather than keep one */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	return 0;
}
