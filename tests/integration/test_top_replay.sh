#!/bin/bash
# kvmprobe top --replay of a recording the test makes: 7 intervals of an
# exerciser with a hog on its CPU from the 3rd second to the 5th, and an
# alert rule on its run delay, so the recording has an interval where the
# alert fires. The file is then torn (a half-written last line). The view
# must show the intervals in the order of the file (their times), stop at
# the end, step back, jump to the interval where the alert fired, say once
# that it skipped the torn line, and play through to the end by itself.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_sched.sh"
. "$(dirname "$0")/lib_top.sh"
require_root
require_kvm
require_bins
require_taskset
require_tmux

REC=$TMP/rec.ndjson
cat >"$TMP/kp.conf" <<CONF
[kvmprobe]
interval = 1
count = 7
format = json
output = $REC

[alerts]
defaults = no

[alert ready_test]
metric = run_delay
stat = pct
scope = vcpu
above = 30
clear = 10
for = 1s
severity = critical
CONF
"$EXERCISER" --vcpus 1 --spin 12 --pin "$SCHED_CPU" >/dev/null &
X=$!
BG_PIDS+=("$X")
"$KVMPROBE" --config "$TMP/kp.conf" --probes sched -p "$X" 2>"$TMP/kp.err" &
P=$!
BG_PIDS+=("$P")
sleep 2
start_hog "$SCHED_CPU"
sleep 3
stop_hog
wait "$P"
check_eq "recording: kvmprobe exits 0" 0 $?
N=$(jq -s '[.[] | select(.type == "interval")] | length' "$REC")
check_eq "recording has 7 intervals" 7 "$N"
mapfile -t TIMES < <(jq -r 'select(.type == "interval") | .ts[11:19]' "$REC")
# the interval an alert fired in: alerts follow their interval's record
FIRED=$(jq -rs '[foreach .[] as $r (0; if $r.type == "interval" then . + 1
	else . end; if $r.type == "alert" and $r.state == "firing" then .
	else empty end)] | first // 0' "$REC")
[ "$FIRED" -ge 1 ] && ok "the alert fired in interval $FIRED" ||
	not_ok "no alert fired in the recording"
printf '{"type":"vm","schema":1,"ts":"2026-' >>"$REC" # torn

hdr_time() { screen "$1" | sed -n 1p | awk '{print $1}'; }
pos() { screen "$1" | sed -n 2p | grep -o 'replay [0-9]*/[0-9]*'; }

tmux_run rp "$KVMPROBE" top --replay "$REC" -i 3600
wait_screen rp 'replay 1/' 50 || not_ok "replay shows nothing"
screen rp | sed -n 3p | grep -q 'skipped a torn last line' &&
	ok "the torn last line is said on the screen" ||
	not_ok "line 3: $(screen rp | sed -n 3p)"
check_eq "first screen: interval 1" "replay 1/7" "$(pos rp)"
check_eq "interval 1 time" "${TIMES[0]}" "$(hdr_time rp)"
for k in 2 3 4 5 6 7; do
	keys rp n
	check_eq "n: interval $k" "replay $k/7" "$(pos rp)"
	check_eq "interval $k time" "${TIMES[$((k - 1))]}" "$(hdr_time rp)"
done
keys rp n
check_eq "n at the end stays on the last" "replay 7/7" "$(pos rp)"
screen rp | grep -q 'end of recording' && ok "the end is said" ||
	not_ok "no 'end of recording' at the end"
keys rp p
check_eq "p steps back" "replay 6/7" "$(pos rp)"
keys rp g
check_eq "g: the first" "replay 1/7" "$(pos rp)"
keys rp A
check_eq "A: the interval the alert fired in" "replay $FIRED/7" "$(pos rp)"
s=$(screen rp)
printf '%s\n' "$s" | sed -n 2p | grep -q 'view alerts' &&
	printf '%s\n' "$s" | grep -q 'FIRING .*ready_test' &&
	ok "A shows the alerts view with the alert firing" ||
	not_ok "after A: $(printf '%s\n' "$s" | sed -n '1,6p' | tr '\n' '|')"
printf '%s\n' "$s" | sed -n 1p | grep -q 'ALERTS 1: critical ready_test' &&
	ok "the header names the firing alert" ||
	not_ok "header: $(printf '%s\n' "$s" | sed -n 1p)"
keys rp q
check_eq "q: exit status" 0 "$(wait_rc rp)"
check_eq "after q: no alternate screen, cursor visible" "0 1" "$(pane_state rp)"
check_eq "the torn line is said once on stderr" 1 "$(grep -c 'torn' "$TMP/rp.err")"

# played, it goes through to the end and stops there
tmux_run play "$KVMPROBE" -r "$REC" -i 0.2
if wait_screen play 'end of recording' 100; then
	check_eq "played to the end" "replay 7/7" "$(pos play)"
	screen play | sed -n 2p | grep -q paused && ok "stopped at the end" ||
		not_ok "not paused at the end"
else
	not_ok "playing did not reach the end: $(screen play | sed -n 2p)"
fi
keys play q

# not a terminal: each interval's table, in order
"$KVMPROBE" -r "$REC" >"$TMP/print.out" 2>"$TMP/print.err"
check_eq "not a terminal: every interval in order" \
	"$(seq -f 'interval %g/7' 1 7 | paste -sd,)" \
	"$(grep -o '^interval [0-9]*/7' "$TMP/print.out" | paste -sd,)"
check_eq "not a terminal: interval times in order" \
	"$(printf '%s\n' "${TIMES[@]}" | paste -sd,)" \
	"$(grep '^interval ' "$TMP/print.out" | awk '{print $3}' | paste -sd,)"
grep -q "^ *$X kvm-exerciser" "$TMP/print.out" && ok "the table has the exerciser" ||
	not_ok "no exerciser row in $(head -5 "$TMP/print.out")"
finish
