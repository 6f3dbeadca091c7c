#!/bin/bash
# vCPU threads that exist before kvmprobe starts are found from /proc: a
# vCPU spinning inside KVM_RUN fires no kvm_fpu until it returns to the
# VMM, so without seeding it would never be reported. The seeding iterator
# also starts the slice it is running, so it is reported runnable (running
# or waiting) all the time, though it never switched before: cpu + ready is
# 100% (±5 points) in every interval. Both attach flavours: tp_btf (task
# storage marks) and tracepoint (raw_tp, the stats map as the mark).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_sched.sh"
require_root
require_kvm
require_bins
require_taskset

C=$SCHED_CPU
for mode in tp_btf tracepoint; do
	out=$TMP/kp.$mode.json
	"$EXERCISER" --vcpus 1 --spin 5 --pin "$C" >"$TMP/truth.$mode.json" &
	X=$!
	BG_PIDS+=("$X")
	sleep 1.5 # inside KVM_RUN, spinning
	start_probe "$out" -i 0.5 --probes sched --attach "$mode" -p "$X" || exit 1
	wait "$X" || { not_ok "$mode: exerciser failed"; continue; }
	sleep 0.6
	stop_probe
	tid=$(jq ".vcpus[0].tid" "$TMP/truth.$mode.json")
	check_eq "$mode: vcpu_seed done by the task iterator" iter/task \
		"$(jq -r 'select(.type == "start") | .probes[] | select(.name == "sched") | .programs.vcpu_seed' "$out")"
	check_eq "$mode: the spinning vCPU is reported, with its index" 0 \
		"$(jq -rs --argjson pid "$X" --argjson tid "$tid" '[.[] | select(.type == "vm" and .vm.pid == $pid) | .vcpus[] | select(.tid == $tid) | .index] | unique | map(tostring) | join(",")' "$out")"
	# every interval but the last two (the spin ends in one of them)
	jq -r --argjson pid "$X" --argjson tid "$tid" '
		select(.type == "vm" and .vm.pid == $pid) | .vcpus[] |
		select(.tid == $tid) | "\(.cpu_pct + .run_delay.ready_pct)"' "$out" |
		head -n -2 >"$TMP/runnable.$mode"
	n=$(wc -l <"$TMP/runnable.$mode")
	[ "$n" -ge 3 ] && ok "$mode: $n intervals before the end of the spin" ||
		not_ok "$mode: $n intervals before the end of the spin, want >= 3"
	while read -r r; do
		within "$r" 95 105 && ok "$mode: runnable $r% of the interval" ||
			not_ok "$mode: runnable $r% of the interval, want 100 ±5"
	done <"$TMP/runnable.$mode"
done
finish
