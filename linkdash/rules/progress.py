"""The Progress sheet: milestone dates in order and the status they give."""

from __future__ import annotations

from linkdash.problems import Report
from linkdash.rules.pilots import _as_date, _date_order, _stored_rows
from linkdash.rules.sheet import Context, ParsedSheet

RAISES = (  # the problem codes these rules report (problems.CODES says what each means)
    "completed_without_end",
)


# --- Progress -------------------------------------------------------------------------------

def progress_rules(p: ParsedSheet, ctx: Context, report: Report) -> list:
    """Dates in order, completed needs an actual end, status derived when blank.
    -> the status column (file value or derived)."""
    n = p.table.n_rows
    status_out: list = [None] * n
    stored = _stored_rows(ctx.current.milestones, ["pilot_id", "milestone"])
    for i in p.ok_rows():
        pid, ms = p.values["pilot_id"][i], p.values["milestone"][i]
        old = stored.get((pid, ms), {})
        merged = {c: (p.get(c, i) if p.get(c, i) is not None else _as_date(old.get(c)))
                  for c in ("planned_start", "planned_end", "actual_start", "actual_end")}
        for a, b, what in (("planned_start", "planned_end", "Planned"),
                           ("actual_start", "actual_end", "Actual")):
            _date_order(p, i, report, a, b, merged[a], merged[b], f"{what} start", f"{what} end",
                        f"{pid} {ms}")
        status = p.get("status", i)
        if status == "completed" and merged["actual_end"] is None:
            report.error("completed_without_end", p.name, p.cell("status", i), status,
                         f"{pid} {ms} is marked completed but has no actual end date: fill in "
                         f"actual_end, or change the status.")
        if status is None:
            if old.get("status") == "dropped":
                status = "dropped"
            elif merged["actual_end"] is not None:
                status = "completed"
            elif merged["actual_start"] is not None:
                status = "in_progress"
            else:
                status = "not_started"
        status_out[i] = status
    return status_out
