"""``python -m linkdash export OUT`` and the pages' download buttons.

- ``.xlsx``: every stored value in the template's sheets, column codes as headers
  (``linkdash.template.write_template``); re-importing it changes nothing.
- ``.csv``: the Indicators sheet alone, wide (``pilot_id, quarter``, one column per
  indicator of the catalogue). Formula-safe: a text cell that starts with
  ``= + - @`` gets a leading ``'``, which the importer drops again.
- ``.pptx`` / ``.html``: the presentation (``linkdash.deck``) and the report
  (``linkdash.report``).
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import pandas as pd

from linkdash import catalogue
from linkdash.portfolio import Portfolio

FORMULA_START = ("=", "+", "-", "@")
EXPORT_FORMATS = (".xlsx", ".csv", ".pptx", ".html")


def csv_cell(v: Any) -> str:
    """One value as csv text: blank for None/NaN, whole numbers without ``.0``, the
    shortest exact text for other floats, and ``'`` before text starting ``= + - @``."""
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    if isinstance(v, (int,)) and not isinstance(v, bool):
        return str(v)
    try:
        if pd.isna(v):
            return ""
    except (TypeError, ValueError):
        pass
    if hasattr(v, "item") and not isinstance(v, str):  # numpy scalars
        return csv_cell(v.item())
    text = str(v)
    return "'" + text if text.startswith(FORMULA_START) else text


def indicator_columns() -> list[str]:
    """The csv columns: ``pilot_id, quarter`` and every indicator of the catalogue."""
    return ["pilot_id", "quarter", *catalogue.indicators()]


def indicators_wide(portfolio: Portfolio) -> pd.DataFrame:
    """Every stored indicator value, one row per pilot and quarter (even one that
    only has a ``volume_unit``), one column per indicator; ``volume_unit`` as text."""
    ind = portfolio.indicators
    cols = indicator_columns()
    if ind.empty:
        return pd.DataFrame(columns=cols)
    cell = ind["value"].astype(object).where(ind["indicator"] != "volume_unit", ind["text"])
    long = pd.DataFrame({"pilot_id": ind["pilot_id"], "quarter": ind["quarter"],
                         "indicator": ind["indicator"], "cell": cell.values})
    wide = long.pivot(index=["pilot_id", "quarter"], columns="indicator", values="cell")
    wide = wide.reindex(columns=cols[2:]).reset_index()
    wide.columns.name = None
    return wide[cols].sort_values(["pilot_id", "quarter"], kind="stable")


def export_csv_bytes(portfolio: Portfolio) -> bytes:
    """The Indicators sheet alone in wide form, UTF-8 (with a BOM so Excel reads it)."""
    wide = indicators_wide(portfolio)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(wide.columns)
    for row in wide.itertuples(index=False):
        w.writerow([csv_cell(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def export_xlsx_bytes(portfolio: Portfolio) -> bytes:
    """The whole portfolio as the template workbook (what ``export OUT.xlsx`` writes)."""
    from linkdash.template import write_template

    buf = io.BytesIO()
    write_template(buf, portfolio)
    return buf.getvalue()


def export_command(store, out: Path) -> int:
    """Write ``out`` in the format its suffix names; exit 1 for an unknown suffix."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in EXPORT_FORMATS:
        print(f"Cannot export to {out.name}: use one of {', '.join(EXPORT_FORMATS)}.")
        return 1
    portfolio = store.load()
    if out.parent and not out.parent.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".xlsx":
        from linkdash.template import write_template

        write_template(out, portfolio)
        what = "every stored value in the template's sheets"
    elif suffix == ".csv":
        out.write_bytes(export_csv_bytes(portfolio))
        what = "the Indicators sheet (one row per pilot and quarter)"
    elif suffix == ".pptx":
        from linkdash.deck import write_deck

        write_deck(portfolio, out)
        what = "the presentation"
    else:
        from linkdash.report import write_report

        write_report(portfolio, out)
        what = "the report"
    print(f"Wrote {what} to {out}")
    return 0
