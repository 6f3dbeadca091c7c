#!/bin/bash
# Both attach flavours count the same exits exactly: BTF-typed tracepoints
# (tp_btf) and the classic tracefs tracepoints (--attach tracepoint).
. "$(dirname "$0")/lib.sh"
require_root
require_kvm
require_bins
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing ||
	skip "tracefs cannot be mounted"

for mode in tp_btf tracepoint; do
	out=$TMP/kp-$mode.json
	start_probe "$out" -i 0.5 --attach $mode || exit 1
	"$EXERCISER" --vcpus 1 --io 10000 --mmio 100 --hlt 3 >"$TMP/t-$mode.json"
	sleep 0.3
	stop_probe
	pid=$(jq .pid "$TMP/t-$mode.json")
	check_eq "$mode: kvm_userspace_exit attached as $mode" "$mode" \
		"$(jq -r 'select(.type == "start") | .probes[0].programs.kvm_userspace_exit' "$out")"
	check_eq "$mode: KVM_RUN entry (kvm_fpu) attached as $mode" "$mode" \
		"$(jq -r 'select(.type == "start") | .probes[0].programs.kvm_fpu' "$out")"
	for r in IO MMIO HLT; do
		check_eq "$mode: userspace_exits.$r exact" \
			"$(jq ".vcpus[0].exits.$r" "$TMP/t-$mode.json")" \
			"$(sum_vm "$out" "$pid" .userspace_exits.$r)"
	done
	check_eq "$mode: one handling-time sample per re-entered exit" \
		$(($(jq '[.vcpus[0].exits[]] | add' "$TMP/t-$mode.json") - 1)) \
		"$(sum_vm "$out" "$pid" '([.userspace_time[]?.count] | add)')"
done

# without tracefs: the classic flavour cannot attach and says why in one
# line (exit 3); BTF-typed tracepoints need no tracefs and keep working
if umount /sys/kernel/tracing 2>/dev/null; then
	trap 'mount -t tracefs nodev /sys/kernel/tracing; cleanup' EXIT
	if ! mountpoint -q /sys/kernel/debug/tracing 2>/dev/null; then
		"$KVMPROBE" --attach tracepoint --probes exits -c 1 -i 0.2 -f json \
			>/dev/null 2>"$TMP/err"
		check_eq "no tracefs, --attach tracepoint: exit 3" 3 $?
		check_eq "no tracefs: the line says what to do" \
			"kvmprobe: failed to attach any probe: exits: no program attached: kvm_exit: tracefs not mounted (mount -t tracefs nodev /sys/kernel/tracing)" \
			"$(cat "$TMP/err")"
		"$KVMPROBE" --probes exits -c 1 -i 0.2 -f json >"$TMP/auto.json" 2>/dev/null
		check_eq "no tracefs, auto: runs on tp_btf" "0 tp_btf" \
			"$? $(jq -r 'select(.type == "start") | .probes[0].programs.kvm_userspace_exit' "$TMP/auto.json")"
	fi
	mount -t tracefs nodev /sys/kernel/tracing
	trap cleanup EXIT
fi
finish
