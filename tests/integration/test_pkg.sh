#!/bin/bash
# make deb in a fresh clone of this tree, then the package on this host:
# dpkg -i, the installed binary runs two intervals with the installed
# example config (output and listen moved into the test's directory), the
# man page renders and names every option, dpkg -r leaves only the
# conffiles, purge leaves nothing.
. "$(dirname "$0")/lib.sh"
require_root
command -v dpkg-deb >/dev/null && command -v dpkg-shlibdeps >/dev/null ||
	skip "dpkg-dev not installed (make deps)"
command -v man >/dev/null || skip "man-db not installed (make deps)"
command -v git >/dev/null || skip "git not installed"
if dpkg-query -W -f='${Status}' kvmprobe 2>/dev/null | grep -q installed; then
	skip "a kvmprobe package is installed already: not replacing it"
fi
git -C "$TOP" rev-parse HEAD >/dev/null 2>&1 || skip "not a git tree"
purge() { dpkg --purge kvmprobe >/dev/null 2>&1; }
trap 'purge; cleanup' EXIT

git clone -q "$TOP" "$TMP/src" || { not_ok "git clone"; finish; }
make -C "$TMP/src" -j2 deb >"$TMP/build.log" 2>&1 ||
	{ not_ok "make deb: $(tail -5 "$TMP/build.log")"; finish; }
DEB=$(ls "$TMP"/src/build/kvmprobe_*.deb)
ok "make deb built $(basename "$DEB")"
deps=$(dpkg-deb -f "$DEB" Depends)
for d in libbpf1 libvirt0 libjson-c5 libncurses6; do
	[[ $deps == *"$d "* || $deps == *"$d," || $deps == *"$d" ]] &&
		ok "Depends names $d" || not_ok "Depends lacks $d: $deps"
done
check_eq "the config is a conffile" "/etc/kvmprobe/kvmprobe.conf" \
	"$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./conffiles | grep kvmprobe.conf)"
bad=$(dpkg-deb -c "$DEB" | awk '{print $6}' | sed 's#^\./#/#' |
	grep -Ev '^/$|^/etc/(kvmprobe|logrotate\.d)(/|$)|^/etc/$|^/usr/(sbin|share|lib)(/|$)|^/usr/$|^/usr/lib/systemd(/|$)')
check_eq "no file outside FHS places" "" "$bad"
dpkg-deb -c "$DEB" | awk '{print $6}' | sed 's#^\./#/#' | grep -v '/$' >"$TMP/files"

dpkg -i "$DEB" >"$TMP/dpkg.log" 2>&1 || { not_ok "dpkg -i: $(tail -3 "$TMP/dpkg.log")"; finish; }
ok "dpkg -i installs it"
[ -x /usr/sbin/kvmprobe ] && ok "/usr/sbin/kvmprobe installed" || not_ok "no /usr/sbin/kvmprobe"
grep -q '^ExecStart=/usr/sbin/kvmprobe --config /etc/kvmprobe/kvmprobe.conf' \
	/usr/lib/systemd/system/kvmprobe.service && ok "the unit runs the installed binary" ||
	not_ok "unit: $(grep ExecStart /usr/lib/systemd/system/kvmprobe.service)"

# the installed config, with its output file and port moved here
port=$((20000 + $$ % 20000))
/usr/sbin/kvmprobe --config /etc/kvmprobe/kvmprobe.conf -o "$TMP/svc.ndjson" \
	--listen "127.0.0.1:$port" -i 1 -c 2 --probes sched 2>"$TMP/svc.err"
check_eq "the installed binary with the installed config exits 0" 0 "$?"
check_eq "two intervals recorded" 2 \
	"$(jq -s '[.[] | select(.type == "interval")] | length' "$TMP/svc.ndjson")"
check_eq "the stop record says count" count \
	"$(jq -r 'select(.type == "stop") | .reason' "$TMP/svc.ndjson")"

MAN=/usr/share/man/man1/kvmprobe.1.gz
man -l "$MAN" >"$TMP/man.txt" 2>"$TMP/man.err"
grep -q 'KVMPROBE(1)' "$TMP/man.txt" && [ ! -s "$TMP/man.err" ] &&
	ok "man -l renders kvmprobe(1)" || not_ok "man -l: $(head -3 "$TMP/man.err")"
for sec in OPTIONS 'TOP: VIEWS AND KEYS' RECORDS SIGNALS 'EXIT STATUS' FILES; do
	grep -q "^$sec" "$TMP/man.txt" && ok "man page has $sec" || not_ok "man page lacks $sec"
done
for o in $(/usr/sbin/kvmprobe --help | grep -o -- '--[a-z-]*' | sort -u); do
	grep -q -- "$o" "$TMP/man.txt" || not_ok "man page lacks $o"
done
ok "man page names every option of --help"

dpkg -r kvmprobe >"$TMP/dpkg.log" 2>&1 || not_ok "dpkg -r: $(tail -3 "$TMP/dpkg.log")"
left=$(while read -r f; do [ -e "$f" ] && echo "$f"; done <"$TMP/files" | paste -sd' ')
check_eq "dpkg -r leaves only the conffiles" \
	"/etc/kvmprobe/kvmprobe.conf /etc/logrotate.d/kvmprobe" "$left"
check_eq "package state after dpkg -r" "deinstall ok config-files" \
	"$(dpkg-query -W -f='${Status}' kvmprobe)"
dpkg --purge kvmprobe >/dev/null 2>&1
left=$(while read -r f; do [ -e "$f" ] && echo "$f"; done <"$TMP/files" | paste -sd' ')
check_eq "purge leaves nothing" "" "$left"
finish
