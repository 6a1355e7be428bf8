"""Lessons learned: finding them by words and by the kinds, milestones and quarters
chosen (the Lessons page's search, without streamlit)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd


def search_lessons(lessons: pd.DataFrame, text: str = "", kinds: Iterable[str] = (),
                   milestones: Iterable[str] = (), quarters: Iterable[str] = ()) -> pd.DataFrame:
    """The lessons whose text, author or pilot contains every word of ``text`` (any
    case) and whose kind, milestone and quarter are among those chosen (none = all)."""
    out = lessons
    kinds, milestones, quarters = list(kinds), list(milestones), list(quarters)
    if kinds:
        out = out[out["kind"].isin(kinds)]
    if milestones:
        out = out[out["milestone"].isin(milestones)]
    if quarters:
        out = out[out["quarter"].isin(quarters)]
    words = [w for w in str(text or "").lower().split() if w]
    if words and not out.empty:
        hay = (out["lesson"].fillna("").astype(str) + " " + out["author"].fillna("").astype(str)
               + " " + out["pilot_id"].fillna("").astype(str)).str.lower()
        mask = pd.Series(True, index=out.index)
        phrase = " ".join(words)
        # the whole phrase, or every word of it
        for w in words:
            mask &= hay.str.contains(w, regex=False)
        mask |= hay.str.contains(phrase, regex=False)
        out = out[mask]
    return out
