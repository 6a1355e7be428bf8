"""Illustrative data beside real data: mixed or not, removed and loaded again.

Whether what is shown is illustrative has one answer, ``portfolio.is_illustrative`` (the
demo generator's mark travels with the data; the deck, the report and every page ask it).
This module adds what the history knows: the demo is stored as submissions of kind
``demo``; the data is *mixed* when live uploads sit beside illustrative data. Removing it
is a rollback of each live demo submission (kept in the history); loading it again fills
in only what no real upload holds (``restore_tables``), so real values are never
overwritten by made-up ones.

Pure: callers pass the submission history (``Store.submissions()``), the store's history
of versions (``Store.history()``) and a ``Portfolio``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from linkdash import catalogue
from linkdash.portfolio import Portfolio, is_illustrative

DEMO_KIND = "demo"  # as linkdash.demo.DEMO_KIND (kept here so this module imports nothing heavy)


@dataclass(frozen=True)
class Illustrative:
    any: bool = False  # the data shown is illustrative (``portfolio.is_illustrative``)
    demo_ids: tuple[int, ...] = ()  # live demo submissions, newest first
    real_ids: tuple[int, ...] = ()  # live uploads, newest first
    removed_ids: tuple[int, ...] = ()  # demo submissions rolled back

    @property
    def mixed(self) -> bool:
        """Illustrative data beside real uploads."""
        return self.any and bool(self.real_ids)

    @property
    def only(self) -> bool:
        return self.any and not self.real_ids


def state(submissions: pd.DataFrame | None, portfolio: Portfolio | None) -> Illustrative:
    """Illustrative or not (``portfolio.is_illustrative``), and what the history holds:
    live demo submissions, live uploads, demo submissions rolled back."""
    shown = portfolio is not None and is_illustrative(portfolio)
    if submissions is None or submissions.empty or "kind" not in submissions.columns:
        return Illustrative(shown)
    kind = submissions["kind"].astype(str)
    live = submissions["status"].astype(str) != "rolled_back"
    ids = submissions["id"].astype(int)

    def newest(mask) -> tuple[int, ...]:
        return tuple(sorted((int(i) for i in ids[mask]), reverse=True))

    return Illustrative(shown, newest((kind == DEMO_KIND) & live), newest((kind == "upload") & live),
                        newest((kind == DEMO_KIND) & ~live))


@dataclass
class Removal:
    """What removing the illustrative data would do."""

    demo_ids: tuple[int, ...]
    # pilots whose row in Pilots comes from the demo while real uploads report on them:
    # the rollback keeps those rows (``Store.rollback`` never leaves values without
    # their pilot), so their names and places stay illustrative until a real upload
    # sends them
    kept_pilots: list[str] = field(default_factory=list)

    @property
    def possible(self) -> bool:
        return bool(self.demo_ids)


def removal(history: pd.DataFrame, ill: Illustrative) -> Removal:
    """The live demo submissions to roll back, and the pilots whose illustrative Pilots
    row stays because real uploads report on them. ``history``: ``Store.history()``
    (every version with its submission)."""
    if not ill.demo_ids or history is None or history.empty:
        return Removal(ill.demo_ids)
    cur = history[history["current"].astype(bool)]
    demo = set(ill.demo_ids)
    by_demo = cur["submission_id"].astype(int).isin(demo)
    demo_pilots = set(cur.loc[by_demo & (cur["sheet"] == "Pilots"), "pilot_id"].dropna().astype(str))
    real = cur.loc[~by_demo & (cur["sheet"] != "Pilots"), "pilot_id"].dropna().astype(str)
    return Removal(ill.demo_ids, sorted(demo_pilots & set(real)))


# the columns that identify a stored value, per sheet, as the portfolio's frames hold them
_FRAMES = {"Pilots": "pilots", "Progress": "milestones", "Indicators": "indicators",
           "Targets": "targets", "Lessons": "lessons", "Benchmarks": "benchmarks", "Rates": "rates"}


def _keys(sheet: str) -> list[str]:
    return (["pilot_id", "quarter", "indicator"] if sheet == "Indicators"
            else list(catalogue.sheets()[sheet].key))


def restore_tables(tables: dict[str, pd.DataFrame], current) -> dict[str, pd.DataFrame]:
    """The demo ``tables`` without every value the store holds now (``current``: a
    ``Portfolio``): loading the illustrative data again fills gaps and never overwrites
    a real value. Sheets left empty are dropped."""
    out: dict[str, pd.DataFrame] = {}
    for sheet, df in tables.items():
        keys = _keys(sheet)
        have = getattr(current, _FRAMES[sheet])
        if df.empty:
            continue
        if have is None or have.empty:
            out[sheet] = df
            continue
        held = pd.MultiIndex.from_frame(have[keys].astype(str))
        mine = pd.MultiIndex.from_frame(df[keys].astype(str))
        left = df[~mine.isin(held)]
        if len(left):
            out[sheet] = left.reset_index(drop=True)
    return out
