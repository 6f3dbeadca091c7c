# Helpers for the libvirt integration tests (bash). Source it after lib.sh,
# then call require_libvirt. It starts virtlogd and libvirtd when they are
# not running (there may be no systemd), lets QEMU open /dev/kvm, and on
# exit destroys every domain it created, stops the daemons it started and
# gives /dev/kvm its mode back.
LV_URI=qemu:///system
LV_DOMS=()
LV_STARTED=()
LV_KVM_MODE=

lv_cleanup() {
	local d
	for d in "${LV_DOMS[@]+"${LV_DOMS[@]}"}"; do
		virsh -q -c "$LV_URI" destroy "$d" >/dev/null 2>&1
	done
	for d in "${LV_STARTED[@]+"${LV_STARTED[@]}"}"; do
		lv_stop_daemon "$d"
	done
	[ -n "$LV_KVM_MODE" ] && chmod "$LV_KVM_MODE" /dev/kvm
	cleanup
}
trap lv_cleanup EXIT

lv_daemon_pid() {
	local pid
	pid=$(cat "/run/$1.pid" 2>/dev/null)
	if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ]; then
		echo "$pid"
		return 0
	fi
	pgrep -x "$1" | head -1
}

lv_stop_daemon() {
	local pid i
	pid=$(lv_daemon_pid "$1")
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
}

# lv_wait_ready: until libvirtd answers (10 s at most)
lv_wait_ready() {
	local i
	for i in $(seq 1 100); do
		virsh -q -c "$LV_URI" version >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# lv_start_libvirtd: start libvirtd (again); it must be stopped
lv_start_libvirtd() {
	libvirtd -d || return 1
	lv_wait_ready
}

require_libvirt() {
	local p
	for p in virsh libvirtd virtlogd qemu-system-x86_64; do
		command -v "$p" >/dev/null ||
			skip "$p not installed (tools/deps.sh test installs libvirt)"
	done
	if [ -z "$(lv_daemon_pid virtlogd)" ]; then
		virtlogd -d || skip "virtlogd does not start"
		LV_STARTED+=(virtlogd)
	fi
	if [ -z "$(lv_daemon_pid libvirtd)" ]; then
		libvirtd -d || skip "libvirtd does not start"
		LV_STARTED=(libvirtd "${LV_STARTED[@]+"${LV_STARTED[@]}"}")
	fi
	lv_wait_ready || skip "libvirtd does not answer on $LV_URI"
	# QEMU runs as libvirt-qemu: it must be able to open /dev/kvm
	LV_KVM_MODE=$(stat -c %a /dev/kvm)
	chmod 666 /dev/kvm
}

lv_xml_escape() {
	sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' \
		-e 's/"/\&quot;/g' -e "s/'/\&apos;/g" <<<"$1"
}

# lv_create NAME VCPUS: start a transient domain (64 MiB, no disk, pty
# serial, VNC on 127.0.0.1; SeaBIOS keeps vCPU 0 busy with exits)
lv_create() {
	local xml="$TMP/dom.$RANDOM.xml"
	cat >"$xml" <<EOF
<domain type='kvm'>
  <name>$(lv_xml_escape "$1")</name>
  <memory unit='MiB'>64</memory>
  <vcpu>$2</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <serial type='pty'/>
    <graphics type='vnc' listen='127.0.0.1'/>
  </devices>
</domain>
EOF
	LV_DOMS+=("$1")
	virsh -q -c "$LV_URI" create "$xml" >"$TMP/create.log" 2>&1 || {
		cat "$TMP/create.log" >&2
		return 1
	}
}

lv_destroy() {
	virsh -q -c "$LV_URI" destroy "$1" >/dev/null 2>&1
}

lv_uuid() {
	virsh -q -c "$LV_URI" domuuid "$1"
}

# lv_vcpu_threads NAME: "index tid" per vCPU, as QEMU itself reports them
lv_vcpu_threads() {
	virsh -q -c "$LV_URI" qemu-monitor-command "$1" \
		'{"execute":"query-cpus-fast"}' |
		jq -r '.return[] | "\(.["cpu-index"]) \(.["thread-id"])"'
}

# lv_qemu_pid NAME: the QEMU process of a running domain
lv_qemu_pid() {
	local tid
	tid=$(lv_vcpu_threads "$1" | head -1 | cut -d' ' -f2)
	[ -n "$tid" ] && awk '/^Tgid:/ { print $2 }' "/proc/$tid/status"
}

# now_s: the wall clock in seconds, as a float
now_s() {
	date +%s.%N
}

# ts_s RFC3339: seconds since the epoch, as a float
ts_s() {
	local t=$1
	echo "$(date -u -d "${t%.*}" +%s).${t##*.}" | tr -d Z
}
