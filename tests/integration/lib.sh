# Shared helpers for the integration tests (bash). Source it, then call the
# require_* checks. Tests print "ok - ..." / "not ok - ..." lines, exit 0
# when all passed, 1 on a failure, 77 (after "SKIP: why") when a
# prerequisite is missing.
set -u

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KVMPROBE=${KVMPROBE:-$TOP/build/kvmprobe}
EXERCISER=${EXERCISER:-$TOP/build/kvm-exerciser}
TMP=$(mktemp -d /tmp/kp-test.XXXXXX)
FAILS=0
BG_PIDS=()

cleanup() {
	local p
	for p in "${BG_PIDS[@]+"${BG_PIDS[@]}"}"; do
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	[ "${KP_KEEP_TMP:-0}" = 1 ] || rm -rf "$TMP"
}
trap cleanup EXIT

skip() {
	echo "SKIP: $*"
	exit 77
}

require_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (BPF)"
}

require_kvm() {
	[ -c /dev/kvm ] && [ -w /dev/kvm ] || skip "no usable /dev/kvm"
}

require_bins() {
	[ -x "$KVMPROBE" ] && [ -x "$EXERCISER" ] ||
		skip "build first: make (missing $KVMPROBE or $EXERCISER)"
	command -v jq >/dev/null || skip "jq not installed (make deps)"
}

# require_tap_tools: kvmprobe, tap-exerciser (TAPX), jq, ip and /dev/net/tun
require_tap_tools() {
	TAPX=${TAPX:-$TOP/build/tap-exerciser}
	[ -x "$KVMPROBE" ] && [ -x "$TAPX" ] ||
		skip "build first: make (missing $KVMPROBE or $TAPX)"
	command -v jq >/dev/null || skip "jq not installed (make deps)"
	command -v ip >/dev/null || skip "ip not installed (iproute2)"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
}

ok() {
	echo "ok - $*"
}

not_ok() {
	echo "not ok - $*"
	FAILS=$((FAILS + 1))
}

# check DESCRIPTION EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1 ($3)"
	else
		not_ok "$1: expected $2, got $3"
	fi
}

finish() {
	[ "$FAILS" -eq 0 ] && exit 0
	echo "$FAILS check(s) failed (kept output in $TMP)"
	KP_KEEP_TMP=1
	exit 1
}

# start_probe OUT [ARGS...]: run kvmprobe -f json in the background and wait
# until its start record is written. Sets PROBE_PID.
start_probe() {
	local out=$1 i
	shift
	"$KVMPROBE" -f json -o "$out" "$@" 2>"$out.err" &
	PROBE_PID=$!
	BG_PIDS+=("$PROBE_PID")
	for i in $(seq 1 100); do
		grep -q '"type":"start"' "$out" 2>/dev/null && return 0
		kill -0 "$PROBE_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "kvmprobe did not start:" >&2
	cat "$out.err" >&2
	return 1
}

# stop_probe: SIGINT and wait; the status must be 0.
stop_probe() {
	local rc
	kill -INT "$PROBE_PID"
	wait "$PROBE_PID"
	rc=$?
	check_eq "kvmprobe exits 0 on SIGINT" 0 "$rc"
}

# free_port FIRST: the first of 51 loopback TCP ports from FIRST that no
# one listens on
free_port() {
	local p
	for p in $(seq "$1" $(($1 + 50))); do
		(exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo "$p"; return; }
	done
}

# sum_vm FILE PID JQPATH: sum a count over all vm records of PID
sum_vm() {
	jq -s --argjson pid "$2" \
		"[.[] | select(.type == \"vm\" and .vm.pid == \$pid) | $3 // 0] | add // 0" "$1"
}

# sum_vcpu FILE PID TID JQPATH: sum a count over the vCPU entries of TID
sum_vcpu() {
	jq -s --argjson pid "$2" --argjson tid "$3" \
		"[.[] | select(.type == \"vm\" and .vm.pid == \$pid) | .vcpus[] | select(.tid == \$tid) | $4 // 0] | add // 0" "$1"
}

# map_entries PID NAME: entries in the BPF map NAME (truncated to 15
# characters by the kernel) that process PID holds open, found through
# /proc/PID/fdinfo (map_id) and bpftool; prints -1 when PID holds no such map.
map_entries() {
	local pid=$1 name=${2:0:15} fi id n
	for fi in /proc/"$pid"/fdinfo/*; do
		id=$(sed -n 's/^map_id:\s*//p' "$fi" 2>/dev/null)
		[ -n "$id" ] || continue
		[ "$(bpftool map show id "$id" -j 2>/dev/null | jq -r .name)" = "$name" ] ||
			continue
		n=$(bpftool map dump id "$id" -j 2>/dev/null | jq length)
		echo "${n:--1}"
		return 0
	done
	echo -1
}
