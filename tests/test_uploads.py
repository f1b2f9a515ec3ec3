"""Safe uploads: size limits, the real type read from the content (not the name), and zip
archives checked for members that escape their folder (zip slip) and for zip bombs, before
any reader opens the file; through the library's entry points (CSV import, layer files, PSPO
map files, photos) as well as directly. Real files wherever possible: the bundled sample data,
programs and images already on the machine, zips built here with zipfile."""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
import struct
import tomllib
import zipfile
import zlib
from pathlib import Path

import geopandas as gpd
import pytest
from matplotlib.figure import Figure
from sqlalchemy import func, select

import core.uploads as uploads
from core.uploads import (
    MB,
    UploadRefused,
    check_upload,
    check_upload_path,
    check_zip,
    describe,
    sniff,
)
from geo.crs import BNG
from geo.layer_files import LayerError, check_layer_file
from ingest.run import ingest_bytes, ingest_paths
from registers.checks import photo_type
from registers.common import RegisterError
from registers.outlines import read_area_file
from store.models import Equipment, Incident
from tests.sample_data import BOUNDARIES, ROOT, month_file

WARDS = BOUNDARIES / "wards_2013_E07000212.geojson"
POLICE_CSV = month_file("2023-01")
ELF = Path(shutil.which("true") or "/usr/bin/true")
# setuptools (in the virtualenv) ships small real Windows programs, its launchers
EXE = Path(importlib.util.find_spec("setuptools").origin).parent / "cli.exe"
PNG = ROOT / "static" / "vendor" / "leaflet" / "images" / "layers.png"
LAYER_WORDS = "cannot be read as a GeoJSON, KML, GeoPackage or zipped Shapefile layer"


def ward_count() -> int:
    """Features in the wards file, counted from its JSON (not through geopandas)."""
    return len(json.loads(WARDS.read_text(encoding="utf-8"))["features"])


def stored_incidents(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Incident.__table__)).scalar_one()


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def shapefile_parts(tmp_path_factory) -> list[Path]:
    """The real wards file written as a Shapefile in British National Grid (.shp, .shx, ...)."""
    folder = tmp_path_factory.mktemp("wards_shp")
    gpd.read_file(WARDS).to_crs(BNG).to_file(folder / "wards.shp")
    return sorted(folder.iterdir())


def shapefile_zip(path: Path, parts: list[Path], extra: dict[str, bytes] | None = None,
                  symlinks: tuple[str, ...] = ()) -> Path:
    """The Shapefile's parts zipped (deflated), plus `extra` members and symlink members."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for part in parts:
            archive.write(part, part.name)
        for member, data in (extra or {}).items():
            archive.writestr(zipfile.ZipInfo(member), data)
        for member in symlinks:
            info = zipfile.ZipInfo(member)
            info.create_system = 3
            info.external_attr = 0o120777 << 16
            archive.writestr(info, "/etc/passwd")
    return path


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory) -> Path:
    """200 MB of zeros deflated into one member (about 200 KB on disk)."""
    path = tmp_path_factory.mktemp("bomb") / "wards.zip"
    zeros = bytes(MB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("wards.csv", "w") as member:
            for _ in range(200):
                member.write(zeros)
    return path


def one_member_zip(payload: bytes, declared: int, name: str = "wards.csv",
                   local_name: str | None = None) -> bytes:
    """A zip built by the format's rules whose directory says the member unpacks to
    `declared` bytes (with the checksum of those first bytes), whatever it really holds."""
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    packed = packer.compress(payload) + packer.flush()
    crc = zlib.crc32(payload[:declared])
    central_name, file_name = name.encode(), (local_name or name).encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(packed), declared,
                        len(file_name), 0) + file_name + packed
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc,
                          len(packed), declared, len(central_name), 0, 0, 0, 0, 0, 0)
    central += central_name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local), 0)
    return local + central + end


# --- sniff: the type from the content ---------------------------------------------------------

def test_sniff_reads_the_real_type_of_real_files(tmp_path, shapefile_parts) -> None:
    wards = gpd.read_file(WARDS)
    wards.to_file(tmp_path / "wards.gpkg", driver="GPKG")
    wards.to_file(tmp_path / "wards.kml", driver="KML")
    figure = Figure()
    figure.add_subplot().plot([1, 2, 3])
    figure.savefig(tmp_path / "chart.pdf")
    figure.savefig(tmp_path / "chart.jpg")
    police = POLICE_CSV.read_bytes()
    cp1252 = police.replace(b"Surrey", "Surrey £5 café".encode("cp1252"))
    shp = next(p for p in shapefile_parts if p.suffix == ".shp")
    expected = {
        "zip": shapefile_zip(tmp_path / "wards.zip", shapefile_parts).read_bytes(),
        "gpkg": (tmp_path / "wards.gpkg").read_bytes(),
        "kml": (tmp_path / "wards.kml").read_bytes(),
        "pdf": (tmp_path / "chart.pdf").read_bytes(),
        "jpeg": (tmp_path / "chart.jpg").read_bytes(),
        "png": PNG.read_bytes(),
        "gzip": zlib.compress(police, wbits=31),
        "exe": ELF.read_bytes(),
        "shp": shp.read_bytes(),
        "json": b"\xef\xbb\xbf \n" + WARDS.read_bytes(),
        "text": cp1252,
        "binary": struct.pack("<4096d", *range(4096)),
    }
    assert {kind: sniff(data) for kind, data in expected.items()} == {k: k for k in expected}
    assert sniff(police) == "text" and sniff(EXE.read_bytes()) == "exe"
    assert sniff(b"MZ,Site,Date\n1,Staines,2024-01-01\n") == "text"  # a header, not a program
    assert describe(EXE.read_bytes()) == "a Windows program (.exe)"
    assert describe(ELF.read_bytes()) == "a Linux program (ELF executable)"


def test_real_files_of_the_allowed_kind_are_accepted(tmp_path, shapefile_parts) -> None:
    assert check_upload(POLICE_CSV.name, POLICE_CSV.read_bytes(), ["text"]) == "text"
    assert check_upload_path(WARDS, ["json", "zip"]) == "json"
    good = shapefile_zip(tmp_path / "wards.zip", shapefile_parts)
    assert check_upload(good.name, good.read_bytes(), ["zip"]) == "zip"
    assert check_upload_path(good, ["zip"]) == "zip"


# --- size -------------------------------------------------------------------------------------

def test_a_file_over_the_limit_is_refused_everywhere(fresh_db, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HOTSPOTS_MAX_UPLOAD_MB", "0.1")
    data = POLICE_CSV.read_bytes()
    size = f"{len(data) / MB:.1f} MB"
    with pytest.raises(UploadRefused) as caught:
        check_upload(POLICE_CSV.name, data, ["text"])
    assert caught.value.file == POLICE_CSV.name
    assert str(caught.value) == (f"{POLICE_CSV.name}: the file is {size}, more than the 0.1 MB "
                                 "that can be uploaded; split it into smaller files (or ask for "
                                 "the limit to be raised)")
    # the app's import path
    report = ingest_bytes(fresh_db.engine, POLICE_CSV.name, data)
    [failed] = report.failed_files
    assert failed["file"] == POLICE_CSV.name and failed["error"] == caught.value.reason
    # the CLI's: refused by its size on disk, never read
    copy = tmp_path / POLICE_CSV.name
    copy.write_bytes(data)

    def no_reading(self):
        raise AssertionError(f"{self} was read")
    monkeypatch.setattr(Path, "read_bytes", no_reading)
    report = ingest_paths(fresh_db.engine, [copy])
    [failed] = report.failed_files
    assert failed["file"] == str(copy) and failed["error"] == caught.value.reason
    assert report.accepted == 0 and stored_incidents(fresh_db.engine) == 0
    monkeypatch.undo()
    # a layer file over the limit
    monkeypatch.setenv("HOTSPOTS_MAX_UPLOAD_MB", "0.02")
    with pytest.raises(LayerError, match=rf"^{WARDS.name}: the file is 0\.037 MB, more than "
                                         r"the 0\.02 MB"):
        check_layer_file(WARDS, "ward")
    monkeypatch.setenv("HOTSPOTS_MAX_UPLOAD_MB", "lots")
    with pytest.raises(ValueError, match="HOTSPOTS_MAX_UPLOAD_MB must be a number"):
        uploads.max_upload_bytes()


def test_a_huge_file_on_disk_is_refused_by_its_size_without_reading_it(tmp_path,
                                                                        monkeypatch) -> None:
    monkeypatch.delenv("HOTSPOTS_MAX_UPLOAD_MB", raising=False)
    huge = tmp_path / "wards.geojson"
    with huge.open("wb") as handle:  # sparse: 300 MB long, next to nothing on disk
        handle.truncate(300 * MB)

    def no_reading(self, *args, **kwargs):
        raise AssertionError(f"{self} was opened")
    monkeypatch.setattr(Path, "open", no_reading)
    monkeypatch.setattr(Path, "read_bytes", no_reading)
    with pytest.raises(UploadRefused, match="the file is 300 MB, more than the 200 MB"):
        check_upload_path(huge, ["json"])
    with pytest.raises(LayerError, match="^wards.geojson: the file is 300 MB, more than the "
                                         "200 MB that can be uploaded"):
        check_layer_file(huge, "ward")


def test_the_app_upload_limit_is_the_same_as_the_library_limit() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] * MB == uploads.DEFAULT_MAX_UPLOAD_MB * MB
    assert config["server"]["enableStaticServing"] is True  # other settings kept


# --- disguised files --------------------------------------------------------------------------

DISGUISED = [(ELF, "a Linux program (ELF executable)"), (EXE, "a Windows program (.exe)"),
             (PNG, "a PNG image")]


@pytest.mark.parametrize(("source", "what"), DISGUISED, ids=["elf", "exe", "png"])
def test_a_binary_renamed_csv_is_refused_by_its_content(fresh_db, source, what) -> None:
    data = source.read_bytes()
    with pytest.raises(UploadRefused) as caught:
        check_upload("report.csv", data, ["text"])
    assert str(caught.value) == (f"report.csv: this is not a CSV text file: its content is "
                                 f"{what}, whatever its name says")
    report = ingest_bytes(fresh_db.engine, "report.csv", data)
    [failed] = report.failed_files
    assert failed["file"] == "report.csv"
    assert failed["error"] == f"this is not a CSV file: it looks like {what}"
    assert report.accepted == 0 and stored_incidents(fresh_db.engine) == 0


@pytest.mark.parametrize(("source", "what"), DISGUISED, ids=["elf", "exe", "png"])
def test_a_binary_renamed_geojson_is_refused_as_a_layer(tmp_path, source, what) -> None:
    path = tmp_path / "wards.geojson"
    shutil.copyfile(source, path)
    message = f"wards.geojson: {LAYER_WORDS}: its content is {what}, whatever its name says"
    with pytest.raises(LayerError) as caught:
        check_layer_file(path, "ward")
    assert str(caught.value) == message
    with pytest.raises(RegisterError) as caught:  # the PSPO register's map files
        read_area_file(path)
    assert str(caught.value) == message


def test_photos_are_still_checked_by_content() -> None:
    assert photo_type(PNG.read_bytes(), "bank.png") == "image/png"
    with pytest.raises(RegisterError, match="bank.jpg is not a JPEG or PNG photo"):
        photo_type(EXE.read_bytes(), "bank.jpg")


# --- zip slip ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("member", "why"), [
    ("../../evil.txt", "climbs out of its folder with '..'"),
    ("/etc/x", "is an absolute path"),
    ("shp/../../../evil.txt", "climbs out of its folder with '..'"),
    ("..\\..\\evil.txt", "climbs out of its folder with '..'"),
    ("\\\\server\\share\\evil.txt", "is an absolute path"),
    ("C:\\Windows\\evil.txt", "names a drive letter"),
    ("C:evil.txt", "names a drive letter"),
])
def test_zip_slip_members_are_refused_and_nothing_is_written(tmp_path, shapefile_parts, member,
                                                            why) -> None:
    folder = tmp_path / "upload"
    folder.mkdir()
    path = shapefile_zip(folder / "wards.zip", shapefile_parts, {member: b"owned\n"})
    assert member in zipfile.ZipFile(path).namelist()  # the name really is in the archive
    before = files_under(tmp_path)
    etc_before = Path("/etc/x").exists()
    with pytest.raises(LayerError) as caught:
        check_layer_file(path, "ward")
    message = str(caught.value)
    assert message.startswith(f"wards.zip: the zip archive holds a file named {member!r}")
    assert why in message and "(a 'zip slip')" in message
    with pytest.raises(UploadRefused, match="zip slip"):
        check_upload("wards.zip", path.read_bytes(), ["zip"])
    assert files_under(tmp_path) == before
    assert not list(tmp_path.parent.rglob("evil.txt"))
    assert not any((folder / "evil.txt").exists() for folder in
                   (Path.cwd(), *Path.cwd().parents))
    assert Path("/etc/x").exists() == etc_before


def test_a_symlink_member_is_refused(tmp_path, shapefile_parts) -> None:
    path = shapefile_zip(tmp_path / "wards.zip", shapefile_parts, symlinks=("readme.txt",))
    with pytest.raises(LayerError, match=r"wards.zip: the zip archive holds a link \(symlink\) "
                                         "named 'readme.txt'"):
        check_layer_file(path, "ward")


def test_a_member_with_another_name_in_its_own_header_is_refused(tmp_path) -> None:
    data = one_member_zip(POLICE_CSV.read_bytes(), len(POLICE_CSV.read_bytes()),
                          name="wards.csv", local_name="../../evil.csv")
    with pytest.raises(UploadRefused, match=r"gives one file two names \('wards.csv' in its "
                                            r"directory, '../../evil.csv' in the file itself\)"):
        check_zip("wards.zip", data)


# --- zip bombs --------------------------------------------------------------------------------

def test_a_zip_bomb_is_refused_by_its_ratio_without_unpacking_it(zip_bomb, tmp_path,
                                                                 monkeypatch) -> None:
    size = zip_bomb.stat().st_size
    assert size < 1 * MB
    info = zipfile.ZipFile(zip_bomb).getinfo("wards.csv")
    assert info.file_size == 200 * MB

    def no_unpacking(*args, **kwargs):
        raise AssertionError("the archive was unpacked")
    monkeypatch.setattr(zlib, "decompressobj", no_unpacking)
    monkeypatch.setattr(zipfile.ZipFile, "open", no_unpacking)
    monkeypatch.setattr(zipfile.ZipFile, "extractall", no_unpacking)
    before = files_under(zip_bomb.parent) | files_under(tmp_path)
    with pytest.raises(UploadRefused) as caught:
        check_upload("wards.zip", zip_bomb.read_bytes(), ["zip"])
    ratio = f"{200 * MB / size:,.0f}"
    assert str(caught.value) == (
        f"wards.zip: the zip archive is 0.2 MB but would unpack to 200 MB ({ratio} times its "
        "size, more than the 100 times real data reaches); it is refused as a possible 'zip "
        "bomb'")
    with pytest.raises(LayerError, match="would unpack to 200 MB .* 'zip bomb'"):
        check_layer_file(zip_bomb, "ward")
    renamed = tmp_path / "wards.geojson"  # a zip by its content, whatever its name
    shutil.copyfile(zip_bomb, renamed)
    with pytest.raises(LayerError, match="^wards.geojson: the zip archive .* 'zip bomb'"):
        check_layer_file(renamed, "ward")
    renamed.unlink()
    # and by the total, whatever the ratio
    with pytest.raises(UploadRefused, match="would unpack to 200 MB, more than the 100 MB "
                                            "allowed; it is refused as a possible 'zip bomb'"):
        check_zip("wards.zip", zip_bomb, max_total_bytes=100 * MB, max_ratio=10_000)
    assert files_under(zip_bomb.parent) | files_under(tmp_path) == before


def test_a_zip_header_that_lies_about_the_size_is_caught_by_unpacking() -> None:
    zeros = bytes(50 * MB)
    data = one_member_zip(zeros, declared=1000)
    assert len(data) < 100_000
    # zipfile itself is fooled: it stops at the declared size and the checksum matches
    assert zipfile.ZipFile(io.BytesIO(data)).read("wards.csv") == bytes(1000)
    with pytest.raises(UploadRefused) as caught:
        check_upload("wards.zip", data, ["zip"])
    assert str(caught.value) == (
        "wards.zip: 'wards.csv' in the zip archive says it unpacks to 1,000 bytes but unpacks "
        "to more: the archive's header lies about its size, so it is refused as a possible "
        "'zip bomb'")
    # told the truth, the same member is refused by its ratio before anything is unpacked
    with pytest.raises(UploadRefused, match="would unpack to 50 MB"):
        check_upload("wards.zip", one_member_zip(zeros, declared=len(zeros)), ["zip"])


def test_a_zip_inside_a_zip_is_refused(tmp_path, shapefile_parts) -> None:
    inner = shapefile_zip(tmp_path / "inner.zip", shapefile_parts)
    named = tmp_path / "named.zip"
    with zipfile.ZipFile(named, "w") as archive:
        archive.write(inner, "wards.zip")
    with pytest.raises(UploadRefused, match=r"holds another zip archive \('wards.zip'\)"):
        check_upload_path(named, ["zip"])
    hidden = tmp_path / "hidden.zip"
    with zipfile.ZipFile(hidden, "w") as archive:
        archive.write(inner, "wards.dbf")  # a zip by its content, whatever its name
    with pytest.raises(UploadRefused, match=r"holds another zip archive \('wards.dbf'\)"):
        check_upload_path(hidden, ["zip"])


def test_too_many_members_are_refused(tmp_path) -> None:
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(10_001):
            archive.writestr(f"part{i}.txt", b"")
    with pytest.raises(UploadRefused, match="holds 10,001 files; at most 10,000 are allowed"):
        check_upload_path(path, ["zip"])


# --- damaged and good zips --------------------------------------------------------------------

def test_corrupt_zips_are_refused_as_unreadable(tmp_path, shapefile_parts) -> None:
    good = shapefile_zip(tmp_path / "good.zip", shapefile_parts).read_bytes()
    info = max(zipfile.ZipFile(io.BytesIO(good)).infolist(), key=lambda i: i.compress_size)
    name_length, extra_length = struct.unpack(
        "<HH", good[info.header_offset + 26:info.header_offset + 30])
    start = info.header_offset + 30 + name_length + extra_length
    scrambled = bytearray(good)
    for i in range(start + info.compress_size // 3, start + info.compress_size // 3 + 64):
        scrambled[i] ^= 0x5A
    damaged = {
        "cut.zip": good[:-300],  # its directory cut off, as by a broken download
        "junk.zip": b"PK\x03\x04" + bytes(range(256)) * 8,
        "scrambled.zip": bytes(scrambled),  # directory intact, one member's data damaged
    }
    for name, data in damaged.items():
        with pytest.raises(UploadRefused, match=f"^{name}: this is not a readable zip archive"):
            check_upload(name, data, ["zip"])
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(LayerError, match=f"^{name}: this is not a readable zip archive"):
            check_layer_file(path, "ward")


def test_a_good_zipped_shapefile_is_accepted(tmp_path, shapefile_parts) -> None:
    path = shapefile_zip(tmp_path / "wards.zip", shapefile_parts)
    assert check_upload_path(path, ["zip"]) == "zip"
    checked = check_layer_file(path, "ward")
    assert len(checked.features) == ward_count() and checked.rejected.empty
    assert checked.features.crs.to_epsg() == 4326


def test_a_register_spreadsheet_over_the_limit_is_refused_without_reading_it(
        register_db, tmp_path, monkeypatch) -> None:
    """The equipment and checks imports (app and CLI) refuse an oversized file by its size on
    disk, naming the file, and add nothing."""
    from registers.imports import import_checks, import_equipment

    sample = ROOT / "data" / "sample" / "registers"
    with register_db.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(Equipment)).scalar()
    monkeypatch.setenv("HOTSPOTS_MAX_UPLOAD_MB", "0.001")  # about 1 KB: the files are larger
    for importer, name in ((import_equipment, "example_equipment.csv"),
                           (import_checks, "example_checks.csv")):
        copy = tmp_path / name
        copy.write_bytes((sample / name).read_bytes())
        assert copy.stat().st_size > 0.001 * MB

        def no_reading(self):
            raise AssertionError(f"{self} was read")
        monkeypatch.setattr(Path, "read_bytes", no_reading)
        result = importer(register_db.engine, copy, "upload test")
        monkeypatch.undo()
        monkeypatch.setenv("HOTSPOTS_MAX_UPLOAD_MB", "0.001")
        assert result.error.startswith("the file is 0.0") and "more than the 0.001 MB" in \
            result.error
        assert result.accepted.empty and result.rejected.empty
    with register_db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Equipment)).scalar() == before
