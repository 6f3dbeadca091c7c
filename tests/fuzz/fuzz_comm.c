// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/<pid>/task/<tid>/comm: thread names "CPU <n>/KVM", "IO iothread<n>",
 * "vhost-<pid>", set by any process (prctl PR_SET_NAME, 15 bytes); the
 * parsers take a longer string too.
 */
#include "tests/fuzz/fuzz.h"
#include "user/identity/procfs.h"
#include "user/identity/vmproc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum kp_thread_kind k;
	uint32_t owner;
	int index;
	char *s = kp_fuzz_cstr(data, size);

	if (!s)
		return 0;
	(void)kp_parse_vcpu_name(s);
	(void)kp_parse_vhost_comm(s, &owner);
	k = kp_classify_thread(4242, 4243, s, &index);
	if (k >= KP_THREAD__COUNT || !kp_thread_kind_name(k))
		abort();
	k = kp_classify_thread(4242, 4242, s, &index);
	if (k != KP_THREAD_MAIN)
		abort(); /* tid == pid is the main thread, whatever its name */
	free(s);
	return 0;
}
