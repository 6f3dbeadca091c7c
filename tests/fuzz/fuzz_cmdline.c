// SPDX-License-Identifier: GPL-2.0
/* /proc/<pid>/cmdline of QEMU: NUL-separated, "-name guest=...", "-uuid". */
#include "tests/fuzz/fuzz.h"
#include "user/identity/vmproc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kp_qemu_args a;
	/* not terminated: the reader passes the bytes and their length */
	char *s = malloc(size ? size : 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	if (!kp_parse_qemu_args(s, size, &a)) {
		if (strnlen(a.name, sizeof(a.name)) == sizeof(a.name) ||
		    strnlen(a.uuid, sizeof(a.uuid)) == sizeof(a.uuid))
			abort();
		if (a.uuid[0] && !kp_uuid_valid(a.uuid))
			abort(); /* a uuid it returns is a uuid */
	}
	free(s);
	return 0;
}
