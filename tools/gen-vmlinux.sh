#!/bin/sh
# Regenerate vmlinux/<arch>/vmlinux.h from the running kernel's BTF.
# The header is committed so the build does not depend on the build host's
# kernel; CO-RE relocates every field access at load time.
set -eu

arch=${1:-$(uname -m)}
case "$arch" in
x86_64 | x86) dir=x86 ;;
*)
	echo "gen-vmlinux: unsupported arch '$arch'" >&2
	exit 2
	;;
esac

btf=${BTF:-/sys/kernel/btf/vmlinux}
[ -r "$btf" ] || {
	echo "gen-vmlinux: $btf not readable (kernel built without BTF?)" >&2
	exit 1
}

top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/vmlinux/$dir/vmlinux.h"
mkdir -p "$(dirname "$out")"
bpftool btf dump file "$btf" format c >"$out.tmp"
mv "$out.tmp" "$out"
echo "gen-vmlinux: wrote $out ($(wc -l <"$out") lines) from $(uname -r)"
