#!/usr/bin/env bash
# relay-exim.sh - the relay scenarios of scenarios/relay against Exim 4.96
# as the MTA under test, in network namespaces the harness makes and
# removes.
#
# Exim is the one tests/setup-debian.sh unpacked (exim4-daemon-light).
# Its configuration, spool and logs live in
# $HARNESS_STATE_DIR/relay-exim/ (a fixed path: Exim keeps root only for
# a configuration listed in /etc/exim4/trusted_configs, and the list
# should not grow by one line a run). The configuration: a daemon on the
# namespace's 127.0.0.1:25 relaying for 127/8 (the scenarios that submit
# by SMTP), no local domains, one dnslookup router with `self = send`
# (every address of 127/8 is local inside the namespace, and the MX hosts
# the harness plays are there), an smtp transport with Exim's defaults,
# DSN advertised, no IPv6, and a retry rule F,1h,2s with a queue run
# every 2 s, so that the retry scenarios end in seconds. For each
# scenario the harness starts that daemon with an empty spool
# (--target-cmd) and submits with `exim4 -C CONF -oi -f FROM TO <MESSAGE`
# (or the scenario's own command, smtplib by SMTP).
#
# Checks: all the scenarios in one `run --netns` (a namespace each, one
# report), each scenario's verdict the one listed in $verdicts below
# (PASS unless listed; warnings and the FAILs listed there each have
# their RFC reason in docs/relay.md), the report naming the checks
# and the fake DNS's queries; a bad scenario among them is one line and
# exit 2. Then (with `smtp-harness relay`, one scenario a run) the same Exim made to misbehave where a
# setting can: with the domain's own address as fallback_hosts the
# no-apex row FAILs; with `control = submission` for every client
# (Message-ID and Date added) the relay-no-fixups row FAILs; with a
# router that takes a +suffix off the local-part the local-part row
# FAILs; with dns_again_means_nonexist = * (a SERVFAIL read as no such
# domain) the DNS-error row FAILs; with an empty errors_to on the router
# (failures discarded) the all-or-nothing and NOTIFY rows FAIL. After every
# run no namespace, /etc/netns entry or Exim process is left.
#
# Usage: relay-exim.sh [SCENARIO.json...]   (default: scenarios/relay/*.json)
# Environment: HARNESS_BIN (default build/smtp-harness),
#   HARNESS_SERVERS_DIR (where setup-debian.sh unpacked Exim),
#   HARNESS_IT_KEEP=1 keeps the work directory.
# Output: "ok - ..." / "not ok - ..." per check, then "N passed, M
# failed"; exit status 0 when every check passed, else 1.

set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=SCRIPTDIR/lib-netns.sh
. "$here/lib-netns.sh"
bin=${HARNESS_BIN:-$top/build/smtp-harness}
servers=${HARNESS_SERVERS_DIR:-$top/tests/servers}
exim=$servers/exim/usr/sbin/exim4
state=${HARNESS_STATE_DIR:-/tmp/smtp-harness-targets}/relay-exim
conf=$state/exim.conf
trusted=/etc/exim4/trusted_configs
exim_user=Debian-exim
passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit; }

# The verdict each scenario must give against Exim 4.96, an extended
# regular expression matched against "PASS", "PASS [N warning(s)]: IDS"
# or "FAIL (IDS)" (IDS: the checks that warned or failed). Exim sorts the
# addresses of a multihomed host into a random order (its specification,
# "The dnslookup router"), where RFC 5321 §5.1 says they MUST be tried in
# the order the resolver gave: multihomed-order FAILs in about half the
# runs, and only that row may. Past a next hop without DSN, Exim's
# notice for the NOTIFY=SUCCESS recipient says "Action: delivered" where
# RFC 3461 §5.2.2 asks for a "relayed" DSN (RFC 3464 §2.3.3: the hop
# takes no responsibility for reporting success): relay-to-non-dsn FAILs.
declare -A verdicts=(
	[null-mx]='PASS \[1 warning\]: rfc7505\.4\.1\.null-mx-codes'
	[multihomed-order]='PASS|FAIL \(rfc5321\.5\.1\.multihomed-order\)'
	[relay-to-non-dsn]='FAIL \(rfc3461\.5\.2\.2\.relay-to-non-dsn\)'
)

[ -x "$bin" ] || { echo "relay-exim.sh: error: no harness binary $bin (set HARNESS_BIN)" >&2; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
	not_ok "relay-exim: must run as root (network namespaces, Exim)"
	finish
fi
[ -x "$exim" ] || { not_ok "relay-exim: $exim not found (run tests/setup-debian.sh)"; finish; }
id "$exim_user" >/dev/null 2>&1 || { not_ok "relay-exim: user $exim_user missing (run tests/setup-debian.sh)"; finish; }
for c in ip python3; do
	command -v "$c" >/dev/null 2>&1 || { not_ok "relay-exim: $c not installed (run tests/setup-debian.sh)"; finish; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/smtp-harness-relay-exim.XXXXXX") || exit 1
harness_pid=
# The daemon and its children carry the configuration's path in their
# command line; the harness ends them with the namespace, this is the
# check (and the last resort) that it did.
exim_pids() {
	local p
	for p in /proc/[0-9]*; do
		tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "-C $conf " && echo "${p#/proc/}"
	done
}
cleanup() {
	if [ -n "$harness_pid" ] && kill -0 "$harness_pid" 2>/dev/null; then
		kill -TERM "$harness_pid" 2>/dev/null
		wait "$harness_pid" 2>/dev/null
	fi
	local p
	for p in $(exim_pids); do kill -TERM "$p" 2>/dev/null; done
	if [ "${HARNESS_IT_KEEP:-0}" = 1 ]; then
		echo "relay-exim.sh: work directory kept: $work"
	else
		rm -rf -- "$work"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# configure [TRANSPORT-LINES] [ACL-LINES] [ROUTER-LINES] [MAIN-LINES]: the
# configuration, written to a temporary name and renamed, root's and not
# writable by others (Exim refuses a trusted configuration anyone else
# could change).
configure() {
	mkdir -p "$state" && chmod 755 "$state" || return 1
	cat >"$conf.tmp" <<EOF
# Written by tests/integration/relay-exim.sh: Exim as a relay inside a
# network namespace, resolving through the harness's fake DNS.
keep_environment =
exim_path = $exim
spool_directory = $state/spool
log_file_path = $state/log/%slog
pid_file_path = $state/exim.pid
daemon_smtp_ports = 25
local_interfaces = 127.0.0.1
primary_hostname = relay.harness.test
qualify_domain = harness.test
domainlist local_domains =
hostlist relay_from_hosts = 127.0.0.0/8
tls_advertise_hosts =
dsn_advertise_hosts = *
disable_ipv6 = true
acl_smtp_rcpt = acl_check_rcpt
host_lookup =
rfc1413_hosts =
${4:-}

begin acl
acl_check_rcpt:
$2
  accept hosts = +relay_from_hosts
  deny   message = 5.7.1 relay not permitted

begin routers
dnslookup:
  driver = dnslookup
  domains = ! +local_domains
  transport = remote_smtp
  # The MX hosts are addresses of this host inside the namespace.
  self = send
${3:-}
  no_more

begin transports
remote_smtp:
  driver = smtp
$1

begin retry
*   *   F,1h,2s
EOF
	chmod 644 "$conf.tmp" && mv -f "$conf.tmp" "$conf" || return 1
	mkdir -p "$(dirname "$trusted")" && touch "$trusted" || return 1
	grep -qxF "$conf" "$trusted" || echo "$conf" >>"$trusted" || return 1
	"$exim" -C "$conf" -bV >"$work/check.out" 2>&1
}

# nothing_left NAME WHAT: nothing of the run is left (lib-netns.sh).
nothing_left() {
	netns_nothing_left "$1" "$2" "Exim" exim_pids
}

target_cmd="rm -rf '$state/spool' '$state/log' && mkdir '$state/spool' '$state/log' &&
 chown $exim_user:$exim_user '$state/spool' '$state/log' && '$exim' -C '$conf' -bd -q2s"
submit_cmd="'$exim' -C '$conf' -oi -f {from} {to} <{message}"

# relay NAME SCENARIO: one run with an empty spool; output in
# $work/NAME.*, status in $status, namespace in $ns.
relay() {
	local name=$1 scn=$2
	"$bin" relay --target-cmd "$target_cmd" --submit-cmd "$submit_cmd" \
	    --report "json:$work/$name.json" "$scn" \
	    >"$work/$name.out" 2>"$work/$name.err"
	status=$?
	cp "$state/log/mainlog" "$work/$name.mainlog" 2>/dev/null
	ns=$(grep -o 'in network namespace smtp-harness-[0-9]*' "$work/$name.err" | head -n 1 | awk '{print $4}')
}

# report_has NAME PYTHON-EXPR: the JSON report's first scenario as `s`.
report_has() {
	python3 - "$work/$1.json" "$2" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))["scenarios"][0]
sys.exit(0 if eval(sys.argv[2]) else 1)
EOF
}

if ! configure "" ""; then
	not_ok "relay-exim: Exim refuses $conf: $(head -n 2 "$work/check.out" | tr '\n' ' ')"
	finish
fi

# 1. The scenarios in one invocation, as a CI job would run them: `run
# --netns` gives each a namespace of its own, with Exim started afresh
# in it, and writes one report for all. Each gives the verdict listed
# for Exim.
if [ "$#" -gt 0 ]; then scenarios=("$@"); else scenarios=("$top"/scenarios/relay/*.json); fi
"$bin" run --netns --target-cmd "$target_cmd" --submit-cmd "$submit_cmd" \
    --report "json:$work/all.json" --report "junit:$work/all.xml" "${scenarios[@]}" \
    >"$work/all.out" 2>"$work/all.err"
status=$?
nscn=${#scenarios[@]}
# Exit 1 only with the FAIL the table allows (judged per scenario below).
if { [ "$status" -eq 0 ] || [ "$status" -eq 1 ]; } &&
    grep -q "^$nscn scenarios\?: .* 0 errors" "$work/all.out" &&
    [ "$(grep -c 'in network namespace smtp-harness-' "$work/all.err")" -eq "$nscn" ] &&
    grep -q "<testsuites name=\"smtp-harness\" tests=\"$nscn\" failures=\"[012]\" errors=\"0\"" "$work/all.xml"; then
	ok "run --netns with $nscn relay scenarios: exit $status, a namespace each, one JSON and one JUnit report"
else
	not_ok "run --netns with $nscn relay scenarios: exit $status: $(grep -v '^  t=' "$work/all.out" | tr '\n' ' ' | cut -c1-600) $(tail -n 3 "$work/all.err" | tr '\n' ' ')"
fi
for scn in "${scenarios[@]}"; do
	name=$(basename "$scn" .json)
	want=${verdicts[$name]:-PASS}
	got=$(python3 - "$work/all.json" "$scn" <<'EOF2'
import json, os, sys
run = json.load(open(sys.argv[1]))
for s in run["scenarios"]:
    if os.path.realpath(s["file"]) != os.path.realpath(sys.argv[2]):
        continue
    warned = sorted({f["check"] for f in s["findings"] if f["verdict"] == "WARN"})
    failed = sorted({f["check"] for f in s["findings"] if f["verdict"] == "FAIL"})
    line = s["verdict"]
    if failed:
        line += " (%s)" % " ".join(failed)
    elif warned:
        line += " [%d warning%s]: %s" % (len(warned), "" if len(warned) == 1 else "s", " ".join(warned))
    if not any(" dns " in l and " MX " in l for l in s["timeline"]) or not s["checks"]:
        line += " (no checks or no MX query in the report)"
    print(line)
EOF2
)
	if [[ $got =~ ^($want)$ ]]; then
		ok "relay $name against Exim: $got"
	else
		not_ok "relay $name against Exim: expected '$want', got '${got:-no such scenario in the report}'"
	fi
done
grep '^    [a-z]' "$work/all.out" | sed 's/^ */# WARN /'
ns=$(grep -o 'in network namespace smtp-harness-[0-9]*' "$work/all.err" | head -n 1 | awk '{print $4}')
nothing_left "$ns" "run --netns with $nscn relay scenarios"

# A bad scenario among them: one FILE:LINE:COL line, exit 2, before any
# namespace is made.
mkdir -p "$work/bad"
cp "${scenarios[@]}" "$work/bad/"
sed 's/"listen": "127.0.0.2:25"/"listen": "10.0.0.2:25"/' "$top/scenarios/relay/implicit-mx.json" \
    >"$work/bad/implicit-mx.json"
"$bin" run --netns --target-cmd "$target_cmd" --submit-cmd "$submit_cmd" "$work/bad" \
    >"$work/bad.out" 2>"$work/bad.err"
status=$?
if [ "$status" -eq 2 ] && [ "$(wc -l <"$work/bad.err")" -eq 1 ] &&
    grep -q "^$work/bad/implicit-mx.json:[0-9]*:[0-9]*: \$.hosts\[0\].listen: expected an address in 127/8" "$work/bad.err"; then
	ok "run --netns: a bad relay scenario among them is one FILE:LINE:COL line, exit 2, no namespace"
else
	not_ok "run --netns with a bad relay scenario: exit $status: $(tr '\n' ' ' <"$work/bad.err")"
fi

# The harness's own client as the submission (--submit-smtp): it speaks
# SMTP to Exim's daemon inside the namespace for the scenarios without a
# command of their own; Exim logs them as received by ESMTP. Nothing
# listening there: an ERROR saying so, exit 3.
smtp_scenarios=("$top/scenarios/relay/mx-preference-fallback.json"
    "$top/scenarios/relay/one-copy-per-host.json" "$top/scenarios/relay/bounce-on-5xx.json")
"$bin" run --netns --target-cmd "$target_cmd" --submit-smtp 127.0.0.1:25 \
    --report "json:$work/smtp.json" "${smtp_scenarios[@]}" >"$work/smtp.out" 2>"$work/smtp.err"
status=$?
if [ "$status" -eq 0 ] && grep -q '^3 scenarios: 3 passed' "$work/smtp.out" &&
    grep -q ' <= a@hb.test H=(submit.harness.test) \[127.0.0.1\] P=esmtp ' "$state/log/mainlog"; then
	ok "run --submit-smtp: the harness's client submitted to Exim by ESMTP, 3 scenarios PASS"
else
	not_ok "run --submit-smtp: exit $status: $(grep -v '^  t=' "$work/smtp.out" | tr '\n' ' ' | cut -c1-400) $(tail -n 3 "$work/smtp.err" | tr '\n' ' ')"
fi
"$bin" relay --quiet --target-cmd "$target_cmd" --submit-smtp 127.0.0.1:26 \
    "$top/scenarios/relay/implicit-mx.json" >"$work/smtp26.out" 2>"$work/smtp26.err"
status=$?
if [ "$status" -eq 3 ] && grep -q '^ERROR .*--submit-smtp) failed: could not connect to 127.0.0.1:26' "$work/smtp26.out"; then
	ok "relay --submit-smtp to a port where nothing listens: ERROR naming it, exit 3"
else
	not_ok "relay --submit-smtp 127.0.0.1:26: exit $status: $(tr '\n' ' ' <"$work/smtp26.out" | cut -c1-300)"
fi
ns=$(grep -o 'in network namespace smtp-harness-[0-9]*' "$work/smtp26.err" | head -n 1 | awk '{print $4}')
nothing_left "$ns" "relay --submit-smtp"

# 2. Exim made to misbehave, where a setting can: each relevant row FAILs.
# misbehave NAME SCENARIO WITHIN_MS TRANSPORT-LINES ACL-LINES CHECK-ID
#     [ROUTER-LINES [MAIN-LINES]]
misbehave() {
	local name=$1 scn=$2 within=$3 transport=$4 acl=$5 check=$6 router=${7:-} main=${8:-}
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
d["within_ms"] = int(sys.argv[2])
print(json.dumps(d))' "$scn" "$within" >"$work/$name.scenario.json"
	if ! configure "$transport" "$acl" "$router" "$main"; then
		not_ok "misbehaving Exim $name: $(head -n 2 "$work/check.out" | tr '\n' ' ')"
		return
	fi
	relay "$name" "$work/$name.scenario.json"
	if [ "$status" -eq 1 ] && grep -q "^FAIL " "$work/$name.out" &&
	    report_has "$name" "any(f['check'] == '$check' and f['verdict'] == 'FAIL' for f in s['findings'])"; then
		ok "misbehaving Exim $name: FAIL of $check ($(grep -m1 "^  $check" "$work/$name.out" | sed 's/^ *//' | cut -c1-160))"
	else
		not_ok "misbehaving Exim $name: exit $status, expected a FAIL of $check: $(grep -v '^  t=' "$work/$name.out" | tr '\n' ' ' | cut -c1-400)"
	fi
	nothing_left "$ns" "misbehaving Exim $name"
}
# The domain's own address as a fallback when every MX failed.
misbehave apex-fallback "$top/scenarios/relay/no-apex-fallback.json" 4000 \
    '  fallback_hosts = 127.0.0.5' '' rfc5321.5.1.no-apex-fallback
# Every client treated as a submission client: Message-ID and Date added
# to mail relayed for another host.
misbehave fixups "$top/scenarios/relay/relay-no-fixups.json" 20000 \
    '' '  warn   control = submission' rfc5321.6.4.relay-no-fixups
# A +suffix taken off the local-part by the router (meant for local
# mailboxes), which the smtp transport then leaves off (its default
# rcpt_include_affixes = false).
misbehave strip-suffix "$top/scenarios/relay/localpart-preserved.json" 20000 \
    '' '' rfc5321.2.4.localpart-preserved \
    '  local_part_suffix = +*
  local_part_suffix_optional'
# A temporary DNS failure taken for a domain that does not exist.
misbehave again-nonexist "$top/scenarios/relay/dns-servfail-retry.json" 8000 \
    '' '' rfc5321.5.1.dns-errors '' 'dns_again_means_nonexist = *'
# Delivery failures discarded (an empty errors_to on the router): no notice
# for the recipient the MX refused, none for a NOTIFY=FAILURE one.
misbehave no-errors-partial "$top/scenarios/relay/all-or-nothing.json" 5000 \
    '' '' rfc5321.4.1.1.4.all-or-nothing '  errors_to = ""'
misbehave no-errors-notify "$top/scenarios/relay/failure-dsn-rules.json" 5000 \
    '' '' rfc3461.5.2.6.failure-dsn-rules '  errors_to = ""'
configure "" "" || not_ok "relay-exim: could not restore $conf"
finish
