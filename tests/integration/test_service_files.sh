#!/bin/bash
# The files in tools/service are valid: Prometheus rules pass promtool,
# every metric the rules and the Grafana dashboard query is one kvmprobe
# exports (from the registry), the example config loads, the unit parses.
. "$(dirname "$0")/lib.sh"
[ -x "$KVMPROBE" ] || skip "build first: make"
command -v promtool >/dev/null || skip "promtool not installed (make deps)"
S=$TOP/tools/service

promtool check rules "$S/kvmprobe.rules.yml" >"$TMP/rules.out" 2>&1 &&
	ok "promtool check rules accepts kvmprobe.rules.yml" ||
	not_ok "promtool: $(cat "$TMP/rules.out")"
jq -e . "$S/grafana-dashboard.json" >/dev/null && ok "the dashboard is valid JSON" ||
	not_ok "the dashboard is not valid JSON"

"$KVMPROBE" --list-metrics | sed -n 's/^| `[^`]*` | `\([a-z_]*\)`.*/\1/p' >"$TMP/names"
printf '%s\n' kvmprobe_lost_events_total kvmprobe_records_dropped_total >>"$TMP/names"
for f in kvmprobe.rules.yml grafana-dashboard.json; do
	for m in $(grep -o 'kvmprobe_[a-z_]*' "$S/$f" | sed 's/_\(bucket\|sum\|count\)$//' | sort -u); do
		grep -qx "$m" "$TMP/names" && ok "$f: $m is exported" ||
			not_ok "$f: $m is not a kvmprobe metric"
	done
done

# the example config parses (run with --help: it exits after loading)
sed 's#/var/log/kvmprobe/kvmprobe.ndjson#'"$TMP"'/x.ndjson#' "$S/kvmprobe.conf.example" >"$TMP/ex.conf"
"$KVMPROBE" --config "$TMP/ex.conf" --help >/dev/null 2>"$TMP/err"
check_eq "the example config loads" "0 " "$? $(cat "$TMP/err")"
if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify "$S/kvmprobe.service" >"$TMP/sa" 2>&1 &&
		ok "systemd-analyze verify accepts the unit" ||
		echo "# systemd-analyze: $(head -3 "$TMP/sa")"
fi
grep -q 'kp_kept' "$TOP/user/service/privs.c" && for cap in CAP_BPF CAP_PERFMON CAP_SYS_PTRACE CAP_DAC_READ_SEARCH; do
	grep -q "CapabilityBoundingSet=.*$cap" "$S/kvmprobe.service" &&
		ok "the unit's bounding set keeps $cap" || not_ok "the unit drops $cap"
done
finish
