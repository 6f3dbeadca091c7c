#!/bin/bash
# CPU limit vs contention (esxtop %MLMTD vs %RDY), live on cgroup v1 (the
# cpu controller this machine mounts; v2 is covered by the unit tests'
# fixtures). One spinning vCPU pinned to a CPU, three cases:
#  limit:      its own cgroup with quota 50000/100000, no other load on the
#              CPU: limited ~ 50%, ready ~ 0
#  contention: no limit, a hog on the same CPU: ready ~ 50%, limited ~ 0
#  both:       quota 30000/100000 and the hog: both, and limited + ready is
#              the run delay the exerciser's schedstat saw, within 2% of
#              the time; limited follows the cgroup's own throttled_time.
# Each vCPU's figures are summed over the intervals it spun in (the kernel
# adds a throttled span when it ends, so single intervals jitter by up to
# a period). The machine is shared: the exerciser's cgroup and the hog get
# the weight of nice -10 (cpu.shares 9548), so other load barely touches
# the CPU, and a premise check (schedstat, the cgroup's own throttled_time)
# skips when it still did. Every cgroup the test makes is removed, also on
# failure.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_sched.sh"
require_root
require_kvm
require_bins
require_taskset

V1=/sys/fs/cgroup/cpu
[ -w "$V1/cgroup.procs" ] && [ -e "$V1/cpu.cfs_quota_us" ] ||
	skip "no cgroup v1 cpu controller at $V1"
CG_MADE=()
trap 'cleanup; for d in "${CG_MADE[@]+"${CG_MADE[@]}"}"; do rmdir "$d" 2>/dev/null; done' EXIT

command -v curl >/dev/null || skip "curl not installed"
C=$SCHED_CPU
SPIN=5
for PORT in $(seq 19577 19627); do # a free port for /metrics
	(exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null || break
done

# mkcg NAME QUOTA: a cgroup with QUOTA us per 100 ms (-1: none) and the
# weight of nice -10, removed at exit. Sets CG to its path.
mkcg() {
	CG="$V1/kp-limit-test.$$.$1"
	mkdir "$CG" || return 1
	CG_MADE+=("$CG")
	echo 100000 >"$CG/cpu.cfs_period_us" &&
		echo "$2" >"$CG/cpu.cfs_quota_us" &&
		echo 9548 >"$CG/cpu.shares"
}

# run CASE QUOTA HOG: the exerciser's vCPU thread (alone in a new cgroup
# with QUOTA, as libvirt puts each vCPU in its own vcpuN cgroup) spinning
# SPIN s on CPU C, and when HOG is 1 a hog there (in a cgroup of the same
# weight: the two share the CPU half and half when neither is throttled).
# kvmprobe records into $TMP/CASE.json, the exerciser's truth goes to
# $TMP/CASE.truth, the cgroup's throttled_time delta to $TMP/CASE.thr.
run() {
	local name=$1 cg hcg x t0 t1 tid="" i
	mkcg "$name" "$2" || { not_ok "$name: failed to create a cgroup"; return 1; }
	cg=$CG
	"$EXERCISER" --spin "$SPIN" --pin "$C" --delay-start 1 >"$TMP/$name.truth" &
	x=$!
	BG_PIDS+=("$x")
	for i in $(seq 1 50); do # the vCPU thread exists before its KVM_RUN
		tid=$(grep -l '^CPU 0/KVM$' /proc/$x/task/*/comm 2>/dev/null |
		      cut -d/ -f5)
		[ -n "$tid" ] && break
		sleep 0.02
	done
	[ -n "$tid" ] && echo "$tid" >"$cg/tasks" ||
		{ not_ok "$name: failed to move the vCPU thread into $cg"; return 1; }
	start_probe "$TMP/$name.json" -i 1 --probes sched -p "$x" \
		--listen "127.0.0.1:$PORT" || return 1
	if [ "$3" = 1 ]; then # lib_sched.sh's hog, in its own cgroup
		mkcg "$name-hog" -1 || { not_ok "$name: failed to create a cgroup"; return 1; }
		hcg=$CG
		ln -sf "$(command -v sh)" "$TMP/kp-hog"
		sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$hcg" \
			taskset -c "$C" "$TMP/kp-hog" -c 'while :; do :; done' &
		HOG_PID=$!
		BG_PIDS+=("$HOG_PID")
	fi
	t0=$(awk '/^throttled_time/ { print $2 }' "$cg/cpu.stat")
	if [ "$name" = limit ]; then # the text view and /metrics, mid-spin
		"$KVMPROBE" -f text --vcpus --probes sched -p "$x" -i 1 -c 4 \
			>"$TMP/limit.txt" 2>&1 &
		BG_PIDS+=("$!")
		sleep 3.5
		curl -sf "http://127.0.0.1:$PORT/metrics" >"$TMP/limit.prom" ||
			not_ok "limit: failed to scrape /metrics"
	fi
	wait "$x" || not_ok "$name: exerciser failed"
	t1=$(awk '/^throttled_time/ { print $2 }' "$cg/cpu.stat")
	[ "$3" = 1 ] && stop_hog
	sleep 1.2
	stop_probe
	echo $((t1 - t0)) >"$TMP/$name.thr"
	echo "$x" >"$TMP/$name.pid"
}

# total NAME JQ: the sum over the run of JQ (a percentage) of the vCPU's
# records, in ns
total() {
	jq -s --argjson pid "$(cat "$TMP/$1.pid")" "
		[.[] | select(.type == \"vm\" and .vm.pid == \$pid) | .interval_s as \$s |
		 .vcpus[0] | select(.run_delay != null) | ($2) * \$s * 1e7] | add // 0 | floor" \
		"$TMP/$1.json"
}

# sums NAME: "limited ready delay spun source n" of the vCPU over the
# intervals it was runnable (ready + limited + cpu >= 95%): percentages
# of the time of those intervals; delay is the record's run delay total.
sums() {
	local tid
	tid=$(jq '.vcpus[0].tid' "$TMP/$1.truth")
	jq -rs --argjson pid "$(cat "$TMP/$1.pid")" --argjson tid "$tid" '
		[.[] | select(.type == "vm" and .vm.pid == $pid) | .interval_s as $s |
		 .vcpus[] | select(.tid == $tid and .run_delay != null) |
		 select(.run_delay.ready_pct + (.limited_pct // 0) + .cpu_pct >= 95) |
		 {s: $s, l: (.limited_pct // 0), r: .run_delay.ready_pct,
		  d: (.run_delay.total_ns / $s / 1e7), src: .limited_source}] |
		(map(.s) | add) as $t |
		"\(map(.l * .s) | add / $t) \(map(.r * .s) | add / $t) \(map(.d * .s) | add / $t) \($t) \(map(.src) | unique | join(",")) \(length)"' \
		"$TMP/$1.json"
}

run limit 50000 0 || finish
read -r lim rdy dly t src n <<<"$(sums limit)"
echo "# limit: limited $lim% ready $rdy% run delay $dly% over $t s ($n intervals, $src)"
# The premise: nothing else ran on CPU C, so the exerciser's whole run
# delay (schedstat) was its cgroup's throttling (cpu.stat).
thr=$(cat "$TMP/limit.thr")
truth=$(jq '.vcpus[0].run_delay_ns' "$TMP/limit.truth")
spun=$(jq '.vcpus[0].cpu_ns + .vcpus[0].run_delay_ns' "$TMP/limit.truth")
echo "# limit: schedstat run delay $truth ns, throttled_time $thr ns, of $spun ns"
near "$thr" "$truth" "$spun" 3 ||
	skip "CPU $C has other load: run delay $truth ns, of it throttled $thr ns (cpu.stat)"
[ "$n" -ge 3 ] && ok "limit: $n intervals spinning" || not_ok "limit: $n intervals, want >= 3"
check_eq "limit: limited_source" cgroup_v1 "$src"
within "$lim" 40 60 && ok "limit: limited $lim% (50 ±10)" ||
	not_ok "limit: limited $lim%, want 50 ±10"
within "$rdy" 0 3 && ok "limit: ready $rdy% (<= 3)" ||
	not_ok "limit: ready $rdy%, want <= 3"
# /metrics: the counter and the tier, per vCPU
grep -q "^kvmprobe_vcpu_limited_seconds_total{pid=\"$(cat "$TMP/limit.pid")\",vcpu=\"0\"} [0-9.]" \
	"$TMP/limit.prom" && ok "limit: /metrics has kvmprobe_vcpu_limited_seconds_total" ||
	not_ok "limit: /metrics lacks kvmprobe_vcpu_limited_seconds_total: $(grep limited "$TMP/limit.prom")"
grep -q "^kvmprobe_vcpu_limited_source_info{pid=\"$(cat "$TMP/limit.pid")\",vcpu=\"0\",source=\"cgroup_v1\"} 1" \
	"$TMP/limit.prom" && ok "limit: /metrics says the source is cgroup_v1" ||
	not_ok "limit: /metrics lacks the source series"
# the text view: a %LMT column, and the vCPU row has the limit there
col=$(awk '$1 == "PID" { for (i = 1; i <= NF; i++) if ($i == "%LMT") print i; exit }' "$TMP/limit.txt")
check_eq "limit: the text view has a %LMT column" 6 "${col:-none}"
best=$(awk '$1 == "vcpu0" { if ($7 != "-" && $7 > m) m = $7 } END { print m + 0 }' "$TMP/limit.txt")
within "$best" 40 60 && ok "limit: text view vcpu0 %LMT $best" ||
	not_ok "limit: text view vcpu0 %LMT $best, want 40..60"
lim_ns=$(total limit '.limited_pct // 0')
near "$lim_ns" "$thr" "$spun" 2 &&
	ok "limit: limited $lim_ns ns = the cgroup's throttled_time $thr ns (±2% of $spun ns)" ||
	not_ok "limit: limited $lim_ns ns, cgroup throttled_time $thr ns, want within 2% of $spun ns"
sum_ns=$(total limit '.run_delay.ready_pct + (.limited_pct // 0)')
near "$sum_ns" "$truth" "$spun" 2 &&
	ok "limit: limited + ready $sum_ns ns = schedstat run delay $truth ns (±2% of $spun ns)" ||
	not_ok "limit: limited + ready $sum_ns ns, schedstat run delay $truth ns, want within 2% of $spun ns"

run contention -1 1 || finish
read -r lim rdy dly t src n <<<"$(sums contention)"
echo "# contention: limited $lim% ready $rdy% run delay $dly% over $t s ($n intervals, $src)"
[ "$n" -ge 3 ] && ok "contention: $n intervals spinning" ||
	not_ok "contention: $n intervals, want >= 3"
within "$rdy" 40 60 && ok "contention: ready $rdy% (50 ±10)" ||
	not_ok "contention: ready $rdy%, want 50 ±10"
within "$lim" 0 1 && ok "contention: limited $lim% (~0)" ||
	not_ok "contention: limited $lim%, want ~0"
check_eq "contention: limited_source (an unlimited cgroup still has counters)" \
	cgroup_v1 "$src"

run both 30000 1 || finish
read -r lim rdy dly t src n <<<"$(sums both)"
echo "# both: limited $lim% ready $rdy% run delay $dly% over $t s ($n intervals, $src)"
[ "$n" -ge 3 ] && ok "both: $n intervals spinning" || not_ok "both: $n intervals, want >= 3"
awk -v l="$lim" -v r="$rdy" 'BEGIN { exit !(l >= 20 && r >= 10) }' &&
	ok "both: limited $lim% and ready $rdy% both substantial" ||
	not_ok "both: limited $lim%, ready $rdy%, want both (limited >= 20, ready >= 10)"
# limited + ready against the exerciser's own schedstat run delay, and
# limited against the cgroup's own count of its throttled time
truth=$(jq '.vcpus[0].run_delay_ns' "$TMP/both.truth")
spun=$(jq '.vcpus[0].cpu_ns + .vcpus[0].run_delay_ns' "$TMP/both.truth")
sum_ns=$(total both '.run_delay.ready_pct + (.limited_pct // 0)')
near "$sum_ns" "$truth" "$spun" 2 &&
	ok "both: limited + ready $sum_ns ns = schedstat run delay $truth ns (±2% of $spun ns)" ||
	not_ok "both: limited + ready $sum_ns ns, schedstat run delay $truth ns, want within 2% of $spun ns"
thr=$(cat "$TMP/both.thr")
lim_ns=$(total both '.limited_pct // 0')
near "$lim_ns" "$thr" "$spun" 2 &&
	ok "both: limited $lim_ns ns = the cgroup's throttled_time $thr ns (±2% of $spun ns)" ||
	not_ok "both: limited $lim_ns ns, cgroup throttled_time $thr ns, want within 2% of $spun ns"
finish
