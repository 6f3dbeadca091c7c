#!/bin/bash
# Prove kvmprobe's kvm_exit/kvm_entry handling on real VM exits: boot Debian's
# stock kernel in QEMU TCG (which emulates AMD SVM with nested paging), load
# KVM inside, run kvmprobe and the exerciser there and check kvmprobe's counts
# against the exerciser's ground truth and ftrace's own counts. The host's
# paravirtual KVM never fires kvm:kvm_exit, so this is the only place the
# guest-exit path runs for real.
#
#   tests/vm/run.sh KVMPROBE EXERCISER
#
# The binaries as built by make (shared libraries are copied in). KVMPROBE '-' boots without it and
# only checks the exerciser's rule against ftrace. One boot per mode.
#
# Environment:
#   KP_VM_MODES  kvmprobe --attach modes to run (default "tp_btf tracepoint")
#   KP_VM_ARGS   exerciser arguments (default below)
#   KP_VM_DIR    cache and output directory (default build/nested)
#   KP_VM_FTRACE 0: leave out the ftrace hist cross-checks (default 1)
#   KP_VM_PROBE_ARGS  more kvmprobe arguments, e.g. -v (stderr is in the log)
#
# Prints "ok - ..." / "not ok - ..." per check and "N passed, M failed"; exits
# 1 on any failure, 77 with "SKIP: reason" when QEMU or the kernel is missing.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
dir=${KP_VM_DIR:-$top/build/nested}
modes=${KP_VM_MODES:-tp_btf tracepoint}
xargs=${KP_VM_ARGS:---vcpus 2 --io 500 --mmio 20 --hlt 3 --cpuid 100}
ftrace=${KP_VM_FTRACE:-1}

if [ $# -ne 2 ]; then
	echo "usage: $0 KVMPROBE EXERCISER" >&2
	exit 2
fi
kvmprobe=$1 exerciser=$2
[ "$kvmprobe" = - ] && modes=none
for b in "$kvmprobe" "$exerciser"; do
	if [ "$b" != - ] && ! [ -x "$b" ]; then
		echo "run.sh: $b: no such executable (make builds both)" >&2
		exit 2
	fi
done

skip() {
	echo "SKIP: $*"
	exit 77
}

command -v qemu-system-x86_64 >/dev/null ||
	skip "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"
command -v jq >/dev/null || {
	echo "run.sh: jq not installed (make deps)" >&2
	exit 2
}
"$top/tools/fetch-nested-kernel.sh" "$dir" ||
	skip "cannot fetch the Debian kernel and modules into $dir"
"$here/mkinitramfs.sh" "$dir/initrd.gz" "$kvmprobe" "$exerciser" "$dir" ||
	exit 2

# Code-to-name tables for ftrace's numeric hist keys, from the installed
# kernel headers (the same tables kvmprobe names reasons by). '{}' when the
# headers are missing: the ftrace cross-checks are then left out.
svm_names() {
	local h=/usr/include/x86_64-linux-gnu/asm/svm.h
	[ -r "$h" ] || { echo '{}'; return; }
	awk '
	function hex(s,   i, v) { # mawk has no strtonum
		v = 0
		for (i = 3; i <= length(s); i++)
			v = v * 16 + index("0123456789abcdef", tolower(substr(s, i, 1))) - 1
		return v
	}
	$1 == "#define" && $2 ~ /^SVM_EXIT_/ && $3 ~ /^0x[0-9a-fA-F]+$/ {
		val[$2] = hex($3)
	}
	/\{ *SVM_EXIT_[A-Z0-9_]+, *"[^"]+" *\}/ {
		match($0, /SVM_EXIT_[A-Z0-9_]+/); sym = substr($0, RSTART, RLENGTH)
		match($0, /"[^"]+"/); name = substr($0, RSTART, RLENGTH)
		if (sym in val) out = out sep "\"" val[sym] "\":" name
		if (sym in val) sep = ","
	}
	END { print "{" out "}" }' "$h"
}
kvm_exit_names() {
	local h=/usr/include/linux/kvm.h
	[ -r "$h" ] || { echo '{}'; return; }
	# The KVM_EXIT_* reasons are the run of defines counting up from
	# KVM_EXIT_UNKNOWN 0 (as in tools/gen-kvm-exit-names.sh).
	awk '
	$1 == "#define" && $2 ~ /^KVM_EXIT_/ && $3 ~ /^[0-9]+$/ {
		if ($2 == "KVM_EXIT_UNKNOWN" && $3 == 0) { on = 1; next_val = 0 }
		if (!on) next
		if ($3 != next_val) { on = 0; next }
		out = out sep "\"" $3 "\":\"" substr($2, 10) "\""; sep = ","
		next_val++
	}
	END { print "{" out "}" }' "$h"
}
svm_names >"$dir/svm-names.json"
kvm_exit_names >"$dir/kvm-exit-names.json"

passed=0 failed=0
report() {
	local line
	while IFS= read -r line; do
		echo "$line"
		case $line in
		"ok - "*) passed=$((passed + 1)) ;;
		"not ok - "*) failed=$((failed + 1)) ;;
		esac
	done
}
ok() { report <<<"ok - $*"; }
not_ok() { report <<<"not ok - $*"; }

# ftrace hist text (init's KP-HIST section) to [{"event","tid","code","n"}].
hist_json() {
	awk '
	/^\{ common_pid:/ {
		line = $0; gsub(/[{}:,]/, " ", line); split(line, f, " ")
		# f: common_pid PID exit_reason|reason CODE hitcount N
		ev = (f[3] == "exit_reason") ? "kvm_exit" : "kvm_userspace_exit"
		printf "%s{\"event\":\"%s\",\"tid\":%d,\"code\":%d,\"n\":%d}", \
			sep, ev, f[2], f[4], f[6]
		sep = ","
	}
	BEGIN { printf "[" } END { print "]" }'
}

section() { # section NAME < log: the lines between ==NAME-BEGIN== and -END==
	sed -n "/^==$1-BEGIN==\$/,/^==$1-END==\$/p" | sed '1d;$d'
}

run_mode() {
	local mode=$1 out log rc t0 t1 why
	out=$dir/$mode
	mkdir -p "$out"
	rm -f "$out"/*
	t0=$(date +%s%N)
	timeout 180 qemu-system-x86_64 -accel tcg -cpu max -m 1024 \
		-nographic -no-reboot -monitor none \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-kernel "$dir/vmlinuz" -initrd "$dir/initrd.gz" \
		-append "console=ttyS0 quiet panic=-1 KP_MODE=$mode KP_TRACE=$ftrace KP_ARGS=\"$xargs\" KP_PROBE_ARGS=\"${KP_VM_PROBE_ARGS:-}\"" \
		</dev/null 2>&1 | tr -d '\r' >"$out/console.log"
	rc=${PIPESTATUS[0]}
	t1=$(date +%s%N)
	log=$out/console.log
	echo "# $mode: qemu exited with status $rc after $(((t1 - t0) / 1000000)) ms; console log $log"

	sed -n 's/^==KP-TRUTH== //p' "$log" >"$out/truth.json"
	section KP-JSON <"$log" >"$out/kp.json"
	section KP-HIST <"$log" | hist_json >"$out/hist.json"

	if [ "$rc" = 1 ] && grep -q '^==KP-DONE==$' "$log"; then
		ok "$mode: the guest ran the scenario to the end (qemu status 1)"
	else
		why=$(grep -m1 '^==KP-FAIL==' "$log")
		[ "$rc" = 124 ] && why="timeout after 180 s"
		not_ok "$mode: the guest ran the scenario to the end: qemu status $rc (${why:-no ==KP-DONE==})"
		{
			grep -a '^==KP-' "$log" | grep -v -e '-BEGIN==$' -e '-END==$' -e '^==KP-TRUTH=='
			echo "kvmprobe stderr:"
			section KP-STDERR <"$log" | tail -n 30
			echo "exerciser stderr:"
			section KP-EXERCISER-STDERR <"$log" | tail -n 10
		} | sed 's/^/#   /'
	fi
	local btf
	btf=$(sed -n 's/^==KP-BTF-TYPES== \(.*\) up=.*/\1/p' "$log")
	if [ -n "$btf" ] && ! echo "$btf" | grep -q '=no'; then
		ok "$mode: guest $(sed -n 's/.*==KP-KERNEL== \([^ ]*\).*/\1/p' "$log") BTF has $btf"
	else
		not_ok "$mode: guest BTF has the types CO-RE needs: ${btf:-no KP-BTF-TYPES line}"
	fi
	if ! jq -e 'select(.pid and (.vcpus | length) > 0)' "$out/truth.json" >/dev/null 2>&1; then
		not_ok "$mode: the exerciser printed its ground truth: $(head -c 200 "$out/truth.json")"
		return
	fi
	if [ "$mode" != none ] && ! jq -c . "$out/kp.json" >/dev/null 2>&1; then
		not_ok "$mode: kvmprobe's output is NDJSON: $(jq -c . "$out/kp.json" 2>&1 >/dev/null | head -n 1)"
		section KP-STDERR <"$log" | tail -n 20 | sed 's/^/#   /'
		return
	fi
	[ "$mode" = none ] || ok "$mode: kvmprobe's output is NDJSON ($(wc -l <"$out/kp.json") records)"
	if jq -rn --arg mode "$mode" \
		--slurpfile kp "$out/kp.json" --slurpfile truth "$out/truth.json" \
		--slurpfile hist "$out/hist.json" \
		--slurpfile svm "$dir/svm-names.json" \
		--slurpfile kvmx "$dir/kvm-exit-names.json" \
		-f "$here/check.jq" >"$out/checks.txt"; then
		report <"$out/checks.txt"
	else
		not_ok "$mode: check.jq ran"
	fi
}

for mode in $modes; do
	run_mode "$mode"
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
