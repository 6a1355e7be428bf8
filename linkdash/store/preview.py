"""The Indicators sheet on arrays: new / changed / unchanged counted on integer keys and
arrays, with the same rules as the row by row change plan (``changes._plan``), for the
preview (counts, the detail rows built on demand) and for the commit (``indicator_plan(...,
commit=True)``: the new versions as columns, the ids of the rows they replace, the
values the re-check reads)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from linkdash import catalogue
from linkdash.keys import codes_in, last_position, mixed_radix, repeated
from linkdash.portfolio import IndicatorCodes, text_array
from linkdash.store.changes import Changes, Columns, DetailPart, _empty_detail, _Plan, _plan, changes_of
from linkdash.store.rows import _coerce, _key_text
from linkdash.store.schema import DATA_TABLES, _ordered
from linkdash.values import same_numbers

if TYPE_CHECKING:
    from linkdash.importer import IndicatorKeys

# --- the preview of the Indicators sheet, vectorised ------------------------------------------
#
# An Indicators table holds one row per stored value (50,000 rows x 25 indicators is
# 1.25 million), so the preview does not walk it row by row as ``_plan`` does: one query
# reads the current values of the pilots and quarters in the file, both sides get integer
# keys (pilot, quarter, indicator codes: the importer's ``IndicatorKeys`` when the tables
# are passed, else factorised here), and new / changed / unchanged are counted by
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


def _stored_rows(conn: Connection, cols: list, pilots: list[str], quarters: list[str]
                 ) -> Iterator[Sequence[Any]]:
    """The current rows of these pilots in these quarters (``cols``), in batches of plain
    tuples from the driver (no Row objects), so that only one batch exists at once.
    PostgreSQL: through a server-side cursor (else the driver would hold the whole
    result first), the pilots and quarters as arrays."""
    t = DATA_TABLES["Indicators"]
    if conn.dialect.name == "postgresql":
        driver = conn.connection.driver_connection
        assert driver is not None  # an open connection
        names = ", ".join(f'"{c.name}"' for c in cols)
        with driver.cursor(name="linkdash_stored") as cur:
            cur.execute(f'SELECT {names} FROM "{t.name}" WHERE superseded_by IS NULL '
                        "AND pilot_id = ANY(%(pilots)s) AND quarter = ANY(%(quarters)s)",
                        {"pilots": pilots, "quarters": quarters})
            while rows := cur.fetchmany(_FETCH_BATCH):
                yield rows
        return
    for i in range(0, len(pilots), _IN_CHUNK):
        chunk = pilots[i:i + _IN_CHUNK]
        res = conn.execute(sa.select(*cols).where(t.c.superseded_by.is_(None),
                                                  t.c.pilot_id.in_(chunk),
                                                  t.c.quarter.in_(quarters)))
        while rows := res.cursor.fetchmany(_FETCH_BATCH):
            yield rows
        res.close()


@dataclass
class _Stored:
    """The current indicator values of the file's pilots and quarters: per row the codes
    of its pilot, quarter and indicator in the file's uniques (-1: not in the file), its
    indicator code as stored (shared strings), value (NaN for none), text, and row id
    (when asked for)."""

    codes: list[np.ndarray]
    indicator: np.ndarray
    value: np.ndarray
    text: np.ndarray
    ids: np.ndarray | None


def _stored_values(conn: Connection, uniques: list[np.ndarray], *, ids: bool = False) -> _Stored:
    """The current values of the pilots and quarters in ``uniques`` (the file's): only
    what the file can match, so a new quarter reads (almost) nothing however long the
    history. Each batch's strings become codes at once: a million stored rows cost
    about 40 bytes each, not a Python string per key column."""
    t = DATA_TABLES["Indicators"]
    pilots, quarters = ([v for v in u.tolist() if v is not None] for u in uniques[:2])
    cols = [t.c.pilot_id, t.c.quarter, t.c.indicator, t.c.value, t.c.text, *([t.c.id] if ids else [])]
    parts: list[list[np.ndarray]] = [[] for _ in cols]
    own: dict[str, int] = {}  # stored indicator -> code
    for batch in _stored_rows(conn, cols, pilots, quarters):
        by_col = list(zip(*batch))
        del batch
        for k in (0, 1):
            parts[k].append(codes_in(np.array(by_col[k], dtype=object), uniques[k]))
        parts[2].append(np.array([own.setdefault(x, len(own)) for x in by_col[2]], dtype=np.int64))
        parts[3].append(np.array(by_col[3], dtype=float))
        parts[4].append(np.array(by_col[4], dtype=object))
        if ids:
            parts[5].append(np.array(by_col[5], dtype=np.int64))
    kinds = [np.int64, np.int64, np.int64, float, object, np.int64]
    out = [np.concatenate(p) if p else np.empty(0, dtype=kinds[k]) for k, p in enumerate(parts)]
    names = np.array([*own, None], dtype=object)[:-1]
    ind_codes = np.append(codes_in(names, uniques[2]), -1)[out[2]] if len(names) else out[2]
    return _Stored([out[0], out[1], ind_codes], names[out[2]] if len(names) else out[4],
                   out[3], out[4], out[5] if ids else None)


def _same_floats(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``_same`` on float arrays with NaN for None: both blank, or the same number
    (``values.same_numbers``)."""
    return same_numbers(a, b) | (np.isnan(a) & np.isnan(b))


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


def _given_keys(df: pd.DataFrame, given: IndicatorKeys | None
                ) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """The (codes, uniques) of pilot_id, quarter, indicator that the importer computed
    (``importer.IndicatorKeys``), when they still describe ``df`` and are plain text."""
    if given is None or not given.matches(df):
        return None
    if any(pd.api.types.infer_dtype(u, skipna=False) not in ("string", "empty") for u in given.uniques):
        return None
    return list(zip(given.codes, given.uniques))


def indicator_plan(conn: Connection, df: pd.DataFrame, given: IndicatorKeys | None = None,
                   loaded: IndicatorCodes | None = None, *, commit: bool = False
                   ) -> tuple[_Plan, _IndicatorDetail | list]:
    """The change plan of an Indicators table made on arrays, with the rules of ``_plan``,
    and what its detail rows are made of. ``given``: the table's keys from the importer,
    if any (``importer.IndicatorKeys``); ``loaded``: the current indicator values as
    codes (``Portfolio.indicator_codes`` of ``Store.load`` at the store's present data
    version), else they are read. A preview counts; with ``commit`` (inside the commit's
    transaction, ``loaded`` None) the plan also holds the new versions as ``Columns``,
    the ids of the rows they replace and the values the re-check needs
    (``given_values``, ``stored_values``). A table with a key given twice or with a blank
    part (the importer refuses both) gets the row by row ``_plan``."""
    plan = _Plan("Indicators")
    n = len(df)
    val = _float_column(df, "value", n)
    has_v = ~np.isnan(val)
    if given is not None and given.text_rows is not None and given.matches(df):
        # (the importer's table: text in its ``text_rows`` alone, str)
        text = df["text"].to_numpy(dtype=object)
        has_t = np.zeros(n, dtype=bool)
        has_t[given.text_rows] = True
    else:
        text = _text_column(df, "text", n)
        has_t = pd.notna(text)
    # a row with neither value nor text is not reported: no stored value
    live = np.flatnonzero(has_v | has_t)
    factorised = _given_keys(df, given) or [
        pd.factorize(_text_column(df, c, n)) for c in ("pilot_id", "quarter", "indicator")]
    key, blank, uniques = _int_keys(factorised)
    key, blank = key[live], blank[live]
    size = math.prod(max(len(u), 1) for u in uniques)
    if blank.any() or repeated(key, size):
        # a key given twice or with a blank part (the importer reports both as errors):
        # the row by row plan, whose merging of such rows is the reference
        plan = _plan(conn, "Indicators", df)
        return plan, plan.detail
    # the same integer keys; stored rows whose quarter or indicator is not in the file
    # never match
    stored: _Stored | None = None
    if loaded is None or commit:
        # (pilots and quarters only in blank rows are asked for too: harmless, their
        # keys match nothing)
        stored = _stored_values(conn, uniques, ids=commit)
        codes, s_value, s_text = stored.codes, stored.value, stored.text
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
    del skey, miss
    found = hit >= 0
    fidx = np.flatnonzero(found)
    m = hit[fidx]  # stored row of each found live row
    del hit
    old_v = s_value[m]
    old_t = s_text[m]
    if len(old_t):
        old_t = text_array(old_t)
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
    part = _IndicatorDetail(df, live, has_v[live], has_t[live], found, diff_v, diff_t,
                            old_v, old_t, text_first)
    if commit:
        assert stored is not None and stored.ids is not None
        _commit_columns(plan, df, stored, uniques, [c for c, _ in factorised], live, found, m, rows,
                        diff_v | diff_t, val, text, has_v, has_t, old_v, old_t)
    return plan, part


def _commit_columns(plan: _Plan, df: pd.DataFrame, stored: _Stored, uniques: list[np.ndarray],
                    codes_of: list[np.ndarray], live: np.ndarray, found: np.ndarray, m: np.ndarray,
                    rows: np.ndarray,
                    changed: np.ndarray, val: np.ndarray, text: np.ndarray, has_v: np.ndarray,
                    has_t: np.ndarray, old_v: np.ndarray, old_t: np.ndarray) -> None:
    """What a commit writes and re-checks, on ``plan``: the new versions (each new row as
    given; each changed row the stored row overlaid with the non-blank values given),
    in the order of their keys, and the ids of the rows they replace."""
    from linkdash.recheck import IndicatorValues

    assert stored.ids is not None
    n = len(df)
    ch = np.flatnonzero(changed)  # among the found live rows
    ch_rows = rows[ch]
    at = np.concatenate([live[~found], ch_rows])
    # the rows of the table, overlaid where a changed row keeps a stored value (no copy
    # when nothing changed: the new versions are the table's rows)
    value, texts = val, text
    if len(ch):
        value, texts = val.copy(), text.copy()
        value[ch_rows] = np.where(has_v[ch_rows], val[ch_rows], old_v[ch])
        texts[ch_rows] = np.where(has_t[ch_rows], text[ch_rows], old_t[ch])
    # written in the order of the key indexes (pilot, quarter, indicator): their b-trees
    # then grow at one end instead of at a million random places (SQLite: 3x faster)
    order = np.zeros(len(at), dtype=np.int64)
    for c, u in zip(codes_of, uniques):
        rank = np.argsort(np.argsort(np.array(u, dtype=object), kind="stable"), kind="stable")
        order *= max(len(u), 1)
        order += rank[c[at]]  # (the keys of live rows are whole: no code -1)
    at = at[np.argsort(order, kind="stable")]
    del order
    keys = {c: _text_column(df, c, n) for c in ("pilot_id", "quarter", "indicator")}
    plan.columns = Columns({**keys, "value": value, "text": texts}, take=at)
    plan.supersede = stored.ids[m[ch]]
    if len(live) == n:  # every row holds a value or a text: no copy
        plan.given_values = IndicatorValues(keys["pilot_id"], keys["quarter"], keys["indicator"], val)
    else:
        plan.given_values = IndicatorValues(keys["pilot_id"][live], keys["quarter"][live],
                                            keys["indicator"][live], val[live])
    plan.stored_values = IndicatorValues(uniques[0][stored.codes[0]], uniques[1][stored.codes[1]],
                                         stored.indicator, stored.value)


def preview(conn: Connection, tables: dict[str, pd.DataFrame], *, loaded: IndicatorCodes | None = None,
            indicator_keys: IndicatorKeys | None = None) -> Changes:
    """What committing ``tables`` would change (``Store.preview``): the change plan of
    each sheet, the Indicators sheet's counted on arrays. ``loaded``: the stored
    indicator values, when the caller's portfolio is the store's present data version;
    ``indicator_keys``: the importer's keys of the Indicators table, if any."""
    plans: list[_Plan] = []
    parts: list[list[tuple] | DetailPart] = []
    for sheet, df in _ordered(tables):
        part: list[tuple] | DetailPart
        if sheet == "Indicators":
            plan, part = indicator_plan(conn, df, indicator_keys, loaded)
        else:
            plan = _plan(conn, sheet, df)
            part = plan.detail
        plans.append(plan)
        parts.append(part)
    return changes_of(plans, parts)
