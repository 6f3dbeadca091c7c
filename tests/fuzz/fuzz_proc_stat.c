// SPDX-License-Identifier: GPL-2.0
/* /proc/<pid>/stat (comm in parentheses may hold any byte, ')' too). */
#include "tests/fuzz/fuzz.h"
#include "user/identity/vmproc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kp_proc_stat st;
	char *s = kp_fuzz_cstr(data, size);

	if (!s)
		return 0;
	if (!kp_parse_proc_stat(s, &st) &&
	    strnlen(st.comm, sizeof(st.comm)) == sizeof(st.comm))
		abort(); /* comm must come back terminated */
	free(s);
	return 0;
}
