#!/bin/bash
# target-opensmtpd.sh - OpenSMTPD 6.8 (Debian 12's opensmtpd) as a test
# target on loopback.
#
# Not installed as a package (it would remove Postfix):
# tests/setup-debian.sh unpacks it into $HARNESS_SERVERS_DIR/opensmtpd,
# makes its users (opensmtpd, opensmtpq) and points the compiled-in
# /usr/libexec/opensmtpd at the unpacked helpers. This script writes a
# config per port and runs `smtpd -d -f CONF` in the foreground.
#
# What the config does: listens on 127.0.0.1:PORT only as
# mx.harness.test; at localhost it accepts postmaster and root (aliases
# to nobody) and refuses other users with 550; any other domain is
# accepted from anywhere (the listener is loopback only). Every message
# is appended, as user nobody, to $dir/mail-PORT/mbox. STARTTLS is
# offered with a throwaway certificate; on Debian 12 (OpenSSL 3) the
# handshake fails on the server side, a known upstream bug of 6.8.
#
# Usage: target-opensmtpd.sh start|stop|status [PORT]   (default 2601)
# Environment: OPENSMTPD_TLS=0 starts it without STARTTLS;
# HARNESS_SERVERS_DIR.
# Exit status: 0 done / running, 1 error, 3 (status only) not running.
# State: $HARNESS_STATE_DIR/opensmtpd/ (pid file, log, cert.pem, key.pem,
# smtpd-PORT.conf, aliases, catchall, mail-PORT/mbox).
#
# Limits: needs root. The queue (/var/spool/smtpd) and the control
# socket (/var/run/smtpd.sock) are compiled in, so only one instance runs
# at a time on a machine: start refuses a second one.

set -eu
harness_prog=target-opensmtpd.sh
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

host=127.0.0.1

cmd=${1:-}
port=${2:-2601}
harness_check_port "$port"
smtpd=$HARNESS_SERVERS_DIR/opensmtpd/usr/sbin/smtpd
dir=$(state_dir opensmtpd)
pidfile=$dir/opensmtpd-$port.pid
log=$dir/opensmtpd-$port.log
conf=$dir/smtpd-$port.conf
mbox=$dir/mail-$port/mbox

write_config() {
	local listen="listen on $host port $port hostname mx.harness.test"
	local pki=""
	if [ "${OPENSMTPD_TLS:-1}" != 0 ]; then
		pki="pki mx.harness.test cert \"$dir/cert.pem\"
pki mx.harness.test key \"$dir/key.pem\""
		listen="$listen tls pki mx.harness.test"
	fi
	printf 'postmaster: nobody\nroot: nobody\n' >"$dir/aliases"
	printf '@ nobody\n' >"$dir/catchall"
	cat >"$conf.tmp" <<EOF
# Written by tests/integration/target-opensmtpd.sh for $host:$port.
$pki
table aliases file:$dir/aliases
table catchall file:$dir/catchall
$listen
action "local" mda "/bin/sh -c 'cat >>$mbox'" alias <aliases>
action "other" mda "/bin/sh -c 'cat >>$mbox'" virtual <catchall>
match from any for domain "localhost" action "local"
match from any for any action "other"
EOF
	mv -f "$conf.tmp" "$conf"
}

# other_instance: true when this script runs smtpd on another port (a
# smtpd it did not start fails on its own, "already running", on $sock).
other_instance() {
	local f
	for f in "$dir"/opensmtpd-*.pid; do
		[ -e "$f" ] && [ "$f" != "$pidfile" ] && pid_alive "$f" && return 0
	done
	return 1
}

start() {
	[ "$(id -u)" -eq 0 ] || harness_die "must run as root (OpenSMTPD needs it)"
	[ -x "$smtpd" ] || harness_die "$smtpd not found (run tests/setup-debian.sh)"
	{ id opensmtpd && id opensmtpq; } >/dev/null 2>&1 ||
		harness_die "users opensmtpd/opensmtpq missing (run tests/setup-debian.sh)"
	[ -x /usr/libexec/opensmtpd/mail.mda ] ||
		harness_die "/usr/libexec/opensmtpd/mail.mda missing (run tests/setup-debian.sh)"
	if pid_alive "$pidfile"; then
		harness_info "already running on $host:$port (pid $(pid_read "$pidfile"))"
		return 0
	fi
	other_instance &&
		harness_die "another OpenSMTPD of this script runs (one per machine: the queue and control socket are fixed)"
	port_open "$host" "$port" &&
		harness_die "$host:$port is already in use by a process this script did not start"
	if [ "${OPENSMTPD_TLS:-1}" != 0 ]; then
		make_cert "$dir" mx.harness.test
	fi
	mkdir -p "${mbox%/*}" /var/lib/opensmtpd/empty
	chown nobody "${mbox%/*}" || harness_die "cannot give ${mbox%/*} to nobody"
	write_config
	local err
	err=$("$smtpd" -n -f "$conf" 2>&1) ||
		harness_die "smtpd refuses $conf: $(echo "$err" | head -n 2 | tr '\n' ' ')"
	: >"$log"
	spawn "$pidfile" "$log" "$smtpd" -d -f "$conf" ||
		harness_die "could not start OpenSMTPD"
	if ! wait_port "$host" "$port" 15; then
		log_tail "$log"
		stop_pid "$pidfile" || true
		harness_die "OpenSMTPD did not listen on $host:$port within 15 s"
	fi
	harness_info "started on $host:$port (pid $(pid_read "$pidfile"), log $log, mail $mbox)"
}

case "$cmd" in
start) start ;;
stop) target_stop OpenSMTPD "$pidfile" "$host" "$port" ;;
status) target_status "$pidfile" "$host" "$port" ;;
*) echo "usage: $harness_prog start|stop|status [PORT]" >&2; exit 1 ;;
esac
