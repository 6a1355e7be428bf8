"""Initial schema: submissions, meta (data_version) and the seven versioned data tables.

Revision ID: 0001
Revises:
Create Date: 2025-11-29

The column lists are frozen here (not read from the catalogue), so that this
migration keeps creating the same schema when the catalogue grows; a later column
is a later migration.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

T, F, D, I = sa.Text, sa.Double, sa.Date, sa.Integer  # noqa: E741 (a legend for the tables below)

# table: (key columns, [(column, type)])
DATA_TABLES: dict[str, tuple[tuple[str, ...], list[tuple[str, type[sa.types.TypeEngine]]]]] = {
    "pilots": (("pilot_id",), [
        ("pilot_id", T), ("pilot_name", T), ("country", T), ("value_chain", T), ("region", T),
        ("cycle", T), ("producer_org", T), ("site", T), ("latitude", F), ("longitude", F),
        ("start_date", D), ("end_date", D), ("target_households", F), ("currency", T)]),
    "milestones": (("pilot_id", "milestone"), [
        ("pilot_id", T), ("milestone", T), ("planned_start", D), ("planned_end", D),
        ("actual_start", D), ("actual_end", D), ("status", T), ("notes", T)]),
    "indicator_values": (("pilot_id", "quarter", "indicator"), [
        ("pilot_id", T), ("quarter", T), ("indicator", T), ("value", F), ("text", T)]),
    "targets": (("pilot_id", "indicator"), [
        ("pilot_id", T), ("indicator", T), ("baseline", F), ("baseline_quarter", T),
        ("target", F), ("target_quarter", T)]),
    "lessons": (("pilot_id", "quarter", "lesson"), [
        ("pilot_id", T), ("quarter", T), ("kind", T), ("lesson", T), ("milestone", T),
        ("author", T)]),
    "benchmarks": (("country", "year"), [
        ("country", T), ("year", I), ("living_income_usd", F), ("source", T)]),
    "rates": (("currency", "quarter"), [
        ("currency", T), ("quarter", T), ("units_per_usd", F)]),
}


def upgrade() -> None:
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("filename", sa.Text),
        sa.Column("sha256", sa.String(64)),
        sa.Column("file", sa.LargeBinary),
        sa.Column("user", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rolled_back_by", sa.Integer, sa.ForeignKey("submissions.id")),
        sa.Column("summary", sa.JSON),
    )
    op.create_index("ix_submissions_sha256", "submissions", ["sha256"])
    meta = op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )
    op.bulk_insert(meta, [{"key": "data_version", "value": 0}])
    for name, (keys, columns) in DATA_TABLES.items():
        op.create_table(
            name,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            *[sa.Column(c, t(), nullable=c not in keys) for c, t in columns],
            sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id"), nullable=False),
            sa.Column("superseded_by", sa.Integer, sa.ForeignKey("submissions.id")),
            sa.Column("origin_id", sa.Integer, sa.ForeignKey("submissions.id"), nullable=False),
        )
        op.create_index(f"ix_{name}_current", name, [k for k in keys if k != "lesson"] + ["superseded_by"])
        op.create_index(f"ix_{name}_submission_id", name, ["submission_id"])
        op.create_index(f"ix_{name}_superseded_by", name, ["superseded_by"])
        op.create_index(f"ix_{name}_origin_id", name, ["origin_id"])


def downgrade() -> None:
    for name in reversed(list(DATA_TABLES)):
        op.drop_table(name)
    op.drop_table("meta")
    op.drop_index("ix_submissions_sha256", table_name="submissions")
    op.drop_table("submissions")
