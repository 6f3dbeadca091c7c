// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for user/sinks/sink_dev.c: disk and iface samples laid out as the
 * "disks" and "interfaces" arrays of docs/output.md.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "user/core/hist.h"
#include "user/core/jsonutil.h"
#include "user/core/record.h"
#include "user/sinks/sink_dev.h"

static struct kp_interval iv;

static int teardown(void **state)
{
	kp_interval_clear(&iv);
	return 0;
}

static struct json_object *devices_of(const struct kp_sample_set *s)
{
	struct json_object *o = json_object_new_object();

	kp_json_add_devices(o, s);
	return o;
}

/* o's value at a path of keys and array indexes ("disks", "0", "dev") */
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

#define AT(o, ...) at(o, (const char *const[]){ __VA_ARGS__, NULL })

static void disks__ops_nest_under_the_device_with_null_target(void **state)
{
	struct kp_hist lat = { 0 }, dev = { 0 };
	struct json_object *o;

	kp_hist_add(&lat, 3000);
	kp_hist_add(&dev, 2000);
	kp_interval_add_dev(&iv, 9, KP_M_DISK_IOS, "loop0", "read", 1, NULL);
	kp_interval_add_dev(&iv, 9, KP_M_DISK_BYTES, "loop0", "read", 4096, NULL);
	kp_interval_add_dev(&iv, 9, KP_M_DISK_DEVICE, "loop0", "read", 0, &dev);
	kp_interval_add_dev(&iv, 9, KP_M_DISK_LATENCY, "loop0", "read", 0, &lat);
	kp_interval_add_dev(&iv, 9, KP_M_DISK_IOS, "loop0", "write", 2, NULL);
	assert_int_equal(kp_interval_finish(&iv), 0);
	o = devices_of(&iv.vms[0].s);
	assert_int_equal(json_object_array_length(AT(o, "disks")), 1);
	assert_string_equal(json_object_get_string(AT(o, "disks", "0", "dev")),
			    "loop0");
	/* target is there, and null, without the resolver's topology */
	assert_true(json_object_object_get_ex(AT(o, "disks", "0"), "target",
					      NULL));
	assert_null(AT(o, "disks", "0", "target"));
	assert_int_equal(json_object_get_int(AT(o, "disks", "0", "read", "ios")), 1);
	assert_int_equal(json_object_get_int(AT(o, "disks", "0", "read", "bytes")),
			 4096);
	assert_int_equal(json_object_get_int(AT(o, "disks", "0", "read",
						"device_hist", "count")), 1);
	assert_int_equal(json_object_get_int(AT(o, "disks", "0", "write", "ios")), 2);
	/* the op's percentiles are those of the total latency */
	assert_non_null(AT(o, "disks", "0", "read", "latency_hist"));
	assert_true(json_object_get_double(AT(o, "disks", "0", "read",
					       "p99_us")) > 2.0);
	assert_null(AT(o, "interfaces"));
	json_object_put(o);
}

static void disks__target_sample__names_the_guest_disk(void **state)
{
	struct json_object *o;

	kp_interval_add_dev(&iv, 9, KP_M_DISK_IOS, "sda2", "read", 1, NULL);
	kp_interval_add_dev(&iv, 9, KP_M_DISK_TARGET, "sda2", "vda", 1, NULL);
	kp_interval_add_dev(&iv, 9, KP_M_DISK_IOS, "loop1", "flush", 1, NULL);
	assert_int_equal(kp_interval_finish(&iv), 0);
	o = devices_of(&iv.vms[0].s);
	assert_int_equal(json_object_array_length(AT(o, "disks")), 2);
	/* devices in name order: loop1, then sda2 */
	assert_string_equal(json_object_get_string(AT(o, "disks", "1", "dev")),
			    "sda2");
	assert_string_equal(json_object_get_string(AT(o, "disks", "1", "target")),
			    "vda");
	assert_null(AT(o, "disks", "0", "target"));
	json_object_put(o);
}

static void interfaces__directions_drops_and_delivery(void **state)
{
	struct kp_hist d = { 0 };
	struct json_object *o;

	kp_hist_add(&d, 40000);
	kp_interval_add_dev(&iv, KP_PID_HOST, KP_M_IF_PACKETS, "vnet0", "rx", 5, NULL);
	kp_interval_add_dev(&iv, KP_PID_HOST, KP_M_IF_BYTES, "vnet0", "rx", 300, NULL);
	kp_interval_add_dev(&iv, KP_PID_HOST, KP_M_IF_PACKETS, "vnet0", "tx", 7, NULL);
	kp_interval_add_dev(&iv, KP_PID_HOST, KP_M_IF_DROPS, "vnet0", "FULL_RING", 2, NULL);
	kp_interval_add_dev(&iv, KP_PID_HOST, KP_M_IF_DELIVERY, "vnet0", "", 0, &d);
	assert_int_equal(kp_interval_finish(&iv), 0);
	o = devices_of(&iv.host);
	assert_int_equal(json_object_get_int(AT(o, "interfaces", "0", "rx", "packets")), 5);
	assert_int_equal(json_object_get_int(AT(o, "interfaces", "0", "rx", "bytes")), 300);
	assert_int_equal(json_object_get_int(AT(o, "interfaces", "0", "tx", "packets")), 7);
	assert_int_equal(json_object_get_int(AT(o, "interfaces", "0", "drops",
						"FULL_RING")), 2);
	assert_int_equal(json_object_get_int(AT(o, "interfaces", "0",
						"delivery_hist", "count")), 1);
	assert_true(json_object_get_double(AT(o, "interfaces", "0",
					       "delivery_p99_us")) > 32.0);
	assert_false(json_object_object_get_ex(AT(o, "interfaces", "0"),
					       "target", NULL));
	json_object_put(o);
}

static void devices__no_device_samples__add_nothing(void **state)
{
	struct json_object *o;

	kp_interval_add(&iv, 3, 4, 0, KP_M_EXITS, "io", 1, NULL);
	assert_int_equal(kp_interval_finish(&iv), 0);
	o = devices_of(&iv.vms[0].s);
	assert_int_equal(json_object_object_length(o), 0);
	json_object_put(o);
}

static void text__disk_and_iface_lines__show_rates(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	kp_interval_add_dev(&iv, 9, KP_M_DISK_IOS, "loop0", "read", 200, NULL);
	kp_interval_add_dev(&iv, 9, KP_M_IF_PACKETS, "vnet0", "rx", 50, NULL);
	assert_int_equal(kp_interval_finish(&iv), 0);
	kp_text_devices(f, &iv.vms[0].s, 2.0);
	fclose(f);
	assert_non_null(strstr(buf, "loop0"));
	assert_non_null(strstr(buf, "100 IO/s"));
	assert_non_null(strstr(buf, "vnet0"));
	assert_non_null(strstr(buf, "25 pkt/s"));
	free(buf);
}

#define T(f) cmocka_unit_test_teardown(f, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(disks__ops_nest_under_the_device_with_null_target),
		T(disks__target_sample__names_the_guest_disk),
		T(interfaces__directions_drops_and_delivery),
		T(devices__no_device_samples__add_nothing),
		T(text__disk_and_iface_lines__show_rates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
