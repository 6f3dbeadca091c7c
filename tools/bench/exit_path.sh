#!/bin/bash
# Exit path cost: the exerciser's port-IO loop (exits to the VMM), bare vs
# kvmprobe (exits probe) vs kvmprobe as users run it (all probes) vs a
# bpftrace one-liner counting the same events per pid and reason, each
# probe set against its floor (empty programs on the same events). Rounds
# of one run each, in an order that turns every round; the figure is the
# median of the rounds' slowdowns against that round's bare run.
# The time per exit is the vCPU thread's own CPU time (schedstat, from the
# exerciser's ground truth) over its exits: the probes run in that thread,
# and unlike wall time it does not move when other work takes the CPU.
. "$(dirname "$0")/lib.sh"

EXITS=${EXITS:-300000}
CPU=${CPU:-1}
BT='tracepoint:kvm:kvm_userspace_exit { @[pid, args->reason] = count(); }'

mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
trap '[ -n "${KP_PID:-}" ] && stop_bg "$KP_PID"' EXIT

run_loop() { # prints vCPU CPU ns per exit of one exerciser run
	taskset -c "$CPU" "$EXERCISER" --vcpus 1 --io "$EXITS" |
		jq '.vcpus[0] | (.cpu_ns / (.exits | add)) | floor'
}

ev_exits=$(probe_events exits) || exit 1
ev_all=$(probe_events) || exit 1
variants="bare floor kvmprobe floor_all kvmprobe_all"
command -v bpftrace >/dev/null && variants="$variants bpftrace"
for v in $variants; do : >"$BENCH_OUT/exit_$v"; done
run_loop >/dev/null # warm-up
# one run of variant v: ns per exit, or nothing when it could not start
run_variant() {
	case $1 in
	bare) run_loop ;;
	floor | floor_all)
		local ev=$ev_exits
		[ "$1" = floor_all ] && ev=$ev_all
		# shellcheck disable=SC2086 # one event a word
		start_floor $ev || return 1
		run_loop
		stop_bg "$FL_PID" ;;
	kvmprobe | kvmprobe_all)
		if [ "$1" = kvmprobe ]; then
			start_kvmprobe -i 1 --probes exits || return 1
		else
			start_kvmprobe -i 1 || return 1
		fi
		run_loop
		stop_bg "$KP_PID" ;;
	bpftrace)
		start_bpftrace "$BT" || return 0
		run_loop
		stop_bg "$BT_PID" ;;
	esac
}
rounds exit_path exit "ns per exit"

bare=$(median <"$BENCH_OUT/exit_bare")
add_spread exit_path bare ns_per_exit "$BENCH_OUT/exit_bare" ns \
	"vCPU thread CPU time per exit, $EXITS port-IO exits a run"
for v in floor floor_all kvmprobe kvmprobe_all bpftrace; do
	grep -qv nan "$BENCH_OUT/exit_$v" 2>/dev/null || continue
	pair_pct "$BENCH_OUT/exit_bare" "$BENCH_OUT/exit_$v" >"$BENCH_OUT/exit_slow_$v"
done
read -r f1 _ <<<"$(spread "$BENCH_OUT/exit_slow_floor")"
read -r f2 _ <<<"$(spread "$BENCH_OUT/exit_slow_floor_all")"
for v in floor floor_all kvmprobe kvmprobe_all bpftrace; do
	[ -s "$BENCH_OUT/exit_slow_$v" ] || continue
	read -r m lo hi _ <<<"$(spread "$BENCH_OUT/exit_slow_$v")"
	add=$(awk -v p="$m" -v b="$bare" 'BEGIN { printf "%.0f", p * b / 100 }')
	budget= note="slowdown vs bare in the same round (+$add ns on $bare ns): median of $PAIRS rounds"
	case $v in
	floor) note="$note; empty programs on the exits probe's events: $(echo $ev_exits)" ;;
	floor_all) note="$note; empty programs on all probes' events ($(echo $ev_all | wc -w))" ;;
	kvmprobe) budget=2 note="$note; $(times_floor "$m" "$f1") the floor ($f1%)" ;;
	kvmprobe_all) budget=2 note="$note; $(times_floor "$m" "$f2") the floor of all probes ($f2%)" ;;
	bpftrace) note="$note; $(times_floor "$m" "$f1") the exits probe's floor" ;;
	esac
	add_spread exit_path "$v" slowdown "$BENCH_OUT/exit_slow_$v" "%" "$note" $budget
	echo "exit_path: $v: $m% (min $lo, max $hi) vs bare $bare ns per exit"
done
