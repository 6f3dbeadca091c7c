// SPDX-License-Identifier: GPL-2.0
#include <stdbool.h>
#include <string.h>
#include "user/core/schedcalc.h"

static uint64_t since(uint64_t stamp, uint64_t now)
{
	return stamp && now > stamp ? now - stamp : 0;
}

void kp_sched_flatten(const struct sched_stats *raw, uint64_t now,
		      struct kp_sched_flat *out)
{
	memset(out, 0, sizeof(*out));
	out->delay = raw->delay;
	out->ready_ns = raw->delay.sum + since(raw->wait_since, now);
	out->cpu_ns = raw->cpu_ns + since(raw->run_since, now);
	out->preemptions = raw->preemptions;
}

void kp_sched_delta(struct kp_sched_flat *prev,
		    const struct kp_sched_flat *cur,
		    struct kp_sched_flat *delta)
{
	const uint64_t *c = (const uint64_t *)cur;
	uint64_t *p = (uint64_t *)prev, *d = (uint64_t *)delta;
	size_t i;

	for (i = 0; i < sizeof(*cur) / sizeof(uint64_t); i++) {
		d[i] = c[i] > p[i] ? c[i] - p[i] : 0;
		if (c[i] > p[i])
			p[i] = c[i];
	}
}

size_t kp_top_n(const uint64_t *vals, size_t n, size_t k, size_t *out)
{
	size_t m = 0, i, j;

	for (i = 0; i < n; i++) {
		/* insertion into out[0..m), kept sorted, largest first */
		for (j = m; j > 0 && vals[out[j - 1]] < vals[i]; j--)
			if (j < k)
				out[j] = out[j - 1];
		if (j >= k)
			continue;
		out[j] = i;
		if (m < k)
			m++;
	}
	return m;
}
