#!/bin/bash
# A VMM that lives for less than one interval (the exerciser with 20,000
# OUTs, a fraction of a second) keeps its vCPU indexes: the index is taken
# when the thread is first seen (its name "CPU <n>/KVM" when it enters
# KVM_RUN), not looked up in /proc after the VMM is gone. Every probe mix
# that reports vCPUs: all probes, exits alone, sched alone.
. "$(dirname "$0")/lib.sh"
require_root
require_kvm
require_bins

run_case() { # run_case NAME PROBES
	local name=$1 probes=$2 out=$TMP/kp.$1.json truth=$TMP/truth.$1.json
	start_probe "$out" -i 2 --probes "$probes" || exit 1
	"$EXERCISER" --vcpus 2 --io 20000 >"$truth" ||
		{ not_ok "$name: exerciser failed"; return; }
	sleep 0.3
	stop_probe
	pid=$(jq .pid "$truth")
	check_eq "$name: the short-lived VMM is reported" true \
		"$(jq -s --argjson p "$pid" '[.[] | select(.type == "vm" and .vm.pid == $p)] | length > 0' "$out")"
	check_eq "$name: each vCPU thread has the index the VMM gave it" \
		"$(jq -r '[.vcpus[] | "\(.index) \(.tid)"] | sort | join(";")' "$truth")" \
		"$(jq -rs --argjson p "$pid" '[.[] | select(.type == "vm" and .vm.pid == $p) | .vcpus[] | "\(.index) \(.tid)"] | unique | sort | join(";")' "$out")"
}

run_case all exits,sched,block,net
run_case exits exits
run_case sched sched
finish
