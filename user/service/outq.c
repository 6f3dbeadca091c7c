// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
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
	int fd;
	bool reopen, stop, busy, exited, started;
	atomic_int error;
	atomic_uint_least64_t dropped;
};

static int open_out(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

static int write_all(int fd, const char *buf, size_t len)
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
	}
	return 0;
}

static void *writer(void *arg)
{
	struct kp_outq *q = arg;
	struct item it;
	int err, fd;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (!q->n && !q->stop && !q->reopen)
			pthread_cond_wait(&q->more, &q->lock);
		if (q->reopen && q->path) {
			q->reopen = false;
			pthread_mutex_unlock(&q->lock);
			fd = open_out(q->path);
			pthread_mutex_lock(&q->lock);
			if (fd < 0) {
				atomic_store(&q->error, -errno);
			} else {
				close(q->fd);
				q->fd = fd;
			}
		}
		q->reopen = false;
		if (!q->n) {
			pthread_cond_broadcast(&q->drained);
			if (q->stop)
				break;
			continue;
		}
		it = q->ring[q->head];
		q->head = (q->head + 1) % q->cap;
		q->n--;
		q->busy = true;
		pthread_mutex_unlock(&q->lock);
		/* close cancels a writer stuck in write(): free the record */
		pthread_cleanup_push(free, it.buf);
		err = atomic_load(&q->error) ? 0 : write_all(q->fd, it.buf,
							     it.len);
		pthread_cleanup_pop(1);
		pthread_mutex_lock(&q->lock);
		q->busy = false;
		if (err && !atomic_load(&q->error))
			atomic_store(&q->error, err);
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
	close(q->fd);
	free(q->path);
	free(q->ring);
	free(q);
	return err;
}
