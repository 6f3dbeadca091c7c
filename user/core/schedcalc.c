// SPDX-License-Identifier: GPL-2.0
#include <stdbool.h>
#include <string.h>
#include "user/core/schedcalc.h"

static uint64_t above(uint64_t v, uint64_t base)
{
	return v > base ? v - base : 0;
}

void kp_sched_flatten(const struct sched_reading *r,
		      const struct kp_hist *delay, struct kp_sched_flat *out)
{
	memset(out, 0, sizeof(*out));
	out->delay = *delay;
	out->ready_ns = above(r->run_delay, r->base_delay);
	out->cpu_ns = above(r->exec, r->base_exec);
	out->preemptions = above(r->nivcsw, r->base_nivcsw);
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

bool kp_sched_duty_on(double duty, unsigned int tick, unsigned int ticks)
{
	unsigned int on;

	if (duty <= 0 || !ticks)
		return false;
	if (duty >= 1)
		return true;
	on = (unsigned int)(duty * ticks + 0.5);
	if (!on)
		on = 1; /* a duty above 0 runs at least a tick a period */
	return tick % ticks < on;
}

bool kp_sched_triggered(uint64_t ready_ns, uint64_t interval_ns,
			double trigger_pct)
{
	return trigger_pct > 0 && interval_ns &&
	       ready_ns * 100.0 >= trigger_pct * (double)interval_ns;
}
