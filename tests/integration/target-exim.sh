#!/bin/bash
# target-exim.sh - Exim 4.96 (Debian 12's exim4-daemon-light) as a test
# target on loopback.
#
# Exim is not installed as a package (Debian's MTAs exclude each other,
# and Postfix is the installed one): tests/setup-debian.sh unpacks its
# packages into $HARNESS_SERVERS_DIR/exim. This script writes a config of
# its own per port, lists it in /etc/exim4/trusted_configs (Exim keeps
# root only for a config listed there), and runs `exim4 -C CONF -bdf
# -q1m` in the foreground under spawn.
#
# What the config does: listens on 127.0.0.1:PORT only, calls itself
# mx.harness.test, accepts postmaster@ and root@ at localhost and
# harness.test and refuses any other local part there at RCPT with 550
# 5.1.1, relays any other domain for 127.0.0.0/8, and delivers every
# accepted message to one mbox file, $dir/mail-PORT/mbox (or, with
# EXIM_RELAY, relays the mail of other domains over SMTP). STARTTLS is
# offered with a throwaway certificate; PRDR and DSN are advertised.
#
# Usage: target-exim.sh start|stop|status|paths [PORT]   (default 2600)
#   paths prints the files of that port, one "NAME PATH" per line
#   (config, mbox, mainlog, rejectlog, paniclog, spool, pid), for tests
#   that read what Exim did.
# Environment:
#   EXIM_TLS=0              no STARTTLS
#   EXIM_RELAY=HOST:PORT    send mail for domains other than localhost and
#                           harness.test to HOST:PORT over SMTP (no DNS;
#                           one attempt a minute while it fails), e.g. a
#                           harness --listen, to capture Exim's client side
#   EXIM_QUEUE_INTERVAL     queue run interval (default 1m)
#   HARNESS_SERVERS_DIR     where setup-debian.sh unpacked Exim
# Exit status: 0 done / running, 1 error, 3 (status only) not running.
# State: $HARNESS_STATE_DIR/exim/ (pid file, the daemon's stdout log,
# cert.pem, key.pem, exim-PORT.conf, spool-PORT/, log-PORT/, mail-PORT/mbox).
#
# Limits: needs root (Exim switches to the Debian-exim user for
# deliveries; a config outside trusted_configs would run unprivileged).

set -eu
harness_prog=target-exim.sh
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

host=127.0.0.1
exim_user=Debian-exim
trusted=/etc/exim4/trusted_configs

cmd=${1:-}
port=${2:-2600}
harness_check_port "$port"
exim=$HARNESS_SERVERS_DIR/exim/usr/sbin/exim4
dir=$(state_dir exim)
pidfile=$dir/exim-$port.pid
log=$dir/exim-$port.log
conf=$dir/exim-$port.conf
spool=$dir/spool-$port
logdir=$dir/log-$port
mbox=$dir/mail-$port/mbox

# write_config: the config for this port, to a temporary name and then
# renamed, owned by root and not writable by anyone else (Exim refuses a
# trusted config that others could change).
write_config() {
	local tls relay_router='' relay_transport=''
	if [ "${EXIM_TLS:-1}" != 0 ]; then
		tls="tls_certificate = $dir/cert.pem
tls_privatekey = $dir/key.pem
tls_advertise_hosts = *"
	else
		tls="tls_advertise_hosts ="
	fi
	if [ -n "${EXIM_RELAY:-}" ]; then
		local rh=${EXIM_RELAY%:*} rp=${EXIM_RELAY##*:}
		harness_loopback "$rh"
		harness_check_port "$rp"
		relay_router="relay:
  driver = manualroute
  domains = ! +local_domains
  transport = relay_smtp
  route_list = * $rh
  self = send
"
		relay_transport="relay_smtp:
  driver = smtp
  port = $rp
  hosts_try_chunking = *
"
	fi
	cat >"$conf.tmp" <<EOF
# Written by tests/integration/target-exim.sh for 127.0.0.1:$port.
keep_environment =
exim_path = $exim
spool_directory = $spool
log_file_path = $logdir/%slog
pid_file_path = $dir/daemon-$port.pid
daemon_smtp_ports = $port
local_interfaces = $host
primary_hostname = mx.harness.test
qualify_domain = harness.test
domainlist local_domains = localhost : harness.test
hostlist relay_from_hosts = 127.0.0.0/8
$tls
prdr_enable = true
dsn_advertise_hosts = *
acl_smtp_rcpt = acl_check_rcpt
# The tests send from loopback with made-up names: no DNS look-ups.
host_lookup =
rfc1413_hosts =

begin acl
acl_check_rcpt:
  accept domains = +local_domains
         local_parts = postmaster : root
  deny   domains = +local_domains
         message = 5.1.1 <\$local_part@\$domain>: user unknown
  accept hosts = +relay_from_hosts
  deny   message = 5.7.1 relay not permitted

begin routers
$relay_router
to_file:
  driver = accept
  transport = to_file

begin transports
$relay_transport
to_file:
  driver = appendfile
  file = $mbox
  user = $exim_user

begin retry
*   *   F,1h,1m
EOF
	chmod 644 "$conf.tmp"
	mv -f "$conf.tmp" "$conf"
}

# trust_config: list $conf in Exim's compiled-in TRUSTED_CONFIG_LIST.
trust_config() {
	mkdir -p "$(dirname "$trusted")" || harness_die "cannot create $(dirname "$trusted")"
	{ touch "$trusted" && chmod 644 "$trusted"; } ||
		harness_die "cannot write $trusted"
	grep -qxF "$conf" "$trusted" || echo "$conf" >>"$trusted" ||
		harness_die "cannot write $trusted"
}

start() {
	[ "$(id -u)" -eq 0 ] || harness_die "must run as root (Exim needs it)"
	[ -x "$exim" ] || harness_die "$exim not found (run tests/setup-debian.sh)"
	id "$exim_user" >/dev/null 2>&1 ||
		harness_die "user $exim_user missing (run tests/setup-debian.sh)"
	if pid_alive "$pidfile"; then
		harness_info "already running on $host:$port (pid $(pid_read "$pidfile"))"
		return 0
	fi
	port_open "$host" "$port" &&
		harness_die "$host:$port is already in use by a process this script did not start"
	make_cert "$dir" mx.harness.test
	# Exim reads the key after it has given up root.
	{ chgrp "$exim_user" "$dir/key.pem" && chmod 640 "$dir/key.pem"; } ||
		harness_die "cannot make $dir/key.pem readable by $exim_user"
	mkdir -p "$spool" "$logdir"
	# The directory too: Exim locks the mbox with a file beside it.
	mkdir -p "${mbox%/*}"
	chown -R "$exim_user:$exim_user" "$spool" "$logdir" "${mbox%/*}" ||
		harness_die "cannot give $spool and $logdir to $exim_user"
	write_config
	trust_config
	local err
	err=$("$exim" -C "$conf" -bV 2>&1 >/dev/null) ||
		harness_die "Exim refuses $conf: $(echo "$err" | head -n 2 | tr '\n' ' ')"
	: >"$log"
	spawn "$pidfile" "$log" "$exim" -C "$conf" -bdf -q"${EXIM_QUEUE_INTERVAL:-1m}" ||
		harness_die "could not start Exim"
	if ! wait_port "$host" "$port" 15; then
		log_tail "$log"
		log_tail "$logdir/paniclog"
		stop_pid "$pidfile" || true
		harness_die "Exim did not listen on $host:$port within 15 s"
	fi
	harness_info "started on $host:$port (pid $(pid_read "$pidfile"), log $logdir/mainlog, mail $mbox)"
}

paths() {
	printf '%s %s\n' config "$conf" mbox "$mbox" mainlog "$logdir/mainlog" \
		rejectlog "$logdir/rejectlog" paniclog "$logdir/paniclog" \
		spool "$spool" pid "$pidfile" binary "$exim"
}

case "$cmd" in
start) start ;;
stop) target_stop Exim "$pidfile" "$host" "$port" ;;
status) target_status "$pidfile" "$host" "$port" ;;
paths) paths ;;
*) echo "usage: $harness_prog start|stop|status|paths [PORT]" >&2; exit 1 ;;
esac
