// SPDX-License-Identifier: GPL-2.0
/* The cgroup CPU limit reader of the sched probe: see cgcpu.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "user/probes/cgcpu.h"

#define REFRESH_S 10.0 /* look a thread's cgroup up again this often */

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 3;
			continue;
		}
		*d++ = *s;
	}
	*d = '\0';
}

/* Whether the comma-separated list has the token tok. */
static bool has_token(const char *list, const char *tok)
{
	size_t n = strlen(tok);
	const char *p = list;

	while (p && *p) {
		if (!strncmp(p, tok, n) && (p[n] == ',' || p[n] == '\0'))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

static void set(char *dst, const char *src)
{
	snprintf(dst, KP_CG_PATH_MAX, "%s", src);
}

int kp_cg_parse_mountinfo(FILE *f, struct kp_cg_mounts *m)
{
	char line[4096], *tok[8], *sep, *save;
	size_t n;

	memset(m, 0, sizeof(*m));
	while (fgets(line, sizeof(line), f)) {
		/* id parent maj:min root mountpoint opts [optional...] - type
		 * source superopts */
		sep = strstr(line, " - ");
		if (!sep)
			continue;
		*sep = '\0';
		n = 0;
		for (tok[n] = strtok_r(line, " ", &save); tok[n] && n < 5;
		     tok[++n] = strtok_r(NULL, " ", &save))
			;
		if (n < 5)
			continue;
		tok[5] = strtok_r(sep + 3, " \n", &save); /* type */
		tok[6] = tok[5] ? strtok_r(NULL, " \n", &save) : NULL;
		tok[7] = tok[6] ? strtok_r(NULL, " \n", &save) : NULL;
		if (!tok[7])
			continue;
		unescape(tok[3]);
		unescape(tok[4]);
		if (!strcmp(tok[5], "cgroup") && !m->v1_cpu[0] &&
		    has_token(tok[7], "cpu")) {
			set(m->v1_cpu, tok[4]);
			set(m->v1_root, tok[3]);
		} else if (!strcmp(tok[5], "cgroup2") && !m->v2[0]) {
			set(m->v2, tok[4]);
			set(m->v2_root, tok[3]);
		}
	}
	return m->v1_cpu[0] || m->v2[0] ? 0 : -ENOENT;
}

int kp_cg_parse_task_cgroup(FILE *f, char *v1, char *v2, size_t len)
{
	char line[4096], *ctl, *path;

	v1[0] = v2[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		/* hierarchy-ID:controller-list:cgroup-path */
		ctl = strchr(line, ':');
		path = ctl ? strchr(ctl + 1, ':') : NULL;
		if (!path)
			continue;
		*ctl++ = '\0';
		*path++ = '\0';
		if (!strcmp(line, "0") && !*ctl)
			snprintf(v2, len, "%s", path);
		else if (has_token(ctl, "cpu"))
			snprintf(v1, len, "%s", path);
	}
	return v1[0] || v2[0] ? 0 : -ENOENT;
}

int kp_cg_parse_cpu_stat(FILE *f, enum kp_cg_ver ver, uint64_t *throttled_ns)
{
	const char *key = ver == KP_CG_V2 ? "throttled_usec" : "throttled_time";
	char line[256], name[64];
	uint64_t v;

	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %" SCNu64, name, &v) != 2 ||
		    strcmp(name, key))
			continue;
		*throttled_ns = ver == KP_CG_V2 ? v * 1000 : v;
		return 0;
	}
	return -ENOENT;
}

uint64_t kp_cg_limited(uint64_t t, uint64_t sum, uint64_t d)
{
	if (!sum || !d || !t)
		return 0;
	if (t >= sum)
		return d;
	return (uint64_t)((unsigned __int128)d * t / sum);
}

const char *kp_cg_ver_name(enum kp_cg_ver v)
{
	return v == KP_CG_V1 ? "cgroup_v1" : v == KP_CG_V2 ? "cgroup_v2" :
	       "none";
}

struct cg_ent {
	char path[KP_CG_PATH_MAX]; /* its cpu.stat */
	enum kp_cg_ver ver;
	uint64_t prev, cur, sum;   /* throttled ns; run delay noted */
	bool have_prev, have_cur;
	unsigned int epoch;
};

struct tid_ent {
	uint32_t pid, tid;
	int cg;                    /* index into cgs, or -errno */
	double looked;             /* when the cgroup was looked up */
	unsigned int epoch;
};

struct kp_cgcpu {
	char proc_root[KP_CG_PATH_MAX], fs_root[KP_CG_PATH_MAX];
	struct kp_cg_mounts mounts;
	bool usable;
	struct cg_ent *cgs;
	size_t ncgs, cgcap;
	struct tid_ent *tids;
	size_t ntids, tidcap;
	unsigned int epoch;
	double now;
};

struct kp_cgcpu *kp_cgcpu_new(const char *proc_root, const char *fs_root)
{
	struct kp_cgcpu *c = calloc(1, sizeof(*c));
	char path[KP_CG_PATH_MAX + 32];
	FILE *f;

	if (!c)
		return NULL;
	set(c->proc_root, proc_root);
	set(c->fs_root, fs_root);
	snprintf(path, sizeof(path), "%s/self/mountinfo", proc_root);
	f = fopen(path, "re");
	if (f) {
		c->usable = !kp_cg_parse_mountinfo(f, &c->mounts);
		fclose(f);
	}
	return c;
}

void kp_cgcpu_free(struct kp_cgcpu *c)
{
	if (!c)
		return;
	free(c->cgs);
	free(c->tids);
	free(c);
}

bool kp_cgcpu_usable(const struct kp_cgcpu *c)
{
	return c && c->usable;
}

void kp_cgcpu_begin(struct kp_cgcpu *c, double now)
{
	c->epoch++;
	c->now = now;
}

/* path relative to the root the mount shows (a cgroup namespace's mount
 * shows a subtree) */
static const char *rel(const char *path, const char *root)
{
	size_t n = strlen(root);

	if (n > 1 && !strncmp(path, root, n) &&
	    (path[n] == '/' || path[n] == '\0'))
		return path + n;
	return path;
}

/* The cpu.stat of tid's cgroup and the hierarchy it is in. 0 or -errno. */
static int stat_path(const struct kp_cgcpu *c, uint32_t pid, uint32_t tid,
		     char *out, enum kp_cg_ver *ver)
{
	char path[KP_CG_PATH_MAX + 64], v1[KP_CG_PATH_MAX], v2[KP_CG_PATH_MAX];
	const struct kp_cg_mounts *m = &c->mounts;
	FILE *f;
	int err, n;

	snprintf(path, sizeof(path), "%s/%u/task/%u/cgroup", c->proc_root,
		 pid, tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	err = kp_cg_parse_task_cgroup(f, v1, v2, sizeof(v1));
	fclose(f);
	if (err)
		return err;
	if (v1[0] && m->v1_cpu[0]) {
		*ver = KP_CG_V1;
		n = snprintf(out, KP_CG_PATH_MAX, "%s%s%s/cpu.stat", c->fs_root,
			     m->v1_cpu, rel(v1, m->v1_root));
	} else if (v2[0] && m->v2[0]) {
		*ver = KP_CG_V2;
		n = snprintf(out, KP_CG_PATH_MAX, "%s%s%s/cpu.stat", c->fs_root,
			     m->v2, rel(v2, m->v2_root));
	} else {
		return -ENOENT;
	}
	return n >= KP_CG_PATH_MAX ? -ENAMETOOLONG : 0;
}

static int cg_get(struct kp_cgcpu *c, const char *path, enum kp_cg_ver ver)
{
	struct cg_ent *e;
	size_t i;

	for (i = 0; i < c->ncgs; i++)
		if (c->cgs[i].ver == ver && !strcmp(c->cgs[i].path, path))
			return i;
	if (c->ncgs == c->cgcap) {
		size_t ncap = c->cgcap ? c->cgcap * 2 : 16;

		e = realloc(c->cgs, ncap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		c->cgs = e;
		c->cgcap = ncap;
	}
	e = &c->cgs[c->ncgs];
	memset(e, 0, sizeof(*e));
	set(e->path, path);
	e->ver = ver;
	e->epoch = c->epoch - 1;
	return c->ncgs++;
}

static struct tid_ent *tid_get(struct kp_cgcpu *c, uint32_t pid, uint32_t tid)
{
	struct tid_ent *t;
	size_t i;

	for (i = 0; i < c->ntids; i++)
		if (c->tids[i].tid == tid && c->tids[i].pid == pid)
			return &c->tids[i];
	if (c->ntids == c->tidcap) {
		size_t ncap = c->tidcap ? c->tidcap * 2 : 16;

		t = realloc(c->tids, ncap * sizeof(*t));
		if (!t)
			return NULL;
		c->tids = t;
		c->tidcap = ncap;
	}
	t = &c->tids[c->ntids++];
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->tid = tid;
	t->cg = -ENOENT;
	t->looked = -1e18;
	return t;
}

/* The first note of a cgroup in an interval: read its counter. */
static int cg_read(struct kp_cgcpu *c, struct cg_ent *e)
{
	uint64_t v = 0;
	FILE *f;
	int err;

	e->epoch = c->epoch;
	e->sum = 0;
	e->have_prev = e->have_cur;
	e->prev = e->cur;
	f = fopen(e->path, "re");
	err = f ? kp_cg_parse_cpu_stat(f, e->ver, &v) : -errno;
	if (f)
		fclose(f);
	e->have_cur = !err;
	e->cur = v;
	if (err)
		e->have_prev = false;
	return err;
}

int kp_cgcpu_note(struct kp_cgcpu *c, uint32_t pid, uint32_t tid,
		  uint64_t delay_ns)
{
	char path[KP_CG_PATH_MAX];
	enum kp_cg_ver ver = KP_CG_NONE;
	struct tid_ent *t;
	struct cg_ent *e;
	int err;

	if (!c->usable)
		return -ENOENT;
	t = tid_get(c, pid, tid);
	if (!t)
		return -ENOMEM;
	t->epoch = c->epoch;
	if (c->now - t->looked >= REFRESH_S) {
		t->looked = c->now;
		err = stat_path(c, pid, tid, path, &ver);
		t->cg = err ? err : cg_get(c, path, ver);
	}
	if (t->cg < 0)
		return t->cg;
	e = &c->cgs[t->cg];
	if (e->epoch != c->epoch) {
		err = cg_read(c, e);
		if (err)
			return err;
	} else if (!e->have_cur) {
		return -ENOENT;
	}
	e->sum += delay_ns;
	return t->cg;
}

bool kp_cgcpu_share(const struct kp_cgcpu *c, int slot, uint64_t delay_ns,
		    uint64_t *limited_ns, enum kp_cg_ver *ver)
{
	const struct cg_ent *e;

	if (slot < 0 || (size_t)slot >= c->ncgs)
		return false;
	e = &c->cgs[slot];
	if (!e->have_prev || !e->have_cur)
		return false;
	*limited_ns = kp_cg_limited(e->cur > e->prev ? e->cur - e->prev : 0,
				    e->sum, delay_ns);
	*ver = e->ver;
	return true;
}

void kp_cgcpu_end(struct kp_cgcpu *c)
{
	int *map;
	size_t i, j;

	map = calloc(c->ncgs ? c->ncgs : 1, sizeof(*map));
	if (!map)
		return; /* keep everything: stale entries, no harm */
	for (i = 0, j = 0; i < c->ncgs; i++) {
		map[i] = -ENOENT;
		if (c->cgs[i].epoch != c->epoch)
			continue;
		map[i] = j;
		c->cgs[j++] = c->cgs[i];
	}
	c->ncgs = j;
	for (i = 0, j = 0; i < c->ntids; i++) {
		struct tid_ent *t = &c->tids[i];

		if (t->epoch != c->epoch)
			continue;
		if (t->cg >= 0) {
			t->cg = map[t->cg];
			if (t->cg < 0) /* look it up again */
				t->looked = -1e18;
		}
		c->tids[j++] = *t;
	}
	c->ntids = j;
	free(map);
}
