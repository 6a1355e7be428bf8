"""The learning-event slide deck (python-pptx): editable, 16:9, large type.

``write_deck(portfolio, out, flt=..., quarter=..., as_of=...)`` writes a .pptx of what a
filter shows: a title slide, the portfolio figures, the map (drawn with the slide's own
shapes: PowerPoint has no map chart), then NATIVE PowerPoint charts (progress through
the learning cycle, income against the living-income benchmark, inclusiveness, the New Business Model
Principles, sales) whose data opens in PowerPoint and can be restyled, one slide per
pilot with its key lesson, and the lessons. The speaker notes of every figure and chart
slide hold the definition of each number shown and the quarter and date of the data.

What the slides say (the parts in order, the numbers, the pilots, the notes) comes from
``linkdash.story``, shared with the Presentation page and the HTML report; this module
only draws it.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import pandas as pd
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION, XL_MARKER_STYLE
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.util import Emu, Inches, Pt

from linkdash import catalogue, figures, quarters, style
from linkdash.portfolio import Filter, Portfolio
from linkdash.story import (
    APP_NAME,
    INCLUSIVENESS,
    MAP_FIGURE,
    PARTS,
    PROGRESS_STATES,
    Demo,
    Story,
    inclusiveness_series,
    income_series,
    lesson_groups,
    nbmp_pilot_count,
    nbmp_series,
    notes,
    pilot_income_series,
    pilot_kicker,
    pilot_rank,
    pilot_slides,
    pilot_summary,
    pilot_targets,
    progress_series,
    resolve,
    sales_series,
    shorten,
    slides_by_group,
)
from linkdash.values import is_missing

if TYPE_CHECKING:
    from pptx.presentation import Presentation as Deck

PPTX_MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
Progress = Callable[[float, str], None]

# --- drawing ---------------------------------------------------------------------------

SLIDE_W, SLIDE_H = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.5)
TITLE_TOP, TITLE_H = Inches(0.3), Inches(0.9)
BODY_TOP = Inches(1.35)
FOOTER_TOP = Inches(7.0)
FONT = style.FONT_FAMILY.split(",")[0].strip()
INK = RGBColor(0x22, 0x22, 0x22)
GREY = RGBColor(0x66, 0x66, 0x66)
ACCENT = RGBColor(0x1B, 0x6E, 0x3A)  # the app's primary green
PALE = RGBColor(0xEE, 0xF3, 0xEF)

NUMBER_FORMATS = {"share": "0%", "money": '"$"#,##0', "count": "#,##0", "score": "0.0"}


def _rgb(color: str) -> RGBColor:
    return RGBColor.from_string(color.lstrip("#")[:6].upper())


def _style_runs(paragraph, size: int, bold: bool = False, color: RGBColor = INK) -> None:
    for run in paragraph.runs:
        run.font.size = Pt(size)
        run.font.bold = bold
        run.font.name = FONT
        run.font.color.rgb = color


def _text(slide, left, top, width, height, lines, size: int = 20, bold: bool = False,
          color: RGBColor = INK, align=PP_ALIGN.LEFT, anchor=MSO_ANCHOR.TOP):
    """A text box; ``lines`` is a string or a list of strings or (text, size, bold, color)."""
    box = slide.shapes.add_textbox(left, top, width, height)
    tf = box.text_frame
    tf.word_wrap = True
    tf.vertical_anchor = anchor
    items = [lines] if isinstance(lines, str) else list(lines)
    for i, item in enumerate(items):
        text, s, b, c = (item, size, bold, color) if isinstance(item, str) else item
        p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        p.text = text
        p.alignment = align
        p.space_after = Pt(6)
        _style_runs(p, s, b, c)
    return box


# Bold title characters are up to about 0.6 em wide on average (LibreOffice's rendering
# of "Where the pilots work: households reached, Q4 2017" wrapped at 32 pt); a title line
# is 1.2 em high; the text box keeps 0.1 inch free at each side.
TITLE_CHAR_EM, TITLE_LINE_EM = 0.6, 1.2


def title_lines(title: str, size: int) -> int:
    """How many lines ``title`` takes in the title box at ``size`` points."""
    per_line = int((SLIDE_W - 2 * MARGIN - Inches(0.2)) / Pt(1) / (size * TITLE_CHAR_EM))
    return max(1, -(-len(title) // per_line))


def title_size(title: str) -> int:
    """The largest title size (32 pt down to 20 pt) at which ``title`` fits the title box
    (one line, or two at 20 pt), so a long title never runs into the subtitle."""
    for size in (32, 28, 24, 22, 20):
        if title_lines(title, size) * size * TITLE_LINE_EM <= TITLE_H / Pt(1):
            return size
    return 20


def subtitle_size(subtitle: str) -> int:
    """16 pt, or smaller (down to 12 pt) so that the subtitle stays on its one line above
    the slide's body (regular characters: up to about 0.55 em wide in LibreOffice)."""
    for size in (16, 14, 13, 12):
        if len(subtitle) <= int((SLIDE_W - 2 * MARGIN - Inches(0.2)) / Pt(1) / (size * 0.55)):
            return size
    return 12


def _slide(prs, title: str, subtitle: str | None = None):
    """A slide with the title in the layout's title placeholder (so PowerPoint's outline
    and accessibility checker see it), a green accent bar and an optional subtitle."""
    slide = prs.slides.add_slide(prs.slide_layouts[5])  # Title Only
    t = slide.shapes.title
    t.left, t.top, t.width, t.height = MARGIN, TITLE_TOP, SLIDE_W - 2 * MARGIN, TITLE_H
    t.text = title
    tf = t.text_frame
    tf.word_wrap = True
    tf.vertical_anchor = MSO_ANCHOR.MIDDLE
    for p in tf.paragraphs:
        p.alignment = PP_ALIGN.LEFT
        _style_runs(p, title_size(title), True, INK)
    bar = slide.shapes.add_shape(1, 0, TITLE_TOP + Inches(0.1), Inches(0.18), TITLE_H - Inches(0.2))
    bar.fill.solid()
    bar.fill.fore_color.rgb = ACCENT
    bar.line.fill.background()
    if subtitle:
        _text(slide, MARGIN, TITLE_TOP + TITLE_H - Inches(0.05), SLIDE_W - 2 * MARGIN, Inches(0.45),
              subtitle, size=subtitle_size(subtitle), color=GREY)
    return slide


def _footer(slide, story: Story, n: int) -> None:
    text = f"{APP_NAME} · {story.flt.describe()} · {story.quarter_label}"
    if story.demo:
        text += " · " + ("illustrative demo data mixed with real uploads" if story.mixed
                         else "illustrative demo data")
    _text(slide, MARGIN, FOOTER_TOP, SLIDE_W - 2 * MARGIN - Inches(1), Inches(0.4), text, size=12, color=GREY)
    _text(slide, SLIDE_W - MARGIN - Inches(1), FOOTER_TOP, Inches(1), Inches(0.4), str(n), size=12,
          color=GREY, align=PP_ALIGN.RIGHT)


def _notes(slide, text: str) -> None:
    slide.notes_slide.notes_text_frame.text = text


def _finish(slide, story: Story, n: int, notes_text: str) -> None:
    """A slide's footer (``_footer``, its number ``n``) and speaker notes."""
    _footer(slide, story, n)
    _notes(slide, notes_text)


def _chart_fonts(chart, size: int = 16) -> None:
    chart.font.size = Pt(size)
    chart.font.name = FONT
    chart.font.color.rgb = INK


def _legend(chart, position=XL_LEGEND_POSITION.BOTTOM) -> None:
    chart.has_legend = True
    chart.legend.position = position
    chart.legend.include_in_layout = False
    chart.legend.font.size = Pt(16)


def _fill(series, color: str) -> None:
    series.format.fill.solid()
    series.format.fill.fore_color.rgb = _rgb(color)


def _line(series, color: str, width: float = 3.5, dash=None, marker=XL_MARKER_STYLE.CIRCLE) -> None:
    series.format.line.color.rgb = _rgb(color)
    series.format.line.width = Pt(width)
    if dash is not None:
        series.format.line.dash_style = dash
    series.smooth = False
    series.marker.style = marker
    if marker != XL_MARKER_STYLE.NONE:
        series.marker.size = 8
        series.marker.format.fill.solid()
        series.marker.format.fill.fore_color.rgb = _rgb(color)
        series.marker.format.line.color.rgb = _rgb(color)


def _value_axis(chart, number_format: str, minimum=None, maximum=None, title: str | None = None) -> None:
    ax = chart.value_axis
    ax.tick_labels.number_format = number_format
    ax.tick_labels.number_format_is_linked = False
    ax.tick_labels.font.size = Pt(14)
    ax.has_major_gridlines = True
    ax.major_gridlines.format.line.color.rgb = RGBColor(0xDD, 0xDD, 0xDD)
    ax.format.line.fill.background()
    if minimum is not None:
        ax.minimum_scale = minimum
    if maximum is not None:
        ax.maximum_scale = maximum
    if title:
        ax.has_title = True
        ax.axis_title.text_frame.text = title
        _style_runs(ax.axis_title.text_frame.paragraphs[0], 14, False, GREY)


def _manual_plot_area(chart, x: float, y: float, w: float, h: float) -> None:
    """Fix the inner plot area (fractions of the chart): PowerPoint and LibreOffice draw a
    radar with long category labels very small otherwise."""
    from lxml import etree
    from pptx.oxml.ns import qn

    plot_area = chart._chartSpace.find(qn("c:chart")).find(qn("c:plotArea"))
    old = plot_area.find(qn("c:layout"))
    if old is not None:
        plot_area.remove(old)
    layout = etree.SubElement(plot_area, qn("c:layout"))
    plot_area.remove(layout)
    plot_area.insert(0, layout)
    ml = etree.SubElement(layout, qn("c:manualLayout"))
    for tag, val in (("layoutTarget", "inner"), ("xMode", "edge"), ("yMode", "edge"),
                     ("x", x), ("y", y), ("w", w), ("h", h)):
        etree.SubElement(ml, qn(f"c:{tag}")).set("val", str(val))


def _no_data(slide, message: str) -> None:
    _text(slide, MARGIN, Inches(3.2), SLIDE_W - 2 * MARGIN, Inches(1), message, size=24, color=GREY,
          align=PP_ALIGN.CENTER)


CHART_BOX = (MARGIN, BODY_TOP + Inches(0.35), SLIDE_W - 2 * MARGIN, FOOTER_TOP - BODY_TOP - Inches(0.4))


def _add_chart(slide, kind, data, box=CHART_BOX):
    return slide.shapes.add_chart(kind, *box, data).chart


def _vals(values) -> list:
    return [None if is_missing(v) else float(v) for v in values]


# --- the slides -------------------------------------------------------------------------

def _title_slide(prs, story: Story, n: int = 1) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[6])  # blank
    band = slide.shapes.add_shape(1, 0, 0, SLIDE_W, Inches(0.35))
    band.fill.solid()
    band.fill.fore_color.rgb = ACCENT
    band.line.fill.background()
    _text(slide, Inches(0.8), Inches(1.6), Inches(11.7), Inches(1.3), APP_NAME, size=54, bold=True)
    _text(slide, Inches(0.8), Inches(2.9), Inches(11.7), Inches(0.8),
          "LINK pilots: progress, outcomes and lessons", size=28, color=GREY)
    lines = [
        (f"Pilots: {story.flt.describe()} ({len(story.view.pilots)} pilots)", 24, False, INK),
        (f"Quarter: {story.quarter_label}", 24, False, INK),
        (f"Date of the data: indicators for {story.quarter_label}"
         + (f" (quarter ending {quarters.date_text(quarters.end_date(story.quarter))})"
            if story.quarter else "")
         + f"; milestones as of {story.as_of_label}", 20, False, GREY),
    ]
    _text(slide, Inches(0.8), Inches(3.9), Inches(11.7), Inches(1.9), lines)
    if story.notice:
        box = slide.shapes.add_shape(1, Inches(0.8), Inches(5.9), Inches(11.7 if story.mixed else 8.2),
                                     Inches(0.7))
        box.fill.solid()
        box.fill.fore_color.rgb = RGBColor(0xFF, 0xF4, 0xD6)
        box.line.color.rgb = _rgb(style.OKABE_ITO["orange"])
        tf = box.text_frame
        tf.text = story.notice
        tf.vertical_anchor = MSO_ANCHOR.MIDDLE
        _style_runs(tf.paragraphs[0], 18 if story.mixed else 22, True, INK)
    _notes(slide, notes(story, "title"))


def _figures_slide(prs, story: Story, n: int) -> None:
    figs = story.figures
    slide = _slide(prs, f"The portfolio in {story.quarter_label}",
                   f"{figs['pilots_reporting']} of {figs['pilots_total']} pilots reported · "
                   f"milestones as of {story.as_of_label}")
    names = list(figures.FIGURES)
    half = (len(names) + 1) // 2
    col_w = (SLIDE_W - 2 * MARGIN - Inches(0.4)) / 2
    for i, chunk in enumerate((names[:half], names[half:])):
        left = Emu(int(MARGIN + i * (col_w + Inches(0.4))))
        _figure_table(slide, left, BODY_TOP + Inches(0.5), Emu(int(col_w)), chunk, figs,
                      row_h=Inches(0.68), size=21)
    _finish(slide, story, n, notes(story, "figures"))


# --- the map, drawn with shapes -------------------------------------------------------
# PowerPoint has no map chart. The map is drawn with the slide's own shapes (one per pilot
# country, one for the other countries, one dot per pilot site) from
# ``maps.static_country_map``: no browser, crisp on a projector, editable, and fast (the
# projected boundaries are kept per view in ``maps``). Its legends are text boxes beside it.

PX = 9525  # EMU per px (96 px an inch)
MAP_BOX = (MARGIN, BODY_TOP + Inches(0.4), Inches(9.6), FOOTER_TOP - BODY_TOP - Inches(0.5))
SITE_PX = 15  # a site's dot, with a white ring (smaller when many: ``maps.site_px``)


def _xml_text(text: str) -> str:
    from xml.sax.saxutils import quoteattr

    return quoteattr(" ".join(str(text).split()))


def _sp_xml(id_: int, name: str, geometry: str, x: int, y: int, cx: int, cy: int, fill: str | None,
            line: str | None, line_w: int = 0, descr: str = "") -> str:
    """A ``p:sp`` without text: ``geometry`` is its ``a:custGeom`` or ``a:prstGeom``."""
    fill_xml = (f'<a:solidFill><a:srgbClr val="{fill.lstrip("#")[:6].upper()}"/></a:solidFill>' if fill
                else "<a:noFill/>")
    line_xml = (f'<a:ln w="{line_w}"><a:solidFill><a:srgbClr val="{line.lstrip("#")[:6].upper()}"/>'
                f'</a:solidFill><a:round/></a:ln>' if line else "<a:ln><a:noFill/></a:ln>")
    return (f'<p:sp><p:nvSpPr><p:cNvPr id="{id_}" name={_xml_text(name)}'
            + (f" descr={_xml_text(descr)}" if descr else "") + '/><p:cNvSpPr/><p:nvPr/></p:nvSpPr>'
            f'<p:spPr><a:xfrm><a:off x="{x}" y="{y}"/><a:ext cx="{max(cx, 1)}" cy="{max(cy, 1)}"/></a:xfrm>'
            f'{geometry}{fill_xml}{line_xml}</p:spPr></p:sp>')


def _area_xml(id_: int, area, left: int, top: int) -> str:
    """A country (or the context land) as one freeform shape, a closed path per ring."""
    rings = [[(left + round(x * PX), top + round(y * PX)) for x, y in ring] for ring in area.rings]
    x0 = min(x for r in rings for x, _ in r)
    y0 = min(y for r in rings for _, y in r)
    cx = max(x for r in rings for x, _ in r) - x0
    cy = max(y for r in rings for _, y in r) - y0
    path = []
    for ring in rings:
        (fx, fy), rest = ring[0], ring[1:]
        path.append(f'<a:moveTo><a:pt x="{fx - x0}" y="{fy - y0}"/></a:moveTo>')
        path.extend(f'<a:lnTo><a:pt x="{x - x0}" y="{y - y0}"/></a:lnTo>' for x, y in rest)
        path.append("<a:close/>")
    geometry = ('<a:custGeom><a:avLst/><a:gdLst/><a:ahLst/><a:cxnLst/><a:rect l="l" t="t" r="r" b="b"/>'
                f'<a:pathLst><a:path w="{max(cx, 1)}" h="{max(cy, 1)}">{"".join(path)}</a:path></a:pathLst>'
                '</a:custGeom>')
    return _sp_xml(id_, area.text or area.name, geometry, x0, y0, cx, cy, area.fill, area.line,
                   int(Pt(area.line_px)), descr=area.text)


_ELLIPSE = '<a:prstGeom prst="ellipse"><a:avLst/></a:prstGeom>'
_RECT = '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom>'


def _map_group(slide, smap, box) -> None:
    """The map as one group of shapes (frame, land, pilot countries, sites) in ``box``."""
    from pptx.oxml import parse_xml
    from pptx.oxml.ns import nsdecls

    from linkdash import maps

    left, top, width, height = (int(v) for v in box)
    next_id = slide.shapes._next_shape_id
    ids = iter(range(next_id + 1, next_id + 10_000))
    parts = []
    if smap.land:
        parts.append(_area_xml(next(ids), replace(smap.land[0], name="Other countries", text="",
                                                  rings=tuple(r for a in smap.land for r in a.rings)),
                               left, top))
    parts += [_area_xml(next(ids), a, left, top) for a in smap.countries]
    d = round(maps.site_px(len(smap.sites), smap.width, smap.height, largest=SITE_PX) * PX)
    ring = int(Pt(2) if d >= SITE_PX * PX else Pt(1))  # a thinner ring round a smaller dot
    parts += [_sp_xml(next(ids), f"{site.label} ({site.pilot_id})", _ELLIPSE,
                      left + round(site.x * PX) - d // 2, top + round(site.y * PX) - d // 2, d, d,
                      site.color, "#FFFFFF", ring, descr=f"Pilot site: {site.label}")
              for site in smap.sites]
    parts.append(_sp_xml(next(ids), "Map frame", _RECT, left, top, width, height, None, "#BBBBBB",
                         int(Pt(0.75))))
    descr = f"Map: {smap.title}. " + "; ".join(a.text for a in smap.countries)
    xml = (f'<p:grpSp {nsdecls("p", "a")}><p:nvGrpSpPr><p:cNvPr id="{next_id}" name="Map" '
           f'descr={_xml_text(descr)}/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr>'
           f'<p:grpSpPr><a:xfrm><a:off x="{left}" y="{top}"/><a:ext cx="{width}" cy="{height}"/>'
           f'<a:chOff x="{left}" y="{top}"/><a:chExt cx="{width}" cy="{height}"/></a:xfrm></p:grpSpPr>'
           + "".join(parts) + "</p:grpSp>")
    slide.shapes._spTree.append(parse_xml(xml))


def _plain_shapes(slide, name: str, shapes: list[tuple]) -> None:
    """``(geometry, x, y, cx, cy, fill, line, line_w)`` shapes with no theme style (no
    shadow), grouped under ``name`` when more than one."""
    from pptx.oxml import parse_xml
    from pptx.oxml.ns import nsdecls

    first = slide.shapes._next_shape_id
    grouped = len(shapes) > 1  # the group takes the first id
    sps = [_sp_xml(first + grouped + i, name, *shape) for i, shape in enumerate(shapes)]
    if not grouped:
        xml = sps[0].replace("<p:sp>", f'<p:sp {nsdecls("p", "a")}>', 1)
    else:
        x0 = min(int(sh[1]) for sh in shapes)
        y0 = min(int(sh[2]) for sh in shapes)
        cx = max(int(sh[1]) + int(sh[3]) for sh in shapes) - x0
        cy = max(int(sh[2]) + int(sh[4]) for sh in shapes) - y0
        xml = (f'<p:grpSp {nsdecls("p", "a")}><p:nvGrpSpPr><p:cNvPr id="{first}" name={_xml_text(name)}/>'
               f'<p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr><a:xfrm><a:off x="{x0}" y="{y0}"/>'
               f'<a:ext cx="{cx}" cy="{cy}"/><a:chOff x="{x0}" y="{y0}"/><a:chExt cx="{cx}" cy="{cy}"/>'
               f'</a:xfrm></p:grpSpPr>{"".join(sps)}</p:grpSp>')
    slide.shapes._spTree.append(parse_xml(xml))


def _map_legend(slide, smap, left: int, top: int, width: int) -> None:
    """Beside the map: the colour scale with its values, the grey of no data, and the
    site dots by value chain."""
    y = top
    if smap.scale:
        sc = smap.scale
        # bold characters up to 0.7 em wide (DejaVu Sans standing in for Arial): a long label
        # takes a second line, the bar less
        lines = -(-int(len(sc.label) * 0.7 * 15) // int((width - Inches(0.2)) / Pt(1)))
        _text(slide, left, y - Inches(0.05), width, Inches(0.3) * lines + Inches(0.1), sc.label,
              size=15, bold=True)
        y += Inches(0.3) * lines + Inches(0.15)
        bar_h, bar_w, steps = Inches(2.0) - Inches(0.3) * lines, Inches(0.3), 34
        cuts = [y + int(bar_h * i / steps) for i in range(steps + 1)]
        # each step overlaps the next by a pixel: no seams
        bar: list[tuple] = [(_RECT, left, cuts[i], bar_w, cuts[i + 1] - cuts[i] + Emu(9525),
                sc.color(sc.zmax - (sc.zmax - sc.zmin) * (i + 0.5) / steps), None, 0) for i in range(steps)]
        bar.append((_RECT, left, y, bar_w, bar_h, None, "#888888", int(Pt(0.75))))
        for value, _ in sc.ticks:
            ty = y + int(bar_h * (sc.zmax - value) / (sc.zmax - sc.zmin))
            bar.append((_RECT, left + bar_w, ty - Emu(6350), Inches(0.08), Emu(12700), "#666666", None, 0))
        _plain_shapes(slide, "Colour scale", bar)
        for value, text in sc.ticks:
            ty = y + int(bar_h * (sc.zmax - value) / (sc.zmax - sc.zmin))
            _text(slide, left + bar_w + Inches(0.12), ty - Inches(0.17), width - bar_w - Inches(0.12),
                  Inches(0.34), text, size=14, anchor=MSO_ANCHOR.MIDDLE)
        y += bar_h + Inches(0.25)
    if smap.no_data:
        _plain_shapes(slide, "No data", [(_RECT, left, y + Inches(0.07), Inches(0.3), Inches(0.2),
                                          style.NO_DATA_FILL, "#909090", int(Pt(0.75)))])
        _text(slide, left + Inches(0.42), y, width - Inches(0.42), Inches(0.34), "No data", size=14,
              anchor=MSO_ANCHOR.MIDDLE)
        y += Inches(0.45)
    if smap.chains:
        _text(slide, left, y, width, Inches(0.34), "Pilot sites", size=15, bold=True)
        y += Inches(0.4)
        d = Inches(0.2)
        _plain_shapes(slide, "Pilot sites",
                      [(_ELLIPSE, left + Inches(0.05), y + Inches(0.07) + i * Inches(0.32), d, d,
                        color, None, 0) for i, (_, color) in enumerate(smap.chains)])
        for i, (label, _) in enumerate(smap.chains):
            _text(slide, left + Inches(0.42), y + i * Inches(0.32), width - Inches(0.42), Inches(0.34), label,
                  size=14, anchor=MSO_ANCHOR.MIDDLE)


def map_of(story: Story, figure: str = MAP_FIGURE):
    """The deck's map (``maps.static_country_map``) of the story's view and quarter."""
    from linkdash import maps

    return maps.static_country_map(story.view, figure, story.quarter,
                                   width=MAP_BOX[2] / PX, height=MAP_BOX[3] / PX)


def warm_map(portfolio: Portfolio, flt: Filter = Filter(), quarter: str | None = None) -> threading.Thread:
    """Work out the deck's map (the projected boundaries are kept per view) in a
    background thread. Returns the started thread."""
    story = resolve(portfolio, flt, quarter, demo=False)
    t = threading.Thread(target=map_of, args=(story,), name="linkdash-warm-map", daemon=True)
    t.start()
    return t


def _map_slide(prs, story: Story, n: int, with_map: bool = True) -> None:
    slide = _slide(prs, f"Where the pilots work: households reached, {story.quarter_label}",
                   "Countries coloured by households reached; grey: no data for the quarter; "
                   "dots: pilot sites by value chain")
    smap, failed = None, None
    if with_map:
        try:
            smap = map_of(story)
        except Exception as e:  # noqa: BLE001 - the deck is still useful without its map
            failed = f"The map could not be drawn: {type(e).__name__}: {e}"
    if smap is not None and (smap.countries or smap.land):
        _map_group(slide, smap, MAP_BOX)
        legend_left = MAP_BOX[0] + MAP_BOX[2] + Inches(0.25)
        _map_legend(slide, smap, legend_left, MAP_BOX[1], SLIDE_W - MARGIN - legend_left)
    elif smap is not None:
        _no_data(slide, "No pilots in this selection")
    else:
        _no_data(slide, ("The map could not be drawn on this slide.\n" if with_map else "")
                 + "The map is on the Overview page and in the HTML report.")
    _finish(slide, story, n, notes(story, "map") + (f"\n{failed}" if failed else ""))


def _progress_slide(prs, story: Story, n: int) -> pd.DataFrame:
    s = progress_series(story)
    figs = story.figures
    by_milestone = slides_by_group(story)  # too many pilots for a bar each
    n_pilots = story.view.pilots["pilot_id"].nunique()
    done, late = (figures.format_figure(k, figs[k]) for k in ("milestones_completed", "milestones_overdue"))
    slide = _slide(prs, "Progress through the learning cycle",
                   (f"Pilots per milestone ({n_pilots:,} pilots)" if by_milestone else "Milestones per pilot")
                   + f" as of {story.as_of_label}: {done} completed, {late} overdue")
    if s.empty or s.to_numpy().sum() == 0:
        _no_data(slide, "No milestones reported for this selection")
    else:
        data = CategoryChartData(number_format="#,##0")
        data.categories = list(s.index)
        for state in PROGRESS_STATES:
            data.add_series(style.STATUS_LABELS[state], [int(v) for v in s[state]])
        chart = _add_chart(slide, XL_CHART_TYPE.BAR_STACKED, data)
        _chart_fonts(chart, 16)
        _legend(chart)
        plot = chart.plots[0]
        plot.gap_width = 40
        plot.overlap = 100
        for series, state in zip(plot.series, PROGRESS_STATES):
            _fill(series, style.status_color(state))
        chart.category_axis.reverse_order = True
        chart.category_axis.tick_labels.font.size = Pt(14)
        if by_milestone:
            _value_axis(chart, "#,##0", minimum=0, maximum=n_pilots, title=f"Pilots ({n_pilots:,})")
        else:
            _value_axis(chart, "0", minimum=0, maximum=len(catalogue.MILESTONES),
                        title="Milestones (9 in the learning cycle)")
    _finish(slide, story, n, notes(story, "progress"))
    return s


def _income_slide(prs, story: Story, n: int) -> pd.DataFrame:
    s = income_series(story)
    figs = story.figures
    slide = _slide(prs, "Income against the living-income benchmark",
                   f"Annual net household income from the value chain, USD · "
                   f"{figures.format_figure('share_above_living_income', figs['share_above_living_income'])} "
                   f"of surveyed households above the benchmark in {story.quarter_label}")
    if s.empty or s["income_avg_usd"].isna().all():
        _no_data(slide, "No income reported for this selection")
    else:
        data = CategoryChartData(number_format=NUMBER_FORMATS["money"])
        data.categories = [quarters.label(q) for q in s["quarter"]]
        data.add_series("Average household income (weighted by households)", _vals(s["income_avg_usd"]))
        data.add_series("Living-income benchmark", _vals(s["living_income_usd"]))
        chart = _add_chart(slide, XL_CHART_TYPE.LINE_MARKERS, data)
        _chart_fonts(chart)
        _legend(chart)
        from pptx.enum.dml import MSO_LINE_DASH_STYLE

        _line(chart.plots[0].series[0], style.OKABE_ITO["blue"], 4)
        _line(chart.plots[0].series[1], style.STATUS_COLORS["overdue"], 3, MSO_LINE_DASH_STYLE.DASH,
              XL_MARKER_STYLE.NONE)
        _value_axis(chart, NUMBER_FORMATS["money"], minimum=0, title="USD per household per year")
        chart.category_axis.tick_labels.font.size = Pt(14)
    _finish(slide, story, n, notes(story, "income"))
    return s


def _inclusiveness_slide(prs, story: Story, n: int) -> pd.DataFrame:
    s = inclusiveness_series(story)
    lead = story.figures["women_share_leaders"]
    rows = figures.slide_rows(story.view)
    per = {"pilot_id": "pilot", "value_chain": "value chain"}.get(rows, rows)
    slide = _slide(prs, f"Inclusiveness: women and youth, {story.quarter_label}",
                   f"Share of the people trained or engaged who are women or youth (15-35), per {per}; "
                   f"women hold {figures.format_figure('women_share_leaders', lead)} of leadership seats")
    if s.drop(index="Portfolio", errors="ignore").isna().all().all():
        _no_data(slide, "No participants or leaders reported for this quarter")
    else:
        data = CategoryChartData(number_format="0%")
        data.categories = list(s.index)
        labels = {n_: figures.FIGURES[n_].label for n_ in INCLUSIVENESS}
        for name in INCLUSIVENESS:
            data.add_series(labels[name], _vals(s[name]))
        chart = _add_chart(slide, XL_CHART_TYPE.BAR_CLUSTERED, data)
        _chart_fonts(chart, 16)
        _legend(chart)
        plot = chart.plots[0]
        plot.gap_width = 40
        plot.overlap = 0
        colors = (style.OKABE_ITO["reddish_purple"], style.OKABE_ITO["orange"])
        for series, color in zip(plot.series, colors):
            _fill(series, color)
        chart.category_axis.reverse_order = True
        chart.category_axis.tick_labels.font.size = Pt(14)
        _value_axis(chart, "0%", minimum=0, maximum=1)
    _finish(slide, story, n, notes(story, "inclusiveness"))
    return s


def _nbmp_slide(prs, story: Story, n: int) -> pd.DataFrame:
    s = nbmp_series(story)
    k = nbmp_pilot_count(story)
    slide = _slide(prs, "The New Business Model Principles",
                   f"Median score over {k:,} pilot{'s' if k != 1 else ''}: first assessment and latest "
                   f"(up to {story.quarter_label}) · 1 weak to 5 strong")
    if s.isna().all().all():
        _no_data(slide, "No NBMP assessments for this selection")
    else:
        data = CategoryChartData(number_format="0.0")
        data.categories = list(s.index)
        data.add_series("First assessment (median)", _vals(s["first"]))
        data.add_series("Latest assessment (median)", _vals(s["latest"]))
        chart = _add_chart(slide, XL_CHART_TYPE.RADAR, data)
        _chart_fonts(chart, 18)
        _legend(chart)
        _manual_plot_area(chart, x=0.24, y=0.08, w=0.52, h=0.70)
        from pptx.enum.dml import MSO_LINE_DASH_STYLE

        _line(chart.plots[0].series[0], style.OKABE_ITO["orange"], 3, MSO_LINE_DASH_STYLE.DASH,
              XL_MARKER_STYLE.NONE)
        _line(chart.plots[0].series[1], style.OKABE_ITO["blue"], 4, None, XL_MARKER_STYLE.NONE)
        _value_axis(chart, "0", minimum=0, maximum=5)
        chart.value_axis.major_unit = 1
    _finish(slide, story, n, notes(story, "nbmp"))
    return s


def _sales_slide(prs, story: Story, n: int) -> pd.DataFrame:
    s = sales_series(story)
    figs = story.figures
    slide = _slide(prs, "Business: sales through the producer organisations",
                   f"USD per quarter, stacked by value chain · "
                   f"{figures.format_figure('sales_usd', figs['sales_usd'])} in {story.quarter_label}")
    if s.empty or s.isna().all().all():
        _no_data(slide, "No sales reported for this selection")
    else:
        data = CategoryChartData(number_format=NUMBER_FORMATS["money"])
        data.categories = [quarters.label(q) for q in s.index]
        for vc in s.columns:
            data.add_series(style.value_chain_label(vc), _vals(s[vc]))
        chart = _add_chart(slide, XL_CHART_TYPE.COLUMN_STACKED, data)
        _chart_fonts(chart)
        _legend(chart)
        plot = chart.plots[0]
        plot.gap_width = 50
        plot.overlap = 100
        for series, vc in zip(plot.series, s.columns):
            _fill(series, style.value_chain_color(vc))
        _value_axis(chart, NUMBER_FORMATS["money"], minimum=0, title="USD per quarter")
        chart.category_axis.tick_labels.font.size = Pt(14)
    _finish(slide, story, n, notes(story, "business"))
    return s


def _clip(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _figure_table(slide, left, top, width, names: list[str], values: dict, row_h=Inches(0.5),
                  size: int = 18) -> None:
    """A two-column table (label, formatted value) of figures."""
    shape = slide.shapes.add_table(len(names), 2, left, top, width, row_h * len(names))
    table = shape.table
    table.first_row = False
    table.horz_banding = False
    table.columns[0].width = Emu(int(width * 0.7))
    table.columns[1].width = Emu(int(width) - int(width * 0.7))
    for r, name in enumerate(names):
        table.rows[r].height = row_h
        label = figures.FIGURES[name].label if name in figures.FIGURES else name
        value = values.get(name)
        shown = value if isinstance(value, str) else figures.format_figure(name, value)
        for c, text in enumerate((label, shown)):
            cell = table.cell(r, c)
            cell.text = text
            cell.vertical_anchor = MSO_ANCHOR.MIDDLE
            cell.margin_top = cell.margin_bottom = Inches(0.03)
            cell.fill.solid()
            cell.fill.fore_color.rgb = PALE if r % 2 == 0 else RGBColor(0xFF, 0xFF, 0xFF)
            p = cell.text_frame.paragraphs[0]
            p.alignment = PP_ALIGN.RIGHT if c == 1 else PP_ALIGN.LEFT
            _style_runs(p, size, c == 1, INK)


def _pilot_slide(prs, story: Story, pilot_id: str, n: int) -> None:
    """A pilot: its facts and key figures against their targets (left), its household
    income against its baseline, target and living-income benchmark (a native chart,
    right), its key lesson across the bottom (in full in the notes)."""
    s = pilot_summary(story, pilot_id)
    f = s["facts"]
    slide = _slide(prs, f"{s['name']} ({pilot_id})", pilot_kicker(f, with_region=True))
    top = BODY_TOP + Inches(0.45)
    left_w = Inches(5.3)
    ms = s["milestones"]
    lesson_top = Inches(5.45)
    facts = [(f"Dates: {f['Dates']}", 13, False, INK),
             (f"Target: {f['Target households']} households", 13, False, INK),
             (f"Milestones, {story.as_of_label}: {ms['completed']} of {ms['total']} done, "
              f"{ms['overdue']} overdue", 13, False, INK)]
    rank = pilot_rank(story, pilot_id)  # why this pilot has a slide, when not every pilot has one
    if rank:
        facts = [(text, 12, False, INK) for text, *_ in facts] + [(rank, 12, True, ACCENT)]
    box = _text(slide, MARGIN, top - Inches(0.1), left_w, Inches(0.95), facts)
    for para in box.text_frame.paragraphs:
        para.space_after = Pt(2)
    # key figures against their targets (else the pilot's latest figures)
    targets = pilot_targets(story, pilot_id).head(4)
    table_top = top + Inches(0.9)
    if len(targets):
        _target_table(slide, MARGIN, table_top, left_w, targets, story.quarter_label)
    elif s["figures"]:
        names_ = ["households_reached", "income_avg_usd", "women_share_participants"]
        _figure_table(slide, MARGIN, table_top, left_w, names_, s["figures"], row_h=Inches(0.42), size=15)
    else:
        _text(slide, MARGIN, table_top, left_w, Inches(0.5), "No indicators reported yet",
              size=16, color=GREY)
    # the chart that answers the pilot's question
    series, tgt = pilot_income_series(story, pilot_id)
    chart_left = MARGIN + left_w + Inches(0.3)
    box = (chart_left, top - Inches(0.1), SLIDE_W - MARGIN - chart_left, lesson_top - top - Inches(0.05))
    if series.empty or series["income_avg_usd"].isna().all():
        _text(slide, chart_left, top + Inches(1.5), box[2], Inches(0.6), "No income reported for this pilot",
              size=18, color=GREY, align=PP_ALIGN.CENTER)
    else:
        _pilot_income_chart(slide, series, tgt, box)
    # the key lesson, across the bottom
    lesson = s["lesson"]
    frame = slide.shapes.add_shape(1, MARGIN, lesson_top, SLIDE_W - 2 * MARGIN,
                                   FOOTER_TOP - lesson_top - Inches(0.08))
    frame.fill.solid()
    frame.fill.fore_color.rgb = PALE
    frame.line.color.rgb = _rgb(style.value_chain_color(s["value_chain"]))
    frame.line.width = Pt(2)
    tf = frame.text_frame
    tf.word_wrap = True
    tf.vertical_anchor = MSO_ANCHOR.TOP
    tf.margin_left = tf.margin_right = Inches(0.2)
    tf.margin_top = Inches(0.06)
    if lesson:
        head = f"Key lesson ({lesson['kind']}, {quarters.label(lesson['quarter'])})"
        if lesson.get("milestone"):
            head += f" · {catalogue.MILESTONE_LABELS.get(lesson['milestone'], lesson['milestone'])}"
        body, cut = shorten(lesson["lesson"], 190)
        if cut:
            head += " · in full in the notes"
    else:
        head, body = "Key lesson", "No insight or recommendation recorded yet."
    tf.text = head
    _style_runs(tf.paragraphs[0], 14, True, ACCENT)
    p = tf.add_paragraph()
    p.text = body
    p.space_before = Pt(2)
    _style_runs(p, 18, False, INK)
    _finish(slide, story, n, notes(story, "pilots", pilot_id))


def _target_table(slide, left, top, width, targets: pd.DataFrame, quarter_label: str) -> None:
    """Key figures against their targets: indicator, now (latest value up to the
    quarter), target, done (share of the way from baseline to target); the target's
    quarter and the baseline are in the notes."""
    rows = len(targets) + 1
    shape = slide.shapes.add_table(rows, 4, left, top, width, Inches(0.42) * rows)
    table = shape.table
    table.first_row = True
    table.horz_banding = False
    fractions = (0.47, 0.19, 0.19, 0.15)
    for i, fr in enumerate(fractions):
        table.columns[i].width = Emu(int(width * fr))
    head = ("Against targets", "Now", "Target", "Done")
    body = [(r.label, r.value_text, r.target_text, r.progress_text.replace(" of the way", ""))
            for r in targets.itertuples()]
    for r, cells in enumerate([head, *body]):
        table.rows[r].height = Inches(0.42)
        for c, text in enumerate(cells):
            cell = table.cell(r, c)
            cell.text = text
            cell.vertical_anchor = MSO_ANCHOR.MIDDLE
            cell.margin_top = cell.margin_bottom = Inches(0.02)
            cell.margin_left = cell.margin_right = Inches(0.06)
            cell.fill.solid()
            cell.fill.fore_color.rgb = ACCENT if r == 0 else (PALE if r % 2 else RGBColor(0xFF, 0xFF, 0xFF))
            p = cell.text_frame.paragraphs[0]
            p.alignment = PP_ALIGN.LEFT if c == 0 else PP_ALIGN.RIGHT
            _style_runs(p, 13 if r == 0 else 15, r == 0 or c == 1,
                        RGBColor(0xFF, 0xFF, 0xFF) if r == 0 else INK)


def _pilot_income_chart(slide, series: pd.DataFrame, tgt: dict | None, box) -> None:
    """Native line chart: the pilot's income, its baseline and target (flat lines) and
    its country's living-income benchmark, quarters as "Q3 '17" (short: never crowded)."""
    from pptx.enum.dml import MSO_LINE_DASH_STYLE

    qs = series["quarter"].tolist()
    data = CategoryChartData(number_format=NUMBER_FORMATS["money"])
    data.categories = [f"{quarters.label(q).split()[0]} '{quarters.label(q).split()[1][2:]}" for q in qs]
    data.add_series("Average household income", _vals(series["income_avg_usd"]))
    looks: list[tuple] = [(style.OKABE_ITO["blue"], 4, None, XL_MARKER_STYLE.CIRCLE)]
    if tgt and tgt.get("baseline") is not None:
        data.add_series(f"Baseline {style.fmt_usd(tgt['baseline'])}", [float(tgt["baseline"])] * len(qs))
        looks.append((style.REFERENCE_COLOR, 2, MSO_LINE_DASH_STYLE.ROUND_DOT, XL_MARKER_STYLE.NONE))
    if tgt and tgt.get("target") is not None:
        by = f" by {quarters.label(tgt['target_quarter'])}" if tgt.get("target_quarter") else ""
        data.add_series(f"Target {style.fmt_usd(tgt['target'])}{by}", [float(tgt["target"])] * len(qs))
        looks.append((style.STATUS_COLORS["completed"], 2.5, MSO_LINE_DASH_STYLE.DASH, XL_MARKER_STYLE.NONE))
    if series["living_income_usd"].notna().any():
        data.add_series("Living-income benchmark", _vals(series["living_income_usd"]))
        looks.append((style.STATUS_COLORS["overdue"], 2.5, MSO_LINE_DASH_STYLE.LONG_DASH,
                      XL_MARKER_STYLE.NONE))
    chart = _add_chart(slide, XL_CHART_TYPE.LINE_MARKERS, data, box)
    _chart_fonts(chart, 13)
    _legend(chart)
    chart.legend.font.size = Pt(13)
    for series_, (color, width, dash, marker) in zip(chart.plots[0].series, looks):
        _line(series_, color, width, dash, marker)
    _value_axis(chart, NUMBER_FORMATS["money"], minimum=0, title="USD per household per year")
    chart.value_axis.tick_labels.font.size = Pt(12)
    chart.category_axis.tick_labels.font.size = Pt(12)
    if len(qs) > 10:  # label every other quarter: the labels never crowd or overlap
        from lxml import etree
        from pptx.oxml.ns import qn

        ax = chart.category_axis._element
        skip = etree.SubElement(ax, qn("c:tickLblSkip"))
        skip.set("val", str(-(-len(qs) // 10)))
        ax.remove(skip)
        ax.insert(_child_index(ax, ("c:tickMarkSkip", "c:noMultiLvlLbl", "c:extLst")), skip)


def _child_index(parent, later: tuple[str, ...]) -> int:
    """Where a child goes in schema order: before the first of ``later`` present."""
    from pptx.oxml.ns import qn

    for i, child in enumerate(parent):
        if child.tag in {qn(t) for t in later}:
            return i
    return len(parent)


def _lessons_slide(prs, story: Story, n: int) -> None:
    groups = lesson_groups(story)
    slide = _slide(prs, "What the pilots learned",
                   f"Each pilot's latest recommendation (or insight) up to {story.quarter_label}; "
                   "pilots that learned the same are listed together")
    if not groups:
        _no_data(slide, "No insights or recommendations recorded for this selection")
    else:
        # as many groups as fit, counted cautiously (a rendered slide must never run into
        # its footer): ~82 characters a line at 20pt, ~0.37 inch a line, the paragraphs'
        # spacing, and one line kept for "N more in the speaker notes"
        budget, used = (FOOTER_TOP - BODY_TOP - Inches(0.6)) / Inches(0.37) - 1, 0.0
        shown: list[tuple[str, str]] = []
        for g in groups:
            head = f"{', '.join(g['pilots'])} ({g['kind']}, {quarters.label(g['quarter'])})"
            body = _clip(g["lesson"], 260)
            need = -(-len(head) // 100) * 0.85 + -(-len(body) // 82) + 0.5
            if shown and used + need > budget:
                break
            used += need
            shown.append((head, body))
        lines = []
        for head, body in shown:
            lines.append((head, 16, True, ACCENT))
            lines.append((body, 20, False, INK))
        if len(shown) < len(groups):
            rest = len(groups) - len(shown)
            lines.append((f"{rest} more lesson{'s' if rest != 1 else ''} in the speaker notes "
                          f"({len(shown)} of {len(groups)} shown here)", 14, False, GREY))
        _text(slide, MARGIN, BODY_TOP + Inches(0.45), SLIDE_W - 2 * MARGIN,
              FOOTER_TOP - BODY_TOP - Inches(0.5), lines)
    _finish(slide, story, n, notes(story, "lessons"))


# --- the deck ------------------------------------------------------------------------------

def build_deck(portfolio: Portfolio, *, flt: Filter = Filter(), quarter: str | None = None,
               as_of: dt.date | None = None, demo: Demo = None,
               with_map: bool = True, progress: Progress | None = None, find=()) -> Deck:
    """The deck as a python-pptx ``Presentation``. ``demo`` None: tell demo data by its
    mark (``portfolio.is_illustrative``). ``with_map`` False leaves the map out (the slide then says
    where the map is). ``progress(done, text)`` is called as the deck is made (``done``
    from 0 to 1). The pilots' slides are ``story.pilot_slides`` with ``find`` (pilot ids):
    every pilot up to 20; beyond, the ends of the living-income ranking and those pilots."""
    say = progress or (lambda done, text: None)
    say(0.0, "Working out the figures")
    story = resolve(portfolio, flt, quarter, as_of, demo)
    prs = Presentation()
    prs.slide_width, prs.slide_height = SLIDE_W, SLIDE_H
    prs.core_properties.title = f"{APP_NAME}: {story.flt.describe()}, {story.quarter_label}"
    prs.core_properties.subject = story.data_line()
    drawers = {"title": _title_slide, "figures": _figures_slide,
               "map": lambda prs, story, n: _map_slide(prs, story, n, with_map),
               "progress": _progress_slide, "income": _income_slide, "inclusiveness": _inclusiveness_slide,
               "nbmp": _nbmp_slide, "business": _sales_slide, "lessons": _lessons_slide}
    steps = {"map": (0.1, "Drawing the map"), "progress": (0.3, "Charts of the portfolio"),
             "lessons": (0.95, "Lessons")}
    n = 0
    for part in PARTS:
        if part == "pilots":
            names = {p: pilot_summary(story, p)["name"] for p in pilot_slides(story, find)}
            for i, pid in enumerate(names):
                say(0.45 + 0.5 * i / max(len(names), 1), f"Pilot {i + 1} of {len(names)}: {names[pid]}")
                _pilot_slide(prs, story, pid, (n := n + 1))
            continue
        if part in steps:
            say(*steps[part])
        drawers[part](prs, story, (n := n + 1))
    say(1.0, "Done")
    return prs


def write_deck(portfolio: Portfolio, out: str | Path | BinaryIO, *, flt: Filter = Filter(),
               quarter: str | None = None, as_of: dt.date | None = None, demo: Demo = None,
               with_map: bool = True, progress: Progress | None = None, find=()) -> None:
    """Write the learning-event deck (.pptx) of what ``flt`` shows to a path or a binary file."""
    prs = build_deck(portfolio, flt=flt, quarter=quarter, as_of=as_of, demo=demo, with_map=with_map,
                     progress=progress, find=find)
    prs.save(str(out) if isinstance(out, Path) else out)


def deck_bytes(portfolio: Portfolio, *, flt: Filter = Filter(), quarter: str | None = None,
               as_of: dt.date | None = None, demo: Demo = None, with_map: bool = True,
               progress: Progress | None = None, find=()) -> bytes:
    """The deck as bytes (for a download button)."""
    buf = io.BytesIO()
    write_deck(portfolio, buf, flt=flt, quarter=quarter, as_of=as_of, demo=demo, with_map=with_map,
               progress=progress, find=find)
    return buf.getvalue()
