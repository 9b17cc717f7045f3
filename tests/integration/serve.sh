#!/bin/bash
# serve.sh - the built-in reference server (`smtp-harness serve`) against
# real SMTP clients, on loopback.
#
# Starts `smtp-harness serve --listen 127.0.0.1:0 --spool DIR`, reads the
# port from its first line, and checks that swaks (plain, pipelined, a
# 70 kB body), Python's smtplib (two recipients, SMTPUTF8, dot lines),
# raw sockets (a smuggling probe, pipelined BDAT) and Postfix's
# smtp-source (100 messages over 10 sessions) all succeed, and that the
# Maildir holds exactly the messages they sent, byte for byte where the
# test knows the bytes. Then the conformance suite against that process
# and `run` with no --target, a port already in use (exit 3), a bad spool
# (exit 2), and SIGTERM (exit 0).
#
# Prints "ok - ..." / "not ok - ..." per check and "N passed, M failed";
# exits 1 when any check failed. Stops what it starts, by pid.
# Environment: HARNESS_BIN (default build/smtp-harness).

set -uo pipefail
harness_prog=serve.sh
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
. "$top/tests/integration/lib.sh"

bin=${HARNESS_BIN:-$top/build/smtp-harness}
py=/usr/bin/python3
passed=0
failed=0

ok() {
	echo "ok - $*"
	passed=$((passed + 1))
}

not_ok() {
	echo "not ok - $*"
	failed=$((failed + 1))
}

check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

[ -x "$bin" ] || harness_die "$bin not found (build first, or set HARNESS_BIN)"
harness_need_cmd swaks /usr/sbin/smtp-source "$py"

work=$(mktemp -d /tmp/smtp-harness-serve.XXXXXX)
spool=$work/spool
pidfile=$work/serve.pid
log=$work/serve.log
cleanup() {
	stop_pid "$pidfile" 5 || true
	stop_pid "$work/fault.pid" 5 || true
	rm -rf "$work"
}
harness_on_exit cleanup

# ---- start -----------------------------------------------------------------

spawn "$pidfile" "$log" "$bin" serve --listen 127.0.0.1:0 --spool "$spool" ||
	harness_die "could not start $bin serve"
port=
for _ in $(seq 1 100); do
	port=$(sed -n '1s/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$log" 2>/dev/null)
	[ -n "$port" ] && break
	sleep 0.1
done
if [ -z "$port" ]; then
	not_ok "serve prints \"listening on 127.0.0.1:PORT\" (log: $(head -c 300 "$log"))"
	echo "$passed passed, $failed failed"
	exit 1
fi
ok "serve prints \"listening on 127.0.0.1:$port\""
check "the port accepts connections" wait_port 127.0.0.1 "$port" 5

count() {
	find "$spool/new" -type f | wc -l
}

# expect_delta BEFORE N WHAT: the spool grew by exactly N messages.
expect_delta() {
	local now
	now=$(count)
	if [ "$((now - $1))" -eq "$2" ]; then
		ok "$3: spool has exactly $2 new message(s)"
	else
		not_ok "$3: expected $2 new message(s) in the spool, found $((now - $1))"
	fi
}

# ---- swaks ------------------------------------------------------------------

n0=$(count)
check "swaks plain" swaks --server "127.0.0.1:$port" --from a@x.test --to b@y.test \
	--silent 2
expect_delta "$n0" 1 "swaks plain"

n0=$(count)
check "swaks --pipeline, two recipients" swaks --server "127.0.0.1:$port" --pipeline \
	--from a@x.test --to b@y.test,c@y.test --silent 2
expect_delta "$n0" 1 "swaks --pipeline"

"$py" - "$work/body70k.txt" <<'EOF'
import sys
lines = []
for i in range(1000):
    lines.append(('.' if i % 50 == 0 else '') + 'line %05d ' % i + 'x' * 58)
open(sys.argv[1], 'w').write('\n'.join(lines) + '\n')
EOF
n0=$(count)
check "swaks with a 70 kB body (dot lines included)" swaks --server "127.0.0.1:$port" \
	--from a@x.test --to b@y.test --header "Subject: seventy" \
	--body @"$work/body70k.txt" --silent 2
expect_delta "$n0" 1 "swaks 70 kB"
check "the 70 kB body is stored byte for byte" "$py" - "$spool" "$work/body70k.txt" <<'EOF'
import glob, os, sys
spool, bodyfile = sys.argv[1], sys.argv[2]
want = open(bodyfile, 'rb').read().replace(b'\n', b'\r\n')
for f in glob.glob(os.path.join(spool, 'new', '*')):
    data = open(f, 'rb').read()
    if b'Subject: seventy' in data:
        body = data.split(b'\r\n\r\n', 1)[1]
        sys.exit(0 if body.rstrip(b'\r\n') == want.rstrip(b'\r\n') else 1)
sys.exit(1)
EOF

# ---- Python smtplib ---------------------------------------------------------

n0=$(count)
check "smtplib: two recipients, SMTPUTF8, dot lines" "$py" - "$port" "$spool" <<'EOF'
import glob, json, os, smtplib, sys
port, spool = int(sys.argv[1]), sys.argv[2]
body = ('From: s@x.test\r\nTo: r@y.test\r\nSubject: smtplib\r\n\r\n'
        '.\r\n..\r\n.hidden\r\ntab\there, trailing spaces  \r\nend\r\n')
with smtplib.SMTP('127.0.0.1', port, timeout=10) as s:
    s.ehlo('client.test')
    assert s.has_extn('pipelining') and s.has_extn('smtputf8') and s.has_extn('chunking')
    refused = s.sendmail('s@x.test', ['r@y.test', 'r\u00e9@y.test'], body.encode(),
                         mail_options=['SMTPUTF8', 'BODY=8BITMIME'])
    assert refused == {}, refused
    code, _ = s.noop()
    assert code == 250
for env in glob.glob(os.path.join(spool, 'envelope', '*.json')):
    e = json.load(open(env))
    if len(e['rcpt']) == 2 and e['smtputf8']:
        assert [r['mailbox'] for r in e['rcpt']] == ['r@y.test', 'r\u00e9@y.test'], e
        assert e['body'] == '8BITMIME', e
        data = open(os.path.join(spool, e['file']), 'rb').read()
        assert data.endswith(body.encode()), data
        assert data.startswith(b'Return-Path: <s@x.test>\r\nReceived: from client.test ([127.0.0.1])')
        sys.exit(0)
sys.exit(1)
EOF
expect_delta "$n0" 1 "smtplib"

n0=$(count)
check "smtplib: refusals are SMTPRecipientsRefused/SMTPSenderRefused, not crashes" \
	"$py" - "$port" <<'EOF'
import smtplib, sys
port = int(sys.argv[1])
with smtplib.SMTP('127.0.0.1', port, timeout=10) as s:
    s.ehlo('client.test')
    try:
        s.sendmail('s@x.test', ['r\u00e9@y.test'], b'x\r\n')   # no SMTPUTF8
        sys.exit(1)
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPNotSupportedError, UnicodeEncodeError):
        pass
    s.rset()
    code, msg = s.docmd('MAIL FROM:<a@x.test> SIZE=99999999999')
    assert code == 552 and msg.startswith(b'5.3.4'), (code, msg)
EOF
expect_delta "$n0" 0 "smtplib refusals"

# ---- raw sockets: smuggling and BDAT ------------------------------------------

n0=$(count)
check "smuggling probe (\\n.\\r\\n in one write): one reply, refused, nothing stored" \
	"$py" - "$port" <<'EOF'
import socket, sys, time
port = int(sys.argv[1])
s = socket.create_connection(('127.0.0.1', port), timeout=10)
f = s.makefile('rb')
def reply():
    lines = []
    while True:
        l = f.readline()
        lines.append(l)
        if len(l) < 4 or l[3:4] != b'-':
            return lines
reply()
for c in (b'EHLO c.test', b'MAIL FROM:<a@h.test>', b'RCPT TO:<b@d.test>', b'DATA'):
    s.sendall(c + b'\r\n'); reply()
s.sendall(b'Subject: part1\r\n\r\nbody\n.\r\nMAIL FROM:<spoof@victim.test>\r\n'
          b'RCPT TO:<b@d.test>\r\nDATA\r\nSubject: SMUGGLED\r\n\r\nx\r\n.\r\n')
r = reply()
assert r[0].startswith(b'550 5.6.0'), r
s.settimeout(1.0)
try:
    extra = s.recv(100)
except socket.timeout:
    extra = b''
assert extra == b'', extra
s.settimeout(10)
s.sendall(b'QUIT\r\n')
assert reply()[0].startswith(b'221')
EOF
expect_delta "$n0" 0 "smuggling probe"
check "no message with Subject SMUGGLED anywhere in the spool" \
	bash -c "! grep -rl 'Subject: SMUGGLED' '$spool/new'"

n0=$(count)
check "pipelined BDAT chunks: 250 each, octets stored exactly" "$py" - "$port" "$spool" <<'EOF'
import glob, os, socket, sys
port, spool = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(('127.0.0.1', port), timeout=10)
f = s.makefile('rb')
def reply():
    while True:
        l = f.readline()
        if len(l) < 4 or l[3:4] != b'-':
            return l
reply()
s.sendall(b'EHLO c.test\r\n'); reply()
c1 = b'Subject: bdat\r\n\r\n.\r\n..x\r\n'
c2 = b'RSET\r\nQUIT\r\n'
s.sendall(b'MAIL FROM:<a@h.test>\r\nRCPT TO:<b@d.test>\r\n' +
          b'BDAT %d\r\n' % len(c1) + c1 + b'BDAT %d LAST\r\n' % len(c2) + c2)
got = [reply() for _ in range(4)]
assert [g[:3] for g in got] == [b'250'] * 4, got
s.sendall(b'QUIT\r\n'); assert reply().startswith(b'221')
for m in glob.glob(os.path.join(spool, 'new', '*')):
    d = open(m, 'rb').read()
    if b'Subject: bdat' in d:
        sys.exit(0 if d.endswith(c1 + c2) else 1)
sys.exit(1)
EOF
expect_delta "$n0" 1 "BDAT"

# ---- smtp-source ----------------------------------------------------------------

n0=$(count)
check "smtp-source -m 100 -s 10" /usr/sbin/smtp-source -m 100 -s 10 -f a@x.test -t b@y.test \
	"127.0.0.1:$port"
expect_delta "$n0" 100 "smtp-source"

check "every stored message has its envelope" "$py" - "$spool" <<'EOF'
import os, sys
spool = sys.argv[1]
msgs = sorted(os.listdir(os.path.join(spool, 'new')))
envs = sorted(e[:-5] for e in os.listdir(os.path.join(spool, 'envelope')))
sys.exit(0 if msgs == envs and not os.listdir(os.path.join(spool, 'tmp')) else 1)
EOF

# ---- the suite ----------------------------------------------------------------------

# A scenario SKIPs when it requires an EHLO keyword the server does not
# advertise (STARTTLS, AUTH, VRFY, ...). Which those are is asked of the
# server itself, with Debian's smtplib, and the scenarios that must SKIP
# are counted from their "requires"; everything else must pass.
nskip=$(/usr/bin/python3 - "$port" "$top/scenarios/conformance" <<'PY'
import glob, json, smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
s.ehlo("harness.test")
have = {k.upper(): v for k, v in s.esmtp_features.items()}
s.quit()
def met(req):
    if req.startswith("!"):
        return req[1:].upper() not in have
    kw, _, param = req.partition(" ")
    if kw.upper() not in have:
        return False
    if not param:
        return True
    got = have[kw.upper()].split()
    return all(p == "#" and any(g.isdigit() and int(g) > 0 for g in got) or p.upper() in
               (g.upper() for g in got) for p in param.split())
def reqs(f):
    r = json.load(open(f)).get("requires") or []
    return [r] if isinstance(r, str) else r
print(sum(not all(met(r) for r in reqs(f))
          for f in glob.glob(sys.argv[2] + "/**/*.json", recursive=True)))
PY
)
"$bin" run --quiet --target "127.0.0.1:$port" "$top/scenarios/conformance" >"$work/suite.out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -Eq "^[0-9]+ scenarios: [0-9]+ passed, 0 failed, 0 errors, $nskip skipped, 0 warnings\$" "$work/suite.out"; then
	ok "the conformance suite against serve: $(grep -E '^[0-9]+ scenarios:' "$work/suite.out")"
else
	not_ok "the conformance suite against serve (exit $rc): $(tail -n 3 "$work/suite.out")"
fi

"$bin" run --quiet --report "json:$work/builtin.json" "$top/scenarios/conformance" >"$work/builtin.out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -Eq " 0 failed, 0 errors, $nskip skipped, 0 warnings\$" "$work/builtin.out" &&
	grep -Eq '"target":[[:space:]]*"built-in reference server 127\.0\.0\.1:[0-9]+"' "$work/builtin.json"; then
	ok "run without --target: $(grep -E '^[0-9]+ scenarios:' "$work/builtin.out")"
else
	not_ok "run without --target (exit $rc): $(tail -n 3 "$work/builtin.out")"
fi

# ---- errors ------------------------------------------------------------------------

"$bin" serve --quiet --listen "127.0.0.1:$port" >"$work/busy.out" 2>&1
rc=$?
check "serve on a port in use exits 3 (got $rc)" test "$rc" -eq 3
: >"$work/not-a-dir"
"$bin" serve --quiet --listen 127.0.0.1:0 --spool "$work/not-a-dir" >"$work/spool.out" 2>&1
rc=$?
check "serve with an unusable spool exits 2 (got $rc)" test "$rc" -eq 2

# ---- faults (--delay-ms, --fail-rate, --disconnect-rate) -----------------------------

fpid=$work/fault.pid
# start_faulty LOG ARGS...: a second server with fault knobs; sets fport.
start_faulty() {
	local flog=$1
	shift
	stop_pid "$fpid" 5 || true
	: >"$flog"
	fport=
	spawn "$fpid" "$flog" "$bin" serve --listen 127.0.0.1:0 "$@" || return 1
	for _ in $(seq 1 100); do
		fport=$(sed -n '1s/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$flog" 2>/dev/null)
		[ -n "$fport" ] && break
		sleep 0.1
	done
	[ -n "$fport" ] && wait_port 127.0.0.1 "$fport" 5
}

# MAIL N times on one connection (RSET after each 250); prints the codes.
mail_codes() {
	"$py" - "$1" "$2" <<'EOF'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
s.ehlo("client.test")
codes = []
for i in range(int(sys.argv[2])):
    code, msg = s.mail("a%d@h.test" % i)
    if code // 100 in (4, 5) and not msg.startswith(b"%d." % (code // 100)):
        sys.exit("reply %d without an enhanced code of its class: %r" % (code, msg))
    codes.append(str(code))
    if code == 250:
        s.rset()
s.quit()
print(" ".join(codes))
EOF
}

if start_faulty "$work/fault1.log" --fail-rate 1 --fail-code 451; then
	got=$(mail_codes "$fport" 5)
	check "--fail-rate 1 --fail-code 451: every MAIL is answered 451 4.x.x (got: $got)" \
		test "$got" = "451 451 451 451 451"
	check "and the seed chosen is printed" grep -Eq '^random faults: --seed [0-9]+$' \
		"$work/fault1.log"
else
	not_ok "serve --fail-rate 1 --fail-code 451 starts (log: $(head -c 300 "$work/fault1.log"))"
fi

seq1='' seq2=''
if start_faulty "$work/fault2.log" --quiet --fail-rate 0.5 --fail-code 550 --seed 7; then
	seq1=$(mail_codes "$fport" 20)
fi
if start_faulty "$work/fault3.log" --quiet --fail-rate 0.5 --fail-code 550 --seed 7; then
	seq2=$(mail_codes "$fport" 20)
fi
check "--fail-rate 0.5 --seed 7: two runs of 20 MAILs get the same replies ($seq1)" \
	test -n "$seq1" -a "$seq1" = "$seq2"
check "and they are a mix of 250 and 550" \
	bash -c "grep -q 250 <<<'$seq1' && grep -q 550 <<<'$seq1'"
check "--seed 7 is printed as given" grep -qx 'random faults: --seed 7' "$work/fault2.log"

if start_faulty "$work/fault4.log" --disconnect-rate 1; then
	check "--disconnect-rate 1: MAIL gets no reply, the connection is closed" \
		"$py" - "$fport" <<'EOF'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
s.ehlo("client.test")
try:
    r = s.mail("a@h.test")
except smtplib.SMTPServerDisconnected:
    sys.exit(0)
sys.exit("MAIL was answered: %r" % (r,))
EOF
else
	not_ok "serve --disconnect-rate 1 starts (log: $(head -c 300 "$work/fault4.log"))"
fi

if start_faulty "$work/fault5.log" --delay-ms 300; then
	check "--delay-ms 300: greeting and NOOP each take at least 300 ms, and work" \
		"$py" - "$fport" <<'EOF'
import smtplib, sys, time
t0 = time.monotonic()
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
t1 = time.monotonic()
code, _ = s.noop()
t2 = time.monotonic()
s.quit()
if t1 - t0 < 0.3 or t2 - t1 < 0.3 or code != 250:
    sys.exit("greeting %.3f s, NOOP %.3f s, code %d" % (t1 - t0, t2 - t1, code))
EOF
else
	not_ok "serve --delay-ms 300 starts (log: $(head -c 300 "$work/fault5.log"))"
fi
stop_pid "$fpid" 5 || true
check "no sanitizer report in the faulty servers' logs" \
	bash -c "! cat '$work'/fault*.log | grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error'"

for bad in "--delay-ms -1" "--delay-ms 600001" "--fail-rate 1.5 --fail-code 451" \
	"--fail-rate 0.5" "--fail-code 451" "--fail-rate 0.5 --fail-code 250" \
	"--fail-rate 0.5 --fail-code 45x" "--disconnect-rate x" "--seed 4294967296"; do
	# shellcheck disable=SC2086
	"$bin" serve --listen 127.0.0.1:0 $bad >"$work/bad.out" 2>"$work/bad.err"
	rc=$?
	check "serve $bad exits 2 with one line (got $rc, $(wc -l <"$work/bad.err") lines)" \
		test "$rc" -eq 2 -a "$(wc -l <"$work/bad.err")" -eq 1 -a ! -s "$work/bad.out"
done

# ---- SIGTERM --------------------------------------------------------------------------

pid=$(pid_read "$pidfile")
kill -TERM "$pid"
for _ in $(seq 1 50); do
	pid_alive "$pidfile" || break
	sleep 0.1
done
if pid_alive "$pidfile"; then
	not_ok "serve stops within 5 s of SIGTERM"
else
	ok "serve stops within 5 s of SIGTERM"
	check "and says so: $(grep '^stopped by signal' "$log")" grep -q '^stopped by signal 15: ' "$log"
fi
check "no sanitizer report in the server's log" \
	bash -c "! grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error' '$log'"
# spawn runs serve in its own session, so its exit status is not ours to
# wait for; the log line above is printed only on the clean path (exit 0).
rm -f "$pidfile"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
