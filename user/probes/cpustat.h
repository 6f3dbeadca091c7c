/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host CPU busy, kernel-counter tier: the aggregate "cpu" line of
 * /proc/stat (USER_HZ ticks of all CPUs since boot: user nice system idle
 * iowait irq softirq steal guest guest_nice). total is the sum of the
 * first eight (guest time is in user and nice already), busy is total -
 * idle - iowait; ncpus counts the "cpuN" lines. Over an interval, busy
 * as a percentage of all CPUs' time: 100 * dbusy / dtotal. No libbpf.
 */
#ifndef KP_CPUSTAT_H
#define KP_CPUSTAT_H

#include <stdint.h>
#include <stdio.h>

struct kp_cpustat {
	uint64_t total, busy; /* ticks */
	unsigned int ncpus;
};

/* /proc/stat text into st. 0, or -ENOENT when it has no "cpu" line. */
int kp_cpustat_parse(FILE *f, struct kp_cpustat *st);
/* <proc_root>/stat into st. 0 or -errno. */
int kp_cpustat_read(const char *proc_root, struct kp_cpustat *st);
/* Busy percent of all CPUs' time from a to b (later); NAN when no tick
 * passed or a counter went back. */
double kp_cpustat_busy_pct(const struct kp_cpustat *a,
			   const struct kp_cpustat *b);

#endif /* KP_CPUSTAT_H */
