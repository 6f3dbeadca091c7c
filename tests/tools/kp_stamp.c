// SPDX-License-Identifier: GPL-2.0
/*
 * kp-stamp: when each record reaches a file, by the wall clock.
 *
 * usage: kp-stamp FILE PREFIX SECONDS
 *
 * Follows FILE (inotify, from its current end) for SECONDS and prints
 * "<realtime s>" for each whole line that starts with PREFIX, at the
 * moment the line arrived: what a reader of the records sees, which the
 * records' own timestamps (taken when an interval begins) cannot show.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES (4 << 20)

static double now_real(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* Consume whole lines of buf[0..*len), keep the partial tail. */
static void lines(char *buf, size_t *len, const char *prefix, double at)
{
	size_t plen = strlen(prefix), start = 0, i;

	for (i = 0; i < *len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i - start >= plen && !memcmp(buf + start, prefix, plen))
			printf("%.6f\n", at);
		start = i + 1;
	}
	memmove(buf, buf + start, *len - start);
	*len -= start;
}

int main(int argc, char **argv)
{
	size_t len = 0;
	double until;
	int fd, in;
	ssize_t n;
	char *buf;

	if (argc != 4) {
		fprintf(stderr, "usage: kp-stamp FILE PREFIX SECONDS\n");
		return 2;
	}
	buf = malloc(LINE_MAX_BYTES);
	fd = open(argv[1], O_RDONLY);
	in = inotify_init1(IN_CLOEXEC);
	if (!buf || fd < 0 || in < 0 ||
	    inotify_add_watch(in, argv[1], IN_MODIFY) < 0) {
		fprintf(stderr, "kp-stamp: failed to follow %s: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	lseek(fd, 0, SEEK_END);
	setvbuf(stdout, NULL, _IOLBF, 0);
	until = now_real() + atof(argv[3]);
	while (now_real() < until) {
		struct pollfd p = { .fd = in, .events = POLLIN };
		char ev[4096];

		if (poll(&p, 1, 100) <= 0)
			continue;
		if (read(in, ev, sizeof(ev)) < 0)
			break;
		while ((n = read(fd, buf + len, LINE_MAX_BYTES - len)) > 0) {
			len += n;
			lines(buf, &len, argv[2], now_real());
			if (len == LINE_MAX_BYTES)
				len = 0; /* a line longer than the buffer */
		}
	}
	free(buf);
	return 0;
}
