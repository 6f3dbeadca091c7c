// SPDX-License-Identifier: GPL-2.0
/*
 * kp-iddump: run the resolver (libvirt and /proc) for a while, then print
 * its identity table as one JSON line: what the later I/O probes will see
 * through kp_resolver_table(). For the integration tests.
 *
 * usage: kp-iddump [SECONDS [URI]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "user/core/jsonutil.h"
#include "user/identity/resolve.h"

static const char *const mem_names[KP_MEM__COUNT] = {
	"balloon_current", "balloon_max", "rss", "swap_in", "swap_out",
	"major_faults",
};

static struct json_object *ident_json(const struct kp_ident *id)
{
	static const char *const sources[] = { "none", "proc", "libvirt" };
	struct json_object *o = json_object_new_object(), *a, *e;
	size_t i;

	json_object_object_add(o, "pid", json_object_new_int64(id->pid));
	json_object_object_add(o, "start_time",
			       json_object_new_uint64(id->start_time));
	json_object_object_add(o, "source",
			       json_object_new_string(sources[id->source]));
	json_object_object_add(o, "name", kp_json_string(id->name));
	json_object_object_add(o, "uuid", kp_json_string(id->uuid));
	json_object_object_add(o, "dom_id", json_object_new_int(id->dom_id));
	json_object_object_add(o, "dom_state",
			       json_object_new_int(id->dom_state));
	json_object_object_add(o, "gone", json_object_new_boolean(id->gone));
	a = json_object_new_array();
	for (i = 0; i < id->nthreads; i++) {
		e = json_object_new_object();
		json_object_object_add(e, "tid",
				       json_object_new_int64(id->threads[i].tid));
		json_object_object_add(e, "kind", json_object_new_string(
			kp_thread_kind_name(id->threads[i].kind)));
		json_object_object_add(e, "index",
				       json_object_new_int(id->threads[i].index));
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "threads", a);
	a = json_object_new_array();
	for (i = 0; i < id->ndisks; i++) {
		e = json_object_new_object();
		json_object_object_add(e, "target",
				       kp_json_string(id->disks[i].target));
		json_object_object_add(e, "source",
				       kp_json_string(id->disks[i].source));
		json_object_object_add(e, "devno",
				       json_object_new_uint64(id->disks[i].devno));
		json_object_object_add(e, "block",
				       json_object_new_boolean(id->disks[i].block));
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "disks", a);
	a = json_object_new_array();
	for (i = 0; i < id->nnics; i++) {
		e = json_object_new_object();
		json_object_object_add(e, "ifname",
				       kp_json_string(id->nics[i].ifname));
		json_object_object_add(e, "ifindex",
				       json_object_new_int64(id->nics[i].ifindex));
		json_object_object_add(e, "in_xml",
				       json_object_new_boolean(id->nics[i].in_xml));
		json_object_object_add(e, "held",
				       json_object_new_boolean(id->nics[i].held));
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "nics", a);
	a = json_object_new_object();
	for (i = 0; i < KP_MEM__COUNT; i++)
		if (id->mem.known & (1u << i))
			json_object_object_add(a, mem_names[i],
					       json_object_new_uint64(id->mem.v[i]));
	json_object_object_add(o, "mem", a);
	return o;
}

int main(int argc, char **argv)
{
	struct kp_resolver_config cfg = {
		.proc_root = "/proc",
		.libvirt_uri = argc > 2 ? argv[2] : "qemu:///system",
		.libvirt_run_dir = "/run/libvirt/qemu",
	};
	struct kp_resolver *r = kp_resolver_new(&cfg);
	struct json_object *a;
	struct kp_idtable *t;
	size_t i;

	if (!r || kp_resolver_start(r)) {
		fprintf(stderr, "kp-iddump: failed to start the resolver\n");
		return 1;
	}
	usleep((argc > 1 ? atof(argv[1]) : 2) * 1e6);
	t = kp_resolver_table(r);
	a = json_object_new_array();
	for (i = 0; i < kp_idtable_count(t); i++)
		json_object_array_add(a, ident_json(kp_idtable_at(t, i)));
	puts(kp_json_line(a));
	json_object_put(a);
	kp_idtable_put(t);
	kp_resolver_free(r);
	return 0;
}
