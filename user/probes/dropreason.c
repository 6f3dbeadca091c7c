// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>
#include "user/probes/dropreason.h"

#define PREFIX "SKB_DROP_REASON_"

static void set_name(struct kp_dropreasons *t, int64_t value, const char *name)
{
	size_t plen = strlen(PREFIX);

	if (value < 0 || (uint64_t)value >= t->n || !name)
		return;
	if (!strncmp(name, PREFIX, plen) && name[plen])
		name += plen;
	snprintf(t->names[value], KP_DROPREASON_NAME_MAX, "%s", name);
}

int kp_dropreasons_load(struct kp_dropreasons *t, const struct btf *btf)
{
	const struct btf_type *type;
	const struct btf_enum64 *e64;
	const struct btf_enum *e;
	int id;
	__u16 i, vlen;

	memset(t, 0, sizeof(*t));
	id = btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM);
	if (id < 0)
		id = btf__find_by_name_kind(btf, "skb_drop_reason",
					    BTF_KIND_ENUM64);
	if (id < 0)
		return -ENOENT;
	type = btf__type_by_id(btf, id);
	t->names = calloc(KP_DROPREASON_MAX, sizeof(*t->names));
	if (!t->names)
		return -ENOMEM;
	t->n = KP_DROPREASON_MAX;
	vlen = btf_vlen(type);
	if (btf_is_enum(type)) {
		e = btf_enum(type);
		for (i = 0; i < vlen; i++, e++)
			set_name(t, btf_kflag(type) ? (int64_t)e->val :
				 (int64_t)(uint32_t)e->val,
				 btf__name_by_offset(btf, e->name_off));
	} else {
		e64 = btf_enum64(type);
		for (i = 0; i < vlen; i++, e64++)
			set_name(t, (int64_t)btf_enum64_value(e64),
				 btf__name_by_offset(btf, e64->name_off));
	}
	return 0;
}

const char *kp_dropreason_name(const struct kp_dropreasons *t, uint32_t reason,
			       char *buf, size_t len)
{
	if (t && reason < t->n && t->names[reason][0])
		return t->names[reason];
	snprintf(buf, len, "0x%x", reason);
	return buf;
}

void kp_dropreasons_free(struct kp_dropreasons *t)
{
	free(t->names);
	memset(t, 0, sizeof(*t));
}
