/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A libvirt domain XML (virDomainGetXMLDesc) reduced to what kvmprobe
 * attributes I/O with: identity, disks (target, source) and network
 * interfaces (target tap). Parsed with libxml2; pure: no I/O.
 */
#ifndef KP_DOMXML_H
#define KP_DOMXML_H

#include <stddef.h>

#define KP_DOMXML_MAX 256 /* disks and interfaces kept per domain */

struct kp_dom_disk {
	char *target;  /* "vda" */
	char *type;    /* "file", "block", "network", "volume", ... */
	char *device;  /* "disk", "cdrom", "floppy", "lun" */
	char *source;  /* file or dev path, network name; NULL when empty */
};

struct kp_dom_nic {
	char *target;  /* the host tap device, "vnet0"; NULL when unknown */
	char *type;    /* "network", "bridge", "ethernet", ... */
	char *mac;
};

struct kp_domxml {
	char *name;
	char *uuid;          /* lowercase */
	int id;              /* -1 when not running */
	unsigned int vcpus;
	unsigned int iothreads;
	struct kp_dom_disk *disks;
	size_t ndisks;
	struct kp_dom_nic *nics;
	size_t nnics;
};

/*
 * Parse len bytes of XML into d: a <domain>, or libvirt's status file
 * (<domstatus> holding the running <domain>). 0, -EINVAL (not a domain)
 * or -ENOMEM.
 */
int kp_domxml_parse(const char *xml, size_t len, struct kp_domxml *d);
/* Free what d holds (d itself is the caller's); accepts a zeroed d. */
void kp_domxml_free(struct kp_domxml *d);

#endif /* KP_DOMXML_H */
