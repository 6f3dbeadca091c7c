# Shared helpers for the benchmarks (bash). Each benchmark appends result
# rows with add_result; run.sh turns them into a markdown table and JSON.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KVMPROBE=${KVMPROBE:-$TOP/build/kvmprobe}
EXERCISER=${EXERCISER:-$TOP/build/kvm-exerciser}
FLOOR=${FLOOR:-$TOP/build/bpf-floor}
BENCH_OUT=${BENCH_OUT:-$TOP/build/bench}
# rounds of alternating runs; verdicts come from the median of per-round
# ratios, so 7 or more (fewer for a quick look: PAIRS=3)
PAIRS=${PAIRS:-7}
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

# spread FILE: "median min max n" of the numbers in FILE, one a line
spread() {
	sort -g "$1" | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan nan nan 0"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.2f %.2f %.2f %d\n", m, v[1], v[NR], NR }'
}

# pair_pct BASEFILE FILE [-]: per round, FILE's value against BASEFILE's of
# the same round in percent, (v - b) * 100 / b; with -, (b - v) * 100 / b
# (a loss: for rates such as IOPS)
pair_pct() {
	paste "$1" "$2" | awk -v neg="${3:-}" 'NF == 2 && $1 != 0 {
		d = ($2 - $1) * 100 / $1; print neg == "-" ? -d : d }'
}

# add_spread BENCH VARIANT METRIC FILE UNIT NOTE [BUDGET]: a row whose value
# is the median of the per-round figures in FILE, with their min, max and
# count and the load average now. run.sh calls it "noisy" instead of
# "pass" when max - min is wider than BUDGET.
add_spread() {
	local m lo hi n
	read -r m lo hi n <<<"$(spread "$4")"
	jq -cn --arg b "$1" --arg v "$2" --arg m "$3" --arg val "$m" \
		--arg lo "$lo" --arg hi "$hi" --arg n "$n" --arg u "$5" \
		--arg note "${6:-}" --arg max "${7:-}" \
		--arg load "$(cut -d' ' -f1 /proc/loadavg)" \
		'{bench:$b, variant:$v, metric:$m, value:($val|tonumber),
		  min:($lo|tonumber), max:($hi|tonumber), pairs:($n|tonumber),
		  load:($load|tonumber), unit:$u, note:$note,
		  budget:(if $max == "" then null else ($max|tonumber) end)}' \
		>>"$BENCH_OUT/results.ndjson"
}

# times_floor KP FLOOR: "k x" for a cost KP against the floor's FLOOR (both
# medians, same unit), or "-" when the floor is too small to divide by
times_floor() {
	awk -v k="$1" -v f="$2" 'BEGIN {
		if (f > 0.05 || f < -0.05) printf "%.1fx", k / f; else print "-" }'
}

# probe_events [PROBES]: the events kvmprobe attaches programs to with
# --probes PROBES (all by default), from its start record, one a line; an
# event two probes hook is listed twice, as it runs two programs.
probe_events() {
	start_kvmprobe -i 1 ${1:+--probes "$1"} || return 1
	stop_bg "$KP_PID"
	KP_PID=
	jq -r 'select(.type == "start") | .probes[] | select(.attached) |
		.programs | to_entries[] |
		select(.value | test("^(tp_btf|raw_tp|tracepoint)$")) | .key' \
		"$BENCH_OUT/kvmprobe.json"
}

# start_floor EVENT...: the floor, empty programs on those events (see
# tools/bench/bpf-floor.c), until it has attached. Sets FL_PID.
start_floor() {
	local out=$BENCH_OUT/floor.out i
	[ -x "$FLOOR" ] || { echo "bench: build the floor first: make $FLOOR" >&2; return 1; }
	rm -f "$out"
	"$FLOOR" "$@" >"$out" 2>&1 &
	FL_PID=$!
	for i in $(seq 1 100); do
		grep -q '^ready' "$out" 2>/dev/null && return 0
		kill -0 "$FL_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "bench: the floor did not attach: $(head -c 300 "$out")" >&2
	return 1
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

# turn_order R V...: the variants turned by R places, one a line, so that
# round R of a bench starts with another variant and drift favours none
turn_order() {
	local r=$1
	shift
	printf '%s\n' "$@" | awk -v r="$r" '{ v[NR - 1] = $0 }
		END { for (j = 0; j < NR; j++) print v[(j + r) % NR] }'
}

# rounds NAME PREFIX UNIT: $PAIRS rounds of every variant of $variants in
# turned order; run_variant V (the bench's own) prints one figure, or
# nothing when V could not start (nan). Figures go to $BENCH_OUT/PREFIX_V,
# a line per round.
rounds() {
	local name=$1 prefix=$2 unit=$3 i v x line
	for i in $(seq 1 "$PAIRS"); do
		line=
		# shellcheck disable=SC2086 # one variant a word
		for v in $(turn_order "$i" $variants); do
			x=$(run_variant "$v") || exit 1
			eval "r_$v=\${x:-nan}"
		done
		for v in $variants; do
			eval "x=\$r_$v"
			echo "$x" >>"$BENCH_OUT/${prefix}_$v"
			line="$line $v $x,"
		done
		echo "$name: round $i/$PAIRS (load $(cut -d' ' -f1 /proc/loadavg)):${line%,} $unit"
	done
}
