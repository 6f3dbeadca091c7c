/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The service configuration file (INI, parsed with libinih):
 *
 *   [kvmprobe]            any long command-line option: interval = 1,
 *                         format = json, output = FILE, listen = :9477,
 *                         pid = N (repeatable), syslog = yes, ...
 *   [alerts]              defaults = yes|no (the built-in default rules)
 *   [alert NAME]          one threshold rule: metric, stat, label, of,
 *                         scope, above|below, clear, for, severity, domain
 *
 * Every error names file:line and what is wrong. Pure: reads the file and
 * nothing else.
 */
#ifndef KP_CONFIG_H
#define KP_CONFIG_H

#include <stdio.h>

#include <stddef.h>
#include "user/core/alert.h"
#include "user/core/cli.h"

#define KP_MAX_RULES 128

struct kp_config {
	struct kp_alert_rule rules[KP_MAX_RULES];
	size_t nrules;
	bool defaults;          /* [alerts] defaults (yes unless said no) */
	char **strings;         /* option values o points into, owned */
	size_t nstrings;
};

/*
 * Apply the [kvmprobe] options of path to o (on top of what o holds) and
 * read its rules into cfg, followed by the built-in default rules unless
 * the file turns them off. Returns 0, or -EINVAL / -errno with
 * "path:line: what" in err.
 */
int kp_config_load(const char *path, struct kp_opts *o,
		   struct kp_config *cfg, const char *const *probe_names,
		   size_t nprobes, char *err, size_t errlen);
/* The same from a string (tests, and the built-in defaults). */
int kp_config_load_string(const char *text, const char *name,
			  struct kp_opts *o, struct kp_config *cfg,
			  const char *const *probe_names, size_t nprobes,
			  char *err, size_t errlen);
void kp_config_free(struct kp_config *cfg);

/* The built-in default rules, as INI text. */
extern const char kp_default_rules[];
/* The built-in rules as a markdown table (kvmprobe --list-metrics). */
void kp_config_print_rules(FILE *f);

/* "300", "300s", "5m", "2h", "1.5m" -> seconds. 0 or -EINVAL. */
int kp_parse_duration(const char *s, double *out);

#endif /* KP_CONFIG_H */
