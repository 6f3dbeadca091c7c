// SPDX-License-Identifier: GPL-2.0
/* libvirt's domain XML (virDomainGetXMLDesc), through libxml2. */
#include <libxml/parser.h>
#include "tests/fuzz/fuzz.h"
#include "user/identity/domxml.h"

static void quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct kp_domxml d;
	size_t i;

	if (!init) {
		xmlSetGenericErrorFunc(NULL, quiet);
		init = 1;
	}
	memset(&d, 0, sizeof(d));
	if (!kp_domxml_parse((const char *)data, size, &d)) {
		if (d.ndisks > KP_DOMXML_MAX || d.nnics > KP_DOMXML_MAX)
			abort(); /* the bound the reader promises */
		for (i = 0; i < d.ndisks; i++)
			if (d.disks[i].target)
				(void)strlen(d.disks[i].target);
		for (i = 0; i < d.nnics; i++)
			if (d.nics[i].target)
				(void)strlen(d.nics[i].target);
	}
	kp_domxml_free(&d);
	return 0;
}
