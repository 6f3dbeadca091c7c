#!/bin/bash
# Context switch cost of the sched probe. `perf bench sched pipe` (two
# tasks ping-ponging through a pipe, pinned to one CPU: about two switches
# and two wake-ups per op, no vCPU involved) bare vs kvmprobe --probes sched
# in its default configuration (the per-event tier attached --sched-duty
# 0.2 of the time) vs the same with the tier always on (--sched-duty 1:
# "always") vs libbpf-tools' runqlat (which timestamps every wake-up and switch) vs
# the floor (empty programs on the probe's events). Rounds of one run each,
# in an order that turns every round; the figure is the median of the
# rounds' slowdowns of usecs/op against that round's bare run, budget 2%.
#
# Then, with kernel.bpf_stats_enabled=1 (put back at exit), run_time_ns /
# run_cnt of the probe's scheduler programs: on switches without a vCPU
# (the same perf bench) and on switches of tracked vCPUs (two exerciser
# vCPUs spinning on one CPU, which CFS switches between). bpf_stats reads
# the clock twice around every run: both figures include that, their
# difference is what tracking a vCPU adds.
. "$(dirname "$0")/lib.sh"

# 1M ops (3-4 s here): a run spans several periods of the sched probe's
# duty cycle (1 s, attached the first 0.2 s), so it pays the average; a
# 0.4 s run right after kvmprobe starts would pay the first window whole
LOOPS=${LOOPS:-1000000}
CPU=${CPU:-1}
SPIN=${SPIN:-3}
RUNQLAT=${RUNQLAT:-$(command -v runqlat || echo /usr/sbin/runqlat)}

command -v perf >/dev/null || { echo "sched_pipe: perf not installed (linux-perf)" >&2; exit 1; }

# The programs PID holds, by id (lib.sh has the same for newer trees).
declare -F bpf_ids >/dev/null || bpf_ids() {
	local f
	for f in /proc/"$1"/fdinfo/*; do
		sed -n "s/^$2_id:[[:space:]]*//p" "$f" 2>/dev/null
	done | sort -un
}

pipe_us() { # usecs/op of one perf bench run
	taskset -c "$CPU" perf bench sched pipe -l "$LOOPS" |
		awk '/usecs\/op/ { print $1 }'
}

start_runqlat() { # sets RQ_PID once runqlat has attached
	local out=$BENCH_OUT/runqlat.out i
	# line-buffered: it says "Tracing" once attached
	stdbuf -oL "$RUNQLAT" >"$out" 2>&1 &
	RQ_PID=$!
	for i in $(seq 1 200); do
		grep -q 'Tracing' "$out" 2>/dev/null && return 0
		kill -0 "$RQ_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "bench: runqlat did not attach: $(head -c 300 "$out")" >&2
	return 1
}

events=$(probe_events sched) || exit 1
variants="bare floor kvmprobe always"
[ -x "$RUNQLAT" ] && variants="$variants runqlat"
for v in $variants; do : >"$BENCH_OUT/pipe_$v"; done
pipe_us >/dev/null # warm-up
# one run of variant v: usecs/op, or nothing when it could not start
run_variant() {
	case $1 in
	bare) pipe_us ;;
	floor)
		# shellcheck disable=SC2086 # one event a word
		start_floor $events || return 1
		pipe_us
		stop_bg "$FL_PID" ;;
	kvmprobe)
		start_kvmprobe -i 1 --probes sched || return 1
		pipe_us
		stop_bg "$KP_PID" ;;
	always)
		start_kvmprobe -i 1 --probes sched --sched-duty 1 || return 1
		pipe_us
		stop_bg "$KP_PID" ;;
	runqlat)
		start_runqlat || return 0
		pipe_us
		stop_bg "$RQ_PID" ;;
	esac
}
rounds sched_pipe pipe "usecs/op"

bare=$(median <"$BENCH_OUT/pipe_bare")
add_spread sched_pipe bare us_per_op "$BENCH_OUT/pipe_bare" us \
	"perf bench sched pipe -l $LOOPS on CPU $CPU"
for v in floor kvmprobe always runqlat; do
	grep -qv nan "$BENCH_OUT/pipe_$v" 2>/dev/null || continue
	pair_pct "$BENCH_OUT/pipe_bare" "$BENCH_OUT/pipe_$v" >"$BENCH_OUT/pipe_slow_$v"
done
read -r fl _ <<<"$(spread "$BENCH_OUT/pipe_slow_floor")"
for v in floor kvmprobe always runqlat; do
	[ -s "$BENCH_OUT/pipe_slow_$v" ] || continue
	read -r m lo hi _ <<<"$(spread "$BENCH_OUT/pipe_slow_$v")"
	budget= note="slowdown vs bare in the same round ($bare us/op): median of $PAIRS rounds"
	case $v in
	floor) note="$note; empty programs on the sched probe's events: $(echo $events)" ;;
	kvmprobe) budget=2 note="$note; default configuration (per-event tier 0.2 of the time); $(times_floor "$m" "$fl") the floor ($fl%)" ;;
	always) note="$note; --sched-duty 1 (per-event tier always attached); $(times_floor "$m" "$fl") the floor" ;;
	*) note="$note; $(times_floor "$m" "$fl") the floor" ;;
	esac
	add_spread sched_pipe "$v" slowdown "$BENCH_OUT/pipe_slow_$v" "%" "$note" $budget
	echo "sched_pipe: $v: $m% (min $lo, max $hi) vs bare $bare usecs/op"
done

# ---- per-run cost of the scheduler programs, from bpf_stats ----
old=$(sysctl -n kernel.bpf_stats_enabled) || exit 1
cleanup() {
	sysctl -qw kernel.bpf_stats_enabled="$old"
	[ -n "${KP_PID:-}" ] && stop_bg "$KP_PID"
}
trap cleanup EXIT
sysctl -qw kernel.bpf_stats_enabled=1 || exit 1

stats() { # name run_time_ns run_cnt, for the probe's scheduler programs
	local ids
	ids=$(bpf_ids "$KP_PID" prog | jq -sc .)
	bpftool -j prog show | jq -r --argjson ids "$ids" '.[] |
		select(.id as $i | $ids | index($i)) |
		select(.name | test("^(switch|wakeup)_")) |
		"\(.name) \(.run_time_ns // 0) \(.run_cnt // 0)"' | sort
}

delta() { # delta BEFORE AFTER: name ns runs
	join "$1" "$2" | awk '{ print $1, $4 - $2, $5 - $3 }'
}

# no vCPU: the same perf bench (the per-event tier attached throughout)
start_kvmprobe -i 1 --probes sched --sched-duty 1 || exit 1
stats >"$BENCH_OUT/sched_stats.0"
pipe_us >/dev/null
stats >"$BENCH_OUT/sched_stats.1"
stop_bg "$KP_PID"

note="bpf_stats: with its 2 clock reads per run"
delta "$BENCH_OUT/sched_stats.0" "$BENCH_OUT/sched_stats.1" >"$BENCH_OUT/sched_other"
while read -r name ns runs; do
	[ "$runs" -gt 0 ] || continue
	add_result sched_pipe "kvmprobe:$name" ns_per_run_no_vcpu \
		"$(awk -v a="$ns" -v b="$runs" 'BEGIN { printf "%.1f", a / b }')" ns \
		"$runs runs during perf bench; $note"
done <"$BENCH_OUT/sched_other"

# BPF time per op, default configuration and --sched-duty 1: the scheduler
# programs' run_time_ns over one perf bench, per op, and as a share of the
# bare op. Not noise-prone as the slowdown is (the duty cycle's share shows
# exactly), but a lower bound of it: a tracepoint's dispatch to a program
# is outside run_time_ns (the floor row's slowdown is mostly that).
for cfg in default always; do
	case $cfg in
	default) start_kvmprobe -i 1 --probes sched || exit 1 ;;
	always) start_kvmprobe -i 1 --probes sched --sched-duty 1 || exit 1 ;;
	esac
	stats >"$BENCH_OUT/sched_op.0"
	pipe_us >/dev/null
	stats >"$BENCH_OUT/sched_op.1"
	stop_bg "$KP_PID"
	KP_PID=
	ns=$(delta "$BENCH_OUT/sched_op.0" "$BENCH_OUT/sched_op.1" |
		awk -v ops="$LOOPS" '{ t += $2 } END { printf "%.1f", t / ops }')
	pct=$(awk -v ns="$ns" -v us="$bare" 'BEGIN { printf "%.2f", ns / (us * 10) }')
	add_result sched_pipe "kvmprobe:$cfg" bpf_ns_per_op "$ns" ns \
		"switch and wake-up programs' run time over $LOOPS ops, $pct% of the bare op ($bare us); a lower bound of the slowdown; $note"
	echo "sched_pipe: $cfg: $ns ns of BPF per op ($pct% of the bare op)"
done

# Tracked vCPUs: two exerciser vCPUs spinning on one CPU, which CFS
# switches between: each switch there switches one vCPU out (a preemption,
# counted by kvmprobe) and the other in. The same run twice: kvmprobe
# watching another pid (-p 1: nothing tracked, every run takes the no-vCPU
# path; the cost of the window's other switches), then watching the
# exerciser. The difference, per vCPU switch, is what tracking costs.
vcpu_window() { # vcpu_window OUT PIDFILTER|"": OUT gets "name ns runs"
	local x out=$1 filter=$2
	"$EXERCISER" --vcpus 2 --spin "$SPIN" --pin "$CPU" --delay-start 1 \
		>"$BENCH_OUT/sched_truth.json" &
	x=$!
	start_kvmprobe -i 1 --probes sched --sched-duty 1 -p "${filter:-$x}" || return 1
	stats >"$BENCH_OUT/sched_stats.a"
	wait "$x" || return 1
	stats >"$BENCH_OUT/sched_stats.b"
	sleep 1.2 # the last interval
	stop_bg "$KP_PID"
	KP_PID=
	X=$x
	delta "$BENCH_OUT/sched_stats.a" "$BENCH_OUT/sched_stats.b" |
		grep '^switch_' >"$out"
}

vcpu_window "$BENCH_OUT/sched_window.untracked" 1 || exit 1
vcpu_window "$BENCH_OUT/sched_window.tracked" "" || exit 1
read -r name0 ns0 runs0 <"$BENCH_OUT/sched_window.untracked"
read -r name ns runs <"$BENCH_OUT/sched_window.tracked"
nv=$(jq -s --argjson pid "$X" '[.[] | select(.type == "vm" and .vm.pid == $pid) |
	.vcpus[].preemptions // 0] | add // 0' "$BENCH_OUT/kvmprobe.json")
[ -n "${name:-}" ] && [ "${runs:-0}" -gt 0 ] && [ "${runs0:-0}" -gt 0 ] ||
	{ echo "sched_pipe: no switch runs" >&2; exit 1; }
other=$(awk -v t="$ns0" -v n="$runs0" 'BEGIN { printf "%.1f", t / n }')
add_result sched_pipe "kvmprobe:$name" ns_per_run_untracked_vcpus "$other" ns \
	"$runs0 runs while 2 untracked vCPUs spun ${SPIN}s on CPU $CPU; $note"
per=$(awk -v t="$ns" -v n="$runs" -v v="$nv" -v o="$other" \
	'BEGIN { x = n - v; if (x < 0) x = 0; if (v > 0) printf "%.1f", (t - x * o) / v }')
if [ -n "$per" ]; then
	add_result sched_pipe "kvmprobe:$name" ns_per_vcpu_switch "$per" ns \
		"the same with the vCPUs tracked: $nv vCPU switches of $runs runs, the others at the untracked cost; $note"
	echo "sched_pipe: $name: $other ns per switch without a tracked vCPU, $per ns per switch of a tracked vCPU ($nv of $runs runs)"
fi
