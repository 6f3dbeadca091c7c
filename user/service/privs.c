// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <linux/capability.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include "user/service/privs.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif

static const cap_value_t kept[] = {
	CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH,
};
#define NKEPT (int)(sizeof(kept) / sizeof(kept[0]))

unsigned long long kp_kept_caps_mask(void)
{
	unsigned long long m = 0;
	int i;

	for (i = 0; i < NKEPT; i++)
		m |= 1ULL << kept[i];
	return m;
}

static int is_kept(cap_value_t c)
{
	int i;

	for (i = 0; i < NKEPT; i++)
		if (kept[i] == c)
			return 1;
	return 0;
}

int kp_drop_privileges(void)
{
	cap_value_t c, have[NKEPT];
	cap_flag_value_t v;
	cap_t caps, cur;
	int err = 0, i, n = 0;

	/* bounding set first: it needs CAP_SETPCAP, dropped just below */
	for (c = 0; c <= CAP_LAST_CAP; c++)
		if (!is_kept(c) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) &&
		    errno != EINVAL)
			return -errno;
	cur = cap_get_proc();
	if (!cur)
		return -errno;
	/* keep what we have of the kept set: capset cannot raise */
	for (i = 0; i < NKEPT; i++)
		if (!cap_get_flag(cur, kept[i], CAP_PERMITTED, &v) && v)
			have[n++] = kept[i];
	cap_free(cur);
	caps = cap_init(); /* all clear */
	if (!caps)
		return -errno;
	if ((n && (cap_set_flag(caps, CAP_EFFECTIVE, n, have, CAP_SET) ||
		   cap_set_flag(caps, CAP_PERMITTED, n, have, CAP_SET))) ||
	    cap_set_proc(caps))
		err = -errno;
	cap_free(caps);
	if (!err && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		err = -errno;
	return err;
}
