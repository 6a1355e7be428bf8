"""Parsing the values people type into a workbook.

Every parser takes one raw cell value (what calamine or the csv reader gives: ``str``,
``float``, ``int``, ``bool``, ``datetime.date``/``datetime``, ``None``) and returns
``(value, None)`` or ``(None, message)``. They never raise for user data. A blank cell
(``None``, ``""`` or only spaces) is never passed to them: callers check ``is_blank``
first, because blank means "not reported".

Numbers written as text are accepted only when they are unambiguous:

- ``"12.5"``, ``" 1,234 "``, ``"1,234.5"``, ``"1 234"`` (also with non-breaking or thin
  spaces), ``"-3"``, ``"1.5E3"`` are numbers;
- ``"1,23"`` (a decimal comma or a misplaced thousands comma?), ``"1.234.567"``
  (European thousands dots), ``"12abc"``, ``"$12"``, ``"12%"`` are rejected with a
  message that shows how to write it.

Floating-point noise from Excel (``274.65999999999997``) is fine; a count is whole when
it is within 1e-6 of a whole number (``12.0`` is a count of 12).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from typing import Any

import numpy as np
from pandas import NA as _NA
from pandas import NaT as _NAT
from pandas import isna as _isna

from linkdash import catalogue, quarters

Parsed = tuple[Any, str | None]

WHOLE_TOLERANCE = 1e-6
_SPACES = "\u00a0\u2007\u2009\u202f\u200a\u2002\u2003\u2004\u2005\u2006\u2008 "
_SPACE_RE = re.compile(f"[{_SPACES}]")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_COMMA_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_SPACE_GROUPED = re.compile(rf"^[+-]?\d{{1,3}}([{_SPACES}]\d{{3}})+(\.\d+)?$")


# The one home of "is there a value?" (every layer may import this one):
# - ``is_missing``: no value at all (None, NaN, pandas' NA and NaT). Text is always a value,
#   even "" (the store keeps what it was given: ``store.rows``).
# - ``is_blank``: not reported: missing, or text holding only spaces ("" too). Cells, the
#   story's facts and the Pilot page's facts use this one.

def is_missing(v: Any) -> bool:
    """None, NaN (float or numpy), pandas' ``NA`` and ``NaT``: no value. Text, bytes,
    numbers, dates and containers are values."""
    if v is None or v is _NA or v is _NAT:
        return True
    if isinstance(v, float):
        return math.isnan(v)
    if isinstance(v, (str, bytes, int, dt.date, list, tuple, dict, set)):
        return False
    try:  # numpy's NaT and NaN of other widths, Decimal("NaN")
        return bool(_isna(v))
    except (TypeError, ValueError):  # numpy arrays of several values
        return False


def is_blank(v: Any) -> bool:
    """Not reported: ``is_missing``, or text holding only spaces ("" too)."""
    if v is None:
        return True
    t = type(v)
    if t is str:
        return not v.strip(_SPACES + "\t\r\n")
    if t is float:  # the common cases first: this runs once per cell of an upload
        return v != v
    return is_missing(v)


def _show(v: Any) -> str:
    if isinstance(v, str):
        return f'"{v}"' if len(v) <= 80 else f'"{v[:60]}..." ({len(v):,} characters)'
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


# --- numbers -------------------------------------------------------------------

# minus, figure dash, en dash, small and full-width hyphen-minus
_MINUS_SIGNS = "\u2212\u2012\u2013\ufe63\uff0d"


def as_date(v: Any) -> dt.date | None:
    """A date already typed by the importer, the store or pandas (``date``, ``datetime``,
    ``Timestamp``, ISO text) as a ``datetime.date``; None for blank (None, NaN, NaT, "").
    For cells typed by a person use :func:`parse_date`, which reports what is wrong."""
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is _NAT:
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str) and v.strip():
        try:
            return dt.date.fromisoformat(v.strip()[:10])
        except ValueError:
            return None
    return None


MAX_NUMBER_CHARS = 64  # longer text is never a number (and the patterns stay linear)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control_chars(s: str) -> bool:
    """A control character other than tab and line breaks (a NUL byte, an escape...)."""
    return _CONTROL.search(s) is not None


def visible_controls(s: str) -> str:
    """``s`` with its control characters written as ``\\x00``, for a message."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", s)


def show_value(v: Any, limit: int = 60) -> str:
    """A cell's value for a message: numbers as written, long text cut."""
    text = _show(v) if not isinstance(v, str) else f'"{v}"'
    return text if len(text) <= limit else text[:limit] + '..."'


def parse_number(v: Any) -> Parsed:
    """A numeric cell, or text that is unambiguously a number -> float."""
    t = type(v)
    if t is float or t is int:
        f = float(v)
        if math.isfinite(f):
            return f, None
        return None, f"{_show(v)} is not a number: write a number"
    if t is bool:
        return None, f"{v} is not a number: write a number"
    if isinstance(v, (dt.date, dt.time, dt.timedelta)):
        return None, f"found a date or time ({v}) where a number is expected: write a number"
    if t is not str:
        return None, f"{_show(v)} is not a number: write a number"
    s = v.strip(_SPACES + "\t\r\n")
    if len(s) > MAX_NUMBER_CHARS:
        return None, (f"{show_value(s, 30)} ({len(s):,} characters) is not a number: write a "
                      f"plain number like 1234 or 1234.5")
    if s[:1] in _MINUS_SIGNS:  # a minus sign pasted from the web or Word is still a minus
        s = "-" + s[1:]
    if _PLAIN_NUMBER.match(s):
        f = float(s)
        if math.isfinite(f):
            return f, None
    elif _COMMA_GROUPED.match(s):
        return float(s.replace(",", "")), None
    elif _SPACE_GROUPED.match(s):
        return float(_SPACE_RE.sub("", s)), None
    hint = "write a plain number like 1234 or 1234.5"
    if re.fullmatch(r"[+-]?\d+,\d{1,2}", s) or re.fullmatch(r"[+-]?\d+,\d{4,}", s):
        hint = ("it is unclear whether the comma is a decimal separator: write 1.23 for a decimal, "
                "1234 for a whole number")
    elif re.fullmatch(r"[+-]?\d{1,3}(\.\d{3}){2,}(,\d+)?", s):
        hint = "dots as thousands separators are ambiguous: write 1234567 (no separators)"
    elif re.search(r"[%$€£]", s):
        hint = "write the number alone, without % or currency signs"
    return None, f"{_show(v)} is not a number: {hint}"


def is_whole(f: float) -> bool:
    return abs(f - round(f)) <= WHOLE_TOLERANCE


# The one home of "the same number" (every layer may import this one): two numbers are the
# same when within 1e-12 of each other, relatively or (near 0) absolutely, as
# ``math.isclose(a, b, rel_tol=SAME_TOLERANCE, abs_tol=SAME_TOLERANCE)``: a value sent again
# is unchanged (the preview, the commit), already stored as it is (the outlier rule), a
# figure's change is none ("same"). Whether a count is whole is ``WHOLE_TOLERANCE``'s.
SAME_TOLERANCE = 1e-12


def same_number(a: float, b: float) -> bool:
    """Whether ``a`` and ``b`` are the same number (within ``SAME_TOLERANCE``; NaN is
    never the same)."""
    return math.isclose(a, b, rel_tol=SAME_TOLERANCE, abs_tol=SAME_TOLERANCE)


def same_numbers(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``same_number`` of each pair of two float arrays (or an array and a number), at once."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.abs(a - b) <= np.maximum(SAME_TOLERANCE * np.maximum(np.abs(a), np.abs(b)), SAME_TOLERANCE)
    return (close & np.isfinite(a) & np.isfinite(b)) | (a == b)


def parse_count(v: Any) -> Parsed:
    """A whole number >= 0 (``12.0`` is fine)."""
    f, err = parse_number(v)
    if err:
        return None, err
    if not is_whole(f):
        return None, f"{_show(v)} is not a whole number: a count must be a whole number like {round(f)}"
    if f < 0:
        return None, f"{_show(v)} is negative: a count must be 0 or more"
    return float(round(f)), None


# --- quarters and dates ------------------------------------------------------------

_Q_YEAR_FIRST = re.compile(r"^(\d{4})\s*[-/ ]?\s*q\s*([1-4])$", re.I)
_Q_QUARTER_FIRST = re.compile(r"^q\s*([1-4])\s*[-/ ]?\s*(\d{4})$", re.I)
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\S.*)?$")
QUARTER_FORMATS = "2017-Q1 (also 2017Q1, 2017 Q1, Q1 2017, Q1-2017, Q1/2017 or a date)"


def _iso_date(s: str) -> dt.date | None:
    m = _ISO_DATE.match(s)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def parse_quarter(v: Any) -> Parsed:
    """-> canonical ``"2017-Q1"``."""
    if isinstance(v, dt.date):  # datetime is a date too
        return quarters.of_date(v), None
    if type(v) is str:
        s = v.strip(_SPACES + "\t\r\n")
        m = _Q_YEAR_FIRST.match(s)
        if m:
            return quarters.make(int(m.group(1)), int(m.group(2))), None
        m = _Q_QUARTER_FIRST.match(s)
        if m:
            return quarters.make(int(m.group(2)), int(m.group(1))), None
        d = _iso_date(s)
        if d:
            return quarters.of_date(d), None
    return None, f"{_show(v)} is not a quarter: write it as {QUARTER_FORMATS}"


def parse_date(v: Any) -> Parsed:
    """A date cell or ISO text ``2017-03-31`` (a time after it is ignored) -> date."""
    if isinstance(v, dt.datetime):
        return v.date(), None
    if isinstance(v, dt.date):
        return v, None
    if type(v) is str:
        d = _iso_date(v.strip(_SPACES + "\t\r\n"))
        if d:
            return d, None
    return None, f"{_show(v)} is not a date: enter a date cell or write it as 2017-03-31"


# --- codes, ids, text ----------------------------------------------------------------

def _fold(s: str) -> str:
    s = unicodedata.normalize("NFKD", s)
    return catalogue.normalize_header("".join(ch for ch in s if not unicodedata.combining(ch)))


def _singular(s: str) -> str:
    return s[:-1] if s.endswith("s") and len(s) > 3 else s


def code_lookup(choices: tuple[str, ...] | list[str], labels: dict[str, str] | None = None) -> dict[str, str]:
    """Normalised spelling -> canonical code: each code, each label, and their singular
    forms, keeping only spellings that point at one code."""
    seen: dict[str, set[str]] = {}

    def add(key: str, code: str) -> None:
        if key:
            seen.setdefault(key, set()).add(code)

    for c in choices:
        for form in {_fold(c), _fold((labels or {}).get(c, ""))}:
            add(form, c)
            add(_singular(form), c)
            add("_".join(_singular(w) for w in form.split("_")), c)
    lookup = {k: next(iter(v)) for k, v in seen.items() if len(v) == 1}
    for c in choices:  # exact codes always win
        lookup[_fold(c)] = c
    return lookup


def parse_code(v: Any, lookup: dict[str, str], what: str = "value") -> Parsed:
    """Trimmed, case-insensitive; the human label is accepted too (``"Value chain
    map"`` -> ``vc_map``, ``"Dairy cow"`` -> ``dairy_cow``)."""
    s = _fold(str(v)) if not isinstance(v, float) or not v.is_integer() else str(int(v))
    code = lookup.get(s)
    if code is None:
        code = lookup.get("_".join(_singular(w) for w in s.split("_")))
    if code is not None:
        return code, None
    choices = sorted(set(lookup.values()))
    return None, f"{_show(v)} is not a known {what}: use one of {', '.join(choices)}"


_PILOT_ID = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]+)*$")


def parse_pilot_id(v: Any) -> Parsed:
    """Trimmed, upper case, letters and digits in parts joined by ``-`` (``KEN-DAIRY``)."""
    if isinstance(v, float) and v.is_integer():
        v = str(int(v))
    s = str(v).strip(_SPACES + "\t\r\n").upper()
    if _PILOT_ID.match(s):
        return s, None
    return None, (f"{_show(v)} is not a pilot id: use the pilot's id such as KEN-DAIRY "
                  "(letters and digits, parts joined by -)")


# The one home of "text a spreadsheet would run": text starting with one of these is a
# formula to a spreadsheet (the xlsx export writes it as a text cell: ``template.set_cell``);
# in a csv, also a tab or a carriage return (OWASP), so the csv export writes a ``'``
# before them (``csv_safe``), which ``parse_text`` drops again.
FORMULA_START = ("=", "+", "-", "@")
CSV_UNSAFE_START = (*FORMULA_START, "\t", "\r")


def parse_text(v: Any) -> Parsed:
    """Text is kept exactly, except that a ``'`` before ``= + - @``, a tab or a carriage
    return (written by csv exports to stop spreadsheets running formulas: ``csv_safe``)
    is dropped. Numbers and dates in a text column become their plain text."""
    if type(v) is str:
        if len(v) > 1 and v[0] == "'" and v[1] in CSV_UNSAFE_START:
            return v[1:], None
        return v, None
    if isinstance(v, float) and v.is_integer():
        return str(int(v)), None
    if isinstance(v, dt.datetime):
        return (v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")), None
    if isinstance(v, dt.date):
        return v.isoformat(), None
    return str(v), None


def csv_safe(text: str) -> str:
    """The csv export's spelling of a text value: a ``'`` before ``= + - @``, a tab or a
    carriage return (``CSV_UNSAFE_START``)."""
    return "'" + text if text.startswith(CSV_UNSAFE_START) else text


def parse_year(v: Any) -> Parsed:
    f, err = parse_number(v)
    if err is None and is_whole(f) and 1900 <= f <= 2100:
        return int(round(f)), None
    return None, f"{_show(v)} is not a year: write a year like 2017"


def parse_currency(v: Any) -> Parsed:
    import pycountry

    s = str(v).strip(_SPACES + "\t\r\n").upper()
    if re.fullmatch(r"[A-Z]{3}", s) and pycountry.currencies.get(alpha_3=s) is not None:
        return s, None
    return None, f"{_show(v)} is not a currency code: use the ISO 4217 code such as KES, USD or VND"


def _parse_degrees(v: Any, what: str, limit: int) -> Parsed:
    """A number of decimal degrees from -``limit`` to ``limit`` (a ``what``)."""
    f, err = parse_number(v)
    if err:
        return None, err
    if not -limit <= f <= limit:
        return None, f"{_show(v)} is not a {what}: write decimal degrees between -{limit} and {limit}"
    return f, None


def parse_latitude(v: Any) -> Parsed:
    return _parse_degrees(v, "latitude", 90)


def parse_longitude(v: Any) -> Parsed:
    return _parse_degrees(v, "longitude", 180)


def parse_country(v: Any) -> Parsed:
    from linkdash import countries

    code = countries.to_alpha3(str(v))
    if code:
        return code, None
    return None, (f"{_show(v)} is not a country we know: write the English name "
                  "(e.g. Kenya, Vietnam) or the ISO code (KE or KEN)")
