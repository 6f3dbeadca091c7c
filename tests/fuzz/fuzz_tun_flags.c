// SPDX-License-Identifier: GPL-2.0
/* /sys/class/net/<dev>/tun_flags: "0x1002\n". */
#include "tests/fuzz/fuzz.h"
#include "user/probes/netdev.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int flags;
	char *s = kp_fuzz_cstr(data, size);

	if (!s)
		return 0;
	(void)kp_parse_tun_flags(s, &flags);
	free(s);
	return 0;
}
