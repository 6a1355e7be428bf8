"""The offline HTML report: one self-contained file for a laptop on a weak connection.

``report_html(portfolio, flt=..., quarter=..., as_of=...)`` returns one HTML document:
plotly.js inlined once in the head, every chart interactive (``linkdash.charts`` and
``linkdash.maps``: the map is plain SVG shapes, the same figure as the Overview's, so it
draws without tiles, fonts or a web worker), no request to any server (no CDN, no web
fonts, no MathJax). Plain inline CSS readable on a projector and on paper.

Sections: title and date of the data, the portfolio figures with their definitions, the
map, progress (gantt and overdue milestones), income, inclusiveness, business, the New
Business Model Principles, a summary per pilot, lessons. The numbers come from
``linkdash.figures`` through the story helpers of ``linkdash.deck``, so the report, the
deck and the pages agree.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import TextIO

import pandas as pd
import plotly.graph_objects as go

from linkdash import catalogue, charts, figures, maps, quarters, style, values
from linkdash import story as story_parts
from linkdash.names import pilot_names
from linkdash.portfolio import Filter, Portfolio

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True,
                 "modeBarButtonsToRemove": ["lasso2d", "select2d"],
                 "toImageButtonOptions": {"format": "png", "scale": 2}}

CSS = """
:root { --ink: #1f1f1f; --grey: #5f5f5f; --accent: #1b6e3a; --pale: #eef3ef; --line: #d9d9d9; }
* { box-sizing: border-box; }
html { font-size: 18px; }
body { font-family: Arial, Helvetica, sans-serif; color: var(--ink); background: #fff;
       margin: 0 auto; max-width: 1280px; padding: 0 28px 60px; line-height: 1.45; }
header { border-top: 14px solid var(--accent); padding: 26px 0 10px; }
h1 { font-size: 2.3rem; margin: 0 0 6px; }
h2 { font-size: 1.65rem; margin: 48px 0 6px; padding-top: 8px; border-top: 2px solid var(--line); }
h3 { font-size: 1.25rem; margin: 0 0 8px; }
p.meta { color: var(--grey); margin: 4px 0; font-size: 1.05rem; }
p.lead { color: var(--grey); margin: 0 0 14px; }
.demo { display: inline-block; background: #fff4d6; border: 2px solid #e69f00; padding: 6px 14px;
        font-weight: bold; margin: 10px 0; }
nav ol { columns: 2; margin: 12px 0; padding-left: 1.4em; }
nav a { color: #0b57a4; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; }
th, td { text-align: left; vertical-align: top; padding: 7px 10px; border-bottom: 1px solid var(--line); }
th { background: var(--pale); }
td.num { text-align: right; font-weight: bold; white-space: nowrap; font-size: 1.1rem; }
td.def { color: var(--grey); font-size: 0.9rem; }
.plot { margin: 10px 0 18px; break-inside: avoid; page-break-inside: avoid; }
.pilots { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(560px, 100%), 1fr)); gap: 18px; }
.pilot { border: 1px solid var(--line); border-left: 8px solid var(--accent); padding: 14px 18px;
         break-inside: avoid; page-break-inside: avoid; }
.pilot dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0 0 10px; }
.pilot dt { color: var(--grey); }
.pilot dd { margin: 0; }
.pilot table td, .pilot table th { padding: 4px 8px; font-size: 0.95rem; }
blockquote { margin: 8px 0 0; padding: 10px 14px; background: var(--pale);
  border-left: 4px solid var(--accent); }
blockquote .kind { display: block; color: var(--accent); font-weight: bold; font-size: 0.9rem; }
.lesson-group { margin: 0 0 16px; break-inside: avoid; }
.nodata { color: var(--grey); font-style: italic; }
footer { margin-top: 48px; color: var(--grey); font-size: 0.9rem; border-top: 2px solid var(--line);
  padding-top: 10px; }
@media print {
  html { font-size: 12pt; }
  body { max-width: none; padding: 0; }
  nav { display: none; }
  h2 { break-before: page; page-break-before: always; border-top: none; }
  .modebar-container { display: none !important; }
}
"""

# Every chart keeps its title and legend whole at any window width: titles are wrapped to
# the chart's width (the rule of ``style.wrap_text``: about 0.5 em a character) with the
# top margin made to fit, and a chart narrower than NARROW_PX puts its legend under the
# plot (plotly wraps a horizontal legend), growing to keep the plot's height. Characters
# are counted a little wider than the pages' rule, so a title is never cut.
NARROW_PX = 760
FIT_JS = """
(function () {
  var NARROW = %(narrow)d, EM = %(em)s, LINE = %(line)s, TOP = %(top)d, GAP = %(gap)d;
  function wrap(text, per) {
    var out = [];
    text.split('<br>').forEach(function (para) {
      var words = para.match(/Q[1-4] \\d{4}|\\d{1,2} [A-Z][a-z]{2} \\d{4}|\\S+/g) || [];
      var line = '';
      words.forEach(function (w) {
        if (line && line.length + 1 + w.length > per) { out.push(line); line = w; }
        else { line = line ? line + ' ' + w : w; }
      });
      out.push(line);
    });
    return out.join('<br>');
  }
  function fit(gd) {
    if (!gd.layout || !gd._fullLayout) return;
    var L = gd.layout, w = gd.clientWidth;
    if (!w) return;
    var keep = gd._lpKeep;
    if (!keep) {
      var t = L.title || {}, sub = (t.subtitle || {});
      keep = gd._lpKeep = {
        title: (t.text || '').replace(/<br>/g, ' '), sub: (sub.text || '').replace(/<br>/g, ' '),
        size: (t.font && t.font.size) || 20, subSize: (sub.font && sub.font.size) || 14,
        pad: (t.pad && t.pad.t) || TOP, height: gd._fullLayout.height,
        legend: JSON.parse(JSON.stringify(L.legend || {})), marginB: gd._fullLayout.margin.b,
        marginT: gd._fullLayout.margin.t, vertical: !(L.legend && L.legend.orientation === 'h')
      };
    }
    var u = {};
    if (keep.title) {
      var title = wrap(keep.title, Math.max(8, Math.floor((w * 0.99 - 24) / (keep.size * EM))));
      var sub = keep.sub
        ? wrap(keep.sub, Math.max(8, Math.floor((w * 0.99 - 24) / (keep.subSize * EM)))) : '';
      var lines = title.split('<br>').length, subLines = sub ? sub.split('<br>').length : 0;
      var first = keep.pad + (lines === 1 ? 0.7 * keep.size : 0.75 * keep.size);
      var h = first + (lines - 1) * keep.size * LINE + 0.3 * keep.size
              + (sub ? 0.3 * keep.size + keep.subSize * (1 + (subLines - 1) * LINE) : 0);
      u['title.text'] = title;
      if (keep.sub) u['title.subtitle.text'] = sub;
      u['title.pad.t'] = lines > 1 ? keep.pad + Math.round(0.75 * keep.size) : keep.pad;
      u['margin.t'] = Math.max(keep.marginT, Math.round(h + GAP));
    }
    var extra = 0;
    if (keep.vertical && gd._fullData.some(function (d) { return d.showlegend !== false; })) {
      if (w < NARROW) {
        var names = gd._fullData.filter(function (d) { return d.showlegend !== false && d.name; })
                                 .map(function (d) { return String(d.name).replace(/<[^>]+>/g, ''); });
        var longest = Math.max.apply(null, names.map(function (n) { return n.length; }).concat([4]));
        var font = 14;
        while (font > 9 && 48 + 0.55 * font * longest > w - 24) font -= 1;  // the longest entry fits
        var itemW = 48 + 0.55 * font * longest;
        u['legend.font.size'] = font;
        var perRow = Math.max(1, Math.floor((w - 20) / itemW));
        extra = Math.ceil(names.length / perRow) * 24 + 50;
        u['legend.orientation'] = 'h'; u['legend.x'] = 0; u['legend.xanchor'] = 'left';
        u['legend.y'] = 0; u['legend.yanchor'] = 'bottom'; u['legend.yref'] = 'container';
        u['margin.b'] = keep.marginB + extra;
      } else {
        u['legend'] = keep.legend; u['margin.b'] = keep.marginB;
        if (!(keep.legend.font && keep.legend.font.size)) u['legend.font.size'] = null;
      }
      u['height'] = keep.height + extra;
      gd.style.height = (keep.height + extra) + 'px';
    }
    Plotly.relayout(gd, u).then(function () {
      gd._lpFitted = w;
      // a long legend beside the plot (13 pilots and the benchmarks) may still be taller
      // than the chart: grow the chart until it holds the whole legend
      var lg = gd.querySelector('.legend');
      if (!lg) return;
      var over = Math.ceil(lg.getBoundingClientRect().bottom - gd.getBoundingClientRect().bottom);
      if (over > 0) {
        var nh = gd._fullLayout.height + over + 12;
        gd.style.height = nh + 'px';
        Plotly.relayout(gd, {height: nh});
      }
    });
  }
  function all() { document.querySelectorAll('.js-plotly-plot').forEach(fit); }
  var timer = null;
  window.addEventListener('resize', function () { clearTimeout(timer); timer = setTimeout(all, 150); });
  if (document.readyState === 'complete') all(); else window.addEventListener('load', all);
})();
""" % {  # noqa: UP031 (the JavaScript is full of braces)
       "narrow": NARROW_PX, "em": style.CHAR_WIDTH_EM + 0.06, "line": style.LINE_HEIGHT_EM,
       "top": style.TITLE_TOP_PX, "gap": style.TITLE_GAP_PX}

_SECTION_LABELS = {"figures": "Portfolio figures", "map": "Map",
                   "progress": "Progress through the learning cycle",
                   "income": "Income and the living-income benchmark", "inclusiveness": "Inclusiveness",
                   "business": "Business", "nbmp": "New Business Model Principles", "pilots": "The pilots",
                   "lessons": "Lessons"}
# the report's sections: every part of the story but its title slide, in the story's order
SECTIONS = tuple((part, _SECTION_LABELS[part]) for part in story_parts.PARTS if part in _SECTION_LABELS)


def _e(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


class _Plots:
    """Turns figures into <div>s; plotly.js itself is written once in the head."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, fig: go.Figure, name: str) -> str:
        self.n += 1
        body = fig.to_html(full_html=False, include_plotlyjs=False, include_mathjax=False,
                           config=PLOTLY_CONFIG, div_id=f"plot-{name}", default_width="100%",
                           default_height=f"{int(fig.layout.height or 480)}px")
        return f'<div class="plot" data-chart="{_e(name)}">{body}</div>'


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    # "</script" cannot appear inside an inline script
    return get_plotlyjs().replace("</script", "<\\/script")


def _figures_table(figs: dict) -> str:
    rows = []
    for name, f in figures.FIGURES.items():
        rows.append(f"<tr><th scope=\"row\">{_e(f.label)}</th>"
                    f"<td class=\"num\">{_e(figures.format_figure(name, figs.get(name)))}</td>"
                    f"<td>{_e(f.unit)}</td><td class=\"def\">{_e(f.definition)}</td></tr>")
    return ("<table><thead><tr><th>Figure</th><th>Value</th><th>Unit</th><th>Definition</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _frame_table(df: pd.DataFrame, empty: str) -> str:
    if df.empty:
        return f'<p class="nodata">{_e(empty)}</p>'
    head = "".join(f"<th>{_e(c)}</th>" for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        cells = "".join(f"<td>{_e('' if values.is_missing(v) else v)}</td>" for v in row)
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _pilot_card(story: story_parts.Story, pid: str, plot=None) -> str:
    s = story_parts.pilot_summary(story, pid)
    color = style.value_chain_color(s["value_chain"])
    facts = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in s["facts"].items())
    ms = s["milestones"]
    facts += (f"<dt>Milestones</dt><dd>{ms['completed']} of {ms['total']} completed, "
              f"{ms['overdue']} overdue (as of {_e(story.as_of_label)})</dd>")
    if s["figures"]:
        rows = "".join(f"<tr><td>{_e(figures.FIGURES[k].label)}</td>"
                       f"<td class=\"num\">{_e(figures.format_figure(k, s['figures'].get(k)))}</td></tr>"
                       for k in story_parts.PILOT_FIGURES)
        figs = (f"<h4>Key figures, {_e(quarters.label(s['quarter']))}</h4>"
                f"<table><tbody>{rows}</tbody></table>")
    else:
        figs = '<p class="nodata">No indicators reported yet.</p>'
    targets = story_parts.pilot_targets(story, pid)
    if len(targets):
        rows = "".join(f"<tr><td>{_e(r.label)}</td><td class=\"num\">{_e(r.value_text)}</td>"
                       f"<td>{_e(r.baseline_text)}</td><td>{_e(r.target_text)}</td>"
                       f"<td>{_e(r.progress_text)}</td></tr>" for r in targets.itertuples())
        figs += (f"<h4>Against targets, {_e(story.quarter_label)}</h4><table><thead><tr><th>Indicator</th>"
                 f"<th>Now</th><th>Baseline</th><th>Target</th><th>Done</th></tr></thead>"
                 f"<tbody>{rows}</tbody></table>")
    series, tgt = story_parts.pilot_income_series(story, pid)
    if plot is not None and not (series.empty or series["income_avg_usd"].isna().all()):
        figs += plot(charts.pilot_goal_chart(series, tgt, s["name"], width_px=520, height_px=420),
                     f"pilot_income_{pid}")
    les = s["lesson"]
    if les:
        ms = les.get("milestone")
        ms_label = f", {catalogue.MILESTONE_LABELS.get(ms, ms)}" if ms else ""
        head = f"Key lesson ({les['kind']}, {quarters.label(les['quarter'])}{ms_label})"
        lesson = f"<blockquote><span class=\"kind\">{_e(head)}</span>{_e(les['lesson'])}</blockquote>"
    else:
        lesson = '<p class="nodata">No insight or recommendation recorded yet.</p>'
    return (f'<article class="pilot" id="pilot-{_e(pid)}" style="border-left-color: {_e(color)}">'
            f"<h3>{_e(s['name'])} ({_e(pid)})</h3><dl>{facts}</dl>{figs}{lesson}</article>")


def _lessons(story: story_parts.Story) -> str:
    groups = story_parts.lesson_groups(story)
    parts = ["<h3>Each pilot's key lesson</h3>"]
    if not groups:
        parts.append('<p class="nodata">No insights or recommendations recorded for this selection.</p>')
    for g in groups:
        parts.append(f'<div class="lesson-group"><strong>{_e(", ".join(g["pilots"]))}</strong> '
                     f'<span class="meta">({_e(g["kind"])}, {_e(quarters.label(g["quarter"]))})</span>'
                     f"<blockquote>{_e(g['lesson'])}</blockquote></div>")
    les = story.view.lessons.copy()
    names = pilot_names(story.view.pilots)
    parts.append(f"<h3>All lessons up to {_e(story.quarter_label)} ({len(les)})</h3>")
    if not les.empty:
        les = les.sort_values(["quarter", "pilot_id"], ascending=[False, True])
        table = pd.DataFrame({
            "Quarter": les["quarter"], "Pilot": les["pilot_id"].map(lambda p: names.get(p, p)),
            "Kind": les["kind"],
            "Milestone": les["milestone"].map(
                lambda m: catalogue.MILESTONE_LABELS.get(m, m) if isinstance(m, str) else ""),
            "Lesson": les["lesson"], "Author": les["author"]})
        parts.append(_frame_table(table, ""))
    else:
        parts.append('<p class="nodata">No lessons recorded for this selection.</p>')
    return "".join(parts)


def _section(sid: str, title: str, lead: str, body: str) -> str:
    lead_html = f'<p class="lead">{_e(lead)}</p>' if lead else ""
    return f'<section id="{sid}"><h2>{_e(title)}</h2>{lead_html}{body}</section>'


def report_html(portfolio: Portfolio, *, flt: Filter = Filter(), quarter: str | None = None,
                as_of: dt.date | None = None, demo: story_parts.Demo = None, find=()) -> str:
    """The report as one self-contained HTML document (str). A card for each pilot of
    ``story.pilot_slides`` with ``find`` (pilot ids): every pilot up to 20; beyond, the
    ends of the living-income ranking and those pilots, then a table of every pilot."""
    story = story_parts.resolve(portfolio, flt, quarter, as_of, demo)
    view, q = story.view, story.quarter
    figs = story.figures
    plot = _Plots()
    title = f"{story_parts.APP_NAME}: {story.flt.describe()}, {story.quarter_label}"

    out = {}
    # figures
    out["figures"] = _section("figures", "Portfolio figures",
                              f"{figs['pilots_reporting']} of {figs['pilots_total']} pilots reported for "
                              f"{story.quarter_label}; milestones as of {story.as_of_label}. A figure with "
                              "nothing to compute it from shows as \"no data\".", _figures_table(figs))
    # map
    where = maps.country_map(view, story_parts.MAP_FIGURE, q).update_layout(dragmode="pan")
    out["map"] = _section("map", "Where the pilots work",
                          "Countries coloured by households reached in the quarter; grey: no data; dots: "
                          "pilot sites by value chain. Hover for values; drag to pan.",
                          plot(where, "map"))
    # progress
    overdue = charts.overdue_table(view, story.as_of)
    if not overdue.empty:
        overdue = overdue.assign(**{"Planned end": overdue["Planned end"].map(quarters.date_text)})
    out["progress"] = _section(
        "progress", "Progress through the learning cycle", story_parts.PROGRESS_DEFINITION,
        plot(charts.progress_gantt(view, story.as_of), "progress")
        + f"<h3>Overdue milestones as of {_e(story.as_of_label)} ({len(overdue)})</h3>"
        + _frame_table(overdue, "No milestone is overdue."))
    # income
    share = figures.format_figure("share_above_living_income", figs["share_above_living_income"])
    out["income"] = _section("income", "Income and the living-income benchmark",
                             f"{figures.FIGURES['income_avg_usd'].definition} {share} "
                             f"of surveyed households were above their country's living-income benchmark in "
                             f"{story.quarter_label}.",
                             plot(charts.income_trend(view), "income")
                             + plot(charts.living_income_share_chart(view, q), "living_income"))
    # inclusiveness
    out["inclusiveness"] = _section(
        "inclusiveness", "Inclusiveness: women and youth",
        "Each pilot's share, and the portfolio's as a dashed line. "
        + figures.FIGURES["women_share_participants"].definition,
        plot(charts.inclusiveness_bars(view, q, "participants", "women"), "women_participants")
        + plot(charts.inclusiveness_bars(view, q, "participants", "youth"), "youth_participants")
        + plot(charts.inclusiveness_bars(view, q, "leaders", "women"), "women_leaders"))
    # business
    sales = figures.format_figure("sales_usd", figs["sales_usd"])
    out["business"] = _section("business", "Business: sales through the producer organisations",
                               f"{figures.FIGURES['sales_usd'].definition} {sales} in {story.quarter_label}.",
                               plot(charts.business_chart(view, "sales_usd"), "sales"))
    # NBMP
    out["nbmp"] = _section("nbmp", "New Business Model Principles", story_parts.NBMP_DEFINITION,
                           plot(charts.nbmp_radar(view), "nbmp"))
    # pilots
    cards = ("".join(_pilot_card(story, pid, plot) for pid in story_parts.pilot_slides(story, find))
             or '<p class="nodata">No pilots in this selection.</p>')
    lead = ("Facts, key figures of each pilot's latest quarter with data, and its key "
            "lesson (latest insight or recommendation).")
    every = ""
    if story_parts.pilots_chosen(story):  # a card for some; every pilot in a table to search
        lead += " " + story_parts.pilot_choice(story, find, "card")
        listed = story_parts.pilot_list(story)
        every = (f'<h3 id="all-pilots">All {len(listed):,} pilots, {_e(story.quarter_label)}</h3>'
                 "<p>Find a pilot with your browser's search (Ctrl+F). Rank: in household income "
                 "against the living-income benchmark, lowest first.</p>"
                 + _frame_table(listed, "No pilots in this selection."))
    out["pilots"] = _section("pilots", "The pilots", lead, f'<div class="pilots">{cards}</div>{every}')
    # lessons
    out["lessons"] = _section("lessons", "Lessons",
                              "Moment 3 of the learning cycle: what the pilots learned.", _lessons(story))

    nav = "".join(f'<li><a href="#{sid}">{_e(label)}</a></li>' for sid, label in SECTIONS)
    demo_html = f'<p class="demo">{_e(story.notice)}</p>' if story.notice else ""
    ending = (f" (quarter ending {quarters.date_text(quarters.end_date(q))})" if q else "")
    header = (f"<header><h1>{_e(story_parts.APP_NAME)}</h1>"
              f"<p class=\"meta\"><strong>Pilots:</strong> {_e(story.flt.describe())} "
              f"({len(view.pilots)} pilots)</p>"
              f"<p class=\"meta\"><strong>Date of the data:</strong> indicators for {_e(story.quarter_label)}"
              f"{_e(ending)}; milestones as of {_e(story.as_of_label)}</p>"
              f"{demo_html}<nav><ol>{nav}</ol></nav></header>")
    footer = (f"<footer>{_e(story_parts.APP_NAME)} · {_e(story.data_line())} · made on "
              f"{_e(quarters.date_text(dt.date.today()))}. Charts are interactive: hover for values, "
              "drag to zoom, double-click to reset.</footer>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_e(title)}</title><style>{CSS}</style>"
            "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>"
            f"<script id=\"plotly-js\">{_plotly_js()}</script></head>"
            f"<body>{header}<main>{''.join(out[sid] for sid, _ in SECTIONS)}</main>{footer}"
            f"<script id=\"fit-charts\">{FIT_JS}</script></body></html>")


def write_report(portfolio: Portfolio, out: str | Path | TextIO, *, flt: Filter = Filter(),
                 quarter: str | None = None, as_of: dt.date | None = None,
                 demo: story_parts.Demo = None) -> None:
    """Write the report to a path (UTF-8) or a text file."""
    text = report_html(portfolio, flt=flt, quarter=quarter, as_of=as_of, demo=demo)
    if isinstance(out, (str, Path)):
        Path(out).write_text(text, encoding="utf-8")
    else:
        out.write(text)


def report_bytes(portfolio: Portfolio, **kwargs) -> bytes:
    """The report as UTF-8 bytes (for a download button)."""
    return report_html(portfolio, **kwargs).encode("utf-8")
