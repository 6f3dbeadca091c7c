#!/bin/bash
# A vm record is a VMM, nothing else: dd reading a loop device (a process
# holding no KVM fd) gets no vm record and no per-pid Prometheus series;
# its reads are the host record's, exactly; kvmprobe never reports itself
# as a VM; a VMM that does block I/O (blk-exerciser --kvm, it holds a KVM
# VM) and a VMM that runs vCPUs (kvm-exerciser) keep their records.
. "$(dirname "$0")/lib.sh"
require_root
require_kvm
require_bins
BLK=${BLK:-$TOP/build/blk-exerciser}
[ -x "$BLK" ] || skip "build first: make (missing $BLK)"
command -v losetup >/dev/null || skip "losetup not installed"
command -v curl >/dev/null || skip "curl not installed"

M=${M:-300} N=${N:-100}
img=/dev/shm/kp-test-vmrec.$$.img
truncate -s 16M "$img" || skip "cannot create $img"
loop=$(losetup -f --show "$img") || { rm -f "$img"; skip "no free loop device"; }
disk=$(basename "$loop")
trap 'cleanup; losetup -d "$loop"; rm -f "$img"' EXIT

port=
for p in $(seq 19577 19627); do
	(exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { port=$p; break; }
done
[ -n "$port" ] || skip "no free port"
start_probe "$TMP/kp.json" -i 0.3 --listen "127.0.0.1:$port" || exit 1

dd if="$loop" of=/dev/null bs=4k count="$M" iflag=direct status=none &
dd=$!
wait "$dd"
"$BLK" --kvm --hold 700 --dev "$loop" --reads "$N" >"$TMP/blk.json" ||
	{ not_ok "blk-exerciser failed"; finish; }
"$EXERCISER" --vcpus 1 --io 2000 >"$TMP/x.json" ||
	{ not_ok "kvm-exerciser failed"; finish; }
sleep 0.7
curl -sf "http://127.0.0.1:$port/metrics" >"$TMP/metrics.txt" ||
	not_ok "/metrics answers"
stop_probe

out=$TMP/kp.json
bpid=$(jq .pid "$TMP/blk.json")
xpid=$(jq .pid "$TMP/x.json")
check_eq "dd (no KVM fd) has no vm record" 0 \
	"$(jq -s --argjson p "$dd" '[.[] | select(.type == "vm" and .vm.pid == $p)] | length' "$out")"
check_eq "dd's reads are the host record's, exactly" "$M" \
	"$(jq -s --arg d "$disk" '[.[] | select(.type == "host") | .disks[]? | select(.dev == $d) | .read.ios // 0] | add // 0' "$out")"
check_eq "kvmprobe does not report itself as a VM" 0 \
	"$(jq -s --argjson p "$PROBE_PID" '[.[] | select(.type == "vm" and .vm.pid == $p)] | length' "$out")"
check_eq "no vm record is a dd or a kvmprobe (any pid)" 0 \
	"$(jq -s '[.[] | select(.type == "vm" and (.vm.comm == "dd" or .vm.comm == "kvmprobe"))] | length' "$out")"
check_eq "no Prometheus series carries dd's pid" 0 \
	"$(grep -c "pid=\"$dd\"" "$TMP/metrics.txt")"
check_eq "the VMM doing block I/O has its reads in its own record" "$N" \
	"$(jq -s --argjson p "$bpid" --arg d "$disk" '[.[] | select(.type == "vm" and .vm.pid == $p) | .disks[]? | select(.dev == $d) | .read.ios // 0] | add // 0' "$out")"
check_eq "the VMM running vCPUs has its IO exits in its own record" \
	"$(jq '[.vcpus[].exits.IO] | add' "$TMP/x.json")" \
	"$(sum_vm "$out" "$xpid" .userspace_exits.IO)"
finish
