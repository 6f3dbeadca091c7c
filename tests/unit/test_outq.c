// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for user/service/outq.c: the bounded output queue and its writer
 * thread. Outputs are files and FIFOs in a mkdtemp directory; a FIFO whose
 * reader does not read is the stuck sink (its pipe buffer is made one page
 * so a record larger than that blocks the writer), a FIFO whose reader is
 * closed is the closed stdout (EPIPE).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "user/service/outq.h"

#define PUSH_MAX_MS 50.0

static char dir[64];
static char path[128];

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A malloc'd copy of the formatted text; its length in *len. */
static char *rec(size_t *len, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	assert_true(n >= 0);
	*len = n;
	return s;
}

/* n bytes of c, malloc'd */
static char *blob(size_t n, char c)
{
	char *s = malloc(n);

	assert_non_null(s);
	memset(s, c, n);
	return s;
}

static int push_str(struct kp_outq *q, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	assert_true(n >= 0);
	return kp_outq_push(q, s, n);
}

/* The whole file, NUL-terminated; NULL when it does not exist. */
static char *slurp(const char *p, size_t *len)
{
	char *buf = NULL;
	size_t cap = 0, n = 0;
	ssize_t r;
	int fd = open(p, O_RDONLY);

	if (fd < 0)
		return NULL;
	for (;;) {
		if (cap - n < 4096) {
			cap = cap * 2 + 8192;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		r = read(fd, buf + n, cap - n - 1);
		assert_true(r >= 0);
		if (!r)
			break;
		n += r;
	}
	close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* Wait (at most ms) until the file holds exactly want. */
static bool file_becomes(const char *p, const char *want, unsigned int ms)
{
	double until = now_ms() + ms;
	bool ok;
	char *s;

	do {
		s = slurp(p, NULL);
		ok = s && !strcmp(s, want);
		free(s);
		if (ok)
			return true;
		sleep_ms(5);
	} while (now_ms() < until);
	return false;
}

/*
 * A FIFO at path with its read end open (non-blocking, so opening and
 * reading never block the test) and its pipe buffer one page. Returns the
 * read end; its capacity in *cap.
 */
static int fifo_reader(size_t *cap)
{
	int fd, sz;

	assert_int_equal(mkfifo(path, 0600), 0);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(fd >= 0);
	fcntl(fd, F_SETPIPE_SZ, 4096);
	sz = fcntl(fd, F_GETPIPE_SZ);
	assert_true(sz > 0);
	*cap = sz;
	return fd;
}

/* Wait (at most 3 s) until the pipe of rfd holds n bytes. */
static void pipe_fills(int rfd, size_t n)
{
	double until = now_ms() + 3000;
	int avail = 0;

	while (now_ms() < until) {
		assert_int_equal(ioctl(rfd, FIONREAD, &avail), 0);
		if ((size_t)avail >= n)
			return;
		sleep_ms(2);
	}
	fail_msg("the pipe holds %d bytes, not %zu: the writer never got "
		 "stuck", avail, n);
}

/* Read want bytes from the non-blocking rfd (at most ms). */
static size_t read_all(int rfd, char *buf, size_t want, unsigned int ms)
{
	double until = now_ms() + ms;
	struct pollfd pfd = { .fd = rfd, .events = POLLIN };
	size_t n = 0;
	ssize_t r;

	while (n < want && now_ms() < until) {
		poll(&pfd, 1, 50);
		r = read(rfd, buf + n, want - n);
		if (r > 0)
			n += r;
		else if (r == 0)
			sleep_ms(5); /* no writer yet, or gone */
		else if (errno != EAGAIN)
			fail_msg("read: %s", strerror(errno));
	}
	return n;
}

/* A reader that starts draining the FIFO after a delay. */
struct drainer {
	pthread_t t;
	int fd;
	unsigned int delay_ms;
	char *buf;
	size_t want, got;
};

static void *drain(void *arg)
{
	struct drainer *d = arg;
	struct pollfd pfd = { .fd = d->fd, .events = POLLIN };
	double until;
	ssize_t r;

	sleep_ms(d->delay_ms);
	until = now_ms() + 5000;
	while (d->got < d->want && now_ms() < until) {
		poll(&pfd, 1, 50);
		r = read(d->fd, d->buf + d->got, d->want - d->got);
		if (r > 0)
			d->got += r;
		else if (r == 0)
			break; /* the writer closed */
	}
	return NULL;
}

static void rm_dir(void)
{
	char cmd[128];

	if (!dir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		print_message("could not remove %s\n", dir);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/kp_outq.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/out.ndjson", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rm_dir();
	dir[0] = '\0';
	return 0;
}

/* ---- writing ---- */

static void outq_push__records__are_written_to_the_file_in_order(
	void **state)
{
	struct kp_outq *q = kp_outq_new(path, 2048);
	size_t n = 0, len, i;
	char *want = NULL, *got;

	(void)state;
	assert_non_null(q);
	for (i = 0; i < 1000; i++) {
		char *r = rec(&len, "{\"record\":%zu}\n", i);

		want = realloc(want, n + len + 1);
		memcpy(want + n, r, len + 1);
		n += len;
		assert_int_equal(kp_outq_push(q, r, len), 0);
	}
	assert_int_equal(kp_outq_close(q, 2000), 0);
	got = slurp(path, &len);
	assert_non_null(got);
	assert_int_equal(len, n);
	assert_string_equal(got, want);
	free(got);
	free(want);
}

static void outq_new__existing_file__is_appended_to(void **state)
{
	struct kp_outq *q;
	FILE *f = fopen(path, "w");
	char *got;

	(void)state;
	assert_non_null(f);
	fputs("before\n", f);
	fclose(f);
	q = kp_outq_new(path, 8);
	assert_non_null(q);
	assert_int_equal(push_str(q, "after\n"), 0);
	assert_int_equal(kp_outq_close(q, 2000), 0);
	got = slurp(path, NULL);
	assert_string_equal(got, "before\nafter\n");
	free(got);
}

static void outq_new__directory_missing__is_null_with_errno(void **state)
{
	char bad[160];

	(void)state;
	snprintf(bad, sizeof(bad), "%s/no/such/dir/out", dir);
	errno = 0;
	assert_null(kp_outq_new(bad, 8));
	assert_int_equal(errno, ENOENT);
}

/* ---- a stuck sink ---- */

static void outq_push__queue_full__drops_the_newest_and_counts(void **state)
{
	size_t cap, big, want_len, i, got;
	struct kp_outq *q;
	char *want, *buf;
	int rfd;

	(void)state;
	rfd = fifo_reader(&cap);
	q = kp_outq_new(path, 4);
	assert_non_null(q);
	/* record 0 is larger than the pipe: the writer blocks inside it */
	big = 4 * cap;
	assert_int_equal(kp_outq_push(q, blob(big, 'A'), big), 0);
	pipe_fills(rfd, cap);
	for (i = 1; i <= 4; i++)
		assert_int_equal(push_str(q, "kept %zu\n", i), 0);
	for (i = 5; i <= 9; i++)
		assert_int_equal(push_str(q, "dropped %zu\n", i), -ENOBUFS);
	assert_int_equal(kp_outq_dropped(q), 5);
	assert_int_equal(kp_outq_error(q), 0);

	/* the reader catches up: record 0, then the four kept, in order */
	want_len = big + 4 * strlen("kept N\n");
	want = malloc(want_len + 1);
	memset(want, 'A', big);
	strcpy(want + big, "kept 1\nkept 2\nkept 3\nkept 4\n");
	buf = calloc(1, want_len + 64);
	got = read_all(rfd, buf, want_len, 3000);
	assert_int_equal(got, want_len);
	assert_memory_equal(buf, want, want_len);
	sleep_ms(50); /* and nothing after them */
	assert_int_equal(read(rfd, buf, 64), -1);
	assert_int_equal(errno, EAGAIN);
	/* room again */
	assert_int_equal(push_str(q, "later\n"), 0);
	assert_int_equal(kp_outq_close(q, 2000), 0);
	assert_int_equal(read_all(rfd, buf, 6, 2000), 6);
	assert_memory_equal(buf, "later\n", 6);
	free(want);
	free(buf);
	close(rfd);
}

static void outq_push__writer_stuck__never_blocks(void **state)
{
	double t, worst = 0, total;
	size_t cap, big, i;
	struct kp_outq *q;
	int rfd, err;

	(void)state;
	rfd = fifo_reader(&cap);
	q = kp_outq_new(path, 16);
	assert_non_null(q);
	big = 4 * cap;
	assert_int_equal(kp_outq_push(q, blob(big, 'A'), big), 0);
	pipe_fills(rfd, cap);
	total = now_ms();
	for (i = 0; i < 2000; i++) {
		t = now_ms();
		err = push_str(q, "{\"record\":%zu}\n", i);
		t = now_ms() - t;
		if (t > worst)
			worst = t;
		assert_true(err == 0 || err == -ENOBUFS);
	}
	total = now_ms() - total;
	print_message("2000 pushes to a stuck writer: %.3f ms, the slowest "
		      "%.3f ms\n", total, worst);
	if (worst >= PUSH_MAX_MS)
		fail_msg("a push took %.1f ms", worst);
	assert_int_equal(kp_outq_dropped(q), 2000 - 16);
	kp_outq_close(q, 100);
	close(rfd);
}

static void outq_close__writer_stuck__returns_within_the_timeout(
	void **state)
{
	size_t cap, big, i;
	struct kp_outq *q;
	double t;
	int rfd;

	(void)state;
	rfd = fifo_reader(&cap);
	q = kp_outq_new(path, 8);
	assert_non_null(q);
	big = 4 * cap;
	assert_int_equal(kp_outq_push(q, blob(big, 'A'), big), 0);
	pipe_fills(rfd, cap);
	for (i = 0; i < 4; i++)
		assert_int_equal(push_str(q, "queued %zu\n", i), 0);
	t = now_ms();
	kp_outq_close(q, 300);
	t = now_ms() - t;
	print_message("close with a stuck writer, timeout 300 ms: %.1f ms\n",
		      t);
	assert_true(t >= 250);
	assert_true(t < 1000);
	close(rfd);
}

struct closer {
	struct kp_outq *q;
	int timeout_ms;
	atomic_bool done;
};

static void *close_in_thread(void *arg)
{
	struct closer *c = arg;

	kp_outq_close(c->q, c->timeout_ms);
	atomic_store(&c->done, true);
	return NULL;
}

static void outq_close__writer_stuck_reopening__returns_within_the_timeout(
	void **state)
{
	struct closer c = { .timeout_ms = 300 };
	double until, t;
	pthread_t th;
	size_t cap;
	int rfd;

	(void)state;
	rfd = fifo_reader(&cap);
	c.q = kp_outq_new(path, 8);
	assert_non_null(c.q);
	close(rfd);
	/* reopening a FIFO nobody reads blocks in open(): a stuck writer
	 * with an empty queue */
	kp_outq_reopen(c.q);
	sleep_ms(50);
	t = now_ms();
	assert_int_equal(pthread_create(&th, NULL, close_in_thread, &c), 0);
	until = t + 2000;
	while (!atomic_load(&c.done) && now_ms() < until)
		sleep_ms(5);
	t = now_ms() - t;
	if (!atomic_load(&c.done)) {
		/* a reader lets the writer's open() return, then close ends */
		rfd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		pthread_join(th, NULL);
		close(rfd);
		fail_msg("close with the writer stuck in a reopen, timeout "
			 "300 ms, had not returned after %.0f ms", t);
	}
	pthread_join(th, NULL);
	print_message("close with the writer stuck reopening, timeout 300 ms: "
		      "%.1f ms\n", t);
}

/* ---- close ---- */

static void outq_close__queued_records__are_flushed_to_a_slow_reader(
	void **state)
{
	struct drainer d = { 0 };
	size_t cap, big, i, n;
	struct kp_outq *q;
	char *want;

	(void)state;
	d.fd = fifo_reader(&cap);
	q = kp_outq_new(path, 64);
	assert_non_null(q);
	big = 4 * cap;
	want = malloc(big + 64 * 16);
	memset(want, 'A', big);
	n = big;
	assert_int_equal(kp_outq_push(q, blob(big, 'A'), big), 0);
	pipe_fills(d.fd, cap);
	for (i = 0; i < 50; i++) {
		n += sprintf(want + n, "rec %02zu\n", i);
		assert_int_equal(push_str(q, "rec %02zu\n", i), 0);
	}
	d.delay_ms = 100;
	d.want = n;
	d.buf = calloc(1, n + 1);
	assert_int_equal(pthread_create(&d.t, NULL, drain, &d), 0);
	assert_int_equal(kp_outq_close(q, 2000), 0);
	pthread_join(d.t, NULL);
	assert_int_equal(d.got, n);
	assert_memory_equal(d.buf, want, n);
	free(d.buf);
	free(want);
	close(d.fd);
}

static void outq_close__queue_drains__returns_without_waiting_out_the_timeout(
	void **state)
{
	struct drainer d = { 0 };
	size_t cap, big, i;
	struct kp_outq *q;
	double t;

	(void)state;
	d.fd = fifo_reader(&cap);
	q = kp_outq_new(path, 64);
	assert_non_null(q);
	big = 4 * cap;
	assert_int_equal(kp_outq_push(q, blob(big, 'A'), big), 0);
	pipe_fills(d.fd, cap);
	for (i = 0; i < 10; i++)
		assert_int_equal(push_str(q, "rec %02zu\n", i), 0);
	d.delay_ms = 100;
	d.want = big + 10 * 7;
	d.buf = calloc(1, d.want + 1);
	assert_int_equal(pthread_create(&d.t, NULL, drain, &d), 0);
	t = now_ms();
	assert_int_equal(kp_outq_close(q, 4000), 0);
	t = now_ms() - t;
	pthread_join(d.t, NULL);
	assert_int_equal(d.got, d.want);
	print_message("close, reader drains after 100 ms, timeout 4000 ms: "
		      "%.1f ms\n", t);
	if (t > 1500)
		fail_msg("close took %.0f ms: it waited out the timeout after "
			 "the queue had drained", t);
	free(d.buf);
	close(d.fd);
}

static void outq_close__fast_file__flushes_everything_quickly(void **state)
{
	struct kp_outq *q = kp_outq_new(path, 512);
	size_t len, i;
	char *got;
	double t;

	(void)state;
	assert_non_null(q);
	for (i = 0; i < 500; i++)
		assert_int_equal(push_str(q, "%03zu\n", i), 0);
	t = now_ms();
	assert_int_equal(kp_outq_close(q, 2000), 0);
	t = now_ms() - t;
	got = slurp(path, &len);
	assert_int_equal(len, 500 * 4);
	for (i = 0; i < 500; i++) {
		char want[8];

		snprintf(want, sizeof(want), "%03zu\n", i);
		assert_memory_equal(got + 4 * i, want, 4);
	}
	free(got);
	if (t > 1500)
		fail_msg("close took %.0f ms to flush 500 lines to a file", t);
}

static void outq_close__null__is_a_no_op(void **state)
{
	(void)state;
	assert_int_equal(kp_outq_close(NULL, 10), 0);
}

static void *close_later(void *arg)
{
	sleep_ms(100);
	close(*(int *)arg);
	return NULL;
}

static void outq_close__reader_goes_away_while_closing__returns_epipe_soon(
	void **state)
{
	size_t cap, big, i;
	struct kp_outq *q;
	pthread_t t;
	double ms;
	int rfd;

	(void)state;
	rfd = fifo_reader(&cap);
	q = kp_outq_new(path, 64);
	assert_non_null(q);
	big = 4 * cap;
	assert_int_equal(kp_outq_push(q, blob(big, 'A'), big), 0);
	pipe_fills(rfd, cap);
	for (i = 0; i < 10; i++)
		assert_int_equal(push_str(q, "rec %02zu\n", i), 0);
	assert_int_equal(pthread_create(&t, NULL, close_later, &rfd), 0);
	ms = now_ms();
	assert_int_equal(kp_outq_close(q, 4000), -EPIPE);
	ms = now_ms() - ms;
	pthread_join(t, NULL);
	print_message("close, reader closed after 100 ms, timeout 4000 ms: "
		      "%.1f ms\n", ms);
	if (ms > 1500)
		fail_msg("close took %.0f ms: it waited out the timeout after "
			 "the error", ms);
}

/* ---- reopen ---- */

static void outq_reopen__after_rename__new_records_go_to_a_new_file(
	void **state)
{
	struct kp_outq *q = kp_outq_new(path, 64);
	char rotated[160], *got;

	(void)state;
	assert_non_null(q);
	assert_int_equal(push_str(q, "old 1\n"), 0);
	assert_int_equal(push_str(q, "old 2\n"), 0);
	assert_true(file_becomes(path, "old 1\nold 2\n", 3000));
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	assert_int_equal(rename(path, rotated), 0);
	kp_outq_reopen(q);
	assert_int_equal(push_str(q, "new 1\n"), 0);
	assert_int_equal(push_str(q, "new 2\n"), 0);
	assert_int_equal(kp_outq_close(q, 2000), 0);
	got = slurp(rotated, NULL);
	assert_string_equal(got, "old 1\nold 2\n");
	free(got);
	got = slurp(path, NULL);
	assert_non_null(got);
	assert_string_equal(got, "new 1\nnew 2\n");
	free(got);
}

static void outq_reopen__twice__each_rotation_gets_its_records(void **state)
{
	struct kp_outq *q = kp_outq_new(path, 64);
	char r1[160], r2[160], *got;

	(void)state;
	assert_non_null(q);
	snprintf(r1, sizeof(r1), "%s.1", path);
	snprintf(r2, sizeof(r2), "%s.2", path);
	assert_int_equal(push_str(q, "a\n"), 0);
	assert_true(file_becomes(path, "a\n", 3000));
	assert_int_equal(rename(path, r2), 0);
	kp_outq_reopen(q);
	assert_int_equal(push_str(q, "b\n"), 0);
	assert_true(file_becomes(path, "b\n", 3000));
	assert_int_equal(rename(path, r1), 0);
	kp_outq_reopen(q);
	assert_int_equal(push_str(q, "c\n"), 0);
	assert_int_equal(kp_outq_close(q, 2000), 0);
	got = slurp(r2, NULL);
	assert_string_equal(got, "a\n");
	free(got);
	got = slurp(r1, NULL);
	assert_string_equal(got, "b\n");
	free(got);
	got = slurp(path, NULL);
	assert_string_equal(got, "c\n");
	free(got);
}

/* Wait (at most 3 s) until the queue's status satisfies cond. */
#define status_becomes(q, st, cond)                                        \
	do {                                                               \
		double until_ = now_ms() + 3000;                           \
		do {                                                       \
			kp_outq_status((q), &(st));                        \
			if (cond)                                          \
				break;                                     \
			sleep_ms(2);                                       \
		} while (now_ms() < until_);                               \
		if (!(cond))                                               \
			fail_msg("status never became %s", #cond);         \
	} while (0)

static void outq_reopen__path_now_a_directory__stops_counts_and_resumes(
	void **state)
{
	struct kp_outq *q = kp_outq_new(path, 8);
	struct kp_outq_status st;
	char rotated[160], *got;

	(void)state;
	assert_non_null(q);
	kp_outq_status(q, &st);
	assert_int_equal(st.error, 0);
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	assert_int_equal(rename(path, rotated), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	kp_outq_reopen(q);
	status_becomes(q, st, st.error == -EISDIR);
	/* not sticky: pushes go on, the records are dropped and counted */
	assert_int_equal(push_str(q, "lost 1\n"), 0);
	assert_int_equal(push_str(q, "lost 2\n"), 0);
	status_becomes(q, st, st.lost == 2);
	assert_int_equal(st.error, -EISDIR);
	assert_int_equal(kp_outq_dropped(q), 2);
	assert_int_equal(kp_outq_error(q), 0);
	kp_outq_hold(q, strdup("stopped\n"), strlen("stopped\n"));
	/* the path can be opened again: the next record reopens it, the
	 * held one first */
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(push_str(q, "back\n"), 0);
	assert_true(file_becomes(path, "stopped\nback\n", 3000));
	status_becomes(q, st, st.error == 0);
	assert_int_equal(st.lost, 2);
	assert_int_equal(st.dropped, 2);
	assert_int_equal(kp_outq_close(q, 1000), 0);
	got = slurp(rotated, NULL);
	assert_string_equal(got, "");
	free(got);
}

/*
 * A full disk, without root: RLIMIT_FSIZE makes a write past the limit
 * short and the next one fail with EFBIG, as ENOSPC does on a full
 * filesystem. Only whole records stay in the file.
 */
static void outq_write__file_full__drops_whole_records_then_resumes(
	void **state)
{
	struct rlimit old, lim;
	struct kp_outq_status st;
	struct kp_outq *q;
	char *got, *want;
	size_t len;

	(void)state;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	q = kp_outq_new(path, 64);
	assert_non_null(q);
	assert_int_equal(push_str(q, "%s\n", "0123456789"), 0); /* 11 bytes */
	assert_true(file_becomes(path, "0123456789\n", 3000));
	lim = old;
	lim.rlim_cur = 16; /* the next 11-byte record fits only in part */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(push_str(q, "%s\n", "abcdefghij"), 0);
	status_becomes(q, st, st.error == -EFBIG);
	assert_int_equal(push_str(q, "%s\n", "klmnopqrst"), 0);
	status_becomes(q, st, st.lost == 2);
	got = slurp(path, &len);
	assert_string_equal(got, "0123456789\n"); /* no torn line */
	free(got);
	kp_outq_hold(q, strdup("stopped\n"), strlen("stopped\n"));
	/* space returns: writing resumes by itself with the next record */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(push_str(q, "%s\n", "uvwxyz0123"), 0);
	want = "0123456789\nstopped\nuvwxyz0123\n";
	assert_true(file_becomes(path, want, 3000));
	status_becomes(q, st, st.error == 0);
	assert_int_equal(kp_outq_dropped(q), 2);
	assert_int_equal(kp_outq_close(q, 1000), 0);
}

static void outq_close__while_writing_is_stopped__returns_why(void **state)
{
	struct kp_outq_status st;
	struct kp_outq *q = kp_outq_new(path, 8);

	(void)state;
	assert_non_null(q);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	kp_outq_reopen(q);
	status_becomes(q, st, st.error == -EISDIR);
	assert_int_equal(push_str(q, "stop record\n"), 0);
	/* the last records were lost: close says so */
	assert_int_equal(kp_outq_close(q, 1000), -EISDIR);
}

/* ---- EPIPE ---- */

static void outq_error__reader_closed__is_epipe_and_push_returns_it(
	void **state)
{
	struct kp_outq *q;
	double until;
	size_t cap;
	int rfd;

	(void)state;
	rfd = fifo_reader(&cap);
	q = kp_outq_new(path, 8);
	assert_non_null(q);
	close(rfd); /* the reader goes away: writes fail with EPIPE */
	assert_int_equal(push_str(q, "first\n"), 0);
	until = now_ms() + 3000;
	while (!kp_outq_error(q) && now_ms() < until)
		sleep_ms(2);
	assert_int_equal(kp_outq_error(q), -EPIPE);
	/* sticky: every later push reports it, nothing is counted dropped */
	assert_int_equal(push_str(q, "second\n"), -EPIPE);
	assert_int_equal(push_str(q, "third\n"), -EPIPE);
	assert_int_equal(kp_outq_dropped(q), 0);
	assert_int_equal(kp_outq_close(q, 1000), -EPIPE);
}

static void outq_close__after_epipe__returns_at_once(void **state)
{
	struct kp_outq *q;
	double until, t;
	size_t cap, i;
	int rfd;

	(void)state;
	rfd = fifo_reader(&cap);
	q = kp_outq_new(path, 64);
	assert_non_null(q);
	close(rfd);
	for (i = 0; i < 20; i++)
		push_str(q, "line %zu\n", i);
	until = now_ms() + 3000;
	while (!kp_outq_error(q) && now_ms() < until)
		sleep_ms(2);
	t = now_ms();
	assert_int_equal(kp_outq_close(q, 3000), -EPIPE);
	t = now_ms() - t;
	assert_true(t < 1000);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(outq_push__records__are_written_to_the_file_in_order),
		T(outq_new__existing_file__is_appended_to),
		T(outq_new__directory_missing__is_null_with_errno),
		T(outq_push__queue_full__drops_the_newest_and_counts),
		T(outq_push__writer_stuck__never_blocks),
		T(outq_close__writer_stuck__returns_within_the_timeout),
		T(outq_close__writer_stuck_reopening__returns_within_the_timeout),
		T(outq_close__queued_records__are_flushed_to_a_slow_reader),
		T(outq_close__queue_drains__returns_without_waiting_out_the_timeout),
		T(outq_close__fast_file__flushes_everything_quickly),
		T(outq_close__reader_goes_away_while_closing__returns_epipe_soon),
		T(outq_close__null__is_a_no_op),
		T(outq_reopen__after_rename__new_records_go_to_a_new_file),
		T(outq_reopen__twice__each_rotation_gets_its_records),
		T(outq_reopen__path_now_a_directory__stops_counts_and_resumes),
		T(outq_write__file_full__drops_whole_records_then_resumes),
		T(outq_close__while_writing_is_stopped__returns_why),
		T(outq_error__reader_closed__is_epipe_and_push_returns_it),
		T(outq_close__after_epipe__returns_at_once),
	};

	/* a closed reader must be an error, not a signal */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
