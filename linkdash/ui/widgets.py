"""Small widgets: figure cards, charts, pilot links and pickers, lessons, submissions."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any, Literal

import pandas as pd
import streamlit as st

from linkdash import catalogue
from linkdash.portfolio import Filter, Portfolio
from linkdash.ui.filters import check_link, current_filter, filtered_portfolio, fmt_date, link_values
from linkdash.ui.page import (
    NO_DATA,
    PAGE_FILES,
    PILOT_PARAM,
    PLOTLY_CONFIG,
    _md,
    figure_copy,
    finish_figure,
    is_finished,
)
from linkdash.ui.session import (
    _computed,
    data_version,
    database_url,
    load_portfolio,
)
from linkdash.values import is_blank


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
    for i, (title, names_of_group, width) in enumerate(KPI_GROUPS):
        group = [n for n in names_of_group if n in figures_dict]
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
    color: Literal["normal", "inverse", "off"] = ("normal" if change.good == 1 else "inverse"
                                                  if change.good == -1 else "off")
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
    clicks = bool(ids)
    if not is_finished(fig, clicks):
        # not made by a cached function that finished it (``chart``, ``story_chart``):
        # finished on a copy, as the figure may be shared (see ``ui.page.finish_figure``)
        fig = finish_figure(figure_copy(fig), clicks)
    if not clicks:
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


def computed(func, *args, flt: Filter | None = None, **kwargs) -> Any:
    """``func(portfolio, *args, **kwargs)`` on the current portfolio restricted to
    ``flt`` (default: the sidebar's filter), cached per data version, filter and
    arguments. ``func`` is a function of the core (``charts.income_trend``,
    ``figures.portfolio_figures``...); the result is shared, so callers must not change
    it."""
    return _cached(func, args, kwargs, flt)


def _cached(func, args: tuple, kwargs: dict, flt: Filter | None, shown: bool | None = None) -> Any:
    """:func:`computed`; with ``shown`` a chart finished for :func:`show_chart` (pilot
    clicks on or off) by the cache (``session._computed``)."""
    if flt is None:
        flt = current_filter()
    return _computed(database_url(), data_version(), flt, func.__module__, func.__name__,
                     tuple(args), tuple(sorted(kwargs.items())), shown=shown)


def chart(func, *args, key: str, flt: Filter | None = None,
          pilot_clicks: bool | None = None, **kwargs) -> None:
    """Draw ``func(portfolio, *args, **kwargs)`` (a chart or map of the core), cached as
    :func:`computed` and finished there for the page; clicking a pilot in it opens the
    pilot's page (see :func:`show_chart`)."""
    show_chart(_cached(func, args, kwargs, flt, shown=pilot_clicks is not False),
               key=key, pilot_clicks=pilot_clicks)


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


def find_label(names: dict, pilot_id: str) -> str:
    """A pilot as "Find a pilot" shows it and the URL holds it: ``Kenya dairy cows (KEN-DAIRY)``."""
    return f"{names.get(pilot_id) or pilot_id} ({pilot_id})"


def find_pilot(portfolio: Portfolio, what: str = "the charts below", key: str = "find",
               on_change=None, *, all_named_max: int | None = None,
               named: str | None = None, bind: bool = True) -> tuple[str, ...]:
    """"Find a pilot" for rankings that name only the ends of the list (beyond
    ``all_named_max`` pilots, by default ``charts.ALL_PILOTS_MAX``): a picker kept in the
    URL (``?find=KEN-DAIRY``); the chosen pilot is added to every ranking it is passed to.
    Nothing is shown for fewer pilots (every pilot is named then). ``named``: which
    pilots are named without it (the ends of the ranking). ``bind`` False: the server
    writes the URL itself (a page that writes other parameters in the same run as the
    pick: Streamlit's own binding can lose the race and the pick drop out of the URL).
    Returns the chosen ids."""
    from linkdash import charts

    p = portfolio.pilots
    if len(p) <= (charts.ALL_PILOTS_MAX if all_named_max is None else all_named_max):
        return ()
    ids = sorted(p["pilot_id"].dropna().astype(str))
    names = dict(zip(p["pilot_id"], p["pilot_name"]))
    label = lambda i: find_label(names, i)  # noqa: E731 - what the URL holds too
    check_link(key, [label(i) for i in ids], "pilot", f"no pilot is picked out in {what}")
    named = named or f"they name the lowest and highest {charts.RANK_ENDS}"
    url: dict = dict(index=None, bind="query-params")
    if not bind:
        url = {}
        if key not in st.session_state:  # from the link, once; then the picker's own state
            st.session_state[key] = {label(i): i for i in ids}.get(str(st.query_params.get(key)))
    chosen = st.selectbox(f"Find a pilot in {what} ({len(ids):,} pilots; {named})", ids, key=key,
                          placeholder="Type a pilot's name or id", format_func=label,
                          on_change=on_change, **url)
    if not bind:
        wanted = label(chosen) if chosen else None
        if st.query_params.get(key) != wanted:
            if wanted:
                st.query_params[key] = wanted
            elif key in st.query_params:
                del st.query_params[key]
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


def pilot_facts(facts: pd.Series, per_row: int = 2) -> None:
    """Country, value chain, producer organisation, site, dates and target households."""
    def show(v: Any, fmt=str) -> str:
        return NO_DATA if is_blank(v) else fmt(v)

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
