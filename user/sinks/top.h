/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmprobe top: the full-screen view (ncurses). Live, it is a sink: each
 * interval the json sink writes its records into memory, the view reads
 * them back (top_layout.c), so the screen shows the numbers of the NDJSON
 * records; with -o FILE they are also written there. --replay browses a
 * recording. Keyboard input and signals are read together in
 * kp_top_wait(), which the sampling loop calls instead of sigtimedwait().
 */
#ifndef KP_TOP_H
#define KP_TOP_H

#include <signal.h>
#include <stdbool.h>
#include "user/sinks/sink.h"

enum kp_top_action {
	KP_TOP_NONE,     /* the time ran out */
	KP_TOP_SIGNAL,   /* *sig holds a signal of the set */
	KP_TOP_QUIT,     /* q */
	KP_TOP_REFRESH,  /* space: collect now */
	KP_TOP_INTERVAL, /* s: a new interval, kp_top_interval() */
};

/* Whether stdin and stdout are a terminal curses can drive (not dumb). */
bool kp_top_usable(void);
/* The signals the view takes besides the loop's (SIGWINCH). */
void kp_top_add_signals(sigset_t *set);
/*
 * The sink; record: also write the NDJSON records to s->out. The screen
 * starts with the start record. 0 or -errno.
 */
int kp_sink_top_init(struct kp_sink *s, const struct kp_opts *o, bool record);
/*
 * Wait up to timeout_ms for a key or a signal of sigs (blocked in every
 * thread), handling keys that only change the view on the way.
 */
enum kp_top_action kp_top_wait(struct kp_sink *s, const sigset_t *sigs,
			       int timeout_ms, int *sig);
double kp_top_interval(const struct kp_sink *s);
/* Restore the terminal (idempotent; also s->close). */
void kp_top_end(struct kp_sink *s);
/* Restore the terminal and free the sink's state. */
void kp_top_free(struct kp_sink *s);
/* --replay FILE: browse a recording. Returns an exit status (enum kp_exit). */
int kp_top_replay(const struct kp_opts *o);

#endif /* KP_TOP_H */
