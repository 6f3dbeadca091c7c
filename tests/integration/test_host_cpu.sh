#!/bin/bash
# Host CPU busy % (interval record host_cpu, /proc/stat) against a load the
# test controls: a busy loop pinned to one CPU for the whole run keeps that
# CPU busy, so every interval is at least one CPU of all (50% on 2 CPUs;
# 90% of it allowed for the ticks' granularity). Other load on the host
# only adds. The hog's own CPU time checks it ran. The same counter:
# kvmprobe_host_cpu_busy_seconds_total grows by at least one CPU-second a
# second, and the text header line shows the figure.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_sched.sh"
require_root
require_bins
require_taskset
command -v curl >/dev/null || skip "curl not installed"

NCPU=$(getconf _NPROCESSORS_ONLN)
MIN=$(awk -v n="$NCPU" 'BEGIN { printf "%.1f", 90 / n }')
ticks() { # utime + stime of pid $1, in ticks
	awk '{ sub(/.*\) /, ""); print $12 + $13 }' /proc/"$1"/stat
}
PORT=$(free_port 19577)

start_hog "$SCHED_CPU"
sleep 0.3
t0=$(date +%s.%N)
h0=$(ticks "$HOG_PID")
start_probe "$TMP/kp.json" -i 1 --probes sched --listen "127.0.0.1:$PORT" || exit 1
sleep 1.5 # after the first interval
curl -sf "http://127.0.0.1:$PORT/metrics" >"$TMP/m1.txt"
w1=$(date +%s.%N)
sleep 4
curl -sf "http://127.0.0.1:$PORT/metrics" >"$TMP/m2.txt"
w2=$(date +%s.%N)
stop_probe
h1=$(ticks "$HOG_PID")
t1=$(date +%s.%N)

# the premise: the hog was runnable all along on its CPU (the share it
# got depends on the host's other load, which keeps that CPU busy too)
hog=$(awk -v h="$((h1 - h0))" -v hz="$(getconf CLK_TCK)" -v a="$t0" -v b="$t1" \
	'BEGIN { printf "%.2f", h / hz / (b - a) }')
kill -0 "$HOG_PID" 2>/dev/null && within "$hog" 0.1 1.05 &&
	ok "the hog ran all along (${hog} of a CPU)" ||
	not_ok "the hog ran $hog of a CPU, or died"

n=$(jq -s '[.[] | select(.type == "interval")] | length' "$TMP/kp.json")
[ "$n" -ge 4 ] && ok "$n interval records" || not_ok "only $n interval records"
cpus=$(jq -s -r '[.[] | select(.type == "interval") | .host_cpu.cpus] | unique | map(tostring) | join(",")' \
	"$TMP/kp.json")
check_eq "host_cpu.cpus of every interval is the online CPUs" "$NCPU" "$cpus"
# (the partial last interval SIGINT writes may be a few ticks long: too
# coarse a measure, left out)
pcts=$(jq -r 'select(.type == "interval" and .interval_s >= 0.5) | .host_cpu.busy_pct' \
	"$TMP/kp.json" | paste -sd' ')
bad=$(awk -v l="$pcts" -v lo="$MIN" 'BEGIN { n = split(l, a, " ");
	for (i = 1; i <= n; i++) if (!(a[i] + 0 >= lo && a[i] + 0 <= 100) || a[i] == "null") c++
	print c + 0 }')
[ -n "$pcts" ] && [ "$bad" = 0 ] &&
	ok "every interval's busy_pct is >= $MIN (one CPU of $NCPU hogged): $pcts" ||
	not_ok "busy_pct per interval: '$pcts', want each in [$MIN, 100]"

# Prometheus: busy seconds of all CPUs grow at least as fast as the hog
b1=$(awk '$1 == "kvmprobe_host_cpu_busy_seconds_total" { print $2 }' "$TMP/m1.txt")
b2=$(awk '$1 == "kvmprobe_host_cpu_busy_seconds_total" { print $2 }' "$TMP/m2.txt")
grep -q '^# TYPE kvmprobe_host_cpu_busy_seconds_total counter' "$TMP/m2.txt" &&
	ok "kvmprobe_host_cpu_busy_seconds_total is a counter" ||
	not_ok "no counter kvmprobe_host_cpu_busy_seconds_total in /metrics"
rate=$(awk -v a="${b1:-0}" -v b="${b2:-0}" -v s="$w1" -v e="$w2" \
	'BEGIN { printf "%.2f", (b - a) / (e - s) }')
# scrapes see the last interval's value: up to 1 s of the window is missed
within "$rate" 0.6 "$NCPU.1" && [ -n "$b1" ] &&
	ok "busy seconds grow $rate CPU-s per s (the hog: 1)" ||
	not_ok "busy seconds $b1 -> $b2 in $w1..$w2: rate $rate, want 0.6 to $NCPU"

# the text header line
"$KVMPROBE" -f text -i 0.5 -c 2 --probes sched >"$TMP/text.out" 2>"$TMP/text.err"
t=$(sed -n 's/.*, host CPU \([0-9.]*\)% busy of \([0-9]*\).*/\1 \2/p' "$TMP/text.out" | tail -1)
awk -v t="$t" -v lo="$MIN" -v n="$NCPU" 'BEGIN { split(t, a, " ");
	exit !(a[1] + 0 >= lo && a[1] + 0 <= 100 && a[2] == n) }' &&
	ok "text header: host CPU $t" ||
	not_ok "text header: '$(grep -m1 'VM(s) active' "$TMP/text.out")'"
stop_hog
finish
