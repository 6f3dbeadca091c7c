// SPDX-License-Identifier: GPL-2.0
/* /proc/<pid>/net/dev: the counters of every device of a namespace. */
#include "tests/fuzz/fuzz.h"
#include "user/probes/netdev.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kp_netdev_stats st[8];
	char *s = kp_fuzz_cstr(data, size);
	int i, n;

	if (!s)
		return 0;
	n = kp_parse_proc_net_dev(s, st, 8);
	if (n > 8)
		abort(); /* never more than max */
	for (i = 0; i < n; i++)
		if (strnlen(st[i].name, sizeof(st[i].name)) ==
		    sizeof(st[i].name))
			abort();
	free(s);
	return 0;
}
