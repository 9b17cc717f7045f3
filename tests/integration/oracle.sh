#!/usr/bin/env bash
# oracle.sh - the delivery oracle against targets that really deliver.
#
# Runs scenarios/oracle (plus a few shipped ones: a plain transaction,
# dot-stuffing, 8-bit content, one smuggling probe, the bare CR and LF
# policy) with `run --oracle`
# against four targets on loopback, each delivering where the oracle
# looks, and asserts per target the verdict of each delivery check:
#
#   serve     smtp-harness serve --spool DIR --size-max 100000 (dir:DIR):
#             every delivery check passes
#   lossy     the same server with --lose-rate 1: it answers 250 and keeps
#             nothing, so rfc5321.4.2.5.2yz-takes-responsibility must FAIL
#             (the case that proves the oracle can fail a target); run
#             again without --oracle it passes, and the scenarios marked
#             "oracle": true SKIP
#   aiosmtpd  python3 -m aiosmtpd with its Mailbox handler (maildir:DIR):
#             content as sent, but no Return-Path and no Received field
#             (RFC 5321 §4.4: FAIL), and X-RcptTo naming every recipient
#             in each copy (RFC 5321 §7.2: WARN)
#   postfix   a private Postfix instance (postfix -c DIR: its own queue,
#             configuration and log; never the machine's Postfix) with an
#             smtpd on 127.0.0.1 delivering through virtual(8) to a Maildir
#             (maildir:DIR) and, for the smuggling probe, to an mbox
#             (mbox:FILE): the trace fields are there; Postfix 3.7 with
#             smtpd_forbid_bare_newline = no takes LF.CRLF for the end of
#             data (CVE-2023-51764) and delivers the smuggled message,
#             which the oracle must find and FAIL as smuggle.lf-dot-crlf
#
# smuggling.bare-newline-policy (a bare LF and a bare CR in the content)
# passes everywhere, each its own way: serve refuses it with 550; aiosmtpd
# stores both as line ends; Postfix 3.7 makes the LF a line end and the CR
# a space, in the Maildir and the mbox alike. (The WARN, an octet kept
# raw, is OpenSMTPD's CR and smtp-server's CR and LF: docs/known-results.md.)
#
# Ports: HARNESS_ORACLE_PORT_BASE (default 2650) and the three after it.
# Environment: HARNESS_BIN (default build/smtp-harness), HARNESS_IT_KEEP=1
# keeps the work directory. Postfix's part needs root (it is reported as a
# failure otherwise, never skipped as a pass).
# Output: one line per check ("ok - ..." / "not ok - ..."), then
# "N passed, M failed". Exit status 0 when every check passed, else 1.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
harness_prog=oracle.sh
# shellcheck source=tests/integration/lib.sh
. "$here/lib.sh"

bin=${HARNESS_BIN:-$top/build/smtp-harness}
base=${HARNESS_ORACLE_PORT_BASE:-2650}
[ -x "$bin" ] || { echo "oracle.sh: error: no harness binary $bin (set HARNESS_BIN)" >&2; exit 1; }
harness_check_port "$base"
p_serve=$base p_lossy=$((base + 1)) p_aio=$((base + 2)) p_pf=$((base + 3))

work=$(mktemp -d "${TMPDIR:-/tmp}/smtp-harness-oracle.XXXXXX") || exit 1
chmod 755 "$work"
pids=()
pf_dir=$work/postfix/etc
pf_started=0
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if [ "$pf_started" = 1 ]; then
		postfix -c "$pf_dir" stop >/dev/null 2>&1 ||
			echo "oracle.sh: warning: postfix -c $pf_dir stop failed" >&2
	fi
	if [ "${HARNESS_IT_KEEP:-0}" = 1 ]; then
		echo "oracle.sh: work directory kept: $work"
	else
		rm -rf -- "$work"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
notok() { echo "not ok - $*"; failed=$((failed + 1)); }

scenarios=("$top/scenarios/oracle" "$top/scenarios/conformance/transaction/basic.json"
	"$top/scenarios/conformance/data/dot-stuffing.json"
	"$top/scenarios/conformance/8bitmime/content.json")
smuggle=$top/scenarios/conformance/smuggling/lf-dot-crlf.json
# A bare LF and a bare CR in the content: refused, or what the copy holds.
bare=$top/scenarios/conformance/smuggling/bare-newline-policy.json
# Three distinct recipients for oracle.three-recipients (both servers take
# any local part at localhost, into the one mailbox the oracle reads).
others=(--var rcpt2=second@localhost --var rcpt3=third@localhost)

# run NAME PORT ORACLE [ARGS...] SCENARIO...: the report in $work/NAME.json
run() {
	local name=$1 port=$2 oracle=$3
	shift 3
	"$bin" run --target "127.0.0.1:$port" --oracle "$oracle" --oracle-wait 3000 \
	    --report "json:$work/$name.json" "$@" >"$work/$name.out" 2>&1
	echo $? >"$work/$name.status"
}

# expect NAME EXIT CHECKS: the exit status, then each "scenario check
# verdict" line of CHECKS against the report's findings and checks.
expect() {
	local name=$1 want_exit=$2 checks=$3 got
	got=$(cat "$work/$name.status" 2>/dev/null || echo none)
	if [ "$got" = "$want_exit" ]; then
		ok "$name: exit status $want_exit"
	else
		notok "$name: exit status $got, expected $want_exit: $(tail -n 3 "$work/$name.out" | tr '\n' ' ')"
	fi
	[ -s "$work/$name.json" ] || { notok "$name: no JSON report"; return; }
	/usr/bin/python3 - "$work/$name.json" "$name" "$checks" "$top/reports/report.schema.json" \
	    >"$work/$name.lines" <<'PY'
import json, sys
report, name, checks = sys.argv[1], sys.argv[2], sys.argv[3]
r = json.load(open(report, encoding="utf-8"))
by_id = {s["id"]: s for s in r["scenarios"]}
for line in checks.strip().splitlines():
    sid, check, want = line.split()
    s = by_id.get(sid)
    if s is None:
        print("not ok - %s: %s: not in the report" % (name, sid))
        continue
    got = {c["check"]: c["verdict"] for c in s["checks"]}.get(check, "not exercised")
    if got != want:
        print("not ok - %s: %s: %s is %s, expected %s" % (name, sid, check, got, want))
        continue
    # A FAIL or WARN from the oracle points at the transcript and at the
    # copy (a lost message has no copy to point at).
    if want in ("FAIL", "WARN") and not any(
            f["check"] == check and f["verdict"] == want and f["evidence"] is not None
            and ("delivered" in f or "no copy in the oracle" in f["message"])
            for f in s["findings"]):
        print("not ok - %s: %s: no %s finding with the transcript and the copy as evidence"
              % (name, sid, check))
        continue
    print("ok - %s: %s: %s %s" % (name, sid, check, want))
try:
    import jsonschema
    schema = json.load(open(sys.argv[4], encoding="utf-8"))
    errs = list(jsonschema.Draft202012Validator(schema).iter_errors(r))
    if errs:
        print("not ok - %s: report against reports/report.schema.json: %s: %s" % (name,
              "/".join(map(str, errs[0].absolute_path)), errs[0].message[:200]))
    else:
        print("ok - %s: the report agrees with reports/report.schema.json" % name)
except ImportError:
    print("not ok - %s: python3-jsonschema missing (run tests/setup-debian.sh)" % name)
PY
	cat "$work/$name.lines"
	passed=$((passed + $(grep -c '^ok' "$work/$name.lines")))
	failed=$((failed + $(grep -c '^not ok' "$work/$name.lines")))
}

# ---- the reference server, spooling (dir:) and losing mail --------------
mkdir -p "$work/spool" "$work/lost"
"$bin" serve --listen "127.0.0.1:$p_serve" --spool "$work/spool" --size-max 100000 --quiet \
    >"$work/serve.log" 2>&1 &
pids+=($!)
"$bin" serve --listen "127.0.0.1:$p_lossy" --spool "$work/lost" --lose-rate 1 --seed 1 \
    >"$work/lossy.log" 2>&1 &
pids+=($!)
if wait_port 127.0.0.1 "$p_serve" 10 && wait_port 127.0.0.1 "$p_lossy" 10; then
	run serve "$p_serve" "dir:$work/spool" "${others[@]}" "${scenarios[@]}" "$smuggle" "$bare"
	run lossy "$p_lossy" "dir:$work/lost" "$top/scenarios/conformance/transaction/basic.json" \
	    "$top/scenarios/oracle/refused-after-dot.json"
	# Without an oracle: what only the copies can tell SKIPs, never FAILs.
	"$bin" run --target "127.0.0.1:$p_lossy" --report "json:$work/no-oracle.json" \
	    "$top/scenarios/oracle" "$top/scenarios/conformance/transaction/basic.json" \
	    >"$work/no-oracle.out" 2>&1
	st=$?
	if [ "$st" -eq 0 ] && /usr/bin/python3 - "$work/no-oracle.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1], encoding="utf-8"))
skip = {s["id"] for s in r["scenarios"] if s["verdict"] == "SKIP"
        and "needs --oracle" in (s["reason"] or "")}
want = {"oracle.abort-pending-fin", "oracle.abort-pending-reset", "oracle.content-unchanged",
        "oracle.null-sender", "oracle.refused-after-dot", "oracle.three-recipients"}
oracle_ids = {"rfc5321.4.2.5.2yz-takes-responsibility", "rfc5321.4.4.return-path"}
judged = [c for s in r["scenarios"] for c in s["checks"] if c["check"] in oracle_ids]
sys.exit(0 if skip == want and not judged and r["summary"]["fail"] == 0 else 1)
PY
	then
		ok "no oracle: the losing server passes, the scenarios marked \"oracle\" SKIP"
	else
		notok "no oracle: exit $st, or SKIPs and verdicts not as expected: $(tail -n 2 "$work/no-oracle.out" | tr '\n' ' ')"
	fi
else
	notok "serve: the reference server did not listen on $p_serve and $p_lossy"
fi

# ---- aiosmtpd's Mailbox handler (maildir:) --------------------------------
mkdir -p "$work/aiosmtpd"
/usr/bin/python3 -m aiosmtpd -n -s 100000 -l "127.0.0.1:$p_aio" -c aiosmtpd.handlers.Mailbox \
    "$work/aiosmtpd/Maildir" >"$work/aiosmtpd.log" 2>&1 &
pids+=($!)
if wait_port 127.0.0.1 "$p_aio" 15; then
	run aiosmtpd "$p_aio" "maildir:$work/aiosmtpd/Maildir" "${others[@]}" "${scenarios[@]}" "$smuggle" \
	    "$bare"
else
	notok "aiosmtpd: did not listen on $p_aio: $(tail -n 2 "$work/aiosmtpd.log" | tr '\n' ' ')"
fi

# ---- a private Postfix: virtual(8) to a Maildir and an mbox --------------
pf_ready=0
if [ "$(id -u)" -ne 0 ]; then
	notok "postfix: must run as root (Postfix needs it)"
elif ! command -v postfix >/dev/null 2>&1; then
	notok "postfix: not installed (run tests/setup-debian.sh)"
else
	mkdir -p "$pf_dir" "$work/postfix/queue" "$work/postfix/data" "$work/postfix/mail/md"
	chown postfix "$work/postfix/data"
	chown -R nobody:nogroup "$work/postfix/mail"
	cp /etc/postfix/master.cf "$pf_dir/master.cf"
	# local_header_rewrite_clients empty: this Postfix is the final MTA
	# for oracle.test, not a submission server, so it adds no missing
	# header fields (RFC 5321 §6.4 allows those only when submitting).
	cat >"$pf_dir/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $work/postfix/queue
data_directory = $work/postfix/data
maillog_file = $pf_dir/maillog
maillog_file_prefixes = $work
myhostname = mx.oracle.test
mydomain = oracle.test
myorigin = oracle.test
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
virtual_mailbox_domains = oracle.test
virtual_mailbox_base = $work/postfix/mail
virtual_mailbox_maps = inline:{md@oracle.test=md/, md2@oracle.test=md/, md3@oracle.test=md/, mb@oracle.test=mbox}
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(id -g nobody)
local_header_rewrite_clients =
message_size_limit = 100000
transport_maps = inline:{harness.test=discard:}
smtpd_tls_security_level = none
biff = no
EOF
	if {
		postconf -c "$pf_dir" -M# smtp/inet &&
		postconf -c "$pf_dir" -Me "127.0.0.1:$p_pf/inet = 127.0.0.1:$p_pf inet n - n - - smtpd" &&
		postconf -c "$pf_dir" -F '*/*/chroot = n' &&
		{ postconf -c "$pf_dir" -M postlog/unix-dgram | grep -q . ||
		  postconf -c "$pf_dir" -Me 'postlog/unix-dgram = postlog unix-dgram n - n - 1 postlogd'; }
	} >/dev/null && touch "$pf_dir/maillog" &&
	    postfix -c "$pf_dir" check >"$work/postfix-check.out" 2>&1 &&
	    postfix -c "$pf_dir" start >"$work/postfix-start.out" 2>&1; then
		pf_started=1
		if wait_port 127.0.0.1 "$p_pf" 15; then
			pf_ready=1
		else
			notok "postfix: the private instance does not listen on $p_pf"
		fi
	else
		notok "postfix: the private instance did not start: $(tail -n 2 "$work/postfix-check.out" \
		    "$work/postfix-start.out" 2>/dev/null | tr '\n' ' ')"
	fi
fi
if [ "$pf_ready" = 1 ]; then
	run postfix "$p_pf" "maildir:$work/postfix/mail/md" --var rcpt=md@oracle.test \
	    --var rcpt2=md2@oracle.test --var rcpt3=md3@oracle.test "${scenarios[@]}" "$bare"
	run postfix-mbox "$p_pf" "mbox:$work/postfix/mail/mbox" --var rcpt=mb@oracle.test \
	    "$top/scenarios/conformance/transaction/basic.json" "$smuggle" "$bare"
fi

# ---- verdicts ---------------------------------------------------------------
common="oracle.content-unchanged rfc5321.4.5.2.content-unchanged PASS
oracle.content-unchanged rfc5321.4.2.5.2yz-takes-responsibility PASS
oracle.abort-pending-fin rfc5321.4.1.1.10.abort-pending-only PASS
oracle.abort-pending-reset rfc5321.4.1.1.10.abort-pending-only PASS
oracle.refused-after-dot rfc5321.4.2.5.no-delivery-after-error PASS
oracle.header-defects rfc5321.3.3.no-reject-header-defects PASS
data.dot-stuffing rfc5321.4.5.2.server-dot-unstuffing PASS
8bitmime.content rfc6152.3.preserve-bits PASS"
trace_ok="transaction.basic rfc5321.4.4.return-path PASS
transaction.basic rfc5321.4.4.received-field PASS
oracle.null-sender rfc5321.4.4.return-path PASS
oracle.three-recipients rfc5321.7.2.no-bcc-disclosure PASS"

if [ -e "$work/serve.status" ]; then
	expect serve 0 "$common
$trace_ok
smuggling.lf-dot-crlf smuggle.lf-dot-crlf PASS
smuggling.bare-newline-policy smuggle.bare-newline-policy PASS"
	expect lossy 1 "transaction.basic rfc5321.4.2.5.2yz-takes-responsibility FAIL
oracle.refused-after-dot rfc5321.4.2.5.2yz-takes-responsibility FAIL"
	if grep -q "fault: message from <.*> lost" "$work/lossy.log"; then
		ok "lossy: the server logged the messages it lost"
	else
		notok "lossy: no 'lost' line in the server's log"
	fi
fi
if [ -e "$work/aiosmtpd.status" ]; then
	expect aiosmtpd 1 "$common
transaction.basic rfc5321.4.4.return-path FAIL
transaction.basic rfc5321.4.4.received-field FAIL
oracle.null-sender rfc5321.4.4.return-path FAIL
oracle.three-recipients rfc5321.7.2.no-bcc-disclosure WARN
smuggling.lf-dot-crlf smuggle.lf-dot-crlf PASS
smuggling.bare-newline-policy smuggle.bare-newline-policy PASS
smuggling.bare-newline-policy rfc5321.4.2.5.2yz-takes-responsibility PASS"
fi
if [ -e "$work/postfix.status" ]; then
	expect postfix 0 "$common
$trace_ok
smuggling.bare-newline-policy smuggle.bare-newline-policy PASS
smuggling.bare-newline-policy rfc5321.4.2.5.2yz-takes-responsibility PASS"
	expect postfix-mbox 1 "transaction.basic rfc5321.4.5.2.content-unchanged PASS
transaction.basic rfc5321.4.4.return-path PASS
smuggling.lf-dot-crlf smuggle.lf-dot-crlf FAIL
smuggling.bare-newline-policy smuggle.bare-newline-policy PASS
smuggling.bare-newline-policy rfc5321.4.2.5.2yz-takes-responsibility PASS"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
