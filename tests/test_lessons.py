"""Finding lessons (linkdash/lessons.py), without streamlit: every word of the search
text, any case, in the lesson, its author or its pilot; kinds, milestones and quarters
chosen narrow it, none chosen keeps all."""

from __future__ import annotations

import pandas as pd

from linkdash.lessons import search_lessons


def lessons() -> pd.DataFrame:
    return pd.DataFrame({
        "pilot_id": ["KEN-DAIRY", "ETH-COFFEE", "KEN-DAIRY", "GHA-COCOA"],
        "quarter": ["2018-Q1", "2018-Q2", "2018-Q3", "2018-Q3"],
        "kind": ["success", "challenge", "challenge", "success"],
        "milestone": ["design", "design", "pilot", "pilot"],
        "lesson": ["Farmers joined the cooperative early", "Prices fell before the harvest",
                   "Milk collection was late in the rains", None],
        "author": ["Ana", "Bekele", None, "Kofi Mensah"],
    })


def test_no_text_and_nothing_chosen_keeps_every_lesson():
    assert len(search_lessons(lessons())) == 4


def test_every_word_must_be_found_in_any_case_and_any_order():
    found = search_lessons(lessons(), "RAINS milk")
    assert found["lesson"].tolist() == ["Milk collection was late in the rains"]
    assert search_lessons(lessons(), "milk harvest").empty


def test_author_and_pilot_are_searched_and_blanks_do_not_match_none():
    assert search_lessons(lessons(), "mensah")["pilot_id"].tolist() == ["GHA-COCOA"]
    assert search_lessons(lessons(), "ken-dairy")["quarter"].tolist() == ["2018-Q1", "2018-Q3"]
    assert search_lessons(lessons(), "none").empty


def test_kinds_milestones_and_quarters_narrow_the_list():
    assert search_lessons(lessons(), kinds=["challenge"])["pilot_id"].tolist() == ["ETH-COFFEE", "KEN-DAIRY"]
    both = search_lessons(lessons(), kinds=["success"], milestones=["pilot"], quarters=["2018-Q3"])
    assert both["pilot_id"].tolist() == ["GHA-COCOA"]
    assert search_lessons(lessons(), "farmers", quarters=["2018-Q2"]).empty
