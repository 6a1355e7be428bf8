"""Countries: spellings -> alpha-3, names, regions, currencies, boundaries."""

import pytest

from linkdash import catalogue, countries


@pytest.mark.parametrize("text,code", [
    ("Vietnam", "VNM"), ("Viet Nam", "VNM"), ("Philippines", "PHL"), ("The Philippines", "PHL"),
    ("People's Republic of China", "CHN"), ("China", "CHN"), ("Tanzania", "TZA"),
    ("United Republic of Tanzania", "TZA"), ("Laos", "LAO"), ("Bolivia", "BOL"),
    ("ke", "KEN"), ("KEN", "KEN"), (" kenya ", "KEN"), ("Côte d'Ivoire", "CIV"),
    ("Ivory Coast", "CIV"), ("DR Congo", "COD"), ("Nepal", "NPL"), ("Mexico", "MEX"),
])
def test_common_spellings_and_codes(text, code):
    assert countries.to_alpha3(text) == code


@pytest.mark.parametrize("text", ["", "Atlantis", "XX", "Kenya dairy"])
def test_unknown_countries_give_none(text):
    assert countries.to_alpha3(text) is None


def test_short_common_names():
    assert countries.name("VNM") == "Vietnam"
    assert countries.name("CHN") == "China"
    assert countries.name("TZA") == "Tanzania"
    assert countries.name("BOL") == "Bolivia"
    assert countries.name("KEN") == "Kenya"


@pytest.mark.parametrize("code,region", [
    ("KEN", "Africa"), ("SEN", "Africa"), ("VNM", "Asia"), ("CHN", "Asia"), ("NPL", "Asia"),
    ("BOL", "Latin America"), ("MEX", "Latin America"), ("GTM", "Latin America"),
    ("CUB", "Latin America"), ("SGP", "Asia"), ("MUS", "Africa"), ("USA", None), ("FRA", None),
])
def test_regions(code, region):
    assert countries.region(code) == region


def test_every_reference_pilot_has_a_region_currency_and_its_site_in_the_country():
    for p in catalogue.reference_pilots():
        assert countries.region(p["country"]) == p["region"]
        assert countries.currency(p["country"]) == p["currency"]
        assert countries.point_in_country(p["country"], float(p["latitude"]), float(p["longitude"]))


def test_points_far_outside_are_not_in_the_country():
    assert countries.point_in_country("KEN", 48.85, 2.35) is False  # Paris
    assert countries.point_in_country("KEN", 0.42, -36.95) is False  # signs swapped


def test_tolerance_near_the_boundary():
    # off the Kenyan coast at 3 degrees south: 0.42 degrees from the 1:110m coastline
    assert countries.point_in_country("KEN", -3.0, 40.6) is True
    assert countries.point_in_country("KEN", -3.0, 40.6, tolerance_deg=0.1) is False
    assert countries.point_in_country("KEN", -3.0, 41.5) is False


def test_countries_without_a_shipped_boundary_give_none():
    assert countries.point_in_country("SGP", 1.3, 103.8) is None
