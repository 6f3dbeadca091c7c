// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for user/sinks/sink_text.c: the esxtop-like table, written to
 * a memory stream. Rows are split into whitespace-separated columns:
 * PID NAME VCPUS %CPU %RDY %LMT EXITS/s UEXITS/s %UWAIT %UBLK HALTS/s %PFAIL TOP-EXIT...
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
#include "user/core/hist.h"
#include "user/sinks/sink.h"

#define MAX_COLS 24

static struct kp_interval iv;
static struct kp_opts opts;
static struct kp_sink sink;
static char *buf;
static size_t len;

static int setup(void **state)
{
	setenv("TZ", "UTC", 1);
	memset(&opts, 0, sizeof(opts));
	kp_sink_text_init(&sink, open_memstream(&buf, &len), &opts);
	assert_non_null(sink.out);
	return 0;
}

static int teardown(void **state)
{
	if (sink.out)
		fclose(sink.out);
	sink.out = NULL;
	free(buf);
	buf = NULL;
	kp_interval_clear(&iv);
	return 0;
}

static void output(void)
{
	fclose(sink.out);
	sink.out = NULL;
	assert_non_null(buf);
}

/*
 * The columns of the first line whose first column is who, split at
 * blanks into cols (a copy in line); the number of columns, 0 if absent.
 */
static size_t row_of(const char *who, char *line, size_t linelen,
		     char **cols)
{
	const char *p, *nl;
	size_t n;
	char *tok, *save;

	for (p = buf; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		snprintf(line, linelen, "%.*s", (int)(nl - p), p);
		n = 0;
		for (tok = strtok_r(line, " ", &save); tok && n < MAX_COLS;
		     tok = strtok_r(NULL, " ", &save))
			cols[n++] = tok;
		if (n && !strcmp(cols[0], who))
			return n;
		if (!*nl)
			break;
	}
	return 0;
}

static void add(uint32_t pid, uint32_t tid, int vcpu, enum kp_metric_id m,
		const char *label, uint64_t value)
{
	struct kp_hist h = { 0 };

	if (kp_metric(m)->type == KP_HISTOGRAM)
		kp_hist_add(&h, 1000);
	assert_int_equal(kp_interval_add(&iv, pid, tid, vcpu, m, label, value,
					 kp_metric(m)->type == KP_HISTOGRAM ?
					 &h : NULL), 0);
}

/*
 * VM 100 ("web") over 2 s: vCPU 0 ran 1.2 s (60%) and waited 0.3 s (15%),
 * vCPU 1 waited 0.1 s (5%); 400 IO exits (300 on vCPU 0) and 10 to the VMM.
 */
static void fill_samples(void)
{
	add(100, 101, 0, KP_M_CPU_TIME, "", 1200000000);
	add(100, 101, 0, KP_M_RUN_DELAY, "", 300000000);
	add(100, 102, 1, KP_M_RUN_DELAY, "", 100000000);
	add(100, 101, 0, KP_M_EXITS, "io", 300);
	add(100, 102, 1, KP_M_EXITS, "io", 100);
	add(100, 102, 1, KP_M_EXITS, "hlt", 100);
	add(100, 101, 0, KP_M_UEXITS, "KVM_EXIT_IO", 10);
	add(100, 102, 1, KP_M_HALT_TIME, "poll", 0);
	add(100, 102, 1, KP_M_HALT_TIME, "poll", 0);
	/* vCPU 0's VMM handling waited 0.1 s, was blocked 0.5 s + 0.3 s */
	add(100, 101, 0, KP_M_UEXIT_ONCPU, "KVM_EXIT_IO", 20000000);
	add(100, 101, 0, KP_M_UEXIT_WAIT, "KVM_EXIT_IO", 100000000);
	add(100, 101, 0, KP_M_UEXIT_BLOCK, "KVM_EXIT_IO", 500000000);
	add(100, 101, 0, KP_M_UEXIT_BLOCK, "KVM_EXIT_MMIO", 300000000);
	/* vCPU 1 polled in vain for 0.2 s and vCPU 0 for 0.1 s: 15% */
	add(100, 102, 1, KP_M_POLL_FAIL, "", 200000000);
	add(100, 101, 0, KP_M_POLL_FAIL, "", 100000000);
}

static void finish_web(void)
{
	iv.interval_s = 2;
	iv.ts.tv_sec = 1700000000;
	assert_int_equal(kp_interval_finish(&iv), 0);
	iv.vms[0].name = strdup("web");
}

static void fill(void)
{
	fill_samples();
	finish_web();
}

static void interval__vm_row__rates_cpu_and_worst_vcpu_ready(void **state)
{
	char line[512], *c[MAX_COLS];

	fill();
	assert_int_equal(sink.interval(&sink, &iv), 0);
	output();
	assert_non_null(strstr(buf, "22:13:20  1 VM(s) active, interval 2.00 s\n"));
	assert_null(strstr(buf, "events lost"));
	assert_null(strstr(buf, "host CPU")); /* /proc/stat not read */
	assert_int_equal(row_of("100", line, sizeof(line), c), 18);
	assert_string_equal(c[1], "web");
	assert_string_equal(c[2], "2");      /* vCPUs */
	assert_string_equal(c[3], "60.0");   /* %CPU: the sum of the vCPUs */
	assert_string_equal(c[4], "15.0");   /* %RDY: the worst vCPU, not 20 */
	assert_string_equal(c[5], "-");      /* %LMT: no CPU limit measured */
	assert_string_equal(c[6], "250");    /* exits/s */
	assert_string_equal(c[7], "5");      /* exits to the VMM /s */
	assert_string_equal(c[8], "5.0");    /* %UWAIT: 0.1 s of 2 s */
	assert_string_equal(c[9], "40.0");   /* %UBLK: 0.8 s, every reason */
	assert_string_equal(c[10], "1");     /* two halts in 2 s */
	assert_string_equal(c[11], "15.0");  /* %PFAIL: the sum of the vCPUs */
	assert_string_equal(c[12], "io");    /* top exit: 200/s, 80% */
	assert_string_equal(c[13], "200/s");
	assert_string_equal(c[14], "(80%)");
	assert_string_equal(c[15], "KVM_EXIT_IO");
	assert_string_equal(c[16], "5/s");
	assert_string_equal(c[17], "(100%)");
	/* no per-vCPU rows without --vcpus */
	assert_int_equal(row_of("vcpu0", line, sizeof(line), c), 0);
}

/* the host CPU busy of the interval, in the header line */
static void interval__host_cpu__in_the_header(void **state)
{
	fill();
	iv.cpu.busy_pct = 47.25;
	iv.cpu.ncpus = 2;
	assert_int_equal(sink.interval(&sink, &iv), 0);
	output();
	assert_non_null(strstr(buf, "22:13:20  1 VM(s) active, interval 2.00 s, "
			       "host CPU 47.2% busy of 2\n"));
}

static void interval__vcpus_option__a_row_per_vcpu(void **state)
{
	char line[512], *c[MAX_COLS];

	opts.per_vcpu = true;
	fill_samples();
	add(100, 103, -1, KP_M_EXITS, "io", 2); /* index unknown */
	finish_web();
	assert_int_equal(sink.interval(&sink, &iv), 0);
	output();
	assert_true(row_of("vcpu0", line, sizeof(line), c) >= 9);
	assert_string_equal(c[1], "tid");
	assert_string_equal(c[2], "101");
	assert_string_equal(c[4], "60.0");
	assert_string_equal(c[5], "15.0");
	assert_string_equal(c[7], "150");
	assert_true(row_of("vcpu1", line, sizeof(line), c) >= 9);
	assert_string_equal(c[4], "-");      /* no cpu time measured */
	assert_string_equal(c[5], "5.0");
	assert_string_equal(c[9], "-");      /* %UWAIT: vCPU 1 has no split */
	assert_string_equal(c[11], "1");     /* halts/s: 2 halts / 2 s */
	assert_string_equal(c[12], "10.0");  /* %PFAIL: 0.2 s of 2 s */
	assert_true(row_of("vcpu?", line, sizeof(line), c) >= 9);
	assert_string_equal(c[2], "103");
	assert_string_equal(c[5], "-");      /* no run delay: not 0.0 */
}

/* A VM whose run delay was not measured (no sched probe): "-", not 0. */
static void interval__no_run_delay__shows_a_dash(void **state)
{
	char line[512], *c[MAX_COLS];

	add(200, 201, 0, KP_M_EXITS, "hlt", 5);
	iv.interval_s = 1;
	assert_int_equal(kp_interval_finish(&iv), 0);
	strcpy(iv.vms[0].comm, "qemu-kvm");
	assert_int_equal(sink.interval(&sink, &iv), 0);
	output();
	assert_int_equal(row_of("200", line, sizeof(line), c), 16);
	assert_string_equal(c[1], "qemu-kvm"); /* no domain name: comm */
	assert_string_equal(c[3], "-");
	assert_string_equal(c[4], "-");
	assert_string_equal(c[8], "-");      /* no split (no sched probe) */
	assert_string_equal(c[9], "-");
	assert_string_equal(c[11], "-");     /* no halt polling measured */
	assert_string_equal(c[12], "hlt");
	assert_string_equal(c[15], "-");     /* no exit to the VMM */
}

static void interval__lost_events__say_where_to_look(void **state)
{
	iv.interval_s = 1;
	assert_int_equal(kp_interval_add_lost(&iv, "exits", 1), 0);
	assert_int_equal(kp_interval_finish(&iv), 0);
	assert_int_equal(sink.interval(&sink, &iv), 0);
	output();
	assert_non_null(strstr(buf, "0 VM(s) active"));
	assert_non_null(strstr(buf, "(events lost: see \"lost\" in -f json)"));
	assert_null(strstr(buf, "PID")); /* no VM: no table header */
}

static void interval__hist_option__prints_each_histogram(void **state)
{
	opts.hist = true;
	fill();
	assert_int_equal(sink.interval(&sink, &iv), 0);
	output();
	assert_non_null(strstr(buf, "pid 100 halt poll: 2 samples"));
	assert_non_null(strstr(buf, "pid 100 run_delay: 2 samples"));
	assert_non_null(strstr(buf, "513 -> 1024"));
}

static void interval__host_devices__a_host_line(void **state)
{
	assert_int_equal(kp_interval_add_dev(&iv, KP_PID_HOST, KP_M_DISK_IOS,
					     "sda", "write", 30, NULL), 0);
	iv.interval_s = 3;
	assert_int_equal(kp_interval_finish(&iv), 0);
	assert_int_equal(sink.interval(&sink, &iv), 0);
	output();
	assert_non_null(strstr(buf, "host (kernel threads, processes that are not VMMs)"));
	assert_non_null(strstr(buf, "sda"));
	assert_non_null(strstr(buf, "10 IO/s"));
}

static void alert__firing_and_gone(void **state)
{
	struct kp_alert_rule r = { .name = "vcpu_ready_warning",
				   .metric = KP_M_RUN_DELAY,
				   .stat = KP_STAT_PCT, .above = true,
				   .threshold = 5,
				   .severity = KP_SEV_WARNING };
	struct kp_alert_event ev = { .rule = &r, .firing = true, .pid = 100,
				     .name = "web", .vcpu = 1,
				     .has_value = true, .value = 7.25 };
	struct timespec ts = { .tv_sec = 1700000000 };

	assert_int_equal(sink.alert(&sink, &ev, &ts), 0);
	ev.firing = false;
	ev.has_value = false;
	ev.vcpu = -1;
	ev.name = NULL;
	ev.comm = "qemu";
	assert_int_equal(sink.alert(&sink, &ev, &ts), 0);
	output();
	assert_non_null(strstr(buf, "22:13:20  ALERT firing vcpu_ready_warning "
				    "(warning): web vcpu 1: run_delay pct "
				    "7.250 (threshold above 5)\n"));
	assert_non_null(strstr(buf, "ALERT resolved vcpu_ready_warning "
				    "(warning): qemu: run_delay pct (VM gone)\n"));
}

static void start_and_stop__name_missing_programs_and_the_reason(void **state)
{
	struct kp_probe_status st[2] = {
		{ .name = "exits", .attached = true, .nprogs = 1,
		  .progs = { { .name = "kvm_exit", .reason = "no event" } } },
		{ .name = "net", .reason = "no tracefs" },
	};
	struct kp_start_info info = { .version = "9.9", .interval_s = 1,
				      .probes = st, .nprobes = 2 };
	struct kp_stop_info stop = { .intervals = 3, .reason = "count" };

	assert_int_equal(sink.start(&sink, &info), 0);
	assert_int_equal(sink.stop(&sink, &stop), 0);
	output();
	assert_non_null(strstr(buf, "kvmprobe 9.9: interval 1.00 s. Ctrl-C to stop.\n"));
	assert_non_null(strstr(buf, "probe exits: kvm_exit missing: no event\n"));
	assert_non_null(strstr(buf, "probe net: not attached: no tracefs\n"));
	assert_non_null(strstr(buf, "kvmprobe: stopped after 3 interval(s) (count)\n"));
}

static void interval__write_error__is_returned(void **state)
{
	FILE *full = fopen("/dev/full", "w");

	if (!full)
		skip();
	fclose(sink.out);
	sink.out = full;
	fill();
	assert_int_equal(sink.interval(&sink, &iv), -ENOSPC);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(interval__vm_row__rates_cpu_and_worst_vcpu_ready),
		T(interval__host_cpu__in_the_header),
		T(interval__vcpus_option__a_row_per_vcpu),
		T(interval__no_run_delay__shows_a_dash),
		T(interval__lost_events__say_where_to_look),
		T(interval__hist_option__prints_each_histogram),
		T(interval__host_devices__a_host_line),
		T(alert__firing_and_gone),
		T(start_and_stop__name_missing_programs_and_the_reason),
		T(interval__write_error__is_returned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
