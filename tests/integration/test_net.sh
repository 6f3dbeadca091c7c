#!/bin/bash
# The net probe on a tap device whose "VM side" is tap-exerciser, a reader
# the test controls (with --kvm it holds a KVM VM: a VMM): packets and bytes each way equal what the reader read
# and wrote and the tap's own kernel counters, the delivery histogram holds
# one sample per delivered packet, and the drops the test arranges are
# counted with the kernel's reason: the reader stopped while the host sends
# (the tap's ring overflows: FULL_RING), and frames of an ethertype no host
# protocol takes (UNHANDLED_PROTO). A second kvmprobe with --pid of the
# reader, its programs attached as raw_tp (--attach tracepoint), sees the
# same.
. "$(dirname "$0")/lib.sh"
require_root
require_tap_tools

RX1=${RX1:-200} RX2=${RX2:-100} TX=${TX:-150}
tap=kpt$$
tap=${tap:0:15}
net=10.213.$(($$ % 250)) # a subnet of its own: tests may overlap
stat_of() { cat "/sys/class/net/$tap/statistics/$1"; }

ip tuntap add dev "$tap" mode tap 2>/dev/null || skip "cannot create tap devices"
trap 'cleanup; ip link del "$tap" 2>/dev/null' EXIT
# no IPv6 autoconfiguration traffic; a small ring that a stopped reader
# fills quickly
sysctl -qw "net.ipv6.conf.$tap.disable_ipv6=1"
ip link set "$tap" txqueuelen 16

"$TAPX" --kvm --dev "$tap" --send "$TX" >"$TMP/reader.out" 2>"$TMP/reader.err" &
reader=$!
BG_PIDS+=("$reader")
for i in $(seq 1 100); do
	grep -qs '"ready"' "$TMP/reader.out" && break
	sleep 0.05
done
grep -q '"ready"' "$TMP/reader.out" || { not_ok "tap-exerciser did not attach: $(cat "$TMP/reader.err")"; finish; }
ip addr add "$net.1/24" dev "$tap"
ip link set "$tap" up
ip neigh replace "$net.2" lladdr 02:00:00:00:00:02 dev "$tap" nud permanent

for s in tx_packets tx_bytes tx_dropped rx_packets rx_bytes rx_dropped; do
	eval "before_$s=$(stat_of $s)"
done
start_probe "$TMP/kp.json" -i 0.2 --probes net || exit 1
kp_all=$PROBE_PID
start_probe "$TMP/kp_pid.json" -i 0.2 --probes net -p "$reader" \
	--attach tracepoint || exit 1
kp_pid=$PROBE_PID
# a tap's packets are all timed once its rate is known to be low: after
# its first interval
for i in $(seq 1 100); do
	[ "$(grep -c '"type":"interval"' "$TMP/kp_pid.json")" -ge 2 ] && break
	sleep 0.05
done

# host -> VM while the reader reads, then while it is stopped
"$TAPX" --udp "$net.2:9" --count "$RX1" --gap-us 1000 >"$TMP/sender1.out" ||
	not_ok "sender failed"
sleep 0.3
kill -STOP "$reader"
"$TAPX" --udp "$net.2:9" --count "$RX2" >"$TMP/sender.out" ||
	not_ok "sender failed"
sleep 0.2
kill -CONT "$reader"
# VM -> host
kill -USR1 "$reader"
for i in $(seq 1 100); do
	grep -q '"sent"' "$TMP/reader.out" && break
	sleep 0.05
done
sleep 0.5
kill -TERM "$reader"
wait "$reader"
sleep 0.4
for s in tx_packets tx_bytes tx_dropped rx_packets rx_bytes rx_dropped; do
	eval "d_$s=\$(( \$(stat_of $s) - before_$s ))"
done
PROBE_PID=$kp_pid stop_probe
PROBE_PID=$kp_all stop_probe

truth=$(tail -n 1 "$TMP/reader.out")
read_p=$(jq .read.packets <<<"$truth")
read_b=$(jq .read.bytes <<<"$truth")
wrote_p=$(jq .written.packets <<<"$truth")
wrote_b=$(jq .written.bytes <<<"$truth")
# iface FILE JQPATH: sum over the reader's records of its tap's entry
iface() {
	jq -s --argjson pid "$reader" --arg d "$tap" \
		"[.[] | select(.type == \"vm\" and .vm.pid == \$pid) | .interfaces[]? | select(.dev == \$d) | $2 // 0] | add // 0" "$1"
}
for f in kp.json kp_pid.json; do
	out=$TMP/$f
	what="--pid: "
	[ "$f" = kp.json ] && what=""
	check_eq "${what}rx packets = what the reader read" "$read_p" "$(iface "$out" .rx.packets)"
	check_eq "${what}rx bytes = what the reader read" "$read_b" "$(iface "$out" .rx.bytes)"
	check_eq "${what}tx packets = what the reader wrote" "$wrote_p" "$(iface "$out" .tx.packets)"
	check_eq "${what}tx bytes = what the reader wrote" "$wrote_b" "$(iface "$out" .tx.bytes)"
	check_eq "${what}delivery_hist has a sample per delivered packet" "$read_p" \
		"$(iface "$out" '([.delivery_hist.buckets[]?[1]] | add)')"
	check_eq "${what}FULL_RING drops = the tap's tx_dropped" "$d_tx_dropped" \
		"$(iface "$out" '.drops.FULL_RING')"
	check_eq "${what}UNHANDLED_PROTO drops = frames the reader wrote" "$wrote_p" \
		"$(iface "$out" '.drops.UNHANDLED_PROTO')"
done
how() {
	jq -r '[select(.type == "start") | .probes[] | select(.name == "net") | .programs[]] | unique | join(",")' "$1"
}
check_eq "net programs attach as tp_btf by default" tp_btf "$(how "$TMP/kp.json")"
check_eq "net programs attach as raw_tp with --attach tracepoint" raw_tp \
	"$(how "$TMP/kp_pid.json")"
check_eq "the reader wrote what it was asked to" "$TX" "$wrote_p"
check_eq "rx packets = the tap's tx_packets" "$d_tx_packets" "$read_p"
check_eq "rx bytes = the tap's tx_bytes" "$d_tx_bytes" "$read_b"
check_eq "tx packets = the tap's rx_packets" "$d_rx_packets" "$wrote_p"
check_eq "unhandled frames = the tap's rx_dropped" "$d_rx_dropped" "$wrote_p"
check_eq "every host packet was delivered or dropped for a full ring" \
	$((RX1 + RX2)) $((read_p + d_tx_dropped))
if [ "$d_tx_dropped" -gt 0 ]; then
	ok "the stopped reader made the ring overflow ($d_tx_dropped drops)"
else
	not_ok "no FULL_RING drops although the reader was stopped"
fi
slow=$(iface "$TMP/kp.json" '([.delivery_hist.buckets[]? | select(.[0] == null or .[0] > 100000000) | .[1]] | add)')
if [ "$slow" -gt 0 ]; then
	ok "packets queued while the reader was stopped waited > 100 ms ($slow)"
else
	not_ok "no delivery took > 100 ms although the reader was stopped for 200 ms"
fi
check_eq "records name the process" tap-exerciser \
	"$(jq -rs --argjson pid "$reader" '[.[] | select(.type == "vm" and .vm.pid == $pid) | .vm.comm] | map(select(. != null)) | unique | join(",")' "$TMP/kp.json")"
check_eq "no events lost" 0 \
	"$(jq -s '[.[] | select(.type == "interval") | .lost.net // 0] | add' "$TMP/kp.json")"
finish
