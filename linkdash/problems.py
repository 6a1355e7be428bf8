"""Problems in user data are records, not exceptions.

A ``Problem`` has a stable ``code`` (listed in ``CODES`` with its severity), the sheet
and cell as the user sees them in Excel, the value found and a message that says what
to change. A ``Report`` collects them; pages show it as a table, the command line as
JSON. See frictionless-py's error classes and pandera's SchemaErrorReason for the model.
"""

from __future__ import annotations

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

    def extend(self, other: "Report") -> None:
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
