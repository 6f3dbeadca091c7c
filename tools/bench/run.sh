#!/bin/bash
# make bench: run every benchmark, then write build/bench/results.json and
# build/bench/results.md (the table for the README's Performance section).
# BENCHES="a b" runs only those; PAIRS=N rounds per row (default 7). Every
# row with a budget gets a verdict: miss when its value is over budget,
# noisy when it is within but its rounds spread (max - min) wider than the
# budget, pass otherwise. A miss is a finding, not a failure: the exit
# status is 1 only when a benchmark could not run.
set -u
cd "$(dirname "$0")" || exit 1
. ./lib.sh
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root" >&2; exit 1; }
# in the order of issue 7; a probe's benchmark joins once its script exists
all=
for b in exit_path sched_pipe block_fio net_pps prog_cost userspace startup; do
	[ -f "$b.sh" ] && all="$all $b"
done

# "bare" means bare only if nothing else traces: note what was there
others=$(bpftool -j prog show 2>/dev/null | jq '[.[] | select(.type |
	test("tracing|tracepoint|kprobe|perf_event"))] | length')
load=$(cut -d' ' -f1 /proc/loadavg)
rm -f "$BENCH_OUT/results.ndjson"
touch "$BENCH_OUT/results.ndjson"
failed=
for b in ${BENCHES:-$all}; do
	echo "== $b (load average $(cut -d' ' -f1-3 /proc/loadavg))"
	bash "./$b.sh" || { echo "bench: $b failed" >&2; failed="$failed $b"; }
done
load_end=$(cut -d' ' -f1 /proc/loadavg)

jq -s --arg date "$(date -u +%Y-%m-%d)" --arg host "$(uname -r), $(nproc) CPUs" \
	--argjson others "${others:-null}" --argjson load "$load" \
	--argjson load_end "$load_end" --argjson pairs "$PAIRS" \
	'{date:$date, machine:$host, loadavg_at_start:$load,
	  loadavg_at_end:$load_end, pairs:$pairs,
	  other_tracing_progs_at_start:$others, results: map(. + {verdict:
		(if .budget == null then null
		 elif .value > .budget then "miss"
		 elif .min != null and .max - .min > .budget then "noisy"
		 else "pass" end)})}' \
	"$BENCH_OUT/results.ndjson" >"$BENCH_OUT/results.json"
{
	echo "Measured $(date -u +%Y-%m-%d) on $(uname -r), $(nproc) CPUs" \
		"($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))."
	[ "${others:-0}" -eq 0 ] || echo "Caution: $others BPF tracing programs of" \
		"other tools were loaded at the start; \"bare\" runs paid for them."
	echo "Load average $load at the start, $load_end at the end (others share" \
		"this machine: per-row load in results.json); $PAIRS rounds per row."
	echo "Rows with a spread: the median of per-round figures, [min, max]."
	echo
	echo "| benchmark | variant | metric | value | spread | budget | verdict | note |"
	echo "|---|---|---|---|---|---|---|---|"
	jq -r '.results[] | "| \(.bench) | \(.variant) | \(.metric) | \(.value) \(.unit) | " +
		(if .min == null then "" else "[\(.min), \(.max)], load \(.load)" end) + " | " +
		(if .budget == null then " | " else "≤ \(.budget) \(.unit) | \(.verdict)" end) +
		" | \(.note) |"' "$BENCH_OUT/results.json"
	jq -r '[.results[] | select(.verdict == "miss")] | if length == 0 then empty else
		"\nBudget misses: " + (map("\(.bench) \(.variant) \(.metric) " +
		"\(.value) \(.unit) > \(.budget) \(.unit)") | join("; ")) + "." end' \
		"$BENCH_OUT/results.json"
	jq -r '[.results[] | select(.verdict == "noisy")] | if length == 0 then empty else
		"\nNoisy (within budget, but the rounds spread wider than it): " +
		(map("\(.bench) \(.variant) \(.metric) \(.value) \(.unit) " +
		"[\(.min), \(.max)]") | join("; ")) + "." end' "$BENCH_OUT/results.json"
	[ -z "$failed" ] || printf '\nNot run (failed):%s.\n' "$failed"
} >"$BENCH_OUT/results.md"
cat "$BENCH_OUT/results.md"
[ -z "$failed" ]
