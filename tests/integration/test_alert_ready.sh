#!/bin/bash
# Real contention drives a CPU-ready rule to firing, and the rule resolves
# after the contention stops: a spinning vCPU and a hog share one CPU
# (ready ~50%), then the hog goes away (ready ~0%).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_sched.sh"
require_root
require_kvm
require_bins
require_taskset

cat >"$TMP/kp.conf" <<CONF
[kvmprobe]
interval = 0.5
format = json
output = $TMP/kp.json

[alerts]
defaults = no

[alert ready_test]
metric = run_delay
stat = pct
scope = vcpu
above = 30
clear = 10
for = 1s
severity = critical
CONF
"$EXERCISER" --vcpus 1 --spin 9 --pin "$SCHED_CPU" --delay-start 1 >"$TMP/truth.json" &
X=$!
BG_PIDS+=("$X")
"$KVMPROBE" --config "$TMP/kp.conf" -p "$X" 2>"$TMP/kp.err" &
P=$!
BG_PIDS+=("$P")
sleep 1
start_hog "$SCHED_CPU"
sleep 4
stop_hog
sleep 4
kill -INT "$P"
wait "$P"
check_eq "kvmprobe exits 0" 0 $?
wait "$X"

states() { # the alert states of vCPU $1 of the exerciser, in order
	jq -rs --argjson p "$X" --argjson v "$1" \
		'[.[] | select(.type == "alert" and .rule == "ready_test" and .vm.pid == $p and .vcpu == $v) | .state] | join(",")' \
		"$TMP/kp.json"
}
for v in 0; do
	check_eq "vCPU $v: fired under contention, resolved after it" \
		"firing,resolved" "$(states $v)"
	fired=$(jq -rs --argjson p "$X" --argjson v $v \
		'[.[] | select(.type == "alert" and .vm.pid == $p and .vcpu == $v and .state == "firing")][0] | "\(.severity) \(.value > 30) \(.threshold)"' \
		"$TMP/kp.json")
	check_eq "vCPU $v: the firing event carries severity, value and threshold" \
		"critical true 30" "$fired"
done
finish
