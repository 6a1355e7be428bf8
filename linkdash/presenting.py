"""The Presentation page's story, slide by slide, without streamlit.

Which slides there are (:func:`slides`), each slide's title and speaker notes (the same
notes as the deck's slide: each figure's definition and the data's date), a pilot's
income against its baseline, target and living-income benchmark
(:func:`pilot_income_series`) and its key figures against their targets
(:func:`pilot_targets`), a long text shortened for a slide (:func:`shorten`). The
Presentation page, its presenter view, the deck and the report use these.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from linkdash import catalogue, deck, figures, quarters, style
from linkdash.deck import Story

# a lesson on a projected slide: about three lines at the slide's type; the full text is
# one click away (the page) or in the speaker notes (the deck)
LESSON_CHARS = 180


@dataclass(frozen=True)
class Slide:
    kind: str  # map, progress, income, inclusiveness, nbmp, pilot
    title: str
    pilot_id: str | None = None


def pilot_order(story: Story) -> list[str]:
    names = deck.pilot_names(story.view)
    return sorted(story.view.pilots["pilot_id"], key=lambda p: names.get(p, p))


def slides(story: Story) -> list[Slide]:
    """The Presentation page's slides, in order."""
    names = deck.pilot_names(story.view)
    out = [Slide("map", f"The LINK pilots on the map, {story.quarter_label}"),
           Slide("progress", "Progress through the learning cycle"),
           Slide("income", "Income against the living-income benchmark"),
           Slide("inclusiveness", f"Inclusiveness: women and youth, {story.quarter_label}"),
           Slide("nbmp", "The New Business Model Principles")]
    out += [Slide("pilot", f"{names.get(p, p)} ({p})", p) for p in pilot_order(story)]
    return out


def notes(story: Story, slide: Slide) -> str:
    """The speaker notes of a slide: the deck's notes of the same slide."""
    d = deck.definition
    if slide.kind == "map":
        return deck.notes_text(story, [d(n) for n in ("pilots_total", "pilots_reporting",
                                                      "households_reached", "participants_total")])
    if slide.kind == "progress":
        return deck.notes_text(story, [deck.PROGRESS_DEFINITION, d("milestones_completed"),
                                       d("milestones_overdue")])
    if slide.kind == "income":
        return deck.notes_text(story, [d("income_avg_usd"), deck.BENCHMARK_DEFINITION,
                                       d("share_above_living_income")],
                               [f"Quarters up to {story.quarter_label}; a quarter without income "
                                "reports is a gap."])
    if slide.kind == "inclusiveness":
        return deck.notes_text(story, [d(k) for k in (*deck.INCLUSIVENESS, "women_share_leaders")])
    if slide.kind == "nbmp":
        return deck.notes_text(story, [deck.NBMP_DEFINITION] + [
            f"{catalogue.NBMP_LABELS[c]}: {catalogue.indicators()[c].description}" for c in catalogue.NBMP])
    return pilot_notes(story, slide.pilot_id)


def pilot_notes(story: Story, pilot_id: str) -> str:
    """The notes of a pilot's slide (deck and page): figures, targets, the lesson in full."""
    s = deck.pilot_summary(story, pilot_id)
    q, figs, lesson = s["quarter"], s["figures"] or {}, s["lesson"]
    extra = [f"Pilot {pilot_id}: key figures for its latest quarter with data up to "
             f"{story.quarter_label}: {quarters.label(q) if q else 'none'}."]
    if figs:
        extra.append("Values: " + "; ".join(f"{figures.FIGURES[k].label} = {figures.format_figure(k, figs.get(k))}"
                                            for k in deck.PILOT_FIGURES))
    t = pilot_targets(story, pilot_id)
    if len(t):
        extra.append("Against targets: " + "; ".join(
            f"{r.label} {r.value_text} (baseline {r.baseline_text}, target {r.target_text}"
            + (f" by {quarters.label(r.target_quarter)}" if r.target_quarter else "") + ")"
            for r in t.itertuples()))
    if lesson:
        extra.append(f"Key lesson in full ({lesson['kind']}, {lesson['quarter']}"
                     + (f", {lesson['author']}" if lesson.get("author") else "") + f"): {lesson['lesson']}")
    return deck.notes_text(story, [deck.definition(k) for k in deck.PILOT_FIGURES]
                           + [deck.definition("milestones_completed"), deck.definition("milestones_overdue"),
                              TARGETS_DEFINITION,
                              "Key lesson: the pilot's latest insight or recommendation up to the quarter."],
                           extra)


TARGETS_DEFINITION = ("Against targets: the pilot's latest value up to the quarter, its baseline and "
                      "target (Targets sheet); progress = (value - baseline) / (target - baseline).")


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
    starts = [q for q in (qs_data[:1] + ([tgt["baseline_quarter"]] if tgt and tgt.get("baseline_quarter") else []))]
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
        rows.append({"quarter": q, "income_avg_usd": None if style.is_missing(inc) else float(inc),
                     "living_income_usd": None if style.is_missing(li) else float(li)})
    return pd.DataFrame(rows), tgt


def _target(portfolio, pilot_id: str, indicator: str) -> dict | None:
    t = portfolio.targets
    t = t[(t["pilot_id"] == pilot_id) & (t["indicator"] == indicator)]
    if t.empty:
        return None
    return {k: (None if style.is_missing(v) else v) for k, v in t.iloc[0].to_dict().items()}


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
        base = None if style.is_missing(r.baseline) else float(r.baseline)
        target = None if style.is_missing(r.target) else float(r.target)
        progress = None
        if value is not None and target is not None:
            b = base if base is not None else 0.0
            progress = (value - b) / (target - b) if target != b else None
        fmt = (lambda v: "no data" if v is None else
               style.fmt_usd(v) if code.endswith("_usd") else f"{v:,.0f}")
        rows.append({"indicator": code, "label": label, "value": value, "quarter": q, "baseline": base,
                     "target": target,
                     "target_quarter": None if style.is_missing(r.target_quarter) else str(r.target_quarter),
                     "progress": progress, "value_text": fmt(value), "baseline_text": fmt(base),
                     "target_text": fmt(target),
                     "progress_text": "no data" if progress is None else f"{progress:.0%} of the way"})
    order = {c: i for i, c in enumerate(("income_avg_usd", "households_reached", "participants_women",
                                         "hh_above_living_income", "buyers_with_agreements"))}
    rows.sort(key=lambda r: order.get(r["indicator"], 99))
    return pd.DataFrame(rows, columns=cols)
