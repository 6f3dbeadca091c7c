// SPDX-License-Identifier: GPL-2.0
/*
 * blk-exerciser: exactly --reads O_DIRECT reads and --writes O_DIRECT
 * writes of --bs bytes on a block device, one at a time, then prints what
 * it did as one JSON line of ground truth for the block probe's tests.
 *
 * Each I/O is one aligned request no larger than the device's limits, so
 * the block layer neither splits nor merges it: N reads are N requests.
 * --fsync N adds N fdatasync() calls at the end (flush requests). --kvm
 * makes it a VMM (it holds a KVM VM fd); --hold MS keeps it (and the VM)
 * alive that long after the I/O: kvmprobe tells a VMM by its fds when it
 * reports the interval, so a VMM gone by then counts as the host's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

struct opts {
	const char *dev;
	unsigned long reads, writes, fsyncs;
	size_t bs;
	unsigned long blocks; /* spread the I/O over this many blocks */
};

/*
 * --kvm: hold a KVM VM for the whole run (open /dev/kvm, KVM_CREATE_VM),
 * which makes this process a VMM as kvmprobe defines one; without it, its
 * I/O goes to kvmprobe's host record. The fd is -1 on failure.
 */
static int hold_vm(void)
{
	int kvm, vm;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return -1;
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	close(kvm);
	return vm;
}

static int do_io(int fd, const struct opts *o, void *buf, unsigned long n,
		 int write)
{
	unsigned long i;
	ssize_t r;
	off_t off;

	for (i = 0; i < n; i++) {
		/* a stride that is not a multiple of 2 spreads the offsets */
		off = (off_t)((i * 7919) % o->blocks) * o->bs;
		r = write ? pwrite(fd, buf, o->bs, off) : pread(fd, buf, o->bs, off);
		if (r != (ssize_t)o->bs) {
			fprintf(stderr, "blk-exerciser: %s at %lld: %s\n",
				write ? "pwrite" : "pread", (long long)off,
				r < 0 ? strerror(errno) : "short");
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "reads", required_argument, NULL, 'r' },
		{ "writes", required_argument, NULL, 'w' },
		{ "fsync", required_argument, NULL, 'f' },
		{ "bs", required_argument, NULL, 'b' },
		{ "blocks", required_argument, NULL, 'n' },
		{ "kvm", no_argument, NULL, 'k' },
		{ "hold", required_argument, NULL, 'H' },
		{ 0 },
	};
	struct opts o = { .bs = 4096, .blocks = 1024 };
	int c, fd, vm = -1, kvm = 0;
	unsigned long hold_ms = 0;
	unsigned long i;
	struct stat st;
	void *buf;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd': o.dev = optarg; break;
		case 'r': o.reads = strtoul(optarg, NULL, 0); break;
		case 'w': o.writes = strtoul(optarg, NULL, 0); break;
		case 'f': o.fsyncs = strtoul(optarg, NULL, 0); break;
		case 'b': o.bs = strtoul(optarg, NULL, 0); break;
		case 'n': o.blocks = strtoul(optarg, NULL, 0); break;
		case 'k': kvm = 1; break;
		case 'H': hold_ms = strtoul(optarg, NULL, 0); break;
		default:
			fputs("usage: blk-exerciser --dev BLOCKDEV [--reads N] [--writes N] [--fsync N] [--bs BYTES] [--blocks N] [--kvm [--hold MS]]\n",
			      stderr);
			return 2;
		}
	}
	if (!o.dev || !o.bs || o.bs % 512 || !o.blocks) {
		fputs("blk-exerciser: --dev is required; --bs a multiple of 512\n",
		      stderr);
		return 2;
	}
	if (kvm && (vm = hold_vm()) < 0) {
		fprintf(stderr, "blk-exerciser: --kvm: failed to create a VM: %s\n",
			strerror(errno));
		return 1;
	}
	fd = open(o.dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || !S_ISBLK(st.st_mode)) {
		fprintf(stderr, "blk-exerciser: %s: %s\n", o.dev,
			fd < 0 ? strerror(errno) : "not a block device");
		return 1;
	}
	if (posix_memalign(&buf, 4096, o.bs))
		return 1;
	memset(buf, 0x5a, o.bs);
	if (do_io(fd, &o, buf, o.writes, 1) || do_io(fd, &o, buf, o.reads, 0))
		return 1;
	for (i = 0; i < o.fsyncs; i++)
		if (fdatasync(fd)) {
			perror("blk-exerciser: fdatasync");
			return 1;
		}
	close(fd);
	printf("{\"pid\":%d,\"dev\":\"%u:%u\",\"bs\":%zu,\"reads\":%lu,"
	       "\"writes\":%lu,\"fsyncs\":%lu,\"vmm\":%s}\n", getpid(),
	       major(st.st_rdev), minor(st.st_rdev), o.bs, o.reads, o.writes,
	       o.fsyncs, vm >= 0 ? "true" : "false");
	fflush(stdout);
	if (hold_ms)
		usleep(hold_ms * 1000);
	if (vm >= 0)
		close(vm);
	return 0;
}
