#!/bin/bash
# Service mode: a bad config exits 2 naming file:line before attaching;
# SIGHUP reopens the output file (logrotate) and reloads the rules (an
# invalid file keeps the old ones and says why); a closed stdout ends
# kvmprobe cleanly; after attaching it keeps only the capabilities the
# README lists.
. "$(dirname "$0")/lib.sh"
require_root
require_kvm
require_bins

# 1. a bad config: exit 2, file:line, nothing attached (no start record)
printf '[kvmprobe]\ninterval = 1\n\n[alert x]\nmetric = exits\nabove = oops\n' >"$TMP/bad.conf"
"$KVMPROBE" --config "$TMP/bad.conf" >"$TMP/out" 2>"$TMP/err"
check_eq "bad config exits 2" 2 $?
check_eq "the message names file:line" \
	"kvmprobe: $TMP/bad.conf:6: above: 'oops' is not a number" "$(cat "$TMP/err")"
check_eq "nothing was written" 0 "$(wc -c <"$TMP/out")"

# 2. SIGHUP: reopen the output file, reload rules
cat >"$TMP/good.conf" <<CONF
[kvmprobe]
interval = 0.3
format = json
output = $TMP/kp.ndjson

[alert busy_exits]
metric = userspace_exits
stat = rate
above = 1
for = 0
severity = info
CONF
"$KVMPROBE" --config "$TMP/good.conf" 2>"$TMP/svc.err" &
P=$!
BG_PIDS+=("$P")
for i in $(seq 1 100); do
	grep -q '"type":"start"' "$TMP/kp.ndjson" 2>/dev/null && break
	sleep 0.05
done
grep -q '"type":"start"' "$TMP/kp.ndjson" && ok "service started from the config" ||
	not_ok "no start record: $(cat "$TMP/svc.err")"
want=$(grep -c . /proc/$P/status >/dev/null && printf '%016x' \
	$(( (1 << 2) | (1 << 19) | (1 << 38) | (1 << 39) )))
check_eq "after attaching only CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE, CAP_PERFMON, CAP_BPF remain" \
	"$want" "$(awk '/^CapEff/ { print $2 }' /proc/$P/status)"
check_eq "no_new_privs is set" 1 "$(awk '/^NoNewPrivs/ { print $2 }' /proc/$P/status)"

"$EXERCISER" --vcpus 1 --io 20000 >"$TMP/t1.json"
sleep 0.8
mv "$TMP/kp.ndjson" "$TMP/kp.ndjson.1"
kill -HUP $P
sleep 0.8
"$EXERCISER" --vcpus 1 --io 20000 >"$TMP/t2.json"
sleep 0.8
pid1=$(jq .pid "$TMP/t1.json")
pid2=$(jq .pid "$TMP/t2.json")
[ -s "$TMP/kp.ndjson" ] && ok "SIGHUP: a new file at the original path" ||
	not_ok "SIGHUP: no new output file"
check_eq "records before the rotation stay in the old file" \
	"$(jq '[.vcpus[].exits.IO] | add' "$TMP/t1.json")" \
	"$(sum_vm "$TMP/kp.ndjson.1" "$pid1" .userspace_exits.IO)"
check_eq "records after the rotation go to the new file" \
	"$(jq '[.vcpus[].exits.IO] | add' "$TMP/t2.json")" \
	"$(sum_vm "$TMP/kp.ndjson" "$pid2" .userspace_exits.IO)"
check_eq "the rule fired for the exerciser" firing \
	"$(jq -rs --argjson p "$pid2" '[.[] | select(.type == "alert" and .rule == "busy_exits" and .vm.pid == $p)][0].state' "$TMP/kp.ndjson")"
check_eq "and resolved when its exits stopped" resolved \
	"$(jq -rs --argjson p "$pid2" '[.[] | select(.type == "alert" and .rule == "busy_exits" and .vm.pid == $p)][1].state' "$TMP/kp.ndjson")"

# an invalid file on reload: the old rules stay, a notice says why
printf '[alert broken]\nmetric = nope\nabove = 1\n' >>"$TMP/good.conf"
kill -HUP $P
sleep 0.8
check_eq "invalid reload: notice names file:line" \
	"invalid $TMP/good.conf:13: unknown metric 'nope' (kvmprobe --list-metrics)" \
	"$(jq -rs '[.[] | select(.type == "notice" and .source == "config")] | last | "\(.state) \(.message)"' "$TMP/kp.ndjson")"
"$EXERCISER" --vcpus 1 --io 20000 >"$TMP/t3.json"
sleep 0.8
pid3=$(jq .pid "$TMP/t3.json")
check_eq "the old rules keep running" firing \
	"$(jq -rs --argjson p "$pid3" '[.[] | select(.type == "alert" and .rule == "busy_exits" and .vm.pid == $p)][0].state' "$TMP/kp.ndjson")"
kill -TERM $P
wait $P
check_eq "SIGTERM: exit 0" 0 $?
check_eq "SIGTERM: a stop record closes the stream" stop \
	"$(tail -1 "$TMP/kp.ndjson" | jq -r .type)"

# 3. a closed stdout (EPIPE) ends kvmprobe cleanly
start=$SECONDS
timeout 20 "$KVMPROBE" -f json -i 0.2 2>"$TMP/epipe.err" | head -c 10 >/dev/null
rc=${PIPESTATUS[0]}
check_eq "closed stdout: exit 0" 0 "$rc"
check_eq "closed stdout: nothing on stderr" "" "$(cat "$TMP/epipe.err")"
[ $((SECONDS - start)) -lt 10 ] && ok "closed stdout: ends promptly" ||
	not_ok "closed stdout: took $((SECONDS - start)) s"
finish
