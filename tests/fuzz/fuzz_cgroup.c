// SPDX-License-Identifier: GPL-2.0
/* /proc/<pid>/cgroup: libvirt's machine scope, \xNN escapes; a pod's. */
#include "tests/fuzz/fuzz.h"
#include "user/identity/vmproc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kp_machine_scope m;
	char *s = kp_fuzz_cstr(data, size);

	if (!s)
		return 0;
	if (!kp_parse_machine_cgroup(s, &m) &&
	    strnlen(m.name, sizeof(m.name)) == sizeof(m.name))
		abort();
	(void)kp_parse_kube_cgroup(s);
	free(s);
	return 0;
}
