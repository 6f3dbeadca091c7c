# Helpers of the sched probe's integration tests (bash), sourced after
# lib.sh. A hog is a busy loop under a known name, pinned to one CPU.

# The CPU the tests contend on: the last one (CPU 0 takes most interrupts).
SCHED_CPU=${KP_SCHED_CPU:-$(($(nproc) - 1))}

require_taskset() {
	command -v taskset >/dev/null || skip "taskset not installed (util-linux)"
}

# start_hog CPU: a shell busy loop named kp-hog (the name is the basename
# of the path it is run by) pinned to CPU. Sets HOG_PID.
start_hog() {
	ln -sf "$(command -v sh)" "$TMP/kp-hog"
	taskset -c "$1" "$TMP/kp-hog" -c 'while :; do :; done' &
	HOG_PID=$!
	BG_PIDS+=("$HOG_PID")
}

stop_hog() {
	kill -KILL "$HOG_PID" 2>/dev/null
	wait "$HOG_PID" 2>/dev/null
}

# vcpu_intervals FILE PID TID MIN_BUSY: one line per interval of that vCPU,
# "ready_pct cpu_pct", for the intervals it was runnable (running or
# waiting) at least MIN_BUSY percent of.
vcpu_intervals() {
	jq -r --argjson pid "$2" --argjson tid "$3" --argjson min "$4" '
		select(.type == "vm" and .vm.pid == $pid) | .vcpus[] |
		select(.tid == $tid and .run_delay != null) |
		select(.run_delay.ready_pct + .cpu_pct >= $min) |
		"\(.run_delay.ready_pct) \(.cpu_pct)"' "$1"
}

# near A B SPAN PCT: |A - B| <= PCT% of SPAN
near() {
	awk -v a="$1" -v b="$2" -v t="$3" -v p="$4" \
		'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= p / 100 * t) }'
}

# vcpu_cpu_ns FILE PID TID: the vCPU's CPU time over the run, in ns, from
# its records' cpu_pct (3 decimals: 1e-5 of an interval per record at most)
vcpu_cpu_ns() {
	jq -s --argjson pid "$2" --argjson tid "$3" '
		[.[] | select(.type == "vm" and .vm.pid == $pid) | .interval_s as $s |
		 .vcpus[] | select(.tid == $tid) | (.cpu_pct // 0) * $s * 1e7] |
		add | floor' "$1"
}

# within VALUE LO HI: 0 when LO <= VALUE <= HI
within() {
	awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'
}
