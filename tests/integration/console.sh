#!/bin/bash
# console.sh - `smtp-harness probe`, the annotated console, driven through
# a pipe against the built-in reference server and Postfix's smtp-sink on
# loopback.
#
# Checks what a person would read: each reply's annotation (meaning,
# §4.3.2 verdict, enhanced code), the EHLO table, dot-stuffed content,
# a pipelined group, raw bytes, the passive checks' findings (smtp-sink's
# empty EHLO keyword and its 221 without an enhanced code), the exit
# status; that a saved scenario validates and passes with `run` against
# the server it was typed at (against smtp-sink: every expectation holds,
# only passive findings remain), that --capture writes a pcap, that a
# reply that never comes is reported after --wait, and that a refused
# connection exits 3. With TLS, against aiosmtpd (a throwaway
# certificate): :starttls and --starttls run the handshake and say what
# it settled, EHLO inside TLS no longer offers STARTTLS, the saved
# scenario (a starttls step) passes with run, :capture's pcap decrypts
# with its .keys (when tshark is installed), --tls speaks implicit TLS
# and says its session cannot be replayed, a handshake that fails or
# stalls says so and --tls exits 3. On a terminal (tmux with a socket of its own, where
# tmux is installed): the annotations as a person sees them, and the
# history file.
#
# One line per check ("ok - ..." / "not ok - ..."), then "N passed, M failed";
# exits 1 when any check failed. Stops what it started, by pid file.
# Environment: HARNESS_BIN (default build/smtp-harness);
# HARNESS_CONSOLE_SERVE_PORT (default 42581), HARNESS_CONSOLE_SINK_PORT
# (default 42590; the next nine are tried when it is taken),
# HARNESS_CONSOLE_SILENT_PORT (default 42583), HARNESS_CONSOLE_TLS_PORT
# (default 42584: aiosmtpd with STARTTLS) and HARNESS_CONSOLE_SMTPS_PORT
# (default 42585: aiosmtpd with implicit TLS).
set -uo pipefail
harness_prog=console.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=${HARNESS_BIN:-$top/build/smtp-harness}
serve_port=${HARNESS_CONSOLE_SERVE_PORT:-42581}
sink_port=${HARNESS_CONSOLE_SINK_PORT:-42590}
silent_port=${HARNESS_CONSOLE_SILENT_PORT:-42583}
tls_port=${HARNESS_CONSOLE_TLS_PORT:-42584}
smtps_port=${HARNESS_CONSOLE_SMTPS_PORT:-42585}
py=/usr/bin/python3
[ -x "$bin" ] || { echo "console.sh: error: no harness binary $bin (set HARNESS_BIN)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/smtp-harness-console.XXXXXX") || exit 1
# A state directory of our own: no other script's cleanup stops our
# servers, and ours stops only them.
export HARNESS_STATE_DIR=$work/state
# shellcheck source=SCRIPTDIR/lib.sh
. "$here/lib.sh"
cleanup() {
	stop_pid "$work/serve.pid" 5 || true
	stop_pid "$work/silent.pid" 5 || true
	stop_pid "$work/smtps.pid" 5 || true
	bash "$here/target-aiosmtpd.sh" stop "$tls_port" >/dev/null 2>&1 || true
	bash "$here/target-smtp-sink.sh" stop "$sink_port" >/dev/null 2>&1 || true
	rm -rf -- "$work"
}
harness_on_exit cleanup

passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
notok() { echo "not ok - $*"; failed=$((failed + 1)); }
# check WHAT CMD...: ok when CMD succeeds.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else notok "$what"; fi
}
# expect_exit WANT GOT WHAT OUTFILE
expect_exit() {
	if [ "$2" -eq "$1" ]; then
		ok "$3: exit $2"
	else
		notok "$3: exit $2, expected $1"
		tail -n 20 "$4" | sed 's/^/# /'
	fi
}
# has FILE TEXT WHAT: FILE holds the fixed string TEXT.
has() {
	if grep -qF -- "$2" "$1"; then
		ok "$3"
	else
		notok "$3: no \"$2\" in the output"
		tail -n 30 "$1" | sed 's/^/# /'
	fi
}
# json FILE EXPR: a Python expression over d, the parsed FILE
json() {
	"$py" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# ---- the reference server ----------------------------------------------------

spawn "$work/serve.pid" "$work/serve.log" "$bin" serve --listen "127.0.0.1:$serve_port" --quiet ||
	harness_die "could not start $bin serve"
wait_port 127.0.0.1 "$serve_port" 10 || { log_tail "$work/serve.log"; harness_die "serve did not listen on $serve_port"; }

out=$work/serve.out
"$bin" probe --wait 5 --save "$work/serve.json" --capture "$work/serve.pcap" \
	"127.0.0.1:$serve_port" >"$out" 2>&1 <<'EOF_SCRIPT'
EHLO probe.test
RCPT TO:<b@probe.test>
MAIL FROM:<a@probe.test>
RCPT TO:<b@probe.test>
DATA
:data
Subject: console
 
.dot line
.
:check
:pipe
RSET
NOOP
.
:raw NOOP\r\n
FROB
:raw bad\q
:frob
QUIT
EOF_SCRIPT
expect_exit 0 $? "reference server: a conformant session" "$out"
has "$out" "S: 220 " "reference server: the greeting is shown"
has "$out" "  = 220 service ready (RFC 5321 §4.2.2); 2yz positive completion, x2z connections; allowed as a greeting (RFC 5321 §4.3.2)" \
	"reference server: the greeting is annotated"
has "$out" "  PIPELINING  - RFC 2920: commands may be sent in groups" "reference server: EHLO table names PIPELINING's RFC"
has "$out" "  SIZE 10485760  - RFC 1870: MAIL FROM may declare SIZE=n; messages up to 10485760 octets" \
	"reference server: EHLO table gives the SIZE limit"
has "$out" "  = 503 bad sequence of commands (RFC 5321 §4.2.2); 5yz permanent negative completion (do not repeat as is), x0z syntax; allowed for RCPT (RFC 5321 §4.3.2); 5.5.1: permanent failure, mail delivery protocol status, invalid command" \
	"reference server: RCPT before MAIL is explained as 503, allowed, 5.5.1"
has "$out" "2.1.0: success, addressing status, other address status" "reference server: MAIL's enhanced code explained"
has "$out" "C: ..dot line" "reference server: :data dot-stuffs what went on the wire"
has "$out" "allowed after the message content (RFC 5321 §4.3.2)" "reference server: the reply to the content is judged as such"
has "$out" "  passive checks: " ":check runs the passive checks mid-session"
has "$out" "allowed for RSET (RFC 5321 §4.3.2)" "reference server: :pipe, first reply to RSET"
has "$out" "allowed for NOOP (RFC 5321 §4.3.2)" "reference server: :pipe, second reply to NOOP"
has "$out" "  = 500 syntax error, command unrecognized" "reference server: an unknown verb is answered 500 and explained"
has "$out" "  ? :raw: bad escape" ":raw with a bad escape is refused, nothing sent"
has "$out" "  ? unknown console command \":frob\"" "an unknown console command is refused"
has "$out" "  = the server closed the connection" "reference server: QUIT closes"
has "$out" "-- passive checks on the session" "the passive checks run at the end"
has "$out" "0 FAIL, 0 WARN" "reference server: no finding"
has "$out" "  = scenario saved to $work/serve.json" "--save says where"

if "$bin" validate "$work/serve.json" >"$work/validate.out" 2>&1; then
	ok "the saved scenario validates"
else
	notok "the saved scenario validates: $(head -c 300 "$work/validate.out")"
fi
"$bin" run --target "127.0.0.1:$serve_port" "$work/serve.json" >"$work/run.out" 2>&1
expect_exit 0 $? "the saved scenario passes with run against the same server" "$work/run.out"
n=$(json "$work/serve.json" "len(d['steps'])" 2>/dev/null)
if [ "$n" = 11 ]; then
	ok "the saved scenario has a step per action (11)"
else
	notok "the saved scenario has 11 steps, got ${n:-nothing}"
fi
p=$(json "$work/serve.json" "[s.get('pipeline') for s in d['steps'] if isinstance(s.get('send'), list)]" 2>/dev/null)
if [ "$p" = "[True]" ]; then
	ok "the :pipe group is saved as a pipelined send"
else
	notok "the :pipe group is saved pipelined, got ${p:-nothing}"
fi
m=$("$py" -c 'import sys; print(open(sys.argv[1], "rb").read(4).hex())' "$work/serve.pcap" 2>/dev/null)
case "$m" in
d4c3b2a1 | a1b2c3d4 | 4d3cb2a1 | a1b23c4d) ok "--capture writes a pcap" ;;
*) notok "--capture writes a pcap (magic ${m:-missing})" ;;
esac

# The console commands :save and :capture mid-session, from the script.
out=$work/serve2.out
printf 'NOOP\n:save %s\n:capture %s\n:quit\n' "$work/mid.json" "$work/mid.pcap" |
	"$bin" probe --wait 5 "127.0.0.1:$serve_port" >"$out" 2>&1
expect_exit 0 $? "reference server: :save and :capture, then :quit" "$out"
if [ -s "$work/mid.json" ] && "$bin" validate "$work/mid.json" >/dev/null 2>&1; then
	ok ":save writes a scenario that validates"
else
	notok ":save writes a scenario that validates"
fi
if [ -s "$work/mid.pcap" ]; then ok ":capture writes the pcap"; else notok ":capture writes the pcap"; fi

# ---- on a terminal (tmux) ------------------------------------------------------

# pane_wait TEXT: the pane shows TEXT within 10 s.
pane_wait() {
	local i
	for i in $(seq 1 100); do
		tmux -S "$work/tmux.sock" capture-pane -p -J -t probe -S -200 >"$work/pane.txt" 2>/dev/null
		grep -qF -- "$1" "$work/pane.txt" && return 0
		sleep 0.1
	done
	return 1
}
if command -v tmux >/dev/null 2>&1; then
	mkdir -p "$work/home"
	# A server of our own on a socket of our own, stopped by its pid.
	tmux -S "$work/tmux.sock" -f /dev/null new-session -d -x 220 -y 60 -s probe \
		"env HOME=$work/home $bin probe --wait 5 127.0.0.1:$serve_port; echo EXIT=\$?; sleep 60"
	tpid=$(tmux -S "$work/tmux.sock" display-message -p '#{pid}' 2>/dev/null)
	[ -n "$tpid" ] && pid_write "$work/tmux.pid" "$tpid"
	# shellcheck disable=SC2016 # expanded when the exit commands run
	harness_on_exit 'stop_pid "$work/tmux.pid" 5'
	if pane_wait "allowed as a greeting"; then
		ok "terminal: the greeting is annotated"
	else
		notok "terminal: the greeting is annotated"
		sed 's/^/# /' "$work/pane.txt" | tail -n 10
	fi
	tmux -S "$work/tmux.sock" send-keys -t probe 'EHLO tty.test' Enter
	check "terminal: EHLO shows the capability table" pane_wait "  PIPELINING  - RFC 2920"
	tmux -S "$work/tmux.sock" send-keys -t probe 'NOOP' Enter
	check "terminal: NOOP's reply is annotated" pane_wait "allowed for NOOP (RFC 5321 §4.3.2)"
	tmux -S "$work/tmux.sock" send-keys -t probe ':quit' Enter
	check "terminal: :quit ends with exit 0" pane_wait "EXIT=0"
	check "terminal: history is kept in ~/.smtp_harness_history" \
		grep -qF 'EHLO\040tty.test' "$work/home/.smtp_harness_history"
	stop_pid "$work/tmux.pid" 5 || true
else
	echo "# tmux not installed: the terminal checks are skipped"
fi

# ---- smtp-sink ---------------------------------------------------------------

# smtp-sink binds without SO_REUSEADDR: a port of an earlier run still in
# TIME-WAIT refuses it, so the next few ports are tried.
sink_started=
for try_port in $(seq "$sink_port" $((sink_port + 9))); do
	if bash "$here/target-smtp-sink.sh" start "$try_port" >"$work/sink.out" 2>&1; then
		sink_port=$try_port
		sink_started=1
		break
	fi
	bash "$here/target-smtp-sink.sh" stop "$try_port" >/dev/null 2>&1 || true
done
if [ -n "$sink_started" ]; then
	out=$work/sink.probe.out
	"$bin" probe --wait 5 --save "$work/sink.json" "127.0.0.1:$sink_port" >"$out" 2>&1 <<'EOF_SCRIPT'
EHLO probe.test
:auth plain joe s3cret
MAIL FROM:<a@probe.test>
RCPT TO:<b@probe.test>
DATA
:data
Subject: console

hello
.
QUIT
EOF_SCRIPT
	expect_exit 1 $? "smtp-sink: FAIL findings" "$out"
	has "$out" "  AUTH PLAIN LOGIN  - RFC 4954: authentication with the listed SASL mechanisms" \
		"smtp-sink: EHLO table explains AUTH"
	has "$out" "  XCLIENT NAME HELO  - not standardized (Postfix)" "smtp-sink: EHLO table knows XCLIENT"
	has "$out" "C: AUTH PLAIN AGpvZQBzM2NyZXQ=" "smtp-sink: :auth plain sends the base64 credentials"
	has "$out" "NOT allowed (expected 334, 235, 432, 454, 500, 501, 503, 504, 534, 535, 538 (or 421, 530)) for AUTH" \
		"smtp-sink: its 250 to AUTH is not what RFC 4954 allows"
	has "$out" "  malformed EHLO reply, first at line 9" "smtp-sink: the empty EHLO keyword is pointed at"
	has "$out" "  ! FAIL rfc5321.4.1.1.1.ehlo-reply-syntax (" "smtp-sink: the passive checks report the EHLO syntax"
	has "$out" "  ! FAIL rfc2034.4.codes-present (" "smtp-sink: the passive checks report 221 without an enhanced code"
	f=$(grep -n -m1 -F "  ! FAIL rfc5321.4.1.1.1.ehlo-reply-syntax (" "$out" | cut -d: -f1)
	m=$(grep -n -m1 -F "C: MAIL FROM:" "$out" | cut -d: -f1)
	if [ -n "$f" ] && [ -n "$m" ] && [ "$f" -lt "$m" ]; then
		ok "smtp-sink: the EHLO finding is shown as it happens, before the next command"
	else
		notok "smtp-sink: the EHLO finding is shown before the next command (lines ${f:-none}, ${m:-none})"
	fi
	has "$out" "  = 221 service closing transmission channel (RFC 5321 §4.2.2)" "smtp-sink: QUIT's reply explained"
	if "$bin" validate "$work/sink.json" >/dev/null 2>&1; then
		ok "smtp-sink: the saved scenario validates"
	else
		notok "smtp-sink: the saved scenario validates"
	fi
	"$bin" run --target "127.0.0.1:$sink_port" --report "json:$work/sink.report.json" \
		"$work/sink.json" >"$work/sink.run.out" 2>&1
	s=$(json "$work/sink.report.json" "sorted(set(f['step'] for f in d['scenarios'][0]['findings']))" 2>/dev/null)
	if [ "$s" = "[0]" ]; then
		ok "smtp-sink: run holds every saved expectation (only passive findings)"
	else
		notok "smtp-sink: only passive findings in run, got steps ${s:-nothing}"
	fi
else
	notok "smtp-sink could not be started on 127.0.0.1:$sink_port: $(head -c 300 "$work/sink.out")"
fi

# ---- TLS: aiosmtpd with STARTTLS, and with implicit TLS ----------------------

if bash "$here/target-aiosmtpd.sh" start "$tls_port" >"$work/aiosmtpd.out" 2>&1; then
	out=$work/tls.out
	"$bin" probe --wait 5 "127.0.0.1:$tls_port" >"$out" 2>&1 <<EOF_SCRIPT
EHLO probe.test
:starttls
EHLO probe.test
MAIL FROM:<a@probe.test>
RCPT TO:<b@probe.test>
DATA
:data
Subject: over TLS

.dot line
.
:reset
:save $work/tls.json
:capture $work/tls.pcap
QUIT
EOF_SCRIPT
	expect_exit 0 $? "aiosmtpd: a session through STARTTLS" "$out"
	has "$out" "  = the TLS handshake follows" ":starttls: a 220 starts the handshake"
	if grep -qE '^  = TLS is up: TLSv1\.[0-9] [A-Z0-9_-]+; peer subject=/CN=mx\.harness\.test' "$out"; then
		ok ":starttls: the handshake line names protocol, cipher and certificate"
	else
		notok ":starttls: no handshake line with protocol, cipher and certificate"
		tail -n 30 "$out" | sed 's/^/# /'
	fi
	n=$(grep -c -F "S: 250-STARTTLS" "$out")
	if [ "$n" -eq 1 ]; then
		ok "aiosmtpd: EHLO inside TLS no longer offers STARTTLS"
	else
		notok "aiosmtpd: STARTTLS offered $n times, expected once (before TLS)"
	fi
	has "$out" "C: ..dot line" "aiosmtpd: :data over TLS dot-stuffs"
	has "$out" "allowed after the message content (RFC 5321 §4.3.2)" "aiosmtpd: the reply to the content over TLS"
	has "$out" "C: RSET" ":reset sends RSET"
	has "$out" "0 FAIL, 0 WARN" "aiosmtpd: the passive checks read the plaintext after TLS"
	has "$out" "TLS keys to $work/tls.pcap.keys" ":capture writes the TLS keys beside the pcap"
	s=$(json "$work/tls.json" "[x.get('starttls') for x in d['steps'] if 'starttls' in x]" 2>/dev/null)
	if [ "$s" = "[True]" ]; then
		ok ":save writes the STARTTLS exchange as a starttls step"
	else
		notok ":save writes a starttls step, got ${s:-nothing}"
	fi
	"$bin" run --target "127.0.0.1:$tls_port" "$work/tls.json" >"$work/tls.run.out" 2>&1
	expect_exit 0 $? "the saved STARTTLS scenario passes with run against aiosmtpd" "$work/tls.run.out"
	if command -v tshark >/dev/null 2>&1; then
		if timeout 60 tshark -o "tls.keylog_file:$work/tls.pcap.keys" -d "tcp.port==$tls_port,smtp" \
			-r "$work/tls.pcap" -Y smtp 2>/dev/null | grep -q "C: MAIL FROM:<a@probe.test>"; then
			ok ":capture: tshark decrypts the session with the .keys file"
		else
			notok ":capture: tshark could not decrypt MAIL FROM with the .keys file"
		fi
	fi

	out=$work/starttls.out
	printf 'EHLO again.test\nQUIT\n' | "$bin" probe --wait 5 --starttls "127.0.0.1:$tls_port" >"$out" 2>&1
	expect_exit 0 $? "--starttls through a pipe" "$out"
	has "$out" "C: EHLO harness.test" "--starttls: the console sends EHLO itself"
	has "$out" "  = TLS is up: " "--starttls: then STARTTLS and the handshake"
	has "$out" "C: EHLO again.test" "--starttls: the script goes on inside TLS"

	make_cert "$work" smtps.harness.test >/dev/null 2>&1
	spawn "$work/smtps.pid" "$work/smtps.log" "$py" -m aiosmtpd -n -c aiosmtpd.handlers.Sink \
		-l "127.0.0.1:$smtps_port" --smtpscert "$work/cert.pem" --smtpskey "$work/key.pem"
	if wait_port 127.0.0.1 "$smtps_port" 15; then
		out=$work/smtps.out
		printf 'EHLO probe.test\n:save %s\nQUIT\n' "$work/smtps.json" |
			"$bin" probe --wait 5 --tls "127.0.0.1:$smtps_port" >"$out" 2>&1
		expect_exit 0 $? "--tls: implicit TLS" "$out"
		has "$out" "peer subject=/CN=smtps.harness.test" "--tls: the handshake comes before the greeting"
		has "$out" "S: 220 " "--tls: the greeting over TLS"
		has "$out" "it cannot be replayed yet" "--tls: :save says the session cannot be replayed"
		has "$work/smtps.json" "implicit TLS" "--tls: the saved file's comment says so too"
	else
		notok "aiosmtpd with implicit TLS did not start on 127.0.0.1:$smtps_port"
	fi

	if command -v tmux >/dev/null 2>&1; then
		tmux -S "$work/tmux.sock" -f /dev/null new-session -d -x 220 -y 60 -s probe \
			"env HOME=$work/home $bin probe --wait 5 --starttls 127.0.0.1:$tls_port; echo EXIT=\$?; sleep 60"
		tpid=$(tmux -S "$work/tmux.sock" display-message -p '#{pid}' 2>/dev/null)
		[ -n "$tpid" ] && pid_write "$work/tmux.pid" "$tpid"
		check "terminal: --starttls shows the handshake" pane_wait "  = TLS is up: TLSv1."
		tmux -S "$work/tmux.sock" send-keys -t probe 'EHLO tty.test' Enter
		check "terminal: EHLO inside TLS shows its table" pane_wait "  AUTH LOGIN PLAIN  - RFC 4954"
		tmux -S "$work/tmux.sock" send-keys -t probe ':quit' Enter
		check "terminal: a TLS session ends with exit 0" pane_wait "EXIT=0"
		stop_pid "$work/tmux.pid" 5 || true
	fi

	out=$work/tls-wrong.out
	printf 'EHLO probe.test\n' | "$bin" probe --wait 5 --tls "127.0.0.1:$tls_port" >"$out" 2>&1
	expect_exit 3 $? "--tls against a plaintext server" "$out"
	has "$out" "  = TLS handshake failed: error:" "--tls: a failed handshake says OpenSSL's text"
else
	notok "aiosmtpd could not be started on 127.0.0.1:$tls_port: $(head -c 300 "$work/aiosmtpd.out")"
fi

# ---- deadlines and exit 3 ----------------------------------------------------

spawn "$work/silent.pid" "$work/silent.log" "$py" -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(4)
conns = []
while True:
    c, _ = s.accept()
    conns.append(c)
' "$silent_port"
if wait_port 127.0.0.1 "$silent_port" 10; then
	out=$work/silent.out
	start=$(date +%s)
	printf 'EHLO probe.test\n' | "$bin" probe --wait 1 "127.0.0.1:$silent_port" >"$out" 2>&1
	expect_exit 0 $? "a silent server: no finding, no hang" "$out"
	took=$(($(date +%s) - start))
	if [ "$took" -le 6 ]; then
		ok "a silent server: the console gave up within its waits (${took}s)"
	else
		notok "a silent server: took ${took}s"
	fi
	has "$out" "  = no greeting within 1 s" "a silent server: a missing greeting is said after --wait"
	has "$out" "  = no reply within 1 s (1 owed)" "a silent server: a missing reply is said after --wait"
	out=$work/silent-tls.out
	printf 'EHLO probe.test\n' | "$bin" probe --wait 1 --tls "127.0.0.1:$silent_port" >"$out" 2>&1
	expect_exit 3 $? "--tls against a silent server" "$out"
	has "$out" "  = no TLS handshake within 1 s: the server did not complete it" \
		"--tls: a stalled handshake is given up after --wait"
else
	notok "the silent listener did not start on 127.0.0.1:$silent_port"
fi

"$bin" probe --wait 2 127.0.0.1:1 </dev/null >"$work/refused.out" 2>&1
expect_exit 3 $? "a refused connection" "$work/refused.out"
has "$work/refused.out" "cannot connect to 127.0.0.1:1" "a refused connection is said in one line"
"$bin" probe >"$work/usage.out" 2>&1 </dev/null
expect_exit 2 $? "probe without HOST:PORT" "$work/usage.out"
"$bin" probe --id Not-An-Id "127.0.0.1:$serve_port" >"$work/usage.out" 2>&1 </dev/null
expect_exit 2 $? "probe --id that no scenario may carry" "$work/usage.out"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
