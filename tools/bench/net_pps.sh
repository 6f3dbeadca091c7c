#!/bin/bash
# Packet path cost of the net probe: a packet loop over a tap device, the
# host sending UDP into the tap (sendmmsg, pinned to one CPU, paced at RATE
# packets/s so that the reader keeps up and nothing is dropped) and
# tap-exerciser reading it as a VM's QEMU would (pinned to another CPU),
# bare vs kvmprobe --probes net. Every packet passes the probe's programs
# on both sides: net_dev_start_xmit in the sender, consume_skb in the
# reader. The figure is the CPU time per delivered packet, the sender's per
# packet sent plus the reader's per packet read: on a CPU-bound packet loop
# throughput falls by the same ratio. Budget 2% for kvmprobe, against the
# floor (empty programs on the same events). Rounds of one run each, in an
# order that turns every round; medians of per-round ratios to bare. Then, with kernel.bpf_stats_enabled=1, the
# run_time_ns / run_cnt of each net program in one run (bpf_stats adds two
# clock reads to every run: an empty program shows about 30 ns here).
. "$(dirname "$0")/lib.sh"

COUNT=${COUNT:-1000000}
RATE=${RATE:-200000}
# kvmprobe sets each tap's sampling and the tracepoints' duty cycle from the
# rates of its first interval: measure the steady state after that
SETTLE=${SETTLE:-3}
SEND_CPU=${SEND_CPU:-0}
READ_CPU=${READ_CPU:-1}
TAPX=${TAPX:-$TOP/build/tap-exerciser}
tap=kpb$$
tap=${tap:0:15}
net=10.214.$(($$ % 250)) # a subnet of its own: runs may overlap

[ -x "$TAPX" ] || { echo "net_pps: build first (missing $TAPX)" >&2; exit 1; }
old_stats=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
	[ -n "${KP_PID:-}" ] && stop_bg "$KP_PID"
	[ -n "${FL_PID:-}" ] && stop_bg "$FL_PID"
	[ -n "${RD_PID:-}" ] && kill -TERM "$RD_PID" 2>/dev/null
	sysctl -qw kernel.bpf_stats_enabled="$old_stats"
	ip link del "$tap" 2>/dev/null
}
trap cleanup EXIT
ip tuntap add dev "$tap" mode tap || exit 1
sysctl -qw "net.ipv6.conf.$tap.disable_ipv6=1"
ip addr add "$net.1/24" dev "$tap"

# one_run: prints "pps ns_per_packet delivered" for one loop of COUNT
one_run() {
	local out=$BENCH_OUT/net_reader.$$.out s r i
	taskset -c "$READ_CPU" "$TAPX" --dev "$tap" >"$out" 2>&1 &
	RD_PID=$!
	for i in $(seq 1 100); do
		grep -qs '"ready"' "$out" && break
		sleep 0.02
	done
	ip link set "$tap" up
	ip neigh replace "$net.2" lladdr 02:00:00:00:00:02 dev "$tap" nud permanent
	s=$(taskset -c "$SEND_CPU" "$TAPX" --udp "$net.2:9" --count "$COUNT" \
		--rate "$RATE")
	sleep 0.2
	kill -TERM "$RD_PID"
	wait "$RD_PID"
	RD_PID=
	r=$(tail -n 1 "$out")
	jq -rn --argjson s "$s" --argjson r "$r" '
		[($s.sent * 1e9 / $s.wall_ns | floor),
		 ($s.cpu_ns / $s.sent + $r.cpu_ns / ([$r.read.packets, 1] | max) | floor),
		 $r.read.packets] | @tsv'
}

events=$(probe_events net) || exit 1
variants="bare floor kvmprobe"
for v in $variants; do : >"$BENCH_OUT/net_ns_$v"; : >"$BENCH_OUT/net_pps_$v"; done
one_run >/dev/null # warm-up
# one run of variant v: "pps ns_per_packet delivered"
run_variant() {
	case $1 in
	bare) one_run ;;
	floor)
		# shellcheck disable=SC2086 # one event a word
		start_floor $events || return 1
		one_run
		stop_bg "$FL_PID" ;;
	kvmprobe)
		start_kvmprobe -i 1 --probes net || return 1
		sleep "$SETTLE"
		one_run
		stop_bg "$KP_PID" ;;
	esac
}
for i in $(seq 1 "$PAIRS"); do
	line=
	# shellcheck disable=SC2086 # one variant a word
	for v in $(turn_order "$i" $variants); do
		x=$(run_variant "$v") || exit 1
		read -r p n d <<<"$x"
		echo "$p" >>"$BENCH_OUT/net_pps_$v"
		echo "$n" >>"$BENCH_OUT/net_ns_$v"
		line="$line $v $p pps $n ns/packet ($d delivered),"
	done
	echo "net_pps: round $i/$PAIRS (load $(cut -d' ' -f1 /proc/loadavg)):${line%,}"
done

bp=$(median <"$BENCH_OUT/net_pps_bare")
bn=$(median <"$BENCH_OUT/net_ns_bare")
add_spread net_pps bare ns_per_packet "$BENCH_OUT/net_ns_bare" ns \
	"sender CPU per packet sent + reader CPU per packet read, $COUNT UDP packets host -> tap -> reader at $RATE/s"
for v in floor kvmprobe; do
	pair_pct "$BENCH_OUT/net_ns_bare" "$BENCH_OUT/net_ns_$v" >"$BENCH_OUT/net_slow_$v"
	pair_pct "$BENCH_OUT/net_pps_bare" "$BENCH_OUT/net_pps_$v" - >"$BENCH_OUT/net_lost_$v"
done
read -r fl _ <<<"$(spread "$BENCH_OUT/net_slow_floor")"
read -r m lo hi _ <<<"$(spread "$BENCH_OUT/net_slow_kvmprobe")"
add_spread net_pps floor cpu_added "$BENCH_OUT/net_slow_floor" "%" \
	"CPU per packet vs bare in the same round ($bn ns): median of $PAIRS rounds; empty programs on the net probe's events: $(echo $events), always attached (kvmprobe's are on a duty cycle)"
add_spread net_pps kvmprobe cpu_added "$BENCH_OUT/net_slow_kvmprobe" "%" \
	"CPU per packet vs bare in the same round: median of $PAIRS rounds; $(times_floor "$m" "$fl") the floor ($fl%)" 2
add_spread net_pps kvmprobe pps_lost "$BENCH_OUT/net_lost_kvmprobe" "%" \
	"the sender's rate (paced at $RATE/s, bare $bp pps) vs bare in the same round"
echo "net_pps: kvmprobe: $m% CPU per packet (min $lo, max $hi; floor $fl%) vs bare $bn ns/packet"
kn=$(median <"$BENCH_OUT/net_ns_kvmprobe")

# ---- per-run cost of each net program, from bpf_stats ----
sysctl -qw kernel.bpf_stats_enabled=1 || exit 0
stats() { # name run_time_ns run_cnt of the programs KP_PID holds
	local ids
	ids=$(bpf_ids "$KP_PID" prog | jq -sc .)
	bpftool -j prog show | jq -r --argjson ids "$ids" '.[] |
		select(.id as $i | $ids | index($i)) |
		"\(.name) \(.run_time_ns // 0) \(.run_cnt // 0)"' | sort
}
start_kvmprobe -i 1 --probes net || exit 1
sleep "$SETTLE"
stats >"$BENCH_OUT/net_stats.0"
one_run >/dev/null
stats >"$BENCH_OUT/net_stats.1"
stop_bg "$KP_PID"
KP_PID=
join "$BENCH_OUT/net_stats.0" "$BENCH_OUT/net_stats.1" |
	awk '{ n = $5 - $3; if (n > 0) printf "%s %.0f %d %d\n", $1, ($4 - $2) / n, n, $4 - $2 }' \
	>"$BENCH_OUT/net_stats.d"
while read -r name ns runs total; do
	add_result net_pps "prog $name" ns_per_run "$ns" ns "$runs runs in one loop of $COUNT (bpf_stats)"
	echo "net_pps: $name: $ns ns per run ($runs runs)"
done <"$BENCH_OUT/net_stats.d"
# All programs' time per packet, against a packet's CPU time bare
# (bpf_stats' own clock reads, about 30 ns a run, included).
awk -v n="$COUNT" -v bare="$bn" '{ total += $4 }
	END { printf "%.0f %.2f\n", total / n, total / n * 100 / bare }' \
	"$BENCH_OUT/net_stats.d" | {
	read -r per_p pct || exit 0
	add_result net_pps kvmprobe bpf_ns_per_packet "$per_p" ns "all net programs per packet sent (bpf_stats)"
	add_result net_pps kvmprobe bpf_share "$pct" "%" "of a packet's CPU time bare ($bn ns)"
	echo "net_pps: $per_p ns of BPF per packet: $pct% of a packet's CPU time bare"
}
