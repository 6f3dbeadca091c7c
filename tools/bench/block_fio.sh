#!/bin/bash
# Block I/O cost of the block probe: fio 4 KiB random O_DIRECT reads on a
# loop device (backed by /dev/shm, so the device is fast and the block
# layer's per-request work shows), bare vs kvmprobe --probes block vs
# libbpf-tools' biolatency (which timestamps every issue and completion).
# Alternating runs, PAIRS rounds, medians; the figure is the IOPS lost,
# budget 2% for kvmprobe. Then, with kernel.bpf_stats_enabled=1 (put back
# at exit), run_time_ns / run_cnt of each block program during one fio run.
. "$(dirname "$0")/lib.sh"

DUR=${DUR:-5}
CPU=${CPU:-1}
BIOLAT=${BIOLAT:-$(command -v biolatency || echo /usr/sbin/biolatency)}

command -v fio >/dev/null || { echo "block_fio: fio not installed (make deps)" >&2; exit 1; }
img=/dev/shm/kp-bench-block.$$.img
truncate -s 256M "$img" || exit 1
loop=$(losetup -f --show "$img") || { rm -f "$img"; exit 1; }
old_stats=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
	[ -n "${KP_PID:-}" ] && stop_bg "$KP_PID"
	[ -n "${BL_PID:-}" ] && stop_bg "$BL_PID"
	sysctl -qw kernel.bpf_stats_enabled="$old_stats"
	losetup -d "$loop"
	rm -f "$img"
}
trap cleanup EXIT
# no I/O scheduler (the loop default), whatever an earlier run left
echo none >"/sys/block/$(basename "$loop")/queue/scheduler"
# written once, so reads hit allocated pages rather than holes
dd if=/dev/zero of="$loop" bs=1M count=256 oflag=direct status=none

iops() { # IOPS of one fio run
	taskset -c "$CPU" fio --name=randread --filename="$loop" --rw=randread \
		--bs=4k --direct=1 --ioengine=psync --runtime="$DUR" \
		--time_based --output-format=json 2>/dev/null |
		jq '.jobs[0].read.iops | floor'
}

start_biolatency() { # sets BL_PID once biolatency has attached
	local out=$BENCH_OUT/biolatency.out i
	stdbuf -oL "$BIOLAT" >"$out" 2>&1 &
	BL_PID=$!
	for i in $(seq 1 200); do
		grep -q 'Tracing' "$out" 2>/dev/null && return 0
		kill -0 "$BL_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "bench: biolatency did not attach: $(head -c 300 "$out")" >&2
	return 1
}

for v in bare kvmprobe biolatency; do
	: >"$BENCH_OUT/fio_$v"
	: >"$BENCH_OUT/fio_ratio_$v"
done
iops >/dev/null # warm-up
have_bl=0
[ -x "$BIOLAT" ] && have_bl=1
for i in $(seq 1 "$PAIRS"); do
	b=$(iops)
	echo "$b" >>"$BENCH_OUT/fio_bare"
	start_kvmprobe -i 1 --probes block || exit 1
	k=$(iops)
	stop_bg "$KP_PID"
	KP_PID=
	echo "$k" >>"$BENCH_OUT/fio_kvmprobe"
	awk -v a="$k" -v b="$b" 'BEGIN { print a / b }' >>"$BENCH_OUT/fio_ratio_kvmprobe"
	r=-
	if [ $have_bl = 1 ] && start_biolatency; then
		r=$(iops)
		stop_bg "$BL_PID"
		BL_PID=
		echo "$r" >>"$BENCH_OUT/fio_biolatency"
		awk -v a="$r" -v b="$b" 'BEGIN { print a / b }' >>"$BENCH_OUT/fio_ratio_biolatency"
	fi
	echo "block_fio: round $i/$PAIRS: bare $b, kvmprobe $k, biolatency $r IOPS"
done

bare=$(median <"$BENCH_OUT/fio_bare")
add_result block_fio bare iops "$bare" IOPS "median of $PAIRS, fio 4k randread O_DIRECT psync on a loop device, CPU $CPU, ${DUR}s"
for v in kvmprobe biolatency; do
	[ -s "$BENCH_OUT/fio_$v" ] || continue
	m=$(median <"$BENCH_OUT/fio_$v")
	pct=$(awk -v a="$m" -v b="$bare" 'BEGIN { printf "%.2f", (b - a) * 100 / b }')
	pair=$(median <"$BENCH_OUT/fio_ratio_$v" | awk '{ printf "%.2f", (1 - $1) * 100 }')
	add_result block_fio "$v" iops "$m" IOPS "median of $PAIRS"
	budget=
	[ "$v" = kvmprobe ] && budget=2
	add_result block_fio "$v" iops_lost "$pct" "%" \
		"ratio of medians vs bare $bare IOPS; median of per-round ratios: $pair%" $budget
	echo "block_fio: $v: $m IOPS, $pct% lost vs bare $bare (per-round ratios: $pair%)"
done

# ---- per-run cost of each block program, from bpf_stats ----
sysctl -qw kernel.bpf_stats_enabled=1 || exit 0
stats() { # name run_time_ns run_cnt of the block programs KP_PID holds
	local ids
	ids=$(bpf_ids "$KP_PID" prog | jq -sc .)
	bpftool -j prog show | jq -r --argjson ids "$ids" '.[] |
		select(.id as $i | $ids | index($i)) |
		"\(.name) \(.run_time_ns // 0) \(.run_cnt // 0)"' | sort
}
start_kvmprobe -i 1 --probes block || exit 1
stats >"$BENCH_OUT/block_stats.0"
iops >/dev/null
stats >"$BENCH_OUT/block_stats.1"
stop_bg "$KP_PID"
KP_PID=
join "$BENCH_OUT/block_stats.0" "$BENCH_OUT/block_stats.1" |
	awk '{ n = $5 - $3; if (n > 0) printf "%s %.0f %d %d\n", $1, ($4 - $2) / n, n, $4 - $2 }' \
	>"$BENCH_OUT/block_stats.d"
while read -r name ns runs total; do
	add_result block_fio "prog $name" ns_per_run "$ns" ns "$runs runs in one fio run (bpf_stats)"
	echo "block_fio: $name: $ns ns per run ($runs runs)"
done <"$BENCH_OUT/block_stats.d"
# All programs' time per completed request, against a request's time bare:
# the share of an I/O the probe takes when it all sits on the I/O's path
# (bpf_stats' own clock reads, about 30 ns a run, included).
awk -v iops="$bare" '
	$1 ~ /^complete/ { ios = $3 }
	{ total += $4 }
	END { if (ios > 0) printf "%.0f %.2f\n", total / ios, total / ios * iops / 1e7 }' \
	"$BENCH_OUT/block_stats.d" | {
	read -r per_io pct || exit 0
	add_result block_fio kvmprobe bpf_ns_per_io "$per_io" ns "all block programs per completed request (bpf_stats)"
	add_result block_fio kvmprobe bpf_share "$pct" "%" "of a request's time bare ($bare IOPS)"
	echo "block_fio: $per_io ns of BPF per request: $pct% of a request at $bare IOPS"
}
