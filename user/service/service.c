// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include "user/service/service.h"

int kp_service_load(struct kp_service *svc, int argc, char **argv,
		    struct kp_opts *o, const char *const *names, size_t n,
		    char *err, size_t errlen)
{
	struct kp_opts cli;
	int ret;

	memset(svc, 0, sizeof(*svc));
	svc->listen_fd = -1;
	ret = kp_cli_parse(argc, argv, &cli, names, n, err, errlen);
	if (ret)
		return ret;
	if (!cli.config) {
		*o = cli;
		/* no file: the built-in rules alone */
		return kp_config_load_string("", "(built-in rules)", &cli,
					     &svc->cfg, names, n, err, errlen);
	}
	svc->config_path = cli.config;
	kp_cli_defaults(o, n);
	ret = kp_config_load(cli.config, o, &svc->cfg, names, n, err, errlen);
	if (ret)
		return ret;
	/* the command line wins over the file */
	return kp_cli_apply(argc, argv, o, names, n, err, errlen);
}

int kp_service_bind(struct kp_service *svc, const struct kp_opts *o,
		    char *err, size_t errlen)
{
	svc->syslog = o->syslog;
	if (svc->syslog)
		openlog("kvmprobe", LOG_PID, LOG_DAEMON);
	if (!o->listen)
		return 0;
	svc->listen_fd = kp_http_bind(o->listen, err, errlen);
	return svc->listen_fd < 0 ? svc->listen_fd : 0;
}

static bool pid_alive(uint32_t pid, void *arg)
{
	(void)arg;
	return !kill(pid, 0) || errno == EPERM;
}

/*
 * Render the store and publish the text: scrapes serve the published one,
 * so they never touch the store, and the sampling loop never waits for a
 * scrape longer than a pointer swap.
 */
static int publish(struct kp_service *svc)
{
	size_t len;
	char *buf;
	int err;

	err = kp_prom_render(svc->prom, &buf, &len);
	return err ? err : kp_http_publish(svc->http, buf, len);
}

int kp_service_start(struct kp_service *svc, char *err, size_t errlen)
{
	svc->alerts = kp_alerts_new(svc->cfg.rules, svc->cfg.nrules);
	if (!svc->alerts) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (svc->listen_fd < 0)
		return 0;
	svc->prom = kp_prom_new(pid_alive, NULL);
	if (!svc->prom) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	svc->http = kp_http_start_fd(svc->listen_fd, NULL, NULL, err, errlen);
	if (!svc->http)
		return -EIO;
	svc->listen_fd = -1; /* the server owns it now */
	/* before the first interval: the host series, at zero */
	if (publish(svc)) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static void to_syslog(const struct kp_alert_event *ev)
{
	const struct kp_alert_rule *r = ev->rule;
	int prio = r->severity == KP_SEV_CRITICAL ? LOG_CRIT :
		   r->severity == KP_SEV_WARNING ? LOG_WARNING : LOG_INFO;
	char vcpu[24] = "";

	if (!ev->firing)
		prio = LOG_NOTICE;
	if (ev->vcpu >= 0)
		snprintf(vcpu, sizeof(vcpu), " vcpu %d", ev->vcpu);
	syslog(prio, "alert %s %s: vm %s (pid %u)%s: %s %s %.3f, threshold %g",
	       ev->firing ? "firing" : "resolved", r->name,
	       ev->name ? ev->name : ev->comm ? ev->comm : "?", ev->pid, vcpu,
	       kp_metric(r->metric)->json, kp_stat_name(r->stat),
	       ev->has_value ? ev->value : 0.0, r->threshold);
}

struct relay {
	struct kp_service *svc;
	kp_alert_cb cb;
	void *arg;
};

static int on_alert(const struct kp_alert_event *ev, void *arg)
{
	struct relay *r = arg;

	if (r->svc->syslog)
		to_syslog(ev);
	return r->cb ? r->cb(ev, r->arg) : 0;
}

int kp_service_alerts(struct kp_service *svc, const struct kp_interval *iv,
		      kp_alert_cb cb, void *arg)
{
	struct relay r = { svc, cb, arg };

	return kp_alerts_eval(svc->alerts, iv, iv->ts.tv_sec +
			      iv->ts.tv_nsec / 1e9, on_alert, &r);
}

int kp_service_metrics(struct kp_service *svc, const struct kp_interval *iv)
{
	int err;

	if (!svc->prom)
		return 0;
	err = kp_prom_update(svc->prom, iv);
	kp_prom_set_dropped(svc->prom, iv->records_dropped);
	return err ? err : publish(svc);
}

int kp_service_reload(struct kp_service *svc, const char *const *names,
		      size_t n, char *msg, size_t len, kp_alert_cb cb,
		      void *arg)
{
	struct relay r = { svc, cb, arg };
	struct kp_config cfg;
	struct kp_opts scratch;
	int err;

	if (!svc->config_path) {
		snprintf(msg, len, "no config file to reload");
		return 0;
	}
	/* options other than rules need a restart: read them into scratch */
	kp_cli_defaults(&scratch, n);
	err = kp_config_load(svc->config_path, &scratch, &cfg, names, n, msg,
			     len);
	if (err) {
		kp_config_free(&cfg);
		return err; /* msg: file:line: what; the old rules stay */
	}
	/* unchanged rules keep their state; changed ones resolve (cb) */
	err = kp_alerts_replace(svc->alerts, cfg.rules, cfg.nrules, on_alert,
				&r);
	if (err == -ENOMEM) {
		kp_config_free(&cfg);
		snprintf(msg, len, "out of memory");
		return err;
	}
	/*
	 * The running options point into the first load's strings (output
	 * path, libvirt URI, ...): those stay until exit. The new file's
	 * options are not applied (they need a restart), so its strings go.
	 */
	memcpy(svc->cfg.rules, cfg.rules, cfg.nrules * sizeof(*cfg.rules));
	svc->cfg.nrules = cfg.nrules;
	svc->cfg.defaults = cfg.defaults;
	kp_config_free(&cfg);
	snprintf(msg, len, "%s: reloaded, %zu alert rule(s)", svc->config_path,
		 cfg.nrules);
	return 0;
}

void kp_service_stop(struct kp_service *svc)
{
	kp_http_stop(svc->http);
	svc->http = NULL;
	if (svc->listen_fd >= 0)
		close(svc->listen_fd);
	kp_prom_free(svc->prom);
	kp_alerts_free(svc->alerts);
	kp_config_free(&svc->cfg);
	if (svc->syslog)
		closelog();
}
