#!/usr/bin/env bash
# audit-seeds.sh HARNESS GEN SOURCE_DIR: the generator still writes the
# committed seed corpus of fuzz_pcap_read byte for byte, and `audit`
# reads every seed (exit 0 or 1, never 2) and finds its session(s); a
# session whose QUIT was lost passes, with the gap noted.
set -euo pipefail
harness=$1 gen=$2 src=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$gen" "$tmp"
corpus=$src/tests/fuzz/corpus/pcap_read
for f in "$tmp"/*.pcap; do
	name=$(basename "$f")
	if ! cmp -s "$f" "$corpus/$name"; then
		echo "audit-seeds: $corpus/$name differs from what gen_pcap_seeds writes" >&2
		exit 1
	fi
	rc=0
	"$harness" audit "$f" --quiet > "$tmp/out" || rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
		echo "audit-seeds: audit $name exited $rc" >&2
		cat "$tmp/out" >&2
		exit 1
	fi
	if ! grep -Eq ' [1-9][0-9]* SMTP session' "$tmp/out"; then
		echo "audit-seeds: no SMTP session found in $name" >&2
		cat "$tmp/out" >&2
		exit 1
	fi
done
# A lost QUIT: judged only up to the gap, so the 221 and the close
# beyond it fail nothing.
out=$("$harness" audit "$corpus/lost-quit.pcap" --report "json:$tmp/lost.json" 2>&1) || {
	echo "audit-seeds: lost-quit.pcap failed: $out" >&2
	exit 1
}
if ! grep -q 'judged only up to segment 3, before which nothing was lost' "$tmp/lost.json"; then
	echo "audit-seeds: lost-quit.pcap: no note of the gap: $out" >&2
	exit 1
fi
echo "audit-seeds: $(ls "$tmp"/*.pcap | wc -l) seeds audited"
