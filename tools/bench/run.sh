#!/bin/bash
# make bench: run every benchmark, then write build/bench/results.json and
# build/bench/results.md (the table for the README's Performance section).
set -u
cd "$(dirname "$0")" || exit 1
. ./lib.sh
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root" >&2; exit 1; }
rm -f "$BENCH_OUT/results.ndjson"
for b in ${BENCHES:-exit_path}; do
	echo "== $b"
	bash "./$b.sh" || echo "bench: $b failed" >&2
done
jq -s --arg date "$(date -u +%Y-%m-%d)" --arg host "$(uname -r), $(nproc) CPUs" \
	'{date:$date, machine:$host, results:.}' "$BENCH_OUT/results.ndjson" \
	>"$BENCH_OUT/results.json"
{
	echo "Measured $(date -u +%Y-%m-%d) on $(uname -r), $(nproc) CPUs" \
		"($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))."
	echo
	echo "| benchmark | variant | metric | value | note |"
	echo "|---|---|---|---|---|"
	jq -r '"| \(.bench) | \(.variant) | \(.metric) | \(.value) \(.unit) | \(.note) |"' \
		"$BENCH_OUT/results.ndjson"
} >"$BENCH_OUT/results.md"
cat "$BENCH_OUT/results.md"
