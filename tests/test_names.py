"""A pilot's display name has one home (``names.pilot_names``) for every layer."""

from __future__ import annotations

import pandas as pd

from linkdash import charts, demo, names, reporting, story
from linkdash.demo import portfolio_from_tables


def test_a_blank_name_shows_the_id_and_a_missing_frame_names_nobody():
    pilots = pd.DataFrame({"pilot_id": ["KEN-DAIRY", "UGA-COFFEE", "NEP-GOAT", "ETH-HONEY"],
                           "pilot_name": ["Kenya dairy", "  ", None, float("nan")]})
    assert names.pilot_names(pilots) == {"KEN-DAIRY": "Kenya dairy", "UGA-COFFEE": "UGA-COFFEE",
                                         "NEP-GOAT": "NEP-GOAT", "ETH-HONEY": "ETH-HONEY"}
    assert names.pilot_names(None) == {} and names.pilot_names(pilots.iloc[0:0]) == {}
    assert names.pilot_names(pilots[["pilot_id"]]) == {p: p for p in pilots["pilot_id"]}


def test_the_charts_the_story_and_the_upload_words_use_the_one_home():
    assert reporting.pilot_names is names.pilot_names and story.pilot_names is names.pilot_names
    assert charts.pilot_names is names.pilot_names
    assert not hasattr(charts, "_pilot_names")
    p = portfolio_from_tables(demo.demo_tables())
    shown = names.pilot_names(p.pilots)
    assert len(shown) == 13 and shown["KEN-DAIRY"] != "KEN-DAIRY"
    # the overdue list names pilots by the same names
    assert set(charts.overdue_table(p)["Pilot"]) <= set(shown.values())
