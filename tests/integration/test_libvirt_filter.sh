#!/bin/bash
# -d/--domain: only the named domains are reported, by name or by UUID in
# any case; a domain that is not running yet is said once on stderr and is
# reported as soon as it starts.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/libvirt_lib.sh"
require_root
require_kvm
require_bins
require_libvirt

A="kp-filter-a-$$"
B="kp-filter-b-$$"
C="kp filter \"c\" ü $$"

lv_create "$A" 1 || { not_ok "domain '$A' starts"; finish; }
lv_create "$B" 1 || { not_ok "domain '$B' starts"; finish; }
APID=$(lv_qemu_pid "$A")
BUUID=$(lv_uuid "$B" | tr a-f A-F)
start_probe "$TMP/kp.json" -i 0.5 -d "$A" -d "$BUUID" -d "$C" || exit 1
sleep 2
lv_create "$C" 1 || { not_ok "domain '$C' starts"; finish; }
CPID=$(lv_qemu_pid "$C")
sleep 3
stop_probe

check_eq "the start record lists the filter" \
	"$(jq -cn --arg a "$A" --arg b "$BUUID" --arg c "$C" '[$a, $b, $c]')" \
	"$(jq -c 'select(.type == "start") | .domain_filter' "$TMP/kp.json")"
check_eq "only the filtered domains are reported" \
	"$(printf '%s\n' "$A" "$B" "$C" | sort | paste -sd'|')" \
	"$(jq -rs '[.[] | select(.type == "vm") | .vm.name] | unique | join("|")' "$TMP/kp.json")"
check_eq "a UUID in upper case selects the domain" 1 \
	"$(jq -s --arg u "$(echo "$BUUID" | tr A-F a-f)" '[.[] | select(.type == "vm" and .vm.uuid == $u)] | length > 0 | if . then 1 else 0 end' "$TMP/kp.json")"
check_eq "no unnamed VMM slips through the filter" 0 \
	"$(jq -s '[.[] | select(.type == "vm" and .vm.name == null)] | length' "$TMP/kp.json")"
check_eq "the domain started later is reported" 1 \
	"$(jq -s --argjson p "$CPID" '[.[] | select(.type == "vm" and .vm.pid == $p)] | length > 0 | if . then 1 else 0 end' "$TMP/kp.json")"
check_eq "its absence at start is said once on stderr" 1 \
	"$(grep -c "domain '$C' is not defined" "$TMP/kp.json.err")"
check_eq "no other domain is said to be missing" 1 \
	"$(grep -c "kvmprobe: domain '" "$TMP/kp.json.err")"
check_eq "A is reported" 1 \
	"$(jq -s --argjson p "$APID" '[.[] | select(.type == "vm" and .vm.pid == $p)] | length > 0 | if . then 1 else 0 end' "$TMP/kp.json")"

# text format: the table shows the domain name
"$KVMPROBE" -c 2 -i 0.5 -d "$A" >"$TMP/kp.txt" 2>&1
check_eq "the text table names the domain (its column is 16 wide)" 1 \
	"$(grep -c -m1 -F "${A:0:16}" "$TMP/kp.txt")"
finish
