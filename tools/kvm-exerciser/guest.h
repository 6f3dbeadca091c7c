/* Guest memory layout and real-mode code builder of kvm-exerciser. */
#ifndef KVM_EXERCISER_GUEST_H
#define KVM_EXERCISER_GUEST_H

#include <stddef.h>
#include <stdint.h>

/*
 * Everything the guest touches lives in one 4 KiB page: code at offset 0,
 * one state byte per vCPU at GUEST_STATE_OFF + index. The guest runs
 * with CS = DS = SS = GUEST_SEG, so offsets in the page are offsets in the
 * segments, and ES = GUEST_MMIO_SEG points at an address no memslot backs.
 */
#define GUEST_PAGE_GPA 0x1000
#define GUEST_PAGE_SIZE 0x1000
#define GUEST_SEG (GUEST_PAGE_GPA >> 4)
#define GUEST_STATE_OFF 0x800
#define GUEST_MAX_VCPUS 1024
#define GUEST_MMIO_GPA 0x10000
#define GUEST_MMIO_SEG (GUEST_MMIO_GPA >> 4)
#define GUEST_DONE_PORT 0x11
/*
 * In-kernel halts (guest_cfg.wake): the timer interrupt's handler lives at
 * GUEST_ISR_OFF of the page, its vector is GUEST_TIMER_VECTOR (the PIC's
 * IRQ 0 once the guest programmed it), and the VMM writes the vector's
 * real-mode IVT entry into a page at gpa 0.
 */
#define GUEST_ISR_OFF 0x700
#define GUEST_TIMER_VECTOR 0x20
#define GUEST_IVT_GPA 0
#define GUEST_IVT_SIZE 0x1000

_Static_assert(GUEST_STATE_OFF + GUEST_MAX_VCPUS <= GUEST_PAGE_SIZE,
	       "spin state bytes must fit in the guest page");

/* Values of a vCPU's state byte. */
enum guest_state {
	GUEST_STATE_IDLE = 0,		/* not started */
	GUEST_STATE_STARTED = 1,	/* written by the first instruction */
	GUEST_STATE_SPINNING = 2,	/* written by the guest when it spins */
	GUEST_STATE_STOP = 3,		/* written by the VMM to end the spin */
};

/* Per-vCPU counts; every vCPU runs the same code. */
struct guest_cfg {
	uint16_t port;
	uint32_t io;
	uint32_t mmio;
	uint32_t cpuid;
	uint32_t hlt;
	int spin;		/* nonzero: spin until the VMM says stop */
	int wake;		/* nonzero: halts wait in the kernel for the
				 * VMM's timer interrupt (in-kernel irqchip)
				 * and the guest counts them in EBX */
};

int guest_build(uint8_t *buf, size_t size, const struct guest_cfg *cfg);

#endif
