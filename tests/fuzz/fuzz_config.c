// SPDX-License-Identifier: GPL-2.0
/*
 * The service config file: [kvmprobe] options through the option parser,
 * [alerts], [alert NAME] rules (durations, thresholds, stats); the rules it
 * accepts then build an alert engine, as SIGHUP's reload does.
 */
#include "tests/fuzz/fuzz.h"
#include "user/core/alert.h"
#include "user/core/cli.h"
#include "user/service/config.h"

static const char *const probe_names[] = { "exits", "sched", "block", "net" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kp_config cfg;
	struct kp_alerts *a;
	struct kp_opts o;
	char err[512];
	char *s = kp_fuzz_cstr(data, size);

	if (!s)
		return 0;
	kp_cli_defaults(&o, 4);
	memset(&cfg, 0, sizeof(cfg));
	err[0] = '\0';
	if (!kp_config_load_string(s, "fuzz.conf", &o, &cfg, probe_names, 4,
				   err, sizeof(err))) {
		if (cfg.nrules > KP_MAX_RULES)
			abort();
		a = kp_alerts_new(cfg.rules, cfg.nrules);
		kp_alerts_free(a);
	} else if (!err[0] || strnlen(err, sizeof(err)) == sizeof(err)) {
		abort(); /* every error names file:line and what */
	}
	kp_config_free(&cfg);
	free(s);
	return 0;
}
