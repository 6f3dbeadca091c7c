#!/bin/bash
# The resolver's identity table (kp_resolver_table(), for the I/O probes)
# for a real domain with a file disk, a block disk, a tap interface and an
# I/O thread: host device numbers as stat(1) gives them, the tap's ifindex
# (named by the domain XML and held open by QEMU, per fdinfo), and thread
# roles as QEMU itself reports its vCPU threads.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/libvirt_lib.sh"
require_root
require_kvm
require_bins
require_libvirt
IDDUMP=$TOP/build/tests/kp-iddump
[ -x "$IDDUMP" ] || skip "build first: make build/tests/kp-iddump"
command -v losetup >/dev/null && command -v ip >/dev/null ||
	skip "losetup or ip missing"

D="kp-topo-$$"
TAP="kptap$$"
FILE=/dev/shm/kp-file-$$.img
BLKIMG=/dev/shm/kp-blk-$$.img
LOOP=

topo_cleanup() {
	lv_cleanup
	[ -n "$LOOP" ] && losetup -d "$LOOP"
	ip link del "$TAP" 2>/dev/null
	rm -f "$FILE" "$BLKIMG"
}
trap topo_cleanup EXIT

truncate -s 8M "$FILE" "$BLKIMG"
LOOP=$(losetup -f --show "$BLKIMG") || skip "no loop device"
ip tuntap add dev "$TAP" mode tap || skip "cannot create a tap device"
cat >"$TMP/dom.xml" <<EOF
<domain type='kvm'>
  <name>$D</name>
  <memory unit='MiB'>64</memory>
  <vcpu>2</vcpu>
  <iothreads>1</iothreads>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$FILE'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='block' device='disk'>
      <driver name='qemu' type='raw'/>
      <source dev='$LOOP'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <interface type='ethernet'>
      <target dev='$TAP' managed='no'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'/>
  </devices>
</domain>
EOF
LV_DOMS+=("$D")
# the block probe watches the domain's disk I/O (SeaBIOS reads the disks)
start_probe "$TMP/kp.json" -i 0.5 --probes block || exit 1
virsh -q -c "$LV_URI" create "$TMP/dom.xml" >"$TMP/create.log" 2>&1 ||
	{ cat "$TMP/create.log"; not_ok "domain with disks and a tap starts"; finish; }
PID=$(lv_qemu_pid "$D")
"$IDDUMP" 2 >"$TMP/table.json" || { not_ok "kp-iddump runs"; finish; }
jq -c --argjson p "$PID" '.[] | select(.pid == $p)' "$TMP/table.json" >"$TMP/vm.json"
cat "$TMP/vm.json"

# makedev() as glibc encodes dev_t
devno() {
	local maj=$1 min=$2
	echo $(((maj & 0xfff) << 8 | (maj & ~0xfff) << 32 | (min & 0xff) |
		(min & ~0xff) << 12))
}

check_eq "the domain is named by libvirt" "libvirt $D" \
	"$(jq -r '"\(.source) \(.name)"' "$TMP/vm.json")"
check_eq "its UUID and domain id are libvirt's" \
	"$(lv_uuid "$D") $(virsh -q -c "$LV_URI" domid "$D")" \
	"$(jq -r '"\(.uuid) \(.dom_id)"' "$TMP/vm.json")"
check_eq "disk vda (a file) is on the device of its filesystem" \
	"vda $FILE $(stat -c %d "$FILE") false" \
	"$(jq -r '.disks[] | select(.target == "vda") | "\(.target) \(.source) \(.devno) \(.block)"' "$TMP/vm.json")"
check_eq "disk vdb (a block device) is that device" \
	"vdb $LOOP $(devno "$(stat -c %Hr "$LOOP")" "$(stat -c %Lr "$LOOP")") true" \
	"$(jq -r '.disks[] | select(.target == "vdb") | "\(.target) \(.source) \(.devno) \(.block)"' "$TMP/vm.json")"
check_eq "the tap is named by the XML and held open by QEMU" \
	"$TAP $(cat "/sys/class/net/$TAP/ifindex") true true" \
	"$(jq -r '.nics[] | "\(.ifname) \(.ifindex) \(.in_xml) \(.held)"' "$TMP/vm.json")"
check_eq "vCPU threads are QEMU's (query-cpus-fast)" \
	"$(lv_vcpu_threads "$D" | sort -n | tr '\n' ';')" \
	"$(jq -r '[.threads[] | select(.kind == "vcpu") | "\(.index) \(.tid)"] | sort | map(. + ";") | join("")' "$TMP/vm.json")"
check_eq "the I/O thread iothread1 is found" 1 \
	"$(jq '[.threads[] | select(.kind == "iothread" and .index == 1)] | length' "$TMP/vm.json")"
check_eq "the main thread is the process" "$PID" \
	"$(jq '.threads[] | select(.kind == "main") | .tid' "$TMP/vm.json")"
check_eq "memory figures: the 64 MiB balloon" 65536 \
	"$(jq '.mem.balloon_current' "$TMP/vm.json")"

# the block probe names the guest's disk: QEMU's I/O on the loop device
# is reported for that device with the target from the domain XML
for i in $(seq 1 20); do
	jq -e --argjson p "$PID" --arg d "${LOOP#/dev/}" \
		'select(.type == "vm" and .vm.pid == $p) | .disks[]? | select(.dev == $d)' \
		"$TMP/kp.json" >/dev/null 2>&1 && break
	sleep 0.5
done
stop_probe
check_eq "block records of the domain's loop device carry target vdb" vdb \
	"$(jq -rs --argjson p "$PID" --arg d "${LOOP#/dev/}" \
		'[.[] | select(.type == "vm" and .vm.pid == $p) | .disks[]? | select(.dev == $d) | .target] | unique | join(",")' \
		"$TMP/kp.json")"
finish
