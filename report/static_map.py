"""The briefing pack's map: a static picture drawn with matplotlib in British National Grid
metres, with no tiles and no network, readable on screen and printed in black and white.

Wards (light grey), water (blue), the borough boundary, the place (bold black), the area searched
for equipment (dotted), PSPOs in force (orange, dashed), incidents as dots sized by how many
share each police.uk map point, and equipment coloured by its check state with a shape per
state (so it reads without colour); a scale bar in metres and a north arrow. The legend sits
below the map so it never hides anything. No text from data is drawn on the map except ward
names, and those are drawn as plain text (no mathtext).
"""

from __future__ import annotations

import io
import math
import re
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
import pandas as pd
import shapely
from matplotlib import patheffects
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path
from shapely.geometry.base import BaseGeometry

from core.words import street_name

if TYPE_CHECKING:
    from report.briefing import Briefing

FORMATS = ("svg", "png")
WATER_FILL, WATER_EDGE = "#a6cee3", "#2c7fb8"
WARD_EDGE = "#b3b3b3"
PSPO_COLOUR = "#e66101"
INCIDENT_COLOUR = "#8e1b10"
# Each check state gets its own marker shape as well as its colour (black-and-white prints).
STATE_MARKERS = {"attention": "X", "due": "s", "missed": "s", "checked": "^"}
NICE_LENGTHS_M = (20, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000)
LEGEND_SHARE = 0.13  # of the figure's height, below the map


def briefing_map(briefing: Briefing, fmt: str = "svg", width_mm: float = 190.0,
                 height_mm: float = 125.0, dpi: int = 200) -> bytes:
    """The briefing's map as an SVG document or PNG image (bytes)."""
    if fmt not in FORMATS:
        raise ValueError(f"the map can be drawn as {' or '.join(FORMATS)}, not '{fmt}'")
    fig = Figure(figsize=(width_mm / 25.4, height_mm / 25.4), dpi=dpi)
    ax = fig.add_axes((0.005, LEGEND_SHARE, 0.99, 1 - LEGEND_SHARE - 0.005))
    view = _view(briefing.extent, ax, fig)
    handles = _draw(ax, briefing, view)
    _scale_bar(ax, view)
    _north_arrow(ax)
    if handles:
        fig.legend(handles=handles, loc="lower center", ncol=min(4, len(handles)),
                   fontsize=6.5, frameon=False, handlelength=2.2, columnspacing=1.4,
                   bbox_to_anchor=(0.5, 0.0))
    out = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "briefing-map"}):
        fig.savefig(out, format=fmt, dpi=dpi, metadata=_metadata(fmt))
    data = out.getvalue()
    return _without_svg_metadata(data) if fmt == "svg" else data


def _metadata(fmt: str) -> dict:
    if fmt == "svg":
        return {"Date": None, "Creator": None, "Format": None, "Type": None}
    return {"Software": None}


def _without_svg_metadata(data: bytes) -> bytes:
    """Drop the <metadata> block (creator, links to vocabularies): the map needs none."""
    return re.sub(rb"<metadata>.*?</metadata>\s*", b"", data, flags=re.S)


def _view(extent: tuple[float, float, float, float], ax, fig: Figure
          ) -> tuple[float, float, float, float]:
    """The extent grown to the axes' shape (equal metres both ways), set on the axes."""
    minx, miny, maxx, maxy = extent
    box = ax.get_position()
    fig_w, fig_h = fig.get_size_inches()
    aspect = (box.height * fig_h) / (box.width * fig_w)  # height / width of the frame
    width, height = maxx - minx, maxy - miny
    if height / width > aspect:
        width = height / aspect
    else:
        height = width * aspect
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    view = (cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)
    ax.set_xlim(view[0], view[2])
    ax.set_ylim(view[1], view[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(0.6)
    return view


def _draw(ax, briefing: Briefing, view: tuple[float, float, float, float]) -> list:
    """Every layer, bottom to top; returns the legend's handles."""
    handles = []
    frame = shapely.box(*view)
    wards = briefing.wards
    for geometry in wards.geometry:
        _add_polygons(ax, geometry, facecolor="none", edgecolor=WARD_EDGE, linewidth=0.6,
                      zorder=1)
    if len(wards):
        handles.append(Line2D([], [], color=WARD_EDGE, linewidth=1, label="Ward boundaries"))
        _ward_names(ax, wards, frame)
    if len(briefing.water):
        for geometry in briefing.water.geometry:
            _add_polygons(ax, geometry, facecolor=WATER_FILL, edgecolor=WATER_EDGE,
                          linewidth=0.5, zorder=2)
        handles.append(PathPatch(Path([(0, 0)]), facecolor=WATER_FILL, edgecolor=WATER_EDGE,
                                 label="Water (River Thames)"))
    if briefing.borough.intersects(frame) and not briefing.borough.contains(frame):
        _add_polygons(ax, briefing.borough, facecolor="none", edgecolor="#444444",
                      linewidth=1.0, linestyle="-.", zorder=3)
        handles.append(Line2D([], [], color="#444444", linewidth=1, linestyle="-.",
                              label=_plain(f"{briefing.area_name} boundary")))
    if briefing.equipment_margin_m > 0:
        zone = briefing.place.geometry.buffer(briefing.equipment_margin_m)
        _add_polygons(ax, zone, facecolor="none", edgecolor="#555555", linewidth=0.7,
                      linestyle=":", zorder=3)
        handles.append(Line2D([], [], color="#555555", linewidth=0.9, linestyle=":",
                              label=f"Equipment search: {briefing.equipment_margin_m:,.0f} m"))
    if len(briefing.pspos):
        for geometry in briefing.pspos.geometry:
            _add_polygons(ax, geometry, facecolor="none", edgecolor=PSPO_COLOUR,
                          linewidth=1.8, linestyle=(0, (5, 3)), zorder=4)
        example = " (EXAMPLE)" if briefing.pspos["example"].astype(bool).any() else ""
        handles.append(Line2D([], [], color=PSPO_COLOUR, linewidth=1.8,
                              linestyle=(0, (5, 3)), label=f"PSPO in force{example}"))
    _add_polygons(ax, briefing.place.geometry, facecolor="none", edgecolor="black",
                  linewidth=2.4, zorder=5)
    handles.append(Line2D([], [], color="black", linewidth=2.4,
                          label=f"The place ({briefing.place.kind})"))
    handles.extend(_incidents(ax, briefing.incidents))
    handles.extend(_equipment(ax, briefing.equipment))
    if _street_labels(ax, briefing.repeats, frame):
        handles.append(Line2D([], [], linestyle="none", marker="$Aa$", color="#111111",
                              markersize=7, label="Street of a busy point (police.uk)"))
    return handles


def _street_labels(ax, repeats: pd.DataFrame, frame: BaseGeometry, top: int = 8) -> int:
    """Name the streets of the busiest points ("On or near High Street" -> "High Street"):
    with no street map behind it, the map still says where the places are. A label closer
    than a tenth of the map's width to one already written is left out. Returns how many."""
    if repeats is None or repeats.empty:
        return 0
    minx, _, maxx, _ = frame.bounds
    gap = 0.1 * (maxx - minx)
    written: list[tuple[float, float]] = []
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    for location, point in zip(repeats["location"], repeats.geometry, strict=True):
        name = street_name(str(location))
        if not name or not frame.contains(point):
            continue
        if any(math.hypot(point.x - x, point.y - y) < gap for x, y in written):
            continue
        ax.text(point.x, point.y + 0.012 * (maxx - minx), name, fontsize=6.5,
                color="#111111", ha="center", va="bottom", zorder=8, parse_math=False,
                clip_on=True, path_effects=halo)
        written.append((point.x, point.y))
        if len(written) >= top:
            break
    return len(written)


def _plain(text: str) -> str:
    """Legend text with '$' escaped, so matplotlib never reads data as mathtext."""
    return str(text).replace("$", r"\$")


def _ward_names(ax, wards, frame: BaseGeometry) -> None:
    """Each ward's name at a point inside its visible part (when that part is big enough)."""
    for name, geometry in zip(wards["name"], wards.geometry, strict=True):
        visible = geometry.intersection(frame)
        if visible.is_empty or visible.area < 0.03 * frame.area:
            continue
        point = visible.representative_point()
        if not _inner(frame).contains(point):
            continue  # a name near the frame's edge would be cut off
        ax.text(point.x, point.y, str(name), fontsize=6, color="#8c8c8c", style="italic",
                ha="center", va="center", zorder=1.5, parse_math=False, clip_on=True)


def _inner(frame: BaseGeometry) -> BaseGeometry:
    """The middle of the frame, 15% in from each side."""
    minx, miny, maxx, maxy = frame.bounds
    dx, dy = 0.15 * (maxx - minx), 0.15 * (maxy - miny)
    return shapely.box(minx + dx, miny + dy, maxx - dx, maxy - dy)


def _incidents(ax, incidents: pd.DataFrame) -> list:
    """Dots at each distinct map point, their area proportional to the incidents there (the
    busiest point gets the largest dot, whatever the map's scale)."""
    if incidents.empty:
        return []
    points = incidents.groupby(["easting", "northing"]).size().reset_index(name="n")
    points = points.sort_values("n", ascending=False)
    largest = int(points["n"].max())
    ax.scatter(points["easting"], points["northing"], s=_dot_size(points["n"], largest),
               facecolor=INCIDENT_COLOUR, edgecolor="white", linewidth=0.5, alpha=0.8,
               zorder=6)
    examples = sorted({1, max(1, round(largest / 4)), largest})
    return [Line2D([], [], linestyle="none", marker="o", markerfacecolor=INCIDENT_COLOUR,
                   markeredgecolor="white", alpha=0.8,
                   markersize=float(np.sqrt(_dot_size(pd.Series([n]), largest).iloc[0])),
                   label=f"{n} incident{'s' if n > 1 else ''} at a point")
            for n in examples]


def _dot_size(counts: pd.Series, largest: int) -> pd.Series:
    """Marker area in points²: proportional to the count, from 6 up to 150 for the largest."""
    return 6.0 + 144.0 * counts.astype(float) / max(largest, 1)


def _equipment(ax, equipment: pd.DataFrame) -> list:
    """Equipment markers: the state's colour and a shape per state; one legend entry each."""
    handles = []
    if equipment.empty:
        return handles
    example = " (EXAMPLE)" if equipment["example"].astype(bool).any() else ""
    for state, group in equipment.groupby("state", sort=False):
        marker = STATE_MARKERS.get(state, "D")
        ax.scatter(group["easting"], group["northing"], s=46, marker=marker,
                   c=list(group["colour"]), edgecolor="black", linewidth=0.7, zorder=7)
        label = f"Equipment{example}: {group['state_label'].iloc[0]}"
        handles.append(Line2D([], [], linestyle="none", marker=marker,
                              markerfacecolor=group["colour"].iloc[0], markeredgecolor="black",
                              markersize=6.5, label=label))
    return handles


def _add_polygons(ax, geometry: BaseGeometry, **style) -> None:
    """Draw the polygons of a geometry (holes kept) as one patch; other parts are skipped.
    Only what is near the view is drawn, with detail finer than half a pixel dropped."""
    if geometry is None or geometry.is_empty:
        return
    minx, maxx = ax.get_xlim()
    miny, maxy = ax.get_ylim()
    grow = 0.05 * (maxx - minx)
    geometry = shapely.clip_by_rect(geometry, minx - grow, miny - grow, maxx + grow,
                                    maxy + grow)
    geometry = shapely.simplify(geometry, (maxx - minx) / 4000, preserve_topology=True)
    paths = []
    for polygon in _polygons(geometry):
        for ring in [polygon.exterior, *polygon.interiors]:
            coords = np.asarray(ring.coords)[:, :2]
            if len(coords) >= 3:
                paths.append(Path(coords, closed=True))
    if paths:
        ax.add_patch(PathPatch(Path.make_compound_path(*paths), **style))


def _polygons(geometry: BaseGeometry | None) -> list:
    """The polygons in a polygon, multipolygon or collection."""
    if geometry is None or geometry.is_empty:
        return []
    if geometry.geom_type == "Polygon":
        return [geometry]
    if geometry.geom_type in ("MultiPolygon", "GeometryCollection"):
        return [p for part in shapely.get_parts(geometry) for p in _polygons(part)]
    return []


def _scale_bar(ax, view: tuple[float, float, float, float]) -> None:
    """A two-part black and white bar in the lower left, about a fifth of the map's width."""
    minx, miny, maxx, maxy = view
    width = maxx - minx
    length = max([n for n in NICE_LENGTHS_M if n <= width / 5] or [NICE_LENGTHS_M[0]])
    x0 = minx + 0.03 * width
    y0 = miny + 0.04 * (maxy - miny)
    bar_h = 0.012 * (maxy - miny)
    ax.add_patch(Rectangle((x0 - 0.01 * width, y0 - 0.4 * bar_h), length + 0.02 * width,
                           bar_h * 4.4, facecolor="white", edgecolor="none", alpha=0.85,
                           zorder=8))
    for i, colour in enumerate(("black", "white")):
        ax.add_patch(Rectangle((x0 + i * length / 2, y0), length / 2, bar_h,
                               facecolor=colour, edgecolor="black", linewidth=0.6, zorder=9))
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length} m"
    for x, text in ((x0, "0"), (x0 + length, label)):
        ax.text(x, y0 + bar_h * 1.6, text, fontsize=6.5, ha="center", va="bottom", zorder=9,
                parse_math=False)


def _north_arrow(ax) -> None:
    """An arrow and N in the upper right (grid north; true north is within a degree here)."""
    ax.annotate("N", xy=(0.965, 0.95), xytext=(0.965, 0.84), xycoords="axes fraction",
                ha="center", va="center", fontsize=9, fontweight="bold", zorder=9,
                arrowprops={"arrowstyle": "-|>", "color": "black", "linewidth": 1.4},
                bbox={"boxstyle": "circle,pad=0.2", "facecolor": "white", "edgecolor": "none",
                      "alpha": 0.85})
