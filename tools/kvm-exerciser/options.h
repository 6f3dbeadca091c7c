/* Command line of kvm-exerciser. */
#ifndef KVM_EXERCISER_OPTIONS_H
#define KVM_EXERCISER_OPTIONS_H

#include "guest.h"

#define PROG "kvm-exerciser"
#define EXIT_USAGE 2

struct options {
	unsigned int vcpus;
	struct guest_cfg guest;
	double spin_s;
	double delay_s;
	double hlt_sleep_s;		/* sleep after each HLT exit */
	double hlt_wake_s;		/* in-kernel halts: timer period */
	double io_sleep_s;		/* each OUT's handler sleeps, or */
	double io_spin_s;		/* spins on its thread's CPU clock */
	int pin;			/* -1: no pinning */
	const char *name;
};

int parse_args(int argc, char **argv, struct options *o);

#endif
