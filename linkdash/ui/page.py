"""Page start and look: the page table, the CSS and the script that fits charts to the
window, the query parameters of presentation mode, user text shown literally."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any

import streamlit as st

from linkdash import style

APP_PATH = Path(__file__).resolve().parents[2] / "app.py"

# Files of the pages, relative to app.py (st.navigation and st.page_link take these).
PAGE_FILES = {
    "overview": "pages/overview.py",
    "progress": "pages/progress.py",
    "outcomes": "pages/outcomes.py",
    "pilot": "pages/pilot.py",
    "lessons": "pages/lessons.py",
    "upload": "pages/upload.py",
    "submissions": "pages/submissions.py",
    "presentation": "pages/presentation.py",
    "audit": "pages/audit.py",
    "admin": "pages/admin.py",
}

# Keys of the sidebar widgets; each is also the query parameter that keeps it in the URL.
REGION_KEY, COUNTRY_KEY, CHAIN_KEY, QUARTER_KEY = "region", "country", "value_chain", "quarter"
AS_OF_KEY = "as_of"  # the date milestones are judged on (?as_of=2018-12-31)
_AS_OF_BASIS = "_as_of_basis"  # the quarter and default the as-of date was last set for
PILOT_PARAM = "pilot"

PLOTLY_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "toImageButtonOptions": {"format": "png", "scale": 2},
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
}

def with_data_revision(fig):
    """The figure with ``layout.datarevision`` set to a digest of its traces.

    Streamlit hands a chart to plotly twice when it mounts it (drawn, then again with a
    re-themed copy of the same figure: new arrays, equal values). Without a data revision
    plotly takes every new array for new data and computes and draws the whole chart
    again; with one that has not changed it compares the layout only, and the second
    pass costs next to nothing. A new figure (another filter) has other traces, so
    another revision, and is drawn afresh."""
    import hashlib
    import pickle

    # the traces' own values as the figure holds them, pickled: ``to_plotly_json`` would
    # copy them all first (a tenth of a second for the 1,000-pilot map), and the digest
    # needs no JSON, only the same bytes for the same values
    held = [fig._data, [frame._props for frame in fig._frame_objs]]
    digest = hashlib.blake2b(pickle.dumps(held, protocol=5), digest_size=8).hexdigest()
    fig.layout.datarevision = digest
    return fig


# A figure is "finished" for the page once it carries its data revision and, when its
# marks open a pilot's page on a click, the selection modes Streamlit would otherwise set
# in the browser (found set, they are left be: a change made there redraws the chart).
#
# Figures are cached per process and shared by every session (``ui.computed``,
# ``ui.story_chart``), and Streamlit copies a figure (``to_dict``) as it sends it. A
# shared figure changed by one session's run while another session's run copies it
# fails that copy ("dictionary changed size during iteration": one director in twenty
# opening the app at once saw the error page). So a figure is finished once, by the
# cached function that makes it, before any session sees it, and never changed after.

def _selection_layout(fig) -> dict[str, Any]:
    return dict(clickmode="event+select", hovermode=fig.layout.hovermode or "closest",
                dragmode=fig.layout.dragmode or "pan")


def finish_figure(fig, clicks: bool):
    """Finish ``fig`` in place for :func:`ui.show_chart <linkdash.ui.widgets.show_chart>`:
    its data revision and, with ``clicks``, the selection modes of a chart whose marks
    open a pilot. Only for a figure no other session holds yet (a cached function's
    result, before it is returned, or a copy). -> ``fig``, for which :func:`is_finished`
    with the same ``clicks`` holds"""
    if clicks:
        style.update_layout(fig, **_selection_layout(fig))
    elif fig.layout.clickmode == "event+select":  # a copy of one finished with clicks
        fig.layout.clickmode = fig.layout.dragmode = None
    return with_data_revision(fig)


def figure_copy(fig):
    """A copy of a figure to change (one another session may hold is never changed),
    made without checking again every value plotly checked when the figure was made: a
    copy of the 1,000-pilot map takes 0.4 s so and 3.9 s with the checks."""
    import plotly.graph_objects as go

    return go.Figure(fig.to_dict(), _validate=False)


def is_finished(fig, clicks: bool) -> bool:
    """Whether ``fig`` can be drawn as it is, with pilot clicks on or off."""
    if fig.layout.datarevision is None:
        return False
    return (fig.layout.clickmode == "event+select") == clicks


NO_DATA = "no data"
BLANK = "—"  # what a table shows in an empty cell (Streamlit's default is "None")


# --- every page starts here -----------------------------------------------------------

def page_start() -> None:
    """First call of every page. Streamlit runs a project with a ``pages/`` folder in the
    old multipage mode until ``st.navigation`` is called once in the process (and in
    every AppTest run): a first request straight to ``/upload`` would run the page
    alone, without app.py's page config, sign-in and sidebar filters. In that case
    switch the old mode off, run app.py (which runs this page through
    ``st.navigation``) and stop the outer run here."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        import runpy

        PagesManager.uses_pages_directory = False
        runpy.run_path(str(APP_PATH), run_name="__main__")
        st.stop()
    if not (present_mode() or presenter_mode()):
        page_look()


# --- plotly.js loaded while the script runs, each chart drawn once ---------------------
# Streamlit fetches and runs its plotly.js module (4.7 MB; 1.5 to 2 s of a laptop's main
# thread) only when the first chart of the page arrives, after the script has sent the
# sidebar, the cards and the tables. On a page with charts a small script starts it as
# soon as the page starts instead: the same module (same URL, so the browser runs it
# once), loaded while the server still works on the page.
#
# The same script keeps Streamlit from drawing every chart twice. Once a chart is drawn
# Streamlit hands plotly a re-themed copy of the same figure (``Plotly.react``); plotly
# compares a layout's template and ``meta`` by identity, so a copy of either redraws the
# whole chart (a map reloads: 0.5 to 0.7 s). The script gives plotly the objects it has
# when the copy's are equal (same JSON), and the traces carry a data revision
# (``with_data_revision``): an unchanged figure then costs plotly a comparison, a new one
# is drawn as before.

CHART_PAGES = ("overview", "progress", "outcomes", "pilot", "presentation")


@functools.cache
def _plotly_module() -> str | None:
    """The file name of Streamlit's plotly chart module (it changes with each release)."""
    found = sorted((Path(st.__file__).parent / "static" / "static" / "js").glob("PlotlyChart.*.js"))
    return found[0].name if len(found) == 1 else None


_EARLY_JS = """
(() => {
  const shareEqual = P => {
    if (!P || P.__lpReact || typeof P.react !== 'function') return;
    const react = P.react;
    P.react = function(gd, first, second) {
      const layout = first && !Array.isArray(first) && typeof first === 'object' ? first.layout : second;
      const old = gd && gd.layout;
      if (layout && old && layout !== old) {
        for (const k of ['template', 'meta']) {
          const a = layout[k], b = old[k];
          if (a && b && a !== b && typeof a === 'object' && JSON.stringify(a) === JSON.stringify(b)) layout[k] = b;
        }
      }
      return react.apply(this, arguments);
    };
    P.__lpReact = true;
  };
  // whoever loads plotly.js first, the charts' second hand-over finds the script in place
  // (plotly may be there before its react is: polled until wrapped, for two minutes at most)
  const wrap = () => { shareEqual(window.Plotly); return Boolean(window.Plotly && window.Plotly.__lpReact); };
  if (!wrap()) {
    const poll = setInterval(() => { if (wrap()) clearInterval(poll); }, 5);
    setTimeout(() => clearInterval(poll), 120000);
  }
  if (window.__lpPlotly || !__MODULE__) return;
  const main = [...document.querySelectorAll('script[type="module"][src]')]
    .find(s => /\\/static\\/js\\/index\\.[^/]+\\.js$/.test(s.src));
  if (!main) return;
  window.__lpPlotly = true;
  import(main.src.replace(/index\\.[^/]+\\.js$/, __MODULE__))
    .then(wrap).catch(() => {});
})();
"""


@functools.cache
def early_js() -> str:
    """The page script above, naming this Streamlit's plotly module."""
    import json

    return _EARLY_JS.replace("__MODULE__", json.dumps(_plotly_module()))


def load_charts_early(url_path: str) -> None:
    """On a page with charts (``url_path`` of the page being run, "" for the Overview),
    start loading plotly.js now (see above). A script in the page itself (ours, fixed
    text; no user input reaches it): Streamlit runs it as the element arrives, before
    any chart, where a component's script may run after the charts have drawn."""
    if (url_path or "overview") not in CHART_PAGES or present_mode() or presenter_mode():
        return  # (a talk's slides and notes keep their own page: one chart at a time)
    st.html('<style>[data-testid="stElementContainer"]:has(.lp-early) { display: none; }</style>'
            f'<span class="lp-early"></span><script>{early_js()}</script>', unsafe_allow_javascript=True)


# --- the look on any screen: cards two per row on a phone, charts fitted to their width ---
# The server draws each chart for a full-width column (``style.CHART_WIDTH_PX``). In the
# browser a small script (a components.v2 element without iframe, so it reaches the
# page's plotly charts) fits each chart to the width it really gets, as the HTML report
# does: titles and subtitles re-wrapped at words with the top margin made to fit, a
# legend beside the plot moved under it on a narrow chart (and the chart grown so the
# whole legend shows), and a chart's ``layout.meta.narrow`` hints applied on a narrow
# screen (``{"x_last": k}``: show only the last k categories of the x axis, e.g. the
# latest quarters of the reporting grid). Charts on presentation slides size themselves.

NARROW_CHART_PX = 600  # a chart narrower than this is "on a phone"

# The browser says whether the main column is narrower than a chart on a phone
# (``NARROW_CHART_PX``); it answers again only when that changes (a rotated phone).
_NARROW_JS = """
export default function(component) {
  const { data, setStateValue } = component;
  const narrow = () => {
    const main = document.querySelector("[data-testid='stMainBlockContainer']");
    return ((main && main.clientWidth) || window.innerWidth) < __PX__;
  };
  const report = () => { const n = narrow(); if (n !== Boolean(data)) setStateValue('narrow', n); };
  let timer = null;
  const onResize = () => { clearTimeout(timer); timer = setTimeout(report, 200); };
  window.addEventListener('resize', onResize);
  report();
  return () => { window.removeEventListener('resize', onResize); clearTimeout(timer); };
}
""".replace("__PX__", str(NARROW_CHART_PX))


@st.cache_resource(show_spinner=False)
def _narrow_component():
    return st.components.v2.component("linkdash_narrow_screen", html="<span></span>", js=_NARROW_JS)


def narrow_screen() -> bool:
    """Whether the page is as narrow as a phone's (False until the browser has said)."""
    known = bool(st.session_state.get("_lp_narrow", False))
    st.html("<style>.st-key-lp_narrow { display: none; }</style>")
    result = _narrow_component()(key="lp_narrow", data=known, on_narrow_change=lambda: None,
                                 width="content")
    said = result.get("narrow") if hasattr(result, "get") else None
    if isinstance(said, bool):
        st.session_state["_lp_narrow"] = known = said
    return known


STACKED_COLUMNS_PX = 640  # Streamlit stacks columns one per row in a window narrower than this

PAGE_CSS = """<style>
/* KPI cards: two per row on a phone (Streamlit stacks columns one per row below 640 px) */
@media (max-width: 640px) {
  [class*="st-key-kpis"] [data-testid="stHorizontalBlock"] { gap: 0.5rem; }
  [class*="st-key-kpis"] [data-testid="stColumn"] {
    min-width: calc(50% - 0.25rem) !important; flex: 1 1 calc(50% - 0.25rem) !important; }
  [class*="st-key-kpis"] [data-testid="stMetricValue"] { font-size: 1.6rem; }
  [class*="st-key-kpis"] [data-testid="stMetricLabel"] *,
  [class*="st-key-kpis"] [data-testid="stMetricDelta"] *,
  [class*="st-key-kpis"] [data-testid="stMetricDeltaDescription"],
  [class*="st-key-kpis"] [data-testid="stMetricDeltaDescription"] *,
  [class*="st-key-kpis"] [data-testid="stPageLink"] * {
    white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }
  [class*="st-key-kpis"] [data-testid="stMetricDelta"] { flex-wrap: wrap; height: auto; }
  [class*="st-key-kpis"] [data-testid="stMetricDelta"] + [data-testid="stMetricDeltaDescription"] {
    flex: 1 1 auto; min-width: 0; }
  [class*="st-key-kpis"] [data-testid="stMetricDelta"]:has(+ [data-testid="stMetricDeltaDescription"]) {
    flex: 0 0 auto; }
  [class*="st-key-kpis"] div:has(> [data-testid="stMetricDelta"]) { flex-wrap: wrap; row-gap: 0.1rem; }
  [class*="st-key-kpis"] [data-testid="stVerticalBlockBorderWrapper"],
  [class*="st-key-kpi-"] { padding: 0.5rem 0.6rem; }
}
.st-key-lp_fit_charts { display: none; }
</style>"""

_FIT_JS = r"""
export default function(component) {
  const NARROW = __NARROW__, EM = __EM__, SERVER_EM = __SERVER_EM__, LINE = __LINE__, TOP = __TOP__, GAP = __GAP__;
  if (window.__lpFit) { window.__lpFit.all(); return; }
  const wrap = (text, per) => {
    const out = [];
    text.split('<br>').forEach(para => {
      const words = para.match(/Q[1-4] \d{4}|\d{1,2} [A-Z][a-z]{2} \d{4}|\S+/g) || [];
      let line = '';
      words.forEach(w => {
        if (line && line.length + 1 + w.length > per) { out.push(line); line = w; }
        else { line = line ? line + ' ' + w : w; }
      });
      out.push(line);
    });
    return out.join('<br>');
  };
  const skip = gd => !gd.closest('[data-testid="stMain"]') || gd.closest('[class*="st-key-lp-"]');
  const read = gd => {
    const L = gd.layout, t = L.title || {}, sub = t.subtitle || {};
    const meta = (L.meta && typeof L.meta === 'object') ? L.meta : {};
    const xa = L.xaxis || {};
    return {
      title: (t.text || '').replace(/<br>/g, ' ').replace(/<\/?b>/g, '').trim(),
      // the lines as the server wrapped them (for the width it expected)
      titleLines: (t.text || '').replace(/<\/?b>/g, '').split('<br>').map(x => x.trim()),
      subLines: (sub.text || '').split('<br>'),
      bold: /^<b>/.test(t.text || ''),
      sub: (sub.text || '').replace(/<br>/g, ' '),
      size: (t.font && t.font.size) || 22, subSize: (sub.font && sub.font.size) || 14,
      // the pad above a one-line title: a multi-line title's pad holds the first line's ascent
      pad: ((t.pad && t.pad.t) || TOP) - (/<br>/.test(t.text || '') ? Math.round(0.75 * ((t.font && t.font.size) || 22)) : 0),
      height: L.height || gd._fullLayout.height,
      legend: JSON.parse(JSON.stringify(L.legend || {})), marginB: gd._fullLayout.margin.b,
      marginT: (L.margin && L.margin.t) || gd._fullLayout.margin.t,
      vertical: !(L.legend && L.legend.orientation === 'h') && L.showlegend !== false,
      narrow: meta.narrow || null, xrange: xa.range ? xa.range.slice() : null,
      xcats: (xa.categoryarray || xa.tickvals || []).length,
      xticktext: xa.ticktext ? xa.ticktext.slice() : null,
      yfont: (L.yaxis && L.yaxis.tickfont && L.yaxis.tickfont.size) || null,
      // a quarter axis with every quarter labelled ("2017-Q3"): years only on a phone
      quarters: xa.type === 'category' && !xa.tickvals && (xa.categoryarray || []).length > 6
                && xa.categoryarray.every(q => /^\d{4}-Q[1-4]$/.test(q)) ? xa.categoryarray.slice() : null,
      ytitle: (L.yaxis && L.yaxis.title && L.yaxis.title.text) || '',
      xtitle: (xa.title && xa.title.text) || '',
      marginLR: [(L.margin && L.margin.l), (L.margin && L.margin.r)],
      // small multiples: where each panel and its title sit (restored on a wide screen)
      panels: meta.narrow && meta.narrow.grid ? Array.from({length: meta.narrow.grid.n}, (_, i) => {
        const ax = i ? i + 1 : '', a = (L.annotations || [])[i] || {};
        const xa = L['xaxis' + ax] || {}, ya = L['yaxis' + ax] || {};
        return {x: xa.domain, y: ya.domain, ax: a.x, ay: a.y,
                xt: xa.showticklabels !== false, yt: ya.showticklabels !== false};
      }) : null,
      texts: meta.narrow && meta.narrow.short_text ? gd.data.map(t => t.text === undefined ? null : t.text) : null,
      // a map's site dots as the server sized them (restored on a wide screen)
      siteSizes: meta.narrow && meta.narrow.sites ? gd.data.map(t => (t.marker && t.marker.size) || null) : null,
    };
  };
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  // the value at a relayout key ('title.pad.t', 'annotations[2].x') of a layout
  const at = (obj, key) => key.split('.').reduce((o, part) => {
    if (o === undefined || o === null) return undefined;
    const m = part.match(/^(.*)\[(\d+)\]$/);
    return m ? (o[m[1]] || [])[+m[2]] : o[part];
  }, obj);
  // a value as plotly reads it: a title bold once or twice (Streamlit's theme puts <b>
  // around the server's bold title), ticks 'auto' and tick labels shown when unset
  const plain = (k, v) => {
    if (v === undefined || v === null) {
      return /\.(tickmode|tickangle)$/.test(k) ? 'auto' : /\.showticklabels$/.test(k) ? true : null;
    }
    return k === 'title.text' && typeof v === 'string' ? v.replace(/<\/?b>/g, '') : v;
  };
  const unchanged = (gd, u) => Object.keys(u).every(k => k === 'meta.lp' || k === 'height'
    ? true : same(plain(k, at(gd.layout, k)), plain(k, u[k])))
    && (u['height'] === undefined || u['height'] === (gd.layout.height || gd._fullLayout.height));
  // what a figure shows, whatever this script changed in its layout
  const identity = gd => JSON.stringify([((gd.layout.title || {}).text || '').replace(/<br>/g, ' ').replace(/<\/?b>/g, ''),
    (((gd.layout.title || {}).subtitle || {}).text || '').replace(/<br>/g, ' '), gd.data.length,
    gd.data.map(d => ['x', 'y', 'z', 'lat', 'lon', 'r', 'locations', 'text'].map(k => {
      const v = d[k];
      return Array.isArray(v) ? [v.length, v[0], v[v.length - 1], v[v.length >> 1]] : v;
    }))]);
  const fit = gd => {
    if (!gd.layout || !gd._fullLayout || skip(gd) || !window.Plotly) return;
    const w = gd.clientWidth;
    if (!w) return;
    if (gd._lpLayout !== gd.layout) {
      // Streamlit may hand the chart a copy of the layout this script already fitted
      // (it keeps what plotly reports after a relayout): the fitted layout carries the
      // server's originals and the width it was fitted for in ``meta.lp``.
      const meta = gd.layout.meta, saved = meta && typeof meta === 'object' && meta.lp;
      gd._lpLayout = gd.layout;
      if (saved) {
        gd._lpKeep = JSON.parse(saved.keep);
        gd._lpW = saved.w;
      } else if (gd._lpKeep && gd._lpId === identity(gd) && gd._lpTries >= 2 && gd._lpRun === runs) {
        // a figure fitted twice already in this script run that Streamlit hands back
        // without ``meta.lp``: leave it be rather than fit it again and again (a new run,
        // such as the rerun a phone's width causes, may send it again: fit it again then)
        gd._lpW = gd.clientWidth;
        return;
      } else {  // a new figure from the server
        gd._lpKeep = read(gd);
        gd._lpSitesHidden = false;  // the server's traces are all shown
        // (below zero for a chart whose plot sits closer to its title, as the Pilot page's map)
        gd._lpKeep.topExtra = Math.max(-GAP, gd._lpKeep.marginT - serverTitleHeight(gd) - GAP);
        gd._lpW = null;
      }
    }
    const keep = gd._lpKeep;
    if (gd._lpW === w) return;
    const u = {};
    if (keep.title) {
      // the server's lines where each fits the width the chart got, by the server's own
      // measure (style.chars_per_line): a chart about as wide as the server expected, or
      // wider, keeps them (no relayout, no redraw); else wrapped again, with room to spare
      const fitted = (text, lines, size) => {
        const room = (w * 0.99 - 24) / size;
        return lines && lines.every(x => x.length <= Math.max(8, Math.floor(room / SERVER_EM)))
          ? lines.join('<br>') : wrap(text, Math.max(8, Math.floor(room / EM)));
      };
      const title = fitted(keep.title, keep.titleLines, keep.size);
      const subNarrow = w < NARROW && keep.narrow && keep.narrow.sub_narrow;  // a phone's own subtitle
      const sub = subNarrow ? fitted(subNarrow, null, keep.subSize)
        : keep.sub ? fitted(keep.sub, keep.subLines, keep.subSize) : '';
      const lines = title.split('<br>').length, subLines = sub ? sub.split('<br>').length : 0;
      // as style.title_height: a multi-line title's first baseline sits at its pad
      const padT = lines > 1 ? keep.pad + Math.round(0.75 * keep.size) : keep.pad;
      const first = lines === 1 ? padT + 0.7 * keep.size : padT;
      const h = first + (lines - 1) * keep.size * LINE + 0.3 * keep.size
                + (sub ? 0.3 * keep.size + keep.subSize * (1 + (subLines - 1) * LINE) : 0);
      u['title.text'] = keep.bold ? `<b>${title}</b>` : title;
      if (keep.sub || subNarrow) u['title.subtitle.text'] = sub;
      u['title.pad.t'] = padT;
      u['margin.t'] = Math.round(h + GAP + keep.topExtra);
    }
    // the plot keeps its height when the title takes more (or fewer) lines
    let extra = u['margin.t'] !== undefined ? u['margin.t'] - keep.marginT : 0, extraBottom = 0;
    const shown = gd._fullData.filter(d => d.showlegend !== false && d.name);
    if (keep.vertical && shown.length) {
      if (w < NARROW) {
        const names = shown.map(d => String(d.name).replace(/<[^>]+>/g, ''));
        const longest = Math.max(4, ...names.map(n => n.length));
        let font = 14;
        while (font > 10 && 48 + 0.55 * font * longest > w - 24) font -= 1;
        const perRow = Math.max(1, Math.floor((w - 20) / (48 + 0.55 * font * longest)));
        const below = Math.ceil(names.length / perRow) * Math.round(font * 1.7) + 40;
        extra += below;
        extraBottom = below;
        Object.assign(u, {'legend.font.size': font, 'legend.orientation': 'h', 'legend.x': 0,
                          'legend.xanchor': 'left', 'legend.y': 0, 'legend.yanchor': 'bottom',
                          'legend.yref': 'container', 'margin.b': keep.marginB + below});
      } else {
        u['legend'] = keep.legend; u['margin.b'] = keep.marginB;
      }
    }
    if (extra) u['height'] = keep.height + extra;
    const hint = keep.narrow || {}, narrow = w < NARROW;
    if (keep.quarters) {
      const firsts = keep.quarters.filter(q => q.endsWith('Q1'));
      Object.assign(u, narrow && firsts.length ?
        {'xaxis.tickmode': 'array', 'xaxis.tickvals': firsts, 'xaxis.ticktext': firsts.map(q => q.slice(0, 4)),
         'xaxis.tickangle': 0, 'xaxis.title.text': ''} :
        {'xaxis.tickmode': 'auto', 'xaxis.tickvals': null, 'xaxis.ticktext': null, 'xaxis.tickangle': 'auto',
         'xaxis.title.text': keep.xtitle});
    }
    if (hint.margin) {
      u['margin.l'] = narrow ? hint.margin[0] : keep.marginLR[0];
      u['margin.r'] = narrow ? hint.margin[1] : keep.marginLR[1];
    }
    if (hint.polar_ticks) {  // a radar's principle names, wrapped on a phone
      Object.assign(u, narrow ?
        {'polar.angularaxis.tickmode': 'array', 'polar.angularaxis.tickvals': hint.polar_ticks[0],
         'polar.angularaxis.ticktext': hint.polar_ticks[1], 'polar.angularaxis.tickfont.size': 11} :
        {'polar.angularaxis.tickmode': null, 'polar.angularaxis.tickvals': null,
         'polar.angularaxis.ticktext': null, 'polar.angularaxis.tickfont.size': hint.polar_ticks[2]});
    }
    if (keep.ytitle) u['yaxis.title.text'] = narrow ? '' : keep.ytitle;
    if (hint.grid && keep.panels) {  // small multiples: fewer panels side by side on a phone
      const g = hint.grid, top = u['margin.t'] !== undefined ? u['margin.t'] : keep.marginT;
      if (narrow) {
        const cols = Math.min(g.narrow_cols, g.n), rows = Math.ceil(g.n / cols);
        const plot = rows * g.panel_px + (rows - 1) * g.gap_px;
        const wcol = (1 - g.hs * (cols - 1)) / cols;
        for (let i = 0; i < g.n; i++) {
          const ax = i ? i + 1 : '', r = Math.floor(i / cols), c = i % cols;
          const x0 = c * (wcol + g.hs), y1 = 1 - r * (g.panel_px + g.gap_px) / plot;
          u['xaxis' + ax + '.domain'] = [x0, x0 + wcol];
          u['yaxis' + ax + '.domain'] = [Math.max(0, y1 - g.panel_px / plot), y1];
          u['annotations[' + i + '].x'] = x0 + wcol / 2;
          u['annotations[' + i + '].y'] = y1;
          u['yaxis' + ax + '.showticklabels'] = c === 0;  // the scale on the left of each row
          u['xaxis' + ax + '.showticklabels'] = i + cols >= g.n;  // years under each column's last
        }
        u['height'] = Math.round(top + keep.marginB + extraBottom + plot);
      } else {
        keep.panels.forEach((p, i) => {
          const ax = i ? i + 1 : '';
          u['xaxis' + ax + '.domain'] = p.x; u['yaxis' + ax + '.domain'] = p.y;
          u['annotations[' + i + '].x'] = p.ax; u['annotations[' + i + '].y'] = p.ay;
          u['xaxis' + ax + '.showticklabels'] = p.xt; u['yaxis' + ax + '.showticklabels'] = p.yt;
        });
      }
    }
    if (hint.short_text && keep.texts) {  // bar labels cut short on a phone
      const idx = [], texts = [];
      hint.short_text.forEach((t, i) => { if (t) { idx.push(i); texts.push(narrow ? t : keep.texts[i]); } });
      if (idx.length) window.Plotly.restyle(gd, {text: texts}, idx).catch(() => {});
    }
    if (hint.sites && keep.siteSizes) {  // a map's site dots: sized for a phone, hidden there if too many
      const st = hint.sites, idx = st.dots.concat(st.halos);
      const sizes = idx.map(i => narrow ? (st.dots.includes(i) ? st.size : st.halo) : keep.siteSizes[i]);
      const upd = {};
      if (idx.some((i, k) => (gd.data[i].marker || {}).size !== sizes[k])) upd['marker.size'] = sizes;
      if (st.hide && Boolean(gd._lpSitesHidden) !== narrow) {  // a tap on the legend shows them
        upd.visible = idx.map(() => narrow ? 'legendonly' : true);
        gd._lpSitesHidden = narrow;
      }
      if (Object.keys(upd).length) window.Plotly.restyle(gd, upd, idx).catch(() => {});
    }
    if (hint.x_last && keep.xcats) {
      const n = keep.xcats, k = hint.x_last;
      u['xaxis.range'] = (narrow && n > k) ? [n - k - 0.5, n - 0.5] : keep.xrange;
      u['xaxis.autorange'] = false;
    }
    if (hint.x_ticktext && keep.xticktext) u['xaxis.ticktext'] = narrow ? hint.x_ticktext : keep.xticktext;
    if (hint.y_font) u['yaxis.tickfont.size'] = narrow ? hint.y_font : keep.yfont;
    gd._lpW = w;
    if (unchanged(gd, u)) return;  // the server's layout already fits: no relayout, no redraw
    const id = identity(gd);
    gd._lpTries = gd._lpId === id && gd._lpRun === runs ? (gd._lpTries || 0) + 1 : 1;
    gd._lpId = id;
    gd._lpRun = runs;
    u['meta.lp'] = {keep: JSON.stringify(keep), w: w};
    // Streamlit sizes the plot to its element box (drawn at the server's height): the box
    // is what grows, and Streamlit then redraws the plot at the box's height
    const setHeight = px => {
      gd.style.height = px + 'px';
      for (const id of ['stPlotlyChart', 'stFullScreenFrame']) {
        const box = gd.closest(`[data-testid="${id}"]`);
        if (box) box.style.height = px + 'px';
      }
      const slot = gd.closest('[data-testid="stElementContainer"]');  // a flex item of fixed basis
      if (slot) { slot.style.flexBasis = px + 'px'; slot.style.height = px + 'px'; }
    };
    if (u['height'] !== undefined) setHeight(u['height']);
    // a legend still wider than the chart gets smaller type; one taller than the chart
    // makes the chart grow, so the whole legend shows
    const whole = tries => {
      const lg = gd.querySelector('.legend');
      if (!lg || tries > 6) return;
      const box = gd.getBoundingClientRect(), r = lg.getBoundingClientRect();
      const font = (gd._fullLayout.legend && gd._fullLayout.legend.font && gd._fullLayout.legend.font.size) || 14;
      if ((r.right > box.right + 1 || r.left < box.left - 1) && font > 10) {
        window.Plotly.relayout(gd, {'legend.font.size': font - 1}).then(() => whole(tries + 1)).catch(() => {});
        return;
      }
      const over = Math.ceil(r.bottom - box.bottom);
      if (over > 0) {
        const nh = gd._fullLayout.height + over + 12;
        setHeight(nh);
        window.Plotly.relayout(gd, {height: nh}).catch(() => {});
      }
    };
    window.Plotly.relayout(gd, u).then(() => whole(0)).catch(() => {});
  };
  // the title height the server gave its margin for (style.title_height)
  const serverTitleHeight = gd => {
    const t = gd.layout.title || {};
    const lines = ((t.text || '').match(/<br>/g) || []).length + 1;
    const size = (t.font && t.font.size) || 22, pad = (t.pad && t.pad.t) || TOP;
    const sub = t.subtitle && t.subtitle.text;
    const subSize = (t.subtitle && t.subtitle.font && t.subtitle.font.size) || 14;
    let h = pad + (lines === 1 ? 0.7 * size : 0) + (lines - 1) * size * LINE + 0.3 * size;
    if (sub) h += 0.3 * size + subSize * (1 + ((sub.match(/<br>/g) || []).length) * LINE);
    return Math.round(h);
  };
  const bind = gd => {
    if (gd.__lpBound || !gd.on) return;
    gd.__lpBound = true;
    gd.on('plotly_afterplot', () => { if (!gd.__lpQueued) { gd.__lpQueued = true;
      requestAnimationFrame(() => { gd.__lpQueued = false; fit(gd); }); } });
  };
  // script runs seen (each rerun may hand the charts their server layout again)
  let runs = 0;
  const stApp = document.querySelector("[data-testid='stApp']");
  if (stApp) new MutationObserver(() => {
    if (stApp.getAttribute('data-test-script-state') === 'running') runs += 1;
  }).observe(stApp, {attributes: true, attributeFilter: ['data-test-script-state']});
  const all = () => document.querySelectorAll('.js-plotly-plot').forEach(gd => { bind(gd); fit(gd); });
  let timer = null;
  const later = () => { clearTimeout(timer); timer = setTimeout(all, 60); };
  new MutationObserver(later).observe(document.body, {childList: true, subtree: true});
  window.addEventListener('resize', () => {
    document.querySelectorAll('.js-plotly-plot').forEach(gd => { gd._lpW = null; });
    later();
  });
  window.__lpFit = {all: all, fit: fit};
  all();
}
"""
for _name, _value in {"NARROW": NARROW_CHART_PX, "EM": 0.56, "SERVER_EM": style.CHAR_WIDTH_EM,
                      "LINE": 1.3, "TOP": 16, "GAP": 24}.items():
    _FIT_JS = _FIT_JS.replace(f"__{_name}__", str(_value))


@st.cache_resource(show_spinner=False)
def _fit_component():
    return st.components.v2.component("linkdash_fit_charts", html="<span></span>", js=_FIT_JS)


def page_look() -> None:
    """The CSS and the chart-fitting script of every page (see above)."""
    st.html(PAGE_CSS)
    _fit_component()(key="lp_fit_charts", data=None, width="content")


# --- who is using the app ------------------------------------------------------------
# With ``[auth]`` in .streamlit/secrets.toml people sign in with st.login (OpenID Connect)
# and act with the role the store keeps for their verified e-mail (linkdash.access);
# without it the app is in "local mode": one local administrator, on 127.0.0.1 only.

def today() -> dt.date:
    return dt.date.today()


def literal(text: Any) -> str:
    """Text (from the URL, a file, a user) to show in markdown as it is: no emphasis,
    links or code (``reporting.md_literal``)."""
    from linkdash.reporting import md_literal

    return md_literal(text)


_md = literal


PRESENT_PARAM, PRESENTER_PARAM, TALK_PARAM = "present", "presenter", "talk"

def present_mode() -> bool:
    return st.query_params.get(PRESENT_PARAM) == "1"


def presenter_mode() -> bool:
    return st.query_params.get(PRESENTER_PARAM) == "1"
