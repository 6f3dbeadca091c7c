#!/bin/bash
# /metrics: promtool accepts the exposition, and a real Prometheus server
# started here on loopback scrapes kvmprobe; its HTTP API returns the
# exerciser VM's exit counter with the exact count.
. "$(dirname "$0")/lib.sh"
require_root
require_kvm
require_bins
command -v promtool >/dev/null || skip "promtool not installed (make deps: prometheus)"
command -v prometheus >/dev/null || skip "prometheus not installed (make deps)"
command -v curl >/dev/null || skip "curl not installed"

KP_PORT=$(free_port 19477)
PROM_PORT=$(free_port 19090)

# the guest makes its exits, then spins in guest code (no exits) while
# we scrape: a VM that is gone has its series removed
IO=30000
"$EXERCISER" --vcpus 2 --io $IO --delay-start 1 --spin 60 >"$TMP/truth.json" &
X=$!
BG_PIDS+=("$X")
start_probe "$TMP/kp.json" -i 0.5 --listen "127.0.0.1:$KP_PORT" -p "$X" || exit 1
for i in $(seq 1 100); do # until its exits are all counted
	[ "$(sum_vm "$TMP/kp.json" "$X" .userspace_exits.IO)" -ge $((2 * IO)) ] && break
	sleep 0.2
done
sleep 0.6

curl -sf "http://127.0.0.1:$KP_PORT/metrics" >"$TMP/metrics.txt"
check_eq "GET /metrics succeeds" 0 $?
if promtool check metrics <"$TMP/metrics.txt" >"$TMP/promtool.out" 2>&1; then
	ok "promtool check metrics accepts the exposition"
else
	not_ok "promtool check metrics: $(head -5 "$TMP/promtool.out")"
fi
want=$((2 * IO)) # checked against the exerciser's own truth below
got=$(awk -v pid="pid=\"$X\"" '$1 ~ /^kvmprobe_userspace_exits_total\{/ && index($1, pid) && /reason="IO"/ { s += $2 } END { print s + 0 }' "$TMP/metrics.txt")
check_eq "exposition: IO exits of the exerciser" "$want" "$got"

cat >"$TMP/prom.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: kvmprobe
    static_configs:
      - targets: ['127.0.0.1:$KP_PORT']
YML
prometheus --config.file="$TMP/prom.yml" --storage.tsdb.path="$TMP/tsdb" \
	--web.listen-address="127.0.0.1:$PROM_PORT" >"$TMP/prom.log" 2>&1 &
PP=$!
BG_PIDS+=("$PP")
q="sum(kvmprobe_userspace_exits_total{pid=\"$X\",reason=\"IO\"})"
val=
for i in $(seq 1 60); do
	val=$(curl -sfG "http://127.0.0.1:$PROM_PORT/api/v1/query" \
		--data-urlencode "query=$q" 2>/dev/null |
		jq -r '.data.result[0].value[1] // empty' 2>/dev/null)
	[ -n "$val" ] && break
	sleep 0.5
done
check_eq "Prometheus scraped kvmprobe: the VM's IO exits via its HTTP API" \
	"$want" "$val"
check_eq "the scrape target is up" 1 "$(curl -sfG "http://127.0.0.1:$PROM_PORT/api/v1/query" \
	--data-urlencode 'query=up{job="kvmprobe"}' | jq -r '.data.result[0].value[1]')"
kill -INT "$X"
wait "$X"
check_eq "the exerciser's own count agrees" "$want" \
	"$(jq '[.vcpus[].exits.IO] | add' "$TMP/truth.json")"
sleep 1.2
curl -sf "http://127.0.0.1:$KP_PORT/metrics" >"$TMP/metrics2.txt"
check_eq "series of a VM that is gone are removed" 0 \
	"$(grep -c "pid=\"$X\"" "$TMP/metrics2.txt")"
stop_probe
finish
