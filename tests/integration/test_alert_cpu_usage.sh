#!/bin/bash
# The built-in VM CPU usage rule (vm_cpu_usage_warning: the vCPUs' average
# %USED above 80%, clear at 75%), its "for" cut to 1 s by a file rule of
# the same name, fired by a real busy vCPU and resolved by a real drop:
# the spinning vCPU thread, pinned, in a cgroup of nice -10's weight (other
# load on the shared machine barely touches it), runs ~100%; then the test
# gives the cgroup a 20% CPU quota and the vCPU runs 20%. The cgroup is
# removed at exit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_sched.sh"
require_root
require_kvm
require_bins
require_taskset

V1=/sys/fs/cgroup/cpu
[ -e "$V1/cpu.cfs_quota_us" ] || skip "no cgroup v1 cpu controller at $V1"
CG="$V1/kp-alert-cpu-test.$$"
trap 'cleanup; rmdir "$CG" 2>/dev/null' EXIT
mkdir "$CG" && echo 9548 >"$CG/cpu.shares" || { not_ok "failed to create $CG"; finish; }

cat >"$TMP/kp.conf" <<CONF
[kvmprobe]
interval = 0.5
format = json
output = $TMP/kp.json

[alert vm_cpu_usage_warning]
metric = cpu_pct
stat = avg_pct
scope = vm
above = 80
clear = 75
for = 1s
severity = warning
CONF
"$EXERCISER" --vcpus 1 --spin 9 --pin "$SCHED_CPU" --delay-start 1 >"$TMP/truth.json" &
X=$!
BG_PIDS+=("$X")
for i in $(seq 1 50); do
	tid=$(grep -l '^CPU 0/KVM$' /proc/$X/task/*/comm 2>/dev/null | cut -d/ -f5)
	[ -n "$tid" ] && break
	sleep 0.02
done
[ -n "$tid" ] && echo "$tid" >"$CG/tasks" || { not_ok "failed to move the vCPU into $CG"; finish; }
"$KVMPROBE" --config "$TMP/kp.conf" -p "$X" 2>"$TMP/kp.err" &
P=$!
BG_PIDS+=("$P")
sleep 5
echo 20000 >"$CG/cpu.cfs_quota_us"
sleep 4
kill -INT "$P"
wait "$P"
check_eq "kvmprobe exits 0" 0 $?
wait "$X"

check_eq "the rule fired while the vCPU was busy and resolved at 20%" \
	"firing,resolved" "$(jq -rs --argjson p "$X" '[.[] | select(.type == "alert" and
		.rule == "vm_cpu_usage_warning" and .vm.pid == $p) | .state] | join(",")' "$TMP/kp.json")"
check_eq "the firing event: VM scope, warning, value above 80, threshold 80" \
	"null warning true 80" "$(jq -rs --argjson p "$X" '[.[] | select(.type == "alert" and
		.rule == "vm_cpu_usage_warning" and .vm.pid == $p and .state == "firing")][0] |
		"\(.vcpu) \(.severity) \(.value > 80) \(.threshold)"' "$TMP/kp.json")"
check_eq "the resolved event has the value it dropped to (<= 75)" true \
	"$(jq -rs --argjson p "$X" '[.[] | select(.type == "alert" and
		.rule == "vm_cpu_usage_warning" and .vm.pid == $p and .state == "resolved")][0] |
		.value != null and .value <= 75' "$TMP/kp.json")"
# the other built-in rules stay on beside the file's (none fires here)
check_eq "no other rule fired" "" "$(jq -rs --argjson p "$X" '[.[] | select(.type == "alert" and
	.rule != "vm_cpu_usage_warning" and .vm.pid == $p) | .rule] | unique | join(",")' "$TMP/kp.json")"
finish
