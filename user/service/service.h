/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The continuous-service parts around the sampling loop: alert rules
 * (from --config, or the built-in defaults), the Prometheus store and its
 * HTTP endpoint, and config reload. The loop (loop.c) runs alerts and
 * metrics as stages after the sink's records; each one is bounded.
 */
#ifndef KP_SERVICE_H
#define KP_SERVICE_H

#include "user/core/alert.h"
#include "user/service/config.h"
#include "user/service/http.h"
#include "user/sinks/prom.h"
#include "user/sinks/sink.h"

struct kp_service {
	const char *config_path;     /* NULL: built-in rules only */
	struct kp_config cfg;
	struct kp_alerts *alerts;
	bool syslog;
	struct kp_prom *prom;        /* NULL without --listen; the loop's */
	int listen_fd;
	struct kp_http *http;
};

/*
 * Load the options and rules: config file (if any) then argv on top.
 * Returns 0, or -EINVAL with "file:line: what" in err (exit status 2).
 */
int kp_service_load(struct kp_service *svc, int argc, char **argv,
		    struct kp_opts *o, const char *const *names, size_t n,
		    char *err, size_t errlen);
/* Bind the /metrics socket (before privileges are dropped). */
int kp_service_bind(struct kp_service *svc, const struct kp_opts *o,
		    char *err, size_t errlen);
/* Start the HTTP thread and the alert state (after the drop). */
int kp_service_start(struct kp_service *svc, char *err, size_t errlen);
/*
 * A finished interval, the alerts stage: evaluate the rules; each firing or
 * resolved event goes to syslog (--syslog) and to cb (the records).
 */
int kp_service_alerts(struct kp_service *svc, const struct kp_interval *iv,
		      kp_alert_cb cb, void *arg);
/* The metrics stage: add the interval to the store, publish /metrics. */
int kp_service_metrics(struct kp_service *svc, const struct kp_interval *iv);
/*
 * SIGHUP: reload the rules from the config file. On error the old rules
 * stay; msg says what happened either way. Events the change causes go
 * to cb like the alerts stage's. Returns 0 or -EINVAL.
 */
int kp_service_reload(struct kp_service *svc, const char *const *names,
		      size_t n, char *msg, size_t len, kp_alert_cb cb,
		      void *arg);
void kp_service_stop(struct kp_service *svc);

#endif /* KP_SERVICE_H */
