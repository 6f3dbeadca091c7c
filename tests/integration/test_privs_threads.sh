#!/bin/bash
# Least privilege holds in every thread: capabilities and no_new_privs are
# per thread, so each /proc/<pid>/task/<tid>/status of a running kvmprobe
# (all probes, the /metrics server on) must show only the kept set
# (CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE, CAP_PERFMON, CAP_BPF) as effective,
# permitted and bounding, nothing inheritable, and NoNewPrivs 1. The net
# probe's control thread, the resolver's, the writer's and the HTTP
# server's threads included.
. "$(dirname "$0")/lib.sh"
require_root
require_bins

want=$(printf '%016x' $(( (1 << 2) | (1 << 19) | (1 << 38) | (1 << 39) )))
port=$((20000 + $$ % 20000))
start_probe "$TMP/kp.json" -i 0.2 --listen "127.0.0.1:$port" || exit 1
# the first interval: every lazily started thread (the writer) runs
for i in $(seq 1 50); do
	grep -q '"type":"interval"' "$TMP/kp.json" && break
	sleep 0.1
done
curl -s "http://127.0.0.1:$port/metrics" >/dev/null 2>&1
sleep 0.3
n=0
for st in /proc/$PROBE_PID/task/*/status; do
	tid=$(basename "$(dirname "$st")")
	comm=$(cat "/proc/$PROBE_PID/task/$tid/comm")
	n=$((n + 1))
	for f in CapEff CapPrm CapBnd; do
		check_eq "thread $tid ($comm): $f only the kept capabilities" "$want" \
			"$(awk -v f="$f:" '$1 == f { print $2 }' "$st")"
	done
	check_eq "thread $tid ($comm): CapInh empty" 0000000000000000 \
		"$(awk '$1 == "CapInh:" { print $2 }' "$st")"
	check_eq "thread $tid ($comm): NoNewPrivs" 1 \
		"$(awk '$1 == "NoNewPrivs:" { print $2 }' "$st")"
done
[ "$n" -ge 3 ] && ok "kvmprobe runs $n threads, all checked" ||
	not_ok "only $n thread(s): expected the probe's and the service's threads too"
stop_probe
finish
