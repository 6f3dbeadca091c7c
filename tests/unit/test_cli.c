// SPDX-License-Identifier: GPL-2.0
/* Unit tests for user/core/cli.c: option parsing into struct kp_opts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "user/core/cli.h"

static const char *const probe_names[] = { "exits", "halt", "mmio" };
#define NPROBES 3
#define ALL_PROBES 0x7u

static struct kp_opts o;
static char err[256];

/* Parse "kvmprobe" followed by the given arguments. */
static int parse_argv(int argc, char **argv)
{
	memset(err, 0, sizeof(err));
	return kp_cli_parse(argc, argv, &o, probe_names, NPROBES, err,
			    sizeof(err));
}

#define PARSE(...)                                                         \
	({                                                                 \
		char *argv_[] = { "kvmprobe", __VA_ARGS__ };               \
		parse_argv(sizeof(argv_) / sizeof(argv_[0]), argv_);       \
	})

/* Expect -EINVAL and an error message containing want. */
#define assert_parse_error(want, ...)                                      \
	do {                                                               \
		assert_int_equal(PARSE(__VA_ARGS__), -EINVAL);             \
		if (!strstr(err, want))                                    \
			fail_msg("error '%s' does not contain '%s'", err,  \
				 want);                                    \
	} while (0)

static void cli_parse__no_arguments__gives_documented_defaults(void **state)
{
	char *argv[] = { "kvmprobe" };

	memset(&o, 0xa5, sizeof(o));
	assert_int_equal(parse_argv(1, argv), 0);
	assert_true(o.interval_s == 1.0);
	assert_int_equal(o.count, 0);
	assert_int_equal(o.format, KP_FMT_TEXT);
	assert_null(o.output);
	assert_int_equal(o.npids, 0);
	assert_int_equal(o.probes, ALL_PROBES);
	assert_false(o.per_vcpu);
	assert_false(o.hist);
	assert_int_equal(o.verbose, 0);
	assert_int_equal(o.attach, KP_ATTACH_AUTO);
	assert_int_equal(o.map_entries, KP_MAP_ENTRIES_DEFAULT);
	assert_false(o.help);
	assert_false(o.version);
	assert_false(o.list_metrics);
	assert_int_equal(o.ndomains, 0);
	assert_string_equal(o.connect, "qemu:///system");
	assert_int_equal(o.top, KP_TOP_AUTO);
	assert_false(o.format_set);
	assert_null(o.replay);
}

static void cli_parse__top__subcommand_anywhere_and_no_top(void **state)
{
	assert_int_equal(PARSE("top"), 0);
	assert_int_equal(o.top, KP_TOP_ON);
	assert_int_equal(PARSE("-i", "2", "top", "-p", "5"), 0);
	assert_int_equal(o.top, KP_TOP_ON);
	assert_true(o.interval_s == 2.0);
	assert_int_equal(PARSE("--no-top"), 0);
	assert_int_equal(o.top, KP_TOP_OFF);
	assert_int_equal(PARSE("-f", "text"), 0);
	assert_true(o.format_set);
	assert_parse_error("contradict", "top", "--no-top");
	assert_parse_error("unexpected argument 'bottom'", "bottom");
}

static void cli_parse__replay__long_and_short(void **state)
{
	assert_int_equal(PARSE("top", "--replay", "rec.ndjson"), 0);
	assert_string_equal(o.replay, "rec.ndjson");
	assert_int_equal(PARSE("-r", "x.ndjson"), 0);
	assert_string_equal(o.replay, "x.ndjson");
	assert_parse_error("--replay: empty", "-r", "");
}

static void cli_parse__interval__long_short_and_equals_forms(void **state)
{
	assert_int_equal(PARSE("-i", "2.5"), 0);
	assert_true(o.interval_s == 2.5);
	assert_int_equal(PARSE("--interval", "0.1"), 0);
	assert_true(o.interval_s == 0.1);
	assert_int_equal(PARSE("--interval=3600"), 0);
	assert_true(o.interval_s == 3600);
	assert_int_equal(PARSE("-i10"), 0);
	assert_true(o.interval_s == 10);
}

static void cli_parse__count__long_and_short(void **state)
{
	assert_int_equal(PARSE("-c", "5"), 0);
	assert_int_equal(o.count, 5);
	assert_int_equal(PARSE("--count", "18446744073709551615"), 0);
	assert_int_equal(o.count, UINT64_MAX);
}

static void cli_parse__format__long_and_short(void **state)
{
	assert_int_equal(PARSE("-f", "json"), 0);
	assert_int_equal(o.format, KP_FMT_JSON);
	assert_int_equal(PARSE("--format", "text"), 0);
	assert_int_equal(o.format, KP_FMT_TEXT);
}

static void cli_parse__output__long_and_short(void **state)
{
	assert_int_equal(PARSE("-o", "out.ndjson"), 0);
	assert_string_equal(o.output, "out.ndjson");
	assert_int_equal(PARSE("--output", "/tmp/x y"), 0);
	assert_string_equal(o.output, "/tmp/x y");
}

static void cli_parse__pid__long_and_short(void **state)
{
	assert_int_equal(PARSE("-p", "1234", "--pid", "2147483647"), 0);
	assert_int_equal(o.npids, 2);
	assert_int_equal(o.pids[0], 1234);
	assert_int_equal(o.pids[1], 2147483647);
}

static void cli_parse__repeated_pid__is_kept_once(void **state)
{
	assert_int_equal(PARSE("-p", "5", "-p", "6", "--pid", "5", "-p", "6",
			       "-p", "7"), 0);
	assert_int_equal(o.npids, 3);
	assert_int_equal(o.pids[0], 5);
	assert_int_equal(o.pids[1], 6);
	assert_int_equal(o.pids[2], 7);
}

static void cli_parse__flag_options__set_their_fields(void **state)
{
	assert_int_equal(PARSE("--vcpus", "--hist", "--list-metrics", "-V",
			       "-h"), 0);
	assert_true(o.per_vcpu);
	assert_true(o.hist);
	assert_true(o.list_metrics);
	assert_true(o.version);
	assert_true(o.help);
	assert_int_equal(PARSE("--version", "--help"), 0);
	assert_true(o.version);
	assert_true(o.help);
	assert_false(o.per_vcpu);
}

static void cli_parse__verbose__counts_repeats(void **state)
{
	assert_int_equal(PARSE("-v", "--verbose", "-vv"), 0);
	assert_int_equal(o.verbose, 4);
}

static void cli_parse__attach__accepts_the_three_modes(void **state)
{
	assert_int_equal(PARSE("--attach", "tp_btf"), 0);
	assert_int_equal(o.attach, KP_ATTACH_BTF);
	assert_int_equal(PARSE("--attach", "tracepoint"), 0);
	assert_int_equal(o.attach, KP_ATTACH_CLASSIC);
	assert_int_equal(PARSE("--attach=auto"), 0);
	assert_int_equal(o.attach, KP_ATTACH_AUTO);
}

static void cli_parse__map_entries__accepts_the_bounds(void **state)
{
	assert_int_equal(PARSE("--map-entries", "256"), 0);
	assert_int_equal(o.map_entries, KP_MAP_ENTRIES_MIN);
	assert_int_equal(PARSE("--map-entries", "1048576"), 0);
	assert_int_equal(o.map_entries, KP_MAP_ENTRIES_MAX);
}

static void cli_parse__probes__selects_listed_probes(void **state)
{
	assert_int_equal(PARSE("--probes", "mmio"), 0);
	assert_int_equal(o.probes, 1u << 2);
	assert_int_equal(PARSE("--probes", "exits,mmio"), 0);
	assert_int_equal(o.probes, (1u << 0) | (1u << 2));
	assert_int_equal(PARSE("--probes", "halt,halt"), 0);
	assert_int_equal(o.probes, 1u << 1);
}

static void cli_parse__probes_all__selects_every_probe(void **state)
{
	assert_int_equal(PARSE("--probes", "all"), 0);
	assert_int_equal(o.probes, ALL_PROBES);
	assert_int_equal(PARSE("--probes", "halt,all"), 0);
	assert_int_equal(o.probes, ALL_PROBES);
}

static void cli_parse__bad_interval__names_the_option(void **state)
{
	static const char *const bad[] = { "0", "0.05", "3601", "abc", "1x",
					   "", "-1", "nan", "inf" };
	char *argv[3] = { "kvmprobe", "--interval", NULL };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		argv[2] = (char *)bad[i];
		assert_int_equal(parse_argv(3, argv), -EINVAL);
		if (!strstr(err, "--interval") || !strstr(err, bad[i]))
			fail_msg("'%s': error '%s'", bad[i], err);
	}
}

static void cli_parse__bad_count__names_the_option(void **state)
{
	assert_parse_error("--count", "--count", "0");
	assert_parse_error("--count", "-c", "-1");
	assert_parse_error("--count", "-c", "abc");
	assert_parse_error("--count", "-c", "5x");
	assert_parse_error("--count", "-c", "18446744073709551616");
}

static void cli_parse__bad_format__names_the_option(void **state)
{
	assert_parse_error("--format", "--format", "xml");
	assert_parse_error("'JSON'", "-f", "JSON");
}

static void cli_parse__bad_pid__names_the_option(void **state)
{
	assert_parse_error("--pid", "--pid", "0");
	assert_parse_error("--pid", "-p", "-5");
	assert_parse_error("'abc'", "-p", "abc");
	assert_parse_error("--pid", "-p", "2147483648");
	assert_parse_error("--pid", "-p", "12 ");
	assert_parse_error("--pid", "-p", "");
}

static void cli_parse__too_many_pids__is_refused(void **state)
{
	static char nums[KP_MAX_PIDS + 1][12];
	static char *argv[1 + 2 * (KP_MAX_PIDS + 1)];
	int i, argc = 1;

	argv[0] = "kvmprobe";
	for (i = 0; i < KP_MAX_PIDS; i++) {
		snprintf(nums[i], sizeof(nums[i]), "%d", i + 1);
		argv[argc++] = "-p";
		argv[argc++] = nums[i];
	}
	assert_int_equal(parse_argv(argc, argv), 0);
	assert_int_equal(o.npids, KP_MAX_PIDS);
	assert_int_equal(o.pids[KP_MAX_PIDS - 1], KP_MAX_PIDS);

	snprintf(nums[i], sizeof(nums[i]), "%d", i + 1);
	argv[argc++] = "-p";
	argv[argc++] = nums[i];
	assert_int_equal(parse_argv(argc, argv), -EINVAL);
	assert_non_null(strstr(err, "--pid"));
}

static void cli_parse__unknown_probe__names_it(void **state)
{
	assert_parse_error("'bogus'", "--probes", "exits,bogus");
	assert_non_null(strstr(err, "--probes"));
}

static void cli_parse__empty_probe_list__is_refused(void **state)
{
	assert_parse_error("--probes", "--probes", ",");
	assert_parse_error("--probes", "--probes", "");
}

static void cli_parse__bad_attach__names_the_option(void **state)
{
	assert_parse_error("--attach", "--attach", "kprobe");
}

static void cli_parse__map_entries_out_of_range__names_the_option(void **state)
{
	assert_parse_error("--map-entries", "--map-entries", "255");
	assert_parse_error("--map-entries", "--map-entries", "1048577");
	assert_parse_error("--map-entries", "--map-entries", "0");
	assert_parse_error("--map-entries", "--map-entries", "-1");
	assert_parse_error("--map-entries", "--map-entries", "lots");
}

static void cli_parse__empty_output__is_refused(void **state)
{
	assert_parse_error("--output", "-o", "");
}

static void cli_parse__unknown_long_option__names_it(void **state)
{
	assert_parse_error("unknown option '--bogus'", "--bogus");
	assert_parse_error("unknown option '--bogus=1'", "-v", "--bogus=1");
}

static void cli_parse__unknown_short_option__names_it(void **state)
{
	assert_parse_error("unknown option '-x'", "-x");
	assert_parse_error("unknown option '-x'", "-vx");
}

static void cli_parse__value_given_to_flag_option__names_the_option(void **state)
{
	assert_parse_error("--hist", "--hist=yes");
	assert_parse_error("--verbose", "--verbose=2");
}

static void cli_parse__missing_value__names_the_option(void **state)
{
	assert_parse_error("option '--interval' needs a value", "--interval");
	assert_parse_error("option '-i' needs a value", "-v", "-i");
	assert_parse_error("option '--pid' needs a value", "--pid");
	assert_parse_error("option '--probes' needs a value", "--probes");
}

static void cli_parse__positional_argument__is_refused(void **state)
{
	assert_parse_error("unexpected argument 'foo'", "foo");
	assert_parse_error("unexpected argument 'foo'", "-v", "foo", "-c",
			   "3");
	assert_parse_error("unexpected argument '-v'", "--", "-v");
}

static void cli_parse__second_parse__starts_from_scratch(void **state)
{
	/* the failing parse leaves getopt part-way through argv */
	assert_int_equal(PARSE("-p", "5", "-c", "0", "-v", "-v"), -EINVAL);
	assert_int_equal(PARSE("-v"), 0);
	assert_int_equal(o.verbose, 1);
	assert_int_equal(o.npids, 0);
	assert_int_equal(o.count, 0);

	assert_int_equal(PARSE("-f", "json", "--vcpus"), 0);
	assert_int_equal(PARSE("--hist"), 0);
	assert_int_equal(o.format, KP_FMT_TEXT);
	assert_false(o.per_vcpu);
	assert_true(o.hist);
}

static void cli_parse__after_clustered_error__next_parse_works(void **state)
{
	/* stops inside the cluster "-vxv" */
	assert_int_equal(PARSE("-vxv"), -EINVAL);
	assert_int_equal(PARSE("-V"), 0);
	assert_true(o.version);
	assert_int_equal(o.verbose, 0);
}

static void cli_parse__domain__repeatable_names_and_uuids(void **state)
{
	assert_int_equal(PARSE("-d", "web-1", "--domain",
			       "c0ba2922-ce9c-468a-82e4-113eaae6c9fa",
			       "--domain=kp \"test\" é", "-dx"), 0);
	assert_int_equal(o.ndomains, 4);
	assert_string_equal(o.domains[0], "web-1");
	assert_string_equal(o.domains[1],
			    "c0ba2922-ce9c-468a-82e4-113eaae6c9fa");
	assert_string_equal(o.domains[2], "kp \"test\" é");
	assert_string_equal(o.domains[3], "x");
}

static void cli_parse__repeated_domain__is_kept_once(void **state)
{
	assert_int_equal(PARSE("-d", "a", "-d", "b", "-d", "a"), 0);
	assert_int_equal(o.ndomains, 2);
}

static void cli_parse__bad_domain__names_the_option(void **state)
{
	char name[KP_DOMAIN_ARG_MAX + 1];

	assert_parse_error("--domain: empty name", "-d", "");
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_parse_error("--domain: name longer than", "-d", name);
	assert_parse_error("needs a value", "--domain");
}

static void cli_parse__too_many_domains__is_refused(void **state)
{
	static char names[KP_MAX_DOMAINS + 1][8];
	char *argv[2 * (KP_MAX_DOMAINS + 1) + 1];
	int i, argc = 0;

	argv[argc++] = "kvmprobe";
	for (i = 0; i <= KP_MAX_DOMAINS; i++) {
		snprintf(names[i], sizeof(names[i]), "d%d", i);
		argv[argc++] = "-d";
		argv[argc++] = names[i];
	}
	assert_int_equal(parse_argv(argc - 2, argv), 0);
	assert_int_equal(o.ndomains, KP_MAX_DOMAINS);
	assert_int_equal(parse_argv(argc, argv), -EINVAL);
	assert_non_null(strstr(err, "at most"));
}

static void cli_parse__connect__sets_the_uri(void **state)
{
	assert_int_equal(PARSE("--connect", "qemu+ssh://host/system"), 0);
	assert_string_equal(o.connect, "qemu+ssh://host/system");
	assert_int_equal(PARSE("--connect=test:///default"), 0);
	assert_string_equal(o.connect, "test:///default");
	assert_parse_error("--connect: empty URI", "--connect", "");
}

/* "--name" in text as a whole option: not the start of a longer one */
static bool mentions_option(const char *text, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	for (p = text; (p = strstr(p, "--")); p += 2)
		if (!strncmp(p + 2, name, n) &&
		    !(p[2 + n] == '-' || (p[2 + n] >= 'a' && p[2 + n] <= 'z')))
			return true;
	return false;
}

/* Every option of the parser's own table, not a list kept beside it. */
static void cli_usage__mentions_every_long_option(void **state)
{
	const char *name;
	size_t i;

	for (i = 0; (name = kp_cli_long_option(i)); i++) {
		if (!mentions_option(kp_cli_usage(), name))
			fail_msg("usage does not mention --%s", name);
		assert_true(kp_cli_option_kind(name) >= 0);
	}
	/* the table is the parser's: the service options are in it */
	assert_true(i >= 19);
	assert_true(mentions_option("  --config FILE", "config"));
	assert_false(mentions_option("  --listen ADDR", "list"));
	assert_int_equal(kp_cli_option_kind("config"), 1);
	assert_int_equal(kp_cli_option_kind("listen"), 1);
	assert_int_equal(kp_cli_option_kind("syslog"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cli_parse__no_arguments__gives_documented_defaults),
		cmocka_unit_test(cli_parse__interval__long_short_and_equals_forms),
		cmocka_unit_test(cli_parse__count__long_and_short),
		cmocka_unit_test(cli_parse__format__long_and_short),
		cmocka_unit_test(cli_parse__output__long_and_short),
		cmocka_unit_test(cli_parse__top__subcommand_anywhere_and_no_top),
		cmocka_unit_test(cli_parse__replay__long_and_short),
		cmocka_unit_test(cli_parse__pid__long_and_short),
		cmocka_unit_test(cli_parse__repeated_pid__is_kept_once),
		cmocka_unit_test(cli_parse__flag_options__set_their_fields),
		cmocka_unit_test(cli_parse__verbose__counts_repeats),
		cmocka_unit_test(cli_parse__attach__accepts_the_three_modes),
		cmocka_unit_test(cli_parse__map_entries__accepts_the_bounds),
		cmocka_unit_test(cli_parse__probes__selects_listed_probes),
		cmocka_unit_test(cli_parse__probes_all__selects_every_probe),
		cmocka_unit_test(cli_parse__bad_interval__names_the_option),
		cmocka_unit_test(cli_parse__bad_count__names_the_option),
		cmocka_unit_test(cli_parse__bad_format__names_the_option),
		cmocka_unit_test(cli_parse__bad_pid__names_the_option),
		cmocka_unit_test(cli_parse__too_many_pids__is_refused),
		cmocka_unit_test(cli_parse__unknown_probe__names_it),
		cmocka_unit_test(cli_parse__empty_probe_list__is_refused),
		cmocka_unit_test(cli_parse__bad_attach__names_the_option),
		cmocka_unit_test(cli_parse__map_entries_out_of_range__names_the_option),
		cmocka_unit_test(cli_parse__empty_output__is_refused),
		cmocka_unit_test(cli_parse__unknown_long_option__names_it),
		cmocka_unit_test(cli_parse__unknown_short_option__names_it),
		cmocka_unit_test(cli_parse__value_given_to_flag_option__names_the_option),
		cmocka_unit_test(cli_parse__missing_value__names_the_option),
		cmocka_unit_test(cli_parse__positional_argument__is_refused),
		cmocka_unit_test(cli_parse__second_parse__starts_from_scratch),
		cmocka_unit_test(cli_parse__after_clustered_error__next_parse_works),
		cmocka_unit_test(cli_parse__domain__repeatable_names_and_uuids),
		cmocka_unit_test(cli_parse__repeated_domain__is_kept_once),
		cmocka_unit_test(cli_parse__bad_domain__names_the_option),
		cmocka_unit_test(cli_parse__too_many_domains__is_refused),
		cmocka_unit_test(cli_parse__connect__sets_the_uri),
		cmocka_unit_test(cli_usage__mentions_every_long_option),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
