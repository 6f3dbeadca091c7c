# Checks of one nested-VM run (see run.sh): kvmprobe's NDJSON against the
# exerciser's ground truth and ftrace's own counts. Prints one "ok - ..." or
# "not ok - ..." line per check.
#
# Inputs (jq -rn ... -f check.jq):
#   $mode   --arg: kvmprobe's --attach mode (tp_btf, tracepoint); none: the
#           run had no kvmprobe, only the ground truth is checked
#   $kp     --slurpfile: kvmprobe's NDJSON records
#   $truth  --slurpfile: the exerciser's ground-truth line
#   $hist   --slurpfile: [{"event":"kvm_exit"|"kvm_userspace_exit","tid":T,
#           "code":C,"n":N}...], ftrace hist counts ([]: none)
#   $svm    --slurpfile: {"<code>":"<name>"} from SVM_EXIT_REASONS ({}: none)
#   $kvmx   --slurpfile: {"<code>":"<name>"} of KVM_EXIT_* ({}: none)
#
# Expected guest exits of one vCPU, from the exerciser's guest program (all
# vCPUs run code and data in one shared 4 KiB page; vCPU 0 runs alone until
# its first instruction, then the others start):
#   io    = io + 1     one OUT per iteration, then the OUT to the done port
#   npf   = mmio       each MMIO write to the unbacked page faults,
#           + 1 on vCPU 0 for the first touch of the guest page (the nested
#           page table is per VM: later vCPUs find the page mapped)
#   hlt   = hlt
#   cpuid = cpuid
# Interrupt exits come from timers: never asserted against the truth.

def check($ok; $what; $detail):
	if $ok then "ok - \($mode): \($what)"
	else "not ok - \($mode): \($what): \($detail)" end;

def expected_exits: {io: (.io + 1), npf: (.mmio + (if .index == 0 then 1 else 0 end)),
	hlt: .hlt, cpuid: .cpuid};

# Sum a list of {"reason": count} objects.
def add_counts: reduce .[] as $o ({}; reduce ($o | to_entries[]) as $e
	(.; .[$e.key] += $e.value));

# A code as kvmprobe names it: from the table, else "0x7b" style.
def hex: [recurse(if . >= 16 then ./16 | floor else empty end) | . % 16]
	| reverse | map("0123456789abcdef"[.:.+1]) | "0x" + join("");
def named($table): $table[tostring] // hex;

# "io 3 != 4, ..." for every key of $want that $got does not match.
def mismatches($got; $want): [$want | keys[] as $k
	| select(($got[$k] // 0) != $want[$k])
	| "\($k) \($got[$k] // 0) != \($want[$k])"] | join(", ");
def equal_on($got; $want): mismatches($got; $want) == "";
def same($a; $b): equal_on($a; $b) and equal_on($b; $a);

# Only the reasons of $keys, as an object.
def only($keys): with_entries(select(.key as $k | $keys | index($k)));

$truth[0] as $t
| $hist[0] as $h
| $svm[0] as $svmt
| $kvmx[0] as $kvmt
| def ftrace($event; $tid; $table): [$h[]
	| select(.event == $event and .tid == $tid)
	| {(.code | named($table)): .n}] | add_counts;
  (($h | length) > 0 and ($svmt | length) > 0 and ($kvmt | length) > 0)
	as $have_hist
| [$kp[] | select(.type == "start")][0] as $start
| [$kp[] | select(.type == "stop")][0] as $stop
| [$kp[] | select(.type == "vm" and .vm.pid == $t.pid)] as $vms
| ($start.probes // [] | map(select(.name == "exits"))[0]) as $probe
| def vcpu_recs($tid): [$vms[].vcpus[]? | select(.tid == $tid)];

# The exerciser's rule against ftrace, independent of kvmprobe: tells a wrong
# expectation apart from a wrong probe.
check($t.interrupted == false; "the exerciser ran to the end";
	"interrupted is \($t.interrupted | tojson)"),

(if $have_hist then
	$t.vcpus[] as $v
	| ($v | expected_exits) as $want
	| ftrace("kvm_exit"; $v.tid; $svmt) as $f
	| check(equal_on($f; $want);
		"vcpu \($v.index) ftrace kvm_exit counts match the exerciser rule \($want | tojson)";
		mismatches($f; $want)),
	  check(same(ftrace("kvm_userspace_exit"; $v.tid; $kvmt); $v.exits);
		"vcpu \($v.index) ftrace kvm_userspace_exit counts equal the exerciser's \($v.exits | tojson)";
		ftrace("kvm_userspace_exit"; $v.tid; $kvmt) | tojson)
else empty end),

(if $mode == "none" then empty
elif $start == null then
	check(false; "kvmprobe wrote a start record"; "none in the output")
else

check(true; "kvmprobe wrote a start record"; ""),
check($probe.attached == true; "probe exits is attached"; $probe | tojson),
check($probe.programs.kvm_exit == $mode; "kvm_exit attached as \($mode)";
	"programs.kvm_exit is \($probe.programs.kvm_exit | tojson), missing \($probe.missing | tojson)"),
check($probe.programs.kvm_entry != null; "kvm_entry attached";
	"missing \($probe.missing.kvm_entry | tojson)"),
check($stop.reason == "signal"; "kvmprobe wrote a stop record after SIGINT";
	$stop | tojson),
check(($vms | length) > 0; "vm records for the exerciser (pid \($t.pid))";
	"none; vm pids seen: \([$kp[] | select(.type == "vm") | .vm.pid] | unique | tojson)"),

(($vms | map(.exits // {}) | add_counts) as $got
	| ($t.vcpus | map(expected_exits) | add_counts) as $want
	| ($vms | map(.exit_time // {} | map_values(.count)) | add_counts) as $time
	| ["io", "npf", "hlt", "cpuid"][] as $r
	| check(($got[$r] // 0) == $want[$r]; "exits.\($r) total is \($want[$r])";
		"got \($got[$r] // 0)"),
	  check(($time[$r] // 0) == ($got[$r] // 0);
		"exit_time.\($r).count total equals exits.\($r)";
		"\($time[$r] // 0) != \($got[$r] // 0)")),

(($vms | map(.userspace_exits // {}) | add_counts) as $got
	| ($t.vcpus | map(.exits) | add_counts) as $want
	| ["IO", "MMIO", "HLT"][] as $r
	| check(($got[$r] // 0) == ($want[$r] // 0);
		"userspace_exits.\($r) total is \($want[$r] // 0)";
		"got \($got[$r] // 0)")),

($t.vcpus[] as $v
	| vcpu_recs($v.tid) as $recs
	| ($recs | map(.exits // {}) | add_counts) as $got
	| ($recs | map(.userspace_exits // {}) | add_counts) as $ugot
	| ($v | expected_exits) as $want
	| check(equal_on($got; $want);
		"vcpu \($v.index) (tid \($v.tid)) exits are \($want | tojson)";
		mismatches($got; $want)),
	  check(same($ugot | only(["IO", "MMIO", "HLT"]); $v.exits);
		"vcpu \($v.index) (tid \($v.tid)) userspace_exits are \($v.exits | tojson)";
		$ugot | tojson),
	  check(($recs | map(.index) | unique) == [$v.index];
		"vcpu tid \($v.tid) has index \($v.index)";
		"indexes \($recs | map(.index) | unique | tojson)"),
	  # Every reason, timer interrupts included, as ftrace counted it.
	  (if $have_hist then
	  ftrace("kvm_exit"; $v.tid; $svmt) as $f
	  | ftrace("kvm_userspace_exit"; $v.tid; $kvmt) as $fu
	  | check(same($got; $f);
		"vcpu \($v.index) exits of every reason equal ftrace's \($f | tojson)";
		"kvmprobe \($got | tojson)"),
	    check(same($ugot; $fu);
		"vcpu \($v.index) userspace_exits of every reason equal ftrace's \($fu | tojson)";
		"kvmprobe \($ugot | tojson)")
	  else empty end)),

# Where exit handling goes (exits + sched, BTF-typed programs only): per
# reason, on a CPU + waiting + blocked is exit_time's sum, to the ns; with
# raw tracepoints there is no split at all.
(($vms | map(.exit_time // {} | map_values(.sum_ns)) | add_counts) as $sum
	| ($vms | map(.exit_oncpu_ns // {}) | add_counts) as $on
	| ($vms | map(.exit_waiting_ns // {}) | add_counts) as $w
	| ($vms | map(.exit_blocked_ns // {}) | add_counts) as $b
	| if $mode == "tp_btf" then
		check(($on | length) > 0;
			"exit handling is split into on a CPU, waiting and blocked";
			"no exit_oncpu_ns in the records"),
		(["io", "npf", "hlt", "cpuid"][] as $r
		| (($on[$r] // 0) + ($w[$r] // 0) + ($b[$r] // 0)) as $parts
		| check($parts == ($sum[$r] // 0);
			"exit_time.\($r): on a CPU + waiting + blocked is its sum_ns";
			"\($parts) != \($sum[$r] // 0)"))
	else
		check(($on | length) == 0 and ($w | length) == 0 and ($b | length) == 0;
			"no exit handling split with raw tracepoints";
			"oncpu \($on | tojson), waiting \($w | tojson), blocked \($b | tojson)")
	end),

# The sched probe loads on this kernel too (tp_btf: task storage marks;
# tracepoint mode: raw_tp) and measures each vCPU's run delay and CPU time.
# Its exact comparison with schedstat is tests/integration/test_sched_truth
# on the host. Here one guest CPU runs both vCPU threads under TCG, and a
# vCPU thread may wait one more time slice (up to about 16 ms under TCG)
# between reading its schedstat and ending, which kvmprobe counts and the
# truth cannot: these short runs' totals must agree within 10% plus 20 ms
# per vCPU.
(($start.probes // [] | map(select(.name == "sched"))[0]) as $sp
	| (if $mode == "tp_btf" then "tp_btf" else "raw_tp" end) as $how
	| check($sp.attached == true; "probe sched is attached"; $sp | tojson),
	  check($sp.programs.sched_switch == $how and
		$sp.programs.sched_wakeup == $how;
		"sched_switch and sched_wakeup attached as \($how)";
		"programs \($sp.programs | tojson), missing \($sp.missing | tojson)"),
	  check($sp.programs.kvm_fpu != null and $sp.programs.vcpu_seed != null;
		"kvm_fpu attached and vCPU seeding done";
		"programs \($sp.programs | tojson), missing \($sp.missing | tojson)"),
	  ($t.vcpus[] as $v
		| vcpu_recs($v.tid) as $recs
		| ([$recs[] | .run_delay.hist.count // 0] | add // 0) as $n
		| ([$recs[] | .cpu_pct // 0] | add // 0) as $cpu
		| check($n > 0 and $cpu > 0;
			"vcpu \($v.index) run delay and CPU time measured (\($n) waits)";
			"waits \($n), cpu_pct sum \($cpu)")),
	  (([$vms[] | .run_delay.total_ns // 0] | add // 0) as $got
		| ([$t.vcpus[].run_delay_ns] | add) as $want
		| (0.1 * $want + 20000000 * ($t.vcpus | length)) as $tol
		| check(($got - $want | fabs) <= $tol;
			"run delay of the VM \($got) ns is schedstat's \($want) ns within 10% + 20 ms per vCPU";
			"\(($got - $want) / 1e6 | floor) ms off, allowed \($tol / 1e6 | floor)")))

end)
