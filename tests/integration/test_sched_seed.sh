#!/bin/bash
# vCPU threads that exist before kvmprobe starts are found from /proc: a
# vCPU spinning inside KVM_RUN fires no kvm_fpu until it returns to the
# VMM, so without seeding it would never be reported. The seeding iterator
# marks it and takes its counters' bases, so it is reported runnable
# (running or waiting) all the time, though it never switched before: in
# every interval it is reported runnable for most of it (> 50%: an
# unseeded vCPU shows nothing), and over the run cpu + ready is at least 95% of the time its
# CPU gave to tasks, and at most 105% of the run (the CPU's irq, softirq and steal time, which
# schedstat counts neither as CPU time nor as run delay, left out). Both attach flavours: tp_btf (task
# storage marks) and tracepoint (raw_tp, the stats map as the mark).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_sched.sh"
require_root
require_kvm
require_bins
require_taskset

# irq + softirq + steal ticks of CPU $1 (/proc/stat)
cpu_lost_ticks() { awk -v c="cpu$1" '$1 == c { print $7 + $8 + $9 }' /proc/stat; }

C=$SCHED_CPU
for mode in tp_btf tracepoint; do
	out=$TMP/kp.$mode.json
	"$EXERCISER" --vcpus 1 --spin 5 --pin "$C" >"$TMP/truth.$mode.json" &
	X=$!
	BG_PIDS+=("$X")
	sleep 1.5 # inside KVM_RUN, spinning
	start_probe "$out" -i 0.5 --probes sched --attach "$mode" -p "$X" || exit 1
	cpu_lost0=$(cpu_lost_ticks "$C")
	wait "$X" || { not_ok "$mode: exerciser failed"; continue; }
	cpu_lost1=$(cpu_lost_ticks "$C")
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
		within "$r" 50 105 && ok "$mode: runnable $r% of the interval" ||
			not_ok "$mode: runnable $r% of the interval, want > 50"
	done <"$TMP/runnable.$mode"
	# over those intervals: runnable + the CPU's irq/softirq/steal share
	# (ticks of the whole wait, a few hundred ms more than the intervals)
	el=$(jq -rs --argjson pid "$X" '[.[] | select(.type == "vm" and .vm.pid == $pid) | .interval_s] | .[:-2] | add' "$out")
	run=$(awk '{ s += $1 } END { print s / NR }' "$TMP/runnable.$mode")
	lost=$(awk -v a="$cpu_lost0" -v b="$cpu_lost1" -v t="$(getconf CLK_TCK)" -v e="$el" \
		'BEGIN { x = (b - a) / t / e * 100; print (x > 100 ? 100 : x) }')
	tot=$(awk -v r="$run" -v l="$lost" 'BEGIN { print r + l }')
	# the ticks span a little more than the intervals: they can only
	# overstate, so the sum has a floor; runnable alone a ceiling
	within "$tot" 95 1000 && within "$run" 0 105 &&
		ok "$mode: runnable $run% + CPU's irq/steal $lost% = $tot% over the run" ||
		not_ok "$mode: runnable $run% + CPU's irq/steal $lost% = $tot% over the run, want >= 95 (runnable <= 105)"
done
finish
