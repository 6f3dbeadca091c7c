// SPDX-License-Identifier: GPL-2.0
/* Unit tests for user/core/metrics.c: the metric registry's naming contract. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <string.h>
#include "user/core/metrics.h"

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* Prometheus metric name: [a-zA-Z_:][a-zA-Z0-9_:]* (we use lowercase). */
static bool prom_name_ok(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_'))
			return false;
	return true;
}

static void metric__every_id__has_all_descriptions(void **state)
{
	const struct kp_metric_desc *m;
	int id;

	for (id = 0; id < KP_M__COUNT; id++) {
		m = kp_metric(id);
		assert_non_null(m);
		assert_non_null(m->json);
		assert_non_null(m->prom);
		assert_non_null(m->probe);
		assert_non_null(m->help);
		/* label NULL: an unlabelled metric; never an empty name */
		assert_true(*m->json && *m->prom && (!m->label || *m->label) &&
			    *m->probe && *m->help);
	}
}

/* How a metric is shown needs a label (a list of peers) or none (a value). */
static void metric__show_kind__matches_labelling(void **state)
{
	const struct kp_metric_desc *m;
	int id;

	for (id = 0; id < KP_M__COUNT; id++) {
		m = kp_metric(id);
		switch (m->show) {
		case KP_SHOW_COUNT:
		case KP_SHOW_PCT:
		case KP_SHOW_DELAY:
			if (m->label)
				fail_msg("'%s' is shown as a value but has a label",
					 m->json);
			break;
		case KP_SHOW_TOP:
			if (!m->label)
				fail_msg("'%s' is a list of peers without a label",
					 m->json);
			break;
		default:
			break;
		}
		if (m->show == KP_SHOW_DELAY && m->type != KP_HISTOGRAM)
			fail_msg("'%s': a delay is shown from a histogram", m->json);
		if ((m->show == KP_SHOW_PCT || m->show == KP_SHOW_TOP) &&
		    m->unit != KP_UNIT_NS)
			fail_msg("'%s': shown as time, but not in ns", m->json);
	}
}

static void metric__sched_keys__are_registered_per_vcpu(void **state)
{
	static const struct {
		const char *json;
		enum kp_mtype type;
		enum kp_show show;
	} sched[] = {
		{ "run_delay", KP_HISTOGRAM, KP_SHOW_DELAY },
		{ "cpu_pct", KP_COUNTER, KP_SHOW_PCT },
		{ "preemptions", KP_COUNTER, KP_SHOW_COUNT },
		{ "preempted_by", KP_COUNTER, KP_SHOW_TOP },
	};
	size_t d;
	int id;

	for (d = 0; d < sizeof(sched) / sizeof(sched[0]); d++) {
		for (id = 0; id < KP_M__COUNT; id++)
			if (!strcmp(kp_metric(id)->json, sched[d].json))
				break;
		if (id == KP_M__COUNT)
			fail_msg("'%s' is not registered", sched[d].json);
		assert_int_equal(kp_metric(id)->type, sched[d].type);
		assert_int_equal(kp_metric(id)->show, sched[d].show);
		assert_int_equal(kp_metric(id)->scope, KP_SCOPE_VCPU);
		assert_string_equal(kp_metric(id)->probe, "sched");
	}
}

static void metric__out_of_range_id__returns_null(void **state)
{
	assert_null(kp_metric(KP_M__COUNT));
	assert_null(kp_metric(KP_M__COUNT + 1));
	assert_null(kp_metric((enum kp_metric_id)-1));
}

static void metric__prom_names__are_valid_and_prefixed(void **state)
{
	int id;

	for (id = 0; id < KP_M__COUNT; id++) {
		const char *p = kp_metric(id)->prom;

		if (strncmp(p, "kvmprobe_", 9) || !prom_name_ok(p))
			fail_msg("bad Prometheus name '%s'", p);
	}
}

static void metric__counters__end_with_total(void **state)
{
	const struct kp_metric_desc *m;
	int id;

	for (id = 0; id < KP_M__COUNT; id++) {
		m = kp_metric(id);
		if (m->type == KP_COUNTER && !ends_with(m->prom, "_total"))
			fail_msg("counter '%s' does not end in _total", m->prom);
		if (m->type != KP_COUNTER && ends_with(m->prom, "_total"))
			fail_msg("non-counter '%s' ends in _total", m->prom);
	}
}

static void metric__time_histograms__end_with_seconds(void **state)
{
	const struct kp_metric_desc *m;
	int id;

	for (id = 0; id < KP_M__COUNT; id++) {
		m = kp_metric(id);
		/* a counter of seconds: _seconds_total */
		if (m->unit == KP_UNIT_NS && !ends_with(m->prom, "_seconds") &&
		    !ends_with(m->prom, "_seconds_total"))
			fail_msg("time metric '%s' does not end in _seconds",
				 m->prom);
		if (m->unit != KP_UNIT_NS && strstr(m->prom, "_seconds"))
			fail_msg("'%s' ends in _seconds but is not a time",
				 m->prom);
	}
}

static void metric__json_and_prom_names__are_unique(void **state)
{
	int a, b;

	for (a = 0; a < KP_M__COUNT; a++) {
		for (b = a + 1; b < KP_M__COUNT; b++) {
			if (!strcmp(kp_metric(a)->json, kp_metric(b)->json))
				fail_msg("json key '%s' used twice",
					 kp_metric(a)->json);
			if (!strcmp(kp_metric(a)->prom, kp_metric(b)->prom))
				fail_msg("prom name '%s' used twice",
					 kp_metric(a)->prom);
		}
	}
}

static void metric__json_keys__do_not_clash_with_vm_record_keys(void **state)
{
	/* the other keys of a "vm" record (docs/output.md) */
	static const char *const reserved[] = { "type", "schema", "ts",
						"interval_s", "vm", "vcpus",
						"index", "tid" };
	size_t r;
	int id;

	for (id = 0; id < KP_M__COUNT; id++)
		for (r = 0; r < sizeof(reserved) / sizeof(reserved[0]); r++)
			if (!strcmp(kp_metric(id)->json, reserved[r]))
				fail_msg("json key '%s' is reserved",
					 reserved[r]);
}

static void metric__documented_vm_keys__are_registered(void **state)
{
	/* the metric keys of docs/output.md's "vm" record */
	static const struct {
		const char *json;
		enum kp_mtype type;
		const char *label;
	} documented[] = {
		{ "exits", KP_COUNTER, "reason" },
		{ "userspace_exits", KP_COUNTER, "reason" },
		{ "exit_time", KP_HISTOGRAM, "reason" },
		{ "userspace_time", KP_HISTOGRAM, "reason" },
		{ "halt", KP_HISTOGRAM, "kind" },
	};
	size_t d;
	int id;

	for (d = 0; d < sizeof(documented) / sizeof(documented[0]); d++) {
		for (id = 0; id < KP_M__COUNT; id++)
			if (!strcmp(kp_metric(id)->json, documented[d].json))
				break;
		if (id == KP_M__COUNT)
			fail_msg("'%s' is not registered", documented[d].json);
		assert_int_equal(kp_metric(id)->type, documented[d].type);
		assert_string_equal(kp_metric(id)->label, documented[d].label);
	}
}

static void metric__memory_gauges__are_vm_gauges_under_memory(void **state)
{
	static const char *const keys[] = {
		"memory.balloon_current_kib", "memory.balloon_max_kib",
		"memory.rss_kib", "memory.swap_in_kib", "memory.swap_out_kib",
		"memory.major_faults",
	};
	const struct kp_metric_desc *m;
	size_t k;
	int id;

	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		for (id = 0; id < KP_M__COUNT; id++)
			if (!strcmp(kp_metric(id)->json, keys[k]))
				break;
		if (id == KP_M__COUNT)
			fail_msg("'%s' is not registered", keys[k]);
		m = kp_metric(id);
		assert_int_equal(m->type, KP_GAUGE);
		assert_int_equal(m->scope, KP_SCOPE_VM);
		assert_null(m->label);
		assert_string_equal(m->probe, "libvirt");
	}
}

static void metric__kib_metrics__are_bytes_in_prometheus(void **state)
{
	const struct kp_metric_desc *m;
	int id;

	for (id = 0; id < KP_M__COUNT; id++) {
		m = kp_metric(id);
		if ((m->unit == KP_UNIT_KIB) != ends_with(m->prom, "_bytes"))
			fail_msg("'%s': KiB metrics, and only they, end in _bytes",
				 m->prom);
		if (m->unit == KP_UNIT_KIB && !ends_with(m->json, "_kib"))
			fail_msg("'%s': KiB values end in _kib in JSON", m->json);
	}
}

static void mtype_scope_unit_names__known_and_out_of_range(void **state)
{
	assert_string_equal(kp_mtype_name(KP_COUNTER), "counter");
	assert_string_equal(kp_mtype_name(KP_GAUGE), "gauge");
	assert_string_equal(kp_mtype_name(KP_HISTOGRAM), "histogram");
	assert_string_equal(kp_mtype_name((enum kp_mtype)3), "?");
	assert_string_equal(kp_scope_name(KP_SCOPE_HOST), "host");
	assert_string_equal(kp_scope_name(KP_SCOPE_VM), "vm");
	assert_string_equal(kp_scope_name(KP_SCOPE_VCPU), "vcpu");
	assert_string_equal(kp_scope_name((enum kp_scope)-1), "?");
	assert_string_equal(kp_unit_name(KP_UNIT_EVENTS), "events");
	assert_string_equal(kp_unit_name(KP_UNIT_NS), "nanoseconds");
	assert_string_equal(kp_unit_name(KP_UNIT_KIB), "kibibytes");
	assert_string_equal(kp_unit_name(KP_UNIT_BYTES), "bytes");
	assert_string_equal(kp_unit_name((enum kp_unit)4), "?");
	assert_string_equal(kp_scope_name(KP_SCOPE_DISK), "disk");
	assert_string_equal(kp_scope_name(KP_SCOPE_IFACE), "iface");
}

static void metric__device_metrics__name_their_group_and_key(void **state)
{
	const struct kp_metric_desc *m;
	const char *dot;
	int id;

	for (id = 0; id < KP_M__COUNT; id++) {
		m = kp_metric(id);
		if (m->scope != KP_SCOPE_DISK && m->scope != KP_SCOPE_IFACE) {
			if (m->show == KP_SHOW_NEST)
				fail_msg("'%s': NEST is for devices", m->json);
			/* an INFO of a vCPU: its label, a string
			 * ("limited_source":"cgroup_v1") */
			if (m->show == KP_SHOW_INFO &&
			    (m->scope != KP_SCOPE_VCPU || !m->label ||
			     strchr(m->json, '.')))
				fail_msg("'%s': INFO is for devices and labelled vCPU metrics",
					 m->json);
			continue;
		}
		dot = strchr(m->json, '.');
		if (!dot || dot == m->json || !dot[1] || strchr(dot + 1, '.'))
			fail_msg("'%s': device metrics are \"group.key\"",
				 m->json);
		if (!strncmp(m->json, "disks.", 6) != (m->scope == KP_SCOPE_DISK))
			fail_msg("'%s': disk metrics, and only they, are disks.*",
				 m->json);
		if ((m->show == KP_SHOW_NEST || m->show == KP_SHOW_INFO) &&
		    !m->label)
			fail_msg("'%s': NEST and INFO need a label", m->json);
		if (m->pct && m->type != KP_HISTOGRAM)
			fail_msg("'%s': only histograms have percentiles",
				 m->json);
	}
}

/*
 * The scopes are registry data: every reader (record.c, the JSON device
 * objects, Prometheus labels) asks kp_scope() whether a scope is per
 * device, which label names its entity and which JSON group holds it.
 */
static void scope__device_scopes__have_a_group_and_a_label(void **state)
{
	const struct kp_scope_desc *sc;
	int s;

	for (s = 0; s < KP_SCOPE__COUNT; s++) {
		sc = kp_scope(s);
		assert_non_null(sc);
		assert_string_equal(kp_scope_name(s), sc->name);
		if (sc->device && (!sc->group || !sc->label))
			fail_msg("device scope '%s' needs a group and a label",
				 sc->name);
		if (!sc->device && sc->group)
			fail_msg("scope '%s' has a group but no devices",
				 sc->name);
		if (s != KP_SCOPE_HOST && (!sc->label || !prom_name_ok(sc->label)))
			fail_msg("scope '%s': no valid label name", sc->name);
	}
	assert_true(kp_scope(KP_SCOPE_DISK)->device);
	assert_true(kp_scope(KP_SCOPE_IFACE)->device);
	assert_false(kp_scope(KP_SCOPE_VM)->device);
	assert_false(kp_scope(KP_SCOPE_VCPU)->device);
	assert_string_equal(kp_scope(KP_SCOPE_VM)->label, "pid");
	assert_string_equal(kp_scope(KP_SCOPE_VCPU)->label, "vcpu");
	assert_null(kp_scope(KP_SCOPE__COUNT));
	assert_null(kp_scope((enum kp_scope)-1));
}

static void metric__device_metrics__keys_start_with_their_group(void **state)
{
	const struct kp_scope_desc *sc;
	const struct kp_metric_desc *m;
	int id;

	for (id = 0; id < KP_M__COUNT; id++) {
		m = kp_metric(id);
		sc = kp_scope(m->scope);
		assert_int_equal(kp_metric_is_dev(id), sc->device);
		if (!sc->device)
			continue;
		if (strncmp(m->json, sc->group, strlen(sc->group)) ||
		    m->json[strlen(sc->group)] != '.')
			fail_msg("'%s' is not under its group '%s.'", m->json,
				 sc->group);
	}
	assert_false(kp_metric_is_dev(-1));
	assert_false(kp_metric_is_dev(KP_M__COUNT));
}

/* The delay keys of a record come from the registry (docs/output.md). */
static void metric__delay_metrics__name_their_share_and_percentiles(void **state)
{
	const struct kp_metric_desc *m;
	int id;

	for (id = 0; id < KP_M__COUNT; id++) {
		m = kp_metric(id);
		if ((m->show == KP_SHOW_DELAY) != !!m->share)
			fail_msg("'%s': delay metrics, and only they, name a share",
				 m->json);
		if (m->show == KP_SHOW_DELAY && !m->pct)
			fail_msg("'%s': a delay has percentiles", m->json);
	}
	assert_string_equal(kp_metric(KP_M_RUN_DELAY)->share, "ready");
	assert_string_equal(kp_metric(KP_M_RUN_DELAY)->pct, "");
}

/* kvmprobe's own series: host counters, apart from every VM metric. */
static void host_metric__every_id__is_a_host_counter_of_its_own(void **state)
{
	const struct kp_metric_desc *h;
	int id, m;

	for (id = 0; id < KP_HM__COUNT; id++) {
		h = kp_host_metric(id);
		assert_non_null(h);
		assert_true(*h->json && *h->help && *h->probe);
		assert_true(prom_name_ok(h->prom));
		assert_true(!strncmp(h->prom, "kvmprobe_", 9));
		assert_int_equal(h->type, KP_COUNTER);
		assert_true(ends_with(h->prom, "_total"));
		assert_int_equal(h->scope, KP_SCOPE_HOST);
		for (m = 0; m < KP_M__COUNT; m++)
			if (!strcmp(kp_metric(m)->prom, h->prom) ||
			    !strcmp(kp_metric(m)->json, h->json))
				fail_msg("'%s' is a VM metric too", h->prom);
	}
	assert_string_equal(kp_host_metric(KP_HM_LOST_EVENTS)->label, "probe");
	assert_null(kp_host_metric(KP_HM__COUNT));
	assert_null(kp_host_metric((enum kp_host_metric_id)-1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(metric__every_id__has_all_descriptions),
		cmocka_unit_test(metric__show_kind__matches_labelling),
		cmocka_unit_test(metric__sched_keys__are_registered_per_vcpu),
		cmocka_unit_test(metric__out_of_range_id__returns_null),
		cmocka_unit_test(metric__prom_names__are_valid_and_prefixed),
		cmocka_unit_test(metric__counters__end_with_total),
		cmocka_unit_test(metric__time_histograms__end_with_seconds),
		cmocka_unit_test(metric__json_and_prom_names__are_unique),
		cmocka_unit_test(metric__json_keys__do_not_clash_with_vm_record_keys),
		cmocka_unit_test(metric__documented_vm_keys__are_registered),
		cmocka_unit_test(metric__memory_gauges__are_vm_gauges_under_memory),
		cmocka_unit_test(metric__kib_metrics__are_bytes_in_prometheus),
		cmocka_unit_test(mtype_scope_unit_names__known_and_out_of_range),
		cmocka_unit_test(metric__device_metrics__name_their_group_and_key),
		cmocka_unit_test(scope__device_scopes__have_a_group_and_a_label),
		cmocka_unit_test(metric__device_metrics__keys_start_with_their_group),
		cmocka_unit_test(metric__delay_metrics__name_their_share_and_percentiles),
		cmocka_unit_test(host_metric__every_id__is_a_host_counter_of_its_own),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
