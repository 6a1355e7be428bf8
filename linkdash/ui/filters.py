"""The shared sidebar filters, links that carry them, the as-of date and the demo badge."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from linkdash import catalogue, quarters
from linkdash.portfolio import Filter, Portfolio, is_illustrative
from linkdash.ui.page import (
    _AS_OF_BASIS,
    AS_OF_KEY,
    CHAIN_KEY,
    COUNTRY_KEY,
    NO_DATA,
    PAGE_FILES,
    QUARTER_KEY,
    REGION_KEY,
    _md,
    today,
)
from linkdash.ui.session import load_portfolio, load_submissions

if TYPE_CHECKING:
    from linkdash.story import Demo


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
    """``31 Dec 2018`` (``quarters.date_text``), ``no data`` for none."""
    return quarters.date_text(d, NO_DATA)


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


def illustrative_shown() -> Demo:
    """``demo=`` for the story, the deck and the report of what the pages show:
    ``story.MIXED`` when illustrative data sits beside real uploads, else whether it is
    illustrative (``portfolio.is_illustrative``)."""
    from linkdash.story import MIXED

    ill = illustrative_state()
    return MIXED if ill.mixed else ill.any


def is_demo_data() -> bool:
    """True when the current data is the illustrative demo data: ``portfolio.is_illustrative``,
    the answer the deck and the report give too."""
    return is_illustrative(load_portfolio())


def demo_badge(where: str = "sidebar") -> bool:
    """Say "illustrative demo data" when some of the current data is: in the sidebar,
    and, when it is mixed with real uploads, as a banner above every page."""
    from linkdash.story import illustrative_notice

    ill = illustrative_state()
    notice = illustrative_notice(ill.any, ill.mixed)
    if not notice:
        return False
    head, rest = notice.split(": ", 1)  # the deck's and the report's words, the head in bold
    text = f"**{head}**: {rest}" + ("" if ill.mixed else " Upload a quarterly workbook to replace it.")
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
