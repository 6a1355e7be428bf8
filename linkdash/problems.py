"""Problems in user data are records, not exceptions.

A ``Problem`` has a stable ``code`` (listed in ``CODES`` with its severity), the sheet
and cell as the user sees them in Excel, the value found and a message that says what
to change. A ``Report`` collects them; pages show it as a table, the command line as
JSON. See frictionless-py's error classes and pandera's SchemaErrorReason for the model.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    code: str
    severity: str  # "error" | "warning"
    sheet: str | None
    cell: str | None  # like "D14"; None for a whole sheet or file
    value: Any
    message: str

    def __post_init__(self) -> None:
        if strict_codes():
            check_code(self.code, self.severity)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        v = d["value"]
        if v is not None and not isinstance(v, (str, int, float, bool)):
            d["value"] = str(v)
        return d


def many_problems(code: str, severity: str, sheet: str | None, cells: list, values: list,
                  messages: list) -> list[Problem]:
    """``Problem(code, severity, sheet, cell, value, message)`` for each (cell, value,
    message), equal to ones made one by one, at half the cost: a frozen dataclass's
    ``__init__`` sets each field through ``object.__setattr__``; here each record gets
    its field dict at once (for the tens of thousands of outliers a large random file
    can hold). Values are kept as given (no ``_short``: for numbers)."""
    if strict_codes():
        check_code(code, severity)
    new, set_ = object.__new__, object.__setattr__
    fields = [{"code": code, "severity": severity, "sheet": sheet, "cell": c, "value": v, "message": m}
              for c, v, m in zip(cells, values, messages)]
    out = [new(Problem) for _ in range(len(fields))]
    list(map(set_, out, ["__dict__"] * len(out), fields))
    return out


MAX_VALUE_CHARS = 200  # a problem shows at most this much of the value found


def _short(v: Any) -> Any:
    """A value found, as a problem keeps it: a long text is cut (a 50 MB cell must not
    travel into every table, log and JSON answer)."""
    if isinstance(v, str) and len(v) > MAX_VALUE_CHARS:
        return v[:MAX_VALUE_CHARS - 3] + "..."
    return v


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)

    def error(self, code: str, sheet: str | None, cell: str | None, value: Any, message: str) -> None:
        self.problems.append(Problem(code, ERROR, _short(sheet), cell, _short(value), message))

    def warn(self, code: str, sheet: str | None, cell: str | None, value: Any, message: str) -> None:
        self.problems.append(Problem(code, WARNING, _short(sheet), cell, _short(value), message))

    def extend(self, other: Report) -> None:
        self.problems.extend(other.problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def flatten(self, *fields: str) -> list[tuple]:
        """``report.flatten("sheet", "cell", "code")`` for compact test assertions."""
        return [tuple(getattr(p, f) for f in fields) for p in self.problems]


def column_letter(index: int) -> str:
    """0-based column index -> Excel letters (0 -> A, 26 -> AA)."""
    s, n = "", index + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def column_index(letters: str) -> int:
    """Excel letters -> 0-based column index (A -> 0, AA -> 26)."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


def cell_ref(row0: int, col0: int) -> str:
    """0-based row and column -> ``D14`` as the user sees it in Excel."""
    return f"{column_letter(col0)}{row0 + 1}"


# --- the registry of problem codes -----------------------------------------------------------
# Every code a check can report, with its severity and what it means, in one place: the
# README's table of checks is made from it (``codes_markdown``), and under the tests
# (``LINKDASH_STRICT_CODES``) a problem with an unknown code or the wrong severity is a
# bug that fails loudly.

@dataclass(frozen=True)
class Code:
    code: str
    severity: str
    description: str


def _codes(severity: str, **described: str) -> dict[str, Code]:
    return {c: Code(c, severity, d) for c, d in described.items()}


CODES: dict[str, Code] = {
    # the file (workbook.py, sandbox.py)
    **_codes(ERROR,
             file_empty="the file has no bytes",
             file_too_large="the file is larger than the upload limit",
             zip_bomb="the file unpacks to far more than its size (a zip bomb)",
             file_unreadable="the file is damaged or not in a format it claims to be",
             not_a_spreadsheet="the file is not an xlsx, xls, ods or csv workbook",
             file_encrypted="the workbook is password-protected",
             xml_entities="the workbook declares XML entities (a known attack)",
             too_many_rows="a sheet has more rows than a workbook may send",
             sheet_too_large="a sheet is wider or longer than Excel allows",
             file_unsafe="the isolated reader crashed, ran out of time or memory on the file",
             no_known_sheet="no sheet has a LINK name or LINK columns",
             no_header="a LINK sheet has no header row with its key columns",
             duplicate_sheet="two sheets are the same LINK sheet",
             missing_column="a required column is missing from its sheet",
             duplicate_column="a column appears twice in one sheet"),
    **_codes(WARNING,
             unknown_column="a column the sheet does not know is ignored",
             sheet_ignored="a sheet that is not a LINK sheet is ignored",
             empty_sheet="a LINK sheet has no data rows",
             hidden_sheet="a LINK sheet is hidden in the workbook",
             external_links="cells hold cached values of links to other workbooks",
             macros="the workbook holds macros (never run; never offered for download)"),
    # cells (rules/cells.py)
    **_codes(ERROR,
             not_a_number="a number column holds text or a number that is not finite",
             not_whole="a count holds a fraction",
             negative="a count or amount below zero",
             score_range="a score outside 1 to 5",
             latitude_range="a latitude outside -90 to 90",
             longitude_range="a longitude outside -180 to 180",
             bad_year="a year that is not a whole year between 1900 and 2100",
             bad_quarter="a quarter not written like 2017-Q3",
             bad_date="a date that cannot be read as a date",
             bad_code="a value not in its column's list (value chain, milestone, status...)",
             bad_pilot_id="a pilot id not written like KEN-DAIRY",
             bad_country="a country that is neither a known name nor an ISO code",
             bad_currency="a currency that is not an ISO 4217 code",
             bad_indicator="an indicator code not in the catalogue",
             required_value="a required cell is blank",
             text_too_long="a text over its length limit",
             bad_text="a text holding a NUL byte or another control character",
             formula_error="a formula whose result is an error such as #DIV/0! or #N/A"),
    **_codes(WARNING, negative_income="a household income below zero"),
    # rows and sheets (rules/common.py, pilots.py, progress.py, indicators.py, lessons.py)
    **_codes(ERROR,
             duplicate_key="the same key (pilot, quarter...) twice in a sheet",
             unknown_pilot="a pilot neither stored nor in the file's Pilots sheet",
             out_of_scope="a pilot outside the regions or countries the user may change",
             future_quarter="a quarter after the current one",
             before_start="a quarter or date before the pilot's start",
             part_above_total="a part (women, youth, poorest) above its total",
             end_before_start="an end date before its start date",
             completed_without_end="a milestone marked completed without an actual end",
             missing_rate="local money with no exchange rate for its currency and quarter",
             bad_rate="an exchange rate that is not a positive number"),
    **_codes(WARNING,
             pilot_id_prefix="a pilot id whose prefix is not its country's code",
             outside_country="coordinates outside the pilot's country",
             coordinates_incomplete="a latitude without a longitude or the reverse",
             money_both_given="money given both in USD and in local currency (USD kept)",
             volume_unit_missing="a volume sold without its unit",
             outlier="a value far from the pilot's own earlier quarters and their trend",
             outliers_not_listed="more outliers than are listed one by one (counted)"),
    # who may send what (access.py)
    **_codes(ERROR,
             not_allowed="the user's role may not upload",
             admin_only="reference data (rates, benchmarks, pilots' places) sent by a non-administrator"),
    # refused inside the commit's transaction (store/, recheck.py)
    **_codes(ERROR,
             conflict="another upload changed a value this rule depends on since the check",
             nul_character="a NUL byte the store cannot hold",
             not_finite="a number that is not finite",
             out_of_range="a number too large for the store",
             bad_character="a character the store cannot hold"),
    **_codes(WARNING, duplicate_file="the same file was stored before (nothing changed)"),
}


class UnknownProblemCode(AssertionError):
    """A check reported a code that is not in ``CODES``, or with another severity: a bug."""


def strict_codes() -> bool:
    return os.environ.get("LINKDASH_STRICT_CODES", "") not in ("", "0")


def check_code(code: str, severity: str) -> None:
    known = CODES.get(code)
    if known is None or known.severity != severity:
        raise UnknownProblemCode(f"problem code {code!r} ({severity}) is not in problems.CODES"
                                 + (f" (it is a {known.severity})" if known else ""))


def codes_markdown() -> str:
    """The README's table of problem codes."""
    lines = ["| code | severity | means |", "|---|---|---|"]
    for c in CODES.values():
        lines.append(f"| `{c.code}` | {c.severity} | {c.description} |")
    return "\n".join(lines) + "\n"
