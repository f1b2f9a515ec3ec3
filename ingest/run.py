"""Import files and folders into the database, reporting progress as it goes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from access.roles import IMPORT
from access.scope import require
from ingest.council import ColumnMapping, parse_council
from ingest.police import looks_like_police, parse_police
from ingest.readcsv import read_header
from ingest.result import FileImport, FileImportError
from ingest.uploads import UploadRefused, check_size
from store.incidents import save_import

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
    """Import each file; a bad file is reported and skipped, the others go in."""
    require(IMPORT)
    files = expand_paths(paths)
    sizes = [p.stat().st_size if p.exists() else 0 for p in files]
    total = max(sum(sizes), 1)
    done_bytes = 0
    report = IngestReport()
    for path, size in zip(files, sizes, strict=True):
        if progress:
            progress(done_bytes / total, f"Reading {path.name} "
                     f"({report.accepted:,} rows imported so far)")
        if not path.exists():
            result = FileImport(file=str(path), kind="unknown", error="no such file or folder")
        else:
            try:  # an over-size file is refused by its size on disk, before it is read
                check_size(str(path), size)
                result = parse_file(str(path), path.read_bytes(), mapping)
            except UploadRefused as exc:
                result = FileImport(file=str(path), kind="unknown", error=exc.reason)
        report_one(engine, result, report)
        done_bytes += size
        if progress:
            progress(done_bytes / total, f"Stored {path.name}: {report.accepted:,} rows "
                     f"imported so far, {report.rejected:,} set aside")
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
