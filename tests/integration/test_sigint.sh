#!/bin/bash
# SIGINT in the middle of activity loses nothing: with an interval far longer
# than the run, every exit lands in the partial last interval that kvmprobe
# writes on SIGINT (and SIGTERM), followed by a stop record.
. "$(dirname "$0")/lib.sh"
require_root
require_kvm
require_bins

for sig in INT TERM; do
	out=$TMP/kp-$sig.json
	start_probe "$out" -i 600 || exit 1
	# exits first, then the vCPUs stay busy in the guest while we signal
	"$EXERCISER" --vcpus 2 --io 30000 --mmio 500 --spin 3 >"$TMP/truth-$sig.json" &
	X=$!
	BG_PIDS+=("$X")
	sleep 1.5
	kill -0 "$X" 2>/dev/null && ok "SIG$sig sent while the guest is running" ||
		not_ok "exerciser ended before SIG$sig"
	kill -$sig "$PROBE_PID"
	wait "$PROBE_PID"
	check_eq "kvmprobe exits 0 on SIG$sig" 0 $?
	wait "$X"
	pid=$(jq .pid "$TMP/truth-$sig.json")
	# the done-port OUT happens after the spin, after the signal
	want_io=$(jq '[.vcpus[].io] | add' "$TMP/truth-$sig.json")
	check_eq "SIG$sig: all IO exits before the signal are in the last record" \
		"$want_io" "$(sum_vm "$out" "$pid" .userspace_exits.IO)"
	check_eq "SIG$sig: all MMIO exits are in the last record" \
		"$(jq '[.vcpus[].exits.MMIO] | add' "$TMP/truth-$sig.json")" \
		"$(sum_vm "$out" "$pid" .userspace_exits.MMIO)"
	check_eq "SIG$sig: one partial interval, then stop" "interval,stop" \
		"$(jq -rs '[.[] | select(.type == "interval" or .type == "stop") | .type] | join(",")' "$out")"
done
finish
