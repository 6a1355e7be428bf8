"""PostgreSQL: the references to ``submissions`` checked once per statement, not per row.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

Every stored row names the submission that wrote it (``submission_id``), the one that
first stored its value (``origin_id``) and, once replaced, the one that replaced it
(``superseded_by``). Foreign keys guarded these, and on PostgreSQL a foreign key is
checked by a trigger per row and per column: storing the million values of 1,000
pilots x 40 quarters ran two million such checks, 12 of the commit's 21 s.

On PostgreSQL the same guarantee now comes from statement-level triggers that see all
of a statement's rows at once (transition tables):

- after an INSERT or UPDATE of a data table, every ``submission_id``, ``origin_id`` and
  (non-null) ``superseded_by`` of the rows it wrote must name a stored submission,
  else the statement fails with ``foreign_key_violation`` (an ``IntegrityError``, as
  before) and its transaction with it;
- after a DELETE of submissions, or an UPDATE of their ids, no data row may still name
  an id that is gone. The store never deletes a submission; this refuses anyone else's
  removal that would leave stored rows naming nothing. Unlike a foreign key it takes no
  lock on the submission, so a removal racing a transaction that is writing rows naming
  that submission is not seen: nothing in linkdash removes submissions.

SQLite keeps its foreign keys: it checks them with one index lookup per row, which
costs little. ``submissions.rolled_back_by`` keeps its foreign key on both (a few rows).
The table names are frozen here.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLES = ("pilots", "milestones", "indicator_values", "targets", "lessons", "benchmarks", "rates")
COLUMNS = ("submission_id", "superseded_by", "origin_id")

ROWS_NAME_SUBMISSIONS = """
CREATE FUNCTION linkdash_rows_name_submissions() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.submission_id, n.superseded_by, n.origin_id INTO bad FROM new_rows n
     WHERE NOT EXISTS (SELECT 1 FROM submissions s WHERE s.id = n.submission_id)
        OR NOT EXISTS (SELECT 1 FROM submissions s WHERE s.id = n.origin_id)
        OR (n.superseded_by IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM submissions s WHERE s.id = n.superseded_by))
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'a row of % names a submission that is not stored '
                        '(submission_id %, superseded_by %, origin_id %)',
              TG_TABLE_NAME, bad.submission_id, bad.superseded_by, bad.origin_id
              USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$
"""


def _submissions_kept_function() -> str:
    named = " OR ".join(
        f"EXISTS (SELECT 1 FROM {t} WHERE {t}.{c} = g.id)" for t in TABLES for c in COLUMNS)
    return f"""
CREATE FUNCTION linkdash_submissions_kept() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    gone_id integer;
BEGIN
    SELECT g.id INTO gone_id FROM old_rows g
     WHERE NOT EXISTS (SELECT 1 FROM submissions s WHERE s.id = g.id)
       AND ({named})
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'submission % is named by stored rows: it cannot be removed', gone_id
              USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    inspector = sa.inspect(bind)
    for table in TABLES:
        for fk in inspector.get_foreign_keys(table):
            if fk["referred_table"] == "submissions" and fk["name"]:
                op.drop_constraint(fk["name"], table, type_="foreignkey")
    op.execute(ROWS_NAME_SUBMISSIONS)
    op.execute(_submissions_kept_function())
    for table in TABLES:
        for event in ("INSERT", "UPDATE"):
            op.execute(f"CREATE TRIGGER {table}_names_submissions_{event.lower()} "
                       f"AFTER {event} ON {table} REFERENCING NEW TABLE AS new_rows "
                       "FOR EACH STATEMENT EXECUTE FUNCTION linkdash_rows_name_submissions()")
    for event in ("DELETE", "UPDATE"):
        op.execute(f"CREATE TRIGGER submissions_kept_{event.lower()} AFTER {event} ON submissions "
                   "REFERENCING OLD TABLE AS old_rows "
                   "FOR EACH STATEMENT EXECUTE FUNCTION linkdash_submissions_kept()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for event in ("delete", "update"):
        op.execute(f"DROP TRIGGER submissions_kept_{event} ON submissions")
    for table in TABLES:
        for event in ("insert", "update"):
            op.execute(f"DROP TRIGGER {table}_names_submissions_{event} ON {table}")
        for column in COLUMNS:
            op.create_foreign_key(None, table, "submissions", [column], ["id"])
    op.execute("DROP FUNCTION linkdash_submissions_kept()")
    op.execute("DROP FUNCTION linkdash_rows_name_submissions()")
