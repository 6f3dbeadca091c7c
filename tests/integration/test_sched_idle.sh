#!/bin/bash
# Not contended, no ready time: the exerciser's one spinning vCPU alone on
# its CPU (its VMM's main thread and kvmprobe moved to another), first with
# the rest of the host idle, then with a hog on every other CPU (non-vCPU
# load elsewhere). Only the host's own short work on that CPU (ticks,
# kworkers, RCU) may run there: the exerciser's own schedstat shows how much
# (0-2% here). kvmprobe must report that, not more: every busy interval
# below 5% ready, and the run delay over the run equal to the schedstat
# figure within 0.5% of the vCPU's CPU time (schedstat over the run's own
# window: from the vCPU thread's sleep before its start, when kvmprobe has
# seeded it, to its end). If the exerciser's own
# schedstat shows real contention (5% or more: another workload shares the
# CPU) the test skips rather than asserting near zero against a busy CPU.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_sched.sh"
require_root
require_kvm
require_bins
require_taskset
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs (one for the vCPU, one for the load)"

C=$SCHED_CPU
OTHER=$(((C + 1) % $(nproc)))
run_case() { # run_case NAME: one exerciser run, checks
	local name=$1 truth=$TMP/truth.$1.json out=$TMP/kp.$1.json pid tid
	"$EXERCISER" --vcpus 1 --spin 3 --pin "$C" --delay-start 1 >"$truth" &
	X=$!
	BG_PIDS+=("$X")
	start_probe "$out" -i 0.5 --probes sched -p "$X" || exit 1
	# the VMM's main thread (it polls every ms) and kvmprobe stay off
	# the vCPU's CPU: the vCPU thread is alone there
	taskset -p -c "$OTHER" "$X" >/dev/null
	taskset -a -p -c "$OTHER" "$PROBE_PID" >/dev/null
	wait "$X" || { not_ok "$name: exerciser failed"; return; }
	sleep 0.6
	stop_probe
	pid=$(jq .pid "$truth")
	tid=$(jq ".vcpus[0].tid" "$truth")
	# schedstat over the run's own window: from the thread sleeping
	# until it may go (kvmprobe has seeded it by then) to its end; its
	# start on a busy CPU, before kvmprobe ran, is not kvmprobe's to see
	if ! jq -e '.vcpus[0] | (.run_delay_ns - .run_delay_start_ns) < 0.05 * (.cpu_ns - .cpu_start_ns)' "$truth" >/dev/null; then
		skip "$name: the host is busy: the exerciser's own schedstat shows $(jq '.vcpus[0] | (.run_delay_ns - .run_delay_start_ns) * 100 / (.cpu_ns - .cpu_start_ns) | floor' "$truth")% run delay (other load on CPU $C)"
	fi
	vcpu_intervals "$out" "$pid" "$tid" 90 >"$TMP/busy.$name"
	n=$(wc -l <"$TMP/busy.$name")
	[ "$n" -ge 4 ] && ok "$name: $n busy intervals" ||
		not_ok "$name: $n busy intervals, want >= 4 in the 3 s spin"
	while read -r rdy cpu; do
		within "$rdy" 0 5 && ok "$name: ready $rdy% < 5 (cpu $cpu%)" ||
			not_ok "$name: ready $rdy% (cpu $cpu%), want < 5"
	done <"$TMP/busy.$name"
	got=$(sum_vcpu "$out" "$pid" "$tid" .run_delay.total_ns)
	truth_rd=$(jq '.vcpus[0] | .run_delay_ns - .run_delay_start_ns' "$truth")
	cpu_ns=$(jq '.vcpus[0] | .cpu_ns - .cpu_start_ns' "$truth")
	tol=$(awk -v c="$cpu_ns" 'BEGIN { printf "%d", c * 0.005 }')
	within "$got" $((truth_rd - tol)) $((truth_rd + tol)) &&
		ok "$name: run delay over the run $got ns = schedstat's $truth_rd ns (± $tol, 0.5% of CPU time)" ||
		not_ok "$name: run delay over the run $got ns, schedstat says $truth_rd ns (± $tol)"
}

run_case idle
for cpu in $(seq 0 $(($(nproc) - 1))); do
	[ "$cpu" = "$C" ] && continue
	start_hog "$cpu"
	HOGS+=("$HOG_PID")
done
run_case loaded_elsewhere
for h in "${HOGS[@]}"; do
	kill -KILL "$h" 2>/dev/null
done
finish
