"""The upload and its history in words a person reads at a glance.

Pure functions (no streamlit, no store): the Upload page, the Submissions page and the
command line render what these return.

- ``group_problems``: errors first, every one of them; warnings grouped by kind and by
  pilot with counts ("312 outliers in 13 pilots"), each group holding its cells.
- ``coverage``: what a checked file covers (pilots by name, quarters, sheets).
- ``unusual_changes``: what a preview holds that a quarterly upload rarely does
  (a pilot renamed, a site moved, quarters far in the past rewritten, many values
  changed at once), said before Commit.
- ``committed_sentence``: what a commit stored, in words, and ``report_quarter``: the
  quarter the file reported (the one to go and look at).
- ``submissions_in_words`` / ``status_words`` / ``rollback_sentence``: the history
  with statuses and kinds in words ("rolled back by #3", not ``rolled_back``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from linkdash import catalogue, quarters
from linkdash.names import pilot_names
from linkdash.problems import Problem

# --- a count in words ---------------------------------------------------------------

def counted(n: int, word: str, plural: str | None = None) -> str:
    """``1 error``, ``3 errors``, ``1,204 values``: no "(s)"."""
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def listed(items: list[str], most: int = 4) -> str:
    """``a, b and c``; past ``most`` items: ``a, b, c, d and 9 more``."""
    items = [str(i) for i in items]
    if len(items) > most:
        return ", ".join(items[:most]) + f" and {len(items) - most:,} more"
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# --- problems, grouped --------------------------------------------------------------

# Each problem code as a person says it: (one, many). Every code of
# ``rules.PROBLEM_CODES`` has words here (tests/test_reporting.py checks it).
KIND_WORDS: dict[str, tuple[str, str]] = {
    "file_empty": ("empty file", "empty files"),
    "file_too_large": ("file too large", "files too large"),
    "file_unreadable": ("unreadable file", "unreadable files"),
    "not_a_spreadsheet": ("file that is not a spreadsheet", "files that are not spreadsheets"),
    "file_encrypted": ("password-protected file", "password-protected files"),
    "zip_bomb": ("file that unpacks too large", "files that unpack too large"),
    "xml_entities": ("file with XML entities", "files with XML entities"),
    "too_many_rows": ("sheet with too many rows", "sheets with too many rows"),
    "no_known_sheet": ("file without a LINK sheet", "files without a LINK sheet"),
    "no_header": ("sheet without a header row", "sheets without a header row"),
    "duplicate_sheet": ("sheet given twice", "sheets given twice"),
    "missing_column": ("missing column", "missing columns"),
    "duplicate_column": ("column given twice", "columns given twice"),
    "unknown_column": ("ignored column", "ignored columns"),
    "sheet_ignored": ("ignored sheet", "ignored sheets"),
    "empty_sheet": ("empty sheet", "empty sheets"),
    "file_unsafe": ("file that could not be read safely", "files that could not be read safely"),
    "sheet_too_large": ("sheet too large", "sheets too large"),
    "hidden_sheet": ("hidden sheet", "hidden sheets"),
    "external_links": ("link to other workbooks", "links to other workbooks"),
    "macros": ("file with macros", "files with macros"),
    "not_allowed": ("row you may not send", "rows you may not send"),
    "admin_only": ("change for administrators only", "changes for administrators only"),
    "conflict": ("conflict with values stored since the check",
                 "conflicts with values stored since the check"),
    "nul_character": ("text with a NUL character", "texts with a NUL character"),
    "not_finite": ("number that is not finite", "numbers that are not finite"),
    "out_of_range": ("number out of range", "numbers out of range"),
    "bad_character": ("text with a control character", "texts with a control character"),
    "not_a_number": ("cell that is not a number", "cells that are not numbers"),
    "not_whole": ("count that is not whole", "counts that are not whole"),
    "negative": ("negative number", "negative numbers"),
    "negative_income": ("negative income", "negative incomes"),
    "score_range": ("score out of range", "scores out of range"),
    "latitude_range": ("latitude out of range", "latitudes out of range"),
    "longitude_range": ("longitude out of range", "longitudes out of range"),
    "bad_year": ("unreadable year", "unreadable years"),
    "bad_quarter": ("unreadable quarter", "unreadable quarters"),
    "bad_date": ("unreadable date", "unreadable dates"),
    "bad_code": ("unknown choice", "unknown choices"),
    "bad_pilot_id": ("unreadable pilot id", "unreadable pilot ids"),
    "bad_country": ("unknown country", "unknown countries"),
    "bad_currency": ("unknown currency", "unknown currencies"),
    "bad_indicator": ("unknown indicator", "unknown indicators"),
    "required_value": ("missing required value", "missing required values"),
    "text_too_long": ("text too long", "texts too long"),
    "formula_error": ("formula that ends in an error", "formulas that end in an error"),
    "bad_text": ("unreadable text", "unreadable texts"),
    "duplicate_key": ("row given twice", "rows given twice"),
    "unknown_pilot": ("unknown pilot", "unknown pilots"),
    "out_of_scope": ("row outside your pilots", "rows outside your pilots"),
    "future_quarter": ("quarter in the future", "quarters in the future"),
    "before_start": ("quarter before the pilot's start", "quarters before the pilot's start"),
    "part_above_total": ("part larger than its total", "parts larger than their totals"),
    "end_before_start": ("end before its start", "ends before their starts"),
    "completed_without_end": ("completed milestone without an end date",
                              "completed milestones without an end date"),
    "pilot_id_prefix": ("pilot id that does not start with its country",
                        "pilot ids that do not start with their country"),
    "outside_country": ("site outside its country", "sites outside their country"),
    "coordinates_incomplete": ("site with half its coordinates", "sites with half their coordinates"),
    "missing_rate": ("missing exchange rate", "missing exchange rates"),
    "bad_rate": ("unusable exchange rate", "unusable exchange rates"),
    "money_both_given": ("amount given in both currencies", "amounts given in both currencies"),
    "volume_unit_missing": ("volume without its unit", "volumes without their unit"),
    "outlier": ("outlier", "outliers"),
    "outliers_not_listed": ("count of further outliers", "counts of further outliers"),
    "duplicate_file": ("file sent before", "files sent before"),
}


def kind_words(code: str, n: int) -> str:
    """``312 outliers``, ``1 unknown pilot``; a code without words reads as words."""
    one, many = KIND_WORDS.get(code, (code.replace("_", " "), code.replace("_", " ") + "s"))
    return f"{n:,} {one if n == 1 else many}"


_PILOT_TOKEN = re.compile(r"\b[A-Z]{3}-[A-Z0-9]+(?:-[A-Z0-9]+)*\b")


def pilot_of(problem: Problem, known: Mapping[str, Any] | Iterable[str] | None = None) -> str | None:
    """The pilot a problem is about: the first pilot id its message (or value) names.
    With ``known`` (ids, or ids -> names), only those ids count."""
    ids = None if known is None else known if isinstance(known, (set, frozenset, dict)) else set(known)
    for text in (problem.message, problem.value if isinstance(problem.value, str) else None):
        if not text:
            continue
        for m in _PILOT_TOKEN.finditer(str(text)):
            if ids is None or m.group(0) in ids:
                return m.group(0)
    return None


@dataclass
class ProblemGroup:
    """Problems of one kind: ``title`` says how many and in how many pilots."""

    code: str
    severity: str
    problems: list[Problem]
    pilots: list[tuple[str, int]]  # pilot id and its count, most first
    no_pilot: int  # problems about no one pilot (a sheet, a column, the file)
    title: str

    def pilot_lines(self, names: Mapping[str, str] | None = None) -> list[str]:
        """``Kenya dairy cows (KEN-DAIRY): 24``, most first."""
        names = names or {}
        return [f"{_pilot_label(pid, names)}: {n:,}" for pid, n in self.pilots]


def _pilot_label(pid: str, names: Mapping[str, str]) -> str:
    name = names.get(pid)
    return f"{name} ({pid})" if isinstance(name, str) and name and name != pid else pid


@dataclass
class GroupedProblems:
    errors: list[Problem]  # every error, in the report's order: shown first, at once
    error_groups: list[ProblemGroup]
    warning_groups: list[ProblemGroup]  # the most frequent kind first
    n_warnings: int

    @property
    def summary(self) -> str:
        """``3 errors, 312 warnings``."""
        return f"{counted(len(self.errors), 'error')}, {counted(self.n_warnings, 'warning')}"

    @property
    def warning_summary(self) -> str:
        """``312 outliers in 13 pilots; 2 ignored columns``."""
        return "; ".join(g.title for g in self.warning_groups)


def _groups(problems: list[Problem], known) -> list[ProblemGroup]:
    by_code: dict[str, list[Problem]] = {}
    for p in problems:
        # the outliers past the listed ones are counted in one warning: it joins their group
        by_code.setdefault("outlier" if p.code == "outliers_not_listed" else p.code, []).append(p)
    out, size = [], {}
    for code, items in by_code.items():
        rest = [p for p in items if p.code == "outliers_not_listed"]
        listed_items = [p for p in items if p.code != "outliers_not_listed"]
        per = Counter(pilot_of(p, known) for p in listed_items)
        no_pilot = per.pop(None, 0)
        pilots = sorted(((k, n) for k, n in per.items() if k is not None), key=lambda kv: (-kv[1], kv[0]))
        n_rest = sum(int(p.value) for p in rest if isinstance(p.value, (int, float)))
        title = kind_words(code, len(listed_items) + n_rest)
        if n_rest:
            title += f" (the {len(listed_items):,} farthest listed, in {counted(len(pilots), 'pilot')})"
        elif pilots:
            title += f" in {counted(len(pilots), 'pilot')}"
        group = ProblemGroup(code, items[0].severity, rest + listed_items, pilots, no_pilot, title)
        size[id(group)] = len(listed_items) + n_rest
        out.append(group)
    out.sort(key=lambda g: -size[id(g)])  # stable: same count keeps the report's order
    return out


def group_problems(errors: list[Problem], warnings: list[Problem],
                   pilots: Mapping[str, Any] | Iterable[str] | None = None) -> GroupedProblems:
    """Errors first (all, in order, also grouped), then warnings grouped by kind, the
    most frequent kind first, each with its pilots and counts. ``pilots``: the pilot
    ids (or ids -> names) that a message may name."""
    known = None if pilots is None else set(pilots)
    errors = list(errors)
    warnings = list(warnings)
    return GroupedProblems(errors, _groups(errors, known), _groups(warnings, known), len(warnings))


def problem_where(p: Problem) -> str:
    """``Indicators D14``, ``Pilots`` or ``the file``."""
    if p.sheet and p.cell:
        return f"{p.sheet} {p.cell}"
    return p.sheet or "the file"


def format_grouped(grouped: GroupedProblems, line) -> list[str]:
    """Text lines: every error, then each kind of warning under its title. ``line``
    formats one problem."""
    out = [line(p) for p in grouped.errors]
    for g in grouped.warning_groups:
        out.append(f"-- {g.title} (warnings) --")
        out += [line(p) for p in g.problems]
    return out


# --- what a file covers -------------------------------------------------------------

@dataclass
class Coverage:
    pilots: list[str]  # ids, in the order of their names
    names: dict[str, str]  # id -> display name (the stored or the file's name)
    quarters: list[str]  # in order
    sheets: list[tuple[str, int]]  # sheet and its rows, in template order

    @property
    def latest_quarter(self) -> str | None:
        return self.quarters[-1] if self.quarters else None

    def pilot_names(self) -> list[str]:
        return [self.names.get(p) or p for p in self.pilots]

    def quarters_text(self) -> str:
        """``2018-Q4``, ``2018-Q1 to 2018-Q4`` (4 quarters), or with gaps listed."""
        qs = self.quarters
        if not qs:
            return "no quarter"
        if len(qs) == 1:
            return qs[0]
        span = _quarter_span(qs[0], qs[-1])
        if span == len(qs):
            return f"{qs[0]} to {qs[-1]} ({len(qs)} quarters)"
        return f"{counted(len(qs), 'quarter')}: {listed(qs, 6)}"

    def sentence(self) -> str:
        """``This file covers 13 pilots (Kenya dairy cows, ... and 9 more), 2018-Q1 to
        2018-Q4 (4 quarters), in 2 sheets: Indicators (52 rows), Lessons (13 rows).``"""
        parts = []
        if self.pilots:
            parts.append(f"{counted(len(self.pilots), 'pilot')} ({listed(self.pilot_names())})")
        if self.quarters:
            parts.append(self.quarters_text())
        sheets = ", ".join(f"{s} ({counted(n, 'row')})" for s, n in self.sheets)
        what = ", ".join(parts) if parts else "no pilot data"
        return f"This file covers {what}, in {counted(len(self.sheets), 'sheet')}: {sheets}."


def _quarter_span(first: str, last: str) -> int:
    return _quarter_index(last) - _quarter_index(first) + 1


def _quarter_index(q: str) -> int:
    y, n = quarters.split(q)
    return y * 4 + n - 1


def _texts(df: pd.DataFrame, column: str) -> list[str]:
    if column not in df.columns:
        return []
    return [v for v in pd.unique(df[column].dropna()) if isinstance(v, str) and v]


def coverage(tables: Mapping[str, pd.DataFrame], stored_pilots: pd.DataFrame | None = None) -> Coverage:
    """The pilots (by name: the file's name for a pilot it names, else the stored
    one), quarters and sheets (with their rows) of checked tables."""
    names = pilot_names(stored_pilots)
    if "Pilots" in tables:
        names.update({k: v for k, v in pilot_names(tables["Pilots"]).items()
                      if v != k or k not in names})
    ids: set[str] = set()
    qs: set[str] = set()
    sheets = []
    for sheet in catalogue.SHEET_ORDER:
        df = tables.get(sheet)
        if df is None:
            continue
        rows = len(df)
        if sheet == "Indicators" and {"pilot_id", "quarter"} <= set(df.columns):
            rows = len(df[["pilot_id", "quarter"]].drop_duplicates())  # the sheet's rows
        sheets.append((sheet, rows))
        ids.update(_texts(df, "pilot_id"))
        if sheet in ("Indicators", "Lessons"):
            qs.update(_texts(df, "quarter"))

    def by_name(i: str) -> tuple[str, str]:
        return names.get(i, i).lower(), i

    order = sorted(ids, key=by_name)
    return Coverage(order, {i: names.get(i, i) for i in order}, sorted(qs, key=_quarter_index), sheets)


# --- what is unusual for a quarterly upload -------------------------------------------

OLD_QUARTERS = 4  # a changed value 4 or more quarters before the latest one is "far in the past"
MANY_CHANGED = 100  # changed values above this many (and a fifth of the values sent) are "many"
MOVED_KM = 1.0  # a site moved less than this is a correction of its coordinates' decimals
SITE_FIELDS = ("country", "region", "value_chain", "site")


@dataclass
class Unusual:
    """One kind of change a quarterly upload rarely makes: a title and what it is."""

    code: str  # renamed_pilot | moved_site | old_quarters | many_changed
    title: str
    lines: list[str] = field(default_factory=list)


def _km(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


def _num(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


FIELD_WORDS = {"pilot_name": "name", "value_chain": "value chain", "country": "country",
               "region": "region", "site": "site"}


def unusual_changes(detail: pd.DataFrame | None, stored_pilots: pd.DataFrame | None = None, *,
                    changed: int | None = None, sent: int | None = None,
                    latest_quarter: str | None = None) -> list[Unusual]:
    """What a preview (``Changes.detail``: sheet, key, field, old, new, kind) holds that a
    quarterly upload rarely does:

    - a stored pilot renamed;
    - a stored pilot's site moved: its country, region, value chain or site changed, or
      its coordinates by ``MOVED_KM`` or more;
    - values of quarters ``OLD_QUARTERS`` or more before ``latest_quarter`` (the latest
      stored or sent quarter) changed;
    - many values changed at once: more than ``MANY_CHANGED`` and more than a fifth of
      the ``sent`` values (``changed``: the preview's count of changed values)."""
    out: list[Unusual] = []
    names = pilot_names(stored_pilots)
    if detail is None or detail.empty:
        detail = pd.DataFrame(columns=["sheet", "key", "field", "old", "new", "kind"])
    ch = detail[detail["kind"] == "changed"]
    pil = ch[ch["sheet"] == "Pilots"]
    renamed = [f"{r.key} “{r.old}” is renamed “{r.new}”" for r in pil.itertuples()
               if r.field == "pilot_name" and isinstance(r.old, str) and r.old.strip()]
    if renamed:
        out.append(Unusual("renamed_pilot", f"{counted(len(renamed), 'pilot')} renamed", renamed))
    moved: list[str] = []
    for pid, rows in pil.groupby("key", sort=True):
        f = {r.field: (r.old, r.new) for r in rows.itertuples()}
        what = [f"{FIELD_WORDS[k]} {value_words(k, f[k][0]) or 'blank'} → "
                f"{value_words(k, f[k][1]) or 'blank'}" for k in SITE_FIELDS if k in f]
        if "latitude" in f or "longitude" in f:
            info: dict[str, Any] = {}
            if stored_pilots is not None and not stored_pilots.empty:
                match = stored_pilots[stored_pilots["pilot_id"] == pid]
                info = match.iloc[0].to_dict() if len(match) else {}
            lat0 = _num(f["latitude"][0]) if "latitude" in f else _num(info.get("latitude"))
            lon0 = _num(f["longitude"][0]) if "longitude" in f else _num(info.get("longitude"))
            lat1 = _num(f["latitude"][1]) if "latitude" in f else lat0
            lon1 = _num(f["longitude"][1]) if "longitude" in f else lon0
            if None not in (lat0, lon0, lat1, lon1):
                km = _km(lat0, lon0, lat1, lon1)
                if km >= MOVED_KM:
                    what.append(f"moved {km:,.0f} km ({lat0:g}, {lon0:g} → {lat1:g}, {lon1:g})")
        if what:
            moved.append(f"{_pilot_label(str(pid), names)}: " + "; ".join(what))
    if moved:
        out.append(Unusual("moved_site", f"{counted(len(moved), 'site')} moved or changed", moved))
    ind = ch[ch["sheet"] == "Indicators"]
    if latest_quarter and not ind.empty:
        limit = _quarter_index(latest_quarter) - OLD_QUARTERS
        index: dict[str, int] = {}  # a few quarters, many rows
        per_q: dict[str, list[str]] = {}  # old quarter -> its rows' pilots
        for key in ind["key"].tolist():
            pid, _, rest = str(key).partition(" / ")
            q = rest.partition(" / ")[0]
            i = index.get(q)
            if i is None:
                i = index[q] = _quarter_index(q) if re.fullmatch(r"\d{4}-Q[1-4]", q) else 10 ** 9
            if i <= limit:
                per_q.setdefault(q, []).append(pid)
        if per_q:
            order = sorted(per_q, key=_quarter_index)
            lines = [f"{q}: {counted(len(per_q[q]), 'value')} changed "
                     f"({listed(sorted({_pilot_label(p, names) for p in per_q[q]}), 3)})" for q in order]
            total = sum(len(v) for v in per_q.values())
            out.append(Unusual(
                "old_quarters",
                f"{counted(total, 'value')} changed in {counted(len(order), 'quarter')} "
                f"a year or more before {latest_quarter}", lines))
    n_changed = int(changed if changed is not None else len(ch))
    if n_changed > MANY_CHANGED and (not sent or n_changed * 5 > sent):
        by_sheet = ch.groupby("sheet").size() if len(ch) else pd.Series(dtype=int)
        lines = [f"{s}: {counted(int(n), 'cell')}" for s, n in by_sheet.items()]
        out.append(Unusual("many_changed", f"{counted(n_changed, 'stored value')} would change at once",
                           lines))
    return out


# --- after a commit -------------------------------------------------------------------

def md_literal(text: Any) -> str:
    """Text (from the URL, a file, a user) to show in markdown as it is: every character
    markdown reads as emphasis, a link, code or html escaped with a backslash."""
    return re.sub(r"([\\`*_{}\[\]<>()#+\-.!|~$])", r"\\\1", str(text))


def md_names(cov: Coverage) -> Coverage:
    """The coverage with its pilot names safe in markdown (the rest of its sentences is
    our own words, quarters and numbers)."""
    return replace(cov, names={k: md_literal(v) for k, v in cov.names.items()})


def describe_commit(outcome: Any, filename: str, cov: Coverage | None = None) -> dict[str, Any]:
    """What a commit did, in markdown words (``committed_sentence``), and the quarter the
    file reported: ``{"text", "quarter"}`` for the Upload page's next run. ``outcome``
    is a ``submit`` outcome: ``submission_id`` (None when nothing changed), ``changes``
    (``new``, ``changed``), ``warnings`` and ``tables``."""
    sid = getattr(outcome, "submission_id", None)
    ch = outcome.changes
    if sid is None:
        return {"text": f"**{md_literal(filename)}** changed nothing: it was already stored. "
                        + " ".join(md_literal(w.message) for w in outcome.warnings),
                "quarter": None}
    cov = cov if cov is not None else coverage(outcome.tables or {})
    text = committed_sentence(ch.new, ch.changed, md_names(cov), submission_id=sid)
    return {"text": f"{text} From **{md_literal(filename)}**; every page now shows the new data.",
            "quarter": report_quarter(cov)}



def report_quarter(cov: Coverage) -> str | None:
    """The quarter a file reported: the latest quarter it gives values for."""
    return cov.latest_quarter


def committed_sentence(new: int, changed: int, cov: Coverage, *, submission_id: int | None = None) -> str:
    """``Stored 412 new values and changed 3 for 13 pilots in 2018-Q4 (submission #5).``"""
    verbs = []
    if new:
        verbs.append(f"{counted(new, 'new value')}")
    if changed:
        verbs.append(f"changed {changed:,}" if new else f"changed {counted(changed, 'value')}")
    what = ("Stored " + " and ".join(verbs)) if new else (verbs[0][0].upper() + verbs[0][1:] if verbs
                                                          else "Stored nothing new")
    where = ""
    if cov.pilots:
        who = (cov.pilot_names()[0] if len(cov.pilots) == 1 else counted(len(cov.pilots), "pilot"))
        where = f" for {who}"
    if cov.quarters:
        where += f" in {cov.quarters_text()}"
    elif cov.sheets:
        where += f" ({listed([s for s, _ in cov.sheets])})"
    sid = f" (submission #{submission_id})" if submission_id is not None else ""
    return f"{what}{where}{sid}."


# --- the history in words -------------------------------------------------------------

KIND_OF_SUBMISSION = {"upload": "upload", "demo": "illustrative demo data", "rollback": "rollback"}
STATUS_WORDS = {"committed": "stored", "rolled_back": "rolled back"}


def status_words(status: Any, rolled_back_by: Any = None) -> str:
    """``stored``, ``rolled back by #3``."""
    text = STATUS_WORDS.get(str(status), str(status).replace("_", " "))
    by = _num(rolled_back_by)
    if status == "rolled_back" and by is not None:
        text += f" by #{int(by)}"
    return text


def submission_what(row: Mapping[str, Any]) -> str:
    """What one submission did, in words."""
    if row.get("kind") == "rollback":
        summary = row.get("summary") or {}
        return f"undid #{summary.get('rolled_back')}: {rollback_counts(summary)}"
    new, changed = int(row.get("new") or 0), int(row.get("changed") or 0)
    return f"{counted(new, 'new value')}, {changed:,} changed"


def rollback_counts(summary: Mapping[str, Any]) -> str:
    """``4 restored, 6 removed, 1 kept``: what a rollback submission did to the values
    (its ``summary``)."""
    return (f"{int(summary.get('restored', 0)):,} restored, {int(summary.get('removed', 0)):,} removed, "
            f"{int(summary.get('kept', 0)):,} kept")


def submissions_in_words(subs: pd.DataFrame) -> pd.DataFrame:
    """The history as people read it: ``#``, kind and status in words, file and sender
    ("—" when there is none), what it did. Numbers stay numbers."""
    cols = ["id", "kind", "filename", "user", "created_at", "status", "new", "changed",
            "unchanged", "what"]
    if subs is None or subs.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    out = subs.copy()
    out["what"] = [submission_what(r) for r in out.to_dict("records")]
    out["status"] = [status_words(s, b) for s, b in zip(out["status"], out.get("rolled_back_by",
                                                                               [None] * len(out)))]
    out["kind"] = out["kind"].map(lambda k: KIND_OF_SUBMISSION.get(str(k), str(k)))
    for c in ("filename", "user"):
        out[c] = out[c].map(lambda v: v if isinstance(v, str) and v else "—")
    return out[[c for c in cols if c in out.columns]]


def describe_submission(row: Mapping[str, Any]) -> str:
    """``#2 · upload · q1.xlsx · ana@example.org · 2019-04-02 10:11 · rolled back by #3``."""
    when = row.get("created_at")
    when = (quarters.time_text(when) if when is not None and hasattr(when, "strftime") and not pd.isna(when)
            else "")
    parts = [f"#{int(row['id'])}", KIND_OF_SUBMISSION.get(str(row.get("kind")), str(row.get("kind")))]
    for k in ("filename", "user"):
        v = row.get(k)
        if isinstance(v, str) and v and not (k == "filename" and row.get("kind") == "demo"):
            parts.append(v)
    if when:
        parts.append(when)
    parts.append(status_words(row.get("status"), row.get("rolled_back_by")))
    return " · ".join(parts)


def rollback_sentence(ok: bool, message: str, *, rolled_back: int | None, submission_id: int | None,
                      restored: int, removed: int, kept: int) -> str:
    """``Rolled back submission #2 (recorded as #3): 4 values restored, 6 removed, 1 kept
    because a later submission changed it.`` A refusal keeps the store's words."""
    if not ok:
        return message
    parts = [f"{counted(restored, 'value')} restored", f"{removed:,} removed"]
    if kept:
        parts.append(f"{kept:,} kept because a later submission changed "
                     f"{'it' if kept == 1 else 'them'}")
    return (f"Rolled back submission #{rolled_back} (recorded as #{submission_id}): "
            + ", ".join(parts) + ".")


def rollback_text(result: Any) -> str:
    """A rollback's result (``submit``'s: ``ok``, ``message``, ``rolled_back``,
    ``submission_id``, ``restored``, ``removed``, ``kept``) in words."""
    return rollback_sentence(result.ok, result.message, rolled_back=result.rolled_back,
                             submission_id=result.submission_id, restored=result.restored,
                             removed=result.removed, kept=len(result.kept))


AUDIT_EVENTS = {"upload": "upload", "demo": "illustrative demo data", "rollback": "rollback",
                "role": "role change"}


def event_words(event: Any) -> str:
    """An audit log event as people say it: ``demo`` -> ``illustrative demo data``."""
    return AUDIT_EVENTS.get(str(event), str(event).replace("_", " "))


def audit_in_words(log: pd.DataFrame) -> pd.DataFrame:
    """The audit log with its events in words and no blank shown as "None"."""
    out = log.copy()
    out["event"] = out["event"].map(event_words)
    out["who"] = out["who"].map(lambda v: v if isinstance(v, str) and v else "—")
    return out


# --- problems as a table --------------------------------------------------------------

def _pilot_named(pid: str | None, names: Any) -> str:
    """``Kenya dairy cows (KEN-DAIRY)`` when ``names`` (id -> name) knows the pilot."""
    if not pid:
        return ""
    name = names.get(pid) if isinstance(names, dict) else None
    return f"{name} ({pid})" if name and name != pid else pid


PROBLEM_COLUMNS = ["severity", "sheet", "cell", "value", "message", "kind", "pilot"]


def problems_frame(problems: Iterable[Problem], pilots: Mapping[str, str] | Iterable[str] | None = None,
                   ) -> pd.DataFrame:
    """Problems as a table: severity, sheet, cell, value found, message, the kind in
    words and the pilot it is about (``pilot_of``; by name when ``pilots`` is a dict of
    id -> name)."""
    problems = list(problems)
    known = None if pilots is None else set(pilots)
    df = pd.DataFrame({
        "severity": [p.severity for p in problems],
        "sheet": [p.sheet or "" for p in problems],
        "cell": [p.cell or "" for p in problems],
        "value": [cell_text(p.value) for p in problems],
        "message": [p.message for p in problems],
        "kind": [kind_words(p.code, 1)[2:] for p in problems],
        "pilot": [_pilot_named(pilot_of(p, known), pilots) for p in problems],
    }, columns=PROBLEM_COLUMNS)
    return df.astype(object)


# --- the preview's rows in words ------------------------------------------------------

def field_label(sheet: str, code: Any) -> str:
    """A column or indicator code as its label: ``participants_women`` -> ``Participants
    women``; ``latitude`` -> ``Latitude``."""
    code = str(code)
    ind = catalogue.indicators().get(code)
    if ind is not None:
        return ind.label
    spec = catalogue.sheets().get(sheet)
    if spec is not None:
        try:
            return spec.column(code).header
        except KeyError:
            pass
    return code.replace("_", " ").capitalize()


def detail_in_words(detail: pd.DataFrame, names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Preview rows (sheet, key, field, old, new[, kind]) as people read them: sheet,
    pilot (name), quarter, what (the indicator's or column's label; a milestone, target
    or lesson named in words), old, new. Blank cells are empty text, never "None"."""
    names = names or {}
    cols = ["sheet", "pilot", "quarter", "what", "old", "new"]
    if detail is None or detail.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    old = detail["old"] if "old" in detail.columns else [None] * len(detail)
    pilot, quarter, what = [], [], []
    for sheet, key, fld in zip(detail["sheet"], detail["key"], detail["field"]):
        parts = str(key).split(" / ")
        label = field_label(sheet, fld)
        p = q = ""
        if sheet in ("Benchmarks",):
            from linkdash import countries

            p = countries.name(parts[0]) or parts[0]
            q = parts[1] if len(parts) > 1 else ""
        elif sheet == "Rates":
            p, q = parts[0], parts[1] if len(parts) > 1 else ""
        else:
            pid = parts[0]
            p = _pilot_label(pid, names) if pid else ""
            rest = parts[1:]
            if sheet in ("Indicators", "Lessons") and rest:
                q, rest = rest[0], rest[1:]
            if sheet == "Progress" and rest:
                label = f"{catalogue.MILESTONE_LABELS.get(rest[0], rest[0])}: {label}"
            elif sheet == "Targets" and rest:
                label = f"{field_label('Indicators', rest[0])}: {label}"
        pilot.append(p)
        quarter.append(q)
        what.append(label)
    return pd.DataFrame({"sheet": detail["sheet"].astype(str).values, "pilot": pilot,
                         "quarter": quarter, "what": what,
                         "old": [value_words(f, v) for f, v in zip(detail["field"], old)],
                         "new": [value_words(f, v) for f, v in zip(detail["field"], detail["new"])]})


def cell_text(v: Any) -> str:
    """A stored or sent value as text: whole numbers without ``.0``, blanks empty."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float):
        return f"{int(v)}" if v.is_integer() else f"{v:g}"
    return str(v)


def value_words(field_code: Any, v: Any) -> str:
    """A value of a coded column in words: a value chain, milestone, status, lesson kind
    or country by its name; anything else as ``cell_text``."""
    if isinstance(v, str):
        if field_code == "value_chain":
            return catalogue.VALUE_CHAIN_LABELS.get(v, v)
        if field_code == "milestone":
            return catalogue.MILESTONE_LABELS.get(v, v)
        if field_code in ("status", "kind"):
            return v.replace("_", " ")
        if field_code == "country":
            from linkdash import countries

            return countries.name(v) or v
    return cell_text(v)


def kept_in_words(kept: list[Mapping[str, Any]], names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A rollback's kept values (sheet, key, field, by, reason) in words: sheet, pilot,
    quarter, what (the indicator, or "the whole row"), why."""
    cols = ["sheet", "pilot", "quarter", "what", "why"]
    if not kept:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    rows = pd.DataFrame({"sheet": [k.get("sheet") for k in kept], "key": [k.get("key") for k in kept],
                         "field": [k.get("field") or "" for k in kept],
                         "new": [None] * len(kept)})
    words = detail_in_words(rows, names)
    words["what"] = [w if k.get("field") else "the whole row" for w, k in zip(words["what"], kept)]
    why = [str(k.get("reason") or "").removeprefix("kept: ") for k in kept]
    return words.assign(why=why)[cols]
