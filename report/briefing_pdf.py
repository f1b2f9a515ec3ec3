"""The briefing pack as a printable PDF: A4 portrait, one or two pages, the map and the same
tables as the HTML (long ones cut to their first rows, "and N more"), page numbers.

fpdf2's built-in fonts are Latin-1 only, so the text is set in DejaVu Sans (shipped with
matplotlib), which has "–", "…", "£", "©" and every character police.uk and councils use.
"""

from __future__ import annotations

import io
import secrets
from pathlib import Path

import matplotlib
from fpdf import FPDF
from fpdf.fonts import FontFace

from report.briefing import Briefing, day_text
from report.briefing_text import ATTRIBUTION, Table, header_facts, key_figures, pack_tables
from report.static_map import briefing_map

FONT = "DejaVu"
FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
MARGIN_MM = 10.0
MAX_PAGES = 2
CELL_CHARS = 260  # longer cell text is cut with "…"
# Tried in turn until the pack fits on MAX_PAGES: rows per table and the map's height.
LAYOUTS = (
    ({"incidents": 20, "repeats": 10, "pspos": 6, "equipment": 12, "actions": 10}, 118.0),
    ({"incidents": 12, "repeats": 6, "pspos": 4, "equipment": 8, "actions": 6}, 110.0),
    ({"incidents": 8, "repeats": 4, "pspos": 3, "equipment": 5, "actions": 4}, 95.0),
    ({"incidents": 5, "repeats": 3, "pspos": 2, "equipment": 3, "actions": 3}, 80.0),
)


class _Pack(FPDF):
    """A4 portrait with DejaVu Sans and a footer naming the pack and the page."""

    def __init__(self, footer_text: str):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.footer_text = footer_text
        # fpdf2 swaps its page-total alias for the page count in *every* text, so with the
        # default "{nb}" a place name, note or table cell holding "{nb}" printed as "2". An
        # alias of three private-use characters drawn at random for each pack cannot be
        # written in advance; it is as wide as "{nb}" (three digits are reserved).
        self.pages_alias = "".join(chr(0xE000 + secrets.randbelow(0x1900)) for _ in range(3))
        self.alias_nb_pages(self.pages_alias)
        self.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
        self.set_auto_page_break(auto=True, margin=MARGIN_MM + 4)
        self.set_title(footer_text)
        self.set_creator("CSP hotspots")

    def footer(self) -> None:
        self.set_y(-MARGIN_MM - 1)
        self.set_font(FONT, "", 7)
        self.set_text_color(90, 90, 90)
        self.cell(0, 4, f"{self.footer_text}  ·  page {self.page_no()} of {self.pages_alias}",
                  align="C")
        self.set_text_color(0, 0, 0)


def briefing_pdf(briefing: Briefing, compress: bool = True) -> bytes:
    """The pack as PDF bytes, on at most two A4 pages where the tables allow (`compress`
    False leaves the page streams readable, for tests)."""
    map_png: dict[float, bytes] = {}
    data = b""
    for limits, map_height in LAYOUTS:
        if map_height not in map_png:
            map_png[map_height] = briefing_map(briefing, "png", width_mm=190.0,
                                               height_mm=map_height, dpi=200)
        pdf = _render(briefing, limits, map_png[map_height], map_height, compress)
        data = bytes(pdf.output())
        if pdf.pages_count <= MAX_PAGES:
            break
    return data


def _render(briefing: Briefing, limits: dict[str, int], png: bytes, map_height: float,
            compress: bool) -> FPDF:
    place = briefing.place
    pdf = _Pack(f"Action day briefing: {place.name}, {day_text(briefing.on)}")
    pdf.set_compression(compress)
    pdf.add_page()
    width = pdf.epw
    pdf.set_font(FONT, "B", 14)
    pdf.multi_cell(width, 6.5, f"Action day briefing: {place.name}", align="L",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 8)
    for label, value in _facts(briefing):
        pdf.set_font(FONT, "B", 8)
        pdf.cell(30, 3.8, label)
        pdf.set_font(FONT, "", 8)
        pdf.multi_cell(width - 30, 3.8, value, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    pdf.set_font(FONT, "", 8)
    for line in key_figures(briefing):
        pdf.multi_cell(width, 3.8, f"•  {line}", align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    if pdf.will_page_break(map_height):
        pdf.add_page()
    pdf.image(io.BytesIO(png), x=MARGIN_MM, w=width, h=map_height, alt_text="Map of the place")
    pdf.ln(1)
    for table in pack_tables(briefing, limits):
        if table.key == "assessment":  # on paper its sentence, in the key figures, suffices
            continue
        _table(pdf, table)
    _heading(pdf, "Notes")
    pdf.set_font(FONT, "", 7)
    for note in briefing.notes:
        pdf.multi_cell(width, 3.2, f"•  {note}", align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.5)
    pdf.set_font(FONT, "", 6.5)
    pdf.set_text_color(70, 70, 70)
    for line in ATTRIBUTION:
        pdf.multi_cell(width, 2.9, line, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(width, 2.9, f"Generated {briefing.generated_at:%Y-%m-%d %H:%M} by the "
                   "CSP hotspots service.", align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    return pdf


def _facts(briefing: Briefing) -> list[tuple[str, str]]:
    return header_facts(briefing)


def _heading(pdf: FPDF, text: str) -> None:
    if pdf.will_page_break(14):
        pdf.add_page()
    pdf.ln(1.5)
    pdf.set_font(FONT, "B", 9.5)
    pdf.multi_cell(pdf.epw, 4.6, text, align="L", new_x="LMARGIN", new_y="NEXT")
    y = pdf.get_y()
    pdf.set_line_width(0.3)
    pdf.line(pdf.l_margin, y, pdf.l_margin + pdf.epw, y)
    pdf.ln(0.8)


def _table(pdf: FPDF, table: Table) -> None:
    _heading(pdf, table.title)
    pdf.set_font(FONT, "", 7)
    body = len(table.rows) - table.total_rows
    if body <= 0:
        pdf.set_text_color(70, 70, 70)
        pdf.multi_cell(pdf.epw, 3.4, table.empty, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        return
    align = tuple("RIGHT" if n else "LEFT" for n in table.numeric)
    heading = FontFace(emphasis="BOLD", fill_color=(232, 232, 232))
    total = FontFace(emphasis="BOLD")
    with pdf.table(col_widths=table.widths, text_align=align, line_height=3.3,
                   headings_style=heading, width=pdf.epw, padding=(0.5, 0.8),
                   first_row_as_headings=True, repeat_headings=1) as grid:
        row = grid.row()
        for header in table.headers:
            row.cell(header)
        for i, values in enumerate(table.rows):
            row = grid.row()
            for j, value in enumerate(values):
                style = total if i >= body else None
                if j == table.swatch_column and i < len(table.colours) and table.colours[i]:
                    style = FontFace(fill_color=_tint(table.colours[i]))
                row.cell(_cut(value), style=style)
    if table.more:
        pdf.set_text_color(70, 70, 70)
        pdf.multi_cell(pdf.epw, 3.4, f"… and {table.more:,} more (the HTML pack lists them "
                       "all).", align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)


def _cut(text: str) -> str:
    return text if len(text) <= CELL_CHARS else text[:CELL_CHARS - 1].rstrip() + "…"


def _tint(colour: str, share: float = 0.45) -> tuple[int, int, int]:
    """A state colour mixed with white, light enough for black text on it."""
    try:
        rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    except (TypeError, ValueError):
        return (255, 255, 255)
    return tuple(round(255 - (255 - c) * share) for c in rgb)
