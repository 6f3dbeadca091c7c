#!/bin/bash
# Start-up: time from launch to kvmprobe's first records, all probes, with
# a small VM running. The start record comes after load and attach; the
# first interval record one interval later by design, so that is taken at
# -i 0.1. Times are when each line reaches a pipe from kvmprobe (it flushes
# every record); medians of RUNS launches.
. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-5}

mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
"$EXERCISER" --vcpus 4 --hlt 100000 --hlt-sleep 0.01 >/dev/null &
EX_PID=$!
trap 'stop_bg "$EX_PID"' EXIT

us() { echo "${EPOCHREALTIME/./}"; } # microseconds, without a fork

: >"$BENCH_OUT/startup.times"
for r in $(seq 1 "$RUNS"); do
	t_start='' t_iv=''
	t0=$(us)
	while IFS= read -r line; do
		case $line in
		*'"type":"start"'*) t_start=$(us) ;;
		*'"type":"interval"'*) t_iv=$(us); break ;;
		esac
	done < <(exec "$KVMPROBE" -f json -i 0.1 2>>"$BENCH_OUT/kvmprobe.err")
	stop_bg $!
	if [ -z "$t_start" ] || [ -z "$t_iv" ]; then
		echo "startup: kvmprobe wrote no start or interval record" >&2
		exit 1
	fi
	echo "$(((t_start - t0) / 1000)) $(((t_iv - t0) / 1000))" >>"$BENCH_OUT/startup.times"
	echo "startup: run $r: start record $(((t_start - t0) / 1000)) ms," \
		"first interval $(((t_iv - t0) / 1000)) ms"
done

s=$(awk '{ print $1 }' "$BENCH_OUT/startup.times" | median)
i=$(awk '{ print $2 }' "$BENCH_OUT/startup.times" | median)
add_result startup kvmprobe to_start_record "$s" ms \
	"launch to the start record (load and attach), median of $RUNS" 1000
add_result startup kvmprobe to_first_interval "$i" ms \
	"launch to the first interval record at -i 0.1, median of $RUNS" 1000
