// SPDX-License-Identifier: GPL-2.0
/* /proc/<pid>/fdinfo/<fd> of a tun fd: "iff:\tNAME". */
#include <net/if.h>
#include "tests/fuzz/fuzz.h"
#include "user/identity/vmproc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char ifname[IF_NAMESIZE];
	char *s = kp_fuzz_cstr(data, size);

	if (!s)
		return 0;
	if (!kp_parse_fdinfo_iff(s, ifname, sizeof(ifname)) &&
	    strnlen(ifname, sizeof(ifname)) == sizeof(ifname))
		abort();
	free(s);
	return 0;
}
