// SPDX-License-Identifier: GPL-2.0
/* Host CPU busy from /proc/stat: see cpustat.h. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "user/probes/cpustat.h"

int kp_cpustat_parse(FILE *f, struct kp_cpustat *st)
{
	unsigned long long v[8];
	char line[512];
	bool seen = false, bol = true, at_bol;
	int n, i;

	memset(st, 0, sizeof(*st));
	while (fgets(line, sizeof(line), f)) {
		/* the rest of a line longer than the buffer ("intr") */
		at_bol = bol;
		bol = strchr(line, '\n') != NULL;
		if (!at_bol || strncmp(line, "cpu", 3))
			continue;
		if (line[3] >= '0' && line[3] <= '9') {
			st->ncpus++;
			continue;
		}
		if (line[3] != ' ' || seen)
			continue;
		memset(v, 0, sizeof(v));
		n = sscanf(line + 3, "%llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			   &v[7]);
		if (n < 4) /* user nice system idle: kernels since 2.4 */
			continue;
		for (i = 0; i < 8; i++)
			st->total += v[i];
		st->busy = st->total - v[3] - v[4];
		seen = true;
	}
	return seen ? 0 : -ENOENT;
}

int kp_cpustat_read(const char *proc_root, struct kp_cpustat *st)
{
	char path[512];
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "%s/stat", proc_root);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	err = kp_cpustat_parse(f, st);
	fclose(f);
	return err;
}

double kp_cpustat_busy_pct(const struct kp_cpustat *a,
			   const struct kp_cpustat *b)
{
	uint64_t dt, db;

	if (b->total <= a->total || b->busy < a->busy)
		return NAN;
	dt = b->total - a->total;
	db = b->busy - a->busy;
	if (db > dt)
		return NAN;
	return 100.0 * (double)db / (double)dt;
}
