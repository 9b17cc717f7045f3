"""aiosmtpd-auth.py - Debian's aiosmtpd with SMTP AUTH, as a test target.

Runs aiosmtpd's own SMTP server (its Controller and its AUTH code, RFC
4954) with the Sink-like handler below and an authenticator that knows one
account, so that the AUTH scenarios of the suite have a real SASL server to
talk to. Nothing here implements SMTP: only the configuration is ours.

Usage (with Debian's interpreter, /usr/bin/python3):
    aiosmtpd-auth.py --listen 127.0.0.1:PORT --user NAME --password-file FILE
                     [--auth-required] [--tls-cert C --tls-key K]

  --auth-required  every command but AUTH, EHLO, HELO, NOOP, RSET, QUIT
                   gets 530 before a successful AUTH (RFC 4954 section 6)
  --tls-cert/--tls-key
                   offer STARTTLS and keep PLAIN and LOGIN off until TLS is
                   up (aiosmtpd's auth_require_tls: AUTH in the clear gets
                   538); without them AUTH works in the clear

The password is read from a file so that it never shows in `ps`. Runs until
SIGTERM or SIGINT.
"""

import argparse
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    """Accepts every message and keeps nothing."""

    async def handle_DATA(self, server, session, envelope):
        return "250 2.0.0 OK"


def make_authenticator(user, password):
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and
              auth_data.login == user and auth_data.password == password)
        return AuthResult(success=ok, handled=False)
    return authenticator


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", required=True, help="HOST:PORT")
    ap.add_argument("--user", required=True)
    ap.add_argument("--password-file", required=True)
    ap.add_argument("--auth-required", action="store_true")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    a = ap.parse_args()
    host, _, port = a.listen.rpartition(":")
    with open(a.password_file, "rb") as f:
        password = f.read().rstrip(b"\r\n")
    kwargs = dict(
        hostname=host, port=int(port), ready_timeout=10,
        authenticator=make_authenticator(a.user.encode(), password),
        auth_required=a.auth_required, auth_require_tls=False,
        ident="aiosmtpd-auth",
    )
    if a.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        kwargs.update(tls_context=ctx, require_starttls=False,
                      auth_require_tls=True)
    ctl = Controller(Sink(), **kwargs)
    ctl.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    print("listening on %s" % a.listen, flush=True)
    done.wait()
    ctl.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
