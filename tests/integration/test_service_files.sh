#!/bin/bash
# The files in tools/service are valid: Prometheus rules pass promtool,
# every metric the rules and the Grafana dashboard query is one kvmprobe
# exports (from the registry), the example config loads, the unit parses.
. "$(dirname "$0")/lib.sh"
[ -x "$KVMPROBE" ] || skip "build first: make"
command -v promtool >/dev/null || skip "promtool not installed (make deps)"
command -v systemd-analyze >/dev/null ||
	skip "systemd-analyze not installed (make deps: package systemd)"
S=$TOP/tools/service

promtool check rules "$S/kvmprobe.rules.yml" >"$TMP/rules.out" 2>&1 &&
	ok "promtool check rules accepts kvmprobe.rules.yml" ||
	not_ok "promtool: $(cat "$TMP/rules.out")"
jq -e . "$S/grafana-dashboard.json" >/dev/null && ok "the dashboard is valid JSON" ||
	not_ok "the dashboard is not valid JSON"

# every name of the Prometheus column (a histogram may have its total's
# counter beside it)
"$KVMPROBE" --list-metrics | awk -F' [|] ' '/^[|] `/ { print $2 }' |
	grep -o 'kvmprobe_[a-z_]*' >"$TMP/names"
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
# the unit as installed, but starting the kvmprobe just built: verify also
# checks that ExecStart is an executable. It exits 0 on settings it
# ignores ("Failed to parse ..., ignoring", unknown keys): any output fails.
sed 's#^ExecStart=/usr/local/sbin/kvmprobe #ExecStart='"$KVMPROBE"' #' \
	"$S/kvmprobe.service" >"$TMP/kvmprobe.service"
grep -q "^ExecStart=$KVMPROBE " "$TMP/kvmprobe.service" ||
	not_ok "the unit's ExecStart is not /usr/local/sbin/kvmprobe --config ..."
if systemd-analyze verify "$TMP/kvmprobe.service" >"$TMP/sa" 2>&1 && [ ! -s "$TMP/sa" ]; then
	ok "systemd-analyze verify accepts the unit without a warning"
else
	not_ok "systemd-analyze verify: $(head -5 "$TMP/sa")"
fi
# the capabilities kvmprobe keeps after its drop (README, "Least
# privilege": the kept[] array of user/service/privs.c) must survive the
# unit's bounding set
kept=$(sed -n '/^static const cap_value_t kept\[\] = {/,/^};/p' "$TOP/user/service/privs.c" |
	grep -o 'CAP_[A-Z_]*' | sort -u)
[ "$(echo $kept)" = "CAP_BPF CAP_DAC_READ_SEARCH CAP_PERFMON CAP_SYS_PTRACE" ] &&
	ok "privs.c keeps the capabilities README names" ||
	not_ok "privs.c keeps '$(echo $kept)', README names CAP_BPF CAP_PERFMON CAP_SYS_PTRACE CAP_DAC_READ_SEARCH"
for cap in $kept; do
	grep -q "^CapabilityBoundingSet=.*\<$cap\>" "$S/kvmprobe.service" &&
		ok "the unit's bounding set keeps $cap" || not_ok "the unit drops $cap"
done
finish
