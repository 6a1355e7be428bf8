"""Stored values in their Python types: coercion (a missing value, ``values.is_missing``,
is None), equality (floats within 1e-12), a key as text, UTC times."""

from __future__ import annotations

from typing import Any

from linkdash.values import as_date, is_missing, same_number

# --- values --------------------------------------------------------------------

def _coerce(kind: str, v: Any) -> Any:
    """One stored value in its Python type (None for blank)."""
    if is_missing(v):  # text, even "", is a value
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
            return same_number(float(a), float(b))
        except (TypeError, ValueError):
            return False
    return a == b


def _key_text(key: tuple) -> str:
    return " / ".join("" if k is None else str(k) for k in key)


