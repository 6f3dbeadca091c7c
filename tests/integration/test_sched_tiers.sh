#!/bin/bash
# The sched probe's two tiers (issue 10): totals from the kernel's own
# counters whatever the per-event tier does, and the per-event tier
# attached only as --sched-duty and --sched-trigger say, with its share
# written in every record.
#  - off (--sched-duty 0 --sched-trigger 0): run delay and CPU time per vCPU
#    within 2% of schedstat (the exerciser's own reading of its window), no
#    scheduler program attached at any time (bpftool), no histogram
#    samples, sched_events_pct 0 everywhere;
#  - half (--sched-duty 0.5, 1 s intervals: the duty cycle's period):
#    sched_events_pct 50 +-5 in every whole interval, totals still exact, the histogram holding a share of the
#    waits near the tier's;
#  - trigger (--sched-duty 0 --sched-trigger 5): one vCPU alone on its CPU
#    (no ready) keeps the tier off; a hog on that CPU turns it on all the
#    time, and the hog is named as the vCPU's preemptor.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_sched.sh"
require_root
require_kvm
require_bins
require_taskset
command -v bpftool >/dev/null || skip "bpftool not installed"

C=$SCHED_CPU

# attached_progs PID: the names of the BPF programs PID has attached, one
# per line: the programs of its link fds (fdinfo: link_id, prog_id)
attached_progs() {
	local f id
	for f in /proc/"$1"/fdinfo/*; do
		grep -q '^link_id:' "$f" 2>/dev/null || continue
		id=$(sed -n 's/^prog_id:[[:space:]]*//p' "$f")
		[ -n "$id" ] && bpftool prog show id "$id" -j 2>/dev/null | jq -r .name
	done
}

# exact NAME TRUTH_FILE KP_FILE: per vCPU, run delay and CPU time against
# the exerciser's schedstat readings, within 2%
exact() {
	local name=$1 truth=$2 kp=$3 pid tid i n want got
	pid=$(jq .pid "$truth")
	n=$(jq '.vcpus | length' "$truth")
	for ((i = 0; i < n; i++)); do
		tid=$(jq ".vcpus[$i].tid" "$truth")
		want=$(jq ".vcpus[$i] | .run_delay_ns - .run_delay_start_ns" "$truth")
		got=$(sum_vcpu "$kp" "$pid" "$tid" .run_delay.total_ns)
		near "$got" "$want" "$want" 2 && awk -v w="$want" 'BEGIN { exit !(w > 5e8) }' &&
			ok "$name: vCPU $i run delay $got ns = schedstat $want ns" ||
			not_ok "$name: vCPU $i run delay $got ns, schedstat $want ns: want within 2% (and > 0.5 s)"
		want=$(jq ".vcpus[$i] | .cpu_ns - .cpu_start_ns" "$truth")
		got=$(vcpu_cpu_ns "$kp" "$pid" "$tid")
		near "$got" "$want" "$want" 2 &&
			ok "$name: vCPU $i CPU time $got ns = schedstat $want ns" ||
			not_ok "$name: vCPU $i CPU time $got ns, schedstat $want ns: want within 2%"
	done
}

# contended NAME IV ARGS...: two vCPUs and a hog on CPU C, kvmprobe -i IV
# with ARGS;
# writes $TMP/NAME.truth and $TMP/NAME.json, and $TMP/NAME.progs: the
# programs kvmprobe had attached, sampled every 0.2 s of the run
contended() {
	local name=$1 iv=$2 x
	shift 2
	"$EXERCISER" --vcpus 2 --spin 4 --pin "$C" --delay-start 1 >"$TMP/$name.truth" &
	x=$!
	BG_PIDS+=("$x")
	start_probe "$TMP/$name.json" -i "$iv" --probes sched -p "$x" "$@" || return 1
	start_hog "$C"
	: >"$TMP/$name.progs"
	while kill -0 "$x" 2>/dev/null; do
		attached_progs "$PROBE_PID" >>"$TMP/$name.progs"
		sleep 0.2
	done
	wait "$x" || not_ok "$name: exerciser failed"
	stop_hog
	sleep 0.7
	stop_probe
}

# --- off
contended off 0.5 --sched-duty 0 --sched-trigger 0 || finish
exact off "$TMP/off.truth" "$TMP/off.json"
check_eq "off: the exit hook and the KVM_RUN marker stay attached" "yes" \
	"$(grep -q '^exit_' "$TMP/off.progs" && grep -q '^run_' "$TMP/off.progs" && echo yes || echo no)"
check_eq "off: no sched_switch or sched_wakeup program attached at any sample" 0 \
	"$(grep -c -E '^(switch|wakeup)_' "$TMP/off.progs")"
check_eq "off: no histogram sample" 0 \
	"$(jq -s '[.[] | select(.type == "vm") | .vcpus[] | .run_delay.hist.count // 0] | add // 0' "$TMP/off.json")"
check_eq "off: no preemptor" 0 \
	"$(jq -s '[.[] | select(.type == "vm") | .vcpus[] | (.preempted_by // []) | length] | add // 0' "$TMP/off.json")"
check_eq "off: sched_events_pct 0 in every interval and run_delay object" "0" \
	"$(jq -s '[.[] | select(.type == "interval") | .sched_events_pct] +
		[.[] | select(.type == "vm") | .run_delay.sched_events_pct, (.vcpus[] | .run_delay.sched_events_pct // empty)] |
		map(select(. != 0)) | length' "$TMP/off.json")"

# --- half: 1 s intervals, the duty cycle's period
contended half 1 --sched-duty 0.5 --sched-trigger 0 || finish
exact half "$TMP/half.truth" "$TMP/half.json"
# whole intervals: the first (from the start) and the last may be short
bad=$(jq -s '[.[] | select(.type == "interval")] | .[1:-1] |
	map(.sched_events_pct) | map(select(. < 45 or . > 55)) | length' "$TMP/half.json")
n=$(jq -s '[.[] | select(.type == "interval")] | .[1:-1] | length' "$TMP/half.json")
[ "$n" -ge 3 ] && [ "$bad" -eq 0 ] &&
	ok "half: sched_events_pct 50 +-5 in all $n whole intervals" ||
	not_ok "half: sched_events_pct out of 45-55 in $bad of $n whole intervals"
check_eq "half: the scheduler programs were attached at some samples and not at others" "yes" \
	"$(s=$(grep -c '^switch_' "$TMP/half.progs"); [ "$s" -gt 0 ] && [ "$s" -lt "$(grep -c '^run_' "$TMP/half.progs")" ] && echo yes || echo no)"
pid=$(jq .pid "$TMP/half.truth")
share=$(jq -s --argjson pid "$pid" '[.[] | select(.type == "vm" and .vm.pid == $pid) | .run_delay] |
	(map(.hist.sum_ns) | add) / (map(.total_ns) | add)' "$TMP/half.json")
within "$share" 0.3 0.7 &&
	ok "half: the histogram holds $share of the run delay (tier attached half the time)" ||
	not_ok "half: the histogram holds $share of the run delay, want 0.3-0.7"

# --- trigger: one vCPU alone on its CPU, then a hog beside it
"$EXERCISER" --vcpus 1 --spin 4 --pin "$C" --delay-start 0.5 >"$TMP/trig.truth" &
X=$!
BG_PIDS+=("$X")
start_probe "$TMP/trig.json" -i 0.5 --probes sched -p "$X" --sched-duty 0 --sched-trigger 5 || finish
sleep 2
start_hog "$C"
wait "$X" || not_ok "trigger: exerciser failed"
stop_hog
sleep 0.7
stop_probe
pid=$(jq .pid "$TMP/trig.truth")
tid=$(jq '.vcpus[0].tid' "$TMP/trig.truth")
# the vCPU's intervals, in order: "ready_pct sched_events_pct"
jq -r --argjson pid "$pid" 'select(.type == "vm" and .vm.pid == $pid) |
	.vcpus[0].run_delay | "\(.ready_pct) \(.sched_events_pct)"' "$TMP/trig.json" >"$TMP/trig.rows"
check_eq "trigger: no per-event tier while the vCPU had its CPU alone (ready < 5%)" 0 \
	"$(awk '$1 < 1 && $2 != 0 { n++ } END { print n + 0 }' "$TMP/trig.rows")"
on=$(awk '$1 > 20 && $2 >= 99 { n++ } END { print n + 0 }' "$TMP/trig.rows")
[ "$on" -ge 2 ] && ok "trigger: all the time while contended ($on intervals at >= 99%)" ||
	not_ok "trigger: $on contended intervals with the tier on all the time, want >= 2 ($(tr '\n' ';' <"$TMP/trig.rows"))"
hog=$(jq -s --argjson pid "$pid" '[.[] | select(.type == "vm" and .vm.pid == $pid) |
	.vcpus[0].preempted_by[]? | select(.comm == "kp-hog") | .ns] | add // 0' "$TMP/trig.json")
[ "$hog" -gt 500000000 ] && ok "trigger: the hog named as preemptor ($hog ns)" ||
	not_ok "trigger: the hog preempted for $hog ns, want > 0.5 s"
exact trigger "$TMP/trig.truth" "$TMP/trig.json"
check_eq "no events lost" 0 \
	"$(jq -s '[.[] | select(.type == "interval") | .lost.sched] | add' "$TMP/off.json" "$TMP/half.json" "$TMP/trig.json")"
finish
