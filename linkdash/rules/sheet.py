"""A located sheet as typed columns (``ParsedSheet``), the check's ``Context``, and the
file's pilots and quarters on one integer scale with the stored values (``StoredKeys``)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from linkdash import catalogue, quarters
from linkdash.keys import KeyIndex, mixed_radix
from linkdash.portfolio import Portfolio
from linkdash.workbook import SheetTable

NUMERIC_TYPES = {"count", "nonneg", "money", "score", "number", "lat", "lon", "year"}
_CODE_WHAT = {"value_chain": "value chain", "milestone": "milestone", "status": "status",
              "kind": "lesson kind", "region": "region", "cycle": "cycle",
              "volume_unit": "volume unit"}
_LABELS = {"value_chain": catalogue.VALUE_CHAIN_LABELS, "milestone": catalogue.MILESTONE_LABELS}


def _show(v: Any) -> str:
    if isinstance(v, float):
        return f"{int(v):,}" if v.is_integer() else f"{v:,.2f}"
    return str(v)


@dataclass
class ParsedSheet:
    table: SheetTable
    values: dict[str, Any]  # code -> float ndarray (NaN blank) or list (None blank)
    rows: list[int]  # data rows (0-based below the header) that are not blank
    bad_key: set[int] = field(default_factory=set)  # rows whose key could not be read

    @property
    def name(self) -> str:
        return self.table.name

    def has(self, code: str) -> bool:
        return code in self.values

    def get(self, code: str, i: int) -> Any:
        col = self.values.get(code)
        if col is None:
            return None
        v = col[i]
        if isinstance(v, float) and v != v:
            return None
        return v.item() if isinstance(v, np.generic) else v

    def cell(self, code: str, i: int) -> str | None:
        return self.table.cell(code, i) if code in self.table.columns else None

    def row(self, i: int) -> int:
        return self.table.row_number(i)

    def ok_rows(self) -> list[int]:
        if not self.bad_key:
            return self.rows
        return [i for i in self.rows if i not in self.bad_key]


@dataclass
class Context:
    current: Portfolio
    today: dt.date
    scope: set[str] | None
    current_quarter: str = ""
    pilots: dict[str, dict] = field(default_factory=dict)  # stored merged with the file
    stored_pilots: set[str] = field(default_factory=set)
    rates: dict[tuple[str, str], float] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)  # integer keys shared by the rules

    def __post_init__(self) -> None:
        self.current_quarter = quarters.current(self.today)


# --- integer keys: the file's rows and the stored values on one scale -----------------------

indicator_index = catalogue.indicator_index  # indicator code -> its place in the catalogue


@dataclass
class StoredKeys:
    """The file's pilots and quarters as integer codes (per data row; -1 for blank), and
    the stored ``Indicators`` values on the same codes, so rules can look stored values
    up with array operations instead of one dictionary lookup per cell.

    ``q_rank`` orders the file's and the stored quarters together (text order, which
    is time order for canonical quarters)."""

    pid: np.ndarray  # per data row: index into pid_uniq, -1 blank
    pid_uniq: np.ndarray
    q: np.ndarray  # per data row: index into q_uniq, -1 blank
    q_uniq: np.ndarray
    q_rank: np.ndarray  # rank of each file quarter among file + stored quarters
    s_pid: np.ndarray  # per stored value: file pilot code, -1 when the pilot is not in the file
    s_q: np.ndarray  # file quarter code, -1 when that quarter is not in the file
    s_q_rank: np.ndarray  # rank on the same scale as q_rank
    s_ind: np.ndarray  # catalogue index of the indicator, -1 when unknown
    s_value: np.ndarray  # float, NaN for none
    ranked: list[str] = field(default_factory=list)  # the quarters in rank order

    _index: KeyIndex | None = field(default=None, repr=False)

    @property
    def n_ind(self) -> int:
        return len(indicator_index()) + 1

    def stored_values(self, pid: np.ndarray, q: np.ndarray, ind: np.ndarray | int) -> np.ndarray:
        """The stored value (NaN for none) of each (file pilot code, file quarter code,
        catalogue index); a code -1 finds nothing."""
        if not len(self.s_value):
            return np.full(np.shape(pid), np.nan)
        sizes = [len(self.pid_uniq), len(self.q_uniq), self.n_ind]
        if self._index is None:
            skey, s_miss = mixed_radix([self.s_pid, self.s_q, self.s_ind], sizes)
            skey[s_miss] = -1
            self._index = KeyIndex(skey, math.prod(max(n, 1) for n in sizes))
        key, miss = mixed_radix([pid, q, np.broadcast_to(ind, np.shape(pid))], sizes)
        pos = self._index.positions(np.where(miss, 0, key))
        pos[miss] = -1
        return np.where(pos >= 0, self.s_value[np.maximum(pos, 0)], np.nan)


def stored_keys(p: ParsedSheet, ctx: Context) -> StoredKeys:
    """``StoredKeys`` of an Indicators sheet (computed once per check; the stored side
    is ``Portfolio.indicator_codes``, which the importer computes while the file is read)."""
    key = f"stored_keys:{id(p)}"
    if key in ctx.cache:
        return ctx.cache[key]
    pid, pid_uniq = pd.factorize(np.asarray(p.values["pilot_id"], dtype=object))
    q, q_uniq = pd.factorize(np.asarray(p.values["quarter"], dtype=object))
    sc = ctx.current.indicator_codes()
    n = len(sc.pid)
    # stored pilots -> file pilot codes, through the distinct stored pilots
    if n:
        to_file = pd.Index(pid_uniq, dtype=object).get_indexer(pd.Index(sc.pid_uniq, dtype=object))
        s_pid = np.append(to_file, -1)[sc.pid]
    else:
        s_pid = np.empty(0, dtype=np.int64)
    file_q = [str(x) for x in q_uniq.tolist()]
    stored_q = [str(x) for x in sc.q_uniq.tolist()]
    ranked = sorted(set(file_q) | set(stored_q))
    rank = {x: r for r, x in enumerate(ranked)}
    q_rank = np.array([rank[x] for x in file_q], dtype=np.int64)
    sq_rank = np.array([rank[x] for x in stored_q] + [-1], dtype=np.int64)[sc.q] if n else sc.q
    file_pos = {x: i for i, x in enumerate(file_q)}
    s_q = np.array([file_pos.get(x, -1) for x in stored_q] + [-1], dtype=np.int64)[sc.q] if n else sc.q
    out = StoredKeys(pid, pid_uniq, q, q_uniq, q_rank, s_pid, s_q, sq_rank, sc.ind, sc.value, ranked)
    ctx.cache[key] = out
    return out
