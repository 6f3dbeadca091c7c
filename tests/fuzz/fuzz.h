/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the libFuzzer targets (tests/fuzz/fuzz_*.c). Each
 * target is one parser of input kvmprobe takes from outside: a file under
 * /proc or /sys, libvirt's domain XML, the config file, an HTTP request.
 */
#ifndef KP_FUZZ_H
#define KP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The input as the readers hand it to the parsers: a NUL-terminated copy
 * in a buffer of exactly size + 1 bytes, so that reading past the end is
 * an ASan report. NULL when out of memory.
 */
static inline char *kp_fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		return NULL;
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif /* KP_FUZZ_H */
