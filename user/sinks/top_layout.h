/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pure part of `kvmprobe top`: a frame (one interval) built from the
 * NDJSON records the json sink wrote for it (docs/output.md), so the view
 * shows exactly the numbers of the records; the tables of each view
 * (columns, filter, sort, expanded vCPUs), column widths for a terminal
 * width, and cell formatting. No I/O, no curses.
 */
#ifndef KP_TOP_LAYOUT_H
#define KP_TOP_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#define KP_TOP_STR 48
#define KP_TOP_MAXCOLS 12

struct kp_top_vcpu {
	int index; /* -1 when unknown */
	uint32_t tid;
	double used, rdy, preempt_s, exits_s, uexits_s; /* NAN: absent */
	double halts_s, pfail;
	double uwait, ublk; /* userspace exits waiting, blocked: % of time */
	char neighbour[KP_TOP_STR];
};

struct kp_top_disk {
	char dev[32], target[32];
	double r_iops, w_iops, r_mbs, w_mbs, q99, d99, t99;
};

struct kp_top_nic {
	char dev[32];
	double rx_pps, tx_pps, rx_mbps, tx_mbps, drp_pct, dlv99;
	char drop[KP_TOP_STR];
};

struct kp_top_vm {
	uint32_t pid; /* 0: the host record (disks and taps of no process) */
	char name[64]; /* the domain, else the process name */
	double used, rdy, maxrdy, preempt_s;
	char neighbour[KP_TOP_STR];
	double exits_s, uexits_s, exit_p99, vmm_p99;
	double halts_s, pfail; /* halts/s, poll_fail_pct; NAN: absent */
	double uwait, ublk; /* userspace exits waiting, blocked: % of the
			     * interval, as %USED; NAN: no split */
	char top_exits[KP_TOP_STR], top_uexits[KP_TOP_STR];
	double bal_cur, bal_max, rss, swin, swout, majflt;
	struct kp_top_vcpu *vcpus;
	size_t nvcpus;
	struct kp_top_disk *disks;
	size_t ndisks;
	struct kp_top_nic *nics;
	size_t nnics;
};

struct kp_top_alert {
	char rule[KP_TOP_STR], severity[16], who[64], metric[32];
	int vcpu; /* -1: VM scope */
	uint32_t pid;
	double value, threshold; /* value NAN: the VM went away */
	bool firing;
	double since, changed; /* epoch seconds: started, last state change */
};

struct kp_top_alerts {
	struct kp_top_alert *v;
	size_t n, cap;
};

struct kp_top_frame {
	char ts[32]; /* RFC 3339 of the interval's end */
	double t;    /* the same, epoch seconds */
	double interval_s;
	struct kp_top_vm *vms;
	size_t nvms, cap;
	uint64_t lost, dropped;
	double cpu_pct;       /* host CPU busy of all CPUs' time, NAN */
	unsigned int ncpus;   /* 0: not in the record */
	double sched_events_pct; /* the sched per-event tier's share, NAN */
	bool complete; /* its "interval" record was seen */
	size_t nalerts; /* alert records that came with this interval */
	size_t nfiring; /* of which firing */
};

/*
 * Add one record of the stream to frame f ("vm", "host", "interval"; other
 * types are ignored) and alert records to the alert table a (which may be
 * NULL). Returns 0, -EINVAL for a record that is not an object with a
 * type, or -ENOMEM.
 */
int kp_top_frame_add(struct kp_top_frame *f, struct kp_top_alerts *a,
		     struct json_object *rec);
void kp_top_frame_clear(struct kp_top_frame *f);
void kp_top_alerts_clear(struct kp_top_alerts *a);
/* Firing alerts in a, and the worst (critical > warning > info, then the
 * oldest) in *worst (NULL when none fire). */
size_t kp_top_alerts_firing(const struct kp_top_alerts *a,
			    const struct kp_top_alert **worst);
/* "2026-11-22T10:00:01.000Z" as epoch seconds, or NAN */
double kp_top_parse_ts(const char *s);

enum kp_top_view {
	KP_VIEW_CPU,
	KP_VIEW_EXITS,
	KP_VIEW_DISK,
	KP_VIEW_NET,
	KP_VIEW_MEM,
	KP_VIEW_ALERTS,
	KP_VIEW__COUNT,
};

/* The view of key c ('c', 'x', 'd', 'n', 'm', 'a'), or -1. */
int kp_top_view_of_key(int c);
const char *kp_top_view_name(enum kp_top_view v);

struct kp_top_col {
	const char *title;
	int width;     /* minimum width; the flexible column may grow */
	int prec;      /* decimals of a number */
	bool text;     /* a text cell, left aligned */
	bool flex;     /* takes the width left over (one per view) */
};

struct kp_top_cell {
	double v;              /* a number; NAN shows "-" */
	char s[KP_TOP_STR];    /* a text cell */
};

struct kp_top_row {
	int level;     /* 0: a VM (or device of a VM), 1: a vCPU under it */
	uint32_t pid;
	int vcpu;      /* level 1: the vCPU index */
	struct kp_top_cell c[KP_TOP_MAXCOLS];
};

struct kp_top_table {
	const struct kp_top_col *cols;
	size_t ncols;
	struct kp_top_row *rows;
	size_t n, cap;
};

/* What the user chose: sort column and order, filter, expanded VMs. */
struct kp_top_state {
	enum kp_top_view view;
	int sort[KP_VIEW__COUNT]; /* column index per view */
	bool reverse[KP_VIEW__COUNT]; /* ascending instead of descending */
	char filter[64];          /* substring of the name, or a pid */
	uint32_t expanded[64];    /* pids of VMs shown with their vCPUs */
	size_t nexpanded;
	bool expand_all;
};

void kp_top_state_init(struct kp_top_state *st);
/* Toggle whether VM pid is expanded. */
void kp_top_toggle_expand(struct kp_top_state *st, uint32_t pid);
bool kp_top_is_expanded(const struct kp_top_state *st, uint32_t pid);
/* Whether VM vm passes the filter (empty: every VM). */
bool kp_top_matches(const char *filter, const struct kp_top_vm *vm);

/*
 * The table of view st->view for frame f (and alert table a for the
 * alert view): rows of the VMs that pass the filter, sorted by the sort
 * column (numbers descending, text ascending, unless reversed; ties by
 * pid), each expanded VM followed by its vCPUs in index order (CPU and
 * exits views). 0 or -ENOMEM. now: epoch seconds for alert durations.
 */
int kp_top_build(struct kp_top_table *t, const struct kp_top_state *st,
		 const struct kp_top_frame *f, const struct kp_top_alerts *a,
		 double now);
void kp_top_table_clear(struct kp_top_table *t);
/* The columns of view v. */
const struct kp_top_col *kp_top_cols(enum kp_top_view v, size_t *n);

/*
 * Widths of the columns for a terminal width: every column its minimum,
 * then the flexible one the rest (up to 40). Columns that do not fit are
 * left out from the right: returns how many are shown (at least 1).
 */
size_t kp_top_layout(const struct kp_top_col *cols, size_t ncols, int width,
		     int *widths);
/*
 * v in at most width characters with prec decimals, with fewer decimals,
 * then k/M/G suffixes when it does not fit; "-" for NAN. Writes buf.
 */
void kp_top_fmt_num(double v, int prec, int width, char *buf, size_t len);
/* One line of the table: the header (row NULL) or a row, nvis columns. */
void kp_top_format_row(const struct kp_top_table *t,
		       const struct kp_top_row *row, const int *widths,
		       size_t nvis, char *buf, size_t len);
/* The header line: time, interval, VMs, vCPUs, host CPU busy, ready sum,
 * lost, alerts. */
void kp_top_header(const struct kp_top_frame *f, const struct kp_top_alerts *a,
		   char *buf, size_t len);

#endif /* KP_TOP_LAYOUT_H */
