"""Presentation mode: one slide as the whole screen, the clicker, the presenter view, the deck download."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import streamlit as st

from linkdash.portfolio import Filter, Portfolio
from linkdash.ui.page import (
    PLOTLY_CONFIG,
    PRESENT_PARAM,
    TALK_PARAM,
    figure_copy,
    literal,
    with_data_revision,
)
from linkdash.ui.widgets import figure_label, format_value

if TYPE_CHECKING:
    from linkdash.story import Demo

# --- presentation mode (the Presentation page on a projector) ---------------------------
# ``?present=1`` shows one slide as the whole screen: no sidebar, no Streamlit chrome,
# type and charts sized from the window's size, which the clicker component reports.
# ``?talk=CODE`` names a talk: the main window publishes its slide to a board kept in
# this server process, and the presenter view (``?presenter=1&talk=CODE``) follows it.

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


def slide_chart(fig, key: str, height_px: int, **layout: Any) -> None:
    """A chart on a slide, ``height_px`` high, with ``layout``'s changes (pilot clicks off:
    a click must not leave the talk). ``fig`` may be shared: the slide's is a copy."""
    fig = figure_copy(fig)
    fig.update_layout(height=int(height_px), autosize=True, **layout)
    if fig.layout.datarevision is None:
        fig = with_data_revision(fig)
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


def _forget_older(kept: dict, version: int | None) -> None:
    """Drop the decks and map warm-ups of older data. ``kept`` is shared by every
    session: its keys are taken in one step (``list``), as iterating it while another
    session's run adds one fails ("dictionary changed size during iteration")."""
    for k in list(kept):
        if (k[1] if k[0] == "warm" else k[0]) != version:
            kept.pop(k, None)


def warm_deck_map(portfolio: Portfolio, flt: Filter, quarter: str | None) -> None:
    """Draw the deck's map picture in the background once per data version, filter and
    quarter in this process, so "Make the slides" a moment later does not wait for it."""
    from linkdash import deck

    key = ("warm", portfolio.data_version, flt, quarter)
    started = _decks()
    if key not in started:
        started[key] = deck.warm_map(portfolio, flt, quarter)
        _forget_older(started, portfolio.data_version)


def deck_download(portfolio: Portfolio, *, flt: Filter, quarter: str | None, as_of: dt.date | None,
                  demo: Demo, file_name: str, key: str = "lp_deck", find=()) -> None:
    """"Make the slides (.pptx)", with a progress bar while the deck is made, then its
    download button. A deck of the same data version, filter, quarter, date and pilots
    picked by name (``find``: their slides are in it) is kept in this process and offered
    at once."""
    from linkdash import deck

    find = tuple(find)
    dkey = (portfolio.data_version, flt, quarter, as_of, demo, find)
    kept = _decks().get(dkey) if portfolio.data_version is not None else None
    if kept is None and st.button("Make the slides (.pptx)", key=key + "_make", width="stretch",
                                  icon=":material/slideshow:",
                                  help="Editable PowerPoint slides of what the filters show."):
        bar = st.progress(0.0, text="Making the slides…")

        def progress(done: float, text: str) -> None:
            bar.progress(min(max(done, 0.0), 1.0), text=text)

        data = deck.deck_bytes(portfolio, flt=flt, quarter=quarter, as_of=as_of, demo=demo,
                               progress=progress, find=find)
        bar.empty()
        kept = data
        if portfolio.data_version is not None:
            store = _decks()
            store[dkey] = data
            _forget_older(store, portfolio.data_version)
    if kept is not None:
        st.download_button("Slides (.pptx)", data=kept, file_name=file_name, mime=deck.PPTX_MIME,
                           width="stretch", icon=":material/download:", key=key, on_click="ignore")
