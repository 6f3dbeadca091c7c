#!/bin/bash
# Halt polling, kernel-counter tier (probe haltpoll): a guest whose HLTs
# wait in the kernel (exerciser --hlt-wake: in-kernel irqchip, a timer
# interrupt every 200 us) makes KVM poll; kvmprobe's halts, poll wins and
# failures and poll/wait times equal the vCPU's own counters, which the
# exerciser reads through KVM_GET_STATS_FD (a different kernel interface)
# when it ends: exactly in NDJSON counts and /metrics, within the
# percentages' rounding in NDJSON times. A guest whose HLTs exit to the VMM
# (no irqchip) halts without polling. The per-event halt histogram
# (kvm_vcpu_wakeup, one sample per in-kernel halt) agrees. The halts last
# longer than the probe's 10 s between full passes over the host's files:
# the VMM is read through its own iterator before, across and after one.
. "$(dirname "$0")/lib.sh"
require_root
require_kvm
require_bins
command -v curl >/dev/null || skip "curl not installed"

PORT=$(free_port 19577)
IV=0.25
HLT=40000

start_probe "$TMP/kp.json" -i $IV --listen "127.0.0.1:$PORT" || exit 1
check_eq "the haltpoll probe attached through its iterator" "iter/task_file" \
	"$(jq -rs '[.[] | select(.type == "start")][0].probes[] | select(.name == "haltpoll") | .programs.kvm_vcpu_stat' "$TMP/kp.json")"

# the halts, then a spin in guest code (no halts) while kvmprobe reads the
# final counters and we scrape
"$EXERCISER" --hlt $HLT --hlt-wake 0.0002 --spin 3 >"$TMP/wake.json" &
X=$!
BG_PIDS+=("$X")
for i in $(seq 1 400); do
	[ "$(sum_vm "$TMP/kp.json" "$X" .halts)" -ge $HLT ] && break
	sleep 0.1
done
sleep $IV
curl -sf "http://127.0.0.1:$PORT/metrics" >"$TMP/metrics.txt" ||
	not_ok "GET /metrics failed"
wait "$X"
check_eq "the exerciser with in-kernel halts ends 0" 0 $?

"$EXERCISER" --hlt 500 --spin 1 >"$TMP/exit.json" ||
	not_ok "the exerciser with HLT exits failed"
Y=$(jq .pid "$TMP/exit.json")
sleep 0.5
stop_probe

t=$TMP/wake.json
tid=$(jq '.vcpus[0].tid' "$t")
k() { jq ".vcpus[0].kstats.$1" "$t"; }
check_eq "the guest halted $HLT times" $HLT "$(jq '.vcpus[0].hlt' "$t")"
check_eq "KVM counted $HLT HLTs (halt_exits)" $HLT "$(k halt_exits)"
check_eq "halts equal halt_exits" "$(k halt_exits)" \
	"$(sum_vcpu "$TMP/kp.json" "$X" "$tid" .halts)"
check_eq "the VM's halts sum its vCPU's" "$(k halt_exits)" \
	"$(sum_vm "$TMP/kp.json" "$X" .halts)"
check_eq "halt_polls.win equals halt_successful_poll" \
	"$(k halt_successful_poll)" \
	"$(sum_vcpu "$TMP/kp.json" "$X" "$tid" .halt_polls.win)"
check_eq "halt_polls.fail equals halt_attempted_poll - halt_successful_poll" \
	"$(( $(k halt_attempted_poll) - $(k halt_successful_poll) ))" \
	"$(sum_vcpu "$TMP/kp.json" "$X" "$tid" .halt_polls.fail)"
[ "$(k halt_attempted_poll)" -gt 0 ] && ok "KVM polled ($(k halt_attempted_poll) polls)" ||
	not_ok "KVM never polled: halt_poll_ns is $(cat /sys/module/kvm/parameters/halt_poll_ns)"

# pct x the record's interval, summed: each record rounds the pct to
# 0.001 % of its interval and the interval to 1 ms (0.2 % of 0.25 s)
records=$(jq -s --argjson pid "$X" '[.[] | select(.type == "vm" and .vm.pid == $pid)] | length' "$TMP/kp.json")
near_ns() { # DESC WANT_NS KEY
	local got
	got=$(jq -s --argjson pid "$X" --argjson tid "$tid" \
		"[.[] | select(.type == \"vm\" and .vm.pid == \$pid) | .interval_s as \$s | .vcpus[] | select(.tid == \$tid) | (.$3 // 0) * \$s * 1e7] | add // 0 | round" \
		"$TMP/kp.json")
	if awk -v w="$2" -v g="$got" -v n="$records" \
		'BEGIN { d = w - g; if (d < 0) d = -d; exit !(d <= n * 1300 + w * 0.002 + 1) }'; then
		ok "$1 ($got ns, truth $2 ns)"
	else
		not_ok "$1: truth $2 ns, got $got ns"
	fi
}
near_ns "poll_win_pct x interval is halt_poll_success_ns" "$(k halt_poll_success_ns)" poll_win_pct
near_ns "poll_fail_pct x interval is halt_poll_fail_ns" "$(k halt_poll_fail_ns)" poll_fail_pct
near_ns "halt_wait_pct x interval is halt_wait_ns" "$(k halt_wait_ns)" halt_wait_pct

# /metrics: the counters since kvmprobe began, exact
prom() { # NAME [LABEL]
	awk -v pid="pid=\"$X\"" -v name="$1" -v lab="${2:-}" \
		'index($1, name "{") == 1 && index($1, pid) && (lab == "" || index($1, lab)) { s += $2 } END { printf "%.0f\n", s * (name ~ /seconds/ ? 1e9 : 1) }' \
		"$TMP/metrics.txt"
}
check_eq "/metrics kvmprobe_vcpu_halts_total" "$(k halt_exits)" \
	"$(prom kvmprobe_vcpu_halts_total)"
check_eq "/metrics halt polls that won" "$(k halt_successful_poll)" \
	"$(prom kvmprobe_vcpu_halt_polls_total 'outcome="win"')"
check_eq "/metrics halt polls that failed" \
	"$(( $(k halt_attempted_poll) - $(k halt_successful_poll) ))" \
	"$(prom kvmprobe_vcpu_halt_polls_total 'outcome="fail"')"
check_eq "/metrics poll win seconds" "$(k halt_poll_success_ns)" \
	"$(prom kvmprobe_vcpu_halt_poll_win_seconds_total)"
check_eq "/metrics poll fail seconds" "$(k halt_poll_fail_ns)" \
	"$(prom kvmprobe_vcpu_halt_poll_fail_seconds_total)"
check_eq "/metrics halt wait seconds" "$(k halt_wait_ns)" \
	"$(prom kvmprobe_vcpu_halt_wait_seconds_total)"

# the per-event tier: one kvm_vcpu_wakeup per in-kernel halt, each of
# which may have polled; a HLT whose interrupt was already pending
# neither halts nor polls
events=$(sum_vm "$TMP/kp.json" "$X" '([.halt[]?.count] | add)')
if [ "$events" -ge "$(k halt_attempted_poll)" ] && [ "$events" -le $HLT ]; then
	ok "per-event halts lie between the polls and the HLTs ($events)"
else
	not_ok "per-event halts $events: want $(k halt_attempted_poll)..$HLT"
fi

# HLTs that exit to the VMM: counted, never polled
ytid=$(jq '.vcpus[0].tid' "$TMP/exit.json")
check_eq "HLT exits: the VMM saw 500" 500 "$(jq '.vcpus[0].exits.HLT' "$TMP/exit.json")"
check_eq "HLT exits: halts equal halt_exits" \
	"$(jq '.vcpus[0].kstats.halt_exits' "$TMP/exit.json")" \
	"$(sum_vcpu "$TMP/kp.json" "$Y" "$ytid" .halts)"
check_eq "HLT exits: no poll" 0 \
	"$(sum_vcpu "$TMP/kp.json" "$Y" "$ytid" '((.halt_polls.win // 0) + (.halt_polls.fail // 0))')"
finish
