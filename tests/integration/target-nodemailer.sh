#!/bin/bash
# target-nodemailer.sh - nodemailer's smtp-server (3.x, Node.js) as a test
# target on loopback.
#
# smtp-server is a library: targets/nodemailer-server.js is the server
# around it (accepts every recipient, appends each message to
# $dir/mail-PORT/mbox, AUTH advertised but every login refused, SIZE 10 MB,
# STARTTLS with a throwaway certificate, no reverse lookups). The module
# comes from npm into $HARNESS_SERVERS_DIR/node (tests/setup-debian.sh).
#
# Usage: target-nodemailer.sh start|stop|status [PORT]   (default 2602)
# Environment: NODEMAILER_TLS=0 starts it without STARTTLS;
# HARNESS_SERVERS_DIR.
# Exit status: 0 done / running, 1 error, 3 (status only) not running.
# State: $HARNESS_STATE_DIR/nodemailer/ (pid file, log, cert.pem, key.pem,
# mail-PORT/mbox).

set -eu
harness_prog=target-nodemailer.sh
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

host=127.0.0.1
cmd=${1:-}
port=${2:-2602}
harness_check_port "$port"
modules=$HARNESS_SERVERS_DIR/node/node_modules
dir=$(state_dir nodemailer)
pidfile=$dir/nodemailer-$port.pid
log=$dir/nodemailer-$port.log
mbox=$dir/mail-$port/mbox

start() {
	local node
	node=$(harness_node)
	[ -d "$modules/smtp-server" ] ||
		harness_die "$modules/smtp-server not found (run tests/setup-debian.sh)"
	local tls=()
	if [ "${NODEMAILER_TLS:-1}" != 0 ]; then
		make_cert "$dir" mx.harness.test
		tls=("$dir/cert.pem" "$dir/key.pem")
	fi
	mkdir -p "${mbox%/*}"
	NODE_PATH=$modules target_spawn "smtp-server" "$pidfile" "$log" 15 \
		"$node" "$HARNESS_LIB_DIR/targets/nodemailer-server.js" "$host" "$port" "$mbox" "${tls[@]}"
}

case "$cmd" in
start) start ;;
stop) target_stop "smtp-server" "$pidfile" "$host" "$port" ;;
status) target_status "$pidfile" "$host" "$port" ;;
*) echo "usage: $harness_prog start|stop|status [PORT]" >&2; exit 1 ;;
esac
