"""Benchmark the hotspot engine (issue 3): every method's time and peak memory, the issue's
speed targets, naive references, and the methods on the bundled police.uk sample.

Run from the project root (the package is installed in editable mode):

    .venv/bin/python bench/bench_hotspots.py [--repeats N] [--full] [--snap-cap N]
        [--sizes 10000,100000,1000000] [--skip-sample] [--hdbscan-1m]

It prints the machine, then five groups of figures:

1. Synthetic police.uk-style incidents in a borough-sized 10 km x 8 km rectangle at
   E 500000 N 165000 (British National Grid), fixed seed: "snap points" (5% as many as
   incidents, capped at 20,000) drawn from a few dense town-centre Gaussian clusters plus a
   uniform background, and incidents given to snap points with Zipf-like weights (exponent
   0.8, random ranks), so many incidents share one point, as police.uk's anonymisation does.
2. For 10k, 100k and 1M incidents: every method with its rule-chosen parameters (grid square
   and hex, KDE quartic and Gaussian, DBSCAN, HDBSCAN, Gi*, weighted counts) and KDE at fixed
   50 m cells. HDBSCAN at 1M is skipped when 100k took more than 60 s, or when its quadratic
   projection from 100k exceeds 120 s (``--hdbscan-1m`` forces it); the output says why.
3. The issue's targets, each with PASS/FAIL: KDE of 1M points onto a 1000x1000 raster under
   1 s; DBSCAN of 1M incidents under 10 s and 2 GB peak memory, with more than one cluster;
   Gi* on 250k cells (a 500x500 raster) under 2 s.
4. Naive references: sklearn ``KernelDensity.score_samples`` on a 200x200 grid of cell centres
   (10k points; 100k only with ``--full``, ~110 s) against ``kde_surface``, and esda's
   ``G_Local`` (99 permutations) against ``gistar_z``: first on the middle 100x100 cells, then
   on the 250k-cell grid in a separate process that is stopped after 120 s (then the 100x100
   figure stands, and the output says so), with the largest z-score differences.
5. The bundled sample (data/sample/police) in a throwaway SQLite database: ``find_hotspots``
   for Spelthorne, Runnymede and Woking, 2023-02..2024-01, with every method, and the
   rolling-origin evaluation ``evaluate_area`` of each (summary for all crime and ASB, and the
   best method per crime type).

Times are wall-clock seconds: "best" is the fastest of up to ``--repeats`` runs (default 3);
a step is repeated only while a run takes under 2 s, so slow steps run once. "peak" is the
process's resident memory (RSS) high-water mark during the step, minus its RSS just before
the step ("+MB"), and the high-water mark itself ("RSS MB", which includes loaded libraries).
The mark is the kernel's VmHWM, reset before each step, and a psutil sampler thread (every
5 ms) as a cross-check where VmHWM cannot be reset.
"""

from __future__ import annotations

import argparse
import gc
import math
import multiprocessing
import os
import platform
import signal
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil
import scipy
import scipy.sparse as sp
import shapely
import sklearn
from machine import machine_info, reset_peak_rss, vm_hwm_mb
from scipy import stats
from shapely.geometry.base import BaseGeometry

from core.themes import ALL_CRIME
from hotspots import (
    METHODS,
    hotspot_dbscan,
    hotspot_gistar,
    hotspot_grid,
    hotspot_hdbscan,
    hotspot_kde,
    hotspot_weighted,
)
from hotspots.cells import Raster
from hotspots.gistar import confidence_bins, gistar_z, neighbour_matrix
from hotspots.kde import kde_surface, kernel_weights, linear_bin, set_bandwidth

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_POLICE = PROJECT_ROOT / "data" / "sample" / "police"

ORIGIN = (500_000.0, 165_000.0)  # lower-left corner of the synthetic borough (BNG metres)
WIDTH, HEIGHT = 10_000.0, 8_000.0
SEED = 20240301
SIZES = (10_000, 100_000, 1_000_000)
SNAP_SHARE = 0.05
SNAP_CAP = 20_000
ZIPF = 0.8
TOWN_SHARE = 0.5  # share of snap points in the town-centre clusters
# Town centres: (x, y) as fractions of the rectangle, standard deviation (m), weight.
TOWNS = ((0.30, 0.40, 350.0, 3.0), (0.70, 0.65, 500.0, 2.0), (0.50, 0.15, 250.0, 1.0),
         (0.15, 0.80, 400.0, 1.0), (0.85, 0.25, 300.0, 1.0))

CHEAP_S = 2.0  # repeat a step only while one run takes less than this
HDBSCAN_SKIP_S = 60.0
HDBSCAN_BUDGET_S = 120.0
ESDA_BUDGET_S = 120.0
SAMPLE_AREAS = ("spelthorne", "runnymede", "woking")
SAMPLE_FROM, SAMPLE_TO = "2023-02", "2024-01"


# --- machine ---------------------------------------------------------------------------------

def load_average() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine skews timings."""
    try:
        return ", ".join(f"{v:.2f}" for v in os.getloadavg()) + " (1, 5, 15 min)"
    except OSError:
        return "unknown"


def version(module: str) -> str:
    """A module's version, or 'not installed'."""
    try:
        return str(__import__(module).__version__)
    except ImportError:
        return "not installed"


def measured_on() -> dict[str, Any]:
    """What the figures were measured on: machine.machine_info, with memory, the numeric
    libraries' versions, the load and how peak memory is measured."""
    return machine_info(
        cores=f"{os.cpu_count()} logical, {psutil.cpu_count(logical=False)} physical",
        ram=f"{psutil.virtual_memory().total / 2**30:.1f} GB",
        numpy=np.__version__, **{"scikit-learn": sklearn.__version__},
        scipy=scipy.__version__, esda=version("esda"), libpysal=version("libpysal"),
        shapely=shapely.__version__, numba=version("numba"), platform=platform.platform(),
        **{"load average": load_average(),
           "peak memory": ("kernel VmHWM reset per step + psutil sampler" if reset_peak_rss()
                           else "psutil sampler every 5 ms (VmHWM cannot be reset here)")})


# --- memory and timing -----------------------------------------------------------------------

class PeakRSS:
    """Peak RSS during a block: VmHWM (reset on entry) and a psutil sampling thread."""

    def __init__(self, interval: float = 0.005, include_children: bool = False) -> None:
        self.interval = interval
        self.include_children = include_children
        self.process = psutil.Process()
        self.baseline = 0.0
        self.sampled = 0.0
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._hwm = False

    def rss_mb(self) -> float:
        """RSS now, in MB (with every child process's, if asked)."""
        rss = self.process.memory_info().rss
        if self.include_children:
            for child in self.process.children(recursive=True):
                try:
                    rss += child.memory_info().rss
                except psutil.Error:
                    pass
        return rss / 2**20

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.sampled = max(self.sampled, self.rss_mb())

    def __enter__(self) -> PeakRSS:
        self.baseline = self.rss_mb()
        self.sampled = self.baseline
        self._hwm = reset_peak_rss()
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sampled = max(self.sampled, self.rss_mb())
        hwm = vm_hwm_mb() if self._hwm else None
        self.peak = max(self.sampled, hwm or 0.0)

    @property
    def increase(self) -> float:
        """Peak minus the RSS on entry, in MB."""
        return max(self.peak - self.baseline, 0.0)


@dataclass
class Figure:
    """The runs of one step: wall times, peak memory, and the last result."""

    name: str
    seconds: list[float] = field(default_factory=list)
    peak_increase_mb: float = 0.0
    peak_rss_mb: float = 0.0
    note: str = ""
    result: Any = None

    @property
    def best(self) -> float:
        """The fastest run."""
        return min(self.seconds)

    def line(self) -> str:
        """One printed line."""
        runs = f"best of {len(self.seconds)}" if len(self.seconds) > 1 else "1 run"
        note = f"  [{self.note}]" if self.note else ""
        return (f"  {self.name:<38} {self.best:9.3f} s ({runs}), peak +{self.peak_increase_mb:,.0f}"
                f" MB (RSS {self.peak_rss_mb:,.0f} MB){note}")


def measure(name: str, step: Callable[[], Any], repeats: int,
            describe: Callable[[Any], str] | None = None,
            include_children: bool = False) -> Figure:
    """Run `step` (again while it is cheap, up to `repeats` times) and record the figure."""
    figure = Figure(name)
    for _ in range(max(1, repeats)):
        figure.result = None
        gc.collect()
        with PeakRSS(include_children=include_children) as memory:
            start = time.perf_counter()
            result = step()
            elapsed = time.perf_counter() - start
        figure.seconds.append(elapsed)
        figure.peak_increase_mb = max(figure.peak_increase_mb, memory.increase)
        figure.peak_rss_mb = max(figure.peak_rss_mb, memory.peak)
        figure.result = result
        if elapsed >= CHEAP_S:
            break
    if describe is not None:
        figure.note = describe(figure.result)
    return figure


def show(figure: Figure) -> Figure:
    """Print a figure's line at once and hand it back."""
    print(figure.line(), flush=True)
    return figure


def verdict(ok: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if ok else "FAIL"


# --- synthetic data --------------------------------------------------------------------------

def synthetic_area() -> BaseGeometry:
    """The borough: a 10 km x 8 km rectangle of land."""
    x0, y0 = ORIGIN
    return shapely.box(x0, y0, x0 + WIDTH, y0 + HEIGHT)


def snap_points(n_points: int, rng: np.random.Generator) -> np.ndarray:
    """Distinct snap points (to the metre): town-centre Gaussian clusters plus background."""
    x0, y0 = ORIGIN
    towns = np.array(TOWNS)
    n_town = int(n_points * TOWN_SHARE)
    town = rng.choice(len(towns), size=n_town, p=towns[:, 3] / towns[:, 3].sum())
    clustered = np.column_stack([
        x0 + towns[town, 0] * WIDTH + rng.normal(0.0, towns[town, 2]),
        y0 + towns[town, 1] * HEIGHT + rng.normal(0.0, towns[town, 2])])
    background = np.column_stack([rng.uniform(x0, x0 + WIDTH, n_points - n_town),
                                  rng.uniform(y0, y0 + HEIGHT, n_points - n_town)])
    points = np.round(np.vstack([clustered, background]))
    points[:, 0] = np.clip(points[:, 0], x0, x0 + WIDTH - 1)
    points[:, 1] = np.clip(points[:, 1], y0, y0 + HEIGHT - 1)
    return np.unique(points, axis=0)


def synthetic_incidents(n: int, snap_cap: int, seed: int = SEED) -> tuple[pd.DataFrame, int]:
    """n incidents snapped to Zipf-weighted snap points; with the number of snap points."""
    rng = np.random.default_rng([seed, n])
    points = snap_points(min(max(int(n * SNAP_SHARE), 50), snap_cap), rng)
    weights = (rng.permutation(len(points)) + 1.0) ** -ZIPF
    chosen = rng.choice(len(points), size=n, p=weights / weights.sum())
    frame = pd.DataFrame({"easting": points[chosen, 0], "northing": points[chosen, 1]})
    return frame, len(points)


def describe_data(frame: pd.DataFrame) -> str:
    """How shared the snap points are."""
    per_point = frame.groupby(["easting", "northing"]).size().to_numpy()
    top = np.sort(per_point)[::-1]
    return (f"{len(per_point):,} distinct points used, mean {per_point.mean():.1f} incidents "
            f"each, busiest {top[0]:,} ({top[0] / len(frame):.1%}), top 1% of points hold "
            f"{top[: max(1, len(top) // 100)].sum() / len(frame):.0%}")


# --- 2. every method on synthetic data -------------------------------------------------------

def describe_result(result: Any) -> str:
    """Hotspots found and the parameters the rules chose."""
    params = dict(result.attrs.get("parameters", {}))
    keys = ("cell_size_m", "shape", "kernel", "bandwidth_m", "eps_m", "min_samples",
            "min_cluster_size", "distinct_locations", "cells", "hot_cells", "pool")
    shown = ", ".join(f"{k}={params[k]}" for k in keys if k in params)
    message = result.attrs.get("message", "")
    return f"{len(result):,} hotspots; {shown}" + (f"; {message}" if message else "")


def synthetic_methods() -> list[tuple[str, Callable[..., Any], dict[str, Any]]]:
    """The methods measured on synthetic data, as (label, function, keyword parameters)."""
    return [
        ("grid square", hotspot_grid, {}),
        ("grid hex", hotspot_grid, {"shape": "hex"}),
        ("kde quartic", hotspot_kde, {}),
        ("kde gaussian", hotspot_kde, {"kernel": "gaussian"}),
        ("kde quartic, 50 m cells", hotspot_kde, {"cell_size": 50.0}),
        ("kde gaussian, 50 m cells", hotspot_kde, {"cell_size": 50.0, "kernel": "gaussian"}),
        ("dbscan", hotspot_dbscan, {}),
        ("hdbscan", hotspot_hdbscan, {}),
        ("gistar", hotspot_gistar, {}),
        ("weighted", hotspot_weighted, {}),
    ]


def hdbscan_skip_reason(figures: dict[tuple[int, str], Figure], n: int,
                        force: bool) -> str | None:
    """Why HDBSCAN is not run at size n (None: run it), judged on its 100k figure."""
    if force or n < 1_000_000:
        return None
    base = figures.get((100_000, "hdbscan"))
    if base is None:
        return None
    if base.best > HDBSCAN_SKIP_S:
        return (f"100k took {base.best:.1f} s (> {HDBSCAN_SKIP_S:.0f} s), peak "
                f"+{base.peak_increase_mb:,.0f} MB")
    projected = base.best * (n / 100_000) ** 2
    if projected > HDBSCAN_BUDGET_S:
        return (f"100k took {base.best:.1f} s, peak +{base.peak_increase_mb:,.0f} MB; its "
                f"minimum spanning tree is quadratic in incidents, so 1M projects to "
                f"~{projected:,.0f} s (> {HDBSCAN_BUDGET_S:.0f} s); --hdbscan-1m forces it")
    return None


def bench_methods(data: dict[int, pd.DataFrame], area: BaseGeometry, repeats: int,
                  force_hdbscan: bool) -> dict[tuple[int, str], Figure]:
    """Figure 2: every method at every size."""
    figures: dict[tuple[int, str], Figure] = {}
    for n, frame in data.items():
        print(f"\n  -- {n:,} incidents --", flush=True)
        for label, method, params in synthetic_methods():
            if label == "hdbscan":
                reason = hdbscan_skip_reason(figures, n, force_hdbscan)
                if reason:
                    print(f"  {label:<38} SKIPPED: {reason}", flush=True)
                    continue
            figures[(n, label)] = show(measure(
                label, lambda m=method, p=params, f=frame: m(f, area, **p), repeats,
                describe_result))
    return figures


# --- 3. the targets ------------------------------------------------------------------

def bench_kde_target(xy: np.ndarray, repeats: int) -> list[str]:
    """KDE of 1M points onto a 1000x1000 raster: under 1 s."""
    x0, y0 = ORIGIN
    raster = Raster(x0, y0 - 1_000.0, 10.0, 1000, 1000)  # 10 km x 10 km of 10 m cells
    bandwidth = set_bandwidth(xy)
    print(f"  raster {raster.ncols}x{raster.nrows} cells of {raster.size:g} m; {len(xy):,} "
          f"points; rule bandwidth {bandwidth:.0f} m (quartic radius; Gaussian sd "
          f"{bandwidth / 4:.0f} m)")
    show(measure("linear_bin alone (part of kde_surface)", lambda: linear_bin(raster, xy),
                 repeats))
    lines = []
    for kernel, bw in (("quartic", bandwidth), ("gaussian", bandwidth / 4)):
        stencil = kernel_weights(kernel, bw, raster.size).shape
        whole = show(measure(
            f"kde_surface {kernel}", lambda k=kernel, b=bw: kde_surface(xy, raster, b, k),
            repeats, lambda d, s=stencil: f"stencil {s[0]}x{s[1]}, max {d.max():,.0f}/km²"))
        lines.append(f"KDE {len(xy) // 1000}k points -> 1000x1000, {kernel}: {whole.best:.3f} s "
                     f"(target < 1 s) {verdict(whole.best < 1.0)}")
    return lines


def bench_dbscan_target(figure: Figure | None) -> list[str]:
    """DBSCAN of 1M snapped incidents: under 10 s and 2 GB, more than one cluster."""
    if figure is None:
        return ["DBSCAN 1M: not measured (1M size not run)"]
    clusters = len(figure.result)
    params = dict(figure.result.attrs.get("parameters", {}))
    print(f"  dbscan 1M (from figure 2): {figure.best:.3f} s, peak +"
          f"{figure.peak_increase_mb:,.0f} MB, {clusters} clusters, eps "
          f"{params.get('eps_m')} m, min_samples {params.get('min_samples')}, "
          f"{params.get('distinct_locations'):,} distinct locations")
    return [
        f"DBSCAN 1M time: {figure.best:.3f} s (target < 10 s) {verdict(figure.best < 10)}",
        f"DBSCAN 1M peak memory: +{figure.peak_increase_mb:,.0f} MB over the RSS before "
        f"(RSS {figure.peak_rss_mb:,.0f} MB) (target < 2 GB) "
        f"{verdict(figure.peak_increase_mb < 2048)}",
        f"DBSCAN 1M clusters: {clusters} (must not be 1) {verdict(clusters > 1)}",
    ]


def gistar_raster() -> Raster:
    """500x500 cells of 20 m (250k cells) over the synthetic borough."""
    x0, y0 = ORIGIN
    return Raster(x0, y0 - 1_000.0, 20.0, 500, 500)


def gistar_pipeline(centres: np.ndarray, counts: np.ndarray, distance: float) -> np.ndarray:
    """Neighbours, z, p, FDR and bins: the whole of gistar_cells' statistics."""
    weights = neighbour_matrix(centres, distance)
    z = gistar_z(counts, weights)
    p = 2 * stats.norm.sf(np.abs(z))
    return confidence_bins(z, stats.false_discovery_control(p, method="bh"))


def bench_gistar_target(xy: np.ndarray, repeats: int) -> tuple[list[str], dict[str, Any]]:
    """Gi* on 250k cells: under 2 s (queen neighbours, FDR, bins)."""
    raster = gistar_raster()
    counts = raster.count(xy).ravel()
    cx, cy = raster.centres()
    centres = np.column_stack([cx.ravel(), cy.ravel()])
    distance = raster.size * math.sqrt(2)
    print(f"  raster {raster.ncols}x{raster.nrows} = {counts.size:,} cells of {raster.size:g} m,"
          f" {int((counts > 0).sum()):,} non-empty; queen neighbours within {distance:.2f} m")
    w = show(measure("neighbour_matrix", lambda: neighbour_matrix(centres, distance), repeats,
                     lambda m: f"{m.nnz:,} non-zeros"))
    weights = w.result
    zf = show(measure("gistar_z", lambda: gistar_z(counts, weights), repeats))
    z = zf.result
    p = show(measure("z -> p (two-sided normal)", lambda: 2 * stats.norm.sf(np.abs(z)),
                     repeats)).result
    fdr = show(measure("p -> FDR (Benjamini-Hochberg)",
                       lambda: stats.false_discovery_control(p, method="bh"), repeats)).result
    bins = show(measure("FDR -> bins", lambda: confidence_bins(z, fdr), repeats)).result
    total = show(measure("total (all of the above, one go)",
                         lambda: gistar_pipeline(centres, counts, distance), repeats,
                         lambda b: f"{int((b > 0).sum()):,} hot cells, "
                                   f"{int((b < 0).sum()):,} cold cells"))
    assert np.array_equal(total.result, bins)
    core = w.best + zf.best
    lines = [
        f"Gi* 250k cells, neighbour_matrix + gistar_z: {core:.3f} s (target < 2 s) "
        f"{verdict(core < 2)}",
        f"Gi* 250k cells, total with p, FDR and bins: {total.best:.3f} s (target < 2 s) "
        f"{verdict(total.best < 2)}",
    ]
    return lines, {"raster": raster, "counts": counts, "weights": weights, "z": z}


# --- 4. naive references ---------------------------------------------------------------------

def bench_kde_reference(frame: pd.DataFrame, repeats: int) -> str:
    """sklearn KernelDensity on 200x200 cell centres against kde_surface, Gaussian kernel."""
    from sklearn.neighbors import KernelDensity

    xy = frame[["easting", "northing"]].to_numpy(dtype=float)
    x0, y0 = ORIGIN
    raster = Raster(x0 - 1_000.0, y0 - 2_000.0, 60.0, 200, 200)  # 12 km x 12 km, margins
    sd = max(set_bandwidth(xy) / 4, raster.size)
    cx, cy = raster.centres()
    cells = np.column_stack([cx.ravel(), cy.ravel()])
    n = len(xy)
    print(f"  {n:,} points, 200x200 cells of {raster.size:g} m, Gaussian sd {sd:.0f} m "
          "(the rule's: 1/4 of bandwidth.nrd)")
    naive = show(measure(
        f"sklearn KernelDensity {n // 1000}k", lambda: np.exp(KernelDensity(
            kernel="gaussian", bandwidth=sd).fit(xy).score_samples(cells)) * n * 1e6, 1))
    ours = show(measure(f"kde_surface gaussian {n // 1000}k",
                        lambda: kde_surface(xy, raster, sd, "gaussian"), repeats))
    reference = naive.result.reshape(raster.shape)
    dense = reference > 0.01 * reference.max()
    diff = np.abs(ours.result - reference)[dense] / reference[dense]
    return (f"KDE {n // 1000}k on 200x200: sklearn {naive.best:.2f} s vs kde_surface "
            f"{ours.best:.4f} s ({naive.best / ours.best:,.0f}x); max relative difference "
            f"{diff.max():.3%} on {int(dense.sum()):,} cells > 1% of max (expect <= 1.5%) "
            f"{verdict(diff.max() <= 0.015)}")


def esda_gistar(counts: np.ndarray, weights: sp.csr_matrix, label: str,
                include_children: bool = False) -> tuple[Figure, Figure]:
    """esda G_Local (star, binary, 99 permutations) on a Graph from our matrix minus its
    diagonal: the Graph build and G_Local, timed once each."""
    from esda.getisord import G_Local
    from libpysal.graph import Graph

    def build() -> Any:
        off = (weights - sp.identity(weights.shape[0], format="csr")).tocsr()
        off.eliminate_zeros()
        return Graph.from_sparse(off)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = show(measure(f"libpysal Graph.from_sparse {label}", build, 1,
                             include_children=include_children))
        local = show(measure(
            f"esda G_Local {label}",
            lambda: G_Local(counts, graph.result, transform="B", star=True, permutations=99,
                            seed=1), 1, include_children=include_children))
    return graph, local


def bench_esda_reference(target: dict[str, Any]) -> list[str]:
    """esda's Gi* z-scores and time against ours: a 100x100 pilot, then 250k cells."""
    raster: Raster = target["raster"]
    counts2d = target["counts"].reshape(raster.shape)
    distance = raster.size * math.sqrt(2)
    lines = []

    pilot_counts = counts2d[200:300, 200:300].ravel()  # the middle 100x100 cells
    cx, cy = raster.centres()
    pilot_xy = np.column_stack([cx[200:300, 200:300].ravel(), cy[200:300, 200:300].ravel()])
    pilot_w = neighbour_matrix(pilot_xy, distance)
    ours = measure("gistar 100x100", lambda: neighbour_matrix(pilot_xy, distance), 3).best
    ours += measure("gistar_z", lambda: gistar_z(pilot_counts, pilot_w), 3).best
    graph, local = esda_gistar(pilot_counts, pilot_w, "100x100")
    gap = np.abs(local.result.Zs - gistar_z(pilot_counts, pilot_w)).max()
    lines.append(f"esda Gi* 100x100 (10k cells): {graph.best + local.best:.2f} s "
                 f"(Graph {graph.best:.2f} + G_Local {local.best:.2f}) vs ours {ours:.3f} s; "
                 f"max |z_esda - z_ours| = {gap:.2e}")

    projected = (graph.best + local.best) * counts2d.size / pilot_counts.size
    if projected > ESDA_BUDGET_S:
        lines.append(f"esda Gi* 250k cells: NOT RUN, the 100x100 pilot projects ~{projected:.0f}"
                     f" s (> {ESDA_BUDGET_S:.0f} s); the 100x100 figure above stands for it")
        return lines
    outcome = esda_in_child(target["counts"], target["weights"], ESDA_BUDGET_S)
    if isinstance(outcome, str):
        lines.append(f"esda Gi* 500x500 (250k cells): NOT MEASURED, {outcome}; the 100x100 "
                     "figure above stands for it")
        return lines
    graph_s, local_s, zs = outcome
    gap = np.abs(zs - target["z"]).max()
    lines.append(f"esda Gi* 500x500 (250k cells): {graph_s + local_s:.2f} s "
                 f"(Graph {graph_s:.2f} + G_Local {local_s:.2f}); "
                 f"max |z_esda - z_ours| = {gap:.2e} {verdict(gap < 1e-6)}")
    return lines


def _esda_child(counts: np.ndarray, weights: sp.csr_matrix, conn: Any) -> None:
    """In a child process (its own process group): esda on the big grid, results to `conn`."""
    os.setsid()
    from esda.getisord import G_Local  # noqa: F401 -- imported before the clock starts
    from libpysal.graph import Graph  # noqa: F401

    conn.send("ready")
    graph, local = esda_gistar(counts, weights, "500x500 (subprocess)",
                               include_children=True)
    conn.send((graph.best, local.best, np.asarray(local.result.Zs)))
    conn.close()


def esda_in_child(counts: np.ndarray, weights: sp.csr_matrix,
                  budget: float) -> tuple[float, float, np.ndarray] | str:
    """esda on the big grid in a spawned process, stopped (its whole process group) when it
    runs past `budget` seconds; the times and z-scores, or why there are none."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_esda_child, args=(counts, weights, send), daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(120.0) or receive.recv() != "ready":
            return "the esda process did not start within 120 s"
        start = time.perf_counter()
        if receive.poll(budget):
            return receive.recv()
        return (f"stopped after {time.perf_counter() - start:.0f} s, over the "
                f"{budget:.0f} s budget")
    except EOFError:
        return f"the esda process failed (exit code {child.exitcode})"
    finally:
        if child.is_alive() and child.pid is not None:
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        child.join()
        receive.close()


# --- 5. the bundled sample -------------------------------------------------------------------

def bench_sample(repeats: int) -> None:
    """find_hotspots with every method and evaluate_area for three bundled boroughs."""
    from geo.bundled import seed_bundled_layers
    from geo.layers import load_layer
    from hotspots.analysis import evaluate_area, find_hotspots
    from ingest.run import ingest_paths
    from store.db import get_engine, migrate

    with tempfile.TemporaryDirectory(prefix="bench-hotspots-") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        load_layer.cache_clear()
        migrate(url)
        engine = get_engine(url)
        try:
            show(measure("seed bundled layers", lambda: seed_bundled_layers(engine), 1,
                         lambda c: f"{c} features"))
            show(measure("ingest data/sample/police", lambda: ingest_paths(
                engine, [SAMPLE_POLICE]), 1,
                lambda r: f"{r.accepted:,} accepted, {r.rejected:,} rejected"))
            for area in SAMPLE_AREAS:
                print(f"\n  -- {area}, {SAMPLE_FROM}..{SAMPLE_TO}, all crime and ASB, "
                      "default coverage --", flush=True)
                for method in METHODS:
                    show(measure(method, lambda a=area, m=method: find_hotspots(
                        engine, a, SAMPLE_FROM, SAMPLE_TO, None, m), repeats,
                        lambda r: f"{len(r.incidents):,} incidents, {len(r.hotspots)} "
                                  f"hotspots" + (f"; {'; '.join(r.notes)}" if r.notes else "")))
                evaluation = show(measure(
                    "evaluate_area (rolling origin)", lambda a=area: evaluate_area(engine, a),
                    1, lambda e: f"test months {', '.join(e.test_months)}, "
                                 f"{len(e.results):,} result rows")).result
                print_evaluation(evaluation)
        finally:
            engine.dispose()
            load_layer.cache_clear()


def print_evaluation(evaluation: Any) -> None:
    """The all-crime summary and the best method per crime type."""
    summary = evaluation.summary
    rows = summary[summary["crime_type"] == ALL_CRIME]
    print(f"    {ALL_CRIME} (mean over test months; coverage {evaluation.coverage:.0%}, "
          f"{evaluation.cell_size:g} m cells, {evaluation.train_months} training months):")
    print(f"      {'method':<18} {'pei_star':>8} {'pai':>8} {'hit_rate':>8}")
    for row in rows.itertuples():
        print(f"      {row.method:<18} {row.pei_star:8.3f} {row.pai:8.2f} {row.hit_rate:8.3f}")
    print("    best method per crime type (by mean PEI*):")
    for crime in summary["crime_type"].unique():
        chosen = summary[(summary["crime_type"] == crime)
                         & (summary["method"] == evaluation.best(crime))]
        if chosen.empty:
            print(f"      {crime:<30} -")
            continue
        top = chosen.iloc[0]
        print(f"      {crime:<30} {top['method']:<18} PEI* {top['pei_star']:.3f} "
              f"({int(top['incidents'])} test incidents)")
    for note in evaluation.notes:
        print(f"    note: {note}")


# --- main ------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--repeats", type=int, default=3,
                        help="most runs per figure (repeated only while under 2 s; best kept)")
    parser.add_argument("--full", action="store_true",
                        help="add the slow naive reference: sklearn KDE of 100k points (~110 s)")
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES),
                        help="synthetic sizes, comma-separated (default %(default)s)")
    parser.add_argument("--snap-cap", type=int, default=SNAP_CAP,
                        help="most distinct snap points (default %(default)s)")
    parser.add_argument("--hdbscan-1m", action="store_true",
                        help="run HDBSCAN at 1M whatever 100k took")
    parser.add_argument("--skip-sample", action="store_true",
                        help="leave out figure 5 (the bundled sample)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    try:
        args.sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    except ValueError:
        parser.error("--sizes must be whole numbers separated by commas")
    if not args.sizes or min(args.sizes) < 100:
        parser.error("--sizes must hold sizes of at least 100")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run every figure and print it."""
    args = parse_args(argv)
    started = time.perf_counter()
    print("Machine")
    for key, value in measured_on().items():
        print(f"  {key:<15} {value}")
    print(f"  {'repeats':<15} up to {args.repeats} while a run takes < {CHEAP_S:g} s; best kept")
    print(flush=True)

    area = synthetic_area()
    x0, y0 = ORIGIN
    print(f"1. Synthetic police.uk-style incidents: {WIDTH / 1000:g} km x {HEIGHT / 1000:g} km at "
          f"E {x0:.0f} N {y0:.0f}, seed {SEED}, snap points {SNAP_SHARE:.0%} of incidents "
          f"(cap {args.snap_cap:,}), {TOWN_SHARE:.0%} of them in {len(TOWNS)} town centres, "
          f"Zipf exponent {ZIPF}")
    data: dict[int, pd.DataFrame] = {}
    for n in args.sizes:
        frame, n_points = synthetic_incidents(n, args.snap_cap)
        data[n] = frame
        print(f"  {n:>9,} incidents on {n_points:,} snap points: {describe_data(frame)}",
              flush=True)

    print("\n2. Every method on the synthetic data (rule-chosen parameters unless stated)")
    figures = bench_methods(data, area, args.repeats, args.hdbscan_1m)

    targets: list[str] = []
    largest = max(args.sizes)
    xy = data[largest][["easting", "northing"]].to_numpy(dtype=float)
    print(f"\n3. Issue targets (on the {largest:,}-incident set)")
    print("  a. KDE onto a 1000x1000 raster")
    targets += bench_kde_target(xy, args.repeats)
    for label in ("kde quartic", "kde gaussian", "kde quartic, 50 m cells",
                  "kde gaussian, 50 m cells"):
        if (largest, label) in figures:
            f = figures[(largest, label)]
            targets.append(f"full hotspot_kde {largest // 1000}k, {label}: {f.best:.3f} s, "
                           f"peak +{f.peak_increase_mb:,.0f} MB (for reference, no target)")
    print("  b. DBSCAN of police.uk-style incidents")
    targets += bench_dbscan_target(figures.get((1_000_000, "dbscan")))
    print("  c. Gi* on 250k cells")
    gistar_lines, gistar_target = bench_gistar_target(xy, args.repeats)
    targets += gistar_lines
    print("\n  Targets:")
    for line in targets:
        print(f"    {line}")

    print("\n4. Naive references")
    references = []
    for n in (10_000, 100_000):
        if n == 100_000 and not args.full:
            references.append("sklearn KDE 100k: not run (~110 s; add --full)")
            continue
        frame = data.get(n)
        if frame is None:
            frame, _ = synthetic_incidents(n, args.snap_cap)
        references.append(bench_kde_reference(frame, args.repeats))
    references += bench_esda_reference(gistar_target)
    print("\n  References:")
    for line in references:
        print(f"    {line}")

    if not args.skip_sample:
        print(f"\n5. Bundled sample ({SAMPLE_POLICE.relative_to(PROJECT_ROOT)}) in a throwaway "
              "SQLite database")
        bench_sample(args.repeats)

    print(f"\ntotal wall time {time.perf_counter() - started:.0f} s; load average now "
          f"{load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
