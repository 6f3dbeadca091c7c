// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for user/service/config.c: the service configuration file ([kvmprobe]
 * options, [alerts], [alert NAME] rules). Every error path must name
 * "file:line: what"; fixtures are in tests/fixtures/config/ (paths are
 * relative to the repository root, where tests/run.sh runs the tests).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "user/core/alert.h"
#include "user/core/cli.h"
#include "user/core/hist.h"
#include "user/service/config.h"
#include "user/core/metrics.h"

#define FIXTURES "tests/fixtures/config/"

static const char *const probe_names[] = { "exits", "sched" };
#define NPROBES 2

static struct kp_opts o;
static struct kp_config cfg;
static char err[512];

static int teardown(void **state)
{
	kp_config_free(&cfg);
	return 0;
}

/* Load text as "t.conf" on top of the command-line defaults. */
static int load(const char *text)
{
	kp_config_free(&cfg);
	kp_cli_defaults(&o, NPROBES);
	memset(err, 0, sizeof(err));
	return kp_config_load_string(text, "t.conf", &o, &cfg, probe_names,
				     NPROBES, err, sizeof(err));
}

static int load_file(const char *path)
{
	kp_config_free(&cfg);
	kp_cli_defaults(&o, NPROBES);
	memset(err, 0, sizeof(err));
	return kp_config_load(path, &o, &cfg, probe_names, NPROBES, err,
			      sizeof(err));
}

/* Expect -EINVAL and exactly the message want ("t.conf:LINE: what"). */
#define assert_config_error(text, want)                                    \
	do {                                                               \
		int ret_ = load(text);                                     \
		if (ret_ != -EINVAL)                                       \
			fail_msg("load returned %d, not -EINVAL (err '%s')", \
				 ret_, err);                               \
		assert_string_equal(err, want);                            \
	} while (0)

#define assert_config_ok(text)                                             \
	do {                                                               \
		int ret_ = load(text);                                     \
		if (ret_)                                                  \
			fail_msg("load returned %d: %s", ret_, err);       \
	} while (0)

#define assert_near(a, b)                                                  \
	do {                                                               \
		double a_ = (a), b_ = (b);                                 \
		if (fabs(a_ - b_) > 1e-9 * (fabs(b_) > 1 ? fabs(b_) : 1))  \
			fail_msg("%s is %.17g, not %.17g", #a, a_, b_);    \
	} while (0)

static int metric(const char *json)
{
	int id = kp_metric_by_json(json);

	if (id < 0)
		fail_msg("no metric '%s' in the registry", json);
	return id;
}

static const struct kp_alert_rule *find_rule(const char *name)
{
	size_t i;

	for (i = 0; i < cfg.nrules; i++)
		if (!strcmp(cfg.rules[i].name, name))
			return &cfg.rules[i];
	fail_msg("no rule '%s' among %zu", name, cfg.nrules);
	return NULL;
}

/* Rules in the built-in defaults, counted from their text. */
static size_t default_rule_count(void)
{
	const char *p = kp_default_rules;
	size_t n = 0;

	while ((p = strstr(p, "[alert ")))
		n++, p++;
	return n;
}

/* ---- kp_parse_duration ---- */

static void parse_duration__seconds_minutes_hours__convert_to_seconds(void **state)
{
	double d = -1;

	assert_int_equal(kp_parse_duration("300", &d), 0);
	assert_near(d, 300);
	assert_int_equal(kp_parse_duration("300s", &d), 0);
	assert_near(d, 300);
	assert_int_equal(kp_parse_duration("5m", &d), 0);
	assert_near(d, 300);
	assert_int_equal(kp_parse_duration("2h", &d), 0);
	assert_near(d, 7200);
	assert_int_equal(kp_parse_duration("1.5m", &d), 0);
	assert_near(d, 90);
	assert_int_equal(kp_parse_duration("0", &d), 0);
	assert_near(d, 0);
}

static void parse_duration__garbage__is_refused_and_leaves_out_alone(void **state)
{
	static const char *const bad[] = { "",  "5x", "-1", "m",  "s",
					   "5 m", "5mm", "nan", "inf", "1e999" };
	double d = 42;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (kp_parse_duration(bad[i], &d) != -EINVAL)
			fail_msg("'%s' was accepted as %g s", bad[i], d);
		assert_near(d, 42);
	}
}

/* ---- sections ---- */

static void config_load__unknown_section__names_file_and_line(void **state)
{
	assert_config_error("[kvmprobe]\ninterval = 2\n\n[bogus]\nx = 1\n",
			    "t.conf:4: unknown section [bogus]");
}

static void config_load__alert_without_space_and_name__names_file_and_line(void **state)
{
	assert_config_error("; rules\n[alert]\nmetric = exits\n",
			    "t.conf:2: unknown section [alert]");
}

static void config_load__key_outside_a_section__names_file_and_line(void **state)
{
	assert_config_error(
		"# a comment\n\n; another\ninterval = 2\n[kvmprobe]\n",
		"t.conf:4: 'interval' outside a section ([kvmprobe], [alerts] or [alert NAME])");
}

static void config_load__line_without_equals__is_a_syntax_error_at_its_line(void **state)
{
	assert_config_error("[kvmprobe]\ninterval = 2\n\nthis is not a pair\n",
			    "t.conf:4: syntax error");
}

static void config_load__syntax_error_in_rule__is_a_syntax_error_at_its_line(void **state)
{
	assert_config_error("[alert x]\nmetric = exits\nabove 5\nabove = 5\n",
			    "t.conf:3: syntax error");
}

/*
 * inih keeps parsing after a syntax error; the error reported must still
 * be the first one in the file, not a later one.
 */
static void config_load__syntax_error_then_bad_key__reports_the_first_error(void **state)
{
	assert_config_error("[kvmprobe]\nnot a pair\nbogus = 1\n",
			    "t.conf:2: syntax error");
}

/* The message is one line: no newline of the file inside it. */
static void config_load__section_without_closing_bracket__names_line_in_one_line(void **state)
{
	int ret = load("[kvmprobe]\ninterval = 2\n[alerts\ndefaults = no\n");

	assert_int_equal(ret, -EINVAL);
	if (strncmp(err, "t.conf:3: ", 10))
		fail_msg("error '%s' does not start with 't.conf:3: '", err);
	if (strchr(err, '\n'))
		fail_msg("error '%s' holds a newline", err);
}

/* inih skips a UTF-8 byte order mark; the section it starts must count. */
static void config_load__utf8_bom_before_first_section__is_accepted(void **state)
{
	assert_config_ok("\xEF\xBB\xBF[kvmprobe]\ninterval = 3\n");
	assert_near(o.interval_s, 3);
}

/* A line longer than inih's buffer is still one line of the file. */
static void config_load__long_comment_line__counts_as_one_line(void **state)
{
	char text[1024];
	char comment[301];

	memset(comment, 'x', sizeof(comment) - 1);
	comment[0] = '#';
	comment[sizeof(comment) - 1] = '\0';
	snprintf(text, sizeof(text), "%s\n[kvmprobe]\ninterval = 0\n",
		 comment);
	assert_config_error(
		text,
		"t.conf:3: --interval: '0' is not a number of seconds from 0.1 to 3600");
}

/* A value too long for the line buffer is not cut and parsed on. */
static void config_load__overlong_value_line__is_an_error_at_its_line(void **state)
{
	char text[1024], path[301];
	int ret;

	memset(path, 'p', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	snprintf(text, sizeof(text), "[kvmprobe]\nformat = json\noutput = %s\n",
		 path);
	ret = load(text);
	if (ret != -EINVAL)
		fail_msg("load returned %d (output '%s')", ret,
			 o.output ? o.output : "(null)");
	if (strncmp(err, "t.conf:3: ", 10))
		fail_msg("error '%s' does not start with 't.conf:3: '", err);
}

static void config_load__crlf_line_endings__are_accepted(void **state)
{
	const struct kp_alert_rule *r;

	assert_config_ok("[kvmprobe]\r\nformat = json\r\n\r\n"
			 "[alert x]\r\nmetric = exits\r\nabove = 5\r\n"
			 "severity = critical\r\n");
	assert_int_equal(o.format, KP_FMT_JSON);
	r = find_rule("x");
	assert_int_equal(r->metric, metric("exits"));
	assert_near(r->threshold, 5);
	assert_int_equal(r->severity, KP_SEV_CRITICAL);
}

static void config_load__inline_comments__are_not_part_of_values(void **state)
{
	const struct kp_alert_rule *r;

	assert_config_ok("[kvmprobe] ; options\ninterval = 2 ; seconds\n"
			 "[alert x] ; a rule\nmetric = exits ; all\n"
			 "above = 5 ; per second\n");
	assert_near(o.interval_s, 2);
	r = find_rule("x");
	assert_near(r->threshold, 5);
}

static void config_load__empty_text__gives_only_the_defaults(void **state)
{
	assert_config_ok("");
	assert_true(cfg.defaults);
	assert_int_equal(cfg.nrules, default_rule_count());
}

/* ---- [kvmprobe] ---- */

static void config_load__unknown_kvmprobe_option__names_file_and_line(void **state)
{
	assert_config_error("[kvmprobe]\ninterval = 2\nbogus = 1\n",
			    "t.conf:3: unknown option 'bogus' in [kvmprobe]");
}

static void config_load__short_option_name__is_unknown(void **state)
{
	assert_config_error("[kvmprobe]\ni = 2\n",
			    "t.conf:2: unknown option 'i' in [kvmprobe]");
}

static void config_load__command_line_only_options__are_unknown(void **state)
{
	assert_config_error("[kvmprobe]\nconfig = other.conf\n",
			    "t.conf:2: unknown option 'config' in [kvmprobe]");
	assert_config_error("[kvmprobe]\nhelp = yes\n",
			    "t.conf:2: unknown option 'help' in [kvmprobe]");
	assert_config_error("[kvmprobe]\nversion = yes\n",
			    "t.conf:2: unknown option 'version' in [kvmprobe]");
	assert_config_error(
		"[kvmprobe]\nlist-metrics = yes\n",
		"t.conf:2: unknown option 'list-metrics' in [kvmprobe]");
}

static void config_load__interval_zero__reuses_the_cli_message(void **state)
{
	assert_config_error(
		"[kvmprobe]\n\ninterval = 0\n",
		"t.conf:3: --interval: '0' is not a number of seconds from 0.1 to 3600");
}

static void config_load__bad_option_values__reuse_the_cli_messages(void **state)
{
	assert_config_error("[kvmprobe]\nformat = xml\n",
			    "t.conf:2: --format: 'xml' is not text or json");
	assert_config_error("[kvmprobe]\npid = 1\npid = abc\n",
			    "t.conf:3: --pid: 'abc' is not a process id");
	assert_config_error("[kvmprobe]\ncount = 0\n",
			    "t.conf:2: --count: '0' is not a positive integer");
	assert_config_error(
		"[kvmprobe]\nlisten = nope\n",
		"t.conf:2: --listen: 'nope' is not ADDR:PORT, [ADDR]:PORT or PORT");
	assert_config_error("[kvmprobe]\noutput =\n",
			    "t.conf:2: --output: empty file name");
	assert_config_error("[kvmprobe]\nprobes = exits,bogus\n",
			    "t.conf:2: --probes: unknown probe 'bogus'");
	assert_config_error(
		"[kvmprobe]\nattach = fast\n",
		"t.conf:2: --attach: 'fast' is not auto, tp_btf or tracepoint");
	assert_config_error(
		"[kvmprobe]\nmap-entries = 1\n",
		"t.conf:2: --map-entries: '1' is not an integer from 256 to 1048576");
}

static void config_load__flag_option_yes_and_no__sets_or_leaves_the_flag(void **state)
{
	assert_config_ok("[kvmprobe]\nvcpus = yes\nhist = true\nsyslog = on\n"
			 "verbose = 1\n");
	assert_true(o.per_vcpu);
	assert_true(o.hist);
	assert_true(o.syslog);
	assert_int_equal(o.verbose, 1);

	assert_config_ok("[kvmprobe]\nvcpus = no\nhist = false\nsyslog = off\n"
			 "verbose = 0\n");
	assert_false(o.per_vcpu);
	assert_false(o.hist);
	assert_false(o.syslog);
	assert_int_equal(o.verbose, 0);
}

static void config_load__flag_option_garbage__names_file_and_line(void **state)
{
	assert_config_error("[kvmprobe]\nhist = yes\nvcpus = maybe\n",
			    "t.conf:3: vcpus: 'maybe' is not yes or no");
}

static void config_load__options__are_applied_to_opts(void **state)
{
	assert_config_ok("[kvmprobe]\n"
			 "interval = 2.5\n"
			 "format = json\n"
			 "output = /var/log/kvmprobe.ndjson\n"
			 "pid = 100\n"
			 "pid = 200\n"
			 "pid = 100\n"
			 "domain = web\n"
			 "domain = 8a5c9a2e-0000-4000-8000-000000000001\n"
			 "listen = :9477\n"
			 "connect = qemu:///session\n"
			 "count = 7\n"
			 "probes = sched\n"
			 "attach = tp_btf\n"
			 "map-entries = 4096\n");
	assert_near(o.interval_s, 2.5);
	assert_int_equal(o.format, KP_FMT_JSON);
	assert_string_equal(o.output, "/var/log/kvmprobe.ndjson");
	assert_int_equal(o.npids, 2);
	assert_int_equal(o.pids[0], 100);
	assert_int_equal(o.pids[1], 200);
	assert_int_equal(o.ndomains, 2);
	assert_string_equal(o.domains[0], "web");
	assert_string_equal(o.domains[1],
			    "8a5c9a2e-0000-4000-8000-000000000001");
	assert_string_equal(o.listen, ":9477");
	assert_string_equal(o.connect, "qemu:///session");
	assert_int_equal(o.count, 7);
	assert_int_equal(o.probes, 1u << 1);
	assert_int_equal(o.attach, KP_ATTACH_BTF);
	assert_int_equal(o.map_entries, 4096);
}

static void config_load__options__leave_the_others_at_their_defaults(void **state)
{
	assert_config_ok("[kvmprobe]\nformat = json\n");
	assert_near(o.interval_s, 1.0);
	assert_null(o.output);
	assert_int_equal(o.npids, 0);
	assert_null(o.listen);
	assert_string_equal(o.connect, KP_CONNECT_DEFAULT);
	assert_int_equal(o.probes, (1u << NPROBES) - 1);
}

/* The caller applies the command line after the file: the command wins. */
static void config_load__then_cli_apply__command_line_overrides(void **state)
{
	char *argv[] = { "kvmprobe", "--interval=5", "-f", "text", "--pid",
			 "300", "--config", "t.conf" };
	char clierr[256];

	assert_config_ok("[kvmprobe]\ninterval = 2\nformat = json\n"
			 "output = /tmp/out.ndjson\npid = 100\n"
			 "listen = 127.0.0.1:9477\n");
	assert_int_equal(kp_cli_apply(8, argv, &o, probe_names, NPROBES,
				      clierr, sizeof(clierr)),
			 0);
	assert_near(o.interval_s, 5);
	assert_int_equal(o.format, KP_FMT_TEXT);
	/* what the command line did not say stays as the file said */
	assert_string_equal(o.output, "/tmp/out.ndjson");
	assert_string_equal(o.listen, "127.0.0.1:9477");
	assert_int_equal(o.npids, 2);
	assert_int_equal(o.pids[0], 100);
	assert_int_equal(o.pids[1], 300);
	assert_string_equal(o.config, "t.conf");
}

/* ---- [alerts] ---- */

static void config_load__alerts_defaults_yes__appends_defaults_after_file_rules(void **state)
{
	size_t n = default_rule_count();

	assert_true(n > 0);
	assert_config_ok("[alerts]\ndefaults = yes\n"
			 "[alert mine]\nmetric = exits\nabove = 1000\n");
	assert_true(cfg.defaults);
	assert_int_equal(cfg.nrules, 1 + n);
	assert_string_equal(cfg.rules[0].name, "mine");
	find_rule("vcpu_ready_warning");
	find_rule("vcpu_ready_critical");
	find_rule("vm_swap_in");
}

static void config_load__alerts_defaults_no__leaves_only_file_rules(void **state)
{
	assert_config_ok("[alert mine]\nmetric = exits\nabove = 1000\n"
			 "[alerts]\ndefaults = no\n");
	assert_false(cfg.defaults);
	assert_int_equal(cfg.nrules, 1);
	assert_string_equal(cfg.rules[0].name, "mine");

	assert_config_ok("[alerts]\ndefaults = no\n");
	assert_int_equal(cfg.nrules, 0);
}

static void config_load__alerts_defaults_garbage__names_file_and_line(void **state)
{
	assert_config_error("[alerts]\ndefaults = perhaps\n",
			    "t.conf:2: defaults: 'perhaps' is not yes or no");
}

static void config_load__alerts_unknown_key__names_file_and_line(void **state)
{
	assert_config_error("[alerts]\ndefaults = yes\nsyslog = yes\n",
			    "t.conf:3: unknown key 'syslog' in [alerts]");
}

static void config_load__file_rule_named_like_a_default__replaces_it(void **state)
{
	const struct kp_alert_rule *r;
	size_t i, seen = 0;

	assert_config_ok("[alert vcpu_ready_warning]\nmetric = exits\n"
			 "scope = vcpu\nabove = 1000\n");
	assert_int_equal(cfg.nrules, default_rule_count());
	for (i = 0; i < cfg.nrules; i++)
		seen += !strcmp(cfg.rules[i].name, "vcpu_ready_warning");
	assert_int_equal(seen, 1);
	r = find_rule("vcpu_ready_warning");
	assert_int_equal(r->metric, metric("exits"));
	assert_int_equal(r->stat, KP_STAT_RATE);
	assert_near(r->threshold, 1000);
	assert_int_equal(r->line, 1);
	/* the other defaults are still there */
	find_rule("vcpu_ready_critical");
	find_rule("vm_swap_in");
}

/* ---- the built-in rules ---- */

static void default_rules__parse_alone__without_error(void **state)
{
	assert_config_ok("");
	assert_int_equal(cfg.nrules, default_rule_count());
}

static void default_rules__reference_registered_metrics_with_fitting_stats(void **state)
{
	const struct kp_metric_desc *d;
	size_t i;

	assert_config_ok("");
	for (i = 0; i < cfg.nrules; i++) {
		const struct kp_alert_rule *r = &cfg.rules[i];

		d = kp_metric(r->metric);
		if (!d)
			fail_msg("rule '%s': metric %d not registered",
				 r->name, r->metric);
		assert_int_equal(kp_metric_by_json(d->json), r->metric);
		switch (r->stat) {
		case KP_STAT_PCT:
		case KP_STAT_AVG_PCT:
			assert_int_equal(d->unit, KP_UNIT_NS);
			break;
		case KP_STAT_VALUE:
		case KP_STAT_DELTA:
			assert_int_equal(d->type, KP_GAUGE);
			break;
		case KP_STAT_P50_US:
		case KP_STAT_P99_US:
		case KP_STAT_MEAN_US:
			assert_int_equal(d->type, KP_HISTOGRAM);
			break;
		case KP_STAT_RATIO:
			assert_non_null(kp_metric(r->of));
			assert_int_equal(d->type == KP_GAUGE,
					 kp_metric(r->of)->type == KP_GAUGE);
			break;
		case KP_STAT_RATE:
			break;
		case KP_STAT__COUNT:
			fail_msg("rule '%s': no stat", r->name);
		}
		if (r->scope == KP_SCOPE_VCPU)
			assert_int_equal(d->scope, KP_SCOPE_VCPU);
		if (r->above)
			assert_true(r->clear <= r->threshold);
		else
			assert_true(r->clear >= r->threshold);
	}
}

static void default_rules__ready_and_swap__have_the_literature_thresholds(void **state)
{
	const struct kp_alert_rule *r;

	assert_config_ok("");
	r = find_rule("vcpu_ready_warning");
	assert_int_equal(r->metric, metric("run_delay"));
	assert_int_equal(r->stat, KP_STAT_PCT);
	assert_int_equal(r->scope, KP_SCOPE_VCPU);
	assert_true(r->above);
	assert_near(r->threshold, 5);
	assert_near(r->clear, 4);
	assert_near(r->for_s, 300);
	assert_int_equal(r->severity, KP_SEV_WARNING);

	r = find_rule("vcpu_ready_critical");
	assert_near(r->threshold, 10);
	assert_near(r->for_s, 120);
	assert_int_equal(r->severity, KP_SEV_CRITICAL);

	r = find_rule("vm_swap_in");
	assert_int_equal(r->metric, metric("memory.swap_in_kib"));
	assert_int_equal(r->stat, KP_STAT_DELTA);
	assert_int_equal(r->scope, KP_SCOPE_VM);
	assert_near(r->threshold, 0);
	assert_near(r->clear, 0);
	assert_near(r->for_s, 0);
}

/* name, metric, stat, above, clear, for (s), severity */
static void expect_rule(const char *name, const char *json, enum kp_stat st,
			double above, double clear, double for_s,
			enum kp_severity sev)
{
	const struct kp_alert_rule *r = find_rule(name);

	assert_non_null(r);
	assert_int_equal(r->metric, metric(json));
	assert_int_equal(r->stat, st);
	assert_int_equal(r->scope, KP_SCOPE_VM);
	assert_true(r->above);
	assert_near(r->threshold, above);
	assert_near(r->clear, clear);
	assert_near(r->for_s, for_s);
	assert_int_equal(r->severity, sev);
}

static void default_rules__literature_set__cpu_memory_balloon_disk_drops(void **state)
{
	assert_config_ok("");
	expect_rule("vm_cpu_usage_warning", "cpu_pct", KP_STAT_AVG_PCT, 80,
		    75, 300, KP_SEV_WARNING);
	expect_rule("vm_cpu_usage_critical", "cpu_pct", KP_STAT_AVG_PCT, 95,
		    90, 120, KP_SEV_CRITICAL);
	expect_rule("guest_memory_warning", "memory.guest_used_kib",
		    KP_STAT_RATIO, 85, 80, 300, KP_SEV_WARNING);
	assert_int_equal(find_rule("guest_memory_warning")->of,
			 metric("memory.available_kib"));
	expect_rule("guest_memory_critical", "memory.guest_used_kib",
		    KP_STAT_RATIO, 95, 90, 120, KP_SEV_CRITICAL);
	expect_rule("vm_ballooned", "memory.ballooned_kib", KP_STAT_VALUE,
		    1048576, 786432, 300, KP_SEV_WARNING);
	expect_rule("disk_latency_p99", "disks.latency_hist", KP_STAT_P99_US,
		    20000, 15000, 120, KP_SEV_WARNING);
	expect_rule("disk_latency_p99_critical", "disks.latency_hist",
		    KP_STAT_P99_US, 100000, 80000, 120, KP_SEV_CRITICAL);
	expect_rule("packet_drops", "interfaces.drops", KP_STAT_RATIO, 0.1,
		    0.05, 60, KP_SEV_WARNING);
	expect_rule("packet_drops_critical", "interfaces.drops",
		    KP_STAT_RATIO, 1, 0.5, 120, KP_SEV_CRITICAL);
}

static void config_load__ratio_of_gauge_and_counter__is_refused(void **state)
{
	assert_config_error(
		"[alerts]\ndefaults = no\n[alert m]\nmetric = memory.guest_used_kib\n"
		"stat = ratio\nof = exits\nscope = vm\nabove = 1\n",
		"t.conf:3: rule 'm': ratio takes two gauges or two counters");
}

/*
 * ---- the built-in rules fire and resolve: each on crafted intervals of
 * 10 s, through the alert engine, until it fires, then until it resolves
 */

enum scenario { SC_CPU, SC_MEM, SC_BALLOON, SC_DISK, SC_DROPS };

/* One interval of VM 100 for scenario sc, high or back to normal. */
static void scenario_interval(struct kp_interval *iv, enum scenario sc,
			      double level)
{
	struct kp_hist h = { 0 };
	struct kp_vm_rec *vm;
	unsigned int i;

	memset(iv, 0, sizeof(*iv));
	iv->interval_s = 10;
	/* two vCPUs, each on CPU level percent of the interval */
	for (i = 0; i < 2; i++)
		assert_int_equal(kp_interval_add(iv, 100, 101 + i, i,
				 metric("cpu_pct"), "",
				 (uint64_t)(level * 1e8), NULL), 0);
	if (sc == SC_DISK) { /* 100 requests of level ms */
		for (i = 0; i < 100; i++)
			kp_hist_add(&h, (uint64_t)(level * 1e6));
		assert_int_equal(kp_interval_add_dev(iv, 100,
				 metric("disks.latency_hist"), "vda", "read",
				 0, &h), 0);
	}
	if (sc == SC_DROPS) { /* level percent of 10000 packets dropped */
		assert_int_equal(kp_interval_add_dev(iv, 100,
				 metric("interfaces.packets"), "vnet0", "rx",
				 10000, NULL), 0);
		if (level > 0)
			assert_int_equal(kp_interval_add_dev(iv, 100,
					 metric("interfaces.drops"), "vnet0",
					 "TAP_FILTER", (uint64_t)(level * 100),
					 NULL), 0);
	}
	assert_int_equal(kp_interval_finish(iv), 0);
	vm = &iv->vms[0];
	if (sc == SC_MEM) { /* 4 GiB seen, level percent in use */
		assert_int_equal(kp_vm_set_gauge(vm, metric("memory.available_kib"),
						 4194304), 0);
		assert_int_equal(kp_vm_set_gauge(vm, metric("memory.usable_kib"),
				 (uint64_t)(4194304 * (1 - level / 100))), 0);
	}
	if (sc == SC_BALLOON) { /* 8 GiB at most, level GiB taken */
		assert_int_equal(kp_vm_set_gauge(vm, metric("memory.balloon_max_kib"),
						 8388608), 0);
		assert_int_equal(kp_vm_set_gauge(vm, metric("memory.balloon_current_kib"),
				 (uint64_t)(8388608 - level * 1048576)), 0);
	}
	assert_int_equal(kp_vm_derive_memory(vm), 0);
}

struct seen {
	int fired, resolved;
	double fired_at, resolved_at;
	double now;
};

static int on_event(const struct kp_alert_event *ev, void *arg)
{
	struct seen *s = arg;

	assert_int_equal(ev->pid, 100);
	assert_int_equal(ev->vcpu, -1);
	if (ev->firing) {
		s->fired++;
		s->fired_at = s->now;
	} else {
		s->resolved++;
		s->resolved_at = s->now;
	}
	return 0;
}

/*
 * Rule name alone, on scenario sc: level high for 10 min, then low for
 * 2 min. It fires once, for_s after the condition started (plus one
 * interval), and resolves at the first low interval.
 */
static void fire_and_resolve(const char *name, enum scenario sc, double high,
			     double low)
{
	const struct kp_alert_rule *r;
	struct kp_interval iv;
	struct kp_alerts *a;
	struct seen s = { 0 };
	double t;

	assert_config_ok("");
	r = find_rule(name);
	assert_non_null(r);
	a = kp_alerts_new(r, 1);
	assert_non_null(a);
	for (t = 10; t <= 720; t += 10) {
		s.now = t;
		scenario_interval(&iv, sc, t <= 600 ? high : low);
		assert_int_equal(kp_alerts_eval(a, &iv, t, on_event, &s), 0);
		kp_interval_clear(&iv);
	}
	if (s.fired != 1 || s.resolved != 1)
		fail_msg("rule '%s': fired %d, resolved %d times", name,
			 s.fired, s.resolved);
	if (s.fired_at < 10 + r->for_s || s.fired_at > 20 + r->for_s)
		fail_msg("rule '%s': fired at %g s, for is %g s", name,
			 s.fired_at, r->for_s);
	assert_near(s.resolved_at, 610);
	kp_alerts_free(a);
}

static void builtin_rules__vm_cpu_usage__fire_on_vcpu_average_and_resolve(void **state)
{
	fire_and_resolve("vm_cpu_usage_warning", SC_CPU, 85, 40);
	fire_and_resolve("vm_cpu_usage_critical", SC_CPU, 97, 40);
}

static void builtin_rules__vm_cpu_usage__average_below_threshold__stays_quiet(void **state)
{
	const struct kp_alert_rule *r;
	struct kp_interval iv;
	struct kp_alerts *a;
	struct seen s = { 0 };
	double t;

	/* 2 vCPUs at 79% each: the VM's sum is 158%, the average 79% */
	assert_config_ok("");
	r = find_rule("vm_cpu_usage_warning");
	a = kp_alerts_new(r, 1);
	for (t = 10; t <= 600; t += 10) {
		scenario_interval(&iv, SC_CPU, 79);
		assert_int_equal(kp_alerts_eval(a, &iv, t, on_event, &s), 0);
		kp_interval_clear(&iv);
	}
	assert_int_equal(s.fired, 0);
	kp_alerts_free(a);
}

static void builtin_rules__guest_memory__fire_on_used_share_and_resolve(void **state)
{
	fire_and_resolve("guest_memory_warning", SC_MEM, 90, 50);
	fire_and_resolve("guest_memory_critical", SC_MEM, 97, 50);
}

static void builtin_rules__ballooned__fire_above_1gib_and_resolve(void **state)
{
	fire_and_resolve("vm_ballooned", SC_BALLOON, 2, 0.5);
}

static void builtin_rules__disk_latency__fire_on_p99_and_resolve(void **state)
{
	fire_and_resolve("disk_latency_p99", SC_DISK, 40, 1);
	fire_and_resolve("disk_latency_p99_critical", SC_DISK, 150, 1);
}

static void builtin_rules__packet_drops__fire_on_drop_share_and_resolve(void **state)
{
	fire_and_resolve("packet_drops", SC_DROPS, 0.5, 0);
	fire_and_resolve("packet_drops_critical", SC_DROPS, 2, 0);
}

/* ---- [alert NAME]: names ---- */

static void config_load__rule_without_name__names_file_and_line(void **state)
{
	assert_config_error(
		"[alerts]\ndefaults = no\n[alert ]\nmetric = exits\n",
		"t.conf:3: [alert ]: a rule needs a name of 1 to 63 characters");
	assert_config_error(
		"[alert \"\"]\nmetric = exits\n",
		"t.conf:1: [alert \"\"]: a rule needs a name of 1 to 63 characters");
}

static void config_load__rule_name_too_long__names_file_and_line(void **state)
{
	char text[256], want[256], name[KP_RULE_NAME_MAX + 1];

	memset(name, 'n', KP_RULE_NAME_MAX);
	name[KP_RULE_NAME_MAX] = '\0';
	snprintf(text, sizeof(text),
		 "[alerts]\ndefaults = no\n[alert %s]\nmetric = exits\n"
		 "above = 1\n",
		 name);
	snprintf(want, sizeof(want),
		 "t.conf:3: [alert %s]: a rule needs a name of 1 to 63 characters",
		 name);
	assert_config_error(text, want);

	/* one shorter fits */
	name[KP_RULE_NAME_MAX - 1] = '\0';
	snprintf(text, sizeof(text),
		 "[alerts]\ndefaults = no\n[alert %s]\nmetric = exits\n"
		 "above = 1\n",
		 name);
	assert_config_ok(text);
	assert_string_equal(cfg.rules[0].name, name);
}

static void config_load__duplicate_rule__names_the_second_header(void **state)
{
	assert_config_error("[alert x]\nmetric = exits\nabove = 1\n\n"
			    "[alert y]\nmetric = exits\nabove = 2\n"
			    "[alert x]\nmetric = exits\nabove = 3\n",
			    "t.conf:8: rule 'x' defined twice");
}

static void config_load__quoted_rule_name__may_hold_spaces(void **state)
{
	const struct kp_alert_rule *r;

	assert_config_ok("[alert \"exit storm\"]\nmetric = exits\nabove = 1e5\n"
			 "[alert\tplain]\nmetric = exits\nbelow = 1\n");
	r = find_rule("exit storm");
	assert_near(r->threshold, 1e5);
	r = find_rule("plain");
	assert_false(r->above);
}

static void config_load__too_many_rules__names_the_first_extra_header(void **state)
{
	size_t cap = (KP_MAX_RULES + 2) * 48, len = 0, i;
	char *text = malloc(cap), want[128];

	assert_non_null(text);
	len += snprintf(text + len, cap - len, "[alerts]\ndefaults = no\n");
	for (i = 0; i <= KP_MAX_RULES; i++)
		len += snprintf(text + len, cap - len,
				"[alert r%zu]\nmetric = exits\nabove = %zu\n",
				i, i);
	/* the rule past the limit is on line 3 + 3 * KP_MAX_RULES */
	snprintf(want, sizeof(want), "t.conf:%d: too many rules (at most %d)",
		 3 + 3 * KP_MAX_RULES, KP_MAX_RULES);
	assert_config_error(text, want);

	/* exactly the limit loads */
	text[len - strlen("[alert r128]\nmetric = exits\nabove = 128\n")] =
		'\0';
	assert_config_ok(text);
	assert_int_equal(cfg.nrules, KP_MAX_RULES);
	assert_string_equal(cfg.rules[KP_MAX_RULES - 1].name, "r127");
	free(text);
}

/* n rules r0.. of the file, then the five built-in names with file values */
/* The name of built-in rule i (in kp_default_rules' order), or NULL. */
static const char *default_rule_name(size_t i, char *name, size_t len)
{
	const char *p = kp_default_rules, *end;

	while ((p = strstr(p, "[alert "))) {
		p += strlen("[alert ");
		if (i-- == 0) {
			end = strchr(p, ']');
			assert_non_null(end);
			snprintf(name, len, "%.*s", (int)(end - p), p);
			return name;
		}
	}
	return NULL;
}

/* n rules of the file's own, then (override) one of each built-in name,
 * built-in rule i with threshold 1000 + i. */
static char *rules_text(size_t n, bool override)
{
	size_t nb = default_rule_count();
	size_t cap = (n + nb + 8) * 96, len = 0, i;
	char *text = malloc(cap), name[KP_RULE_NAME_MAX];

	assert_non_null(text);
	text[0] = '\0';
	for (i = 0; i < n; i++)
		len += snprintf(text + len, cap - len,
				"[alert r%zu]\nmetric = exits\nabove = %zu\n",
				i, i);
	for (i = 0; override && i < nb; i++)
		len += snprintf(text + len, cap - len,
				"[alert %s]\nmetric = exits\nabove = %zu\n",
				default_rule_name(i, name, sizeof(name)),
				1000 + i);
	return text;
}

/* Index of built-in rule name in kp_default_rules. */
static size_t default_rule_index(const char *want)
{
	char name[KP_RULE_NAME_MAX];
	size_t i;

	for (i = 0; default_rule_name(i, name, sizeof(name)); i++)
		if (!strcmp(name, want))
			return i;
	fail_msg("no built-in rule '%s'", want);
	return 0;
}

static void config_load__file_overriding_the_builtins__limit_counts_the_merged_set(void **state)
{
	size_t nb = default_rule_count();
	char *text = rules_text(KP_MAX_RULES - nb, true);
	const struct kp_alert_rule *r;

	/* 128 - nb rules of its own and every built-in name: 128 in all */
	assert_true(nb > 0 && nb < KP_MAX_RULES);
	assert_config_ok(text);
	assert_int_equal(cfg.nrules, KP_MAX_RULES);
	r = find_rule("packet_drops");
	assert_int_equal(r->metric, kp_metric_by_json("exits"));
	assert_near(r->threshold, 1000 + default_rule_index("packet_drops"));
	free(text);
}

static void config_load__builtins_past_the_limit__are_refused_naming_the_file(void **state)
{
	size_t nb = default_rule_count();
	char *text = rules_text(KP_MAX_RULES - nb + 1, false);
	char want[256];

	/* the file's rules and the built-in ones: one too many */
	snprintf(want, sizeof(want),
		 "t.conf: too many rules with the built-in ones (at most %d; [alerts] defaults = no turns them off)",
		 KP_MAX_RULES);
	assert_config_error(text, want);
	free(text);
	/* one fewer: exactly the limit */
	text = rules_text(KP_MAX_RULES - nb, false);
	assert_config_ok(text);
	assert_int_equal(cfg.nrules, KP_MAX_RULES);
	assert_non_null(find_rule("packet_drops"));
	free(text);
}

/* ---- [alert NAME]: keys ---- */

static void config_load__rule_fields__are_parsed(void **state)
{
	const struct kp_alert_rule *r;

	assert_config_ok("[alerts]\ndefaults = no\n"
			 "[alert hlt_share]\n"
			 "metric = exits\n"
			 "stat = ratio\n"
			 "of = exits\n"
			 "label = HLT\n"
			 "scope = vcpu\n"
			 "above = 80\n"
			 "clear = 70.5\n"
			 "for = 2m\n"
			 "severity = info\n"
			 "domain = web\n"
			 "domain = 8A5C9A2E-0000-4000-8000-000000000001\n"
			 "\n"
			 "[alert slow_io]\n"
			 "metric = userspace_time\n"
			 "stat = p99_us\n"
			 "below = 10\n");
	assert_int_equal(cfg.nrules, 2);
	r = find_rule("hlt_share");
	assert_int_equal(r->metric, metric("exits"));
	assert_int_equal(r->stat, KP_STAT_RATIO);
	assert_int_equal(r->of, metric("exits"));
	assert_string_equal(r->label, "HLT");
	assert_int_equal(r->scope, KP_SCOPE_VCPU);
	assert_true(r->above);
	assert_near(r->threshold, 80);
	assert_near(r->clear, 70.5);
	assert_near(r->for_s, 120);
	assert_int_equal(r->severity, KP_SEV_INFO);
	assert_int_equal(r->ndomains, 2);
	assert_string_equal(r->domains[0], "web");
	assert_string_equal(r->domains[1],
			    "8A5C9A2E-0000-4000-8000-000000000001");
	assert_int_equal(r->line, 3);

	/* the defaults of what a rule does not say */
	r = find_rule("slow_io");
	assert_int_equal(r->metric, metric("userspace_time"));
	assert_int_equal(r->stat, KP_STAT_P99_US);
	assert_string_equal(r->label, "");
	assert_int_equal(r->scope, KP_SCOPE_VM);
	assert_false(r->above);
	assert_near(r->threshold, 10);
	assert_near(r->clear, 10); /* clear defaults to the threshold */
	assert_near(r->for_s, 0);
	assert_int_equal(r->severity, KP_SEV_WARNING);
	assert_int_equal(r->ndomains, 0);
	assert_int_equal(r->line, 16);
}

static void config_load__every_stat_name__is_accepted(void **state)
{
	/* each stat with a metric it fits (see the mismatch test below) */
	static const char *const names[] = { "rate",    "pct",   "p50_us",
					     "p99_us",  "mean_us", "value",
					     "delta",   "ratio" };
	static const char *const metrics[] = {
		"exits", "userspace_time", "userspace_time", "userspace_time",
		"userspace_time", "memory.swap_in_kib", "memory.swap_in_kib",
		"exits",
	};
	char text[256];
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(text, sizeof(text),
			 "[alert s]\nmetric = %s\nof = exits\nstat = %s\n"
			 "above = 1\n",
			 metrics[i], names[i]);
		assert_config_ok(text);
		assert_int_equal(find_rule("s")->stat, i);
		assert_string_equal(kp_stat_name(i), names[i]);
	}
}

static void config_load__stat_that_cannot_fit_the_metric__names_the_rule(void **state)
{
	assert_config_error(
		"[alert x]\nmetric = exits\nstat = p99_us\nabove = 1\n",
		"t.conf:1: rule 'x': percentiles and means need a histogram metric");
	assert_config_error(
		"[alert x]\nmetric = exits\nstat = delta\nabove = 1\n",
		"t.conf:1: rule 'x': value and delta need a gauge metric");
	assert_config_error(
		"[alert x]\nmetric = exits\nstat = pct\nabove = 1\n",
		"t.conf:1: rule 'x': pct needs a metric in nanoseconds");
	assert_config_error(
		"[alert x]\nmetric = memory.rss_kib\nstat = value\n"
		"scope = vcpu\nabove = 1\n",
		"t.conf:1: rule 'x': gauges are per VM: scope = vm");
	assert_config_error(
		"[alert x]\nmetric = exit_time\nstat = p99_us\n"
		"scope = vcpu\nabove = 1\n",
		"t.conf:1: rule 'x': this metric is per VM: scope = vm");
}

static void config_load__unknown_metric__names_file_and_line(void **state)
{
	assert_config_error(
		"[alert x]\nabove = 1\nmetric = bogus\n",
		"t.conf:3: unknown metric 'bogus' (kvmprobe --list-metrics)");
	assert_config_error(
		"[alert x]\nmetric = exits\nstat = ratio\nof = nope\nabove = 1\n",
		"t.conf:4: unknown metric 'nope' (kvmprobe --list-metrics)");
}

static void config_load__unknown_stat__names_file_and_line(void **state)
{
	assert_config_error(
		"[alert x]\nmetric = exits\nstat = p95_us\n",
		"t.conf:3: stat: 'p95_us' is not rate, pct, p50_us, p99_us, mean_us, value, delta, ratio or avg_pct");
}

static void config_load__ratio_without_of__names_the_rule_header(void **state)
{
	/* found at the next header */
	assert_config_error(
		"[alerts]\ndefaults = no\n[alert x]\nmetric = exits\n"
		"stat = ratio\nabove = 50\n[alert y]\nmetric = exits\n"
		"above = 1\n",
		"t.conf:3: rule 'x': stat ratio needs 'of = METRIC'");
	/* found at the end of the file */
	assert_config_error(
		"[alert x]\nmetric = exits\nstat = ratio\nabove = 50\n\n\n",
		"t.conf:1: rule 'x': stat ratio needs 'of = METRIC'");
}

static void config_load__bad_scope__names_file_and_line(void **state)
{
	assert_config_error("[alert x]\nmetric = exits\nscope = host\n",
			    "t.conf:3: scope: 'host' is not vm or vcpu");
}

static void config_load__above_and_below__names_the_second(void **state)
{
	assert_config_error(
		"[alert x]\nmetric = exits\nabove = 5\nfor = 1m\nbelow = 1\n",
		"t.conf:5: a rule takes one of above = and below =");
	assert_config_error(
		"[alert x]\nmetric = exits\nbelow = 5\nabove = 1\n",
		"t.conf:4: a rule takes one of above = and below =");
}

static void config_load__non_number_thresholds__name_file_and_line(void **state)
{
	assert_config_error("[alert x]\nmetric = exits\nabove = five\n",
			    "t.conf:3: above: 'five' is not a number");
	assert_config_error("[alert x]\nmetric = exits\nbelow = 1x\n",
			    "t.conf:3: below: '1x' is not a number");
	assert_config_error("[alert x]\nmetric = exits\nabove = inf\n",
			    "t.conf:3: above: 'inf' is not a number");
	assert_config_error("[alert x]\nmetric = exits\nabove = nan\n",
			    "t.conf:3: above: 'nan' is not a number");
	assert_config_error("[alert x]\nmetric = exits\nabove =\n",
			    "t.conf:3: above: '' is not a number");
	assert_config_error(
		"[alert x]\nmetric = exits\nabove = 5\nclear = lots\n",
		"t.conf:4: clear: 'lots' is not a number");
}

static void config_load__clear_past_the_threshold__names_the_rule_header(void **state)
{
	/* above: clear must not be above the threshold */
	assert_config_error(
		"[alerts]\ndefaults = no\n[alert x]\nmetric = exits\n"
		"above = 5\nclear = 6\n",
		"t.conf:3: rule 'x': clear 6 is past the threshold 5");
	/* below: clear must not be below it; clear given first */
	assert_config_error(
		"[alert y]\nmetric = exits\nclear = 4\nbelow = 5\n"
		"[kvmprobe]\ninterval = 1\n",
		"t.conf:1: rule 'y': clear 4 is past the threshold 5");
}

static void config_load__clear_at_or_inside_the_threshold__is_accepted(void **state)
{
	assert_config_ok("[alert a]\nmetric = exits\nabove = 5\nclear = 5\n"
			 "[alert b]\nmetric = exits\nabove = 5\nclear = -1\n"
			 "[alert c]\nmetric = exits\nbelow = 5\nclear = 5\n"
			 "[alert d]\nmetric = exits\nbelow = 5\nclear = 9\n");
	assert_near(find_rule("b")->clear, -1);
	assert_near(find_rule("d")->clear, 9);
}

static void config_load__bad_durations__name_file_and_line(void **state)
{
	assert_config_error(
		"[alert x]\nmetric = exits\nabove = 1\nfor = 5x\n",
		"t.conf:4: for: '5x' is not a duration (30s, 5m, 2h)");
	assert_config_error(
		"[alert x]\nmetric = exits\nabove = 1\nfor = -1\n",
		"t.conf:4: for: '-1' is not a duration (30s, 5m, 2h)");
	assert_config_error(
		"[alert x]\nmetric = exits\nabove = 1\nfor =\n",
		"t.conf:4: for: '' is not a duration (30s, 5m, 2h)");
	assert_config_error(
		"[alert x]\nmetric = exits\nabove = 1\nfor = m\n",
		"t.conf:4: for: 'm' is not a duration (30s, 5m, 2h)");
}

static void config_load__bad_severity__names_file_and_line(void **state)
{
	assert_config_error(
		"[alert x]\nmetric = exits\nabove = 1\nseverity = fatal\n",
		"t.conf:4: severity: 'fatal' is not info, warning or critical");
}

static void config_load__too_many_domains__names_the_extra_line(void **state)
{
	char text[2048], want[128];
	size_t len = 0;
	int i;

	len += snprintf(text + len, sizeof(text) - len,
			"[alert x]\nmetric = exits\nabove = 1\n");
	for (i = 0; i <= KP_RULE_DOMAINS_MAX; i++)
		len += snprintf(text + len, sizeof(text) - len,
				"domain = vm%d\n", i);
	snprintf(want, sizeof(want), "t.conf:%d: domain: at most %d per rule",
		 4 + KP_RULE_DOMAINS_MAX, KP_RULE_DOMAINS_MAX);
	assert_config_error(text, want);
}

static void config_load__empty_or_long_domain__names_file_and_line(void **state)
{
	char text[512], want[128], dom[KP_DOMAIN_NAME_MAX + 1];

	assert_config_error(
		"[alert x]\nmetric = exits\nabove = 1\ndomain =\n",
		"t.conf:4: domain: empty or longer than 127 characters");

	memset(dom, 'd', KP_DOMAIN_NAME_MAX);
	dom[KP_DOMAIN_NAME_MAX] = '\0';
	snprintf(text, sizeof(text),
		 "[alert x]\nmetric = exits\nabove = 1\ndomain = %s\n", dom);
	snprintf(want, sizeof(want),
		 "t.conf:4: domain: empty or longer than %d characters",
		 KP_DOMAIN_NAME_MAX - 1);
	assert_config_error(text, want);
}

static void config_load__long_label__names_file_and_line(void **state)
{
	char text[256], label[KP_LABEL_MAX + 1];

	memset(label, 'l', KP_LABEL_MAX);
	label[KP_LABEL_MAX] = '\0';
	snprintf(text, sizeof(text),
		 "[alert x]\nmetric = exits\nlabel = %s\nabove = 1\n", label);
	assert_config_error(text, "t.conf:3: label: longer than 31 characters");

	label[KP_LABEL_MAX - 1] = '\0';
	snprintf(text, sizeof(text),
		 "[alert x]\nmetric = exits\nlabel = %s\nabove = 1\n", label);
	assert_config_ok(text);
	assert_string_equal(find_rule("x")->label, label);
}

static void config_load__unknown_rule_key__names_file_and_line(void **state)
{
	assert_config_error(
		"[alert x]\nmetric = exits\nabove = 1\nthreshold = 2\n",
		"t.conf:4: unknown key 'threshold' in rule 'x'");
}

static void config_load__rule_without_metric__names_the_rule_header(void **state)
{
	/* found at the next header */
	assert_config_error(
		"[alerts]\ndefaults = no\n\n[alert x]\nabove = 1\nfor = 1m\n"
		"\n[kvmprobe]\ninterval = 1\n",
		"t.conf:4: rule 'x': no metric");
	/* found at the end of the file */
	assert_config_error("[kvmprobe]\ninterval = 1\n[alert x]\nabove = 1\n"
			    "\n; the end\n",
			    "t.conf:3: rule 'x': no metric");
	/* an empty section, at the end of the file */
	assert_config_error("[kvmprobe]\ninterval = 1\n[alert empty]\n",
			    "t.conf:3: rule 'empty': no metric");
	/* an empty section followed by another */
	assert_config_error("[alert empty]\n[alert y]\nmetric = exits\n"
			    "above = 1\n",
			    "t.conf:1: rule 'empty': no metric");
}

static void config_load__rule_without_threshold__names_the_rule_header(void **state)
{
	assert_config_error("[alert x]\nmetric = exits\nclear = 1\n"
			    "[alert y]\nmetric = exits\nabove = 1\n",
			    "t.conf:1: rule 'x': no threshold (above = or below =)");
	assert_config_error("[alert y]\nmetric = exits\nabove = 1\n"
			    "[alert x]\nmetric = exits\n",
			    "t.conf:4: rule 'x': no threshold (above = or below =)");
}

/* A rule that already failed is not reported again as incomplete. */
static void config_load__error_inside_rule__is_not_replaced_by_a_later_one(void **state)
{
	assert_config_error(
		"[alert x]\nmetric = bogus\n",
		"t.conf:2: unknown metric 'bogus' (kvmprobe --list-metrics)");
	assert_config_error("[alert x]\nscope = host\nmetric = exits\n",
			    "t.conf:2: scope: 'host' is not vm or vcpu");
}

static void config_load__small_error_buffer__is_truncated_not_overrun(void **state)
{
	char small[8];

	memset(small, 'z', sizeof(small));
	kp_cli_defaults(&o, NPROBES);
	assert_int_equal(kp_config_load_string("[bogus]\n", "t.conf", &o, &cfg,
					       probe_names, NPROBES, small, 5),
			 -EINVAL);
	assert_string_equal(small, "t.co");
	assert_int_equal(small[5], 'z');
}

/* ---- files ---- */

static void config_load__service_fixture__applies_options_and_rules(void **state)
{
	const struct kp_alert_rule *r;

	assert_int_equal(load_file(FIXTURES "service.conf"), 0);
	assert_near(o.interval_s, 10);
	assert_int_equal(o.format, KP_FMT_JSON);
	assert_string_equal(o.output, "/var/log/kvmprobe/kvmprobe.ndjson");
	assert_string_equal(o.listen, "127.0.0.1:9477");
	assert_true(o.syslog);
	assert_int_equal(cfg.nrules, 2 + default_rule_count());

	r = find_rule("exit storm");
	assert_int_equal(r->metric, metric("exits"));
	assert_int_equal(r->scope, KP_SCOPE_VCPU);
	assert_near(r->threshold, 100000);
	assert_near(r->clear, 50000);
	assert_near(r->for_s, 60);
	assert_int_equal(r->severity, KP_SEV_CRITICAL);
	assert_int_equal(r->line, 14);

	r = find_rule("slow_vmm");
	assert_int_equal(r->metric, metric("userspace_time"));
	assert_int_equal(r->stat, KP_STAT_P99_US);
	assert_string_equal(r->label, "MMIO");
	assert_int_equal(r->ndomains, 1);
	assert_string_equal(r->domains[0], "web");
	assert_int_equal(r->line, 23);
}

static void config_load__error_fixture__names_path_and_line(void **state)
{
	assert_int_equal(load_file(FIXTURES "bad-clear.conf"), -EINVAL);
	assert_string_equal(
		err,
		"tests/fixtures/config/bad-clear.conf:9: rule 'ready': clear 12 is past the threshold 10");
	assert_int_equal(load_file(FIXTURES "bad-option.conf"), -EINVAL);
	assert_string_equal(
		err,
		"tests/fixtures/config/bad-option.conf:5: --interval: '0' is not a number of seconds from 0.1 to 3600");
}

static void config_load__crlf_fixture__loads(void **state)
{
	assert_int_equal(load_file(FIXTURES "crlf.conf"), 0);
	assert_int_equal(o.format, KP_FMT_JSON);
	assert_int_equal(cfg.nrules, 1);
	assert_near(find_rule("exits")->threshold, 5000);
}

static void config_load__missing_file__fails_to_open(void **state)
{
	assert_int_equal(load_file(FIXTURES "no-such.conf"), -ENOENT);
	assert_string_equal(
		err,
		"tests/fixtures/config/no-such.conf: failed to open: No such file or directory");
}

/* fopen() of a directory succeeds; reading it must not pass for empty. */
static void config_load__directory__is_an_error(void **state)
{
	int ret = load_file("tests/fixtures/config");

	if (ret >= 0)
		fail_msg("a directory loaded as a config (ret %d, %zu rules)",
			 ret, cfg.nrules);
	if (strncmp(err, "tests/fixtures/config", 21))
		fail_msg("error '%s' does not name the path", err);
}

#define T(f) cmocka_unit_test_teardown(f, teardown)

/* ---- tools/service/kvmprobe.rules.yml mirrors the built-in rules ---- */

#define RULES_YML "tools/service/kvmprobe.rules.yml"
#define YML_MAX 16

/* One alerting rule of the Prometheus rules file, as far as we compare. */
struct yml_rule {
	char alert[64], expr[512], forv[16], severity[16], mirrors[64];
	int line;
};

static char *trim(char *s)
{
	char *e;

	while (*s == ' ')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* "key: value" of a trimmed line; NULL when the line is not key's. */
static const char *value_of_key(const char *l, const char *key)
{
	size_t n = strlen(key);

	if (strncmp(l, key, n) || l[n] != ':')
		return NULL;
	l += n + 1;
	while (*l == ' ')
		l++;
	return l;
}

/*
 * Read the rules file: its format is plain block YAML (promtool checks
 * it); an expr is on its line or, after "expr: >", on the lines indented
 * deeper than the key, joined with blanks.
 */
static size_t read_rules_yml(struct yml_rule *v)
{
	FILE *f = fopen(RULES_YML, "r");
	size_t n = 0, indent = 0, expr_indent = 0;
	bool in_expr = false;
	char buf[512], *l;
	const char *val;
	int line = 0;

	if (!f)
		fail_msg("%s: %s", RULES_YML, strerror(errno));
	while (fgets(buf, sizeof(buf), f)) {
		line++;
		indent = strspn(buf, " ");
		l = trim(buf);
		if (in_expr && *l && indent > expr_indent) {
			strncat(v[n - 1].expr, " ", sizeof(v[n - 1].expr) -
				strlen(v[n - 1].expr) - 1);
			strncat(v[n - 1].expr, l, sizeof(v[n - 1].expr) -
				strlen(v[n - 1].expr) - 1);
			continue;
		}
		in_expr = false;
		if (!*l || *l == '#')
			continue;
		if ((val = value_of_key(l, "- alert"))) {
			assert_true(n < YML_MAX);
			memset(&v[n], 0, sizeof(v[n]));
			snprintf(v[n].alert, sizeof(v[n].alert), "%s", val);
			v[n++].line = line;
			continue;
		}
		if (!n)
			continue;
		if ((val = value_of_key(l, "expr"))) {
			if (!strcmp(val, ">")) {
				in_expr = true;
				expr_indent = indent;
			} else {
				snprintf(v[n - 1].expr, sizeof(v[n - 1].expr),
					 "%s", val);
			}
		} else if ((val = value_of_key(l, "for"))) {
			snprintf(v[n - 1].forv, sizeof(v[n - 1].forv), "%s", val);
		} else if ((val = value_of_key(l, "severity"))) {
			snprintf(v[n - 1].severity, sizeof(v[n - 1].severity),
				 "%s", val);
		} else if ((val = value_of_key(l, "builtin_rule"))) {
			snprintf(v[n - 1].mirrors, sizeof(v[n - 1].mirrors),
				 "%s", val);
		}
	}
	fclose(f);
	return n;
}

/*
 * A built-in threshold in the unit its Prometheus expression compares:
 * percentages stay percentages, microseconds become seconds, a KiB
 * gauge's change becomes bytes (the exporter's base units, prom.c).
 */
static double prom_threshold(const struct kp_alert_rule *r)
{
	switch (r->stat) {
	case KP_STAT_P50_US:
	case KP_STAT_P99_US:
	case KP_STAT_MEAN_US:
		return r->threshold / 1e6;
	case KP_STAT_VALUE:
	case KP_STAT_DELTA:
		return kp_metric(r->metric)->unit == KP_UNIT_KIB ?
			       r->threshold * 1024 : r->threshold;
	default:
		return r->threshold;
	}
}

/*
 * How a rule's stat reads metric id in PromQL: a rate for a counter (and
 * a histogram's total counter, else its _sum) under pct, avg_pct, rate and ratio; a quantile of
 * the _bucket series for a percentile; delta() for a gauge's change; the
 * bare series for a gauge's value and for either side of a gauge ratio.
 */
static void assert_expr_reads(const struct yml_rule *y, enum kp_stat stat,
			      enum kp_metric_id id)
{
	const struct kp_metric_desc *d = kp_metric(id);
	char want[160];
	const char *p;

	switch (stat) {
	case KP_STAT_P50_US:
	case KP_STAT_P99_US:
		snprintf(want, sizeof(want), "histogram_quantile(%s",
			 stat == KP_STAT_P99_US ? "0.99" : "0.5");
		if (!strstr(y->expr, want))
			fail_msg("%s: '%s' has no %s", y->alert, y->expr, want);
		snprintf(want, sizeof(want), "rate(%s_bucket[", d->prom);
		break;
	case KP_STAT_DELTA:
		snprintf(want, sizeof(want), "delta(%s[", d->prom);
		break;
	case KP_STAT_VALUE:
		want[0] = '\0';
		break;
	case KP_STAT_RATIO:
		if (d->type == KP_GAUGE) {
			want[0] = '\0';
			break;
		}
		/* fall through */
	default:
		if (d->prom_total) /* the total: not of the histogram's tier */
			snprintf(want, sizeof(want), "rate(%s[", d->prom_total);
		else
			snprintf(want, sizeof(want), "rate(%s%s[", d->prom,
				 d->type == KP_HISTOGRAM ? "_sum" : "");
		break;
	}
	if (*want) {
		if (!strstr(y->expr, want))
			fail_msg("%s: '%s' does not read %s as %s", y->alert,
				 y->expr, d->json, want);
		return;
	}
	/* a gauge's value: every use of the series is bare */
	for (p = strstr(y->expr, d->prom); p; p = strstr(p + 1, d->prom))
		if ((p - y->expr >= 5 && !strncmp(p - 5, "rate(", 5)) ||
		    (p - y->expr >= 6 && !strncmp(p - 6, "delta(", 6)) ||
		    !strncmp(p + strlen(d->prom), "[", 1))
			fail_msg("%s: '%s' reads gauge %s as a range", y->alert,
				 y->expr, d->json);
	if (!strstr(y->expr, d->prom))
		fail_msg("%s: '%s' does not use %s", y->alert, y->expr,
			 d->prom);
}

/* The comparison ending expr: its operator and the number after it. */
static void yml_comparison(const struct yml_rule *y, char *op, double *num)
{
	const char *gt = strrchr(y->expr, '>'), *lt = strrchr(y->expr, '<');
	const char *c = gt > lt ? gt : lt;
	char *end;

	if (!c)
		fail_msg("%s:%d: %s: no comparison in '%s'", RULES_YML, y->line,
			 y->alert, y->expr);
	*op = *c;
	*num = strtod(c + 1, &end);
	if (end == c + 1 || *trim(end))
		fail_msg("%s:%d: %s: '%s' does not end in a number", RULES_YML,
			 y->line, y->alert, y->expr);
}

static void rules_yml__every_builtin_rule__has_an_equal_prometheus_rule(void **state)
{
	struct yml_rule y[YML_MAX];
	const struct kp_alert_rule *r;
	const struct yml_rule *m;
	size_t ny = read_rules_yml(y), i, j;
	double for_s, num;
	char op;

	assert_config_ok("");
	assert_true(cfg.nrules > 0);
	for (i = 0; i < cfg.nrules; i++) {
		r = &cfg.rules[i];
		for (m = NULL, j = 0; j < ny; j++) {
			if (strcmp(y[j].mirrors, r->name))
				continue;
			if (m)
				fail_msg("%s: two rules mirror '%s'", RULES_YML,
					 r->name);
			m = &y[j];
		}
		if (!m)
			fail_msg("%s: no rule has builtin_rule: %s", RULES_YML,
				 r->name);
		if (strcmp(m->severity, kp_severity_name(r->severity)))
			fail_msg("%s: severity %s, built-in '%s' is %s", m->alert,
				 m->severity, r->name,
				 kp_severity_name(r->severity));
		for_s = 0;
		if (*m->forv && kp_parse_duration(m->forv, &for_s))
			fail_msg("%s: for '%s' is not a duration", m->alert,
				 m->forv);
		if (for_s != r->for_s)
			fail_msg("%s: for %gs, built-in '%s' waits %gs", m->alert,
				 for_s, r->name, r->for_s);
		assert_expr_reads(m, r->stat, r->metric);
		if (r->stat == KP_STAT_RATIO) {
			assert_expr_reads(m, r->stat, r->of);
			if (!strstr(m->expr, "/"))
				fail_msg("%s: '%s' does not divide by %s",
					 m->alert, m->expr,
					 kp_metric(r->of)->prom);
		}
		/* avg_pct: the VM's vCPU time over its number of vCPUs */
		if (r->stat == KP_STAT_AVG_PCT &&
		    (!strstr(m->expr, "/ count by (pid, domain)") ||
		     !strstr(m->expr, "sum by (pid, domain)")))
			fail_msg("%s: '%s' is not a per-VM average over vCPUs",
				 m->alert, m->expr);
		if (r->stat != KP_STAT_AVG_PCT && strstr(m->expr, "count"))
			fail_msg("%s: '%s' averages, built-in '%s' does not",
				 m->alert, m->expr, r->name);
		/* percent stats are compared in percent, not as fractions */
		if ((r->stat == KP_STAT_PCT || r->stat == KP_STAT_AVG_PCT ||
		     r->stat == KP_STAT_RATIO) && !strstr(m->expr, "* 100"))
			fail_msg("%s: '%s' is not in percent", m->alert,
				 m->expr);
		/* a per-vCPU rule must not sum its vCPUs away */
		if (r->scope == KP_SCOPE_VCPU && strstr(m->expr, "sum") &&
		    !strstr(m->expr, "vcpu"))
			fail_msg("%s: built-in '%s' is per vCPU, '%s' is not",
				 m->alert, r->name, m->expr);
		yml_comparison(m, &op, &num);
		if (op != (r->above ? '>' : '<'))
			fail_msg("%s: compares with '%c', built-in '%s' fires %s",
				 m->alert, op, r->name,
				 r->above ? "above" : "below");
		if (fabs(num - prom_threshold(r)) > 1e-9 * fabs(num))
			fail_msg("%s: threshold %.12g, built-in '%s' is %.12g here",
				 m->alert, num, r->name, prom_threshold(r));
	}
	/* and nothing mirrors a rule that is not built in */
	for (j = 0; j < ny; j++) {
		for (i = 0; *y[j].mirrors && i < cfg.nrules; i++)
			if (!strcmp(y[j].mirrors, cfg.rules[i].name))
				break;
		if (*y[j].mirrors && i == cfg.nrules)
			fail_msg("%s: builtin_rule '%s' is not a built-in rule",
				 y[j].alert, y[j].mirrors);
	}
}

/* The comparison above reads thresholds as the exporter scales them. */
static void rules_yml__threshold_units__follow_the_exporter(void **state)
{
	struct kp_alert_rule r = { .metric = KP_M_DISK_LATENCY,
				   .stat = KP_STAT_P99_US,
				   .threshold = 20000 };

	assert_true(fabs(prom_threshold(&r) - 0.02) < 1e-12);
	r.metric = KP_M_MEM_SWAP_IN;
	r.stat = KP_STAT_DELTA;
	r.threshold = 2;
	assert_true(prom_threshold(&r) == 2048);
	r.metric = KP_M_RUN_DELAY;
	r.stat = KP_STAT_PCT;
	r.threshold = 5;
	assert_true(prom_threshold(&r) == 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(parse_duration__seconds_minutes_hours__convert_to_seconds),
		T(parse_duration__garbage__is_refused_and_leaves_out_alone),
		T(config_load__unknown_section__names_file_and_line),
		T(config_load__alert_without_space_and_name__names_file_and_line),
		T(config_load__key_outside_a_section__names_file_and_line),
		T(config_load__line_without_equals__is_a_syntax_error_at_its_line),
		T(config_load__syntax_error_in_rule__is_a_syntax_error_at_its_line),
		T(config_load__syntax_error_then_bad_key__reports_the_first_error),
		T(config_load__section_without_closing_bracket__names_line_in_one_line),
		T(config_load__utf8_bom_before_first_section__is_accepted),
		T(config_load__long_comment_line__counts_as_one_line),
		T(config_load__overlong_value_line__is_an_error_at_its_line),
		T(config_load__crlf_line_endings__are_accepted),
		T(config_load__inline_comments__are_not_part_of_values),
		T(config_load__empty_text__gives_only_the_defaults),
		T(config_load__unknown_kvmprobe_option__names_file_and_line),
		T(config_load__short_option_name__is_unknown),
		T(config_load__command_line_only_options__are_unknown),
		T(config_load__interval_zero__reuses_the_cli_message),
		T(config_load__bad_option_values__reuse_the_cli_messages),
		T(config_load__flag_option_yes_and_no__sets_or_leaves_the_flag),
		T(config_load__flag_option_garbage__names_file_and_line),
		T(config_load__options__are_applied_to_opts),
		T(config_load__options__leave_the_others_at_their_defaults),
		T(config_load__then_cli_apply__command_line_overrides),
		T(config_load__alerts_defaults_yes__appends_defaults_after_file_rules),
		T(config_load__alerts_defaults_no__leaves_only_file_rules),
		T(config_load__alerts_defaults_garbage__names_file_and_line),
		T(config_load__alerts_unknown_key__names_file_and_line),
		T(config_load__file_rule_named_like_a_default__replaces_it),
		T(default_rules__parse_alone__without_error),
		T(default_rules__reference_registered_metrics_with_fitting_stats),
		T(default_rules__ready_and_swap__have_the_literature_thresholds),
		T(default_rules__literature_set__cpu_memory_balloon_disk_drops),
		T(config_load__ratio_of_gauge_and_counter__is_refused),
		T(builtin_rules__vm_cpu_usage__fire_on_vcpu_average_and_resolve),
		T(builtin_rules__vm_cpu_usage__average_below_threshold__stays_quiet),
		T(builtin_rules__guest_memory__fire_on_used_share_and_resolve),
		T(builtin_rules__ballooned__fire_above_1gib_and_resolve),
		T(builtin_rules__disk_latency__fire_on_p99_and_resolve),
		T(builtin_rules__packet_drops__fire_on_drop_share_and_resolve),
		T(rules_yml__every_builtin_rule__has_an_equal_prometheus_rule),
		T(rules_yml__threshold_units__follow_the_exporter),
		T(config_load__rule_without_name__names_file_and_line),
		T(config_load__rule_name_too_long__names_file_and_line),
		T(config_load__duplicate_rule__names_the_second_header),
		T(config_load__quoted_rule_name__may_hold_spaces),
		T(config_load__too_many_rules__names_the_first_extra_header),
		T(config_load__file_overriding_the_builtins__limit_counts_the_merged_set),
		T(config_load__builtins_past_the_limit__are_refused_naming_the_file),
		T(config_load__rule_fields__are_parsed),
		T(config_load__every_stat_name__is_accepted),
		T(config_load__stat_that_cannot_fit_the_metric__names_the_rule),
		T(config_load__unknown_metric__names_file_and_line),
		T(config_load__unknown_stat__names_file_and_line),
		T(config_load__ratio_without_of__names_the_rule_header),
		T(config_load__bad_scope__names_file_and_line),
		T(config_load__above_and_below__names_the_second),
		T(config_load__non_number_thresholds__name_file_and_line),
		T(config_load__clear_past_the_threshold__names_the_rule_header),
		T(config_load__clear_at_or_inside_the_threshold__is_accepted),
		T(config_load__bad_durations__name_file_and_line),
		T(config_load__bad_severity__names_file_and_line),
		T(config_load__too_many_domains__names_the_extra_line),
		T(config_load__empty_or_long_domain__names_file_and_line),
		T(config_load__long_label__names_file_and_line),
		T(config_load__unknown_rule_key__names_file_and_line),
		T(config_load__rule_without_metric__names_the_rule_header),
		T(config_load__rule_without_threshold__names_the_rule_header),
		T(config_load__error_inside_rule__is_not_replaced_by_a_later_one),
		T(config_load__small_error_buffer__is_truncated_not_overrun),
		T(config_load__service_fixture__applies_options_and_rules),
		T(config_load__error_fixture__names_path_and_line),
		T(config_load__crlf_fixture__loads),
		T(config_load__missing_file__fails_to_open),
		T(config_load__directory__is_an_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
