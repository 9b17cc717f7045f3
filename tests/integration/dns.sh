#!/bin/bash
# dns.sh - the fake DNS (`smtp-harness dns`) against dig, on loopback.
#
# Starts `smtp-harness dns --zone fake-dns/examples/example.test.json
# --listen 127.0.0.1:PORT` (PORT: HARNESS_DNS_PORT, or a free one the
# server picks and prints) and asks it with dig: MX (with the exchanges'
# addresses as additional records), A, AAAA, TXT, a CNAME chased, null
# MX, NXDOMAIN and NODATA with the SOA, SERVFAIL, REFUSED, a name outside
# the zone, TC over UDP that dig retries over TCP, +tcp, a 546-octet
# answer that needs TCP without EDNS0 and fits in UDP with it, EDNS0
# echoed and BADVERS, a dropped query that dig gives up on, a delayed
# answer, and an unreadable packet answered FORMERR. Then the exit codes:
# a bad zone (2, one FILE:LINE:COL line), a port in use (3), SIGTERM (0).
#
# getaddrinfo is not tested here: it asks the resolvers in
# /etc/resolv.conf, which this test leaves alone.
#
# Prints "ok - ..." / "not ok - ..." per check and "N passed, M failed";
# exits 1 when any check failed. Stops what it starts, by pid.
# Environment: HARNESS_BIN (default build/smtp-harness), HARNESS_DNS_PORT.

set -uo pipefail
harness_prog=dns.sh
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
. "$top/tests/integration/lib.sh"

bin=${HARNESS_BIN:-$top/build/smtp-harness}
zone=$top/fake-dns/examples/example.test.json
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
harness_need_cmd dig

work=$(mktemp -d /tmp/smtp-harness-dns.XXXXXX)
log=$work/dns.log
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$work"
}
harness_on_exit cleanup

# ---- start -----------------------------------------------------------------

"$bin" dns --zone "$zone" --listen "127.0.0.1:${HARNESS_DNS_PORT:-0}" >"$log" 2>&1 &
pid=$!
port=
for _ in $(seq 1 100); do
	port=$(sed -n '1s/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$log" 2>/dev/null)
	[ -n "$port" ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$port" ]; then
	not_ok "dns prints \"listening on 127.0.0.1:PORT\" (log: $(head -c 300 "$log"))"
	echo "$passed passed, $failed failed"
	exit 1
fi
ok "dns prints \"listening on 127.0.0.1:$port\""

# q ARGS...: dig at the fake DNS, one try of 2 s unless ARGS say otherwise
q() {
	dig -p "$port" @127.0.0.1 +time=2 +tries=1 "$@" 2>&1
}

# expect WHAT WANT ARGS...: dig's output holds the line WANT (a grep -E
# pattern matched against whole lines)
expect() {
	local what=$1 want=$2 out
	shift 2
	out=$(q "$@")
	if grep -Eqx -- "$want" <<<"$out"; then
		ok "$what"
	else
		not_ok "$what: no line /$want/ in: $(tr '\n' '|' <<<"$out" | head -c 600)"
	fi
}

# expect_status WHAT STATUS ARGS...
expect_status() {
	local what=$1 st=$2
	shift 2
	expect "$what" ";; ->>HEADER<<- opcode: QUERY, status: $st, id: [0-9]+" "$@"
}

# ---- answers ---------------------------------------------------------------

expect "MX, first exchange" "10 mx1\.example\.test\." example.test MX +short
expect "MX, second exchange" "20 mx2\.example\.test\." example.test MX +short
expect "MX answer carries the exchange's A as additional" \
	"mx1\.example\.test\.[[:space:]]+300[[:space:]]+IN[[:space:]]+A[[:space:]]+127\.0\.0\.2" \
	example.test MX +noall +additional
expect "MX answer carries the exchange's AAAA as additional" \
	"mx1\.example\.test\.[[:space:]]+300[[:space:]]+IN[[:space:]]+AAAA[[:space:]]+::1" \
	example.test MX +noall +additional
expect "answers are authoritative" ";; flags: qr aa rd; QUERY: 1, ANSWER: 2, AUTHORITY: 0, ADDITIONAL: 4" \
	example.test MX
expect "A" "127\.0\.0\.2" mx1.example.test A +short
expect "AAAA" "::1" mx1.example.test AAAA +short
expect "TXT" '"v=spf1 ip4:127\.0\.0\.0/8 -all"' example.test TXT +short
expect "TXT of several strings" '"one" "two" "three"' long.example.test TXT +short
expect "names are case-insensitive, the question's case echoed" \
	"Mx1\.EXAMPLE\.test\.[[:space:]]+300[[:space:]]+IN[[:space:]]+A[[:space:]]+127\.0\.0\.2" \
	Mx1.EXAMPLE.test A +noall +answer
expect "CNAME chased within the zone: the CNAME" \
	"mail\.example\.test\.[[:space:]]+300[[:space:]]+IN[[:space:]]+CNAME[[:space:]]+mx1\.example\.test\." \
	mail.example.test A +noall +answer
expect "CNAME chased within the zone: its target's A" \
	"mx1\.example\.test\.[[:space:]]+300[[:space:]]+IN[[:space:]]+A[[:space:]]+127\.0\.0\.2" \
	mail.example.test A +noall +answer
expect "PTR" "mx1\.example\.test\." 2.0.0.127.in-addr.example.test PTR +short
expect "null MX (RFC 7505)" "0 \." nullmx.example.test MX +short

expect_status "NXDOMAIN for a name not in the zone's records" NXDOMAIN nothing.example.test A
expect "NXDOMAIN carries the SOA" \
	"example\.test\.[[:space:]]+60[[:space:]]+IN[[:space:]]+SOA[[:space:]]+ns\.example\.test\. hostmaster\.example\.test\. 1 3600 600 86400 60" \
	nothing.example.test A +noall +authority
expect_status "NXDOMAIN by behaviour" NXDOMAIN gone.example.test A
expect_status "NODATA: a name with an A asked for MX" NOERROR mx2.example.test MX
expect "NODATA has no answer" ";; flags: qr aa rd; QUERY: 1, ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 1" \
	mx2.example.test MX
expect "empty answer by behaviour (rcode NOERROR)" \
	";; flags: qr aa rd; QUERY: 1, ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 1" empty.example.test A
expect_status "SERVFAIL by behaviour" SERVFAIL broken.example.test MX
expect_status "SERVFAIL for MX only" SERVFAIL mxfail.example.test MX
expect "... while its A is answered" "127\.0\.0\.6" mxfail.example.test A +short
expect_status "REFUSED by behaviour" REFUSED closed.example.test A
expect_status "REFUSED outside the zone" REFUSED www.example.org A

# ---- transports ------------------------------------------------------------

expect "TC over UDP (dig +ignore keeps the truncated answer)" \
	";; flags: qr aa tc rd; QUERY: 1, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 1" \
	tc.example.test A +ignore
expect "TC: dig retries over TCP and gets the record" "127\.0\.0\.5" tc.example.test A +short
grep -Eq "udp 127\.0\.0\.1:[0-9]+ id=[0-9]+ tc\.example\.test A -> NOERROR TC$" "$log" &&
	grep -Eq "tcp 127\.0\.0\.1:[0-9]+ id=[0-9]+ tc\.example\.test A -> NOERROR tc\.example\.test" "$log"
check "the server's log has the UDP TC and the TCP answer" test $? -eq 0
expect "+tcp" "127\.0\.0\.2" mx1.example.test A +tcp +short
expect "+tcp +keepopen: several queries on one connection" "20 mx2\.example\.test\." \
	+tcp +keepopen example.test MX +short keepopen.example.test A +short
c1=$(sed -n 's/^.* tcp \(127\.0\.0\.1:[0-9]*\) id=[0-9]* example\.test MX -> .*$/\1/p' "$log" | tail -n 1)
c2=$(sed -n 's/^.* tcp \(127\.0\.0\.1:[0-9]*\) id=[0-9]* keepopen\.example\.test A -> .*$/\1/p' "$log" | tail -n 1)
check "... the server saw both on one connection ($c1, $c2)" test -n "$c1" -a "$c1" = "$c2"
n=$(q big.example.test A +noedns +short | grep -c '^10\.0\.0\.')
check "546 octets without EDNS0: TC, then all 32 records over TCP (got $n)" test "$n" -eq 32
expect "... and the UDP try was truncated" ";; Truncated, retrying in TCP mode\." big.example.test A +noedns
out=$(q big.example.test A +bufsize=1232)
if grep -q "Truncated" <<<"$out"; then
	not_ok "with EDNS0 (1232) the 546 octets fit in UDP: $(head -c 300 <<<"$out")"
else
	check "with EDNS0 (1232) the 546 octets fit in UDP" grep -Eq "ANSWER: 32," <<<"$out"
fi

# ---- EDNS0 -----------------------------------------------------------------

expect "EDNS0: the answer carries an OPT with our payload size" \
	"; EDNS: version: 0, flags:; udp: 1232" example.test MX +bufsize=4096
expect "EDNS0: DO is echoed" "; EDNS: version: 0, flags: do; udp: 1232" example.test MX +dnssec
out=$(q example.test MX +noedns)
check "no EDNS0 in the query, none in the answer" bash -c '! grep -q "OPT PSEUDOSECTION" <<<"$1"' _ "$out"
expect_status "EDNS version 1: BADVERS" BADVERS example.test MX +edns=1 +noednsneg

# ---- no answer, late answer, garbage ---------------------------------------

start=$(date +%s%N)
out=$(dig -p "$port" @127.0.0.1 +time=1 +tries=1 silent.example.test A 2>&1)
rc=$?
check "a dropped query: dig times out (exit 9, got $rc)" test "$rc" -eq 9
check "... and the server recorded it" grep -Eq "silent\.example\.test A -> no answer \(dropped\)$" "$log"
start=$(date +%s%N)
out=$(q slow.example.test A)
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "a delayed answer comes after its 300 ms (took $ms ms)" test "$ms" -ge 290
check "... and it is an answer" grep -q "status: NOERROR" <<<"$out"
printf '\xab\xcd\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c' >"/dev/udp/127.0.0.1/$port"
sleep 0.3
check "an unreadable packet is answered FORMERR and recorded" \
	grep -Eq "udp 127\.0\.0\.1:[0-9]+ id=43981 - \(unreadable: offset 12: compression pointer to 12 does not point backwards\) -> FORMERR$" "$log"
check "one line per query in the server's log: time, transport, client, id, name, type, rcode" \
	grep -Eq '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z udp 127\.0\.0\.1:[0-9]+ id=[0-9]+ example\.test MX -> NOERROR example\.test 300 IN MX 10 mx1\.example\.test; example\.test 300 IN MX 20 mx2\.example\.test$' "$log"

# ---- exit codes --------------------------------------------------------------

"$bin" dns --zone "$zone" --listen "127.0.0.1:$port" >"$work/busy.out" 2>&1
rc=$?
check "dns on a port in use exits 3 (got $rc)" test "$rc" -eq 3
printf '{"zone": "example.test",\n "records": [{"name": "a.example.test", "type": "A", "address": "1.2.3"}]}\n' \
	>"$work/bad.json"
"$bin" dns --zone "$work/bad.json" --listen 127.0.0.1:0 >"$work/bad.out" 2>&1
rc=$?
check "a bad zone exits 2 (got $rc)" test "$rc" -eq 2
check "... with one FILE:LINE:COL line: $(head -n 1 "$work/bad.out")" test "$(cat "$work/bad.out")" = \
	"$work/bad.json:2:65: \$.records[0].address: expected an IPv4 address such as \"127.0.0.2\", got \"1.2.3\""
"$bin" dns --listen 127.0.0.1:0 >"$work/nozone.out" 2>&1
rc=$?
check "no --zone exits 2 (got $rc)" test "$rc" -eq 2

# ---- SIGTERM ------------------------------------------------------------------

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
check "SIGTERM: exit 0 (got $rc)" test "$rc" -eq 0
check "and says so: $(grep '^stopped by signal' "$log")" grep -q '^stopped by signal 15: ' "$log"
check "no sanitizer report in the server's log" \
	bash -c "! grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error' '$log'"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
