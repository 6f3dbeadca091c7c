#!/bin/bash
# A full counting map loses events, and kvmprobe says exactly how many. With
# --map-entries 256 and 300 vCPU threads that each make one key (IO), 256
# threads are counted in full and the other 44 lose every event: their 6
# exits (5 + the done port) each count as lost; the handling-time samples
# ride with the exits' map update (one lookup per exit) and go with them.
. "$(dirname "$0")/lib.sh"
require_root
require_kvm
require_bins

N=300 IO=5 ENTRIES=256
# --pid keeps other VMs on the host out of the small map
"$EXERCISER" --vcpus $N --io $IO --delay-start 1 >"$TMP/truth.json" &
X=$!
BG_PIDS+=("$X")
# --probes exits: the sched probe would report the vCPU threads too
start_probe "$TMP/kp.json" -i 0.5 --map-entries $ENTRIES -p $X --probes exits ||
	exit 1
wait $X || { not_ok "exerciser failed"; finish; }
sleep 0.7
stop_probe
pid=$(jq .pid "$TMP/truth.json")
lost_threads=$((N - ENTRIES))
check_eq "exits of the threads that got a map entry" $((ENTRIES * (IO + 1))) \
	"$(sum_vm "$TMP/kp.json" "$pid" .userspace_exits.IO)"
check_eq "vCPU threads reported" $ENTRIES \
	"$(jq -s --argjson pid "$pid" '[.[] | select(.type == "vm" and .vm.pid == $pid) | .vcpus[].tid] | unique | length' "$TMP/kp.json")"
check_eq "lost events reported" $((lost_threads * (IO + 1))) \
	"$(jq -s '[.[] | select(.type == "interval") | .lost.exits] | add' "$TMP/kp.json")"
finish
