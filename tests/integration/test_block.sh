#!/bin/bash
# The block probe counts exactly the requests of a VMM (blk-exerciser
# --kvm: it holds a KVM VM) doing N O_DIRECT reads and N O_DIRECT writes on
# a loop device, under that process, with histograms holding one sample
# per request; biolatency, running at the same time, counts the same
# requests for that disk; I/O of a process that is not a VMM (dd) lands in
# the host record, not under the VMM and in no vm record of its own; with
# an I/O scheduler (inserted requests) counts stay exact and queue time is
# measured; the flushes of fdatasync() count as the process's flushes; with
# --pid, only that process is reported, though it holds no VM.
. "$(dirname "$0")/lib.sh"
require_root
BLK=${BLK:-$TOP/build/blk-exerciser}
[ -x "$KVMPROBE" ] && [ -x "$BLK" ] || skip "build first: make (missing $KVMPROBE or $BLK)"
command -v jq >/dev/null || skip "jq not installed (make deps)"
command -v losetup >/dev/null || skip "losetup not installed"
BIOLAT=$(command -v biolatency || echo /usr/sbin/biolatency)
[ -x "$BIOLAT" ] || skip "biolatency not installed (libbpf-tools; make deps)"

N=${N:-500} M=${M:-64} N2=${N2:-200} F=${F:-20}
img=/dev/shm/kp-test-block.$$.img
truncate -s 64M "$img" || skip "cannot create $img"
loop=$(losetup -f --show "$img") || { rm -f "$img"; skip "no free loop device"; }
disk=$(basename "$loop")
sched_file=/sys/block/$disk/queue/scheduler
old_sched=$(sed -n 's/.*\[\(.*\)\].*/\1/p' "$sched_file")
# the loop device outlives the test: put its scheduler back
trap 'cleanup; echo "${old_sched:-none}" >"$sched_file"; losetup -d "$loop"; rm -f "$img"' EXIT

start_probe "$TMP/kp.json" -i 0.2 --probes block || exit 1
kp_btf=$PROBE_PID
start_probe "$TMP/kp_raw.json" -i 0.2 --probes block --attach tracepoint || exit 1
kp_raw=$PROBE_PID
"$BIOLAT" -D -d "$disk" >"$TMP/biolat.out" 2>&1 &
bl=$!
BG_PIDS+=("$bl")
for i in $(seq 1 100); do
	grep -q Tracing "$TMP/biolat.out" && break
	sleep 0.05
done
"$BLK" --kvm --hold 500 --dev "$loop" --reads "$N" --writes "$N" >"$TMP/truth.json" ||
	{ not_ok "blk-exerciser failed"; finish; }
sleep 0.3
kill -INT "$bl"
wait "$bl"
dd if=/dev/zero of="$loop" bs=4k count="$M" oflag=direct status=none &
dd=$!
wait "$dd"

# The same through an I/O scheduler: requests are inserted, then issued.
sched=none
if grep -qw mq-deadline "$sched_file"; then
	echo mq-deadline >"$sched_file" && sched=mq-deadline
fi
"$BLK" --kvm --hold 500 --dev "$loop" --reads "$N2" --fsync "$F" >"$TMP/truth2.json" ||
	{ not_ok "blk-exerciser (second run) failed"; finish; }
sleep 0.5
PROBE_PID=$kp_raw stop_probe
PROBE_PID=$kp_btf stop_probe


pid=$(jq .pid "$TMP/truth.json")
pid2=$(jq .pid "$TMP/truth2.json")
out=$TMP/kp.json
# disk FILE PID JQPATH: sum over PID's records of its entry for our disk
disk_sum() {
	jq -s --argjson pid "$2" --arg d "$disk" \
		"[.[] | select(.type == \"vm\" and .vm.pid == \$pid) | .disks[]? | select(.dev == \$d) | $3 // 0] | add // 0" "$1"
}
for op in read write; do
	check_eq "$op requests of the exerciser" "$N" "$(disk_sum "$out" "$pid" ".$op.ios")"
	check_eq "$op bytes of the exerciser" $((N * 4096)) \
		"$(disk_sum "$out" "$pid" ".$op.bytes")"
	for h in queue_hist device_hist latency_hist; do
		check_eq "$op $h buckets sum to the request count" "$N" \
			"$(disk_sum "$out" "$pid" "([.$op.$h.buckets[]?[1]] | add)")"
	done
done
check_eq "no flush or discard from the exerciser" 0 \
	"$(disk_sum "$out" "$pid" '(.flush.ios // 0) + (.discard.ios // 0) + (.other.ios // 0)')"
check_eq "disk target stays null without the libvirt resolver" null \
	"$(jq -s --argjson pid "$pid" '[.[] | select(.type == "vm" and .vm.pid == $pid) | .disks[]?.target] | unique | .[0]' "$out")"

# biolatency -D prints one histogram per disk; sum its counts
bl_count=$(awk -v d="$disk" '
	/^disk = / { on = ($3 == d) }
	on && / -> / { n += $5 }
	END { print n + 0 }' "$TMP/biolat.out")
check_eq "biolatency counted the same requests on $disk" $((2 * N)) "$bl_count"

check_eq "the exercisers are VMMs (they held a KVM VM)" "true true" \
	"$(jq -r .vmm "$TMP/truth.json") $(jq -r .vmm "$TMP/truth2.json")"
host_w=$(jq -s --arg d "$disk" '[.[] | select(.type == "host") | .disks[]? | select(.dev == $d) | .write.ios // 0] | add // 0' "$out")
check_eq "dd (not a VMM) has no vm record" 0 \
	"$(jq -s --argjson p "$dd" '[.[] | select(.type == "vm" and .vm.pid == $p)] | length' "$out")"
check_eq "dd's writes are the host record's" "$M" "$host_w"
check_eq "the exerciser's records gained nothing from dd" "$N" \
	"$(disk_sum "$out" "$pid" '.write.ios')"

check_eq "$sched: read requests of the second exerciser" "$N2" \
	"$(disk_sum "$out" "$pid2" '.read.ios')"
check_eq "$sched: queue_hist holds one sample per request" "$N2" \
	"$(disk_sum "$out" "$pid2" '.read.queue_hist.count')"
check_eq "fdatasync flushes are the process's" "$F" \
	"$(disk_sum "$out" "$pid2" '.flush.ios')"
check_eq "flush latency_hist holds one sample per flush" "$F" \
	"$(disk_sum "$out" "$pid2" '.flush.latency_hist.count')"
check_eq "flushes are not counted twice (as the host's)" 0 \
	"$(jq -s --arg d "$disk" '[.[] | select(.type == "host") | .disks[]? | select(.dev == $d) | .flush.ios // 0] | add // 0' "$out")"
if [ "$sched" = mq-deadline ]; then
	qt=$(disk_sum "$out" "$pid2" '.read.queue_hist.sum_ns')
	if [ "$qt" -gt 0 ]; then
		ok "$sched: inserted requests have a queue time ($qt ns in all)"
	else
		not_ok "$sched: queue time is 0 although requests were inserted"
	fi
fi
for op in read write; do
	check_eq "raw_tp: $op requests of the exerciser" "$N" \
		"$(disk_sum "$TMP/kp_raw.json" "$pid" ".$op.ios")"
done
check_eq "raw_tp: fdatasync flushes are the process's" "$F" \
	"$(disk_sum "$TMP/kp_raw.json" "$pid2" '.flush.ios')"
check_eq "block programs attach as raw_tp with --attach tracepoint" raw_tp \
	"$(jq -r '[select(.type == "start") | .probes[] | select(.name == "block") | .programs[]] | unique | join(",")' "$TMP/kp_raw.json")"
check_eq "block programs attach as tp_btf by default" tp_btf \
	"$(jq -r '[select(.type == "start") | .probes[] | select(.name == "block") | .programs[]] | unique | join(",")' "$out")"
# (the exerciser may also have read its own binary from the root disk)
check_eq "records name the device by its kernel name" true \
	"$(jq -s --argjson pid "$pid" --arg d "$disk" '[.[] | select(.type == "vm" and .vm.pid == $pid) | .disks[]?.dev] | any(. == $d)' "$out")"
check_eq "no events lost" 0 \
	"$(jq -s '[.[] | select(.type == "interval") | .lost.block // 0] | add' "$out")"
# --pid of a process that has no vCPUs: exec keeps the pid the filter names
bash -c "sleep 1; exec $BLK --dev $loop --reads $N2" >"$TMP/truth3.json" &
pid3=$!
start_probe "$TMP/kp_pid.json" -i 0.2 --probes block -p "$pid3" || exit 1
dd if=/dev/zero of="$loop" bs=4k count="$M" oflag=direct status=none
wait "$pid3" || not_ok "blk-exerciser (third run) failed"
sleep 0.5
stop_probe
check_eq "--pid: the process is reported with its reads" "$N2" \
	"$(disk_sum "$TMP/kp_pid.json" "$pid3" '.read.ios')"
check_eq "--pid: and nothing else (no other process, no host record)" "$pid3" \
	"$(jq -rs '[.[] | select(.type == "vm" or .type == "host") | .vm.pid // "host"] | unique | map(tostring) | join(",")' "$TMP/kp_pid.json")"
finish
