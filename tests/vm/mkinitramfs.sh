#!/bin/bash
# Build the initramfs of the nested-SVM VM test.
#
#   tests/vm/mkinitramfs.sh OUT.gz KVMPROBE EXERCISER CACHE_DIR
#
# KVMPROBE and EXERCISER are binaries (KVMPROBE may be '-' for none); the
# shared libraries of a dynamic one, and the dynamic loader, are copied in
# at the paths ldd names, so the VM runs the very binary the host tests;
# CACHE_DIR is what tools/fetch-nested-kernel.sh filled (busybox, modules).
# The image holds busybox with its applet links, the four KVM modules in
# /lib/modules, the binaries in /bin and tests/vm/init as /init.
set -euo pipefail

if [ $# -ne 4 ]; then
	echo "usage: $0 OUT.gz KVMPROBE EXERCISER CACHE_DIR" >&2
	exit 2
fi
out=$1 kvmprobe=$2 exerciser=$3 cache=$4
here=$(cd "$(dirname "$0")" && pwd)

check_binary() {
	if ! [ -x "$1" ]; then
		echo "mkinitramfs: $1: not an executable" >&2
		exit 1
	fi
}
[ "$kvmprobe" = - ] || check_binary "$kvmprobe"
check_binary "$exerciser"

# copy_libs BINARY: every library ldd resolves, and the loader
copy_libs() {
	local lib
	ldd "$1" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib/modules,proc,sys,dev,tmp,sys/kernel/tracing}

install -m 755 "$cache/busybox" "$root/bin/busybox"
# Applet links, made here from busybox's own list (the host runs it).
"$cache/busybox" --list-full | while read -r applet; do
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
for m in irqbypass ccp kvm kvm-amd; do
	install -m 644 "$cache/$m.ko" "$root/lib/modules/$m.ko"
done
[ "$kvmprobe" = - ] || install -m 755 "$kvmprobe" "$root/bin/kvmprobe"
install -m 755 "$exerciser" "$root/bin/kvm-exerciser"
[ "$kvmprobe" = - ] || copy_libs "$kvmprobe"
copy_libs "$exerciser"
install -m 755 "$here/init" "$root/init"

mkdir -p "$(dirname "$out")"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
	gzip -1 >"$out.tmp"
mv -f "$out.tmp" "$out"
