"""Current rows read by their key: ``ix_<table>_superseded_by`` holds superseded rows only.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

The index on ``superseded_by`` serves the rollback (the rows a submission superseded,
``superseded_by = :id``). It held every row, current ones as NULL, so a query for
current rows (``superseded_by IS NULL AND pilot_id IN (...)``) could be planned on it:
SQLite, without statistics, did so, and read every current value of the store (950,000
at 1,000 pilots x 40 quarters) to find the few of one new quarter. As a partial index
``WHERE superseded_by IS NOT NULL`` it holds only superseded rows: ``IS NULL`` can no
longer use it (the key indexes serve those queries), ``= :id`` still can, and a new row
costs it nothing. The table names are frozen here.
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("pilots", "milestones", "indicator_values", "targets", "lessons", "benchmarks", "rates")


def upgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_superseded_by", table_name=table)
        op.execute(f"CREATE INDEX ix_{table}_superseded_by ON {table} (superseded_by) "
                   "WHERE superseded_by IS NOT NULL")


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_superseded_by", table_name=table)
        op.create_index(f"ix_{table}_superseded_by", table, ["superseded_by"])
