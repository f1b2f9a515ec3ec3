"""What the benchmarks share: which machine they ran on, its peak-memory counter, timing by
median, and the whole-force police files they read. Importing it makes the benchmark act as
the terminal's operator, as the CLI does."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"  # the whole-force files and national boundaries
FORCE_DIR = SHARED / "police" / "surrey"
SAMPLE_POLICE = ROOT / "data" / "sample" / "police"
SURREY_DISTRICTS = [f"E070002{n:02d}" for n in range(7, 18)]


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo, else what `platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info(**extra: object) -> dict[str, object]:
    """What the figures were measured on: CPU, cores, Python and the system, then `extra`
    (library versions and the like)."""
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "machine": platform.machine(),
            "python": platform.python_version(),
            "platform": f"{platform.system()} {platform.release()}", **extra}


def machine_line(**versions: object) -> str:
    """machine_info as the one line every benchmark prints first:
    'Machine: <cpu>, 2 cores, x86_64, Python 3.11.9, Linux 6.1, numpy 1.26.4'."""
    info = machine_info()
    named = "".join(f", {name} {value}" for name, value in versions.items())
    return (f"Machine: {info['cpu']}, {info['cores']} cores, {info['machine']}, "
            f"Python {info['python']}, {info['platform']}{named}")


def bench_parser(doc: str | None, repeats: int = 3, force_dir: bool = False
                 ) -> argparse.ArgumentParser:
    """The arguments every benchmark takes: --repeats (the median of how many runs) and, for
    those that read the whole-force files, --force-dir."""
    parser = argparse.ArgumentParser(description=(doc or "").strip().splitlines()[0])
    parser.add_argument("--repeats", type=int, default=repeats,
                        help="runs per figure; the median is shown")
    if force_dir:
        parser.add_argument("--force-dir", type=Path, default=FORCE_DIR)
    return parser


def reset_peak_rss() -> bool:
    """Reset the kernel's resident-memory high-water mark (VmHWM); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def vm_hwm_mb() -> float | None:
    """This process's resident-memory high-water mark in MB, if the kernel says."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def timed(step: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Median seconds over `repeats` runs, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = step()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def force_area(engine) -> str | None:
    """Store Surrey's 11 districts as one area, "Surrey (force)", when the national district
    file is at hand; None otherwise."""
    import geopandas as gpd

    from geo.layers import store_layer

    national = SHARED / "boundaries" / "lad_2013_england_generalised.geojson"
    if not national.exists():
        return None
    lads = gpd.read_file(national)
    code_field = next(c for c in lads.columns if c.upper().endswith("CD"))
    surrey = lads[lads[code_field].isin(SURREY_DISTRICTS)]
    if len(surrey) != len(SURREY_DISTRICTS):
        return None
    store_layer(engine, "area", surrey, "bench: Surrey's 11 districts", name="Surrey (force)")
    return "Surrey (force)"


def force_files(folder: Path, months: list[str]) -> tuple[list[Path], str]:
    """The months' whole-force Surrey files, or the bundled sample as a stand-in."""
    files = [folder / f"{m}-surrey-street.csv" for m in months]
    if all(f.exists() for f in files):
        return files, f"whole-force Surrey Police files from {folder}"
    sample = [ROOT / "data" / "sample" / "police" / m / f"{m}-surrey-street.csv" for m in months]
    return sample, "STAND-IN: the bundled 3-borough sample (whole-force files not found)"


def imported_database(prefix: str, files: list[Path], what: str):
    """A new SQLite database (in a temporary folder) set up as `hotspots setup` does, with the
    bundled layers and `files` imported; prints what was read and how long the import took."""
    import tempfile

    from geo.bundled import seed_bundled_layers
    from ingest.run import ingest_paths
    from store.db import get_engine, migrate

    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix=prefix))}/bench.sqlite"
    migrate(url)
    engine = get_engine(url)
    seed_bundled_layers(engine)
    start = time.perf_counter()
    report = ingest_paths(engine, files)
    print(f"Data: {what}; {report.accepted:,} incidents imported in "
          f"{time.perf_counter() - start:.1f} s ({report.rejected:,} rows set aside)")
    return engine


def force_database(prefix: str, folder: Path, months: list[str]):
    """imported_database with the months' whole-force files (or the sample standing in)."""
    files, what = force_files(folder, months)
    return imported_database(prefix, files, what)


def force_bench(doc: str | None, prefix: str, months: list[str],
                parser: argparse.ArgumentParser | None = None, **versions: object):
    """How a whole-force benchmark starts: read the arguments (`parser`, else bench_parser's
    with --force-dir), print the machine line with `versions`, and build force_database.
    Returns the arguments and the engine."""
    args = (parser or bench_parser(doc, force_dir=True)).parse_args()
    print(machine_line(**versions))
    return args, force_database(prefix, args.force_dir, months)


def sample_database(prefix: str):
    """imported_database with every month of the bundled sample."""
    return imported_database(prefix, [SAMPLE_POLICE], "the bundled sample")


def act_as_operator() -> None:
    """Benchmarks call the library directly, as the CLI does: act as the terminal's operator
    (an admin) for the rest of this process (the library refuses everything to nobody)."""
    from access.scope import act_from_now_as, operator

    act_from_now_as(operator())


act_as_operator()
