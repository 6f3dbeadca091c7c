#!/bin/bash
# A real libvirtd and real QEMU/KVM domains: records carry the exact domain
# name (quotes and non-ASCII included) and the UUID virsh prints, vCPU
# indexes match QEMU's own vCPU-to-thread map, the balloon figures are the
# domain's, a domain started mid-run is named within 2 s, and one that
# stops leaves no trace.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/libvirt_lib.sh"
require_root
require_kvm
require_bins
require_libvirt

A="kp \"test\" é $$"
B="kp-second-$$"
JQ_SECS='def secs: (.[0:19] + "Z" | fromdateiso8601) + (.[20:23] | tonumber / 1000);'

start_probe "$TMP/kp.json" -i 0.5 || exit 1
lv_create "$A" 2 || { not_ok "domain '$A' starts"; finish; }
sleep 3
APID=$(lv_qemu_pid "$A")
AUUID=$(lv_uuid "$A")
lv_vcpu_threads "$A" | sort -n >"$TMP/a.vcpus"
B_T0=$(now_s)
lv_create "$B" 1 || { not_ok "domain '$B' starts"; finish; }
BPID=$(lv_qemu_pid "$B")
sleep 3
lv_destroy "$A"
A_GONE=$(now_s)
sleep 2
stop_probe

check_eq "domain A has its QEMU pid" 1 "$([ -n "$APID" ] && echo 1)"
check_eq "every record of A's QEMU names it exactly" "$A" \
	"$(jq -rs --argjson p "$APID" '[.[] | select(.type == "vm" and .vm.pid == $p) | .vm.name] | unique | map(tostring) | join("|")' "$TMP/kp.json")"
check_eq "A's records carry the UUID virsh domuuid prints" "$AUUID" \
	"$(jq -rs --argjson p "$APID" '[.[] | select(.type == "vm" and .vm.pid == $p) | .vm.uuid] | unique | join(",")' "$TMP/kp.json")"
check_eq "the raw JSON holds the name escaped only as JSON requires" 1 \
	"$(grep -c -m1 -F '"name":"kp \"test\" é '"$$"'"' "$TMP/kp.json")"
check_eq "vCPU indexes 0..N-1 sit on QEMU's vCPU threads (query-cpus-fast)" \
	"$(tr '\n' ';' <"$TMP/a.vcpus")" \
	"$(jq -rs --argjson p "$APID" '[.[] | select(.type == "vm" and .vm.pid == $p) | .vcpus[] | "\(.index) \(.tid)"] | unique | sort_by(split(" ")[0] | tonumber) | map(. + ";") | join("")' "$TMP/kp.json")"
check_eq "A's balloon is its 64 MiB (current and maximum)" "65536 65536" \
	"$(jq -rs --argjson p "$APID" '[.[] | select(.type == "vm" and .vm.pid == $p and .memory) | .memory][-1] | "\(.balloon_current_kib) \(.balloon_max_kib)"' "$TMP/kp.json")"
check_eq "A's host RSS is reported" true \
	"$(jq -s --argjson p "$APID" '[.[] | select(.type == "vm" and .vm.pid == $p and .memory)][-1].memory.rss_kib > 0' "$TMP/kp.json")"

# B: named within 2 s of its start
lat=$(jq -rs --argjson p "$BPID" --arg n "$B" --argjson t0 "$B_T0" "$JQ_SECS"'
	[.[] | select(.type == "vm" and .vm.pid == $p and .vm.name == $n) | .ts | secs][0] // empty | . - $t0' "$TMP/kp.json")
echo "# domain started mid-run named after ${lat:-never} s"
check_eq "a domain started mid-run is named within 2 s" 1 \
	"$(awk -v l="${lat:-99}" 'BEGIN { print (l <= 2.0) }')"
check_eq "no record of B's QEMU carries another name" "$B" \
	"$(jq -rs --argjson p "$BPID" '[.[] | select(.type == "vm" and .vm.pid == $p and .vm.name != null) | .vm.name] | unique | join("|")' "$TMP/kp.json")"
check_eq "no record of A after it was destroyed" 0 \
	"$(jq -s --argjson p "$APID" --argjson t "$A_GONE" "$JQ_SECS"'[.[] | select(.type == "vm" and .vm.pid == $p and (.ts | secs) > $t + 1)] | length' "$TMP/kp.json")"
check_eq "libvirt stayed available: no notice" 0 \
	"$(jq -s '[.[] | select(.type == "notice")] | length' "$TMP/kp.json")"
finish
