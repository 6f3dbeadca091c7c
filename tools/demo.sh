#!/bin/bash
# make demo: kvmprobe on this host for about 10 s, with the exerciser as a
# demo guest so that a host without VMs shows real data: the text table
# (per vCPU, with histograms at the end), then NDJSON.
set -u
cd "$(dirname "$0")/.." || exit 1
KVMPROBE=build/kvmprobe
EXERCISER=build/kvm-exerciser

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root to load BPF programs (sudo make demo)" >&2
	exit 1
fi
mountpoint -q /sys/kernel/tracing 2>/dev/null ||
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null

guest=
if [ -c /dev/kvm ]; then
	# ~7 us per exit here: about 12 s of exits to the VMM
	"$EXERCISER" --name demo-guest --vcpus 2 --io 1500000 --mmio 20000 \
		--hlt 500 --cpuid 1000 >/dev/null &
	guest=$!
	echo "demo: started the demo guest (kvm-exerciser, pid $guest, 2 vCPUs)"
else
	echo "demo: no /dev/kvm on this host: showing the probe without a guest"
fi
trap '[ -n "$guest" ] && kill $guest 2>/dev/null' EXIT

echo "demo: text table, 5 intervals of 1 s (kvmprobe -i 1 -c 5 --vcpus), then histograms"
"$KVMPROBE" -i 1 -c 5 --vcpus || exit $?
"$KVMPROBE" -i 1 -c 1 --hist ${guest:+-p $guest} || exit $?
echo
echo "demo: NDJSON, 3 intervals (kvmprobe -f json -i 1 -c 3${guest:+ -p $guest})"
"$KVMPROBE" -f json -i 1 -c 3 ${guest:+-p $guest} || exit $?
