# Helpers of the kvmprobe top tests (bash), sourced after lib.sh: a private
# tmux server runs the full-screen program detached; keys go in with
# send-keys, the screen comes out with capture-pane.

require_tmux() {
	command -v tmux >/dev/null || skip "tmux not installed (make deps)"
}

TMUX_SOCK="kp-top-$$"
tmx() {
	tmux -L "$TMUX_SOCK" -f /dev/null "$@"
}
# the private server goes with the test's other background work
top_cleanup() {
	tmx kill-server 2>/dev/null
	cleanup
}
trap top_cleanup EXIT

# tmux_run NAME CMD...: run CMD in a new 160x45 session NAME. The command's
# pid goes to $TMP/NAME.pid, its exit status to $TMP/NAME.rc; the pane
# stays (a shell sleeps) so the terminal state after exit can be read.
tmux_run() {
	local name=$1 cmd
	shift
	printf -v cmd '%q ' "$@"
	rm -f "$TMP/$name.pid" "$TMP/$name.rc"
	tmx new-session -d -s "$name" -x 160 -y 45 \
		"bash -c 'echo \$\$ >$TMP/$name.pid; exec $cmd 2>$TMP/$name.err'; echo \$? >$TMP/$name.rc; sleep 600"
}

# screen NAME: the pane's text, once two captures in a row agree (not a
# half-drawn frame)
screen() {
	local a b i
	a=$(tmx capture-pane -p -t "$1")
	for i in $(seq 1 50); do
		sleep 0.1
		b=$(tmx capture-pane -p -t "$1")
		[ "$a" = "$b" ] && break
		a=$b
	done
	printf '%s\n' "$a"
}

# wait_screen NAME REGEX [TRIES]: until the screen matches (10 s default)
wait_screen() {
	local i
	for i in $(seq 1 "${3:-100}"); do
		tmx capture-pane -p -t "$1" | grep -Eq -- "$2" && return 0
		sleep 0.1
	done
	return 1
}

# keys NAME KEY...: send keys, then let the screen settle
keys() {
	local name=$1
	shift
	tmx send-keys -t "$name" "$@"
	sleep 0.3
}

# pane_state NAME: "alternate_on cursor_flag" of the pane
pane_state() {
	tmx display -p -t "$1" '#{alternate_on} #{cursor_flag}'
}

# wait_rc NAME: the command's exit status once it ended (10 s), else "none"
wait_rc() {
	local i
	for i in $(seq 1 100); do
		[ -s "$TMP/$1.rc" ] && { cat "$TMP/$1.rc"; return; }
		sleep 0.1
	done
	echo none
}
# (keys only sends: a check waits with wait_screen for what the key shows,
# since a loaded host may take the view a moment to redraw)
