// SPDX-License-Identifier: GPL-2.0
/*
 * bpf-floor: the floor of a benchmark row. Attaches an empty BPF program
 * (r0 = 0; exit) to each raw tracepoint named on the command line, the
 * events a probe hooks, and holds them until SIGINT or SIGTERM. A raw_tp
 * and a tp_btf program reach the same bpf_trace_run*() dispatch, so what a
 * workload loses with these attached is what any program on those events
 * costs, however little it does.
 *
 *   bpf-floor EVENT...    prints "ready N" once all N are attached
 *
 * An event the kernel lacks is an error (exit 1): the floor must hook what
 * the probe hooks.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#define MAX_EVENTS 64

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* An empty raw_tp program: the fd, or a negative errno. */
static int load_empty(void)
{
	static const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd;

	fd = bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "floor", "GPL", insns,
			   sizeof(insns) / sizeof(insns[0]), NULL);
	return fd < 0 ? -errno : fd;
}

int main(int argc, char **argv)
{
	int prog, link[MAX_EVENTS], i, n = 0, err = 1;

	if (argc < 2 || argc - 1 > MAX_EVENTS) {
		fprintf(stderr, "usage: bpf-floor EVENT... (at most %d)\n",
			MAX_EVENTS);
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	prog = load_empty();
	if (prog < 0) {
		fprintf(stderr, "bpf-floor: failed to load the empty program: %s\n",
			strerror(-prog));
		return 1;
	}
	for (i = 1; i < argc; i++) {
		link[n] = bpf_raw_tracepoint_open(argv[i], prog);
		if (link[n] < 0) {
			fprintf(stderr, "bpf-floor: failed to attach %s: %s\n",
				argv[i], strerror(errno));
			goto cleanup;
		}
		n++;
	}
	printf("ready %d\n", n);
	fflush(stdout);
	while (!stop)
		pause();
	err = 0;
cleanup:
	while (n > 0)
		close(link[--n]);
	close(prog);
	return err;
}
