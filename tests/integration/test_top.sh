#!/bin/bash
# kvmprobe top in a terminal (tmux), against two exercisers whose CPU share
# the test controls: "kp-calm", one vCPU alone on CPU 0 (busy, not
# waiting), and "kp-busy", two vCPUs pinned with a hog on the last CPU (each
# gets a third: ready two thirds). By %USED (the default order) calm comes
# first; by %RDY busy does. The view also records its intervals (-o): the
# numbers on the screen must be those of the records of the same interval
# (the header's host CPU busy % too).
# Then: every view key shows its view, expand shows the vCPUs by index,
# the filter narrows to one VM, and after q and after SIGTERM the terminal
# is left as it was (no alternate screen, cursor visible).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_sched.sh"
. "$(dirname "$0")/lib_top.sh"
require_root
require_kvm
require_bins
require_taskset
require_tmux
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs (one contended, one not)"

C=$SCHED_CPU
"$EXERCISER" --vcpus 1 --spin 40 --pin 0 --name kp-calm >/dev/null &
CALM=$!
"$EXERCISER" --vcpus 2 --spin 40 --pin "$C" --name kp-busy >/dev/null &
BUSY=$!
BG_PIDS+=("$CALM" "$BUSY")
start_hog "$C"

tmux_run live "$KVMPROBE" top -i 1 --probes sched,exits -p "$CALM" -p "$BUSY" \
	-o "$TMP/rec.ndjson"
wait_screen live 'kp-busy' 100 || { not_ok "top shows no VM"; screen live; finish; }
check_eq "while top runs: alternate screen on, cursor hidden" "1 0" "$(pane_state live)"
# the second interval: both VMs were running all of it
sleep 2.2

# -- default order: %USED, calm first
s=$(screen live)
row1=$(printf '%s\n' "$s" | sed -n '5p')
echo "$s" | sed -n '1,8p'
printf '%s\n' "$s" | grep -q 'sort %USED desc' && ok "default sort is %USED" ||
	not_ok "default sort: $(printf '%s\n' "$s" | sed -n 2p)"
# (calm has CPU 0 to itself unless the host's other load takes it: the
# order is checked on the screen's own %USED column)
u=$(printf '%s\n' "$s" | sed -n '5,6p' | awk '{print $4}' | paste -sd' ')
awk -v u="$u" 'BEGIN { split(u, a, " "); exit !(a[1] + 0 >= a[2] + 0) }' &&
	ok "by %USED the rows descend ($u)" || not_ok "by %USED rows are $u"

# -- > moves the sort to %RDY: the contended VM first
keys live '>'
wait_screen live 'sort %RDY' 50
s=$(screen live)
printf '%s\n' "$s" | grep -q 'sort %RDY desc' && ok "> moves the sort to %RDY" ||
	not_ok "after >: $(printf '%s\n' "$s" | sed -n 2p)"
row1=$(printf '%s\n' "$s" | sed -n '5p')
[[ $row1 == *kp-busy* ]] && ok "by %RDY the contended VM is first" ||
	not_ok "by %RDY first row is '$row1', want kp-busy"
keys live r
row1=$(screen live | sed -n '5p')
[[ $row1 == *kp-calm* ]] && ok "r reverses: calm first" ||
	not_ok "after r first row is '$row1', want kp-calm"
keys live r

# -- the numbers of the screen are those of the record of that interval
s=$(screen live)
hms=$(printf '%s\n' "$s" | sed -n '1p' | awk '{print $1}')
for who in "$CALM" "$BUSY"; do
	row=$(printf '%s\n' "$s" | awk -v p="$who" '$1 == p')
	got=$(echo "$row" | awk '{print $4, $5, $6}')
	want=$(jq -r --arg hms "$hms" --argjson pid "$who" '
		select(.type == "vm" and .vm.pid == $pid and
		       (.ts | .[11:19]) == $hms) |
		"\(.cpu_pct) \(.run_delay.ready_pct) \(.run_delay.worst_ready_pct)"' \
		"$TMP/rec.ndjson")
	if [ -z "$want" ]; then
		not_ok "pid $who: no record at $hms"
		continue
	fi
	same=$(awk -v g="$got" -v w="$want" 'BEGIN {
		n = split(g, a, " "); split(w, b, " "); ok = n == 3
		for (i = 1; i <= 3; i++) {
			d = a[i] - b[i]; if (d < 0) d = -d
			if (d > 0.051) ok = 0
		}
		print ok }')
	[ "$same" = 1 ] && ok "pid $who at $hms: %USED %RDY %MAXRDY $got = record $want" ||
		not_ok "pid $who at $hms: screen '$got', record '$want'"
done
# the header's host CPU busy % is the interval record's host_cpu.busy_pct
got=$(printf '%s\n' "$s" | sed -n '1s/.*  host CPU \([0-9.]*\)%  .*/\1/p')
want=$(jq -r --arg hms "$hms" 'select(.type == "interval" and
	(.ts | .[11:19]) == $hms) | .host_cpu.busy_pct' "$TMP/rec.ndjson")
awk -v g="$got" -v w="$want" 'BEGIN { d = g - w; if (d < 0) d = -d
	exit !(g != "" && w != "" && w != "null" && d <= 0.051) }' &&
	ok "header at $hms: host CPU $got% = record $want" ||
	not_ok "header at $hms: host CPU '$got', record '$want'"
# the premise: the hog and two vCPUs share CPU C (each waits about two
# thirds; other load on the host only adds to it)
busy_rdy=$(printf '%s\n' "$s" | awk -v p="$BUSY" '$1 == p {print $5}')
within "$busy_rdy" 100 200 && ok "busy VM %RDY $busy_rdy (at least 2 x 50)" ||
	not_ok "busy VM %RDY $busy_rdy, want 100 to 200"

# -- expand the selected (first) VM: its vCPUs by index
keys live e
wait_screen live 'vcpu 1' 50
s=$(screen live)
printf '%s\n' "$s" | sed -n '4,9p'
v0=$(printf '%s\n' "$s" | sed -n '6p')
v1=$(printf '%s\n' "$s" | sed -n '7p')
[[ $v0 == *"vcpu 0"* && $v1 == *"vcpu 1"* ]] &&
	ok "e expands kp-busy into vcpu 0 and vcpu 1" ||
	not_ok "after e: rows '$v0' / '$v1'"
# the vCPU rows are the record's vcpus[] of that interval
hms=$(printf '%s\n' "$s" | sed -n '1p' | awk '{print $1}')
for i in 0 1; do
	row=$(printf '%s\n' "$s" | sed -n "$((6 + i))p")
	got=$(echo "$row" | awk '{print $1, $5, $6}')
	want=$(jq -r --arg hms "$hms" --argjson pid "$BUSY" --argjson i "$i" '
		select(.type == "vm" and .vm.pid == $pid and
		       (.ts | .[11:19]) == $hms) | .vcpus[] | select(.index == $i) |
		"\(.tid) \(.cpu_pct) \(.run_delay.ready_pct)"' "$TMP/rec.ndjson")
	same=$(awk -v g="$got" -v w="$want" 'BEGIN {
		n = split(g, a, " "); m = split(w, b, " "); ok = n == 3 && m == 3
		if (a[1] != b[1]) ok = 0
		for (i = 2; i <= 3; i++) {
			d = a[i] - b[i]; if (d < 0) d = -d
			if (d > 0.051) ok = 0
		}
		print ok }')
	[ "$same" = 1 ] && ok "vcpu $i at $hms: tid %USED %RDY $got = record $want" ||
		not_ok "vcpu $i at $hms: screen '$got', record '$want'"
done
keys live e
[ "$(screen live | grep -c 'vcpu ')" = 0 ] && ok "e again collapses" ||
	not_ok "vCPU rows left after a second e"

# -- the filter narrows to one domain
keys live -l /kp-calm
keys live Enter
wait_screen live 'filter kp-calm' 50
s=$(screen live)
printf '%s\n' "$s" | grep -q 'filter kp-calm' && ok "/ sets the filter" ||
	not_ok "filter not shown: $(printf '%s\n' "$s" | sed -n 2p)"
n=$(printf '%s\n' "$s" | sed -n '5,44p' | grep -c 'kp-')
row1=$(printf '%s\n' "$s" | sed -n '5p')
[ "$n" = 1 ] && [[ $row1 == *kp-calm* ]] && ok "the filter leaves kp-calm alone" ||
	not_ok "filter: $n rows, first '$row1'"
keys live / C-h C-h C-h C-h C-h C-h C-h Enter

# -- each view key shows its view
for kv in "c:CPU:%MAXRDY" "x:exits:VMMEXIT/s" "d:disk:R-IOPS" \
	"n:network:RX-pps" "m:memory:RSS MiB" "a:alerts:THRESH"; do
	IFS=: read -r k name col <<<"$kv"
	keys live "$k"
	wait_screen live "view $name " 50
	s=$(screen live)
	if printf '%s\n' "$s" | sed -n 2p | grep -q "view $name " &&
		printf '%s\n' "$s" | sed -n 4p | grep -qF "$col"; then
		ok "key $k shows the $name view ($col)"
	else
		not_ok "key $k: $(printf '%s\n' "$s" | sed -n '2p;4p' | tr '\n' '|')"
	fi
done
keys live h
screen live | grep -q 'kvmprobe top: keys' && ok "h shows the help" ||
	not_ok "h shows no help"
keys live Space
keys live c

# -- q: the view ends, exit 0, the terminal restored
keys live q
check_eq "q: exit status" 0 "$(wait_rc live)"
check_eq "after q: no alternate screen, cursor visible" "0 1" "$(pane_state live)"
jq -e 'select(.type == "stop") | .reason == "quit"' "$TMP/rec.ndjson" >/dev/null &&
	ok "the recording ends with a stop record (quit)" ||
	not_ok "no stop record with reason quit in the recording"

# -- SIGTERM: the same
tmux_run term "$KVMPROBE" top -i 1 --probes sched -p "$CALM"
wait_screen term 'kp-calm' 100 || not_ok "second top shows nothing"
check_eq "second top: alternate screen on, cursor hidden" "1 0" "$(pane_state term)"
kill -TERM "$(cat "$TMP/term.pid")"
check_eq "SIGTERM: exit status" 0 "$(wait_rc term)"
check_eq "after SIGTERM: no alternate screen, cursor visible" "0 1" "$(pane_state term)"

# -- TERM=dumb: the scrolling text
TERM=dumb "$KVMPROBE" top -i 0.5 -c 1 --probes sched -p "$CALM" \
	>"$TMP/dumb.out" 2>"$TMP/dumb.err"
grep -q '^PID .*%RDY' "$TMP/dumb.out" && grep -q 'needs a terminal' "$TMP/dumb.err" &&
	ok "TERM=dumb: the scrolling text table, and says why" ||
	not_ok "TERM=dumb: $(head -c 300 "$TMP/dumb.out" "$TMP/dumb.err")"
stop_hog
finish
