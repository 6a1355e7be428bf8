import pandas as pd

from linkdash.access import scope_for

PILOTS = pd.DataFrame({"pilot_id": ["KEN-DAIRY", "UGA-DAIRY", "NPL-GOAT"],
                       "region": ["Africa", "Africa", "Asia"]})


def write(tmp_path, text):
    p = tmp_path / "access.csv"
    p.write_text(text, encoding="utf-8")
    return p


def test_without_an_access_file_everyone_may_change_every_pilot(tmp_path, monkeypatch):
    monkeypatch.setenv("LINKDASH_ACCESS_FILE", str(tmp_path / "missing.csv"))
    assert scope_for("anyone@example.org", PILOTS) is None


def test_a_region_expands_to_its_pilots_and_ids_match_without_case(tmp_path):
    p = write(tmp_path, "email,scope\nAfrica.Director@example.org,africa\nteam@example.org,\"npl-goat, KEN-DAIRY\"\n")
    assert scope_for("africa.director@example.org", PILOTS, p) == {"KEN-DAIRY", "UGA-DAIRY"}
    assert scope_for("team@example.org", PILOTS, p) == {"NPL-GOAT", "KEN-DAIRY"}


def test_star_is_every_pilot_and_a_stranger_gets_nothing(tmp_path):
    p = write(tmp_path, "email,scope\nadmin@example.org,*\n")
    assert scope_for("admin@example.org", PILOTS, p) is None
    assert scope_for("stranger@example.org", PILOTS, p) == set()
    assert scope_for(None, PILOTS, p) == set()
