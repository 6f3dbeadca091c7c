#!/bin/bash
# Block I/O cost of the block probe: fio 4 KiB random O_DIRECT reads on a
# loop device (backed by /dev/shm, so the device is fast and the block
# layer's per-request work shows), bare vs kvmprobe --probes block vs
# libbpf-tools' biolatency (which timestamps every issue and completion)
# vs the floor (empty programs on the probe's events). Rounds of one run
# each, in an order that turns every round; the figure is the median of
# the rounds' IOPS lost against that round's bare run (min and max too),
# budget 2% for kvmprobe. Then, with kernel.bpf_stats_enabled=1 (put back
# at exit), run_time_ns / run_cnt of each block program and of the floor's
# during one fio run: ns of BPF per request, budget 300.
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
	[ -n "${FL_PID:-}" ] && stop_bg "$FL_PID"
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

events=$(probe_events block) || exit 1
[ -n "$events" ] || { echo "block_fio: the block probe attached nothing" >&2; exit 1; }
variants="bare floor kvmprobe"
[ -x "$BIOLAT" ] && variants="$variants biolatency"
for v in $variants; do : >"$BENCH_OUT/fio_$v"; done
iops >/dev/null # warm-up
# one run of variant v: its IOPS, or nothing when it could not start
run_variant() {
	case $1 in
	bare) iops ;;
	floor)
		# shellcheck disable=SC2086 # one event a word
		start_floor $events || return 1
		iops
		stop_bg "$FL_PID"
		FL_PID= ;;
	kvmprobe)
		start_kvmprobe -i 1 --probes block || return 1
		iops
		stop_bg "$KP_PID"
		KP_PID= ;;
	biolatency)
		start_biolatency || return 0
		iops
		stop_bg "$BL_PID"
		BL_PID= ;;
	esac
}
rounds block_fio fio "IOPS"

bare=$(median <"$BENCH_OUT/fio_bare")
add_spread block_fio bare iops "$BENCH_OUT/fio_bare" IOPS \
	"fio 4k randread O_DIRECT psync on a loop device, CPU $CPU, ${DUR}s a run"
for v in floor kvmprobe biolatency; do
	grep -qv nan "$BENCH_OUT/fio_$v" 2>/dev/null || continue
	pair_pct "$BENCH_OUT/fio_bare" "$BENCH_OUT/fio_$v" - >"$BENCH_OUT/fio_lost_$v"
done
read -r fl _ <<<"$(spread "$BENCH_OUT/fio_lost_floor")"
for v in floor kvmprobe biolatency; do
	[ -s "$BENCH_OUT/fio_lost_$v" ] || continue
	read -r m lo hi _ <<<"$(spread "$BENCH_OUT/fio_lost_$v")"
	budget= note="IOPS lost vs bare in the same round: median of $PAIRS rounds"
	case $v in
	floor) note="$note; empty programs on the block probe's $(echo $events | wc -w) events" ;;
	kvmprobe) budget=2 note="$note; $(times_floor "$m" "$fl") the floor ($fl%)" ;;
	*) note="$note; $(times_floor "$m" "$fl") the floor" ;;
	esac
	add_spread block_fio "$v" iops_lost "$BENCH_OUT/fio_lost_$v" "%" "$note" $budget
	echo "block_fio: $v: $m% IOPS lost vs bare $bare (min $lo, max $hi)"
done

# ---- per-run cost of each block program, from bpf_stats ----
# bpf_stats reads the clock around every run: the floor's empty programs,
# measured the same way, show what that and nothing else costs
sysctl -qw kernel.bpf_stats_enabled=1 || exit 0
stats() { # name run_time_ns run_cnt of the programs PID holds
	local ids
	ids=$(bpf_ids "$1" prog | jq -sc .)
	bpftool -j prog show | jq -r --argjson ids "$ids" '.[] |
		select(.id as $i | $ids | index($i)) |
		"\(.name) \(.run_time_ns // 0) \(.run_cnt // 0)"' | sort
}
deltas() { # BEFORE AFTER: name ns_per_run runs total_ns
	join "$1" "$2" | awk '{ n = $5 - $3; if (n > 0) printf "%s %.0f %d %d\n", $1, ($4 - $2) / n, n, $4 - $2 }'
}
# shellcheck disable=SC2086
start_floor $events || exit 1
stats "$FL_PID" >"$BENCH_OUT/floor_stats.0"
fl_ios=$(iops)
stats "$FL_PID" >"$BENCH_OUT/floor_stats.1"
stop_bg "$FL_PID"
FL_PID=
deltas "$BENCH_OUT/floor_stats.0" "$BENCH_OUT/floor_stats.1" >"$BENCH_OUT/floor_stats.d"
start_kvmprobe -i 1 --probes block || exit 1
stats "$KP_PID" >"$BENCH_OUT/block_stats.0"
iops >/dev/null
stats "$KP_PID" >"$BENCH_OUT/block_stats.1"
stop_bg "$KP_PID"
KP_PID=
deltas "$BENCH_OUT/block_stats.0" "$BENCH_OUT/block_stats.1" >"$BENCH_OUT/block_stats.d"
read -r _ floor_ns floor_runs _ <"$BENCH_OUT/floor_stats.d"
add_result block_fio "prog floor" ns_per_run "${floor_ns:-0}" ns \
	"an empty program, ${floor_runs:-0} runs in one fio run of $fl_ios IOPS (bpf_stats: its clock reads)"
echo "block_fio: floor: ${floor_ns:-?} ns per run of an empty program"
while read -r name ns runs total; do
	add_result block_fio "prog $name" ns_per_run "$ns" ns "$runs runs in one fio run (bpf_stats)"
	echo "block_fio: $name: $ns ns per run ($runs runs)"
done <"$BENCH_OUT/block_stats.d"
# All programs' time per completed request, against a request's time bare:
# the share of an I/O the probe takes when it all sits on the I/O's path.
# The floor: as many empty runs as the probe's programs made, at the
# floor's ns per run.
awk -v iops="$bare" -v f="${floor_ns:-0}" '
	$1 ~ /^complete/ { ios = $3 }
	{ total += $4; runs += $3 }
	END { if (ios > 0) printf "%.0f %.2f %.0f %.1f\n", total / ios,
		total / ios * iops / 1e7, runs * f / ios, runs / ios }' \
	"$BENCH_OUT/block_stats.d" | {
	read -r per_io pct floor_io runs_io || exit 0
	add_result block_fio kvmprobe bpf_ns_per_io "$per_io" ns \
		"all block programs per completed request (bpf_stats, $runs_io runs); $(times_floor "$per_io" "$floor_io") the floor: $floor_io ns for as many empty runs" 300
	add_result block_fio kvmprobe bpf_ns_per_io_above_floor "$((per_io - floor_io))" ns \
		"the same less the floor: the programs' bodies"
	add_result block_fio kvmprobe bpf_share "$pct" "%" "of a request's time bare ($bare IOPS)"
	echo "block_fio: $per_io ns of BPF per request ($floor_io ns floor): $pct% of a request at $bare IOPS"
}
