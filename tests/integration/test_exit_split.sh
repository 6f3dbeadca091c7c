#!/bin/bash
# Where exit handling goes: the VMM's handling of its userspace exits,
# split into on a CPU, waiting for one and blocked (probes exits + sched,
# the per-event tier), against what the exerciser's handlers measured of
# themselves (io_handler: wall clock, thread CPU clock, schedstat run delay
# around the work; the wall time inside nanosleep):
#  - handlers that sleep: blocked is the time asleep (no more; less the
#    syscall's own CPU and the wake-up's wait, a few tens of µs per sleep);
#  - handlers that spin: on a CPU at least the handlers' CPU time, blocked
#    nothing;
#  - handlers that spin on a CPU a hog shares: waiting at least the
#    handlers' run delay and at most the thread's.
# The three always add up to userspace_time; /metrics has them too (the
# sched probe's per-event tier attached all the time: --sched-duty 1).
# Without the sched probe, with its programs as raw tracepoints (no task
# storage) or with its per-event tier off, there is no split: the records
# say nothing rather than 0. With the tier on half the time, only records
# all of whose handlings it saw from start to end have a split.
. "$(dirname "$0")/lib.sh"
require_root
require_kvm
require_bins
command -v taskset >/dev/null || skip "taskset not installed (util-linux)"
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs (a hog on one)"

N=1000
IV=0.25
PORT=$(free_port 19677)

# run NAME EXERCISER-ARGS...: the exerciser under a kvmprobe of its own.
# /metrics is read while the guest spins after its OUTs (a VM's series go
# with its VMM): the last OUT's handling is in only when the next exit
# (the done OUT) closes it.
run() {
	local name=$1 i x
	shift
	start_probe "$TMP/$name.json" -i $IV --probes exits,sched \
		--sched-duty 1 --listen "127.0.0.1:$PORT" || exit 1
	"$EXERCISER" --io $N --spin 2 "$@" >"$TMP/$name.x.json" &
	x=$!
	for i in $(seq 1 200); do
		[ "$(sum_vm "$TMP/$name.json" "$x" .userspace_time.IO.count)" -ge $((N - 1)) ] &&
			break
		sleep 0.1
	done
	sleep $IV
	curl -sf "http://127.0.0.1:$PORT/metrics" >"$TMP/$name.metrics" ||
		not_ok "$name: GET /metrics failed"
	wait "$x" || not_ok "$name: the exerciser failed"
	sleep $IV
	sleep 0.2
	stop_probe
}
x() { jq ".vcpus[0].$2" "$TMP/$1.x.json"; }
pid_of() { jq .pid "$TMP/$1.x.json"; }
kp() { sum_vm "$TMP/$1.json" "$(pid_of "$1")" "$2"; }
# between DESC LO HI GOT
between() {
	if [ "$4" -ge "$2" ] && [ "$4" -le "$3" ]; then
		ok "$1 ($4 in $2..$3)"
	else
		not_ok "$1: $4 not in $2..$3"
	fi
}
# the three add up to userspace_time, and /metrics has them
adds_up() {
	local name=$1 sum on w b pid longest
	on=$(kp "$name" .userspace_oncpu_ns.IO)
	w=$(kp "$name" .userspace_waiting_ns.IO)
	b=$(kp "$name" .userspace_blocked_ns.IO)
	sum=$(kp "$name" .userspace_time.IO.sum_ns)
	check_eq "$name: on a CPU + waiting + blocked = userspace_time" "$sum" $((on + w + b))
	pid=$(pid_of "$name")
	# all but the last handling: at most as long as the longest one (the
	# upper bound of the highest bucket recorded; a spin beside the hog
	# can wait for the CPU several ms)
	longest=$(jq -s --argjson pid "$pid" '[.[] | select(.type == "vm" and .vm.pid == $pid) |
		.userspace_time.IO.buckets[]?[0]] | max' "$TMP/$name.json")
	between "$name: /metrics, the three series: the records' before the last OUT" \
		$((sum - longest)) "$sum" \
		"$(awk -v pid="pid=\"$pid\"" 'index($1, "kvmprobe_userspace_exit_handling_") == 1 && $1 ~ /_(oncpu|waiting|blocked)_seconds_total\{/ && index($1, pid) && index($1, "reason=\"IO\"") { s += $2; n++ } END { if (n == 3) printf "%.0f\n", s * 1e9; else print "missing" }' "$TMP/$name.metrics")"
}

# handlers that sleep 1 ms
run sleep --io-sleep 0.001
check_eq "sleep: $N handlers measured" $N "$(x sleep io_handler.n)"
check_eq "sleep: the VMM handled $((N + 1)) IO exits" $((N + 1)) \
	"$(kp sleep .userspace_exits.IO)"
adds_up sleep
slept=$(x sleep io_handler.sleep_ns)
between "sleep: blocked is the time asleep, less at most 150 us a sleep" \
	$((slept - N * 150000)) "$slept" "$(kp sleep .userspace_blocked_ns.IO)"

# handlers that spin 300 us of CPU
run spin --io-spin 0.0003
adds_up spin
cpu=$(x spin io_handler.cpu_ns)
between "spin: on a CPU at least the handlers' CPU time" "$cpu" \
	"$(kp spin .userspace_time.IO.sum_ns)" "$(kp spin .userspace_oncpu_ns.IO)"
between "spin: blocked at most 20 us a handler" 0 $((N * 20000)) \
	"$(kp spin .userspace_blocked_ns.IO)"

# the same on CPU 1, which a hog shares
taskset -c 1 bash -c 'while :; do :; done' &
hog=$!
BG_PIDS+=("$hog")
run hog --io-spin 0.0003 --pin 1
kill "$hog"
adds_up hog
hd=$(x hog io_handler.run_delay_ns)
td=$(( $(x hog run_delay_ns) - $(x hog run_delay_start_ns) ))
between "hog: waiting at least the handlers' run delay, at most the thread's" \
	$((hd * 95 / 100)) "$td" "$(kp hog .userspace_waiting_ns.IO)"
between "hog: the handlers waited for a good part of their time" \
	$(( $(kp hog .userspace_time.IO.sum_ns) / 5 )) \
	"$(kp hog .userspace_time.IO.sum_ns)" "$(kp hog .userspace_waiting_ns.IO)"

# no split without the per-event tier
i=0
for how in "--probes exits" "--probes exits,sched --attach tracepoint" \
	"--probes exits,sched --sched-duty 0 --sched-trigger 0"; do
	i=$((i + 1))
	start_probe "$TMP/none$i.json" -i $IV $how || exit 1
	"$EXERCISER" --io 200 --io-sleep 0.0005 >"$TMP/none$i.x.json" ||
		not_ok "the exerciser failed"
	sleep 0.5
	stop_probe
	pid=$(jq .pid "$TMP/none$i.x.json")
	check_eq "$how: userspace exits still timed" 200 \
		"$(sum_vm "$TMP/none$i.json" "$pid" .userspace_time.IO.count)"
	check_eq "$how: no split in the records" 0 \
		"$(jq -s --argjson pid "$pid" '[.[] | select(.type == "vm" and .vm.pid == $pid) | select(has("userspace_oncpu_ns") or has("userspace_blocked_ns") or has("userspace_waiting_ns"))] | length' "$TMP/none$i.json")"
done

# the per-event tier half the time (0.5 s of every second, 0.25 s
# intervals): a handling is split only when the tier was attached from its
# start to its end, and a record has a split only when all its handlings
# were: none in an interval the tier never ran; where there is one, each
# 1 ms sleep is in it (blocked at least 850 us a handling)
start_probe "$TMP/half.json" -i $IV --probes exits,sched --sched-duty 0.5 \
	--sched-trigger 0 || exit 1
"$EXERCISER" --io 3000 --io-sleep 0.001 >"$TMP/half.x.json" ||
	not_ok "the exerciser failed"
sleep 0.5
stop_probe
pid=$(jq .pid "$TMP/half.x.json")
# per interval with handlings: "sched_events_pct has_split count blocked_ns"
jq -rs --argjson pid "$pid" '
	(map(select(.type == "interval") | {key: .ts, value: .sched_events_pct}) | from_entries) as $cov |
	.[] | select(.type == "vm" and .vm.pid == $pid and .userspace_time.IO.count > 0) |
	"\($cov[.ts]) \(has("userspace_blocked_ns")) \(.userspace_time.IO.count) \(.userspace_blocked_ns.IO // 0)"' \
	"$TMP/half.json" >"$TMP/half.rows"
check_eq "half: no split in an interval the tier never ran in" 0 \
	"$(awk '$2 == "true" && $1 == 0 { n++ } END { print n + 0 }' "$TMP/half.rows")"
with=$(grep -c ' true ' "$TMP/half.rows")
without=$(grep -c ' false ' "$TMP/half.rows")
[ "$with" -gt 0 ] && [ "$without" -gt 0 ] &&
	ok "half: $with intervals with a split, $without without" ||
	not_ok "half: $with intervals with a split, $without without: want both"
check_eq "half: where written, the split holds every sleep (blocked >= 850 us a handling)" 0 \
	"$(awk '$2 == "true" && $4 < $3 * 850000 { n++ } END { print n + 0 }' "$TMP/half.rows")"
check_eq "half: where written, the split adds up to userspace_time" 0 \
	"$(jq -s --argjson pid "$pid" '[.[] | select(.type == "vm" and .vm.pid == $pid and has("userspace_blocked_ns")) |
		select(.userspace_time.IO.sum_ns != ((.userspace_oncpu_ns.IO // 0) + (.userspace_waiting_ns.IO // 0) + (.userspace_blocked_ns.IO // 0)))] | length' "$TMP/half.json")"
finish
