#!/usr/bin/python3
"""html-check.py - checks on HTML reports, their screenshots and DOM dumps.

  html-check.py page REPORT.html REPORT.json
      the page parses with every element closed in order (html.parser),
      fetches nothing (no src=, no href= but #anchors, no <script>, <link>,
      <img>, @import or url()), and agrees with the JSON report of the same
      run: one section per scenario, one ladder per transcript with an
      arrow per data segment (up to the drawing bound) and a finding
      marker per finding with evidence on a drawn segment
  html-check.py png SHOT.png
      a PNG, decoded here (zlib and PNG filters, no imaging library), that
      is not blank: many colours, much non-white, and the report's colours
  html-check.py dom DUMP.html [--fails | --client]
      a browser's DOM of the page has the summary, the profile table with
      rows and ladders with lines and paths; with --fails, FAIL verdicts
      and finding markers too; with --client (a client that never
      connected: no transcript), the client's output instead of ladders

Prints one line of what is wrong and exits 1; silent and 0 when fine.
"""
import html.parser
import json
import re
import struct
import sys
import zlib

ARROWS_MAX = 400  # HARNESS_HTML_ARROWS_MAX
VOID = {"meta", "br", "hr", "img", "link", "input", "col", "area", "base", "wbr", "source"}


class Tree(html.parser.HTMLParser):
    """Keeps the open elements and what the checks count."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.problems = []
        self.elements = []  # (tag, attrs, ancestors' (tag, attrs))

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.elements.append((tag, a, list(self.stack)))
        for k, v in a.items():
            if k == "src" or (k == "href" and not (v or "").startswith("#")) or \
                    (k == "style" and "url(" in (v or "")):
                self.problems.append("<%s %s=%r> would fetch" % (tag, k, v))
        if tag in ("script", "link", "img", "iframe", "object", "embed"):
            self.problems.append("a <%s> element" % tag)
        if tag not in VOID:
            self.stack.append((tag, a))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs), list(self.stack)))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1][0] != tag:
            self.problems.append("</%s> closes <%s>" % (tag, self.stack[-1][0] if self.stack else "nothing"))
            return
        self.stack.pop()

    def handle_data(self, data):
        if self.stack and self.stack[-1][0] == "style" and ("@import" in data or "url(" in data):
            self.problems.append("the style fetches")


def parse(path):
    t = Tree()
    t.feed(open(path, encoding="utf-8").read())
    t.close()
    if t.stack:
        t.problems.append("unclosed: " + " ".join(e[0] for e in t.stack))
    return t


def classes(a):
    return (a.get("class") or "").split()


def inside(anc, sid):
    return any(a.get("id") == sid for _, a in anc)


def page(html_path, json_path):
    t = parse(html_path)
    rep = json.load(open(json_path, encoding="utf-8"))
    problems = list(t.problems)
    ids = [a.get("id") for tag, a, _ in t.elements if tag == "details" and "scenario" in classes(a)]
    if len(ids) != len(rep["scenarios"]):
        problems.append("%d scenario sections for %d scenarios" % (len(ids), len(rep["scenarios"])))
    for n, sc in enumerate(rep["scenarios"], 1):
        sid = "s%d" % n
        mine = [(tag, a) for tag, a, anc in t.elements if inside(anc, sid)]
        svgs = sum(1 for tag, a in mine if tag == "svg")
        segs = (sc.get("transcript") or {}).get("segments") or []
        want_svg = 1 if segs else 0
        if svgs != want_svg:
            problems.append("%s: %d diagrams, expected %d" % (sc["id"], svgs, want_svg))
            continue
        drawn = segs[:ARROWS_MAX]
        arrows = [int(a["data-seg"]) for tag, a in mine if tag == "g" and "arrow" in classes(a)]
        want = [i for i, s in enumerate(drawn) if s["kind"] == "data"]
        if arrows != want:
            problems.append("%s: arrows on segments %s, expected %s" % (sc["id"], arrows[:10], want[:10]))
        marks = sum(1 for tag, a in mine if tag == "g" and "mark" in classes(a))
        want_marks = sum(1 for f in sc["findings"]
                         if f.get("evidence") and f["evidence"]["segment"] < len(drawn))
        if marks != want_marks:
            problems.append("%s: %d finding markers, expected %d" % (sc["id"], marks, want_marks))
    if problems:
        print("%s: %s" % (html_path, "; ".join(problems[:5])))
        return 1
    return 0


def png_pixels(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError("PNG type %d depth %d interlace %d not handled" % (ctype, depth, interlace))
    bpp = 3 if ctype == 2 else 4
    raw, stride = zlib.decompress(idat), w * bpp
    prev, rows, p = bytearray(stride), [], 0
    for _ in range(h):
        f, line = raw[p], bytearray(raw[p + 1:p + 1 + stride])
        p += 1 + stride
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def png(path):
    try:
        w, h, bpp, rows = png_pixels(path)
    except (ValueError, zlib.error, TypeError, struct.error) as e:
        print("%s: %s" % (path, e))
        return 1
    colours, nonwhite, total = {}, 0, 0
    for r in rows[::2]:
        for x in range(0, w * bpp, bpp * 2):
            px = r[x:x + 3]
            colours[px] = colours.get(px, 0) + 1
            total += 1
            nonwhite += px != b"\xff\xff\xff"
    near = lambda rgb: any(all(abs(px[i] - rgb[i]) < 40 for i in range(3)) for px in colours)
    problems = []
    if len(colours) < 16:
        problems.append("%d colours" % len(colours))
    if nonwhite < total // 50:
        problems.append("%d of %d pixels not white" % (nonwhite, total))
    if not near((0x2a, 0x7d, 0x2e)) and not near((0xc6, 0x28, 0x28)):
        problems.append("neither PASS green nor FAIL red anywhere")
    if problems:
        print("%s (%dx%d): looks blank: %s" % (path, w, h, "; ".join(problems)))
        return 1
    return 0


def dom(path, opt):
    t = parse(path)
    tags = [(tag, classes(a), a) for tag, a, _ in t.elements]
    problems = [p for p in t.problems if "would fetch" in p or "<script>" in p]
    if not any(tag == "section" and a.get("id") == "summary" for tag, _, a in tags):
        problems.append("no summary")
    rows = [1 for tag, a, anc in t.elements if tag == "tr" and inside(anc, "profile-table")]
    if len(rows) < 2:
        problems.append("profile table with %d rows" % len(rows))
    if opt == "--client":
        if not any(tag == "pre" and "client-stdout" in c for tag, c, _ in tags):
            problems.append("no client output")
    elif not any(tag == "svg" and "ladder" in c for tag, c, _ in tags):
        problems.append("no ladder svg")
    else:
        for want in ("line", "path", "text"):
            if not any(tag == want for tag, _, _ in tags):
                problems.append("no svg <%s>" % want)
    if opt in ("--fails", "--client"):
        if opt == "--fails" and not any(tag == "g" and "mark" in c for tag, c, _ in tags):
            problems.append("no finding marker")
        if not any(tag == "span" and "FAIL" in c for tag, c, _ in tags):
            problems.append("no FAIL verdict")
    if problems:
        print("%s: %s" % (path, "; ".join(problems[:5])))
        return 1
    return 0


def main(argv):
    if len(argv) == 4 and argv[1] == "page":
        return page(argv[2], argv[3])
    if len(argv) == 3 and argv[1] == "png":
        return png(argv[2])
    if len(argv) in (3, 4) and argv[1] == "dom" and argv[3:] in ([], ["--fails"], ["--client"]):
        return dom(argv[2], argv[3] if len(argv) == 4 else "")
    print(__doc__.strip().split("\n\n")[0], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
