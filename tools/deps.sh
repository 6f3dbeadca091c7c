#!/bin/sh
# Install the Debian packages kvmprobe needs, only those missing.
# usage: tools/deps.sh [build|test|all] [--check]
#   --check: list what is missing and exit 1 if anything is, install nothing.
set -eu

BUILD="make gcc clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev
libjson-c-dev libinih-dev libmicrohttpd-dev libcap-dev libcmocka-dev pkg-config linux-libc-dev libvirt-dev libxml2-dev
libncurses-dev libclang-rt-14-dev"
# test: jq for the integration checks; qemu, busybox and cpio for the
# nested-VM test (tests/vm); bpftrace and libbpf-tools as reference peers,
# linux-perf for the scheduler benchmark (perf bench sched pipe);
# libvirtd and its QEMU driver for the libvirt tests; fio, iproute2 and
# mount (losetup) for the block and net tests and benchmarks; tmux for
# the top tests; man-db, dpkg-dev and git for the package test; systemd
# for systemd-analyze verify of the unit (it installs without systemd
# running).
TEST="jq qemu-system-x86 busybox-static cpio bpftrace libbpf-tools fio iproute2 mount
procps kmod xz-utils linux-perf libvirt-daemon-system libvirt-daemon-driver-qemu
libvirt-clients prometheus curl util-linux tmux man-db dpkg-dev git systemd"

set_=${1:-build}
check=
[ "${2:-}" = "--check" ] && check=1
case "$set_" in
build) pkgs=$BUILD ;;
test | all) pkgs="$BUILD $TEST" ;;
*)
	echo "deps: unknown set '$set_' (build, test or all)" >&2
	exit 2
	;;
esac

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ -n "$check" ]; then
	echo "deps: missing:$missing" >&2
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing (run as root: sudo make deps)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing ||
	{ apt-get update -q && apt-get install -y -q --no-install-recommends $missing; }
