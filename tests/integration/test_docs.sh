#!/bin/bash
# docs/metrics.md is what the metric registry and the built-in alert rules
# say (kvmprobe --list-metrics):
# the docs cannot drift from the code.
. "$(dirname "$0")/lib.sh"
[ -x "$KVMPROBE" ] || skip "build first: make"
"$KVMPROBE" --list-metrics >"$TMP/m.md" || { not_ok "--list-metrics failed"; finish; }
# the tables (metrics, then the built-in alert rules), line by line
if diff <(sed -n '/^|/p' "$TOP/docs/metrics.md") <(sed -n '/^|/p' "$TMP/m.md") \
	>"$TMP/diff"; then
	ok "docs/metrics.md matches the registry"
else
	not_ok "docs/metrics.md differs from the registry (regenerate it):"
	cat "$TMP/diff"
fi
for key in $(sed -n 's/^| `\([a-z_.]*\)` | `kvmprobe_.*/\1/p' "$TMP/m.md"); do
	grep -q "\`$key\`" "$TOP/docs/output.md" && ok "docs/output.md documents $key" ||
		not_ok "docs/output.md does not document $key"
done
finish
