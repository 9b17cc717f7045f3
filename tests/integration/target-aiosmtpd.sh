#!/bin/bash
# target-aiosmtpd.sh - Debian's aiosmtpd (1.4) as a test target on loopback.
#
# Runs `python3 -m aiosmtpd` with the Sink handler (accepts every message
# and discards it), SMTPUTF8 on, and STARTTLS offered with a throwaway
# certificate but not required. Debian's own interpreter is used on
# purpose: the python3 on PATH may be another build without Debian's
# modules.
#
# Usage: target-aiosmtpd.sh start|stop|status [PORT]   (default 2529)
# Environment: AIOSMTPD_TLS=0 starts it without STARTTLS.
# Exit status: 0 done / running, 1 error, 3 (status only) not running.
# State: $HARNESS_STATE_DIR/aiosmtpd/ (pid file, log, cert.pem, key.pem).

set -eu
harness_prog=target-aiosmtpd.sh
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

host=127.0.0.1
python=/usr/bin/python3

cmd=${1:-}
port=${2:-2529}
harness_check_port "$port"
dir=$(state_dir aiosmtpd)
pidfile=$dir/aiosmtpd-$port.pid
log=$dir/aiosmtpd-$port.log

start() {
	[ -x "$python" ] || harness_die "$python not found (run tests/setup-debian.sh)"
	"$python" -c 'import aiosmtpd.handlers' 2>/dev/null ||
		harness_die "$python cannot import aiosmtpd (run tests/setup-debian.sh)"
	if pid_alive "$pidfile"; then
		harness_info "already running on $host:$port (pid $(pid_read "$pidfile"))"
		return 0
	fi
	port_open "$host" "$port" &&
		harness_die "$host:$port is already in use by a process this script did not start"
	# -n: stay as the caller; without it aiosmtpd tries to become nobody
	# and fails when not root. -u: SMTPUTF8.
	local args=(-n -u -c aiosmtpd.handlers.Sink -l "$host:$port")
	if [ "${AIOSMTPD_TLS:-1}" != 0 ]; then
		make_cert "$dir" mx.harness.test
		args+=(--tlscert "$dir/cert.pem" --tlskey "$dir/key.pem" --no-requiretls)
	fi
	: >"$log"
	spawn "$pidfile" "$log" "$python" -m aiosmtpd "${args[@]}" ||
		harness_die "could not start aiosmtpd"
	if ! wait_port "$host" "$port" 15; then
		log_tail "$log"
		stop_pid "$pidfile" || true
		harness_die "aiosmtpd did not listen on $host:$port within 15 s"
	fi
	harness_info "started on $host:$port (pid $(pid_read "$pidfile"), log $log)"
}

case "$cmd" in
start) start ;;
stop) target_stop aiosmtpd "$pidfile" "$host" "$port" ;;
status) target_status "$pidfile" "$host" "$port" ;;
*) echo "usage: $harness_prog start|stop|status [PORT]" >&2; exit 1 ;;
esac
