"""Benchmark: the action-day briefing pack on the bundled sample.

    .venv/bin/python bench/bench_briefing.py [--repeats 3] [--months 12]

Sets up a fresh SQLite file with the bundled layers, the whole police.uk sample and the EXAMPLE
registers, then for Spelthorne's busiest town centre (the one with most incidents in the
months), the Staines ward and the whole borough drawn as one area, times as the median of N
runs: assembling the briefing (incidents, tables, repeat locations, PSPOs, equipment, actions),
drawing the map (SVG and PNG), and rendering the HTML and the PDF; with their sizes and the
PDF's pages.
"""

from __future__ import annotations

import re
import tempfile
import time
from datetime import date
from pathlib import Path

import matplotlib
import shapely
from machine import SAMPLE_POLICE, bench_parser, machine_line, timed

from geo.areas import resolve_area
from geo.bundled import seed_bundled_layers
from geo.layers import load_layer
from ingest.run import ingest_paths
from registers.example import seed_example_registers
from report.briefing import Place, build_briefing, place_from_layer
from report.briefing_html import briefing_html
from report.briefing_pdf import briefing_pdf
from report.static_map import briefing_map
from store.db import forget_engines, get_engine, migrate

BOROUGH = "Spelthorne"
ACTION_DAY = date(2026, 11, 28)


def kb(data: bytes | str) -> str:
    """A size in kB."""
    size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
    return f"{size / 1024:,.0f} kB"


def pdf_pages(data: bytes) -> int:
    """Pages in the PDF, by its page objects."""
    return len(re.findall(rb"/Type\s*/Page\b", data))


def busiest_town_centre(engine, months: int) -> Place:
    """The borough's town centre with the most incidents in the latest months."""
    code = resolve_area(engine, BOROUGH).code
    names = load_layer(engine, "town-centre", code)["name"]
    places = [place_from_layer(engine, "town-centre", n, BOROUGH) for n in names]
    totals = [build_briefing(engine, p, ACTION_DAY, months=months).total for p in places]
    return places[totals.index(max(totals))]


def bench_place(engine, place: Place, months: int, repeats: int) -> None:
    """Time and size every step of one place's pack."""
    seconds, briefing = timed(lambda: build_briefing(engine, place, ACTION_DAY,
                                                     months=months), repeats)
    print(f"\n{place.name} ({place.kind}, {place.geometry.area / 1e6:.2f} km²): "
          f"{briefing.total:,} incidents {briefing.month_span}; repeat locations "
          f"{len(briefing.repeats)}, PSPOs {len(briefing.pspos)}, equipment items "
          f"{len(briefing.equipment)}, open actions {len(briefing.actions)}")
    print(f"  assemble the briefing:  {seconds:6.3f} s")
    seconds, svg = timed(lambda: briefing_map(briefing, "svg"), repeats)
    print(f"  map as SVG:             {seconds:6.3f} s  {kb(svg)}")
    seconds, png = timed(lambda: briefing_map(briefing, "png"), repeats)
    print(f"  map as PNG (200 dpi):   {seconds:6.3f} s  {kb(png)}")
    seconds, page = timed(lambda: briefing_html(briefing), repeats)
    print(f"  HTML (map included):    {seconds:6.3f} s  {kb(page)}")
    seconds, pdf = timed(lambda: briefing_pdf(briefing), repeats)
    print(f"  PDF (map included):     {seconds:6.3f} s  {kb(pdf)}, {pdf_pages(pdf)} page(s)")


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--months", type=int, default=12)
    args = parser.parse_args()
    print(machine_line(matplotlib=matplotlib.__version__, shapely=shapely.__version__))
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        start = time.perf_counter()
        migrate(url)
        engine = get_engine(url)
        seed_bundled_layers(engine)
        report = ingest_paths(engine, [SAMPLE_POLICE])
        seed_example_registers(engine)
        print(f"Set-up: bundled layers, {report.accepted:,} police.uk incidents and the EXAMPLE "
              f"registers in {time.perf_counter() - start:.1f} s; action day "
              f"{ACTION_DAY.isoformat()}, {args.months} months, median of {args.repeats}")
        borough = resolve_area(engine, BOROUGH)
        places = [busiest_town_centre(engine, args.months),
                  place_from_layer(engine, "ward", "Staines", BOROUGH),
                  Place(f"All of {BOROUGH}", "drawn area", borough.code, borough.boundary)]
        for place in places:
            bench_place(engine, place, args.months, args.repeats)
        engine.dispose()
        forget_engines()


if __name__ == "__main__":
    main()
