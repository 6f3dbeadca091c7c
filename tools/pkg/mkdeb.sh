#!/bin/sh
# tools/pkg/mkdeb.sh STAGE OUT.deb VERSION: a Debian package of the tree
# `make install DESTDIR=STAGE PREFIX=/usr` staged. Depends: from
# dpkg-shlibdeps on the binary (the libraries it links: libbpf1, libvirt0,
# ...); every file under /etc is a conffile.
set -eu
stage=$1 out=$2 version=$3
here=$(cd "$(dirname "$0")" && pwd)
arch=$(dpkg --print-architecture)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# dpkg-shlibdeps reads debian/control of the current directory
mkdir -p "$work/debian"
printf 'Source: kvmprobe\n\nPackage: kvmprobe\nArchitecture: any\n' >"$work/debian/control"
stage_abs=$(cd "$stage" && pwd)
deps=$(cd "$work" && dpkg-shlibdeps -O -e"$stage_abs/usr/sbin/kvmprobe" 2>/dev/null |
	sed -n 's/^shlibs:Depends=//p')
[ -n "$deps" ] || { echo "mkdeb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

mkdir -p "$stage/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
	-e "s/@DEPENDS@/$deps/" "$here/control.in" >"$stage/DEBIAN/control"
(cd "$stage" && find etc -type f | sed 's#^#/#' | sort) >"$stage/DEBIAN/conffiles"
(cd "$stage" && find usr -type f ! -path 'DEBIAN/*' -exec md5sum {} + | sort -k2) \
	>"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/conffiles" "$stage/DEBIAN/md5sums"
dpkg-deb --root-owner-group --build "$stage" "$out" >/dev/null
echo "  DEB     $out ($deps)"
