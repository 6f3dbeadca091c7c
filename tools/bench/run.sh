#!/bin/bash
# make bench: run every benchmark, then write build/bench/results.json and
# build/bench/results.md (the table for the README's Performance section).
# BENCHES="a b" runs only those. Every row with a budget gets a verdict,
# pass or miss; a miss is a finding, not a failure: the exit status is 1
# only when a benchmark could not run.
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
	echo "== $b"
	bash "./$b.sh" || { echo "bench: $b failed" >&2; failed="$failed $b"; }
done

jq -s --arg date "$(date -u +%Y-%m-%d)" --arg host "$(uname -r), $(nproc) CPUs" \
	--argjson others "${others:-null}" --argjson load "$load" \
	'{date:$date, machine:$host, loadavg_at_start:$load,
	  other_tracing_progs_at_start:$others, results: map(. + {verdict:
		(if .budget == null then null
		 elif .value <= .budget then "pass" else "miss" end)})}' \
	"$BENCH_OUT/results.ndjson" >"$BENCH_OUT/results.json"
{
	echo "Measured $(date -u +%Y-%m-%d) on $(uname -r), $(nproc) CPUs" \
		"($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))."
	[ "${others:-0}" -eq 0 ] || echo "Caution: $others BPF tracing programs of" \
		"other tools were loaded at the start; \"bare\" runs paid for them."
	echo "Load average at the start: $load."
	echo
	echo "| benchmark | variant | metric | value | budget | verdict | note |"
	echo "|---|---|---|---|---|---|---|"
	jq -r '.results[] | "| \(.bench) | \(.variant) | \(.metric) | \(.value) \(.unit) | " +
		(if .budget == null then " | " else "≤ \(.budget) \(.unit) | \(.verdict)" end) +
		" | \(.note) |"' "$BENCH_OUT/results.json"
	jq -r '[.results[] | select(.verdict == "miss")] | if length == 0 then empty else
		"\nBudget misses: " + (map("\(.bench) \(.variant) \(.metric) " +
		"\(.value) \(.unit) > \(.budget) \(.unit)") | join("; ")) + "." end' \
		"$BENCH_OUT/results.json"
	[ -z "$failed" ] || printf '\nNot run (failed):%s.\n' "$failed"
} >"$BENCH_OUT/results.md"
cat "$BENCH_OUT/results.md"
[ -z "$failed" ]
