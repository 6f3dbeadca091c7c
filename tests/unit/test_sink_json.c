// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for user/sinks/sink_json.c: the NDJSON records of
 * docs/output.md, written to a memory stream and parsed back with json-c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "user/core/hist.h"
#include "user/sinks/sink.h"

#define MAX_LINES 16

static struct kp_interval iv;
static struct kp_opts opts;
static struct kp_sink sink;
static char *buf;
static size_t len;
static struct json_object *line[MAX_LINES];
static size_t nlines;

static int setup(void **state)
{
	memset(&opts, 0, sizeof(opts));
	kp_sink_json_init(&sink, open_memstream(&buf, &len), &opts);
	assert_non_null(sink.out);
	return 0;
}

static int teardown(void **state)
{
	size_t i;

	for (i = 0; i < nlines; i++)
		json_object_put(line[i]);
	nlines = 0;
	if (sink.out)
		fclose(sink.out);
	sink.out = NULL;
	free(buf);
	buf = NULL;
	kp_interval_clear(&iv);
	return 0;
}

/* Close the stream and parse every line; each must be one JSON object. */
static void parse_lines(void)
{
	char *p, *nl;

	fclose(sink.out);
	sink.out = NULL;
	for (p = buf; p && *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			fail_msg("record without a newline: %s", p);
		*nl = '\0';
		assert_true(nlines < MAX_LINES);
		line[nlines] = json_tokener_parse(p);
		if (!line[nlines] ||
		    !json_object_is_type(line[nlines], json_type_object))
			fail_msg("not a JSON object: %s", p);
		nlines++;
	}
}

/* o's value at a path of keys and array indexes ("vcpus", "0", "tid") */
static struct json_object *at(struct json_object *o, const char *const *path)
{
	for (; *path && o; path++) {
		if (json_object_is_type(o, json_type_array))
			o = json_object_array_get_idx(o, atoi(*path));
		else if (!json_object_object_get_ex(o, *path, &o))
			return NULL;
	}
	return o;
}

static bool has(struct json_object *o, const char *const *path)
{
	struct json_object *c = o;

	for (; *path; path++) {
		if (json_object_is_type(c, json_type_array)) {
			c = json_object_array_get_idx(c, atoi(*path));
			if (!c)
				return false;
		} else if (!json_object_object_get_ex(c, *path, &c)) {
			return false;
		}
	}
	return true;
}

#define AT(o, ...) at(o, (const char *const[]){ __VA_ARGS__, NULL })
#define HAS(o, ...) has(o, (const char *const[]){ __VA_ARGS__, NULL })
#define NUM(o, ...) json_object_get_double(AT(o, __VA_ARGS__))
#define INT(o, ...) json_object_get_int64(AT(o, __VA_ARGS__))
#define STR(o, ...) json_object_get_string(AT(o, __VA_ARGS__))

static void add(uint32_t pid, uint32_t tid, int vcpu, enum kp_metric_id m,
		const char *label, uint64_t value)
{
	assert_int_equal(kp_interval_add(&iv, pid, tid, vcpu, m, label, value,
					 NULL), 0);
}

static void add_delay(uint32_t pid, uint32_t tid, int vcpu, uint64_t total,
		      uint64_t each, unsigned int n)
{
	struct kp_hist h = { 0 };
	unsigned int i;

	for (i = 0; i < n; i++)
		kp_hist_add(&h, each);
	assert_int_equal(kp_interval_add(&iv, pid, tid, vcpu, KP_M_RUN_DELAY,
					 "", total, &h), 0);
}

static void add_peer(uint32_t pid, uint32_t tid, int vcpu, uint32_t peer_tid,
		     uint64_t ns)
{
	struct kp_peer p = { .pid = 900, .tid = peer_tid, .comm = "stress",
			     .vm_pid = -1, .vm_vcpu = -1 };

	assert_int_equal(kp_interval_add_peer(&iv, pid, tid, vcpu,
					      KP_M_PREEMPTED_BY, &p, ns), 0);
}

/*
 * VM 100 ("web"), two vCPUs over 0.5 s: vCPU 0 waited 100 ms (20%) and
 * ran 400 ms (80%), vCPU 1 waited 25 ms (5%).
 */
static void fill_vm(void)
{
	struct kp_vm_rec *vm;

	add_delay(100, 101, 0, 100000000, 1000000, 90);
	add_delay(100, 102, 1, 25000000, 1000000, 25);
	add(100, 101, 0, KP_M_CPU_TIME, "", 400000000);
	add(100, 101, 0, KP_M_EXITS, "io", 10);
	add(100, 102, 1, KP_M_EXITS, "io", 5);
	add(100, 102, 1, KP_M_EXITS, "hlt", 2);
	add(100, 101, 0, KP_M_PREEMPTIONS, "", 3);
	iv.interval_s = 0.5;
	iv.ts.tv_sec = 1700000000;
	iv.ts.tv_nsec = 250000000;
	assert_int_equal(kp_interval_finish(&iv), 0);
	vm = &iv.vms[0];
	vm->name = strdup("web");
	vm->uuid = strdup("6f1e0c3a-0000-4000-8000-000000000001");
	strcpy(vm->comm, "qemu-system-x86");
	assert_int_equal(kp_vm_set_gauge(vm, KP_M_MEM_RSS, 2048), 0);
}

static struct json_object *record_of(const char *type)
{
	size_t i;

	for (i = 0; i < nlines; i++)
		if (!strcmp(STR(line[i], "type"), type))
			return line[i];
	fail_msg("no \"%s\" record", type);
	return NULL;
}

static void interval__one_vm__writes_vm_then_interval_record(void **state)
{
	struct json_object *o;

	fill_vm();
	assert_int_equal(sink.interval(&sink, &iv), 0);
	parse_lines();
	assert_int_equal(nlines, 2);
	assert_string_equal(STR(line[0], "type"), "vm");
	assert_string_equal(STR(line[1], "type"), "interval");
	o = line[0];
	assert_int_equal(INT(o, "schema"), 1);
	assert_string_equal(STR(o, "ts"), "2023-11-14T22:13:20.250Z");
	assert_float_equal(NUM(o, "interval_s"), 0.5, 0);
	assert_int_equal(INT(o, "vm", "pid"), 100);
	assert_string_equal(STR(o, "vm", "name"), "web");
	assert_string_equal(STR(o, "vm", "uuid"),
			    "6f1e0c3a-0000-4000-8000-000000000001");
	assert_string_equal(STR(o, "vm", "comm"), "qemu-system-x86");
	assert_int_equal(INT(o, "exits", "io"), 15);
	assert_int_equal(INT(o, "exits", "hlt"), 2);
	assert_int_equal(INT(o, "preemptions"), 3);
	assert_int_equal(INT(o, "memory", "rss_kib"), 2048);
	assert_false(HAS(o, "memory", "swap_in_kib")); /* not reported */
	assert_false(HAS(o, "disks"));
}

/*
 * Percentages are of the interval; the VM's run delay is the sum of its
 * vCPUs' (esxtop's VM %RDY) and worst_ready_pct its worst vCPU's, which
 * only the VM level has.
 */
static void interval__run_delay__ready_and_worst_vcpu_percent(void **state)
{
	struct json_object *o;

	fill_vm();
	assert_int_equal(sink.interval(&sink, &iv), 0);
	parse_lines();
	o = record_of("vm");
	assert_int_equal(INT(o, "run_delay", "total_ns"), 125000000);
	assert_float_equal(NUM(o, "run_delay", "ready_pct"), 25, 1e-9);
	assert_float_equal(NUM(o, "run_delay", "worst_ready_pct"), 20, 1e-9);
	assert_int_equal(INT(o, "run_delay", "hist", "count"), 115);
	assert_true(NUM(o, "run_delay", "p50_us") > 500);
	assert_true(NUM(o, "run_delay", "p99_us") >=
		    NUM(o, "run_delay", "p50_us"));
	assert_float_equal(NUM(o, "cpu_pct"), 80, 1e-9);
	assert_int_equal(json_object_array_length(AT(o, "vcpus")), 2);
	assert_int_equal(INT(o, "vcpus", "0", "index"), 0);
	assert_int_equal(INT(o, "vcpus", "0", "tid"), 101);
	assert_float_equal(NUM(o, "vcpus", "0", "run_delay", "ready_pct"), 20,
			   1e-9);
	assert_float_equal(NUM(o, "vcpus", "1", "run_delay", "ready_pct"), 5,
			   1e-9);
	assert_float_equal(NUM(o, "vcpus", "0", "cpu_pct"), 80, 1e-9);
	assert_false(HAS(o, "vcpus", "0", "run_delay", "worst_ready_pct"));
	assert_false(HAS(o, "vcpus", "1", "cpu_pct"));
	assert_int_equal(INT(o, "vcpus", "1", "exits", "hlt"), 2);
}

static void interval__vcpu_of_unknown_index__has_null_index(void **state)
{
	struct json_object *o;

	add(100, 105, -1, KP_M_EXITS, "io", 1);
	iv.interval_s = 1;
	assert_int_equal(kp_interval_finish(&iv), 0);
	assert_int_equal(sink.interval(&sink, &iv), 0);
	parse_lines();
	o = record_of("vm");
	assert_true(HAS(o, "vcpus", "0", "index"));
	assert_null(AT(o, "vcpus", "0", "index"));
	assert_int_equal(INT(o, "vcpus", "0", "tid"), 105);
	assert_null(AT(o, "vm", "name")); /* not resolved: null, not absent */
	assert_true(HAS(o, "vm", "name"));
}

/* preempted_by: the KP_SCHED_TOP largest neighbours, largest first */
static void interval__preempted_by__top_five_largest_first(void **state)
{
	struct json_object *o, *a;
	size_t i;

	for (i = 0; i < 7; i++)
		add_peer(100, 101, 0, 1000 + i, (i * 37 % 7 + 1) * 1000);
	iv.interval_s = 1;
	assert_int_equal(kp_interval_finish(&iv), 0);
	assert_int_equal(sink.interval(&sink, &iv), 0);
	parse_lines();
	o = record_of("vm");
	a = AT(o, "preempted_by");
	assert_int_equal(json_object_array_length(a), 5);
	for (i = 0; i < 5; i++) {
		assert_int_equal(INT(a, "0", "pid"), 900);
		assert_int_equal(INT(a, (char[2]){ '0' + i, 0 }, "ns"),
				 (7 - i) * 1000);
	}
	assert_string_equal(STR(a, "0", "comm"), "stress");
	assert_null(AT(a, "0", "vm")); /* not a vCPU thread */
	assert_int_equal(
		json_object_array_length(AT(o, "vcpus", "0", "preempted_by")),
		5);
}

static void interval__lost_and_dropped__in_the_interval_record(void **state)
{
	struct json_object *o;

	iv.interval_s = 1;
	iv.records_dropped = 7;
	assert_int_equal(kp_interval_add_lost(&iv, "exits", 3), 0);
	assert_int_equal(kp_interval_add_lost(&iv, "block", 1), 0);
	assert_int_equal(kp_interval_finish(&iv), 0);
	assert_int_equal(sink.interval(&sink, &iv), 0);
	parse_lines();
	assert_int_equal(nlines, 1); /* no VM, no host record */
	o = record_of("interval");
	assert_int_equal(INT(o, "vms"), 0);
	assert_int_equal(INT(o, "lost", "exits"), 3);
	assert_int_equal(INT(o, "lost", "block"), 1);
	assert_int_equal(INT(o, "records_dropped"), 7);
	assert_float_equal(NUM(o, "interval_s"), 1, 0);
	assert_false(HAS(o, "host_cpu")); /* /proc/stat not read */
}

/* host CPU busy of the interval (/proc/stat), in the interval record */
static void interval__host_cpu__busy_pct_and_cpus(void **state)
{
	struct json_object *o;

	iv.interval_s = 1;
	iv.cpu.busy_pct = 47.25;
	iv.cpu.busy_s = 1234.5;
	iv.cpu.ncpus = 2;
	assert_int_equal(kp_interval_finish(&iv), 0);
	assert_int_equal(sink.interval(&sink, &iv), 0);
	parse_lines();
	o = record_of("interval");
	assert_float_equal(NUM(o, "host_cpu", "busy_pct"), 47.25, 1e-9);
	assert_int_equal(INT(o, "host_cpu", "cpus"), 2);
}

/*
 * The sched probe's per-event tier's share of the interval: in the
 * interval record and in every run_delay object, the scale of histograms
 * of that tier; absent (null) when the probe did not run.
 */
static void interval__sched_events__share_in_every_run_delay(void **state)
{
	struct json_object *o;

	fill_vm();
	iv.sched_events.on_ns = 100000000;
	iv.sched_events.window_ns = 500000000;
	assert_int_equal(sink.interval(&sink, &iv), 0);
	parse_lines();
	o = record_of("interval");
	assert_float_equal(NUM(o, "sched_events_pct"), 20, 1e-9);
	o = record_of("vm");
	assert_float_equal(NUM(o, "run_delay", "sched_events_pct"), 20, 1e-9);
	assert_float_equal(NUM(o, "vcpus", "0", "run_delay", "sched_events_pct"),
			   20, 1e-9);
	assert_float_equal(NUM(o, "vcpus", "1", "run_delay", "sched_events_pct"),
			   20, 1e-9);
}

static void interval__sched_not_running__no_sched_events(void **state)
{
	fill_vm();
	assert_int_equal(sink.interval(&sink, &iv), 0);
	parse_lines();
	assert_false(HAS(record_of("interval"), "sched_events_pct"));
	assert_false(HAS(record_of("vm"), "run_delay", "sched_events_pct"));
}

/*
 * A vCPU's histograms without their buckets (count, sum, percentiles:
 * most of a large VM's record otherwise) unless --hist; the VM's always.
 */
static void interval__vcpu_hist__buckets_only_with_hist_option(void **state)
{
	struct json_object *o;

	fill_vm();
	assert_int_equal(sink.interval(&sink, &iv), 0);
	parse_lines();
	o = record_of("vm");
	assert_int_equal(INT(o, "vcpus", "0", "run_delay", "hist", "count"), 90);
	assert_true(HAS(o, "vcpus", "0", "run_delay", "hist", "sum_ns"));
	assert_true(HAS(o, "vcpus", "0", "run_delay", "hist", "p99_us"));
	assert_false(HAS(o, "vcpus", "0", "run_delay", "hist", "buckets"));
	assert_true(HAS(o, "run_delay", "hist", "buckets"));
}

static void interval__hist_option__vcpu_hist_with_buckets(void **state)
{
	struct json_object *o;

	opts.hist = true;
	fill_vm();
	assert_int_equal(sink.interval(&sink, &iv), 0);
	parse_lines();
	o = record_of("vm");
	assert_true(HAS(o, "vcpus", "0", "run_delay", "hist", "buckets"));
	assert_true(HAS(o, "run_delay", "hist", "buckets"));
}

/* I/O of no process: a "host" record between the VMs and the interval */
static void interval__host_devices__write_a_host_record(void **state)
{
	struct json_object *o;

	assert_int_equal(kp_interval_add_dev(&iv, KP_PID_HOST, KP_M_DISK_IOS,
					     "sda", "write", 4, NULL), 0);
	assert_int_equal(kp_interval_add_dev(&iv, 9, KP_M_DISK_IOS, "loop0",
					     "read", 2, NULL), 0);
	iv.interval_s = 1;
	assert_int_equal(kp_interval_finish(&iv), 0);
	assert_int_equal(sink.interval(&sink, &iv), 0);
	parse_lines();
	assert_int_equal(nlines, 3);
	assert_string_equal(STR(line[0], "type"), "vm");
	assert_string_equal(STR(line[1], "type"), "host");
	assert_string_equal(STR(line[2], "type"), "interval");
	o = line[1];
	assert_string_equal(STR(o, "disks", "0", "dev"), "sda");
	assert_int_equal(INT(o, "disks", "0", "write", "ios"), 4);
	assert_false(HAS(o, "vm"));
	assert_string_equal(STR(line[0], "disks", "0", "dev"), "loop0");
	assert_int_equal(json_object_array_length(AT(line[0], "vcpus")), 0);
}

static void start__probes_filters_and_programs(void **state)
{
	static const uint32_t pids[] = { 42, 43 };
	static const char *const doms[] = { "web" };
	struct kp_probe_status st[2] = {
		{ .name = "exits", .attached = true, .nprogs = 2,
		  .progs = { { .name = "kvm_exit", .how = "tp_btf" },
			     { .name = "kvm_entry", .reason = "no event" } } },
		{ .name = "block", .reason = "not requested (--probes)" },
	};
	struct kp_start_info info = {
		.version = "9.9", .ts = { .tv_sec = 1700000000 },
		.interval_s = 2, .pids = pids, .npids = 2, .domains = doms,
		.ndomains = 1, .probes = st, .nprobes = 2,
	};
	struct json_object *o;

	assert_int_equal(sink.start(&sink, &info), 0);
	parse_lines();
	assert_int_equal(nlines, 1);
	o = line[0];
	assert_string_equal(STR(o, "type"), "start");
	assert_string_equal(STR(o, "version"), "9.9");
	assert_float_equal(NUM(o, "interval_s"), 2, 0);
	assert_int_equal(INT(o, "pid_filter", "1"), 43);
	assert_string_equal(STR(o, "domain_filter", "0"), "web");
	assert_string_equal(STR(o, "probes", "0", "name"), "exits");
	assert_true(json_object_get_boolean(AT(o, "probes", "0", "attached")));
	assert_false(HAS(o, "probes", "0", "reason"));
	assert_string_equal(STR(o, "probes", "0", "programs", "kvm_exit"),
			    "tp_btf");
	assert_string_equal(STR(o, "probes", "0", "missing", "kvm_entry"),
			    "no event");
	assert_false(json_object_get_boolean(AT(o, "probes", "1", "attached")));
	assert_string_equal(STR(o, "probes", "1", "reason"),
			    "not requested (--probes)");
}

static void stop_and_notice__records(void **state)
{
	struct kp_stop_info stop = { .intervals = 12, .reason = "signal" };
	struct kp_notice n = { .source = "libvirt", .state = "unavailable",
			       .message = "connection lost" };

	assert_int_equal(sink.notice(&sink, &n), 0);
	assert_int_equal(sink.stop(&sink, &stop), 0);
	parse_lines();
	assert_int_equal(nlines, 2);
	assert_string_equal(STR(line[0], "type"), "notice");
	assert_string_equal(STR(line[0], "source"), "libvirt");
	assert_string_equal(STR(line[0], "state"), "unavailable");
	assert_string_equal(STR(line[0], "message"), "connection lost");
	assert_string_equal(STR(line[1], "type"), "stop");
	assert_int_equal(INT(line[1], "intervals"), 12);
	assert_string_equal(STR(line[1], "reason"), "signal");
}

static void alert__firing_and_resolved_without_value(void **state)
{
	struct kp_alert_rule r = { .name = "vcpu_ready_critical",
				   .metric = KP_M_RUN_DELAY,
				   .stat = KP_STAT_PCT, .above = true,
				   .threshold = 10,
				   .severity = KP_SEV_CRITICAL };
	struct kp_alert_event ev = { .rule = &r, .firing = true, .pid = 100,
				     .name = "web", .vcpu = 1,
				     .has_value = true, .value = 12.3456,
				     .since = 1700000000.5 };
	struct timespec ts = { .tv_sec = 1700000060 };

	assert_int_equal(sink.alert(&sink, &ev, &ts), 0);
	ev.firing = false;
	ev.has_value = false;
	ev.vcpu = -1;
	assert_int_equal(sink.alert(&sink, &ev, &ts), 0);
	parse_lines();
	assert_int_equal(nlines, 2);
	assert_string_equal(STR(line[0], "type"), "alert");
	assert_string_equal(STR(line[0], "state"), "firing");
	assert_string_equal(STR(line[0], "rule"), "vcpu_ready_critical");
	assert_string_equal(STR(line[0], "severity"), "critical");
	assert_string_equal(STR(line[0], "metric"), "run_delay");
	assert_string_equal(STR(line[0], "stat"), "pct");
	assert_float_equal(NUM(line[0], "value"), 12.346, 1e-9);
	assert_float_equal(NUM(line[0], "threshold"), 10, 0);
	assert_int_equal(INT(line[0], "vm", "pid"), 100);
	assert_string_equal(STR(line[0], "vm", "name"), "web");
	assert_int_equal(INT(line[0], "vcpu"), 1);
	assert_string_equal(STR(line[0], "since"), "2023-11-14T22:13:20.500Z");
	assert_string_equal(STR(line[0], "ts"), "2023-11-14T22:14:20.000Z");
	assert_string_equal(STR(line[1], "state"), "resolved");
	assert_true(HAS(line[1], "value"));
	assert_null(AT(line[1], "value"));
	assert_null(AT(line[1], "vcpu"));
}

/* A full output (ENOSPC) is the sink's return value, not a silent loss. */
static void interval__write_error__is_returned(void **state)
{
	FILE *full = fopen("/dev/full", "w");

	if (!full)
		skip();
	fclose(sink.out);
	sink.out = full;
	fill_vm();
	assert_int_equal(sink.interval(&sink, &iv), -ENOSPC);
	/* the error was taken: the stream can be written again */
	assert_false(ferror(full));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(interval__one_vm__writes_vm_then_interval_record),
		T(interval__run_delay__ready_and_worst_vcpu_percent),
		T(interval__sched_events__share_in_every_run_delay),
		T(interval__vcpu_hist__buckets_only_with_hist_option),
		T(interval__hist_option__vcpu_hist_with_buckets),
		T(interval__sched_not_running__no_sched_events),
		T(interval__vcpu_of_unknown_index__has_null_index),
		T(interval__preempted_by__top_five_largest_first),
		T(interval__lost_and_dropped__in_the_interval_record),
		T(interval__host_cpu__busy_pct_and_cpus),
		T(interval__host_devices__write_a_host_record),
		T(start__probes_filters_and_programs),
		T(stop_and_notice__records),
		T(alert__firing_and_resolved_without_value),
		T(interval__write_error__is_returned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
