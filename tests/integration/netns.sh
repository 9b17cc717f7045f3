#!/usr/bin/env bash
# netns.sh - `run --netns`: a relay through the harness's fake MX, in a
# network namespace the harness makes and removes.
#
# A private Postfix instance (its own config_directory, queue, data
# directory and log in a temporary directory; no smtpd listener; chroot
# off; the machine's /etc/postfix and its running Postfix are not
# touched) is the MTA under test. `smtp-harness run --netns` creates the
# namespace, serves tests/integration/netns/zone.json as the fake DNS on
# 127.0.0.1:53 inside it (MX example.test -> mx.example.test ->
# 127.0.0.2), starts the instance there with --target-cmd 'postfix -c DIR
# start', and plays the MX of tests/integration/netns/mx-receives.json on
# 127.0.0.2:25. The client command (this script, --submit) injects the
# scenario's message with sendmail inside the namespace and waits for
# Postfix's verdict in its log; Postfix looks the MX up and delivers to
# the harness, which checks what arrives.
#
# Checks: the relay scenario passes; the fake DNS was asked MX
# example.test; Postfix logged relay=mx.example.test[127.0.0.2]:25 and
# status=sent; after the run no harness namespace, no /etc/netns/NAME and
# no process of the instance is left. Then the same run interrupted by
# SIGINT, and one killed by SIGKILL, while the harness waits for a
# client: everything is removed all the same (by the namespace's
# watchdog). A failing target command is exit 3 and leaves nothing; a
# bad zone is exit 2 before any namespace exists. Last, `smtp-harness
# netns --cleanup` removes a namespace named after a harness that no
# longer runs, with a process inside.
#
# Usage: netns.sh                   run the checks (needs root)
#        netns.sh --submit DIR MSG  (the client command, internal)
# Environment: HARNESS_BIN (default build/smtp-harness), HARNESS_IT_KEEP=1
#   keeps the work directory.
# Output: "ok - ..." / "not ok - ..." per check, then "N passed, M
# failed"; exit status 0 when every check passed, else 1. Stops only what
# it started, by pid; removes every namespace it made.

set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)

# --submit DIR MSG: inject MSG into the instance at DIR, wait up to 25 s
# for b@example.test's status in its log, exit 0 for sent, 1 otherwise.
submit() {
	local dir=$1 msg=$2 log=$1/maillog start st=""
	start=$(stat -c %s "$log" 2>/dev/null || echo 0)
	/usr/sbin/sendmail -i -C "$dir" -f a@harness.test b@example.test <"$msg" || exit 2
	for _ in $(seq 1 250); do
		st=$(tail -c +"$((start + 1))" "$log" 2>/dev/null |
			grep -E ' to=<b@example\.test>,.* status=' | head -n 1)
		[ -n "$st" ] && break
		sleep 0.1
	done
	echo "$st"
	case "$st" in
	*status=sent*) exit 0 ;;
	*) exit 1 ;;
	esac
}
if [ "${1:-}" = --submit ]; then
	submit "$2" "$3"
fi

bin=${HARNESS_BIN:-$top/build/smtp-harness}
passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit; }

[ -x "$bin" ] || { echo "netns.sh: error: no harness binary $bin (set HARNESS_BIN)" >&2; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
	not_ok "netns: must run as root (network namespaces, Postfix)"
	finish
fi
for c in ip postfix postconf /usr/sbin/sendmail; do
	command -v "$c" >/dev/null 2>&1 || { not_ok "netns: $c not installed (run tests/setup-debian.sh)"; finish; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/smtp-harness-netns.XXXXXX") || exit 1
chmod 755 "$work"
dir=$work/etc
queue=$work/queue
harness_pid=
stale_ns=
cleanup() {
	# Only what this script started or made, should a check have failed.
	if [ -n "$harness_pid" ] && kill -0 "$harness_pid" 2>/dev/null; then
		kill -TERM "$harness_pid" 2>/dev/null
		wait "$harness_pid" 2>/dev/null
	fi
	if [ -s "$queue/pid/master.pid" ] && instance_pids | grep -q .; then
		postfix -c "$dir" stop >/dev/null 2>&1
	fi
	if [ -n "$stale_ns" ] && ip netns list | grep -q "^$stale_ns\b"; then
		ip netns pids "$stale_ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		ip netns del "$stale_ns" 2>/dev/null
		rm -rf "/etc/netns/$stale_ns"
	fi
	if [ "${HARNESS_IT_KEEP:-0}" = 1 ]; then
		echo "netns.sh: work directory kept: $work"
	else
		rm -rf -- "$work"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The instance's processes: every Postfix daemon runs in its queue
# directory.
instance_pids() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/cwd" 2>/dev/null)" = "$queue" ] && echo "${p#/proc/}"
	done
}

# The instance: Debian's master.cf without the smtpd listener, chroot off;
# no relayhost, so mail for example.test goes where its MX says.
mkdir -p "$dir" "$queue" "$work/data"
chown postfix "$work/data"
cp /etc/postfix/master.cf "$dir/master.cf"
cat >"$dir/main.cf" <<EOC
compatibility_level = 3.6
queue_directory = $queue
data_directory = $work/data
maillog_file = $dir/maillog
maillog_file_prefixes = $work
myhostname = relay.harness.test
mydomain = harness.test
myorigin = harness.test
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
alias_maps =
alias_database =
transport_maps = inline:{harness.test=discard:}
smtp_tls_security_level = none
smtp_connection_cache_on_demand = no
biff = no
EOC
{
	postconf -c "$dir" -M# smtp/inet &&
	postconf -c "$dir" -F '*/*/chroot = n' &&
	{ postconf -c "$dir" -M postlog/unix-dgram | grep -q . ||
	  postconf -c "$dir" -Me 'postlog/unix-dgram = postlog unix-dgram n - n - 1 postlogd'; }
} >/dev/null || { not_ok "netns: could not write the Postfix instance's configuration"; finish; }
touch "$dir/maillog"
if ! postfix -c "$dir" check >"$work/check.out" 2>&1; then
	not_ok "netns: postfix check: $(tail -n 2 "$work/check.out" | tr '\n' ' ')"
	finish
fi

# nothing_left NAME WHAT: the namespace, its /etc/netns entry and the
# instance's processes are gone, within 15 s (after a signal the watchdog
# removes them once the harness is dead).
nothing_left() {
	local ns=$1 what=$2 left
	for _ in $(seq 1 150); do
		left=""
		ip netns list | grep -q "^$ns\b" && left="$left namespace $ns;"
		[ -e "/etc/netns/$ns" ] && left="$left /etc/netns/$ns;"
		[ -n "$(instance_pids)" ] && left="$left Postfix processes $(instance_pids | tr '\n' ' ');"
		[ -z "$left" ] && break
		sleep 0.1
	done
	if [ -n "$ns" ] && [ -z "$left" ]; then
		ok "netns $what: nothing left behind ($ns, /etc/netns/$ns, the Postfix instance)"
	else
		not_ok "netns $what: left behind:${left:- (no namespace name in the run output)}"
	fi
}

ns_name() { grep -o 'in network namespace smtp-harness-[0-9]*' "$1" | head -n 1 | awk '{print $4}'; }

# 1. The relay, end to end.
"$bin" run --netns --zone "$here/netns/zone.json" \
    --target-cmd "postfix -c '$dir' start" --listen 127.0.0.2:25 \
    --client-cmd "bash '$here/netns.sh' --submit '$dir' {message}" \
    --report "json:$work/relay.json" "$here/netns/mx-receives.json" \
    >"$work/run.out" 2>"$work/run.err"
status=$?
ns=$(ns_name "$work/run.err")
if [ "$status" -eq 0 ] && grep -q '^PASS  relay.netns.mx-receives' "$work/run.out"; then
	ok "netns relay: Postfix delivered through the fake MX to the harness (exit 0, PASS)"
else
	not_ok "netns relay: exit $status: $(tail -n 3 "$work/run.out" "$work/run.err" | tr '\n' ' ')"
fi
if grep -q 'udp .* example\.test MX -> NOERROR example\.test .* MX 10 mx\.example\.test' "$work/run.err"; then
	ok "netns relay: the fake DNS answered Postfix's MX query for example.test"
else
	not_ok "netns relay: no MX query for example.test in the fake DNS's record"
fi
if grep -qE 'to=<b@example\.test>, relay=mx\.example\.test\[127\.0\.0\.2\]:25, .*status=sent' "$dir/maillog"; then
	ok "netns relay: Postfix logged relay=mx.example.test[127.0.0.2]:25 status=sent"
else
	not_ok "netns relay: Postfix's log: $(grep ' to=<b@example' "$dir/maillog" | tail -n 1)"
fi
nothing_left "$ns" "relay"
if ! ip netns list | grep -q '^smtp-harness-' && ! compgen -G '/etc/netns/smtp-harness-*' >/dev/null; then
	ok "netns relay: no smtp-harness-* namespace or /etc/netns entry at all"
else
	not_ok "netns relay: harness namespaces remain: $(ip netns list | grep '^smtp-harness-' | tr '\n' ' ')"
fi

# 2. and 3. A run interrupted while it waits for a client (no
# --client-cmd), once Postfix runs inside: SIGINT, then SIGKILL.
for sig in INT KILL; do
	: >"$work/$sig.out"
	"$bin" run --netns --zone "$here/netns/zone.json" \
	    --target-cmd "postfix -c '$dir' start" --listen 127.0.0.2:25 \
	    "$here/netns/mx-receives.json" >"$work/$sig.out" 2>"$work/$sig.err" &
	harness_pid=$!
	for _ in $(seq 1 150); do
		grep -q 'listening on 127.0.0.2:25' "$work/$sig.out" && [ -n "$(instance_pids)" ] && break
		sleep 0.1
	done
	ns=$(ns_name "$work/$sig.err")
	if [ -n "$(instance_pids)" ] && [ -n "$ns" ] && ip netns list | grep -q "^$ns\b"; then
		ok "netns SIG$sig: the harness waits in $ns, Postfix runs inside"
	else
		not_ok "netns SIG$sig: the run did not get going: $(tail -n 3 "$work/$sig.out" "$work/$sig.err" | tr '\n' ' ')"
	fi
	kill -"$sig" "$harness_pid"
	wait "$harness_pid" 2>/dev/null
	status=$?
	harness_pid=
	want=$((128 + $(kill -l "$sig")))
	if [ "$status" -eq "$want" ]; then
		ok "netns SIG$sig: the harness ended by the signal (status $status)"
	else
		not_ok "netns SIG$sig: harness exit status $status, expected $want"
	fi
	nothing_left "$ns" "SIG$sig"
done

# 4. Runs that cannot happen: a target command that fails (exit 3, the
# namespace made and removed), a zone with an error and --zone without
# --netns (exit 2, no namespace at all).
"$bin" run --netns --target-cmd 'echo starting; exit 7' --listen 127.0.0.2:25 \
    "$here/netns/mx-receives.json" >"$work/fail.out" 2>"$work/fail.err"
status=$?
ns=$(ns_name "$work/fail.err")
if [ "$status" -eq 3 ] && grep -q 'target-cmd exited with status 7' "$work/fail.err"; then
	ok "netns target-cmd failing: exit 3, with its status"
else
	not_ok "netns target-cmd failing: exit $status: $(tail -n 2 "$work/fail.err" | tr '\n' ' ')"
fi
nothing_left "$ns" "target-cmd failing"
printf '{"zone": "example.test", "records": [{"name": "x", "type": "MX"}]}\n' >"$work/bad-zone.json"
"$bin" run --netns --zone "$work/bad-zone.json" --listen 127.0.0.2:25 \
    "$here/netns/mx-receives.json" >"$work/badzone.out" 2>"$work/badzone.err"
status=$?
"$bin" run --zone "$here/netns/zone.json" --listen 127.0.0.2:25 \
    "$here/netns/mx-receives.json" >"$work/nonetns.out" 2>"$work/nonetns.err"
status2=$?
if [ "$status" -eq 2 ] && grep -q 'bad-zone.json:1:' "$work/badzone.err" &&
    ! grep -q 'in network namespace' "$work/badzone.err" && [ "$status2" -eq 2 ] &&
    ! ip netns list | grep -q '^smtp-harness-'; then
	ok "netns: a bad zone, and --zone without --netns, exit 2 before any namespace"
else
	not_ok "netns: bad zone exit $status, no --netns exit $status2: $(cat "$work/badzone.err" "$work/nonetns.err" | tr '\n' ' ')"
fi

# 5. A stale namespace: named after a harness PID that no longer runs,
# with a process inside; `netns --cleanup` removes all of it.
sh -c 'exit 0' &
dead=$!
wait "$dead"
stale_ns=smtp-harness-$dead
if ip netns add "$stale_ns" && mkdir -p "/etc/netns/$stale_ns" &&
    echo 'nameserver 127.0.0.1' >"/etc/netns/$stale_ns/resolv.conf"; then
	ip netns exec "$stale_ns" sleep 300 &
	sleeper=$!
	sleep 0.3
	"$bin" netns --list >"$work/list.out" 2>&1
	if grep -q "^$stale_ns stale$" "$work/list.out"; then
		ok "netns --list: $stale_ns is stale"
	else
		not_ok "netns --list: $(tr '\n' ' ' <"$work/list.out")"
	fi
	"$bin" netns --cleanup >"$work/cleanup.out" 2>&1
	status=$?
	wait "$sleeper" 2>/dev/null
	if [ "$status" -eq 0 ] && grep -q "^$stale_ns: removed" "$work/cleanup.out" &&
	    ! ip netns list | grep -q "^$stale_ns\b" && [ ! -e "/etc/netns/$stale_ns" ] &&
	    ! kill -0 "$sleeper" 2>/dev/null; then
		ok "netns --cleanup: removed $stale_ns, /etc/netns/$stale_ns and the process inside"
	else
		not_ok "netns --cleanup: exit $status: $(tr '\n' ' ' <"$work/cleanup.out")"
	fi
else
	not_ok "netns --cleanup: could not make a stale namespace to remove"
fi
finish
