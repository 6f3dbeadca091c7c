#!/bin/bash
# The libFuzzer targets of tests/fuzz/ (built by make SANITIZE=1 san-bins
# into build-san/fuzz/):
#   tests/fuzz/run.sh fuzz [TARGET...]    fuzz each target FUZZ_SECONDS
#       (default 30) from its corpus tests/fuzz/corpus/<target>/, under
#       ASan, UBSan and LeakSanitizer. New inputs stay in a temporary
#       directory; a crash, leak or timeout fails the run and its input is
#       copied into the corpus, where it becomes a regression test (commit
#       it with the fix).
#   tests/fuzz/run.sh replay TARGET       run every corpus file of TARGET
#       once (no fuzzing); make test runs this for every target.
# Prints the executions and CPU seconds each target took.
set -u
cd "$(dirname "$0")/../.." || exit 1

mode=${1:-fuzz}
shift
bin=build-san/fuzz
corpus=tests/fuzz/corpus
secs=${FUZZ_SECONDS:-30}
# see tests/run.sh sanitize for use_sigaltstack=0
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:use_sigaltstack=0"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for f in "$bin"/fuzz_*; do
		[ -x "$f" ] || continue
		targets+=("${f##*/fuzz_}")
	done
fi
if [ ${#targets[@]} -eq 0 ]; then
	echo "no fuzz targets in $bin (make SANITIZE=1 san-bins)" >&2
	exit 1
fi

TIMEFORMAT='%U %S' # bash's time: user and system CPU seconds

fails=0
total_cpu=0
case "$mode" in
replay)
	for t in "${targets[@]}"; do
		[ -d "$corpus/$t" ] || { echo "no corpus $corpus/$t" >&2; exit 1; }
		files=("$corpus/$t"/*)
		echo "replay $t: ${#files[@]} inputs"
		# each file once; a crash or leak exits non-zero
		log=$(mktemp /tmp/kp-fuzz-replay.XXXXXX)
		if ! "$bin/fuzz_$t" -runs=1 "${files[@]}" >"$log" 2>&1; then
			fails=$((fails + 1))
			echo "FAIL: $t"
			grep -v '^Running:\|^Executed' "$log" | tail -40
		fi
		rm -f "$log"
	done
	;;
fuzz)
	tmp=$(mktemp -d /tmp/kp-fuzz.XXXXXX)
	trap 'rm -rf "$tmp"' EXIT
	for t in "${targets[@]}"; do
		mkdir -p "$tmp/$t/new" "$tmp/$t/crash"
		# -timeout: an input taking 10 s is a hang; -rss_limit_mb: a
		# parser growing without bound is a finding too
		{ time "$bin/fuzz_$t" -max_total_time="$secs" -timeout=10 \
			-rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix="$tmp/$t/crash/" \
			"$tmp/$t/new" "$corpus/$t" >"$tmp/$t/log" 2>&1
		rc=$?; } 2>"$tmp/$t/time"
		cpu=$(awk '{ printf "%.1f", $1 + $2 }' "$tmp/$t/time")
		total_cpu=$(awk -v a="$total_cpu" -v b="$cpu" 'BEGIN { printf "%.1f", a + b }')
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/$t/log")
		cov=$(grep -o 'cov: [0-9]*' "$tmp/$t/log" | tail -1)
		if [ $rc -eq 0 ] && [ -z "$(ls -A "$tmp/$t/crash")" ]; then
			printf 'fuzz %-10s ok    %10s execs  %6s CPU s  %s\n' \
				"$t" "${execs:-?}" "$cpu" "$cov"
			continue
		fi
		fails=$((fails + 1))
		printf 'fuzz %-10s FAIL (rc=%d) %s execs %s CPU s\n' "$t" $rc \
			"${execs:-?}" "$cpu"
		grep -E 'ERROR|SUMMARY|runtime error|#[0-9] |^fuzz_' "$tmp/$t/log" |
			head -20 | sed 's/^/    | /'
		for f in "$tmp/$t/crash"/*; do
			[ -f "$f" ] || continue
			cp "$f" "$corpus/$t/"
			echo "    input added to the corpus: $corpus/$t/${f##*/}"
		done
	done
	echo "fuzz: ${#targets[@]} targets, ${secs} s each, $total_cpu CPU s in all"
	;;
*)
	echo "usage: tests/fuzz/run.sh fuzz|replay [TARGET...]" >&2
	exit 2
	;;
esac
[ $fails -eq 0 ]
