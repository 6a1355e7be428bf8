"""Quarters as canonical text ``2017-Q1``: ordering, arithmetic and their dates.

Parsing the many ways people write a quarter lives in ``linkdash.values``; this module
only deals with canonical quarters, which sort correctly as plain strings, and is the one
home of quarters, dates and times as users read them (``label``, ``quarter_text``,
``date_text``, ``time_text``): pages, charts, maps, the story, deck and report, messages.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import overload

_CANONICAL = re.compile(r"^(\d{4})-Q([1-4])$")


def split(q: str) -> tuple[int, int]:
    m = _CANONICAL.match(q)
    if not m:
        raise ValueError(f"not a canonical quarter: {q!r}")
    return int(m.group(1)), int(m.group(2))


def make(year: int, n: int) -> str:
    return f"{year:04d}-Q{n}"


def of_date(d: dt.date) -> str:
    return make(d.year, (d.month - 1) // 3 + 1)


def current(today: dt.date | None = None) -> str:
    return of_date(today or dt.date.today())


def shift(q: str, by: int) -> str:
    y, n = split(q)
    i = y * 4 + (n - 1) + by
    return make(i // 4, i % 4 + 1)


def span(first: str, last: str) -> list[str]:
    """Every quarter from ``first`` to ``last`` inclusive."""
    out, q = [], first
    while q <= last:
        out.append(q)
        q = shift(q, 1)
    return out


def start_date(q: str) -> dt.date:
    y, n = split(q)
    return dt.date(y, 3 * n - 2, 1)


def end_date(q: str) -> dt.date:
    return start_date(shift(q, 1)) - dt.timedelta(days=1)


def label(q: str) -> str:
    """``2017-Q3`` -> ``Q3 2017`` for titles."""
    y, n = split(q)
    return f"Q{n} {y}"


NO_QUARTER = "no quarter reported"


def quarter_text(q: str | None) -> str:
    """``label(q)``, or ``no quarter reported`` for none: "..., Q3 2017" in titles."""
    return label(q) if q else NO_QUARTER


def date_text(d: dt.date | None, missing: str = "no date") -> str:
    """``31 Dec 2018`` (``missing`` for none)."""
    return f"{d.day} {d:%b %Y}" if d else missing


def utc_now() -> dt.datetime:
    """Now, in UTC (the store's and the roles' times)."""
    return dt.datetime.now(dt.UTC)


@overload
def as_utc(t: dt.datetime) -> dt.datetime: ...
@overload
def as_utc(t: None) -> None: ...
def as_utc(t: dt.datetime | None) -> dt.datetime | None:
    """``t`` in UTC: a naive time (as SQLite gives it back) is taken to be UTC already."""
    if t is None:
        return None
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def time_text(t: dt.datetime) -> str:
    """``2019-04-02 10:11``: a time as the store keeps it (UTC), to the minute."""
    return f"{t:%Y-%m-%d %H:%M}"


def as_of(q: str | None, today: dt.date | None = None) -> dt.date:
    """The date milestones are judged on for quarter ``q``: the last day of the quarter,
    or ``today`` when the quarter is the current one (or later, or None). On data that
    ends in 2018, the Progress page for Q4 2018 counts days late to 31 Dec 2018, not to
    today."""
    today = today or dt.date.today()
    if not q:
        return today
    try:
        end = end_date(q)
    except ValueError:
        return today
    return min(end, today)
