#!/bin/bash
# The block and net probes on Debian's stock kernel (6.1; tools/
# fetch-nested-kernel.sh), booted in QEMU TCG: no block_io_start there, so
# the block probe attributes through block_getrq, and tun, the flush
# machinery and the drop reasons are 6.1's. kvmprobe runs twice at once,
# with BTF-typed and with raw_tp programs; blk-exerciser and tap-exerciser
# (with frames the host injects into the tap) give the ground truth.
#
#   tests/vm/io/run.sh KVMPROBE BLK_EXERCISER TAP_EXERCISER
#
# Prints "ok - ..." / "not ok - ..." per check; exits 1 on a failure, 77 with
# "SKIP: reason" when QEMU or the kernel is missing. KP_VM_DIR as for
# tests/vm/run.sh (default build/nested; this test writes to its io/).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
dir=${KP_VM_DIR:-$top/build/nested}

if [ $# -ne 3 ]; then
	echo "usage: $0 KVMPROBE BLK_EXERCISER TAP_EXERCISER" >&2
	exit 2
fi
for b in "$@"; do
	[ -x "$b" ] || { echo "run.sh: $b: no such executable (make)" >&2; exit 2; }
done
kvmprobe=$1 blk=$2 tapx=$3

skip() {
	echo "SKIP: $*"
	exit 77
}
command -v qemu-system-x86_64 >/dev/null ||
	skip "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"
command -v jq >/dev/null || { echo "run.sh: jq not installed (make deps)" >&2; exit 2; }
"$top/tools/fetch-nested-kernel.sh" "$dir" ||
	skip "cannot fetch the Debian kernel and modules into $dir"

out=$dir/io
mkdir -p "$out"
rm -f "$out"/*
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

# The initramfs: busybox, loop and tun, the three binaries with the shared
# libraries ldd names, and our init.
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib/modules,proc,sys,dev,tmp}
install -m 755 "$dir/busybox" "$root/bin/busybox"
"$dir/busybox" --list-full | while read -r applet; do
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
install -m 644 "$dir/loop.ko" "$dir/tun.ko" "$root/lib/modules/"
install -m 755 "$kvmprobe" "$root/bin/kvmprobe"
install -m 755 "$blk" "$root/bin/blk-exerciser"
install -m 755 "$tapx" "$root/bin/tap-exerciser"
for b in "$kvmprobe" "$blk" "$tapx"; do
	ldd "$b" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
done
install -m 755 "$here/init" "$root/init"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
	gzip -1 >"$out/initrd.gz"

timeout 300 qemu-system-x86_64 -accel tcg -cpu max -m 1024 -nographic \
	-no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-kernel "$dir/vmlinuz" -initrd "$out/initrd.gz" \
	-append "console=ttyS0 quiet panic=-1" >"$out/console.log" 2>&1
rc=$?
tr -d '\r' <"$out/console.log" >"$out/console.txt"

failed=0
ok() { echo "ok - $*"; }
not_ok() {
	echo "not ok - $*"
	failed=$((failed + 1))
}
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1 ($3)"; else not_ok "$1: expected $2, got $3"; fi
}

if [ $rc -ne 1 ]; then # byte 0 -> status 1
	not_ok "the VM ran the scenario (qemu status $rc): $(grep -m1 '==IO-FAIL==' "$out/console.txt")"
	tail -n 30 "$out/console.txt"
	exit 1
fi
line() { sed -n "s/.*==IO-$1== //p" "$out/console.txt" | tail -n 1; }
section() {
	sed -n "/^==IO-KP-$1-BEGIN==\$/,/^==IO-KP-$1-END==\$/p" "$out/console.txt" |
		sed '1d;$d' >"$out/kp_$1.json"
}
ok "booted $(line KERNEL)"
blk_truth=$(line BLK) reader=$(line READER)
bpid=$(jq .pid <<<"$blk_truth")
rpid=$(jq .pid <<<"$reader")
read_p=$(jq .read.packets <<<"$reader")
wrote_p=$(jq .written.packets <<<"$reader")
check_eq "the host injected every frame" 100 "$(line INJECT | jq .injected)"
check_eq "the reader wrote what it was asked to" 40 "$wrote_p"

for m in btf raw; do
	section "$m"
	f=$out/kp_$m.json
	how=tp_btf
	[ "$m" = raw ] && how=raw_tp
	if ! jq -e . "$f" >/dev/null 2>&1; then
		not_ok "$how: kvmprobe's output is NDJSON"
		continue
	fi
	check_eq "$how: kvmprobe exited 0" 0 "$(sed -n "s/.*==IO-RC== $m=//p" "$out/console.txt")"
	for p in block net; do
		check_eq "$how: probe $p attached, every program as $how" "true $how" \
			"$(jq -r --arg p "$p" 'select(.type == "start") | .probes[] | select(.name == $p) |
				"\(.attached) \([.programs[]] | unique | join(","))"' "$f")"
		check_eq "$how: probe $p misses no program" '{}' \
			"$(jq -c --arg p "$p" 'select(.type == "start") | .probes[] | select(.name == $p) | .missing' "$f")"
	done
	check_eq "$how: 6.1 has no block_io_start: the submitter comes from block_getrq" \
		"$how" "$(jq -r 'select(.type == "start") | .probes[] | select(.name == "block") | .programs.block_getrq' "$f")"
	# the exercisers hold no KVM VM (this guest has no KVM): they are not
	# VMMs, and their I/O and packets are the host record's (nothing
	# else uses loop0 or kpt0 here)
	check_eq "$how: no vm record for the exercisers (not VMMs)" 0 \
		"$(jq -s --argjson b "$bpid" --argjson r "$rpid" '[.[] | select(.type == "vm" and (.vm.pid == $b or .vm.pid == $r))] | length' "$f")"
	disk() {
		jq -s "[.[] | select(.type == \"host\") | .disks[]? | select(.dev == \"loop0\") | $1 // 0] | add // 0" "$f"
	}
	for op in read write; do
		check_eq "$how: $op requests of blk-exerciser on loop0" 200 "$(disk ".$op.ios")"
		check_eq "$how: $op device_hist has a sample per request" 200 \
			"$(disk "([.$op.device_hist.buckets[]?[1]] | add)")"
	done
	check_eq "$how: its fdatasync flushes, in the host record" 5 "$(disk '.flush.ios')"
	iface() {
		jq -s "[.[] | select(.type == \"host\") | .interfaces[]? | select(.dev == \"kpt0\") | $1 // 0] | add // 0" "$f"
	}
	check_eq "$how: rx packets = what the reader read" "$read_p" "$(iface .rx.packets)"
	check_eq "$how: tx packets = what the reader wrote" "$wrote_p" "$(iface .tx.packets)"
	check_eq "$how: delivery_hist has a sample per delivered packet" "$read_p" \
		"$(iface '.delivery_hist.count')"
	check_eq "$how: the frames no host protocol takes are dropped, by name" \
		"$wrote_p" "$(iface '([(.drops // {}) | to_entries[] | select(.key | test("^0x") | not) | .value] | add)')"
	echo "# $how drops: $(jq -sc '[.[] | select(.type == "host") | .interfaces[]? | select(.dev == "kpt0") | .drops // {}] | add' "$f")"
done
[ "$failed" -eq 0 ]
