/*
 * kvm-exerciser: a tiny VMM on /dev/kvm that causes an exact, known mix of
 * VM exits, and prints what it observed as one JSON line of ground truth.
 *
 * One VM, one 4 KiB page of guest memory holding a real-mode program (see
 * guest.c) that every vCPU runs; each vCPU runs in a thread named
 * "CPU <i>/KVM" as QEMU names them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "guest.h"
#include "irq.h"
#include "options.h"

#define EXIT_INTERRUPTED 130
#define VCPU_STACK_SIZE (64 * 1024)
#define SPIN_POLL_NS 1000000L
#define START_POLL_NS 20000L
#define SIG_KICK SIGUSR1		/* knocks a vCPU thread out of KVM_RUN */
#define SIG_WAKE SIGUSR2		/* tells the main thread a vCPU ended */

/* Userspace exits a vCPU can observe; anything else is an error. */
enum exit_kind { EXIT_IO, EXIT_MMIO, EXIT_HLT, EXIT_INTR, NR_EXIT_KINDS };

static const char *const exit_kind_names[NR_EXIT_KINDS] = {
	[EXIT_IO] = "IO",
	[EXIT_MMIO] = "MMIO",
	[EXIT_HLT] = "HLT",
	[EXIT_INTR] = "INTR",
};

/* KVM_EXIT_* names for error messages. */
static const char *const kvm_exit_names[] = {
	[KVM_EXIT_UNKNOWN] = "UNKNOWN",
	[KVM_EXIT_EXCEPTION] = "EXCEPTION",
	[KVM_EXIT_IO] = "IO",
	[KVM_EXIT_HYPERCALL] = "HYPERCALL",
	[KVM_EXIT_DEBUG] = "DEBUG",
	[KVM_EXIT_HLT] = "HLT",
	[KVM_EXIT_MMIO] = "MMIO",
	[KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
	[KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
	[KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
	[KVM_EXIT_INTR] = "INTR",
	[KVM_EXIT_SET_TPR] = "SET_TPR",
	[KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS",
	[KVM_EXIT_NMI] = "NMI",
	[KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
	[KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
	[KVM_EXIT_X86_RDMSR] = "X86_RDMSR",
	[KVM_EXIT_X86_WRMSR] = "X86_WRMSR",
	[KVM_EXIT_X86_BUS_LOCK] = "X86_BUS_LOCK",
	[KVM_EXIT_NOTIFY] = "NOTIFY",
};

struct exerciser;

struct vcpu {
	struct exerciser *ex;
	unsigned int index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	pid_t tid;
	/* written by the vCPU thread, read by main after the join */
	uint64_t io, mmio, hlt, cpuid;
	uint64_t exits[NR_EXIT_KINDS];
	bool done;
	bool have_schedstat, have_start;
	uint64_t cpu_ns, run_delay_ns;
	uint64_t cpu_start_ns, run_delay_start_ns; /* before waiting for go */
	struct kstats kstats;		/* KVM's halt counters, at the end */
	/* --io-sleep, --io-spin: what the OUT handlers took, in all */
	int schedstat_fd;		/* the thread's, -1 when not open */
	bool handler_ok;		/* every handler was measured */
	uint64_t h_n, h_wall_ns, h_cpu_ns, h_delay_ns, h_sleep_ns;
	/* spin timer, main thread only */
	bool spin_started, spin_released;
	struct timespec spin_start;
};

struct exerciser {
	struct options opt;
	int kvm_fd;
	int vm_fd;
	uint8_t *mem;
	uint8_t *ivt;			/* --hlt-wake: the page at gpa 0 */
	struct wake_timer wake;
	size_t run_size;
	struct vcpu *vcpus;
	unsigned int nr_vcpus;		/* created */
	unsigned int nr_threads;	/* started */
	pthread_t main_thread;
	pthread_mutex_t go_lock;	/* protects nr_ready and nr_go */
	pthread_cond_t ready_cond;
	pthread_cond_t go_cond;
	unsigned int nr_ready;		/* threads named, waiting for go */
	unsigned int nr_go;		/* vCPUs below this index may run */
	bool stopped_all;		/* main thread only */
	bool interrupted;		/* main thread only */
	int stop;			/* atomic: vCPUs must return */
	int failed;			/* atomic: a vCPU failed */
	unsigned int nr_finished;	/* atomic */
};

static void pr_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs(PROG ": ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- process setup ---- */

static void kick_handler(int sig)
{
	(void)sig;
}

/*
 * Block the signals the main thread waits for in every thread (the vCPU
 * threads inherit the mask and unblock SIG_KICK only).
 */
static int setup_signals(void)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	sigset_t set;
	int ret;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIG_KICK);
	sigaddset(&set, SIG_WAKE);
	ret = pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (ret) {
		pr_err("failed to block signals: %s", strerror(ret));
		return -ret;
	}
	if (sigaction(SIG_KICK, &sa, NULL)) {
		ret = -errno;
		pr_err("failed to install the vcpu kick handler: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

/* Each vCPU holds a file descriptor: make room for --vcpus 1024. */
static int raise_fd_limit(unsigned int vcpus)
{
	rlim_t need = vcpus + 32;
	struct rlimit rl;
	int ret;

	if (getrlimit(RLIMIT_NOFILE, &rl)) {
		pr_err("failed to read the open file limit: %s", strerror(errno));
		return -EINVAL;
	}
	if (rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max < need) {
		pr_err("failed to raise the open file limit to %lu for %u vcpus: hard limit is %lu",
		       (unsigned long)need, vcpus, (unsigned long)rl.rlim_max);
		return -EMFILE;
	}
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		ret = -errno;
		pr_err("failed to raise the open file limit to %lu: %s",
		       (unsigned long)need, strerror(-ret));
		return ret;
	}
	return 0;
}

static int check_pin(int cpu)
{
	cpu_set_t set;
	int ret;

	if (cpu < 0)
		return 0;
	if (sched_getaffinity(0, sizeof(set), &set)) {
		ret = -errno;
		pr_err("failed to read the cpu affinity: %s", strerror(-ret));
		return ret;
	}
	if (!CPU_ISSET(cpu, &set)) {
		pr_err("--pin %d: cpu %d is not available to this process", cpu, cpu);
		return -EINVAL;
	}
	return 0;
}

/* ---- VM and vCPU setup ---- */

static int kvm_check_cap(int fd, int cap)
{
	return ioctl(fd, KVM_CHECK_EXTENSION, cap);
}

static int kvm_open(struct exerciser *ex)
{
	int ret;

	ex->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (ex->kvm_fd < 0) {
		ret = -errno;
		pr_err("failed to open /dev/kvm: %s", strerror(-ret));
		return ret;
	}
	ret = ioctl(ex->kvm_fd, KVM_GET_API_VERSION, 0);
	if (ret < 0) {
		ret = -errno;
		pr_err("failed to use /dev/kvm: KVM_GET_API_VERSION: %s",
		       strerror(-ret));
		return ret;
	}
	if (ret != KVM_API_VERSION) {
		pr_err("failed to use /dev/kvm: api version %d, expected %d",
		       ret, KVM_API_VERSION);
		return -ENOTSUP;
	}
	if (kvm_check_cap(ex->kvm_fd, KVM_CAP_USER_MEMORY) <= 0 ||
	    kvm_check_cap(ex->kvm_fd, KVM_CAP_IMMEDIATE_EXIT) <= 0) {
		pr_err("failed to use /dev/kvm: KVM_CAP_USER_MEMORY or KVM_CAP_IMMEDIATE_EXIT missing");
		return -ENOTSUP;
	}
	ret = ioctl(ex->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ret < (int)sizeof(struct kvm_run)) {
		pr_err("failed to get the kvm_run size: %s",
		       ret < 0 ? strerror(errno) : "too small");
		return -EINVAL;
	}
	ex->run_size = ret;
	return 0;
}

/* The VM's limits on vCPU count and ids, which may be below 1024. */
static int vm_check_vcpus(struct exerciser *ex)
{
	unsigned int n = ex->opt.vcpus;
	int max, max_id;

	max = kvm_check_cap(ex->vm_fd, KVM_CAP_MAX_VCPUS);
	if (max <= 0)
		max = kvm_check_cap(ex->vm_fd, KVM_CAP_NR_VCPUS);
	if (max <= 0)
		max = 4;	/* the documented default */
	max_id = kvm_check_cap(ex->vm_fd, KVM_CAP_MAX_VCPU_ID);
	if (max_id > 0 && max_id < max)
		max = max_id;
	if (n > (unsigned int)max) {
		pr_err("--vcpus %u exceeds this kvm's limit of %d vcpus per vm (KVM_CAP_MAX_VCPUS)",
		       n, max);
		return -E2BIG;
	}
	return 0;
}

static int vm_create(struct exerciser *ex)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = GUEST_PAGE_GPA,
		.memory_size = GUEST_PAGE_SIZE,
	};
	int ret;

	ex->vm_fd = ioctl(ex->kvm_fd, KVM_CREATE_VM, 0);
	if (ex->vm_fd < 0) {
		ret = -errno;
		pr_err("failed to create a vm: %s", strerror(-ret));
		return ret;
	}
	ret = vm_check_vcpus(ex);
	if (ret)
		return ret;
	ex->mem = mmap(NULL, GUEST_PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ex->mem == MAP_FAILED) {
		ex->mem = NULL;
		ret = -errno;
		pr_err("failed to allocate guest memory: %s", strerror(-ret));
		return ret;
	}
	ret = guest_build(ex->mem, GUEST_STATE_OFF, &ex->opt.guest);
	if (ret) {
		pr_err("failed to build the guest code: %s", strerror(-ret));
		return ret;
	}
	region.userspace_addr = (uintptr_t)ex->mem;
	if (ioctl(ex->vm_fd, KVM_SET_USER_MEMORY_REGION, &region)) {
		ret = -errno;
		pr_err("failed to add the guest memory slot: %s", strerror(-ret));
		return ret;
	}
	if (ex->opt.guest.wake)
		return irq_setup(ex->vm_fd, &ex->ivt);
	return 0;
}

static void set_real_segment(struct kvm_segment *s, uint16_t selector)
{
	s->selector = selector;
	s->base = (uint64_t)selector << 4;
	s->limit = 0xffff;
}

/* Real-mode entry state described in guest.c. */
static int vcpu_set_entry(struct vcpu *v)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = {
		.rip = 0,
		.rflags = 0x2,
		.rdi = GUEST_STATE_OFF + v->index,
		.rsp = GUEST_STATE_OFF,
	};

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs))
		return -errno;
	set_real_segment(&sregs.cs, GUEST_SEG);
	set_real_segment(&sregs.ds, GUEST_SEG);
	set_real_segment(&sregs.ss, GUEST_SEG);
	set_real_segment(&sregs.es, GUEST_MMIO_SEG);
	set_real_segment(&sregs.fs, GUEST_SEG);
	set_real_segment(&sregs.gs, GUEST_SEG);
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs))
		return -errno;
	if (ioctl(v->fd, KVM_SET_REGS, &regs))
		return -errno;
	return 0;
}

static int vcpu_create(struct exerciser *ex, struct vcpu *v)
{
	int ret;

	v->fd = ioctl(ex->vm_fd, KVM_CREATE_VCPU, (unsigned long)v->index);
	if (v->fd < 0) {
		ret = -errno;
		pr_err("failed to create vcpu %u: %s", v->index, strerror(-ret));
		return ret;
	}
	v->run = mmap(NULL, ex->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		ret = -errno;
		pr_err("failed to map kvm_run of vcpu %u: %s", v->index,
		       strerror(-ret));
		return ret;
	}
	ret = vcpu_set_entry(v);
	if (ret)
		pr_err("failed to set the registers of vcpu %u: %s", v->index,
		       strerror(-ret));
	return ret;
}

static int vcpus_create(struct exerciser *ex)
{
	unsigned int i;
	int ret;

	ex->vcpus = calloc(ex->opt.vcpus, sizeof(*ex->vcpus));
	if (!ex->vcpus) {
		pr_err("failed to allocate %u vcpus", ex->opt.vcpus);
		return -ENOMEM;
	}
	for (i = 0; i < ex->opt.vcpus; i++) {
		struct vcpu *v = &ex->vcpus[i];

		v->ex = ex;
		v->index = i;
		ex->nr_vcpus++;
		ret = vcpu_create(ex, v);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- vCPU threads ---- */

static bool stopping(struct exerciser *ex)
{
	return __atomic_load_n(&ex->stop, __ATOMIC_ACQUIRE);
}

/* Report the first vCPU failure only; the others are its echoes. */
static void vcpu_fail(struct vcpu *v, const char *fmt, ...)
{
	va_list ap;

	if (__atomic_exchange_n(&v->ex->failed, 1, __ATOMIC_SEQ_CST))
		return;
	va_start(ap, fmt);
	fprintf(stderr, PROG ": vcpu %u: ", v->index);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static uint64_t vcpu_rip(struct vcpu *v)
{
	struct kvm_regs regs;

	if (ioctl(v->fd, KVM_GET_REGS, &regs))
		return UINT64_MAX;
	return regs.rip;
}

static void vcpu_fail_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint32_t reason = run->exit_reason;
	uint64_t fail_reason = run->fail_entry.hardware_entry_failure_reason;
	const char *name = NULL;
	char detail[128] = "";

	if (reason < sizeof(kvm_exit_names) / sizeof(kvm_exit_names[0]))
		name = kvm_exit_names[reason];
	if (reason == KVM_EXIT_FAIL_ENTRY)
		snprintf(detail, sizeof(detail), " hardware_entry_failure_reason 0x%llx",
			 (unsigned long long)fail_reason);
	else if (reason == KVM_EXIT_INTERNAL_ERROR)
		snprintf(detail, sizeof(detail),
			 " suberror %u ndata %u data 0x%llx 0x%llx",
			 run->internal.suberror, run->internal.ndata,
			 (unsigned long long)run->internal.data[0],
			 (unsigned long long)run->internal.data[1]);
	vcpu_fail(v, "unexpected exit %s (%u)%s at ip 0x%" PRIx64,
		  name ? name : "?", reason, detail, vcpu_rip(v));
}

static uint64_t ts_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* The thread's run delay so far (schedstat's second field); false when
 * it cannot be read. */
static bool handler_delay(const struct vcpu *v, uint64_t *ns)
{
	char buf[128], *p, *end;
	ssize_t n;

	if (v->schedstat_fd < 0)
		return false;
	n = pread(v->schedstat_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strchr(buf, ' ');
	if (!p)
		return false;
	*ns = strtoull(p + 1, &end, 10);
	return end != p + 1;
}

/*
 * --io-sleep, --io-spin: the handler of one OUT takes that long, asleep or
 * on its CPU, and what it took is the ground truth of where exit handling
 * goes: wall clock, the thread's CPU clock and its run delay (read while
 * it runs: every wait is in it), around the work.
 */
static void vcpu_io_work(struct vcpu *v)
{
	double sleep_s = v->ex->opt.io_sleep_s, spin_s = v->ex->opt.io_spin_s;
	uint64_t w0, c0, d0 = 0, d1 = 0, until, s0;
	struct timespec ts;
	bool ok;

	if (sleep_s <= 0 && spin_s <= 0)
		return;
	ok = handler_delay(v, &d0);
	w0 = ts_ns(CLOCK_MONOTONIC);
	c0 = ts_ns(CLOCK_THREAD_CPUTIME_ID);
	if (sleep_s > 0) {
		ts.tv_sec = (time_t)sleep_s;
		ts.tv_nsec = (long)((sleep_s - ts.tv_sec) * 1e9);
		s0 = ts_ns(CLOCK_MONOTONIC);
		nanosleep(&ts, NULL);
		v->h_sleep_ns += ts_ns(CLOCK_MONOTONIC) - s0;
	} else {
		until = c0 + (uint64_t)(spin_s * 1e9);
		while (ts_ns(CLOCK_THREAD_CPUTIME_ID) < until)
			;
	}
	v->h_cpu_ns += ts_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
	v->h_wall_ns += ts_ns(CLOCK_MONOTONIC) - w0;
	ok = ok && handler_delay(v, &d1);
	v->h_delay_ns += ok && d1 > d0 ? d1 - d0 : 0;
	v->handler_ok &= ok;
	v->h_n++;
}

static int vcpu_handle_io(struct vcpu *v)
{
	const struct guest_cfg *g = &v->ex->opt.guest;
	struct kvm_run *run = v->run;

	if (run->io.direction == KVM_EXIT_IO_OUT && run->io.size == 1 &&
	    run->io.count == 1) {
		if (run->io.port == g->port) {
			v->io++;
			vcpu_io_work(v);
			return 0;
		}
		if (run->io.port == GUEST_DONE_PORT) {
			v->done = true;
			return 0;
		}
	}
	vcpu_fail(v, "unexpected io exit: %s port 0x%x size %u count %u at ip 0x%" PRIx64,
		  run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in",
		  run->io.port, run->io.size, run->io.count, vcpu_rip(v));
	return -EIO;
}

static int vcpu_handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	if (run->mmio.is_write && run->mmio.len == 1 &&
	    run->mmio.phys_addr == GUEST_MMIO_GPA) {
		v->mmio++;
		return 0;
	}
	vcpu_fail(v, "unexpected mmio exit: %s gpa 0x%llx len %u at ip 0x%" PRIx64,
		  run->mmio.is_write ? "write" : "read",
		  (unsigned long long)run->mmio.phys_addr, run->mmio.len,
		  vcpu_rip(v));
	return -EIO;
}

/*
 * --hlt-sleep: wait after a HLT exit, as a VMM waits for an interrupt, so
 * that many vCPUs are mostly asleep and each runs often. A stop kick ends
 * the sleep early; immediate_exit then makes the next KVM_RUN return.
 */
static void vcpu_hlt_sleep(struct vcpu *v)
{
	double s = v->ex->opt.hlt_sleep_s;
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

static int vcpu_handle_exit(struct vcpu *v)
{
	switch (v->run->exit_reason) {
	case KVM_EXIT_IO:
		v->exits[EXIT_IO]++;
		return vcpu_handle_io(v);
	case KVM_EXIT_MMIO:
		v->exits[EXIT_MMIO]++;
		return vcpu_handle_mmio(v);
	case KVM_EXIT_HLT:
		v->exits[EXIT_HLT]++;
		v->hlt++;
		vcpu_hlt_sleep(v);
		return 0;
	default:
		vcpu_fail_exit(v);
		return -EIO;
	}
}

/* KVM_RUN until the guest's done OUT, a stop request or an error. */
static int vcpu_run_loop(struct vcpu *v)
{
	int ret;

	while (!v->done) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			ret = -errno;
			if (ret != -EINTR) {
				vcpu_fail(v, "KVM_RUN failed: %s", strerror(-ret));
				return ret;
			}
			v->exits[EXIT_INTR]++;
			if (stopping(v->ex))
				return 0;
			continue;
		}
		ret = vcpu_handle_exit(v);
		if (ret)
			return ret;
	}
	return 0;
}

/* The guest counts its CPUIDs in EBP: read the count from there. */
static int vcpu_read_cpuid(struct vcpu *v)
{
	struct kvm_regs regs;
	int ret;

	if (ioctl(v->fd, KVM_GET_REGS, &regs)) {
		ret = -errno;
		vcpu_fail(v, "failed to read registers: %s", strerror(-ret));
		return ret;
	}
	v->cpuid = (uint32_t)regs.rbp;
	if (v->ex->opt.guest.wake)
		v->hlt = (uint32_t)regs.rbx; /* halts that returned */
	return 0;
}

/* A vCPU that finished must have seen exactly what it was asked for. */
static int vcpu_check_counts(struct vcpu *v)
{
	const struct guest_cfg *g = &v->ex->opt.guest;

	if (!v->done || (v->io == g->io && v->mmio == g->mmio &&
			 v->hlt == g->hlt && v->cpuid == g->cpuid))
		return 0;
	vcpu_fail(v, "finished with io %" PRIu64 " mmio %" PRIu64 " hlt %" PRIu64
		  " cpuid %" PRIu64 ", expected %u %u %u %u",
		  v->io, v->mmio, v->hlt, v->cpuid, g->io, g->mmio, g->hlt,
		  g->cpuid);
	return -EPROTO;
}

/*
 * The first two fields of schedstat: time on cpu and run delay, in ns.
 * schedstat shows sum_exec_runtime, which lags the running task by its
 * current slice; reading the thread's cpu clock folds the slice in first
 * (task_sched_runtime() calls update_curr()).
 */
static bool read_schedstat(struct vcpu *v, uint64_t *cpu_ns,
			   uint64_t *run_delay_ns)
{
	char path[64], buf[128], *end;
	struct timespec ts;
	ssize_t n;
	int fd;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", v->tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	*cpu_ns = strtoull(buf, &end, 10);
	if (end == buf || *end != ' ')
		return false;
	*run_delay_ns = strtoull(end, &end, 10);
	return true;
}

static void vcpu_read_schedstat(struct vcpu *v)
{
	v->have_schedstat = read_schedstat(v, &v->cpu_ns, &v->run_delay_ns);
}

/* Name the thread as QEMU does, without /proc (prctl on itself). */
static int vcpu_set_name(struct vcpu *v)
{
	char name[24];			/* "CPU 1023/KVM" needs 13 */
	int ret;

	snprintf(name, sizeof(name), "CPU %u/KVM", v->index);
	ret = pthread_setname_np(pthread_self(), name);
	if (ret)
		vcpu_fail(v, "failed to set the thread name: %s", strerror(ret));
	return -ret;
}

/* Tell main this thread is ready, then wait until it lets this vCPU go. */
static void vcpu_wait_for_go(struct vcpu *v)
{
	struct exerciser *ex = v->ex;

	/* the run's own window starts here: the thread only sleeps until
	 * main lets it go (a test's probe starts meanwhile) */
	v->have_start = read_schedstat(v, &v->cpu_start_ns,
				       &v->run_delay_start_ns);
	pthread_mutex_lock(&ex->go_lock);
	ex->nr_ready++;
	pthread_cond_signal(&ex->ready_cond);
	while (v->index >= ex->nr_go)
		pthread_cond_wait(&ex->go_cond, &ex->go_lock);
	pthread_mutex_unlock(&ex->go_lock);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct exerciser *ex = v->ex;
	sigset_t kick;
	int ret;

	v->tid = gettid();
	ret = vcpu_set_name(v);
	v->schedstat_fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
	v->handler_ok = true;
	sigemptyset(&kick);
	sigaddset(&kick, SIG_KICK);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	vcpu_wait_for_go(v);
	if (!ret && !stopping(ex) && !vcpu_run_loop(v) && !vcpu_read_cpuid(v))
		vcpu_check_counts(v);
	if (ex->opt.guest.hlt)
		kstats_read(v->fd, &v->kstats);
	vcpu_read_schedstat(v);
	if (v->schedstat_fd >= 0)
		close(v->schedstat_fd);
	__atomic_add_fetch(&ex->nr_finished, 1, __ATOMIC_SEQ_CST);
	pthread_kill(ex->main_thread, SIG_WAKE);
	return NULL;
}

static int vcpus_start(struct exerciser *ex)
{
	pthread_attr_t attr;
	cpu_set_t cpus;
	unsigned int i;
	int ret;

	ret = pthread_attr_init(&attr);
	if (ret)
		goto err;
	ret = pthread_attr_setstacksize(&attr, VCPU_STACK_SIZE);
	if (ret)
		goto err_destroy_attr;
	if (ex->opt.pin >= 0) {
		CPU_ZERO(&cpus);
		CPU_SET(ex->opt.pin, &cpus);
		ret = pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
		if (ret)
			goto err_destroy_attr;
	}
	for (i = 0; i < ex->nr_vcpus; i++) {
		struct vcpu *v = &ex->vcpus[i];

		ret = pthread_create(&v->thread, &attr, vcpu_thread, v);
		if (ret)
			goto err_destroy_attr;
		ex->nr_threads++;
	}
	pthread_attr_destroy(&attr);
	return 0;

err_destroy_attr:
	pthread_attr_destroy(&attr);
err:
	pr_err("failed to start the thread of vcpu %u: %s", ex->nr_threads,
	       strerror(ret));
	return -ret;
}

/* ---- main thread: start, timers, stop ---- */

/* Wait until every vCPU thread is named and about to run. */
static void wait_vcpus_ready(struct exerciser *ex)
{
	pthread_mutex_lock(&ex->go_lock);
	while (ex->nr_ready < ex->nr_threads)
		pthread_cond_wait(&ex->ready_cond, &ex->go_lock);
	pthread_mutex_unlock(&ex->go_lock);
}

static void release_vcpus(struct exerciser *ex, unsigned int nr)
{
	pthread_mutex_lock(&ex->go_lock);
	ex->nr_go = nr;
	pthread_cond_broadcast(&ex->go_cond);
	pthread_mutex_unlock(&ex->go_lock);
}

/* Make every vCPU thread return from KVM_RUN and end. */
static void stop_all(struct exerciser *ex)
{
	unsigned int i;

	if (ex->stopped_all)
		return;
	ex->stopped_all = true;
	__atomic_store_n(&ex->stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < ex->nr_threads; i++) {
		struct vcpu *v = &ex->vcpus[i];

		__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		pthread_kill(v->thread, SIG_KICK);
	}
}

static double elapsed_s(const struct timespec *from, const struct timespec *to)
{
	return (to->tv_sec - from->tv_sec) + (to->tv_nsec - from->tv_nsec) / 1e9;
}

static int wait_signal(const sigset_t *set, const struct timespec *timeout)
{
	return timeout ? sigtimedwait(set, NULL, timeout) : sigwaitinfo(set, NULL);
}

/* Sleep --delay-start seconds; false if SIGINT or SIGTERM came first. */
static bool delay_start(struct exerciser *ex)
{
	struct timespec start, now, left;
	double rest;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		rest = ex->opt.delay_s - elapsed_s(&start, &now);
		if (rest <= 0)
			return true;
		left.tv_sec = (time_t)rest;
		left.tv_nsec = (long)((rest - left.tv_sec) * 1e9);
		sig = wait_signal(&set, &left);
		if (sig == SIGINT || sig == SIGTERM)
			return false;
	}
}

/*
 * Stop the spin of each vCPU that has spun for --spin seconds, timed from
 * when the guest wrote GUEST_STATE_SPINNING. True while a spin may be pending.
 */
static bool spin_tick(struct exerciser *ex)
{
	struct timespec now;
	bool pending = false;
	unsigned int i;

	if (!ex->opt.guest.spin)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	for (i = 0; i < ex->nr_threads; i++) {
		struct vcpu *v = &ex->vcpus[i];
		uint8_t *state = ex->mem + GUEST_STATE_OFF + v->index;

		if (v->spin_released)
			continue;
		if (!v->spin_started) {
			if (__atomic_load_n(state, __ATOMIC_ACQUIRE) !=
			    GUEST_STATE_SPINNING) {
				pending = true;
				continue;
			}
			v->spin_started = true;
			v->spin_start = now;
		}
		if (elapsed_s(&v->spin_start, &now) >= ex->opt.spin_s) {
			__atomic_store_n(state, GUEST_STATE_STOP, __ATOMIC_RELEASE);
			v->spin_released = true;
		} else {
			pending = true;
		}
	}
	return pending;
}

/*
 * Let vCPU 0 run alone until its guest has executed its first instruction,
 * then the others: the first touch of the guest page then faults once (one
 * npf under nested paging) instead of once per vCPU that raced to it.
 * False if SIGINT or SIGTERM came first.
 */
static bool start_vcpus(struct exerciser *ex)
{
	const struct timespec poll = { .tv_nsec = START_POLL_NS };
	uint8_t *state = ex->mem + GUEST_STATE_OFF;
	sigset_t set;
	int sig;

	release_vcpus(ex, 1);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIG_WAKE);
	while (ex->nr_threads > 1 &&
	       __atomic_load_n(state, __ATOMIC_ACQUIRE) == GUEST_STATE_IDLE &&
	       !__atomic_load_n(&ex->nr_finished, __ATOMIC_SEQ_CST)) {
		sig = sigtimedwait(&set, NULL, &poll);
		if (sig == SIGINT || sig == SIGTERM)
			return false;
	}
	release_vcpus(ex, ex->nr_threads);
	return true;
}

/* Wait for every vCPU thread to end, serving spin timers and signals. */
static void supervise(struct exerciser *ex)
{
	const struct timespec poll = { .tv_nsec = SPIN_POLL_NS };
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIG_WAKE);
	while (__atomic_load_n(&ex->nr_finished, __ATOMIC_SEQ_CST) <
	       ex->nr_threads) {
		sig = wait_signal(&set, spin_tick(ex) ? &poll : NULL);
		if (sig == SIGINT || sig == SIGTERM) {
			ex->interrupted = true;
			stop_all(ex);
		}
		if (__atomic_load_n(&ex->failed, __ATOMIC_SEQ_CST))
			stop_all(ex);
	}
}

static void join_all(struct exerciser *ex)
{
	unsigned int i;

	for (i = 0; i < ex->nr_threads; i++)
		pthread_join(ex->vcpus[i].thread, NULL);
}

/* ---- output ---- */

static void print_vcpu(const struct vcpu *v)
{
	int k;

	printf("{\"index\":%u,\"tid\":%d,\"io\":%" PRIu64 ",\"mmio\":%" PRIu64
	       ",\"hlt\":%" PRIu64 ",\"cpuid\":%" PRIu64 ",\"exits\":{",
	       v->index, v->tid, v->io, v->mmio, v->hlt, v->cpuid);
	for (k = 0; k < NR_EXIT_KINDS; k++)
		printf("%s\"%s\":%" PRIu64, k ? "," : "", exit_kind_names[k],
		       v->exits[k]);
	if (v->have_schedstat)
		printf("},\"run_delay_ns\":%" PRIu64 ",\"cpu_ns\":%" PRIu64,
		       v->run_delay_ns, v->cpu_ns);
	else
		printf("},\"run_delay_ns\":null,\"cpu_ns\":null");
	if (v->have_schedstat && v->have_start)
		printf(",\"run_delay_start_ns\":%" PRIu64
		       ",\"cpu_start_ns\":%" PRIu64,
		       v->run_delay_start_ns, v->cpu_start_ns);
	else
		printf(",\"run_delay_start_ns\":null,\"cpu_start_ns\":null");
	if (v->ex->opt.guest.hlt)
		kstats_print(&v->kstats);
	if (v->ex->opt.io_sleep_s > 0 || v->ex->opt.io_spin_s > 0) {
		if (v->handler_ok)
			printf(",\"io_handler\":{\"n\":%" PRIu64
			       ",\"wall_ns\":%" PRIu64 ",\"cpu_ns\":%" PRIu64
			       ",\"run_delay_ns\":%" PRIu64
			       ",\"sleep_ns\":%" PRIu64 "}",
			       v->h_n, v->h_wall_ns, v->h_cpu_ns, v->h_delay_ns,
			       v->h_sleep_ns);
		else
			printf(",\"io_handler\":null");
	}
	putchar('}');
}

static int print_truth(const struct exerciser *ex)
{
	unsigned int i;

	printf("{\"pid\":%d,\"interrupted\":%s,\"vcpus\":[", getpid(),
	       ex->interrupted ? "true" : "false");
	for (i = 0; i < ex->nr_threads; i++) {
		if (i)
			putchar(',');
		print_vcpu(&ex->vcpus[i]);
	}
	printf("]}\n");
	if (fflush(stdout) || ferror(stdout)) {
		pr_err("failed to write the result: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}

/* ---- main ---- */

static void exerciser_destroy(struct exerciser *ex)
{
	unsigned int i;

	for (i = 0; i < ex->nr_vcpus; i++) {
		struct vcpu *v = &ex->vcpus[i];

		if (v->run)
			munmap(v->run, ex->run_size);
		if (v->fd >= 0)
			close(v->fd);
	}
	free(ex->vcpus);
	if (ex->vm_fd >= 0)
		close(ex->vm_fd);
	if (ex->mem)
		munmap(ex->mem, GUEST_PAGE_SIZE);
	if (ex->ivt)
		munmap(ex->ivt, GUEST_IVT_SIZE);
	if (ex->kvm_fd >= 0)
		close(ex->kvm_fd);
	pthread_cond_destroy(&ex->go_cond);
	pthread_cond_destroy(&ex->ready_cond);
	pthread_mutex_destroy(&ex->go_lock);
}

static int exerciser_setup(struct exerciser *ex)
{
	int ret;

	ret = raise_fd_limit(ex->opt.vcpus);
	if (!ret)
		ret = check_pin(ex->opt.pin);
	if (!ret)
		ret = kvm_open(ex);
	if (!ret)
		ret = vm_create(ex);
	if (!ret)
		ret = vcpus_create(ex);
	if (!ret)
		ret = vcpus_start(ex);
	return ret;
}

int main(int argc, char **argv)
{
	struct exerciser ex = {
		.kvm_fd = -1,
		.vm_fd = -1,
		.go_lock = PTHREAD_MUTEX_INITIALIZER,
		.ready_cond = PTHREAD_COND_INITIALIZER,
		.go_cond = PTHREAD_COND_INITIALIZER,
	};
	int ret, status = 1;

	ret = parse_args(argc, argv, &ex.opt);
	if (ret)
		return ret > 0 ? 0 : EXIT_USAGE;
	if (prctl(PR_SET_NAME, ex.opt.name, 0, 0, 0)) {
		pr_err("failed to set the process name: %s", strerror(errno));
		return 1;
	}
	ex.main_thread = pthread_self();
	if (setup_signals())
		return 1;

	ret = exerciser_setup(&ex);
	if (!ret)
		wait_vcpus_ready(&ex);
	if (ret || __atomic_load_n(&ex.failed, __ATOMIC_SEQ_CST)) {
		stop_all(&ex);
		release_vcpus(&ex, ex.nr_threads);
		join_all(&ex);
		goto out_destroy;
	}
	if (!delay_start(&ex) || !start_vcpus(&ex)) {
		ex.interrupted = true;
		stop_all(&ex);
	}
	release_vcpus(&ex, ex.nr_threads);
	ex.wake = (struct wake_timer){ .vm_fd = ex.vm_fd,
				       .period_s = ex.opt.hlt_wake_s };
	if (ex.opt.guest.wake && wake_start(&ex.wake)) {
		__atomic_store_n(&ex.failed, 1, __ATOMIC_SEQ_CST);
		stop_all(&ex);
	}
	supervise(&ex);
	wake_stop(&ex.wake);
	join_all(&ex);
	if (ex.failed)
		goto out_destroy;
	if (print_truth(&ex))
		goto out_destroy;
	status = ex.interrupted ? EXIT_INTERRUPTED : 0;

out_destroy:
	exerciser_destroy(&ex);
	return status;
}
