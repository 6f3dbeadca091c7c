#!/bin/bash
# kvmprobe never silences another tracer: with every probe attached in
# --attach tracepoint mode (classic tracefs tracepoints where a probe has
# them), `perf stat -e` on each event kvmprobe traces counts what the
# workload caused, as it does without kvmprobe. A BPF program on a classic
# tracepoint that returns 0 drops the event for every perf user.
# Ground truth: the exerciser's own exit counts (kvm_userspace_exit = its
# exits, kvm_fpu = two per KVM_RUN, one KVM_RUN per exit), blk-exerciser's
# request count on a loop device of the test's own (perf filters by dev),
# and, for the scheduler events (not deterministic), at least one switch
# and one wake-up per HLT the vCPUs sleep after.
. "$(dirname "$0")/lib.sh"
require_root
require_kvm
require_bins
BLK=${BLK:-$TOP/build/blk-exerciser}
[ -x "$BLK" ] || skip "build first: make (missing $BLK)"
command -v perf >/dev/null || skip "perf not installed (linux-perf; make deps)"
command -v losetup >/dev/null || skip "losetup not installed"
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing ||
	skip "tracefs cannot be mounted"
perf stat -x, -e kvm:kvm_userspace_exit -- true >/dev/null 2>&1 ||
	skip "perf cannot count tracepoints here"

VCPUS=2 IO=5000 MMIO=100 HLT=4
KVM_EVENTS="kvm_userspace_exit kvm_fpu kvm_vcpu_wakeup kvm_exit kvm_entry"
SCHED_EVENTS="sched_switch sched_wakeup"
N=200

img=/dev/shm/kp-test-perf.$$.img
truncate -s 16M "$img" || skip "cannot create $img"
loop=$(losetup -f --show "$img") || { rm -f "$img"; skip "no free loop device"; }
trap 'cleanup; losetup -d "$loop"; rm -f "$img"' EXIT
mm=$(stat -Lc '%t:%T' "$loop")
dev=$(( (16#${mm%:*} << 20) | 16#${mm#*:} ))

# count FILE EVENT: perf stat -x, count of EVENT (0 when not counted)
count() {
	awk -F, -v e="$2" '$3 ~ ":"e"$" { print ($1 ~ /^[0-9]+$/) ? $1 : 0 }' "$1"
}

# run_all TAG: the workloads under perf, results in $TMP/TAG.*
run_all() {
	local ev=() e
	for e in $KVM_EVENTS; do ev+=(-e "kvm:$e"); done
	for e in $SCHED_EVENTS; do ev+=(-e "sched:$e"); done
	perf stat -x, -o "$TMP/$1.kvm" "${ev[@]}" -- "$EXERCISER" --vcpus $VCPUS \
		--io $IO --mmio $MMIO --hlt $HLT --hlt-sleep 0.002 >"$TMP/$1.truth" ||
		not_ok "$1: exerciser under perf failed"
	perf stat -x, -o "$TMP/$1.blk" -a \
		-e block:block_rq_issue --filter "dev == $dev" \
		-e block:block_rq_insert --filter "dev == $dev" \
		-e block:block_rq_complete --filter "dev == $dev" \
		-- "$BLK" --dev "$loop" --reads $N --writes $N >/dev/null ||
		not_ok "$1: blk-exerciser under perf failed"
}

check_all() {
	local tag=$1 exits
	exits=$(jq '[.vcpus[].exits[]] | add' "$TMP/$tag.truth")
	check_eq "$tag: exerciser exits are what it was asked for" \
		$((VCPUS * (IO + MMIO + HLT + 1))) "$exits"
	check_eq "$tag: perf counts kvm:kvm_userspace_exit = exits" "$exits" \
		"$(count "$TMP/$tag.kvm" kvm_userspace_exit)"
	check_eq "$tag: perf counts kvm:kvm_fpu = 2 per KVM_RUN" $((2 * exits)) \
		"$(count "$TMP/$tag.kvm" kvm_fpu)"
	for e in $SCHED_EVENTS; do
		c=$(count "$TMP/$tag.kvm" $e)
		[ "${c:-0}" -ge $((VCPUS * HLT)) ] &&
			ok "$tag: perf counts sched:$e, at least one per HLT sleep ($c)" ||
			not_ok "$tag: perf counts sched:$e: ${c:-none}, want >= $((VCPUS * HLT))"
	done
	for e in block_rq_issue block_rq_complete; do
		check_eq "$tag: perf counts block:$e of the loop device = requests" \
			$((2 * N)) "$(count "$TMP/$tag.blk" $e)"
	done
}

run_all bare
check_all bare

start_probe "$TMP/kp.json" -i 0.5 --attach tracepoint || exit 1
run_all probe
sleep 0.3
stop_probe
check_all probe
# scheduler counts vary from run to run; these do not
for e in $KVM_EVENTS block_rq_insert; do
	f=$TMP/bare.kvm
	case $e in block_*) f=$TMP/bare.blk ;; esac
	check_eq "$e: the same count with kvmprobe attached as without" \
		"$(count "$f" $e)" "$(count "${f/bare/probe}" $e)"
done
# the exerciser's exits kvmprobe counted, so the probe really was attached
pid=$(jq .pid "$TMP/probe.truth")
check_eq "kvmprobe counted the exerciser's IO exits meanwhile" \
	"$(jq '[.vcpus[].exits.IO] | add' "$TMP/probe.truth")" \
	"$(sum_vm "$TMP/kp.json" "$pid" .userspace_exits.IO)"
check_eq "kvm_userspace_exit was attached as a classic tracepoint" tracepoint \
	"$(jq -r 'select(.type == "start") | .probes[0].programs.kvm_userspace_exit' "$TMP/kp.json")"
finish
