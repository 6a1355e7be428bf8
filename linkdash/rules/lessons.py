"""The Lessons and Rates sheets."""

from __future__ import annotations

import numpy as np

from linkdash import catalogue
from linkdash.problems import Report
from linkdash.rules.sheet import Context, ParsedSheet, _show

RAISES = (  # the problem codes these rules report (problems.CODES says what each means)
    "bad_rate", "text_too_long",
)


# --- Lessons, Rates ------------------------------------------------------------------------------

def lessons_rules(p: ParsedSheet, ctx: Context, report: Report) -> set[int]:
    drop: set[int] = set()
    if "lesson" not in p.values:
        return drop
    for i in p.ok_rows():
        text = p.values["lesson"][i]
        if text is not None and len(text) > catalogue.LESSON_MAX_CHARS:
            report.error("text_too_long", p.name, p.cell("lesson", i), text[:60] + "...",
                         f"The lesson in row {p.row(i)} has {len(text):,} characters; the limit is "
                         f"{catalogue.LESSON_MAX_CHARS:,}: shorten it or split it into two lessons.")
            drop.add(i)
    return drop


def rates_rules(p: ParsedSheet, report: Report) -> set[int]:
    drop: set[int] = set()
    if "units_per_usd" not in p.values:
        return drop
    col = p.values["units_per_usd"]
    for i in p.ok_rows():
        v = col[i]
        if not np.isnan(v) and v <= 0:
            report.error("bad_rate", p.name, p.cell("units_per_usd", i), float(v),
                         f"Units per USD must be more than 0, found {_show(float(v))}: write how "
                         f"many units of {p.values['currency'][i]} one US dollar buys.")
            drop.add(i)
    return drop
