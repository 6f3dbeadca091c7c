// SPDX-License-Identifier: GPL-2.0
/*
 * kvmprobe top: the curses side. Live, every record goes through the json
 * sink into memory and is read back into a frame (top_layout.c): one code
 * path computes the numbers of the screen and of the NDJSON. Replay reads
 * the same records from a file. The terminal is restored by kp_top_end(),
 * which the stop record, the loop's error path and signals all reach.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curses.h>
#include <term.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include "user/core/cli.h"
#include "user/sinks/top.h"
#include "user/sinks/top_layout.h"

#define LOG_MAX 8192

struct replay_frame {
	size_t first, end; /* records [first, end) */
};

struct top {
	struct kp_sink json;   /* writes into mem */
	bool record;           /* also to the real output */
	bool on;               /* curses is up */
	SCREEN *scr;
	int sfd;               /* signalfd of the loop's signals, -1 */
	int errfd;             /* read end of the pipe stderr goes to */
	int saved_err;         /* the real stderr while the screen is up */
	char log[LOG_MAX];     /* what went to stderr meanwhile */
	size_t loglen;
	char msg[400];         /* the last message, shown on line 3 */
	struct kp_top_frame frame;
	struct kp_top_alerts alerts;
	struct kp_top_state st;
	struct kp_top_table table;
	int sel;               /* selected row */
	double interval_s;
	int prompt;            /* 0, '/' (filter) or 's' (interval) */
	char pbuf[64];
	size_t plen;
	bool help;
	bool waiting;          /* no interval yet */
	/* replay */
	bool replay, playing;
	struct json_object **recs;
	size_t nrecs;
	struct replay_frame *frames;
	size_t nframes, cur;
};

static const char *const help_lines[] = {
	"kvmprobe top: keys",
	"",
	"  c  CPU: %USED, %RDY, %MAXRDY (worst vCPU), preemptions, top neighbour",
	"  x  exits: exits/s, exits to the VMM/s, top reasons, p99 handling",
	"  d  disk: IOPS, MB/s, queue / device / total p99 (KAVG/DAVG/GAVG)",
	"  n  network: pps, Mb/s, %DRP and top drop reason, delivery p99",
	"  m  memory: balloon, RSS, guest swap, major faults",
	"  a  alerts: firing and resolved, for how long",
	"  < >  move the sort column     r  reverse the order",
	"  /  filter by domain name or pid (empty: all)",
	"  e, Enter  expand the selected VM into its vCPUs (c, x)",
	"  Up, Down  select a row",
	"  s  set the interval           space  refresh now (replay: play/pause)",
	"  replay: n/Right next, p/Left previous, g/G first/last,",
	"          A next interval where an alert fired",
	"  h, ?  this help               q  quit",
	"",
	"any key closes this help",
};

bool kp_top_usable(void)
{
	const char *term = getenv("TERM");
	int err;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO) || !term ||
	    !*term || !strcmp(term, "dumb"))
		return false;
	if (setupterm(NULL, STDOUT_FILENO, &err) != OK)
		return false;
	del_curterm(cur_term);
	return true;
}

void kp_top_add_signals(sigset_t *set)
{
	sigaddset(set, SIGWINCH);
}

double kp_top_interval(const struct kp_sink *s)
{
	const struct top *t = s->priv;

	return t->interval_s;
}

/* ---- drawing ---- */

static void line(int y, const char *s, int attr)
{
	if (y >= LINES)
		return;
	move(y, 0);
	clrtoeol();
	if (attr)
		attron(attr);
	addnstr(s, COLS);
	if (attr) {
		/* the whole width, as a bar */
		int x = (int)strlen(s);

		for (; x < COLS; x++)
			addch(' ');
		attroff(attr);
	}
}

static void draw_help(void)
{
	size_t i;

	erase();
	for (i = 0; i < sizeof(help_lines) / sizeof(help_lines[0]); i++)
		line((int)i, help_lines[i], 0);
	refresh();
}

static double frame_now(const struct top *t)
{
	struct timespec ts;

	if (t->replay)
		return t->frame.t;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void draw(struct top *t)
{
	int widths[KP_TOP_MAXCOLS], y, first, rows;
	char buf[512], pos[64] = "";
	size_t nvis, i;

	if (!t->on)
		return;
	if (t->help) {
		draw_help();
		return;
	}
	if (kp_top_build(&t->table, &t->st, &t->frame, &t->alerts,
			 frame_now(t)))
		snprintf(t->msg, sizeof(t->msg), "out of memory");
	nvis = kp_top_layout(t->table.cols, t->table.ncols, COLS, widths);
	erase();
	if (t->waiting)
		snprintf(buf, sizeof(buf), "waiting for the first interval (%.2fs)",
			 t->interval_s);
	else
		kp_top_header(&t->frame, &t->alerts, buf, sizeof(buf));
	line(0, buf, A_BOLD);
	if (t->replay)
		snprintf(pos, sizeof(pos), "  replay %zu/%zu%s%s", t->cur + 1,
			 t->nframes, t->playing ? " playing" : " paused",
			 t->frame.complete ? "" : " (incomplete)");
	snprintf(buf, sizeof(buf), "view %s [cxdnma]  sort %s %s%s%s%s",
		 kp_top_view_name(t->st.view),
		 t->table.cols[t->st.sort[t->st.view]].title,
		 /* numbers sort descending, text ascending; r flips */
		 t->table.cols[t->st.sort[t->st.view]].text ==
		 t->st.reverse[t->st.view] ? "desc" : "asc",
		 t->st.filter[0] ? "  filter " : "", t->st.filter, pos);
	line(1, buf, 0);
	line(2, t->msg, 0);
	kp_top_format_row(&t->table, NULL, widths, nvis, buf, sizeof(buf));
	line(3, buf, A_REVERSE);
	rows = LINES - 5;
	if (t->sel >= (int)t->table.n)
		t->sel = t->table.n ? (int)t->table.n - 1 : 0;
	first = t->sel >= rows && rows > 0 ? t->sel - rows + 1 : 0;
	for (y = 4, i = first; i < t->table.n && y < LINES - 1; i++, y++) {
		kp_top_format_row(&t->table, &t->table.rows[i], widths, nvis,
				  buf, sizeof(buf));
		line(y, buf, (int)i == t->sel ? A_BOLD : 0);
	}
	if (t->prompt)
		snprintf(buf, sizeof(buf), "%s: %.*s_",
			 t->prompt == '/' ? "filter (name or pid)" :
			 "interval seconds", (int)t->plen, t->pbuf);
	else
		snprintf(buf, sizeof(buf), "h help  q quit  %zu row(s)",
			 t->table.n);
	line(LINES - 1, buf, 0);
	refresh();
}

/* ---- stderr while the screen is up ---- */

static void log_add(struct top *t, const char *s, size_t n)
{
	const char *nl;

	if (n >= LOG_MAX) {
		s += n - (LOG_MAX - 1);
		n = LOG_MAX - 1;
	}
	if (t->loglen + n >= LOG_MAX) {
		size_t drop = t->loglen + n - (LOG_MAX - 1);

		memmove(t->log, t->log + drop, t->loglen - drop);
		t->loglen -= drop;
	}
	memcpy(t->log + t->loglen, s, n);
	t->loglen += n;
	t->log[t->loglen] = '\0';
	/* the last complete line is the message */
	for (nl = t->log + t->loglen; nl > t->log && nl[-1] == '\n'; nl--)
		;
	{
		const char *start = nl;

		while (start > t->log && start[-1] != '\n')
			start--;
		snprintf(t->msg, sizeof(t->msg), "%.*s", (int)(nl - start),
			 start);
	}
}

static void drain_err(struct top *t)
{
	char buf[1024];
	ssize_t n;

	while (t->errfd >= 0 && (n = read(t->errfd, buf, sizeof(buf))) > 0)
		log_add(t, buf, (size_t)n);
}

static int capture_stderr(struct top *t)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	fflush(stderr);
	t->saved_err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (t->saved_err < 0 || dup2(p[1], STDERR_FILENO) < 0) {
		close(p[0]);
		close(p[1]);
		if (t->saved_err >= 0)
			close(t->saved_err);
		t->saved_err = -1;
		return -errno;
	}
	close(p[1]);
	t->errfd = p[0];
	return 0;
}

static void restore_stderr(struct top *t)
{
	if (t->saved_err < 0)
		return;
	fflush(stderr);
	drain_err(t);
	dup2(t->saved_err, STDERR_FILENO);
	close(t->saved_err);
	close(t->errfd);
	t->saved_err = t->errfd = -1;
	/* what was said while the screen was up is not lost */
	if (t->loglen)
		fputs(t->log, stderr);
}

static int screen_start(struct top *t)
{
	t->scr = newterm(NULL, stdout, stdin);
	if (!t->scr)
		return -ENOTTY;
	t->on = true;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	capture_stderr(t);
	return 0;
}

void kp_top_end(struct kp_sink *s)
{
	struct top *t = s ? s->priv : NULL;

	if (!t || !t->on)
		return;
	curs_set(1);
	endwin();
	fflush(stdout);
	t->on = false;
	restore_stderr(t);
}

/* ---- keys ---- */

static void resize(void)
{
	struct winsize ws;

	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_row && ws.ws_col)
		resizeterm(ws.ws_row, ws.ws_col);
}

static void replay_show(struct top *t, size_t k);

static enum kp_top_action commit_prompt(struct top *t)
{
	char *end;
	double v;

	t->pbuf[t->plen] = '\0';
	if (t->prompt == '/') {
		snprintf(t->st.filter, sizeof(t->st.filter), "%s", t->pbuf);
		t->sel = 0;
		return KP_TOP_NONE;
	}
	v = strtod(t->pbuf, &end);
	if (end == t->pbuf || *end || !(v >= 0.1 && v <= 3600)) {
		snprintf(t->msg, sizeof(t->msg),
			 "interval: '%s' is not a number of seconds from 0.1 to 3600",
			 t->pbuf);
		return KP_TOP_NONE;
	}
	t->interval_s = v;
	snprintf(t->msg, sizeof(t->msg), "interval %.2f s", v);
	return t->replay ? KP_TOP_NONE : KP_TOP_INTERVAL;
}

static enum kp_top_action prompt_key(struct top *t, int ch)
{
	enum kp_top_action a = KP_TOP_NONE;

	if (ch == '\r' || ch == '\n' || ch == KEY_ENTER) {
		a = commit_prompt(t);
		t->prompt = 0;
	} else if (ch == 27) {
		t->prompt = 0;
	} else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		if (t->plen)
			t->plen--;
	} else if (ch >= 32 && ch < 127 && t->plen < sizeof(t->pbuf) - 1) {
		t->pbuf[t->plen++] = (char)ch;
	}
	return a;
}

static void move_sort(struct top *t, int d)
{
	int *c = &t->st.sort[t->st.view], widths[KP_TOP_MAXCOLS];
	size_t ncols, nvis;
	const struct kp_top_col *cols = kp_top_cols(t->st.view, &ncols);

	nvis = kp_top_layout(cols, ncols, COLS, widths);
	*c += d;
	if (*c < 0)
		*c = 0;
	if ((size_t)*c >= nvis)
		*c = (int)nvis - 1;
}

static void replay_step(struct top *t, int d)
{
	if (d < 0 && t->cur == 0)
		return;
	if (d > 0 && t->cur + 1 >= t->nframes) {
		t->playing = false;
		snprintf(t->msg, sizeof(t->msg), "end of recording");
		return;
	}
	replay_show(t, t->cur + d);
}

static void replay_next_alert(struct top *t)
{
	size_t k;

	for (k = t->cur + 1; k < t->nframes; k++) {
		struct replay_frame *f = &t->frames[k];
		size_t i;

		for (i = f->first; i < f->end; i++) {
			struct json_object *ty = NULL, *st = NULL;

			json_object_object_get_ex(t->recs[i], "type", &ty);
			json_object_object_get_ex(t->recs[i], "state", &st);
			if (ty && st &&
			    !strcmp(json_object_get_string(ty), "alert") &&
			    !strcmp(json_object_get_string(st), "firing")) {
				t->playing = false;
				replay_show(t, k);
				t->st.view = KP_VIEW_ALERTS;
				return;
			}
		}
	}
	snprintf(t->msg, sizeof(t->msg), "no alert fires after this interval");
}

static enum kp_top_action replay_key(struct top *t, int ch, bool *used)
{
	*used = true;
	switch (ch) {
	case 'n':
	case KEY_RIGHT:
	case KEY_NPAGE:
		t->playing = false;
		replay_step(t, 1);
		break;
	case 'p':
	case KEY_LEFT:
	case KEY_PPAGE:
		t->playing = false;
		replay_step(t, -1);
		break;
	case 'g':
	case KEY_HOME:
		replay_show(t, 0);
		break;
	case 'G':
	case KEY_END:
		replay_show(t, t->nframes - 1);
		break;
	case 'A':
		replay_next_alert(t);
		break;
	case ' ':
		t->playing = !t->playing && t->cur + 1 < t->nframes;
		break;
	default:
		*used = false;
	}
	return KP_TOP_NONE;
}

static void expand_selected(struct top *t)
{
	const struct kp_top_row *r;

	if (t->st.view != KP_VIEW_CPU && t->st.view != KP_VIEW_EXITS)
		return;
	if (t->sel < 0 || (size_t)t->sel >= t->table.n)
		return;
	r = &t->table.rows[t->sel];
	if (r->pid)
		kp_top_toggle_expand(&t->st, r->pid);
	/* keep the VM selected when its vCPU row was */
	while (t->sel > 0 && t->table.rows[t->sel].level)
		t->sel--;
}

static enum kp_top_action key(struct top *t, int ch)
{
	bool used;
	int v;

	if (t->help && ch != KEY_RESIZE) {
		t->help = false;
		return KP_TOP_NONE;
	}
	if (t->prompt)
		return prompt_key(t, ch);
	if (t->replay) {
		replay_key(t, ch, &used);
		if (used)
			return KP_TOP_NONE;
	}
	v = kp_top_view_of_key(ch);
	if (v >= 0) {
		t->st.view = v;
		t->sel = 0;
		return KP_TOP_NONE;
	}
	switch (ch) {
	case 'q':
	case 'Q':
		return KP_TOP_QUIT;
	case '<':
		move_sort(t, -1);
		break;
	case '>':
		move_sort(t, 1);
		break;
	case 'r':
		t->st.reverse[t->st.view] = !t->st.reverse[t->st.view];
		break;
	case '/':
	case 's':
		t->prompt = ch;
		t->plen = 0;
		if (ch == '/') {
			t->plen = strlen(t->st.filter);
			memcpy(t->pbuf, t->st.filter, t->plen);
		}
		break;
	case 'e':
	case '\r':
	case '\n':
	case KEY_ENTER:
		expand_selected(t);
		break;
	case KEY_UP:
	case 'k':
		if (t->sel > 0)
			t->sel--;
		break;
	case KEY_DOWN:
	case 'j':
		if (t->sel + 1 < (int)t->table.n)
			t->sel++;
		break;
	case 'h':
	case '?':
		t->help = true;
		break;
	case ' ':
		return KP_TOP_REFRESH;
	case 12: /* ^L */
		clearok(curscr, TRUE);
		break;
	}
	return KP_TOP_NONE;
}

enum kp_top_action kp_top_wait(struct kp_sink *s, const sigset_t *sigs,
			       int timeout_ms, int *sig)
{
	struct top *t = s->priv;
	struct signalfd_siginfo si;
	struct pollfd p[3];
	struct timespec t0, now;
	enum kp_top_action a;
	int left = timeout_ms, ch, n;

	if (t->sfd < 0)
		t->sfd = signalfd(-1, sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		p[0] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = t->sfd, .events = POLLIN };
		p[2] = (struct pollfd){ .fd = t->errfd, .events = POLLIN };
		n = poll(p, 3, left);
		if (n < 0 && errno != EINTR)
			return KP_TOP_NONE;
		if (n > 0 && (p[1].revents & POLLIN) &&
		    read(t->sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo != SIGWINCH) {
				*sig = (int)si.ssi_signo;
				return KP_TOP_SIGNAL;
			}
			resize();
			draw(t);
		}
		if (n > 0 && (p[2].revents & POLLIN)) {
			drain_err(t);
			draw(t);
		}
		if (n > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (p[0].revents & (POLLHUP | POLLERR))
				return KP_TOP_QUIT; /* the terminal went away */
			a = KP_TOP_NONE;
			while (a == KP_TOP_NONE && (ch = getch()) != ERR) {
				if (ch == KEY_RESIZE)
					resize();
				a = key(t, ch);
			}
			draw(t);
			if (a != KP_TOP_NONE)
				return a;
		}
		if (timeout_ms < 0)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = timeout_ms - (int)((now.tv_sec - t0.tv_sec) * 1000 +
					  (now.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			return KP_TOP_NONE;
	}
}

/* ---- records ---- */

/* Parse the NDJSON lines of buf into the frame and the alerts. */
static void read_records(struct top *t, char *buf, size_t len)
{
	struct json_object *o;
	char *p = buf, *nl;

	while (p < buf + len) {
		nl = memchr(p, '\n', buf + len - p);
		if (nl)
			*nl = '\0';
		o = json_tokener_parse(p);
		if (o) {
			kp_top_frame_add(&t->frame, &t->alerts, o);
			json_object_put(o);
		}
		if (!nl)
			break;
		*nl = '\n';
		p = nl + 1;
	}
}

/*
 * Run inner, a json sink call, into memory; the records go to the frame,
 * and with record also to the real output.
 */
#define THROUGH_JSON(s, call)                                            \
	({                                                               \
		struct top *t_ = (s)->priv;                              \
		char *b_ = NULL;                                         \
		size_t l_ = 0;                                           \
		int e_;                                                  \
		t_->json.out = open_memstream(&b_, &l_);                 \
		e_ = t_->json.out ? (call) : -errno;                     \
		if (t_->json.out && fclose(t_->json.out) && !e_)         \
			e_ = -errno;                                     \
		t_->json.out = NULL;                                     \
		if (!e_ && t_->record && l_ &&                           \
		    fwrite(b_, 1, l_, (s)->out) != l_)                   \
			e_ = -EIO;                                       \
		if (!e_)                                                 \
			read_records(t_, b_, l_);                        \
		free(b_);                                                \
		e_;                                                      \
	})

static int top_start(struct kp_sink *s, const struct kp_start_info *info)
{
	struct top *t = s->priv;
	int err;

	err = THROUGH_JSON(s, t->json.start(&t->json, info));
	if (err)
		return err;
	err = screen_start(t);
	if (err)
		return err;
	t->waiting = true;
	draw(t);
	return 0;
}

static int top_interval(struct kp_sink *s, const struct kp_interval *iv)
{
	struct top *t = s->priv;
	int err;

	kp_top_frame_clear(&t->frame);
	err = THROUGH_JSON(s, t->json.interval(&t->json, iv));
	t->waiting = false;
	draw(t);
	return err;
}

static int top_stop(struct kp_sink *s, const struct kp_stop_info *info)
{
	struct top *t = s->priv;
	int err = THROUGH_JSON(s, t->json.stop(&t->json, info));

	kp_top_end(s);
	return err;
}

static int top_notice(struct kp_sink *s, const struct kp_notice *n)
{
	struct top *t = s->priv;
	int err = THROUGH_JSON(s, t->json.notice(&t->json, n));

	snprintf(t->msg, sizeof(t->msg), "%s %s: %s", n->source, n->state,
		 n->message);
	draw(t);
	return err;
}

static int top_alert(struct kp_sink *s, const struct kp_alert_event *ev,
		     const struct timespec *ts)
{
	struct top *t = s->priv;
	int err = THROUGH_JSON(s, t->json.alert(&t->json, ev, ts));

	draw(t);
	return err;
}

static struct top *top_new(const struct kp_opts *o)
{
	struct top *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	kp_sink_json_init(&t->json, NULL, o);
	kp_top_state_init(&t->st);
	t->sfd = t->errfd = t->saved_err = -1;
	t->interval_s = o->interval_s;
	return t;
}

int kp_sink_top_init(struct kp_sink *s, const struct kp_opts *o, bool record)
{
	struct top *t = top_new(o);

	memset(s, 0, sizeof(*s));
	if (!t)
		return -ENOMEM;
	t->record = record;
	s->name = "top";
	s->start = top_start;
	s->interval = top_interval;
	s->stop = top_stop;
	s->notice = top_notice;
	s->alert = top_alert;
	s->close = kp_top_end;
	s->opts = o;
	s->priv = t;
	return 0;
}

void kp_top_free(struct kp_sink *s)
{
	struct top *t = s->priv;

	if (!t)
		return;
	kp_top_end(s);
	kp_top_frame_clear(&t->frame);
	kp_top_alerts_clear(&t->alerts);
	kp_top_table_clear(&t->table);
	if (t->sfd >= 0)
		close(t->sfd);
	if (t->scr)
		delscreen(t->scr);
	free(t);
	s->priv = NULL;
}

/* ---- replay ---- */

static void replay_show(struct top *t, size_t k)
{
	struct replay_frame *f;
	const char *type;
	size_t i;

	if (k >= t->nframes)
		return;
	t->cur = k;
	f = &t->frames[k];
	kp_top_frame_clear(&t->frame);
	kp_top_alerts_clear(&t->alerts);
	/* the alert table as it stood at the end of this interval */
	for (i = 0; i < f->end; i++) {
		type = json_object_get_string(json_object_object_get(
			t->recs[i], "type"));
		if (i >= f->first || (type && !strcmp(type, "alert")))
			kp_top_frame_add(&t->frame, &t->alerts, t->recs[i]);
	}
	if (!t->frame.complete && !t->frame.ts[0]) {
		/* no record with a time: take the last one seen */
		snprintf(t->frame.ts, sizeof(t->frame.ts), "-");
	}
}

static const char *rec_type(struct json_object *o)
{
	struct json_object *ty;

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "type", &ty))
		return "";
	return json_object_get_string(ty) ?: "";
}

/*
 * Group the records into intervals: a frame ends with its "interval"
 * record and the alert and notice records written right after it; what
 * follows the last one (a file cut mid-interval) is a frame of its own.
 */
static int group(struct top *t)
{
	size_t i, first = 0;
	bool closed = false;
	const char *ty;
	void *p;

	t->frames = calloc(t->nrecs + 1, sizeof(*t->frames));
	if (!t->frames)
		return -ENOMEM;
	for (i = 0; i < t->nrecs; i++) {
		ty = rec_type(t->recs[i]);
		if (closed && strcmp(ty, "alert") && strcmp(ty, "notice")) {
			t->frames[t->nframes++] = (struct replay_frame){ first, i };
			first = i;
			closed = false;
		}
		if (!strcmp(ty, "interval"))
			closed = true;
	}
	/* a tail of only start/stop records is no interval */
	for (i = first; i < t->nrecs; i++) {
		ty = rec_type(t->recs[i]);
		if (!strcmp(ty, "vm") || !strcmp(ty, "host") ||
		    !strcmp(ty, "interval"))
			break;
	}
	if (i < t->nrecs)
		t->frames[t->nframes++] = (struct replay_frame){ first,
								t->nrecs };
	p = realloc(t->frames, (t->nframes + 1) * sizeof(*t->frames));
	if (p)
		t->frames = p;
	return 0;
}

/*
 * Read every record of path. A line that does not parse is skipped; the
 * last one when it has no newline is a torn write (*torn).
 */
static int load(struct top *t, const char *path, size_t *bad, bool *torn)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	struct json_object *o;
	void *p;

	if (!f)
		return -errno;
	*bad = 0;
	*torn = false;
	while ((n = getline(&buf, &cap, f)) > 0) {
		bool whole = buf[n - 1] == '\n';

		if (whole)
			buf[--n] = '\0';
		o = n ? json_tokener_parse(buf) : NULL;
		if (!whole && !o) {
			*torn = true;
			break;
		}
		if (!o) {
			if (n)
				(*bad)++;
			continue;
		}
		if (t->nrecs % 256 == 0) {
			p = realloc(t->recs, (t->nrecs + 256) * sizeof(*t->recs));
			if (!p) {
				json_object_put(o);
				break;
			}
			t->recs = p;
		}
		t->recs[t->nrecs++] = o;
	}
	free(buf);
	fclose(f);
	return group(t);
}

static void replay_free(struct top *t)
{
	size_t i;

	for (i = 0; i < t->nrecs; i++)
		json_object_put(t->recs[i]);
	free(t->recs);
	free(t->frames);
	kp_top_frame_clear(&t->frame);
	kp_top_alerts_clear(&t->alerts);
	kp_top_table_clear(&t->table);
	if (t->sfd >= 0)
		close(t->sfd);
	free(t);
}

/* Not a terminal: every interval as a table of the CPU view, in order. */
static void replay_print(struct top *t)
{
	int widths[KP_TOP_MAXCOLS];
	char buf[512];
	size_t k, i, nvis;

	for (k = 0; k < t->nframes; k++) {
		replay_show(t, k);
		kp_top_build(&t->table, &t->st, &t->frame, &t->alerts,
			     t->frame.t);
		nvis = kp_top_layout(t->table.cols, t->table.ncols, 132,
				     widths);
		kp_top_header(&t->frame, &t->alerts, buf, sizeof(buf));
		printf("\ninterval %zu/%zu  %s\n", k + 1, t->nframes, buf);
		kp_top_format_row(&t->table, NULL, widths, nvis, buf,
				  sizeof(buf));
		printf("%s\n", buf);
		for (i = 0; i < t->table.n; i++) {
			kp_top_format_row(&t->table, &t->table.rows[i], widths,
					  nvis, buf, sizeof(buf));
			printf("%s\n", buf);
		}
	}
}

int kp_top_replay(const struct kp_opts *o)
{
	struct kp_sink s = { 0 };
	struct top *t = top_new(o);
	enum kp_top_action a;
	sigset_t sigs;
	size_t bad = 0;
	bool torn = false;
	char note[160] = "";
	int err, sig, status = KP_EXIT_OK;

	if (!t) {
		fprintf(stderr, "kvmprobe: failed to allocate memory\n");
		return KP_EXIT_FAILURE;
	}
	s.priv = t;
	t->replay = true;
	err = load(t, o->replay, &bad, &torn);
	if (err) {
		fprintf(stderr, "kvmprobe: failed to read %s: %s\n", o->replay,
			strerror(-err));
		replay_free(t);
		return KP_EXIT_FAILURE;
	}
	if (!t->nframes) {
		fprintf(stderr, "kvmprobe: %s: no interval records to replay\n",
			o->replay);
		replay_free(t);
		return KP_EXIT_FAILURE;
	}
	if (torn || bad)
		snprintf(note, sizeof(note), "%s: skipped %s%s", o->replay,
			 torn ? "a torn last line" : "",
			 bad ? (torn ? " and unreadable lines" :
				"unreadable lines") : "");
	snprintf(t->msg, sizeof(t->msg), "%s: %zu interval(s)%s%s", o->replay,
		 t->nframes, note[0] ? "; " : "", note[0] ? note : "");
	if (!kp_top_usable() || o->top == KP_TOP_OFF) {
		if (note[0])
			fprintf(stderr, "kvmprobe: %s\n", note);
		replay_print(t);
		replay_free(t);
		return KP_EXIT_OK;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	kp_top_add_signals(&sigs);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	if (screen_start(t)) {
		fprintf(stderr, "kvmprobe: failed to start the screen\n");
		replay_free(t);
		return KP_EXIT_FAILURE;
	}
	t->playing = t->nframes > 1;
	replay_show(t, 0);
	draw(t);
	for (;;) {
		a = kp_top_wait(&s, &sigs, t->playing ?
				(int)(t->interval_s * 1000) : -1, &sig);
		if (a == KP_TOP_QUIT || a == KP_TOP_SIGNAL)
			break;
		if (a == KP_TOP_NONE && t->playing) {
			replay_step(t, 1);
			if (t->cur + 1 >= t->nframes) {
				t->playing = false;
				snprintf(t->msg, sizeof(t->msg),
					 "end of recording");
			}
			draw(t);
		}
	}
	kp_top_end(&s);
	if (note[0]) /* said once on the screen, once after it */
		fprintf(stderr, "kvmprobe: %s\n", note);
	replay_free(t);
	return status;
}
