#!/bin/bash
# Taps in other network namespaces (KubeVirt's virt-launcher pods, Kata):
# two namespaces each hold a tap of the same name, and so the same
# ifindex, read by a tap-exerciser VMM (--kvm) inside it; kvmprobe's own
# namespace has a third tap of that name and its own reader. kvmprobe runs
# in the root namespace. Each reader's VM record has its own tap's packets
# and bytes each way, exactly what it read and wrote and what the tap's
# kernel counters in its namespace say, a delivery sample per delivered
# packet, and the UNHANDLED_PROTO drops of the frames it wrote: nothing of
# one namespace's tap lands on another's. The same with --pid of one reader.
. "$(dirname "$0")/lib.sh"
require_root
require_tap_tools

tap=kpn$$
tap=${tap:0:15}
nsa=kpna$$ nsb=kpnb$$
sub=$(($$ % 200))
# per place: namespace ("" for kvmprobe's), subnet, packets host -> VM,
# frames VM -> host
places=(a b h)
declare -A NS=([a]=$nsa [b]=$nsb [h]=) NET=([a]=10.214.$sub [b]=10.215.$sub [h]=10.216.$sub)
declare -A RX=([a]=120 [b]=70 [h]=40) TX=([a]=30 [b]=90 [h]=10) READER=()

in_ns() { # PLACE CMD...: run CMD in the place's namespace
	local n=${NS[$1]}
	shift
	if [ -n "$n" ]; then ip netns exec "$n" "$@"; else "$@"; fi
}
stat_of() { in_ns "$1" cat "/sys/class/net/$tap/statistics/$2"; }
# readers_say PATTERN: wait (5 s at most) until every reader printed it
readers_say() {
	local p i
	for p in "${places[@]}"; do
		for i in $(seq 1 100); do
			grep -qs "$1" "$TMP/reader_$p.out" && break
			sleep 0.05
		done
	done
}

ip netns add "$nsa" 2>/dev/null && ip netns add "$nsb" 2>/dev/null ||
	skip "cannot create network namespaces"
trap 'cleanup; ip link del "$tap" 2>/dev/null; ip netns del "$nsa"; ip netns del "$nsb"' EXIT
for p in "${places[@]}"; do
	in_ns "$p" ip tuntap add dev "$tap" mode tap 2>/dev/null ||
		skip "cannot create tap devices"
	# no IPv6 autoconfiguration traffic
	in_ns "$p" sysctl -qw "net.ipv6.conf.$tap.disable_ipv6=1"
	in_ns "$p" "$TAPX" --kvm --dev "$tap" --send "${TX[$p]}" \
		>"$TMP/reader_$p.out" 2>"$TMP/reader_$p.err" &
	BG_PIDS+=("$!")
done
readers_say '"ready"'
for p in "${places[@]}"; do
	grep -q '"ready"' "$TMP/reader_$p.out" ||
		{ not_ok "tap-exerciser in $p did not attach: $(cat "$TMP/reader_$p.err")"; finish; }
	# the reader itself, not the shell that started it
	READER[$p]=$(head -n 1 "$TMP/reader_$p.out" | jq .pid)
	BG_PIDS+=("${READER[$p]}")
	in_ns "$p" ip addr add "${NET[$p]}.1/24" dev "$tap"
	in_ns "$p" ip link set "$tap" up
	in_ns "$p" ip neigh replace "${NET[$p]}.2" lladdr 02:00:00:00:00:02 \
		dev "$tap" nud permanent
done
check_eq "the namespaces' taps have the same ifindex" \
	"$(in_ns a cat /sys/class/net/$tap/ifindex)" \
	"$(in_ns b cat /sys/class/net/$tap/ifindex)"
for p in "${places[@]}"; do
	for s in tx_packets tx_bytes rx_packets rx_bytes rx_dropped; do
		eval "before_${p}_$s=$(stat_of "$p" $s)"
	done
done

start_probe "$TMP/kp.json" -i 0.2 --probes net || exit 1
kp_all=$PROBE_PID
start_probe "$TMP/kp_pid.json" -i 0.2 --probes net -p "${READER[b]}" || exit 1
kp_pid=$PROBE_PID
# the resolver has read the readers' taps, and each tap has had an
# interval: its rate is known, all its packets are timed
for i in $(seq 1 150); do
	n=$(jq -s '[.[] | select(.type == "vm" and .vm.comm == "tap-exerciser")] | length' "$TMP/kp.json" 2>/dev/null)
	[ "$(grep -c '"type":"interval"' "$TMP/kp_pid.json")" -ge 3 ] &&
		[ "${n:-0}" -ge 3 ] && break
	sleep 0.1
done
# all three taps announced themselves: the readers' VMs have records
sleep 1.2

senders=()
for p in "${places[@]}"; do # host -> VM, all three at once
	in_ns "$p" "$TAPX" --udp "${NET[$p]}.2:9" --count "${RX[$p]}" --gap-us 1000 \
		>"$TMP/sender_$p.out" &
	senders+=("$!")
done
for s in "${senders[@]}"; do
	wait "$s" || not_ok "a sender failed"
done
for p in "${places[@]}"; do # VM -> host
	kill -USR1 "${READER[$p]}"
done
readers_say '"sent"'
sleep 0.6
for p in "${places[@]}"; do
	kill -TERM "${READER[$p]}"
done
readers_say '"read"'
sleep 0.4
PROBE_PID=$kp_pid stop_probe
PROBE_PID=$kp_all stop_probe
for p in "${places[@]}"; do
	for s in tx_packets tx_bytes rx_packets rx_bytes rx_dropped; do
		eval "d_${p}_$s=\$(( \$(stat_of $p $s) - before_${p}_$s ))"
	done
done

# iface FILE PID JQPATH: sum over the reader's records of its tap's entry
iface() {
	jq -s --argjson pid "$2" --arg d "$tap" \
		"[.[] | select(.type == \"vm\" and .vm.pid == \$pid) | .interfaces[]? | select(.dev == \$d) | $3 // 0] | add // 0" "$1"
}
check_places() { # FILE WHAT PLACES...
	local f=$1 what=$2 p pid truth read_p
	shift 2
	for p in "$@"; do
		pid=${READER[$p]}
		truth=$(tail -n 1 "$TMP/reader_$p.out")
		read_p=$(jq .read.packets <<<"$truth")
		check_eq "$what$p: the reader read what was sent" "${RX[$p]}" "$read_p"
		check_eq "$what$p: rx packets = what the reader read" "$read_p" "$(iface "$f" "$pid" .rx.packets)"
		check_eq "$what$p: rx bytes = what the reader read" "$(jq .read.bytes <<<"$truth")" "$(iface "$f" "$pid" .rx.bytes)"
		check_eq "$what$p: tx packets = what the reader wrote" "${TX[$p]}" "$(iface "$f" "$pid" .tx.packets)"
		check_eq "$what$p: tx bytes = what the reader wrote" "$(jq .written.bytes <<<"$truth")" "$(iface "$f" "$pid" .tx.bytes)"
		check_eq "$what$p: delivery_hist has a sample per delivered packet" "$read_p" \
			"$(iface "$f" "$pid" '([.delivery_hist.buckets[]?[1]] | add)')"
		check_eq "$what$p: UNHANDLED_PROTO drops = frames the reader wrote" "${TX[$p]}" \
			"$(iface "$f" "$pid" '.drops.UNHANDLED_PROTO')"
	done
}
check_places "$TMP/kp.json" "" a b h
check_places "$TMP/kp_pid.json" "--pid: " b
for p in "${places[@]}"; do
	check_eq "$p: rx packets = the tap's tx_packets in its namespace" \
		"$(eval echo \$d_${p}_tx_packets)" "$(iface "$TMP/kp.json" "${READER[$p]}" .rx.packets)"
	check_eq "$p: tx packets = the tap's rx_packets in its namespace" \
		"$(eval echo \$d_${p}_rx_packets)" "$(iface "$TMP/kp.json" "${READER[$p]}" .tx.packets)"
done
check_eq "--pid: only the chosen reader's VM has records" "${READER[b]}" \
	"$(jq -rs '[.[] | select(.type == "vm") | .vm.pid] | unique | join(",")' "$TMP/kp_pid.json")"
check_eq "no tap is left in the host record" 0 \
	"$(jq -s --arg d "$tap" '[.[] | select(.type == "host") | .interfaces[]? | select(.dev == $d)] | length' "$TMP/kp.json")"
check_eq "no events lost" 0 \
	"$(jq -s '[.[] | select(.type == "interval") | .lost.net // 0] | add' "$TMP/kp.json")"
finish
