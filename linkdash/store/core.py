"""``Store``: opening, reading, previewing, committing and rolling back (the rules are in
the package docstring, ``linkdash.store``)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from linkdash import catalogue
from linkdash.portfolio import FRAME_COLUMNS, Portfolio
from linkdash.quarters import as_utc, utc_now
from linkdash.store import preview as _preview
from linkdash.store import rollback as _rollback
from linkdash.store.changes import (
    Changes,
    Columns,
    Commit,
    _insert_columns,
    _Plan,
    _plan,
    _supersede,
    changes_of,
)
from linkdash.store.engine import default_url, make_engine, migrate
from linkdash.store.guards import _find_by_hash, _recheck, duplicate_warning, unstorable
from linkdash.store.reading import _country_name, _data_version, _frame, _indicator_frame
from linkdash.store.rollback import Rollback
from linkdash.store.rows import _key_text
from linkdash.store.schema import (
    DATA_TABLES,
    LAYOUT,
    SHEET_FRAMES,
    StoreError,
    _ordered,
    meta_table,
    submissions_table,
)

if TYPE_CHECKING:
    from linkdash.importer import IndicatorKeys

# --- the store ---------------------------------------------------------------------------

class Store:
    """The stored pilots, milestones, indicator values, targets, lessons, benchmarks
    and rates, with every submission that set them. See the module docstring."""

    def __init__(self, engine: Engine):
        self.engine = engine

    @classmethod
    def open(cls, url: str | None = None) -> Store:
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
                "created_at": as_utc(r["created_at"]), "status": r["status"],
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
        d["created_at"] = as_utc(d["created_at"])
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
                        "created_at": as_utc(r["created_at"]),
                    })
        df = pd.DataFrame(records, columns=cols, dtype=object)
        return df.astype({"current": bool, "submission_id": "int64"})

    # --- writing ---------------------------------------------------------------------

    def preview(self, tables: dict[str, pd.DataFrame], current: Portfolio | None = None, *,
                indicator_keys: IndicatorKeys | None = None) -> Changes:
        """What committing these tables would change; stores nothing. ``current``: this
        store's ``load()``, if the caller holds it; when it is still the store's present
        data version, the stored indicator values are taken from it instead of read again
        (the same rows: a preview of a large file with a long history costs no query).
        ``indicator_keys``: the Indicators table's keys as the importer computed them
        (``checked.tables.indicator_keys``), used when they still describe that table."""
        from linkdash.workbook import gc_paused

        with gc_paused(), self.engine.connect() as conn:
            loaded = None
            if current is not None and current.data_version is not None \
                    and current.data_version == _data_version(conn):
                loaded = current.indicator_codes()
            return _preview.preview(conn, tables, loaded=loaded, indicator_keys=indicator_keys)

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
            plans = [self._plan(conn, s, df, getattr(tables, "indicator_keys", None))
                     for s, df in ordered]
            conflicts = _recheck(conn, plans)
            if conflicts:
                txn.rollback()
                return Commit(None, Changes(), errors=conflicts)
            changes = changes_of(plans)
            sub_id = conn.execute(sa.insert(submissions_table).values(
                kind=kind, filename=filename, sha256=sha, file=file_bytes, user=user,
                created_at=utc_now(), status="committed",
                summary={**changes.counts(), "sheets": changes.by_sheet},
            ).returning(submissions_table.c.id)).scalar_one()
            for plan in plans:
                self._apply(conn, plan, sub_id)
        return Commit(sub_id, changes)

    @staticmethod
    def _plan(conn: Connection, sheet: str, df: pd.DataFrame,
              indicator_keys: IndicatorKeys | None) -> _Plan:
        """A sheet's change plan: the Indicators sheet's on arrays (``indicator_plan``:
        a million values in seconds, as columns), the others row by row."""
        if sheet != "Indicators":
            return _plan(conn, sheet, df)
        plan, part = _preview.indicator_plan(conn, df, indicator_keys, commit=True)
        if not isinstance(part, list):
            plan.part = part
        return plan

    def _apply(self, conn: Connection, plan: _Plan, sub_id: int) -> None:
        t = DATA_TABLES[plan.sheet]
        if len(plan.supersede):  # first: one current row per key (the partial unique index)
            _supersede(conn, t, plan.supersede, sub_id)
        if plan.inserts:
            self._insert_rows(conn, t, [{**r, "submission_id": sub_id, "origin_id": sub_id}
                                        for r in plan.inserts])
        if plan.columns is not None and len(plan.columns):
            self._insert_rows(conn, t, plan.columns.with_constants(submission_id=sub_id, origin_id=sub_id))

    @staticmethod
    def _insert_rows(conn: Connection, table: sa.Table, rows: list[dict[str, Any]] | Columns) -> None:
        """New versions: a list of rows, or columns (COPY / executemany in batches)."""
        if isinstance(rows, Columns):
            _insert_columns(conn, table, rows)
        else:
            conn.execute(sa.insert(table), rows)

    def rollback(self, submission_id: int, user: str | None = None) -> Rollback:
        """Undo a submission (see the rollback rule in the package docstring)."""
        return _rollback.rollback(self, submission_id, user)
