"""The story every output tells, as plain data: the Presentation page, the deck (.pptx)
and the HTML report show the same parts in the same order with the same numbers.

:func:`resolve` fixes what is shown (filter, quarter, the as-of date of the milestones,
whether the data is illustrative) as a :class:`Story`; ``PARTS`` is the order of the
story's parts (each output shows those it has); the ``*_series`` tables are the data
behind each part's chart; :func:`pilot_summary`, :func:`pilot_targets` and
:func:`pilot_income_series` tell a pilot; :func:`lesson_groups` the lessons; and
:func:`notes` each part's speaker notes (the definition of every number shown and the
date of the data), the same on the page and in the deck.

The numbers come from ``linkdash.figures`` (the same functions as the pages and the
command line); nothing here draws.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, replace
from typing import Final, Literal

import pandas as pd

from linkdash import catalogue, figures, quarters, style
from linkdash.names import pilot_names
from linkdash.portfolio import Filter, Portfolio, is_illustrative
from linkdash.values import is_blank, is_missing

APP_NAME = "LINK Pilot Monitor"
DEMO_NOTICE = "Illustrative demo data: not real pilot results."
MIXED_NOTICE = "Illustrative demo data: mixed with real uploads. Some of the figures shown are made up."
# What an output is told about illustrative data (``demo=``): True (it is the demo data),
# False, ``MIXED`` (illustrative data beside real uploads: ``illustrative.state(...).mixed``)
# or None (ask ``portfolio.is_illustrative``, which cannot see the history: never mixed).
MIXED: Final = "mixed"
Demo = bool | Literal["mixed"] | None


def illustrative_notice(demo: Demo, mixed: bool = False) -> str | None:
    """The one sentence about illustrative data that the page's badge, the deck and the
    report show: mixed with real uploads, illustrative alone, or None for real data."""
    if demo == MIXED or (demo and mixed):
        return MIXED_NOTICE
    return DEMO_NOTICE if demo else None
MAP_FIGURE = "households_reached"  # what the map of the story is coloured by

# The story's parts in order. "pilots" is one part per pilot (:func:`pilot_order`). The
# deck shows them all, the report all but the title, the Presentation page the map,
# the charts but sales, and the pilots.
PARTS = ("title", "figures", "map", "progress", "income", "inclusiveness", "nbmp", "business", "pilots",
         "lessons")

# --- the story: what every output says, computed once ------------------------------------


@dataclass(frozen=True)
class Story:
    """What an output shows: the filtered portfolio (indicators and lessons up to the
    quarter), the filter, the quarter, the as-of date of the milestones and whether the
    data is the illustrative demo data."""

    full: Portfolio
    view: Portfolio
    flt: Filter
    quarter: str | None
    as_of: dt.date
    demo: bool
    mixed: bool = False  # illustrative data beside real uploads (``MIXED``)

    @property
    def notice(self) -> str | None:
        """:func:`illustrative_notice` of this story."""
        return illustrative_notice(self.demo, self.mixed)

    @property
    def demo_arg(self) -> Demo:
        """What to pass on as ``demo=`` to an export of the same story."""
        return MIXED if self.mixed else self.demo

    @functools.cached_property
    def figures(self) -> dict:
        """The portfolio figures of the view, computed once for every slide and section."""
        return figures.portfolio_figures(self.view, Filter(), self.quarter, self.as_of)

    @functools.cached_property
    def pilot_latest_quarters(self) -> dict[str, str]:
        """Each pilot's latest quarter with any Indicators value (up to the story's)."""
        return self.view.last_reported()

    def pilot_figures(self, quarter: str) -> dict[str, dict]:
        """``portfolio_figures`` of each pilot alone for ``quarter`` (``figures.figures_by``
        pilot: one per-pilot table for every pilot at once), kept per quarter."""
        memo = self.__dict__.setdefault("_pilot_figures", {})
        if quarter not in memo:
            memo[quarter] = figures.figures_by(self.view, "pilot_id", Filter(), quarter, self.as_of)
        return memo[quarter]

    @property
    def quarter_label(self) -> str:
        return quarters.quarter_text(self.quarter)

    @property
    def as_of_label(self) -> str:
        return quarters.date_text(self.as_of)

    def data_line(self) -> str:
        """"Indicators for Q4 2018 · milestones as of 31 Dec 2018 · all pilots"."""
        parts = [f"Indicators for {self.quarter_label}", f"milestones as of {self.as_of_label}",
                 f"filter: {self.flt.describe()}"]
        if self.demo:
            parts.append("illustrative demo data mixed with real uploads" if self.mixed
                         else "illustrative demo data")
        return " · ".join(parts)


def upto_quarter(portfolio: Portfolio, quarter: str | None) -> Portfolio:
    """The portfolio without indicator values or lessons after ``quarter``: a deck for
    Q3 2017 tells the story up to Q3 2017."""
    if not quarter:
        return portfolio
    ind, les = portfolio.indicators, portfolio.lessons
    return replace(portfolio, indicators=ind[ind["quarter"].astype(str) <= quarter],
                   lessons=les[les["quarter"].astype(str) <= quarter], data_version=None)


def resolve(portfolio: Portfolio, flt: Filter = Filter(), quarter: str | None = None,
            as_of: dt.date | None = None, demo: Demo = None) -> Story:
    """The quarter (default: the latest with data in the filter, as the pages), the as-of
    date (default: the quarter's last day, or today when the quarter is the current one:
    ``quarters.as_of``) and the filtered portfolio every output uses. ``demo`` None:
    :func:`portfolio.is_illustrative` (the answer the app's badge gives too); ``MIXED``:
    illustrative data beside real uploads."""
    view = portfolio.filtered(flt)
    quarter = quarter or figures.latest_quarter(view)
    return Story(full=portfolio, view=upto_quarter(view, quarter), flt=flt, quarter=quarter,
                 as_of=as_of or quarters.as_of(quarter),
                 demo=is_illustrative(portfolio) if demo is None else bool(demo), mixed=demo == MIXED)


def pilot_order(story: Story) -> list[str]:
    """The pilots of the story by name: the order of the pilot slides, cards and sections."""
    names = pilot_names(story.view.pilots)
    return sorted(story.view.pilots["pilot_id"], key=lambda p: names.get(p, p))


# --- series behind the charts (shared with the report and the page) ---------------------

PROGRESS_STATES = figures.MILESTONE_STATES


def slides_by_group(story: Story) -> bool:
    """Whether the story's slides (page and deck) have too many pilots for a row each (more
    than ``figures.SLIDE_ROWS_MAX``): the progress slide then counts pilots per milestone,
    the inclusiveness slide shows shares per group of pilots (``figures.slide_rows``)."""
    return figures.slide_rows(story.view) != "pilot_id"


# Beyond figures.SLIDE_ROWS_MAX pilots a slide (and a report card) for each would make a talk of
# hundreds of slides: the pilots that get one are then the lowest and the highest this many by
# household income against the living-income benchmark (the Outcomes page's ranking,
# ``figures.living_income_ranking``), and any pilot asked for by name.
PILOT_SLIDE_ENDS = 5


def _living_income_ranking(story: Story) -> pd.DataFrame:
    memo = story.__dict__
    if "_living_income_ranking" not in memo:
        memo["_living_income_ranking"] = (figures.living_income_ranking(story.view, story.quarter)
                                          if story.quarter else pd.DataFrame(columns=["pilot_id", "ratio"]))
    return memo["_living_income_ranking"]


def pilots_chosen(story: Story) -> bool:
    """Whether only some pilots get a slide (page, deck) and a card (report):
    :func:`pilot_slides`."""
    return slides_by_group(story)


def pilot_slides(story: Story, find=()) -> list[str]:
    """The pilots that get a slide (page and deck) and a card (report), in order: every
    pilot of the story by name up to ``figures.SLIDE_ROWS_MAX`` pilots; beyond, the
    ``PILOT_SLIDE_ENDS`` lowest and highest by income against the living-income benchmark
    in that ranking's order (lowest first), with the pilots of ``find`` (ids) where they
    rank, or after them when they are not ranked (no income or benchmark)."""
    order = pilot_order(story)
    if not pilots_chosen(story):
        return order
    in_view = set(order)
    wanted = [p for p in dict.fromkeys(find) if p in in_view]
    ranked = _living_income_ranking(story)["pilot_id"].tolist()
    n, ends = len(ranked), PILOT_SLIDE_ENDS
    keep = [p for i, p in enumerate(ranked) if i < ends or i >= n - ends or p in wanted]
    return keep + [p for p in wanted if p not in keep]


def pilot_rank(story: Story, pilot_id: str) -> str | None:
    """Where a pilot stands in the ranking that chose the slides, when only some pilots get
    one (:func:`pilots_chosen`): "Income 45% of the living income: #3 of 1,000 pilots,
    lowest first"; None when every pilot has a slide."""
    if not pilots_chosen(story):
        return None
    ranked = _living_income_ranking(story)
    hit = ranked.index[ranked["pilot_id"] == pilot_id]
    if not len(hit):
        return f"Not ranked: no income with a living-income benchmark for {story.quarter_label}"
    i = ranked.index.get_loc(hit[0])
    ratio = float(ranked["ratio"].iloc[i])
    return (f"Income {style.fmt_share(ratio)} of the living income: #{i + 1:,} of {len(ranked):,} "
            "pilots, lowest first")


def pilot_choice(story: Story, find=(), thing: str = "slide") -> str:
    """What the pilot slides (or report cards: ``thing``) are when only some pilots get
    one (:func:`pilot_slides` with ``find``)."""
    n, shown = len(story.view.pilots), len(pilot_slides(story, find))
    asked = [p for p in dict.fromkeys(find) if p in set(story.view.pilots["pilot_id"])]
    return (f"With {n:,} pilots, {shown:,} get a {thing}: the {PILOT_SLIDE_ENDS} lowest and the "
            f"{PILOT_SLIDE_ENDS} highest by household income against the country's living-income "
            f"benchmark in {story.quarter_label}"
            + (f", and {pilot_names(story.view.pilots).get(asked[0], asked[0])}" if len(asked) == 1
               else f", and the {len(asked)} pilots asked for" if asked else "")
            + f". Filter to {figures.SLIDE_ROWS_MAX} pilots or fewer (a country, a value chain) "
            f"for a {thing} each.")


def pilot_list(story: Story) -> pd.DataFrame:
    """Every pilot of the story by name, one row each, for finding any of them where only
    some have a slide or card: ``Pilot, ID, Country, Value chain, Households reached,
    Income (USD), Share of the living income, Rank`` (in the living-income ranking, lowest
    first; empty when not ranked), figures for the story's quarter, as text."""
    cols = ["Pilot", "ID", "Country", "Value chain", "Households reached", "Income (USD)",
            "Share of the living income", "Rank"]
    if not story.quarter or story.view.pilots.empty:
        return pd.DataFrame(columns=cols)
    t = figures.pilot_quarter_table(story.view, story.quarter)
    if "pilot_id" not in t.columns and t.index.name == "pilot_id":
        t = t.reset_index()
    ranked = _living_income_ranking(story)
    rank = dict(zip(ranked["pilot_id"], range(1, len(ranked) + 1)))
    names = pilot_names(story.view.pilots)
    t = t.assign(_name=t["pilot_id"].map(lambda p: names.get(p, p))).sort_values(["_name", "pilot_id"])
    return pd.DataFrame({
        "Pilot": t["_name"].tolist(),
        "ID": t["pilot_id"].tolist(),
        "Country": t["country_name"].fillna("").tolist(),
        "Value chain": [style.value_chain_label(v) if not is_blank(v) else "" for v in t["value_chain"]],
        "Households reached": [figures.format_figure("households_reached", v)
                               for v in t["households_reached"]],
        "Income (USD)": [style.fmt_usd(v) for v in t["income_avg_usd"]],
        "Share of the living income": [style.fmt_share(v) for v in t["income_to_living_income"]],
        "Rank": [f"#{rank[p]:,}" if p in rank else "" for p in t["pilot_id"]],
    }, columns=cols)


def progress_series(story: Story) -> pd.DataFrame:
    """Milestones per pilot as of the story's date, one column per state: completed,
    in_progress, overdue (planned end passed, not completed, not dropped: counted here and
    not under in progress / not started), not_started, dropped. Index: pilot names, in the
    pilots' order by name. With more pilots than a slide has rows (``slides_by_group``):
    pilots per milestone and state instead, index the nine milestones ("1 Training workshop")."""
    ms = figures.milestone_status_as_of(story.view.milestones, story.as_of)
    if slides_by_group(story):
        counts = figures.pilots_per_milestone_state(ms)
        labels = [f"{i + 1} {catalogue.MILESTONE_LABELS[m]}" for i, m in enumerate(counts.index)]
        counts.index = pd.Index(labels, name="milestone")
        return counts
    names = pilot_names(story.view.pilots)
    ids = sorted(story.view.pilots["pilot_id"], key=lambda p: names.get(p, p))
    rows = []
    for pid in ids:
        m = ms[ms["pilot_id"] == pid]
        state = m["status_as_of"].where(~m["overdue"], "overdue")
        counts = state.value_counts()
        rows.append({"pilot": names.get(pid, pid), **{s: int(counts.get(s, 0)) for s in PROGRESS_STATES}})
    return pd.DataFrame(rows, columns=["pilot", *PROGRESS_STATES]).set_index("pilot")


def trend_quarters(story: Story) -> list[str]:
    """Every quarter from the first with data in the filter to the story's quarter."""
    qs = story.view.quarters()
    if not qs or not story.quarter:
        return []
    return quarters.span(qs[0], story.quarter)


def income_series(story: Story) -> pd.DataFrame:
    """Per quarter: the portfolio's average household income (``figures``: weighted by
    households reached) and the living-income benchmark weighted the same way (each
    reporting pilot's country benchmark for the quarter's year x its households)."""
    qs = trend_quarters(story)
    by_q = figures.figures_by_quarter(story.view, Filter(), qs).set_index("quarter") if qs else pd.DataFrame()
    rows = []
    for q in qs:
        t = figures.pilot_quarter_table(story.view, q)
        both = t["income_avg_usd"].notna() & t["households_reached"].notna() & t["living_income_usd"].notna()
        hh = t.loc[both, "households_reached"]
        bench = (float((t.loc[both, "living_income_usd"] * hh).sum() / hh.sum())
                 if both.any() and hh.sum() > 0 else None)
        inc = by_q.loc[q, "income_avg_usd"]
        rows.append({"quarter": q, "income_avg_usd": None if is_missing(inc) else float(inc),
                     "living_income_usd": bench})
    return pd.DataFrame(rows, columns=["quarter", "income_avg_usd", "living_income_usd"])


INCLUSIVENESS = ("women_share_participants", "youth_share_participants")


def inclusiveness_series(story: Story) -> pd.DataFrame:
    """Per pilot (by name) for the quarter: its women's and youth shares of participants
    (None where the pilot did not give both numbers), plus
    a last row "Portfolio" with the portfolio figures. With more pilots than a slide has
    rows (``figures.slide_rows``): per country, region or value chain ("Kenya (12 pilots)",
    the shares over its pilots, as the portfolio's) instead."""
    names = pilot_names(story.view.pilots)
    by = figures.slide_rows(story.view)
    t = figures.pilot_quarter_table(story.view, story.quarter) if story.quarter and by == "pilot_id" else None
    rows: list[dict] = []
    if story.quarter and by != "pilot_id":
        groups = figures.figures_by(story.view, by, quarter=story.quarter, as_of=story.as_of,
                                    names=INCLUSIVENESS)
        for g, figs_ in groups.items():
            rows.append({"pilot": figures.group_label(story.view, by, g),
                         **{n: None if is_missing(figs_.get(n)) else float(figs_[n]) for n in INCLUSIVENESS}})
        rows.sort(key=lambda r: r["pilot"])
    if t is not None:
        for r in t.sort_values("pilot_id").itertuples(index=False):
            rows.append({"pilot": names.get(r.pilot_id, r.pilot_id),
                         **{n: None if is_missing(getattr(r, n)) else float(getattr(r, n))
                            for n in INCLUSIVENESS}})
        rows.sort(key=lambda r: r["pilot"])
    figs = story.figures
    rows.append({"pilot": "Portfolio", **{n: figs.get(n) for n in INCLUSIVENESS}})
    return pd.DataFrame(rows, columns=["pilot", *INCLUSIVENESS]).set_index("pilot")


def nbmp_series(story: Story) -> pd.DataFrame:
    """The six principles: median score over pilots of their first and of their latest
    assessment (up to the quarter), as the Outcomes page's radar. Index: principle labels."""
    from linkdash import charts

    a = charts.nbmp_assessments(story.view)
    cols = list(catalogue.NBMP)
    first = a[a["which"] == "first"][cols].median() if len(a) else pd.Series(float("nan"), index=cols)
    latest = a[a["which"] == "latest"][cols].median() if len(a) else pd.Series(float("nan"), index=cols)
    return pd.DataFrame({"first": first.astype(float).values, "latest": latest.astype(float).values},
                        index=[catalogue.NBMP_LABELS[c] for c in cols])


def nbmp_pilot_count(story: Story) -> int:
    from linkdash import charts

    a = charts.nbmp_assessments(story.view)
    return int((a["which"] == "latest").sum()) if len(a) else 0


def sales_series(story: Story) -> pd.DataFrame:
    """Sales through the producer organisations per quarter, one column per value chain
    (None where no pilot of the chain reported); the columns add up to ``sales_usd``."""
    qs = trend_quarters(story)
    wide = story.view.indicators_wide()
    chains = dict(zip(story.view.pilots["pilot_id"], story.view.pilots["value_chain"]))
    wide = wide[wide["sales_usd"].notna() & wide["quarter"].isin(qs)].copy()
    wide["value_chain"] = wide["pilot_id"].map(chains)
    present = [c for c in catalogue.VALUE_CHAINS if c in set(wide["value_chain"])]
    out = pd.DataFrame(index=pd.Index(qs, name="quarter"), columns=present, dtype="float64")
    for (q, vc), g in wide.groupby(["quarter", "value_chain"]):
        out.loc[q, vc] = float(g["sales_usd"].sum())
    return out


# --- per pilot -------------------------------------------------------------------------

KEY_LESSON_KINDS = ("recommendation", "insight")
PILOT_FIGURES = ("households_reached", "participants_total", "women_share_participants",
                 "youth_share_participants", "women_share_leaders", "income_avg_usd",
                 "share_above_living_income", "sales_usd")


def key_lesson(lessons: pd.DataFrame, pilot_id: str, quarter: str | None = None) -> dict | None:
    """The pilot's latest insight or recommendation (up to ``quarter``); in one quarter a
    recommendation before an insight. None when it has recorded neither."""
    les = lessons[(lessons["pilot_id"] == pilot_id) & lessons["kind"].isin(KEY_LESSON_KINDS)
                  & lessons["lesson"].notna()]
    if quarter:
        les = les[les["quarter"].astype(str) <= quarter]
    if les.empty:
        return None
    rank = les["kind"].map({k: i for i, k in enumerate(reversed(KEY_LESSON_KINDS))})
    les = les.assign(_r=rank).sort_values(["quarter", "_r"], ascending=[False, False], kind="stable")
    r = les.iloc[0]
    return {k: (None if is_blank(r.get(k)) else r.get(k))
            for k in ("pilot_id", "quarter", "kind", "lesson", "milestone", "author")}


def pilot_kicker(facts: dict, with_region: bool = False) -> str:
    """``Kenya · Africa · Dairy cows · Kieni dairy cooperative, Nyeri``: the facts a pilot
    has (none of them is shown as "no data")."""
    keys = ["Country"] + (["Region"] if with_region else []) + ["Value chain"]
    parts = [facts[k] for k in keys if facts.get(k) not in (None, "no data")]
    where = [facts[k] for k in ("Producer organisation", "Site") if facts.get(k) not in (None, "no data")]
    return " · ".join(parts + ([", ".join(where)] if where else []))


def pilot_summary(story: Story, pilot_id: str) -> dict:
    """One pilot for its slide: ``facts`` (label -> text), ``quarter`` (its latest
    quarter with data up to the story's quarter, or None), ``figures`` (its
    ``portfolio_figures`` for that quarter), ``milestones`` (completed, overdue, total as
    of the story's date) and ``lesson`` (:func:`key_lesson`). Kept on the story."""
    memo = story.__dict__.setdefault("_pilot_summaries", {})
    if pilot_id not in memo:
        memo[pilot_id] = _pilot_summary(story, pilot_id)
    return memo[pilot_id]


def _pilot_summary(story: Story, pilot_id: str) -> dict:
    one = story.view.filtered(Filter(pilots=(pilot_id,)))
    row = one.pilots.iloc[0] if len(one.pilots) else pd.Series(dtype=object)
    q = story.pilot_latest_quarters.get(pilot_id)
    figs = story.pilot_figures(q).get(pilot_id) if q else None
    chain = row.get("value_chain")
    start, end = row.get("start_date"), row.get("end_date")
    facts = {
        "Country": row.get("country_name") or row.get("country"),
        "Region": row.get("region"),
        "Value chain": style.value_chain_label(chain) if not is_blank(chain) else None,
        "Producer organisation": row.get("producer_org"),
        "Site": row.get("site"),
        "Dates": (f"{start} to {end}" if not (is_blank(start) or is_blank(end))
                  else f"from {start}" if not is_blank(start)
                  else f"until {end}" if not is_blank(end) else None),
        "Target households": (f"{int(row.get('target_households')):,}"
                              if not is_blank(row.get("target_households")) else None),
    }
    facts = {k: ("no data" if is_blank(v) else str(v)) for k, v in facts.items()}
    ms = figures.milestone_status_as_of(one.milestones, story.as_of)
    return {
        "pilot_id": pilot_id,
        "name": pilot_names(one.pilots).get(pilot_id, pilot_id),
        "value_chain": chain,
        "facts": facts,
        "quarter": q,
        "figures": figs,
        "milestones": {"completed": figures.milestones_completed(ms),
                       "overdue": figures.milestones_overdue(ms), "total": int(len(ms))},
        "lesson": key_lesson(story.view.lessons, pilot_id, story.quarter),
    }


def lesson_groups(story: Story) -> list[dict]:
    """Each pilot's key lesson (:func:`key_lesson`), pilots with the same text together:
    ``[{"lesson", "kind", "quarter", "pilots": [names]}]``, recommendations first, then
    the newest, then the most pilots."""
    names = pilot_names(story.view.pilots)
    by_text: dict[str, dict] = {}
    for pid in story.view.pilots["pilot_id"]:
        les = key_lesson(story.view.lessons, pid, story.quarter)
        if not les:
            continue
        key = " ".join(str(les["lesson"]).split()).lower()
        g = by_text.setdefault(key, {"lesson": les["lesson"], "kind": les["kind"],
                                     "quarter": les["quarter"], "pilots": []})
        g["pilots"].append(names.get(pid, pid))
        g["quarter"] = max(g["quarter"], les["quarter"])
    groups = list(by_text.values())
    for g in groups:
        g["pilots"].sort()
    groups.sort(key=lambda g: (g["kind"] != "recommendation", [-ord(ch) for ch in g["quarter"]],
                               -len(g["pilots"]), g["pilots"][0]))
    return groups


# --- definitions for the notes ------------------------------------------------------------

def definition(name: str) -> str:
    f = figures.FIGURES.get(name)
    return f"{f.label}: {f.definition}" if f else name


BENCHMARK_DEFINITION = (
    "Living-income benchmark: the country's annual living income per household (Benchmarks "
    "sheet; the quarter's year, else the latest earlier year), averaged over the pilots that "
    "gave income and households for the quarter, weighted by their households reached.")
NBMP_DEFINITION = (
    "New Business Model Principles: six scores from 1 (weak) to 5 (strong) from the Indicators "
    "sheet. 'First' is the median over pilots of each pilot's first assessment, 'latest' the "
    "median of each pilot's latest assessment up to the quarter.")
PROGRESS_DEFINITION = (
    "Milestones of the learning cycle per pilot as of the date: completed = actual end on or "
    "before it; overdue = planned end before it, neither completed by then nor dropped (shown "
    "apart from in progress and not started); in progress = actual start on or before it.")
SALES_DEFINITION = (
    "Sales by value chain: the sum of the sales (USD) of the pilots of each value chain that "
    "reported it for the quarter; the stacks add up to the Sales figure.")


def notes_text(story: Story, definitions: list[str], extra: list[str] | None = None) -> str:
    lines = [f"Data: {story.data_line()}."]
    lines += extra or []
    lines.append("Definitions:")
    lines += [f"- {d}" for d in definitions]
    return "\n".join(lines)


def notes(story: Story, part: str, pilot_id: str | None = None) -> str:
    """The speaker notes of a part of the story (``PARTS``; ``pilot_id`` for "pilots"):
    the data's date, the definition of every number the part shows, and what a slide
    leaves out. The deck's slide and the page's slide of a part have the same notes."""
    d = definition
    if part == "title":
        return f"Data: {story.data_line()}.\nMade with {APP_NAME} on {quarters.date_text(dt.date.today())}."
    if part == "figures":
        figs = story.figures
        names = list(figures.FIGURES)
        return notes_text(story, [d(k) for k in names],
                          ["Values: " + "; ".join(f"{figures.FIGURES[k].label} = "
                                                  f"{figures.format_figure(k, figs.get(k))}" for k in names)])
    if part == "map":
        from linkdash import maps

        values = maps.country_values(story.view, MAP_FIGURE, story.quarter) if story.quarter else None
        extra = ([f"{figures.FIGURES[MAP_FIGURE].label} by country: "
                  + "; ".join(f"{r.name} {r.text}" for r in values.itertuples()) + "."]
                 if values is not None and len(values) else [])
        return notes_text(story, [d(n) for n in ("pilots_total", "pilots_reporting", MAP_FIGURE,
                                                 "participants_total")], extra)
    if part == "progress":
        counted = (["With this many pilots the chart counts them: for each milestone, how many pilots "
                    "are in each state."] if slides_by_group(story) else [])
        return notes_text(story, [PROGRESS_DEFINITION, d("milestones_completed"), d("milestones_overdue")],
                          counted)
    if part == "income":
        return notes_text(story, [d("income_avg_usd"), BENCHMARK_DEFINITION, d("share_above_living_income")],
                          [f"Quarters up to {story.quarter_label}; "
                           "a quarter without income reports is a gap."])
    if part == "inclusiveness":
        by = figures.slide_rows(story.view)
        bars = ("Each pilot's bar is its own share (both numbers needed), shown with the portfolio's "
                "share. A missing bar means no data." if by == "pilot_id" else
                f"Each {by.replace('_', ' ')}'s bar is the share over its pilots that gave both numbers, "
                "as the portfolio's share is. A missing bar means no data.")
        return notes_text(story, [d(k) for k in (*INCLUSIVENESS, "women_share_leaders")], [bars])
    if part == "nbmp":
        return notes_text(story, [NBMP_DEFINITION] + [
            f"{catalogue.NBMP_LABELS[c]}: {catalogue.indicators()[c].description}" for c in catalogue.NBMP])
    if part == "business":
        return notes_text(story, [d("sales_usd"), SALES_DEFINITION],
                          [f"Quarters up to {story.quarter_label}."])
    if part == "pilots":
        if pilot_id is None:
            raise ValueError("the notes of a pilot's slide need its pilot_id")
        return pilot_notes(story, pilot_id)
    if part == "lessons":
        full = [f"{', '.join(g['pilots'])} ({g['kind']}, {g['quarter']}): {g['lesson']}"
                for g in lesson_groups(story)]
        return notes_text(story, ["Lessons: moment 3 of the learning cycle, from the Lessons sheet "
                                  "(insight, challenge, adaptation, recommendation). This slide shows "
                                  "each pilot's latest recommendation, else its latest insight."],
                          ["In full:"] + full)
    raise ValueError(f"no part {part!r} in the story")


def pilot_notes(story: Story, pilot_id: str) -> str:
    """The notes of a pilot's slide (deck and page): figures, targets, the lesson in full."""
    s = pilot_summary(story, pilot_id)
    q, figs, lesson = s["quarter"], s["figures"] or {}, s["lesson"]
    extra = [f"Pilot {pilot_id}: key figures for its latest quarter with data up to "
             f"{story.quarter_label}: {quarters.label(q) if q else 'none'}."]
    rank = pilot_rank(story, pilot_id)
    if rank:
        extra.append(f"{rank} (with {len(story.view.pilots):,} pilots, the {PILOT_SLIDE_ENDS} lowest "
                     f"and the {PILOT_SLIDE_ENDS} highest get a slide, and any pilot picked by name).")
    if figs:
        extra.append("Values: " + "; ".join(
            f"{figures.FIGURES[k].label} = {figures.format_figure(k, figs.get(k))}" for k in PILOT_FIGURES))
    t = pilot_targets(story, pilot_id)
    if len(t):
        extra.append("Against targets: " + "; ".join(
            f"{r.label} {r.value_text} (baseline {r.baseline_text}, target {r.target_text}"
            + (f" by {quarters.label(r.target_quarter)}" if r.target_quarter else "") + ")"
            for r in t.itertuples()))
    if lesson:
        extra.append(f"Key lesson in full ({lesson['kind']}, {lesson['quarter']}"
                     + (f", {lesson['author']}" if lesson.get("author") else "") + f"): {lesson['lesson']}")
    return notes_text(story, [definition(k) for k in PILOT_FIGURES]
                           + [definition("milestones_completed"), definition("milestones_overdue"),
                              TARGETS_DEFINITION,
                              "Key lesson: the pilot's latest insight or recommendation up to the quarter."],
                           extra)


TARGETS_DEFINITION = ("Against targets: the pilot's latest value up to the quarter, its baseline and "
                      "target (Targets sheet); progress = (value - baseline) / (target - baseline).")


# a lesson on a projected slide: about three lines at the slide's type; the full text is
# one click away (the page) or in the speaker notes (the deck)
LESSON_CHARS = 180


def shorten(text: str, limit: int = LESSON_CHARS) -> tuple[str, bool]:
    """``text`` cut at a word to at most ``limit`` characters with "…", and whether it was cut."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text, False
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…", True


# --- a pilot against its goals ---------------------------------------------------------

def pilot_income_series(story: Story, pilot_id: str) -> tuple[pd.DataFrame, dict | None]:
    """The pilot's average household income per quarter (first quarter with data of the
    pilot, or its baseline quarter, to the story's quarter) with its country's
    living-income benchmark: columns ``quarter, income_avg_usd, living_income_usd``; and
    its income target row (``baseline``, ``baseline_quarter``, ``target``,
    ``target_quarter``) or None."""
    view = story.view
    tgt = _target(view, pilot_id, "income_avg_usd")
    wide = _wide_of(story, pilot_id)
    qs_data = sorted(wide.loc[wide.drop(columns=["pilot_id", "quarter"]).notna().any(axis=1), "quarter"])
    starts = list(qs_data[:1] + ([tgt["baseline_quarter"]] if tgt and tgt.get("baseline_quarter") else []))
    if not starts or not story.quarter:
        return pd.DataFrame(columns=["quarter", "income_avg_usd", "living_income_usd"]), tgt
    qs = quarters.span(min(starts), story.quarter)
    wide = wide.set_index("quarter")
    # the country's benchmark for the quarter's year, else the latest earlier year (as figures)
    bench = figures._benchmarks_by_country(view.benchmarks)
    country = dict(zip(view.pilots["pilot_id"], view.pilots["country"])).get(pilot_id)
    rows = []
    for q in qs:
        inc = wide["income_avg_usd"].get(q) if "income_avg_usd" in wide else None
        li = figures._benchmark(bench, country, quarters.split(q)[0])[0] if country else None
        rows.append({"quarter": q,
                     "income_avg_usd": None if inc is None or is_missing(inc) else float(inc),
                     "living_income_usd": None if li is None or is_missing(li) else float(li)})
    return pd.DataFrame(rows), tgt


def _target(portfolio, pilot_id: str, indicator: str) -> dict | None:
    t = portfolio.targets
    t = t[(t["pilot_id"] == pilot_id) & (t["indicator"] == indicator)]
    if t.empty:
        return None
    return {k: (None if is_missing(v) else v) for k, v in t.iloc[0].to_dict().items()}


def pilot_targets(story: Story, pilot_id: str) -> pd.DataFrame:
    """The pilot's indicators that have a target: ``indicator, label, value`` (its latest
    value up to the story's quarter), ``quarter`` (of that value), ``baseline, target,
    target_quarter, progress`` (share of the way from baseline to target, None when it
    cannot be said) and the ``*_text`` columns formatted for a slide."""
    memo = story.__dict__.setdefault("_pilot_targets", {})
    if pilot_id not in memo:
        memo[pilot_id] = _pilot_targets(story, pilot_id)
    return memo[pilot_id].copy()


def _wide_of(story: Story, pilot_id: str) -> pd.DataFrame:
    """The pilot's rows of the view's wide indicators (computed once for the view)."""
    wide = story.view.indicators_wide()
    return wide[wide["pilot_id"] == pilot_id]


def _pilot_targets(story: Story, pilot_id: str) -> pd.DataFrame:
    t = story.view.targets
    t = t[t["pilot_id"] == pilot_id]
    cols = ["indicator", "label", "value", "quarter", "baseline", "target", "target_quarter", "progress",
            "value_text", "baseline_text", "target_text", "progress_text"]
    if t.empty:
        return pd.DataFrame(columns=cols)
    wide = _wide_of(story, pilot_id).sort_values("quarter")
    rows = []
    for r in t.itertuples(index=False):
        code = r.indicator
        ind = catalogue.indicators().get(code)
        label = ind.label if ind is not None and getattr(ind, "label", None) else code
        s = wide[["quarter", code]].dropna() if code in wide.columns else pd.DataFrame()
        value, q = (float(s[code].iloc[-1]), str(s["quarter"].iloc[-1])) if len(s) else (None, None)
        base = None if is_missing(r.baseline) else float(r.baseline)
        target = None if is_missing(r.target) else float(r.target)
        progress = None
        if value is not None and target is not None:
            b = base if base is not None else 0.0
            progress = (value - b) / (target - b) if target != b else None
        def fmt(v: float | None, usd: bool = code.endswith("_usd")) -> str:
            return "no data" if v is None else style.fmt_usd(v) if usd else f"{v:,.0f}"
        rows.append({"indicator": code, "label": label, "value": value, "quarter": q, "baseline": base,
                     "target": target,
                     "target_quarter": None if is_missing(r.target_quarter) else str(r.target_quarter),
                     "progress": progress, "value_text": fmt(value), "baseline_text": fmt(base),
                     "target_text": fmt(target),
                     "progress_text": "no data" if progress is None else f"{progress:.0%} of the way"})
    order = {c: i for i, c in enumerate(("income_avg_usd", "households_reached", "participants_women",
                                         "hh_above_living_income", "buyers_with_agreements"))}
    rows.sort(key=lambda r: order.get(r["indicator"], 99))
    return pd.DataFrame(rows, columns=cols)
