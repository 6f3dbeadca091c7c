#!/bin/bash
# Requests in flight live in a direct-mapped array (one slot per hash of the
# request) and, when another live request holds their slot, in a spill hash.
# With --map-entries at its minimum (256 slots) and fio keeping 64 reads in
# flight on a loop device, slots collide all the time: every request must
# still be counted once, as biolatency (running at the same time, on the
# same disk) counts them, with a device-time sample each and nothing lost.
# Fails when requests whose slot is taken are dropped.
. "$(dirname "$0")/lib.sh"
require_root
[ -x "$KVMPROBE" ] || skip "build first: make (missing $KVMPROBE)"
command -v jq >/dev/null || skip "jq not installed (make deps)"
command -v fio >/dev/null || skip "fio not installed (make deps)"
command -v losetup >/dev/null || skip "losetup not installed"
BIOLAT=$(command -v biolatency || echo /usr/sbin/biolatency)
[ -x "$BIOLAT" ] || skip "biolatency not installed (libbpf-tools; make deps)"

N=${N:-16384} DEPTH=${DEPTH:-64}
img=/dev/shm/kp-test-spill.$$.img
truncate -s 64M "$img" || skip "cannot create $img"
loop=$(losetup -f --show "$img") || { rm -f "$img"; skip "no free loop device"; }
disk=$(basename "$loop")
trap 'cleanup; losetup -d "$loop"; rm -f "$img"' EXIT

# fio's own binary, libraries and engine in the page cache first: exec'ing
# them cold reads the root disk from the pid --pid names, in bursts of
# readahead deeper than the minimum maps hold (events lost that are not
# this test's reads)
fio --name=warm --filename="$loop" --rw=read --bs=4k --size=64k --direct=1 \
	--ioengine=libaio --output=/dev/null >/dev/null 2>&1 ||
	skip "fio cannot read $loop"
# fio's jobs as threads of one process, which --pid names (exec keeps the
# pid), started once both tracers are ready: other processes' I/O on a busy
# host cannot fill the small maps
bash -c "until [ -e $TMP/go ]; do sleep 0.05; done; exec fio --name=spill --filename=$loop --rw=randread --bs=4k \
	--direct=1 --ioengine=libaio --iodepth=$DEPTH --number_ios=$N --size=64M \
	--norandommap --thread --output-format=json" >"$TMP/fio.json" 2>"$TMP/fio.err" &
fio=$!
start_probe "$TMP/kp.json" -i 0.2 --probes block --map-entries 256 -p "$fio" ||
	exit 1
"$BIOLAT" -D -d "$disk" >"$TMP/biolat.out" 2>&1 &
bl=$!
BG_PIDS+=("$bl")
for i in $(seq 1 100); do
	grep -q Tracing "$TMP/biolat.out" && break
	sleep 0.05
done
touch "$TMP/go"
wait "$fio" || { not_ok "fio failed: $(head -c 300 "$TMP/fio.err")"; finish; }
sleep 0.5
kill -INT "$bl"
wait "$bl"
stop_probe

bl_count=$(awk -v d="$disk" '
	/^disk = / { on = ($3 == d) }
	on && / -> / { n += $5 }
	END { print n + 0 }' "$TMP/biolat.out")
# every record's reads on this disk (fio's, the only process --pid lets in)
kp_sum() {
	jq -s --arg d "$disk" "[.[] | select(.type == \"vm\" or .type == \"host\") | .disks[]? | select(.dev == \$d) | $1 // 0] | add // 0" "$TMP/kp.json"
}
fio_ios=$(jq '.jobs[0].read.total_ios' "$TMP/fio.json")
echo "# fio: $fio_ios reads at iodepth $DEPTH; biolatency: $bl_count requests"
if [ "$bl_count" -ge $((N / 2)) ]; then
	ok "fio did its I/O ($bl_count requests on $disk)"
else
	not_ok "fio did too little I/O: $bl_count requests on $disk"
fi
check_eq "every request counted once, as biolatency counts them" "$bl_count" \
	"$(kp_sum '.read.ios')"
check_eq "a device-time sample per request" "$bl_count" \
	"$(kp_sum '([.read.device_hist.buckets[]?[1]] | add)')"
check_eq "no events lost" 0 \
	"$(jq -s '[.[] | select(.type == "interval") | .lost.block // 0] | add' "$TMP/kp.json")"
finish
