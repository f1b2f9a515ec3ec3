"""Benchmark the upload checks (core/uploads.py) on a real-sized zip and on a zip bomb.

    .venv/bin/python bench/bench_uploads.py [--repeats 3] [--zip-mb 40]

In a temporary folder it builds (not timed):
1. a ~40 MB zip of real police.uk CSV data: the bundled sample months, copied again and again
   as separate members until the archive reaches the size;
2. a zip bomb: 200 MB of zeros deflated into one member (about 200 KB);
3. the same 200 MB of zeros behind a lying header that says 1,000 bytes.

Then times, as the median of N runs: `check_upload` on the bytes (sniff, size, directory,
and every member unpacked in memory, capped at its declared size), `check_upload_path` on the
file (the same, read from disk), and `check_zip` on the directory alone (no unpacking), with
each step's peak resident memory (Linux VmHWM, reset before each step; it includes the
process's loaded libraries and the bytes already held).
"""

from __future__ import annotations

import tempfile
import time
import zipfile
import zlib
from pathlib import Path

from machine import SAMPLE_POLICE, bench_parser, machine_line, reset_peak_rss, timed, vm_hwm_mb

from core.uploads import MB, UploadRefused, check_upload, check_upload_path, check_zip


def real_zip(path: Path, target_mb: float) -> tuple[int, int]:
    """A zip of the sample police months, repeated until it is `target_mb` MB; returns its
    members and their unpacked total."""
    months = sorted(SAMPLE_POLICE.glob("*/*-street.csv"))
    members = unpacked = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        while path.stat().st_size < target_mb * MB:
            month = months[members % len(months)]
            data = month.read_bytes()
            archive.writestr(f"copy{members // len(months):03d}/{month.name}", data)
            members += 1
            unpacked += len(data)
            archive.fp.flush()
    return members, unpacked


def bomb_zip(path: Path) -> None:
    """200 MB of zeros deflated into one member."""
    zeros = bytes(MB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("zeros.csv", "w") as member:
            for _ in range(200):
                member.write(zeros)


def lying_zip(path: Path) -> None:
    """200 MB of zeros whose zip header says the member is 1,000 bytes long."""
    import struct

    payload = bytes(200 * MB)
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    packed = packer.compress(payload) + packer.flush()
    crc, name, declared = zlib.crc32(payload[:1000]), b"zeros.csv", 1000
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(packed),
                        declared, len(name), 0) + name + packed
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc,
                          len(packed), declared, len(name), 0, 0, 0, 0, 0, 0) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local), 0)
    path.write_bytes(local + central + end)


def outcome(step) -> str:
    """What a check said: accepted (with the kind) or the refusal."""
    try:
        return f"accepted as {step()}"
    except UploadRefused as exc:
        return f"refused: {exc.reason}"


def measure(label: str, step, repeats: int) -> None:
    """Time a check (median), note its peak memory, and print what it said."""
    said = outcome(step)
    reset_peak_rss()
    seconds, _ = timed(lambda: outcome(step), repeats)
    peak = vm_hwm_mb()
    memory = f", peak RSS {peak:,.0f} MB" if peak is not None else ""
    print(f"  {label:<44} {seconds * 1000:9.1f} ms{memory}\n      {said}", flush=True)


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--zip-mb", type=float, default=40.0)
    args = parser.parse_args()
    print(f"{machine_line(zlib=zlib.ZLIB_RUNTIME_VERSION)}; median of {args.repeats}")
    with tempfile.TemporaryDirectory(prefix="bench-uploads-") as folder:
        real, bomb, liar = (Path(folder) / n for n in ("police.zip", "bomb.zip", "lying.zip"))
        start = time.perf_counter()
        members, unpacked = real_zip(real, args.zip_mb)
        bomb_zip(bomb)
        lying_zip(liar)
        print(f"Built in {time.perf_counter() - start:.1f} s (not timed below)")

        size = real.stat().st_size
        print(f"\n1. Real data: {real.name}, {size / MB:.1f} MB, {members:,} police.uk CSVs "
              f"unpacking to {unpacked / MB:,.0f} MB ({unpacked / size:.1f} times)")
        data = real.read_bytes()
        measure("check_upload (bytes, members unpacked)",
                lambda: check_upload(real.name, data, ["zip"]), args.repeats)
        measure("check_upload_path (file, members unpacked)",
                lambda: check_upload_path(real, ["zip"]), args.repeats)
        measure("check_zip, directory only (no unpacking)",
                lambda: check_zip(real.name, real, verify_max_bytes=0) or "zip",
                args.repeats)
        del data

        print(f"\n2. Zip bomb: {bomb.name}, {bomb.stat().st_size / MB:.2f} MB, 200 MB of zeros")
        data = bomb.read_bytes()
        measure("check_upload (bytes)", lambda: check_upload(bomb.name, data, ["zip"]),
                args.repeats)
        measure("check_upload_path (file)", lambda: check_upload_path(bomb, ["zip"]),
                args.repeats)
        measure("unpacked anyway (ratio and total checks off)",
                lambda: check_zip(bomb.name, bomb, max_ratio=1e9) or "zip", args.repeats)

        print(f"\n3. Lying header: {liar.name}, {liar.stat().st_size / MB:.2f} MB, 200 MB of "
              "zeros declared as 1,000 bytes")
        measure("check_upload_path (file)", lambda: check_upload_path(liar, ["zip"]),
                args.repeats)


if __name__ == "__main__":
    main()
