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
#define KP_MAX_DOMAINS 256
#define KP_DOMAIN_ARG_MAX 256
#define KP_CONNECT_DEFAULT "qemu:///system"
#define KP_SCHED_DUTY_DEFAULT 0.2
#define KP_SCHED_TRIGGER_DEFAULT 5.0

/* Exit statuses, documented in the README and --help. */
enum kp_exit {
	KP_EXIT_OK = 0,
	KP_EXIT_FAILURE = 1,   /* runtime error: output, BPF load, ... */
	KP_EXIT_USAGE = 2,     /* bad flags or configuration */
	KP_EXIT_NOPROBE = 3,   /* nothing could attach: privileges or kernel */
};

enum kp_format { KP_FMT_TEXT, KP_FMT_JSON };

/* kvmprobe top: the full-screen view */
enum kp_top_mode {
	KP_TOP_AUTO, /* when stdout is a terminal and no -f, -o, --config */
	KP_TOP_ON,   /* `kvmprobe top` */
	KP_TOP_OFF,  /* --no-top: the scrolling text */
};

enum kp_attach {
	KP_ATTACH_AUTO,       /* tp_btf where the kernel has them */
	KP_ATTACH_BTF,        /* only tp_btf */
	KP_ATTACH_CLASSIC,    /* only tracefs tracepoints (raw_tp where a probe
			       * has no tracefs flavour) */
};

struct kp_opts {
	double interval_s;
	uint64_t count;       /* 0: run until signalled */
	enum kp_format format;
	const char *output;   /* NULL: stdout */
	uint32_t pids[KP_MAX_PIDS];
	size_t npids;
	const char *domains[KP_MAX_DOMAINS]; /* -d: libvirt names or UUIDs */
	size_t ndomains;
	const char *connect;  /* libvirt URI (default KP_CONNECT_DEFAULT) */
	uint32_t probes;      /* bit i: probe i of the table is wanted */
	bool per_vcpu;
	bool hist;
	int verbose;
	enum kp_attach attach;
	uint32_t map_entries;
	double sched_duty;        /* share of time of the per-event tier */
	double sched_trigger_pct; /* a vCPU's ready that keeps it on; 0: off */
	bool help;
	bool version;
	bool list_metrics;
	const char *config;   /* --config FILE: service mode */
	const char *listen;   /* --listen ADDR:PORT: Prometheus endpoint */
	bool syslog;          /* alert events to syslog too */
	bool format_set;      /* -f was given */
	enum kp_top_mode top;
	const char *replay;   /* --replay FILE: browse a recording */
};

/*
 * Parse argv into o. probe_names lists the probes of the probe table, in
 * order. Returns 0, or -EINVAL with a one-line reason in err.
 */
int kp_cli_parse(int argc, char **argv, struct kp_opts *o,
		 const char *const *probe_names, size_t nprobes, char *err,
		 size_t errlen);

/*
 * Split "ADDR:PORT", "[V6ADDR]:PORT", ":PORT" or "PORT" (address
 * 127.0.0.1). addr and port may be NULL (validation only). 0 or -EINVAL.
 */
int kp_parse_listen(const char *s, char *addr, size_t addrlen,
		    uint16_t *port);

/* The defaults, then argv on top: kp_cli_defaults + kp_cli_apply. */
void kp_cli_defaults(struct kp_opts *o, size_t nprobes);
/*
 * Apply argv to o without resetting it (a config file's options first,
 * then the command line). Strings in o point into argv.
 */
int kp_cli_apply(int argc, char **argv, struct kp_opts *o,
		 const char *const *probe_names, size_t nprobes, char *err,
		 size_t errlen);

/* Whether long option name takes a value (1), is a flag (0), or -ENOENT. */
int kp_cli_option_kind(const char *name);
/* The name of the parser's long option i ("interval"), NULL past the last. */
const char *kp_cli_long_option(size_t i);

const char *kp_cli_usage(void);

#endif /* KP_CLI_H */
