#!/bin/bash
# target-smtp-sink.sh - Postfix's smtp-sink as a test target on loopback.
#
# smtp-sink accepts every message and throws it away. The Postfix target
# uses it as its relayhost so that relayed mail has somewhere to go; it is
# also a target of its own (a small server that offers XCLIENT, XFORWARD
# and AUTH).
#
# Usage: target-smtp-sink.sh start|stop|status [PORT]   (default 2526)
# Exit status: 0 done / running, 1 error, 3 (status only) not running.
# State: $HARNESS_STATE_DIR/smtp-sink/ (pid file, log).

set -eu
harness_prog=target-smtp-sink.sh
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

host=127.0.0.1
sink=/usr/sbin/smtp-sink

cmd=${1:-}
port=${2:-2526}
harness_check_port "$port"
dir=$(state_dir smtp-sink)
pidfile=$dir/smtp-sink-$port.pid
log=$dir/smtp-sink-$port.log

start() {
	[ -x "$sink" ] || harness_die "$sink not found (run tests/setup-debian.sh)"
	if pid_alive "$pidfile"; then
		harness_info "already running on $host:$port (pid $(pid_read "$pidfile"))"
		return 0
	fi
	port_open "$host" "$port" &&
		harness_die "$host:$port is already in use by a process this script did not start"
	# Bound as root, then runs as nobody; a non-root caller keeps its uid.
	local user=()
	[ "$(id -u)" -eq 0 ] && user=(-u nobody)
	: >"$log"
	spawn "$pidfile" "$log" "$sink" "${user[@]}" "$host:$port" 100 ||
		harness_die "could not start smtp-sink"
	if ! wait_port "$host" "$port" 10; then
		log_tail "$log"
		stop_pid "$pidfile" || true
		harness_die "smtp-sink did not listen on $host:$port within 10 s"
	fi
	harness_info "started on $host:$port (pid $(pid_read "$pidfile"), log $log)"
}

case "$cmd" in
start) start ;;
stop) target_stop smtp-sink "$pidfile" "$host" "$port" ;;
status) target_status "$pidfile" "$host" "$port" ;;
*) echo "usage: $harness_prog start|stop|status [PORT]" >&2; exit 1 ;;
esac
