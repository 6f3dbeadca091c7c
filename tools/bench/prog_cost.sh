#!/bin/bash
# Per-program cost: kvmprobe with all probes while the exerciser runs its
# port-IO loop, with kernel.bpf_stats_enabled=1 (the old value is put back
# at exit). For every BPF program kvmprobe holds (found by its pid, see
# bpf_ids in lib.sh), run_time_ns / run_cnt over each loop; medians of ROUNDS
# loops. bpf_stats itself reads the clock twice around every run: the exit
# path is slower while it is on, and the figures hold the program body only,
# not the trampoline or tracepoint dispatch that leads to it.
. "$(dirname "$0")/lib.sh"

EXITS=${EXITS:-300000}
ROUNDS=${ROUNDS:-3}

mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
old=$(sysctl -n kernel.bpf_stats_enabled) || exit 1
KP_PID=
cleanup() {
	sysctl -qw kernel.bpf_stats_enabled="$old"
	[ -n "$KP_PID" ] && stop_bg "$KP_PID"
}
trap cleanup EXIT
sysctl -qw kernel.bpf_stats_enabled=1 || exit 1

stats() { # one line per program: id obj name run_time_ns run_cnt misses
	bpf_show prog "$KP_PID" |
		jq -r '.[] | [.id, .obj, .name, .run_time_ns // 0, .run_cnt // 0,
			.recursion_misses // 0] | map(tostring) | join(" ")' |
		sort -k1,1 # for join
}

start_kvmprobe -i 1 || exit 1
: >"$BENCH_OUT/prog_cost.rounds"
for r in $(seq 1 "$ROUNDS"); do
	stats >"$BENCH_OUT/prog_cost.before"
	"$EXERCISER" --vcpus 1 --io "$EXITS" >/dev/null || exit 1
	stats >"$BENCH_OUT/prog_cost.after"
	if [ "$(sysctl -n kernel.bpf_stats_enabled)" != 1 ]; then
		# someone turned it off meanwhile: counts are short, drop the round
		echo "prog_cost: round $r: bpf_stats was turned off, dropped" >&2
		sysctl -qw kernel.bpf_stats_enabled=1
		continue
	fi
	# round id obj name delta_ns delta_cnt delta_misses
	join "$BENCH_OUT/prog_cost.before" "$BENCH_OUT/prog_cost.after" |
		awk -v r="$r" '{ print r, $1, $2, $3, $9 - $4, $10 - $5, $11 - $6 }' \
			>>"$BENCH_OUT/prog_cost.rounds"
done
[ -s "$BENCH_OUT/prog_cost.rounds" ] || { echo "prog_cost: no programs" >&2; exit 1; }

note="median of $ROUNDS loops of $EXITS port-IO exits; bpf_stats adds 2 clock reads per run, not counted here"
while read -r id obj name; do
	ns=$(awk -v id="$id" '$2 == id && $6 > 0 { print $5 / $6 }' \
		"$BENCH_OUT/prog_cost.rounds" | median)
	cnt=$(awk -v id="$id" '$2 == id { print $6 }' "$BENCH_OUT/prog_cost.rounds" | median)
	miss=$(awk -v id="$id" '$2 == id { n += $7 } END { print n + 0 }' \
		"$BENCH_OUT/prog_cost.rounds")
	[ "$ns" = nan ] || add_result prog_cost "$obj:$name" ns_per_run \
		"$(printf %.0f "$ns")" ns "$note"
	add_result prog_cost "$obj:$name" runs_per_loop "$cnt" runs \
		"median of $ROUNDS loops of $EXITS exits; $miss runs missed (recursion) in all"
	echo "prog_cost: $obj:$name: $ns ns/run, $cnt runs per loop"
done < <(awk '{ print $2, $3, $4 }' "$BENCH_OUT/prog_cost.rounds" | sort -un)
