"""Decode a file's bytes line by line: UTF-8 first, Windows-1252 only for a line that is not
UTF-8, so one stray Excel byte cannot garble every accented name of an otherwise UTF-8 file
(nor change the dedup keys of its rows)."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

_BREAK = re.compile(rb"\r\n|\r|\n")
_SHOWN = 10  # line numbers listed in the note; the rest are counted


@dataclass(frozen=True)
class Decoded:
    """A file's text and the (1-based) lines that were read as Windows-1252."""

    text: str
    windows_1252_lines: list[int] = field(default_factory=list)

    def note(self) -> str | None:
        """What the reader should know about the decoding, or None for a clean UTF-8 file."""
        lines = self.windows_1252_lines
        if not lines:
            return None
        shown = ", ".join(str(n) for n in lines[:_SHOWN])
        more = f" and {len(lines) - _SHOWN:,} more" if len(lines) > _SHOWN else ""
        return (f"{len(lines):,} line(s) were not UTF-8 and were read as Windows-1252 "
                f"(Excel's encoding): line(s) {shown}{more}")


def decode_lines(data: bytes) -> Decoded:
    """UTF-8 (a byte-order mark is dropped); where a line is not valid UTF-8, that line alone is
    read as Windows-1252 (bytes it leaves undefined become U+FFFD) and its number noted."""
    body = data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data
    parts: list[str] = []
    fallback: list[int] = []
    pos = 0
    line = 1  # the line number at `pos`
    while True:
        try:
            parts.append(body[pos:].decode("utf-8"))
            break
        except UnicodeDecodeError as exc:
            bad = pos + exc.start
        start = max(body.rfind(b"\n", pos, bad), body.rfind(b"\r", pos, bad)) + 1 or pos
        end = _line_end(body, bad)
        parts.append(body[pos:start].decode("utf-8"))
        line += len(_BREAK.findall(body, pos, start))
        parts.append(body[start:end].decode("cp1252", errors="replace"))
        fallback.append(line)
        pos = end
    return Decoded("".join(parts), fallback)


def _line_end(body: bytes, at: int) -> int:
    """Where the line holding byte `at` ends (its line break excluded), or the end of data."""
    ends = [i for i in (body.find(b"\n", at), body.find(b"\r", at)) if i >= 0]
    return min(ends) if ends else len(body)
