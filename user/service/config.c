// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ini.h>
#include "user/service/config.h"

/*
 * Thresholds from the vSphere and KVM monitoring literature: CPU ready
 * above 5% is worth a look, above 10% hurts; VM CPU usage (%USED per
 * vCPU) above 80% for 5 min warns, above 95% for 2 min is critical; guest
 * memory in use above 85% / 95% of what it sees; more than 1 GiB
 * ballooned away; disk latency p99 above 20 ms (esxtop's GAVG/DAVG
 * guidance) warns, above 100 ms is critical; packet drops above 0.1% of
 * packets warn, above 1% for 2 min are critical; any swap-in activity of a
 * VM. Each rule names a registry metric; tools/service/kvmprobe.rules.yml
 * mirrors them.
 */
const char kp_default_rules[] =
	"[alert vcpu_ready_warning]\n"
	"metric = run_delay\nstat = pct\nscope = vcpu\n"
	"above = 5\nclear = 4\nfor = 5m\nseverity = warning\n"
	"[alert vcpu_ready_critical]\n"
	"metric = run_delay\nstat = pct\nscope = vcpu\n"
	"above = 10\nclear = 8\nfor = 2m\nseverity = critical\n"
	"[alert vm_cpu_usage_warning]\n"
	"metric = cpu_pct\nstat = avg_pct\nscope = vm\n"
	"above = 80\nclear = 75\nfor = 5m\nseverity = warning\n"
	"[alert vm_cpu_usage_critical]\n"
	"metric = cpu_pct\nstat = avg_pct\nscope = vm\n"
	"above = 95\nclear = 90\nfor = 2m\nseverity = critical\n"
	"[alert guest_memory_warning]\n"
	"metric = memory.guest_used_kib\nstat = ratio\n"
	"of = memory.available_kib\nscope = vm\n"
	"above = 85\nclear = 80\nfor = 5m\nseverity = warning\n"
	"[alert guest_memory_critical]\n"
	"metric = memory.guest_used_kib\nstat = ratio\n"
	"of = memory.available_kib\nscope = vm\n"
	"above = 95\nclear = 90\nfor = 2m\nseverity = critical\n"
	"[alert vm_ballooned]\n"
	"metric = memory.ballooned_kib\nstat = value\nscope = vm\n"
	"above = 1048576\nclear = 786432\nfor = 5m\nseverity = warning\n"
	"[alert vm_swap_in]\n"
	"metric = memory.swap_in_kib\nstat = delta\nscope = vm\n"
	"above = 0\nfor = 0\nseverity = warning\n"
	"[alert disk_latency_p99]\n"
	"metric = disks.latency_hist\nstat = p99_us\nscope = vm\n"
	"above = 20000\nclear = 15000\nfor = 2m\nseverity = warning\n"
	"[alert disk_latency_p99_critical]\n"
	"metric = disks.latency_hist\nstat = p99_us\nscope = vm\n"
	"above = 100000\nclear = 80000\nfor = 2m\nseverity = critical\n"
	"[alert packet_drops]\n"
	"metric = interfaces.drops\nstat = ratio\nof = interfaces.packets\n"
	"scope = vm\nabove = 0.1\nclear = 0.05\nfor = 1m\n"
	"severity = warning\n"
	"[alert packet_drops_critical]\n"
	"metric = interfaces.drops\nstat = ratio\nof = interfaces.packets\n"
	"scope = vm\nabove = 1\nclear = 0.5\nfor = 2m\n"
	"severity = critical\n";

struct ctx {
	const char *name;       /* file name for messages */
	const char *merge_into; /* the file the defaults are merged into */
	int line;
	struct kp_opts *o;
	struct kp_config *cfg;
	const char *const *probe_names;
	size_t nprobes;
	char *err;
	size_t errlen;
	int failed;             /* line of the first error, 0 if none */
	struct kp_alert_rule *rule; /* the rule section being read */
	struct kp_alert_rule scratch; /* a skipped default, when full */
	bool has_threshold, has_clear, has_metric, has_stat;
	bool in_defaults;       /* reading kp_default_rules */
	bool skip_rule;         /* a default overridden by the file */
	enum { SEC_NONE, SEC_KVMPROBE, SEC_ALERTS, SEC_RULE, SEC_BAD } sec;
	char section[128];
	const char *text;       /* string reader position */
	FILE *file;
	bool long_line;         /* the line read did not fit: rest skipped */
	int read_errno;         /* a read of the file failed */
};

static int fail(struct ctx *c, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	if (c->failed)
		return 0;
	c->failed = c->line ? c->line : 1;
	n = snprintf(c->err, c->errlen, "%s:%d: ", c->name, c->line);
	if (n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - n, fmt, ap);
		va_end(ap);
	}
	return 0;
}

int kp_parse_duration(const char *s, double *out)
{
	double v, mult = 1;
	char *end;

	if (!*s)
		return -EINVAL;
	v = strtod(s, &end);
	if (end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	if (!strcmp(end, "m"))
		mult = 60;
	else if (!strcmp(end, "h"))
		mult = 3600;
	else if (*end && strcmp(end, "s"))
		return -EINVAL;
	*out = v * mult;
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") ||
	    !strcmp(v, "1") || !strcasecmp(v, "on"))
		*out = true;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") ||
		 !strcmp(v, "0") || !strcasecmp(v, "off"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

static int parse_number(const char *v, double *out)
{
	char *end;

	*out = strtod(v, &end);
	return end == v || *end || !isfinite(*out) ? -EINVAL : 0;
}

static char *keep(struct kp_config *cfg, const char *s)
{
	char **n = realloc(cfg->strings,
			   (cfg->nstrings + 1) * sizeof(*cfg->strings));

	if (!n)
		return NULL;
	cfg->strings = n;
	n[cfg->nstrings] = strdup(s);
	return n[cfg->nstrings] ? n[cfg->nstrings++] : NULL;
}

/* A [kvmprobe] key is a long option: reuse the command line's checks. */
static int option(struct ctx *c, const char *key, const char *value)
{
	char msg[256], *argv[3] = { "kvmprobe", NULL, NULL };
	int kind = kp_cli_option_kind(key);
	bool on;

	if (kind < 0 || !strcmp(key, "config") || !strcmp(key, "help") ||
	    !strcmp(key, "version") || !strcmp(key, "list-metrics"))
		return fail(c, "unknown option '%s' in [kvmprobe]", key);
	if (kind == 0) {
		if (parse_bool(value, &on))
			return fail(c, "%s: '%s' is not yes or no", key, value);
		if (!on)
			return 1;
		snprintf(msg, sizeof(msg), "--%s", key);
	} else {
		snprintf(msg, sizeof(msg), "--%s=%s", key, value);
	}
	argv[1] = keep(c->cfg, msg);
	if (!argv[1])
		return fail(c, "out of memory");
	if (kp_cli_apply(2, argv, c->o, c->probe_names, c->nprobes, msg,
			 sizeof(msg)))
		return fail(c, "%s", msg);
	return 1;
}

/* Why rule r can never have a value (stat vs metric), or NULL. */
static const char *stat_mismatch(const struct kp_alert_rule *r)
{
	const struct kp_metric_desc *d = kp_metric(r->metric);

	switch (r->stat) {
	case KP_STAT_P50_US:
	case KP_STAT_P99_US:
	case KP_STAT_MEAN_US:
		if (d->type != KP_HISTOGRAM)
			return "percentiles and means need a histogram metric";
		break;
	case KP_STAT_VALUE:
	case KP_STAT_DELTA:
		if (d->type != KP_GAUGE)
			return "value and delta need a gauge metric";
		break;
	case KP_STAT_PCT:
	case KP_STAT_AVG_PCT:
		if (d->unit != KP_UNIT_NS)
			return "pct needs a metric in nanoseconds";
		break;
	case KP_STAT_RATIO:
		if ((d->type == KP_GAUGE) != (r->of != (enum kp_metric_id)-1 &&
					      kp_metric(r->of)->type == KP_GAUGE))
			return "ratio takes two gauges or two counters";
		break;
	default:
		break;
	}
	if (d->type == KP_GAUGE && r->scope == KP_SCOPE_VCPU)
		return "gauges are per VM: scope = vm";
	if (d->scope == KP_SCOPE_VM && r->scope == KP_SCOPE_VCPU)
		return "this metric is per VM: scope = vm";
	return NULL;
}

static void close_rule(struct ctx *c)
{
	struct kp_alert_rule *r = c->rule;
	int line = c->line;

	if (!r)
		return;
	c->rule = NULL;
	if (c->skip_rule) {
		c->skip_rule = false;
		return;
	}
	c->line = r->line;
	if (!c->has_metric)
		fail(c, "rule '%s': no metric", r->name);
	else if (!c->has_threshold)
		fail(c, "rule '%s': no threshold (above = or below =)",
		     r->name);
	else if (r->stat == KP_STAT_RATIO && r->of == (enum kp_metric_id)-1)
		fail(c, "rule '%s': stat ratio needs 'of = METRIC'", r->name);
	else if (stat_mismatch(r))
		fail(c, "rule '%s': %s", r->name, stat_mismatch(r));
	else if (c->has_clear && (r->above ? r->clear > r->threshold :
					     r->clear < r->threshold))
		fail(c, "rule '%s': clear %g is past the threshold %g",
		     r->name, r->clear, r->threshold);
	c->line = line;
	if (!c->has_clear)
		r->clear = r->threshold;
	if (!c->failed)
		c->cfg->nrules++;
}

static int find_rule(const struct kp_config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nrules; i++)
		if (!strcmp(cfg->rules[i].name, name))
			return i;
	return -1;
}

/* "alert NAME" or alert "NAME" */
static int open_rule(struct ctx *c, const char *section)
{
	const char *name = section + 5;
	struct kp_alert_rule *r;
	size_t len;

	while (*name == ' ' || *name == '\t')
		name++;
	len = strlen(name);
	if (len >= 2 && name[0] == '"' && name[len - 1] == '"') {
		name++;
		len -= 2;
	}
	if (!len || len >= KP_RULE_NAME_MAX)
		return fail(c, "[%s]: a rule needs a name of 1 to %d characters",
			    section, KP_RULE_NAME_MAX - 1);
	/* a full set still reads a default the file overrides (skipped):
	 * the limit counts the merged set */
	r = c->cfg->nrules < KP_MAX_RULES ? &c->cfg->rules[c->cfg->nrules] :
					    &c->scratch;
	memset(r, 0, sizeof(*r));
	memcpy(r->name, name, len);
	if (find_rule(c->cfg, r->name) >= 0) {
		if (!c->in_defaults)
			return fail(c, "rule '%s' defined twice", r->name);
		c->skip_rule = true; /* the file's rule wins */
	} else if (c->cfg->nrules == KP_MAX_RULES && c->in_defaults) {
		c->failed = 1;
		snprintf(c->err, c->errlen,
			 "%s: too many rules with the built-in ones (at most %d; [alerts] defaults = no turns them off)",
			 c->merge_into, KP_MAX_RULES);
		return 0;
	} else if (c->cfg->nrules == KP_MAX_RULES) {
		return fail(c, "too many rules (at most %d)", KP_MAX_RULES);
	}
	r->line = c->line;
	r->scope = KP_SCOPE_VM;
	r->severity = KP_SEV_WARNING;
	r->stat = KP_STAT_RATE;
	r->of = (enum kp_metric_id)-1;
	c->rule = r;
	c->has_threshold = c->has_clear = c->has_metric = c->has_stat = false;
	return 1;
}

static int metric_key(struct ctx *c, const char *value, enum kp_metric_id *m)
{
	int id = kp_metric_by_json(value);

	if (id < 0)
		return fail(c, "unknown metric '%s' (kvmprobe --list-metrics)",
			    value);
	*m = id;
	return 1;
}

static int rule_key(struct ctx *c, const char *key, const char *value)
{
	static const char *const sevs[] = { "info", "warning", "critical" };
	struct kp_alert_rule *r = c->rule;
	unsigned int i;
	double v;

	if (c->skip_rule)
		return 1;
	if (!strcmp(key, "metric")) {
		c->has_metric = true;
		return metric_key(c, value, &r->metric);
	}
	if (!strcmp(key, "of"))
		return metric_key(c, value, &r->of);
	if (!strcmp(key, "stat")) {
		for (i = 0; i < KP_STAT__COUNT; i++)
			if (!strcmp(value, kp_stat_name(i)))
				break;
		if (i == KP_STAT__COUNT)
			return fail(c, "stat: '%s' is not rate, pct, p50_us, p99_us, mean_us, value, delta, ratio or avg_pct",
				    value);
		r->stat = i;
		return 1;
	}
	if (!strcmp(key, "label")) {
		if (strlen(value) >= KP_LABEL_MAX)
			return fail(c, "label: longer than %d characters",
				    KP_LABEL_MAX - 1);
		strcpy(r->label, value);
		return 1;
	}
	if (!strcmp(key, "scope")) {
		if (!strcmp(value, "vm"))
			r->scope = KP_SCOPE_VM;
		else if (!strcmp(value, "vcpu"))
			r->scope = KP_SCOPE_VCPU;
		else
			return fail(c, "scope: '%s' is not vm or vcpu", value);
		return 1;
	}
	if (!strcmp(key, "above") || !strcmp(key, "below")) {
		if (c->has_threshold)
			return fail(c, "a rule takes one of above = and below =");
		if (parse_number(value, &v))
			return fail(c, "%s: '%s' is not a number", key, value);
		r->above = key[0] == 'a';
		r->threshold = v;
		c->has_threshold = true;
		return 1;
	}
	if (!strcmp(key, "clear")) {
		if (parse_number(value, &r->clear))
			return fail(c, "clear: '%s' is not a number", value);
		c->has_clear = true;
		return 1;
	}
	if (!strcmp(key, "for")) {
		if (kp_parse_duration(value, &r->for_s))
			return fail(c, "for: '%s' is not a duration (30s, 5m, 2h)",
				    value);
		return 1;
	}
	if (!strcmp(key, "severity")) {
		for (i = 0; i < 3; i++)
			if (!strcmp(value, sevs[i]))
				break;
		if (i == 3)
			return fail(c, "severity: '%s' is not info, warning or critical",
				    value);
		r->severity = i;
		return 1;
	}
	if (!strcmp(key, "domain")) {
		if (r->ndomains == KP_RULE_DOMAINS_MAX)
			return fail(c, "domain: at most %d per rule",
				    KP_RULE_DOMAINS_MAX);
		if (!*value || strlen(value) >= KP_DOMAIN_NAME_MAX)
			return fail(c, "domain: empty or longer than %d characters",
				    KP_DOMAIN_NAME_MAX - 1);
		strcpy(r->domains[r->ndomains++], value);
		return 1;
	}
	return fail(c, "unknown key '%s' in rule '%s'", key, r->name);
}

/* A section header line: end the previous rule, start what this one is. */
static void section_start(struct ctx *c, const char *line)
{
	const char *start = strchr(line, '[') + 1, *end = strchr(start, ']');
	size_t len = end ? (size_t)(end - start) : strlen(start);

	close_rule(c);
	if (!end) {
		c->sec = SEC_BAD;
		fail(c, "'[' without ']'");
		return;
	}
	if (len >= sizeof(c->section))
		len = sizeof(c->section) - 1;
	memcpy(c->section, start, len);
	c->section[len] = '\0';
	if (!strcmp(c->section, "kvmprobe")) {
		c->sec = SEC_KVMPROBE;
		if (c->in_defaults)
			fail(c, "[kvmprobe] in the default rules");
	} else if (!strcmp(c->section, "alerts")) {
		c->sec = SEC_ALERTS;
	} else if (!strncmp(c->section, "alert", 5) &&
		   (c->section[5] == ' ' || c->section[5] == '\t')) {
		c->sec = SEC_RULE;
		open_rule(c, c->section);
	} else {
		c->sec = SEC_BAD;
		fail(c, "unknown section [%s]", c->section);
	}
}

static int handler(void *user, const char *section, const char *key,
		   const char *value)
{
	struct ctx *c = user;
	bool b;

	(void)section; /* tracked by the line readers: see section_start() */
	if (c->failed)
		return 0;
	switch (c->sec) {
	case SEC_KVMPROBE:
		return option(c, key, value);
	case SEC_ALERTS:
		if (strcmp(key, "defaults"))
			return fail(c, "unknown key '%s' in [alerts]", key);
		if (parse_bool(value, &b))
			return fail(c, "defaults: '%s' is not yes or no", value);
		c->cfg->defaults = b;
		return 1;
	case SEC_RULE:
		return c->rule ? rule_key(c, key, value) : 0;
	case SEC_NONE:
		return fail(c, "'%s' outside a section ([kvmprobe], [alerts] or [alert NAME])",
			    key);
	case SEC_BAD:
		return 0;
	}
	return 0;
}

static char *saw_line(struct ctx *c, char *str)
{
	const char *p = str;

	if (!c->line && !strncmp(p, "\xEF\xBB\xBF", 3))
		p += 3; /* inih skips a UTF-8 BOM */
	p += strspn(p, " \t");
	c->line++;
	if (c->long_line) {
		c->long_line = false;
		if (*p != ';' && *p != '#') { /* a long comment is fine */
			fail(c, "line longer than %d characters",
			     INI_MAX_LINE - 3);
			return NULL;
		}
	}
	if (*p == '[')
		section_start(c, p);
	return c->failed ? NULL : str; /* stop reading after an error */
}

/* Line readers that count lines, so errors found later still have one. */
static char *read_file_line(char *str, int num, void *stream)
{
	struct ctx *c = stream;
	size_t n;
	int ch;

	if (!fgets(str, num, c->file)) {
		if (ferror(c->file))
			c->read_errno = errno ? errno : EIO;
		return NULL;
	}
	n = strlen(str);
	if (n && str[n - 1] != '\n' && (ch = fgetc(c->file)) != EOF &&
	    ch != '\n') {
		while ((ch = fgetc(c->file)) != EOF && ch != '\n')
			;
		c->long_line = true;
	}
	return saw_line(c, str);
}

static char *read_string_line(char *str, int num, void *stream)
{
	struct ctx *c = stream;
	size_t n = 0;

	if (!*c->text || num < 2)
		return NULL;
	while (c->text[n] && c->text[n] != '\n' && n < (size_t)num - 2)
		n++;
	if (c->text[n] == '\n')
		n++;
	memcpy(str, c->text, n);
	str[n] = '\0';
	c->text += n;
	if (n && str[n - 1] != '\n' && *c->text) {
		c->long_line = true;
		while (*c->text && *c->text++ != '\n')
			;
	}
	return saw_line(c, str);
}

static int finish(struct ctx *c, int ret)
{
	close_rule(c);
	if (ret > 0 && (!c->failed || ret < c->failed)) {
		/* inih read on after a syntax error: report the first error */
		c->failed = 0;
		c->line = ret;
		fail(c, "syntax error");
		return -EINVAL;
	}
	if (c->failed)
		return -EINVAL;
	if (c->read_errno) {
		snprintf(c->err, c->errlen, "%s: failed to read: %s", c->name,
			 strerror(c->read_errno));
		return -c->read_errno;
	}
	if (ret < 0)
		return fail(c, "failed to read the file"), -EIO;
	if (ret > 0) /* a syntax error inih found itself */
		return c->line = ret, fail(c, "syntax error"), -EINVAL;
	return 0;
}

static int load_defaults(const char *file, struct kp_opts *o,
			 struct kp_config *cfg, const char *const *names,
			 size_t n, char *err, size_t errlen)
{
	struct ctx c = {
		.name = "(built-in rules)", .merge_into = file, .o = o, .cfg = cfg,
		.probe_names = names, .nprobes = n, .err = err,
		.errlen = errlen, .in_defaults = true, .text = kp_default_rules,
	};

	return finish(&c, ini_parse_stream(read_string_line, &c, handler, &c));
}

int kp_config_load_string(const char *text, const char *name,
			  struct kp_opts *o, struct kp_config *cfg,
			  const char *const *probe_names, size_t nprobes,
			  char *err, size_t errlen)
{
	struct ctx c = {
		.name = name, .o = o, .cfg = cfg, .probe_names = probe_names,
		.nprobes = nprobes, .err = err, .errlen = errlen, .text = text,
	};
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	cfg->defaults = true;
	ret = finish(&c, ini_parse_stream(read_string_line, &c, handler, &c));
	if (!ret && cfg->defaults)
		ret = load_defaults(name, o, cfg, probe_names, nprobes, err,
				    errlen);
	return ret;
}

int kp_config_load(const char *path, struct kp_opts *o, struct kp_config *cfg,
		   const char *const *probe_names, size_t nprobes, char *err,
		   size_t errlen)
{
	struct ctx c = {
		.name = path, .o = o, .cfg = cfg, .probe_names = probe_names,
		.nprobes = nprobes, .err = err, .errlen = errlen,
	};
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	cfg->defaults = true;
	c.file = fopen(path, "r");
	if (!c.file) {
		ret = -errno;
		snprintf(err, errlen, "%s: failed to open: %s", path,
			 strerror(errno));
		return ret;
	}
	ret = finish(&c, ini_parse_stream(read_file_line, &c, handler, &c));
	fclose(c.file);
	if (!ret && cfg->defaults)
		ret = load_defaults(path, o, cfg, probe_names, nprobes, err,
				    errlen);
	return ret;
}

void kp_config_free(struct kp_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nstrings; i++)
		free(cfg->strings[i]);
	free(cfg->strings);
	cfg->strings = NULL;
	cfg->nstrings = 0;
}

void kp_config_print_rules(FILE *f)
{
	struct kp_config cfg;
	struct kp_opts o;
	char err[256];
	size_t i;

	kp_cli_defaults(&o, 0);
	if (kp_config_load_string("", "(built-in rules)", &o, &cfg, NULL, 0,
				  err, sizeof(err)))
		return;
	fprintf(f, "\n## Built-in alert rules\n\n");
	fprintf(f, "| rule | metric | stat | of | scope | fires | clears | for | severity |\n");
	fprintf(f, "|---|---|---|---|---|---|---|---|---|\n");
	for (i = 0; i < cfg.nrules; i++) {
		const struct kp_alert_rule *r = &cfg.rules[i];

		fprintf(f, "| `%s` | `%s` | %s | %s%s%s | %s | %s %.10g | %s %.10g | %.10g s | %s |\n",
			r->name, kp_metric(r->metric)->json,
			kp_stat_name(r->stat), r->stat == KP_STAT_RATIO ? "`" : "",
			r->stat == KP_STAT_RATIO ? kp_metric(r->of)->json : "-",
			r->stat == KP_STAT_RATIO ? "`" : "",
			kp_scope_name(r->scope), r->above ? ">" : "<",
			r->threshold, r->above ? "<=" : ">=", r->clear,
			r->for_s, kp_severity_name(r->severity));
	}
	kp_config_free(&cfg);
}
