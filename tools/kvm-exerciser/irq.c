/* In-kernel halts of kvm-exerciser: see irq.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "guest.h"
#include "irq.h"


static const char *const kstat_names[KSTAT__COUNT] = {
	[KSTAT_HALT_EXITS] = "halt_exits",
	[KSTAT_ATTEMPTED_POLL] = "halt_attempted_poll",
	[KSTAT_SUCCESSFUL_POLL] = "halt_successful_poll",
	[KSTAT_POLL_INVALID] = "halt_poll_invalid",
	[KSTAT_WAKEUP] = "halt_wakeup",
	[KSTAT_POLL_SUCCESS_NS] = "halt_poll_success_ns",
	[KSTAT_POLL_FAIL_NS] = "halt_poll_fail_ns",
	[KSTAT_WAIT_NS] = "halt_wait_ns",
};

int irq_setup(int vm_fd, uint8_t **ivt)
{
	struct kvm_userspace_memory_region region = {
		.slot = 1,
		.guest_phys_addr = GUEST_IVT_GPA,
		.memory_size = GUEST_IVT_SIZE,
	};
	uint16_t *entry;
	int ret;

	if (ioctl(vm_fd, KVM_CREATE_IRQCHIP, 0)) {
		ret = -errno;
		fprintf(stderr, "kvm-exerciser: failed to create the irqchip: %s\n",
			strerror(-ret));
		return ret;
	}
	*ivt = mmap(NULL, GUEST_IVT_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*ivt == MAP_FAILED) {
		*ivt = NULL;
		ret = -errno;
		fprintf(stderr, "kvm-exerciser: failed to allocate the ivt: %s\n",
			strerror(-ret));
		return ret;
	}
	/* real-mode vector: offset, then segment */
	entry = (uint16_t *)(*ivt + GUEST_TIMER_VECTOR * 4);
	entry[0] = GUEST_ISR_OFF;
	entry[1] = GUEST_SEG;
	region.userspace_addr = (uintptr_t)*ivt;
	if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region)) {
		ret = -errno;
		fprintf(stderr, "kvm-exerciser: failed to add the ivt slot: %s\n",
			strerror(-ret));
		return ret;
	}
	return 0;
}

static int irq_line(int vm_fd, uint32_t level)
{
	struct kvm_irq_level irq = { .irq = 0, .level = level };

	return ioctl(vm_fd, KVM_IRQ_LINE, &irq) ? -errno : 0;
}

/* An edge on IRQ 0 every period, on absolute deadlines. */
static void *wake_thread(void *arg)
{
	struct wake_timer *t = arg;
	long step = (long)(t->period_s * 1e9);
	struct timespec next;

	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
		next.tv_nsec += step;
		while (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		if (irq_line(t->vm_fd, 1) || irq_line(t->vm_fd, 0))
			break;
	}
	return NULL;
}

int wake_start(struct wake_timer *t)
{
	int ret = pthread_create(&t->thread, NULL, wake_thread, t);

	if (ret) {
		fprintf(stderr, "kvm-exerciser: failed to start the wake timer: %s\n",
			strerror(ret));
		return -ret;
	}
	t->started = true;
	return 0;
}

void wake_stop(struct wake_timer *t)
{
	if (!t->started)
		return;
	__atomic_store_n(&t->stop, 1, __ATOMIC_RELEASE);
	pthread_join(t->thread, NULL);
	t->started = false;
}

static int kstat_index(const char *name)
{
	int i;

	for (i = 0; i < KSTAT__COUNT; i++)
		if (!strcmp(name, kstat_names[i]))
			return i;
	return -1;
}

/* The descriptors (each followed by its name) and the data block. */
static int kstats_parse(int fd, const struct kvm_stats_header *h,
			struct kstats *k)
{
	size_t dsz = sizeof(struct kvm_stats_desc) + h->name_size;
	unsigned int found = 0, i;
	char *descs;
	int ret = 0;

	descs = calloc(h->num_desc, dsz);
	if (!descs)
		return -ENOMEM;
	if (pread(fd, descs, h->num_desc * dsz, h->desc_offset) !=
	    (ssize_t)(h->num_desc * dsz)) {
		ret = -EIO;
		goto out;
	}
	for (i = 0; i < h->num_desc; i++) {
		const struct kvm_stats_desc *d =
			(const void *)(descs + i * dsz);
		int idx = kstat_index(d->name);

		if (idx < 0 || d->size != 1)
			continue;
		if (pread(fd, &k->v[idx], sizeof(uint64_t),
			  h->data_offset + d->offset) != sizeof(uint64_t)) {
			ret = -EIO;
			goto out;
		}
		found |= 1U << idx;
	}
	k->have = found == (1U << KSTAT__COUNT) - 1;
out:
	free(descs);
	return ret;
}

int kstats_read(int vcpu_fd, struct kstats *k)
{
	struct kvm_stats_header h;
	int fd, ret;

	memset(k, 0, sizeof(*k));
	fd = ioctl(vcpu_fd, KVM_GET_STATS_FD, NULL);
	if (fd < 0)
		return -errno;
	if (pread(fd, &h, sizeof(h), 0) != sizeof(h))
		ret = -EIO;
	else
		ret = kstats_parse(fd, &h, k);
	close(fd);
	return ret;
}

void kstats_print(const struct kstats *k)
{
	int i;

	if (!k->have) {
		printf(",\"kstats\":null");
		return;
	}
	printf(",\"kstats\":{");
	for (i = 0; i < KSTAT__COUNT; i++)
		printf("%s\"%s\":%" PRIu64, i ? "," : "", kstat_names[i],
		       k->v[i]);
	putchar('}');
}
