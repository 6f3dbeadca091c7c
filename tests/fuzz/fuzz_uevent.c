// SPDX-License-Identifier: GPL-2.0
/* /sys/dev/block/<maj>:<min>/uevent: "DEVNAME=vda". */
#include "tests/fuzz/fuzz.h"
#include "user/probes/blkdev.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[32];
	char *s = kp_fuzz_cstr(data, size);

	if (!s)
		return 0;
	if (!kp_parse_uevent_devname(s, name, sizeof(name)) &&
	    strnlen(name, sizeof(name)) == sizeof(name))
		abort();
	free(s);
	return 0;
}
