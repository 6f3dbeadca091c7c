/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The probe table. A probe (exits, sched, block, net) is one entry: it
 * knows its skeleton, how to probe kernel support, how to attach, and how to
 * read and decode its maps into an interval. main.c only walks the table.
 */
#ifndef KP_PROBE_H
#define KP_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include "user/core/cli.h"
#include "user/probes/ksupport.h"
#include "user/core/record.h"

struct kp_resolver;

#define KP_PROBE_MAX_PROGS 16
/* room for the probe table (probes.c asserts it fits; --probes is a mask) */
#define KP_PROBE_MAX 8
#define KP_REASON_MAX 160

/* One program of a probe: how it attached, or why it did not. */
struct kp_prog_status {
	const char *name;        /* the event: "kvm_exit", ... */
	const char *how;         /* "tp_btf", "tracepoint", ...; NULL: missing */
	char reason[KP_REASON_MAX];
};

struct kp_probe_status {
	const char *name;
	bool attached;           /* at least one program attached */
	char reason[KP_REASON_MAX]; /* why not, when !attached */
	struct kp_prog_status progs[KP_PROBE_MAX_PROGS];
	size_t nprogs;
};

struct kp_probe_env {
	const struct kp_opts *opts;
	struct kp_ksupport *ks;
	const char *proc_root;   /* "/proc" */
	struct kp_resolver *resolver; /* its identity table: who holds a
				       * device (net with --pid); may be NULL */
};

struct kp_probe {
	const char *name;
	/*
	 * Open, configure, load and attach. Fills st; returns 0 when at least
	 * one program attached, else -errno (st->reason says why).
	 */
	int (*start)(const struct kp_probe_env *env, void **state,
		     struct kp_probe_status *st);
	/*
	 * Optional: start the probe's own threads. Called once, after
	 * kvmprobe dropped its privileges: capabilities are per thread, and a
	 * thread started before the drop would keep them all. 0 or -errno.
	 */
	int (*run)(void *state);
	/* Read the maps and add this interval's deltas to iv. 0 or -errno. */
	int (*read)(void *state, struct kp_interval *iv);
	void (*stop)(void *state);
};

extern const struct kp_probe *const kp_probe_table[];
extern const size_t kp_probe_count;

#endif /* KP_PROBE_H */
