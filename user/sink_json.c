// SPDX-License-Identifier: GPL-2.0
/* The NDJSON sink: docs/output.md, schema 1. Everything goes through json-c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "user/jsonutil.h"
#include "user/metrics.h"
#include "user/sink.h"

#define KP_SCHEMA 1

int kp_sink_flush(FILE *f)
{
	int err = 0;

	if (fflush(f) || ferror(f)) {
		err = errno ? -errno : -EIO;
		clearerr(f);
	}
	return err;
}

static struct json_object *record(const char *type, const struct timespec *ts)
{
	struct json_object *o = json_object_new_object();
	char buf[40];

	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "schema", json_object_new_int(KP_SCHEMA));
	if (!kp_format_ts(ts, buf, sizeof(buf)))
		json_object_object_add(o, "ts", json_object_new_string(buf));
	return o;
}

static int emit(struct kp_sink *s, struct json_object *o)
{
	const char *line = kp_json_line(o);

	if (line) {
		fputs(line, s->out);
		fputc('\n', s->out);
	}
	json_object_put(o);
	return line ? 0 : -ENOMEM;
}

static struct json_object *probe_json(const struct kp_probe_status *p)
{
	struct json_object *o = json_object_new_object();
	struct json_object *progs = json_object_new_object();
	struct json_object *missing = json_object_new_object();
	size_t i;

	json_object_object_add(o, "name", json_object_new_string(p->name));
	json_object_object_add(o, "attached",
			       json_object_new_boolean(p->attached));
	if (!p->attached)
		json_object_object_add(o, "reason",
				       kp_json_string(p->reason));
	for (i = 0; i < p->nprogs; i++) {
		const struct kp_prog_status *ps = &p->progs[i];

		if (ps->how)
			json_object_object_add(progs, ps->name,
					       json_object_new_string(ps->how));
		else
			json_object_object_add(missing, ps->name,
					       kp_json_string(ps->reason));
	}
	json_object_object_add(o, "programs", progs);
	json_object_object_add(o, "missing", missing);
	return o;
}

static int json_start(struct kp_sink *s, const struct kp_start_info *info)
{
	struct json_object *o = record("start", &info->ts);
	struct json_object *pids, *probes;
	size_t i;

	json_object_object_add(o, "version",
			       json_object_new_string(info->version));
	json_object_object_add(o, "interval_s",
			       kp_json_fixed3(info->interval_s));
	pids = json_object_new_array();
	for (i = 0; i < info->npids; i++)
		json_object_array_add(pids, json_object_new_int64(info->pids[i]));
	json_object_object_add(o, "pid_filter", pids);
	probes = json_object_new_array();
	for (i = 0; i < info->nprobes; i++)
		json_object_array_add(probes, probe_json(&info->probes[i]));
	json_object_object_add(o, "probes", probes);
	emit(s, o);
	return kp_sink_flush(s->out);
}

/*
 * Add to o, for every metric of the registry present in set (and, when
 * vcpu_only, recorded per vCPU), an object {label: value or HIST}.
 */
static void add_metrics(struct json_object *o, const struct kp_sample_set *set,
			bool vcpu_only)
{
	const struct kp_metric_desc *d;
	struct json_object *m;
	size_t i;
	int id;

	for (id = 0; id < KP_M__COUNT; id++) {
		d = kp_metric(id);
		if (vcpu_only && d->scope != KP_SCOPE_VCPU)
			continue;
		m = NULL;
		for (i = kp_sample_first(set, id);
		     i < set->n && set->v[i].metric == (enum kp_metric_id)id;
		     i++) {
			const struct kp_sample *p = &set->v[i];

			if (!m)
				m = json_object_new_object();
			json_object_object_add(m, p->label,
					       p->hist ? kp_json_hist(p->hist) :
					       json_object_new_uint64(p->value));
		}
		if (m)
			json_object_object_add(o, d->json, m);
	}
}

static struct json_object *vm_identity(const struct kp_vm_rec *vm)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "pid", json_object_new_int64(vm->pid));
	json_object_object_add(o, "name", kp_json_string(vm->name));
	json_object_object_add(o, "uuid", kp_json_string(vm->uuid));
	json_object_object_add(o, "comm",
			       vm->comm[0] ? kp_json_string(vm->comm) : NULL);
	return o;
}

static int vm_record(struct kp_sink *s, const struct kp_interval *iv,
		     const struct kp_vm_rec *vm)
{
	struct json_object *o = record("vm", &iv->ts), *vcpus, *v;
	size_t i;

	json_object_object_add(o, "interval_s",
			       kp_json_fixed3(iv->interval_s));
	json_object_object_add(o, "vm", vm_identity(vm));
	vcpus = json_object_new_array();
	for (i = 0; i < vm->nvcpus; i++) {
		const struct kp_vcpu_rec *vc = &vm->vcpus[i];

		v = json_object_new_object();
		json_object_object_add(v, "index", vc->index < 0 ? NULL :
				       json_object_new_int(vc->index));
		json_object_object_add(v, "tid", json_object_new_int64(vc->tid));
		add_metrics(v, &vc->s, true);
		json_object_array_add(vcpus, v);
	}
	add_metrics(o, &vm->s, false);
	json_object_object_add(o, "vcpus", vcpus);
	return emit(s, o);
}

static int json_interval(struct kp_sink *s, const struct kp_interval *iv)
{
	struct json_object *o, *lost;
	size_t i;

	for (i = 0; i < iv->nvms; i++)
		vm_record(s, iv, &iv->vms[i]);
	o = record("interval", &iv->ts);
	json_object_object_add(o, "interval_s",
			       kp_json_fixed3(iv->interval_s));
	json_object_object_add(o, "vms", json_object_new_int64(iv->nvms));
	lost = json_object_new_object();
	for (i = 0; i < iv->nlost; i++)
		json_object_object_add(lost, iv->lost[i].probe,
				       json_object_new_uint64(iv->lost[i].n));
	json_object_object_add(o, "lost", lost);
	emit(s, o);
	return kp_sink_flush(s->out);
}

static int json_stop(struct kp_sink *s, const struct kp_stop_info *info)
{
	struct json_object *o = record("stop", &info->ts);

	json_object_object_add(o, "intervals",
			       json_object_new_uint64(info->intervals));
	json_object_object_add(o, "reason",
			       json_object_new_string(info->reason));
	emit(s, o);
	return kp_sink_flush(s->out);
}

void kp_sink_json_init(struct kp_sink *s, FILE *out, const struct kp_opts *o)
{
	memset(s, 0, sizeof(*s));
	s->name = "json";
	s->start = json_start;
	s->interval = json_interval;
	s->stop = json_stop;
	s->out = out;
	s->opts = o;
}
