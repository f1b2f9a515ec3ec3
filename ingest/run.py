"""Import files and folders into the database, reporting progress as it goes."""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from access.incidents import save_import
from access.roles import IMPORT
from access.scope import require
from core.import_result import FileImport, FileImportError
from core.uploads import UploadRefused, check_size, check_zip
from ingest.council import ColumnMapping, parse_council
from ingest.police import looks_like_police, parse_police
from ingest.readcsv import read_header

# progress(fraction 0..1, message); messages say what is being done and how many rows so far.
Progress = Callable[[float, str], None]
NOT_INCIDENTS = ("-outcomes.csv", "-stop-and-search.csv")


@dataclass
class IngestReport:
    """Totals over every file of one ingest, plus each file's own counts."""

    rows: int = 0  # records read: accepted + duplicates + rejected, file by file
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    files: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The CLI's --json shape."""
        return {"rows": self.rows, "accepted": self.accepted, "rejected": self.rejected,
                "duplicates": self.duplicates, "files": self.files}

    @property
    def failed_files(self) -> list[dict]:
        """Files refused as a whole."""
        return [f for f in self.files if f.get("error")]


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, and every CSV under folders (the police.uk archive layout), sorted."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file()
                                and p.suffix.lower() == ".csv"))
        else:
            found.append(path)
    return found


@dataclass
class Source:
    """One file to import: a file on disk or a CSV inside a zip archive. `refused` (a reason)
    when it cannot be read at all; `read` gives its bytes."""

    name: str
    size: int
    read: Callable[[], bytes] | None = None
    refused: str | None = None
    kind: str = "unknown"


def is_archive(path: Path) -> bool:
    """A zip archive given as a path (police.uk's downloads: YYYY-MM/YYYY-MM-force-street.csv)."""
    return path.is_file() and path.suffix.lower() == ".zip"


def archive_sources(path: Path) -> list[Source]:
    """The CSV members of a police.uk archive zip, sorted by name, after the upload checks of
    a zip (core.uploads.check_zip: no zip slip, links, nested or encrypted members, bombs or
    lying headers); a refused archive is one source that says why. Each member is read from
    the archive when its turn comes, never unpacked to disk."""
    try:
        check_zip(path.name, path)
        with zipfile.ZipFile(path) as archive:
            members = sorted((info for info in archive.infolist() if not info.is_dir()
                              and info.filename.lower().endswith(".csv")),
                             key=lambda info: info.filename)
    except UploadRefused as exc:
        return [Source(str(path), 0, refused=exc.reason, kind="zip archive")]
    if not members:
        return [Source(str(path), 0, kind="zip archive",
                       refused="the zip archive holds no CSV files")]

    def reader(info: zipfile.ZipInfo) -> Callable[[], bytes]:
        def read() -> bytes:
            with zipfile.ZipFile(path) as archive:
                return archive.read(info)
        return read

    return [Source(f"{path}/{info.filename}", info.file_size, reader(info))
            for info in members]


def sources_of(paths: Iterable[str | Path]) -> list[Source]:
    """Every file to import, in order: files as given, CSVs under folders, CSVs in zips."""
    found: list[Source] = []
    for raw in paths:
        path = Path(raw)
        if is_archive(path):
            found.extend(archive_sources(path))
            continue
        for file in expand_paths([path]):
            if not file.exists():
                found.append(Source(str(file), 0, refused="no such file or folder"))
            else:
                found.append(Source(str(file), file.stat().st_size, file.read_bytes))
    return found


def parse_source(source: Source, mapping: ColumnMapping | None = None) -> FileImport:
    """Read and parse one source; a refused, over-size or unreadable one becomes `error`."""
    if source.refused:
        return FileImport(file=source.name, kind=source.kind, error=source.refused)
    try:  # an over-size file is refused by its size, before it is read
        check_size(source.name, source.size)
        data = source.read()
    except UploadRefused as exc:
        return FileImport(file=source.name, kind="unknown", error=exc.reason)
    except (OSError, zipfile.BadZipFile, zlib.error) as exc:
        return FileImport(file=source.name, kind="unknown", error=unexpected("read", exc))
    return parse_file(source.name, data, mapping)


def parse_file(name: str, data: bytes, mapping: ColumnMapping | None = None) -> FileImport:
    """Parse one file as police.uk or council log; file-level problems become `error`."""
    lower = name.lower()
    if lower.endswith(NOT_INCIDENTS):
        return FileImport(file=name, kind="police.uk",
                          skipped="outcomes and stop-and-search files hold no street incidents")
    kind = "police.uk"
    try:
        header = read_header(name, data)
        if mapping is not None or not looks_like_police(header, name):
            kind = "council log"
            return parse_council(name, data, mapping)
        return parse_police(name, data)
    except FileImportError as exc:
        return FileImport(file=name, kind=kind, error=exc.message)
    except Exception as exc:  # noqa: BLE001 - one file's surprise must not stop the batch
        return FileImport(file=name, kind=kind, error=unexpected("read", exc))


def unexpected(doing: str, exc: Exception) -> str:
    """A file-level error for a failure no check foresaw, without a traceback (the batch goes
    on; the file can be imported again once the cause is fixed)."""
    first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    return (f"could not be {doing} ({type(exc).__name__}{': ' + first if first else ''}); "
            "import it again once the cause is fixed (rows already stored count as "
            "duplicates)")


def ingest_paths(engine: Engine, paths: Iterable[str | Path], mapping: ColumnMapping | None = None,
                 progress: Progress | None = None) -> IngestReport:
    """Import each file (files, folders of CSVs, police.uk archive zips: a whole month or
    archive of every force in one call); a bad file is reported and skipped, the others go
    in. Progress is reported before and after each file, with the rows imported so far."""
    require(IMPORT)
    sources = sources_of(paths)
    total = max(sum(s.size for s in sources), 1)
    done_bytes = 0
    report = IngestReport()
    for index, source in enumerate(sources):
        name = Path(source.name).name
        if progress:
            progress(done_bytes / total, f"Reading {name} "
                     f"({report.accepted:,} rows imported so far)")
        report_one(engine, parse_source(source, mapping), report)
        done_bytes += source.size
        if progress:
            progress(done_bytes / total, f"Stored {name}: {report.accepted:,} rows "
                     f"imported so far, {report.rejected:,} set aside "
                     f"(file {index + 1:,} of {len(sources):,})")
    return report


def ingest_bytes(engine: Engine, name: str, data: bytes, mapping: ColumnMapping | None = None,
                 report: IngestReport | None = None) -> IngestReport:
    """Import one uploaded file (the app's path); same rules as files on disk."""
    require(IMPORT)
    report = report or IngestReport()
    report_one(engine, parse_file(name, data, mapping), report)
    return report


def report_one(engine: Engine, result: FileImport, report: IngestReport) -> None:
    """Store a parsed file (unless refused or skipped) and add its counts to the report."""
    if result.error or result.skipped:
        summary = result.summary()
        summary.update(duplicates=0)
    else:
        try:
            summary = save_import(engine, result)
        except SQLAlchemyError as exc:  # e.g. the server went away: say so, go on
            summary = result.summary()
            summary.update(accepted=0, duplicates=0, rejected=0,
                           error=unexpected("stored", exc.orig or exc))
    report.rows += summary["rows"]
    report.accepted += summary["accepted"]
    report.rejected += summary["rejected"]
    report.duplicates += summary["duplicates"]
    report.files.append(summary)
