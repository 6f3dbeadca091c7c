#!/bin/sh
# Generate the KVM_EXIT_* name table from <linux/kvm.h>, so the names follow
# the installed kernel headers instead of a hand-typed list. The exit reasons
# are the run of defines that starts at KVM_EXIT_UNKNOWN 0 and counts up by
# one (the header also has unrelated KVM_EXIT_* defines, such as
# KVM_EXIT_IO_IN, that this rule leaves out).
set -eu
hdr=${1:-/usr/include/linux/kvm.h}
[ -r "$hdr" ] || {
	echo "gen-kvm-exit-names: $hdr not found (install linux-libc-dev)" >&2
	exit 1
}
awk '
$1 == "#define" && $2 ~ /^KVM_EXIT_/ && $3 ~ /^[0-9]+$/ {
	if ($2 == "KVM_EXIT_UNKNOWN" && $3 == 0) { on = 1; next_val = 0 }
	if (!on) next
	if ($3 != next_val) { on = 0; next }
	name = substr($2, 10)
	printf "\t{ %d, \"%s\" },\n", $3, name
	next_val++
}' "$hdr"
