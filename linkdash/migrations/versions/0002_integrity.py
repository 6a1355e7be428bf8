"""Integrity: the schema guards what the code promises.

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-20

- At most one current row per key: a partial unique index ``uq_<table>_current`` on
  the key columns WHERE ``superseded_by IS NULL`` (SQLite and PostgreSQL). Lessons are
  keyed by their text (up to 2,000 characters, more than a PostgreSQL b-tree entry
  holds), so on PostgreSQL that index is on ``md5(lesson)``.
- Every stored number is finite: ``ck_<table>_<column>_finite`` (NULL, or between
  -DBL_MAX and DBL_MAX: this rejects infinities on both backends, which SQLite stores
  as 9e999, and NaN on PostgreSQL, where NaN sorts above every number; SQLite stores
  NaN as NULL).
- Every stored text is at most 2,000 characters (the spec's limit for every text
  field, lessons included): ``ck_<table>_<column>_length``.

An existing store is repaired first, so the upgrade never fails on old data:
non-finite numbers become NULL (not reported), NUL characters are dropped from text
(SQLite stored them; PostgreSQL never could), text longer than 2,000 characters is
cut to 2,000, and of two current rows with one key the older is marked superseded
by the submission that wrote the newer. The column lists are frozen here.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TEXT_MAX = 2000
DBL_MAX = "1.7976931348623157e308"

# table: (key columns, float columns, text columns)
TABLES = {
    "pilots": (("pilot_id",),
               ("latitude", "longitude", "target_households"),
               ("pilot_id", "pilot_name", "country", "value_chain", "region", "cycle",
                "producer_org", "site", "currency")),
    "milestones": (("pilot_id", "milestone"), (),
                   ("pilot_id", "milestone", "status", "notes")),
    "indicator_values": (("pilot_id", "quarter", "indicator"), ("value",),
                         ("pilot_id", "quarter", "indicator", "text")),
    "targets": (("pilot_id", "indicator"), ("baseline", "target"),
                ("pilot_id", "indicator", "baseline_quarter", "target_quarter")),
    "lessons": (("pilot_id", "quarter", "lesson"), (),
                ("pilot_id", "quarter", "kind", "lesson", "milestone", "author")),
    "benchmarks": (("country", "year"), ("living_income_usd",), ("country", "source")),
    "rates": (("currency", "quarter"), ("units_per_usd",), ("currency", "quarter")),
}


def finite_check(column: str) -> str:
    return f"{column} IS NULL OR ({column} >= -{DBL_MAX} AND {column} <= {DBL_MAX})"


def length_check(column: str) -> str:
    return f"{column} IS NULL OR length({column}) <= {TEXT_MAX}"


def _repair(table: str, keys: tuple, floats: tuple, texts: tuple, dialect: str) -> None:
    for c in floats:
        if dialect == "postgresql":
            bad = f"{c} IN ('Infinity'::float8, '-Infinity'::float8, 'NaN'::float8)"
        else:
            bad = f"{c} IS NOT NULL AND NOT ({c} >= -{DBL_MAX} AND {c} <= {DBL_MAX})"
        op.execute(f"UPDATE {table} SET {c} = NULL WHERE {bad}")
    for c in texts:
        if dialect == "sqlite":
            op.execute(f"UPDATE {table} SET {c} = replace({c}, char(0), '') "
                       f"WHERE instr({c}, char(0)) > 0")
        op.execute(f"UPDATE {table} SET {c} = substr({c}, 1, {TEXT_MAX}) "
                   f"WHERE length({c}) > {TEXT_MAX}")
    # one current row per key: the newest stays current, the older ones are superseded
    # by the submission that wrote it
    same = " AND ".join(f"n.{k} = {table}.{k}" for k in keys)
    newer = f"FROM {table} n WHERE n.superseded_by IS NULL AND n.id > {table}.id AND {same}"
    op.execute(f"UPDATE {table} SET superseded_by = (SELECT n.submission_id {newer} "
               f"ORDER BY n.id DESC LIMIT 1) "
               f"WHERE superseded_by IS NULL AND EXISTS (SELECT 1 {newer})")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table, (keys, floats, texts) in TABLES.items():
        _repair(table, keys, floats, texts, dialect)
        checks = [(f"ck_{table}_{c}_finite", finite_check(c)) for c in floats]
        checks += [(f"ck_{table}_{c}_length", length_check(c)) for c in texts]
        if dialect == "sqlite":  # SQLite adds a CHECK only by rebuilding the table
            with op.batch_alter_table(table, recreate="always") as batch:
                for name, sql in checks:
                    batch.create_check_constraint(name, sql)
        else:
            for name, sql in checks:
                op.create_check_constraint(name, table, sql)
        columns: list[str | sa.TextClause] = list(keys)
        if dialect == "postgresql" and "lesson" in keys:
            columns = [sa.text(k) if k != "lesson" else sa.text("md5(lesson)") for k in keys]
        op.create_index(f"uq_{table}_current", table, columns, unique=True,
                        sqlite_where=sa.text("superseded_by IS NULL"),
                        postgresql_where=sa.text("superseded_by IS NULL"))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table, (_keys, floats, texts) in TABLES.items():
        op.drop_index(f"uq_{table}_current", table_name=table)
        names = [f"ck_{table}_{c}_finite" for c in floats] + [f"ck_{table}_{c}_length" for c in texts]
        if dialect == "sqlite":
            with op.batch_alter_table(table, recreate="always") as batch:
                for name in names:
                    batch.drop_constraint(name, type_="check")
        else:
            for name in names:
                op.drop_constraint(name, table, type_="check")
