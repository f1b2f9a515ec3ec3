"""National data at speed (issue 19, item 3): the bulk import path (one prepared INSERT ... ON
CONFLICT DO NOTHING run by the driver on SQLite; COPY into a staging table then INSERT ...
SELECT on PostgreSQL) keeps every row accounted for, with the counts the import gave before
it, and a re-import adds nothing; a police.uk archive zip imports as its folders do; a zip
with a bad member is refused with a plain message. Real data, real databases, no mocks.

Beside the bundled sample month, the City of London's whole file of the national month is read
(tests/fixtures/national_2022-01/, see tests/fixtures/PROVENANCE.md); the counts it must give
were measured with the import as it was before the bulk path.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ingest.run import ingest_paths
from store.models import Incident, RejectedRow
from tests.databases import BACKENDS, database
from tests.sample_data import ROOT, SAMPLE_POLICE

NATIONAL = ROOT / "tests" / "fixtures" / "national_2022-01"
# (rows read, accepted, set aside) per file, as imported before the bulk path
NATIONAL_FILES = {
    "2022-01-city-of-london-street.csv": (593, 556, 37),
}
SAMPLE_MONTH = ("2024-01-surrey-street.csv", (2104, 2014, 90))  # tests/test_postgres_store.py


def stored(engine) -> tuple[int, int]:
    """Incidents and rejected rows in the database."""
    with engine.connect() as conn:
        return (conn.execute(select(func.count()).select_from(Incident)).scalar_one(),
                conn.execute(select(func.count()).select_from(RejectedRow)).scalar_one())


def accounted(report) -> None:
    """accepted + duplicates + rejected = rows read, file by file and in total."""
    for f in report.files:
        assert f["accepted"] + f["duplicates"] + f["rejected"] == f["rows"], f
    assert report.accepted + report.duplicates + report.rejected == report.rows


def counts(report) -> dict[str, tuple[int, int, int]]:
    return {Path(f["file"]).name: (f["rows"], f["accepted"], f["rejected"])
            for f in report.files}


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_bulk_path_gives_the_counts_of_before_and_a_re_import_adds_nothing(
        backend, tmp_path):
    expected = {SAMPLE_MONTH[0]: SAMPLE_MONTH[1], **NATIONAL_FILES}
    paths = [SAMPLE_POLICE / "2024-01" / SAMPLE_MONTH[0],
             *(NATIONAL / name for name in NATIONAL_FILES)]
    with database(backend, tmp_path) as db:
        first = ingest_paths(db.engine, paths)
        assert counts(first) == expected
        assert first.duplicates == 0 and not first.failed_files
        accounted(first)
        assert stored(db.engine) == (first.accepted, first.rejected)

        again = ingest_paths(db.engine, paths)
        accounted(again)
        assert (again.accepted, again.duplicates, again.rejected) == (
            0, first.accepted, first.rejected)
        assert stored(db.engine) == (first.accepted, first.rejected)


def archive_of(months: list[str], extra: dict[str, bytes] | None = None) -> bytes:
    """A police.uk archive as downloaded: YYYY-MM/YYYY-MM-force-street.csv (and an outcomes
    file, which holds no street incidents), built from the bundled months."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for month in months:
            street = SAMPLE_POLICE / month / f"{month}-surrey-street.csv"
            archive.writestr(f"{month}/{street.name}", street.read_bytes())
            archive.writestr(f"{month}/{month}-surrey-outcomes.csv",
                             b"Crime ID,Month,Reported by,Falls within,Outcome type\r\n")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_an_archive_zip_of_two_months_imports_as_its_folders_do(tmp_path):
    months = ["2023-12", "2024-01"]
    zipped = tmp_path / "2024-01.zip"
    zipped.write_bytes(archive_of(months))
    folders = tmp_path / "folders"
    for month in months:
        (folders / month).mkdir(parents=True)
        name = f"{month}-surrey-street.csv"
        (folders / month / name).write_bytes((SAMPLE_POLICE / month / name).read_bytes())
        (folders / month / f"{month}-surrey-outcomes.csv").write_bytes(
            b"Crime ID,Month,Reported by,Falls within,Outcome type\r\n")
    progress: list[str] = []
    with database("sqlite", tmp_path / "a") as by_zip, \
            database("sqlite", tmp_path / "b") as by_folder:
        from_zip = ingest_paths(by_zip.engine, [zipped],
                                progress=lambda _f, message: progress.append(message))
        from_folders = ingest_paths(by_folder.engine, [folders])
        accounted(from_zip)
        assert counts(from_zip) == counts(from_folders)
        assert [f["skipped"] is not None for f in from_zip.files] == [True, False, True, False]
        assert from_zip.accepted == from_folders.accepted > 3000
        with by_zip.engine.connect() as a, by_folder.engine.connect() as b:
            keys = select(Incident.dedup_key).order_by(Incident.id)
            assert a.execute(keys).scalars().all() == b.execute(keys).scalars().all()
        # the zip and the folders are the same data: one after the other adds nothing
        again = ingest_paths(by_zip.engine, [folders])
        assert (again.accepted, again.duplicates) == (0, from_zip.accepted)
    stored_messages = [m for m in progress if m.startswith("Stored")]
    assert len(stored_messages) == 4  # one per member, with the rows so far
    assert f"{from_zip.accepted:,} rows imported so far" in stored_messages[-1]


@pytest.mark.parametrize(("member", "words"), [
    ("../2024-01/2024-01-surrey-street.csv", "zip slip"),
    ("2024-01/inner.zip", "holds another zip archive"),
])
def test_a_zip_with_a_bad_member_is_refused_with_a_plain_message(tmp_path, member, words):
    path = tmp_path / "archive.zip"
    path.write_bytes(archive_of(["2024-01"], {member: b"PK\x03\x04 not really"}))
    with database("sqlite", tmp_path) as db:
        report = ingest_paths(db.engine, [path, SAMPLE_POLICE / "2023-12"])
        [refused] = report.failed_files
        assert refused["file"] == str(path) and words in refused["error"]
        assert refused["rows"] == refused["accepted"] == 0
        # the archive is refused as a whole; the other files still go in
        assert report.accepted > 1000
        assert stored(db.engine)[0] == report.accepted


def test_a_damaged_zip_is_refused_not_a_traceback(tmp_path):
    path = tmp_path / "cut.zip"
    path.write_bytes(archive_of(["2024-01"])[:5000])
    with database("sqlite", tmp_path) as db:
        report = ingest_paths(db.engine, [path])
    [refused] = report.failed_files
    assert "not a readable zip archive" in refused["error"]
