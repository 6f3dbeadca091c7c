#!/bin/bash
# The exerciser's exits to userspace, counted by kvmprobe over many short
# intervals, equal the exerciser's own ground truth exactly: per VM, per
# vCPU (matched by thread id, with the right vCPU index), and the VMM
# handling-time histograms hold one sample per exit the VMM re-entered from.
. "$(dirname "$0")/lib.sh"
require_root
require_kvm
require_bins

VCPUS=2 IO=50000 MMIO=1000 HLT=5
start_probe "$TMP/kp.json" -i 0.2 || exit 1
"$EXERCISER" --vcpus $VCPUS --io $IO --mmio $MMIO --hlt $HLT >"$TMP/truth.json" ||
	{ not_ok "exerciser failed"; finish; }
sleep 0.5
stop_probe

truth=$TMP/truth.json
pid=$(jq .pid "$truth")
for r in IO MMIO HLT; do
	want=$(jq "[.vcpus[].exits.$r] | add" "$truth")
	check_eq "VM userspace_exits.$r equals ground truth" "$want" \
		"$(sum_vm "$TMP/kp.json" "$pid" ".userspace_exits.$r")"
done
check_eq "IO ground truth is what the exerciser was asked for (+1 done)" \
	$((VCPUS * (IO + 1))) "$(jq '[.vcpus[].exits.IO] | add' "$truth")"

for i in $(seq 0 $((VCPUS - 1))); do
	tid=$(jq ".vcpus[$i].tid" "$truth")
	idx=$(jq ".vcpus[$i].index" "$truth")
	for r in IO MMIO HLT; do
		check_eq "vCPU $idx (tid $tid) userspace_exits.$r" \
			"$(jq ".vcpus[$i].exits.$r" "$truth")" \
			"$(sum_vcpu "$TMP/kp.json" "$pid" "$tid" ".userspace_exits.$r")"
	done
	got=$(jq -s --argjson pid "$pid" --argjson tid "$tid" \
		'[.[] | select(.type == "vm" and .vm.pid == $pid) | .vcpus[] | select(.tid == $tid) | .index] | unique | map(tostring) | join(",")' \
		"$TMP/kp.json" | tr -d '"')
	check_eq "vCPU tid $tid reported with index $idx in every record" "$idx" "$got"
done

# Each vCPU's last exit (the done port) is never re-entered: one sample less.
total=$(jq '[.vcpus[].exits | to_entries[].value] | add' "$truth")
check_eq "userspace_time samples = exits - one last exit per vCPU" \
	$((total - VCPUS)) \
	"$(sum_vm "$TMP/kp.json" "$pid" '([.userspace_time[]?.count] | add)')"
check_eq "userspace_time bucket counts sum to the sample count" \
	"$(sum_vm "$TMP/kp.json" "$pid" '([.userspace_time[]?.count] | add)')" \
	"$(sum_vm "$TMP/kp.json" "$pid" '([.userspace_time[]?.buckets[][1]] | add)')"
check_eq "records name the process" kvm-exerciser \
	"$(jq -rs --argjson pid "$pid" '[.[] | select(.type == "vm" and .vm.pid == $pid) | .vm.comm] | unique | join(",")' "$TMP/kp.json")"
check_eq "no events lost" 0 \
	"$(jq -s '[.[] | select(.type == "interval") | .lost.exits] | add' "$TMP/kp.json")"
check_eq "stop record says signal" signal \
	"$(jq -rs '[.[] | select(.type == "stop")][0].reason' "$TMP/kp.json")"
finish
