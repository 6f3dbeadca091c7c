#!/bin/bash
# Run kvmprobe's tests: tests/run.sh [unit|integration|vm|fuzz|soak|all|sanitize]
# Each test is a program: exit 0 passes, 77 skips (it prints "SKIP: why"),
# anything else fails. With KP_NO_SKIP=1 (CI sets it) a skip is a failure:
# CI must never pass by skipping the core tests.
# sanitize: the unit tests and the core integration tests on the
# ASan+UBSan build in build-san/ (make SANITIZE=1); any sanitizer report,
# in a test binary or in kvmprobe, fails the test that caused it.
set -u
cd "$(dirname "$0")/.." || exit 1

what=${1:-all}
pass=0
fail=0
skip=0
failed=()
logdir=build/test-logs
bin=build
if [ "$what" = sanitize ]; then
	bin=build-san
	logdir=build-san/test-logs
	# every report is fatal and also lands in a file the run checks, so
	# a report in a background process or at exit cannot pass unseen.
	# use_sigaltstack=0: clang 14's ASan reports its own sigaltstack()
	# at the exit of a thread ended by pthread_cancel() (the frames the
	# cancel unwound keep their poisoned shadow); kvmprobe cancels an
	# output writer stuck in write(), by design.
	sanlogs=$PWD/build-san/san-logs
	rm -rf "$sanlogs"
	mkdir -p "$sanlogs"
	export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:use_sigaltstack=0:log_path=$sanlogs/asan"
	export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:log_path=$sanlogs/ubsan"
	export LSAN_OPTIONS="log_path=$sanlogs/lsan"
	export KVMPROBE=$PWD/build-san/kvmprobe
fi
mkdir -p "$logdir"

run_one() {
	local name=$1
	shift
	local log="$logdir/$(echo "$name" | tr '/ ' '__').log"
	local start=$SECONDS rc
	printf '%-50s ' "$name"
	if [ -n "${KP_TEST_LOCK:-}" ]; then
		# KP_TEST_LOCK=FILE: each test holds FILE while it runs, so
		# suites of several checkouts on one machine take turns (-o:
		# a daemon a test starts does not inherit the lock)
		flock -o "$KP_TEST_LOCK" "$@" >"$log" 2>&1
	else
		"$@" >"$log" 2>&1
	fi
	rc=$?
	if [ -n "${sanlogs:-}" ] && [ -n "$(ls -A "$sanlogs")" ]; then
		# a sanitizer report fails the test, whatever it returned
		for f in "$sanlogs"/*; do
			echo "== sanitizer report $(basename "$f")"
			cat "$f"
		done >>"$log"
		rm -f "$sanlogs"/*
		rc=99
	fi
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1))
		echo "PASS ($((SECONDS - start))s)"
	elif [ $rc -eq 77 ] && [ "${KP_NO_SKIP:-0}" != 1 ]; then
		skip=$((skip + 1))
		echo "SKIP: $(grep -m1 '^SKIP' "$log" | sed 's/^SKIP:\? *//')"
	else
		fail=$((fail + 1))
		failed+=("$name")
		echo "FAIL (rc=$rc, $((SECONDS - start))s)"
		sed 's/^/    | /' "$log" | tail -40
	fi
}

if [ "$what" = unit ] || [ "$what" = all ]; then
	run_one "check/wings" tools/check-wings.sh
	for t in "$bin"/tests/test_*; do
		[ -x "$t" ] || continue
		run_one "unit/$(basename "$t")" "$t"
	done
fi
if [ "$what" = integration ] || [ "$what" = all ]; then
	for t in tests/integration/test_*.sh; do
		[ -f "$t" ] || continue
		run_one "integration/$(basename "$t" .sh)" bash "$t"
	done
fi
if [ "$what" = sanitize ]; then
	for t in build-san/tests/test_*; do
		[ -x "$t" ] || continue
		run_one "sanitize/unit/$(basename "$t")" "$t"
	done
	# the core integration tests: exits exact, SIGINT/SIGTERM, service
	# reload, Prometheus, libvirt names and fallback, a full map
	for t in ${KP_SAN_ITESTS-exits_exact sigint service prometheus libvirt_names \
		libvirt_fallback map_full}; do
		run_one "sanitize/integration/$t" bash \
			"tests/integration/test_$t.sh"
	done
fi
if [ "$what" = fuzz ] || [ "$what" = all ]; then
	# every corpus input once, crash inputs found before included
	for t in tests/fuzz/corpus/*/; do
		t=$(basename "$t")
		run_one "fuzz/replay_$t" tests/fuzz/run.sh replay "$t"
	done
fi
if [ "$what" = soak ] || [ "$what" = all ]; then
	# about 2 minutes; takes the integration lock itself
	run_one "soak/churn" bash tests/soak/test_churn.sh
fi
if [ "$what" = vm ] || [ "$what" = all ]; then
	run_one "vm/nested_kvm_exit" bash tests/vm/run.sh \
		build/kvmprobe build/kvm-exerciser
	run_one "vm/block_net_stock_kernel" bash tests/vm/io/run.sh \
		build/kvmprobe build/blk-exerciser build/tap-exerciser
fi

echo
for f in "${failed[@]+"${failed[@]}"}"; do
	echo "failed: $f (log: $logdir/$(echo "$f" | tr '/ ' '__').log)"
done
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
