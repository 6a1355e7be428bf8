"""The row by row rollback as it was before the set-based one (``linkdash.store.rollback``),
kept only as the reference ``tests/test_store_rollback_sets.py`` compares the new rollback
with: the same rule, one key at a time in Python. ``reference_rollback(store, id, user)``
is a drop-in for ``Store.rollback``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from linkdash import catalogue
from linkdash.quarters import as_utc as _as_utc
from linkdash.quarters import utc_now as _utcnow
from linkdash.store.changes import _supersede
from linkdash.store.rollback import Rollback
from linkdash.store.rows import _key_text
from linkdash.store.schema import DATA_TABLES, LAYOUT, submissions_table

if TYPE_CHECKING:
    from linkdash.store.core import Store

def reference_rollback(store: Store, submission_id: int, user: str | None = None) -> Rollback:
    """Undo a submission (``Store.rollback``; the rule is in the package docstring):
    one transaction that holds the write lock, rows inserted with ``store._insert_rows``."""
    s = submissions_table
    with store._write() as conn, conn.begin() as txn:
        store._bump(conn)
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
            r, m, k = _rollback_sheet(conn, sheet, submission_id, rb_id, store._insert_rows)
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


def _rollback_sheet(conn: Connection, sheet: str, sid: int, rb_id: int,
                    insert_rows: Callable[[Connection, sa.Table, list[dict[str, Any]]], None]
                    ) -> tuple[int, int, list[dict[str, Any]]]:
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
        insert_rows(conn, t, copies)
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
