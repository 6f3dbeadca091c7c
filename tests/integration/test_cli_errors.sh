#!/bin/bash
# Bad input gets one line on stderr and the documented exit status; nothing
# is attached for bad usage.
. "$(dirname "$0")/lib.sh"
require_bins

expect() { # expect STATUS DESCRIPTION ARGS...
	local want=$1 desc=$2 rc lines
	shift 2
	"$KVMPROBE" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	lines=$(wc -l <"$TMP/err")
	if [ "$rc" = "$want" ] && { [ "$want" = 0 ] || [ "$lines" -ge 1 ]; }; then
		ok "$desc: exit $rc$( [ "$want" != 0 ] && echo ", '$(head -1 "$TMP/err")'")"
	else
		not_ok "$desc: expected exit $want, got $rc; stderr: $(cat "$TMP/err")"
	fi
}

expect 2 "unknown option" --bogus
expect 2 "missing value" -i
expect 2 "interval zero" -i 0
expect 2 "interval not a number" -i abc
expect 2 "count zero" -c 0
expect 2 "bad format" -f xml
expect 2 "bad pid" -p -3
expect 2 "unknown probe" --probes exits,nope
expect 2 "bad attach mode" --attach fentry
expect 2 "map entries too small" --map-entries 10
expect 2 "positional argument" extra
for a in --bogus "-i 0" "-f xml"; do
	# shellcheck disable=SC2086
	"$KVMPROBE" $a 2>"$TMP/err" >/dev/null
	check_eq "'$a' error is one line" 1 "$(wc -l <"$TMP/err")"
done
expect 0 "--help" --help
expect 0 "--version" -V
grep -q "kvmprobe $(sed -n 's/^VERSION := //p' "$TOP/Makefile")" "$TMP/out" &&
	ok "--version prints the Makefile version" || not_ok "--version output: $(cat "$TMP/out")"
expect 0 "--list-metrics" --list-metrics

if [ "$(id -u)" -eq 0 ]; then
	expect 1 "unwritable output file" -c 1 -o /proc/nonexistent/x
	if command -v setpriv >/dev/null; then
		setpriv --reuid=65534 --regid=65534 --clear-groups \
			"$KVMPROBE" -c 1 >"$TMP/out" 2>"$TMP/err"
		check_eq "without privileges: exit 3" 3 $?
		check_eq "without privileges: one line on stderr" 1 "$(wc -l <"$TMP/err")"
		grep -q "permission denied" "$TMP/err" &&
			ok "without privileges: says permission denied" ||
			not_ok "without privileges: stderr was: $(cat "$TMP/err")"
	fi
fi
finish
