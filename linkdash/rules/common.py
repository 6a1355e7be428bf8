"""Rules shared by the sheets: duplicate keys, known pilots within the scope, quarters."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from linkdash import catalogue, quarters
from linkdash.problems import Report
from linkdash.rules.sheet import Context, ParsedSheet

RAISES = (  # the problem codes these rules report (problems.CODES says what each means)
    "before_start", "duplicate_key", "future_quarter", "out_of_scope", "unknown_pilot",
)


# --- rules shared by the sheets ---------------------------------------------------------------

def _key_text(key: tuple) -> str:
    """A row's key as the user wrote it: ``TZA 2018`` (a year is no amount: no
    thousands separator)."""
    return " ".join(k if isinstance(k, str) else _plain(k) for k in key)


def _plain(v: Any) -> str:
    """A number without thousands separators: 2018, 2018.5."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def duplicate_keys(p: ParsedSheet, report: Report) -> set[int]:
    """Rows whose key repeats an earlier row: an error naming both rows."""
    spec = catalogue.sheets()[p.table.canonical]
    seen: dict[tuple, int] = {}
    dups: set[int] = set()
    rows = p.ok_rows()
    keys = list(zip(*[[p.values[c][i] for i in rows] for c in spec.key]))
    if len(set(keys)) == len(keys):
        return dups
    for i, key in zip(rows, keys):
        if key in seen:
            j = seen[key]
            shown = _key_text(key) if spec.key[-1] != "lesson" else _key_text(key[:2]) + " (same lesson text)"
            report.error("duplicate_key", p.name, p.cell(spec.key[0], i), _key_text(key)[:200],
                         f"Rows {p.row(j)} and {p.row(i)} both have {shown}: keep only one of them.")
            dups.add(i)
        else:
            seen[key] = i
    return dups


def pilot_rows_rules(p: ParsedSheet, ctx: Context, report: Report, *,
                     known_required: bool = True) -> set[int]:
    """Unknown pilots and pilots outside the user's scope. -> rows to drop."""
    drop: set[int] = set()
    ids = p.values["pilot_id"]
    for i in p.ok_rows():
        pid = ids[i]
        if ctx.scope is not None and pid not in ctx.scope:
            report.error("out_of_scope", p.name, p.cell("pilot_id", i), pid,
                         f"You may only change the pilots in your scope "
                         f"({', '.join(sorted(ctx.scope)) or 'none'}); {pid} is not one of them: "
                         f"remove row {p.row(i)} or ask an administrator.")
            drop.add(i)
        elif known_required and pid not in ctx.pilots:
            report.error("unknown_pilot", p.name, p.cell("pilot_id", i), pid,
                         f"{pid} is not a known pilot: correct the id, or add the pilot to the "
                         f"Pilots sheet.")
            drop.add(i)
    return drop


def quarter_rules(p: ParsedSheet, ctx: Context, report: Report, code: str = "quarter",
                  *, check_start: bool = True) -> set[int]:
    """Quarters after the current one, and (with ``check_start``) before the pilot's
    start quarter. Each distinct quarter and pilot is looked at once; problems are
    reported per row, in row order. -> rows to drop."""
    drop: set[int] = set()
    qs = p.values[code]
    ids = p.values.get("pilot_id")
    cur = ctx.current_quarter
    rows = np.asarray(p.ok_rows(), dtype=np.int64)
    if not rows.size:
        return drop
    q_codes, q_uniq = pd.factorize(np.asarray(qs, dtype=object)[rows])  # None -> -1
    q_list = q_uniq.tolist()
    future = np.array([q > cur for q in q_list] + [False], dtype=bool)
    bad = future[q_codes]
    early = np.zeros(len(rows), dtype=bool)
    starts: list = []
    p_codes = None
    if check_start and ids is not None:
        p_codes, p_uniq = pd.factorize(np.asarray(ids, dtype=object)[rows])
        for pid in p_uniq.tolist():
            info = ctx.pilots.get(pid)
            start = info.get("start_date") if info else None
            starts.append(start if isinstance(start, dt.date) else None)
        start_q = [quarters.of_date(d) if d is not None else None for d in starts]
        # is quarter u before the start quarter of pilot v? over the distinct pairs only
        base = len(starts) + 1  # codes shifted by one: -1 (blank) becomes 0
        pairs, inv = np.unique((q_codes.astype(np.int64) + 1) * base + (p_codes + 1),
                               return_inverse=True)
        before = np.array([
            (qc >= 0 and pc >= 0 and start_q[pc] is not None and q_list[qc] < start_q[pc])
            for qc, pc in ((x // base - 1, x % base - 1) for x in pairs.tolist())], dtype=bool)
        early = before[inv.reshape(-1)] & ~bad
    for j in np.flatnonzero(bad | early).tolist():
        i = int(rows[j])
        q = q_list[q_codes[j]]
        if bad[j]:
            report.error("future_quarter", p.name, p.cell(code, i), q,
                         f"Quarter {q} is after the current quarter ({cur}): results can only be "
                         f"reported for quarters that have begun; correct the quarter.")
        else:
            assert p_codes is not None and ids is not None  # early rows only with pilot ids
            start = starts[p_codes[j]]
            report.error("before_start", p.name, p.cell(code, i), q,
                         f"Quarter {q} is before {ids[i]} started ({start.isoformat()}, "
                         f"{quarters.of_date(start)}): correct the quarter or the pilot's "
                         f"start_date.")
        drop.add(i)
    return drop
