"""The change plan: what a set of tables changes in the store (``_plan``, row by row, per
sheet), and ``Changes``, the counts and detail rows a preview and a commit report, built
in one place (``changes_of``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import repeat
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from linkdash.problems import Problem
from linkdash.store.rows import _coerce, _key_text, _same
from linkdash.store.schema import DATA_TABLES, LAYOUT

if TYPE_CHECKING:
    from linkdash.recheck import IndicatorValues

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
                 detail_parts: list[list[tuple] | DetailPart] | None = None):
        self.new = new
        self.changed = changed
        self.unchanged = unchanged
        self.by_sheet = by_sheet if by_sheet is not None else {}
        self._detail = detail
        self._parts = detail_parts  # per sheet: detail tuples or a DetailPart

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


class DetailPart(Protocol):
    """Detail rows made on demand (the fast Indicators preview's ``_IndicatorDetail``)."""

    def frame(self) -> pd.DataFrame: ...


def _detail_frame(parts: list[list[tuple] | DetailPart]) -> pd.DataFrame:
    frames = []
    for part in parts:
        if not isinstance(part, list):
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


# --- a planned change of one sheet --------------------------------------------------

@dataclass
class Columns:
    """New rows as columns (the Indicators plan made on arrays, ``preview.indicator_plan``):
    column -> an array of stored values (None for blank; floats may be NaN for blank);
    ``take``: the rows of those arrays to write, in that order (None: all of them);
    ``constants``: columns that hold one value in every row."""

    data: dict[str, np.ndarray]
    take: np.ndarray | None = None
    constants: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        if self.take is not None:
            return len(self.take)
        return len(next(iter(self.data.values()))) if self.data else 0

    def names(self) -> list[str]:
        return [*self.data, *self.constants]

    def with_constants(self, **values: Any) -> Columns:
        return Columns(self.data, self.take, {**self.constants, **values})

    def tuples(self, start: int, stop: int) -> Iterator[tuple]:
        """The rows start..stop as tuples of Python values, in ``names()`` order."""
        cols: list[Iterable] = []
        for arr in self.data.values():
            part = arr[start:stop] if self.take is None else arr[self.take[start:stop]]
            if part.dtype.kind == "f":
                values = part.astype(object)
                values[np.isnan(part)] = None
                cols.append(values.tolist())
            else:
                cols.append(part.tolist())
        cols += [repeat(v) for v in self.constants.values()]
        return zip(*cols)


@dataclass
class _Plan:
    sheet: str
    inserts: list[dict[str, Any]] = field(default_factory=list)  # new versions (values only)
    supersede: list[int] | np.ndarray = field(default_factory=list)  # ids of replaced rows
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    detail: list[tuple] = field(default_factory=list)
    current: dict[tuple, dict[str, Any]] = field(default_factory=dict)  # stored rows by key
    given: dict[tuple, dict[str, Any]] = field(default_factory=dict)  # the file's values by key
    # the Indicators plan made on arrays (``preview.indicator_plan``) instead of the above:
    # the new versions as columns, what ``changes_of`` builds the detail rows from, and
    # for the re-check the file's values and the stored values of its pilots and quarters
    columns: Columns | None = None
    part: DetailPart | None = None
    given_values: IndicatorValues | None = None
    stored_values: IndicatorValues | None = None


def _coerced(kind: str, col: pd.Series) -> list[Any]:
    """``_coerce`` of every value of a column (whole columns of floats and of text at once)."""
    if kind == "float" and col.dtype.kind in "fiu":
        arr = col.to_numpy(dtype=float)
        out = arr.astype(object)
        out[np.isnan(arr)] = None
        return out.tolist()
    if kind == "text" and col.dtype == object:
        values = col.to_numpy(dtype=object)
        if pd.api.types.infer_dtype(values, skipna=False) == "string":  # str only, no blank
            return values.tolist()
    return [_coerce(kind, v) for v in col.tolist()]


def _incoming_rows(sheet: str, df: pd.DataFrame) -> Iterable[tuple[tuple, dict[str, Any]]]:
    """(key, {column: non-blank value}) of every row of an input table."""
    keys, cols = LAYOUT[sheet]
    present = [c for c in df.columns if c in cols]
    if not present:
        return
    columns = {c: _coerced(cols[c], df[c]) for c in present}
    key_cols = [columns[k] if k in columns else [None] * len(df) for k in keys]
    values = [(c, columns[c]) for c in present if c not in keys]
    for i, key in enumerate(zip(*key_cols)):
        given = {}
        for c, col in values:
            v = col[i]
            if v is not None:
                given[c] = v
        yield key, given


def _plan(conn: Connection, sheet: str, df: pd.DataFrame) -> _Plan:
    table = DATA_TABLES[sheet]
    keys, cols = LAYOUT[sheet]
    values = [c for c in cols if c not in keys]
    plan = _Plan(sheet)
    replaced: list[int] = []
    plan.supersede = replaced
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
            text = _key_text(key)
            for c in values:
                if given.get(c) is not None:
                    plan.detail.append((sheet, text, _field(sheet, key, c), None, given[c], "new"))
            continue
        diffs = [c for c, v in given.items() if not _same(_coerce(cols[c], old[c]), v)]
        if not diffs:
            plan.unchanged += 1
            continue
        row = {k: _coerce(cols[k], old[k]) for k in cols}
        row.update(given)
        pending[key] = row
        plan.inserts.append(row)
        replaced.append(old["id"])
        plan.changed += 1
        for c in diffs:
            plan.detail.append((sheet, _key_text(key), _field(sheet, key, c),
                                _coerce(cols[c], old[c]), given[c], "changed"))
    return plan


def _field(sheet: str, key: tuple, column: str) -> str:
    """The name the Upload page shows for a changed field: the indicator code for
    Indicators (its value column is an implementation detail), else the column."""
    return key[2] if sheet == "Indicators" else column


def changes_of(plans: list[_Plan], parts: list[list[tuple] | DetailPart] | None = None) -> Changes:
    """The one builder of ``Changes`` from the plans of each sheet (a preview's and a
    commit's): their counts, and the detail rows from ``parts`` (one per plan: its
    detail tuples, or what the fast preview builds them from), by default the plans'
    own detail tuples. The detail frame is made when first read."""
    return Changes(
        new=sum(p.new for p in plans), changed=sum(p.changed for p in plans),
        unchanged=sum(p.unchanged for p in plans),
        detail_parts=[p.detail if p.part is None else p.part for p in plans] if parts is None else parts,
        by_sheet={p.sheet: {"new": p.new, "changed": p.changed, "unchanged": p.unchanged}
                  for p in plans})


def _supersede(conn: Connection, table: sa.Table, ids: list[int] | np.ndarray, by: int) -> None:
    """Mark these rows superseded by submission ``by`` (PostgreSQL: an array of 50,000 ids
    a statement; SQLite: 500, its number of parameters is limited)."""
    pg = conn.dialect.name == "postgresql"
    step = 50_000 if pg else 500
    for i in range(0, len(ids), step):
        chunk = ids[i:i + step]
        chunk = chunk.tolist() if isinstance(chunk, np.ndarray) else list(chunk)
        if pg:
            conn.execute(sa.update(table).where(table.c.id == sa.func.any(
                sa.bindparam("ids", chunk, type_=postgresql.ARRAY(sa.Integer)))).values(superseded_by=by))
        else:
            conn.execute(sa.update(table).where(table.c.id.in_(chunk)).values(superseded_by=by))


_WRITE_BATCH = 20_000  # rows turned into Python tuples at once


def _insert_columns(conn: Connection, table: sa.Table, rows: Columns) -> None:
    """Insert rows given as columns, inside ``conn``'s transaction, a batch of tuples at a
    time: COPY on PostgreSQL, the driver's executemany on SQLite (no dict per row)."""
    n, names = len(rows), rows.names()
    cols = ", ".join(f'"{c}"' for c in names)
    driver = conn.connection.driver_connection
    assert driver is not None  # an open connection
    if conn.dialect.name == "postgresql":
        with driver.cursor() as cur, cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as copy:
            for i in range(0, n, _WRITE_BATCH):
                for row in rows.tuples(i, i + _WRITE_BATCH):
                    copy.write_row(row)
        return
    sql = f'INSERT INTO "{table.name}" ({cols}) VALUES ({", ".join("?" * len(names))})'
    cur = driver.cursor()
    try:
        for i in range(0, n, _WRITE_BATCH):
            cur.executemany(sql, rows.tuples(i, i + _WRITE_BATCH))
    finally:
        cur.close()
