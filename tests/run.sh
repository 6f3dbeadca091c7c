#!/bin/bash
# Run kvmprobe's tests: tests/run.sh [unit|integration|vm|all]
# Each test is a program: exit 0 passes, 77 skips (it prints "SKIP: why"),
# anything else fails. With KP_NO_SKIP=1 (CI sets it) a skip is a failure:
# CI must never pass by skipping the core tests.
set -u
cd "$(dirname "$0")/.." || exit 1

what=${1:-all}
pass=0
fail=0
skip=0
failed=()
logdir=build/test-logs
mkdir -p "$logdir"

run_one() {
	local name=$1
	shift
	local log="$logdir/$(echo "$name" | tr '/ ' '__').log"
	local start=$SECONDS rc
	printf '%-50s ' "$name"
	"$@" >"$log" 2>&1
	rc=$?
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
	for t in build/tests/test_*; do
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
