#!/usr/bin/env python3
"""audit-compare.py LIVE.json AUDIT.json MODE [ID]: does `audit` of a
capture give each session the passive verdicts the live run reported?

LIVE.json is the JSON report of `smtp-harness run`, AUDIT.json that of
`smtp-harness audit --side server` of a capture of that run. MODE
"clients" matches sessions to scenarios by client address (one capture,
many sessions); "one" matches the single session of a per-scenario
capture to scenario ID. A session is the same when its findings (check id
and verdict, but for the reader's own audit.capture notes) are the live
run's passive findings (step 0) of its scenario, and its server address
is the scenario's, and where no step failed its verdict is the
scenario's; a reader note at all is a difference (the capture is
meant to be whole). Prints "OK <pairs> <FAIL sessions>", or the
differences on one line.
"""
import json, sys
live = json.load(open(sys.argv[1]))
audit = json.load(open(sys.argv[2]))
mode = sys.argv[3]

def passive(s):
    return sorted((f["check"], f["verdict"]) for f in s["findings"] if f["step"] == 0)

def audited(s):
    return sorted((f["check"], f["verdict"]) for f in s["findings"] if f["check"] != "audit.capture")

sessions = audit["scenarios"]
problems = []
for s in sessions:
    notes = [f["message"] for f in s["findings"] if f["check"] == "audit.capture"]
    if notes:
        problems.append("%s: reader notes %s" % (s["id"], notes))
if mode == "clients":
    by_client = {s["transcript"]["client"]: s for s in sessions}
    if len(sessions) != len(live["scenarios"]):
        problems.append("%d sessions for %d scenarios" % (len(sessions), len(live["scenarios"])))
    pairs = [(sc, by_client.get(sc["transcript"]["client"])) for sc in live["scenarios"]]
else:
    want = [sc for sc in live["scenarios"] if sc["id"] == sys.argv[4]]
    if len(sessions) != 1 or len(want) != 1:
        problems.append("%d sessions in the capture of %s" % (len(sessions), sys.argv[4]))
    pairs = [(want[0], sessions[0] if sessions else None)] if want else []
for sc, s in pairs:
    if s is None:
        problems.append("%s: no session from %s" % (sc["id"], sc["transcript"]["client"]))
        continue
    if passive(sc) != audited(s):
        problems.append("%s: live %s, audit %s" % (sc["id"], passive(sc), audited(s)))
    # Where nothing but the passive checks decided the live verdict, the
    # audit must reach the same one.
    steps_failed = any(f["step"] != 0 and f["verdict"] == "FAIL" for f in sc["findings"])
    if sc["verdict"] in ("PASS", "FAIL") and not steps_failed and s["verdict"] != sc["verdict"]:
        problems.append("%s: live %s, audit %s" % (sc["id"], sc["verdict"], s["verdict"]))
    if s["transcript"]["server"] != sc["transcript"]["server"]:
        problems.append("%s: server %s, audit %s" % (sc["id"], sc["transcript"]["server"], s["transcript"]["server"]))
fails = sum(1 for s in sessions if s["verdict"] == "FAIL")
print("OK %d %d" % (len(pairs), fails) if not problems else "; ".join(problems)[:2000])
