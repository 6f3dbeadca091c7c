#!/bin/bash
# Exit path cost: the exerciser's port-IO loop (exits to the VMM), bare vs
# kvmprobe (exits probe) vs a bpftrace one-liner counting the same events
# per pid and reason. Alternating runs, PAIRS rounds, medians; the figure is
# ns added per exit and the slowdown in percent.
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

: >"$BENCH_OUT/exit_bare" >"$BENCH_OUT/exit_kvmprobe" >"$BENCH_OUT/exit_bpftrace"
run_loop >/dev/null # warm-up
for i in $(seq 1 "$PAIRS"); do
	run_loop >>"$BENCH_OUT/exit_bare"
	start_kvmprobe -i 1 --probes exits || exit 1
	run_loop >>"$BENCH_OUT/exit_kvmprobe"
	stop_bg "$KP_PID"
	if command -v bpftrace >/dev/null && start_bpftrace "$BT"; then
		run_loop >>"$BENCH_OUT/exit_bpftrace"
		stop_bg "$BT_PID"
	fi
	echo "exit_path: round $i/$PAIRS: bare $(tail -1 "$BENCH_OUT/exit_bare") ns," \
		"kvmprobe $(tail -1 "$BENCH_OUT/exit_kvmprobe") ns," \
		"bpftrace $(tail -1 "$BENCH_OUT/exit_bpftrace" 2>/dev/null) ns per exit"
done

bare=$(median <"$BENCH_OUT/exit_bare")
for v in kvmprobe bpftrace; do
	[ -s "$BENCH_OUT/exit_$v" ] || continue
	m=$(median <"$BENCH_OUT/exit_$v")
	add=$(awk -v a="$m" -v b="$bare" 'BEGIN { printf "%.0f", a - b }')
	pct=$(awk -v a="$m" -v b="$bare" 'BEGIN { printf "%.2f", (a - b) * 100 / b }')
	add_result exit_path "$v" ns_per_exit "$m" ns "median of $PAIRS"
	add_result exit_path "$v" ns_added_per_exit "$add" ns "vs bare $bare ns"
	add_result exit_path "$v" slowdown "$pct" "%" "budget: kvmprobe <= 2%"
	echo "exit_path: $v: $m ns/exit, +$add ns (+$pct%) vs bare $bare ns"
done
add_result exit_path bare ns_per_exit "$bare" ns "median of $PAIRS"
