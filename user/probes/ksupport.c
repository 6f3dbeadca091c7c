// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "user/probes/ksupport.h"

/* Modules whose BTF may hold KVM types on a distribution kernel. */
static const char *const kvm_modules[] = { "kvm", "kvm_amd", "kvm_intel" };
#define NMODS (sizeof(kvm_modules) / sizeof(kvm_modules[0]))

struct kp_ksupport {
	struct btf *vmlinux;
	struct btf *mods[NMODS];
	bool loaded;
};

struct kp_ksupport *kp_ksupport_new(void)
{
	return calloc(1, sizeof(struct kp_ksupport));
}

void kp_ksupport_free(struct kp_ksupport *ks)
{
	size_t i;

	if (!ks)
		return;
	for (i = 0; i < NMODS; i++)
		btf__free(ks->mods[i]);
	btf__free(ks->vmlinux);
	free(ks);
}

static void load(struct kp_ksupport *ks)
{
	char path[64];
	size_t i;

	if (ks->loaded)
		return;
	ks->loaded = true;
	ks->vmlinux = btf__load_vmlinux_btf();
	if (!ks->vmlinux) {
		ks->vmlinux = NULL;
		return;
	}
	for (i = 0; i < NMODS; i++) {
		snprintf(path, sizeof(path), "/sys/kernel/btf/%s",
			 kvm_modules[i]);
		if (access(path, R_OK))
			continue; /* built in, or not loaded */
		ks->mods[i] = btf__parse_split(path, ks->vmlinux);
		if (!ks->mods[i])
			ks->mods[i] = NULL;
	}
}

bool kp_ksupport_has_vmlinux_btf(struct kp_ksupport *ks)
{
	load(ks);
	return ks->vmlinux != NULL;
}

const struct btf *kp_ksupport_vmlinux_btf(struct kp_ksupport *ks)
{
	load(ks);
	return ks->vmlinux;
}

bool kp_ksupport_btf_has(struct kp_ksupport *ks, const char *name, int kind)
{
	size_t i;

	load(ks);
	if (!ks->vmlinux)
		return false;
	if (btf__find_by_name_kind(ks->vmlinux, name, kind) > 0)
		return true;
	for (i = 0; i < NMODS; i++)
		if (ks->mods[i] &&
		    btf__find_by_name_kind(ks->mods[i], name, kind) > 0)
			return true;
	return false;
}

bool kp_ksupport_btf_member(struct kp_ksupport *ks, const char *type,
			    const char *member)
{
	const struct btf_member *m;
	const struct btf_type *t;
	int id, i;

	load(ks);
	if (!ks->vmlinux)
		return false;
	id = btf__find_by_name_kind(ks->vmlinux, type, BTF_KIND_STRUCT);
	if (id <= 0)
		return false;
	t = btf__type_by_id(ks->vmlinux, id);
	m = btf_members(t);
	for (i = 0; i < btf_vlen(t); i++, m++)
		if (!strcmp(btf__name_by_offset(ks->vmlinux, m->name_off),
			    member))
			return true;
	return false;
}

int kp_ksupport_tracefs_event(const char *category, const char *name)
{
	static const char *const roots[] = { "/sys/kernel/tracing",
					     "/sys/kernel/debug/tracing" };
	char path[256];
	bool mounted = false;
	size_t i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/events", roots[i]);
		if (access(path, F_OK))
			continue;
		mounted = true;
		snprintf(path, sizeof(path), "%s/events/%s/%s/id", roots[i],
			 category, name);
		if (!access(path, F_OK))
			return 0;
	}
	return mounted ? -ENOENT : -ENODEV;
}
