// SPDX-License-Identifier: GPL-2.0
/* Unit tests for user/sinks/top_layout.c: frames from records, tables,
 * widths and cells of kvmprobe top. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "user/sinks/top_layout.h"

/* two VMs: "calm" (pid 100) and "busy" (pid 200, contended), one disk and
 * one tap on busy, and the interval record */
static const char *const recs[] = {
	"{\"type\":\"vm\",\"schema\":1,\"ts\":\"2026-11-22T10:00:01.000Z\","
	"\"interval_s\":2.000,\"vm\":{\"pid\":100,\"name\":\"calm\"},"
	"\"cpu_pct\":50.000,\"run_delay\":{\"total_ns\":20000000,"
	"\"ready_pct\":1.000,\"worst_ready_pct\":0.600},\"preemptions\":10,"
	"\"exits\":{\"io\":600,\"hlt\":200},"
	"\"userspace_exits\":{\"IO\":600},"
	"\"userspace_time\":{\"IO\":{\"count\":600,\"sum_ns\":1,\"buckets\":"
	"[[8192,600]]}},"
	"\"memory\":{\"rss_kib\":2048,\"balloon_current_kib\":1048576},"
	"\"halts\":300,\"poll_fail_pct\":12.500,"
	"\"userspace_waiting_ns\":{\"IO\":100000000,\"MMIO\":20000000},"
	"\"userspace_blocked_ns\":{\"IO\":600000000},"
	"\"vcpus\":[{\"index\":1,\"tid\":102,\"cpu_pct\":20.000,"
	"\"halts\":100,\"poll_fail_pct\":2.500,"
	"\"userspace_blocked_ns\":{\"IO\":200000000},"
	"\"run_delay\":{\"ready_pct\":0.600}},"
	"{\"index\":0,\"tid\":101,\"cpu_pct\":30.000,"
	"\"run_delay\":{\"ready_pct\":0.400}}]}",
	"{\"type\":\"vm\",\"schema\":1,\"ts\":\"2026-11-22T10:00:01.000Z\","
	"\"interval_s\":2.000,\"vm\":{\"pid\":200,\"name\":null,"
	"\"comm\":\"busy\"},\"cpu_pct\":33.000,\"run_delay\":"
	"{\"ready_pct\":66.000,\"worst_ready_pct\":66.000},"
	"\"preempted_by\":[{\"pid\":300,\"tid\":300,\"comm\":\"kp-hog\","
	"\"vm\":null,\"ns\":660000000}],"
	"\"disks\":[{\"dev\":\"loop0\",\"target\":\"vda\",\"read\":{\"ios\":"
	"1000,\"bytes\":4096000,\"latency_hist\":{\"count\":1000,\"buckets\":"
	"[[16384,1000]]}}}],"
	"\"interfaces\":[{\"dev\":\"vnet0\",\"rx\":{\"packets\":90,\"bytes\":"
	"1000},\"tx\":{\"packets\":0,\"bytes\":0},\"drops\":{\"FULL_RING\":10},"
	"\"delivery_p99_us\":12.500}],"
	"\"vcpus\":[{\"index\":0,\"tid\":201,\"cpu_pct\":33.000,"
	"\"run_delay\":{\"ready_pct\":66.000}}]}",
	"{\"type\":\"interval\",\"schema\":1,\"ts\":\"2026-11-22T10:00:01.000Z\","
	"\"interval_s\":2.000,\"vms\":2,\"lost\":{\"exits\":3,\"sched\":4},"
	"\"records_dropped\":0,\"host_cpu\":{\"busy_pct\":47.300,\"cpus\":2}}",
};

static void load(struct kp_top_frame *f, struct kp_top_alerts *a)
{
	size_t i;

	memset(f, 0, sizeof(*f));
	memset(a, 0, sizeof(*a));
	for (i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		struct json_object *o = json_tokener_parse(recs[i]);

		assert_non_null(o);
		assert_int_equal(kp_top_frame_add(f, a, o), 0);
		json_object_put(o);
	}
}

static const struct kp_top_vm *vm_of(const struct kp_top_frame *f,
				     uint32_t pid)
{
	size_t i;

	for (i = 0; i < f->nvms; i++)
		if (f->vms[i].pid == pid)
			return &f->vms[i];
	return NULL;
}

static void frame__records__give_the_record_numbers_and_rates(void **state)
{
	struct kp_top_frame f;
	struct kp_top_alerts a;
	const struct kp_top_vm *calm, *busy;

	load(&f, &a);
	assert_true(f.complete);
	assert_int_equal(f.lost, 7);
	assert_float_equal(f.cpu_pct, 47.3, 1e-9);
	assert_int_equal(f.ncpus, 2);
	calm = vm_of(&f, 100);
	busy = vm_of(&f, 200);
	assert_non_null(calm);
	assert_non_null(busy);
	assert_string_equal(calm->name, "calm");
	assert_string_equal(busy->name, "busy"); /* no domain: the comm */
	assert_true(calm->used == 50.0);
	assert_true(calm->rdy == 1.0);
	assert_true(calm->maxrdy == 0.6);
	assert_true(calm->preempt_s == 5.0);  /* 10 in 2 s */
	assert_true(calm->exits_s == 400.0);  /* 800 in 2 s */
	assert_string_equal(calm->top_exits, "io 75% hlt 25%");
	assert_true(calm->vmm_p99 > 4.0 && calm->vmm_p99 <= 8.192);
	assert_true(isnan(calm->exit_p99));
	assert_true(calm->rss == 2048);
	assert_true(isnan(calm->swin));
	assert_true(calm->halts_s == 150.0);  /* 300 in 2 s */
	assert_true(calm->pfail == 12.5);
	assert_true(isnan(busy->halts_s));    /* no haltpoll figures */
	assert_true(isnan(busy->pfail));
	/* 0.12 s and 0.6 s of VMM handling in 2 s; none measured: NAN */
	assert_true(fabs(calm->uwait - 6.0) < 1e-9);
	assert_true(fabs(calm->ublk - 30.0) < 1e-9);
	assert_true(isnan(busy->uwait) && isnan(busy->ublk));
	assert_true(fabs(calm->vcpus[0].ublk - 10.0) < 1e-9);
	assert_true(isnan(calm->vcpus[0].uwait));
	assert_int_equal(calm->vcpus[0].tid, 102);
	assert_true(calm->vcpus[0].halts_s == 50.0);
	assert_true(calm->vcpus[0].pfail == 2.5);
	assert_int_equal(calm->nvcpus, 2);
	assert_string_equal(busy->neighbour, "kp-hog[300] 33%");
	assert_int_equal(busy->ndisks, 1);
	assert_true(busy->disks[0].r_iops == 500);
	assert_true(busy->disks[0].r_mbs == 2.048);
	assert_string_equal(busy->disks[0].target, "vda");
	assert_true(busy->disks[0].t99 > 8.192 && busy->disks[0].t99 <= 16.384);
	assert_true(isnan(busy->disks[0].q99));
	assert_int_equal(busy->nnics, 1);
	assert_true(busy->nics[0].rx_pps == 45);
	assert_true(busy->nics[0].drp_pct == 10.0);
	assert_string_equal(busy->nics[0].drop, "FULL_RING 100%");
	assert_true(busy->nics[0].dlv99 == 12.5);
	kp_top_frame_clear(&f);
}

static void build__sort_by_rdy__puts_the_contended_vm_first(void **state)
{
	struct kp_top_frame f;
	struct kp_top_alerts a;
	struct kp_top_state st;
	struct kp_top_table t = { 0 };

	load(&f, &a);
	kp_top_state_init(&st);
	assert_int_equal(kp_top_build(&t, &st, &f, &a, 0), 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.rows[0].pid, 100); /* default: %USED */
	st.sort[KP_VIEW_CPU] = 4;             /* %RDY */
	assert_string_equal(kp_top_cols(KP_VIEW_CPU, &(size_t){ 0 })[4].title,
			    "%RDY");
	kp_top_build(&t, &st, &f, &a, 0);
	assert_int_equal(t.rows[0].pid, 200);
	st.reverse[KP_VIEW_CPU] = true;
	kp_top_build(&t, &st, &f, &a, 0);
	assert_int_equal(t.rows[0].pid, 100);
	st.sort[KP_VIEW_CPU] = 1; /* NAME, text: ascending; reversed */
	kp_top_build(&t, &st, &f, &a, 0);
	assert_string_equal(t.rows[0].c[1].s, "calm");
	kp_top_table_clear(&t);
	kp_top_frame_clear(&f);
}

static void build__expanded_vm__is_followed_by_its_vcpus_in_index_order(
	void **state)
{
	struct kp_top_frame f;
	struct kp_top_alerts a;
	struct kp_top_state st;
	struct kp_top_table t = { 0 };

	load(&f, &a);
	kp_top_state_init(&st);
	kp_top_toggle_expand(&st, 100);
	kp_top_build(&t, &st, &f, &a, 0);
	assert_int_equal(t.n, 4);
	assert_int_equal(t.rows[0].pid, 100);
	assert_int_equal(t.rows[1].level, 1);
	assert_string_equal(t.rows[1].c[1].s, "  vcpu 0");
	assert_true(t.rows[1].c[3].v == 30.0);
	assert_string_equal(t.rows[2].c[1].s, "  vcpu 1");
	assert_int_equal(t.rows[3].pid, 200);
	assert_int_equal(t.rows[3].level, 0);
	kp_top_toggle_expand(&st, 100);
	kp_top_build(&t, &st, &f, &a, 0);
	assert_int_equal(t.n, 2);
	kp_top_table_clear(&t);
	kp_top_frame_clear(&f);
}

static void build__filter__narrows_to_name_or_pid(void **state)
{
	struct kp_top_frame f;
	struct kp_top_alerts a;
	struct kp_top_state st;
	struct kp_top_table t = { 0 };

	load(&f, &a);
	kp_top_state_init(&st);
	strcpy(st.filter, "cal");
	kp_top_build(&t, &st, &f, &a, 0);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.rows[0].pid, 100);
	strcpy(st.filter, "200");
	kp_top_build(&t, &st, &f, &a, 0);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.rows[0].pid, 200);
	strcpy(st.filter, "20"); /* a pid matches whole */
	kp_top_build(&t, &st, &f, &a, 0);
	assert_int_equal(t.n, 0);
	kp_top_table_clear(&t);
	kp_top_frame_clear(&f);
}

static void build__disk_and_net_views__have_a_row_per_device(void **state)
{
	struct kp_top_frame f;
	struct kp_top_alerts a;
	struct kp_top_state st;
	struct kp_top_table t = { 0 };

	load(&f, &a);
	kp_top_state_init(&st);
	st.view = KP_VIEW_DISK;
	kp_top_build(&t, &st, &f, &a, 0);
	assert_int_equal(t.n, 1);
	assert_string_equal(t.rows[0].c[2].s, "loop0");
	assert_string_equal(t.rows[0].c[3].s, "vda");
	st.view = KP_VIEW_NET;
	kp_top_build(&t, &st, &f, &a, 0);
	assert_int_equal(t.n, 1);
	assert_string_equal(t.rows[0].c[2].s, "vnet0");
	kp_top_table_clear(&t);
	kp_top_frame_clear(&f);
}

static void alerts__fire_and_resolve__keep_one_row_with_duration(void **state)
{
	struct kp_top_alerts a = { 0 };
	struct kp_top_frame f = { 0 };
	const struct kp_top_alert *worst;
	struct kp_top_state st;
	struct kp_top_table t = { 0 };
	struct json_object *o;

	o = json_tokener_parse("{\"type\":\"alert\",\"ts\":\"2026-11-22T10:00:10.000Z\","
			       "\"state\":\"firing\",\"rule\":\"rdy\",\"severity\":\"warning\","
			       "\"vm\":{\"pid\":200,\"name\":\"busy\"},\"vcpu\":0,"
			       "\"metric\":\"run_delay\",\"value\":66.0,\"threshold\":5.0,"
			       "\"since\":\"2026-11-22T10:00:04.000Z\"}");
	assert_int_equal(kp_top_frame_add(&f, &a, o), 0);
	json_object_put(o);
	assert_int_equal(f.nfiring, 1);
	assert_int_equal(kp_top_alerts_firing(&a, &worst), 1);
	assert_string_equal(worst->rule, "rdy");
	kp_top_state_init(&st);
	st.view = KP_VIEW_ALERTS;
	kp_top_build(&t, &st, &f, &a, kp_top_parse_ts("2026-11-22T10:00:20.000Z"));
	assert_int_equal(t.n, 1);
	assert_string_equal(t.rows[0].c[0].s, "FIRING");
	assert_true(t.rows[0].c[9].v == 16.0); /* since 10:00:04 */
	o = json_tokener_parse("{\"type\":\"alert\",\"ts\":\"2026-11-22T10:00:30.000Z\","
			       "\"state\":\"resolved\",\"rule\":\"rdy\",\"severity\":\"warning\","
			       "\"vm\":{\"pid\":200,\"name\":\"busy\"},\"vcpu\":0,"
			       "\"metric\":\"run_delay\",\"value\":1.0,\"threshold\":5.0,"
			       "\"since\":\"2026-11-22T10:00:10.000Z\"}");
	kp_top_frame_add(&f, &a, o);
	json_object_put(o);
	assert_int_equal(a.n, 1);
	assert_int_equal(kp_top_alerts_firing(&a, &worst), 0);
	assert_null(worst);
	kp_top_build(&t, &st, &f, &a, kp_top_parse_ts("2026-11-22T10:01:00.000Z"));
	assert_string_equal(t.rows[0].c[0].s, "resolved");
	assert_true(t.rows[0].c[9].v == 20.0); /* fired 10:00:10 to 10:00:30 */
	kp_top_table_clear(&t);
	kp_top_alerts_clear(&a);
	kp_top_frame_clear(&f);
}

static void layout__narrow_terminal__drops_columns_from_the_right(void **state)
{
	int w[KP_TOP_MAXCOLS];
	size_t n, all;
	const struct kp_top_col *c = kp_top_cols(KP_VIEW_CPU, &all);

	n = kp_top_layout(c, all, 200, w);
	assert_int_equal(n, all);
	assert_int_equal(w[1], 40); /* the flexible NAME, capped */
	n = kp_top_layout(c, all, 30, w);
	assert_int_equal(n, 3); /* PID 7 + NAME 12 + NVCPU 5, blanks between */
	assert_int_equal(w[1], 12 + 30 - 26);
	n = kp_top_layout(c, all, 3, w);
	assert_int_equal(n, 1);
}

static void fmt_num__too_wide__uses_fewer_decimals_then_suffixes(void **state)
{
	char b[32];

	kp_top_fmt_num(12.345, 1, 7, b, sizeof(b));
	assert_string_equal(b, "12.3");
	kp_top_fmt_num(12345.6, 1, 5, b, sizeof(b));
	assert_string_equal(b, "12346");
	kp_top_fmt_num(1234567, 0, 5, b, sizeof(b));
	assert_string_equal(b, "1235k");
	kp_top_fmt_num(1234567, 0, 4, b, sizeof(b));
	assert_string_equal(b, "1.2M");
	kp_top_fmt_num(NAN, 1, 5, b, sizeof(b));
	assert_string_equal(b, "-");
}

static void format_row__cells__align_numbers_right_and_text_left(void **state)
{
	struct kp_top_frame f;
	struct kp_top_alerts a;
	struct kp_top_state st;
	struct kp_top_table t = { 0 };
	int w[KP_TOP_MAXCOLS];
	char line[256];
	size_t n;

	load(&f, &a);
	kp_top_state_init(&st);
	kp_top_build(&t, &st, &f, &a, 0);
	n = kp_top_layout(t.cols, t.ncols, 80, w);
	kp_top_format_row(&t, NULL, w, n, line, sizeof(line));
	assert_non_null(strstr(line, "    PID NAME"));
	kp_top_format_row(&t, &t.rows[0], w, n, line, sizeof(line));
	assert_non_null(strstr(line, "    100 calm "));
	assert_non_null(strstr(line, "    50.0     1.0     0.6         5"));
	kp_top_header(&f, &a, line, sizeof(line));
	assert_string_equal(line, "10:00:01 UTC  interval 2.00s  VMs 2  vCPUs 3  "
			    "host CPU 47.3%  %RDY sum 67.0  lost 7  alerts 0");
	/* a record without host_cpu (an older recording): a dash */
	f.ncpus = 0;
	kp_top_header(&f, &a, line, sizeof(line));
	assert_non_null(strstr(line, "  host CPU -  "));
	kp_top_table_clear(&t);
	kp_top_frame_clear(&f);
}

static void view_of_key__each_view_key__gives_its_view(void **state)
{
	assert_int_equal(kp_top_view_of_key('c'), KP_VIEW_CPU);
	assert_int_equal(kp_top_view_of_key('x'), KP_VIEW_EXITS);
	assert_int_equal(kp_top_view_of_key('d'), KP_VIEW_DISK);
	assert_int_equal(kp_top_view_of_key('n'), KP_VIEW_NET);
	assert_int_equal(kp_top_view_of_key('m'), KP_VIEW_MEM);
	assert_int_equal(kp_top_view_of_key('a'), KP_VIEW_ALERTS);
	assert_int_equal(kp_top_view_of_key('z'), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frame__records__give_the_record_numbers_and_rates),
		cmocka_unit_test(build__sort_by_rdy__puts_the_contended_vm_first),
		cmocka_unit_test(build__expanded_vm__is_followed_by_its_vcpus_in_index_order),
		cmocka_unit_test(build__filter__narrows_to_name_or_pid),
		cmocka_unit_test(build__disk_and_net_views__have_a_row_per_device),
		cmocka_unit_test(alerts__fire_and_resolve__keep_one_row_with_duration),
		cmocka_unit_test(layout__narrow_terminal__drops_columns_from_the_right),
		cmocka_unit_test(fmt_num__too_wide__uses_fewer_decimals_then_suffixes),
		cmocka_unit_test(format_row__cells__align_numbers_right_and_text_left),
		cmocka_unit_test(view_of_key__each_view_key__gives_its_view),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
