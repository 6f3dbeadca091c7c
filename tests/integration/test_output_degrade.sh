#!/bin/bash
# Output failures degrade, they do not end the run (issue 14 item 4): on a
# 64 KiB tmpfs filled up, and with the output directory gone at SIGHUP,
# kvmprobe goes on sampling and serving /metrics, counts the records it
# cannot write (records_dropped), says once when writing stops and once
# when it resumes (stderr and the stream), resumes by itself when space or
# the directory returns, and never leaves a torn line. Ground truth: the
# exerciser's own exit counts, and the interval records' own sequence.
. "$(dirname "$0")/lib.sh"
require_root
require_kvm
require_bins
command -v curl >/dev/null || skip "curl not installed"

TINY=$TMP/tiny
mkdir -p "$TINY"
mount -t tmpfs -o size=64k kp-tiny "$TINY" || skip "cannot mount a tmpfs"
trap 'umount -l "$TINY" 2>/dev/null; cleanup' EXIT
mkdir "$TINY/out"
OUT=$TINY/out/kp.ndjson

PORT=$(free_port 19577)
metric() { # NAME [FILTER]: the sum of NAME's samples in a fresh scrape
	curl -sf "http://127.0.0.1:$PORT/metrics" |
		awk -v n="$1" -v f="${2:-}" '($1 == n || index($1, n "{") == 1) && index($1, f) { s += $2 } END { print s + 0 }'
}
wait_for() { # SECONDS COMMAND...: until COMMAND succeeds
	local t=$1 i
	shift
	for i in $(seq 1 $((t * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
alive() { kill -0 "$P" 2>/dev/null; }

"$KVMPROBE" -f json -i 0.2 -o "$OUT" --listen "127.0.0.1:$PORT" 2>"$TMP/kp.err" &
P=$!
BG_PIDS+=("$P")
wait_for 5 grep -qs '"type":"start"' "$OUT" || not_ok "no start record: $(cat "$TMP/kp.err")"

# 1. the filesystem fills up
dd if=/dev/zero of="$TINY/fill" bs=1k 2>/dev/null
wait_for 5 grep -q "failed to write $OUT: No space left on device" "$TMP/kp.err" &&
	ok "disk full: said on stderr" || not_ok "disk full: stderr says $(cat "$TMP/kp.err")"
sleep 0.5
alive && ok "disk full: kvmprobe keeps running" || not_ok "disk full: kvmprobe ended"
n1=$(metric kvmprobe_intervals_total)
# the guest makes its exits, then spins in guest code while we scrape
"$EXERCISER" --vcpus 1 --io 20000 --spin 30 >"$TMP/truth.json" &
X=$!
BG_PIDS+=("$X")
wait_for 10 test "$(metric kvmprobe_userspace_exits_total "pid=\"$X\"")" -ge 20000
sleep 0.5
got=$(metric kvmprobe_userspace_exits_total "pid=\"$X\"")
kill -INT "$X"
wait "$X"
n2=$(metric kvmprobe_intervals_total)
[ "$n2" -gt "$n1" ] && ok "disk full: sampling goes on ($n1 -> $n2 intervals)" ||
	not_ok "disk full: intervals $n1 -> $n2"
check_eq "disk full: /metrics counts the exerciser's exits" \
	"$(jq '[.vcpus[].exits.IO] | add' "$TMP/truth.json")" "$got"
d1=$(metric kvmprobe_records_dropped_total)
[ "$d1" -gt 0 ] && ok "disk full: records dropped are counted ($d1)" ||
	not_ok "disk full: records_dropped_total is $d1"

# 2. space returns: writing resumes by itself
rm -f "$TINY/fill"
wait_for 5 grep -q "writing $OUT again" "$TMP/kp.err" &&
	ok "space back: resumed, said on stderr" || not_ok "space back: stderr says $(cat "$TMP/kp.err")"
sleep 0.5
if jq -c . "$OUT" >/dev/null 2>&1 && [ "$(tail -c 1 "$OUT" | od -An -c | tr -d ' ')" = '\n' ]; then
	ok "every line of the output is a whole record"
else
	not_ok "a torn record in the output: $(jq -c . "$OUT" 2>&1 >/dev/null | head -2)"
fi
check_eq "one notice when writing stopped, then one when it resumed" \
	"stopped resumed" \
	"$(jq -rs '[.[] | select(.type == "notice" and .source == "output") | .state] | join(" ")' "$OUT")"
check_eq "the resumed notice says how many records were dropped" 1 \
	"$(jq -rs '[.[] | select(.type == "notice" and .state == "resumed") | .message | test("[1-9][0-9]* record\\(s\\) dropped")] | map(select(.)) | length' "$OUT")"
check_eq "timestamps never go back" true \
	"$(jq -rs '[.[].ts] | . == sort' "$OUT")"
dlast=$(jq -s '[.[] | select(.type == "interval")] | last | .records_dropped' "$OUT")
[ "$dlast" -ge "$d1" ] && ok "interval records count the dropped ones ($dlast)" ||
	not_ok "records_dropped in the last interval record: $dlast < $d1"
check_eq "stderr: one stop and one resume" "1 1" \
	"$(grep -c 'failed to write' "$TMP/kp.err") $(grep -c 'again' "$TMP/kp.err")"

# 3. SIGHUP while the output directory is missing, then it comes back
mv "$TINY/out" "$TINY/out.rotated"
kill -HUP "$P"
wait_for 5 grep -q "failed to write $OUT: No such file or directory" "$TMP/kp.err" &&
	ok "reopen failed: said on stderr" || not_ok "reopen failed: stderr says $(cat "$TMP/kp.err")"
n1=$(metric kvmprobe_intervals_total)
sleep 0.6
alive && ok "reopen failed: kvmprobe keeps running" || not_ok "reopen failed: kvmprobe ended"
n2=$(metric kvmprobe_intervals_total)
[ "$n2" -gt "$n1" ] && ok "reopen failed: /metrics served, sampling goes on ($n1 -> $n2)" ||
	not_ok "reopen failed: intervals $n1 -> $n2"
mkdir "$TINY/out"
# no second SIGHUP: the next records open the path again
wait_for 5 test -s "$OUT" && ok "directory back: the output is written again" ||
	not_ok "directory back: no new output file"
sleep 0.6
check_eq "the new file starts with the notice that writing stopped" \
	"notice output stopped" "$(head -1 "$OUT" | jq -r '"\(.type) \(.source) \(.state)"')"
check_eq "then records, and the notice that it resumed" resumed \
	"$(jq -rs '[.[] | select(.type == "notice" and .source == "output")] | last | .state' "$OUT")"
jq -c . "$OUT" >/dev/null 2>&1 && ok "the new file holds whole records" ||
	not_ok "a torn record in the new file"

kill -TERM "$P"
wait "$P"
check_eq "SIGTERM: exit 0" 0 $?
check_eq "SIGTERM: the stop record closes the new file" stop \
	"$(tail -1 "$OUT" | jq -r .type)"
finish
