#!/bin/bash
# Per-program cost: kvmprobe with all probes while the exerciser runs its
# port-IO loop, with kernel.bpf_stats_enabled=1 (the old value is put back
# at exit). For every BPF program kvmprobe holds (found by its pid, see
# bpf_ids in lib.sh), run_time_ns / run_cnt over each loop; medians of ROUNDS
# loops. bpf_stats itself reads the clock twice around every run: the exit
# path is slower while it is on, and the figures hold the program body only,
# not the trampoline or tracepoint dispatch that leads to it. Then the BPF
# time per exit of all probes together: every program on a KVM event (its
# ns per run times its runs per exit, summed), the exit path's budget
# (issue 10: at most 100 ns), and, apart, that of every program during the
# loop (scheduler programs also run for the rest of the host).
. "$(dirname "$0")/lib.sh"

EXITS=${EXITS:-300000}
ROUNDS=${ROUNDS:-3}

mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
old=$(sysctl -n kernel.bpf_stats_enabled) || exit 1
KP_PID=
cleanup() {
	sysctl -qw kernel.bpf_stats_enabled="$old"
	[ -n "$KP_PID" ] && stop_bg "$KP_PID"
	[ -n "${FL_PID:-}" ] && stop_bg "$FL_PID"
}
trap cleanup EXIT
sysctl -qw kernel.bpf_stats_enabled=1 || exit 1

stats() { # one line per program: id obj name run_time_ns run_cnt misses
	bpf_show prog "$KP_PID" |
		jq -r '.[] | [.id, .obj, .name, .run_time_ns // 0, .run_cnt // 0,
			.recursion_misses // 0] | map(tostring) | join(" ")' |
		sort -k1,1 # for join
}

# the floor: one empty program on every event kvmprobe hooks, in the same
# loops, so that each figure reads against what any program costs there
floor_stats() { # run_time_ns run_cnt of the floor's program
	bpftool -j prog show id "$(bpf_ids "$FL_PID" prog | head -1)" |
		jq -r '"\(.run_time_ns // 0) \(.run_cnt // 0)"'
}
events=$(probe_events) || exit 1
# shellcheck disable=SC2086 # one event a word
start_floor $events || exit 1
start_kvmprobe -i 1 || exit 1
: >"$BENCH_OUT/prog_cost.rounds"
: >"$BENCH_OUT/prog_cost.floor"
for r in $(seq 1 "$ROUNDS"); do
	stats >"$BENCH_OUT/prog_cost.before"
	f0=$(floor_stats)
	"$EXERCISER" --vcpus 1 --io "$EXITS" >/dev/null || exit 1
	f1=$(floor_stats)
	stats >"$BENCH_OUT/prog_cost.after"
	if [ "$(sysctl -n kernel.bpf_stats_enabled)" != 1 ]; then
		# someone turned it off meanwhile: counts are short, drop the round
		echo "prog_cost: round $r: bpf_stats was turned off, dropped" >&2
		sysctl -qw kernel.bpf_stats_enabled=1
		continue
	fi
	echo "$f0 $f1" | awk '$4 > $2 { print ($3 - $1) / ($4 - $2) }' \
		>>"$BENCH_OUT/prog_cost.floor"
	# round id obj name delta_ns delta_cnt delta_misses
	join "$BENCH_OUT/prog_cost.before" "$BENCH_OUT/prog_cost.after" |
		awk -v r="$r" '{ print r, $1, $2, $3, $9 - $4, $10 - $5, $11 - $6 }' \
			>>"$BENCH_OUT/prog_cost.rounds"
done
[ -s "$BENCH_OUT/prog_cost.rounds" ] || { echo "prog_cost: no programs" >&2; exit 1; }

fl=$(median <"$BENCH_OUT/prog_cost.floor")
add_result prog_cost floor ns_per_run "$(printf %.0f "$fl")" ns \
	"an empty program on each of the $(echo $events | wc -w) events, the same loops: what bpf_stats' clock reads alone show"
note="median of $ROUNDS loops of $EXITS port-IO exits; bpf_stats' clock reads included, as in the floor ($(printf %.0f "$fl") ns)"
while read -r id obj name; do
	ns=$(awk -v id="$id" '$2 == id && $6 > 0 { print $5 / $6 }' \
		"$BENCH_OUT/prog_cost.rounds" | median)
	cnt=$(awk -v id="$id" '$2 == id { print $6 }' "$BENCH_OUT/prog_cost.rounds" | median)
	miss=$(awk -v id="$id" '$2 == id { n += $7 } END { print n + 0 }' \
		"$BENCH_OUT/prog_cost.rounds")
	[ "$ns" = nan ] || add_result prog_cost "$obj:$name" ns_per_run \
		"$(printf %.0f "$ns")" ns "$note; $(times_floor "$ns" "$fl") the floor"
	add_result prog_cost "$obj:$name" runs_per_loop "$cnt" runs \
		"median of $ROUNDS loops of $EXITS exits; $miss runs missed (recursion) in all"
	echo "prog_cost: $obj:$name: $ns ns/run, $cnt runs per loop"
done < <(awk '{ print $2, $3, $4 }' "$BENCH_OUT/prog_cost.rounds" | sort -un)

# per exit: the sum over programs of delta_ns / exits, medians of rounds
exits=$((EXITS + 1)) # the exerciser's "done" exit
for what in kvm all; do
	ns=$(awk -v w="$what" -v e="$exits" '
		w == "all" || $3 == "exits" || $4 ~ /^run_/ { t[$1] += $5 }
		END { for (r in t) print t[r] / e }' "$BENCH_OUT/prog_cost.rounds" | median)
	if [ "$what" = kvm ]; then
		add_result prog_cost "all probes: KVM event programs" ns_per_exit \
			"$(printf %.0f "$ns")" ns "sum of ns/run x runs/exit, $note" 100
	else
		add_result prog_cost "all probes: every program during the loop" \
			ns_per_exit "$(printf %.0f "$ns")" ns "scheduler programs run for other tasks too; $note"
	fi
	echo "prog_cost: BPF time per exit ($what programs): $ns ns"
done
