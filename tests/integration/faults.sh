#!/usr/bin/env bash
# faults.sh - random faults are repeatable: the seed gives the same draws.
#
# Runs faults/random-rcpt.json (each RCPT gets 451 with probability 0.5)
# with faults/rcpt-codes.py as the client under test (Debian's python3,
# smtplib: 40 RCPTs, the codes printed on one line, which the JSON report
# keeps as client.stdout), and checks that a given --seed repeats the
# replies exactly, that another seed gives others, that a run without
# --seed prints the seed it chose and that giving it back repeats that
# run, and that a bad --seed is a usage error. Loopback only; the harness
# starts and reaps the client itself.
#
# One line per check ("ok - ..." / "not ok - ..."), then "N passed, M failed".
# Environment: HARNESS_BIN (default build/smtp-harness).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=${HARNESS_BIN:-$top/build/smtp-harness}
[ -x "$bin" ] || { echo "faults.sh: error: no harness binary $bin (set HARNESS_BIN)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/smtp-harness-faults.XXXXXX") || exit 1
trap 'rm -rf -- "$work"' EXIT

scenario=$here/faults/random-rcpt.json
client="/usr/bin/python3 $here/faults/rcpt-codes.py {host} {port}"
passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
notok() { echo "not ok - $*"; failed=$((failed + 1)); }

# run NAME [--seed N]: the report in $work/NAME.json, stdout in $work/NAME.out
run() {
	local name=$1
	shift
	"$bin" run "$@" --client-cmd "$client" --report "json:$work/$name.json" "$scenario" \
	    >"$work/$name.out" 2>&1
}

# codes NAME: the client's line of RCPT reply codes, from the JSON report
codes() {
	/usr/bin/python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print((d["scenarios"][0].get("client") or {}).get("stdout", "").strip())' "$work/$1.json"
}

# json_seed NAME
json_seed() {
	/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("seed"))' \
	    "$work/$1.json"
}

run a --seed 7; sa=$?
run b --seed 7; sb=$?
run c --seed 8
if [ "$sa" -eq 0 ] && [ "$sb" -eq 0 ]; then
	ok "--seed 7 twice: both runs pass (exit 0)"
else
	notok "--seed 7 twice: exit $sa and $sb: $(tail -n 3 "$work/a.out")"
fi
ca=$(codes a); cb=$(codes b); cc=$(codes c)
n250=$(grep -o 250 <<<"$ca" | wc -l); n451=$(grep -o 451 <<<"$ca" | wc -l)
if [ "$n250" -gt 0 ] && [ "$n451" -gt 0 ] && [ $((n250 + n451)) -eq 40 ]; then
	ok "--seed 7: 40 RCPT replies, $n451 of them the random 451"
else
	notok "--seed 7: expected 40 replies of 250 and 451, both, got \"$ca\""
fi
if [ -n "$ca" ] && [ "$ca" = "$cb" ]; then
	ok "--seed 7 twice: the same replies in the same order"
else
	notok "--seed 7 twice: \"$ca\" then \"$cb\""
fi
if [ -n "$cc" ] && [ "$cc" != "$ca" ]; then
	ok "--seed 8: other replies than --seed 7"
else
	notok "--seed 8: expected other replies than --seed 7, got \"$cc\""
fi
if [ "$(json_seed a)" = 7 ] && grep -q -- '--seed 7 ' "$work/a.out"; then
	ok "--seed 7: in the JSON report and under the summary"
else
	notok "--seed 7: JSON seed $(json_seed a); output: $(grep -- '--seed' "$work/a.out")"
fi

run d
seed=$(sed -n 's/^random faults: --seed \([0-9][0-9]*\)$/\1/p' "$work/d.out")
if [ -n "$seed" ] && [ "$(json_seed d)" = "$seed" ]; then
	ok "no --seed: the seed chosen ($seed) is printed first and in the JSON report"
	run e --seed "$seed"
	if [ "$(codes e)" = "$(codes d)" ] && [ -n "$(codes d)" ]; then
		ok "no --seed: giving the printed seed back repeats the run"
	else
		notok "no --seed: \"$(codes d)\", then with --seed $seed \"$(codes e)\""
	fi
else
	notok "no --seed: expected \"random faults: --seed N\" and the same in JSON; got: $(head -n 2 "$work/d.out")"
fi

"$bin" run --seed 12x --client-cmd "$client" "$scenario" >"$work/f.out" 2>&1
st=$?
if [ "$st" -eq 2 ] && grep -q -- '--seed: expected a number' "$work/f.out"; then
	ok "--seed 12x: exit status 2, one line naming the option"
else
	notok "--seed 12x: exit status $st: $(cat "$work/f.out")"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
