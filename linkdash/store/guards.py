"""The guards of a commit: the same file sent before, values no store may keep, and the
rules on stored values checked again inside the commit's transaction."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from linkdash.problems import Problem
from linkdash.quarters import as_utc, time_text
from linkdash.store.changes import _Plan
from linkdash.store.rows import _coerce, _key_text, _same
from linkdash.store.schema import DATA_TABLES, LAYOUT, TEXT_MAX_CHARS, submissions_table


def _find_by_hash(conn: Connection, sha256: str) -> dict[str, Any] | None:
    s = submissions_table
    r = conn.execute(sa.select(s.c.id, s.c.created_at, s.c.filename, s.c.user)
                     .where(s.c.sha256 == sha256, s.c.status == "committed",
                            s.c.kind.in_(("upload", "demo")))
                     .order_by(s.c.id).limit(1)).mappings().first()
    if r is None:
        return None
    d = dict(r)
    d["created_at"] = as_utc(d["created_at"])
    return d


def duplicate_warning(earlier: dict[str, Any]) -> Problem:
    when = earlier["created_at"]
    return Problem(
        "duplicate_file", "warning", None, None, earlier.get("filename"),
        f"This file was already imported as submission {earlier['id']} on "
        f"{time_text(when)} UTC; nothing changed. To undo that submission, roll it back.",
    )


# --- the last guards of a commit ------------------------------------------------------------

_MAX_PROBLEMS_PER_COLUMN = 20
_INT_RANGE = 2 ** 31  # an Integer column on PostgreSQL


def _row_key(sheet: str, df: pd.DataFrame, position: int) -> str:
    keys, cols = LAYOUT[sheet]
    rec = df.iloc[position]
    return _key_text(tuple(_coerce(cols[k], rec.get(k)) if k in df.columns else None
                           for k in keys))


def _shown(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 80 else text[:77] + "..."


def unstorable(ordered: list[tuple[str, pd.DataFrame]], *, filename: str | None = None,
               user: str | None = None) -> list[Problem]:
    """Values no store may keep, as errors: text with a NUL character (PostgreSQL
    cannot store one, SQLite would: both stores must agree) or that is not valid
    Unicode, text longer than ``TEXT_MAX_CHARS``, numbers that are not finite (or
    whole numbers beyond an Integer column). The importer refuses them at their cells
    first; this is the store's last guard, so a commit refuses rather than fails."""
    out: list[Problem] = []

    def add(code, sheet, value, message):
        out.append(Problem(code, "error", sheet, None, value, message))

    for what, text in (("file name", filename), ("user", user)):
        if text is not None and "\x00" in text:
            add("nul_character", None, _shown(text),
                f"The {what} holds a NUL character, which cannot be stored: remove it.")
    for sheet, df in ordered:
        _, cols = LAYOUT[sheet]
        for c in [c for c in df.columns if c in cols]:
            kind, col = cols[c], df[c]
            found: dict[str, int] = {}

            def flag(code, position, value, message, found=found, sheet=sheet, df=df, c=c):
                found[code] = found.get(code, 0) + 1
                if found[code] <= _MAX_PROBLEMS_PER_COLUMN:
                    add(code, sheet, _shown(value),
                        f"{message} ({sheet} {_row_key(sheet, df, position)}, column {c}).")

            if kind in ("float", "int"):
                nums = pd.to_numeric(col, errors="coerce") if col.dtype.kind not in "fi" else col
                arr = nums.to_numpy(dtype=float, na_value=np.nan)
                with np.errstate(invalid="ignore"):
                    bad = np.isinf(arr) | ((np.abs(arr) >= _INT_RANGE) if kind == "int" else False)
                for i in np.flatnonzero(bad).tolist():
                    if np.isinf(arr[i]):
                        flag("not_finite", i, arr[i], "Every stored number is finite: this one is not")
                    else:
                        flag("out_of_range", i, arr[i], "This whole number is too large to store")
            elif kind == "text":
                values = col.dropna()
                if values.empty:
                    continue
                if values.dtype == object:
                    uniq = pd.unique(values.to_numpy(dtype=object))
                else:
                    uniq = pd.unique(values.astype(str).to_numpy(dtype=object))
                for v in uniq.tolist():
                    t = str(v)
                    code = None
                    if "\x00" in t:
                        code, msg = "nul_character", "Text may not hold a NUL character: remove it"
                    elif len(t) > TEXT_MAX_CHARS:
                        code, msg = ("text_too_long", f"Text is {len(t):,} characters long, more "
                                     f"than the {TEXT_MAX_CHARS:,} a field may hold: shorten it")
                    else:
                        try:
                            t.encode("utf-8")
                        except UnicodeEncodeError:
                            code, msg = "bad_character", "Text holds a character that is not valid Unicode"
                    if code is not None:
                        raw = col.to_numpy(dtype=object)
                        hits = [i for i, x in enumerate(raw.tolist()) if x is not None and str(x) == t]
                        flag(code, hits[0] if hits else 0, t, msg)
    return out


def _recheck(conn: Connection, plans: list[_Plan]) -> list[Problem]:
    """The rules that involve stored values, on the store as it is inside the commit's
    transaction (``linkdash.recheck``)."""
    from linkdash import recheck

    by_sheet = {p.sheet: p for p in plans}
    given = {p.sheet: p.given for p in plans if p.sheet != "Indicators"}
    stored: dict[str, dict[tuple, dict[str, Any]]] = {
        s: by_sheet[s].current for s in ("Pilots", "Progress") if s in by_sheet}
    if "Pilots" not in stored:
        t = DATA_TABLES["Pilots"]
        stored["Pilots"] = {(r["pilot_id"],): dict(r) for r in conn.execute(
            sa.select(t).where(t.c.superseded_by.is_(None))).mappings()}
    values: dict[str, recheck.IndicatorValues] = {}
    ind = by_sheet.get("Indicators")
    if ind is not None:  # the plan on arrays holds them as columns, the row by row one as rows
        values["given_indicators"] = (ind.given_values if ind.given_values is not None
                                      else recheck.IndicatorValues.from_rows(ind.given))
        values["stored_indicators"] = (ind.stored_values if ind.stored_values is not None
                                       else recheck.IndicatorValues.from_rows(ind.current))
    first: dict[str, str] = {}
    starting = sorted({k[0] for k, v in given.get("Pilots", {}).items()
                       if v.get("start_date") is not None})
    for i in range(0, len(starting), 500):
        first.update(_first_quarters(conn, starting[i:i + 500]))
    after = recheck.After(given, stored, first, who=lambda s, k, c: _who(conn, s, k, c), **values)
    return recheck.conflicts(after)


def _first_quarters(conn: Connection, pilots: list[str]) -> dict[str, str]:
    """The first quarter with a current indicator value of each of these pilots (those
    with none left out): one search of the key index per pilot (the GROUP BY over
    ``pilot_id IN (...)`` this replaces was planned, on SQLite, as a scan of every current
    value: 0.8 s at 1,000 pilots x 40 quarters; this takes about 0.1 s)."""
    t = DATA_TABLES["Indicators"]
    given = sa.values(sa.column("pilot_id", sa.Text), name="given").data(
        [(p,) for p in pilots]).cte("given")
    first = (sa.select(sa.func.min(t.c.quarter))
             .where(t.c.pilot_id == given.c.pilot_id, t.c.superseded_by.is_(None))
             .scalar_subquery())
    return {p: q for p, q in conn.execute(sa.select(given.c.pilot_id, first)) if q is not None}


def _who(conn: Connection, sheet: str, key: tuple, column: str | None) -> int | None:
    """The submission that stored the current value of ``column`` of the row ``key``
    (the origin of the earliest of the latest versions that all hold it; with
    ``column`` None, the origin of the current row), or, when the row is no longer
    stored, the submission that removed it. For Indicators, ``key`` may end in None:
    any current value of that pilot and quarter."""
    t = DATA_TABLES[sheet]
    keys, cols = LAYOUT[sheet]
    if sheet == "Indicators" and key[2] is None:
        return conn.execute(sa.select(t.c.origin_id).where(
            t.c.pilot_id == key[0], t.c.quarter == key[1], t.c.superseded_by.is_(None))
            .order_by(t.c.id).limit(1)).scalar()
    rows = conn.execute(sa.select(t).where(*[t.c[k] == v for k, v in zip(keys, key)])
                        .order_by(t.c.id.desc())).mappings().all()
    if not rows:
        return None
    if rows[0]["superseded_by"] is not None:
        return rows[0]["superseded_by"]
    if column is None:
        return rows[0]["origin_id"]
    value = _coerce(cols[column], rows[0][column])
    setter = rows[0]["origin_id"]
    for r in rows[1:]:
        if not _same(_coerce(cols[column], r[column]), value):
            break
        setter = r["origin_id"]
    return setter
