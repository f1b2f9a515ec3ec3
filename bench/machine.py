"""What the benchmarks share: which machine they ran on, its peak-memory counter, timing by
median, and the whole-force police files they read. Importing it makes the benchmark act as
the terminal's operator, as the CLI does."""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo, else what `platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


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


def force_files(folder: Path, months: list[str]) -> tuple[list[Path], str]:
    """The months' whole-force Surrey files, or the bundled sample as a stand-in."""
    files = [folder / f"{m}-surrey-street.csv" for m in months]
    if all(f.exists() for f in files):
        return files, f"whole-force Surrey Police files from {folder}"
    sample = [ROOT / "data" / "sample" / "police" / m / f"{m}-surrey-street.csv" for m in months]
    return sample, "STAND-IN: the bundled 3-borough sample (whole-force files not found)"


def force_database(prefix: str, folder: Path, months: list[str]):
    """A new SQLite database (in a temporary folder) with the bundled layers and the months'
    whole-force files imported; prints what was read and how long the import took."""
    import tempfile

    from geo.layers import seed_bundled_layers
    from ingest.run import ingest_paths
    from store.db import get_engine, migrate

    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix=prefix))}/bench.sqlite"
    migrate(url)
    engine = get_engine(url)
    seed_bundled_layers(engine)
    files, what = force_files(folder, months)
    start = time.perf_counter()
    report = ingest_paths(engine, files)
    print(f"Data: {what}; {report.accepted:,} incidents imported in "
          f"{time.perf_counter() - start:.1f} s ({report.rejected:,} rows set aside)")
    return engine


def act_as_operator() -> None:
    """Benchmarks call the library directly, as the CLI does: act as the terminal's operator
    (an admin) for the rest of this process (the library refuses everything to nobody)."""
    from access.scope import act_from_now_as, operator

    act_from_now_as(operator())


act_as_operator()
