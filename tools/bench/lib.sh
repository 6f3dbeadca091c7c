# Shared helpers for the benchmarks (bash). Each benchmark appends result
# rows with add_result; run.sh turns them into a markdown table and JSON.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KVMPROBE=${KVMPROBE:-$TOP/build/kvmprobe}
EXERCISER=${EXERCISER:-$TOP/build/kvm-exerciser}
BENCH_OUT=${BENCH_OUT:-$TOP/build/bench}
PAIRS=${PAIRS:-5}
mkdir -p "$BENCH_OUT"

now_ns() { date +%s%N; }

median() { # median of the numbers on stdin
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) print v[(NR + 1) / 2];
		else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# add_result BENCH VARIANT METRIC VALUE UNIT [NOTE [BUDGET]]
# BUDGET: the largest value that meets the budget, in UNIT; run.sh gives
# every row that has one a pass or miss verdict.
add_result() {
	jq -cn --arg b "$1" --arg v "$2" --arg m "$3" --arg val "$4" \
		--arg u "$5" --arg n "${6:-}" --arg max "${7:-}" \
		'{bench:$b, variant:$v, metric:$m, value:($val|tonumber), unit:$u,
		  note:$n, budget:(if $max == "" then null else ($max|tonumber) end)}' \
		>>"$BENCH_OUT/results.ndjson"
}

# start_kvmprobe ARGS...: kvmprobe in the background, wait for its start
# record. Sets KP_PID.
start_kvmprobe() {
	local out=$BENCH_OUT/kvmprobe.json i
	rm -f "$out"
	"$KVMPROBE" -f json -o "$out" "$@" 2>>"$BENCH_OUT/kvmprobe.err" &
	KP_PID=$!
	for i in $(seq 1 200); do
		grep -q '"type":"start"' "$out" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "bench: kvmprobe did not start" >&2
	return 1
}

stop_bg() { # stop_bg PID
	kill -INT "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# start_bpftrace PROGRAM: wait until it has attached. Sets BT_PID.
start_bpftrace() {
	local out=$BENCH_OUT/bpftrace.out i
	rm -f "$out"
	bpftrace -e "$1" >"$out" 2>&1 &
	BT_PID=$!
	for i in $(seq 1 400); do
		grep -q 'Attaching' "$out" 2>/dev/null && { sleep 0.3; return 0; }
		kill -0 "$BT_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "bench: bpftrace did not attach: $(cat "$out")" >&2
	return 1
}

# bpf_ids PID prog|map: ids of the BPF programs (or maps) PID holds, from
# /proc/PID/fdinfo: the same facts as the "pids" of `bpftool -j prog show`,
# which Debian's bpftool (built without skeletons) leaves out.
bpf_ids() {
	local f
	for f in /proc/"$1"/fdinfo/*; do
		sed -n "s/^$2_id:[[:space:]]*//p" "$f" 2>/dev/null
	done | sort -un
}

# bpf_show prog|map PID: bpftool's JSON array of the objects PID holds, each
# with "obj", its BPF object's name ("exits"), from the .bss or .rodata map
# that shares its BTF: two probes may both have a program named run_btf.
bpf_show() {
	local ids maps
	ids=$(bpf_ids "$2" "$1" | jq -sc .)
	maps=$(bpftool -j map show)
	bpftool -j "$1" show | jq -c --argjson ids "$ids" --argjson pid "$2" \
		--argjson maps "$maps" '
		([$maps[] | select(.name // "" | test("\\.(bss|rodata|data)$")) |
		  {key: (.btf_id | tostring),
		   value: (.name | sub("\\..*$"; "") | sub("_bp?f?$"; ""))}] |
		 from_entries) as $obj |
		[.[] | select(.id as $i | any($ids[]; . == $i) or
			      any(.pids[]?; .pid == $pid)) |
		 .obj = ($obj[(.btf_id // 0) | tostring] // "")]'
}
