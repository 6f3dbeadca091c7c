/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Probes whose programs come in two flavours per kernel tracepoint: a
 * BTF-typed one (tp_btf) and a raw_tp twin with the same raw arguments for
 * kernels without tracepoint BTF (block and net; their classic tracefs
 * events carry no kernel pointers). Choose one per event before load,
 * attach each on its own, and read a hash map whole.
 */
#ifndef KP_TPPROG_H
#define KP_TPPROG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <bpf/libbpf.h>
#include "user/probes/probe.h"
#include "user/core/snap.h"

struct kp_tp_event {
	const char *name;      /* the tracepoint, "block_rq_issue" */
	const char *btf_prog;  /* its programs in the object */
	const char *raw_prog;
};

/*
 * Per event, autoload the tp_btf program when mode allows it and the
 * kernel's BTF has btf_trace_<name>, else the raw_tp one (mode
 * KP_ATTACH_BTF: neither). A tp_btf program without its BTF target would
 * fail the whole object's load. Fills st->progs[0..n).
 */
void kp_tp_choose(struct bpf_object *obj, const struct kp_tp_event *ev,
		  size_t n, struct kp_ksupport *ks, enum kp_attach mode,
		  struct kp_probe_status *st);
/*
 * Attach every chosen program on its own (links[i] for ev[i]): one failure
 * leaves the rest, and is recorded in st. Returns how many attached.
 */
size_t kp_tp_attach(struct bpf_object *obj, const struct kp_tp_event *ev,
		    size_t n, struct bpf_link **links,
		    struct kp_probe_status *st);
/*
 * Why program prog of event could not attach (err: -errno), as a one-line
 * reason in why. category: the tracefs category of a classic tracepoint
 * ("kvm"), whose absence tracefs can explain, or NULL.
 */
void kp_attach_error(int err, const char *category, const char *event,
		     const char *prog, char *why, size_t len);
/* A load error as a one-line reason in st->reason. */
void kp_tp_load_error(int err, struct kp_probe_status *st);
/* st->reason when no program attached: the first program's reason. */
void kp_no_program_reason(struct kp_probe_status *st);
/* Fill a probe's pid_filter map (fd) with the -p pids. 0 or -errno. */
int kp_set_pid_filter(int fd, const struct kp_opts *o);
/* Whether st's program for event name attached. */
bool kp_tp_attached(const struct kp_probe_status *st, const char *name);

/*
 * Read hash map fd (at most max entries) into s, in batches where the
 * kernel supports it. 0 or -errno.
 */
int kp_map_read(int fd, struct kp_snap *s, uint32_t max);

#endif /* KP_TPPROG_H */
