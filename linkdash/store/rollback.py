"""Rollback: undoing a submission by the rollback rule (see ``linkdash.store``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from linkdash import catalogue
from linkdash.quarters import as_utc, time_text, utc_now
from linkdash.store.changes import _supersede
from linkdash.store.rows import _key_text
from linkdash.store.schema import DATA_TABLES, LAYOUT, submissions_table

if TYPE_CHECKING:
    from linkdash.store.core import Store

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


def rollback(store: Store, submission_id: int, user: str | None = None) -> Rollback:
    """Undo a submission (``Store.rollback``; the rule is in the package docstring):
    one transaction that holds the write lock, a few statements per table."""
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
                       (f" on {time_text(as_utc(when))} UTC." if when else "."))
        if refusal:
            txn.rollback()
            return Rollback(False, refusal, rolled_back=submission_id)
        rb_id = conn.execute(sa.insert(s).values(
            kind="rollback", filename=target["filename"], sha256=None, file=None, user=user,
            created_at=utc_now(), status="committed", summary={},
        ).returning(s.c.id)).scalar_one()
        restored = removed = 0
        kept: list[dict[str, Any]] = []
        # Pilots last: a pilot row the rollback would remove stays while values of
        # other submissions still name that pilot (they would be left without it)
        for sheet in [*(x for x in catalogue.SHEET_ORDER if x != "Pilots"), "Pilots"]:
            changed = ((target["summary"] or {}).get("sheets") or {}).get(sheet, {}).get("changed")
            r, m, k = _rollback_sheet(conn, sheet, submission_id, rb_id, changed)
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


def _rollback_sheet(conn: Connection, sheet: str, sid: int, rb_id: int, changed: int | None = None
                    ) -> tuple[int, int, list[dict[str, Any]]]:
    """Apply the rollback rule to one table; returns (restored, removed, kept).

    A value of S that is still current (S's own row, or a copy of it that a rollback of
    a later submission restored) goes back to the latest version written before S
    whose origin submission is not rolled back (a copy of it is inserted, written by
    the rollback), or is removed when there is none.

    Set-based: a few statements over S's rows, whatever their number (a million values
    of 1,000 pilots x 40 quarters), no key compared in Python. What they rely on (the
    commit and the rollback keep it so): every key S set has one row S itself wrote
    (``own``: written by S, origin S; a restored copy of S's value comes later) and at
    most one current row (the partial unique index); S's value is current when that
    row's origin is S. The latest version written before S is the one S replaced (its
    ``superseded_by`` is S: versions of a key follow one another, each replacing the
    current one); when that one's origin is rolled back, an earlier one is looked for.
    A key S set new had no version to restore then and has none now (origins are
    never un-rolled back). ``changed``: how many values of this table S changed (its
    summary); when more rows than that name S as what replaced them (a store repaired
    by migration 0002, where two rows of a key were current), the latest of each key's
    counts."""
    t = DATA_TABLES[sheet]
    keys, cols = LAYOUT[sheet]
    own, cur = t.alias("own"), t.alias("cur")
    own_rows = sa.and_(own.c.submission_id == sid, own.c.origin_id == sid)
    n_own = conn.execute(sa.select(sa.func.count()).select_from(own).where(own_rows)).scalar_one()
    if not n_own:
        return 0, 0, []
    n_live = conn.execute(sa.select(sa.func.count()).select_from(t).where(
        t.c.origin_id == sid, t.c.superseded_by.is_(None))).scalar_one()
    # a key whose current row is not S's (one at most per key): changed or removed later
    kept = _kept_later(conn, sheet, sid) if n_live < n_own else []
    live_ids: list[int] | None = None  # (Pilots: the live rows to supersede)
    if sheet == "Pilots":
        live = conn.execute(
            sa.select(own.c.id, own.c.pilot_id, cur.c.id, _restorable(own, sheet).exists())
            .select_from(own.join(cur, sa.and_(_same_key(cur, own, keys), cur.c.superseded_by.is_(None),
                                               cur.c.origin_id == sid)))
            .where(own_rows).order_by(own.c.id)).all()
        # Pilots last: a pilot row the rollback would remove stays while values of
        # other submissions still name that pilot (they would be left without it)
        in_use = _pilots_in_use(conn, [pid for _, pid, _, has_prev in live if not has_prev])
        live_ids = []
        for own_id, pid, cur_id, has_prev in live:
            if not has_prev and pid in in_use:
                kept.append((own_id, {
                    "sheet": sheet, "key": _key_text((pid,)), "field": None, "by": in_use[pid],
                    "reason": f"kept: submission {in_use[pid]} still has values of this pilot"}))
            else:
                live_ids.append(cur_id)
    # S's current values: superseded by the rollback (first: one current row per key)
    if live_ids is None:
        superseded = conn.execute(sa.update(t).where(t.c.origin_id == sid, t.c.superseded_by.is_(None))
                                  .values(superseded_by=rb_id)).rowcount
    else:
        _supersede(conn, t, live_ids, rb_id)
        superseded = len(live_ids)
    restored = 0
    if superseded:  # ... and the versions to restore: a copy of each, written by the rollback
        replaced = conn.execute(sa.select(sa.func.count()).select_from(t)
                                .where(t.c.superseded_by == sid)).scalar_one()
        copies = _restored_versions(sheet, sid, rb_id, exact=bool(kept) or sheet == "Pilots",
                                    latest=replaced != changed)
        restored = conn.execute(sa.insert(t).from_select([*cols, "submission_id", "origin_id"], copies),
                                # (the rowcount of an INSERT ... SELECT: only when asked for)
                                execution_options={"preserve_rowcount": True}).rowcount
    kept.sort(key=lambda k: k[0])
    return restored, superseded - restored, [k for _, k in kept]


def _restored_versions(sheet: str, sid: int, rb_id: int, *, exact: bool, latest: bool) -> sa.Select:
    """The copies a rollback ``rb_id`` of ``sid`` inserts, after it superseded S's current
    values: of each version S replaced, that version, or when its origin is rolled back
    the latest earlier one whose origin is not, with its origin, in the order of the
    versions S replaced. ``exact``: only for the keys whose S value the rollback just
    superseded (else: every key S changed, when all of S's values were current).
    ``latest``: of several versions of a key that name S as what replaced them, only the
    latest."""
    t = DATA_TABLES[sheet]
    keys, cols = LAYOUT[sheet]
    s = submissions_table
    p, x, r = t.alias("p"), t.alias("x"), t.alias("r")
    p_origin = s.alias("p_origin")
    before_p = _restorable(p, sheet)
    earlier = before_p.with_only_columns(sa.func.max(before_p.selected_columns.id)).scalar_subquery()
    restore = sa.case((p_origin.c.status != "rolled_back", p.c.id), else_=earlier)
    replaced = (sa.select(p.c.id.label("replaced"), restore.label("restore"))
                .select_from(p.join(p_origin, p_origin.c.id == p.c.origin_id))
                .where(p.c.superseded_by == sid))
    if latest:
        q = t.alias("q")
        replaced = replaced.where(~sa.exists().where(_same_key(q, p, keys), q.c.superseded_by == sid,
                                                     q.c.id > p.c.id))
    if exact:
        replaced = replaced.where(sa.exists().where(_same_key(x, p, keys), x.c.superseded_by == rb_id,
                                                    x.c.origin_id == sid))
    rs = replaced.subquery("replaced")
    return (sa.select(*[r.c[c] for c in cols], sa.literal(rb_id, sa.Integer), r.c.origin_id)
            .select_from(rs.join(r, r.c.id == rs.c.restore)).order_by(rs.c.replaced))


def _same_key(a: sa.Table | Any, b: sa.Table | Any, keys: tuple[str, ...]) -> sa.ColumnElement[bool]:
    return sa.and_(*[a.c[k] == b.c[k] for k in keys])


def _restorable(own: Any, sheet: str) -> sa.Select:
    """The ids of the versions of ``own``'s key written before it whose origin is not
    rolled back (the latest of them is what a rollback restores in its place)."""
    t = DATA_TABLES[sheet]
    keys, _ = LAYOUT[sheet]
    v, s = t.alias("rv"), submissions_table
    return (sa.select(v.c.id).select_from(v.join(s, s.c.id == v.c.origin_id))
            .where(_same_key(v, own, keys), v.c.id < own.c.id, s.c.status != "rolled_back"))


def _kept_later(conn: Connection, sheet: str, sid: int) -> list[tuple[int, dict[str, Any]]]:
    """(S's row id, kept entry) of every key S set whose value a later submission has
    changed (its current row is another's) or removed (no current row), in that order."""
    t = DATA_TABLES[sheet]
    keys, _ = LAYOUT[sheet]
    own, cur, last = t.alias("own"), t.alias("cur"), t.alias("last")
    removed_by = (sa.select(last.c.superseded_by).where(_same_key(last, own, keys))
                  .order_by(last.c.id.desc()).limit(1).scalar_subquery())
    q = (sa.select(own.c.id, *[own.c[k] for k in keys], cur.c.submission_id,
                   sa.case((cur.c.id.is_(None), removed_by), else_=None))
         .select_from(own.outerjoin(cur, sa.and_(_same_key(cur, own, keys), cur.c.superseded_by.is_(None))))
         .where(own.c.submission_id == sid, own.c.origin_id == sid,
                sa.or_(cur.c.id.is_(None), cur.c.origin_id != sid))
         .order_by(own.c.id))
    out = []
    for own_id, *parts, changed_by, removed in conn.execute(q):
        key = tuple(parts)
        if changed_by is not None:
            by, reason = changed_by, f"changed later by submission {changed_by}"
        else:
            by, reason = removed, f"removed later by submission {removed}"
        out.append((own_id, {"sheet": sheet, "key": _key_text(key),
                             "field": key[2] if sheet == "Indicators" else None,
                             "by": by, "reason": f"kept: {reason}"}))
    return out


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
