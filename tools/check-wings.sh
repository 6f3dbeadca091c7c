#!/bin/bash
# Check the layering of user/: a file includes headers only of its own wing
# or of wings below it. Order, lowest first: core, identity, probes, sinks,
# service; the door (user/main.c) may include anything.
# Prints every edge that runs the wrong way; exit 1 when there is one.
set -u
cd "$(dirname "$0")/.." || exit 2

wings=(core identity probes sinks service)
rank() {
	local i
	for i in "${!wings[@]}"; do
		[ "${wings[$i]}" = "$1" ] && { echo "$i"; return; }
	done
	echo 99 # the door (user/*.c, user/*.h)
}

bad=0
n=0
while IFS= read -r f; do
	n=$((n + 1))
	rel=${f#user/}
	case $rel in
	*/*) from=${rel%%/*} ;;
	*) from=door ;;
	esac
	rf=$(rank "$from")
	while IFS=: read -r line inc; do
		to=${inc#user/}
		case $to in
		*/*) to=${to%%/*} ;;
		*) to=door ;;
		esac
		rt=$(rank "$to")
		if [ "$rt" -gt "$rf" ]; then
			echo "$f:$line: $from includes $inc ($to is above $from)"
			bad=1
		fi
	done < <(grep -no '#include "user/[^"]*"' "$f" | sed 's/:#include "/:/; s/"$//')
done < <(find user -name '*.[ch]' | sort)

[ "$n" -gt 0 ] || { echo "no sources under user/"; exit 2; }
[ $bad -eq 0 ] && echo "wings: $n files, every include points down or sideways"
exit $bad
