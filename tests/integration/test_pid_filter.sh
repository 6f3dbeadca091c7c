#!/bin/bash
# --pid: only the named VMM is reported, exactly; another VMM running at the
# same time never appears.
. "$(dirname "$0")/lib.sh"
require_root
require_kvm
require_bins

# Start both exercisers paused so their pids are known before any exit.
"$EXERCISER" --vcpus 1 --io 20000 --delay-start 1 --name kx-watched >"$TMP/a.json" &
A=$!
BG_PIDS+=("$A")
"$EXERCISER" --vcpus 1 --io 30000 --delay-start 1 --name kx-other >"$TMP/b.json" &
B=$!
BG_PIDS+=("$B")
start_probe "$TMP/kp.json" -i 0.5 -p "$A" || exit 1
wait "$A" "$B"
sleep 0.3
stop_probe

check_eq "the start record lists the filter" "[$A]" \
	"$(jq -c 'select(.type == "start") | .pid_filter' "$TMP/kp.json")"
check_eq "watched VMM's IO exits equal its ground truth" \
	"$(jq '[.vcpus[].exits.IO] | add' "$TMP/a.json")" \
	"$(sum_vm "$TMP/kp.json" "$A" .userspace_exits.IO)"
check_eq "no record for the other VMM" 0 \
	"$(jq -s --argjson b "$B" '[.[] | select(.type == "vm" and .vm.pid == $b)] | length' "$TMP/kp.json")"
check_eq "no record for any pid but the watched one" "$A" \
	"$(jq -rs '[.[] | select(.type == "vm") | .vm.pid] | unique | map(tostring) | join(",")' "$TMP/kp.json")"
finish
