"""The charts every page, the slide deck and the HTML report draw (plotly 7).

Each function takes a ``Portfolio`` (and a quarter or date when it needs one) and
returns a ``plotly.graph_objects.Figure`` with the shared look of ``linkdash.style``;
``overdue_table`` returns a DataFrame. Portfolio figures (sums, weighted averages,
shares, milestone statuses) come from ``linkdash.figures`` so a chart always agrees with
the KPI cards; this module only reshapes values for drawing. Empty input gives
``no_data_figure`` rather than empty axes.

Clicking a pilot opens its page. Every mark that stands for one pilot (a share bar, a
point of a pilot's income line, a stacked business bar, a Gantt bar or marker, a
dumbbell end, a reporting-grid or LINK-tools cell, a site marker of ``linkdash.maps``)
carries ``customdata = [pilot_id, *extra]``: the pilot id first
(``PILOT_CUSTOMDATA_INDEX``), anything a hover template needs after it
(``%{customdata[1]}``). Heatmaps cannot be selected in plotly, so the grids add an
invisible marker per cell (``PILOT_TARGETS_NAME``) that carries the id and shows the
cell's hover. :func:`pilot_ids_in` lists the ids a figure carries;
:func:`pilot_from_selection` turns Streamlit's selection points into the clicked pilot.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from linkdash import catalogue, figures, quarters, style, values
from linkdash.names import pilot_names
from linkdash.portfolio import Filter, Portfolio
from linkdash.quarters import date_text
from linkdash.values import as_date

NO_DATA_MESSAGE = "No data for this selection"

SHARE_FIGURE_LABELS = {
    "participants": "participants", "members": "members of the producer organisation",
    "leaders": "leaders (board and committee seats)",
}
WHO_LABELS = {"women": "Women", "youth": "Youth (15-35)"}
BUSINESS_LABELS = {
    "sales_usd": ("Sales through the producer organisation", "USD per quarter"),
    "buyers_with_agreements": ("Buyers with a written agreement", "buyers"),
    "prototypes_tested": ("Prototypes tested", "prototypes per quarter"),
}
MILESTONE_SHORT = {
    "training_workshop": "1 Training workshop",
    "vc_map": "2 Value chain map",
    "business_model_canvas": "3 Business model canvas",
    "nbmp_assessment": "4 NBMP assessment",
    "prototype_cycle": "5 Prototype cycle",
    "backstopping": "6 Backstopping",
    "peer_review": "7 Peer-to-peer learning",
    "documentation": "8 Documentation",
    "learning_event": "9 Learning event",
}
# one word each: the rows of the Gantt on a phone (``progress_gantt(..., narrow=True)``)
MILESTONE_TINY = {
    "training_workshop": "1 Training", "vc_map": "2 VC map", "business_model_canvas": "3 Canvas",
    "nbmp_assessment": "4 NBMP", "prototype_cycle": "5 Prototype", "backstopping": "6 Backstop",
    "peer_review": "7 Peers", "documentation": "8 Document", "learning_event": "9 Event",
}
_DAY_MS = 24 * 3600 * 1000


# --- the no-data state -----------------------------------------------------------------

def no_data_figure(title: str, message: str = NO_DATA_MESSAGE) -> go.Figure:
    """An explicit empty state: the title, a centred message, no axes."""
    fig = go.Figure()
    style.apply_layout(fig, title)
    fig.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper",
                       showarrow=False, font=dict(size=style.BASE_FONT_SIZE + 4, color="#777777"))
    style.update_layout(fig, xaxis=dict(visible=False), yaxis=dict(visible=False), height=360,
                             meta={"no_data": True})
    return fig


def is_no_data(fig: go.Figure) -> bool:
    """True for a figure made by ``no_data_figure``."""
    meta = fig.layout.meta
    return isinstance(meta, dict) and bool(meta.get("no_data"))


# --- pilots in the marks ----------------------------------------------------------------

PILOT_CUSTOMDATA_INDEX = 0
PILOT_TARGETS_NAME = "pilot cells"  # the invisible click targets over a heatmap's cells


def pilot_customdata(pilot_ids, *extra) -> list[list]:
    """``customdata`` for marks of pilots: one ``[pilot_id, *extra]`` per mark, the id at
    ``PILOT_CUSTOMDATA_INDEX``; ``extra`` are sequences as long as ``pilot_ids``."""
    return [[pid, *more] for pid, *more in zip(pilot_ids, *extra)]


def _pilot_of(customdata: object) -> str | None:
    """The pilot id of one mark's customdata (``[pilot_id, ...]``, or a bare id)."""
    if isinstance(customdata, (list, tuple, np.ndarray)):
        if len(customdata) <= PILOT_CUSTOMDATA_INDEX:
            return None
        customdata = customdata[PILOT_CUSTOMDATA_INDEX]
    return customdata if isinstance(customdata, str) and customdata else None


def _ids_in_customdata(cd: object, out: set[str]) -> None:
    if isinstance(cd, str):
        out.add(cd)
        return
    if not isinstance(cd, (list, tuple, np.ndarray)) or len(cd) == 0:
        return
    first = cd[PILOT_CUSTOMDATA_INDEX]
    if isinstance(first, str):  # one mark: [pilot_id, *extra]
        out.add(first)
        return
    for item in cd:  # marks (a trace), or rows of marks (a heatmap)
        _ids_in_customdata(item, out)


def pilot_ids_in(fig: go.Figure) -> set[str]:
    """The pilot ids the marks of ``fig`` carry in their customdata (empty for a figure
    whose marks stand for no single pilot: portfolio trends, the NBMP medians)."""
    out: set[str] = set()
    for t in fig.data:
        cd = getattr(t, "customdata", None)
        if cd is not None:
            _ids_in_customdata(list(cd) if isinstance(cd, tuple) else cd, out)
    return out


def pilot_from_selection(points: list[dict] | None, pilot_ids=None) -> str | None:
    """The pilot a click chose, from Streamlit's selection ``points`` (dicts with
    ``customdata``, ``x``, ``y``...): the id in a point's customdata, else a pilot id or
    name found in its ``x`` or ``y`` (a Gantt row "Africa · Kenya dairy" counts). With
    ``pilot_ids`` (ids, or a mapping id -> name) only those pilots count; ids are
    matched in any case. None when no point names a pilot."""
    if not points:
        return None
    names: dict[str, str] = {}
    if pilot_ids is not None:
        items = pilot_ids.items() if hasattr(pilot_ids, "items") else ((p, None) for p in pilot_ids)
        for pid, name in items:
            if isinstance(pid, str):
                names[pid] = name if isinstance(name, str) else ""
    by_key = {pid.upper(): pid for pid in names}
    by_key.update({n.casefold(): pid for pid, n in names.items() if n})

    def known(value: object) -> str | None:
        if not isinstance(value, str) or not value.strip():
            return None
        v = value.strip()
        return by_key.get(v.upper()) or by_key.get(v.casefold())

    for point in points:
        if not isinstance(point, dict):
            continue
        pid = _pilot_of(point.get("customdata"))
        if pid is not None:
            if not names:
                return pid
            hit = known(pid)
            if hit:
                return hit
        for axis in ("y", "x"):
            value = point.get(axis)
            for v in (value if isinstance(value, (list, tuple)) else [value]):
                for part in ([v] + v.split(" · ")[1:] if isinstance(v, str) else [v]):
                    hit = known(part)
                    if hit:
                        return hit
    return None


def _cell_targets(xs: list[str], ys: list[str], pilot_ids: list[str], hover: list[list[str]],
                  size: int) -> go.Scatter:
    """Invisible markers at the centre of each heatmap cell (``size`` px squares): plotly
    cannot select a heatmap's cells, so these carry ``[pilot_id, hover]`` and show the
    cell's hover; near a cell's edge the heatmap's own, identical hover shows."""
    px, py, cd = [], [], []
    for i, (y, pid) in enumerate(zip(ys, pilot_ids)):
        for j, x in enumerate(xs):
            px.append(x)
            py.append(y)
            cd.append([pid, hover[i][j]])
    return go.Scatter(
        x=px, y=py, mode="markers", name=PILOT_TARGETS_NAME, showlegend=False,
        marker=dict(symbol="square", size=size, color="rgba(0, 0, 0, 0)", opacity=0),
        selected=dict(marker=dict(opacity=0)), unselected=dict(marker=dict(opacity=0)),
        customdata=cd, hovertemplate="%{customdata[1]}<extra></extra>")


def _grid_ranges(fig: go.Figure, n_columns: int, n_rows: int) -> None:
    """A heatmap's axes span its cells exactly, first row at the top (autorange would
    pad them for the size of the click targets' markers)."""
    style.update_layout(fig, xaxis=dict(range=[-0.5, n_columns - 0.5], autorange=False),
                             yaxis=dict(range=[n_rows - 0.5, -0.5], autorange=False))


def _zoom_on_drag(fig: go.Figure) -> go.Figure:
    """Keep dragging a zoom when the page lets a click select a pilot (Streamlit would
    make an unset drag mode a pan)."""
    style.update_layout(fig, dragmode="zoom")
    return fig


# --- small helpers ---------------------------------------------------------------------

def _pilot_attr(portfolio: Portfolio, column: str) -> dict[str, object]:
    p = portfolio.pilots
    return dict(zip(p["pilot_id"], p[column]))


def _span(qs: list[str]) -> str:
    """"Q3 2016 to Q4 2018" for titles of trend charts."""
    if not qs:
        return ""
    return quarters.label(qs[0]) if len(qs) == 1 else f"{quarters.label(qs[0])} to {quarters.label(qs[-1])}"


QUARTERS_LABELLED_MAX = 12  # a quarter axis names every quarter up to this many (three years)
YEARS_LABELLED_MAX = 5  # beyond, it names years, at most this many (level, on a phone too)


def _every_year(qs: list[str], most: float) -> list[str]:
    """The first quarters of the years in ``qs`` ("2017-Q1"), every second or third year
    when there are more than ``most``."""
    firsts = [q for q in qs if q.endswith("Q1")]
    return firsts[::max(1, math.ceil(len(firsts) / max(most, 1)))]


def _quarter_axis(qs: list[str]) -> dict:
    """A category axis of quarters: each quarter named ("2017-Q3") up to
    ``QUARTERS_LABELLED_MAX`` (the page script shows years only on a phone); with more,
    years at their first quarter ("2017"), every second one or more beyond
    ``YEARS_LABELLED_MAX`` years, so forty quarters' labels do not pile up under the plot."""
    axis: dict[str, Any] = dict(type="category", categoryorder="array", categoryarray=qs,
                                title=dict(text="Quarter"))
    if len(qs) > QUARTERS_LABELLED_MAX and sum(q.endswith("Q1") for q in qs) >= 2:
        shown = _every_year(qs, YEARS_LABELLED_MAX)
        axis.update(tickmode="array", tickvals=shown, ticktext=[q[:4] for q in shown], tickangle=0,
                    title=dict(text=""))  # (years need no axis title; on a phone it hit the legend)
    return axis


def _all_quarters(portfolio: Portfolio, extra: list[str | None] | None = None) -> list[str]:
    """Every quarter from the first to the last of the data and of ``extra`` (a target's
    quarters, None where it has none)."""
    qs = sorted(set(portfolio.quarters()) | set(q for q in (extra or []) if q))
    return quarters.span(qs[0], qs[-1]) if qs else []


def _ref_line(fig: go.Figure, qs: list[str], y: float, name: str, color: str = style.REFERENCE_COLOR,
              dash: str = "dash") -> None:
    """A horizontal reference (baseline, target) across the quarter axis, named in the legend."""
    fig.add_trace(go.Scatter(x=qs, y=[y] * len(qs), mode="lines", name=name,
                             line=dict(color=color, dash=dash, width=2),
                             hovertemplate=name + "<extra></extra>"))


# --- many pilots: name each up to a few dozen, else rank and keep the ends ---------------
# At 13 pilots every chart names every pilot. At hundreds a chart names the lowest and the
# highest few of a ranking (and any pilot asked for, ``find``), aggregates the rest (by
# region, country or value chain) and never draws one trace per pilot.

ALL_PILOTS_MAX = 30      # a ranking names every pilot up to this many
RANK_ENDS = 10           # beyond it, the lowest and the highest this many
GRID_PILOTS_MAX = 40     # a grid (reporting, LINK tools) has a row per pilot up to this many
SMALL_MULTIPLES_MAX = 16  # the income trend has a panel per pilot up to this many
GAP_PREFIX = "⋯ "        # the label of the row that stands for the pilots left out


def rank_window(df: pd.DataFrame, *, ends: int = RANK_ENDS, find=(),
                id_col: str = "pilot_id") -> tuple[pd.DataFrame, int]:
    """The rows of a ranking to draw. ``df`` is sorted as drawn (first = rank 1) and
    gets a ``rank`` column. Up to ``ALL_PILOTS_MAX`` rows: all of them; beyond: the first
    and the last ``ends`` and any row whose id is in ``find``, with a row standing for
    each run of rows left out (``is_gap`` True, ``name`` "⋯ #11 to #995 ⋯"). Returns the rows
    and how many were left out."""
    df = df.assign(rank=np.arange(1, len(df) + 1), is_gap=False)
    if len(df) <= ALL_PILOTS_MAX:
        return df, 0
    wanted = set(find or ())
    keep = (df["rank"] <= ends) | (df["rank"] > len(df) - ends) | df[id_col].isin(wanted)
    shown = df[keep]
    rows, last = [], 0
    for r in shown.itertuples(index=False):
        if r.rank > last + 1:
            gap: dict[str, object] = {c: None for c in df.columns}
            gap.update({"rank": last + 1, "is_gap": True,
                        "name": f"{GAP_PREFIX}#{last + 1} to #{r.rank - 1} ⋯"})
            rows.append(gap)
        rows.append(r._asdict())
        last = r.rank
    out = pd.DataFrame(rows, columns=df.columns)
    return out, int(len(df) - len(shown))


def _ranked_subtitle(n_all: int, left_out: int, what: str = "pilots") -> str:
    if not left_out:
        return ""
    return (f"The lowest and highest {RANK_ENDS} of {n_all:,} {what} (the rest in between: "
            "find any pilot with the picker above the chart)")


VALUE_CHAIN_LEGEND = "Colour = value chain:"


def value_chain_legend(fig: go.Figure, chains) -> None:
    """Legend entries saying which colour is which value chain (a square of the chain's
    colour each, no data), for charts whose marks are coloured by value chain; the
    legend's title (``VALUE_CHAIN_LEGEND``) says what the colours are."""
    present = [c for c in catalogue.VALUE_CHAINS if c in set(chains)]
    present += sorted({str(c) for c in chains if c not in catalogue.VALUE_CHAINS and isinstance(c, str)})
    for vc in present:
        fig.add_trace(go.Scatter(
            x=[None], y=[None], mode="markers", name=style.value_chain_label(vc),
            marker=dict(symbol="square", size=14, color=style.value_chain_color(vc)),
            hoverinfo="skip", showlegend=True))
    # the title above the entries: beside them a narrow chart's legend runs past its edge
    style.update_layout(fig, legend=dict(title=dict(text=VALUE_CHAIN_LEGEND, side="top")))


# --- reporting -------------------------------------------------------------------------

def _reporting_frame(portfolio: Portfolio, qs: list[str]) -> pd.DataFrame:
    """figures.reporting_grid (values per pilot and quarter) as booleans: reported or not."""
    return figures.reporting_grid(portfolio, qs) > 0


def _start_quarters(portfolio: Portfolio) -> dict[str, str]:
    """Pilot id -> the quarter of its start_date (pilots with one)."""
    p = portfolio.pilots
    if "start_date" not in p.columns:
        return {}
    out = {}
    for pid, d in zip(p["pilot_id"], p["start_date"]):
        d = as_date(d)
        if d is not None:
            out[pid] = quarters.of_date(d)
    return out


GRID_QUARTERS = 12  # the reporting grid shows at most this many quarters, up to the chosen one
NARROW_QUARTERS = 4  # on a phone, the grid scrolls to its latest this many (``ui.page_look``)


def _narrow_grid(qs: list[str]) -> dict:
    """How a quarter grid reads on a phone (``ui.page_look``): its latest quarters only,
    labelled "Q4 / '18", pilot names a little smaller."""
    return {"x_last": NARROW_QUARTERS, "x_ticktext": [f"{q[5:]}<br>'{q[2:4]}" for q in qs], "y_font": 12}


def _grid_quarters(portfolio: Portfolio, quarter: str | None, last: int | None) -> list[str]:
    qs = _all_quarters(portfolio)
    if quarter and qs:
        qs = [q for q in qs if q <= quarter] or qs
    return qs[-last:] if last else qs


def reporting_grid_chart(portfolio: Portfolio, quarter: str | None = None, *,
                         last: int | None = GRID_QUARTERS) -> go.Figure:
    """Pilot x quarter: which pilots reported any indicator for which quarter, for the
    ``last`` quarters up to ``quarter`` (default: the latest with data). Quarters before
    a pilot's start date are drawn apart and not counted as missing reports. Beyond
    ``GRID_PILOTS_MAX`` pilots the rows are countries (regions beyond as many countries):
    the share of their pilots that reported, worst first. On a phone the grid shows its
    latest ``NARROW_QUARTERS`` quarters (``layout.meta.narrow``)."""
    title = "Which pilots reported, by quarter"
    if portfolio.pilots.empty or portfolio.indicators.empty:
        return no_data_figure(title, "No indicator reports yet")
    qs = _grid_quarters(portfolio, quarter, last)
    grid = _reporting_frame(portfolio, qs)
    names = pilot_names(portfolio.pilots)
    pilots = sorted(portfolio.pilots["pilot_id"], key=lambda p: names.get(p, p))
    grid = grid.reindex(index=pilots, columns=qs).fillna(False).astype(bool)
    starts = _start_quarters(portfolio)
    start_q = np.array([starts.get(p) or "" for p in pilots], dtype=object)
    before = np.array([[bool(s) and q < s for q in qs] for s in start_q],
                      dtype=bool).reshape(len(pilots), len(qs))
    reported = grid.to_numpy()
    z = np.where(reported, 1, np.where(before, -1, 0))  # a report before the start still counts
    if len(pilots) > GRID_PILOTS_MAX:
        return _reporting_by_group(portfolio, pilots, qs, z, title)
    text = np.where(z == 1, "✓", "")
    state = {1: "reported", 0: "no report", -1: "before the pilot started"}
    hover = [[f"{names.get(p, p)}, {q}: {state[int(z[i][j])]}" for j, q in enumerate(qs)]
             for i, p in enumerate(pilots)]
    ys = [names.get(p, p) for p in pilots]
    fig = go.Figure(go.Heatmap(
        z=z, x=qs, y=ys, zmin=-1, zmax=1,
        colorscale=[[0, style.NOT_DUE_FILL], [1 / 3, style.NOT_DUE_FILL],
                    [1 / 3, style.NO_DATA_FILL], [2 / 3, style.NO_DATA_FILL],
                    [2 / 3, style.STATUS_COLORS["completed"]], [1, style.STATUS_COLORS["completed"]]],
        showscale=False, xgap=3, ygap=3, text=text, texttemplate="%{text}",
        textfont=dict(color="white", size=style.BASE_FONT_SIZE),
        customdata=[pilot_customdata([p] * len(qs), hover[i]) for i, p in enumerate(pilots)],
        hovertemplate="%{customdata[1]}<extra></extra>"))
    fig.add_trace(_cell_targets(qs, ys, pilots, hover, size=30))
    n_reported, due = int((z == 1).sum()), int((z != -1).sum())
    legend = "green ✓ = at least one indicator value, grey = no report"
    if (z == -1).any():
        legend += ", light = before the pilot started"
    style.apply_layout(fig, f"{title}, {_span(qs)}",
                       subtitle=f"{n_reported} of {due} pilot-quarters reported · {legend}")
    top = style.top_margin(fig, 50)  # quarter labels on two lines above the grid
    style.update_layout(fig, xaxis=_quarter_axis(qs), yaxis=dict(showgrid=False),
                             height=max(360, top + 34 * len(pilots) + 40), margin=dict(t=top, b=20),
                             meta={"narrow": _narrow_grid(qs)})
    _grid_ranges(fig, len(qs), len(pilots))
    fig.update_xaxes(showgrid=False, side="top", title=None, tickmode="array", tickvals=qs,
                     ticktext=[f"{q[5:]}<br>{q[:4]}" for q in qs], tickangle=0)
    return _zoom_on_drag(fig)


def _reporting_by_group(portfolio: Portfolio, pilots: list[str], qs: list[str], z: np.ndarray,
                        title: str) -> go.Figure:
    """The reporting grid of many pilots: a row per country (per region beyond
    ``GRID_PILOTS_MAX`` countries), each cell the share of its pilots that reported
    among those that had started, worst first in the latest quarter."""
    p = portfolio.pilots.drop_duplicates("pilot_id").set_index("pilot_id")
    by = "country" if p["country"].nunique() <= GRID_PILOTS_MAX else "region"
    label_of = (dict(zip(p["country"], p["country_name"])) if by == "country" else {})
    groups = np.array([g if isinstance(g, str) else "Unknown" for g in p[by].reindex(pilots).tolist()],
                      dtype=object)
    due = (z != -1)
    done = (z == 1)
    rows = []
    for g in sorted(set(groups)):
        m = groups == g
        n_due, n_done = due[m].sum(axis=0), done[m].sum(axis=0)
        share = np.where(n_due > 0, n_done / np.maximum(n_due, 1), np.nan)
        rows.append((g, int(m.sum()), share, n_done, n_due))
    rows.sort(key=lambda r: (np.nan_to_num(r[2][-1], nan=2.0), str(r[0])))
    ys = [f"{label_of.get(g, g) or g} ({n:,})" for g, n, *_ in rows]
    zz = np.array([r[2] for r in rows], dtype=float)
    text = [[("" if np.isnan(v) else f"{v * 100:.0f}%") for v in r[2]] for r in rows]
    hover = [[f"{ys[i]}, {q}: {int(r[3][j])} of {int(r[4][j])} pilots reported" for j, q in enumerate(qs)]
             for i, r in enumerate(rows)]
    fig = go.Figure(go.Heatmap(
        z=zz, x=qs, y=ys, zmin=0, zmax=1, xgap=2, ygap=2, showscale=False,
        colorscale=[[0, "#F2F2F2"], [0.5, "#A8D8C5"], [1, style.STATUS_COLORS["completed"]]],
        text=text, texttemplate="%{text}", textfont=dict(size=style.BASE_FONT_SIZE - 4),
        hovertext=hover, hovertemplate="%{hovertext}<extra></extra>"))
    total_due, total_done = int(due.sum()), int(done.sum())
    where = "country" if by == "country" else "region"
    places = where if len(rows) == 1 else "countries" if where == "country" else where + "s"
    style.apply_layout(fig, f"Share of pilots that reported, by {where} and quarter, {_span(qs)}",
                       subtitle=f"{len(pilots):,} pilots in {len(rows)} {places} · "
                                f"{total_done:,} of {total_due:,} pilot-quarters reported · "
                                "lowest share first "
                                "in the latest quarter · the pilots that did not report are listed below")
    top = style.top_margin(fig, 50)
    style.update_layout(fig, xaxis=_quarter_axis(qs), yaxis=dict(showgrid=False, autorange="reversed"),
                             height=max(360, top + 30 * len(rows) + 40), margin=dict(t=top, b=20),
                             meta={"narrow": _narrow_grid(qs)})
    fig.update_xaxes(showgrid=False, side="top", title=None, tickmode="array", tickvals=qs,
                     ticktext=[f"{q[5:]}<br>{q[:4]}" for q in qs], tickangle=0)
    _grid_ranges(fig, len(qs), len(rows))
    return fig


# --- progress --------------------------------------------------------------------------

def _milestones_as_of(portfolio: Portfolio, as_of: dt.date) -> pd.DataFrame:
    """figures.milestone_status_as_of with ``status_as_of`` and ``overdue`` columns."""
    ms = figures.milestone_status_as_of(portfolio.milestones, as_of).copy()
    if "status_as_of" not in ms.columns:
        for cand in ("status_on", "status_at", "status"):
            if cand in ms.columns:
                ms["status_as_of"] = ms[cand]
                break
    if "overdue" not in ms.columns:
        ms["overdue"] = ms["status_as_of"].eq("overdue")
    ms["overdue"] = ms["overdue"].fillna(False).astype(bool)
    return ms


def _pilot_order(portfolio: Portfolio, group_by: str) -> list[tuple[str, str]]:
    """(group, pilot_id) in display order: groups alphabetically, pilots by name."""
    names = pilot_names(portfolio.pilots)
    col = "value_chain" if group_by == "value_chain" else "region"
    p = portfolio.pilots
    rows = []
    for pid, g in zip(p["pilot_id"], p[col]):
        label = (style.value_chain_label(g) if col == "value_chain"
                 else g if isinstance(g, str) else "Unknown")
        rows.append((label, pid))
    return sorted(rows, key=lambda r: (r[0], names.get(r[1], r[1])))


GANTT_PILOTS_MAX = 20  # pilots on one Gantt (a page of them beyond; ``attention_order``)


def attention_order(portfolio: Portfolio, as_of: dt.date | None = None) -> list[str]:
    """The pilots that need attention first: most overdue milestones, then most days
    late in all, then by name. The Progress page pages its Gantt in this order when
    there are more pilots than fit one (``GANTT_PILOTS_MAX``)."""
    as_of = as_of or dt.date.today()
    names = pilot_names(portfolio.pilots)
    ids = portfolio.pilots["pilot_id"].tolist()
    if portfolio.milestones.empty:
        return sorted(ids, key=lambda p: names.get(p, p))
    ms = _milestones_as_of(portfolio, as_of)
    late = ms.assign(d=ms["days_late"].where(ms["overdue"]).astype("float64"))
    agg = late.groupby("pilot_id").agg(n=("overdue", "sum"), d=("d", "sum"))
    n, d = agg["n"].to_dict(), agg["d"].to_dict()
    return sorted(ids, key=lambda p: (-int(n.get(p, 0)), -float(np.nan_to_num(d.get(p, 0.0))),
                                      names.get(p, p)))


@dataclass(frozen=True)
class GanttMark:
    """One thing the Gantt draws for one milestone of one pilot. ``layer``: ``planned``
    (a light bar, ``outlined`` when overdue), an actual bar by its status
    (``completed``, ``in_progress``, ``dropped``, ``not_started``), ``dropped_mark`` (an
    x for a dropped milestone that never started), ``overdue`` (⚠ at the planned end)
    or ``beyond`` (an arrow where an in-progress bar is cut at the axis' right edge).
    Bars run from ``start`` to ``end``; marks stand at ``end``."""
    layer: str
    pilot_id: str
    milestone: str
    group: str  # the outer row label: "group · pilot name" (or the pilot name)
    row: str  # the inner row label: the milestone's short name
    start: dt.date | None
    end: dt.date
    hover: str
    outlined: bool = False


@dataclass(frozen=True)
class GanttPlan:
    """What the Gantt shows, before any drawing (``gantt_plan``): the rows (``groups``
    and ``rows`` side by side, nine per pilot), the marks in row order, the date window
    and where ``as_of`` lies in it (``"in"``, ``"after"``, ``"before"``), how many pilots
    were asked for and how many are drawn."""
    title: str
    as_of: dt.date
    groups: list[str]
    rows: list[str]
    marks: list[GanttMark]
    lo: dt.date
    hi: dt.date
    where: str
    n_all: int
    n_drawn: int
    empty: str | None = None  # why there is nothing to draw
    pilots: tuple[str, ...] = ()  # the pilots drawn, in row order (nine rows each)

    @property
    def one(self) -> bool:
        """One pilot alone: its rows are not labelled with its name."""
        return self.n_all == 1

    def layer(self, name: str) -> list[GanttMark]:
        return [m for m in self.marks if m.layer == name]


GANTT_ACTUAL = ("completed", "in_progress", "dropped", "not_started")  # drawn in this order


def gantt_plan(portfolio: Portfolio, as_of: dt.date | None = None, group_by: str = "region",
               order: list[str] | tuple[str, ...] | None = None) -> GanttPlan:
    """The Gantt's rows and marks (see ``progress_gantt``), without plotly: planned
    periods; actual periods by status, an open one running to ``as_of`` (cut at the
    axis' edge when ``as_of`` lies far after the milestones); overdue milestones marked
    at their planned end with the days late counted to ``as_of``."""
    as_of = as_of or dt.date.today()
    title = f"Learning-cycle progress as of {date_text(as_of)}"
    if portfolio.pilots.empty or portfolio.milestones.empty:
        return GanttPlan(title, as_of, [], [], [], as_of, as_of, "in", 0, 0,
                         empty="No milestones reported for this selection")
    names = pilot_names(portfolio.pilots)
    grouped = _pilot_order(portfolio, group_by)
    if order is not None:
        group_of = {pid: g for g, pid in grouped}
        grouped = [(group_of[p], p) for p in order if p in group_of]
    n_all = len(grouped)
    grouped = grouped[:GANTT_PILOTS_MAX]
    drawn = {pid for _, pid in grouped}
    ms = _milestones_as_of(portfolio, as_of) if n_all <= GANTT_PILOTS_MAX else \
        _milestones_as_of(portfolio.filtered(Filter(pilots=tuple(drawn))), as_of)
    by_key = {(r.pilot_id, r.milestone): r for r in ms.itertuples(index=False)}

    outer, inner, rows = [], [], []
    for group, pid in grouped:
        for m in catalogue.MILESTONES:
            outer.append(f"{group} · {names.get(pid, pid)}" if group_by else names.get(pid, pid))
            inner.append(MILESTONE_SHORT[m])
            rows.append((pid, m, by_key.get((pid, m))))

    lo, hi, where = _gantt_window(ms, as_of)
    marks: list[GanttMark] = []
    for (pid, m, r), o, i in zip(rows, outer, inner):
        if r is None:
            continue
        marks += _gantt_marks(r, pid, m, o, i, names.get(pid, pid), as_of, hi, where)
    empty = None if marks else "No planned or actual dates for these milestones"
    return GanttPlan(title, as_of, outer, inner, marks, lo, hi, where, n_all, len(grouped), empty,
                     tuple(pid for _, pid in grouped))


def _gantt_marks(r: Any, pid: str, m: str, o: str, i: str, name: str, as_of: dt.date,
                 hi: dt.date, where: str) -> list[GanttMark]:
    """The marks of one milestone row ``r`` (of ``_milestones_as_of``)."""
    out: list[GanttMark] = []
    ps, pe = as_date(r.planned_start), as_date(r.planned_end)
    as_, ae = as_date(r.actual_start), as_date(r.actual_end)
    status = r.status_as_of if isinstance(r.status_as_of, str) else "not_started"
    overdue = bool(r.overdue)
    label = catalogue.MILESTONE_LABELS[m]
    head = f"<b>{name}</b><br>{label}<br>"
    if ps or pe:
        s, e = ps or pe, pe or ps
        assert s is not None and e is not None
        out.append(GanttMark("planned", pid, m, o, i, s, e,
                             head + f"Planned {date_text(ps)} – {date_text(pe)}"
                             + ("<br><b>⚠ overdue</b>" if overdue else ""), outlined=overdue))
    if as_ and status != "not_started" or (ae and status == "completed"):
        s = as_ or ae
        assert s is not None
        e = ae if (ae and ae <= as_of) else as_of
        if e < s:
            e = s
        if where == "after" and e > hi:  # as_of lies far right of the milestones: cut at the edge
            e = max(hi, s)
            out.append(GanttMark("beyond", pid, m, o, i, None, e,
                                 head + f"In progress since {date_text(as_)}, "
                                 f"still open on {date_text(as_of)}"))
        out.append(GanttMark(status, pid, m, o, i, s, e,
                             head + f"Actual {date_text(as_)} – "
                             f"{date_text(ae) if ae and ae <= as_of else 'ongoing'}"
                             f"<br>{style.STATUS_LABELS.get(status, status)}"))
    if status == "dropped" and not (as_ or ae):
        at = ps + (pe - ps) / 2 if (ps and pe) else (ps or pe)
        if at:
            out.append(GanttMark("dropped_mark", pid, m, o, i, None, at, head + "Dropped"))
    if overdue and pe:
        out.append(GanttMark("overdue", pid, m, o, i, None, pe,
                             head + f"⚠ overdue: planned end {date_text(pe)}, {(as_of - pe).days} days late"))
    return out


def progress_gantt(portfolio: Portfolio, as_of: dt.date | None = None,
                   group_by: str = "region", order: list[str] | tuple[str, ...] | None = None, *,
                   narrow: bool = False) -> go.Figure:
    """Nine milestones per pilot: planned periods as light bars, actual periods as solid
    bars coloured by status (in-progress bars run to ``as_of``), overdue milestones
    outlined in vermillion with a ⚠ at their planned end, a vertical line at ``as_of``.
    Pilots are grouped by region or value chain; milestones in learning-cycle order.
    The axis spans the milestone dates; when ``as_of`` lies years after them, in-progress
    bars stop at the right edge with an arrow and the edge says "as of <date> →"
    (statuses and days late still count to ``as_of``).

    ``order``: the pilots to draw, in that order (a page of ``attention_order``);
    default every pilot, grouped. At most ``GANTT_PILOTS_MAX`` pilots are drawn (the
    subtitle says how many were left out). One pilot alone is drawn without its name
    on every row.

    ``narrow``: for a phone (the Progress page asks the browser): one level of short row
    labels (``MILESTONE_TINY``) and each pilot's name on a row of its own above its bars,
    so the plot keeps most of the width (``_narrow_gantt_rows``)."""
    plan = gantt_plan(portfolio, as_of, group_by, order)
    if plan.empty:
        return no_data_figure(plan.title, plan.empty)
    title, as_of, one, outer, inner = plan.title, plan.as_of, plan.one, plan.groups, plan.rows
    lo, hi, where, n_all = plan.lo, plan.hi, plan.where, plan.n_all

    def y(marks: list[GanttMark]) -> Any:
        if narrow:
            return [_narrow_row(k.pilot_id, k.milestone) for k in marks]
        return [k.row for k in marks] if one else [[k.group for k in marks], [k.row for k in marks]]

    def bar_x(marks: list[GanttMark]) -> list[float]:
        return [max((k.end - k.start).days, 1) * _DAY_MS for k in marks if k.start is not None]

    def hover(marks: list[GanttMark]) -> list[str]:
        return [k.hover for k in marks]

    def pids(marks: list[GanttMark]) -> Any:
        return pilot_customdata([k.pilot_id for k in marks])

    fig = go.Figure()
    planned = plan.layer("planned")
    if planned:
        fig.add_trace(go.Bar(
            orientation="h", y=y(planned), x=bar_x(planned),
            base=[k.start.isoformat() for k in planned if k.start],
            marker=dict(color=style.PLANNED_COLOR,
                        line=dict(color=[style.STATUS_COLORS["overdue"] if k.outlined else "rgba(0, 0, 0, 0)"
                                         for k in planned], width=2.5)),
            width=0.8, name="Planned", hovertext=hover(planned),
            customdata=pids(planned), hovertemplate="%{hovertext}<extra></extra>"))
    for status in GANTT_ACTUAL:
        d = plan.layer(status)
        if not d:
            continue
        fig.add_trace(go.Bar(
            orientation="h", y=y(d), x=bar_x(d), base=[k.start.isoformat() for k in d if k.start],
            marker=dict(color=style.status_color(status)), width=0.45,
            name=f"Actual: {style.STATUS_LABELS[status].lower()}", hovertext=hover(d),
            customdata=pids(d), hovertemplate="%{hovertext}<extra></extra>"))
    dm = plan.layer("dropped_mark")
    if dm:
        fig.add_trace(go.Scatter(
            y=y(dm), x=[k.end.isoformat() for k in dm], mode="markers",
            marker=dict(symbol="x", size=13, color=style.STATUS_COLORS["dropped"]),
            name="Dropped", hovertext=hover(dm), customdata=pids(dm),
            hovertemplate="%{hovertext}<extra></extra>"))
    warn = plan.layer("overdue")
    if warn:
        fig.add_trace(go.Scatter(
            y=y(warn), x=[k.end.isoformat() for k in warn], mode="markers",
            marker=dict(symbol="triangle-up", size=14, color=style.STATUS_COLORS["overdue"],
                        line=dict(color="white", width=1)),
            name="⚠ Overdue (at planned end)", hovertext=hover(warn),
            customdata=pids(warn), hovertemplate="%{hovertext}<extra></extra>"))
    beyond = plan.layer("beyond")
    if beyond:
        fig.add_trace(go.Scatter(
            y=y(beyond), x=[k.end.isoformat() for k in beyond], mode="markers", cliponaxis=False,
            marker=dict(symbol="arrow-right", size=16, color=style.STATUS_COLORS["in_progress"],
                        line=dict(color=style.STATUS_COLORS["in_progress"], width=1)),
            name=f"Still in progress on {date_text(as_of)} (bar cut at the edge)", hovertext=hover(beyond),
            customdata=pids(beyond), hovertemplate="%{hovertext}<extra></extra>"))
    if where == "in":
        fig.add_shape(type="line", xref="x", yref="paper", x0=as_of.isoformat(), x1=as_of.isoformat(),
                      y0=0, y1=1, line=dict(color="#222222", width=2, dash="dot"))
    if narrow:
        pass  # no room beside the pilots' names: the title and the subtitle say the date
    elif where != "in":
        # as_of lies far from the milestones: say so at the edge instead of a far-away line
        after = where == "after"
        fig.add_annotation(x=1 if after else 0, y=1, xref="paper", yref="paper", yanchor="top",
                           xanchor="right" if after else "left", showarrow=False,
                           text=f"as of {date_text(as_of)} →" if after else f"← as of {date_text(as_of)}",
                           font=dict(size=style.BASE_FONT_SIZE - 2), bgcolor="white")
    else:
        fig.add_annotation(x=as_of.isoformat(), y=1, xref="x", yref="paper", yanchor="top",
                           xanchor="right", text=f"as of {date_text(as_of)}", showarrow=False,
                           font=dict(size=style.BASE_FONT_SIZE - 2), bgcolor="white")
    n_over = len(warn)
    parts = []
    if n_all > GANTT_PILOTS_MAX:
        parts.append(f"{plan.n_drawn} of {n_all:,} pilots")
    elif order is not None and not one:
        parts.append(f"{n_all} pilots in the order of the list, each labelled with its "
                     f"{'value chain' if group_by == 'value_chain' else 'region'}")
    elif not one:
        parts.append(f"Pilots grouped by {'value chain' if group_by == 'value_chain' else 'region'}")
    parts.append("light bars planned, solid bars actual")
    if narrow and where != "in":
        parts.append(f"{date_text(as_of)} lies {'after' if where == 'after' else 'before'} these dates"
                     + (" (open bars cut at the right edge)" if where == "after" else ""))
    elif narrow:
        parts.append(f"dotted line: {date_text(as_of)}")
    parts.append(f"{n_over} milestone{'s' if n_over != 1 else ''} overdue")
    subtitle = " · ".join(parts)
    subtitle = subtitle[0].upper() + subtitle[1:]
    style.apply_layout(fig, title, subtitle=subtitle)
    pad = (hi - lo) * 0.03
    n_rows = len(inner)
    if narrow:
        yaxis, n_rows = _narrow_gantt_rows(fig, plan)
    elif one:
        yaxis = dict(type="category", autorange="reversed", showgrid=False, categoryorder="array",
                     categoryarray=inner, tickfont=dict(size=style.BASE_FONT_SIZE - 3))
    else:
        yaxis = dict(type="multicategory", autorange="reversed", showgrid=False,
                     categoryorder="array", categoryarray=[outer, inner],
                     tickfont=dict(size=style.BASE_FONT_SIZE - 4), dividercolor="#BBBBBB")
    style.update_layout(fig,
        barmode="overlay", bargap=0.15,
        xaxis=dict(type="date", title=None, side="top",
                   range=[(lo - pad).isoformat(), (hi + pad).isoformat()]),
        yaxis=yaxis,
        height=max(420, style.top_margin(fig, 40) + 19 * n_rows + 110),
        legend=dict(orientation="h", y=-0.02, yanchor="top", x=0),
        margin=dict(t=style.top_margin(fig, 40)),
    )
    fig.update_xaxes(showgrid=True, gridcolor="#E5E5E5")
    return _zoom_on_drag(fig)


def _narrow_row(pilot_id: str, milestone: str = "") -> str:
    """The category of one row of the phone's Gantt (a pilot's name row: no milestone)."""
    return f"{pilot_id}|{milestone}"


def _narrow_gantt_rows(fig: go.Figure, plan: GanttPlan) -> tuple[dict, int]:
    """The phone's rows: above each pilot's nine rows a row of its own with its name
    (and group) written across the plot, the milestones labelled with one word each.
    Adds the names to ``fig``; returns the y axis and the number of rows."""
    rows, labels = [], []
    for i, pid in enumerate(plan.pilots):
        if not plan.one:
            rows.append(_narrow_row(pid))
            labels.append("")
            fig.add_annotation(
                x=0, xref="paper", xanchor="left", y=rows[-1], yref="y", showarrow=False,
                text=f"<b>{plan.groups[i * len(catalogue.MILESTONES)]}</b>", bgcolor="white",
                font=dict(size=style.BASE_FONT_SIZE - 3))
        for m in catalogue.MILESTONES:
            rows.append(_narrow_row(pid, m))
            labels.append(MILESTONE_TINY[m])
    yaxis = dict(type="category", autorange="reversed", showgrid=False, categoryorder="array",
                 categoryarray=rows, tickmode="array", tickvals=rows, ticktext=labels,
                 tickfont=dict(size=style.BASE_FONT_SIZE - 4))
    return yaxis, len(rows)


def _gantt_window(ms: pd.DataFrame, as_of: dt.date) -> tuple[dt.date, dt.date, str]:
    """The dates the Gantt shows and where ``as_of`` is: from the first to the last
    milestone date (planned or actual), widened to ``as_of`` when it lies near them
    (``"in"``). When ``as_of`` lies far outside (more than a quarter of the milestones'
    span, at least six months), the axis keeps to the milestones and ``as_of`` is
    ``"after"`` or ``"before"`` them."""
    dates = [d for c in ("planned_start", "planned_end", "actual_start", "actual_end") if c in ms.columns
             for d in (as_date(v) for v in ms[c]) if d is not None]
    if not dates:
        return as_of - dt.timedelta(days=180), as_of + dt.timedelta(days=30), "in"
    lo, hi = min(dates), max(dates)
    reach = max((hi - lo) * 0.25, dt.timedelta(days=182))
    where = "after" if as_of > hi + reach else "before" if as_of < lo - reach else "in"
    if where == "in":
        lo, hi = min(lo, as_of), max(hi, as_of)
    if hi - lo < dt.timedelta(days=60):
        lo, hi = lo - dt.timedelta(days=30), hi + dt.timedelta(days=30)
    return lo, hi, where


TOOL_STATE = {"not_started": 0, "in_progress": 1, "completed": 2, "dropped": 3}
TOOL_STATE_LABEL = {0: "Not started", 1: "In progress", 2: "Done", 3: "Dropped"}
# a cell's state in one sign, where a phone leaves no room for the words
TOOL_SIGNS = {0: "–", 1: "…", 2: "✓", 3: "✗"}  # TOOL_STATE_LABEL's states
TOOL_SIGNS_KEY = "✓ done · … in progress · – not started · ✗ dropped"


def link_tools_matrix(portfolio: Portfolio, as_of: dt.date | None = None,
                      order: list[str] | tuple[str, ...] | None = None) -> go.Figure:
    """Pilot x the four LINK tools: done / in progress / not started (⚠ when overdue).
    ``order``: the pilots to draw, in that order (default: every pilot by name); at
    most ``GRID_PILOTS_MAX`` rows (``milestone_summary_chart`` counts them all)."""
    as_of = as_of or dt.date.today()
    title = f"LINK tools used, as of {date_text(as_of)}"
    if portfolio.pilots.empty or portfolio.milestones.empty:
        return no_data_figure(title, "No milestones reported for this selection")
    names = pilot_names(portfolio.pilots)
    pilots = (list(order) if order is not None
              else sorted(portfolio.pilots["pilot_id"], key=lambda p: names.get(p, p)))
    pilots = [p for p in pilots if p in names]
    n_all = len(pilots)
    pilots = pilots[:GRID_PILOTS_MAX]
    part = portfolio if n_all <= GRID_PILOTS_MAX else portfolio.filtered(Filter(pilots=tuple(pilots)))
    ms = _milestones_as_of(part, as_of)
    ms = ms[ms["milestone"].isin(catalogue.LINK_TOOLS)]
    lookup = {(r.pilot_id, r.milestone): r for r in ms.itertuples(index=False)}
    z, text, short, hover = [], [], [], []  # short: a cell's sign, for a phone (TOOL_SIGNS)
    for pid in pilots:
        zr: list[int | None] = []
        tr: list[str] = []
        sr: list[str] = []
        hr: list[str] = []
        for tool in catalogue.LINK_TOOLS:
            r = lookup.get((pid, tool))
            if r is None:
                zr.append(None)
                tr.append("no data")
                sr.append("")
                hr.append(f"{names.get(pid, pid)} · {catalogue.MILESTONE_LABELS[tool]}: not reported")
                continue
            st = r.status_as_of if r.status_as_of in TOOL_STATE else "not_started"
            v = TOOL_STATE[st]
            warn = " ⚠" if r.overdue else ""
            lab = TOOL_STATE_LABEL[v] + warn
            zr.append(v)
            tr.append(lab)
            sr.append(TOOL_SIGNS[v] + warn)
            hr.append(f"{names.get(pid, pid)} · {catalogue.MILESTONE_LABELS[tool]}: {lab}"
                      + (" (overdue)" if r.overdue else ""))
        z.append(zr)
        text.append(tr)
        short.append(sr)
        hover.append(hr)
    c = style.STATUS_COLORS
    colorscale = [[0, c["not_started"]], [0.25, c["not_started"]], [0.25, c["in_progress"]],
                  [0.5, c["in_progress"]], [0.5, c["completed"]], [0.75, c["completed"]],
                  [0.75, c["dropped"]], [1, c["dropped"]]]
    x_labels = [f"{i + 1}. {catalogue.MILESTONE_LABELS[t]}" for i, t in enumerate(catalogue.LINK_TOOLS)]
    ys = [names.get(p, p) for p in pilots]
    fig = go.Figure(go.Heatmap(
        z=z, x=x_labels, y=ys, zmin=-0.5, zmax=3.5,
        colorscale=colorscale, showscale=False, xgap=3, ygap=3, text=text,
        texttemplate="%{text}", textfont=dict(size=style.BASE_FONT_SIZE - 2),
        customdata=[pilot_customdata([p] * len(x_labels), hover[i]) for i, p in enumerate(pilots)],
        hovertemplate="%{customdata[1]}<extra></extra>"))
    fig.add_trace(_cell_targets(x_labels, ys, pilots, hover, size=34))
    # on a phone (the page script's narrow hints) the tools by number (the page's caption
    # names them) and each cell a sign, so four columns fit beside the names
    style.update_layout(fig, meta={"narrow": {"x_ticktext": [str(i + 1) for i in range(len(x_labels))],
                                              "short_text": [short, None]}})
    done = sum(1 for row in z for v in row if v == 2)
    sub = f"{done} of {len(pilots) * 4} pilot-tool pairs done · ⚠ overdue"
    if n_all > len(pilots):
        sub = f"{len(pilots)} of {n_all:,} pilots (the same as the timeline above) · " + sub
    style.apply_layout(fig, title, subtitle=sub)
    top = style.top_margin(fig, 56)  # tool names on two lines above the matrix
    style.update_layout(fig, yaxis=dict(showgrid=False),
                             xaxis=dict(side="top", showgrid=False, tickmode="array", tickvals=x_labels,
                                        ticktext=[style.wrap_text(x, 18) for x in x_labels], tickangle=0),
                             height=max(360, top + 38 * len(pilots) + 40),
                             margin=dict(t=top, b=20))
    _grid_ranges(fig, len(x_labels), len(pilots))
    return _zoom_on_drag(fig)


SUMMARY_STATES = (("completed", "Completed"), ("in_progress", "In progress"),
                  ("overdue", "Overdue"), ("not_started", "Not yet due"), ("dropped", "Dropped"))


def milestone_summary_chart(portfolio: Portfolio, as_of: dt.date | None = None) -> go.Figure:
    """Every pilot's milestones counted at once: for each of the nine milestones, how many
    pilots have completed it, are on it, are overdue with it, have not started it (not
    yet due) or dropped it, as of ``as_of``. One stacked bar per milestone, one trace per
    state, at any number of pilots."""
    as_of = as_of or dt.date.today()
    title = f"Where the pilots are in the learning cycle, as of {date_text(as_of)}"
    if portfolio.pilots.empty or portfolio.milestones.empty:
        return no_data_figure(title, "No milestones reported for this selection")
    counts = figures.pilots_per_milestone_state(_milestones_as_of(portfolio, as_of))
    ys = [MILESTONE_SHORT[m] for m in catalogue.MILESTONES]
    colors = {**style.STATUS_COLORS, "not_started": "#D0D0D0"}
    fig = go.Figure()
    n = portfolio.pilots["pilot_id"].nunique()
    for key, label in SUMMARY_STATES:
        vals = counts[key].tolist()
        if not any(vals):
            continue
        fig.add_trace(go.Bar(
            orientation="h", x=vals, y=ys, name=label, marker=dict(color=colors[key]),
            text=[f"{v:,}" if v else "" for v in vals], textposition="inside", insidetextanchor="middle",
            textfont=dict(color="white" if key in ("completed", "in_progress", "overdue", "dropped")
                          else "#333333"),
            hovertemplate=f"%{{y}}: %{{x}} pilot(s) {label.lower()}<extra></extra>"))
    style.apply_layout(fig, title, subtitle=f"{n:,} pilot{'s' if n != 1 else ''} · pilots per milestone "
                                            "and state · overdue: not completed, planned end passed")
    style.update_layout(fig, barmode="stack",
                             yaxis=dict(autorange="reversed", showgrid=False, type="category"),
                             xaxis=dict(title=dict(text="pilots"), tickformat=",d"),
                             legend=dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0,
                                         traceorder="normal"),
                             height=style.top_margin(fig) + 34 * len(ys) + 130, margin=dict(b=100))
    return fig


OVERDUE_COLUMNS = ["Pilot", "Milestone", "Planned end", "Days late"]


def overdue_table(portfolio: Portfolio, as_of: dt.date | None = None) -> pd.DataFrame:
    """Milestones overdue on ``as_of`` (planned end before it, neither completed by then
    nor dropped): pilot name, milestone label, planned end, days late; most late first."""
    as_of = as_of or dt.date.today()
    if portfolio.milestones.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in OVERDUE_COLUMNS})
    ms = _milestones_as_of(portfolio, as_of)
    ms = ms[ms["overdue"]]
    names = pilot_names(portfolio.pilots)
    order = {m: i for i, m in enumerate(catalogue.MILESTONES)}
    rows = []
    for r in ms.itertuples(index=False):
        pe = as_date(r.planned_end)
        rows.append({"Pilot": names.get(r.pilot_id, r.pilot_id),
                     "Milestone": catalogue.MILESTONE_LABELS.get(r.milestone, r.milestone),
                     "Planned end": pe, "Days late": (as_of - pe).days if pe else None,
                     "_o": order.get(r.milestone, 99)})
    out = pd.DataFrame(rows, columns=OVERDUE_COLUMNS + ["_o"])
    if out.empty:
        return out.drop(columns="_o")
    out = out.sort_values(["Days late", "Pilot", "_o"], ascending=[False, True, True])
    return out.drop(columns="_o").reset_index(drop=True)


# --- income ------------------------------------------------------------------------------

def _wide(portfolio: Portfolio) -> pd.DataFrame:
    return portfolio.indicators_wide()


def _target_row(portfolio: Portfolio, pilot_id: str, indicator: str) -> dict | None:
    t = portfolio.targets
    t = t[(t["pilot_id"] == pilot_id) & (t["indicator"] == indicator)]
    if t.empty:
        return None
    r = t.iloc[0].to_dict()
    return {k: (None if values.is_missing(v) else v) for k, v in r.items()}


def income_trend(portfolio: Portfolio, pilot_ids: list[str] | tuple[str, ...] | None = None, *,
                 width_px: int = style.CHART_WIDTH_PX) -> go.Figure:
    """Average household income by quarter against the living-income benchmark.

    - one pilot: its income, its baseline and target, its country's benchmark;
    - up to ``SMALL_MULTIPLES_MAX`` pilots: small multiples, one panel per pilot (named
      above it, its last value written at its line's end), each with the pilot's
      country benchmark and the portfolio's weighted average, on one shared scale: every
      pilot reads without hovering and no legend lists pilots;
    - more: one panel per region (or value chain when there is one region): the group's
      average weighted by households, its benchmark weighted the same way, and the band
      where the middle half of its pilots lie. A few traces per group at any size.

    Quarters without a report leave a gap. ``width_px``: the width the chart gets (a
    narrow one puts its legend underneath and fewer panels side by side)."""
    ids = list(pilot_ids) if pilot_ids else sorted(portfolio.pilots["pilot_id"])
    if len(ids) == 1:
        return _income_trend_one(portfolio, ids[0], width_px=width_px)
    title = "Average household income from the value chain (USD/year)"
    wide = _wide(portfolio)
    data = wide[wide["pilot_id"].isin(ids) & wide["income_avg_usd"].notna()]
    qs = _all_quarters(portfolio)
    if data.empty or not qs:
        return no_data_figure(title, "No income reported for this selection")
    if len(ids) <= SMALL_MULTIPLES_MAX:
        return _income_panels_by_pilot(portfolio, ids, data, qs, title, width_px)
    return _income_panels_by_group(portfolio, ids, data, qs, title, width_px)


YEAR_LABEL_PX = 40  # a year's label ("2017") on a small panel's axis, with room on each side
PHONE_PANEL_PX = 150  # a small multiple's width on a phone (two side by side)


def _year_ticks(qs: list[str], width_px: int, cols: int) -> dict:
    """A quarter axis labelled only at each year's first quarter ("2017"), for small panels
    ``cols`` to a chart ``width_px`` wide; with more years than fit a panel (ten years of
    quarters), every second or third year, so the labels never run into each other, on a
    phone too (``PHONE_PANEL_PX``)."""
    panel_px = min(PHONE_PANEL_PX, (width_px - 80) / max(cols, 1) * 0.85)
    firsts = _every_year(qs, panel_px / YEAR_LABEL_PX) or qs[:1]
    return dict(type="category", categoryorder="array", categoryarray=qs, tickmode="array",
                tickvals=firsts, ticktext=[q[:4] for q in firsts], tickangle=0, showgrid=False,
                tickfont=dict(size=style.BASE_FONT_SIZE - 4))


PANEL_TITLE_PX = 30  # room above the first row of small multiples for the panels' names


def _narrow_panels(n: int) -> dict:
    """Small multiples on a phone (``ui.page_look``): two panels side by side."""
    return {"grid": {"n": n, "narrow_cols": 2, "panel_px": 150, "gap_px": 64, "hs": 0.12}}


def _panel_grid(n: int, width_px: int) -> tuple[int, int]:
    """(rows, columns) of small multiples: five wide on a full-width chart (13 pilots in
    three rows, which also fit a slide), two on a narrow one."""
    cols = 5 if width_px >= 700 else 2 if width_px >= 360 else 1
    cols = max(1, min(cols, n))
    return -(-n // cols), cols


PILOT_LINE_COLOR = style.OKABE_ITO["blue"]


def _subplot_grid(rows: int, cols: int, titles: list[str], *, hs: float, vs: float,
                  title_size: int) -> tuple[dict, list[tuple[str, str]]]:
    """The layout of ``make_subplots(rows, cols, shared_xaxes="all", shared_yaxes="all",
    subplot_titles=titles, horizontal_spacing=hs, vertical_spacing=vs)`` as plain dicts,
    computed as plotly computes it: an x and a y axis per cell (its domain; every axis
    matching the bottom-left panel's, tick labels on the bottom row and the left column
    only), each title centred above its panel in ``title_size``; and each cell's (x, y)
    axis reference, row by row from the top left. ``make_subplots`` and adding traces by
    row and column update a figure axis by axis; this is built into the figure once."""
    widths = [(1.0 - hs * (cols - 1)) / cols] * cols
    heights = [(1.0 - vs * (rows - 1)) / rows] * rows
    first = (rows - 1) * cols + 1  # the bottom-left panel: the others match its axes
    first_x, first_y = f"x{first if first > 1 else ''}", f"y{first if first > 1 else ''}"
    layout: dict = {}
    refs: list[tuple[str, str]] = []
    annotations = []
    for r in range(rows):
        below = rows - 1 - r
        y0 = sum(heights[:below]) + below * vs
        y1 = min(max(y0 + heights[-1 - r], 0.0), 1.0)
        y0 = min(max(y0, 0.0), 1.0)
        for c in range(cols):
            x0 = sum(widths[:c]) + c * hs
            x1 = x0 + widths[c]
            n = r * cols + c + 1
            suffix = str(n) if n > 1 else ""
            x: dict = {"domain": [x0, x1], "anchor": f"y{suffix}"}
            y: dict = {"domain": [y0, y1], "anchor": f"x{suffix}"}
            if n != first:
                x["matches"], y["matches"] = first_x, first_y
                if r < rows - 1:
                    x["showticklabels"] = False
                if c > 0:
                    y["showticklabels"] = False
            layout[f"xaxis{suffix}"], layout[f"yaxis{suffix}"] = x, y
            refs.append((f"x{suffix}", f"y{suffix}"))
            if n <= len(titles) and titles[n - 1]:
                annotations.append(dict(y=y1, xref="paper", x=(x0 + x1) / 2.0, yref="paper",
                                        text=titles[n - 1], showarrow=False, font=dict(size=title_size),
                                        xanchor="center", yanchor="bottom"))
    layout["annotations"] = annotations
    return layout, refs


def _merged(*layers: dict) -> dict:
    """Nested dicts merged as plotly's ``update`` merges them: later layers win, dicts
    merge key by key, anything else (lists included) is replaced."""
    out: dict = {}
    for layer in layers:
        for k, v in layer.items():
            out[k] = _merged(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _panels_figure(traces: list[dict], grid: dict, x_axis: dict, y_axis: dict, title: str, subtitle: str,
                   width_px: int, finish) -> go.Figure:
    """Small multiples as one figure, which plotly builds and checks once (not once per
    ``update_*`` call): the shared look and title (``style.apply_layout``), over it the
    ``grid`` (``_subplot_grid``) with every panel's axes set to ``x_axis`` and ``y_axis``,
    then ``finish(top)``: the last settings, given the top margin that leaves room for
    the title and the panels' names; the traces are dicts."""
    look = style.apply_layout(go.Figure(), title, subtitle=subtitle, width_px=width_px)
    top = style.top_margin(look, PANEL_TITLE_PX)
    layout = look.layout.to_plotly_json()
    layout.pop("template", None)  # plotly's default, which the new figure has too
    for k, v in grid.items():
        axis = x_axis if k.startswith("xaxis") else y_axis if k.startswith("yaxis") else None
        layout[k] = _merged(layout.get(k, {}), v, axis) if axis is not None else v
    return go.Figure(data=traces, layout=_merged(layout, finish(top)))


def _income_panels_by_pilot(portfolio: Portfolio, ids: list[str], data: pd.DataFrame, qs: list[str],
                            title: str, width_px: int) -> go.Figure:
    names = pilot_names(portfolio.pilots)
    shown = sorted(data["pilot_id"].unique(), key=lambda p: names.get(p, p))
    missing = sorted(set(ids) - set(shown), key=lambda p: names.get(p, p))
    rows, cols = _panel_grid(len(shown), width_px)
    per_line = max(10, int((width_px / cols) / ((style.BASE_FONT_SIZE - 2) * 0.5)))
    grid, refs = _subplot_grid(rows, cols, [style.wrap_text(names.get(p, p), per_line) for p in shown],
                               hs=0.03 if cols > 2 else 0.06, vs=min(0.3 / rows + 0.02, 0.12),
                               title_size=style.BASE_FONT_SIZE - 2)
    avg = figures.income_avg_usd_by_quarter(portfolio, qs)
    has_avg = any(v is not None for v in avg)
    bench_all = _benchmark_by_pilot(portfolio, shown, qs)
    # every pilot's income by quarter at once (its first row of a quarter)
    income = (data.drop_duplicates(["pilot_id", "quarter"]).set_index(["pilot_id", "quarter"])
              ["income_avg_usd"].unstack().reindex(index=shown, columns=qs))
    top = 0.0
    traces: list[dict] = []
    for i, (pid, values_of_q) in enumerate(zip(shown, income.to_numpy(dtype="float64", na_value=np.nan))):
        xr, yr = refs[i]
        y = [None if np.isnan(v) else float(v) for v in values_of_q]
        last = max((j for j, v in enumerate(y) if v is not None), default=None)
        first_panel = i == 0
        if has_avg:
            traces.append(dict(
                type="scatter", x=qs, y=avg, mode="lines", connectgaps=False, legendgroup="average",
                name="Portfolio average", showlegend=first_panel,
                line=dict(color="#9A9A9A", width=2), hoverinfo="skip", xaxis=xr, yaxis=yr))
        bench = bench_all.get(pid)
        if bench is not None and any(v is not None for v in bench):
            traces.append(dict(
                type="scatter", x=qs, y=bench, mode="lines", connectgaps=False, legendgroup="benchmark",
                name="Living-income benchmark", showlegend=first_panel,
                line=dict(color=style.STATUS_COLORS["overdue"], dash="dash", width=2, shape="hv"),
                hovertemplate="<b>Living income</b><br>%{x}: $%{y:,.0f}<extra></extra>",
                xaxis=xr, yaxis=yr))
            top = max(top, max(v for v in bench if v is not None))
        traces.append(dict(
            type="scatter", x=qs, y=y, mode="lines+markers+text", connectgaps=False, name=names.get(pid, pid),
            showlegend=False, line=dict(color=PILOT_LINE_COLOR, width=3),
            marker=dict(size=6), customdata=pilot_customdata([pid] * len(qs)),
            text=[style.fmt_usd(v) if j == last else "" for j, v in enumerate(y)],
            textposition="top left", textfont=dict(size=style.BASE_FONT_SIZE - 3, shadow=_WHITE_SHADOW),
            cliponaxis=False,
            hovertemplate=f"<b>{names.get(pid, pid)}</b><br>%{{x}}: $%{{y:,.0f}}<extra></extra>",
            xaxis=xr, yaxis=yr))
        top = max(top, max((v for v in y if v is not None), default=0))
    traces.append(dict(type="scatter", x=[None], y=[None], mode="lines+markers", name="Pilot's income",
                       line=dict(color=PILOT_LINE_COLOR, width=3), hoverinfo="skip"))
    sub = ("Each pilot's average household income against its country's living-income benchmark; "
           "grey: the portfolio's average weighted by households")
    if missing:
        sub += " · no income reported: " + _names_list([names.get(p, p) for p in missing])
    panel_h = 190 if cols > 1 else 240
    legend_h = 110
    return _panels_figure(
        traces, grid, _year_ticks(qs, width_px, cols),
        dict(range=[0, top * 1.18 if top > 0 else 1], tickformat="$~s", showgrid=True,
             tickfont=dict(size=style.BASE_FONT_SIZE - 4)),
        f"{title}, {_span(qs)}", sub, width_px,
        lambda top_px: dict(hovermode="closest", showlegend=True, meta={"narrow": _narrow_panels(len(shown))},
                            height=top_px + panel_h * rows + legend_h,
                            legend=dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0,
                                        font=dict(size=style.BASE_FONT_SIZE - 3)),
                            margin=dict(b=legend_h, l=60, r=20, t=top_px),
                            dragmode="zoom"))  # as _zoom_on_drag


def _benchmark_by_pilot(portfolio: Portfolio, ids: list[str], qs: list[str]) -> dict[str, list]:
    """pilot -> its country's living-income benchmark for each quarter of ``qs`` (as
    ``figures.benchmarks_by_quarter`` gives it), None where none."""
    country = _pilot_attr(portfolio, "country")
    per_country = figures.benchmarks_by_quarter(portfolio, [country.get(pid) for pid in ids], qs)
    return {pid: [None if np.isnan(v) else float(v) for v in per_country[country.get(pid)]] for pid in ids}


def _income_panels_by_group(portfolio: Portfolio, ids: list[str], data: pd.DataFrame, qs: list[str],
                            title: str, width_px: int) -> go.Figure:
    p = portfolio.pilots[portfolio.pilots["pilot_id"].isin(ids)]
    by = "region" if p["region"].nunique() > 1 else "value_chain"
    label = (lambda g: g) if by == "region" else style.value_chain_label
    groups = [g for g in (catalogue.REGIONS if by == "region" else catalogue.VALUE_CHAINS)
              if g in set(p[by].dropna())]
    groups += sorted(set(p[by].dropna()) - set(groups))
    rows, cols = _panel_grid(len(groups), width_px)
    in_groups = set(groups)
    group_of = {pid: g for pid, g in zip(p["pilot_id"], p[by]) if g in in_groups}
    of_row = data["pilot_id"].map(group_of).rename("group")
    counts = data.groupby(of_row)["pilot_id"].nunique()
    grid, refs = _subplot_grid(rows, cols, [f"{label(g)} ({int(counts.get(g, 0)):,} pilots)" for g in groups],
                               hs=0.05, vs=min(0.3 / rows + 0.02, 0.12), title_size=style.BASE_FONT_SIZE - 1)
    # every panel's numbers in one grouped pass: the average and the benchmark weighted by
    # households (as figures defines them for each group's pilots), the quartiles of incomes
    by_q = (figures.income_against_living_income_by_group(portfolio, group_of, qs)
            .set_index(["group", "quarter"]))
    bands = data.groupby([of_row, "quarter"])["income_avg_usd"].quantile([0.25, 0.75]).unstack()
    banded = set(bands.index.get_level_values(0)) if not bands.empty else set()
    top = 0.0
    traces: list[dict] = []
    for i, g in enumerate(groups):
        xr, yr = refs[i]
        band = (bands.loc[g].reindex(qs) if g in banded
                else pd.DataFrame(index=qs, columns=[0.25, 0.75]))
        mine = by_q.loc[g].reindex(qs)
        first = i == 0
        lo = [None if values.is_missing(v) else float(v) for v in band[0.25]]
        hi = [None if values.is_missing(v) else float(v) for v in band[0.75]]
        traces.append(dict(type="scatter", x=qs, y=lo, mode="lines", line=dict(width=0), hoverinfo="skip",
                           showlegend=False, connectgaps=False, xaxis=xr, yaxis=yr))
        traces.append(dict(
            type="scatter", x=qs, y=hi, mode="lines", line=dict(width=0), fill="tonexty", connectgaps=False,
            fillcolor=style.hex_to_rgba(style.OKABE_ITO["blue"], 0.18), legendgroup="band",
            name="Middle half of the pilots", showlegend=first,
            hovertemplate="Middle half of the pilots up to $%{y:,.0f}<extra></extra>", xaxis=xr, yaxis=yr))
        inc = [None if values.is_missing(v) else float(v) for v in mine["income"]]
        li = [None if values.is_missing(v) else float(v) for v in mine["benchmark"]]
        if any(v is not None for v in li):
            traces.append(dict(
                type="scatter", x=qs, y=li, mode="lines", connectgaps=False, legendgroup="benchmark",
                showlegend=first, name="Living-income benchmark",
                line=dict(color=style.STATUS_COLORS["overdue"], dash="dash", width=2, shape="hv"),
                hovertemplate="<b>Living income</b><br>%{x}: $%{y:,.0f}<extra></extra>", xaxis=xr, yaxis=yr))
        traces.append(dict(
            type="scatter", x=qs, y=inc, mode="lines+markers", connectgaps=False, legendgroup="average",
            showlegend=first, name="Average income", line=dict(color=style.OKABE_ITO["blue"], width=3),
            marker=dict(size=6),
            hovertemplate=f"<b>{label(g)}</b><br>%{{x}}: $%{{y:,.0f}}<extra></extra>", xaxis=xr, yaxis=yr))
        top = max([top, *[v for v in inc + li + hi if v is not None]])
    n = data["pilot_id"].nunique()
    sub = (f"{n:,} pilots by {'region' if by == 'region' else 'value chain'}: the average weighted by "
           "households, the band where the middle half of the pilots lie, and the living-income "
           "benchmark weighted the same way")
    legend_h = 90
    return _panels_figure(
        traces, grid, _year_ticks(qs, width_px, cols),
        dict(range=[0, top * 1.12 if top > 0 else 1], tickformat="$~s",
             tickfont=dict(size=style.BASE_FONT_SIZE - 4)),
        f"{title}, {_span(qs)}", sub, width_px,
        lambda top_px: dict(hovermode="closest", height=top_px + 260 * rows + legend_h,
                            meta={"narrow": _narrow_panels(len(groups))},
                            legend=dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0),
                            margin=dict(b=legend_h, l=60, r=20, t=top_px)))


def _income_trend_one(portfolio: Portfolio, pid: str, *, width_px: int) -> go.Figure:
    """One pilot's income with its baseline, target and country benchmark."""
    title = "Average household income from the value chain (USD/year)"
    wide = _wide(portfolio)
    data = wide[(wide["pilot_id"] == pid) & wide["income_avg_usd"].notna()]
    tgt = _target_row(portfolio, pid, "income_avg_usd")
    extra = [tgt.get("baseline_quarter"), tgt.get("target_quarter")] if tgt else []
    qs = _all_quarters(portfolio, extra)
    if data.empty or not qs:
        return no_data_figure(title, "No income reported for this selection")
    names = pilot_names(portfolio.pilots)
    vcs = _pilot_attr(portfolio, "value_chain")
    fig = go.Figure()
    s = data.drop_duplicates("quarter").set_index("quarter")["income_avg_usd"].reindex(qs)
    fig.add_trace(go.Scatter(
        x=qs, y=s.tolist(), mode="lines+markers", connectgaps=False, name=names.get(pid, pid),
        line=dict(color=style.value_chain_color(vcs.get(pid)), width=3),
        marker=dict(size=8), customdata=pilot_customdata([pid] * len(qs)),
        hovertemplate=f"<b>{names.get(pid, pid)}</b><br>%{{x}}: $%{{y:,.0f}}<extra></extra>"))
    avg = figures.income_avg_usd_by_quarter(portfolio, qs)
    if any(v is not None for v in avg):
        fig.add_trace(go.Scatter(
            x=qs, y=avg, mode="lines", connectgaps=False, name="Portfolio average (weighted by households)",
            line=dict(color=style.PORTFOLIO_COLOR, width=4, dash="solid"), opacity=0.55,
            hovertemplate="<b>Portfolio average</b><br>%{x}: $%{y:,.0f}<extra></extra>"))
    if tgt and tgt.get("baseline") is not None:
        _ref_line(fig, qs, float(tgt["baseline"]), f"Baseline {style.fmt_usd(tgt['baseline'])}"
                  + (f" ({tgt['baseline_quarter']})" if tgt.get("baseline_quarter") else ""),
                  dash="dot")
    if tgt and tgt.get("target") is not None:
        _ref_line(fig, qs, float(tgt["target"]), f"Target {style.fmt_usd(tgt['target'])}"
                  + (f" by {tgt['target_quarter']}" if tgt.get("target_quarter") else ""),
                  color=style.STATUS_COLORS["completed"])
    bench = _benchmark_series(portfolio, pid, qs)
    if bench.notna().any():
        fig.add_trace(go.Scatter(
            x=qs, y=bench.tolist(), mode="lines", line=dict(color=style.STATUS_COLORS["overdue"],
                                                             dash="dash", width=2, shape="hv"),
            name="Living-income benchmark", connectgaps=False,
            hovertemplate="<b>Living income</b><br>%{x}: $%{y:,.0f}<extra></extra>"))
    title = f"{names.get(pid, pid)}: average household income (USD/year)"
    notes = []
    if not tgt:
        notes.append("no baseline or target set")
    if not bench.notna().any():
        notes.append("no living-income benchmark for the country")
    subtitle = ("; ".join(notes).capitalize() if notes
                else "With baseline, target and the country's living-income benchmark")
    style.apply_layout(fig, f"{title}, {_span(qs)}", subtitle=subtitle, width_px=width_px)
    style.update_layout(fig, xaxis=_quarter_axis(qs),
                             yaxis=dict(title=dict(text="USD per household per year"),
                                        tickformat="$,.0f", rangemode="tozero"),
                             hovermode="closest", height=520)
    if width_px < style.CHART_WIDTH_PX:  # a legend beside the plot would leave it no room
        style.update_layout(fig, legend=dict(orientation="h", yanchor="top", y=-0.15, x=0, xanchor="left"),
                                 height=600, margin=dict(b=150))
    return _zoom_on_drag(fig)


_WHITE_SHADOW = "2px 0 2px white, -2px 0 2px white, 0 2px 2px white, 0 -2px 2px white"
INCOME_INDICATORS = ("income_avg_usd", "income_avg_usd_women_headed", "income_avg_usd_men_headed")
LIVING_INCOME_BELOW = style.OKABE_ITO["vermillion"]
LIVING_INCOME_ABOVE = style.OKABE_ITO["bluish_green"]


def _gap_text(income: float, bench: float) -> str:
    """"$760 short" / "$480 above" of the benchmark."""
    gap = bench - income
    return f"{style.fmt_usd(abs(gap))} {'short' if gap > 0 else 'above'}"


def income_to_living_income_chart(portfolio: Portfolio, quarter: str | None = None, *,
                                  width_px: int = style.CHART_WIDTH_PX, find=()) -> go.Figure:
    """Average household income as a share of the country's living-income benchmark for
    the quarter, ranked: each pilot (lowest first), each region and the portfolio (both
    weighted by households reached, ``figures.income_against_living_income``), with the
    100% line. Bars below the benchmark and above it differ in colour; each bar says its
    share and the gap in USD."""
    quarter = quarter or portfolio.latest_quarter()
    title = f"Household income against the living income, {quarters.quarter_text(quarter)}"
    if portfolio.pilots.empty or not quarter:
        return no_data_figure(title)
    have = figures.living_income_ranking(portfolio, quarter)
    if have.empty:
        return no_data_figure(title, "No pilot gave an income with a living-income benchmark "
                                     "for this quarter")
    t = _quarter_table(portfolio, quarter)
    names = pilot_names(portfolio.pilots)
    missing = sorted(set(portfolio.pilots["pilot_id"]) - set(have["pilot_id"]), key=lambda p: names.get(p, p))
    n_all = len(have)
    ranked, left_out = rank_window(have, find=find)
    gaps = ranked[ranked["is_gap"].astype(bool)]
    have = ranked[~ranked["is_gap"].astype(bool)]
    # regions and the portfolio: income and benchmark weighted by households reached
    groups: list[tuple[str, dict]] = []
    regions = [r for r in catalogue.REGIONS if r in set(t["region"].dropna())]
    if len(regions) > 1:
        groups += [(r, figures.income_against_living_income(t[t["region"] == r])) for r in regions]
    groups.append(("Portfolio", figures.income_against_living_income(t)))
    groups = [(n, g) for n, g in groups if g["ratio"] is not None]
    fig = go.Figure()
    agg_y = [f"<b>{n}</b> ({g['pilots']} pilot{'s' if g['pilots'] != 1 else ''})" for n, g in groups]
    if groups:
        fig.add_trace(go.Bar(
            orientation="h", x=[g["ratio"] for _, g in groups], y=agg_y,
            name="Region or portfolio (weighted by households)",
            marker=dict(color=style.PORTFOLIO_COLOR), cliponaxis=False, textposition="outside",
            text=[f"{style.fmt_share(g['ratio'])} · {_gap_text(g['income'], g['benchmark'])}"
                  for _, g in groups],
            hovertext=[f"<b>{n}</b><br>Income {style.fmt_usd(g['income'])} against a living income of "
                       f"{style.fmt_usd(g['benchmark'])}<br>both weighted by households reached"
                       for n, g in groups],
            hovertemplate="%{hovertext}<extra></extra>"))
    below = have["ratio"] < 1
    for mask, label, color in ((below, "Pilot below the living income", LIVING_INCOME_BELOW),
                               (~below, "Pilot at or above it", LIVING_INCOME_ABOVE)):
        part = have[mask]
        if part.empty:
            continue
        fig.add_trace(go.Bar(
            orientation="h", x=part["ratio"].tolist(), y=part["name"].tolist(), name=label,
            marker=dict(color=color), cliponaxis=False, textposition="outside",
            text=[f"{style.fmt_share(r)} · {_gap_text(i, b)}"
                  for r, i, b in zip(part["ratio"], part["income_avg_usd"], part["living_income_usd"])],
            customdata=pilot_customdata(
                part["pilot_id"].tolist(), [style.fmt_usd(v) for v in part["income_avg_usd"]],
                [style.fmt_usd(v) for v in part["living_income_usd"]],
                [str(y) if not values.is_missing(y) else "" for y in part["living_income_year"]]),
            hovertemplate="<b>%{y}</b><br>Income %{customdata[1]} against a living income of "
                          "%{customdata[2]} (%{customdata[3]})<br>%{x:.0%}<extra></extra>"))
    if not gaps.empty:  # the rows standing for the pilots between the ends
        fig.add_trace(go.Bar(orientation="h", x=[None] * len(gaps), y=gaps["name"].tolist(),
                             showlegend=False, hoverinfo="skip", marker=dict(color="rgba(0,0,0,0)")))
    order = agg_y + ranked["name"].tolist()
    top = max(1.0, float(have["ratio"].max()), *[g["ratio"] for _, g in groups])
    fig.add_vline(x=1, layer="below", line=dict(color=style.PORTFOLIO_COLOR, width=2, dash="dash"))
    # the line's name in the legend (a vline has none)
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name="Living income = 100%",
                             line=dict(color=style.PORTFOLIO_COLOR, width=2, dash="dash"),
                             hoverinfo="skip"))
    fig.update_traces(selector=dict(type="bar"), textfont=dict(shadow=_WHITE_SHADOW))
    # on a phone the bars say their share only (the gap in USD is in the hover)
    _phone_texts(fig, [[t.split(" · ")[0] for t in tr.text] if tr.type == "bar" and tr.text is not None
                       else None for tr in fig.data])
    sub = "Income ÷ the country's living-income benchmark · lowest first"
    if left_out:
        sub += " · " + _ranked_subtitle(n_all, left_out)
    if missing:
        sub += " · no income or benchmark: " + _names_list([names.get(p, p) for p in missing])
    style.apply_layout(fig, title, subtitle=sub, width_px=width_px)
    style.update_layout(fig,
        barmode="overlay", showlegend=True,
        xaxis=dict(range=[0, top * 1.45], tickformat=".0%", title=dict(text="Share of the living income")),
        yaxis=dict(type="category", categoryorder="array", categoryarray=order, autorange="reversed",
                   showgrid=False),
        legend=dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0),
        height=max(380, style.top_margin(fig) + 34 * len(order) + 170), margin=dict(b=110))
    return _zoom_on_drag(fig)


def _benchmark_series(portfolio: Portfolio, pilot_id: str, qs: list[str]) -> pd.Series:
    """The pilot's country living-income benchmark for each quarter, as figures applies it
    (the quarter's year, else the latest earlier year)."""
    one = portfolio.filtered(Filter(pilots=(pilot_id,)))
    vals = []
    for q in qs:
        t = figures.pilot_quarter_table(one, q)
        v = t["living_income_usd"].iloc[0] if len(t) else None
        vals.append(None if v is None or values.is_missing(v) else float(v))
    return pd.Series(vals, index=qs, dtype="float64")


def _quarter_table(portfolio: Portfolio, quarter: str) -> pd.DataFrame:
    """figures.pilot_quarter_table keyed by pilot_id (one row per pilot)."""
    t = figures.pilot_quarter_table(portfolio, quarter)
    if "pilot_id" not in t.columns and t.index.name == "pilot_id":
        t = t.reset_index()
    return t


def _share_column(t: pd.DataFrame, part: str, total: str, names: tuple[str, ...]) -> pd.Series:
    for n in names:
        if n in t.columns:
            return pd.to_numeric(t[n], errors="coerce")
    # Not in the pilot table: the pilot's own share (both values needed; never 0 for blank).
    p = pd.to_numeric(t.get(part), errors="coerce") if part in t.columns else pd.Series(np.nan, index=t.index)
    tot = (pd.to_numeric(t.get(total), errors="coerce") if total in t.columns
           else pd.Series(np.nan, index=t.index))
    return (p / tot.where(tot > 0)).astype("float64")


def living_income_share_chart(portfolio: Portfolio, quarter: str | None = None, *, find=()) -> go.Figure:
    """Per pilot, the share of surveyed households above the living income, sorted."""
    quarter = quarter or portfolio.latest_quarter()
    title = f"Households above the living income, {quarters.quarter_text(quarter)}"
    if portfolio.pilots.empty or not quarter:
        return no_data_figure(title)
    t = _quarter_table(portfolio, quarter)
    share = _share_column(t, "hh_above_living_income", "hh_surveyed",
                          ("share_above_living_income", "living_income_share"))
    whole = figures.figure_of_rows(t, "share_above_living_income")  # the portfolio's, as its figures say
    return _share_bars(portfolio, t, share, title, quarter, whole,
                       "Portfolio", "Share of surveyed households above the country's benchmark",
                       "No pilot gave households surveyed and above living income for this quarter",
                       width_px=style.HALF_WIDTH_PX, find=find)


def _ranked_bars(shown: pd.DataFrame, column: str, vcs: dict, find, texts: list[str],
                 hovertemplate: str) -> go.Bar:
    """The horizontal bars of a ranking window (``rank_window``): each pilot's ``column``
    in its value chain's colour, the pilots searched for (``find``) outlined, the gap rows
    ("…") empty, the value (and rank) beside each bar, the pilot id in ``customdata``."""
    real = ~shown["is_gap"].astype(bool)
    ids = [p if ok else "" for p, ok in zip(shown["pilot_id"], real)]
    wanted = set(find or ())
    return go.Bar(
        orientation="h", x=[v if ok else None for v, ok in zip(shown[column], real)],
        y=shown["name"].tolist(),
        marker=dict(color=[style.value_chain_color(vcs.get(p)) if ok else "rgba(0,0,0,0)"
                           for p, ok in zip(shown["pilot_id"], real)],
                    line=dict(color=["#111111" if p in wanted else "rgba(0,0,0,0)" for p in ids], width=2)),
        text=texts, textposition="outside", cliponaxis=False, textfont=dict(shadow=_WHITE_SHADOW),
        customdata=pilot_customdata(ids), hovertemplate=hovertemplate, showlegend=False)


def _phone_texts(fig: go.Figure, texts: list[list[str] | None]) -> None:
    """The bars' texts on a phone (``texts``: per trace, None to keep; the page script's
    ``meta.narrow.short_text``): a rank or a long amount beside a bar runs off a phone's
    edge."""
    meta = dict(fig.layout.meta or {})
    meta["narrow"] = {**(meta.get("narrow") or {}), "short_text": texts}
    style.update_layout(fig, meta=meta)


def _share_line(fig: go.Figure, share: object, label: str, n_rows: int) -> list[float]:
    """The portfolio's share as a dashed line across ``n_rows`` horizontal bars, named under
    the last bar; returns the y the axis must include for that name (nothing without a share)."""
    if share is None or values.is_missing(share):
        return []
    ref = float(share)  # type: ignore[arg-type]
    fig.add_vline(x=ref, layer="below", line=dict(color=style.PORTFOLIO_COLOR, dash="dash", width=2))
    fig.add_annotation(x=ref, y=n_rows - 0.5 + 0.45, xref="x", yref="y", xanchor="left",
                       yanchor="middle", xshift=4, showarrow=False, text=f"{label} {style.fmt_share(ref)}",
                       font=dict(size=style.BASE_FONT_SIZE - 2, color=style.PORTFOLIO_COLOR))
    return [n_rows - 0.5 + 0.9]  # an empty band under the last bar holds the line's name


def _share_axis_title(text: str, width_px: int) -> str:
    """A share chart's x axis title, wrapped for what the bars' names leave of ``width_px``."""
    return style.wrap_text(text, style.chars_per_line(round(width_px * 0.6), style.BASE_FONT_SIZE))


def _share_bars(portfolio: Portfolio, t: pd.DataFrame, share: pd.Series, title: str, quarter: str,
                portfolio_share: float | None, ref_label: str, axis_title: str, empty_message: str,
                width_px: int = style.CHART_WIDTH_PX, find=()) -> go.Figure:
    names = pilot_names(portfolio.pilots)
    vcs = _pilot_attr(portfolio, "value_chain")
    df = pd.DataFrame({"pilot_id": t["pilot_id"].to_numpy(), "share": share.to_numpy()})
    have = df[df["share"].notna()].sort_values(["share", "pilot_id"], kind="stable")
    missing = sorted(set(portfolio.pilots["pilot_id"]) - set(have["pilot_id"]), key=lambda p: names.get(p, p))
    if have.empty:
        return no_data_figure(title, empty_message)
    have = have.assign(name=have["pilot_id"].map(lambda p: names.get(p, p)))
    shown, left_out = rank_window(have, find=find)
    real = ~shown["is_gap"].astype(bool)
    fig = go.Figure(_ranked_bars(
        shown, "share", vcs, find,
        [(style.fmt_share(v) + (f" · #{r:,}" if left_out else "")) if ok else ""
         for v, r, ok in zip(shown["share"], shown["rank"], real)],
        "<b>%{y}</b><br>%{x:.0%}<extra></extra>"))
    n = len(shown)
    band = _share_line(fig, portfolio_share, ref_label, n)
    if left_out:  # the share alone on a phone
        _phone_texts(fig, [[t.split(" · ")[0] for t in fig.data[0].text]])
    value_chain_legend(fig, {vcs.get(p) for p in have["pilot_id"]})
    sub = "Lowest first"
    if left_out:
        sub = _ranked_subtitle(len(have), left_out)
    if missing:
        sub += f" · no data: {_names_list([names.get(p, p) for p in missing])}"
    style.apply_layout(fig, title, subtitle=sub, width_px=width_px)
    style.update_layout(fig, xaxis=dict(range=[0, 1.12 if not left_out else 1.25], tickformat=".0%",
                                        title=dict(text=_share_axis_title(axis_title, width_px))),
                             yaxis=dict(autorange="reversed", showgrid=False,
                                        autorangeoptions=dict(include=band) if band else None,
                                        tickmode="array", tickvals=list(fig.data[0].y)),
                             legend=dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0,
                                         groupclick="togglegroup"),
                             height=max(360, style.top_margin(fig) + 36 * (n + 1) + 150),
                             margin=dict(b=120))
    return _zoom_on_drag(fig)


def _names_list(names: list[str], most: int = 8) -> str:
    """"A, B, C" or "A, B, C and 12 more"."""
    if len(names) <= most:
        return ", ".join(names)
    return ", ".join(names[:most]) + f" and {len(names) - most:,} more"


def income_gender_gap_chart(portfolio: Portfolio, quarter: str | None = None, *, find=()) -> go.Figure:
    """Per pilot, income of women-headed vs men-headed households (dumbbell), widest gap
    first (beyond a few dozen pilots: the widest and the narrowest gaps, ``rank_window``)."""
    quarter = quarter or portfolio.latest_quarter()
    title = f"Income of women- and men-headed households, {quarters.quarter_text(quarter)}"
    if portfolio.pilots.empty or not quarter:
        return no_data_figure(title)
    t = _quarter_table(portfolio, quarter)
    cols = ["income_avg_usd_women_headed", "income_avg_usd_men_headed"]
    if not set(cols) <= set(t.columns):
        wide = _wide(portfolio)
        t = wide[wide["quarter"] == quarter]
    t = t[["pilot_id", *cols]].copy()
    for c in cols:
        t[c] = pd.to_numeric(t[c], errors="coerce")
    t = t.dropna(subset=cols, how="all")
    if t.empty:
        return no_data_figure(title, "No income by sex of household head for this quarter")
    names = pilot_names(portfolio.pilots)
    t["gap"] = t[cols[1]] - t[cols[0]]
    t = t.sort_values(["gap", "pilot_id"], ascending=[False, True], na_position="last")
    n_all = len(t)
    t = t.assign(name=[names.get(p, p) for p in t["pilot_id"]])
    t, left_out = rank_window(t, find=find)
    t["pilot_id"] = t["pilot_id"].fillna("")
    ys = t["name"].tolist()
    fig = go.Figure()
    lx, ly = [], []
    for y, w, m in zip(ys, t[cols[0]], t[cols[1]]):
        if not (values.is_missing(w) or values.is_missing(m)):
            lx += [w, m, None]
            ly += [y, y, None]
    fig.add_trace(go.Scatter(x=lx, y=ly, mode="lines", line=dict(color="#BBBBBB", width=4),
                             hoverinfo="skip", showlegend=False))
    women_c, men_c = style.OKABE_ITO["reddish_purple"], style.OKABE_ITO["blue"]
    gaps = [None if values.is_missing(g) else g for g in t["gap"]]
    fig.add_trace(go.Scatter(
        x=t[cols[0]].tolist(), y=ys, mode="markers", name="Women-headed households",
        marker=dict(color=women_c, size=14, symbol="circle"),
        customdata=pilot_customdata(t["pilot_id"].tolist(), [style.fmt_usd(g) for g in gaps]),
        hovertemplate="<b>%{y}</b><br>Women-headed: $%{x:,.0f}<br>"
                      "Gap (men − women): %{customdata[1]}<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=t[cols[1]].tolist(), y=ys, mode="markers", name="Men-headed households",
        marker=dict(color=men_c, size=14, symbol="diamond"),
        customdata=pilot_customdata(t["pilot_id"].tolist(), [style.fmt_usd(g) for g in gaps]),
        hovertemplate="<b>%{y}</b><br>Men-headed: $%{x:,.0f}<br>"
                      "Gap (men − women): %{customdata[1]}<extra></extra>"))
    sub = "Average annual net income from the value chain · widest gap first"
    if left_out:
        sub = (f"Average annual net income · the widest and the narrowest {RANK_ENDS} gaps of "
               f"{n_all:,} pilots (find any pilot with the picker above the chart)")
    style.apply_layout(fig, title, subtitle=sub, width_px=style.HALF_WIDTH_PX)
    style.update_layout(fig, xaxis=dict(title=dict(text="USD per household per year"), tickformat="$,.0f",
                                        rangemode="tozero"),
                             yaxis=dict(autorange="reversed", showgrid=False),
                             legend=dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0),
                             height=max(360, style.top_margin(fig) + 36 * len(ys) + 150), margin=dict(b=130))
    return _zoom_on_drag(fig)


# --- inclusiveness ----------------------------------------------------------------------

def _share_figure_name(group: str, who: str) -> str:
    return f"{who}_share_{group}"


def inclusiveness_bars(portfolio: Portfolio, quarter: str | None = None, group: str = "participants",
                       who: str = "women", *, width_px: int = style.CHART_WIDTH_PX, find=()) -> go.Figure:
    """Per pilot, the share of women (or youth) among participants, members or leaders for
    the quarter, lowest first, with the portfolio share as a reference line."""
    quarter = quarter or portfolio.latest_quarter()
    whose = "Women's" if who == "women" else WHO_LABELS.get(who, who)
    what = f"{whose} share of {SHARE_FIGURE_LABELS.get(group, group)}"
    title = f"{what}, {quarters.quarter_text(quarter)}"
    part, total = f"{group}_{who}", f"{group}_total"
    if part not in catalogue.indicators():
        return no_data_figure(title, f"The workbook does not collect {who} among {group}")
    if portfolio.pilots.empty or not quarter:
        return no_data_figure(title)
    t = _quarter_table(portfolio, quarter)
    name = _share_figure_name(group, who)
    share = _share_column(t, part, total, (name, f"{who}_share"))
    return _share_bars(portfolio, t, share, title, quarter,
                       figures.figure_of_rows(t, name),
                       "Portfolio", f"{WHO_LABELS.get(who, who)} as a share of {group}",
                       f"No pilot gave both {part} and {total} for this quarter", width_px=width_px,
                       find=find)


def inclusiveness_by_group(portfolio: Portfolio, quarter: str | None = None, group: str = "participants",
                           who: str = "women", *, width_px: int = style.CHART_WIDTH_PX) -> go.Figure:
    """``inclusiveness_bars`` for a slide with more pilots than it has rows: the share of
    women (or youth) among ``group`` per country, region or value chain
    (``figures.slide_rows``), for the quarter, over each one's pilots as the portfolio's
    share is (``figures.figures_by``); lowest first, the portfolio's share as a dashed line."""
    quarter = quarter or portfolio.latest_quarter()
    whose = "Women's" if who == "women" else WHO_LABELS.get(who, who)
    title = f"{whose} share of {SHARE_FIGURE_LABELS.get(group, group)}, {quarters.quarter_text(quarter)}"
    if f"{group}_{who}" not in catalogue.indicators():
        return no_data_figure(title, f"The workbook does not collect {who} among {group}")
    if portfolio.pilots.empty or not quarter:
        return no_data_figure(title)
    by = figures.slide_rows(portfolio)
    by = "country" if by == "pilot_id" else by
    name = _share_figure_name(group, who)
    shares = {figures.group_label(portfolio, by, g): f.get(name)
              for g, f in figures.figures_by(portfolio, by, quarter=quarter, names=[name]).items()}
    missing = sorted(label for label, v in shares.items() if v is None or values.is_missing(v))
    have = sorted(((label, float(v)) for label, v in shares.items()
                   if v is not None and label not in missing), key=lambda r: (r[1], r[0]))
    if not have:
        return no_data_figure(title, f"No pilot gave both {group}_{who} and {group}_total for this quarter")
    color = style.OKABE_ITO["reddish_purple" if who == "women" else "orange"]
    ys = [label for label, _ in have]
    fig = go.Figure(go.Bar(
        orientation="h", x=[v for _, v in have], y=ys, marker=dict(color=color), showlegend=False,
        text=[style.fmt_share(v) for _, v in have], textposition="outside", cliponaxis=False,
        hovertemplate="<b>%{y}</b><br>%{x:.0%}<extra></extra>"))
    n = len(ys)
    band = _share_line(fig, figures.portfolio_figures(portfolio, quarter=quarter).get(name), "Portfolio", n)
    pilots = portfolio.pilots["pilot_id"].nunique()
    sub = f"{pilots:,} pilots by {by.replace('_', ' ')} · the share over each one's pilots · lowest first"
    if missing:
        sub += f" · no data: {_names_list(missing, most=4)}"
    style.apply_layout(fig, title, subtitle=sub, width_px=width_px)
    axis_title = _share_axis_title(f"{WHO_LABELS.get(who, who)} as a share of {group}", width_px)
    style.update_layout(fig, xaxis=dict(range=[0, 1.12], tickformat=".0%", title=dict(text=axis_title)),
                             yaxis=dict(autorange="reversed", showgrid=False, tickmode="array", tickvals=ys,
                                        autorangeoptions=dict(include=band) if band else None),
                             height=max(360, style.top_margin(fig) + 36 * (n + 1) + 90))
    return _zoom_on_drag(fig)


def inclusiveness_trend(portfolio: Portfolio, who: str = "women") -> go.Figure:
    """The portfolio's share of women (or youth) among participants, members and leaders
    by quarter (from the portfolio figures)."""
    title = f"{WHO_LABELS.get(who, who)} in the pilots: portfolio shares by quarter"
    qs = _all_quarters(portfolio)
    if portfolio.pilots.empty or not qs:
        return no_data_figure(title)
    fig = go.Figure()
    colors = {"participants": style.OKABE_ITO["blue"], "members": style.OKABE_ITO["orange"],
              "leaders": style.OKABE_ITO["reddish_purple"]}
    symbols = {"participants": "circle", "members": "square", "leaders": "diamond"}
    by_q = figures.figures_by_quarter(portfolio, Filter(), qs).set_index("quarter").reindex(qs)
    for group in ("participants", "members", "leaders"):
        name = _share_figure_name(group, who)
        if f"{group}_{who}" not in catalogue.indicators() or name not in by_q.columns:
            continue
        vals = [None if values.is_missing(v) else float(v) for v in by_q[name].tolist()]
        if all(v is None for v in vals):
            continue
        fig.add_trace(go.Scatter(
            x=qs, y=vals, mode="lines+markers", connectgaps=False, name=group.capitalize(),
            line=dict(color=colors[group], width=3), marker=dict(size=9, symbol=symbols[group]),
            hovertemplate=f"<b>{group.capitalize()}</b><br>%{{x}}: %{{y:.0%}}<extra></extra>"))
    if not fig.data:
        return no_data_figure(title, f"No counts of {who} reported for this selection")
    style.apply_layout(fig, f"{title}, {_span(qs)}",
                       subtitle="Σ " + who + " / Σ total over pilots that gave both in the quarter")
    style.update_layout(fig, xaxis=_quarter_axis(qs),
                             yaxis=dict(range=[0, 1], tickformat=".0%", title=dict(text="Share")),
                             height=480, legend=dict(orientation="h", y=-0.18, yanchor="top", x=0))
    if who == "women":
        fig.add_hline(y=0.5, line=dict(color="#AAAAAA", dash="dot", width=1))
    return fig


# --- business ------------------------------------------------------------------------------

def _business_label(indicator: str) -> tuple[str, str]:
    ind = catalogue.indicators()[indicator]
    return BUSINESS_LABELS.get(indicator, (ind.label, ind.unit))


def _chain_units(data: pd.DataFrame, vcs: dict) -> dict[str, str]:
    """value chain -> the volume unit its pilots reported (the most common one)."""
    units: dict[str, str] = {}
    if "volume_unit" not in data.columns:
        return units
    u = data.assign(vc=data["pilot_id"].map(vcs))
    u = u[u["volume_unit"].notna()]
    for vc, g in u.groupby("vc"):
        units[str(vc)] = str(g["volume_unit"].mode().iloc[0])
    return units


def business_chart(portfolio: Portfolio, indicator: str = "sales_usd") -> go.Figure:
    """A business indicator by quarter, stacked by value chain (colour = value chain,
    named in the legend): the sum over each chain's pilots that reported it, the hover
    saying how many did. Quarters without a report stay empty. Volumes are in each
    chain's own unit (litres, head, kg, eggs), so ``volume_sold`` is drawn as one panel
    per value chain with its unit instead of a stack. One trace per value chain at any
    number of pilots; ``business_ranking_chart`` names the pilots."""
    label, unit = _business_label(indicator)
    title = f"{label} by quarter"
    wide = _wide(portfolio)
    data = wide[wide[indicator].notna()] if indicator in wide.columns else wide.iloc[0:0]
    qs = _all_quarters(portfolio)
    if data.empty or not qs:
        return no_data_figure(title, f"No {label.lower()} reported for this selection")
    vcs = _pilot_attr(portfolio, "value_chain")
    # each row's value chain as text ("None" for a pilot without one): a lookup per pilot, not per row
    data = data.assign(vc=data["pilot_id"].map({p: str(v) for p, v in vcs.items()}).fillna("None"))
    sums = data.groupby(["vc", "quarter"])[indicator].agg(["sum", "count"])
    chains = [c for c in catalogue.VALUE_CHAINS if c in set(data["vc"])]
    chains += sorted(set(data["vc"]) - set(chains))
    money = indicator.endswith("_usd")
    if indicator == "volume_sold":
        return _volume_panels(data, sums, chains, qs, title, _chain_units(data, vcs))
    fig = go.Figure()
    for vc in chains:
        s = sums.loc[vc].reindex(qs) if vc in sums.index.get_level_values(0) else None
        if s is None:
            continue
        fig.add_trace(go.Bar(
            x=qs, y=[None if values.is_missing(v) else float(v) for v in s["sum"]],
            name=style.value_chain_label(vc),
            marker=dict(color=style.value_chain_color(vc), line=dict(color="white", width=0.8)),
            customdata=[[int(c) if not values.is_missing(c) else 0] for c in s["count"]],
            hovertemplate=f"<b>{style.value_chain_label(vc)}</b><br>%{{x}}: "
                          + ("$%{y:,.0f}" if money else "%{y:,.0f}")
                          + " (%{customdata[0]} pilots)<extra></extra>"))
    n = data["pilot_id"].nunique()
    style.apply_layout(fig, f"{title}, {_span(qs)}",
                       subtitle=f"{unit} · {n:,} pilot{'s' if n != 1 else ''}, stacked by value chain")
    style.update_layout(fig, barmode="stack", xaxis=_quarter_axis(qs),
                             yaxis=dict(title=dict(text=unit), tickformat="$~s" if money else "~s"),
                             height=520, legend=dict(orientation="h", yref="container", y=0, yanchor="bottom",
                                                     x=0, title=dict(text=VALUE_CHAIN_LEGEND, side="top")),
                             margin=dict(b=130))
    return fig


def _volume_panels(data: pd.DataFrame, sums: pd.DataFrame, chains: list[str], qs: list[str],
                   title: str, units: dict[str, str]) -> go.Figure:
    from plotly.subplots import make_subplots

    cols = min(3, len(chains))
    rows = -(-len(chains) // cols)
    names = [f"{style.value_chain_label(vc)} ({units.get(vc, 'units')})" for vc in chains]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=names,
                        vertical_spacing=0.16 / max(rows - 1, 1) + 0.06, horizontal_spacing=0.08)
    for i, vc in enumerate(chains):
        s = sums.loc[vc].reindex(qs)
        fig.add_trace(go.Bar(
            x=qs, y=[None if values.is_missing(v) else float(v) for v in s["sum"]],
            name=style.value_chain_label(vc), showlegend=False,
            marker=dict(color=style.value_chain_color(vc)),
            customdata=[[int(c) if not values.is_missing(c) else 0] for c in s["count"]],
            hovertemplate=f"<b>{style.value_chain_label(vc)}</b><br>%{{x}}: %{{y:,.0f}} "
                          f"{units.get(vc, '')} (%{{customdata[0]}} pilots)<extra></extra>"),
            row=i // cols + 1, col=i % cols + 1)
    style.apply_layout(fig, f"{title}, {_span(qs)}",
                       subtitle="Each value chain in its own unit, summed over its pilots")
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=qs, showgrid=False,
                     tickfont=dict(size=style.BASE_FONT_SIZE - 5))
    fig.update_yaxes(tickformat="~s", tickfont=dict(size=style.BASE_FONT_SIZE - 4))
    fig.update_annotations(font=dict(size=style.BASE_FONT_SIZE - 1))
    style.update_layout(fig, height=style.top_margin(fig, PANEL_TITLE_PX) + 260 * rows + 40,
                             showlegend=False, margin=dict(b=50, t=style.top_margin(fig, PANEL_TITLE_PX)),
                             meta={"narrow": {"grid": {"n": len(chains), "narrow_cols": 1,
                                                       "panel_px": 170, "gap_px": 64, "hs": 0}}})
    return fig


def business_ranking_chart(portfolio: Portfolio, indicator: str = "sales_usd",
                           quarter: str | None = None, *, find=()) -> go.Figure:
    """The pilots ranked by a business indicator for the quarter, highest first (colour =
    value chain, named in the legend; beyond a few dozen pilots the highest and the
    lowest, ``rank_window``). Volumes carry their unit."""
    label, unit = _business_label(indicator)
    quarter = quarter or portfolio.latest_quarter()
    title = f"{label} by pilot, {quarters.quarter_text(quarter)}"
    if portfolio.pilots.empty or not quarter:
        return no_data_figure(title)
    t = _quarter_table(portfolio, quarter)
    if indicator not in t.columns:
        return no_data_figure(title, f"No {label.lower()} reported for this quarter")
    df = t[["pilot_id", indicator, "volume_unit"]].rename(columns={indicator: "value"})
    df = df[pd.to_numeric(df["value"], errors="coerce").notna()]
    if df.empty:
        return no_data_figure(title, f"No {label.lower()} reported for this quarter")
    names = pilot_names(portfolio.pilots)
    vcs = _pilot_attr(portfolio, "value_chain")
    df = df.assign(value=df["value"].astype(float), name=df["pilot_id"].map(lambda p: names.get(p, p)))
    df = df.sort_values(["value", "name"], ascending=[False, True], kind="stable")
    n_all = len(df)
    shown, left_out = rank_window(df, find=find)
    real = ~shown["is_gap"].astype(bool)
    money = indicator.endswith("_usd")

    def text(v, u, r, ok):
        if not ok:
            return ""
        s = style.fmt_usd(v) if money else style.fmt_number(v)
        if indicator == "volume_sold" and isinstance(u, str):
            s += f" {u}"
        return s + (f" · #{int(r):,}" if left_out else "")

    fig = go.Figure(_ranked_bars(
        shown, "value", vcs, find,
        [text(v, u, r, ok) for v, u, r, ok in zip(shown["value"], shown["volume_unit"], shown["rank"], real)],
        "<b>%{y}</b><br>" + ("$%{x:,.0f}" if money else "%{x:,.0f}") + "<extra></extra>"))
    # on a phone, short amounts ("$972.1k") and no rank
    _phone_texts(fig, [[(("$" if money else "") + style.fmt_number(v)) if ok else ""
                        for v, ok in zip(shown["value"], real)]])
    value_chain_legend(fig, {vcs.get(p) for p in df["pilot_id"]})
    sub = f"{unit} · highest first"
    if indicator == "volume_sold":
        sub += " · each in its chain's unit: compare within a value chain"
    if left_out:
        sub += f" · the highest and lowest {RANK_ENDS} of {n_all:,} pilots (find any pilot with the picker)"
    style.apply_layout(fig, title, subtitle=sub)
    top = float(df["value"].max())
    style.update_layout(fig, xaxis=dict(range=[0, top * 1.3 if top > 0 else 1],
                                        tickformat="$~s" if money else "~s", title=dict(text=unit)),
                             yaxis=dict(autorange="reversed", showgrid=False, type="category"),
                             legend=dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0),
                             height=max(360, style.top_margin(fig) + 30 * len(shown) + 150),
                             margin=dict(b=120))
    return _zoom_on_drag(fig)


# --- NBMP -----------------------------------------------------------------------------------

def nbmp_assessments(portfolio: Portfolio) -> pd.DataFrame:
    """Per pilot, the first and latest quarter with any NBMP score and the six scores:
    columns ``pilot_id, which (first|latest), quarter, nbmp_*``."""
    wide = _wide(portfolio)
    cols = list(catalogue.NBMP)
    scored = wide[wide[cols].notna().any(axis=1)].sort_values(["pilot_id", "quarter"])
    if scored.empty:
        return pd.DataFrame(columns=["pilot_id", "which", "quarter", *cols])
    first = scored.groupby("pilot_id", as_index=False).head(1).assign(which="first")
    latest = scored.groupby("pilot_id", as_index=False).tail(1).assign(which="latest")
    return pd.concat([first, latest])[["pilot_id", "which", "quarter", *cols]].reset_index(drop=True)


NBMP_RINGS = "one ring per score, outer ring = 5"


def nbmp_radar(portfolio: Portfolio, pilot_id: str | None = None) -> go.Figure:
    """The six New Business Model Principles (scores 1-5): a pilot's first assessment vs
    its latest vs the portfolio median of latest assessments; without a pilot, the
    portfolio median of first vs latest assessments."""
    names = pilot_names(portfolio.pilots)
    title = ("New Business Model Principles: " + names.get(pilot_id, pilot_id)
             if pilot_id else "New Business Model Principles: portfolio median")
    a = nbmp_assessments(portfolio)
    if a.empty:
        return no_data_figure(title, "No NBMP assessments for this selection")
    cols = list(catalogue.NBMP)
    theta = [catalogue.NBMP_LABELS[c] for c in cols]
    med_latest = a[a["which"] == "latest"][cols].median()
    series: list[tuple[str, pd.Series, str, str, str]] = []
    if pilot_id:
        mine = a[a["pilot_id"] == pilot_id]
        if mine.empty:
            return no_data_figure(title, "No NBMP assessment for this pilot")
        f = mine[mine["which"] == "first"].iloc[0]
        l_ = mine[mine["which"] == "latest"].iloc[0]
        if f["quarter"] != l_["quarter"]:
            series.append((f"First assessment ({f['quarter']})", f[cols], style.OKABE_ITO["orange"],
                           "dot", "toself"))
        series.append((f"Latest assessment ({l_['quarter']})", l_[cols], style.OKABE_ITO["blue"],
                       "solid", "toself"))
        n = int((a["which"] == "latest").sum())
        series.append((f"Portfolio median, latest ({n} pilots)", med_latest, style.PORTFOLIO_COLOR,
                       "dash", "none"))
        subtitle = "Scores 1 (weak) to 5 (strong) · " + NBMP_RINGS
    else:
        n = int((a["which"] == "latest").sum())
        med_first = a[a["which"] == "first"][cols].median()
        series.append(("Median of first assessments", med_first, style.OKABE_ITO["orange"], "dot", "toself"))
        series.append(("Median of latest assessments", med_latest, style.OKABE_ITO["blue"],
                       "solid", "toself"))
        subtitle = (f"Median over {n:,} pilot{'s' if n != 1 else ''} · scores 1 (weak) to 5 (strong) · "
                    f"{NBMP_RINGS}")
    fig = go.Figure()
    for name, vals, color, dash, fill in series:
        r = [None if values.is_missing(v) else float(v) for v in vals.tolist()]
        own = bool(pilot_id) and not name.startswith(("Portfolio", "Median"))  # the pilot's own scores
        fig.add_trace(go.Scatterpolar(
            customdata=pilot_customdata([pilot_id] * (len(r) + 1)) if own else None,
            r=r + r[:1], theta=theta + theta[:1], name=name, mode="lines+markers",
            line=dict(color=color, dash=dash, width=3), marker=dict(size=8), fill=fill,
            fillcolor=style.hex_to_rgba(color, 0.12) if color.startswith("#") and len(color) == 7 else None,
            hovertemplate="%{theta}: %{r:.1f}<extra>" + name + "</extra>"))
    style.apply_layout(fig, title, subtitle=subtitle)
    style.update_layout(fig,
        # No numbers on the radial axis: wherever they go they sit on the polygons' lines.
        # The rings (one per score) and the subtitle give the scale; hover gives values.
        polar=dict(radialaxis=dict(range=[0, 5], tickvals=[1, 2, 3, 4, 5], showticklabels=False,
                                   ticks="", showline=False, gridcolor="#D5D5D5"),
                   angularaxis=dict(tickfont=dict(size=style.BASE_FONT_SIZE - 2), direction="clockwise",
                                    gridcolor="#DDDDDD"),
                   bgcolor="white"),
        legend=dict(orientation="h", y=-0.1, yanchor="top", x=0), height=560 + style.top_margin(fig, 30) - 90,
        # the top principle's name sits above the circle
        margin=dict(l=120, r=120, t=style.top_margin(fig, 30)),
        # on a phone (ui.page_look): narrower side margins, the principles' names on short lines
        meta={"narrow": {"margin": [44, 44], "polar_ticks": [
            theta, [style.wrap_text(t, 14) for t in theta], style.BASE_FONT_SIZE - 2]}})
    return fig


# --- one indicator of one pilot ------------------------------------------------------------

def indicator_trend(portfolio: Portfolio, pilot_id: str, indicator: str) -> go.Figure:
    """One pilot's indicator by quarter, with its baseline and target (Targets) if any."""
    ind = catalogue.indicators().get(indicator)
    label = ind.label if ind else indicator
    names = pilot_names(portfolio.pilots)
    title = f"{names.get(pilot_id, pilot_id)}: {label}"
    wide = _wide(portfolio)
    rows = wide[(wide["pilot_id"] == pilot_id)] if indicator in wide.columns else wide.iloc[0:0]
    rows = rows[rows[indicator].notna()] if not rows.empty else rows
    tgt = _target_row(portfolio, pilot_id, indicator)
    extra = [tgt.get("baseline_quarter"), tgt.get("target_quarter")] if tgt else []
    if rows.empty:
        return no_data_figure(title, f"No {label} reported for this pilot")
    qs = _all_quarters(portfolio.filtered(Filter(pilots=(pilot_id,))), extra)
    s = rows.set_index("quarter")[indicator].reindex(qs)
    money = ind is not None and ind.kind == "money"
    vc = _pilot_attr(portfolio, "value_chain").get(pilot_id)
    fig = go.Figure(go.Scatter(
        x=qs, y=s.tolist(), mode="lines+markers", connectgaps=False, name=label,
        line=dict(color=style.value_chain_color(vc), width=3), marker=dict(size=9),
        customdata=pilot_customdata([pilot_id] * len(qs)),
        hovertemplate="%{x}: " + ("$%{y:,.0f}" if money else "%{y:,.4~g}") + "<extra></extra>"))
    fmt = style.fmt_usd if money else (lambda v: f"{float(v):,.10g}")
    notes = []
    if tgt and tgt.get("baseline") is not None:
        _ref_line(fig, qs, float(tgt["baseline"]), f"Baseline {fmt(tgt['baseline'])}"
                  + (f" ({tgt['baseline_quarter']})" if tgt.get("baseline_quarter") else ""), dash="dot")
    if tgt and tgt.get("target") is not None:
        _ref_line(fig, qs, float(tgt["target"]), f"Target {fmt(tgt['target'])}"
                  + (f" by {tgt['target_quarter']}" if tgt.get("target_quarter") else ""),
                  color=style.STATUS_COLORS["completed"])
    if indicator in INCOME_INDICATORS:
        bench = _benchmark_series(portfolio, pilot_id, qs)
        if bench.notna().any():
            fig.add_trace(go.Scatter(
                x=qs, y=bench.tolist(), mode="lines", connectgaps=False, name="Living-income benchmark",
                line=dict(color=style.STATUS_COLORS["overdue"], dash="dash", width=2, shape="hv"),
                hovertemplate="<b>Living income</b><br>%{x}: $%{y:,.0f}<extra></extra>"))
            last = s.dropna()
            if len(last):
                b = bench.get(last.index[-1])
                if not values.is_missing(b) and b > 0:
                    notes.append(f"{style.fmt_share(last.iloc[-1] / b)} of the living income in "
                                 f"{quarters.label(last.index[-1])} "
                                 f"({_gap_text(float(last.iloc[-1]), float(b))})")
        else:
            notes.append("No living-income benchmark for the country")
    if not tgt:
        notes.append("No baseline or target set")
    gaps = int(s.isna().sum())
    if gaps:
        notes.append(f"{gaps} quarter{'s' if gaps != 1 else ''} without a value")
    style.apply_layout(fig, f"{title}, {_span(qs)}",
                       subtitle=" · ".join(notes) or (ind.unit if ind else None))
    style.update_layout(fig, xaxis=_quarter_axis(qs),
                             yaxis=dict(title=dict(text=ind.unit if ind else ""), rangemode="tozero",
                                        tickformat="$,.0f" if money else None),
                             height=440, showlegend=len(fig.data) > 1,
                             legend=dict(orientation="h", y=-0.2, yanchor="top", x=0))
    return fig


# --- a pilot against its goals (the Presentation page's, the deck's and the report's pilot slide)

def quarter_ticks(qs: list[str], width_px: int, font_size: int = 14) -> dict:
    """A category x axis of quarters whose labels never overlap nor run off the edge:
    each label is two short lines ("Q3" over "2017"), and when the plot is too narrow
    for all of them only every k-th quarter is labelled (always the last one)."""
    per_label = font_size * 2.6  # "2017" at the font, with a gap
    room = max(width_px - 120, 100)
    step = max(1, -(-int(len(qs) * per_label) // int(room)))
    shown = [q for i, q in enumerate(qs) if (len(qs) - 1 - i) % step == 0]
    text = [quarters.label(q).replace(" ", "<br>") for q in shown]
    return dict(type="category", categoryorder="array", categoryarray=qs, tickmode="array",
                tickvals=shown, ticktext=text, tickangle=0, automargin=True,
                tickfont=dict(size=font_size), title=None)


def pilot_goal_chart(series: pd.DataFrame, target: dict | None, name: str, *,
                     width_px: int = style.CHART_WIDTH_PX, height_px: int = 460,
                     font_size: int = 14, title: bool = True) -> go.Figure:
    """Does the pilot raise income to where it should be? Its average household income by
    quarter (``story.pilot_income_series``) against its baseline, its target and its
    country's living-income benchmark, each line named at its right end and in the
    legend under the plot. ``height_px``: the height the chart gets (a slide computes it
    from the screen)."""
    head = f"{name}: household income against its goals"
    if series.empty or series["income_avg_usd"].isna().all():
        fig = no_data_figure(head, "No income reported for this pilot")
        style.update_layout(fig, height=height_px)
        return fig
    qs = series["quarter"].tolist()
    fig = go.Figure()
    if target and target.get("baseline") is not None:
        _ref_line(fig, qs, float(target["baseline"]),
                  f"Baseline {style.fmt_usd(target['baseline'])}"
                  + (f" ({quarters.label(target['baseline_quarter'])})" if target.get("baseline_quarter")
                     else ""),
                  dash="dot")
    if target and target.get("target") is not None:
        _ref_line(fig, qs, float(target["target"]),
                  f"Target {style.fmt_usd(target['target'])}"
                  + (f" by {quarters.label(target['target_quarter'])}" if target.get("target_quarter")
                     else ""),
                  color=style.STATUS_COLORS["completed"])
    bench = series["living_income_usd"]
    if bench.notna().any():
        fig.add_trace(go.Scatter(
            x=qs, y=bench.tolist(), mode="lines", name="Living-income benchmark", connectgaps=False,
            line=dict(color=style.STATUS_COLORS["overdue"], dash="dash", width=2, shape="hv"),
            hovertemplate="<b>Living income</b><br>%{x}: $%{y:,.0f}<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=qs, y=series["income_avg_usd"].tolist(), mode="lines+markers", connectgaps=False,
        name="Average household income", line=dict(color=style.OKABE_ITO["blue"], width=4),
        marker=dict(size=9), hovertemplate="%{x}: $%{y:,.0f}<extra></extra>"))
    notes = []
    if not target:
        notes.append("no baseline or target set")
    if not bench.notna().any():
        notes.append("no living-income benchmark for the country")
    subtitle = ("; ".join(notes).capitalize() if notes
                else "USD per household per year, with its baseline, target and the country's living income")
    if title:
        style.apply_layout(fig, f"{head}, {_span(qs)}", subtitle=subtitle, width_px=width_px)
    else:
        style.update_layout(fig, **style.base_layout())
        style.update_layout(fig, title=None, margin=dict(t=10))
    ymax = max([v for v in [*series["income_avg_usd"].dropna(), *bench.dropna(),
                            *([target.get("target")] if target and target.get("target") is not None else [])]]
               or [1])
    style.update_layout(fig,
        height=height_px, font=dict(size=font_size), hovermode="closest", showlegend=True,
        xaxis=quarter_ticks(qs, width_px, font_size),
        yaxis=dict(title=None, tickformat="$,.0f", range=[0, ymax * 1.12], automargin=True,
                   tickfont=dict(size=font_size)),
        # the legend sits at the bottom of the figure, under the two-line quarter labels
        legend=dict(orientation="h", yref="container", yanchor="bottom", y=0, x=0,
                    xanchor="left", font=dict(size=font_size)),
        margin=dict(l=10, r=20, b=round(font_size * (2.8 + 2 * 1.8)) + 8))
    return fig
