"""The Streamlit layer: cached loaders, the shared sidebar filters and small widgets.

This is the only module in ``linkdash`` that imports streamlit. Pages stay thin: they
gather input with the helpers here, call the functional core (figures, charts, maps,
submit, exports) and render what comes back.

Caching: the store is a ``st.cache_resource`` (one per database URL); the portfolio is a
``st.cache_resource`` keyed on ``store.data_version()``, which is read on every script run,
so a commit made in another process (the command line, another browser, another app
server on the same PostgreSQL database) shows at the next run. Every session shares that
one portfolio (never a copy per session), and the parts a filter selects are kept on it
(``Portfolio.filtered``), so all charts of one filter share one part. After a commit or a
rollback in this process :func:`data_changed` drops the old entries; another process
drops its old version when it reads the new one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from linkdash import catalogue
from linkdash.portfolio import Filter, Portfolio, is_illustrative

APP_PATH = Path(__file__).resolve().parent.parent / "app.py"

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
  const NARROW = __NARROW__, EM = __EM__, LINE = __LINE__, TOP = __TOP__, GAP = __GAP__;
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
      bold: /^<b>/.test(t.text || ''),
      sub: (sub.text || '').replace(/<br>/g, ' '),
      size: (t.font && t.font.size) || 22, subSize: (sub.font && sub.font.size) || 14,
      pad: (t.pad && t.pad.t) || TOP, height: L.height || gd._fullLayout.height,
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
    };
  };
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
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
      } else {  // a new figure from the server
        gd._lpKeep = read(gd);
        gd._lpKeep.topExtra = Math.max(0, gd._lpKeep.marginT - serverTitleHeight(gd) - GAP);
        gd._lpW = null;
      }
    }
    const keep = gd._lpKeep;
    if (gd._lpW === w) return;
    const u = {};
    if (keep.title) {
      const title = wrap(keep.title, Math.max(8, Math.floor((w * 0.99 - 24) / (keep.size * EM))));
      const sub = keep.sub ? wrap(keep.sub, Math.max(8, Math.floor((w * 0.99 - 24) / (keep.subSize * EM)))) : '';
      const lines = title.split('<br>').length, subLines = sub ? sub.split('<br>').length : 0;
      const first = keep.pad + (lines === 1 ? 0.7 * keep.size : 0.75 * keep.size);
      const h = first + (lines - 1) * keep.size * LINE + 0.3 * keep.size
                + (sub ? 0.3 * keep.size + keep.subSize * (1 + (subLines - 1) * LINE) : 0);
      u['title.text'] = keep.bold ? `<b>${title}</b>` : title;
      if (keep.sub) u['title.subtitle.text'] = sub;
      u['title.pad.t'] = lines > 1 ? keep.pad + Math.round(0.75 * keep.size) : keep.pad;
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
    if (hint.x_last && keep.xcats) {
      const n = keep.xcats, k = hint.x_last;
      u['xaxis.range'] = (narrow && n > k) ? [n - k - 0.5, n - 0.5] : keep.xrange;
      u['xaxis.autorange'] = false;
    }
    if (hint.x_ticktext && keep.xticktext) u['xaxis.ticktext'] = narrow ? hint.x_ticktext : keep.xticktext;
    if (hint.y_font) u['yaxis.tickfont.size'] = narrow ? hint.y_font : keep.yfont;
    gd._lpW = w;
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
for _name, _value in {"NARROW": NARROW_CHART_PX, "EM": 0.56, "LINE": 1.3, "TOP": 16, "GAP": 24}.items():
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

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def auth_configured() -> bool:
    """True when ``.streamlit/secrets.toml`` has an ``[auth]`` section (OIDC sign-in)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def local_mode() -> bool:
    return not auth_configured()


def _user_info() -> dict[str, Any]:
    try:
        return dict(st.user.to_dict())
    except Exception:  # noqa: BLE001 - outside a session
        return {}


def signed_in_email() -> str | None:
    """The verified e-mail of the signed-in person (lower case); None when nobody is
    signed in or the provider does not say the e-mail is verified."""
    info = _user_info()
    if not info.get("is_logged_in"):
        return None
    email = str(info.get("email") or "").strip().lower()
    if not email or info.get("email_verified") is not True:
        return None
    return email


def current_actor():
    """Who uses the app: the local administrator in local mode; else the signed-in
    person with the role stored for their verified e-mail (``role`` None without one;
    ``access.Actor``)."""
    from linkdash import access

    if local_mode():
        return access.local_admin()
    email = signed_in_email()
    if email is None:
        return access.Actor(str(_user_info().get("email") or "not signed in"), None)
    return access.actor_for(get_store(), email)


def current_user() -> str:
    """The e-mail (or the local administrator's name) of who uses the app."""
    return current_actor().email


def _listening_address() -> str:
    try:
        return str(st.get_option("server.address") or "")
    except Exception:  # noqa: BLE001
        return ""


def _sign_out_button(key: str = "sign_out_gate") -> None:
    if st.button("Sign out", key=key):
        st.logout()


def sign_in_gate():
    """Before anything else of the app: returns the acting user, or shows why there is
    none and stops the script (no data is read before this returns):

    - local mode served on an address other than 127.0.0.1: refuses (a local
      administrator must not be reachable from the network);
    - sign-in configured and nobody signed in: a sign-in button;
    - signed in without a verified e-mail, or with no role: an "ask an administrator"
      page with a sign-out button."""
    from linkdash import access

    if local_mode():
        address = _listening_address()
        if address and address not in LOOPBACK:
            st.title("LINK Pilot Monitor")
            st.error("This installation has no sign-in configured (local mode), so it only "
                     "serves this computer: start it on 127.0.0.1, or configure sign-in "
                     "(see the README, \"Who may change what\").")
            st.stop()
        return access.local_admin()
    info = _user_info()
    if not info.get("is_logged_in"):
        st.title("LINK Pilot Monitor")
        st.write("Sign in to see the LINK pilots.")
        if st.button("Sign in", type="primary", key="sign_in"):
            st.login()
        st.stop()
    actor = current_actor()
    if actor.role is None:
        st.title("LINK Pilot Monitor")
        email = _md(info.get("email") or "this account")
        if signed_in_email() is None:
            st.warning(f"You are signed in as {email}, but the sign-in provider does not say "
                       "that this e-mail address is verified. Verify it with your provider, "
                       "or ask an administrator.")
        else:
            st.info(f"You are signed in as **{email}**, but you have no role in LINK Pilot "
                    "Monitor yet. **Ask an administrator** to add you (as a viewer, country "
                    "team, regional director or administrator).")
        _sign_out_button()
        st.stop()
    return actor


def user_box(actor=None) -> None:
    """Who uses the app in the sidebar: "local mode" in local mode; the e-mail, role and
    a sign-out button when signed in."""
    actor = actor or current_actor()
    with st.sidebar:
        if local_mode():
            st.warning(f"**Local mode**: no sign-in; you are the local administrator "
                       f"(*{_md(actor.email)}*) on this computer only.",
                       icon=":material/computer:")
            return
        scope = f" · {_md(', '.join(actor.scope))}" if actor.scope else ""
        st.caption(f"Signed in as **{_md(actor.email)}** ({actor.role}{scope})")
        if st.button("Sign out", key="sign_out"):
            st.logout()


def require(allowed: bool, what: str) -> None:
    """Stop a page that the acting user may not see (the navigation hides it already;
    this guards a direct link)."""
    if not allowed:
        st.title("Not available")
        st.info(f"{what} Ask an administrator if you need it.")
        st.stop()


# --- the store and the data ---------------------------------------------------------

def database_url() -> str | None:
    return os.environ.get("LINKDASH_DATABASE_URL") or None


@st.cache_resource(show_spinner=False)
def _open_store(url: str | None):
    from linkdash.store import Store

    return Store.open(url)


def get_store():
    """The store of ``LINKDASH_DATABASE_URL`` (default: the project's SQLite file),
    opened (and migrated) once per process."""
    return _open_store(database_url())


def data_version() -> int:
    return int(get_store().data_version())


@contextlib.contextmanager
def database_guard():
    """Around a page run: when the database stops answering (PostgreSQL restarted,
    the network to it cut), say so in words instead of a traceback, and offer to try
    again; the next run reconnects by itself once it is back (``pool_pre_ping``)."""
    import sqlalchemy.exc

    try:
        yield
    except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError,
            sqlalchemy.exc.DisconnectionError) as exc:
        _database_down(exc)


def _database_down(exc: Exception) -> None:
    import logging

    logging.getLogger("linkdash").warning("database not answering: %s", exc)
    _open_store.clear()  # a store that failed to open is opened again next time
    st.error("**The database is not answering**, so no data can be shown or stored right "
             "now. Nothing that was stored is lost. This page works again as soon as the "
             "database is back: try again in a minute.", icon=":material/cloud_off:")
    if st.button("Try again", key="database_retry", type="primary"):
        st.rerun()
    st.stop()


@st.cache_resource(show_spinner=False, max_entries=2)
def _load_portfolio(url: str | None, version: int) -> Portfolio:
    # two entries: the current version, and the one before for runs still using it
    # while a newer one is read (a run holds its own reference either way)
    return _open_store(url).load()


def load_portfolio(version: int | None = None) -> Portfolio:
    """The current portfolio, read once per data version and shared (not copied) by every
    call, page and session: a page run asks for it several times (app.py's sidebar, the
    page, the charts' pilot names), and a copy of a large store costs a tenth of a second
    each. Like ``computed``'s results it must not be changed in place (pandas copies on
    write, so derived frames are safe); its memoised ``indicator_codes`` then serve every
    upload checked against this version."""
    if version is None:
        version = data_version()
    return _load_portfolio(database_url(), version)


@st.cache_data(show_spinner=False, max_entries=8)
def _load_submissions(url: str | None, version: int) -> pd.DataFrame:
    return _open_store(url).submissions()


def load_submissions(version: int | None = None) -> pd.DataFrame:
    """The submission history (newest first as the store gives it), cached per version."""
    if version is None:
        version = data_version()
    return _load_submissions(database_url(), version)


def data_changed() -> None:
    """Call after a commit or rollback: drop cached data so every page shows the new
    values on its next run (the version key would miss anyway; this frees memory)."""
    _load_portfolio.clear()
    _load_submissions.clear()
    _touched.clear()
    _computed.clear()


# --- the shared sidebar filters -----------------------------------------------------

def _pilot_values(portfolio: Portfolio, column: str) -> list[str]:
    vals = portfolio.pilots[column].dropna().astype(str).unique().tolist()
    return sorted(vals)


def _country_names(portfolio: Portfolio) -> dict[str, str]:
    p = portfolio.pilots
    names = {}
    for code, name in zip(p["country"], p["country_name"]):
        if isinstance(code, str):
            names[code] = name if isinstance(name, str) and name else code
    return names


def sidebar_filters(portfolio: Portfolio) -> None:
    """Region, country, value chain and quarter in the sidebar, each bound to a query
    parameter so a view can be sent as a link. Call before ``pg.run()``."""
    regions = [r for r in catalogue.REGIONS if r in set(_pilot_values(portfolio, "region"))]
    countries = _country_names(portfolio)
    chains = [v for v in catalogue.VALUE_CHAINS if v in set(_pilot_values(portfolio, "value_chain"))]
    quarters = portfolio.quarters()
    remember_link()
    notes = []
    with st.sidebar:
        st.subheader("Filters")
        notes += _unknown_in_link(REGION_KEY, regions, "region")
        st.multiselect("Region", regions, key=REGION_KEY, bind="query-params",
                       placeholder="All regions")
        chosen = _state_tuple(REGION_KEY)
        every_country = dict(countries)
        if chosen:  # the countries of the chosen regions (and any already chosen)
            p = portfolio.pilots
            inside = set(p.loc[p["region"].isin(chosen), "country"]) | set(_state_tuple(COUNTRY_KEY))
            countries = {c: n for c, n in countries.items() if c in inside}
        outside = {n for n in every_country.values()} - set(countries.values())
        notes += _unknown_in_link(COUNTRY_KEY, countries.values(), "country",
                                  why={n: f"not in {', '.join(chosen)}" for n in outside})
        notes += _unknown_in_link(CHAIN_KEY, [catalogue.VALUE_CHAIN_LABELS.get(v, v) for v in chains],
                                  "value chain")
        notes += _unknown_in_link(QUARTER_KEY, quarters, "quarter",
                                  fallback="the latest quarter with data is shown instead")
        notes += _bad_date_in_link(AS_OF_KEY, "milestones as of")
        st.session_state[_LINK_NOTES] = notes
        st.multiselect("Country", sorted(countries, key=lambda c: countries[c]),
                       format_func=lambda c: countries.get(c, c), key=COUNTRY_KEY,
                       bind="query-params", placeholder="All countries")
        st.multiselect("Value chain", chains,
                       format_func=lambda v: catalogue.VALUE_CHAIN_LABELS.get(v, v),
                       key=CHAIN_KEY, bind="query-params", placeholder="All value chains")
        # No selection means "the latest quarter with data", so the view follows a new
        # upload; a chosen quarter is pinned in the URL.
        latest = filtered_portfolio(portfolio).latest_quarter()
        st.selectbox("Quarter", list(reversed(quarters)), index=None, key=QUARTER_KEY,
                     bind="query-params",
                     placeholder=f"Latest: {latest}" if latest else "no quarter with data",
                     help="Quarters with at least one indicator value. Left empty, the "
                          "latest quarter with data is shown.")
        as_of_input(portfolio)


# --- links: what a pasted URL asked for that this data does not have -------------------
# A bound widget drops a URL value that is not one of its options without a word. The
# values the URL held when this run started are kept (``remember_link``, first thing of
# every run, in ``sidebar_filters``), so the page can say which ones it could not show.

_LINK_RAW, _LINK_NOTES = "_link_raw", "_link_notes"


def remember_link() -> None:
    """Keep this run's query parameters as the URL gave them (before widgets clean them)."""
    st.session_state[_LINK_RAW] = {k: list(st.query_params.get_all(k)) for k in st.query_params.keys()}


def link_values(param: str) -> list[str]:
    """The values ``?param=`` had when this run started."""
    return list((st.session_state.get(_LINK_RAW) or {}).get(param) or [])


def _unknown_in_link(param: str, shown, what: str, *, fallback: str | None = None,
                     why: dict[str, str] | None = None) -> list[str]:
    """Messages for the values of ``?param=`` that are not among ``shown`` (the options
    as the URL writes them: their labels)."""
    known = {str(v) for v in shown}
    bad = [v for v in link_values(param) if v not in known]
    if not bad:
        return []
    reasons = why or {}
    items = ", ".join(f"**{_md(v)}**" + (f" ({_md(reasons[v])})" if v in reasons else "") for v in bad)
    one = len(bad) == 1
    rest = fallback or (f"{'it is' if one else 'they are'} left out of the filter")
    return [f"This link asks for {what} {items}, which {'is' if one else 'are'} not in the data: {rest}."]


def _bad_date_in_link(param: str, what: str) -> list[str]:
    out = []
    for v in link_values(param):
        try:
            dt.date.fromisoformat(v)
        except ValueError:
            out.append(f"This link asks for *{what}* **{_md(v)}**, which is not a date "
                       "(2018-12-31): the end of the chosen quarter is used instead.")
    return out


def check_link(param: str, shown, what: str, fallback: str) -> bool:
    """Say so when ``?param=`` (a page's own choice: a tab, a measure, an indicator)
    holds a value that is not among ``shown`` (the options as the URL writes them);
    ``fallback`` says what is shown instead. Call before the widget. True when the link
    asked for something unknown."""
    notes = _unknown_in_link(param, shown, what, fallback=fallback)
    for n in notes:
        st.warning(n, icon=":material/link_off:")
    return bool(notes)


def link_notes() -> None:
    """The sidebar filters' link problems of this run (``sidebar_filters`` found them)."""
    for n in st.session_state.get(_LINK_NOTES) or []:
        st.warning(n, icon=":material/link_off:")


def nothing_matches(portfolio: Portfolio | None = None) -> bool:
    """True when the store has pilots but the sidebar's filter matches none of them."""
    if portfolio is None:
        portfolio = load_portfolio()
    return not portfolio.pilots.empty and filtered_portfolio(portfolio).pilots.empty


def no_match_message() -> str:
    return (f"No pilot matches these filters ({_md(current_filter().describe())}). "
            "Remove a filter in the sidebar to see pilots again.")


def as_of_default(portfolio: Portfolio | None = None) -> dt.date:
    """The as-of date of the chosen quarter: its last day, or today for the current
    quarter (``quarters.as_of``)."""
    from linkdash import quarters

    return quarters.as_of(current_quarter(portfolio), today())


def as_of_input(portfolio: Portfolio) -> dt.date:
    """The "Milestones as of" date, in the URL (``?as_of=2018-12-31``) when it is not the
    chosen quarter's own date. Choosing another quarter (or a filter whose latest
    quarter differs) moves it to that quarter's date; a date picked by hand, or given in
    a link, stays until then."""
    default = as_of_default(portfolio)
    basis = (st.session_state.get(QUARTER_KEY), default)
    last = st.session_state.get(_AS_OF_BASIS)
    if last is not None and last != basis and AS_OF_KEY in st.session_state:
        st.session_state[AS_OF_KEY] = default
    st.session_state[_AS_OF_BASIS] = basis
    chosen = st.date_input(
        "Milestones as of", value=default, key=AS_OF_KEY, bind="query-params",
        min_value=dt.date(2000, 1, 1), max_value=max(today(), default), format="YYYY-MM-DD",
        help="Milestones count as completed or overdue on this date. It follows the quarter: "
             "the quarter's last day, or today for the current quarter.")
    return chosen if isinstance(chosen, dt.date) else default


def current_as_of(portfolio: Portfolio | None = None) -> dt.date:
    """The as-of date the sidebar shows (see :func:`as_of_input`)."""
    v = st.session_state.get(AS_OF_KEY)
    return v if isinstance(v, dt.date) else as_of_default(portfolio)


def fmt_date(d: dt.date | None) -> str:
    """``31 Dec 2018``."""
    return f"{d.day} {d:%b %Y}" if d else NO_DATA


def _state_tuple(key: str) -> tuple[str, ...]:
    v = st.session_state.get(key) or ()
    return tuple(v) if isinstance(v, (list, tuple)) else (v,)


def current_filter() -> Filter:
    """The Filter the sidebar selects (empty selections mean all)."""
    return Filter(regions=_state_tuple(REGION_KEY), countries=_state_tuple(COUNTRY_KEY),
                  value_chains=_state_tuple(CHAIN_KEY))


def current_quarter(portfolio: Portfolio | None = None) -> str | None:
    """The quarter the sidebar selects; when none is, the latest quarter with data in
    the filter (as ``python -m linkdash summary`` without ``--quarter``)."""
    q = st.session_state.get(QUARTER_KEY)
    if q:
        return str(q)
    return filtered_portfolio(portfolio).latest_quarter()


def filtered_portfolio(portfolio: Portfolio | None = None) -> Portfolio:
    """The current portfolio restricted to the sidebar's filter."""
    if portfolio is None:
        portfolio = load_portfolio()
    flt = current_filter()
    return portfolio if flt == Filter() else portfolio.filtered(flt)


def filter_caption(portfolio: Portfolio | None = None, *, with_quarter: bool = True,
                   with_as_of: bool = False) -> None:
    flt = current_filter()
    text = f"Showing **{_md(flt.describe())}**"
    if with_quarter:
        q = current_quarter(portfolio)
        text += f" · quarter **{q or NO_DATA}**"
    if with_as_of:
        text += f" · milestones as of **{fmt_date(current_as_of(portfolio))}**"
    if is_demo_data():
        text += " · :blue[illustrative demo data]"
    st.caption(text)
    link_notes()
    if portfolio is not None and nothing_matches(portfolio):
        st.warning(no_match_message(), icon=":material/filter_alt_off:")


# --- the demo badge -----------------------------------------------------------------

def illustrative_state(submissions: pd.DataFrame | None = None):
    """``illustrative.state``: whether what is shown is illustrative (the portfolio's mark,
    ``portfolio.is_illustrative``, the deck's and the report's answer too), mixed with
    real uploads, and which demo submissions are live."""
    from linkdash import illustrative

    return illustrative.state(load_submissions() if submissions is None else submissions,
                              load_portfolio())


def is_demo_data() -> bool:
    """True when the current data is the illustrative demo data: ``portfolio.is_illustrative``,
    the answer the deck and the report give too."""
    return is_illustrative(load_portfolio())


def demo_badge(where: str = "sidebar") -> bool:
    """Say "illustrative demo data" when some of the current data is: in the sidebar,
    and, when it is mixed with real uploads, as a banner above every page."""
    ill = illustrative_state()
    if not ill.any:
        return False
    if ill.mixed:
        text = ("**Illustrative demo data**: mixed with real uploads. Some of the figures "
                "shown are made up.")
    else:
        text = ("**Illustrative demo data**: not real pilot results. Upload a quarterly "
                "workbook to replace it.")
    if where == "sidebar":
        st.sidebar.info(text, icon=":material/science:")
        if ill.mixed:
            mixed_banner(ill)
    else:
        st.caption(text)
    return True


def mixed_banner(ill) -> None:
    """Above the page: real and illustrative data are shown together; where to remove
    the illustrative part."""
    ids = ", ".join(f"#{i}" for i in ill.demo_ids)
    with st.container(key="illustrative_banner"):
        st.warning(f"**Real and illustrative data are mixed.** Values from the illustrative "
                   f"demo data (submission {ids}) are shown beside real uploads, in every "
                   "figure, slide and export. Remove them on the Submissions page (it is kept "
                   "in the history).", icon=":material/science:")
        st.page_link(PAGE_FILES["submissions"], label="Remove the illustrative data",
                     icon=":material/history:")


# --- rendering helpers --------------------------------------------------------------

def format_value(name: str, value: Any) -> str:
    from linkdash import figures

    if value is None or (isinstance(value, float) and pd.isna(value)):
        return NO_DATA
    return figures.format_figure(name, value)


def figure_label(name: str) -> str:
    from linkdash import figures

    f = figures.FIGURES.get(name)
    return f.label if f is not None else name.replace("_", " ").capitalize()


def figure_help(name: str) -> str | None:
    from linkdash import figures

    f = figures.FIGURES.get(name)
    return f.definition if f is not None else None


# The Overview's cards, in groups (a row of at most ``per_row`` cards each), so that
# labels fit in the card when projected.
KPI_GROUPS: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("Reach", ("pilots_total", "pilots_reporting", "households_reached",
               "participants_total"), 4),
    ("Income and business", ("income_avg_usd", "share_above_living_income", "sales_usd"), 3),
    ("Women and youth", ("women_share_participants", "women_share_members",
                         "women_share_leaders", "youth_share_participants",
                         "youth_share_members"), 3),
    ("Learning cycle", ("milestones_completed", "milestones_overdue"), 3),
)


# The Pilot page's cards: one pilot's figures for the quarter.
PILOT_CARDS = ("households_reached", "participants_total", "income_avg_usd", "share_above_living_income",
               "women_share_participants", "sales_usd", "milestones_completed", "milestones_overdue")


def kpi_cards(figures_dict: dict[str, Any], names: list[str] | None = None,
              per_row: int = 4, *, changes: dict[str, Any] | None = None,
              links: dict[str, Any] | None = None, key: str | None = None) -> None:
    """One ``st.metric`` card per figure, formatted with ``figures.format_figure``;
    a figure that is None shows "no data". Without ``names``: every figure, in the
    groups of ``KPI_GROUPS`` (then any other figure).

    With ``changes`` (``figures.figure_changes``) each card says how the figure moved
    since the quarter before (coloured by the direction that is good: fewer overdue
    milestones is green), how far it is from its target where the Targets sheet sets
    one, and when the change partly comes from who reported. ``links`` maps a count of
    problems (``figures.PROBLEM_COUNTS``) to where its list is: ``"#anchor"`` on this
    page, or a page name of ``PAGE_FILES``; the card then leads there. ``key`` names the
    card rows (their CSS puts two cards per row on a phone)."""
    ctx = dict(figures=figures_dict, changes=changes or {}, links=links or {})
    if names is not None:
        _card_rows([n for n in names if n in figures_dict], per_row, ctx, key and f"{key}_cards")
        return
    shown: set[str] = set()
    for i, (title, group, width) in enumerate(KPI_GROUPS):
        group = [n for n in group if n in figures_dict]
        if group:
            as_of = figures_dict.get("as_of")
            if title == "Learning cycle" and isinstance(as_of, dt.date):
                title += f"** · milestones as of **{fmt_date(as_of)}"
            st.markdown(f"**{title}**")
            _card_rows(group, width, ctx, key and f"{key}_{i}")
            shown.update(group)
    rest = [n for n in figures_dict if n not in shown and n not in ("quarter", "as_of")]
    if rest:
        _card_rows(rest, per_row, ctx, key and f"{key}_rest")


def _card_rows(names: list[str], per_row: int, ctx: dict, key: str | None) -> None:
    box = st.container(key=key) if key else contextlib.nullcontext()
    with box:
        for start in range(0, len(names), per_row):
            cols = st.columns(per_row)
            for col, name in zip(cols, names[start:start + per_row]):
                with col, st.container(border=True):
                    _card(name, ctx)


def _card(name: str, ctx: dict) -> None:
    from linkdash import figures, quarters

    value = ctx["figures"].get(name)
    change = ctx["changes"].get(name)
    if change is None:
        st.metric(figure_label(name), format_value(name, value), help=figure_help(name))
        return
    since = (fmt_date(change.previous_as_of) if change.previous_as_of
             else quarters.label(change.previous_quarter) if change.previous_quarter else None)
    delta, description = None, None
    if change.delta is not None and since:
        shown = figures.format_change(name, change.delta)
        zero = shown is None or shown.startswith("±")
        if not (zero and not change.good):  # "13 pilots, no change" says nothing
            delta = 0 if zero else shown
            description = f"{'no change ' if zero else ''}since {since}"
    color = {1: "normal", -1: "inverse"}.get(change.good, "off")
    st.metric(figure_label(name), format_value(name, value), delta=delta, delta_color=color,
              help=figure_help(name), delta_description=description)
    notes = []
    target = figures.describe_target(change)
    if target:
        notes.append(target)
    if (change.pilots is not None and change.previous_pilots is not None and change.delta is not None
            and change.pilots != change.previous_pilots and len(ctx["figures"]) > 0):
        notes.append(f"{change.pilots} pilot{'s' if change.pilots != 1 else ''} gave it, "
                     f"{change.previous_pilots} in {since}")
    if notes:
        st.caption(" · ".join(_md(n) for n in notes))
    _problem_link(name, value, ctx)


def _problem_link(name: str, value: Any, ctx: dict) -> None:
    """The way from a count of problems to the list behind it."""
    from linkdash import figures

    where = ctx["links"].get(name)
    if where is None or name not in figures.PROBLEM_COUNTS or value is None:
        return
    if name == "pilots_reporting":
        total = ctx["figures"].get("pilots_total") or 0
        n = int(total) - int(value)
        if n <= 0:
            return
        label = f"The {n} pilot{'s' if n != 1 else ''} that did not report"
    else:
        n = int(value)
        if n <= 0:
            return
        label = f"The {n} overdue milestone{'s' if n != 1 else ''}"
    if str(where).startswith("#"):
        st.caption(f"[{label} ↓]({where})")
    else:
        st.page_link(PAGE_FILES[where], label=label, icon=":material/arrow_forward:")


def show_chart(fig, key: str | None = None, *, pilot_clicks: bool | None = None) -> None:
    """Draw a plotly figure. When its marks stand for pilots (they carry pilot ids in
    ``customdata``, see ``charts.PILOT_CUSTOMDATA_INDEX``), clicking one opens that
    pilot's page: the chart is drawn with ``on_select="rerun"`` and point selection only
    (a plain click selects a point; dragging still zooms, or pans a map), and a selection
    that holds a pilot switches to the Pilot page with ``?pilot=ID``. ``pilot_clicks``
    None: on for figures that carry pilot ids (and have a key); False: never (the Pilot
    page's own charts, which name the pilot already shown)."""
    from linkdash import charts

    ids = charts.pilot_ids_in(fig) if pilot_clicks is not False and key else set()
    if pilot_clicks is None:
        pilot_clicks = bool(ids)
    if not (pilot_clicks and ids):
        st.plotly_chart(fig, key=key, config=PLOTLY_CONFIG, width="stretch")
        return
    event = st.plotly_chart(fig, key=key, config=PLOTLY_CONFIG, width="stretch",
                            on_select="rerun", selection_mode="points")
    p = load_portfolio().pilots
    names = {pid: name for pid, name in zip(p["pilot_id"], p["pilot_name"]) if pid in ids}
    open_clicked_pilot(event, {pid: names.get(pid) for pid in ids})


def clicked_pilot(event: Any, pilot_ids) -> str | None:
    """The pilot a chart's selection event (``st.plotly_chart``'s return value) names."""
    from linkdash import charts

    try:
        points = event["selection"]["points"]
    except (KeyError, TypeError):
        points = getattr(getattr(event, "selection", None), "points", None)
    return charts.pilot_from_selection(list(points or []), pilot_ids)


def pilot_query_params(pilot_id: str) -> dict[str, Any]:
    """The query parameters of the Pilot page of ``pilot_id``. The sidebar's filters
    are bound to their own parameters and put them back themselves."""
    return {PILOT_PARAM: pilot_id}


def open_clicked_pilot(event: Any, pilot_ids) -> None:
    """Switch to the Pilot page of the pilot a chart's selection names, if any. The
    selection belongs to the chart on the page left behind: the Pilot page does not
    draw that chart, so Streamlit drops its state and coming back does not switch
    again; the Pilot page draws its own charts with ``pilot_clicks=False``."""
    pid = clicked_pilot(event, pilot_ids)
    if pid is None:
        return
    st.switch_page(PAGE_FILES["pilot"], query_params=pilot_query_params(pid))


# Bounded: at 1,000 pilots a chart can hold megabytes, and each filter adds one result
# per chart of the page (the least recently used go first).
@st.cache_resource(show_spinner=False, max_entries=64)
def _computed(url: str | None, version: int, flt: Filter, module: str, name: str,
              args: tuple, kwargs: tuple = ()) -> Any:
    import importlib

    portfolio = _load_portfolio(url, version)
    if flt != Filter():
        portfolio = portfolio.filtered(flt)
    return getattr(importlib.import_module(module), name)(portfolio, *args, **dict(kwargs))


def computed(func, *args, flt: Filter | None = None, **kwargs) -> Any:
    """``func(portfolio, *args, **kwargs)`` on the current portfolio restricted to
    ``flt`` (default: the sidebar's filter), cached per data version, filter and
    arguments. ``func`` is a function of the core (``charts.income_trend``,
    ``figures.portfolio_figures``...); the result is shared, so callers must not change
    it."""
    if flt is None:
        flt = current_filter()
    return _computed(database_url(), data_version(), flt, func.__module__, func.__name__,
                     tuple(args), tuple(sorted(kwargs.items())))


def chart(func, *args, key: str, flt: Filter | None = None,
          pilot_clicks: bool | None = None, **kwargs) -> None:
    """Draw ``func(portfolio, *args, **kwargs)`` (a chart or map of the core), cached as
    :func:`computed`; clicking a pilot in it opens the pilot's page (see
    :func:`show_chart`)."""
    show_chart(computed(func, *args, flt=flt, **kwargs), key=key, pilot_clicks=pilot_clicks)


def pilot_url(pilot_id: str) -> str:
    """A link (relative to the app) to the Pilot page of one pilot."""
    return f"./pilot?{PILOT_PARAM}={pilot_id}"


def pilot_link(pilot_id: str, label: str | None = None) -> None:
    """A link to the Pilot page showing this pilot (``?pilot=ID``)."""
    st.page_link(PAGE_FILES["pilot"], label=label or pilot_id, icon=":material/agriculture:",
                 query_params={PILOT_PARAM: pilot_id})


PILOT_LINKS_MAX = 24  # up to this many pilots get a link each; beyond, a searchable picker


def pilot_links(portfolio: Portfolio, label: str = "Open a pilot:", per_row: int = 4,
                key: str = "open_pilot") -> None:
    """A link to the Pilot page of every pilot of ``portfolio`` (the pilots the charts
    above name), by display name; beyond ``PILOT_LINKS_MAX`` pilots a picker to type a
    pilot's name in (which opens its page)."""
    p = portfolio.pilots.sort_values("pilot_name", na_position="last")
    if p.empty:
        return
    if len(p) > PILOT_LINKS_MAX:
        names = dict(zip(p["pilot_id"], p["pilot_name"]))
        chosen = st.selectbox(f"Open a pilot's page ({len(p):,} pilots: type a name)", list(names),
                              index=None, key=key, placeholder="Type a pilot's name or id",
                              format_func=lambda i: f"{names.get(i) or i} ({i})")
        if chosen:
            st.session_state.pop(key, None)
            st.switch_page(PAGE_FILES["pilot"], query_params=pilot_query_params(chosen))
        return
    st.caption(label)
    rows = list(zip(p["pilot_id"], p["pilot_name"]))
    for start in range(0, len(rows), per_row):
        cols = st.columns(per_row)
        for col, (pid, name) in zip(cols, rows[start:start + per_row]):
            with col:
                pilot_link(pid, name if isinstance(name, str) and name else pid)


def pilot_link_column(label: str = "Pilot") -> Any:
    """column_config for a column of :func:`pilot_url` values showing the pilot id."""
    return st.column_config.LinkColumn(label, display_text=rf"{PILOT_PARAM}=(.*)$",
                                       help="Open the pilot's page")


def with_pilot_links(df: pd.DataFrame, column: str = "pilot_id") -> pd.DataFrame:
    """A copy of ``df`` whose pilot column holds links to the Pilot page."""
    out = df.copy()
    if column in out.columns:
        out[column] = out[column].map(lambda p: pilot_url(p) if isinstance(p, str) else p)
    return out


def table_with_pilot_links(df: pd.DataFrame, portfolio: Portfolio, *,
                           name_column: str = "Pilot") -> None:
    """Show a table that names pilots (by display name) with a first column linking
    each row to its pilot's page."""
    p = portfolio.pilots
    by_name = {n: i for i, n in zip(p["pilot_id"], p["pilot_name"]) if isinstance(n, str)}
    by_name.update({i: i for i in p["pilot_id"]})
    links = df[name_column].map(lambda n: pilot_url(by_name[n]) if n in by_name else None)
    out = df.copy()
    out.insert(0, "Pilot page", links)
    st.dataframe(out, hide_index=True, width="stretch",
                 column_config={"Pilot page": pilot_link_column("Pilot page")})


NOT_REPORTING_LISTED = 8  # named in a sentence up to this many; a table beyond


def not_reporting(silent: pd.DataFrame, quarter: str) -> None:
    """The list behind "Pilots reporting" (``figures.pilots_not_reporting``): each pilot
    that did not report for the quarter, linked to its page, with its last report."""
    from linkdash import quarters

    if silent.empty:
        return
    q = quarters.label(quarter)

    def last(v: Any) -> str:
        return f"last report {quarters.label(v)}" if isinstance(v, str) else "never reported"

    if len(silent) <= NOT_REPORTING_LISTED:
        items = [f"[{_md(n or p)}]({pilot_url(p)}) ({last(lq)})"
                 for p, n, lq in zip(silent["pilot_id"], silent["pilot_name"], silent["last_reported"])]
        st.markdown(f"**Did not report for {q}:** " + "; ".join(items) + ".")
        return
    st.markdown(f"**{len(silent):,} pilots did not report for {q}**, the longest silent first:")
    df = silent.assign(pilot_id=silent["pilot_id"].map(pilot_url),
                       last_reported=silent["last_reported"].map(
                           lambda v: quarters.label(v) if isinstance(v, str) else "never"))
    st.dataframe(df, hide_index=True, width="stretch", height=min(420, 38 + 35 * len(df)),
                 column_config={"pilot_id": pilot_link_column("Pilot page"), "pilot_name": "Pilot",
                                "country_name": "Country", "last_reported": "Last report"})


def find_pilot(portfolio: Portfolio, what: str = "the charts below", key: str = "find",
               on_change=None) -> tuple[str, ...]:
    """"Find a pilot" for rankings that name only the ends of the list (beyond
    ``charts.ALL_PILOTS_MAX`` pilots): a picker kept in the URL (``?find=KEN-DAIRY``);
    the chosen pilot is added to every ranking it is passed to. Nothing is shown for
    fewer pilots (every pilot is named then). Returns the chosen ids."""
    from linkdash import charts

    p = portfolio.pilots
    if len(p) <= charts.ALL_PILOTS_MAX:
        return ()
    ids = sorted(p["pilot_id"].dropna().astype(str))
    names = dict(zip(p["pilot_id"], p["pilot_name"]))
    label = lambda i: f"{names.get(i) or i} ({i})"  # noqa: E731 - what the URL holds too
    check_link(key, [label(i) for i in ids], "pilot", "no pilot is picked out in the rankings")
    chosen = st.selectbox(f"Find a pilot in {what} ({len(ids):,} pilots; they name the lowest and "
                          f"highest {charts.RANK_ENDS})", ids, index=None, key=key, bind="query-params",
                          placeholder="Type a pilot's name or id", format_func=label,
                          on_change=on_change)
    return (chosen,) if chosen else ()


def pager(n: int, size: int, what: str, key: str) -> tuple[int, int]:
    """For a list of ``n`` things shown ``size`` at a time: which part to show, kept in
    the URL (``?key=2``). Returns the (start, stop) indices; shows nothing when
    everything fits."""
    if n <= size:
        return 0, n
    parts = -(-n // size)
    wanted = link_values(key)
    if wanted and not all(v.isdigit() and 1 <= int(v) <= parts for v in wanted):
        st.warning(f"This link asks for part **{_md(wanted[0])}**, which is not one of the "
                   f"{parts} parts: showing the nearest one.", icon=":material/link_off:")
    page = st.number_input(f"Part of the list ({size} {what} each, {parts:,} parts)", min_value=1,
                           max_value=parts, step=1, key=key, bind="query-params")
    i = min(max(int(page or 1), 1), parts) - 1
    st.caption(f"{what.capitalize()} {i * size + 1:,} to {min(n, (i + 1) * size):,} of {n:,}")
    return i * size, min(n, (i + 1) * size)


def no_data(message: str = "No data yet for this selection.") -> None:
    st.info(f"**No data.** {message}")


def today() -> dt.date:
    return dt.date.today()


def map_figures() -> dict[str, str]:
    """The figures the country map can show, name -> label (for the map's selectbox)."""
    from linkdash import maps

    return {n: label for n, (label, _kind) in maps.MAP_FIGURES.items()}


# --- the Pilot page's pieces ---------------------------------------------------------

def _set_pilot_param(widget_key: str) -> None:
    chosen = st.session_state.get(widget_key)
    if chosen:
        st.query_params[PILOT_PARAM] = chosen


def pilot_picker(portfolio: Portfolio) -> str | None:
    """The pilot named by ``?pilot=ID`` (any case), with a picker that changes it. The
    picker lists the pilots of the sidebar's filter; a pilot named in the URL outside the
    filter is still shown (a shared link works), with a note. Returns None when the
    store has no pilots."""
    p = portfolio.pilots
    every = sorted(p["pilot_id"].dropna().astype(str))
    if not every:
        return None
    flt = current_filter()
    ids = sorted(filtered_portfolio(portfolio).pilots["pilot_id"].dropna().astype(str))
    names = dict(zip(p["pilot_id"], p["pilot_name"]))
    wanted = str(st.query_params.get(PILOT_PARAM) or "").strip().upper()
    if wanted and wanted not in every:
        st.warning(f"There is no pilot **{_md(wanted)}** in the store; showing "
                   f"{(ids or every)[0]}.")
    if not ids:
        st.caption(f"No pilot matches the filter ({_md(flt.describe())}): listing every pilot.")
        ids = every
    elif wanted in every and wanted not in ids:
        st.caption(f"{_md(names.get(wanted) or wanted)} is outside the sidebar's filter "
                   f"({_md(flt.describe())}); the list shows the pilots inside it.")
        ids = sorted([*ids, wanted])
    current = wanted if wanted in ids else ids[0]
    # The widget key follows the URL, so a link to another pilot shows that pilot.
    key = f"pilot_picker_{current}"
    chosen = st.selectbox(
        "Pilot", ids, index=ids.index(current), key=key, on_change=_set_pilot_param,
        args=(key,), format_func=lambda i: f"{names.get(i) or i} ({i})")
    if st.query_params.get(PILOT_PARAM) != chosen:
        st.query_params[PILOT_PARAM] = chosen
    return chosen


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and pd.isna(v)) or v == ""


def pilot_facts(facts: pd.Series, per_row: int = 2) -> None:
    """Country, value chain, producer organisation, site, dates and target households."""
    def show(v: Any, fmt=str) -> str:
        return NO_DATA if _blank(v) else fmt(v)

    rows = [
        ("Pilot ID", show(facts.get("pilot_id"))),
        ("Country", show(facts.get("country_name") or facts.get("country"))),
        ("Region", show(facts.get("region"))),
        ("Value chain", show(facts.get("value_chain"),
                             lambda v: catalogue.VALUE_CHAIN_LABELS.get(v, v))),
        ("Producer organisation", show(facts.get("producer_org"))),
        ("Site", show(facts.get("site"))),
        ("Dates", f"{show(facts.get('start_date'))} to {show(facts.get('end_date'))}"),
        ("Target households", show(facts.get("target_households"), lambda v: f"{int(v):,}")),
    ]
    cols = st.columns(per_row)
    for i, (label, value) in enumerate(rows):
        cols[i % per_row].markdown(f"**{label}**  \n{value}")


LESSON_COLUMNS = ["pilot_id", "quarter", "kind", "milestone", "lesson", "author"]


LESSONS_READ = 60  # lessons written out in full (the table and the downloads have them all)


def lessons_view(lessons: pd.DataFrame, *, with_pilot: bool = True, key: str = "lessons") -> None:
    """The lessons to read (each in full, newest first) and, in a second tab, as a table."""
    read, table = st.tabs(["Read", "Table"])
    with read:
        lessons_cards(lessons, with_pilot=with_pilot)
    with table:
        lessons_table(lessons, with_pilot=with_pilot)


def lessons_cards(lessons: pd.DataFrame, *, with_pilot: bool = True) -> None:
    """Each lesson in full: who, when, what kind and which milestone, then its text."""
    names = {}
    if with_pilot:
        p = load_portfolio().pilots
        names = dict(zip(p["pilot_id"], p["pilot_name"]))
    df = lessons.sort_values(["quarter", "pilot_id"], ascending=False)
    for r in df.head(LESSONS_READ).itertuples(index=False):
        head = []
        if with_pilot:
            head.append(f"[{_md(names.get(r.pilot_id) or r.pilot_id)}]({pilot_url(r.pilot_id)})")
        head.append(f"**{_md(r.quarter)}**")
        if isinstance(getattr(r, "kind", None), str):
            head.append(_md(r.kind.capitalize()))
        ms = getattr(r, "milestone", None)
        if isinstance(ms, str):
            head.append(_md(catalogue.MILESTONE_LABELS.get(ms, ms)))
        author = getattr(r, "author", None)
        if isinstance(author, str) and author.strip():
            head.append(f"by {_md(author)}")
        with st.container(border=True):
            st.markdown(" · ".join(head))
            st.markdown(_md(r.lesson).replace("\n", "  \n"))
    if len(df) > LESSONS_READ:
        st.caption(f"The {LESSONS_READ} newest of {len(df):,} lessons; the Table tab and the "
                   "downloads have them all.")


def lessons_table(lessons: pd.DataFrame, *, with_pilot: bool = True) -> None:
    cols = [c for c in LESSON_COLUMNS if c in lessons.columns and (with_pilot or c != "pilot_id")]
    df = lessons[cols].sort_values(["quarter"] + (["pilot_id"] if with_pilot else []),
                                   ascending=False)
    if "milestone" in df.columns:
        df = df.assign(milestone=df["milestone"].map(
            lambda m: catalogue.MILESTONE_LABELS.get(m, m) if isinstance(m, str) else None))
    if "kind" in df.columns:
        df = df.assign(kind=df["kind"].map(lambda k: k.capitalize() if isinstance(k, str) else k))
    config = {"lesson": st.column_config.TextColumn("Lesson", width="large"),
              "quarter": "Quarter", "kind": "Kind", "milestone": "Milestone",
              "author": "Author"}
    if with_pilot:
        df = with_pilot_links(df)
        config["pilot_id"] = pilot_link_column()
    st.dataframe(df, hide_index=True, width="stretch", column_config=config, placeholder=BLANK)


SUBMISSION_COLUMNS = ["id", "kind", "filename", "user", "created_at", "status", "what"]
SUBMISSION_CONFIG = {
    "id": st.column_config.NumberColumn("#", format="%d"),
    "kind": "Kind", "filename": "File", "user": "Sent by",
    "created_at": st.column_config.DatetimeColumn("Sent (UTC)", format="YYYY-MM-DD HH:mm"),
    "status": "Status", "what": st.column_config.TextColumn("What it did", width="medium"),
    "new": "New", "changed": "Changed", "unchanged": "Unchanged",
}


def submissions_table(subs: pd.DataFrame) -> pd.DataFrame:
    """The history in words (``reporting.submissions_in_words``): kinds and statuses as
    people say them, no blank shown as "None"."""
    from linkdash import reporting

    words = reporting.submissions_in_words(subs)
    return words[[c for c in SUBMISSION_COLUMNS if c in words.columns]]


def download_name(filename: str, data: bytes) -> str:
    """A file name with an extension a spreadsheet program opens."""
    if "." in filename.rsplit("/", 1)[-1]:
        return filename
    return filename.replace(" ", "-") + (".xlsx" if data[:2] == b"PK" else ".csv")


@st.cache_data(show_spinner=False, max_entries=32)
def _touched(url: str | None, version: int, pilot_id: str) -> list[int]:
    hist = _open_store(url).history(pilot_id)
    return sorted({int(i) for i in hist["submission_id"].dropna()}, reverse=True)


def submissions_for_pilot(pilot_id: str) -> pd.DataFrame:
    """The submissions that wrote a value of this pilot (current or since replaced),
    newest first."""
    version = data_version()
    ids = set(_touched(database_url(), version, pilot_id))
    subs = load_submissions(version)
    return submissions_table(subs[subs["id"].isin(ids)])


# --- the Lessons page ----------------------------------------------------------------

def search_lessons(lessons: pd.DataFrame, text: str = "", kinds=(), milestones=(),
                   quarters=()) -> pd.DataFrame:
    """The lessons whose text, author or pilot contains every word of ``text`` (any
    case) and whose kind, milestone and quarter are among those chosen (none = all)."""
    out = lessons
    if kinds:
        out = out[out["kind"].isin(kinds)]
    if milestones:
        out = out[out["milestone"].isin(milestones)]
    if quarters:
        out = out[out["quarter"].isin(quarters)]
    words = [w for w in str(text or "").lower().split() if w]
    if words and not out.empty:
        hay = (out["lesson"].fillna("").astype(str) + " " + out["author"].fillna("").astype(str)
               + " " + out["pilot_id"].fillna("").astype(str)).str.lower()
        mask = pd.Series(True, index=out.index)
        phrase = " ".join(words)
        # the whole phrase, or every word of it
        for w in words:
            mask &= hay.str.contains(w, regex=False)
        mask |= hay.str.contains(phrase, regex=False)
        out = out[mask]
    return out


def describe_submission(row: pd.Series) -> str:
    """One submission in a picker: ``#2 · upload · q1.xlsx · ... · rolled back by #3``."""
    from linkdash import reporting

    return reporting.describe_submission(row)


# --- the Upload page ----------------------------------------------------------------

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@st.cache_resource(show_spinner=False)
def template_bytes() -> bytes:
    """The blank workbook template (.xlsx)."""
    import io

    from linkdash.template import write_template

    buf = io.BytesIO()
    write_template(buf)
    return buf.getvalue()


def export_download(portfolio: Portfolio, label: str = "Download all stored data (.xlsx)",
                    key: str = "export_xlsx") -> None:
    """A download button for the whole portfolio in the template's sheets; the file is
    built only when the button is clicked."""
    from linkdash import exports

    st.download_button(label, lambda: exports.export_xlsx_bytes(portfolio),
                       file_name="link-pilots-data.xlsx", mime=XLSX_MIME, key=key)


# Keys of the "Export what you see" buttons, by format (the Presentation page's slides and
# report buttons kept their keys).
EXPORT_KEYS = {".xlsx": "download_data", ".csv": "download_indicators",
               ".pptx": "download_deck", ".html": "download_report"}
EXPORT_HELP = {
    ".xlsx": "The pilots, milestones, indicators, targets, lessons and benchmarks of what the "
             "filters show, in the upload template's sheets: re-importing the file changes nothing.",
    ".csv": "The Indicators sheet alone, one row per pilot and quarter (formula-safe).",
    ".pptx": "Editable PowerPoint slides of what the filters show (takes a few seconds).",
    ".html": "One HTML file with interactive charts that works offline.",
}


def export_buttons(portfolio: Portfolio, *, flt: Filter | None = None,
                   as_of: dt.date | None = None, demo: bool | None = None,
                   stacked: bool = False, key_prefix: str = "") -> None:
    """"Export what you see": data (.xlsx), indicators (.csv), slides (.pptx) and report
    (.html) of the sidebar's filter (or ``flt``), side by side (or one under the other
    with ``stacked``). A quarter chosen in the sidebar is the last one in the data
    files and the one the slides and report show; left empty, the data files hold every
    quarter and the slides and report show the latest. The file names say what they
    hold (``link-pilots_Africa_2018-Q4.xlsx``). Each file is built only when its button
    is clicked, so the page stays fast."""
    from functools import partial

    from linkdash import exports

    if flt is None:
        flt = current_filter()
    if as_of is None:
        as_of = current_as_of(portfolio)
    chosen = st.session_state.get(QUARTER_KEY) or None
    shown = current_quarter(portfolio)
    slots = [st.container() for _ in exports.FORMATS] if stacked else st.columns(len(exports.FORMATS))
    for slot, fmt in zip(slots, exports.FORMATS.values()):
        slot.download_button(
            fmt.label,
            data=partial(exports.export_bytes, fmt.suffix, portfolio, flt=flt,
                         quarter=str(chosen) if chosen else None, as_of=as_of, demo=demo),
            file_name=exports.export_filename(fmt.suffix, flt, shown), mime=fmt.mime,
            on_click="ignore", width="stretch", icon=":material/download:",
            key=key_prefix + EXPORT_KEYS[fmt.suffix], help=EXPORT_HELP[fmt.suffix])


@st.cache_resource(show_spinner=False)
def warm_reader() -> bool:
    """Start the isolated file reader's fork server once per server process, in the
    background, so the first upload does not wait for it (``sandbox.warm``)."""
    from linkdash import sandbox

    sandbox.warm()
    return True


def checked_upload(data: bytes, filename: str, actor, portfolio: Portfolio):
    """Read and check an uploaded file against the store as ``actor`` would send it
    (stores nothing), showing progress while it runs. ``portfolio``: the page's
    ``load_portfolio()`` (the checks, the user's scope and the preview share it; one
    copy, not one per use). Kept per file, data version and user for this session, so
    widget changes on the page do not check the file again."""
    import hashlib

    from linkdash import submit

    key = (hashlib.sha256(data).hexdigest(), filename, portfolio.data_version, actor)
    cached = st.session_state.get("_upload_check")
    if cached and cached[0] == key:
        return cached[1]
    with st.status(f"Reading and checking **{_md(filename)}**…", expanded=False) as status:
        outcome = submit.validate(get_store(), data, filename, actor=actor, current=portfolio)
        n_err, n_warn = len(outcome.errors), len(outcome.warnings)
        status.update(label=f"Checked **{_md(filename)}**: {submit.counted(n_err, 'error')}, "
                            f"{submit.counted(n_warn, 'warning')}",
                      state="complete" if outcome.ok else "error")
    st.session_state["_upload_check"] = (key, outcome)
    return outcome


def _pilot_named(pid: str | None, names) -> str:
    """``Kenya dairy cows (KEN-DAIRY)`` when ``names`` (id -> name) knows the pilot."""
    if not pid:
        return ""
    name = names.get(pid) if isinstance(names, dict) else None
    return f"{name} ({pid})" if name and name != pid else pid


def problems_frame(problems, pilots=None) -> pd.DataFrame:
    """Problems as a table: severity, sheet, cell, value found, message, the kind in
    words and the pilot it is about (``reporting.pilot_of``)."""
    from linkdash import reporting

    problems = list(problems)
    known = None if pilots is None else set(pilots)
    df = pd.DataFrame({
        "severity": [p.severity for p in problems],
        "sheet": [p.sheet or "" for p in problems],
        "cell": [p.cell or "" for p in problems],
        "value": [reporting.cell_text(p.value) for p in problems],
        "message": [p.message for p in problems],
        "kind": [reporting.kind_words(p.code, 1)[2:] for p in problems],
        "pilot": [_pilot_named(reporting.pilot_of(p, known), pilots) for p in problems],
    }, columns=["severity", "sheet", "cell", "value", "message", "kind", "pilot"])
    return df.astype(object)


LISTED_PROBLEMS = 30


def literal(text: Any) -> str:
    """Text (from the URL, a file, a user) to show in markdown as it is: no emphasis,
    links or code."""
    return _md(text)


def _md(text: Any) -> str:
    """Text shown literally in markdown (no emphasis, links or code from user data)."""
    import re

    return re.sub(r"([\\`*_{}\[\]<>()#+\-.!|~$])", r"\\\1", str(text))


def _problem_line(p) -> str:
    from linkdash import reporting

    value = "" if p.value is None else f" (found: {_md(reporting.cell_text(p.value))})"
    return f"**{_md(reporting.problem_where(p))}**{value}: {_md(p.message)}"


PROBLEM_TABLE_CONFIG = {
    "severity": None, "kind": None,
    "sheet": st.column_config.TextColumn("Sheet", width="small"),
    "cell": st.column_config.TextColumn("Cell", width="small"),
    "value": st.column_config.TextColumn("Value found", width="small"),
    "pilot": st.column_config.TextColumn("Pilot", width="small"),
    "message": st.column_config.TextColumn("What to change", width="large"),
}


def _problem_list(items, pilots, *, key: str, listed: int | None = None) -> None:
    """The first problems as lines, all of them as a sortable table below."""
    listed = LISTED_PROBLEMS if listed is None else listed
    st.markdown("\n".join(f"- {_problem_line(p)}" for p in items[:listed]))
    if len(items) > listed:
        shown = items[:DETAIL_ROWS_SHOWN]  # a table of 100,000 rows would freeze a weak laptop
        st.caption(f"… and {len(items) - listed:,} more: "
                   + ("every one is in the table below and in the report." if len(shown) == len(items)
                      else f"the table below shows the first {len(shown):,}; the report has them all."))
        st.dataframe(problems_frame(shown, pilots), hide_index=True, width="stretch", placeholder=BLANK,
                     column_config=PROBLEM_TABLE_CONFIG,
                     column_order=["sheet", "cell", "pilot", "value", "message"], key=key)


def problem_report(outcome, portfolio: Portfolio | None = None, *, key: str = "report") -> None:
    """Errors first, all of them, at once (sheet, cell, value, what to change); then the
    warnings grouped by kind with their pilots and counts, each group opening to its
    cells (``reporting.group_problems``); the whole report as a csv download."""
    from linkdash import reporting

    errors, warnings = list(outcome.errors), list(outcome.warnings)
    if not errors and not warnings:
        st.success("No errors, no warnings.")
        return
    names = reporting.pilot_names(portfolio.pilots if portfolio is not None else None)
    tables = getattr(outcome, "tables", None) or {}
    if "Pilots" in tables:
        names.update(reporting.pilot_names(tables["Pilots"]))
    grouped = reporting.group_problems(errors, warnings, names or None)
    summary = f"**{reporting.counted(len(errors), 'error')}**, {reporting.counted(len(warnings), 'warning')}"
    if errors and len(grouped.error_groups) > 1:
        summary += ": " + "; ".join(g.title for g in grouped.error_groups)
    with st.container(key=f"{key}_errors"):
        (st.error if errors else st.warning)(summary)
        if errors:
            st.markdown("**Errors** (nothing is stored until they are fixed)")
            st.markdown("\n".join(f"- {_problem_line(p)}" for p in errors[:LISTED_PROBLEMS]))
            if len(errors) > LISTED_PROBLEMS:
                st.caption(f"… and {len(errors) - LISTED_PROBLEMS:,} more errors: every one is in "
                           "the report" + (f", the first {DETAIL_ROWS_SHOWN:,} in the table." if len(errors) > DETAIL_ROWS_SHOWN
                                           else " and in the table."))
            with st.expander(f"All {reporting.counted(len(errors), 'error')} as a table (sortable)"
                             if len(errors) <= DETAIL_ROWS_SHOWN else
                             f"The first {DETAIL_ROWS_SHOWN:,} errors as a table (sortable)"):
                st.dataframe(problems_frame(errors[:DETAIL_ROWS_SHOWN], names), hide_index=True, width="stretch",
                             placeholder=BLANK, column_config=PROBLEM_TABLE_CONFIG,
                             column_order=["sheet", "cell", "pilot", "value", "message"],
                             key=f"{key}_error_table")
    if warnings:
        with st.container(key=f"{key}_warnings"):
            st.markdown(f"**Warnings** (they do not block): {_md(grouped.warning_summary)}")
            few = not errors and len(warnings) <= 3
            for i, g in enumerate(grouped.warning_groups):
                with st.expander(g.title, expanded=few):
                    if len(g.pilots) > 1:
                        st.caption("By pilot: " + " · ".join(_md(t) for t in g.pilot_lines(names)))
                    _problem_list(g.problems, names, key=f"{key}_warning_table_{i}", listed=10)
    st.download_button("Download the report (.csv)",
                       lambda: frame_csv_bytes(problems_frame(errors + warnings, names)),
                       file_name="link-upload-report.csv", mime="text/csv",
                       key=f"{key}_download" if key != "report" else "report_download",
                       on_click="ignore")


def report_csv_bytes(problems, pilots=None) -> bytes:
    return frame_csv_bytes(problems_frame(problems, pilots))


def frame_csv_bytes(df: pd.DataFrame) -> bytes:
    """A table as csv (UTF-8 with BOM for Excel), formula-safe through
    ``exports.csv_cell`` (text starting ``= + - @`` gets a leading ``'``)."""
    import csv
    import io

    from linkdash import exports

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([str(c) for c in df.columns])
    for row in df.itertuples(index=False):
        w.writerow([exports.csv_cell(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def changes_counts(outcome) -> bool:
    """New, changed and unchanged value counts; False when the file changes nothing."""
    ch = outcome.changes
    c1, c2, c3 = st.columns(3)
    for col, label, n in ((c1, "New values", ch.new), (c2, "Changed values", ch.changed),
                          (c3, "Unchanged", ch.unchanged)):
        with col, st.container(border=True):
            st.metric(label, f"{n:,}")
    if ch.new == 0 and ch.changed == 0:
        st.info("This file changes nothing in the store.")
        return False
    detail = getattr(ch, "detail", None)
    if detail is not None and not detail.empty and (detail["sheet"] != "Indicators").any():
        st.caption("A value is one indicator of one pilot in one quarter, or one whole row of "
                   "the other sheets (a pilot, a milestone, a target...); the lists below show "
                   "each cell that is new or changes.")
    return True


DETAIL_CONFIG = {"sheet": "Sheet", "pilot": "Pilot", "quarter": "Quarter", "what": "What",
                 "old": "Old value", "new": "New value"}


DETAIL_ROWS_SHOWN = 2000  # a browser table of a million rows would freeze a weak laptop


def upload_coverage(outcome, portfolio: Portfolio):
    """What the checked file covers, said in a line (``reporting.coverage``); returned
    for the commit's message."""
    from linkdash import reporting

    cov = reporting.coverage(outcome.tables or {}, portfolio.pilots)
    with st.container(key="upload_coverage"):
        st.markdown(_md_names(cov).sentence())
    return cov


def _md_names(cov):
    """The coverage with its pilot names safe in markdown (the rest of its sentences is
    our own words, quarters and numbers)."""
    import dataclasses

    return dataclasses.replace(cov, names={k: _md(v) for k, v in cov.names.items()})


def unusual_changes(outcome, portfolio: Portfolio, cov) -> bool:
    """Say what the preview holds that a quarterly upload rarely does
    (``reporting.unusual_changes``), before Commit. True when there is something."""
    from linkdash import reporting

    ch = outcome.changes
    if ch is None or not ch.changed:
        return False
    latest = max([q for q in (portfolio.latest_quarter(), cov.latest_quarter) if q], default=None)
    found = reporting.unusual_changes(ch.detail, portfolio.pilots, changed=ch.changed,
                                      sent=ch.new + ch.changed + ch.unchanged, latest_quarter=latest)
    if not found:
        return False
    lines = []
    for u in found:
        lines.append(f"- **{_md(u.title)}**")
        lines += [f"    - {_md(t)}" for t in u.lines[:8]]
        if len(u.lines) > 8:
            lines.append(f"    - … and {len(u.lines) - 8:,} more")
    with st.container(key="upload_unusual"):
        st.warning("**Unusual for a quarterly upload**: check that these changes are meant "
                   "before you commit.\n\n" + "\n".join(lines), icon=":material/report:")
    return True


def changes_detail(outcome, portfolio: Portfolio | None = None) -> None:
    """The changed values with old and new, then the new values, in words: the pilot by
    name, the quarter, the indicator's or column's label. Large uploads show the first
    rows of each, with the whole list as a CSV download."""
    from linkdash import reporting

    detail = getattr(outcome.changes, "detail", None)
    if detail is None or detail.empty:
        return
    names = reporting.pilot_names(portfolio.pilots if portfolio is not None else None)
    if outcome.tables and "Pilots" in outcome.tables:
        names.update({k: v for k, v in reporting.pilot_names(outcome.tables["Pilots"]).items()
                      if k not in names})
    counts = {"changed": outcome.changes.changed, "new": outcome.changes.new}
    for kind, title in (("changed", "Changed"), ("new", "New")):
        rows = detail[detail["kind"] == kind]
        if rows.empty:
            continue
        n = len(rows)
        shown = reporting.detail_in_words(rows.head(DETAIL_ROWS_SHOWN), names)
        if kind == "new":
            shown = shown.drop(columns=["old"])
        if not (shown["quarter"] != "").any():
            shown = shown.drop(columns=["quarter"])
        suffix = "old and new value" if kind == "changed" else ""
        # the cards count values (a whole Pilots row is one); the list shows each cell
        m = counts[kind]
        what = f"{n:,}" if n == m else f"{n:,} cells in {reporting.counted(m, 'value')}"
        st.markdown(f"**{title}** ({what}){': ' + suffix if suffix else ''}")
        if n > DETAIL_ROWS_SHOWN:
            st.caption(f"Showing the first {DETAIL_ROWS_SHOWN:,} of {n:,}; the download has them all.")
            st.download_button(
                f"Download all {n:,} {title.lower()} cells (.csv)",
                lambda rows=rows, kind=kind: frame_csv_bytes(
                    reporting.detail_in_words(rows, names).drop(columns=["old"] if kind == "new" else [])),
                file_name=f"{kind}-values.csv", mime="text/csv",
                key=f"detail_csv_{kind}", on_click="ignore")
        st.dataframe(shown, hide_index=True, width="stretch", column_config=DETAIL_CONFIG,
                     placeholder=BLANK)


def commit_upload(outcome, data: bytes, filename: str, actor):
    """Commit a checked upload as ``actor`` (checked again against what they may change;
    the changes are counted again inside the transaction), then drop the cached data so
    every page shows the new values at once."""
    from linkdash import submit

    result = submit.commit(get_store(), outcome, data, filename, actor=actor)
    data_changed()
    st.session_state.pop("_upload_check", None)
    return result


def describe_commit(outcome, filename: str, cov=None) -> dict[str, Any]:
    """What a commit did, in words (``reporting.committed_sentence``), and the quarter the
    file reported: ``{"text", "quarter", "ok"}`` for the Upload page's next run."""
    from linkdash import reporting

    sid = getattr(outcome, "submission_id", None)
    ch = outcome.changes
    if sid is None:
        return {"text": f"**{_md(filename)}** changed nothing: it was already stored. "
                        + " ".join(_md(w.message) for w in outcome.warnings),
                "quarter": None}
    cov = cov if cov is not None else reporting.coverage(outcome.tables or {})
    text = reporting.committed_sentence(ch.new, ch.changed, _md_names(cov), submission_id=sid)
    return {"text": f"{text} From **{_md(filename)}**; every page now shows the new data.",
            "quarter": reporting.report_quarter(cov)}


def quarter_link_html(q: str, label: str) -> str:
    """An ordinary link to the Overview for quarter ``q``. Not ``st.page_link``: within
    a session the sidebar's quarter keeps its value over a link's query parameter, and
    ``st.switch_page`` refuses to change a parameter bound to a widget; a link that loads
    ``./?quarter=...`` opens the view a pasted link opens."""
    import html
    from urllib.parse import urlencode

    href = "./?" + urlencode({QUARTER_KEY: q})
    return (f'<a class="lp-quarter-link" href="{html.escape(href)}" style="display:inline-flex;'
            f'align-items:center;gap:.4rem;padding:.35rem .8rem;border:1px solid rgba(49,51,63,.2);'
            f'border-radius:.5rem;text-decoration:none;color:inherit">'
            f'<span aria-hidden="true">&#8594;</span>{html.escape(label)}</a>')


def committed_message(done: dict[str, Any]) -> None:
    """The Upload page after a commit: what changed, and a link to the quarter the file
    reported (the Overview for that quarter, ``?quarter=``)."""
    with st.container(key="upload_done"):
        st.success(done["text"], icon=":material/check_circle:")
        q = done.get("quarter")
        if q:
            st.html(quarter_link_html(q, f"See {q} on the Overview"))


# --- rollback, original files, audit and users (decided in linkdash.access) ------------

def roll_back(submission_id: int, actor):
    """Roll a submission back as ``actor`` (refused unless they may), then drop the
    cached data."""
    from linkdash import submit

    result = submit.rollback(get_store(), submission_id, actor=actor)
    if result.ok:
        data_changed()
    return result


def rollback_text(result) -> str:
    """A rollback's result in words (``reporting.rollback_sentence``)."""
    from linkdash import reporting

    return reporting.rollback_sentence(result.ok, result.message, rolled_back=result.rolled_back,
                                       submission_id=result.submission_id, restored=result.restored,
                                       removed=result.removed, kept=len(result.kept))


AUDIT_EVENTS = {"upload": "upload", "demo": "illustrative demo data", "rollback": "rollback",
                "role": "role change"}


def event_words(event: Any) -> str:
    return AUDIT_EVENTS.get(str(event), str(event).replace("_", " "))


def audit_in_words(log: pd.DataFrame) -> pd.DataFrame:
    """The audit log with its events in words and no blank shown as "None"."""
    out = log.copy()
    out["event"] = out["event"].map(event_words)
    out["who"] = out["who"].map(lambda v: v if isinstance(v, str) and v else "—")
    return out


def kept_table(kept) -> pd.DataFrame:
    """A rollback's kept values in words, pilots by name."""
    from linkdash import reporting

    return reporting.kept_in_words(kept, reporting.pilot_names(load_portfolio().pilots))


ILLUSTRATIVE_RESULT = "_illustrative_result"


def _remove_illustrative(actor) -> tuple[bool, str]:
    """Roll back every live demo submission (newest first); the Pilots rows that real
    uploads report on stay (``illustrative.removal``, ``Store.rollback``)."""
    from linkdash import illustrative, submit

    store = get_store()
    ill = illustrative.state(store.submissions(), None)  # only its live demo submissions count here
    plan = illustrative.removal(store.history(), ill)
    done = []
    for sid in plan.demo_ids:
        result = submit.rollback(store, sid, actor=actor)
        if not result.ok:
            data_changed()
            return False, _md(result.message)
        done.append(result)
    data_changed()
    removed = sum(r.removed for r in done)
    kept = sum(len(r.kept) for r in done)
    ids = ", ".join(f"#{r.rolled_back}" for r in done)
    return True, (f"Removed the illustrative demo data (submission {ids}): "
                  + (f"{removed:,} made-up values are gone" if removed != 1 else "1 made-up value is gone")
                  + ((f", {kept:,} that real uploads changed are kept" if kept != 1
                      else ", 1 that a real upload changed is kept") if kept else "")
                  + ". It stays in the history: **Load it again** below brings back what no real "
                    "upload holds."
                  + ((" The Pilots rows of " + ", ".join(_pilot_display_names(plan.kept_pilots))
                      + " stay as the illustrative data wrote them, because your uploads report on "
                      "these pilots: send their real site, producer organisation and coordinates "
                      "in a Pilots sheet.") if plan.kept_pilots else ""))


def _restore_illustrative(actor) -> tuple[bool, str]:
    """Load the illustrative data again where the store holds no value (never over a
    real one), as a new demo submission that can be removed again."""
    from linkdash import demo, illustrative

    store = get_store()
    tables = illustrative.restore_tables(demo.demo_tables(), store.load())
    if not tables:
        return False, "Nothing to load: the store holds a value everywhere the illustrative data has one."
    commit = store.commit(tables, file_bytes=demo.demo_file_bytes(tables), filename=demo.DEMO_FILENAME,
                          user=actor.email, kind=demo.DEMO_KIND)
    data_changed()
    if commit.errors:
        return False, "The illustrative data could not be loaded again: " + " ".join(
            _md(p.message) for p in commit.errors[:3])
    if commit.submission_id is None:
        return False, "The illustrative data is already stored; nothing changed."
    return True, (f"Loaded the illustrative demo data again as submission #{commit.submission_id}: "
                  f"{commit.changes.new:,} values where the store had none.")


def _pilot_display_names(ids) -> list[str]:
    from linkdash import reporting

    names = reporting.pilot_names(load_portfolio().pilots)
    return [f"{names[i]} ({i})" if names.get(i, i) != i else i for i in ids]


def illustrative_offer(actor, *, key: str, restore: bool = False, only_mixed: bool = False) -> None:
    """Remove the illustrative demo data (a rollback of its submissions, kept in the
    history), or with ``restore`` load it again; for those who may. ``only_mixed``:
    offer the removal only when real uploads sit beside it (after the first one)."""
    from linkdash import access

    done = st.session_state.pop(ILLUSTRATIVE_RESULT, None)
    if done is not None:
        (st.success if done[0] else st.error)(done[1])
    ill = illustrative_state()
    if ill.any and ill.demo_ids and (ill.mixed or not only_mixed):
        with st.container(border=True, key=f"{key}_remove"):
            st.markdown("**Illustrative demo data** " + (
                "is mixed with your real uploads." if ill.mixed else "is what the pages show now."))
            refusals = [r for r in (access.rollback_refusal(actor, get_store(), i) for i in ill.demo_ids) if r]
            if refusals:
                st.caption(_md(refusals[0]))
                return
            st.caption("Removing it rolls back its submission: made-up values go, values that "
                       "real uploads changed stay, and it can be loaded again.")
            sure = st.checkbox("Yes, remove the illustrative data", key=f"{key}_sure")
            if st.button("Remove the illustrative data", key=f"{key}_go", disabled=not sure,
                         type="primary", icon=":material/delete_sweep:"):
                st.session_state[ILLUSTRATIVE_RESULT] = _remove_illustrative(actor)
                st.rerun()
    elif restore and not ill.demo_ids and ill.removed_ids and actor.is_admin:
        with st.container(border=True, key=f"{key}_restore"):
            st.markdown("**Illustrative demo data** was removed (it is in the history).")
            if st.button("Load it again where there is no real value", key=f"{key}_again",
                         icon=":material/science:"):
                st.session_state[ILLUSTRATIVE_RESULT] = _restore_illustrative(actor)
                st.rerun()


@st.cache_data(show_spinner=False, max_entries=64)
def _file_reach(url: str | None, submission_id: int, version: int) -> dict[str, Any] | None:
    from linkdash import access

    store = _open_store(url)
    original = store.submission_file(submission_id)
    if original is None:
        return None
    return access.file_reach(original[1], original[0], access.stored_pilots(store))


def original_download(submission_id: int, actor, key: str = "submission_file") -> None:
    """The download button of a submission's original file, for those who may have it
    (administrators; directors when the file is within their regions); otherwise a
    caption that says why not."""
    from linkdash import access

    store = get_store()
    if not actor.may_download_originals:
        st.caption("Original files are for administrators and for regional directors "
                   "within their regions.")
        return
    reach = None if actor.is_admin else _file_reach(database_url(), submission_id, data_version())
    try:
        original = access.original_file(store, actor, submission_id, reach)
    except access.Denied as e:
        st.caption(_md(str(e)))
        return
    if original is None:
        st.caption("This submission has no file (a rollback).")
        return
    name, data = original
    name = download_name(name, data)
    st.download_button(f"Download {name}", data, file_name=name, key=key,
                       mime="application/octet-stream")


def show_refusal(e: Exception) -> None:
    st.error(_md(str(e)))


def csv_download(df: pd.DataFrame, label: str, file_name: str, key: str) -> None:
    """A table as a formula-safe csv download (the tables' own csv export is switched off
    in .streamlit/config.toml: it does not neutralise formulas)."""
    st.download_button(label, lambda: frame_csv_bytes(df), file_name=file_name, mime="text/csv",
                       key=key, on_click="ignore", icon=":material/download:")


# --- presentation mode (the Presentation page on a projector) ---------------------------
# ``?present=1`` shows one slide as the whole screen: no sidebar, no Streamlit chrome,
# type and charts sized from the window's size, which the clicker component reports.
# ``?talk=CODE`` names a talk: the main window publishes its slide to a board kept in
# this server process, and the presenter view (``?presenter=1&talk=CODE``) follows it.

PRESENT_PARAM, PRESENTER_PARAM, TALK_PARAM = "present", "presenter", "talk"
DEFAULT_VIEWPORT = {"w": 1280, "h": 720}

PRESENT_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
[data-testid="stStatusWidget"], [data-testid="stSidebarNav"], footer { display: none !important; }
[data-testid="stMainBlockContainer"], .block-container {
  padding: 0.4rem 1.4rem 0 1.4rem !important; max-width: 100% !important; }
[data-testid="stMain"] { overflow: hidden; }
.st-key-lp-slide { gap: 0.5rem; }
.st-key-lp-slide .lp-title { padding: 0; margin: 0; line-height: 1.3; font-weight: 700;
                             color: #1f1f1f; white-space: nowrap; }
.st-key-lp-slide .lp-kicker { margin: 0; line-height: 1.3; color: #5f5f5f; }
.st-key-lp-bar { gap: 0.5rem; }
.st-key-lp-bar button { min-height: 2rem; padding: 0.1rem 0.6rem; }
.st-key-lp-bar p { margin: 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.lp-cards { display: flex; gap: 0.8rem; }
.lp-card { flex: 1 1 0; min-width: 0; border: 1px solid #d8ddd9; border-radius: 0.5rem;
           padding: 0.35em 0.7em; background: #fafcfb; }
.lp-card .lp-label { color: #4a4a4a; line-height: 1.2; overflow-wrap: anywhere; }
.lp-card .lp-value { font-weight: 700; line-height: 1.2; color: #1f1f1f; }
.lp-targets { width: 100%; border-collapse: collapse; }
.lp-targets td, .lp-targets th { padding: 0.18em 0.4em; border-bottom: 1px solid #e3e7e4;
                                 text-align: right; line-height: 1.25; }
.lp-targets td:first-child, .lp-targets th:first-child { text-align: left; }
.lp-targets th { color: #5f5f5f; font-weight: 600; }
</style>"""


def present_mode() -> bool:
    return st.query_params.get(PRESENT_PARAM) == "1"


def presenter_mode() -> bool:
    return st.query_params.get(PRESENTER_PARAM) == "1"


def hide_chrome() -> None:
    """Hide the sidebar and Streamlit's header and toolbar: the slide is the screen."""
    st.html(PRESENT_CSS)


def set_present(on: bool) -> None:
    """Callback: enter (with a new talk code, unless one is in the URL) or leave presentation mode."""
    import secrets

    if on:
        st.query_params[PRESENT_PARAM] = "1"
        if not st.query_params.get(TALK_PARAM):
            st.query_params[TALK_PARAM] = secrets.token_urlsafe(6)
    else:
        for p in (PRESENT_PARAM,):
            if p in st.query_params:
                del st.query_params[p]


_CLICKER_HTML = """<button class="lp-full" type="button" title="Full screen (F)">Full screen (F)</button>"""
_CLICKER_CSS = """
.lp-full { font: inherit; font-size: 0.9rem; padding: 0.25rem 0.7rem; border-radius: 0.5rem;
           border: 1px solid #c9cfcb; background: #fff; cursor: pointer; white-space: nowrap; }
.lp-full:hover { border-color: #1b6e3a; color: #1b6e3a; }
"""
_CLICKER_JS = """
export default function(component) {
  const { setTriggerValue, setStateValue, data, parentElement } = component;
  const keys = { PageDown: 'next', ArrowRight: 'next', ArrowDown: 'next', ' ': 'next',
                 PageUp: 'prev', ArrowLeft: 'prev', ArrowUp: 'prev', Backspace: 'prev',
                 Home: 'first', End: 'last' };
  const full = () => {
    if (document.fullscreenElement) { document.exitFullscreen(); }
    else if (document.documentElement.requestFullscreen) { document.documentElement.requestFullscreen(); }
  };
  let n = (window.__lpClickerCount || 0);
  const onKey = (e) => {
    const t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === 'f' || e.key === 'F') { e.preventDefault(); full(); return; }
    const action = keys[e.key];
    if (!action) return;
    e.preventDefault();
    e.stopPropagation();
    window.__lpClickerCount = ++n;
    setTriggerValue('nav', { action: action, n: n });
  };
  if (window.__lpKeys) document.removeEventListener('keydown', window.__lpKeys, true);
  window.__lpKeys = onKey;
  document.addEventListener('keydown', onKey, true);
  const button = parentElement.querySelector('.lp-full');
  if (button) button.onclick = full;
  const report = () => {
    const v = { w: window.innerWidth, h: window.innerHeight };
    if (!data || data.w !== v.w || data.h !== v.h) setStateValue('viewport', v);
  };
  let timer = null;
  const onResize = () => { clearTimeout(timer); timer = setTimeout(report, 250); };
  window.addEventListener('resize', onResize);
  report();
  return () => {
    document.removeEventListener('keydown', onKey, true);
    if (window.__lpKeys === onKey) window.__lpKeys = null;
    window.removeEventListener('resize', onResize);
    clearTimeout(timer);
  };
}
"""


@st.cache_resource(show_spinner=False)
def _clicker_component():
    return st.components.v2.component("linkdash_clicker", html=_CLICKER_HTML, css=_CLICKER_CSS,
                                      js=_CLICKER_JS)


def clicker(key: str = "lp_clicker") -> tuple[str | None, dict]:
    """The presenter's remote: Page Down / Page Up, the arrow keys, space, Backspace, Home
    and End anywhere on the page, F (or the button it draws) for full screen. Returns the
    key pressed since the last run ("next", "prev", "first", "last" or None) and the
    window's size ``{"w", "h"}`` (a 1280x720 guess until the browser has said)."""
    known = st.session_state.get("_lp_viewport") or DEFAULT_VIEWPORT
    result = _clicker_component()(key=key, data=known, on_nav_change=lambda: None,
                                  on_viewport_change=lambda: None, width="content")
    vp = result.get("viewport") if hasattr(result, "get") else None
    if isinstance(vp, dict) and vp.get("w") and vp.get("h"):
        known = {"w": int(vp["w"]), "h": int(vp["h"])}
        st.session_state["_lp_viewport"] = known
    nav = result.get("nav") if hasattr(result, "get") else None
    return (nav.get("action") if isinstance(nav, dict) else None), known


def slide_cards(figures_dict: dict[str, Any], names: list[str], font_px: int) -> None:
    """KPI cards for a slide: one row, type sized for the screen (``font_px``: the value's)."""
    import html as _html

    cells = "".join(
        f'<div class="lp-card"><div class="lp-label" style="font-size:{max(12, round(font_px * 0.45))}px">'
        f'{_html.escape(figure_label(n))}</div><div class="lp-value" style="font-size:{font_px}px">'
        f'{_html.escape(format_value(n, figures_dict.get(n)))}</div></div>'
        for n in names if n in figures_dict)
    st.html(f'<div class="lp-cards">{cells}</div>')


def slide_chart(fig, key: str, height_px: int) -> None:
    """A chart on a slide, ``height_px`` high (pilot clicks off: a click must not leave the talk)."""
    fig.update_layout(height=int(height_px), autosize=True)
    st.plotly_chart(fig, key=key, config={**PLOTLY_CONFIG, "displayModeBar": False},
                    width="stretch", height=int(height_px))


# the presenter view's board: talk code -> what the main window shows

@st.cache_resource(show_spinner=False)
def _talk_board() -> dict:
    import threading

    return {"lock": threading.Lock(), "talks": {}}


def publish_slide(talk: str, state: dict) -> None:
    """Say which slide the main window of ``talk`` shows (its number, count, title,
    next title and notes); the presenter view reads it. Keeps when the talk started."""
    import time

    board = _talk_board()
    with board["lock"]:
        talks = board["talks"]
        old = talks.get(talk) or {}
        talks[talk] = {**state, "started": old.get("started") or time.time(), "updated": time.time()}
        if len(talks) > 200:  # forget the oldest talks
            for k in sorted(talks, key=lambda k: talks[k]["updated"])[: len(talks) - 200]:
                talks.pop(k, None)


def talk_state(talk: str) -> dict | None:
    board = _talk_board()
    with board["lock"]:
        s = board["talks"].get(talk)
        return dict(s) if s else None


def restart_timer(talk: str) -> None:
    import time

    board = _talk_board()
    with board["lock"]:
        if talk in board["talks"]:
            board["talks"][talk]["started"] = time.time()


def presenter_view(talk: str, every_s: float = 1.0) -> None:
    """The presenter's second window: the current slide's notes, the next slide's title
    and a timer, following the main window of ``talk`` (read every ``every_s`` seconds)."""
    import time

    st.html(PRESENT_CSS)

    @st.fragment(run_every=every_s)
    def _follow() -> None:
        s = talk_state(talk)
        if not s:
            st.info("Waiting for the presentation: open it in the other window with the same talk "
                    f"code ({literal(talk)}).")
            return
        elapsed = int(time.time() - s["started"])
        top = st.columns([3, 1.2, 1], vertical_alignment="center")
        top[0].markdown(f"### Slide {s['index'] + 1} of {s['n']}: {literal(s['title'])}")
        top[1].html(f'<p class="lp-timer" style="font-size:2.2rem;font-weight:700;margin:0">'
                    f'Time {elapsed // 60:02d}:{elapsed % 60:02d}</p>')
        top[2].button("Restart timer", on_click=restart_timer, args=(talk,), key="lp_restart_timer")
        st.markdown(f"**Next:** {literal(s['next_title']) if s.get('next_title') else '(last slide)'}")
        with st.container(border=True, key="lp-notes"):
            st.markdown("**Speaker notes**")
            st.text(s["notes"])

    _follow()


# the deck, made with progress shown and kept for the data version

@st.cache_resource(show_spinner=False)
def _decks() -> dict:
    return {}


def warm_deck_map(portfolio: Portfolio, flt: Filter, quarter: str | None) -> None:
    """Draw the deck's map picture in the background once per data version, filter and
    quarter in this process, so "Make the slides" a moment later does not wait for it."""
    from linkdash import deck

    key = ("warm", portfolio.data_version, flt, quarter)
    started = _decks()
    if key not in started:
        started[key] = deck.warm_map(portfolio, flt, quarter)


def deck_download(portfolio: Portfolio, *, flt: Filter, quarter: str | None, as_of: dt.date | None,
                  demo: bool | None, file_name: str, key: str = "lp_deck") -> None:
    """"Make the slides (.pptx)", with a progress bar while the deck is made, then its
    download button. A deck of the same data version, filter, quarter and date is kept
    in this process and offered at once."""
    from linkdash import deck

    dkey = (portfolio.data_version, flt, quarter, as_of, demo)
    kept = _decks().get(dkey) if portfolio.data_version is not None else None
    if kept is None and st.button("Make the slides (.pptx)", key=key + "_make", width="stretch",
                                  icon=":material/slideshow:",
                                  help="Editable PowerPoint slides of what the filters show."):
        bar = st.progress(0.0, text="Making the slides…")
        data = deck.deck_bytes(portfolio, flt=flt, quarter=quarter, as_of=as_of, demo=demo,
                               progress=lambda done, text: bar.progress(min(max(done, 0.0), 1.0), text=text))
        bar.empty()
        kept = data
        if portfolio.data_version is not None:
            store = _decks()
            store[dkey] = data
            for k in [k for k in store if k[0] != "warm" and k[0] != portfolio.data_version]:
                store.pop(k, None)  # decks of older data
    if kept is not None:
        st.download_button("Slides (.pptx)", data=kept, file_name=file_name, mime=deck.PPTX_MIME,
                           width="stretch", icon=":material/download:", key=key, on_click="ignore")
