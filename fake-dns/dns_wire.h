/*
 * dns_wire - the DNS message codec (pure, no I/O).
 *
 * RFC 1035 §4: a 12-octet header, then the question, answer, authority
 * and additional sections. dns_wire_parse reads a whole message into a
 * dns_msg; dns_wire_encode writes one back, compressing names (§4.1.4).
 * An OPT pseudo-record in the additional section (RFC 6891 EDNS0) is not
 * kept with the records: it is lifted into dns_msg.edns.
 *
 * Names are kept in text: labels joined by '.', no trailing dot, the root
 * is "."; a '.' or '\' inside a label is written "\." / "\\", any octet
 * outside '!'..'~' as "\DDD" (decimal). Case is kept as it came (the
 * answer must echo the question's case); dns_name_eq compares ASCII
 * case-insensitively (RFC 4343).
 *
 * Hostile packets are the normal case. The reader never reads past len;
 * a compression pointer must point strictly backwards from the label it
 * replaces (so no loop is possible), not into the header, and at most
 * DNS_POINTER_HOPS_MAX are followed per name; labels over DNS_LABEL_MAX, names over
 * DNS_NAME_WIRE_MAX, the obsolete label types 01/10, rdata that does not
 * fill its RDLENGTH exactly, more than DNS_RRS_MAX records, a second OPT
 * and bytes after the last record are each an error with its own message
 * ("offset N: ..."). Types it knows (A, AAAA, NS, CNAME, PTR, MX, TXT,
 * SOA) are decoded; any other rdata is kept as raw octets.
 *
 * A dns_msg owns its record arrays and rdata; dns_msg_free releases them.
 */
#ifndef FAKE_DNS_WIRE_H
#define FAKE_DNS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "harness/util/harness_limits.h"
#include "harness/util/vbuf.h"

enum {
	DNS_TYPE_A = 1, DNS_TYPE_NS = 2, DNS_TYPE_CNAME = 5, DNS_TYPE_SOA = 6,
	DNS_TYPE_PTR = 12, DNS_TYPE_MX = 15, DNS_TYPE_TXT = 16, DNS_TYPE_AAAA = 28,
	DNS_TYPE_OPT = 41, DNS_TYPE_ANY = 255
};

enum { DNS_CLASS_IN = 1, DNS_CLASS_ANY = 255 };

enum {
	DNS_RCODE_NOERROR = 0, DNS_RCODE_FORMERR = 1, DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3, DNS_RCODE_NOTIMP = 4, DNS_RCODE_REFUSED = 5,
	DNS_RCODE_BADVERS = 16	/* extended: needs EDNS0 (RFC 6891 §9) */
};

/* Header flag bits (RFC 1035 §4.1.1), as in the second 16-bit word. */
#define DNS_FLAG_QR	0x8000
#define DNS_FLAG_AA	0x0400
#define DNS_FLAG_TC	0x0200
#define DNS_FLAG_RD	0x0100
#define DNS_FLAG_RA	0x0080
#define DNS_OPCODE(flags)	(((flags) >> 11) & 0xf)
#define DNS_EDNS_DO	0x8000	/* DNSSEC OK, in the OPT's flags */

typedef struct dns_question {
	char name[DNS_NAME_TEXT_MAX];
	uint16_t type;
	uint16_t class_;
} dns_question;

typedef struct dns_rr {
	char name[DNS_NAME_TEXT_MAX];
	uint16_t type;
	uint16_t class_;
	uint32_t ttl;
	uint8_t addr[16];		/* A: 4 octets, AAAA: 16 */
	uint16_t preference;		/* MX */
	char target[DNS_NAME_TEXT_MAX];	/* MX exchange, CNAME, PTR, NS; SOA mname */
	char rname[DNS_NAME_TEXT_MAX];	/* SOA */
	uint32_t soa[5];		/* SOA serial, refresh, retry, expire, minimum */
	uint8_t *rdata;			/* TXT (its character-strings) and unknown types */
	uint16_t rdlen;
} dns_rr;

typedef struct dns_edns {
	int present;
	uint16_t udp_size;	/* requestor's payload size, as sent */
	uint8_t ext_rcode;	/* upper 8 bits of the 12-bit rcode */
	uint8_t version;
	uint16_t flags;		/* DO and the rest */
	uint8_t *options;	/* the OPT rdata, kept raw */
	uint16_t optlen;
} dns_edns;

typedef struct dns_msg {
	uint16_t id;
	uint16_t flags;		/* QR, opcode, AA, TC, RD, RA, Z, low 4 bits of rcode */
	dns_question *q;
	size_t nq;
	dns_rr *rr[3];		/* answer, authority, additional (OPT lifted out) */
	size_t nrr[3];
	size_t caprr[3];
	dns_edns edns;
} dns_msg;

enum { DNS_SEC_ANSWER = 0, DNS_SEC_AUTHORITY = 1, DNS_SEC_ADDITIONAL = 2 };

/* Parses a whole message. Returns 0, or -1 with m empty and err saying
 * "offset N: what". m must be zeroed or freed first. */
int dns_wire_parse(const uint8_t *p, size_t len, dns_msg *m, char *err, size_t errlen);
/* Writes m into out (appending). A message longer than max is cut to its
 * header, question and OPT, with TC set; *truncated says so (may be
 * NULL). Returns 0, or -1 when a name in m is not valid text or m holds
 * more than DNS_RRS_MAX records (a harness bug: the zone loader checks). */
int dns_wire_encode(const dns_msg *m, size_t max, vbuf *out, int *truncated);
void dns_msg_free(dns_msg *m);
/* Appends a copy of rr to section sec; returns the copy. */
dns_rr *dns_msg_add(dns_msg *m, int sec, const dns_rr *rr);
/* The full 12-bit rcode (header bits plus the OPT's extended bits). */
int dns_msg_rcode(const dns_msg *m);

/* Text name to wire labels (uncompressed, ending with the root label).
 * Returns the wire length, or -1 when the text is not a valid name. */
int dns_name_to_wire(const char *text, uint8_t out[DNS_NAME_WIRE_MAX]);
/* Reads a possibly compressed name at *off; advances *off past it in the
 * message. Returns 0, or -1 with err. */
int dns_name_read(const uint8_t *p, size_t len, size_t *off, char out[DNS_NAME_TEXT_MAX],
    char *err, size_t errlen);
/* ASCII case-insensitive equality of two text names ("A.b" == "a.B"). */
int dns_name_eq(const char *a, const char *b);
/* True when name equals zone or ends in ".zone" (case-insensitively). */
int dns_name_in(const char *name, const char *zone);

/* "MX", "A", ..., or "TYPE123" into buf; returns buf. */
const char *dns_type_str(uint16_t type, char *buf, size_t n);
/* The number of a type mnemonic (case-insensitive, "TYPE123" too), or -1. */
int dns_type_parse(const char *s);
/* "NOERROR", "NXDOMAIN", ..., or "RCODE23". */
const char *dns_rcode_str(int rcode, char *buf, size_t n);
/* One record in presentation form: "name TTL IN MX 10 mx1.example.test". */
void dns_rr_format(const dns_rr *rr, vbuf *out);

#endif
