// SPDX-License-Identifier: GPL-2.0
/*
 * kp-ticker: the machine's own timer floor, measured beside kvmprobe.
 *
 * usage: kp-ticker INTERVAL_MS SECONDS THREADS
 *
 * THREADS threads each wake every INTERVAL_MS on absolute CLOCK_MONOTONIC
 * deadlines for SECONDS, as kvmprobe's sampling loop does, and do nothing
 * else. Each wake prints "<realtime s> <lateness ms>". What they are late
 * by is the platform's (a paravirtual guest's timer, steal, idle exit),
 * not any program's: a test compares kvmprobe's lateness with it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS 16

static long interval_ns;
static long rounds;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void ts_add(struct timespec *t, long ns)
{
	t->tv_nsec += ns;
	while (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

static void *tick(void *arg)
{
	struct timespec d, now, real;
	long i, late;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &d);
	for (i = 0; i < rounds; i++) {
		ts_add(&d, interval_ns);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &d,
				       NULL) == EINTR)
			;
		clock_gettime(CLOCK_MONOTONIC, &now);
		clock_gettime(CLOCK_REALTIME, &real);
		late = (now.tv_sec - d.tv_sec) * 1000000000L +
		       (now.tv_nsec - d.tv_nsec);
		pthread_mutex_lock(&out_lock);
		printf("%ld.%06ld %.3f\n", (long)real.tv_sec,
		       real.tv_nsec / 1000, late / 1e6);
		pthread_mutex_unlock(&out_lock);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[MAX_THREADS];
	long ms, secs, n, i;
	int err;

	if (argc != 4) {
		fprintf(stderr, "usage: kp-ticker INTERVAL_MS SECONDS THREADS\n");
		return 2;
	}
	ms = strtol(argv[1], NULL, 10);
	secs = strtol(argv[2], NULL, 10);
	n = strtol(argv[3], NULL, 10);
	if (ms <= 0 || secs <= 0 || n <= 0 || n > MAX_THREADS) {
		fprintf(stderr, "kp-ticker: bad arguments\n");
		return 2;
	}
	interval_ns = ms * 1000000L;
	rounds = secs * 1000 / ms;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < n; i++) {
		err = pthread_create(&th[i], NULL, tick, NULL);
		if (err) {
			fprintf(stderr, "kp-ticker: failed to start a thread: %s\n",
				strerror(err));
			return 1;
		}
	}
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	return 0;
}
