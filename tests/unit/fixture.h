/* SPDX-License-Identifier: GPL-2.0 */
/* Where the unit tests find tests/fixtures/. */
#ifndef KP_TEST_FIXTURE_H
#define KP_TEST_FIXTURE_H

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

/*
 * The fixture folder rel ("tests/fixtures/proc") into dir: from the working
 * directory when rel + probe (a file in it, "/stat") is there, as
 * tests/run.sh runs from the repository root; else from this binary
 * (<repo>/build/tests/test_x -> <repo>). 0, or -1 with a message.
 */
static inline int kp_fixture_dir(char *dir, size_t len, const char *rel,
				 const char *probe)
{
	char exe[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n;

	snprintf(dir, len, "%s", rel);
	snprintf(path, sizeof(path), "%s%s", dir, probe);
	if (!access(path, R_OK))
		return 0;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		snprintf(dir, len, "%s/../../%s", dirname(exe), rel);
		snprintf(path, sizeof(path), "%s%s", dir, probe);
		if (!access(path, R_OK))
			return 0;
	}
	fprintf(stderr, "fixtures not found: run from the repository root "
			"(tests/run.sh does) so that %s%s exists\n", rel, probe);
	return -1;
}

#endif /* KP_TEST_FIXTURE_H */
