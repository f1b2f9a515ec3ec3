"""Reading the text back out of the briefing pack's PDF with re + zlib (no PDF library is
installed): fpdf2 sets text as 2-byte glyph codes, mapped back through each font's ToUnicode
table."""

from __future__ import annotations

import re
import zlib

OBJECT = re.compile(rb"(\d+) 0 obj\s*(.*?)\s*endobj", re.S)
LITERAL = rb"\((?:\\.|[^\\)])*\)"


def _unescape(raw: bytes) -> bytes:
    out, i = bytearray(), 0
    simple = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
    while i < len(raw):
        if raw[i:i + 1] != b"\\":
            out += raw[i:i + 1]
            i += 1
            continue
        following = raw[i + 1:i + 2]
        octal = re.match(rb"[0-7]{1,3}", raw[i + 1:])
        if following in simple:
            out += simple[following]
            i += 2
        elif octal:
            out.append(int(octal.group(0), 8))
            i += 1 + len(octal.group(0))
        else:
            out += following
            i += 2
    return bytes(out)


def pdf_objects(data: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    """Every object's dictionary and its stream (inflated where FlateDecode)."""
    objects = {}
    for number, body in OBJECT.findall(data):
        head, _, rest = body.partition(b"stream")
        stream = None
        if rest:
            # the data starts after the end of line that follows `stream` and is /Length long
            # (stripping line ends could cut compressed data that ends with such a byte)
            data_start = rest[2:] if rest.startswith(b"\r\n") else rest[1:]
            length = re.search(rb"/Length (\d+)", head)
            stream = data_start[:int(length.group(1))] if length else \
                data_start.rsplit(b"endstream", 1)[0].rstrip(b"\r\n")
            if b"/FlateDecode" in head:
                stream = zlib.decompress(stream)
        objects[int(number)] = (head, stream)
    return objects


def pdf_pages_text(data: bytes) -> list[str]:
    """Each page's text: fpdf2 writes Unicode fonts as 2-byte glyph codes, decoded here with
    each font's ToUnicode map."""
    objects = pdf_objects(data)
    maps: dict[int, dict[int, str]] = {}
    for number, (head, _) in objects.items():
        ref = re.search(rb"/ToUnicode (\d+) 0 R", head)
        if ref:
            cmap = objects[int(ref.group(1))][1] or b""
            table: dict[int, str] = {}
            for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
                for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                    table[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
            maps[number] = table
    pages = []
    for _, (head, _) in sorted(objects.items()):
        if not re.search(rb"/Type\s*/Page\b", head):
            continue
        resources = re.search(rb"/Resources (\d+) 0 R", head)
        fonts_in = objects[int(resources.group(1))][0] if resources else head
        fonts = {name.decode(): maps.get(int(ref), {})
                 for name, ref in re.findall(rb"/(F\d+) (\d+) 0 R", fonts_in)}
        content = objects[int(re.search(rb"/Contents (\d+) 0 R", head).group(1))][1] or b""
        font: dict[int, str] = {}
        words = []
        for token in re.finditer(rb"/(F\d+) [\d.]+ Tf|(" + LITERAL + rb")\s*Tj", content):
            if token.group(1):
                font = fonts.get(token.group(1).decode(), {})
                continue
            raw = _unescape(token.group(2)[1:-1])
            words.append("".join(font.get(int.from_bytes(raw[i:i + 2], "big"), "\ufffd")
                                 for i in range(0, len(raw), 2)))
        pages.append("\n".join(words))
    return pages
