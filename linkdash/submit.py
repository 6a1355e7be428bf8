"""The submission workflow shared by the command line and the Upload page:
validate (check + preview), import (validate, then commit when there is no error),
the submission history and rollback, and their text / JSON (pure functions: the command
line prints them and chooses the exit code). Import, commit and rollback act as an
``access.Actor`` and refuse what that user may not do.

``--json`` shape of ``validate`` and ``import`` (pinned by tests/test_submit.py)::

    {"ok": bool,
     "errors":   [{"code", "severity", "sheet", "cell", "value", "message"}, ...],
     "warnings": [...same...],
     "changes":  {"new": int, "changed": int, "unchanged": int},   # only without errors
     "submission_id": int | null}                                    # set by a commit
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from linkdash import access, quarters, reporting
from linkdash.access import Actor
from linkdash.portfolio import Portfolio
from linkdash.problems import Problem
from linkdash.store import Changes, Rollback, Store, duplicate_warning


@dataclass
class Outcome:
    """What checking (and maybe committing) a file gave."""

    ok: bool
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    changes: Changes | None = None  # None when there are errors
    submission_id: int | None = None  # set when committed
    tables: dict[str, pd.DataFrame] | None = None  # the checked tables (for a later commit)
    duplicate_of: int | None = None  # an earlier submission of the very same file

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ok": self.ok,
            "errors": [p.as_dict() for p in self.errors],
            "warnings": [p.as_dict() for p in self.warnings],
        }
        if not self.errors and self.changes is not None:
            out["changes"] = self.changes.counts()
        out["submission_id"] = self.submission_id
        return out


def validate(store: Store, data: bytes, filename: str, *, actor: Actor | None = None,
             current: Portfolio | None = None) -> Outcome:
    """Check a file against the store and preview what it would change; stores
    nothing. ``actor``: who sends it (``linkdash.access``): rows of pilots outside
    their scope, reference data (Benchmarks, Rates, new pilots, a pilot's region,
    country or value chain) from someone who is not an administrator, or any row from
    a role that may not upload, are errors at their cells. Without ``actor`` the file
    is checked alone, with no user's limits (it stores nothing; ``commit`` needs an
    actor). The same file as an earlier committed submission would change nothing:
    counts 0 and a ``duplicate_file`` warning naming it. ``current``: the store's
    ``load()`` if the caller holds it (the Upload page caches it per data version);
    read otherwise."""
    from linkdash.importer import check_file

    if actor is not None and not actor.may_upload:  # a viewer, or nobody: no check needed
        return Outcome(False, access.upload_problems(actor, data, filename, {}, None))
    if current is None:
        current = store.load()
    scope = access.pilot_scope(actor, current.pilots) if actor is not None else None
    checked = check_file(data, filename, current, scope=scope)
    report = checked.report
    errors, warnings = list(report.errors), list(report.warnings)
    if actor is not None:
        extra = access.upload_problems(actor, data, filename, checked.sheet_names,
                                       current.pilots, errors)
        if extra:
            errors = access.sort_problems(errors + extra, checked.sheet_names)
    if errors:
        return Outcome(False, errors, warnings)
    earlier = store.find_submission_by_hash(hashlib.sha256(data).hexdigest())
    if earlier is not None:
        return Outcome(True, [], warnings + [duplicate_warning(earlier)], Changes(),
                       tables=checked.tables, duplicate_of=earlier["id"])
    return Outcome(True, [], warnings, store.preview(checked.tables, current,
                                                   indicator_keys=checked.tables.indicator_keys),
                   tables=checked.tables)


def commit(store: Store, outcome: Outcome, data: bytes, filename: str, *,
           actor: Actor) -> Outcome:
    """Commit a validated outcome as ``actor`` (the Upload page's "Commit" button).
    The tables are checked again against what ``actor`` may change, whoever validated
    them, and refused as a whole otherwise. The changes are counted again inside the
    commit's transaction, so they are exact even if someone else committed in between;
    the rules that involve stored values are checked again there too. A refusal (a
    ``conflict`` with values stored since the check, or values no store can keep) is an
    outcome with errors (``ok`` False): nothing was stored."""
    if not outcome.ok or outcome.tables is None:
        return outcome
    refused = access.tables_problems(actor, outcome.tables, access.stored_pilots(store))
    if refused:
        return Outcome(False, refused, list(outcome.warnings))
    result = store.commit(outcome.tables, file_bytes=data, filename=filename, user=actor.email)
    warnings = [w for w in outcome.warnings if w.code != "duplicate_file"] + result.warnings
    if result.errors:
        return Outcome(False, list(result.errors), warnings, None, None, tables=outcome.tables)
    return Outcome(True, [], warnings, result.changes, result.submission_id,
                   tables=outcome.tables, duplicate_of=result.duplicate_of)


def import_file(store: Store, data: bytes, filename: str, *, actor: Actor,
                current: Portfolio | None = None) -> Outcome:
    """Validate as ``actor``, then commit when there is no error (nothing is stored
    otherwise)."""
    outcome = validate(store, data, filename, actor=actor, current=current)
    return commit(store, outcome, data, filename, actor=actor)


def rollback(store: Store, submission_id: int, *, actor: Actor) -> Rollback:
    """Roll a submission back as ``actor``: refused (nothing changes) unless they may,
    see ``access.rollback_refusal``."""
    refusal = access.rollback_refusal(actor, store, submission_id)
    if refusal:
        return Rollback(False, refusal, rolled_back=submission_id)
    return store.rollback(submission_id, user=actor.email)


# --- output -----------------------------------------------------------------------

def _where(p: Problem) -> str:
    if p.sheet and p.cell:
        return f"{p.sheet}!{p.cell}"
    return p.sheet or "file"


def format_problem(p: Problem) -> str:
    value = "" if p.value is None else f" (found: {p.value!r})"
    return f"{p.severity.upper():7} {_where(p)}: {p.message}{value} [{p.code}]"


def format_outcome(outcome: Outcome) -> str:
    """Errors first (with their cells), then warnings grouped by kind under a title
    that counts them and their pilots ("-- 312 outliers in 13 pilots (warnings) --"),
    then what changes."""
    grouped = reporting.group_problems(outcome.errors, outcome.warnings)
    lines = reporting.format_grouped(grouped, format_problem)
    if outcome.errors:
        what = ("Correct the cells above and send the file again." if any(p.cell for p in outcome.errors)
                else "Do what the message above says and send the file again.")
        lines.append(f"{reporting.counted(len(outcome.errors), 'error')}, "
                     f"{reporting.counted(len(outcome.warnings), 'warning')}: nothing stored. {what}")
        return "\n".join(lines)
    c = outcome.changes or Changes()
    lines.append(f"Changes: {c.new} new, {c.changed} changed, {c.unchanged} unchanged.")
    if outcome.submission_id is not None:
        lines.append(f"Stored as submission {outcome.submission_id}.")
    elif outcome.duplicate_of is not None:
        lines.append(f"Nothing stored: the same file is submission {outcome.duplicate_of}.")
    else:
        lines.append("Nothing stored (validate only); `import` stores it.")
    return "\n".join(lines)


def submissions_json(subs: pd.DataFrame) -> list[dict[str, Any]]:
    """The history (``Store.submissions()``) as ``submissions --json`` gives it: one record
    per submission, newest first, times as ISO text, without the rollback summaries."""
    records = subs.drop(columns=["summary"]).to_dict("records")
    for r in records:
        r["created_at"] = r["created_at"].isoformat() if r["created_at"] is not None else None
        r["rolled_back_by"] = None if r["rolled_back_by"] is None else int(r["rolled_back_by"])
    return records


def submissions_lines(subs: pd.DataFrame) -> list[str]:
    """The history as a text table (``submissions``): id, kind, time, status ("undone by
    3"), the values' counts or what a rollback did, sender and file."""
    if subs.empty:
        return ["No submissions yet."]
    lines = [f"{'id':>4}  {'kind':8}  {'created (UTC)':16}  {'status':14}  {'new':>5} {'chg':>5} "
             f"{'same':>5}  user / file"]
    for r in subs.itertuples(index=False):
        status = "stored" if r.status != "rolled_back" else f"undone by {int(r.rolled_back_by)}"
        head = f"{r.id:>4}  {r.kind:8}  {quarters.time_text(r.created_at)}  {status:14}"
        if r.kind == "rollback":
            summary = r.summary or {}
            lines.append(f"{head}  rollback of {summary.get('rolled_back')}: "
                         f"{reporting.rollback_counts(summary)}  {r.user or '-'}")
        else:
            lines.append(f"{head}  {r.new:>5} {r.changed:>5} {r.unchanged:>5}  {r.user or '-'} / "
                         f"{r.filename or '-'}")
    return lines


def rollback_lines(result: Rollback) -> list[str]:
    """A rollback (or its refusal) in words, then each value it kept and why."""
    return [result.message] + [f"  {k['sheet']} {k['key']}: {k['reason']}" for k in result.kept]
