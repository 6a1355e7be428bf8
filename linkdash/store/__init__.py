"""The store: every stored value with its history, in SQLite or PostgreSQL.

The package's modules: ``schema`` (the tables, what migrations build), ``engine`` (URL,
engine, connection settings, migrating), ``rows`` (stored values in Python types),
``changes`` (the change plan and ``Changes``, built by ``changes_of`` alone), ``preview``
(the Indicators sheet on arrays: the preview's counts and the commit's plan), ``reading``
(``Store.load``'s frames), ``guards`` (what a commit refuses), ``rollback`` (the
rollback rule) and ``core`` (``Store``). Every name other modules use is imported
here: ``from linkdash.store import Store``.

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
Unchanged rows are not rewritten. The Indicators sheet (a million values at 1,000
pilots x 40 quarters) is planned on arrays, reading only the current values of the
file's pilots and quarters, and written as columns in key order (COPY on PostgreSQL,
executemany in batches on SQLite); the other sheets row by row. ``changes`` counts
stored values: one per pilot, quarter and indicator, and one per row of the other sheets. A file whose sha256
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

S is then marked ``rolled_back`` (``rolled_back_by`` = R). The rollback is set-based:
per table, counts that tell whether any of S's values are kept (then one query lists
them), one UPDATE that supersedes S's current values and one INSERT ... SELECT of the
versions restored (those S replaced, found by ``superseded_by``); nothing per value in
Python. ``tests/test_store_rollback_sets.py`` compares it with the row by row rollback
it replaced. A submission already
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

from linkdash.store.changes import DETAIL_COLUMNS, Changes, Commit, changes_of
from linkdash.store.core import Store
from linkdash.store.engine import (
    MIGRATIONS_DIR,
    ROOT,
    SQLITE_BUSY_TIMEOUT_S,
    default_url,
    make_engine,
    migrate,
    normalize_url,
)
from linkdash.store.guards import duplicate_warning, unstorable
from linkdash.store.rollback import Rollback
from linkdash.store.schema import (
    DATA_TABLES,
    LAYOUT,
    SHEET_FRAMES,
    SHEET_TABLES,
    TEXT_MAX_CHARS,
    StoreError,
    _ordered,
    include_object,
    meta_table,
    metadata,
    submissions_table,
)

__all__ = [
    "DATA_TABLES", "DETAIL_COLUMNS", "LAYOUT", "MIGRATIONS_DIR", "ROOT", "SHEET_FRAMES", "SHEET_TABLES",
    "SQLITE_BUSY_TIMEOUT_S", "TEXT_MAX_CHARS", "Changes", "Commit", "Rollback", "Store", "StoreError",
    "_ordered", "changes_of", "default_url", "duplicate_warning", "include_object",
    "make_engine", "meta_table", "metadata", "migrate", "normalize_url", "submissions_table",
    "unstorable",
]
