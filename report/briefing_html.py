"""The briefing pack as one self-contained HTML file: inline CSS, the map as inline SVG, every
table, print rules for A4; no script, no font, image or style fetched from anywhere.

Every text that comes from data or from users (place and location names, PSPO wording, sites,
actions) is escaped with html.escape; the map's SVG is matplotlib's own output, whose text
matplotlib escapes.
"""

from __future__ import annotations

import html
import re

from report.briefing import Briefing, day_text
from report.briefing_text import ATTRIBUTION, Table, header_facts, key_figures, pack_tables
from report.static_map import briefing_map

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_NUMERIC = ' class="n"'
CSS = """
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; font-size: 10pt;
  color: #111; margin: 0 auto; max-width: 210mm; padding: 8mm; line-height: 1.35; }
h1 { font-size: 16pt; margin: 0 0 2mm; }
h2 { font-size: 11.5pt; margin: 5mm 0 1.5mm; border-bottom: 1.5px solid #111; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.5mm 4mm;
  margin: 0 0 3mm; }
dl.facts dt { font-weight: bold; }
dl.facts dd { margin: 0; }
ul.figures { margin: 1mm 0 2mm 5mm; padding: 0; }
figure { margin: 0; }
figure svg { width: 100%; height: auto; display: block; border: 0; }
figcaption { font-size: 8pt; color: #444; margin-top: 1mm; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; margin-bottom: 1mm; }
th, td { border: 0.5pt solid #999; padding: 0.8mm 1.2mm; text-align: left;
  vertical-align: top; }
th { background: #e8e8e8; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: bold; border-top: 1.5pt solid #111; }
.swatch { display: inline-block; width: 3mm; height: 3mm; border: 0.5pt solid #000;
  margin-right: 1.2mm; vertical-align: -0.3mm; }
p.more, p.empty { font-size: 8.5pt; color: #444; margin: 0.5mm 0 0; }
section.notes li { font-size: 8.5pt; }
footer { margin-top: 6mm; border-top: 1px solid #999; font-size: 7.5pt; color: #444; }
footer p { margin: 0.5mm 0; }
@media print {
  @page { size: A4 portrait; margin: 12mm; }
  body { max-width: none; padding: 0; font-size: 9pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  figure, tr { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  th { background: #e8e8e8 !important; -webkit-print-color-adjust: exact;
    print-color-adjust: exact; }
  .swatch { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def esc(value: object) -> str:
    """Text for HTML, with every special character escaped (quotes too)."""
    return html.escape("" if value is None else str(value), quote=True)


def briefing_html(briefing: Briefing) -> str:
    """The whole pack as one HTML document (str), ready to save and open or print."""
    place = briefing.place
    title = f"Action day briefing: {place.name}, {day_text(briefing.on)}"
    parts = [
        "<!DOCTYPE html>", '<html lang="en-GB">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
        _header(briefing),
        '<section class="figures"><h2>At a glance</h2><ul class="figures">',
        *[f"<li>{esc(line)}</li>" for line in key_figures(briefing)],
        "</ul></section>",
        _map_section(briefing),
        *[_table_section(t) for t in pack_tables(briefing)],
        '<section class="notes"><h2>Notes</h2><ul>',
        *[f"<li>{esc(note)}</li>" for note in briefing.notes],
        "</ul></section>",
        _footer(briefing), "</body>", "</html>",
    ]
    return "\n".join(parts) + "\n"


def _header(briefing: Briefing) -> str:
    place = briefing.place
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in header_facts(briefing))
    return (f"<header><h1>Action day briefing: {esc(place.name)}</h1>"
            f'<dl class="facts">{rows}</dl></header>')


def _map_section(briefing: Briefing) -> str:
    svg = inline_svg(briefing_map(briefing, "svg"))
    caption = (f"{briefing.place.name}: incidents {briefing.month_span} (dot area by "
               "incidents at each police.uk map point), PSPOs in force on "
               f"{briefing.on.isoformat()}, water-safety equipment by check state. British "
               "National Grid (EPSG:27700).")
    return (f'<section class="map"><h2>Map</h2><figure>{svg}'
            f"<figcaption>{esc(caption)}</figcaption></figure></section>")


def inline_svg(svg: bytes) -> str:
    """matplotlib's SVG document made fit to sit inside HTML: no XML prolog or doctype, no
    namespace declarations (HTML knows SVG), no fixed size (it fills the page's width)."""
    text = svg.decode("utf-8")
    text = re.sub(r"<\?xml[^>]*\?>\s*", "", text)
    text = re.sub(r"<!DOCTYPE[^>]*>\s*", "", text, flags=re.S)
    opening = re.search(r"<svg\b[^>]*>", text)
    if opening is None:
        raise ValueError("the map is not an SVG document")
    tag = opening.group(0)
    tag = re.sub(r'\s(?:xmlns(?::\w+)?|width|height)="[^"]*"', "", tag)
    tag = tag.replace("<svg", '<svg role="img" aria-label="Map of the place"', 1)
    return text[:opening.start()] + tag + text[opening.end():]


def _table_section(table: Table) -> str:
    out = [f'<section class="table {esc(table.key)}"><h2>{esc(table.title)}</h2>']
    if len(table.rows) <= table.total_rows:
        out.append(f'<p class="empty">{esc(table.empty)}</p></section>')
        return "".join(out)
    head = "".join(f'<th{_NUMERIC if n else ""} scope="col">{esc(h)}</th>'
                   for h, n in zip(table.headers, table.numeric, strict=True))
    out.append(f"<table><thead><tr>{head}</tr></thead><tbody>")
    body = len(table.rows) - table.total_rows
    for i, row in enumerate(table.rows):
        cells = []
        for j, (value, numeric) in enumerate(zip(row, table.numeric, strict=True)):
            text = esc(value)
            if j == table.swatch_column and i < len(table.colours):
                colour = table.colours[i]
                if colour and COLOUR.match(colour):
                    text = f'<span class="swatch" style="background:{colour}"></span>{text}'
            cells.append(f'<td{_NUMERIC if numeric else ""}>{text}</td>')
        css = ' class="total"' if i >= body else ""
        out.append(f"<tr{css}>{''.join(cells)}</tr>")
    out.append("</tbody></table>")
    if table.more:
        out.append(f'<p class="more">… and {table.more:,} more.</p>')
    out.append("</section>")
    return "".join(out)


def _footer(briefing: Briefing) -> str:
    lines = [*ATTRIBUTION,
             f"Generated {briefing.generated_at:%Y-%m-%d %H:%M} by the CSP hotspots service "
             "from the data loaded at that time."]
    return "<footer>" + "".join(f"<p>{esc(line)}</p>" for line in lines) + "</footer>"
