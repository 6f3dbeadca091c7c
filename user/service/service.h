/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The continuous-service parts around the sampling loop: alert rules
 * (from --config, or the built-in defaults), the Prometheus store and its
 * HTTP endpoint, and config reload. main.c calls these hooks; each one is
 * off the hot path or bounded.
 */
#ifndef KP_SERVICE_H
#define KP_SERVICE_H

#include <pthread.h>
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
	struct kp_prom *prom;        /* NULL without --listen */
	pthread_mutex_t prom_lock;
	int listen_fd;
	struct kp_http *http;
	struct kp_sink *sink;
	const struct timespec *now;  /* the interval being evaluated */
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
int kp_service_start(struct kp_service *svc, struct kp_sink *sink,
		     char *err, size_t errlen);
/* A finished interval: evaluate alerts into the sink, update /metrics. */
int kp_service_interval(struct kp_service *svc, const struct kp_interval *iv,
			uint64_t records_dropped);
/*
 * SIGHUP: reload the rules from the config file. On error the old rules
 * stay; msg says what happened either way. Returns 0 or -EINVAL.
 */
int kp_service_reload(struct kp_service *svc, const char *const *names,
		      size_t n, char *msg, size_t len);
void kp_service_stop(struct kp_service *svc);

#endif /* KP_SERVICE_H */
