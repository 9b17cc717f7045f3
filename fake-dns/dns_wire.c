/*
 * dns_wire - the DNS message codec; see dns_wire.h.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fake-dns/dns_wire.h"
#include "harness/util/xalloc.h"

static int __attribute__((format(printf, 3, 4)))
wire_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void
put16(vbuf *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	vbuf_append(b, x, 2);
}

static void
put32(vbuf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	vbuf_append(b, x, 4);
}

static void
set16(vbuf *b, size_t at, uint16_t v)
{
	b->data[at] = (char)(v >> 8);
	b->data[at + 1] = (char)v;
}

/* ---- names ------------------------------------------------------------- */

int
dns_name_read(const uint8_t *p, size_t len, size_t *off, char out[DNS_NAME_TEXT_MAX],
    char *err, size_t errlen)
{
	size_t pos = *off, end = 0, o = 0, wire = 0;
	size_t floor = *off;	/* a pointer must point below this */
	int hops = 0, jumped = 0;

	for (;;) {
		uint8_t c;

		if (pos >= len)
			return wire_fail(err, errlen, "offset %zu: packet ends inside a name", pos);
		c = p[pos];
		if ((c & 0xc0) == 0xc0) {
			size_t to;

			if (pos + 1 >= len)
				return wire_fail(err, errlen,
				    "offset %zu: packet ends inside a compression pointer", pos);
			to = (size_t)(get16(p + pos) & 0x3fff);
			if (to >= floor)
				return wire_fail(err, errlen, "offset %zu: compression pointer to %zu "
				    "does not point backwards", pos, to);
			if (to < 12)
				return wire_fail(err, errlen, "offset %zu: compression pointer to %zu "
				    "points into the header", pos, to);
			if (++hops > DNS_POINTER_HOPS_MAX)
				return wire_fail(err, errlen, "offset %zu: more than %d compression "
				    "pointers in one name", pos, DNS_POINTER_HOPS_MAX);
			if (!jumped) {
				end = pos + 2;
				jumped = 1;
			}
			floor = to;
			pos = to;
			continue;
		}
		if ((c & 0xc0) != 0)
			return wire_fail(err, errlen, "offset %zu: label type 0x%02x is not "
			    "supported", pos, c & 0xc0);
		wire += (size_t)c + 1;
		if (wire > DNS_NAME_WIRE_MAX)
			return wire_fail(err, errlen, "offset %zu: name longer than %d octets",
			    pos, DNS_NAME_WIRE_MAX);
		if (c == 0) {
			pos++;
			break;
		}
		if (pos + 1 + c > len)
			return wire_fail(err, errlen, "offset %zu: packet ends inside a label", pos);
		if (o > 0)
			out[o++] = '.';
		for (size_t i = 0; i < c; i++) {
			uint8_t ch = p[pos + 1 + i];

			/* o stays below 4 * DNS_NAME_WIRE_MAX + 1 < DNS_NAME_TEXT_MAX */
			if (ch == '.' || ch == '\\') {
				out[o++] = '\\';
				out[o++] = (char)ch;
			} else if (ch < '!' || ch > '~') {
				snprintf(out + o, 5, "\\%03u", ch);
				o += 4;
			} else {
				out[o++] = (char)ch;
			}
		}
		pos += 1 + (size_t)c;
	}
	if (o == 0)
		out[o++] = '.';
	out[o] = '\0';
	*off = jumped ? end : pos;
	return 0;
}

int
dns_name_to_wire(const char *text, uint8_t out[DNS_NAME_WIRE_MAX])
{
	const char *s = text;
	size_t o = 0;

	if (strcmp(text, ".") == 0) {
		out[0] = 0;
		return 1;
	}
	for (;;) {
		size_t lab = o++;

		if (lab >= DNS_NAME_WIRE_MAX - 1)
			return -1;
		out[lab] = 0;
		while (*s != '\0' && *s != '.') {
			int c = (unsigned char)*s++;

			if (c == '\\') {
				if (isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
				    isdigit((unsigned char)s[2])) {
					c = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
					if (c > 255)
						return -1;
					s += 3;
				} else if (*s != '\0') {
					c = (unsigned char)*s++;
				} else {
					return -1;
				}
			}
			if (out[lab] >= DNS_LABEL_MAX || o >= DNS_NAME_WIRE_MAX - 1)
				return -1;
			out[o++] = (uint8_t)c;
			out[lab]++;
		}
		if (out[lab] == 0)
			return -1;	/* an empty label, or a name that starts with '.' */
		if (*s == '\0')
			break;
		s++;
		if (*s == '\0')
			break;		/* a trailing dot */
	}
	out[o++] = 0;
	return (int)o;
}

int
dns_name_eq(const char *a, const char *b)
{
	uint8_t wa[DNS_NAME_WIRE_MAX], wb[DNS_NAME_WIRE_MAX];
	int la = dns_name_to_wire(a, wa), lb = dns_name_to_wire(b, wb);

	if (la < 0 || lb < 0 || la != lb)
		return 0;
	for (int i = 0; i < la; i++)
		if (tolower(wa[i]) != tolower(wb[i]))
			return 0;
	return 1;
}

int
dns_name_in(const char *name, const char *zone)
{
	uint8_t wn[DNS_NAME_WIRE_MAX], wz[DNS_NAME_WIRE_MAX];
	int ln = dns_name_to_wire(name, wn), lz = dns_name_to_wire(zone, wz);
	int i = 0;

	if (ln < 0 || lz < 0 || lz > ln)
		return 0;
	/* walk labels of name until the rest is as long as the zone */
	while (ln - i > lz)
		i += wn[i] + 1;
	if (ln - i != lz)
		return 0;
	for (int j = 0; j < lz; j++)
		if (tolower(wn[i + j]) != tolower(wz[j]))
			return 0;
	return 1;
}

/* ---- parsing ----------------------------------------------------------- */

dns_rr *
dns_msg_add(dns_msg *m, int sec, const dns_rr *rr)
{
	dns_rr *d;

	m->rr[sec] = xgrow(m->rr[sec], &m->caprr[sec], m->nrr[sec] + 1, sizeof(dns_rr));
	d = &m->rr[sec][m->nrr[sec]++];
	*d = *rr;
	d->rdata = rr->rdlen ? xmemdup(rr->rdata, rr->rdlen) : NULL;
	return d;
}

void
dns_msg_free(dns_msg *m)
{
	if (m == NULL)
		return;
	for (int s = 0; s < 3; s++) {
		for (size_t i = 0; i < m->nrr[s]; i++)
			xfree(m->rr[s][i].rdata);
		xfree(m->rr[s]);
	}
	xfree(m->q);
	xfree(m->edns.options);
	memset(m, 0, sizeof(*m));
}

int
dns_msg_rcode(const dns_msg *m)
{
	return (m->flags & 0xf) | (m->edns.present ? m->edns.ext_rcode << 4 : 0);
}

/* The rdata of rr at p[off, off + rdlen): names may point anywhere
 * before them in the message. */
static int
parse_rdata(const uint8_t *p, size_t len, size_t off, size_t rdlen, dns_rr *rr, char *err,
    size_t errlen)
{
	size_t end = off + rdlen, o = off;

	switch (rr->type) {
	case DNS_TYPE_A:
	case DNS_TYPE_AAAA: {
		size_t want = rr->type == DNS_TYPE_A ? 4 : 16;

		if (rdlen != want)
			return wire_fail(err, errlen, "offset %zu: %s rdata of %zu octets, "
			    "expected %zu", off, rr->type == DNS_TYPE_A ? "A" : "AAAA", rdlen, want);
		memcpy(rr->addr, p + off, want);
		return 0;
	}
	case DNS_TYPE_MX:
		if (rdlen < 3)
			return wire_fail(err, errlen, "offset %zu: MX rdata of %zu octets", off, rdlen);
		rr->preference = get16(p + off);
		o += 2;
		/* fall through */
	case DNS_TYPE_NS:
	case DNS_TYPE_CNAME:
	case DNS_TYPE_PTR:
		if (dns_name_read(p, end, &o, rr->target, err, errlen) != 0)
			return -1;
		break;
	case DNS_TYPE_SOA:
		if (dns_name_read(p, end, &o, rr->target, err, errlen) != 0 ||
		    dns_name_read(p, end, &o, rr->rname, err, errlen) != 0)
			return -1;
		if (end - o != 20)
			return wire_fail(err, errlen, "offset %zu: SOA rdata has %zu octets after "
			    "its names, expected 20", o, end - o);
		for (int i = 0; i < 5; i++)
			rr->soa[i] = get32(p + o + 4 * (size_t)i);
		o = end;
		break;
	case DNS_TYPE_TXT:
		if (rdlen == 0)
			return wire_fail(err, errlen, "offset %zu: TXT rdata is empty", off);
		while (o < end) {
			o += 1 + (size_t)p[o];
			if (o > end)
				return wire_fail(err, errlen, "offset %zu: TXT string runs past "
				    "its rdata", off);
		}
		/* fall through */
	default:
		rr->rdlen = (uint16_t)rdlen;
		rr->rdata = rdlen ? xmemdup(p + off, rdlen) : NULL;
		return 0;
	}
	if (o != end)
		return wire_fail(err, errlen, "offset %zu: %zu octets of rdata left over", o, end - o);
	return 0;
}

int
dns_wire_parse(const uint8_t *p, size_t len, dns_msg *m, char *err, size_t errlen)
{
	size_t off = 12, counts[4], total;
	dns_rr rr;

	memset(m, 0, sizeof(*m));
	if (len < 12)
		return wire_fail(err, errlen, "offset 0: a header needs 12 octets, got %zu", len);
	if (len > DNS_MSG_MAX)
		return wire_fail(err, errlen, "offset 0: message of %zu octets, more than %d",
		    len, DNS_MSG_MAX);
	m->id = get16(p);
	m->flags = get16(p + 2);
	for (int i = 0; i < 4; i++)
		counts[i] = get16(p + 4 + 2 * i);
	if (counts[0] > DNS_QUESTIONS_MAX)
		return wire_fail(err, errlen, "offset 4: %zu questions, at most %d handled",
		    counts[0], DNS_QUESTIONS_MAX);
	total = counts[1] + counts[2] + counts[3];
	if (total > DNS_RRS_MAX)
		return wire_fail(err, errlen, "offset 6: %zu records, more than %d", total,
		    DNS_RRS_MAX);
	if (counts[0] > 0)
		m->q = xcalloc(counts[0], sizeof(dns_question));
	for (size_t i = 0; i < counts[0]; i++) {
		dns_question *q = &m->q[i];

		if (dns_name_read(p, len, &off, q->name, err, errlen) != 0)
			goto fail;
		if (len - off < 4) {
			wire_fail(err, errlen, "offset %zu: packet ends inside a question", off);
			goto fail;
		}
		q->type = get16(p + off);
		q->class_ = get16(p + off + 2);
		off += 4;
		m->nq++;
	}
	for (int sec = 0; sec < 3; sec++) {
		for (size_t i = 0; i < counts[sec + 1]; i++) {
			size_t rdlen, at;

			memset(&rr, 0, sizeof(rr));
			at = off;
			if (dns_name_read(p, len, &off, rr.name, err, errlen) != 0)
				goto fail;
			if (len - off < 10) {
				wire_fail(err, errlen, "offset %zu: packet ends inside a record", off);
				goto fail;
			}
			rr.type = get16(p + off);
			rr.class_ = get16(p + off + 2);
			rr.ttl = get32(p + off + 4);
			rdlen = get16(p + off + 8);
			off += 10;
			if (len - off < rdlen) {
				wire_fail(err, errlen, "offset %zu: rdata of %zu octets runs past the "
				    "end of the packet", off, rdlen);
				goto fail;
			}
			if (rr.type == DNS_TYPE_OPT) {
				if (sec != DNS_SEC_ADDITIONAL || m->edns.present) {
					wire_fail(err, errlen, "offset %zu: %s", at, m->edns.present ?
					    "a second OPT record" : "an OPT record outside the additional "
					    "section");
					goto fail;
				}
				if (strcmp(rr.name, ".") != 0) {
					wire_fail(err, errlen, "offset %zu: OPT record owner is not the root",
					    at);
					goto fail;
				}
				m->edns.present = 1;
				m->edns.udp_size = rr.class_;
				m->edns.ext_rcode = (uint8_t)(rr.ttl >> 24);
				m->edns.version = (uint8_t)(rr.ttl >> 16);
				m->edns.flags = (uint16_t)rr.ttl;
				m->edns.optlen = (uint16_t)rdlen;
				m->edns.options = rdlen ? xmemdup(p + off, rdlen) : NULL;
				off += rdlen;
				continue;
			}
			if (parse_rdata(p, len, off, rdlen, &rr, err, errlen) != 0)
				goto fail;
			off += rdlen;
			m->rr[sec] = xgrow(m->rr[sec], &m->caprr[sec], m->nrr[sec] + 1, sizeof(dns_rr));
			m->rr[sec][m->nrr[sec]++] = rr;	/* takes rr.rdata */
		}
	}
	if (off != len) {
		wire_fail(err, errlen, "offset %zu: %zu octets after the last record", off, len - off);
		goto fail;
	}
	return 0;
fail:
	dns_msg_free(m);
	return -1;
}

/* ---- writing ----------------------------------------------------------- */

/* The suffixes already written: offset in the message and lower-cased
 * wire form, so that a later name can point at the longest match. */
typedef struct wire_enc {
	vbuf *out;
	size_t base;	/* where the message starts in out */
	size_t n;
	struct {
		uint16_t off;
		uint8_t len;
		uint8_t wire[DNS_NAME_WIRE_MAX];
	} tab[DNS_COMPRESS_NAMES_MAX];
} wire_enc;

static int
enc_name(wire_enc *e, const char *text, int compress)
{
	uint8_t w[DNS_NAME_WIRE_MAX], orig[DNS_NAME_WIRE_MAX];
	int len = dns_name_to_wire(text, orig);
	int i = 0;

	if (len < 0)
		return -1;
	memcpy(w, orig, (size_t)len);
	for (int k = 0; k < len; k++)
		w[k] = (uint8_t)tolower(w[k]);
	while (w[i] != 0) {
		size_t here = e->out->len - e->base;

		if (compress) {
			for (size_t t = 0; t < e->n; t++) {
				if (e->tab[t].len == len - i &&
				    memcmp(e->tab[t].wire, w + i, (size_t)(len - i)) == 0) {
					put16(e->out, (uint16_t)(0xc000 | e->tab[t].off));
					return 0;
				}
			}
		}
		if (here < 0x4000 && e->n < DNS_COMPRESS_NAMES_MAX) {
			e->tab[e->n].off = (uint16_t)here;
			e->tab[e->n].len = (uint8_t)(len - i);
			memcpy(e->tab[e->n].wire, w + i, (size_t)(len - i));
			e->n++;
		}
		/* the original case goes on the wire; only the table is folded */
		vbuf_append(e->out, orig + i, (size_t)w[i] + 1);
		i += w[i] + 1;
	}
	vbuf_append_byte(e->out, 0);
	return 0;
}

static int
enc_rr(wire_enc *e, const dns_rr *rr)
{
	size_t lenat;

	if (enc_name(e, rr->name, 1) != 0)
		return -1;
	put16(e->out, rr->type);
	put16(e->out, rr->class_);
	put32(e->out, rr->ttl);
	lenat = e->out->len;
	put16(e->out, 0);
	switch (rr->type) {
	case DNS_TYPE_A:
		vbuf_append(e->out, rr->addr, 4);
		break;
	case DNS_TYPE_AAAA:
		vbuf_append(e->out, rr->addr, 16);
		break;
	case DNS_TYPE_MX:
		put16(e->out, rr->preference);
		/* fall through */
	case DNS_TYPE_NS:
	case DNS_TYPE_CNAME:
	case DNS_TYPE_PTR:
		/* RFC 3597 §4: only these well-known types may be compressed */
		if (enc_name(e, rr->target, 1) != 0)
			return -1;
		break;
	case DNS_TYPE_SOA:
		if (enc_name(e, rr->target, 1) != 0 || enc_name(e, rr->rname, 1) != 0)
			return -1;
		for (int i = 0; i < 5; i++)
			put32(e->out, rr->soa[i]);
		break;
	default:
		vbuf_append(e->out, rr->rdata, rr->rdlen);
		break;
	}
	if (e->out->len - lenat - 2 > 0xffff)
		return -1;
	set16(e->out, lenat, (uint16_t)(e->out->len - lenat - 2));
	return 0;
}

static void
enc_opt(wire_enc *e, const dns_msg *m)
{
	vbuf_append_byte(e->out, 0);
	put16(e->out, DNS_TYPE_OPT);
	put16(e->out, m->edns.udp_size);
	put32(e->out, ((uint32_t)m->edns.ext_rcode << 24) | ((uint32_t)m->edns.version << 16) |
	    m->edns.flags);
	put16(e->out, m->edns.optlen);
	vbuf_append(e->out, m->edns.options, m->edns.optlen);
}

static int
enc_head(wire_enc *e, const dns_msg *m, uint16_t flags, size_t an, size_t ns, size_t ar)
{
	put16(e->out, m->id);
	put16(e->out, flags);
	put16(e->out, (uint16_t)m->nq);
	put16(e->out, (uint16_t)an);
	put16(e->out, (uint16_t)ns);
	put16(e->out, (uint16_t)(ar + (m->edns.present ? 1 : 0)));
	for (size_t i = 0; i < m->nq; i++) {
		if (enc_name(e, m->q[i].name, 1) != 0)
			return -1;
		put16(e->out, m->q[i].type);
		put16(e->out, m->q[i].class_);
	}
	return 0;
}

int
dns_wire_encode(const dns_msg *m, size_t max, vbuf *out, int *truncated)
{
	wire_enc *e = xcalloc(1, sizeof(*e));
	size_t base = out->len;
	int rc = -1;

	if (truncated)
		*truncated = 0;
	if (m->nq > 0xffff || m->nrr[0] + m->nrr[1] + m->nrr[2] > DNS_RRS_MAX)
		goto done;
	e->out = out;
	e->base = base;
	if (enc_head(e, m, m->flags, m->nrr[0], m->nrr[1], m->nrr[2]) != 0)
		goto done;
	for (int s = 0; s < 3; s++)
		for (size_t i = 0; i < m->nrr[s]; i++)
			if (enc_rr(e, &m->rr[s][i]) != 0)
				goto done;
	if (m->edns.present)
		enc_opt(e, m);
	if (out->len - base > max || out->len - base > DNS_MSG_MAX) {
		/* RFC 2181 §9: rather no records than a cut RRset; the client
		 * retries over TCP. */
		out->len = base;
		e->n = 0;
		if (enc_head(e, m, m->flags | DNS_FLAG_TC, 0, 0, 0) != 0)
			goto done;
		if (m->edns.present)
			enc_opt(e, m);
		if (truncated)
			*truncated = 1;
	}
	rc = 0;
done:
	if (rc != 0)
		out->len = base;
	xfree(e);
	return rc;
}

/* ---- names of things --------------------------------------------------- */

static const struct {
	uint16_t type;
	const char *name;
} wire_types[] = {
	{ DNS_TYPE_A, "A" }, { DNS_TYPE_NS, "NS" }, { DNS_TYPE_CNAME, "CNAME" },
	{ DNS_TYPE_SOA, "SOA" }, { DNS_TYPE_PTR, "PTR" }, { DNS_TYPE_MX, "MX" },
	{ DNS_TYPE_TXT, "TXT" }, { DNS_TYPE_AAAA, "AAAA" }, { DNS_TYPE_OPT, "OPT" },
	{ DNS_TYPE_ANY, "ANY" },
};

const char *
dns_type_str(uint16_t type, char *buf, size_t n)
{
	for (size_t i = 0; i < sizeof(wire_types) / sizeof(wire_types[0]); i++)
		if (wire_types[i].type == type) {
			snprintf(buf, n, "%s", wire_types[i].name);
			return buf;
		}
	snprintf(buf, n, "TYPE%u", type);
	return buf;
}

int
dns_type_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(wire_types) / sizeof(wire_types[0]); i++)
		if (strcasecmp(wire_types[i].name, s) == 0)
			return wire_types[i].type;
	if (strncasecmp(s, "TYPE", 4) == 0 && isdigit((unsigned char)s[4])) {
		char *end;
		long v = strtol(s + 4, &end, 10);

		if (*end == '\0' && v >= 0 && v <= 65535 && strlen(s + 4) <= 5)
			return (int)v;
	}
	return -1;
}

const char *
dns_rcode_str(int rcode, char *buf, size_t n)
{
	static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
		"NOTIMP", "REFUSED" };

	if (rcode >= 0 && rcode < 6)
		snprintf(buf, n, "%s", names[rcode]);
	else if (rcode == DNS_RCODE_BADVERS)
		snprintf(buf, n, "BADVERS");
	else
		snprintf(buf, n, "RCODE%d", rcode);
	return buf;
}

void
dns_rr_format(const dns_rr *rr, vbuf *out)
{
	char t[16];

	vbuf_printf(out, "%s %u %s %s", rr->name, rr->ttl, rr->class_ == DNS_CLASS_IN ? "IN" : "CLASS?",
	    dns_type_str(rr->type, t, sizeof(t)));
	switch (rr->type) {
	case DNS_TYPE_A:
	case DNS_TYPE_AAAA: {
		char ip[INET6_ADDRSTRLEN];

		inet_ntop(rr->type == DNS_TYPE_A ? AF_INET : AF_INET6, rr->addr, ip, sizeof(ip));
		vbuf_printf(out, " %s", ip);
		break;
	}
	case DNS_TYPE_MX:
		vbuf_printf(out, " %u %s", rr->preference, rr->target);
		break;
	case DNS_TYPE_NS:
	case DNS_TYPE_CNAME:
	case DNS_TYPE_PTR:
		vbuf_printf(out, " %s", rr->target);
		break;
	case DNS_TYPE_SOA:
		vbuf_printf(out, " %s %s %u %u %u %u %u", rr->target, rr->rname, rr->soa[0],
		    rr->soa[1], rr->soa[2], rr->soa[3], rr->soa[4]);
		break;
	case DNS_TYPE_TXT:
		for (size_t o = 0; o < rr->rdlen;) {
			size_t l = rr->rdata[o++];

			vbuf_append_str(out, " \"");
			for (size_t i = 0; i < l && o < rr->rdlen; i++, o++) {
				uint8_t c = rr->rdata[o];

				if (c == '"' || c == '\\')
					vbuf_printf(out, "\\%c", c);
				else if (c < ' ' || c > '~')
					vbuf_printf(out, "\\%03u", c);
				else
					vbuf_append_byte(out, (char)c);
			}
			vbuf_append_byte(out, '"');
		}
		break;
	default:
		vbuf_printf(out, " \\# %u", rr->rdlen);
		break;
	}
}
