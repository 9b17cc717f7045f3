#!/bin/bash
# target-haraka.sh - Haraka (3.x, Node.js) as a test target on loopback.
#
# Haraka comes from npm into $HARNESS_SERVERS_DIR/node
# (tests/setup-debian.sh). This script makes a Haraka directory of its
# own per port (`haraka -i DIR`, then its config files rewritten) and runs
# `haraka -c DIR` in one process (nodes=0, no cluster).
#
# What the config does: listens on 127.0.0.1:PORT only as mx.harness.test;
# plugins tls (STARTTLS with a throwaway certificate), rcpt_to.in_host_list
# (any local part at localhost and harness.test is accepted, other domains
# are refused with 550) and queue/test (each message is written to a file
# in the instance's own temporary directory, tmp/).
#
# Usage: target-haraka.sh start|stop|status [PORT]   (default 2603)
# Environment: HARAKA_TLS=0 starts it without STARTTLS; HARNESS_SERVERS_DIR.
# Exit status: 0 done / running, 1 error, 3 (status only) not running.
# State: $HARNESS_STATE_DIR/haraka/ (pid file, log, cert.pem, key.pem, and
# the instance directory haraka-PORT/).

set -eu
harness_prog=target-haraka.sh
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

host=127.0.0.1
cmd=${1:-}
port=${2:-2603}
harness_check_port "$port"
haraka=$HARNESS_SERVERS_DIR/node/node_modules/Haraka/bin/haraka
dir=$(state_dir haraka)
pidfile=$dir/haraka-$port.pid
log=$dir/haraka-$port.log
inst=$dir/haraka-$port

configure() {
	if [ ! -d "$inst/config" ]; then
		"$node" "$haraka" -i "$inst" >/dev/null 2>&1 ||
			harness_die "haraka -i $inst failed"
	fi
	local c=$inst/config plugins="rcpt_to.in_host_list
queue/test"
	printf '[main]\nlisten=%s:%s\nnodes=0\n' "$host" "$port" >"$c/smtp.ini"
	echo mx.harness.test >"$c/me"
	printf 'localhost\nharness.test\n' >"$c/host_list"
	if [ "${HARAKA_TLS:-1}" != 0 ]; then
		make_cert "$dir" mx.harness.test
		cp "$dir/cert.pem" "$c/tls_cert.pem"
		cp "$dir/key.pem" "$c/tls_key.pem"
		plugins="tls
$plugins"
	fi
	echo "$plugins" >"$c/plugins"
	mkdir -p "$inst/tmp"
}

start() {
	[ -f "$haraka" ] || harness_die "$haraka not found (run tests/setup-debian.sh)"
	node=$(harness_node)
	pid_alive "$pidfile" || configure
	# queue/test writes to the system's temporary directory.
	TMPDIR=$inst/tmp target_spawn Haraka "$pidfile" "$log" 20 "$node" "$haraka" -c "$inst"
}

case "$cmd" in
start) start ;;
stop) target_stop Haraka "$pidfile" "$host" "$port" ;;
status) target_status "$pidfile" "$host" "$port" ;;
*) echo "usage: $harness_prog start|stop|status [PORT]" >&2; exit 1 ;;
esac
