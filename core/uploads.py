"""Check a user's file before any reader opens it: its size, its real type read from its content
(not its name), and for zip archives the names, links and sizes of what is inside.

Readers (pandas, GDAL) are never shown a file this module refuses, so an over-size file, a
program renamed `.csv`, a zip whose members would unpack outside their folder ("zip slip") or
a small zip that unpacks to gigabytes ("zip bomb") stops here with a message that names the
file and says in plain words what is wrong with it.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from core.errors import UserError

MB = 1024 * 1024
DEFAULT_MAX_UPLOAD_MB = 200
MAX_UPLOAD_ENV = "HOTSPOTS_MAX_UPLOAD_MB"
PHOTO_MAX_BYTES = 5 * MB  # equipment-check photos (registers/checks.py)
ZIP_MAX_MEMBERS = 10_000
ZIP_MAX_TOTAL_BYTES = 1024 * MB  # what a zip may unpack to, all members together
ZIP_MAX_RATIO = 100.0  # unpacked size / archive size, checked once the unpacked size is ...
ZIP_RATIO_FLOOR = 8 * MB  # ... above this (small files of repeated text compress very well)
ZIP_VERIFY_MAX_BYTES = 256 * MB  # archives up to this size are unpacked (in memory, capped)
SNIFF_BYTES = 64 * 1024  # how much of the start of a file `sniff` looks at
_CHUNK = 1024 * 1024

KIND_NAMES = {
    "zip": "a zip archive",
    "gpkg": "a GeoPackage or other SQLite database",
    "pdf": "a PDF document",
    "png": "a PNG image",
    "jpeg": "a JPEG image",
    "gzip": "a gzip archive",
    "xls": "an old Excel (.xls) or Word file",
    "exe": "a program",
    "shp": "the .shp part of a Shapefile (zip it with its .shx, .dbf and .prj parts)",
    "json": "a JSON file",
    "kml": "an XML file (such as KML)",
    "text": "a text file",
    "binary": "binary data of no kind this service reads",
}
_WANTED = {
    "text": "a CSV text file", "json": "a GeoJSON file", "kml": "a KML file",
    "gpkg": "a GeoPackage", "zip": "a zip archive", "shp": "a Shapefile", "pdf": "a PDF",
    "png": "a PNG image", "jpeg": "a JPEG image", "gzip": "a gzip archive",
    "xls": "an Excel (.xls) workbook", "exe": "a program", "binary": "a binary file",
}
_MAGIC = (  # (start of the content, kind); the first match wins
    (b"PK\x03\x04", "zip"), (b"PK\x05\x06", "zip"), (b"PK\x07\x08", "zip"),
    (b"SQLite format 3\x00", "gpkg"), (b"%PDF", "pdf"), (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"), (b"\x1f\x8b", "gzip"), (b"\xd0\xcf\x11\xe0", "xls"),
    (b"\x7fELF", "exe"), (b"\x00\x00\x27\x0a", "shp"),
)
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")
_DRIVE = re.compile(r"^[A-Za-z]:")


class UploadRefused(UserError, ValueError):
    """A file refused before reading, with the file's name and the reason in plain words."""

    def __init__(self, file: str, reason: str):
        super().__init__(f"{file}: {reason}")
        self.file = file
        self.reason = reason


def max_upload_bytes() -> int:
    """The upload size limit: HOTSPOTS_MAX_UPLOAD_MB (read on each call) or 200 MB."""
    raw = os.environ.get(MAX_UPLOAD_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_UPLOAD_MB * MB
    try:
        megabytes = float(raw)
    except ValueError:
        megabytes = 0.0
    if not megabytes > 0:
        raise ValueError(f"{MAX_UPLOAD_ENV} must be a number of megabytes above 0, not {raw!r}")
    return int(megabytes * MB)


MAX_UPLOAD_BYTES = max_upload_bytes()  # as set when the module was loaded; see max_upload_bytes


def megabytes(size: int) -> str:
    """A size in MB for messages: "200", "3.4", or two figures under 0.1 MB."""
    value = size / MB
    if 0 < value < 0.1:
        return f"{value:.2g}"
    return f"{value:,.1f}".removesuffix(".0")


def sniff(data: bytes) -> str:
    """The file's real type from its first bytes, whatever its name says (see KIND_NAMES)."""
    head = data[:SNIFF_BYTES]
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head.startswith(b"MZ") and b"\x00" in head[:64]:  # a DOS/Windows program header
        return "exe"
    start = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if start[:1] in (b"{", b"["):
        return "json"
    if start.startswith((b"<?xml", b"<kml")):
        return "kml"
    return "text" if _is_text(head, complete=len(data) < SNIFF_BYTES) else "binary"


def _is_text(head: bytes, complete: bool) -> bool:
    """Under 1% control characters (NUL included: a stray NUL in a text file is the row's
    problem, set aside at import; a file full of them is binary), and decodes as UTF-8 or as
    Windows-1252."""
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    if controls > len(head) * 0.01:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
        return True
    except UnicodeDecodeError:
        undefined = sum(1 for b in head if b in _CP1252_UNDEFINED)
        return undefined <= len(head) * 0.01


def describe(data: bytes) -> str:
    """What the content really is, in plain words ("a Windows program (.exe)")."""
    kind = sniff(data)
    if kind == "exe":
        return "a Windows program (.exe)" if data.startswith(b"MZ") else \
            "a Linux program (ELF executable)"
    return KIND_NAMES[kind]


def check_size(name: str, size: int, max_bytes: int | None = None) -> None:
    """Refuse a file over the limit (default max_upload_bytes()), giving both sizes in MB."""
    limit = max_upload_bytes() if max_bytes is None else max_bytes
    if size > limit:
        raise UploadRefused(name, f"the file is {megabytes(size)} MB, more than the "
                                  f"{megabytes(limit)} MB that can be uploaded; split it into "
                                  "smaller files (or ask for the limit to be raised)")


def _refuse_type(name: str, kind: str, head: bytes, allowed: set[str],
                 refusal: str | None) -> None:
    if kind in allowed:
        return
    wanted = [_WANTED.get(k, k) for k in sorted(allowed)]
    wanted_text = wanted[0] if len(wanted) == 1 else ", ".join(wanted[:-1]) + " or " + wanted[-1]
    opening = refusal or f"this is not {wanted_text}"
    raise UploadRefused(name, f"{opening}: its content is {describe(head)}, whatever its "
                              "name says")


def check_upload(name: str, data: bytes, allowed: Iterable[str], max_bytes: int | None = None,
                 *, refusal: str | None = None) -> str:
    """Refuse an over-size file, a file whose content is not of an `allowed` kind, and an unsafe
    zip; return the sniffed kind. `refusal` replaces the opening words of a wrong-type
    message (default "this is not <the allowed kinds>")."""
    check_size(name, len(data), max_bytes)
    kind = sniff(data)
    _refuse_type(name, kind, data[:SNIFF_BYTES], set(allowed), refusal)
    if kind == "zip":
        check_zip(name, data)
    return kind


def check_upload_path(path: str | Path, allowed: Iterable[str], max_bytes: int | None = None,
                      *, refusal: str | None = None) -> str:
    """`check_upload` for a file on disk: the size comes from the filesystem and only the
    start of the file (and a zip's directory, then its members streamed) is read."""
    path = Path(path)
    name = path.name
    try:
        size = path.stat().st_size
        check_size(name, size, max_bytes)
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        raise UploadRefused(name, f"the file cannot be opened ({exc.strerror or exc})") from None
    kind = sniff(head)
    _refuse_type(name, kind, head, set(allowed), refusal)
    if kind == "zip":
        check_zip(name, path)
    return kind


def unsafe_member_name(member: str) -> str | None:
    """Why a zip member's name would unpack outside its folder (zip slip), or None if safe."""
    if "\x00" in member:
        return "has a hidden NUL character in its name"
    slashed = member.replace("\\", "/")
    if slashed.startswith("/"):
        return "is an absolute path (it starts with a slash)"
    parts = slashed.split("/")
    if _DRIVE.match(slashed) or any(":" in part for part in parts):
        return "names a drive letter or a Windows stream (it has a ':')"
    if ".." in parts:
        return "climbs out of its folder with '..'"
    return None


def check_zip(name: str, data_or_path: bytes | str | Path, max_members: int = ZIP_MAX_MEMBERS,
              max_total_bytes: int = ZIP_MAX_TOTAL_BYTES, max_ratio: float = ZIP_MAX_RATIO,
              *, ratio_floor: int = ZIP_RATIO_FLOOR,
              verify_max_bytes: int = ZIP_VERIFY_MAX_BYTES) -> None:
    """Refuse a zip that is unreadable, would write outside its folder (zip slip: absolute,
    '..', drive-letter or backslash names; links), holds another zip or encrypted members, has
    too many members, or unpacks too big or too well (zip bomb). Archives up to
    `verify_max_bytes` are also unpacked in memory, capped at each member's declared size, so a
    header that lies about the size is caught; nothing is written to disk."""
    if isinstance(data_or_path, bytes | bytearray | memoryview):
        data = bytes(data_or_path)
        archive_size = len(data)
        opened: BinaryIO = io.BytesIO(data)
    else:
        path = Path(data_or_path)
        try:
            archive_size = path.stat().st_size
            opened = path.open("rb")
        except OSError as exc:
            raise UploadRefused(name, f"the file cannot be opened ({exc.strerror or exc})") \
                from None
    with opened as handle:
        try:
            with zipfile.ZipFile(handle) as archive:
                infos = archive.infolist()
                _check_directory(name, infos, archive_size, max_members, max_total_bytes,
                                 max_ratio, ratio_floor)
                if archive_size <= verify_max_bytes:
                    for info in infos:
                        _verify_member(name, archive, handle, info)
        except UploadRefused:
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, EOFError,
                NotImplementedError, RuntimeError, ValueError, struct.error) as exc:
            raise UploadRefused(name, f"this is not a readable zip archive ({exc}); it may be "
                                      "damaged or only partly downloaded") from None


def _check_directory(name: str, infos: list[zipfile.ZipInfo], archive_size: int,
                     max_members: int, max_total_bytes: int, max_ratio: float,
                     ratio_floor: int) -> None:
    """The checks that need only the zip's central directory."""
    if len(infos) > max_members:
        raise UploadRefused(name, f"the zip archive holds {len(infos):,} files; at most "
                                  f"{max_members:,} are allowed")
    seen: set[str] = set()
    for info in infos:
        member = info.filename
        why = unsafe_member_name(member)
        if why:
            raise UploadRefused(name, f"the zip archive holds a file named {member!r} that "
                                      f"{why}, so unpacking it would write outside its folder "
                                      "(a 'zip slip'); the archive is refused")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise UploadRefused(name, f"the zip archive holds a link (symlink) named "
                                      f"{member!r}, which could point anywhere on the computer; "
                                      "links are not allowed")
        if info.flag_bits & 0x1:
            raise UploadRefused(name, f"{member!r} in the zip archive is password-protected; "
                                      "zip the files again without a password")
        if member.lower().endswith(".zip"):
            raise UploadRefused(name, f"the zip archive holds another zip archive "
                                      f"({member!r}); unzip that one and upload what is in it")
        key = member.replace("\\", "/").lower()
        if key in seen:
            raise UploadRefused(name, f"the zip archive holds two files named {member!r}")
        seen.add(key)
    total = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos)
    if packed > archive_size:
        raise UploadRefused(name, "this is not a readable zip archive: its directory claims "
                                  "more packed data than the file holds")
    bomb = (f"the zip archive is {megabytes(archive_size)} MB but would unpack to "
            f"{megabytes(total)} MB")
    if total > max_total_bytes:
        raise UploadRefused(name, f"{bomb}, more than the {megabytes(max_total_bytes)} MB "
                                  "allowed; it is refused as a possible 'zip bomb'")
    if total > ratio_floor and total > max_ratio * max(archive_size, 1):
        raise UploadRefused(name, f"{bomb} ({total / max(archive_size, 1):,.0f} times its "
                                  f"size, more than the {max_ratio:g} times real data "
                                  "reaches); it is refused as a possible 'zip bomb'")


def _verify_member(name: str, archive: zipfile.ZipFile, handle: BinaryIO,
                   info: zipfile.ZipInfo) -> None:
    """Unpack one member in memory, never past its declared size, and check that what it
    unpacks to is what the directory says (size and checksum) and is not another zip."""
    if info.is_dir():
        return
    handle.seek(info.header_offset)
    local = handle.read(30)
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"no file header for {info.filename!r}")
    flags = struct.unpack("<H", local[6:8])[0]
    name_length, extra_length = struct.unpack("<HH", local[26:30])
    raw_name = handle.read(name_length)
    local_name = raw_name.decode("utf-8" if flags & 0x800 else "cp437")
    if local_name != info.orig_filename:
        raise UploadRefused(name, f"the zip archive gives one file two names ({info.filename!r}"
                                  f" in its directory, {local_name!r} in the file itself), a "
                                  "trick to unpack it somewhere else; the archive is refused")
    handle.seek(extra_length, os.SEEK_CUR)
    declared = info.file_size
    produced, crc, first = 0, 0, b""
    for piece in _unpacked(archive, handle, info, declared):
        if not first:
            first = piece[:4]
        produced += len(piece)
        if produced > declared:
            raise UploadRefused(name, f"{info.filename!r} in the zip archive says it unpacks to"
                                      f" {declared:,} bytes but unpacks to more: the "
                                      "archive's header lies about its size, so it is refused "
                                      "as a possible 'zip bomb'")
        crc = zlib.crc32(piece, crc)
    if produced != declared or crc != info.CRC:
        raise zipfile.BadZipFile(f"{info.filename!r} is damaged (its size or checksum does not "
                                 "match the archive's directory)")
    if first.startswith(b"PK\x03\x04"):
        raise UploadRefused(name, f"the zip archive holds another zip archive "
                                  f"({info.filename!r}); unzip that one and upload what is in it")


def _unpacked(archive: zipfile.ZipFile, handle: BinaryIO, info: zipfile.ZipInfo,
              declared: int) -> Iterable[bytes]:
    """A member's unpacked bytes in pieces of at most 1 MB, stopping just past `declared`.

    Deflated members are inflated from the raw stream to its own end marker, not cut at the
    declared size as zipfile does, so a header that understates the size is noticed."""
    if info.compress_type == zipfile.ZIP_STORED:
        left = info.compress_size
        while left > 0:
            piece = handle.read(min(_CHUNK, left))
            if not piece:
                raise EOFError(f"{info.filename!r} is cut short")
            left -= len(piece)
            yield piece
        return
    if info.compress_type != zipfile.ZIP_DEFLATED:  # bzip2, lzma: zipfile's reader, capped
        with archive.open(info) as member:
            while piece := member.read(_CHUNK):
                yield piece
        return
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    produced = 0
    while not inflater.eof:
        packed = handle.read(_CHUNK)
        if not packed:
            raise EOFError(f"{info.filename!r} is cut short")
        while packed and not inflater.eof:
            piece = inflater.decompress(packed, _CHUNK)
            packed = inflater.unconsumed_tail
            produced += len(piece)
            yield piece
            if produced > declared:
                return
