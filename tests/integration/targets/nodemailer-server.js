// nodemailer-server.js - nodemailer's smtp-server (3.x) as a test target.
//
// Run by tests/integration/target-nodemailer.sh with NODE_PATH pointing at
// the smtp-server that tests/setup-debian.sh installed from npm:
//   node nodemailer-server.js HOST PORT MBOX [CERT KEY]
// Listens on HOST:PORT, accepts every recipient and appends each message
// to MBOX; with CERT and KEY it offers STARTTLS (not required). AUTH is
// advertised and optional: any PLAIN or LOGIN login is refused with 535.
// AUTH is allowed before STARTTLS (allowInsecureAuth), so that the suite
// judges the AUTH exchange itself rather than the library's default
// 538 to every AUTH command in plaintext.
// No reverse lookup (the tests run without DNS). Messages over 10 MB are
// refused, and SIZE says so.
"use strict";
const fs = require("fs");
const { SMTPServer } = require("smtp-server");

const [host, port, mbox, cert, key] = process.argv.slice(2);
if (!host || !port || !mbox) {
	console.error("usage: node nodemailer-server.js HOST PORT MBOX [CERT KEY]");
	process.exit(2);
}
const sizeMax = 10 * 1024 * 1024;
const opts = {
	name: "mx.harness.test",
	banner: "smtp-harness target (nodemailer smtp-server)",
	disableReverseLookup: true,
	authOptional: true,
	allowInsecureAuth: true,
	size: sizeMax,
	logger: false,
	onAuth(auth, session, callback) {
		const err = new Error("Authentication failed");
		err.responseCode = 535;
		callback(err);
	},
	onData(stream, session, callback) {
		const out = fs.createWriteStream(mbox, { flags: "a" });
		out.write("From " + (session.envelope.mailFrom.address || "MAILER-DAEMON") +
			" " + new Date().toUTCString() + "\n");
		stream.pipe(out, { end: false });
		stream.on("end", () => {
			out.end("\n");
			if (stream.sizeExceeded) {
				const err = new Error("Message exceeds fixed maximum message size");
				err.responseCode = 552;
				return callback(err);
			}
			callback(null, "OK: queued");
		});
	},
};
if (cert && key) {
	opts.key = fs.readFileSync(key);
	opts.cert = fs.readFileSync(cert);
} else {
	opts.disabledCommands = ["STARTTLS"];
}
const server = new SMTPServer(opts);
server.on("error", (err) => console.error("smtp-server: " + err.message));
server.listen(Number(port), host, () => console.log("listening on " + host + ":" + port));
// Open sessions are cut: a test target has nothing to finish.
process.on("SIGTERM", () => process.exit(0));
