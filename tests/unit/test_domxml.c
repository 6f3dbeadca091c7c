// SPDX-License-Identifier: GPL-2.0
/* Unit tests for user/identity/domxml.c: libvirt domain XML samples (tests/fixtures/domxml). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "user/identity/domxml.h"
#include "tests/unit/fixture.h"

#define FIXTURE_REL "tests/fixtures/domxml"

static char dir[PATH_MAX];

static int find_fixtures(void **state)
{
	(void)state;
	return kp_fixture_dir(dir, sizeof(dir), FIXTURE_REL, "/mixed.xml");
}

/* Parse fixture name into d; the return value of kp_domxml_parse. */
static int parse_fixture(const char *name, struct kp_domxml *d)
{
	char path[PATH_MAX + 64], *buf;
	size_t len;
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	buf = malloc(1 << 20);
	assert_non_null(buf);
	len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	err = kp_domxml_parse(buf, len, d);
	free(buf);
	return err;
}

static void domxml__running_domain_from_virsh__gives_disk_and_tap(void **state)
{
	struct kp_domxml d;

	assert_int_equal(parse_fixture("topo.xml", &d), 0);
	assert_string_equal(d.name, "kp-topo");
	assert_int_equal(d.id, 2);
	assert_int_equal(d.vcpus, 1);
	assert_int_equal(d.iothreads, 2);
	assert_int_equal(d.ndisks, 1);
	assert_string_equal(d.disks[0].target, "vda");
	assert_string_equal(d.disks[0].type, "file");
	assert_string_equal(d.disks[0].device, "disk");
	assert_string_equal(d.disks[0].source, "/dev/shm/kp-disk.img");
	assert_int_equal(d.nnics, 1);
	assert_string_equal(d.nics[0].target, "kptap0");
	assert_string_equal(d.nics[0].type, "ethernet");
	assert_string_equal(d.nics[0].mac, "52:54:00:52:24:28");
	kp_domxml_free(&d);
}

static void domxml__escaped_name__is_decoded_exactly(void **state)
{
	struct kp_domxml d;

	assert_int_equal(parse_fixture("quotes.xml", &d), 0);
	assert_string_equal(d.name, "kp \"test\" é");
	assert_string_equal(d.uuid, "c0ba2922-ce9c-468a-82e4-113eaae6c9fa");
	assert_int_equal(d.id, 1);
	assert_int_equal(d.vcpus, 2);
	assert_int_equal(d.ndisks, 0);
	assert_int_equal(d.nnics, 0);
	kp_domxml_free(&d);
}

static void domxml__every_disk_and_interface_kind__is_kept(void **state)
{
	struct kp_domxml d;

	assert_int_equal(parse_fixture("mixed.xml", &d), 0);
	assert_string_equal(d.name, "db 'prod' & \"eu\" — ü");
	assert_string_equal(d.uuid, "a1b2c3d4-0000-4000-8000-00000000abcd");
	assert_int_equal(d.id, 42);
	assert_int_equal(d.vcpus, 4);
	assert_int_equal(d.ndisks, 4);
	assert_string_equal(d.disks[0].target, "vda");
	assert_string_equal(d.disks[0].type, "block");
	assert_string_equal(d.disks[0].source, "/dev/loop7");
	assert_string_equal(d.disks[1].source,
			    "/var/lib/libvirt/images/data disk.qcow2");
	assert_string_equal(d.disks[2].type, "network");
	assert_string_equal(d.disks[2].source, "pool/image");
	assert_string_equal(d.disks[3].device, "cdrom");
	assert_null(d.disks[3].source); /* an empty drive */
	assert_int_equal(d.nnics, 2);
	assert_string_equal(d.nics[0].target, "vnet3");
	assert_string_equal(d.nics[0].type, "bridge");
	assert_null(d.nics[1].target); /* not running: no tap yet */
	assert_string_equal(d.nics[1].mac, "52:54:00:dd:ee:ff");
	kp_domxml_free(&d);
}

static void domxml__inactive_domain__has_no_id(void **state)
{
	struct kp_domxml d;

	assert_int_equal(parse_fixture("inactive.xml", &d), 0);
	assert_int_equal(d.id, -1);
	assert_int_equal(d.ndisks, 0);
	assert_null(d.disks);
	kp_domxml_free(&d);
}

static void domxml__broken_or_foreign_xml__is_rejected(void **state)
{
	struct kp_domxml d;

	assert_int_equal(parse_fixture("truncated.xml", &d), -EINVAL);
	assert_null(d.name);
	assert_int_equal(parse_fixture("not-a-domain.xml", &d), -EINVAL);
	assert_int_equal(kp_domxml_parse("", 0, &d), -EINVAL);
	assert_int_equal(kp_domxml_parse("<domain/>", 9, &d), -EINVAL);
	assert_int_equal(kp_domxml_parse("<domain><name></name></domain>",
					 30, &d), -EINVAL);
}

static void domxml__external_entities__are_not_loaded(void **state)
{
	static const char xml[] =
		"<?xml version='1.0'?>\n"
		"<!DOCTYPE domain [<!ENTITY x SYSTEM 'file:///etc/hostname'>]>\n"
		"<domain><name>a&x;</name></domain>";
	struct kp_domxml d;

	assert_int_equal(kp_domxml_parse(xml, sizeof(xml) - 1, &d), 0);
	assert_string_equal(d.name, "a");
	kp_domxml_free(&d);
}

/*
 * The contract (domxml.h): kp_domxml_free accepts a zeroed d and NULL, and
 * leaves d empty (no name, disks or NICs, id -1), so that freeing twice is
 * harmless and d can be parsed into again.
 */
static void domxml_free__zeroed_or_null__is_safe(void **state)
{
	struct kp_domxml d;

	memset(&d, 0, sizeof(d));
	kp_domxml_free(&d);
	assert_null(d.name);
	assert_int_equal(d.id, -1);
	kp_domxml_free(NULL);
	assert_int_equal(parse_fixture("mixed.xml", &d), 0);
	assert_true(d.ndisks > 0 && d.nnics > 0);
	kp_domxml_free(&d);
	assert_null(d.name);
	assert_null(d.uuid);
	assert_null(d.disks);
	assert_null(d.nics);
	assert_int_equal(d.ndisks + d.nnics + d.vcpus + d.iothreads, 0);
	assert_int_equal(d.id, -1);
	kp_domxml_free(&d); /* twice: nothing left to free */
	assert_int_equal(parse_fixture("mixed.xml", &d), 0);
	assert_non_null(d.name);
	kp_domxml_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(domxml__running_domain_from_virsh__gives_disk_and_tap),
		cmocka_unit_test(domxml__escaped_name__is_decoded_exactly),
		cmocka_unit_test(domxml__every_disk_and_interface_kind__is_kept),
		cmocka_unit_test(domxml__inactive_domain__has_no_id),
		cmocka_unit_test(domxml__broken_or_foreign_xml__is_rejected),
		cmocka_unit_test(domxml__external_entities__are_not_loaded),
		cmocka_unit_test(domxml_free__zeroed_or_null__is_safe),
	};

	return cmocka_run_group_tests(tests, find_fixtures, NULL);
}
