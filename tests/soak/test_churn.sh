#!/bin/bash
# Churn soak: one kvmprobe in service mode (--config with listen and output)
# for about two minutes while
#   - 200 exercisers start and stop, at most 20 at once, each a known number
#     of exits; half of them live a few milliseconds, under one interval,
#   - a libvirt domain is started and destroyed 5 times, and libvirtd is
#     killed with SIGKILL and restarted 3 times,
#   - the output file is rotated and SIGHUP sent 20 times,
#   - /metrics is scraped every 100 ms.
# It passes only if every exerciser's exits are counted exactly; no record is
# torn or lost (every line parses, as many interval records as the stop
# record says, records_dropped 0: the output is a file, a reader that keeps
# up); RSS grows at most 1 MiB after the warm-up; open fds return to their
# baseline, and the BPF maps hold no entry of a VMM that is gone (the maps
# keyed by vCPU thread return to their baseline count); no series of a gone
# VM is left in /metrics; every scrape succeeded; SIGTERM ends it with 0.
# The figures are printed. It holds the integration lock for its whole run.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/libvirt_lib.sh"

LOCK=/tmp/kp-itest.lock
# take the lock unless a caller (flock LOCK tests/run.sh ...) holds it
holds_lock() {
	local p=$$ cmd
	while [ "$p" -gt 1 ]; do
		cmd=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)
		case "$cmd" in flock*"$LOCK"*) return 0 ;; esac
		p=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
		[ -n "$p" ] || return 1
	done
	return 1
}
if [ -z "${KP_SOAK_LOCKED:-}" ] && ! holds_lock; then
	rm -rf "$TMP"
	KP_SOAK_LOCKED=1 exec flock "$LOCK" bash "$0" "$@"
fi

require_root
require_kvm
require_bins
command -v curl >/dev/null || skip "curl not installed (make deps)"
command -v bpftool >/dev/null || skip "bpftool not installed (make deps)"
command -v ss >/dev/null || skip "ss not installed (make deps)"
require_libvirt

NX=${KP_SOAK_EXERCISERS:-200} MAXPAR=20 ROUNDS=20 ROUND_S=4
DOM_ROUNDS=" 1 5 9 13 17 " KILL_ROUNDS=" 3 8 14 "
DOM="kp-soak-$$"
OUT=$TMP/soak.ndjson
RANDOM=11 # the same mix of exercisers every run

port=
for p in $(shuf -i 20000-60000 -n 50); do
	[ -z "$(ss -Hltn "sport = :$p")" ] && { port=$p; break; }
done
[ -n "$port" ] || { not_ok "no free port"; finish; }
cat >"$TMP/soak.conf" <<CONF
[kvmprobe]
interval = 0.5
format = json
output = $OUT
listen = 127.0.0.1:$port

[alert busy_exits]
metric = userspace_exits
stat = rate
above = 1000
for = 0
severity = info
CONF

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# open fds other than BPF links: the net probe attaches and detaches its
# two per-packet programs on its duty cycle, so their links come and go
# with the host's packet rate (nlinks: at most the baseline's plus those two).
# A read opens an iterator's fd for a moment (the sched probe's counters,
# haltpoll's per-VMM files every interval): the fewest of 5 looks 50 ms
# apart, as such an fd raises one look and a leaked one all of them.
nfds_once() {
	find "/proc/$1/fd" -mindepth 1 -printf '%l\n' | grep -vc '^anon_inode:bpf_link$'
}
nfds() {
	local i n min=
	for i in 1 2 3 4 5; do
		n=$(nfds_once "$1")
		[ -z "$min" ] || [ "$n" -lt "$min" ] && min=$n
		sleep 0.05
	done
	echo "$min"
}
nlinks() { find "/proc/$1/fd" -mindepth 1 -printf '%l\n' | grep -c '^anon_inode:bpf_link$'; }

# map_figures PID IDS_FILE: "name/max_entries/id total ours" per hash map PID
# holds; ours counts entries whose key names a pid or tid in IDS_FILE
map_figures() {
	local fi id name type max
	for fi in /proc/"$1"/fdinfo/*; do
		id=$(sed -n 's/^map_id:\s*//p' "$fi" 2>/dev/null)
		[ -n "$id" ] || continue
		read -r name type max < <(bpftool map show id "$id" -j |
			jq -r '"\(.name) \(.type) \(.max_entries)"')
		case "$type" in hash | lru_hash) ;; *) continue ;; esac
		bpftool map dump id "$id" -j 2>/dev/null |
			jq -r --arg n "$name/$max/$id" --slurpfile ids "$2" '
			($ids[0] | map({(tostring): 1}) | add // {}) as $ours |
			[.[] | .formatted.key // {} |
			 if type == "object" then [.pid, .tid, .vcpu_tid]
			 else [.] end | map(select(. != null) | tostring) |
			 any(. as $k | $ours[$k] == 1)] |
			"\($n) \(length) \(map(select(.)) | length)"'
	done | sort
}

"$KVMPROBE" --config "$TMP/soak.conf" 2>"$TMP/kp.err" &
P=$!
BG_PIDS+=("$P")
for i in $(seq 1 100); do
	grep -q '"type":"start"' "$OUT" 2>/dev/null && break
	kill -0 "$P" 2>/dev/null || break
	sleep 0.05
done
grep -q '"type":"start"' "$OUT" 2>/dev/null ||
	{ not_ok "kvmprobe started: $(cat "$TMP/kp.err")"; finish; }

# the scraper: every 100 ms until told to stop; one status code per line
(while [ ! -e "$TMP/stop-scrape" ]; do
	curl -s -m 2 -o "$TMP/scrape.txt" -w '%{http_code}\n' \
		"http://127.0.0.1:$port/metrics"
	sleep 0.1
done) >"$TMP/scrape.codes" 2>/dev/null &
SCRAPER=$!
BG_PIDS+=("$SCRAPER")
sleep 1.5
FD0=$(nfds $P)
LK0=$(nlinks $P)
echo '[]' >"$TMP/noids.json"
map_figures $P "$TMP/noids.json" >"$TMP/maps0"

# the exercisers: NX of them, at most MAXPAR at once, in the background
mkdir -p "$TMP/x"
(
	for i in $(seq 1 "$NX"); do
		while [ "$(jobs -rp | wc -l)" -ge $MAXPAR ]; do
			wait -n
		done
		case $((i % 10)) in
		0 | 1 | 2 | 3 | 4) # a few ms: under one interval
			args="--vcpus $((1 + RANDOM % 2)) --io $((50 + RANDOM % 1000))" ;;
		5 | 6 | 7) # about a second, across intervals
			args="--vcpus $((1 + RANDOM % 3)) --io $((2000 + RANDOM % 20000)) --hlt 3 --hlt-sleep 0.3" ;;
		*) # about three seconds, halting most of it
			args="--vcpus $((2 + RANDOM % 3)) --io $((1000 + RANDOM % 5000)) --hlt 6 --hlt-sleep 0.5" ;;
		esac
		# shellcheck disable=SC2086
		(s=$(date +%s%N)
			"$EXERCISER" $args >"$TMP/x/$i.json" 2>"$TMP/x/$i.err" ||
				echo "$i $args" >>"$TMP/x/failed"
			echo $((($(date +%s%N) - s) / 1000000)) >"$TMP/x/$i.ms") &
		sleep 0.$((25 + RANDOM % 20))
	done
	wait
) &
LAUNCHER=$!
BG_PIDS+=("$LAUNCHER")

# the rounds: rotation + SIGHUP each, domains and libvirtd kills on some
QEMU_PIDS=()
QEMU_TIDS=()
RSS0=
t0=$SECONDS
for r in $(seq 1 $ROUNDS); do
	rstart=$SECONDS
	mv "$OUT" "$OUT.$r"
	kill -HUP $P
	if [[ $DOM_ROUNDS == *" $r "* ]]; then
		if lv_create "$DOM" 1; then
			qp=$(lv_qemu_pid "$DOM")
			QEMU_PIDS+=("$qp")
			for t in /proc/"$qp"/task/*; do
				QEMU_TIDS+=("${t##*/}")
			done
			sleep 1.5
			lv_destroy "$DOM"
		else
			not_ok "round $r: domain $DOM starts"
		fi
	fi
	if [[ $KILL_ROUNDS == *" $r "* ]]; then
		kill -KILL "$(lv_daemon_pid libvirtd)"
		sleep 0.5
		lv_start_libvirtd || not_ok "round $r: libvirtd restarts"
	fi
	# warm-up: the first four rounds (a domain, every kind of exerciser)
	[ "$r" = 4 ] && RSS0=$(rss_kib $P)
	while [ $((SECONDS - rstart)) -lt $ROUND_S ]; do sleep 0.2; done
done
wait $LAUNCHER
echo "# churn: $ROUNDS rounds and $NX exercisers in $((SECONDS - t0)) s"
# quiet: dead threads' entries are collected every 10 s
sleep 12
RSS1=$(rss_kib $P)
FD1=$(nfds $P)
LK1=$(nlinks $P)
touch "$TMP/stop-scrape"
wait $SCRAPER
curl -s -m 5 "http://127.0.0.1:$port/metrics" >"$TMP/metrics.final"

# every pid and thread id that belonged to a VMM of this run
jq -s '[.[] | .pid, .vcpus[].tid]' "$TMP"/x/*.json >"$TMP/xids.json"
printf '%s\n' "${QEMU_PIDS[@]}" "${QEMU_TIDS[@]}" |
	jq -s --slurpfile x "$TMP/xids.json" '. + $x[0]' >"$TMP/ids.json"
map_figures $P "$TMP/ids.json" >"$TMP/maps1"

kill -TERM $P
wait $P
rc=$?
check_eq "kvmprobe ends 0 on SIGTERM" 0 "$rc"
cat "$OUT".{1..20} "$OUT" >"$TMP/all.ndjson"

# 1. exits, exactly, per exerciser
check_eq "every exerciser ran and ended 0" 0 \
	"$(cat "$TMP/x/failed" 2>/dev/null | wc -l)"
jq -c -s '[.[] | select(.type == "vm")] | group_by(.vm.pid) |
	map({(.[0].vm.pid | tostring): {IO: (map(.userspace_exits.IO // 0) | add),
	     HLT: (map(.userspace_exits.HLT // 0) | add)}}) | add // {}' \
	"$TMP/all.ndjson" >"$TMP/counted.json"
jq -r -s --slurpfile c "$TMP/counted.json" '.[] |
	{pid, IO: ([.vcpus[].exits.IO] | add), HLT: ([.vcpus[].exits.HLT] | add)} |
	. as $t | ($c[0][$t.pid | tostring] // {IO: 0, HLT: 0}) as $k |
	"\($t.pid) \($t.IO) \($k.IO) \($t.HLT) \($k.HLT) \(if $t.IO == $k.IO and $t.HLT == $k.HLT then "ok" else "WRONG" end)"' \
	"$TMP"/x/*.json >"$TMP/exact.txt"
nx=$(wc -l <"$TMP/exact.txt")
nwrong=$(grep -c WRONG "$TMP/exact.txt")
check_eq "exercisers with ground truth" "$NX" "$nx"
check_eq "exercisers whose IO and HLT exits were counted exactly" "$nx" \
	$((nx - nwrong))
grep WRONG "$TMP/exact.txt" | head -5 |
	sed 's/^/#   pid truth-IO counted-IO truth-HLT counted-HLT: /'
echo "# exits: $(jq -s '[.[] | [.vcpus[].exits.IO, .vcpus[].exits.HLT] | add] | add' "$TMP"/x/*.json) in $nx exercisers, $(cat "$TMP"/x/*.ms | awk '$1 < 500' | wc -l) of them living under one interval (0.5 s), the longest $(sort -n "$TMP"/x/*.ms | tail -1) ms"

# 2. records: none torn, none lost, none dropped
bad=0
for f in "$OUT".{1..20} "$OUT"; do
	[ -s "$f" ] || continue
	[ "$(tail -c1 "$f" | od -An -c | tr -d ' ')" = '\n' ] || bad=$((bad + 1))
done
check_eq "every output file ends with a whole line" 0 $bad
lines=$(wc -l <"$TMP/all.ndjson")
check_eq "every line is one JSON record" "$lines" \
	"$(jq -c . "$TMP/all.ndjson" 2>/dev/null | wc -l)"
check_eq "each of the 20 rotated files got records (SIGHUP reopened)" 20 \
	"$(for r in $(seq 1 20); do grep -c . "$OUT.$r"; done | awk '$1 > 0' | wc -l)"
nint=$(jq -s '[.[] | select(.type == "interval")] | length' "$TMP/all.ndjson")
check_eq "interval records: as many as the stop record counts" \
	"$(jq -s '[.[] | select(.type == "stop") | .intervals] | first' "$TMP/all.ndjson")" \
	"$nint"
check_eq "records_dropped at the end" 0 \
	"$(jq -s '[.[] | select(.type == "interval") | .records_dropped // 0] | max' "$TMP/all.ndjson")"
check_eq "exits lost to a full map" 0 \
	"$(jq -s '[.[] | select(.type == "interval") | .lost.exits // 0] | add' "$TMP/all.ndjson")"
echo "# records: $lines lines, $nint intervals, lost $(jq -s -c '[.[] | select(.type == "interval") | .lost] | reduce .[] as $l ({}; reduce ($l | keys[]) as $k (.; .[$k] += $l[$k]))' "$TMP/all.ndjson")"
echo "# notices: $(jq -s -c '[.[] | select(.type == "notice") | "\(.source):\(.state)"] | group_by(.) | map({(.[0]): length}) | add' "$TMP/all.ndjson")"

# 3. memory and fds
grow=$((RSS1 - RSS0))
echo "# RSS: $RSS0 KiB after warm-up, $RSS1 KiB at the end ($grow KiB)"
if [ "$grow" -le 1024 ]; then
	ok "RSS grows at most 1 MiB after warm-up ($grow KiB)"
else
	not_ok "RSS grew $grow KiB after warm-up (at most 1024)"
fi
check_eq "open fds (but BPF links) back to their baseline" "$FD0" "$FD1"
echo "# BPF links: $LK0 at the baseline, $LK1 at the end"
check_eq "BPF links: no more than the baseline's and the net probe's two" 1 \
	"$([ "$LK1" -le $((LK0 + 2)) ] && echo 1)"

# 4. BPF maps
echo "# maps (name/total at start, at end, entries of this run's VMMs):"
join "$TMP/maps0" "$TMP/maps1" | awk '{ printf "#   %s: %s -> %s, ours %s\n", $1, $2, $4, $5 }'
check_eq "map entries of this run's VMMs once they are gone" 0 \
	"$(awk '{ s += $3 } END { print s + 0 }' "$TMP/maps1")"
# the maps keyed by vCPU thread (exits; sched's stats and preempt) hold
# only VMMs' entries: at most their baseline (other VMMs of the host that
# ended meanwhile leave too); block and net count any process of the host
for name in exits/16384/ stats/16384/ preempt/16384/; do
	a=$(awk -v n="$name" 'index($1, n) == 1 { s += $2 } END { print s + 0 }' "$TMP/maps0")
	b=$(awk -v n="$name" 'index($1, n) == 1 { s += $2 } END { print s + 0 }' "$TMP/maps1")
	if [ "$b" -le "$a" ]; then
		ok "entries of map ${name%/} back to their baseline ($a -> $b)"
	else
		not_ok "entries of map ${name%/}: $b at the end, $a at the start"
	fi
done

# 5. /metrics
nscr=$(wc -l <"$TMP/scrape.codes")
echo "# scrapes: $nscr, $(grep -c '^200$' "$TMP/scrape.codes") answered 200"
check_eq "every scrape answered 200" "$nscr" "$(grep -c '^200$' "$TMP/scrape.codes")"
[ -s "$TMP/metrics.final" ] && ok "the last scrape has metrics" ||
	not_ok "the last scrape is empty"
left=0
for p in $(jq -r '.[]' "$TMP/ids.json"); do
	grep -q "pid=\"$p\"" "$TMP/metrics.final" && left=$((left + 1))
done
check_eq "series of gone VMs left in /metrics" 0 $left
echo "# /metrics at the end: $(grep -vc '^#' "$TMP/metrics.final") series"
echo "# soak: $SECONDS s in all"
finish
