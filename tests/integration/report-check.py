#!/usr/bin/python3
"""report-check.py - assertions on smtp-harness reports for the integration
tests (Python standard library only).

    report-check.py MODE ARGS...

Prints one "ok - ..." or "not ok - ..." line per assertion; the calling
script counts them (run.sh's tally). The modes:

  suite LABEL REPORT JUNIT CAPDIR EXPECTED   expected + JUnit + pcaps
  expected LABEL REPORT EXPECTED             a report against an expected
      file (tests/integration/expected/<target>.json): every verdict, the
      summary, every FAIL/WARN/INFO finding, an explanation per check, and
      ERROR only where the file's "errors" lists it, with a matching reason
  verdicts LABEL REPORT EXPECTED             the verdicts alone
  same LABEL REPORT REPORT                   two reports, same verdicts
  one, all-error, junit-errors, follow, tls-fields: see each function
  matrix OUT NAME=REPORT=EXPECTED=SCRIPT...   write the results matrix
      (docs/results.md, tests/matrix.sh) from the reports of several
      targets, each FAIL with its check, RFC section and the one-line
      explanation the expected file's "why" gives for the scenario
"""
import collections, json, os, re, struct, sys
import xml.etree.ElementTree as ET

def ok(msg): print("ok - " + msg)
def bad(msg): print("not ok - " + msg)

def load(path, label):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except Exception as e:
        bad("%s: cannot read JSON report %s: %s" % (label, path, e))
        return None

def fkey(f):
    step = "passive" if f["step"] == 0 else "step %d" % f["step"]
    return "%s %s %s" % (f["verdict"], f["check"], step)

def verdicts(r):
    return {s["id"]: s["verdict"] for s in r["scenarios"]}

def compare_verdicts(label, got, want):
    """One line per difference, or one ok line."""
    diff = 0
    for sid in sorted(set(want) | set(got)):
        if sid not in got:
            bad("%s: scenario %s missing from the report (expected %s)" % (label, sid, want[sid])); diff += 1
        elif sid not in want:
            bad("%s: scenario %s not in the expected results (got %s)" % (label, sid, got[sid])); diff += 1
        elif got[sid] != want[sid]:
            bad("%s: %s: expected %s, got %s" % (label, sid, want[sid], got[sid])); diff += 1
    if diff == 0:
        ok("%s: all %d verdicts as expected" % (label, len(want)))

def expected_errors(label, r, exp):
    """ERROR only for the scenarios the expected file's "errors" names
    (scenario id -> regular expression the reason must match); none
    elsewhere. A target whose run cannot be carried out for a reason the
    file documents (a TLS library that fails the handshake) is pinned
    this way, with the reason's text."""
    want = exp.get("errors", {})
    errs = {s["id"]: s["reason"] or "" for s in r["scenarios"] if s["verdict"] == "ERROR"}
    problems = ["%s (%s)" % (sid, errs[sid][:200]) for sid in sorted(errs) if sid not in want]
    problems += ["%s: reason %r does not match /%s/" % (sid, errs[sid][:200], want[sid])
                 for sid in sorted(errs) if sid in want and not re.search(want[sid], errs[sid])]
    problems += ["%s: expected ERROR, got no ERROR" % sid for sid in sorted(want) if sid not in errs]
    if problems:
        bad("%s: ERROR verdicts: %s" % (label, "; ".join(problems)[:600]))
    elif want:
        ok("%s: ERROR exactly where expected, with the expected reason (%s)" % (label, ", ".join(sorted(want))))
    else:
        ok("%s: no ERROR" % label)

def mode_suite(label, report, junit, capdir, expected):
    r = mode_expected(label, report, expected)
    if r is not None:
        mode_junit(label, junit, r)
        mode_pcaps(label, capdir, r)

def mode_expected(label, report, expected):
    r = load(report, label)
    exp = load(expected, label + " (expected)")
    if r is None or exp is None:
        return None
    want = exp["verdicts"]
    compare_verdicts(label, verdicts(r), want)
    expected_errors(label, r, exp)
    summ = {k: r["summary"][k] for k in exp["summary"]}
    if summ == exp["summary"] and r["summary"]["total"] == len(want):
        ok("%s: summary %s" % (label, json.dumps(summ, sort_keys=True)))
    else:
        bad("%s: summary %s, expected %s" % (label, json.dumps(r["summary"], sort_keys=True),
            json.dumps(exp["summary"], sort_keys=True)))
    # Findings, as multisets per scenario.
    got_f = {s["id"]: sorted(fkey(f) for f in s["findings"]) for s in r["scenarios"] if s["findings"]}
    want_f = exp["findings"]
    diffs = 0
    for sid in sorted(set(got_f) | set(want_f)):
        g = collections.Counter(got_f.get(sid, []))
        w = collections.Counter(want_f.get(sid, []))
        if g != w:
            diffs += 1
            bad("%s: %s: findings differ: unexpected %s, missing %s" % (label, sid,
                sorted((g - w).elements()) or "none", sorted((w - g).elements()) or "none"))
    if diffs == 0:
        n = sum(len(v) for v in want_f.values())
        ok("%s: all %d FAIL/WARN/INFO findings as expected" % (label, n))
    # Every check with a finding is explained in the expected file.
    checks = {k.split()[1] for v in want_f.values() for k in v}
    unexplained = sorted(c for c in checks if not exp.get("explanations", {}).get(c))
    if unexplained:
        bad("%s: expected file has no explanation for %s" % (label, ", ".join(unexplained)))
    else:
        ok("%s: every finding's check is explained in %s" % (label, os.path.basename(expected)))
    # Every FAIL scenario fails for a FAIL finding (not for no reason).
    nofind = [s["id"] for s in r["scenarios"] if s["verdict"] == "FAIL"
              and not any(f["verdict"] == "FAIL" for f in s["findings"])]
    if nofind:
        bad("%s: FAIL without a FAIL finding: %s" % (label, ", ".join(nofind)))
    else:
        ok("%s: every FAIL scenario carries a FAIL finding" % label)
    # Every FAIL and ERROR scenario has its one line in "why" (used by the
    # results matrix), where the file keeps such lines.
    if "why" in exp:
        nowhy = sorted(s["id"] for s in r["scenarios"]
                       if s["verdict"] in ("FAIL", "ERROR") and not exp["why"].get(s["id"]))
        if nowhy:
            bad("%s: no one-line \"why\" in %s for %s" % (label, os.path.basename(expected), ", ".join(nowhy)))
        else:
            ok("%s: every FAIL and ERROR scenario has its \"why\" line" % label)
    noev = sorted({s["id"] for s in r["scenarios"] for f in s["findings"]
                   if f["verdict"] == "FAIL" and not f.get("evidence")})
    if noev:
        bad("%s: FAIL findings without evidence in %s" % (label, ", ".join(noev[:5])))
    return r

def mode_junit(label, path, r):
    try:
        root = ET.parse(path).getroot()
    except Exception as e:
        bad("%s: JUnit report %s does not parse: %s" % (label, path, e))
        return
    cases = root.findall(".//testcase")
    ids = [s["id"] for s in r["scenarios"]]
    nfail = sum(1 for s in r["scenarios"] if s["verdict"] == "FAIL")
    nskip = sum(1 for s in r["scenarios"] if s["verdict"] == "SKIP")
    names = [c.get("name") for c in cases]
    failures = [c.get("name") for c in cases if c.find("failure") is not None]
    problems = []
    if sorted(names) != sorted(ids):
        problems.append("testcases %d, scenarios %d (names differ: %s)" % (len(names), len(ids),
                        sorted(set(names) ^ set(ids))[:5]))
    if root.tag != "testsuites":
        problems.append("root element is <%s>" % root.tag)
    suites = [root] + root.findall("testsuite")
    for el in suites:
        if el.get("failures") != str(nfail):
            problems.append("<%s failures=%s>, %d FAIL scenarios" % (el.tag, el.get("failures"), nfail))
        if el.get("errors") != "0":
            problems.append("<%s errors=%s>" % (el.tag, el.get("errors")))
        # <testsuites> has no "skipped" in Jenkins' schema (reports/junit-10.xsd)
        if el.tag == "testsuite" and el.get("skipped") != str(nskip):
            problems.append("<%s skipped=%s>, %d SKIP scenarios" % (el.tag, el.get("skipped"), nskip))
        if el.get("tests") != str(len(ids)):
            problems.append("<%s tests=%s>" % (el.tag, el.get("tests")))
    want_fail = sorted(s["id"] for s in r["scenarios"] if s["verdict"] == "FAIL")
    if sorted(failures) != want_fail:
        problems.append("<failure> on %s, FAIL scenarios %s" % (sorted(failures)[:5], want_fail[:5]))
    if any(c.find("error") is not None for c in cases):
        problems.append("an <error> testcase")
    if problems:
        bad("%s: JUnit: %s" % (label, "; ".join(problems)))
    else:
        ok("%s: JUnit parses: %d testcases, failures=%d (= FAIL count), skipped=%d" % (label, len(cases), nfail, nskip))

def pcap_packets(path):
    """Number of records in a classic pcap file; raises on a bad file."""
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) != 24:
            raise ValueError("short header")
        magic = hdr[:4]
        if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
            end = "<"
        elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
            end = ">"
        else:
            raise ValueError("bad magic %s" % magic.hex())
        n = 0
        while True:
            rec = f.read(16)
            if not rec:
                return n
            if len(rec) != 16:
                raise ValueError("truncated record header")
            incl = struct.unpack(end + "IIII", rec)[2]
            if len(f.read(incl)) != incl:
                raise ValueError("truncated record")
            n += 1

def mode_pcaps(label, capdir, r):
    problems = []
    caps = {}
    for s in r["scenarios"]:
        c = s.get("capture")
        if not c:
            problems.append("%s has no capture" % s["id"])
            continue
        if os.path.dirname(os.path.abspath(c)) != os.path.abspath(capdir):
            problems.append("%s capture %s outside %s" % (s["id"], c, capdir))
        caps[s["id"]] = c
    files = sorted(os.listdir(capdir)) if os.path.isdir(capdir) else []
    pcaps = [f for f in files if f.endswith(".pcap")]
    # A session that got through a TLS handshake leaves its secrets in
    # <id>.keys beside the pcap; no other session leaves one.
    tls_ids = set(s["id"] for s in r["scenarios"]
                  if any(g["kind"] == "tls-start" and g.get("tls", "").startswith("TLS")
                         for g in (s.get("transcript") or {}).get("segments", [])))
    keys = [f for f in files if f.endswith(".keys")]
    if sorted(keys) != sorted(i + ".keys" for i in tls_ids):
        problems.append("key logs %s for TLS sessions %s" % (keys[:5], sorted(tls_ids)[:5]))
    for k in keys:
        with open(os.path.join(capdir, k), encoding="ascii", errors="replace") as f:
            if "CLIENT_TRAFFIC_SECRET_0 " not in f.read():
                problems.append("%s holds no CLIENT_TRAFFIC_SECRET_0" % k)
    others = [f for f in files if not f.endswith(".pcap") and not f.endswith(".keys")]
    if len(set(caps.values())) != len(caps):
        problems.append("two scenarios share a capture file")
    if len(pcaps) != len(r["scenarios"]):
        problems.append("%d pcap files for %d scenarios" % (len(pcaps), len(r["scenarios"])))
    if others:
        problems.append("stray files in %s: %s" % (capdir, others[:5]))
    for sid, c in sorted(caps.items()):
        try:
            if pcap_packets(c) < 3:
                problems.append("%s: fewer than 3 packets" % c)
        except Exception as e:
            problems.append("%s: %s" % (c, e))
    if problems:
        bad("%s: pcaps: %s" % (label, "; ".join(problems[:6])))
    else:
        ok("%s: one readable pcap per scenario (%d in %s)" % (label, len(pcaps), os.path.basename(capdir)))

def mode_follow(label, path):
    """tshark -z follow,tcp,raw output: indented hex is the second node (the server)."""
    client, server = b"", b""
    try:
        text = open(path, encoding="ascii", errors="replace").read()
    except OSError as e:
        bad("%s: %s" % (label, e)); return
    for line in text.splitlines():
        h = line.strip()
        if not h or not re.fullmatch(r"[0-9a-fA-F]+", h) or len(h) % 2:
            continue
        data = bytes.fromhex(h)
        if line.startswith("\t"):
            server += data
        else:
            client += data
    if server.startswith(b"220 ") and b"QUIT\r\n" in client:
        ok("%s: tshark follows the stream: server starts \"220 \", client sends QUIT (%d+%d bytes)"
           % (label, len(client), len(server)))
    else:
        bad("%s: tshark follow: server bytes %r..., client has QUIT: %s" % (label, server[:20], b"QUIT" in client))

def mode_tls_fields(label, path):
    """tshark -T fields -e smtp.req.command over a decrypted STARTTLS pcap."""
    try:
        cmds = [l.strip() for l in open(path, encoding="ascii", errors="replace") if l.strip()]
    except OSError as e:
        bad("%s: %s" % (label, e)); return
    # STARTTLS shows as "STAR" (tshark cuts the verb at four letters).
    if cmds.count("EHLO") == 2 and "QUIT" in cmds and cmds.index("QUIT") > cmds.index("STAR"):
        ok("%s: tshark decrypts the records with the key log: %s" % (label, " ".join(cmds)))
    else:
        bad("%s: tshark with the key log shows commands %s" % (label, cmds))

def mode_all_error(label, report, n, reason_re):
    r = load(report, label)
    if r is None:
        return
    errs = [s for s in r["scenarios"] if s["verdict"] == "ERROR"]
    bad_reason = [s["id"] for s in errs if not re.search(reason_re, s["reason"] or "")]
    if len(r["scenarios"]) == int(n) and len(errs) == int(n) and r["summary"]["error"] == int(n) and not bad_reason:
        ok("%s: all %s scenarios ERROR in JSON (reason matches /%s/)" % (label, n, reason_re))
    else:
        bad("%s: %d of %d scenarios ERROR (expected %s); reason not matching /%s/: %s"
            % (label, len(errs), len(r["scenarios"]), n, reason_re, bad_reason[:5]))

def mode_junit_errors(label, path, n):
    try:
        root = ET.parse(path).getroot()
    except Exception as e:
        bad("%s: JUnit does not parse: %s" % (label, e)); return
    errs = sum(1 for c in root.findall(".//testcase") if c.find("error") is not None)
    if errs == int(n) and root.get("errors") == str(n):
        ok("%s: JUnit has %s <error> testcases" % (label, n))
    else:
        bad("%s: JUnit <error> testcases %d, errors=%s, expected %s" % (label, errs, root.get("errors"), n))

def mode_one(label, report, sid, verdict, msg_re):
    """One scenario with VERDICT and a FAIL finding whose message matches msg_re."""
    r = load(report, label)
    if r is None:
        return
    sc = [s for s in r["scenarios"] if s["id"] == sid]
    if len(sc) != 1:
        bad("%s: scenario %s not in the report" % (label, sid)); return
    s = sc[0]
    if s["verdict"] != verdict:
        bad("%s: %s is %s (expected %s; reason %s)" % (label, sid, s["verdict"], verdict, s["reason"])); return
    hits = [f for f in s["findings"] if f["verdict"] == "FAIL" and re.search(msg_re, f["message"])]
    if hits:
        f = hits[0]
        ok("%s: %s %s with finding %s: %s" % (label, sid, verdict, f["check"], f["message"]))
    else:
        bad("%s: %s is %s but no FAIL finding matches /%s/: %s" % (label, sid, verdict, msg_re,
            [f["message"] for f in s["findings"]]))

def mode_same(label, a, b):
    ra, rb = load(a, label), load(b, label)
    if ra is None or rb is None:
        return
    va, vb = verdicts(ra), verdicts(rb)
    if va == vb:
        ok("%s: the same %d verdicts" % (label, len(va)))
    else:
        diff = sorted(k for k in set(va) | set(vb) if va.get(k) != vb.get(k))
        bad("%s: verdicts differ: %s" % (label, ", ".join("%s %s/%s" % (k, va.get(k), vb.get(k)) for k in diff)))

def mode_verdicts(label, report, expected):
    r, exp = load(report, label), load(expected, label)
    if r is None or exp is None:
        return
    compare_verdicts(label, verdicts(r), exp["verdicts"])

def area(sid):
    """The scenario family: the catalog area the id starts with."""
    return sid.split(".", 1)[0]

def md(text):
    """One table cell: no line breaks, no pipes, no raw backticks."""
    return " ".join(str(text).split()).replace("|", "\\|")

def server(name, exp):
    """The server's name and version, from the expected file's "target"
    (which goes on to say how run.sh starts it)."""
    return md(exp.get("target", name).split(", tests/")[0])

def mode_matrix(out, *targets):
    """Write the results matrix as Markdown to OUT (a temporary name, then
    renamed). Each target is NAME=REPORT=EXPECTED=SCRIPT (the target
    script that started it); a missing report is a
    target that did not run, and is listed as such. Prints one ok/not ok
    line per target: not ok when a FAIL or ERROR has no explanation."""
    rows = []
    scripts = {}
    for t in targets:
        name, report, expected, scripts[name] = t.split("=", 3)
        exp = load(expected, name + " (expected)") if os.path.exists(expected) else None
        r = None
        if os.path.exists(report):
            r = load(report, name)
        rows.append((name, r, exp or {}))
    areas = sorted({area(s["id"]) for _, r, _ in rows if r for s in r["scenarios"]})
    L = []
    L.append("# Results matrix")
    L.append("")
    L.append("<!-- Written by tests/matrix.sh from the JSON reports of one run and the")
    L.append("     explanations in tests/integration/expected/<target>.json; do not edit. -->")
    L.append("")
    L.append("The shipped suite, `scenarios/conformance`, run as")
    L.append("`tests/integration/run.sh` runs it (default `--var` values, so `${rcpt}` is")
    L.append("`postmaster@localhost`) against six real servers on loopback, each started")
    L.append("by the `tests/integration/` script named below. Regenerate with")
    L.append("`bash tests/matrix.sh` (docs/results.md; it needs root and")
    L.append("`tests/setup-debian.sh`). Every FAIL below is the server's deviation, with")
    L.append("the RFC text in the expected file; docs/known-results.md discusses")
    L.append("Postfix and aiosmtpd at length.")
    L.append("")
    L.append("## Servers")
    L.append("")
    L.append("| server | started by | PASS | FAIL | ERROR | SKIP | WARN | INFO |")
    L.append("|---|---|---|---|---|---|---|---|")
    for name, r, exp in rows:
        label = "%s | `%s`" % (server(name, exp), scripts[name])
        if r is None:
            L.append("| %s | not run: the target did not start | | | | | |" % label)
            continue
        c = collections.Counter(s["verdict"] for s in r["scenarios"])
        f = collections.Counter(x["verdict"] for s in r["scenarios"] for x in s["findings"])
        L.append("| %s | %d | %d | %d | %d | %d | %d |" % (label, c["PASS"], c["FAIL"], c["ERROR"],
                 c["SKIP"], f["WARN"], f["INFO"]))
    L.append("")
    L.append("## By area")
    L.append("")
    L.append("Scenarios passed / failed / skipped per area (the scenario family, the")
    L.append("first part of its id); `+N E` counts ERRORs.")
    L.append("")
    L.append("| area | " + " | ".join(name for name, _, _ in rows) + " |")
    L.append("|---|" + "---|" * len(rows))
    for a in areas:
        cells = []
        for name, r, exp in rows:
            if r is None:
                cells.append("-")
                continue
            c = collections.Counter(s["verdict"] for s in r["scenarios"] if area(s["id"]) == a)
            cell = "%d / %d / %d" % (c["PASS"], c["FAIL"], c["SKIP"])
            if c["ERROR"]:
                cell += " +%d E" % c["ERROR"]
            cells.append(cell)
        L.append("| `%s` | %s |" % (a, " | ".join(cells)))
    unexplained = {}
    for name, r, exp in rows:
        if r is None:
            continue
        L.append("")
        L.append("## %s" % server(name, exp))
        L.append("")
        bad_rows = [s for s in r["scenarios"] if s["verdict"] in ("FAIL", "ERROR")]
        if not bad_rows:
            L.append("No FAIL and no ERROR.")
            continue
        L.append("| scenario | verdict | check | RFC | why |")
        L.append("|---|---|---|---|---|")
        why = exp.get("why", {})
        for s in sorted(bad_rows, key=lambda s: s["id"]):
            w = why.get(s["id"])
            if not w:
                unexplained.setdefault(name, []).append(s["id"])
                w = "(no explanation in tests/integration/expected/%s.json)" % name
            if s["verdict"] == "ERROR":
                L.append("| `%s` | ERROR | | | %s (%s) |" % (s["id"], md(w), md(s["reason"] or "")))
                continue
            fails = [f for f in s["findings"] if f["verdict"] == "FAIL"]
            checks = sorted({f["check"] for f in fails})
            refs = sorted({f.get("refs") or "" for f in fails} - {""})
            L.append("| `%s` | FAIL | %s | %s | %s |" % (s["id"], ", ".join("`%s`" % c for c in checks),
                     md("; ".join(refs)), md(w)))
    text = "\n".join(L) + "\n"
    tmp = out + ".tmp.%d" % os.getpid()
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, out)
    for name, r, exp in rows:
        if r is None:
            bad("matrix: %s did not run" % name)
        elif unexplained.get(name):
            bad("matrix: %s: FAIL/ERROR without a why line: %s" % (name, ", ".join(unexplained[name])))
        else:
            ok("matrix: %s: %s" % (name, json.dumps(r["summary"], sort_keys=True)))

modes = {"suite": mode_suite, "matrix": mode_matrix, "expected": mode_expected, "follow": mode_follow, "tls-fields": mode_tls_fields,
         "all-error": mode_all_error,
         "junit-errors": mode_junit_errors, "one": mode_one, "same": mode_same,
         "verdicts": mode_verdicts}
modes[sys.argv[1]](*sys.argv[2:])
