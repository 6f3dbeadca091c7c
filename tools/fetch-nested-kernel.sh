#!/bin/bash
# Fetch Debian's stock kernel, its KVM modules and a static busybox for the
# nested-SVM VM test (tests/vm/). Idempotent: does nothing when CACHE_DIR
# already holds every file.
#
#   tools/fetch-nested-kernel.sh [CACHE_DIR]      (default: build/nested)
#
# Puts into CACHE_DIR: vmlinuz, irqbypass.ko, ccp.ko, kvm.ko, kvm-amd.ko,
# loop.ko and tun.ko (for the block and net probes' test, tests/vm/io),
# busybox and kernel-release (the kernel's uname -r). The kernel package name
# (linux-image-6.1.0-N-amd64) changes with every Debian kernel update, so it is
# resolved from the Depends of the linux-image-amd64 meta package at run time.
# Exit status: 0 on success, 1 on failure.
set -euo pipefail

cache=${1:-build/nested}
files=(vmlinuz irqbypass.ko ccp.ko kvm.ko kvm-amd.ko loop.ko tun.ko busybox
	kernel-release)

have_all() {
	local f
	for f in "${files[@]}"; do
		[ -s "$cache/$f" ] || return 1
	done
}

if have_all; then
	exit 0
fi

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
work=$(mktemp -d "$cache/fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

# apt-get download: run 'apt-get update' once when the lists lack a package.
download() {
	if ! apt-get download -q "$@" >apt.log 2>&1; then
		echo "fetch-nested-kernel: apt-get download $* failed, running apt-get update" >&2
		apt-get update -q >/dev/null
		apt-get download -q "$@" >apt.log 2>&1 || {
			cat apt.log >&2
			echo "fetch-nested-kernel: cannot download $*" >&2
			return 1
		}
	fi
}

download linux-image-amd64
meta=$(ls linux-image-amd64_*.deb)
kpkg=$(dpkg-deb -f "$meta" Depends | tr ',|' '\n' | sed 's/^ *//; s/ .*//' |
	grep -E '^linux-image-[0-9].*-amd64$' | head -n1)
if [ -z "$kpkg" ]; then
	echo "fetch-nested-kernel: no linux-image-*-amd64 in Depends of $meta" >&2
	exit 1
fi
echo "fetch-nested-kernel: kernel package $kpkg" >&2
download "$kpkg" busybox-static

mkdir root
for deb in "$kpkg"_*.deb busybox-static_*.deb; do
	dpkg-deb -x "$deb" root
done

kver=$(basename root/lib/modules/*)
mdir=root/lib/modules/$kver/kernel
cp "root/boot/vmlinuz-$kver" vmlinuz
for m in virt/lib/irqbypass drivers/crypto/ccp/ccp arch/x86/kvm/kvm \
	arch/x86/kvm/kvm-amd drivers/block/loop drivers/net/tun; do
	name=$(basename "$m").ko
	if [ -f "$mdir/$m.ko.xz" ]; then
		xz -dc "$mdir/$m.ko.xz" >"$name"
	elif [ -f "$mdir/$m.ko" ]; then
		cp "$mdir/$m.ko" "$name"
	else
		echo "fetch-nested-kernel: $m.ko not in $kpkg" >&2
		exit 1
	fi
done
cp root/bin/busybox busybox
echo "$kver" >kernel-release

# Move into place last, the stamp file kernel-release after the rest, so an
# interrupted fetch never looks complete.
for f in "${files[@]}"; do
	mv -f "$f" "$cache/$f"
done
echo "fetch-nested-kernel: $kver cached in $cache" >&2
