"""Stored values in their Python types: blank, coercion, equality (floats within 1e-12),
a key as text, UTC times."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd

from linkdash.values import as_date

# --- values --------------------------------------------------------------------

def _blank(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    try:
        return bool(pd.isna(v)) if not isinstance(v, (str, bytes, dt.date)) else False
    except (TypeError, ValueError):
        return False


def _coerce(kind: str, v: Any) -> Any:
    """One stored value in its Python type (None for blank)."""
    if _blank(v):
        return None
    if kind == "date":
        return as_date(v)
    if kind == "int":
        return int(v)
    if kind == "float":
        return float(v)
    return str(v)


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12)
        except (TypeError, ValueError):
            return False
    return a == b


def _key_text(key: tuple) -> str:
    return " / ".join("" if k is None else str(k) for k in key)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _as_utc(t: dt.datetime | None) -> dt.datetime | None:
    if t is None:
        return None
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)
