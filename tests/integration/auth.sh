#!/bin/bash
# auth.sh - the AUTH scenarios (scenarios/conformance/auth) against a real
# SASL server: aiosmtpd's own AUTH code, started by aiosmtpd-auth.py with
# one account, on loopback, in three configurations:
#
#   PORT     AUTH PLAIN and LOGIN in the clear, not required
#   PORT+1   the same, and required (530 before AUTH)
#   PORT+2   STARTTLS offered, AUTH only after it (538 in the clear)
#
# Checks the verdict of every AUTH scenario against each, with the
# findings that show aiosmtpd's own deviations (AUTH inside a transaction,
# the MAIL AUTH= parameter, a long SASL line answered twice); that the
# scenarios that need credentials SKIP, naming the variable, when none are
# given; and that the password and the base64 responses appear nowhere in
# the JSON report or the pcap captures.
#
# Prints "ok - ..." / "not ok - ..." per check and "N passed, M failed";
# exits 1 when any check failed. Stops what it starts, by pid.
# Then the same scenarios against a private Postfix instance (its own
# config directory; root needed) whose smtpd checks passwords in a Cyrus
# SASL sasldb, in the clear and with AUTH only after STARTTLS.
#
# Last, starttls.required-530 (and the STARTTLS scenarios that must SKIP
# there) against two servers that insist on TLS: Debian's aiosmtpd with its
# STARTTLS requirement on (PORT+5), and a listener of the private Postfix
# with smtpd_tls_security_level = encrypt (PORT+6).
#
# Environment: HARNESS_BIN (default build/smtp-harness), AUTH_PORT (default
# 2901; uses it and the next six).

set -uo pipefail
harness_prog=auth.sh
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
. "$top/tests/integration/lib.sh"

bin=${HARNESS_BIN:-$top/build/smtp-harness}
py=/usr/bin/python3
port=${AUTH_PORT:-2901}
suite=$top/scenarios/conformance/auth

[ -x "$bin" ] || harness_die "$bin not found (build first, or set HARNESS_BIN)"
[ -x "$py" ] || harness_die "$py not found (run tests/setup-debian.sh)"
"$py" -c 'import aiosmtpd.controller' 2>/dev/null ||
	harness_die "$py cannot import aiosmtpd (run tests/setup-debian.sh)"
for p in "$port" $((port + 1)) $((port + 2)) $((port + 5)); do
	harness_check_port "$p"
	port_open 127.0.0.1 "$p" && harness_die "127.0.0.1:$p is already in use"
done

work=$(mktemp -d /tmp/smtp-harness-auth.XXXXXX)
cleanup() {
	local f
	for f in "$work"/*.pid; do
		[ -e "$f" ] && stop_pid "$f" 5
	done
	rm -rf "$work"
}
harness_on_exit cleanup

user=harness-user
pass='pw-7q2x Secret!'
printf '%s' "$pass" >"$work/password"
make_cert "$work" mx.harness.test

# start NAME PORT ARGS...: aiosmtpd-auth.py on 127.0.0.1:PORT.
start() {
	local name=$1 p=$2
	shift 2
	spawn "$work/$name.pid" "$work/$name.log" "$py" "$top/tests/integration/aiosmtpd-auth.py" \
		--listen "127.0.0.1:$p" --user "$user" --password-file "$work/password" "$@" ||
		harness_die "could not start aiosmtpd-auth.py ($name)"
	if ! wait_port 127.0.0.1 "$p" 15; then
		log_tail "$work/$name.log"
		harness_die "aiosmtpd-auth.py ($name) did not listen on 127.0.0.1:$p within 15 s"
	fi
}

start clear "$port"
start required $((port + 1)) --auth-required
start tls $((port + 2)) --tls-cert "$work/cert.pem" --tls-key "$work/key.pem"

# run NAME PORT [ARGS...] -- SCENARIOS...: one run, JSON report in
# $work/NAME.json, captures in $work/cap-NAME.
run() {
	local name=$1 p=$2
	shift 2
	"$bin" run --target "127.0.0.1:$p" --report "json:$work/$name.json" \
		--capture "$work/cap-$name" "$@" >"$work/$name.out" 2>&1
	echo $? >"$work/$name.rc"
}

# verdict NAME ID: the verdict of scenario ID in run NAME's report.
verdict() {
	"$py" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(next((s["verdict"] for s in d["scenarios"] if s["id"] == sys.argv[2]), "absent"))' \
		"$work/$1.json" "$2" 2>/dev/null || echo "no report"
}

# finding NAME ID: "check|evidence data" of the first finding of ID.
finding() {
	"$py" -c 'import json, sys
d = json.load(open(sys.argv[1]))
s = next(s for s in d["scenarios"] if s["id"] == sys.argv[2])
f = s["findings"][0]
ev = f.get("evidence") or {}
print("%s|%s" % (f.get("check"), json.dumps(ev)))' "$work/$1.json" "$2" 2>/dev/null
}

reason() {
	"$py" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(next(s["reason"] or "" for s in d["scenarios"] if s["id"] == sys.argv[2]))' \
		"$work/$1.json" "$2" 2>/dev/null
}

expect_verdict() {
	local name=$1 id=$2 want=$3 got
	got=$(verdict "$name" "$id")
	if [ "$got" = "$want" ]; then
		harness_ok "$name: $id is $want"
	else
		harness_not_ok "$name: $id is $want, got $got ($(grep -F "$id" "$work/$name.out" | head -n 1))"
	fi
}

# ---- AUTH in the clear, with credentials ------------------------------------

run clear "$port" --var "auth_user=$user" --var "auth_pass=$pass" "$suite"
for id in auth.bad-credentials auth.cancel auth.login-credentials auth.plain-challenge \
	auth.plain-credentials auth.required-530 auth.unknown-mechanism; do
	expect_verdict clear "$id" PASS
done
expect_verdict clear auth.not-advertised SKIP
expect_verdict clear auth.plaintext-protection SKIP
# aiosmtpd's own deviations, each judged where the RFC says so.
expect_verdict clear auth.in-transaction FAIL
f=$(finding clear auth.in-transaction)
case $f in
rfc4954.4.auth-sequence-503\|*334*) harness_ok "clear: AUTH in a transaction: the finding names rfc4954.4.auth-sequence-503 and the 334" ;;
*) harness_not_ok "clear: AUTH in a transaction: finding rfc4954.4.auth-sequence-503 with the 334, got \"$f\"" ;;
esac
expect_verdict clear auth.mail-auth-param FAIL
f=$(finding clear auth.mail-auth-param)
case $f in
rfc4954.5.auth-mail-param\|*555*) harness_ok "clear: AUTH=<>: the finding names rfc4954.5.auth-mail-param and the 555" ;;
*) harness_not_ok "clear: AUTH=<>: finding rfc4954.5.auth-mail-param with the 555, got \"$f\"" ;;
esac
expect_verdict clear auth.long-sasl-line FAIL
f=$(finding clear auth.long-sasl-line)
case $f in
rfc4954.4.long-sasl-lines\|*"500 Command line too long"*) harness_ok "clear: a 200 KB SASL line answered twice: the finding shows the second 500" ;;
*) harness_not_ok "clear: a 200 KB SASL line: finding rfc4954.4.long-sasl-lines with the second 500, got \"$f\"" ;;
esac
if [ "$(cat "$work/clear.rc")" = 1 ]; then
	harness_ok "clear: run exits 1 (conformance failures)"
else
	harness_not_ok "clear: run exits 1, got $(cat "$work/clear.rc")"
fi

# The credentials never reach the record: neither the password, nor the
# base64 that carries it, nor the user name in base64.
b64_plain=$(printf '\0%s\0%s' "$user" "$pass" | base64 -w0)
b64_user=$(printf '%s' "$user" | base64 -w0)
b64_pass=$(printf '%s' "$pass" | base64 -w0)
leaks=$(grep -l -a -F -e "$pass" -e "$b64_plain" -e "$b64_user" -e "$b64_pass" \
	"$work/clear.json" "$work"/cap-clear/*.pcap 2>/dev/null)
npcap=0
for id in auth.plain-credentials auth.login-credentials auth.plain-challenge; do
	[ -s "$work/cap-clear/$id.pcap" ] && npcap=$((npcap + 1))
done
if [ -z "$leaks" ] && [ "$npcap" = 3 ]; then
	harness_ok "clear: no credential in the JSON report or the $npcap credential pcaps"
else
	harness_not_ok "clear: no credential in the report or captures (found in: ${leaks:-none}; pcaps: $npcap)"
fi
if grep -a -q -F 'AUTH PLAIN ****' "$work/clear.json"; then
	harness_ok "clear: the transcript shows the masked AUTH PLAIN line"
else
	harness_not_ok "clear: the transcript shows \"AUTH PLAIN ****...\""
fi

# ---- no credentials: SKIP, not FAIL ------------------------------------------

run nocreds "$port" "$suite/plain-credentials.json" "$suite/login-credentials.json" \
	"$suite/plain-challenge.json"
for id in auth.plain-credentials auth.login-credentials auth.plain-challenge; do
	expect_verdict nocreds "$id" SKIP
done
r=$(reason nocreds auth.plain-credentials)
case $r in
*auth_user*--var*) harness_ok "nocreds: the SKIP reason names auth_user and --var" ;;
*) harness_not_ok "nocreds: the SKIP reason names auth_user and --var, got \"$r\"" ;;
esac
if [ "$(cat "$work/nocreds.rc")" = 0 ]; then
	harness_ok "nocreds: run exits 0"
else
	harness_not_ok "nocreds: run exits 0, got $(cat "$work/nocreds.rc")"
fi

# A wrong password: the login is what the scenario needs ("otherwise":
# "error"), so a refusal
# is an ERROR (the run could not be carried out, exit 3), not a finding.
run wrong "$port" --var "auth_user=$user" --var "auth_pass=not-$pass" \
	"$suite/plain-credentials.json"
expect_verdict wrong auth.plain-credentials ERROR
r=$(reason wrong auth.plain-credentials)
case $r in
*"535 5.7.8"*"could not be carried out"*) harness_ok "wrong: the ERROR quotes the 535 5.7.8 and says the rest could not be carried out" ;;
*) harness_not_ok "wrong: the ERROR quotes the 535 and says the rest could not be carried out, got \"$r\"" ;;
esac
if [ "$(cat "$work/wrong.rc")" = 3 ]; then
	harness_ok "wrong: run exits 3 (a session could not be carried out)"
else
	harness_not_ok "wrong: run exits 3, got $(cat "$work/wrong.rc")"
fi

# ---- AUTH required ------------------------------------------------------------

run required $((port + 1)) --var "auth_user=$user" --var "auth_pass=$pass" \
	"$suite/required-530.json" "$suite/plain-credentials.json" "$suite/login-credentials.json"
for id in auth.required-530 auth.plain-credentials auth.login-credentials; do
	expect_verdict required "$id" PASS
done
if grep -a -q '530 5.7.0' "$work/required.json"; then
	harness_ok "required: MAIL before AUTH got 530 5.7.0"
else
	harness_not_ok "required: MAIL before AUTH got 530 5.7.0"
fi

# ---- AUTH only after STARTTLS -------------------------------------------------

run tls $((port + 2)) "$suite/plaintext-protection.json" "$suite/bad-credentials.json"
expect_verdict tls auth.plaintext-protection PASS
if grep -a -q '538 5.7.11' "$work/tls.json"; then
	harness_ok "tls: cleartext AUTH PLAIN got 538 5.7.11"
else
	harness_not_ok "tls: cleartext AUTH PLAIN got 538 5.7.11"
fi
expect_verdict tls auth.bad-credentials SKIP

# ---- a private Postfix with Cyrus SASL (sasldb) ------------------------------
#
# Its own config_directory, queue and log under $work, listeners on PORT+3
# (AUTH in the clear) and PORT+4 (STARTTLS, AUTH only after it); the
# machine's own Postfix is never touched. Debian's Postfix reads the SASL
# application file from <config_directory>/sasl/smtpd.conf.

pf_started=0
pf_stop() {
	[ "$pf_started" = 1 ] && postfix -c "$work/pf/etc" stop >/dev/null 2>&1
	pf_started=0
}
harness_on_exit pf_stop

pf_start() {
	local pf=$work/pf p1=$((port + 3)) p2=$((port + 4)) p3=$((port + 6))
	[ -n "$work" ] && [ -d "$work" ] || return 1
	mkdir -p "$pf/etc/sasl" "$pf/queue" "$pf/data" || return 1
	chmod 755 "$work" "$pf"
	chown postfix "$pf/data" || return 1
	cp /etc/postfix/master.cf "$pf/etc/master.cf" || return 1
	cat >"$pf/etc/main.cf" <<EOF || return 1
compatibility_level = 3.6
queue_directory = $pf/queue
data_directory = $pf/data
maillog_file = $pf/etc/maillog
maillog_file_prefixes = $pf
myhostname = mx.harness.test
mydomain = harness.test
myorigin = harness.test
mydestination = localhost
local_recipient_maps =
transport_maps = inline:{localhost=discard:}
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
biff = no
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_local_domain = harness.test
smtpd_sasl_security_options = noanonymous
EOF
	cat >"$pf/etc/sasl/smtpd.conf" <<EOF || return 1
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $pf/etc/sasl/sasldb2
EOF
	printf '%s' "$pass" | saslpasswd2 -p -f "$pf/etc/sasl/sasldb2" -c -u harness.test "$user" ||
		return 1
	chown postfix "$pf/etc/sasl/sasldb2" && chmod 600 "$pf/etc/sasl/sasldb2" || return 1
	cp "$work/cert.pem" "$work/key.pem" "$pf/etc/" && chmod 600 "$pf/etc/key.pem" || return 1
	{
		postconf -c "$pf/etc" -M# smtp/inet &&
		postconf -c "$pf/etc" -F '*/*/chroot = n' &&
		{ postconf -c "$pf/etc" -M postlog/unix-dgram | grep -q . ||
		  postconf -c "$pf/etc" -Me 'postlog/unix-dgram = postlog unix-dgram n - n - 1 postlogd'; } &&
		postconf -c "$pf/etc" -Me "127.0.0.1:$p1/inet = 127.0.0.1:$p1 inet n - n - - smtpd" &&
		postconf -c "$pf/etc" -Me "127.0.0.1:$p2/inet = 127.0.0.1:$p2 inet n - n - - smtpd \
-o smtpd_tls_security_level=may -o smtpd_tls_auth_only=yes \
-o smtpd_tls_cert_file=$pf/etc/cert.pem -o smtpd_tls_key_file=$pf/etc/key.pem" &&
		postconf -c "$pf/etc" -Me "127.0.0.1:$p3/inet = 127.0.0.1:$p3 inet n - n - - smtpd \
-o smtpd_tls_security_level=encrypt \
-o smtpd_tls_cert_file=$pf/etc/cert.pem -o smtpd_tls_key_file=$pf/etc/key.pem"
	} >/dev/null || return 1
	touch "$pf/etc/maillog"
	postfix -c "$pf/etc" check >"$pf/check.out" 2>&1 &&
		postfix -c "$pf/etc" start >"$pf/start.out" 2>&1 || return 1
	pf_started=1
	wait_port 127.0.0.1 "$p1" 15 && wait_port 127.0.0.1 "$p2" 15 && wait_port 127.0.0.1 "$p3" 15
}

if [ "$(id -u)" != 0 ] || ! command -v postfix >/dev/null 2>&1 ||
	! command -v saslpasswd2 >/dev/null 2>&1; then
	harness_not_ok "postfix: needs root, postfix and saslpasswd2 (run tests/setup-debian.sh)"
else
	for p in $((port + 3)) $((port + 4)) $((port + 6)); do
		harness_check_port "$p"
		port_open 127.0.0.1 "$p" && harness_die "127.0.0.1:$p is already in use"
	done
	if pf_start; then
		harness_ok "postfix: a private instance with sasldb listens on $((port + 3)) and $((port + 4))"
		run postfix $((port + 3)) --var "auth_user=$user" --var "auth_pass=$pass" "$suite"
		for id in auth.bad-credentials auth.cancel auth.in-transaction auth.login-credentials \
			auth.long-sasl-line auth.mail-auth-param auth.plain-challenge \
			auth.plain-credentials auth.required-530; do
			expect_verdict postfix "$id" PASS
		done
		expect_verdict postfix auth.not-advertised SKIP
		# Postfix answers an unknown mechanism with 535 5.7.8 "no
		# mechanism available"; RFC 4954 §4 says 504.
		expect_verdict postfix auth.unknown-mechanism FAIL
		run postfix-tls $((port + 4)) "$suite/plaintext-protection.json"
		expect_verdict postfix-tls auth.plaintext-protection PASS
		# TLS required: 530 before STARTTLS (RFC 3207 §4).
		run postfix-encrypt $((port + 6)) "$top/scenarios/conformance/starttls"
		expect_verdict postfix-encrypt starttls.required-530 PASS
		expect_verdict postfix-encrypt starttls.forgets-transaction SKIP
		expect_verdict postfix-encrypt starttls.handshake PASS
		leaks=$(grep -l -a -F -e "$pass" -e "$b64_plain" -e "$b64_user" -e "$b64_pass" \
			"$work/postfix.json" "$work"/cap-postfix/*.pcap 2>/dev/null)
		if [ -z "$leaks" ]; then
			harness_ok "postfix: no credential in the JSON report or the pcaps"
		else
			harness_not_ok "postfix: no credential in the report or captures (found in: $leaks)"
		fi
	else
		harness_not_ok "postfix: the private instance did not start: $(tail -n 2 "$work/pf/check.out" \
			"$work/pf/start.out" 2>/dev/null | tr '\n' ' ')"
	fi
	pf_stop
fi

# ---- a server that insists on TLS: Debian's aiosmtpd, STARTTLS required ------

spawn "$work/requiretls.pid" "$work/requiretls.log" "$py" -m aiosmtpd -n \
	-l "127.0.0.1:$((port + 5))" --tlscert "$work/cert.pem" --tlskey "$work/key.pem" ||
	harness_die "could not start aiosmtpd (requiretls)"
if wait_port 127.0.0.1 $((port + 5)) 15; then
	run requiretls $((port + 5)) "$top/scenarios/conformance/starttls"
	expect_verdict requiretls starttls.required-530 PASS
	expect_verdict requiretls starttls.forgets-transaction SKIP
	expect_verdict requiretls starttls.handshake PASS
	# Where TLS is not required the row does not apply.
	run clear-starttls "$port" "$top/scenarios/conformance/starttls/required-530.json"
	expect_verdict clear-starttls starttls.required-530 SKIP
else
	harness_not_ok "requiretls: aiosmtpd listens on 127.0.0.1:$((port + 5))"
fi

harness_summary
