// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "user/core/cli.h"

enum {
	OPT_PROBES = 256,
	OPT_VCPUS,
	OPT_HIST,
	OPT_ATTACH,
	OPT_MAP_ENTRIES,
	OPT_LIST_METRICS,
	OPT_CONNECT,
	OPT_CONFIG,
	OPT_LISTEN,
	OPT_SYSLOG,
	OPT_NO_TOP,
	OPT_SCHED_DUTY,
	OPT_SCHED_TRIGGER,
};

static const struct option long_opts[] = {
	{ "interval", required_argument, NULL, 'i' },
	{ "count", required_argument, NULL, 'c' },
	{ "format", required_argument, NULL, 'f' },
	{ "output", required_argument, NULL, 'o' },
	{ "pid", required_argument, NULL, 'p' },
	{ "domain", required_argument, NULL, 'd' },
	{ "connect", required_argument, NULL, OPT_CONNECT },
	{ "probes", required_argument, NULL, OPT_PROBES },
	{ "vcpus", no_argument, NULL, OPT_VCPUS },
	{ "hist", no_argument, NULL, OPT_HIST },
	{ "attach", required_argument, NULL, OPT_ATTACH },
	{ "map-entries", required_argument, NULL, OPT_MAP_ENTRIES },
	{ "sched-duty", required_argument, NULL, OPT_SCHED_DUTY },
	{ "sched-trigger", required_argument, NULL, OPT_SCHED_TRIGGER },
	{ "list-metrics", no_argument, NULL, OPT_LIST_METRICS },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "syslog", no_argument, NULL, OPT_SYSLOG },
	{ "no-top", no_argument, NULL, OPT_NO_TOP },
	{ "replay", required_argument, NULL, 'r' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char usage[] =
	"usage: kvmprobe [top] [options]\n"
	"Observe KVM guests from the host: VM exits, exits to the VMM, halt time,\n"
	"CPU ready, disk and network latency.\n"
	"\n"
	"  top                   the full-screen view (default when stdout is a\n"
	"                        terminal and no -f, -o or --config is given);\n"
	"                        with -o FILE it also records NDJSON to FILE\n"
	"  -r, --replay FILE     browse a recording made with -f json -o FILE\n"
	"      --no-top          the scrolling text table instead of the view\n"
	"  -i, --interval SEC    seconds between records (default 1, 0.1-3600)\n"
	"  -c, --count N         stop after N intervals (default: until signalled)\n"
	"  -f, --format FMT      text (default) or json (NDJSON, docs/output.md)\n"
	"  -o, --output FILE     write records to FILE instead of stdout\n"
	"  -p, --pid PID         only VMM process PID (repeatable)\n"
	"  -d, --domain DOM      only libvirt domain DOM, a name or UUID\n"
	"                        (repeatable; it may start later)\n"
	"      --connect URI     libvirt URI, read-only (default qemu:///system)\n"
	"      --probes LIST     comma-separated probes to run (default: all)\n"
	"      --vcpus           text: one row per vCPU under each VM\n"
	"      --hist            text: print latency histograms; json: also\n"
	"                        each vCPU's histogram buckets\n"
	"      --attach MODE     auto (default), tp_btf (BTF-typed tracepoints\n"
	"                        only) or tracepoint (tracefs tracepoints, raw\n"
	"                        tracepoints where a probe has no tracefs flavour)\n"
	"      --map-entries N   entries of each counting map (default 16384)\n"
	"      --sched-duty F    share of time the scheduler's per-event programs\n"
	"                        run (run-delay histograms, who preempted), 0-1\n"
	"                        (default 0.2); totals come from the kernel's\n"
	"                        counters whatever F is\n"
	"      --sched-trigger PCT  run them all the time while a vCPU's ready\n"
	"                        is at least PCT%% of an interval (default 5;\n"
	"                        0: never)\n"
	"      --config FILE     service mode: options and alert rules from FILE\n"
	"                        (command-line options win; SIGHUP reloads)\n"
	"      --listen ADDR:PORT  serve Prometheus /metrics (address\n"
	"                        defaults to 127.0.0.1)\n"
	"      --syslog          send alert events to syslog as well\n"
	"      --list-metrics    print the metric registry (markdown) and exit\n"
	"  -v, --verbose         libbpf and attach details on stderr\n"
	"  -V, --version         print the version and exit\n"
	"  -h, --help            print this help and exit\n"
	"\n"
	"Exit status: 0 success, 1 runtime error, 2 bad usage,\n"
	"3 no probe could attach (privileges or kernel support).\n";

const char *kp_cli_usage(void)
{
	return usage;
}

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_interval(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0.1 || v > 3600)
		return -EINVAL;
	*out = v;
	return 0;
}

/* A number from min to max ("0.25", "5"). */
static int parse_range(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_probes(const char *arg, uint32_t *mask,
			const char *const *names, size_t n, char *err,
			size_t errlen)
{
	char buf[256], *tok, *save = NULL;
	size_t i;

	if (strlen(arg) >= sizeof(buf))
		return fail(err, errlen, "--probes: list too long");
	strcpy(buf, arg);
	*mask = 0;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "all")) {
			*mask |= (1U << n) - 1;
			continue;
		}
		for (i = 0; i < n; i++)
			if (!strcmp(tok, names[i]))
				break;
		if (i == n)
			return fail(err, errlen, "--probes: unknown probe '%s'",
				    tok);
		*mask |= 1U << i;
	}
	if (!*mask)
		return fail(err, errlen, "--probes: empty list");
	return 0;
}

static int add_pid(struct kp_opts *o, const char *arg, char *err, size_t len)
{
	uint64_t pid;
	size_t i;

	if (parse_u64(arg, 1, INT_MAX, &pid))
		return fail(err, len, "--pid: '%s' is not a process id", arg);
	for (i = 0; i < o->npids; i++)
		if (o->pids[i] == pid)
			return 0;
	if (o->npids == KP_MAX_PIDS)
		return fail(err, len, "--pid: at most %d processes",
			    KP_MAX_PIDS);
	o->pids[o->npids++] = pid;
	return 0;
}

static int add_domain(struct kp_opts *o, const char *arg, char *err,
		      size_t len)
{
	size_t i;

	if (!*arg)
		return fail(err, len, "--domain: empty name");
	if (strlen(arg) >= KP_DOMAIN_ARG_MAX)
		return fail(err, len, "--domain: name longer than %d bytes",
			    KP_DOMAIN_ARG_MAX - 1);
	for (i = 0; i < o->ndomains; i++)
		if (!strcmp(o->domains[i], arg))
			return 0;
	if (o->ndomains == KP_MAX_DOMAINS)
		return fail(err, len, "--domain: at most %d domains",
			    KP_MAX_DOMAINS);
	o->domains[o->ndomains++] = arg;
	return 0;
}

static int parse_one(int c, const char *arg, struct kp_opts *o,
		     const char *const *names, size_t n, char *err,
		     size_t len)
{
	uint64_t v;

	switch (c) {
	case 'i':
		if (parse_interval(arg, &o->interval_s))
			return fail(err, len,
				    "--interval: '%s' is not a number of seconds from 0.1 to 3600",
				    arg);
		return 0;
	case 'c':
		if (parse_u64(arg, 1, UINT64_MAX, &o->count))
			return fail(err, len,
				    "--count: '%s' is not a positive integer",
				    arg);
		return 0;
	case 'f':
		if (!strcmp(arg, "text"))
			o->format = KP_FMT_TEXT;
		else if (!strcmp(arg, "json"))
			o->format = KP_FMT_JSON;
		else
			return fail(err, len,
				    "--format: '%s' is not text or json", arg);
		o->format_set = true;
		return 0;
	case 'o':
		if (!*arg)
			return fail(err, len, "--output: empty file name");
		o->output = arg;
		return 0;
	case 'p':
		return add_pid(o, arg, err, len);
	case 'd':
		return add_domain(o, arg, err, len);
	case OPT_CONNECT:
		if (!*arg)
			return fail(err, len, "--connect: empty URI");
		o->connect = arg;
		return 0;
	case OPT_PROBES:
		return parse_probes(arg, &o->probes, names, n, err, len);
	case OPT_VCPUS:
		o->per_vcpu = true;
		return 0;
	case OPT_HIST:
		o->hist = true;
		return 0;
	case OPT_ATTACH:
		if (!strcmp(arg, "auto"))
			o->attach = KP_ATTACH_AUTO;
		else if (!strcmp(arg, "tp_btf"))
			o->attach = KP_ATTACH_BTF;
		else if (!strcmp(arg, "tracepoint"))
			o->attach = KP_ATTACH_CLASSIC;
		else
			return fail(err, len,
				    "--attach: '%s' is not auto, tp_btf or tracepoint",
				    arg);
		return 0;
	case OPT_MAP_ENTRIES:
		if (parse_u64(arg, KP_MAP_ENTRIES_MIN, KP_MAP_ENTRIES_MAX, &v))
			return fail(err, len,
				    "--map-entries: '%s' is not an integer from %u to %u",
				    arg, KP_MAP_ENTRIES_MIN,
				    KP_MAP_ENTRIES_MAX);
		o->map_entries = v;
		return 0;
	case OPT_SCHED_DUTY:
		if (parse_range(arg, 0, 1, &o->sched_duty))
			return fail(err, len,
				    "--sched-duty: '%s' is not a number from 0 to 1",
				    arg);
		return 0;
	case OPT_SCHED_TRIGGER:
		if (parse_range(arg, 0, 100, &o->sched_trigger_pct))
			return fail(err, len,
				    "--sched-trigger: '%s' is not a percentage from 0 to 100",
				    arg);
		return 0;
	case OPT_CONFIG:
		if (!*arg)
			return fail(err, len, "--config: empty file name");
		o->config = arg;
		return 0;
	case OPT_LISTEN:
		if (kp_parse_listen(arg, NULL, 0, NULL))
			return fail(err, len,
				    "--listen: '%s' is not ADDR:PORT, [ADDR]:PORT or PORT",
				    arg);
		o->listen = arg;
		return 0;
	case OPT_SYSLOG:
		o->syslog = true;
		return 0;
	case OPT_NO_TOP:
		o->top = KP_TOP_OFF;
		return 0;
	case 'r':
		if (!*arg)
			return fail(err, len, "--replay: empty file name");
		o->replay = arg;
		return 0;
	case OPT_LIST_METRICS:
		o->list_metrics = true;
		return 0;
	case 'v':
		o->verbose++;
		return 0;
	case 'V':
		o->version = true;
		return 0;
	case 'h':
		o->help = true;
		return 0;
	}
	return -EINVAL;
}

int kp_parse_listen(const char *s, char *addr, size_t addrlen, uint16_t *port)
{
	const char *colon = strrchr(s, ':'), *p = colon ? colon + 1 : s;
	const char *host = "127.0.0.1";
	size_t hlen = strlen(host);
	uint64_t v;

	if (parse_u64(p, 1, 65535, &v))
		return -EINVAL;
	if (colon && colon > s) {
		host = s;
		hlen = colon - s;
		if (*host == '[') { /* [v6addr]:port */
			if (hlen < 3 || host[hlen - 1] != ']')
				return -EINVAL;
			host++;
			hlen -= 2;
		}
	}
	if (addr) {
		if (hlen >= addrlen)
			return -EINVAL;
		memcpy(addr, host, hlen);
		addr[hlen] = '\0';
	}
	if (port)
		*port = v;
	return 0;
}

void kp_cli_defaults(struct kp_opts *o, size_t nprobes)
{
	memset(o, 0, sizeof(*o));
	o->interval_s = 1.0;
	o->format = KP_FMT_TEXT;
	o->probes = (1U << nprobes) - 1;
	o->attach = KP_ATTACH_AUTO;
	o->map_entries = KP_MAP_ENTRIES_DEFAULT;
	o->sched_duty = KP_SCHED_DUTY_DEFAULT;
	o->sched_trigger_pct = KP_SCHED_TRIGGER_DEFAULT;
	o->connect = KP_CONNECT_DEFAULT;
}

int kp_cli_parse(int argc, char **argv, struct kp_opts *o,
		 const char *const *probe_names, size_t nprobes, char *err,
		 size_t errlen)
{
	kp_cli_defaults(o, nprobes);
	return kp_cli_apply(argc, argv, o, probe_names, nprobes, err, errlen);
}

int kp_cli_apply(int argc, char **argv, struct kp_opts *o,
		 const char *const *probe_names, size_t nprobes, char *err,
		 size_t errlen)
{
	int c, ret;

	optind = 0; /* full reset: parse may run more than once (tests) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:c:f:o:p:d:r:vVh", long_opts,
				NULL)) != -1) {
		if (c == '?') {
			/* a known option here is a long flag given a value */
			if (optopt >= 256 || (optopt && strchr("vVh", optopt)))
				return fail(err, errlen,
					    "option '%s' takes no value",
					    argv[optind - 1]);
			if (optopt)
				return fail(err, errlen, "unknown option '-%c'",
					    optopt);
			return fail(err, errlen, "unknown option '%s'",
				    argv[optind - 1]);
		}
		if (c == ':')
			return fail(err, errlen, "option '%s' needs a value",
				    argv[optind - 1]);
		ret = parse_one(c, optarg, o, probe_names, nprobes, err,
				errlen);
		if (ret)
			return ret;
	}
	/* getopt moved the operands to the end: the one subcommand */
	if (optind < argc && !strcmp(argv[optind], "top")) {
		if (o->top == KP_TOP_OFF)
			return fail(err, errlen, "top and --no-top contradict");
		o->top = KP_TOP_ON;
		optind++;
	}
	if (optind < argc)
		return fail(err, errlen, "unexpected argument '%s'",
			    argv[optind]);
	return 0;
}

const char *kp_cli_long_option(size_t i)
{
	return i < sizeof(long_opts) / sizeof(long_opts[0]) ?
		       long_opts[i].name : NULL;
}

int kp_cli_option_kind(const char *name)
{
	const struct option *opt;

	for (opt = long_opts; opt->name; opt++)
		if (!strcmp(opt->name, name))
			return opt->has_arg == no_argument ? 0 : 1;
	return -ENOENT;
}
