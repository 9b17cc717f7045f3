#!/bin/bash
# report-formats.sh - the reports real runs write agree with their formats.
#
# Runs the harness four ways on loopback, each writing JSON, JUnit, TAP
# and HTML:
#   a. the conformance suite against the built-in reference server (exit 0);
#   b. server-role scenarios with a client that never connects, and
#      --write-baseline (FAIL, exit 1; client and received objects);
#   c. the same with that baseline plus an entry nothing exercises
#      (known failures, exit 0);
#   d. the same scenarios with Python's smtplib as the client and that
#      baseline (PASS, entries fixed, exit 0).
# Then checks, by MODE:
#   json   every JSON report against reports/report.schema.json
#          (Debian's python3-jsonschema), and the TAP streams: plan,
#          numbering, directives, YAML blocks (parsed when python3-yaml
#          is there)
#   junit  every JUnit report against reports/junit-10.xsd (xmllint,
#          from libxml2-utils)
#   html   every HTML report is well-formed XML (xmllint) and HTML with
#          every element closed, fetches nothing, and draws what the JSON
#          report of the same run holds (tests/html-check.py page)
#
# Usage: report-formats.sh MODE HARNESS_BIN SOURCE_DIR
# Prints "ok - ..." / "not ok - ..." and exits 1 when anything failed.

set -uo pipefail
mode=${1:?usage: report-formats.sh json|junit|html HARNESS_BIN SOURCE_DIR}
bin=${2:?}
src=${3:?}
py=/usr/bin/python3
failed=0
work=$(mktemp -d "${TMPDIR:-/tmp}/report-formats.XXXXXX")
trap 'rm -rf "$work"' EXIT

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; failed=1; }

# run LABEL WANT_STATUS ARGS...: a run writing LABEL.{json,xml,tap}
run() {
	local label=$1 want=$2 status
	shift 2
	"$bin" run --quiet --report "json:$work/$label.json" --report "junit:$work/$label.xml" \
		--report "tap:$work/$label.tap" --report "html:$work/$label.html" "$@" >"$work/$label.out" 2>&1
	status=$?
	if [ "$status" -eq "$want" ]; then
		ok "run $label: exit $status"
	else
		not_ok "run $label: exit $status, expected $want"
		sed 's/^/# /' "$work/$label.out" | tail -n 20
	fi
}

clients=$src/scenarios/clients
quick=("$clients/delivery.basic.json" "$clients/greet.421.json" "$clients/rcpt.one-refused.json")
# The client under test: Python's smtplib, as tests/integration/clients.sh runs it.
smtplib='/usr/bin/python3 -c "import smtplib, sys; s = smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=10); s.sendmail(\"a@harness.test\", [\"b@example.test\", \"c@example.test\"], open(sys.argv[3], \"rb\").read()); s.quit()" {host} {port} {message}'

run a-builtin 0 --jobs 4 "$src/scenarios/conformance"
run b-silent-client 1 --client-cmd 'echo started; echo no connection >&2; exit 3' \
	--write-baseline "$work/baseline.json" "${quick[@]}"
"$py" - "$work/baseline.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
for e in b["known"]:
    e["reason"] = "this client never connects"
b["known"].append({"check": "never.exercised", "reason": "stays unexercised"})
json.dump(b, open(sys.argv[1], "w"), indent=2)
PY
run c-known 0 --client-cmd 'echo started; exit 3' --baseline "$work/baseline.json" "${quick[@]}"
run d-fixed 0 --client-cmd "$smtplib" --baseline "$work/baseline.json" "${quick[@]}"
# The delivery oracle: the built-in server spools into the Maildir it reads
# (findings that point at a copy are in tests/integration/oracle.sh's
# reports, checked against the same schema there).
mkdir -p "$work/md"
run e-oracle 0 --oracle "maildir:$work/md" --oracle-wait 1000 \
	"$src/scenarios/oracle/content-unchanged.json" "$src/scenarios/conformance/smuggling/lf-dot-crlf.json"

labels=(a-builtin b-silent-client c-known d-fixed e-oracle)
case $mode in
json)
	for l in "${labels[@]}"; do
		if out=$("$py" - "$src/reports/report.schema.json" "$work/$l.json" 2>&1 <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1], encoding="utf-8"))
jsonschema.Draft202012Validator.check_schema(schema)
bad = 0
for e in jsonschema.Draft202012Validator(schema).iter_errors(json.load(open(sys.argv[2], encoding="utf-8"))):
    print("/".join(map(str, e.absolute_path)) + ": " + e.message[:300])
    bad += 1
sys.exit(1 if bad else 0)
PY
		); then
			ok "$l.json agrees with reports/report.schema.json"
		else
			not_ok "$l.json against reports/report.schema.json:"
			echo "$out" | head -n 10 | sed 's/^/# /'
		fi
	done
	# What each run must show, beyond the schema.
	if out=$("$py" - "$work" 2>&1 <<'PY'
import json, os, sys
w = sys.argv[1]
r = {l: json.load(open(os.path.join(w, l + ".json"))) for l in ("a-builtin", "b-silent-client", "c-known", "d-fixed", "e-oracle")}
problems = []
if r["a-builtin"]["summary"]["fail"] or r["a-builtin"]["baseline"] is not None:
    problems.append("a: failures or a baseline")
b = r["b-silent-client"]
if not all(s["client"] and s["received"] and s["verdict"] == "FAIL" for s in b["scenarios"]):
    problems.append("b: every scenario FAIL with client and received")
c = r["c-known"]
if not all(s["known"] for s in c["scenarios"]) or c["summary"]["known"] != len(c["scenarios"]):
    problems.append("c: every scenario known")
st = sorted(e["status"] for e in c["baseline"]["entries"])
if st.count("unexercised") != 1 or st.count("known") != len(st) - 1:
    problems.append("c: statuses %s" % st)
d = r["d-fixed"]
st = sorted(e["status"] for e in d["baseline"]["entries"])
if d["summary"]["pass"] != len(d["scenarios"]) or st.count("fixed") != len(st) - 1:
    problems.append("d: statuses %s" % st)
e = r["e-oracle"]
if not any(s["id"] == "oracle.content-unchanged" and
           {"rfc5321.4.2.5.2yz-takes-responsibility", "rfc5321.4.5.2.content-unchanged"} <=
           {c["check"] for c in s["checks"] if c["verdict"] == "PASS"} for s in e["scenarios"]):
    problems.append("e: the delivery of oracle.content-unchanged not judged")
print("; ".join(problems))
sys.exit(1 if problems else 0)
PY
	); then
		ok "the reports show known, fixed and unexercised baseline entries"
	else
		not_ok "baseline in the reports: $out"
	fi
	for l in "${labels[@]}"; do
		if out=$("$py" - "$work/$l.tap" "$work/$l.json" 2>&1 <<'PY'
import json, re, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
rep = json.load(open(sys.argv[2]))
try:
    import yaml
except ImportError:
    yaml = None
problems = []
if lines[0] != "TAP version 13":
    problems.append("first line %r" % lines[0])
n = len(rep["scenarios"])
if lines[1] != "1..%d" % n:
    problems.append("plan %r for %d scenarios" % (lines[1], n))
i, num = 2, 0
while i < len(lines):
    m = re.match(r"^(ok|not ok) (\d+) - (\S+)( # (SKIP|TODO) .*)?$", lines[i])
    if m:
        num += 1
        sc = rep["scenarios"][num - 1]
        if int(m.group(2)) != num or m.group(3) != sc["id"]:
            problems.append("line %d: %r" % (i + 1, lines[i]))
        want = {"PASS": "ok", "SKIP": "ok"}.get(sc["verdict"], "not ok")
        if m.group(1) != want or (m.group(5) == "TODO") != sc["known"] or (m.group(5) == "SKIP") != (sc["verdict"] == "SKIP"):
            problems.append("line %d: %r for %s known=%s" % (i + 1, lines[i], sc["verdict"], sc["known"]))
        if m.group(1) == "not ok":
            if lines[i + 1] != "  ---":
                problems.append("line %d: no YAML block" % (i + 2))
            end = lines.index("  ...", i + 1)
            block = "\n".join(l[2:] for l in lines[i + 2:end])
            if yaml is not None:
                doc = yaml.safe_load(block)
                if not isinstance(doc, dict) or "message" not in doc or "severity" not in doc:
                    problems.append("line %d: YAML %r" % (i + 3, doc))
                elif sc["verdict"] == "FAIL" and [f["check"] for f in doc.get("findings", [])] != \
                        [f["check"] for f in sc["findings"] if f["verdict"] == "FAIL"]:
                    problems.append("line %d: findings differ from the JSON report" % (i + 3))
            i = end
    elif lines[i] and not lines[i].startswith("#"):
        problems.append("line %d: %r" % (i + 1, lines[i]))
    i += 1
if num != n:
    problems.append("%d test points for %d scenarios" % (num, n))
print("; ".join(problems[:5]))
sys.exit(1 if problems else 0)
PY
		); then
			ok "$l.tap is TAP 13 with one test point per scenario"
		else
			not_ok "$l.tap: $out"
		fi
	done
	;;
junit)
	for l in "${labels[@]}"; do
		if out=$(xmllint --noout --schema "$src/reports/junit-10.xsd" "$work/$l.xml" 2>&1); then
			ok "$l.xml agrees with Jenkins' junit-10.xsd"
		else
			not_ok "$l.xml against reports/junit-10.xsd:"
			echo "$out" | head -n 10 | sed 's/^/# /'
		fi
	done
	if grep -q '<skipped message="known failure (baseline): ' "$work/c-known.xml" &&
		grep -q '<property name="baseline.unexercised" value="\* never.exercised"/>' "$work/c-known.xml" &&
		grep -q '<property name="baseline.fixed" ' "$work/d-fixed.xml"; then
		ok "JUnit shows known failures as skipped, and the baseline's fixed and unexercised entries"
	else
		not_ok "JUnit lacks the baseline's known, fixed or unexercised entries"
	fi
	;;
html)
	for l in "${labels[@]}"; do
		if out=$(xmllint --noout "$work/$l.html" 2>&1 &&
			"$py" "$src/tests/html-check.py" page "$work/$l.html" "$work/$l.json" 2>&1); then
			ok "$l.html is well-formed, self-contained and draws every transcript"
		else
			not_ok "$l.html: $(echo "$out" | head -n 5)"
		fi
	done
	if grep -q 'echo started; echo no connection' "$work/b-silent-client.html" &&
		grep -q '<pre class="client-stderr">no connection' "$work/b-silent-client.html"; then
		ok "the HTML report shows the client's command and output"
	else
		not_ok "b-silent-client.html lacks the client's command or output"
	fi
	;;
*)
	echo "report-formats.sh: unknown MODE $mode (json, junit or html)" >&2
	exit 2
	;;
esac
exit "$failed"
