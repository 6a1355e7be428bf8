"""``python -m linkdash export OUT`` and the pages' "Export what you see" downloads.

Every export holds what a filter shows (``Filter()``: everything):

- ``.xlsx``: the stored values of the filter's pilots in the template's sheets, column
  codes as headers (``linkdash.template.write_template``); re-importing it changes
  nothing. Benchmarks are those of the pilots' countries; Rates are kept whole (as
  ``Portfolio.filtered`` does), so ``*_local`` columns added later still convert.
- ``.csv``: the Indicators sheet alone, wide (``pilot_id, quarter``, one column per
  indicator of the catalogue). Formula-safe: a text cell that starts with
  ``= + - @`` gets a leading ``'``, which the importer drops again.
- ``.pptx`` / ``.html``: the presentation (``linkdash.deck``) and the report
  (``linkdash.report``) of the filter and quarter.

``FORMATS`` is the one table of them (suffix -> what the file holds and a writer of its
bytes): the download buttons (``export_bytes``) and the command line's ``write_export``
both go through it. ``write_export`` writes and returns what it did (``ExportResult``);
the command line prints it.

With a ``quarter``, the xlsx and csv stop at it as the deck and the report do
(``story.upto_quarter``: no indicator value or lesson after it); without one they hold
every quarter.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from linkdash import catalogue
from linkdash.portfolio import Filter, Portfolio
from linkdash.values import csv_safe

if TYPE_CHECKING:  # the story is imported where a deck or a report is made
    from linkdash.story import Demo

FILE_PREFIX = "link-pilots"
ALL_DATA_NOTE = "Export of all stored data"  # how template.write_template's export note starts


class Writer(Protocol):
    """Makes one kind of export's bytes of what ``flt`` shows."""

    def __call__(self, portfolio: Portfolio, *, flt: Filter, quarter: str | None,
                 as_of: dt.date | None, demo: Demo, find: tuple[str, ...] = ()) -> bytes: ...


@dataclass(frozen=True)
class ExportFormat:
    """One kind of export: what the download buttons show and how its bytes are made."""

    suffix: str
    label: str
    mime: str
    what: str  # what the file holds (help text and the command's message)
    write: Writer
    one_quarter: bool  # the file shows one quarter ("for Q"), not every quarter up to it ("up to Q")


def csv_cell(v: Any) -> str:
    """One value as csv text: blank for None/NaN, whole numbers without ``.0``, the
    shortest exact text for other floats, and text through ``values.csv_safe``."""
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
    return csv_safe(str(v))


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


# --- what is exported ------------------------------------------------------------------

def export_view(portfolio: Portfolio, flt: Filter = Filter(), quarter: str | None = None) -> Portfolio:
    """The part of ``portfolio`` an xlsx or csv export of ``flt`` holds: the filter's pilots
    and their rows (``Portfolio.filtered``), without indicator values or lessons after
    ``quarter`` when one is given."""
    view = portfolio if flt == Filter() else portfolio.filtered(flt)
    if quarter:
        from linkdash.story import upto_quarter

        view = upto_quarter(view, quarter)
    return view


def describe(flt: Filter = Filter(), quarter: str | None = None, n_pilots: int | None = None) -> str:
    """``Africa (6 pilots), up to 2018-Q4``: what an export holds, in words."""
    text = flt.describe()
    if n_pilots is not None:
        text += f" ({n_pilots} pilot{'' if n_pilots == 1 else 's'})"
    if quarter:
        text += f", up to {quarter}"
    return text


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", str(text)).strip("-")


def export_stem(flt: Filter = Filter(), quarter: str | None = None, *,
                prefix: str = FILE_PREFIX) -> str:
    """A file name (without suffix) that says what the file holds:
    ``link-pilots_Africa_2018-Q4``, ``link-pilots_KEN+UGA_dairy-cow_2018-Q4``,
    ``link-pilots_2018-Q4`` for every pilot. More than three choices of one kind are
    counted (``5-countries``) so the name stays short."""
    parts = [prefix]
    for chosen, noun in ((flt.regions, "regions"), (flt.countries, "countries"),
                         (flt.value_chains, "value-chains"), (flt.pilots, "pilots")):
        if not chosen:
            continue
        if len(chosen) > 3:
            parts.append(f"{len(chosen)}-{noun}")
        else:
            parts.append("+".join(_slug(v) for v in chosen))
    if quarter:
        parts.append(_slug(quarter))
    return "_".join(p for p in parts if p)


def export_filename(suffix: str, flt: Filter = Filter(), quarter: str | None = None) -> str:
    return export_stem(flt, quarter) + suffix


# --- the files -------------------------------------------------------------------------

def export_csv_bytes(portfolio: Portfolio, flt: Filter = Filter(), quarter: str | None = None) -> bytes:
    """The Indicators sheet of what ``flt`` shows in wide form, UTF-8 (with a BOM so
    Excel reads it)."""
    return frame_csv_bytes(indicators_wide(export_view(portfolio, flt, quarter)))


def frame_csv_bytes(df: pd.DataFrame) -> bytes:
    """A table as csv: UTF-8 with a BOM (so Excel reads it), CRLF lines, every value
    through ``csv_cell`` (formula-safe: text starting ``= + - @``, a tab or a carriage
    return gets a leading ``'``: ``values.csv_safe``).
    The one csv writer: exports, the Upload page's problem list and the pages' tables."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([str(c) for c in df.columns])
    for row in df.itertuples(index=False):
        w.writerow([csv_cell(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def export_xlsx_bytes(portfolio: Portfolio, flt: Filter = Filter(), quarter: str | None = None, *,
                      today: dt.date | None = None) -> bytes:
    """What ``flt`` shows as the template workbook (what ``export OUT.xlsx`` writes).
    A filtered export says on its Instructions sheet which pilots and quarters it holds."""
    from linkdash.template import write_template

    view = export_view(portfolio, flt, quarter)
    buf = io.BytesIO()
    write_template(buf, view)
    data = buf.getvalue()
    if flt == Filter() and not quarter:
        return data
    return _restate_note(data, describe(flt, quarter, len(view.pilots)), today)


LESSONS_PREFIX = "link-lessons"


def lessons_stem(flt: Filter = Filter(), search: str = "") -> str:
    """``link-lessons_Asia_milk-collection``: the lessons of the filter, and the search."""
    stem = export_stem(flt, prefix=LESSONS_PREFIX)
    words = _slug(search.strip())[:40].strip("-")
    return f"{stem}_{words}" if words else stem


def lessons_xlsx_bytes(lessons: pd.DataFrame, what: str | None = None, *,
                       today: dt.date | None = None) -> bytes:
    """Lessons as the template's Lessons sheet (text cells, never formulas;
    re-importable); ``what`` says on the Instructions sheet which lessons these are
    (``Asia, search "milk collection" (3 lessons)``)."""
    from linkdash.template import write_template

    buf = io.BytesIO()
    write_template(buf, Portfolio(lessons=lessons), sheets=["Lessons"])
    data = buf.getvalue()
    return _restate_note(data, what, today) if what else data


def _restate_note(data: bytes, what: str, today: dt.date | None) -> bytes:
    """Replace the template's "Export of all stored data" line of the Instructions sheet
    by one naming the filter. Only that cell changes."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data))
    ws = wb["Instructions"]
    for row in ws.iter_rows(min_row=1, max_row=10, max_col=1):
        cell = row[0]
        if isinstance(cell.value, str) and cell.value.startswith(ALL_DATA_NOTE):
            cell.value = (f"Export of the stored data of {what}, "
                          f"{(today or dt.date.today()).isoformat()}. Headers are column codes; "
                          "re-importing this file changes nothing.")
            break
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- the table of formats --------------------------------------------------------------

def _xlsx(portfolio: Portfolio, *, flt: Filter, quarter: str | None, as_of: dt.date | None,
          demo: Demo, find: tuple[str, ...] = ()) -> bytes:
    return export_xlsx_bytes(portfolio, flt, quarter)


def _csv(portfolio: Portfolio, *, flt: Filter, quarter: str | None, as_of: dt.date | None,
         demo: Demo, find: tuple[str, ...] = ()) -> bytes:
    return export_csv_bytes(portfolio, flt, quarter)


def _pptx(portfolio: Portfolio, *, flt: Filter, quarter: str | None, as_of: dt.date | None,
          demo: Demo, find: tuple[str, ...] = ()) -> bytes:
    from linkdash.deck import deck_bytes

    return deck_bytes(portfolio, flt=flt, quarter=quarter, as_of=as_of, demo=demo, find=find)


def _html(portfolio: Portfolio, *, flt: Filter, quarter: str | None, as_of: dt.date | None,
          demo: Demo, find: tuple[str, ...] = ()) -> bytes:
    from linkdash.report import report_bytes

    return report_bytes(portfolio, flt=flt, quarter=quarter, as_of=as_of, demo=demo, find=find)


FORMATS: dict[str, ExportFormat] = {  # by suffix, in the order the download buttons show them
    ".xlsx": ExportFormat(
        ".xlsx", "Data (.xlsx)",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "the stored values in the template's sheets (re-importing the file changes nothing)",
        _xlsx, one_quarter=False),
    ".csv": ExportFormat(
        ".csv", "Indicators (.csv)", "text/csv",
        "the Indicators sheet (one row per pilot and quarter)", _csv, one_quarter=False),
    ".pptx": ExportFormat(
        ".pptx", "Slides (.pptx)",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "the presentation (editable PowerPoint slides)", _pptx, one_quarter=True),
    ".html": ExportFormat(
        ".html", "Report (.html)", "text/html",
        "the report (one HTML file with interactive charts that works offline)", _html,
        one_quarter=True),
}


def _unknown_format(name: str) -> str:
    return f"Cannot export to {name}: use one of {', '.join(FORMATS)}."


def export_bytes(suffix: str, portfolio: Portfolio, *, flt: Filter = Filter(),
                 quarter: str | None = None, as_of: dt.date | None = None,
                 demo: Demo = None, find=()) -> bytes:
    """Any export of what ``flt`` shows as bytes (for a download button): ``.xlsx`` and
    ``.csv`` up to ``quarter`` (every quarter when None); ``.pptx`` and ``.html`` for
    ``quarter`` (the latest with data when None), milestones as of ``as_of``, with the
    slides and cards of the pilots of ``find`` (ids) where only some pilots get one."""
    fmt = FORMATS.get(suffix.lower())
    if fmt is None:
        raise ValueError(_unknown_format(f"a {suffix!r} file"))
    return fmt.write(portfolio, flt=flt, quarter=quarter, as_of=as_of, demo=demo, find=tuple(find))


# --- a file (the command line's export) --------------------------------------------------

@dataclass(frozen=True)
class ExportResult:
    """What ``write_export`` did; ``message`` says it in words."""

    out: Path
    format: ExportFormat | None  # None: the suffix names no format; nothing written
    flt: Filter
    quarter: str | None
    n_pilots: int | None  # the filter's pilots (None without a filter); 0: nothing written
    written: bool = False

    @property
    def message(self) -> str:
        """``Wrote the Indicators sheet (...) to out.csv: Africa (6 pilots), up to 2018-Q4``,
        or why nothing was written."""
        if self.format is None:
            return _unknown_format(self.out.name)
        if not self.written:
            return f"No pilot matches {self.flt.describe()}: nothing written."
        scope = ""
        if self.n_pilots is not None or self.quarter:
            scope = describe(self.flt, None if self.format.one_quarter else self.quarter, self.n_pilots)
            if self.format.one_quarter and self.quarter:
                scope += f", for {self.quarter}"
        return f"Wrote {self.format.what} to {self.out}" + (f": {scope}" if scope else "")


def write_export(portfolio: Portfolio, out: Path | str, flt: Filter = Filter(),
                 quarter: str | None = None, demo: Demo = None) -> ExportResult:
    """Write ``out`` (its folder made if need be) in the format its suffix names, holding
    what ``flt`` shows (up to ``quarter`` for xlsx and csv, for it in pptx and html).
    Nothing is written for a suffix no format has or a filter that matches no pilot.
    ``demo``: as ``story.resolve`` (``story.MIXED`` for illustrative data beside real uploads)."""
    out = Path(out)
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        return ExportResult(out, None, flt, quarter, None)
    n_pilots = None if flt == Filter() else len(portfolio.filtered(flt).pilots)
    result = ExportResult(out, fmt, flt, quarter, n_pilots)
    if n_pilots == 0:
        return result
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(fmt.write(portfolio, flt=flt, quarter=quarter, as_of=None, demo=demo))
    return replace(result, written=True)
