#!/bin/bash
# A full counting map loses events, and kvmprobe says exactly how many. With
# --map-entries 256 and 300 vCPU threads that each make one key (IO), 256
# threads are counted in full and the other 44 lose every event: their 6
# exits (5 + the done port) each count as lost; the handling-time samples
# ride with the exits' map update (one lookup per exit) and go with them.
# Then the pressure must leave nothing behind: once that VMM is gone its
# entries are deleted and the map drains to empty, and a second VMM started
# afterwards (its pid is known in advance: a shell that execs the
# exerciser) is counted in full, with no new losses; it drains too. A map
# under pressure is cleaned at every interval: that drain must take at most
# 3 s; a map not under pressure is cleaned every 10 s (GC_PERIOD_S).
. "$(dirname "$0")/lib.sh"
require_root
require_kvm
require_bins
command -v bpftool >/dev/null || skip "bpftool not installed (make deps)"

N=300 IO=5 ENTRIES=256 N2=20

# drained WHAT SECONDS: wait up to SECONDS for the exits map to be empty
drained() {
	local t0=$SECONDS n
	while :; do
		n=$(map_entries "$PROBE_PID" exits)
		[ "$n" = 0 ] || [ $((SECONDS - t0)) -ge "$2" ] && break
		sleep 0.2
	done
	echo "# $1: $n entries left after $((SECONDS - t0)) s"
	check_eq "$1" 0 "$n"
}
# --pid keeps other VMs on the host out of the small map
"$EXERCISER" --vcpus $N --io $IO --delay-start 1 >"$TMP/truth.json" &
X=$!
BG_PIDS+=("$X")
# the second VMM: this pid becomes the exerciser once $TMP/go exists
(while [ ! -e "$TMP/go" ]; do sleep 0.05; done
	exec "$EXERCISER" --vcpus $N2 --io $IO) >"$TMP/truth2.json" &
Y=$!
BG_PIDS+=("$Y")
# --probes exits: the sched probe would report the vCPU threads too
start_probe "$TMP/kp.json" -i 0.5 --map-entries $ENTRIES -p $X -p $Y \
	--probes exits || exit 1
check_eq "the counting map is empty before any VMM runs" 0 \
	"$(map_entries "$PROBE_PID" exits)"
wait $X || { not_ok "exerciser failed"; finish; }
# deletion follows the interval that reported a dead thread's last counts
drained "the full map drains to empty once the VMM is gone" 3
touch "$TMP/go"
wait $Y || { not_ok "second exerciser failed"; finish; }
sleep 0.7 # its last counts are reported before its entries go
drained "the map drains again after the second VMM" 12
stop_probe
pid=$(jq .pid "$TMP/truth.json")
lost_threads=$((N - ENTRIES))
check_eq "exits of the threads that got a map entry" $((ENTRIES * (IO + 1))) \
	"$(sum_vm "$TMP/kp.json" "$pid" .userspace_exits.IO)"
check_eq "vCPU threads reported" $ENTRIES \
	"$(jq -s --argjson pid "$pid" '[.[] | select(.type == "vm" and .vm.pid == $pid) | .vcpus[].tid] | unique | length' "$TMP/kp.json")"
check_eq "lost events reported (none from the second VMM)" \
	$((lost_threads * (IO + 1))) \
	"$(jq -s '[.[] | select(.type == "interval") | .lost.exits] | add' "$TMP/kp.json")"
pid2=$(jq .pid "$TMP/truth2.json")
check_eq "the second VMM is the pid given in advance" "$Y" "$pid2"
check_eq "every exit of the VMM after the pressure is counted" \
	$((N2 * (IO + 1))) \
	"$(sum_vm "$TMP/kp.json" "$pid2" .userspace_exits.IO)"
finish
