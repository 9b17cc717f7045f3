#!/usr/bin/env bash
# reports.sh - baselines and `smtp-harness diff`, end to end on loopback.
#
# Starts Postfix's smtp-sink (which fails most of the suite: a bare
# "221 Bye" after advertising ENHANCEDSTATUSCODES, an empty last EHLO
# line) on an unusual loopback port, with its own state directory, and
# checks that:
#   - a run against it with --write-baseline exits 1 and writes a baseline
#     of every failure, each with the placeholder reason;
#   - the same run with --baseline exits 0 and lists the failures as known
#     in the text, JSON and JUnit reports;
#   - the suite against the built-in reference server with that baseline
#     exits 0 and reports every entry fixed;
#   - diff of the reference run against the sink run exits 1 with
#     regressions, the other way round exits 0 with fixes, a report
#     against itself shows no change;
#   - a bad baseline and a file that is not a report are exit 2 with
#     FILE:LINE:COL;
#   - --write-baseline against a target that is down (exit 3) leaves the
#     existing baseline as it was.
# One line per check ("ok - ..." / "not ok - ..."), then "N passed, M failed".
# Stops the sink it started, by its pid file, whatever happens.
# Environment: HARNESS_BIN (default build/smtp-harness);
# HARNESS_REPORTS_SINK_PORT (default 2541).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=${HARNESS_BIN:-$top/build/smtp-harness}
port=${HARNESS_REPORTS_SINK_PORT:-2541}
py=/usr/bin/python3
[ -x "$bin" ] || { echo "reports.sh: error: no harness binary $bin (set HARNESS_BIN)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/smtp-harness-reports.XXXXXX") || exit 1
# A state directory of our own: no other script's cleanup stops our sink,
# and ours stops only it.
export HARNESS_STATE_DIR=$work/state
trap 'bash "$here/target-smtp-sink.sh" stop "$port" >/dev/null 2>&1; rm -rf -- "$work"' EXIT

# The scenarios every server runs: those that require no EHLO keyword (a
# server that lacks one SKIPs, and a SKIP is neither a failure nor a fix,
# which would muddle the counts below).
suite=$work/suite
mkdir -p "$suite"
"$py" - "$top/scenarios/conformance" "$suite" <<'PY' || exit 1
import glob, json, os, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
for f in glob.glob(os.path.join(src, "**", "*.json"), recursive=True):
    if not json.load(open(f, encoding="utf-8")).get("requires"):
        shutil.copy(f, os.path.join(dst, os.path.relpath(f, src).replace("/", "__")))
PY

passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
notok() { echo "not ok - $*"; failed=$((failed + 1)); }
# expect WANT GOT WHAT [OUTFILE]
expect() {
	if [ "$2" -eq "$1" ]; then
		ok "$3: exit $2"
	else
		notok "$3: exit $2, expected $1"
		[ -n "${4:-}" ] && tail -n 5 "$4" | sed 's/^/# /'
	fi
}
# json FILE EXPR: a Python expression over d, the parsed FILE
json() {
	"$py" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

if ! bash "$here/target-smtp-sink.sh" start "$port" >"$work/sink.out" 2>&1; then
	cat "$work/sink.out" >&2
	echo "reports.sh: error: could not start smtp-sink on 127.0.0.1:$port" >&2
	exit 1
fi

# 1. The sink fails; record its failures as a baseline.
"$bin" run --quiet --target "127.0.0.1:$port" --report "json:$work/sink.json" \
	--write-baseline "$work/baseline.json" "$suite" >"$work/1.out" 2>&1
expect 1 $? "run against smtp-sink with --write-baseline" "$work/1.out"
n=$(json "$work/baseline.json" 'len(d["known"])' 2>/dev/null || echo 0)
placeholders=$(json "$work/baseline.json" \
	'sum(e["reason"].startswith("TODO") and bool(e["scenario"]) for e in d["known"])' 2>/dev/null || echo -1)
nfail=$(json "$work/sink.json" 'd["summary"]["fail"]')
if [ "$n" -gt 0 ] && [ "$placeholders" -eq "$n" ]; then
	ok "the baseline lists $n failures of $nfail FAIL scenarios, each with a reason to edit"
else
	notok "the baseline: $n entries, $placeholders with a placeholder reason"
fi
ls "$work"/baseline.json.tmp.* >/dev/null 2>&1 && notok "a temporary baseline file was left behind"

# 2. The same run with the baseline: known failures, exit 0.
"$bin" run --target "127.0.0.1:$port" --baseline "$work/baseline.json" \
	--report "json:$work/known.json" --report "junit:$work/known.xml" "$suite" >"$work/2.out" 2>&1
expect 0 $? "run against smtp-sink with --baseline" "$work/2.out"
nknown_lines=$(grep -c '^KNOWN  ' "$work/2.out")
if [ "$nknown_lines" -eq "$nfail" ] &&
	grep -q "^Baseline $work/baseline.json: $n still failing, 0 fixed, 0 not exercised$" "$work/2.out" &&
	[ "$(tail -n 1 "$work/2.out")" = "$(json "$work/sink.json" 'd["summary"]["pass"]') passed, 0 failed, $nfail known$(json "$work/sink.json" '", %d skipped" % d["summary"]["skip"] if d["summary"]["skip"] else ""')" ]; then
	ok "text: $nknown_lines KNOWN scenarios, the baseline's status and the last line"
else
	notok "text report with the baseline: $nknown_lines KNOWN lines; $(tail -n 3 "$work/2.out" | tr '\n' '|')"
fi
if [ "$(json "$work/known.json" 'd["summary"]["known"] == d["summary"]["fail"] and d["baseline"]["known"] == len(d["baseline"]["entries"]) and all(f["known"] for s in d["scenarios"] for f in s["findings"] if f["verdict"] == "FAIL")')" = True ]; then
	ok "JSON: every failure known, every entry still failing"
else
	notok "JSON report with the baseline"
fi
if [ "$(grep -c '<skipped message="known failure (baseline): ' "$work/known.xml")" -eq "$nfail" ] &&
	grep -q 'failures="0"' "$work/known.xml"; then
	ok "JUnit: known failures are skipped, failures=0"
else
	notok "JUnit report with the baseline"
fi

# 3. The reference server passes everything: the baseline can shrink.
"$bin" run --quiet --baseline "$work/baseline.json" --report "json:$work/ref.json" \
	--write-baseline "$work/shrunk.json" "$suite" >"$work/3.out" 2>&1
expect 0 $? "run against the built-in reference server with the baseline" "$work/3.out"
if grep -q "^Baseline $work/baseline.json: 0 still failing, $n fixed, 0 not exercised$" "$work/3.out" &&
	[ "$(json "$work/ref.json" 'd["baseline"]["fixed"]')" -eq "$n" ] &&
	[ "$(json "$work/shrunk.json" 'len(d["known"])')" -eq 0 ]; then
	ok "every baseline entry is reported fixed, and the rewritten baseline is empty"
else
	notok "fixed entries: $(grep '^Baseline' "$work/3.out")"
fi

# 4. diff
"$bin" diff "$work/ref.json" "$work/sink.json" >"$work/4a.out" 2>&1
expect 1 $? "diff reference -> smtp-sink (a regression)" "$work/4a.out"
if [ "$(grep -c '^REGRESSED  [^ ]*: PASS -> FAIL$' "$work/4a.out")" -eq "$nfail" ] &&
	grep -q "^old: $(json "$work/ref.json" '"%d scenarios: %d passed" % (d["summary"]["total"], d["summary"]["pass"])')" "$work/4a.out"; then
	ok "diff names each of the $nfail scenarios that went PASS -> FAIL"
else
	notok "diff reference -> smtp-sink: $(tail -n 3 "$work/4a.out" | tr '\n' '|')"
fi
"$bin" diff "$work/sink.json" "$work/ref.json" >"$work/4b.out" 2>&1
expect 0 $? "diff smtp-sink -> reference (fixes only)" "$work/4b.out"
grep -q "^0 regressed, [1-9][0-9]* fixed, 0 appeared, 0 gone, 0 changed$" "$work/4b.out" &&
	ok "diff counts the fixes" || notok "diff smtp-sink -> reference: $(grep regressed "$work/4b.out")"
"$bin" diff "$work/known.json" "$work/sink.json" >"$work/4c.out" 2>&1
expect 0 $? "diff of two runs with the same failures" "$work/4c.out"
grep -q "^0 regressed, 0 fixed, 0 appeared, 0 gone, 0 changed$" "$work/4c.out" &&
	ok "no change between the same failures, known or not" || notok "$(grep regressed "$work/4c.out")"

# 5. Bad input: one line with FILE:LINE:COL, exit 2, no traffic.
printf '{"known": [\n  {"check": "x", "reason": 7}\n]}\n' >"$work/bad.json"
"$bin" run --target "127.0.0.1:$port" --baseline "$work/bad.json" "$suite" >"$work/5a.out" 2>"$work/5a.err"
expect 2 $? "a baseline with a number for a reason"
if [ "$(cat "$work/5a.err")" = "$work/bad.json:2:28: \$.known[0].reason: expected a non-empty string, got 7" ] &&
	[ ! -s "$work/5a.out" ]; then
	ok "it says FILE:LINE:COL: \$.known[0].reason, and nothing ran"
else
	notok "bad baseline: $(cat "$work/5a.err")"
fi
"$bin" diff "$work/ref.json" "$work/baseline.json" >/dev/null 2>"$work/5b.err"
expect 2 $? "diff of a file that is not a report"
grep -q "^smtp-harness: $work/baseline.json:1:1: \\$: expected the JSON report of smtp-harness run" "$work/5b.err" &&
	ok "it names the file and the JSON path" || notok "$(cat "$work/5b.err")"
head -c 100 "$work/ref.json" >"$work/cut.json"
"$bin" diff "$work/cut.json" "$work/ref.json" >/dev/null 2>"$work/5c.err"
expect 2 $? "diff of a cut-off report"
grep -q "^smtp-harness: $work/cut.json:[0-9]*:[0-9]*: expected valid JSON" "$work/5c.err" &&
	ok "it names the file, line and column" || notok "$(cat "$work/5c.err")"

bash "$here/target-smtp-sink.sh" stop "$port" >/dev/null 2>&1 || notok "stopping smtp-sink"

# 6. A target that is down leaves the baseline alone.
before=$(cksum <"$work/baseline.json")
"$bin" run --quiet --connect-timeout 2000 --target "127.0.0.1:$port" \
	--write-baseline "$work/baseline.json" "$top/scenarios/conformance/greeting" >/dev/null 2>"$work/6.err"
expect 3 $? "--write-baseline against a target that is down"
if [ "$(cksum <"$work/baseline.json")" = "$before" ] && grep -q "baseline not written" "$work/6.err"; then
	ok "the baseline is not overwritten by a run that could not happen"
else
	notok "baseline after an unreachable run: $(cat "$work/6.err")"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
