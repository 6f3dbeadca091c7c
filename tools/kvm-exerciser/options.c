/* Command line of kvm-exerciser. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

#define MAX_SECONDS 1e6
#define NAME_MAX_LEN 15			/* TASK_COMM_LEN - 1 */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [--vcpus N] [--io N] [--mmio N] [--hlt N] [--cpuid N]\n"
		"       [--port P] [--spin SECONDS] [--delay-start SECONDS] [--pin CPU]\n"
		"       [--hlt-sleep SECONDS] [--hlt-wake SECONDS] [--name NAME]\n"
		"       [--io-sleep SECONDS | --io-spin SECONDS] [-h]\n"
		"\n"
		"Runs N vCPUs (default 1, at most %d); each does, in order: --io byte OUTs\n"
		"to port P (default 0x10), --mmio byte writes to unbacked gpa 0x%x,\n"
		"--cpuid CPUIDs, --hlt HLTs, then spins --spin seconds in guest code, then\n"
		"one OUT to port 0x%x (done). Counts are per vCPU. --delay-start waits\n"
		"before the first KVM_RUN; --hlt-sleep sleeps after each HLT exit, as a VMM\n"
		"waits for an interrupt; --hlt-wake makes HLTs wait in the kernel (in-kernel\n"
		"irqchip, one vCPU) for a timer interrupt the VMM raises every SECONDS, so\n"
		"KVM's halt polling runs; --io-sleep and --io-spin make the handler of\n"
		"each --io OUT sleep, or spin on its thread's CPU clock, that long, and\n"
		"print per vCPU what the handlers took (\"io_handler\": wall, CPU and run\n"
		"delay); --pin pins every vCPU thread to one CPU;\n"
		"--name sets the process name (default " PROG ").\n"
		"Prints one JSON line of observed exits per vCPU on stdout.\n",
		GUEST_MAX_VCPUS, GUEST_MMIO_GPA, GUEST_DONE_PORT);
}

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs(PROG ": ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs(" (see --help)\n", stderr);
	va_end(ap);
	return -EINVAL;
}

/* Decimal, or hexadecimal with a 0x prefix. */
static int parse_uint(const char *opt, const char *s, uint64_t min,
		      uint64_t max, uint64_t *out)
{
	int base = (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10;
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		goto bad;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	return usage_error("%s must be an integer in %" PRIu64 "..%" PRIu64
			   ", got '%s'", opt, min, max, s);
}

static int parse_seconds(const char *opt, const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0 ||
	    v > MAX_SECONDS)
		return usage_error("%s must be a number of seconds in 0..%g, got '%s'",
				   opt, MAX_SECONDS, s);
	*out = v;
	return 0;
}

enum {
	OPT_VCPUS = 256,
	OPT_IO,
	OPT_MMIO,
	OPT_HLT,
	OPT_CPUID,
	OPT_PORT,
	OPT_SPIN,
	OPT_DELAY,
	OPT_HLT_SLEEP,
	OPT_HLT_WAKE,
	OPT_IO_SLEEP,
	OPT_IO_SPIN,
	OPT_PIN,
	OPT_NAME,
};

static const struct option long_options[] = {
	{ "vcpus", required_argument, NULL, OPT_VCPUS },
	{ "io", required_argument, NULL, OPT_IO },
	{ "mmio", required_argument, NULL, OPT_MMIO },
	{ "hlt", required_argument, NULL, OPT_HLT },
	{ "cpuid", required_argument, NULL, OPT_CPUID },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "spin", required_argument, NULL, OPT_SPIN },
	{ "delay-start", required_argument, NULL, OPT_DELAY },
	{ "hlt-sleep", required_argument, NULL, OPT_HLT_SLEEP },
	{ "hlt-wake", required_argument, NULL, OPT_HLT_WAKE },
	{ "io-sleep", required_argument, NULL, OPT_IO_SLEEP },
	{ "io-spin", required_argument, NULL, OPT_IO_SPIN },
	{ "pin", required_argument, NULL, OPT_PIN },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* One option with its value; 0 or -EINVAL. */
static int parse_option(int c, const char *arg, struct options *o)
{
	struct guest_cfg *g = &o->guest;
	uint64_t v = 0;
	int ret = 0;

	switch (c) {
	case OPT_VCPUS:
		ret = parse_uint("--vcpus", arg, 1, GUEST_MAX_VCPUS, &v);
		o->vcpus = v;
		break;
	case OPT_IO:
		ret = parse_uint("--io", arg, 0, UINT32_MAX, &v);
		g->io = v;
		break;
	case OPT_MMIO:
		ret = parse_uint("--mmio", arg, 0, UINT32_MAX, &v);
		g->mmio = v;
		break;
	case OPT_HLT:
		ret = parse_uint("--hlt", arg, 0, UINT32_MAX, &v);
		g->hlt = v;
		break;
	case OPT_CPUID:
		ret = parse_uint("--cpuid", arg, 0, UINT32_MAX, &v);
		g->cpuid = v;
		break;
	case OPT_PORT:
		ret = parse_uint("--port", arg, 0, UINT16_MAX, &v);
		if (!ret && v == GUEST_DONE_PORT)
			ret = usage_error("--port 0x%x is the done port",
					  GUEST_DONE_PORT);
		g->port = v;
		break;
	case OPT_SPIN:
		ret = parse_seconds("--spin", arg, &o->spin_s);
		g->spin = o->spin_s > 0;
		break;
	case OPT_DELAY:
		ret = parse_seconds("--delay-start", arg, &o->delay_s);
		break;
	case OPT_HLT_SLEEP:
		ret = parse_seconds("--hlt-sleep", arg, &o->hlt_sleep_s);
		break;
	case OPT_HLT_WAKE:
		ret = parse_seconds("--hlt-wake", arg, &o->hlt_wake_s);
		if (!ret && o->hlt_wake_s < 1e-6)
			ret = usage_error("--hlt-wake must be at least 1e-6, got '%s'",
					  arg);
		g->wake = !ret;
		break;
	case OPT_IO_SLEEP:
		ret = parse_seconds("--io-sleep", arg, &o->io_sleep_s);
		break;
	case OPT_IO_SPIN:
		ret = parse_seconds("--io-spin", arg, &o->io_spin_s);
		break;
	case OPT_PIN:
		ret = parse_uint("--pin", arg, 0, CPU_SETSIZE - 1, &v);
		o->pin = v;
		break;
	case OPT_NAME:
		if (!arg[0] || strlen(arg) > NAME_MAX_LEN)
			ret = usage_error("--name must be 1..%d characters, got '%s'",
					  NAME_MAX_LEN, arg);
		o->name = arg;
		break;
	default:
		ret = -EINVAL;
	}
	return ret;
}

/* 0 to run, 1 after --help, -EINVAL on bad usage (already reported). */
int parse_args(int argc, char **argv, struct options *o)
{
	int c, ret;

	*o = (struct options){
		.vcpus = 1,
		.guest = { .port = 0x10 },
		.pin = -1,
		.name = PROG,
	};
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 1;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		case '?':
			if (optopt)
				return usage_error("unknown option '-%c'", optopt);
			return usage_error("unknown option '%s'", argv[optind - 1]);
		default:
			ret = parse_option(c, optarg, o);
			if (ret)
				return ret;
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	/* the PIC's interrupts reach the boot vCPU only (LINT0) */
	if (o->guest.wake && o->vcpus != 1)
		return usage_error("--hlt-wake needs --vcpus 1");
	if (o->io_sleep_s > 0 && o->io_spin_s > 0)
		return usage_error("--io-sleep and --io-spin exclude each other");
	if (o->guest.wake && o->hlt_sleep_s > 0)
		return usage_error("--hlt-wake and --hlt-sleep exclude each other: "
				   "with --hlt-wake no HLT exits to the VMM");
	return 0;
}
