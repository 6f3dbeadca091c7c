#!/bin/bash
# Userspace cost: kvmprobe's CPU % (utime + stime from /proc/PID/stat over
# WINDOW seconds) and peak RSS (VmHWM) at -i 1 with VCPUS tracked vCPU
# threads, and the locked kernel memory of all its maps at default sizes.
# The exerciser's vCPUs each HLT, then sleep HLT_SLEEP s as a VMM waits for
# an interrupt: a thousand busy vCPUs on a small machine would each run only
# every few seconds (a 4 ms tick per turn), idle ones run often. That every
# vCPU is reported in every interval is checked from kvmprobe's own records.
. "$(dirname "$0")/lib.sh"

VCPUS=${VCPUS:-1000}
WINDOW=${WINDOW:-30}
WARMUP=${WARMUP:-3}
HLT_SLEEP=${HLT_SLEEP:-0.05}

mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
EX_PID='' KP_PID=''
trap '[ -n "$KP_PID" ] && stop_bg "$KP_PID"; [ -n "$EX_PID" ] && stop_bg "$EX_PID"' EXIT

cpu_ticks() { # utime + stime of PID; the comm field may hold spaces
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# at most 1/HLT_SLEEP HLTs a second per vCPU: enough to outlast the window
hlts=$(awk -v w="$WINDOW" -v s="$HLT_SLEEP" 'BEGIN { printf "%d", (w + 60) / s }')
"$EXERCISER" --vcpus "$VCPUS" --hlt "$hlts" --hlt-sleep "$HLT_SLEEP" \
	>"$BENCH_OUT/userspace.truth" &
EX_PID=$!
sleep 1
start_kvmprobe -i 1 -p "$EX_PID" || exit 1 # -p: not the VMs of others
sleep "$WARMUP"
t0=$(cpu_ticks "$KP_PID") s0=$(now_ns)
sleep "$WINDOW"
t1=$(cpu_ticks "$KP_PID") s1=$(now_ns)
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$KP_PID/status")
maps=$(bpf_show map "$KP_PID")
kill -0 "$EX_PID" 2>/dev/null || { echo "userspace: the exerciser ended early" >&2; exit 1; }
stop_bg "$KP_PID"
KP_PID=

cpu=$(awk -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" -v ns="$((s1 - s0))" \
	'BEGIN { printf "%.3f", t / hz * 1e9 / ns * 100 }')
# vCPUs of the exerciser per interval record, in the measured window
seen=$(jq -r --argjson p "$EX_PID" 'select(.type == "vm" and .vm.pid == $p) |
	.vcpus | length' "$BENCH_OUT/kvmprobe.json" | tail -n +"$((WARMUP + 1))" |
	head -n "$WINDOW")
seen=$(echo "$seen" | grep .)
[ -n "$seen" ] || { echo "userspace: kvmprobe reported no vCPU of the exerciser" >&2; exit 1; }
n=$(echo "$seen" | wc -l)
vmin=$(echo "$seen" | sort -n | head -1)
vmed=$(echo "$seen" | median)
what="at -i 1, $VCPUS vCPUs (min $vmin, median $vmed reported per interval over $n intervals)"
add_result userspace kvmprobe cpu "$cpu" "% of one core" \
	"utime+stime over ${WINDOW}s $what" 0.5
add_result userspace kvmprobe peak_rss "$(awk -v k="$hwm" 'BEGIN { printf "%.1f", k / 1024 }')" \
	MiB "VmHWM $what" 20
echo "userspace: cpu $cpu %, VmHWM $hwm kB; vCPUs per interval: min $vmin, median $vmed"

mem=$(echo "$maps" | jq '[.[].bytes_memlock // 0] | add')
top=$(echo "$maps" | jq -r 'sort_by(-(.bytes_memlock // 0)) | .[:3] |
	map("\(.obj):\(.name) \((.bytes_memlock // 0) / 1048576 * 10 | round / 10) MiB") |
	join(", ")')
add_result userspace kvmprobe locked_kernel_memory \
	"$(awk -v b="$mem" 'BEGIN { printf "%.1f", b / 1048576 }')" MiB \
	"bytes_memlock of $(echo "$maps" | jq length) maps at default sizes; largest: $top" 32
echo "userspace: maps lock $mem bytes; largest: $top"
