// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include "user/service/outq.h"

struct item {
	char *buf;
	size_t len;
};

struct kp_outq {
	pthread_mutex_t lock;
	pthread_cond_t more, drained;
	pthread_t writer;
	struct item *ring;
	size_t cap, head, n;
	char *path;            /* NULL: stdout */
	int fd;                /* -1 after a failed reopen (writer's own) */
	bool append;           /* fd has O_APPEND */
	bool torn;             /* a partial record could not be taken back */
	bool reopen, stop, busy, exited, started;
	struct item held;      /* written first once writing works */
	int fail;              /* why writing stopped, 0: writing (locked) */
	struct timespec fail_since;
	uint64_t lost;         /* dropped since it stopped (locked) */
	size_t max_len;        /* the largest record so far (writer's) */
	atomic_int error;      /* sticky: -EPIPE */
	atomic_uint_least64_t dropped;
};

static int open_out(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

static int write_all(int fd, const char *buf, size_t len, size_t *done)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= n;
		*done += n;
	}
	return 0;
}

static void set_fd(struct kp_outq *q, int fd)
{
	int fl = fcntl(fd, F_GETFL);

	q->fd = fd;
	q->append = fl >= 0 && (fl & O_APPEND);
	q->torn = false;
}

/*
 * Write one record whole or not at all. A regular file is truncated back
 * to where the record began when only part of it went out (ENOSPC after a
 * short write); elsewhere (a pipe, a tty) the next record starts with a
 * newline, so it never continues the torn line.
 */
static int write_whole(struct kp_outq *q, const char *buf, size_t len)
{
	struct stat st;
	off_t off = -1;
	size_t done = 0;
	int err;

	if (!fstat(q->fd, &st) && S_ISREG(st.st_mode))
		off = q->append ? st.st_size : lseek(q->fd, 0, SEEK_CUR);
	if (q->torn) {
		err = write_all(q->fd, "\n", 1, &done);
		if (err)
			return err;
		q->torn = false;
		if (off >= 0)
			off++;
	}
	done = 0;
	err = write_all(q->fd, buf, len, &done);
	if (!err || !done)
		return err;
	if (off < 0 || ftruncate(q->fd, off) ||
	    (!q->append && lseek(q->fd, off, SEEK_SET) < 0))
		q->torn = true;
	return err;
}

/*
 * After ENOSPC, whether there is room again: twice the largest record and
 * a page, so that a nearly full disk, where one small record fits between
 * two that do not, is not reported as resumed and stopped over and over.
 */
static bool room(struct kp_outq *q, size_t max_len)
{
	struct statvfs sv;

	if (fstatvfs(q->fd, &sv))
		return true; /* cannot tell: try */
	return (uint64_t)sv.f_bavail * sv.f_frsize >= 2 * max_len + 4096;
}

/*
 * The held record (if any), then it; opening the path again if need be.
 * fail: why writing stopped, 0 while it works.
 */
static int put(struct kp_outq *q, struct item *held, const struct item *it,
	       int fail)
{
	int fd, err;

	if (q->fd < 0) {
		fd = open_out(q->path);
		if (fd < 0)
			return -errno;
		set_fd(q, fd);
	}
	if (it->len + held->len > q->max_len)
		q->max_len = it->len + held->len;
	if (fail == -ENOSPC && !room(q, q->max_len))
		return fail;
	if (held->buf) {
		err = write_whole(q, held->buf, held->len);
		if (err)
			return err;
		free(held->buf);
		held->buf = NULL;
	}
	return write_whole(q, it->buf, it->len);
}

/* Locked: writing stopped with err (kept: the first error of a stop). */
static void failed(struct kp_outq *q, int err)
{
	if (err == -EPIPE) { /* the reader went away: final */
		atomic_store(&q->error, err);
		return;
	}
	if (!q->fail) {
		q->fail = err;
		q->lost = 0;
		clock_gettime(CLOCK_REALTIME, &q->fail_since);
	}
}

/* Locked: a held record that was not written goes back, unless replaced. */
static void unhold(struct kp_outq *q, struct item *held)
{
	if (held->buf && !q->held.buf)
		q->held = *held;
	else
		free(held->buf);
	held->buf = NULL;
}

struct in_flight {
	struct item it, held;
};

static void free_in_flight(void *arg)
{
	struct in_flight *f = arg;

	free(f->it.buf);
	free(f->held.buf);
}

static void *writer(void *arg)
{
	struct kp_outq *q = arg;
	struct in_flight f;
	int err, fd, fail;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (!q->n && !q->stop && !q->reopen)
			pthread_cond_wait(&q->more, &q->lock);
		if (q->reopen && q->path) {
			q->reopen = false;
			pthread_mutex_unlock(&q->lock);
			fd = open_out(q->path);
			err = fd < 0 ? -errno : 0;
			if (q->fd >= 0) /* a failed reopen: retried per record */
				close(q->fd);
			q->fd = -1;
			if (fd >= 0)
				set_fd(q, fd);
			pthread_mutex_lock(&q->lock);
			if (err)
				failed(q, err);
		}
		q->reopen = false;
		if (!q->n) {
			pthread_cond_broadcast(&q->drained);
			if (q->stop)
				break;
			continue;
		}
		f.it = q->ring[q->head];
		f.held = q->held;
		q->held.buf = NULL;
		q->head = (q->head + 1) % q->cap;
		q->n--;
		q->busy = true;
		fail = q->fail;
		pthread_mutex_unlock(&q->lock);
		/* close cancels a writer stuck in write(): free the records */
		pthread_cleanup_push(free_in_flight, &f);
		err = atomic_load(&q->error) ? 0 : put(q, &f.held, &f.it, fail);
		free(f.it.buf);
		f.it.buf = NULL;
		pthread_cleanup_pop(0);
		pthread_mutex_lock(&q->lock);
		q->busy = false;
		unhold(q, &f.held);
		if (err) {
			failed(q, err);
			if (err != -EPIPE) { /* after EPIPE nothing is wanted */
				atomic_fetch_add(&q->dropped, 1);
				q->lost++;
			}
		} else if (!atomic_load(&q->error)) {
			q->fail = 0; /* written: writing works (again) */
		}
		/* kp_outq_close waits for an empty queue or an error */
		if (!q->n || atomic_load(&q->error))
			pthread_cond_broadcast(&q->drained);
	}
	q->exited = true;
	pthread_cond_broadcast(&q->drained);
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

struct kp_outq *kp_outq_new(const char *path, size_t max_records)
{
	struct kp_outq *q = calloc(1, sizeof(*q));
	int err;

	if (!q)
		return NULL;
	q->cap = max_records ? max_records : KP_OUTQ_DEFAULT;
	q->ring = calloc(q->cap, sizeof(*q->ring));
	if (!q->ring)
		goto err_free;
	q->path = path ? strdup(path) : NULL;
	if (path && !q->path)
		goto err_free;
	q->fd = path ? open_out(path) : dup(STDOUT_FILENO);
	if (q->fd < 0)
		goto err_free;
	set_fd(q, q->fd);
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->more, NULL);
	pthread_cond_init(&q->drained, NULL);
	return q;

err_free:
	err = errno;
	free(q->path);
	free(q->ring);
	free(q);
	errno = err;
	return NULL;
}

/*
 * The writer starts with the first record or reopen: after kvmprobe
 * dropped its privileges (threads keep the capabilities they start with).
 */
static int start_locked(struct kp_outq *q)
{
	int err;

	if (q->started)
		return 0;
	err = pthread_create(&q->writer, NULL, writer, q);
	if (err)
		return -err;
	q->started = true;
	return 0;
}

int kp_outq_push(struct kp_outq *q, char *buf, size_t len)
{
	int err = atomic_load(&q->error);

	if (err) {
		free(buf);
		return err;
	}
	pthread_mutex_lock(&q->lock);
	err = start_locked(q);
	if (err) {
		pthread_mutex_unlock(&q->lock);
		free(buf);
		return err;
	}
	if (q->n == q->cap) {
		pthread_mutex_unlock(&q->lock);
		free(buf);
		atomic_fetch_add(&q->dropped, 1);
		return -ENOBUFS;
	}
	q->ring[(q->head + q->n) % q->cap] = (struct item){ buf, len };
	q->n++;
	pthread_cond_signal(&q->more);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

void kp_outq_hold(struct kp_outq *q, char *buf, size_t len)
{
	pthread_mutex_lock(&q->lock);
	free(q->held.buf);
	q->held = (struct item){ buf, len };
	pthread_mutex_unlock(&q->lock);
}

void kp_outq_status(struct kp_outq *q, struct kp_outq_status *st)
{
	pthread_mutex_lock(&q->lock);
	st->error = q->fail;
	st->since = q->fail_since;
	st->lost = q->lost;
	pthread_mutex_unlock(&q->lock);
	st->dropped = atomic_load(&q->dropped);
}

void kp_outq_reopen(struct kp_outq *q)
{
	pthread_mutex_lock(&q->lock);
	if (start_locked(q))
		atomic_store(&q->error, -EAGAIN);
	q->reopen = true;
	pthread_cond_signal(&q->more);
	pthread_mutex_unlock(&q->lock);
}

uint64_t kp_outq_dropped(const struct kp_outq *q)
{
	return atomic_load(&((struct kp_outq *)q)->dropped);
}

int kp_outq_error(const struct kp_outq *q)
{
	return atomic_load(&((struct kp_outq *)q)->error);
}

int kp_outq_close(struct kp_outq *q, int timeout_ms)
{
	struct timespec until;
	bool stuck;
	int err;

	if (!q)
		return 0;
	if (!q->started) {
		close(q->fd);
		free(q->held.buf);
		free(q->path);
		free(q->ring);
		free(q);
		return 0;
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&q->lock);
	while ((q->n || q->busy) && !atomic_load(&q->error))
		if (pthread_cond_timedwait(&q->drained, &q->lock, &until))
			break;
	q->stop = true;
	pthread_cond_signal(&q->more);
	/* the writer may be stuck in write() or in a reopen's open() */
	while (!q->exited)
		if (pthread_cond_timedwait(&q->drained, &q->lock, &until))
			break;
	stuck = !q->exited;
	pthread_mutex_unlock(&q->lock);
	if (stuck) /* a stuck reader: give up on what is left */
		pthread_cancel(q->writer);
	pthread_join(q->writer, NULL);
	while (q->n) {
		free(q->ring[q->head].buf);
		q->head = (q->head + 1) % q->cap;
		q->n--;
	}
	err = atomic_load(&q->error);
	if (!err && !stuck)
		err = q->fail; /* the last records could not be written */
	if (q->fd >= 0)
		close(q->fd);
	free(q->held.buf);
	free(q->path);
	free(q->ring);
	free(q);
	return err;
}
