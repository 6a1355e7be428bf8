"""The store: every stored value with its history, in SQLite or PostgreSQL.

``Store.open(url)`` connects (URL from the argument, else ``LINKDASH_DATABASE_URL``,
else the SQLite file ``data/linkdash.sqlite``, whose folder ``LINKDASH_DATA_DIR``
overrides) and brings the schema up to date with Alembic (``linkdash/migrations``).

Versioning. Every data table holds the key columns, the value columns and
``submission_id`` (the submission that wrote the row), ``superseded_by`` (the
submission that replaced or removed it; NULL = current) and ``origin_id`` (the
submission whose values the row carries: the writer itself, or for a copy that a
rollback restored, the submission that originally set those values). A value is
never updated in place: a change inserts a new version and marks the old one
superseded, so every value keeps its history.

Submissions. ``commit`` writes one submission in ONE transaction: a row of
``submissions`` (file, sha256, user, UTC time, change counts) and the new versions
of every new or changed row. Blank (None/NaN) never erases a stored value: a row's
new version is the stored current row overlaid with the non-blank values sent.
Unchanged rows are not rewritten. ``changes`` counts stored values: one per pilot,
quarter and indicator, and one per row of the other sheets. A file whose sha256
equals that of an earlier committed (not rolled back) submission changes nothing
and says which submission sent it before.

Rollback rule. ``rollback(S)`` records a new submission R of kind ``rollback`` and,
for every value that S set:

- if S's value is still current (as written by S, or restored by an earlier
  rollback of a later submission), it goes back to the latest version written before
  S by a submission that is not rolled back (a copy of that version is inserted,
  written by R, with that version's origin), or the value is removed when there is
  none. So after S: 1470 -> 1500 and T: 1500 -> 1600, rolling back S keeps 1600 and
  rolling back T then restores 1470, not S's 1500;
- if a later submission has changed (or removed) the value since, it is left as it
  is and listed as ``kept: changed later by submission N``.

S is then marked ``rolled_back`` (``rolled_back_by`` = R). A submission already
rolled back, a rollback submission and an unknown id are refused with a message and
nothing changes.

Re-check at commit. Commits and rollbacks run one at a time: each first increments
the ``meta`` row ``data_version`` (SQLite: under BEGIN IMMEDIATE; PostgreSQL: that row
stays locked to the end), so every read after it sees the store as it is now. Inside
that transaction ``linkdash.recheck`` checks the rules that involve stored values
again; a file that breaks one because of a value stored since its check is refused
as a whole (``Commit.errors``, code ``conflict``). Values no store may keep (NUL,
non-finite numbers, text over ``TEXT_MAX_CHARS``) are refused before (``unstorable``);
the schema guards the same (migration 0002).

A ``meta`` row ``data_version`` is incremented in the same transaction as every
commit and rollback; pages key their caches on it, so several app processes that
share one PostgreSQL database agree on what is current.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import math
import os
import time
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from linkdash import catalogue
from linkdash.keys import codes_in, last_position, mixed_radix, repeated, run_factorize
from linkdash.values import as_date
from linkdash.portfolio import FRAME_COLUMNS, IndicatorCodes, Portfolio, empty_frame, text_array
from linkdash.problems import Problem

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_PG_LOCK_KEY = 0x4C494E4B  # "LINK": serialises migrations between processes

# --- the schema --------------------------------------------------------------

# sheet name -> (table name, Portfolio frame name)
SHEET_TABLES: dict[str, str] = {
    "Pilots": "pilots", "Progress": "milestones", "Indicators": "indicator_values",
    "Targets": "targets", "Lessons": "lessons", "Benchmarks": "benchmarks", "Rates": "rates",
}
SHEET_FRAMES: dict[str, str] = {
    "Pilots": "pilots", "Progress": "milestones", "Indicators": "indicators",
    "Targets": "targets", "Lessons": "lessons", "Benchmarks": "benchmarks", "Rates": "rates",
}

_FLOAT_TYPES = {"count", "nonneg", "money", "score", "number", "lat", "lon"}


def _column_kind(col_type: str) -> str:
    """Column type of the catalogue -> ``date`` | ``int`` | ``float`` | ``text``."""
    if col_type == "date":
        return "date"
    if col_type == "year":
        return "int"
    if col_type in _FLOAT_TYPES:
        return "float"
    return "text"


def _sheet_layout() -> dict[str, tuple[tuple[str, ...], dict[str, str]]]:
    """sheet -> (stored key columns, {column: kind} of every stored column)."""
    out = {}
    for name in catalogue.SHEET_ORDER:
        if name == "Indicators":
            out[name] = (("pilot_id", "quarter", "indicator"),
                         {"pilot_id": "text", "quarter": "text", "indicator": "text",
                          "value": "float", "text": "text"})
            continue
        sheet = catalogue.sheets()[name]
        out[name] = (sheet.key, {c.code: _column_kind(c.type) for c in sheet.all_columns})
    return out


LAYOUT = _sheet_layout()

_SA_TYPES = {"date": sa.Date, "int": sa.Integer, "float": sa.Double, "text": sa.Text}

metadata = sa.MetaData()

submissions_table = sa.Table(
    "submissions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),  # upload | demo | rollback
    sa.Column("filename", sa.Text),
    sa.Column("sha256", sa.String(64), index=True),
    sa.Column("file", sa.LargeBinary),
    sa.Column("user", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # committed | rolled_back
    sa.Column("rolled_back_by", sa.Integer, sa.ForeignKey("submissions.id")),
    sa.Column("summary", sa.JSON),
)

meta_table = sa.Table(
    "meta", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
)


# What the schema guards (migration 0002): every stored text is at most this long (the
# spec's limit for every text field, lessons included), every number finite.
TEXT_MAX_CHARS = 2000
_DBL_MAX = "1.7976931348623157e308"


def _finite_check(c: str) -> str:
    return f"{c} IS NULL OR ({c} >= -{_DBL_MAX} AND {c} <= {_DBL_MAX})"


def _length_check(c: str) -> str:
    return f"{c} IS NULL OR length({c}) <= {TEXT_MAX_CHARS}"


def _data_table(sheet: str) -> sa.Table:
    name = SHEET_TABLES[sheet]
    keys, cols = LAYOUT[sheet]
    # Lesson text is part of the key but too long to index usefully.
    index_keys = [k for k in keys if k != "lesson"]
    current = sa.text("superseded_by IS NULL")
    if "lesson" in keys:
        # at most one current row per key; a 2,000-character lesson is more than a
        # PostgreSQL b-tree entry holds, so there the index is on its md5
        unique = [
            sa.Index(f"uq_{name}_current", *keys, unique=True, sqlite_where=current)
            .ddl_if(dialect="sqlite"),
            sa.Index(f"uq_{name}_current", *[k if k != "lesson" else sa.text("md5(lesson)")
                                            for k in keys],
                     unique=True, postgresql_where=current).ddl_if(dialect="postgresql"),
        ]
    else:
        unique = [sa.Index(f"uq_{name}_current", *keys, unique=True,
                           sqlite_where=current, postgresql_where=current)]
    checks = [sa.CheckConstraint(_finite_check(c), name=f"ck_{name}_{c}_finite")
              for c, k in cols.items() if k == "float"]
    checks += [sa.CheckConstraint(_length_check(c), name=f"ck_{name}_{c}_length")
               for c, k in cols.items() if k == "text"]
    return sa.Table(
        name, metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        *[sa.Column(c, _SA_TYPES[k](), nullable=c not in keys) for c, k in cols.items()],
        sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id"), nullable=False),
        sa.Column("superseded_by", sa.Integer, sa.ForeignKey("submissions.id")),
        sa.Column("origin_id", sa.Integer, sa.ForeignKey("submissions.id"), nullable=False),
        sa.Index(f"ix_{name}_current", *index_keys, "superseded_by"),
        sa.Index(f"ix_{name}_submission_id", "submission_id"),
        sa.Index(f"ix_{name}_superseded_by", "superseded_by"),
        sa.Index(f"ix_{name}_origin_id", "origin_id"),
        *unique,
        *checks,
    )


DATA_TABLES: dict[str, sa.Table] = {s: _data_table(s) for s in catalogue.SHEET_ORDER}


def include_object(obj, name, type_, reflected, compare_to, *, dialect: str) -> bool:
    """For Alembic's autogenerate (``compare_metadata``, ``env.py``): leave out the
    model's objects made for another dialect only (``ddl_if(dialect=...)``)."""
    ddl_if = getattr(obj, "_ddl_if", None)
    if not reflected and ddl_if is not None and ddl_if.dialect is not None:
        return dialect in ((ddl_if.dialect,) if isinstance(ddl_if.dialect, str) else ddl_if.dialect)
    return True


# --- values --------------------------------------------------------------------

def _blank(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    try:
        return bool(pd.isna(v)) if not isinstance(v, (str, bytes, dt.date)) else False
    except (TypeError, ValueError):
        return False


def _coerce(kind: str, v: Any) -> Any:
    """One stored value in its Python type (None for blank)."""
    if _blank(v):
        return None
    if kind == "date":
        return as_date(v)
    if kind == "int":
        return int(v)
    if kind == "float":
        return float(v)
    return str(v)


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12)
        except (TypeError, ValueError):
            return False
    return a == b


def _key_text(key: tuple) -> str:
    return " / ".join("" if k is None else str(k) for k in key)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _as_utc(t: dt.datetime | None) -> dt.datetime | None:
    if t is None:
        return None
    return t.replace(tzinfo=dt.timezone.utc) if t.tzinfo is None else t.astimezone(dt.timezone.utc)


# --- results ---------------------------------------------------------------------

DETAIL_COLUMNS = ["sheet", "key", "field", "old", "new", "kind"]


class Changes:
    """What a set of tables would change: counts of stored values and, for the
    Upload page, one detail row per new or changed field (``kind`` new|changed).

    ``detail`` may be built lazily (on first access) from parts that ``preview``
    keeps: the counts are always exact, the detail frame costs nothing until a page
    shows it."""

    def __init__(self, new: int = 0, changed: int = 0, unchanged: int = 0,
                 detail: pd.DataFrame | None = None,
                 by_sheet: dict[str, dict[str, int]] | None = None, *,
                 detail_parts: list | None = None):
        self.new = new
        self.changed = changed
        self.unchanged = unchanged
        self.by_sheet = by_sheet if by_sheet is not None else {}
        self._detail = detail
        self._parts = detail_parts  # [list of detail tuples | _IndicatorDetail], in sheet order

    @property
    def detail(self) -> pd.DataFrame:
        if self._detail is None:
            self._detail = _detail_frame(self._parts or [])
            self._parts = None
        return self._detail

    @detail.setter
    def detail(self, frame: pd.DataFrame) -> None:
        self._detail, self._parts = frame, None

    def counts(self) -> dict[str, int]:
        return {"new": self.new, "changed": self.changed, "unchanged": self.unchanged}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Changes):
            return NotImplemented
        return (self.counts() == other.counts() and self.by_sheet == other.by_sheet
                and self.detail.equals(other.detail))

    def __repr__(self) -> str:
        return f"Changes(new={self.new}, changed={self.changed}, unchanged={self.unchanged})"


def _empty_detail() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in DETAIL_COLUMNS})


def _detail_frame(parts: list) -> pd.DataFrame:
    frames = []
    for part in parts:
        if isinstance(part, _IndicatorDetail):
            f = part.frame()
            if len(f):
                frames.append(f)
        elif part:
            frames.append(pd.DataFrame(part, columns=DETAIL_COLUMNS, dtype=object))
    if not frames:
        return _empty_detail()
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


@dataclass
class Commit:
    submission_id: int | None  # None when nothing was stored (a duplicate or a refusal)
    changes: Changes
    warnings: list[Problem] = field(default_factory=list)
    duplicate_of: int | None = None
    # a refusal: values the store cannot keep (NUL, not finite, too long), or a
    # ``conflict`` with values stored since the file was checked; nothing was stored
    errors: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Rollback:
    ok: bool
    message: str
    submission_id: int | None = None  # the new rollback submission
    rolled_back: int | None = None
    restored: int = 0
    removed: int = 0
    kept: list[dict[str, Any]] = field(default_factory=list)  # sheet, key, by, reason

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "message": self.message, "submission_id": self.submission_id,
                "rolled_back": self.rolled_back, "restored": self.restored,
                "removed": self.removed, "kept": self.kept}


class StoreError(Exception):
    """A request the store refuses (not a problem in user data)."""


# --- a planned change of one sheet --------------------------------------------------

@dataclass
class _Plan:
    sheet: str
    inserts: list[dict[str, Any]] = field(default_factory=list)  # new versions (values only)
    supersede: list[int] = field(default_factory=list)  # ids of replaced rows
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    detail: list[tuple] = field(default_factory=list)
    current: dict[tuple, dict[str, Any]] = field(default_factory=dict)  # stored rows by key
    given: dict[tuple, dict[str, Any]] = field(default_factory=dict)  # the file's values by key


def _incoming_rows(sheet: str, df: pd.DataFrame) -> Iterable[tuple[tuple, dict[str, Any]]]:
    """(key, {column: non-blank value}) of every row of an input table."""
    keys, cols = LAYOUT[sheet]
    present = [c for c in df.columns if c in cols]
    records = df[present].to_dict("records") if present else []
    for rec in records:
        key = tuple(_coerce(cols[k], rec.get(k)) for k in keys)
        given = {}
        for c in present:
            if c in keys:
                continue
            v = _coerce(cols[c], rec[c])
            if v is not None:
                given[c] = v
        yield key, given


def _plan(conn: Connection, sheet: str, df: pd.DataFrame) -> _Plan:
    table = DATA_TABLES[sheet]
    keys, cols = LAYOUT[sheet]
    values = [c for c in cols if c not in keys]
    plan = _Plan(sheet)
    current: dict[tuple, dict[str, Any]] = {}
    rows = conn.execute(sa.select(table).where(table.c.superseded_by.is_(None))).mappings()
    for r in rows:
        current[tuple(_coerce(cols[k], r[k]) for k in keys)] = dict(r)
    plan.current = current
    pending: dict[tuple, dict[str, Any]] = {}
    for key, given in _incoming_rows(sheet, df):
        if sheet == "Indicators" and not given:
            continue  # a blank indicator is not reported: no stored value
        plan.given.setdefault(key, {}).update(given)
        if key in pending:  # the same key twice (the importer reports it): merge
            pending[key].update(given)
            continue
        old = current.get(key)
        if old is None:
            row = {k: v for k, v in zip(keys, key)}
            row.update({c: given.get(c) for c in values})
            pending[key] = row
            plan.inserts.append(row)
            plan.new += 1
            for c in values:
                if given.get(c) is not None:
                    plan.detail.append((sheet, _key_text(key), _field(sheet, key, c), None, given[c], "new"))
            continue
        diffs = [c for c, v in given.items() if not _same(_coerce(cols[c], old[c]), v)]
        if not diffs:
            plan.unchanged += 1
            continue
        row = {k: _coerce(cols[k], old[k]) for k in cols}
        row.update(given)
        pending[key] = row
        plan.inserts.append(row)
        plan.supersede.append(old["id"])
        plan.changed += 1
        for c in diffs:
            plan.detail.append((sheet, _key_text(key), _field(sheet, key, c),
                                _coerce(cols[c], old[c]), given[c], "changed"))
    return plan


# --- the preview of the Indicators sheet, vectorised ------------------------------------------
#
# An Indicators table holds one row per stored value (50,000 rows x 25 indicators is
# 1.25 million), so the preview does not walk it row by row as ``_plan`` does: one query
# reads the current values of the pilots and quarters in the file, both sides get integer
# keys (pilot, quarter, indicator codes: the importer's ``IndicatorKeys`` when the tables
# carry them, else factorised here), and new / changed / unchanged are counted by
# comparing arrays with the same rules as ``_plan`` (blank is not reported, floats equal
# within 1e-12, the first of two rows with the same key counts). The detail rows are
# built only when ``Changes.detail`` is read.

_IN_CHUNK = 5000  # pilot ids per query
_FETCH_BATCH = 20_000  # rows turned into an array at once


def _text_column(df: pd.DataFrame, name: str, n: int) -> np.ndarray:
    """An object column as stored text (None for blank), like ``_coerce("text", v)``."""
    if name not in df.columns:
        return np.full(n, None, dtype=object)
    return text_array(df[name].to_numpy(dtype=object))


def _float_column(df: pd.DataFrame, name: str, n: int) -> np.ndarray:
    """A column as stored floats (NaN for blank), like ``_coerce("float", v)``."""
    if name not in df.columns:
        return np.full(n, np.nan)
    col = df[name]
    if col.dtype.kind == "f":
        return col.to_numpy(dtype=float)
    out = [_coerce("float", v) for v in col.tolist()]
    return np.array([np.nan if v is None else v for v in out], dtype=float)


def _current_indicator_values(conn: Connection, pilot_ids: list[str], quarters: list[str]
                              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Current pilot_id, quarter, indicator (object arrays), value (float, NaN for
    None) and text (object) of these pilots in these quarters: only what the file can
    match, so a new quarter reads (almost) nothing however long the history."""
    t = DATA_TABLES["Indicators"]
    cols = (t.c.pilot_id, t.c.quarter, t.c.indicator, t.c.value, t.c.text)
    parts: list[list[np.ndarray]] = [[] for _ in cols]
    for i in range(0, len(pilot_ids), _IN_CHUNK):
        chunk = pilot_ids[i:i + _IN_CHUNK]
        res = conn.execute(sa.select(*cols).where(t.c.superseded_by.is_(None),
                                                  t.c.pilot_id.in_(chunk),
                                                  t.c.quarter.in_(quarters)))
        # plain tuples from the driver (no Row objects), a batch at a time, so that
        # only one batch of row tuples exists at once
        while rows := res.cursor.fetchmany(_FETCH_BATCH):
            for k, col in enumerate(zip(*rows)):
                parts[k].append(np.array(col, dtype=float if k == 3 else object))
        res.close()
    out = [np.concatenate(p) if p else np.empty(0, dtype=float if k == 3 else object)
           for k, p in enumerate(parts)]
    return tuple(out)


def _same_floats(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``_same`` on float arrays with NaN for None: both blank, or math.isclose with
    rel_tol = abs_tol = 1e-12."""
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.abs(a - b) <= np.maximum(1e-12 * np.maximum(np.abs(a), np.abs(b)), 1e-12)
    close &= np.isfinite(a) & np.isfinite(b)
    return close | (a == b) | (np.isnan(a) & np.isnan(b))


@dataclass
class _IndicatorDetail:
    """What the Indicators detail rows are made of; the frame is built on demand."""

    df: pd.DataFrame  # the incoming table
    live: np.ndarray  # rows of df holding a value or a text (the others are not reported)
    has_v: np.ndarray  # per live row: a value given
    has_t: np.ndarray  # per live row: a text given
    stored: np.ndarray  # per live row: a current value exists
    diff_v: np.ndarray  # per stored live row: the value differs
    diff_t: np.ndarray  # per stored live row: the text differs
    old_v: np.ndarray  # per stored live row: stored value (NaN for none)
    old_t: np.ndarray  # per stored live row: stored text (None for none)
    text_first: bool  # the table's text column comes before its value column

    def frame(self) -> pd.DataFrame:
        """One row per new or changed field, in the order ``_plan`` gives them: per
        incoming row, new fields value then text, changed fields in column order."""
        found = self.stored
        fidx = np.flatnonzero(found)
        dv = np.zeros(len(found), dtype=bool)
        dt_ = np.zeros(len(found), dtype=bool)
        dv[fidx], dt_[fidx] = self.diff_v, self.diff_t
        v_rows = np.flatnonzero((~found & self.has_v) | dv)
        t_rows = np.flatnonzero((~found & self.has_t) | dt_)
        if self.text_first:
            sub = np.concatenate([found[v_rows], ~found[t_rows]]).astype(np.int8)
        else:
            sub = np.concatenate([np.zeros(len(v_rows), np.int8), np.ones(len(t_rows), np.int8)])
        rows = np.concatenate([v_rows, t_rows])
        order = np.lexsort((sub, rows))
        rows = rows[order]
        is_text = np.concatenate([np.zeros(len(v_rows), bool), np.ones(len(t_rows), bool)])[order]
        n = len(rows)
        if not n:
            return _empty_detail()
        # old values: stored rows only (index of each live row among the stored ones)
        at = np.cumsum(found) - 1
        old = np.full(n, None, dtype=object)
        was = found[rows]
        k = at[rows[was]]
        ov = self.old_v[k].astype(object)
        ov[np.isnan(self.old_v[k])] = None
        old[was] = np.where(is_text[was], self.old_t[k], ov)
        df, pos = self.df, self.live[rows]
        pid = _text_column(df, "pilot_id", len(df))[pos]
        q = _text_column(df, "quarter", len(df))[pos]
        ind = _text_column(df, "indicator", len(df))[pos]
        key = np.array([_key_text(k) for k in zip(pid.tolist(), q.tolist(), ind.tolist())] + [None],
                       dtype=object)[:-1]
        vals = _float_column(df, "value", len(df))[pos].astype(object)
        texts = _text_column(df, "text", len(df))[pos]
        return pd.DataFrame({
            "sheet": pd.Series(np.full(n, "Indicators", dtype=object), dtype=object),
            "key": pd.Series(key, dtype=object),
            "field": pd.Series(ind, dtype=object),
            "old": pd.Series(old, dtype=object),
            "new": pd.Series(np.where(is_text, texts, vals), dtype=object),
            "kind": pd.Series(np.where(was, "changed", "new").astype(object), dtype=object),
        })


def _int_keys(factorised: list[tuple[np.ndarray, np.ndarray]]
              ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """One int64 key per row from the (codes, uniques) of each key column.
    -> (keys, blank: any part None, the uniques of each column)."""
    uniques = [u for _, u in factorised]
    key, blank = mixed_radix([c for c, _ in factorised], [len(u) for u in uniques])
    return key, blank, uniques


def _given_keys(df: pd.DataFrame, given: Any) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """The (codes, uniques) of pilot_id, quarter, indicator that the importer computed
    (``importer.IndicatorKeys``), when they still describe ``df`` and are plain text."""
    if given is None or not given.matches(df):
        return None
    if any(pd.api.types.infer_dtype(u, skipna=False) not in ("string", "empty") for u in given.uniques):
        return None
    return list(zip(given.codes, given.uniques))


def _preview_indicators(conn: Connection, df: pd.DataFrame, given: Any = None,
                        loaded: IndicatorCodes | None = None
                        ) -> tuple[_Plan, _IndicatorDetail | list]:
    """The counts of ``_plan`` for an Indicators table (nothing to insert: a preview),
    and what its detail rows are made of. ``given``: the table's keys from the importer,
    if any (``importer.IndicatorKeys``); ``loaded``: the current indicator values as
    codes (``Portfolio.indicator_codes`` of ``Store.load`` at the store's present data
    version), else they are read."""
    plan = _Plan("Indicators")
    n = len(df)
    val = _float_column(df, "value", n)
    text = _text_column(df, "text", n)
    has_v = ~np.isnan(val)
    has_t = pd.notna(text)
    # a row with neither value nor text is not reported: no stored value
    live = np.flatnonzero(has_v | has_t)
    factorised = _given_keys(df, given) or [
        pd.factorize(_text_column(df, c, n)) for c in ("pilot_id", "quarter", "indicator")]
    key, blank, uniques = _int_keys(factorised)
    # (pilots and quarters only in blank rows are asked for too: harmless, their keys
    # match nothing)
    pilots, quarters = ([v for v in u.tolist() if v is not None] for u in uniques[:2])
    key, blank = key[live], blank[live]
    size = math.prod(max(len(u), 1) for u in uniques)
    if blank.any() or repeated(key, size):
        # a key given twice or with a blank part (the importer reports both as errors):
        # the row by row plan, whose merging of such rows is the reference
        plan = _plan(conn, "Indicators", df)
        return plan, plan.detail
    # the same integer keys; stored rows whose quarter or indicator is not in the file
    # never match
    if loaded is None:
        stored = _current_indicator_values(conn, pilots, quarters)
        codes = [codes_in(stored[k], u) for k, u in enumerate(uniques)]
        s_value, s_text = stored[3], stored[4]
    else:  # the stored codes -> the file's codes, through the (few) distinct values
        names = np.array(list(catalogue.indicator_index()), dtype=object)
        codes = [np.append(codes_in(own, u), -1)[c]  # (-1: no code stays none)
                 for own, c, u in ((loaded.pid_uniq, loaded.pid, uniques[0]),
                                   (loaded.q_uniq, loaded.q, uniques[1]),
                                   (names, loaded.ind, uniques[2]))]
        s_value, s_text = loaded.value, loaded.text
    skey, miss = mixed_radix(codes, [len(u) for u in uniques])
    skey[miss] = -1
    hit = last_position(skey, key, size)
    found = hit >= 0
    fidx = np.flatnonzero(found)
    m = hit[fidx]  # stored row of each found live row
    old_v = s_value[m]
    old_t = s_text[m]
    if len(old_t):
        old_t = text_array(old_t)
    del s_value, s_text
    rows = live[fidx]
    diff_v = has_v[rows] & ~_same_floats(old_v, val[rows])
    diff_t = np.zeros(len(fidx), dtype=bool)
    tt = np.flatnonzero(has_t[rows])
    if tt.size:
        diff_t[tt] = [a is None or a != b for a, b in zip(old_t[tt].tolist(), text[rows[tt]].tolist())]
    plan.new = len(live) - len(fidx)
    plan.changed = int((diff_v | diff_t).sum())
    plan.unchanged = len(fidx) - plan.changed
    text_first = ("text" in df.columns and "value" in df.columns
                  and list(df.columns).index("text") < list(df.columns).index("value"))
    return plan, _IndicatorDetail(df, live, has_v[live], has_t[live], found, diff_v, diff_t,
                                  old_v, old_t, text_first)


def _field(sheet: str, key: tuple, column: str) -> str:
    """The name the Upload page shows for a changed field: the indicator code for
    Indicators (its value column is an implementation detail), else the column."""
    return key[2] if sheet == "Indicators" else column


def _changes(plans: list[_Plan]) -> Changes:
    detail = [d for p in plans for d in p.detail]
    frame = pd.DataFrame(detail, columns=DETAIL_COLUMNS, dtype=object) if detail else \
        pd.DataFrame({c: pd.Series(dtype=object) for c in DETAIL_COLUMNS})
    return Changes(
        new=sum(p.new for p in plans), changed=sum(p.changed for p in plans),
        unchanged=sum(p.unchanged for p in plans), detail=frame,
        by_sheet={p.sheet: {"new": p.new, "changed": p.changed, "unchanged": p.unchanged}
                  for p in plans},
    )


def _ordered(tables: dict[str, pd.DataFrame]) -> list[tuple[str, pd.DataFrame]]:
    unknown = set(tables) - set(SHEET_TABLES)
    if unknown:
        raise StoreError(f"unknown sheet(s): {', '.join(sorted(unknown))}")
    return [(s, tables[s]) for s in catalogue.SHEET_ORDER if s in tables and tables[s] is not None]


# --- connecting ----------------------------------------------------------------------

def default_url() -> str:
    url = os.environ.get("LINKDASH_DATABASE_URL")
    if url:
        return url
    folder = Path(os.environ.get("LINKDASH_DATA_DIR") or ROOT / "data")
    return f"sqlite:///{folder / 'linkdash.sqlite'}"


def normalize_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` use the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


SQLITE_BUSY_TIMEOUT_S = 120  # how long a SQLite connection waits for another's lock


def _sqlite_file(engine: Engine) -> Path | None:
    """The database file of a SQLite engine (None for memory or another backend)."""
    if engine.dialect.name != "sqlite":
        return None
    db = engine.url.database
    return Path(db) if db and db != ":memory:" and not db.startswith("file:") else None


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    u = sa.make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        # the driver's timeout is SQLite's busy timeout from the moment it connects,
        # before any statement (a connection never gives up on a lock at once)
        engine = sa.create_engine(u, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):
            # SQLAlchemy emits BEGIN itself (so DDL is transactional and writers can
            # take the write lock up front with BEGIN IMMEDIATE).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
            cur.execute("PRAGMA foreign_keys=ON")
            # (WAL is set once, by ``migrate`` under its file lock: it is persistent)
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            conn.exec_driver_sql("BEGIN " + conn.get_execution_options().get("sqlite_begin", ""))

        return engine
    return sa.create_engine(u, pool_pre_ping=True)


@contextlib.contextmanager
def _file_lock(path: Path | None, timeout: float = 600.0):
    """An exclusive ``flock`` on ``path`` (waiting for it up to ``timeout`` seconds);
    nothing when ``path`` is None. The kernel releases it if the holder dies."""
    if path is None:
        yield
        return
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreError(f"{path} stayed locked for {timeout:.0f} s: is another "
                                     "process stuck migrating the store?") from None
                time.sleep(0.02)  # polling a lock, not synchronising on time
        yield
    finally:
        os.close(fd)  # releases the lock


def migrate(engine: Engine) -> None:
    """``alembic upgrade head`` on this engine; idempotent, and safe when several
    processes start at once. PostgreSQL: a transaction-level advisory lock. SQLite: an
    exclusive file lock next to the database file (``<file>-migrate.lock``) around
    switching to WAL and migrating, and BEGIN IMMEDIATE, so processes that open one
    new file at once wait for each other instead of failing with "database is
    locked"."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    db = _sqlite_file(engine)
    with _file_lock(db.with_name(db.name + "-migrate.lock") if db else None):
        with engine.connect() as conn:
            if db is not None:
                # persistent in the file; readers then never block the writer
                # (outside any transaction: on the driver's connection)
                conn.connection.driver_connection.execute("PRAGMA journal_mode=WAL").close()
            conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                if engine.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")


# --- the store ---------------------------------------------------------------------------

class Store:
    """The stored pilots, milestones, indicator values, targets, lessons, benchmarks
    and rates, with every submission that set them. See the module docstring."""

    def __init__(self, engine: Engine):
        self.engine = engine

    @classmethod
    def open(cls, url: str | None = None) -> "Store":
        engine = make_engine(url or default_url())
        migrate(engine)
        return cls(engine)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    def _write(self):
        """A connection whose transaction holds the write lock from the start."""
        conn = self.engine.connect()
        conn.execution_options(sqlite_begin="IMMEDIATE")
        return conn

    @staticmethod
    def _bump(conn: Connection) -> int:
        """Increment data_version; on PostgreSQL the row lock also serialises writers."""
        conn.execute(sa.update(meta_table).where(meta_table.c.key == "data_version")
                     .values(value=meta_table.c.value + 1))
        return conn.execute(sa.select(meta_table.c.value)
                            .where(meta_table.c.key == "data_version")).scalar_one()

    # --- reading -------------------------------------------------------------------

    def data_version(self) -> int:
        with self.engine.connect() as conn:
            return _data_version(conn)

    def is_empty(self) -> bool:
        t = DATA_TABLES["Pilots"]
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(t)
                                .where(t.c.superseded_by.is_(None))).scalar_one() == 0

    def load(self) -> Portfolio:
        """The current values as a Portfolio (one query per table). Text and date
        columns are object dtype with None for blank; numbers float64 (NaN); years int.

        The indicator values (a million rows for 1,000 pilots x 40 quarters) are read in
        batches straight from the driver's cursor, and equal pilot ids, quarters,
        indicator codes and texts share one string object: the frame then costs about
        40 bytes a row instead of about 230, and the read's peak stays near its result
        (``_indicator_frame``)."""
        frames: dict[str, pd.DataFrame] = {}
        with self.engine.connect() as conn:
            # one snapshot: the version and every table as of the same moment (SQLite
            # reads in one transaction; PostgreSQL needs REPEATABLE READ for that)
            if conn.dialect.name == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            version = _data_version(conn)
            for sheet in catalogue.SHEET_ORDER:
                t = DATA_TABLES[sheet]
                keys, cols = LAYOUT[sheet]
                frame_name = SHEET_FRAMES[sheet]
                names = [c for c in FRAME_COLUMNS[frame_name] if c in cols]
                q = (sa.select(*[t.c[c] for c in names]).where(t.c.superseded_by.is_(None))
                     .order_by(*[t.c[k] for k in keys]))
                if sheet == "Indicators":
                    frames[frame_name] = _indicator_frame(conn, q, names, cols)
                    continue
                rows = conn.execute(q).all()
                frames[frame_name] = _frame(frame_name, names, cols, rows)
        pilots = frames["pilots"]
        pilots["country_name"] = pd.Series([_country_name(c) for c in pilots["country"]],
                                           index=pilots.index, dtype=object)
        ms = frames["milestones"]
        if not ms.empty:
            order = {m: i for i, m in enumerate(catalogue.MILESTONES)}
            ms = ms.assign(_o=ms["milestone"].map(order)).sort_values(
                ["pilot_id", "_o"], kind="stable").drop(columns="_o").reset_index(drop=True)
            frames["milestones"] = ms
        return Portfolio(**frames, data_version=version)

    def submissions(self) -> pd.DataFrame:
        """Every submission, newest first: id, kind, filename, user, created_at (UTC),
        status, new, changed, unchanged, rolled_back_by (and for rollbacks restored,
        removed, kept in ``summary``)."""
        s = submissions_table
        cols = ["id", "kind", "filename", "user", "created_at", "status",
                "new", "changed", "unchanged", "rolled_back_by", "summary"]
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(s.c.id, s.c.kind, s.c.filename, s.c.user,
                                          s.c.created_at, s.c.status, s.c.rolled_back_by,
                                          s.c.summary).order_by(s.c.id.desc())).mappings().all()
        records = []
        for r in rows:
            summary = r["summary"] or {}
            records.append({
                "id": r["id"], "kind": r["kind"], "filename": r["filename"], "user": r["user"],
                "created_at": _as_utc(r["created_at"]), "status": r["status"],
                "new": int(summary.get("new", 0)), "changed": int(summary.get("changed", 0)),
                "unchanged": int(summary.get("unchanged", 0)),
                "rolled_back_by": r["rolled_back_by"], "summary": summary,
            })
        df = pd.DataFrame(records, columns=cols, dtype=object)
        return df.astype({c: "int64" for c in ("id", "new", "changed", "unchanged")})

    def submission(self, submission_id: int) -> dict[str, Any] | None:
        s = submissions_table
        with self.engine.connect() as conn:
            r = conn.execute(sa.select(s.c.id, s.c.kind, s.c.filename, s.c.sha256, s.c.user,
                                       s.c.created_at, s.c.status, s.c.rolled_back_by, s.c.summary)
                             .where(s.c.id == submission_id)).mappings().first()
        if r is None:
            return None
        d = dict(r)
        d["created_at"] = _as_utc(d["created_at"])
        return d

    def submission_file(self, submission_id: int) -> tuple[str, bytes] | None:
        """(filename, bytes) of the file a submission sent; None when there is none."""
        s = submissions_table
        with self.engine.connect() as conn:
            r = conn.execute(sa.select(s.c.filename, s.c.file).where(s.c.id == submission_id)).first()
        if r is None or r.file is None:
            return None
        return r.filename, bytes(r.file)

    def find_submission_by_hash(self, sha256: str) -> dict[str, Any] | None:
        """The earliest committed (not rolled back) upload or demo with this file hash."""
        with self.engine.connect() as conn:
            return _find_by_hash(conn, sha256)

    def history(self, pilot_id: str | None = None) -> pd.DataFrame:
        """Every stored version (current and superseded) with the submission that
        wrote it: sheet, pilot_id, key, field, value, current, submission_id,
        superseded_by, kind, filename, user, created_at. ``field``/``value`` are the
        indicator and its value for Indicators, else None and a ``col=value; ...``
        summary of the row. With ``pilot_id``, only that pilot's rows (the pilot
        page's "submissions that touched this pilot" is its ``submission_id``s)."""
        s = submissions_table
        cols = ["sheet", "pilot_id", "key", "field", "value", "current", "submission_id",
                "superseded_by", "kind", "filename", "user", "created_at"]
        records = []
        with self.engine.connect() as conn:
            for sheet in catalogue.SHEET_ORDER:
                t = DATA_TABLES[sheet]
                keys, lcols = LAYOUT[sheet]
                if pilot_id is not None and "pilot_id" not in lcols:
                    continue
                q = (sa.select(t, s.c.kind, s.c.filename, s.c.user, s.c.created_at)
                     .join(s, s.c.id == t.c.submission_id).order_by(t.c.id))
                if pilot_id is not None:
                    q = q.where(t.c.pilot_id == pilot_id.upper())
                for r in conn.execute(q).mappings():
                    key = tuple(r[k] for k in keys)
                    if sheet == "Indicators":
                        fld, val = r["indicator"], r["value"] if r["text"] is None else r["text"]
                    else:
                        fld = None
                        val = "; ".join(f"{c}={r[c]}" for c in lcols
                                        if c not in keys and r[c] is not None)
                    records.append({
                        "sheet": sheet, "pilot_id": r.get("pilot_id"), "key": _key_text(key),
                        "field": fld, "value": val, "current": r["superseded_by"] is None,
                        "submission_id": r["submission_id"], "superseded_by": r["superseded_by"],
                        "kind": r["kind"], "filename": r["filename"], "user": r["user"],
                        "created_at": _as_utc(r["created_at"]),
                    })
        df = pd.DataFrame(records, columns=cols, dtype=object)
        return df.astype({"current": bool, "submission_id": "int64"})

    # --- writing ---------------------------------------------------------------------

    def preview(self, tables: dict[str, pd.DataFrame], current: Portfolio | None = None) -> Changes:
        """What committing these tables would change; stores nothing. ``current``: this
        store's ``load()``, if the caller holds it; when it is still the store's present
        data version, the stored indicator values are taken from it instead of read again
        (the same rows: a preview of a large file with a long history costs no query)."""
        from linkdash.workbook import gc_paused

        plans, parts = [], []
        with gc_paused(), self.engine.connect() as conn:
            loaded = None
            if current is not None and current.data_version is not None \
                    and current.data_version == _data_version(conn):
                loaded = current.indicator_codes()
            for sheet, df in _ordered(tables):
                if sheet == "Indicators":
                    plan, part = _preview_indicators(conn, df, getattr(tables, "indicator_keys", None),
                                                     loaded)
                else:
                    plan = _plan(conn, sheet, df)
                    part = plan.detail
                plans.append(plan)
                parts.append(part)
        return Changes(
            new=sum(p.new for p in plans), changed=sum(p.changed for p in plans),
            unchanged=sum(p.unchanged for p in plans), detail_parts=parts,
            by_sheet={p.sheet: {"new": p.new, "changed": p.changed, "unchanged": p.unchanged}
                      for p in plans})

    def commit(self, tables: dict[str, pd.DataFrame], *, file_bytes: bytes | None,
               filename: str | None, user: str | None, kind: str = "upload") -> Commit:
        """Store the tables as one submission, in one transaction (all or nothing).
        The same file (sha256) sent again changes nothing and warns ``duplicate_file``."""
        if kind not in ("upload", "demo"):
            raise StoreError(f"a commit is an upload or demo, not {kind!r}")
        ordered = _ordered(tables)
        refused = unstorable(ordered, filename=filename, user=user)
        if refused:
            return Commit(None, Changes(), errors=refused)
        sha = hashlib.sha256(file_bytes).hexdigest() if file_bytes is not None else None
        with self._write() as conn, conn.begin() as txn:
            # first: takes the write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: the
            # meta row stays locked until the end), so commits and rollbacks run one
            # at a time and every read below sees the store as it is now
            self._bump(conn)
            if sha is not None:
                earlier = _find_by_hash(conn, sha)
                if earlier is not None:
                    txn.rollback()
                    return Commit(None, Changes(), [duplicate_warning(earlier)],
                                  duplicate_of=earlier["id"])
            plans = [_plan(conn, s, df) for s, df in ordered]
            conflicts = _recheck(conn, plans)
            if conflicts:
                txn.rollback()
                return Commit(None, Changes(), errors=conflicts)
            changes = _changes(plans)
            sub_id = conn.execute(sa.insert(submissions_table).values(
                kind=kind, filename=filename, sha256=sha, file=file_bytes, user=user,
                created_at=_utcnow(), status="committed",
                summary={**changes.counts(), "sheets": changes.by_sheet},
            ).returning(submissions_table.c.id)).scalar_one()
            for plan in plans:
                self._apply(conn, plan, sub_id)
        return Commit(sub_id, changes)

    def _apply(self, conn: Connection, plan: _Plan, sub_id: int) -> None:
        t = DATA_TABLES[plan.sheet]
        if plan.supersede:
            _supersede(conn, t, plan.supersede, sub_id)
        if plan.inserts:
            self._insert_rows(conn, t, [{**r, "submission_id": sub_id, "origin_id": sub_id}
                                        for r in plan.inserts])

    @staticmethod
    def _insert_rows(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        conn.execute(sa.insert(table), rows)

    def rollback(self, submission_id: int, user: str | None = None) -> Rollback:
        """Undo a submission (see the rollback rule in the module docstring)."""
        s = submissions_table
        with self._write() as conn, conn.begin() as txn:
            self._bump(conn)
            target = conn.execute(sa.select(s).where(s.c.id == submission_id)).mappings().first()
            refusal = None
            if target is None:
                refusal = f"There is no submission {submission_id}; `submissions` lists them."
            elif target["kind"] == "rollback":
                refusal = (f"Submission {submission_id} is itself a rollback and cannot be "
                           "rolled back; send the data again instead.")
            elif target["status"] == "rolled_back":
                when = conn.execute(sa.select(s.c.created_at).where(
                    s.c.id == target["rolled_back_by"])).scalar()
                refusal = (f"Submission {submission_id} was already rolled back by submission "
                           f"{target['rolled_back_by']}" +
                           (f" on {_as_utc(when):%Y-%m-%d %H:%M} UTC." if when else "."))
            if refusal:
                txn.rollback()
                return Rollback(False, refusal, rolled_back=submission_id)
            rb_id = conn.execute(sa.insert(s).values(
                kind="rollback", filename=target["filename"], sha256=None, file=None, user=user,
                created_at=_utcnow(), status="committed", summary={},
            ).returning(s.c.id)).scalar_one()
            restored = removed = 0
            kept: list[dict[str, Any]] = []
            # Pilots last: a pilot row the rollback would remove stays while values of
            # other submissions still name that pilot (they would be left without it)
            for sheet in [*(x for x in catalogue.SHEET_ORDER if x != "Pilots"), "Pilots"]:
                r, m, k = _rollback_sheet(conn, sheet, submission_id, rb_id)
                restored += r
                removed += m
                kept.extend(k)
            summary = {"restored": restored, "removed": removed, "kept": len(kept),
                       "rolled_back": submission_id}
            conn.execute(sa.update(s).where(s.c.id == rb_id).values(summary=summary))
            conn.execute(sa.update(s).where(s.c.id == submission_id)
                         .values(status="rolled_back", rolled_back_by=rb_id))
        msg = (f"Rolled back submission {submission_id} as submission {rb_id}: "
               f"{restored:,} {'value' if restored == 1 else 'values'} restored, {removed:,} removed"
               + (f", {len(kept):,} kept because a later submission changed them." if kept else "."))
        return Rollback(True, msg, rb_id, submission_id, restored, removed, kept)


def _data_version(conn: Connection) -> int:
    return int(conn.execute(sa.select(meta_table.c.value)
                            .where(meta_table.c.key == "data_version")).scalar_one())


_LOAD_BATCH = 50_000  # indicator rows fetched at once by ``Store.load``


def _indicator_frame(conn: Connection, query, names: list[str], cols: dict[str, str]) -> pd.DataFrame:
    """The current indicator values (``query``'s rows) as the Portfolio's frame, read in
    batches from the driver's cursor (inside ``conn``'s transaction). Text columns are
    kept as codes while reading; at the end each distinct text becomes one new string
    object that every row of it points to, so no string of the driver's batches stays
    alive (they would keep the interpreter's memory pools from being freed)."""
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    floats = [cols[c] == "float" for c in names]
    codes_of: list[dict] = [{None: 0} for _ in names]  # text -> code; 0 is None
    parts: list[list[np.ndarray]] = [[] for _ in names]
    cur = conn.connection.driver_connection.cursor()
    try:
        cur.execute(sql)
        while True:
            rows = cur.fetchmany(_LOAD_BATCH)
            if not rows:
                break
            for j in range(len(names)):
                col = list(map(itemgetter(j), rows))
                if floats[j]:
                    parts[j].append(np.array(col, dtype="float64"))  # None -> NaN
                    continue
                arr = np.empty(len(col), dtype=object)
                arr[:] = col
                codes, uniques = run_factorize(arr)  # None -> -1
                index = codes_of[j]
                lut = np.array([index.setdefault(u, len(index)) for u in uniques.tolist()] + [0],
                               dtype=np.int32)
                parts[j].append(lut[codes])
            del rows, col, arr
    finally:
        cur.close()
    if not parts[0]:
        return _frame("indicators", names, cols, [])
    data = {}
    for j, c in enumerate(names):
        if floats[j]:
            data[c] = pd.Series(np.concatenate(parts[j]), dtype="float64", copy=False)
            continue
        texts = [None if v is None else str(v).encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")
                 for v in codes_of[j]]  # fresh copies; the driver's strings go with the dict
        codes_of[j] = {}
        uniques = np.array(texts + [None], dtype=object)[:-1]
        data[c] = pd.Series(uniques[np.concatenate(parts[j])], dtype=object, copy=False)
        parts[j] = []
    df = pd.DataFrame(data)
    for c in FRAME_COLUMNS["indicators"]:
        if c not in df.columns:
            df[c] = pd.Series([None] * len(df), dtype=object)
    return df[FRAME_COLUMNS["indicators"]]


def _frame(frame_name: str, names: list[str], cols: dict[str, str], rows) -> pd.DataFrame:
    if not rows:
        df = empty_frame(frame_name)
        for c in names:
            if cols[c] == "float":
                df[c] = df[c].astype("float64")
        return df
    data = {}
    for i, c in enumerate(names):
        values = [r[i] for r in rows]
        kind = cols[c]
        if kind == "float":
            data[c] = pd.Series([math.nan if v is None else float(v) for v in values], dtype="float64")
        elif kind == "int":
            data[c] = pd.Series(values, dtype="int64" if None not in values else "Int64")
        else:
            data[c] = pd.Series(values, dtype=object)
    df = pd.DataFrame(data)
    for c in FRAME_COLUMNS[frame_name]:
        if c not in df.columns:
            df[c] = pd.Series([None] * len(df), dtype=object)
    return df[FRAME_COLUMNS[frame_name]]


def _country_name(code: Any) -> str | None:
    if code is None:
        return None
    try:
        from linkdash import countries  # written by another helper; optional here

        name = getattr(countries, "name", None)
        if name is not None:
            return name(code)
    except ImportError:
        pass
    import pycountry

    c = pycountry.countries.get(alpha_3=str(code))
    return getattr(c, "common_name", None) or getattr(c, "name", None) or str(code)


def _supersede(conn: Connection, table: sa.Table, ids: list[int], by: int) -> None:
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        conn.execute(sa.update(table).where(table.c.id.in_(chunk)).values(superseded_by=by))


def _find_by_hash(conn: Connection, sha256: str) -> dict[str, Any] | None:
    s = submissions_table
    r = conn.execute(sa.select(s.c.id, s.c.created_at, s.c.filename, s.c.user)
                     .where(s.c.sha256 == sha256, s.c.status == "committed",
                            s.c.kind.in_(("upload", "demo")))
                     .order_by(s.c.id).limit(1)).mappings().first()
    if r is None:
        return None
    d = dict(r)
    d["created_at"] = _as_utc(d["created_at"])
    return d


def duplicate_warning(earlier: dict[str, Any]) -> Problem:
    when = earlier["created_at"]
    return Problem(
        "duplicate_file", "warning", None, None, earlier.get("filename"),
        f"This file was already imported as submission {earlier['id']} on "
        f"{when:%Y-%m-%d %H:%M} UTC; nothing changed. To undo that submission, roll it back.",
    )


def _rollback_sheet(conn: Connection, sheet: str, sid: int, rb_id: int):
    """Apply the rollback rule to one table; returns (restored, removed, kept).

    A value of S that is still current (S's own row, or a copy of it that a rollback of
    a later submission restored) goes back to the latest version written before S
    whose origin submission is not rolled back (a copy of it is inserted, written by
    the rollback), or is removed when there is none."""
    t = DATA_TABLES[sheet]
    keys, cols = LAYOUT[sheet]
    keyof = lambda r: tuple(r[k] for k in keys)  # noqa: E731
    mine = conn.execute(sa.select(t).where(t.c.origin_id == sid).order_by(t.c.id)).mappings().all()
    if not mine:
        return 0, 0, []
    by_key: dict[tuple, list] = {}
    for r in mine:
        by_key.setdefault(keyof(r), []).append(r)
    previous = _restorable_versions(conn, sheet, sid)
    current = {keyof(r): r for r in conn.execute(
        sa.select(t.c.id, t.c.submission_id, *[t.c[k] for k in keys])
        .where(t.c.superseded_by.is_(None))).mappings()}
    in_use = _pilots_in_use(conn, [k[0] for k in by_key]) if sheet == "Pilots" else {}
    restored, removed, kept = 0, 0, []
    to_supersede: list[int] = []
    copies: list[dict[str, Any]] = []
    for key, rows in by_key.items():
        live = [r for r in rows if r["superseded_by"] is None]
        if live and key not in previous and key[0] in in_use:
            kept.append({"sheet": sheet, "key": _key_text(key), "field": None, "by": in_use[key[0]],
                         "reason": f"kept: submission {in_use[key[0]]} still has values of this pilot"})
            continue
        if live:
            to_supersede.append(live[0]["id"])
            prev = previous.get(key)
            if prev is not None:
                copy = {c: prev[c] for c in cols}
                copy.update(submission_id=rb_id, origin_id=prev["origin_id"])
                copies.append(copy)
                restored += 1
            else:
                removed += 1
            continue
        cur = current.get(key)
        if cur is not None:
            by, reason = cur["submission_id"], f"changed later by submission {cur['submission_id']}"
        else:
            last = conn.execute(sa.select(t.c.superseded_by).where(
                *[t.c[k] == v for k, v in zip(keys, key)]).order_by(t.c.id.desc()).limit(1)).scalar()
            by, reason = last, f"removed later by submission {last}"
        kept.append({"sheet": sheet, "key": _key_text(key),
                     "field": key[2] if sheet == "Indicators" else None,
                     "by": by, "reason": f"kept: {reason}"})
    if to_supersede:
        _supersede(conn, t, to_supersede, rb_id)
    if copies:
        Store._insert_rows(conn, t, copies)
    return restored, removed, kept


def _pilots_in_use(conn: Connection, pilot_ids: list[str]) -> dict[str, int]:
    """pilot id -> a submission whose current values (on any sheet but Pilots) name
    that pilot, for those of ``pilot_ids`` that have any."""
    out: dict[str, int] = {}
    for sheet, t in DATA_TABLES.items():
        if sheet == "Pilots" or "pilot_id" not in t.c:
            continue
        for i in range(0, len(pilot_ids), 500):
            chunk = pilot_ids[i:i + 500]
            for pid, sub in conn.execute(
                    sa.select(t.c.pilot_id, sa.func.max(t.c.origin_id))
                    .where(t.c.superseded_by.is_(None), t.c.pilot_id.in_(chunk))
                    .group_by(t.c.pilot_id)):
                out.setdefault(pid, int(sub))
    return out


def _restorable_versions(conn: Connection, sheet: str, sid: int) -> dict[tuple, dict[str, Any]]:
    """key -> the version a rollback of ``sid`` restores: of the versions written
    before ``sid`` first wrote that key, the latest whose origin submission is not
    rolled back. Keys without one are absent (the rollback removes the value)."""
    t = DATA_TABLES[sheet]
    keys, _ = LAYOUT[sheet]
    s = submissions_table
    own = t.alias("own")  # sid's own writes (not the copies rollbacks made of them)
    q = (sa.select(t)
         .join(own, sa.and_(own.c.submission_id == sid, own.c.origin_id == sid,
                            *[own.c[k] == t.c[k] for k in keys], t.c.id < own.c.id))
         .join(s, s.c.id == t.c.origin_id)
         .where(s.c.status != "rolled_back")
         .order_by(t.c.id))
    out: dict[tuple, dict[str, Any]] = {}
    for r in conn.execute(q).mappings():
        out[tuple(r[k] for k in keys)] = dict(r)  # ordered by id: the latest wins
    return out


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

            def flag(code, position, value, message):
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
    given = {p.sheet: p.given for p in plans}
    stored = {s: by_sheet[s].current for s in ("Pilots", "Indicators", "Progress") if s in by_sheet}
    if "Pilots" not in stored:
        t = DATA_TABLES["Pilots"]
        stored["Pilots"] = {(r["pilot_id"],): dict(r) for r in conn.execute(
            sa.select(t).where(t.c.superseded_by.is_(None))).mappings()}
    first: dict[str, str] = {}
    starting = sorted({k[0] for k, v in given.get("Pilots", {}).items()
                       if v.get("start_date") is not None})
    if starting:
        if "Indicators" in stored:
            for pid, q, _ in stored["Indicators"]:
                if pid in starting and (pid not in first or q < first[pid]):
                    first[pid] = q
        else:
            t = DATA_TABLES["Indicators"]
            first = dict(conn.execute(
                sa.select(t.c.pilot_id, sa.func.min(t.c.quarter))
                .where(t.c.superseded_by.is_(None), t.c.pilot_id.in_(starting))
                .group_by(t.c.pilot_id)).all())
    after = recheck.After(given, stored, first, who=lambda s, k, c: _who(conn, s, k, c))
    return recheck.conflicts(after)


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
