#!/bin/bash
# libvirtd goes away mid-run, then hangs: records keep flowing with the
# names /proc and cgroups give, each change is one notice record (written
# before the first record resolved in the new state), and the full libvirt
# identity (with the balloon figures) returns afterwards.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/libvirt_lib.sh"
require_root
require_kvm
require_bins
require_libvirt

A="kp fallback \"q\" ü $$"
JQ_SECS='def secs: (.[0:19] + "Z" | fromdateiso8601) + (.[20:23] | tonumber / 1000);'

lv_create "$A" 1 || { not_ok "domain '$A' starts"; finish; }
APID=$(lv_qemu_pid "$A")
AUUID=$(lv_uuid "$A")
start_probe "$TMP/kp.json" -i 0.5 || exit 1
sleep 2

# 1. libvirtd stops, then comes back
T_STOP=$(now_s)
lv_stop_daemon libvirtd
sleep 3
T_BACK=$(now_s)
lv_start_libvirtd || { not_ok "libvirtd restarts"; finish; }
# the backoff after 3 s down is at most 4 s
sleep 6

# 2. libvirtd hangs (SIGSTOP): the watchdog takes over, then it resumes
LVPID=$(lv_daemon_pid libvirtd)
T_HANG=$(now_s)
kill -STOP "$LVPID"
sleep 7
kill -CONT "$LVPID"
T_CONT=$(now_s)
sleep 4
stop_probe

jq -c 'select(.type == "notice")' "$TMP/kp.json" >"$TMP/notices"
cat "$TMP/notices"
check_eq "notices: unavailable, available, unavailable, available" \
	"unavailable,available,unavailable,available" \
	"$(jq -rs 'map(.state) | join(",")' "$TMP/notices")"
check_eq "every notice is from source libvirt, with a message" true \
	"$(jq -s 'all(.source == "libvirt" and (.message | length) > 0 and .schema == 1)' "$TMP/notices")"
check_eq "the hang is reported as a stuck call" true \
	"$(jq -rs '.[2].message | test("has not returned")' "$TMP/notices")"

# records flow in every full interval of the run, each with the exact name
# (the last, cut short by SIGINT, may see no exit)
check_eq "a record of the domain in every full interval (SeaBIOS keeps exiting)" "[]" \
	"$(jq -cs --argjson p "$APID" '[.[] | select(.type == "vm" and .vm.pid == $p) | .ts] as $vm
		| [.[] | select(.type == "interval") | .ts][:-1] - $vm' "$TMP/kp.json")"
check_eq "every record names the domain exactly, libvirtd down or not" "$A" \
	"$(jq -rs --argjson p "$APID" '[.[] | select(.type == "vm" and .vm.pid == $p) | .vm.name] | unique | map(tostring) | join("|")' "$TMP/kp.json")"
check_eq "every record carries its UUID" "$AUUID" \
	"$(jq -rs --argjson p "$APID" '[.[] | select(.type == "vm" and .vm.pid == $p) | .vm.uuid] | unique | map(tostring) | join("|")' "$TMP/kp.json")"

# records after an "unavailable" notice are named from the fallback: no
# balloon figures; after "available" they come from libvirt again (a
# restarted libvirtd may take a moment to reach QEMU's monitor: the last
# record of the phase has them). Phases follow the order of the stream.
jq -s --argjson p "$APID" '
	reduce .[] as $r ({phase: 0, mem: [[], [], [], [], []]};
		if $r.type == "notice" then .phase += 1
		elif $r.type == "vm" and $r.vm.pid == $p then
			.mem[.phase] += [$r.memory != null]
		else . end)
	| .mem
	| {down1: .[1] | unique, up1: .[2][-1:], down2: .[3] | unique,
	   up2: .[4][-1:]}' "$TMP/kp.json" >"$TMP/phases"
jq -c . "$TMP/phases"
check_eq "libvirtd stopped: records named from /proc (no balloon)" "[false]" \
	"$(jq -c .down1 "$TMP/phases")"
check_eq "libvirtd back: names and balloon from libvirt again" "[true]" \
	"$(jq -c .up1 "$TMP/phases")"
check_eq "libvirtd hung: records named from /proc" "[false]" \
	"$(jq -c .down2 "$TMP/phases")"
check_eq "libvirtd resumed: names and balloon from libvirt again" "[true]" \
	"$(jq -c .up2 "$TMP/phases")"

lat=$(jq -rs --argjson t "$T_STOP" "$JQ_SECS"'[.[] | select(.type == "notice")][0].ts | secs - $t' "$TMP/kp.json")
echo "# libvirtd stopped: notice after $lat s"
lat=$(jq -rs --argjson t "$T_BACK" "$JQ_SECS"'[.[] | select(.type == "notice")][1].ts | secs - $t' "$TMP/kp.json")
echo "# libvirtd restarted: available again after $lat s"
lat=$(jq -rs --argjson t "$T_HANG" "$JQ_SECS"'[.[] | select(.type == "notice")][2].ts | secs - $t' "$TMP/kp.json")
echo "# libvirtd hung: notice after $lat s"
check_eq "a hung libvirtd is noticed within 5 s (watchdog 3 s)" 1 \
	"$(awk -v l="$lat" 'BEGIN { print (l <= 5.0) }')"
lat=$(jq -rs --argjson t "$T_CONT" "$JQ_SECS"'[.[] | select(.type == "notice")][3].ts | secs - $t' "$TMP/kp.json")
echo "# libvirtd resumed: available again after $lat s"

# the sampling path never waited for libvirt: intervals stayed on time
check_eq "no interval took longer than 0.6 s" true \
	"$(jq -s '[.[] | select(.type == "interval") | .interval_s] | max < 0.6' "$TMP/kp.json")"
finish
