/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The libvirt backend of the resolver. It owns every libvirt call: its own
 * threads connect read-only, follow lifecycle events, list the domains with
 * their state and balloon stats, read each running domain's XML, and
 * publish the result as an immutable view. Nothing here blocks a caller:
 * the view and the status are read under a mutex held only to copy them.
 *
 * Lost connections are retried with backoff (1 s doubling to 30 s); a
 * libvirt call that does not return is visible in the status (busy_s), for
 * the caller's watchdog.
 */
#ifndef KP_VIRT_H
#define KP_VIRT_H

#include <stdbool.h>
#include <stddef.h>
#include <net/if.h>
#include "user/identity/idtable.h"

struct kp_virt_dom {
	char *name;
	char uuid[KP_UUID_STR_LEN + 1];    /* lowercase */
	int id;                            /* -1 when not running */
	int state;                         /* virDomainState */
	struct kp_ident_disk *disks;       /* running domains, from the XML */
	size_t ndisks;
	char (*nics)[IF_NAMESIZE];         /* target tap devices */
	size_t nnics;
	struct kp_mem mem;
};

struct kp_virt_view {
	int refs;
	struct kp_virt_dom *v;
	size_t n;
};

struct kp_virt_status {
	bool connected;      /* connected, and the view is current */
	bool tried;          /* a connection attempt has finished */
	double busy_s;       /* how long the current call has run, 0: idle */
	char error[192];     /* why it is not connected */
};

struct kp_virt;

/*
 * Start the backend for uri; notify(arg) is called (from a backend thread,
 * without locks held) whenever a new view or status is published.
 * NULL on failure (errno set).
 */
struct kp_virt *kp_virt_start(const char *uri, void (*notify)(void *),
			      void *arg);
/* Stop the threads (not waiting long for a stuck call) and free v. */
void kp_virt_stop(struct kp_virt *v);

void kp_virt_status(struct kp_virt *v, struct kp_virt_status *st);
/* The latest view, referenced (NULL before the first); put it back. */
struct kp_virt_view *kp_virt_view_get(struct kp_virt *v);
void kp_virt_view_put(struct kp_virt_view *view);

#endif /* KP_VIRT_H */
