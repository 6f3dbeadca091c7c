#!/bin/bash
# Exit path cost: the exerciser's port-IO loop (exits to the VMM), bare vs
# kvmprobe (exits probe) vs kvmprobe as users run it (all probes) vs a
# bpftrace one-liner counting the same events per pid and reason. Alternating
# runs, PAIRS rounds, medians; the figure is ns added per exit and the
# slowdown in percent.
# The time per exit is the vCPU thread's own CPU time (schedstat, from the
# exerciser's ground truth) over its exits: the probes run in that thread,
# and unlike wall time it does not move when other work takes the CPU.
. "$(dirname "$0")/lib.sh"

EXITS=${EXITS:-300000}
CPU=${CPU:-1}
BT='tracepoint:kvm:kvm_userspace_exit { @[pid, args->reason] = count(); }'

mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing

run_loop() { # prints vCPU CPU ns per exit of one exerciser run
	taskset -c "$CPU" "$EXERCISER" --vcpus 1 --io "$EXITS" |
		jq '.vcpus[0] | (.cpu_ns / (.exits | add)) | floor'
}

for v in bare kvmprobe kvmprobe_all bpftrace; do : >"$BENCH_OUT/exit_$v"; done
run_loop >/dev/null # warm-up
for i in $(seq 1 "$PAIRS"); do
	run_loop >>"$BENCH_OUT/exit_bare"
	start_kvmprobe -i 1 --probes exits || exit 1
	run_loop >>"$BENCH_OUT/exit_kvmprobe"
	stop_bg "$KP_PID"
	start_kvmprobe -i 1 || exit 1
	run_loop >>"$BENCH_OUT/exit_kvmprobe_all"
	stop_bg "$KP_PID"
	if command -v bpftrace >/dev/null && start_bpftrace "$BT"; then
		run_loop >>"$BENCH_OUT/exit_bpftrace"
		stop_bg "$BT_PID"
	fi
	echo "exit_path: round $i/$PAIRS: bare $(tail -1 "$BENCH_OUT/exit_bare") ns," \
		"kvmprobe $(tail -1 "$BENCH_OUT/exit_kvmprobe") ns," \
		"all probes $(tail -1 "$BENCH_OUT/exit_kvmprobe_all") ns," \
		"bpftrace $(tail -1 "$BENCH_OUT/exit_bpftrace" 2>/dev/null) ns per exit"
done

bare=$(median <"$BENCH_OUT/exit_bare")
for v in kvmprobe kvmprobe_all bpftrace; do
	[ -s "$BENCH_OUT/exit_$v" ] || continue
	m=$(median <"$BENCH_OUT/exit_$v")
	add=$(awk -v a="$m" -v b="$bare" 'BEGIN { printf "%.0f", a - b }')
	pct=$(awk -v a="$m" -v b="$bare" 'BEGIN { printf "%.2f", (a - b) * 100 / b }')
	# each round against the bare run of the same round: robust to drift
	pair=$(paste "$BENCH_OUT/exit_bare" "$BENCH_OUT/exit_$v" |
		awk 'NF == 2 { print ($2 - $1) * 100 / $1 }' | median)
	add_result exit_path "$v" ns_per_exit "$m" ns "median of $PAIRS"
	add_result exit_path "$v" ns_added_per_exit "$add" ns "vs bare $bare ns"
	case $v in kvmprobe*) max=2 ;; *) max= ;; esac
	add_result exit_path "$v" slowdown "$pct" "%" \
		"ratio of medians vs bare $bare ns; median of per-round ratios: $(printf %.2f "$pair")%" "$max"
	echo "exit_path: $v: $m ns/exit, +$add ns (+$pct%) vs bare $bare ns"
done
add_result exit_path bare ns_per_exit "$bare" ns "median of $PAIRS"
