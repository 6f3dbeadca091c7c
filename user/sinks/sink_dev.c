// SPDX-License-Identifier: GPL-2.0
/* Device objects (disks, interfaces) for the JSON and text sinks. */
#include <stdio.h>
#include <string.h>
#include "user/core/hist.h"
#include "user/core/jsonutil.h"
#include "user/core/metrics.h"
#include "user/sinks/sink_dev.h"

/*
 * A device metric's group (its scope's: "disks") and its key inside a
 * device object ("disks.ios" -> "ios"); false when the JSON key does not
 * start with "group." (test_metrics checks that every one does).
 */
static bool split_key(const struct kp_metric_desc *d, const char **group,
		      const char **key)
{
	const struct kp_scope_desc *sc = kp_scope(d->scope);
	size_t n;

	if (!sc || !sc->group)
		return false;
	n = strlen(sc->group);
	if (strncmp(d->json, sc->group, n) || d->json[n] != '.')
		return false;
	*group = sc->group;
	*key = d->json + n + 1;
	return true;
}

static struct json_object *child(struct json_object *o, const char *key)
{
	struct json_object *c;

	if (json_object_object_get_ex(o, key, &c))
		return c;
	c = json_object_new_object();
	json_object_object_add(o, key, c);
	return c;
}

/* The INFO metrics of group start as null: "target":null. */
static struct json_object *new_device(const char *group, const char *dev)
{
	struct json_object *d = json_object_new_object();
	const char *g, *key;
	int id;

	json_object_object_add(d, "dev", kp_json_string(dev));
	for (id = 0; id < KP_M__COUNT; id++)
		if (kp_metric_is_dev(id) && kp_metric(id)->show == KP_SHOW_INFO &&
		    split_key(kp_metric(id), &g, &key) && !strcmp(g, group))
			json_object_object_add(d, key, NULL);
	return d;
}

/* The object of device dev in the array of group in o, created when new. */
static struct json_object *device(struct json_object *o, const char *group,
				  const char *dev)
{
	struct json_object *arr, *d, *name;
	size_t i, n;

	if (!json_object_object_get_ex(o, group, &arr)) {
		arr = json_object_new_array();
		json_object_object_add(o, group, arr);
	}
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		d = json_object_array_get_idx(arr, i);
		if (json_object_object_get_ex(d, "dev", &name) &&
		    !strcmp(json_object_get_string(name), dev))
			return d;
	}
	d = new_device(group, dev);
	json_object_array_add(arr, d);
	return d;
}

void kp_json_add_percentiles(struct json_object *o,
			     const struct kp_metric_desc *d,
			     const struct kp_hist *h)
{
	char k[64];

	if (!d->pct || !h)
		return;
	snprintf(k, sizeof(k), "%sp50_us", d->pct);
	json_object_object_add(o, k,
		kp_json_fixed3(kp_hist_percentile(h, 50) / 1e3));
	snprintf(k, sizeof(k), "%sp99_us", d->pct);
	json_object_object_add(o, k,
		kp_json_fixed3(kp_hist_percentile(h, 99) / 1e3));
}

static void add_value(struct json_object *o, const char *key,
		      const struct kp_metric_desc *d, const struct kp_sample *p)
{
	if (!p->hist) {
		json_object_object_add(o, key, json_object_new_uint64(p->value));
		return;
	}
	json_object_object_add(o, key, kp_json_hist(p->hist));
	kp_json_add_percentiles(o, d, p->hist);
}

void kp_json_add_devices(struct json_object *o,
			 const struct kp_sample_set *set)
{
	const struct kp_metric_desc *d;
	const struct kp_sample *p;
	struct json_object *dev;
	const char *group, *key;
	size_t i;

	for (i = 0; i < set->n; i++) {
		p = &set->v[i];
		d = kp_metric(p->metric);
		if (!kp_metric_is_dev(p->metric) || !p->dev[0] ||
		    !split_key(d, &group, &key))
			continue;
		dev = device(o, group, p->dev);
		if (d->show == KP_SHOW_INFO)
			json_object_object_add(dev, key, kp_json_string(p->label));
		else if (d->show == KP_SHOW_NEST)
			add_value(child(dev, p->label), key, d, p);
		else if (d->label)
			add_value(child(dev, key), p->label, d, p);
		else
			add_value(dev, key, d, p);
	}
}

/* Text */

static const struct kp_sample *find(const struct kp_sample_set *s,
				    enum kp_metric_id m, const char *dev,
				    const char *label)
{
	return kp_sample_find_dev(s, m, dev, label);
}

static double value_of(const struct kp_sample *p)
{
	return p ? (double)p->value : 0;
}

static double p99_us(const struct kp_sample *p)
{
	return p && p->hist ? kp_hist_percentile(p->hist, 99) / 1e3 : 0;
}

static const char *target_of(const struct kp_sample_set *s, const char *dev)
{
	size_t i = kp_sample_first(s, KP_M_DISK_TARGET);

	for (; i < s->n && s->v[i].metric == KP_M_DISK_TARGET; i++)
		if (!strcmp(s->v[i].dev, dev))
			return s->v[i].label;
	return "";
}

/* One line per (disk, op): the samples of KP_M_DISK_IOS from first on. */
static void disk_lines(FILE *f, const struct kp_sample_set *s, size_t first,
		       double secs)
{
	const struct kp_sample *p, *lat;
	bool new_dev;
	size_t i;

	for (i = first; i < s->n && s->v[i].metric == KP_M_DISK_IOS; i++) {
		p = &s->v[i];
		new_dev = i == first || strcmp(s->v[i - 1].dev, p->dev);
		lat = find(s, KP_M_DISK_LATENCY, p->dev, p->label);
		fprintf(f, "  disk  %-12s %-6s %-8s %9.0f IO/s %10.1f KB/s"
			"  p50 %8.1f us  p99 %8.1f us  (queue p99 %.1f us, device p99 %.1f us)\n",
			new_dev ? p->dev : "", new_dev ? target_of(s, p->dev) : "",
			p->label, value_of(p) / secs,
			value_of(find(s, KP_M_DISK_BYTES, p->dev, p->label)) /
				secs / 1024,
			lat && lat->hist ? kp_hist_percentile(lat->hist, 50) / 1e3 : 0,
			p99_us(lat),
			p99_us(find(s, KP_M_DISK_QUEUE, p->dev, p->label)),
			p99_us(find(s, KP_M_DISK_DEVICE, p->dev, p->label)));
	}
}

static void iface_line(FILE *f, const struct kp_sample_set *s,
		       const char *dev, double secs)
{
	const struct kp_sample *best = NULL;
	uint64_t drops = 0;
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (s->v[i].metric != KP_M_IF_DROPS || strcmp(s->v[i].dev, dev))
			continue;
		drops += s->v[i].value;
		if (!best || s->v[i].value > best->value)
			best = &s->v[i];
	}
	fprintf(f, "  iface %-12s rx %8.0f pkt/s %10.1f KB/s  delivery p99 %8.1f us"
		"  tx %8.0f pkt/s %10.1f KB/s  drops %llu%s%s%s\n", dev,
		value_of(find(s, KP_M_IF_PACKETS, dev, "rx")) / secs,
		value_of(find(s, KP_M_IF_BYTES, dev, "rx")) / secs / 1024,
		p99_us(find(s, KP_M_IF_DELIVERY, dev, "")),
		value_of(find(s, KP_M_IF_PACKETS, dev, "tx")) / secs,
		value_of(find(s, KP_M_IF_BYTES, dev, "tx")) / secs / 1024,
		(unsigned long long)drops, best ? " (most " : "",
		best ? best->label : "", best ? ")" : "");
}

void kp_text_devices(FILE *f, const struct kp_sample_set *set, double secs)
{
	size_t first = kp_sample_first(set, KP_M_DISK_IOS), i, j;
	const struct kp_sample *p;

	if (first < set->n)
		disk_lines(f, set, first, secs);
	/* one line per interface: at its first sample of any iface metric */
	for (i = 0; i < set->n; i++) {
		p = &set->v[i];
		if (kp_metric(p->metric)->scope != KP_SCOPE_IFACE)
			continue;
		for (j = 0; j < i; j++)
			if (kp_metric(set->v[j].metric)->scope == KP_SCOPE_IFACE &&
			    !strcmp(set->v[j].dev, p->dev))
				break;
		if (j == i)
			iface_line(f, set, p->dev, secs);
	}
}
