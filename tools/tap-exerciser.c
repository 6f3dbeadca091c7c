// SPDX-License-Identifier: GPL-2.0
/*
 * tap-exerciser: plays a VM's network backend on a tap device, with exact
 * ground truth for the net probe's tests and benchmark.
 *
 * Reader (default): attaches to tap DEV (creating it when absent), prints
 * one "ready" JSON line, then reads every frame the host hands to the tap
 * (what a VM receives) until SIGINT/SIGTERM. On SIGUSR1 it writes --send
 * frames into the tap (what a VM transmits). At the end it prints what it
 * read and wrote as one JSON line. SIGSTOP/SIGCONT pause the reading, so a
 * test can make the tap's queue overflow.
 *
 * Sender (--udp ADDR:PORT): sends --count UDP datagrams of --size bytes
 * from the host, as fast as it can (sendmmsg), at --rate per second, or one
 * per --gap-us, then prints its CPU time.
 *
 * Injector (--inject DEV): transmits --count Ethernet frames of --size
 * bytes on DEV through a packet socket, one per --gap-us: the host handing
 * frames to the tap without an IP address or a route.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#define FRAME_MAX 65536
#define BATCH 64

static volatile sig_atomic_t stop, send_req;

struct opts {
	const char *dev;
	const char *udp;
	const char *inject;
	unsigned long send;      /* frames to write on SIGUSR1 */
	unsigned long count;     /* --udp: datagrams */
	unsigned long gap_us;    /* --udp: pause between datagrams, 0: none */
	unsigned long rate;      /* --udp: datagrams per second, 0: flat out */
	unsigned int size;       /* frame or datagram size */
	unsigned int ethertype;
};

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		send_req = 1;
	else
		stop = 1;
}

static uint64_t cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ULL +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int tap_open(const char *dev)
{
	struct ifreq ifr = { 0 };
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Broadcast frames of an experimental ethertype: no host protocol takes
 * them, so the host drops each one with a reason the test can check. */
static int write_frames(int fd, const struct opts *o, unsigned long *n,
			unsigned long *bytes)
{
	unsigned char frame[FRAME_MAX] = { 0 };
	unsigned long i;
	ssize_t w;

	memset(frame, 0xff, 6);
	memcpy(frame + 6, "\x02\x00\x00\x00\x00\x02", 6);
	frame[12] = o->ethertype >> 8;
	frame[13] = o->ethertype & 0xff;
	for (i = 0; i < o->send; i++) {
		do {
			w = write(fd, frame, o->size);
		} while (w < 0 && (errno == EINTR || errno == EAGAIN));
		if (w < 0)
			return -errno;
		(*n)++;
		*bytes += w;
	}
	return 0;
}

static int reader(const struct opts *o)
{
	static unsigned char buf[FRAME_MAX];
	unsigned long rn = 0, rbytes = 0, wn = 0, wbytes = 0;
	struct pollfd p;
	uint64_t cpu0;
	ssize_t r;
	int fd, err = 0;

	fd = tap_open(o->dev);
	if (fd < 0) {
		fprintf(stderr, "tap-exerciser: cannot attach to tap %s: %s\n",
			o->dev, strerror(-fd));
		return 1;
	}
	printf("{\"event\":\"ready\",\"pid\":%d,\"dev\":\"%s\",\"ifindex\":%u}\n",
	       getpid(), o->dev, if_nametoindex(o->dev));
	fflush(stdout);
	cpu0 = cpu_ns();
	p.fd = fd;
	p.events = POLLIN;
	while (!stop) {
		if (send_req) {
			send_req = 0;
			err = write_frames(fd, o, &wn, &wbytes);
			if (err)
				break;
			printf("{\"event\":\"sent\",\"packets\":%lu}\n", wn);
			fflush(stdout);
		}
		if (poll(&p, 1, 100) < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		while ((r = read(fd, buf, sizeof(buf))) > 0) {
			rn++;
			rbytes += r;
		}
		if (r < 0 && errno != EAGAIN && errno != EINTR) {
			err = -errno;
			break;
		}
	}
	printf("{\"pid\":%d,\"dev\":\"%s\",\"read\":{\"packets\":%lu,\"bytes\":%lu},"
	       "\"written\":{\"packets\":%lu,\"bytes\":%lu},\"cpu_ns\":%llu}\n",
	       getpid(), o->dev, rn, rbytes, wn, wbytes,
	       (unsigned long long)(cpu_ns() - cpu0));
	close(fd);
	if (err)
		fprintf(stderr, "tap-exerciser: %s\n", strerror(-err));
	return err ? 1 : 0;
}

static int sender(const struct opts *o)
{
	static char payload[FRAME_MAX];
	struct mmsghdr msgs[BATCH];
	struct iovec iov = { payload, o->size };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char host[64], *colon;
	unsigned long sent = 0;
	uint64_t t0, cpu0;
	int fd, i, n;

	snprintf(host, sizeof(host), "%s", o->udp);
	colon = strrchr(host, ':');
	if (colon)
		*colon = '\0';
	if (!colon || inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "tap-exerciser: --udp wants ADDR:PORT\n");
		return 2;
	}
	sa.sin_port = htons(atoi(colon + 1));
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("tap-exerciser: socket");
		return 1;
	}
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_name = &sa;
		msgs[i].msg_hdr.msg_namelen = sizeof(sa);
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	t0 = mono_ns();
	cpu0 = cpu_ns();
	while (sent < o->count && !stop) {
		n = o->count - sent < BATCH ? o->count - sent : BATCH;
		if (o->rate) {
			/* paced: batch k leaves at k * BATCH / rate seconds */
			uint64_t due = t0 + sent * 1000000000ULL / o->rate;
			struct timespec ts = { due / 1000000000ULL,
					       due % 1000000000ULL };

			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
					NULL);
		}
		if (o->gap_us) {
			struct timespec gap = { o->gap_us / 1000000,
						(o->gap_us % 1000000) * 1000 };

			if (sent)
				nanosleep(&gap, NULL);
			n = 1;
		}
		n = sendmmsg(fd, msgs, n, 0);
		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS || errno == EAGAIN)
				continue;
			perror("tap-exerciser: sendmmsg");
			return 1;
		}
		sent += n;
	}
	printf("{\"pid\":%d,\"sent\":%lu,\"cpu_ns\":%llu,\"wall_ns\":%llu}\n",
	       getpid(), sent, (unsigned long long)(cpu_ns() - cpu0),
	       (unsigned long long)(mono_ns() - t0));
	close(fd);
	return 0;
}

static int injector(const struct opts *o)
{
	unsigned char frame[FRAME_MAX] = { 0 };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct timespec gap = { o->gap_us / 1000000,
				(o->gap_us % 1000000) * 1000 };
	unsigned long sent = 0;
	int fd;

	sll.sll_ifindex = if_nametoindex(o->inject);
	sll.sll_halen = 6;
	if (!sll.sll_ifindex) {
		fprintf(stderr, "tap-exerciser: no device %s\n", o->inject);
		return 1;
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("tap-exerciser: packet socket");
		return 1;
	}
	memset(frame, 0xff, 6);
	memcpy(frame + 6, "\x02\x00\x00\x00\x00\x01", 6);
	frame[12] = o->ethertype >> 8;
	frame[13] = o->ethertype & 0xff;
	memset(sll.sll_addr, 0xff, 6);
	for (; sent < o->count && !stop; sent++) {
		if (sent && o->gap_us)
			nanosleep(&gap, NULL);
		if (sendto(fd, frame, o->size, 0, (struct sockaddr *)&sll,
			   sizeof(sll)) != (ssize_t)o->size) {
			perror("tap-exerciser: sendto");
			return 1;
		}
	}
	printf("{\"pid\":%d,\"injected\":%lu}\n", getpid(), sent);
	close(fd);
	return 0;
}

/*
 * --kvm: hold a KVM VM for the whole run (open /dev/kvm, KVM_CREATE_VM),
 * which makes this process a VMM as kvmprobe defines one; without it, its
 * traffic goes to kvmprobe's host record. The fd is -1 on failure.
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

static void usage(FILE *f)
{
	fputs("usage: tap-exerciser --dev NAME [--send N] [--size BYTES] [--ethertype 0xNNNN] [--kvm]\n"
	      "       tap-exerciser --udp ADDR:PORT --count N [--size BYTES] [--gap-us US | --rate PPS]\n"
	      "       tap-exerciser --inject DEV --count N [--size BYTES] [--gap-us US] [--ethertype 0xNNNN]\n",
	      f);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "send", required_argument, NULL, 's' },
		{ "size", required_argument, NULL, 'z' },
		{ "ethertype", required_argument, NULL, 'e' },
		{ "udp", required_argument, NULL, 'u' },
		{ "inject", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ "gap-us", required_argument, NULL, 'g' },
		{ "rate", required_argument, NULL, 'R' },
		{ "kvm", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct opts o = { .size = 0, .ethertype = 0x88b5 };
	struct sigaction sa = { .sa_handler = on_signal };
	int c, kvm = 0;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'd': o.dev = optarg; break;
		case 's': o.send = strtoul(optarg, NULL, 0); break;
		case 'z': o.size = strtoul(optarg, NULL, 0); break;
		case 'e': o.ethertype = strtoul(optarg, NULL, 0); break;
		case 'u': o.udp = optarg; break;
		case 'i': o.inject = optarg; break;
		case 'c': o.count = strtoul(optarg, NULL, 0); break;
		case 'g': o.gap_us = strtoul(optarg, NULL, 0); break;
		case 'R': o.rate = strtoul(optarg, NULL, 0); break;
		case 'k': kvm = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!!o.dev + !!o.udp + !!o.inject != 1 || o.size > FRAME_MAX ||
	    o.ethertype > 0xffff) {
		usage(stderr);
		return 2;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	if (o.udp) {
		if (!o.size)
			o.size = 18;
		return sender(&o);
	}
	/* the VM fd stays open until exit */
	if (kvm && hold_vm() < 0) {
		fprintf(stderr, "tap-exerciser: --kvm: failed to create a VM: %s\n",
			strerror(errno));
		return 1;
	}
	if (!o.size)
		o.size = 60; /* the smallest Ethernet frame without its FCS */
	if (o.size < 14) {
		usage(stderr);
		return 2;
	}
	return o.inject ? injector(&o) : reader(&o);
}
