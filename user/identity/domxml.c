// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include "user/identity/domxml.h"

static bool is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE &&
	       !strcmp((const char *)n->name, name);
}

static const xmlNode *child(const xmlNode *n, const char *name)
{
	for (n = n->children; n; n = n->next)
		if (is(n, name))
			return n;
	return NULL;
}

/* A strdup'd attribute, or NULL (absent or out of memory: *oom set). */
static char *attr(const xmlNode *n, const char *name, bool *oom)
{
	xmlChar *v;
	char *s;

	if (!n)
		return NULL;
	v = xmlGetProp(n, (const xmlChar *)name);
	if (!v)
		return NULL;
	s = strdup((const char *)v);
	xmlFree(v);
	if (!s)
		*oom = true;
	return s;
}

static char *text(const xmlNode *n, bool *oom)
{
	xmlChar *v;
	char *s;

	if (!n)
		return NULL;
	v = xmlNodeGetContent(n);
	if (!v)
		return NULL;
	s = strdup((const char *)v);
	xmlFree(v);
	if (!s)
		*oom = true;
	return s;
}

static unsigned int uint_text(const xmlNode *n)
{
	unsigned long v;
	xmlChar *s;
	char *end;

	if (!n)
		return 0;
	s = xmlNodeGetContent(n);
	if (!s)
		return 0;
	v = strtoul((const char *)s, &end, 10);
	if (*end || v > UINT_MAX)
		v = 0;
	xmlFree(s);
	return v;
}

/* <source file|dev|name|volume|dir=...>, in libvirt's per-type order */
static char *disk_source(const xmlNode *src, bool *oom)
{
	static const char *const keys[] = { "file", "dev", "name", "volume",
					    "dir" };
	size_t i;
	char *s;

	for (i = 0; src && i < sizeof(keys) / sizeof(keys[0]); i++) {
		s = attr(src, keys[i], oom);
		if (s)
			return s;
	}
	return NULL;
}

/*
 * A new zeroed element at the end of the list *arr (*n used of *cap,
 * elements of size bytes), in *slot; *slot is NULL when the list already
 * holds KP_DOMXML_MAX (the rest of the domain is not described). 0 or
 * -ENOMEM.
 */
static int append(void **arr, size_t *n, size_t *cap, size_t size,
		  void **slot)
{
	void *v;

	*slot = NULL;
	if (*n == KP_DOMXML_MAX)
		return 0;
	if (*n == *cap) {
		v = realloc(*arr, (*cap ? *cap * 2 : 4) * size);
		if (!v)
			return -ENOMEM;
		*arr = v;
		*cap = *cap ? *cap * 2 : 4;
	}
	*slot = (char *)*arr + (*n)++ * size;
	memset(*slot, 0, size);
	return 0;
}

static int add_disk(struct kp_domxml *d, const xmlNode *n, size_t *cap)
{
	struct kp_dom_disk *k;
	bool oom = false;
	int err;

	err = append((void **)&d->disks, &d->ndisks, cap, sizeof(*k),
		     (void **)&k);
	if (err || !k)
		return err;
	k->target = attr(child(n, "target"), "dev", &oom);
	k->type = attr(n, "type", &oom);
	k->device = attr(n, "device", &oom);
	k->source = disk_source(child(n, "source"), &oom);
	return oom ? -ENOMEM : 0;
}

static int add_nic(struct kp_domxml *d, const xmlNode *n, size_t *cap)
{
	struct kp_dom_nic *k;
	bool oom = false;
	int err;

	err = append((void **)&d->nics, &d->nnics, cap, sizeof(*k),
		     (void **)&k);
	if (err || !k)
		return err;
	k->target = attr(child(n, "target"), "dev", &oom);
	k->type = attr(n, "type", &oom);
	k->mac = attr(child(n, "mac"), "address", &oom);
	return oom ? -ENOMEM : 0;
}

static int parse_devices(struct kp_domxml *d, const xmlNode *devs)
{
	size_t dcap = 0, ncap = 0;
	const xmlNode *n;
	int err = 0;

	for (n = devs ? devs->children : NULL; n && !err; n = n->next) {
		if (is(n, "disk"))
			err = add_disk(d, n, &dcap);
		else if (is(n, "interface"))
			err = add_nic(d, n, &ncap);
	}
	return err;
}

static int parse_domain(struct kp_domxml *d, const xmlNode *root)
{
	bool oom = false;
	char *id, *end;
	long v;
	size_t i;

	if (!root || !is(root, "domain"))
		return -EINVAL;
	d->name = text(child(root, "name"), &oom);
	d->uuid = text(child(root, "uuid"), &oom);
	if (oom)
		return -ENOMEM;
	if (!d->name || !*d->name)
		return -EINVAL;
	for (i = 0; d->uuid && d->uuid[i]; i++)
		d->uuid[i] = tolower((unsigned char)d->uuid[i]);
	id = attr(root, "id", &oom);
	if (id) {
		v = strtol(id, &end, 10);
		if (!*end && v >= 0 && v <= INT_MAX)
			d->id = v;
		free(id);
	}
	d->vcpus = uint_text(child(root, "vcpu"));
	d->iothreads = uint_text(child(root, "iothreads"));
	if (oom)
		return -ENOMEM;
	return parse_devices(d, child(root, "devices"));
}

int kp_domxml_parse(const char *xml, size_t len, struct kp_domxml *d)
{
	const xmlNode *root;
	xmlDoc *doc;
	int err;

	memset(d, 0, sizeof(*d));
	d->id = -1;
	if (len > INT_MAX)
		return -EINVAL;
	doc = xmlReadMemory(xml, len, "domain.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR |
			    XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS);
	if (!doc)
		return -EINVAL;
	root = xmlDocGetRootElement(doc);
	/* libvirt's status file (/run/libvirt/qemu/<name>.xml) wraps the
	 * live domain in <domstatus> */
	if (root && is(root, "domstatus"))
		root = child(root, "domain");
	err = parse_domain(d, root);
	xmlFreeDoc(doc);
	if (err)
		kp_domxml_free(d);
	return err;
}

void kp_domxml_free(struct kp_domxml *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->ndisks; i++) {
		free(d->disks[i].target);
		free(d->disks[i].type);
		free(d->disks[i].device);
		free(d->disks[i].source);
	}
	for (i = 0; i < d->nnics; i++) {
		free(d->nics[i].target);
		free(d->nics[i].type);
		free(d->nics[i].mac);
	}
	free(d->disks);
	free(d->nics);
	free(d->name);
	free(d->uuid);
	memset(d, 0, sizeof(*d));
	d->id = -1;
}
