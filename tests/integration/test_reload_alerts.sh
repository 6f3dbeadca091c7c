#!/bin/bash
# SIGHUP keeps alert state (issue 14 item 5): a rule whose definition did
# not change keeps firing without firing again and resolves once when its
# condition ends; a rule changed or removed while firing is resolved once
# (value null), and a changed one then starts afresh under its new terms.
# The ground truth is the exerciser's paced HLT exits (~100/s).
. "$(dirname "$0")/lib.sh"
require_root
require_kvm
require_bins

rules() { # $1: threshold of change_me; $2: with drop_me (1/0)
	cat <<CONF
[kvmprobe]
interval = 0.3
format = json
output = $TMP/kp.ndjson

[alerts]
defaults = no

[alert keep_me]
metric = userspace_exits
stat = rate
above = 10
for = 0
severity = info

[alert change_me]
metric = userspace_exits
stat = rate
above = $1
for = 0
CONF
	[ "$2" = 1 ] && printf '\n[alert drop_me]\nmetric = userspace_exits\nstat = rate\nabove = 30\nfor = 0\n'
}
# the rule limit counts the merged set: rules of the file's own and every
# built-in name it overrides make 128, the limit (the built-in names from
# the registry's rules table, --list-metrics)
mapfile -t builtin < <("$KVMPROBE" --list-metrics |
	sed -n '/^## Built-in alert rules/,$ s/^| `\([a-z0-9_]*\)` |.*/\1/p')
nb=${#builtin[@]}
check_eq "kvmprobe lists its built-in rules" 1 "$([ "$nb" -gt 0 ] && echo 1)"
{
	for i in $(seq 1 $((128 - nb))); do
		printf '[alert r%d]\nmetric = exits\nabove = %d\n' "$i" "$i"
	done
	for r in "${builtin[@]}"; do
		printf '[alert %s]\nmetric = exits\nabove = 1000\n' "$r"
	done
} >"$TMP/big.conf"
"$KVMPROBE" --config "$TMP/big.conf" -f json -c 1 -i 0.1 >"$TMP/big.out" 2>"$TMP/big.err"
check_eq "128 rules, $nb of them overriding the built-in ones, are accepted" \
	"0 " "$? $(cat "$TMP/big.err")"

rules 20 1 >"$TMP/kp.conf"
"$KVMPROBE" --config "$TMP/kp.conf" 2>"$TMP/kp.err" &
P=$!
BG_PIDS+=("$P")
for i in $(seq 1 100); do
	grep -q '"type":"start"' "$TMP/kp.ndjson" 2>/dev/null && break
	sleep 0.05
done

# ~100 HLT exits per second for about 6 s
"$EXERCISER" --hlt 600 --hlt-sleep 0.01 >"$TMP/truth.json" &
X=$!
BG_PIDS+=("$X")
events() { # RULE: the states of RULE's alerts for the exerciser, in order
	jq -rs --arg r "$1" --argjson p "$X" \
		'[.[] | select(.type == "alert" and .rule == $r and .vm.pid == $p) | .state + (if .value == null then "(null)" else "" end)] | join(",")' \
		"$TMP/kp.ndjson"
}
for i in $(seq 1 60); do
	[ "$(events drop_me)" = firing ] && [ "$(events change_me)" = firing ] &&
		[ "$(events keep_me)" = firing ] && break
	sleep 0.1
done
check_eq "before the reload every rule fired once" "firing firing firing" \
	"$(events keep_me) $(events change_me) $(events drop_me)"

# keep_me unchanged (on another line), change_me's threshold changed,
# drop_me removed
{ echo "; reloaded"; rules 25 0; } >"$TMP/kp.conf"
kill -HUP $P
sleep 1
check_eq "the reload notice" reloaded \
	"$(jq -rs '[.[] | select(.type == "notice" and .source == "config")] | last | .state' "$TMP/kp.ndjson")"
kill -0 "$X" 2>/dev/null && ok "the exerciser still runs after the reload" ||
	not_ok "the exerciser ended before the checks (too fast a machine?)"
check_eq "unchanged rule: still firing, not fired again" firing "$(events keep_me)"
check_eq "changed rule: resolved once at the reload, then fired under its new terms" \
	"firing,resolved(null),firing" "$(events change_me)"
check_eq "removed rule: resolved once" "firing,resolved(null)" "$(events drop_me)"

wait "$X"
sleep 1
check_eq "unchanged rule: resolved once when the exits stopped" "firing,resolved" \
	"$(events keep_me)"
check_eq "changed rule: resolved once more under its new terms" \
	"firing,resolved(null),firing,resolved" "$(events change_me)"
check_eq "the exerciser made its HLT exits" 600 \
	"$(jq '[.vcpus[].exits.HLT] | add' "$TMP/truth.json")"
kill -TERM $P
wait $P
check_eq "SIGTERM: exit 0" 0 $?
finish
