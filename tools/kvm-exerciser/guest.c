/*
 * Real-mode guest code of kvm-exerciser, assembled by hand.
 *
 * Entry state (set by the VMM): IP = 0, CS = DS = SS = GUEST_SEG,
 * ES = GUEST_MMIO_SEG, DI = GUEST_STATE_OFF + vCPU index, EBP = 0,
 * interrupts off. The program:
 *
 *	mov byte [di], STARTED
 *	mov dx, port
 *	io times:	out dx, al			-> KVM_EXIT_IO
 *	mmio times:	mov [es:0], al			-> KVM_EXIT_MMIO
 *	cpuid times:	xor eax, eax; cpuid; inc ebp	(in-kernel)
 *	hlt times:	hlt				-> KVM_EXIT_HLT
 *	  or, with wake (in-kernel irqchip): program the PIC (IRQ 0 at
 *	  GUEST_TIMER_VECTOR, the others masked), xor ebx, ebx, then
 *	hlt times:	sti; hlt; cli; inc ebx		(halts in the kernel
 *							 until IRQ 0)
 *	if spin:	mov byte [di], SPINNING
 *		1:	cmp byte [di], STOP; jne 1b
 *	mov dx, GUEST_DONE_PORT; out dx, al		-> KVM_EXIT_IO
 *	hlt
 *
 * Each count is a loop on ESI, so the code size does not depend on the
 * counts. CPUID clobbers EAX, EBX, ECX and EDX, hence ESI, DI and EBP.
 * EBP counts the CPUIDs executed, EBX (wake) the halts that returned, for
 * the VMM to read at the end. The interrupt handler at GUEST_ISR_OFF
 * acknowledges the PIC and returns:
 *
 *	push ax; mov al, 0x20; out 0x20, al; pop ax; iret
 */
#include <errno.h>
#include <string.h>

#include "guest.h"

struct code {
	uint8_t *buf;
	size_t len;
	size_t cap;
	int err;
};

static void emit(struct code *c, const uint8_t *bytes, size_t n)
{
	if (c->err)
		return;
	if (n > c->cap - c->len) {
		c->err = -ENOSPC;
		return;
	}
	memcpy(c->buf + c->len, bytes, n);
	c->len += n;
}

static void emit_imm16(struct code *c, uint8_t opcode, uint16_t imm)
{
	const uint8_t insn[] = { opcode, imm & 0xff, imm >> 8 };

	emit(c, insn, sizeof(insn));
}

/*
 *	mov esi, n
 * top:	test esi, esi
 *	jz end
 *	<body>
 *	dec esi
 *	jmp top
 * end:
 */
static void emit_loop(struct code *c, uint32_t n, const uint8_t *body,
		      size_t body_len)
{
	const uint8_t mov_esi[] = { 0x66, 0xbe, n & 0xff, (n >> 8) & 0xff,
				    (n >> 16) & 0xff, n >> 24 };
	const uint8_t test_jz[] = { 0x66, 0x85, 0xf6, 0x74, body_len + 4 };
	const uint8_t dec_jmp[] = { 0x66, 0x4e, 0xeb,
				    (uint8_t)-(int)(body_len + 9) };

	if (body_len > 64) {
		c->err = -EINVAL;
		return;
	}
	emit(c, mov_esi, sizeof(mov_esi));
	emit(c, test_jz, sizeof(test_jz));
	emit(c, body, body_len);
	emit(c, dec_jmp, sizeof(dec_jmp));
}

/* Tell the VMM the spin started, then wait for it to say stop. */
static void emit_spin(struct code *c)
{
	const uint8_t spin[] = {
		0xc6, 0x05, GUEST_STATE_SPINNING, /* mov byte [di], SPINNING */
		0x80, 0x3d, GUEST_STATE_STOP,	/* 1: cmp byte [di], STOP */
		0x75, 0xfb,			/* jne 1b */
	};

	emit(c, spin, sizeof(spin));
}

/* ICW1-4 (edge, cascade, base GUEST_TIMER_VECTOR, 8086), then mask all
 * but IRQ 0: port writes the in-kernel PIC takes, no exit to the VMM. */
static void emit_pic_init(struct code *c)
{
	const uint8_t init[] = {
		0xb0, 0x11, 0xe6, 0x20,			/* ICW1 */
		0xb0, GUEST_TIMER_VECTOR, 0xe6, 0x21,	/* ICW2 */
		0xb0, 0x04, 0xe6, 0x21,			/* ICW3 */
		0xb0, 0x01, 0xe6, 0x21,			/* ICW4 */
		0xb0, 0xfe, 0xe6, 0x21,			/* OCW1 */
		0x66, 0x31, 0xdb,			/* xor ebx, ebx */
	};

	emit(c, init, sizeof(init));
}

static int build_isr(uint8_t *buf, size_t size)
{
	static const uint8_t isr[] = { 0x50, 0xb0, 0x20, 0xe6, 0x20, 0x58,
				       0xcf };

	if (size < GUEST_ISR_OFF + sizeof(isr))
		return -ENOSPC;
	memcpy(buf + GUEST_ISR_OFF, isr, sizeof(isr));
	return 0;
}

/*
 * Write the guest program for @cfg into @buf (at most @size bytes; with
 * wake, the code must end before GUEST_ISR_OFF).
 */
int guest_build(uint8_t *buf, size_t size, const struct guest_cfg *cfg)
{
	static const uint8_t out_dx_al[] = { 0xee };
	static const uint8_t mov_es_al[] = { 0x26, 0xa2, 0x00, 0x00 };
	static const uint8_t cpuid_inc_ebp[] = { 0x66, 0x31, 0xc0, 0x0f, 0xa2,
						 0x66, 0x45 };
	static const uint8_t hlt[] = { 0xf4 };
	static const uint8_t started[] = { 0xc6, 0x05, GUEST_STATE_STARTED };
	static const uint8_t wait_irq[] = { 0xfb, 0xf4, 0xfa, 0x66, 0x43 };
	struct code c = { .buf = buf, .cap = size };

	if (cfg->wake) {
		c.err = build_isr(buf, size);
		c.cap = GUEST_ISR_OFF;
	}

	emit(&c, started, sizeof(started));		/* mov byte [di], STARTED */
	emit_imm16(&c, 0xba, cfg->port);		/* mov dx, port */
	emit_loop(&c, cfg->io, out_dx_al, sizeof(out_dx_al));
	emit_loop(&c, cfg->mmio, mov_es_al, sizeof(mov_es_al));
	emit_loop(&c, cfg->cpuid, cpuid_inc_ebp, sizeof(cpuid_inc_ebp));
	if (cfg->wake) {
		emit_pic_init(&c);
		emit_loop(&c, cfg->hlt, wait_irq, sizeof(wait_irq));
	} else {
		emit_loop(&c, cfg->hlt, hlt, sizeof(hlt));
	}
	if (cfg->spin)
		emit_spin(&c);
	emit_imm16(&c, 0xba, GUEST_DONE_PORT);		/* mov dx, done */
	emit(&c, out_dx_al, sizeof(out_dx_al));
	emit(&c, hlt, sizeof(hlt));
	return c.err;
}
