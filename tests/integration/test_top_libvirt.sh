#!/bin/bash
# kvmprobe top against real libvirt domains (QEMU/KVM): rows carry the
# domain names and the QEMU pids, the filter narrows to one domain, the
# expanded domain shows its vCPUs (those of the record) with the indexes
# and thread ids QEMU itself reports, and the memory view shows the balloon and RSS figures of
# the record of the same interval.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/libvirt_lib.sh"
. "$(dirname "$0")/lib_top.sh"
trap 'tmx kill-server 2>/dev/null; lv_cleanup' EXIT
require_root
require_kvm
require_bins
require_tmux
require_libvirt

A="kp-top-a-$$"
B="kp-top-b-$$"
lv_create "$A" 2 || { not_ok "domain $A starts"; finish; }
lv_create "$B" 1 || { not_ok "domain $B starts"; finish; }
APID=$(lv_qemu_pid "$A")
BPID=$(lv_qemu_pid "$B")
lv_vcpu_threads "$A" | sort -n >"$TMP/a.vcpus"

tmux_run lv "$KVMPROBE" top -i 1 -d "$A" -d "$B" -o "$TMP/rec.ndjson"
wait_screen lv "$B" 150 && wait_screen lv "$A" 50 ||
	{ not_ok "top does not show both domains"; screen lv; finish; }
sleep 1.5
s=$(screen lv)
printf '%s\n' "$s" | sed -n '1,8p'
for d in "$A:$APID" "$B:$BPID"; do
	name=${d%%:*} pid=${d##*:}
	got=$(printf '%s\n' "$s" | awk -v n="$name" '$2 == n {print $1}')
	check_eq "domain $name is on the screen with its QEMU pid" "$pid" "$got"
done

keys lv -l "/$B"
keys lv Enter
s=$(screen lv)
check_eq "the filter leaves one domain" "$B" \
	"$(printf '%s\n' "$s" | sed -n '5,44p' | awk 'NF {print $2}' | paste -sd' ')"
keys lv / C-h C-h C-h C-h C-h C-h C-h C-h C-h C-h C-h C-h C-h C-h C-h C-h C-h C-h C-h C-h Enter

# select A (sorted by name: A before B) and expand it
keys lv '<' '<'
check_eq "sort by NAME (text: ascending)" "sort NAME asc" \
	"$(screen lv | sed -n 2p | grep -o 'sort NAME asc')"
s=$(screen lv)
[[ $(printf '%s\n' "$s" | sed -n 5p) == *"$A"* ]] || keys lv r
keys lv e
s=$(screen lv)
hms=$(printf '%s\n' "$s" | sed -n 1p | awk '{print $1}')
got=$(printf '%s\n' "$s" | awk '$2 == "vcpu" {print $3, $1}' | sort -n | paste -sd,)
# a vCPU that did not run (a halted secondary, waiting for SIPI) has no
# entry in the record, and so no row
want=$(jq -r --arg hms "$hms" --argjson pid "$APID" '
	select(.type == "vm" and .vm.pid == $pid and (.ts | .[11:19]) == $hms) |
	.vcpus[] | "\(.index) \(.tid)"' "$TMP/rec.ndjson" | sort -n | paste -sd,)
check_eq "expanded at $hms: the vCPUs of the record, by index" "$want" "$got"
[ -n "$got" ] && ok "expanded: at least one vCPU row" || not_ok "no vCPU rows"
IFS=, read -ra pairs <<<"$got"
for p in "${pairs[@]}"; do
	grep -qx "$p" "$TMP/a.vcpus" && ok "vCPU index and thread '$p' as QEMU reports them" ||
		not_ok "vCPU '$p' is not in QEMU's map: $(paste -sd, "$TMP/a.vcpus")"
done

keys lv m
s=$(screen lv)
printf '%s\n' "$s" | sed -n '1,7p'
hms=$(printf '%s\n' "$s" | sed -n 1p | awk '{print $1}')
row=$(printf '%s\n' "$s" | awk -v n="$A" '$2 == n')
got=$(echo "$row" | awk '{print $3, $4, $5}')
want=$(jq -r --arg hms "$hms" --argjson pid "$APID" '
	select(.type == "vm" and .vm.pid == $pid and (.ts | .[11:19]) == $hms) |
	.memory | [.balloon_current_kib, .balloon_max_kib, .rss_kib] |
	map(if . == null then "-" else (. / 1024 | tostring) end) |
	join(" ")' "$TMP/rec.ndjson")
if [ -n "$want" ] && [ "$want" != "- - -" ]; then
	same=$(awk -v g="$got" -v w="$want" 'BEGIN {
		n = split(g, a, " "); m = split(w, b, " "); ok = n == 3 && m == 3
		for (i = 1; i <= 3; i++) {
			if (a[i] == "-" || b[i] == "-") { if (a[i] != b[i]) ok = 0; continue }
			d = a[i] - b[i]; if (d < 0) d = -d
			if (d > 0.51) ok = 0
		}
		print ok }')
	[ "$same" = 1 ] &&
		ok "memory view of $A at $hms: balloon, max, RSS (MiB) $got = record $want" ||
		not_ok "memory view of $A at $hms: screen '$got', record '$want'"
else
	not_ok "no memory figures in the record of $A at $hms ('$want')"
fi
keys lv q
check_eq "q: exit status" 0 "$(wait_rc lv)"
check_eq "after q: no alternate screen, cursor visible" "0 1" "$(pane_state lv)"
finish
