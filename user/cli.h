/* SPDX-License-Identifier: GPL-2.0 */
/* Command-line parsing into struct kp_opts. Pure: no I/O, no exit(). */
#ifndef KP_CLI_H
#define KP_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KP_MAX_PIDS 1024 /* size of the BPF pid filter map */
#define KP_MAP_ENTRIES_DEFAULT 16384
#define KP_MAP_ENTRIES_MIN 256
#define KP_MAP_ENTRIES_MAX (1U << 20)

/* Exit statuses, documented in the README and --help. */
enum kp_exit {
	KP_EXIT_OK = 0,
	KP_EXIT_FAILURE = 1,   /* runtime error: output, BPF load, ... */
	KP_EXIT_USAGE = 2,     /* bad flags or configuration */
	KP_EXIT_NOPROBE = 3,   /* nothing could attach: privileges or kernel */
};

enum kp_format { KP_FMT_TEXT, KP_FMT_JSON };

enum kp_attach {
	KP_ATTACH_AUTO,       /* tp_btf/fentry where the kernel has them */
	KP_ATTACH_BTF,        /* only tp_btf/fentry */
	KP_ATTACH_CLASSIC,    /* only tracefs tracepoints and kprobes */
};

struct kp_opts {
	double interval_s;
	uint64_t count;       /* 0: run until signalled */
	enum kp_format format;
	const char *output;   /* NULL: stdout */
	uint32_t pids[KP_MAX_PIDS];
	size_t npids;
	uint32_t probes;      /* bit i: probe i of the table is wanted */
	bool per_vcpu;
	bool hist;
	int verbose;
	enum kp_attach attach;
	uint32_t map_entries;
	bool help;
	bool version;
	bool list_metrics;
};

/*
 * Parse argv into o. probe_names lists the probes of the probe table, in
 * order. Returns 0, or -EINVAL with a one-line reason in err.
 */
int kp_cli_parse(int argc, char **argv, struct kp_opts *o,
		 const char *const *probe_names, size_t nprobes, char *err,
		 size_t errlen);

const char *kp_cli_usage(void);

#endif /* KP_CLI_H */
