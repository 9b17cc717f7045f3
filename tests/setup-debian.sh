#!/bin/bash
# setup-debian.sh - install what smtp-harness needs on Debian 12.
#
# Installs the build dependencies and, unless --build-only is given, the
# test tools and the mail software the integration tests run against
# (Postfix, smtp-sink, aiosmtpd, swaks, tshark, dig), and Chromium, which
# renders the HTML reports headless. Everything comes from
# Debian's archive. Safe to run any number of times: debconf answers are
# re-set and apt-get install leaves installed packages alone.
#
# Postfix and Wireshark ask questions at install time; both are answered
# in advance so that the install never waits for a terminal. Postfix is
# installed as "Local only": it is configured for the tests and started
# by tests/integration/target-postfix.sh, not by this script.
#
# Usage: tests/setup-debian.sh [--build-only]
# Runs as root, or re-runs itself through sudo when not root.
# apt output goes to a log file; one line per phase goes to stdout.

set -eu

prog=setup-debian.sh

build_pkgs="build-essential cmake pkg-config check libuv1-dev libpcap-dev
	libcjson-dev libssl-dev libedit-dev clang libclang-rt-14-dev"

# swaks needs the two Perl TLS modules for --tls; sasl2-bin (saslpasswd2)
# and libsasl2-modules give Postfix's smtpd a sasldb account (auth.sh).
test_pkgs="tshark tcpdump swaks curl msmtp python3-aiosmtpd python3-jsonschema libxml2-utils iproute2 procps ca-certificates
	openssl libnet-ssleay-perl libio-socket-ssl-perl postfix bind9-dnsutils chromium tmux
	sasl2-bin libsasl2-modules"

die() {
	echo "$prog: error: $*" >&2
	exit 1
}

usage() {
	echo "usage: $prog [--build-only]" >&2
	exit 2
}

build_only=0
for arg in "$@"; do
	case "$arg" in
	--build-only) build_only=1 ;;
	-h|--help) usage ;;
	*) echo "$prog: error: unknown option: $arg" >&2; usage ;;
	esac
done

if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 ||
		die "must run as root (sudo is not installed)"
	echo "$prog: not root, re-running through sudo"
	exec sudo -- bash "$0" "$@"
fi

[ -r /etc/debian_version ] || die "this is not a Debian system"
command -v apt-get >/dev/null 2>&1 || die "apt-get not found"

log=${HARNESS_SETUP_LOG:-${TMPDIR:-/tmp}/smtp-harness-setup.log}
: >"$log" || die "cannot write log file $log"

# run PHASE CMD...: run one phase with its output in the log; on failure
# show the end of the log so the reason is visible without opening it.
run() {
	phase=$1
	shift
	echo "$prog: $phase"
	echo "== $phase: $*" >>"$log"
	if ! "$@" >>"$log" 2>&1; then
		tail -n 20 "$log" >&2
		die "$phase failed (full log: $log)"
	fi
}

export DEBIAN_FRONTEND=noninteractive
apt_install="apt-get install -y --no-install-recommends -o Dpkg::Use-Pty=0"

run "updating package lists" apt-get update

if [ "$build_only" -eq 1 ]; then
	# shellcheck disable=SC2086 # word splitting of the lists is intended
	run "installing build dependencies" $apt_install $build_pkgs
	echo "$prog: done (build dependencies only)"
	exit 0
fi

preseed() {
	debconf-set-selections <<-EOF
	postfix postfix/main_mailer_type select Local only
	postfix postfix/mailname string harness.test
	wireshark-common wireshark-common/install-setuid boolean false
	EOF
}
run "preseeding debconf (postfix, wireshark-common)" preseed

# shellcheck disable=SC2086
run "installing build dependencies" $apt_install $build_pkgs
# shellcheck disable=SC2086
run "installing test tools and mail servers" $apt_install $test_pkgs

for tool in postconf postfix /usr/sbin/smtp-sink swaks tshark tcpdump curl msmtp dig xmllint chromium tmux; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool missing after install"
done
/usr/bin/python3 -c 'import aiosmtpd' 2>>"$log" ||
	die "/usr/bin/python3 cannot import aiosmtpd after install"
echo "$prog: done (log: $log)"
