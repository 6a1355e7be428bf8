"""The store's schema: the tables (what ``linkdash/migrations`` build and check against),
the stored columns of each sheet (``LAYOUT``) and what the schema guards."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from linkdash import catalogue

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
    out: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {}
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


SUBMISSION_COLUMNS = ("submission_id", "superseded_by", "origin_id")


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
        sa.Column("submission_id", sa.Integer, nullable=False),
        sa.Column("superseded_by", sa.Integer),
        sa.Column("origin_id", sa.Integer, nullable=False),
        # the submissions these name exist: foreign keys on SQLite; on PostgreSQL,
        # statement-level triggers (migration 0005: a foreign key there is checked
        # row by row, 12 s of storing a million values)
        *[sa.ForeignKeyConstraint([c], ["submissions.id"]).ddl_if(dialect="sqlite")
          for c in SUBMISSION_COLUMNS],
        sa.Index(f"ix_{name}_current", *index_keys, "superseded_by"),
        sa.Index(f"ix_{name}_submission_id", "submission_id"),
        # superseded rows only (migration 0004): current rows are found by their key
        sa.Index(f"ix_{name}_superseded_by", "superseded_by",
                 sqlite_where=sa.text("superseded_by IS NOT NULL"),
                 postgresql_where=sa.text("superseded_by IS NOT NULL")),
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


class StoreError(Exception):
    """A request the store refuses (not a problem in user data)."""


def _ordered(tables: dict[str, pd.DataFrame]) -> list[tuple[str, pd.DataFrame]]:
    unknown = set(tables) - set(SHEET_TABLES)
    if unknown:
        raise StoreError(f"unknown sheet(s): {', '.join(sorted(unknown))}")
    return [(s, tables[s]) for s in catalogue.SHEET_ORDER if s in tables and tables[s] is not None]
