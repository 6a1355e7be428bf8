"""Parsers of cell values: what a director may type, and what is refused."""

import datetime as dt
import decimal
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkdash import catalogue, values

quarter_st = st.tuples(st.integers(1900, 2100), st.integers(1, 4))
anything = st.one_of(st.text(), st.floats(allow_nan=True), st.integers(), st.booleans(),
                     st.dates(), st.datetimes())


@given(quarter_st)
def test_every_accepted_quarter_spelling_gives_the_canonical_quarter(yq):
    y, q = yq
    canonical = f"{y}-Q{q}"
    for s in (canonical, f"{y}Q{q}", f"{y} Q{q}", f"Q{q} {y}", f"Q{q}-{y}", f"q{q}/{y}",
              f" {canonical.lower()} ", f"{y}-q{q}"):
        assert values.parse_quarter(s) == (canonical, None), s


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_a_date_gives_the_quarter_that_contains_it(d):
    q, err = values.parse_quarter(d)
    assert err is None
    assert values.parse_quarter(d.isoformat()) == (q, None)
    assert values.parse_quarter(dt.datetime.combine(d, dt.time(13, 5))) == (q, None)
    from linkdash import quarters
    assert quarters.start_date(q) <= d <= quarters.end_date(q)


@pytest.mark.parametrize("bad", ["2017-Q5", "Q0 2017", "2017", 2017.0, "spring 2017", "17-Q1", True])
def test_other_quarter_spellings_are_refused_with_the_accepted_form(bad):
    v, err = values.parse_quarter(bad)
    assert v is None and "2017-Q1" in err


@given(st.integers(-10**12, 10**12))
def test_formatted_whole_numbers_parse_back(n):
    for s in (str(n), f"{n:,}", f" {n:,} ", f"{n:,}".replace(",", " "),
              f"{n:,}".replace(",", "\u00a0"), f"{n:,}".replace(",", "\u2009"), f"{n}.0"):
        assert values.parse_number(s) == (float(n), None), s


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15))
def test_floats_and_their_text_parse_back(f):
    assert values.parse_number(f) == (f, None)
    assert values.parse_number(repr(f)) == (f, None)


@pytest.mark.parametrize("bad", ["1,23", "12abc", "1.234.567", "$12", "12%", "", "1,2345", "--1",
                                 "1 23", True, dt.date(2017, 1, 1)])
def test_ambiguous_or_non_numbers_are_refused(bad):
    v, err = values.parse_number(bad)
    assert v is None and err


def test_number_error_explains_the_decimal_comma():
    assert "decimal" in values.parse_number("1,23")[1]
    assert "1234567" in values.parse_number("1.234.567")[1]


@given(anything)
def test_parsers_never_raise_on_user_data(v):
    lookup = values.code_lookup(catalogue.MILESTONES, catalogue.MILESTONE_LABELS)
    for parse in (values.parse_number, values.parse_count, values.parse_quarter, values.parse_date,
                  values.parse_pilot_id, values.parse_text, values.parse_year,
                  values.parse_currency, values.parse_latitude, values.parse_longitude,
                  values.parse_country, lambda x: values.parse_code(x, lookup)):
        out = parse(v)
        assert isinstance(out, tuple) and len(out) == 2
        assert (out[0] is None) != (out[1] is None)


def test_counts_are_whole_and_not_negative_with_float_noise_tolerated():
    assert values.parse_count(12.0) == (12.0, None)
    assert values.parse_count(11.999999999) == (12.0, None)
    assert values.parse_count(" 1,234 ") == (1234.0, None)
    assert values.parse_count(12.5)[1].startswith("12.5 is not a whole number")
    assert "negative" in values.parse_count(-1)[1]
    assert values.parse_number(274.65999999999997) == (274.65999999999997, None)


def test_dates_accept_date_cells_and_iso_text_only():
    d = dt.date(2017, 3, 31)
    assert values.parse_date(d) == (d, None)
    assert values.parse_date(dt.datetime(2017, 3, 31, 10, 30)) == (d, None)
    assert values.parse_date("2017-03-31") == (d, None)
    assert values.parse_date(" 2017-03-31 14:00:00 ") == (d, None)
    assert values.parse_date("2017-03-31T14:00") == (d, None)
    for bad in ("31/03/2017", "03/31/2017", 42825.0, "2017-02-30", "March 2017"):
        assert values.parse_date(bad)[0] is None


def test_codes_match_case_spaces_and_labels():
    ms = values.code_lookup(catalogue.MILESTONES, catalogue.MILESTONE_LABELS)
    vc = values.code_lookup(catalogue.VALUE_CHAINS, catalogue.VALUE_CHAIN_LABELS)
    st_ = values.code_lookup(catalogue.STATUSES)
    assert values.parse_code("Value chain map", ms) == ("vc_map", None)
    assert values.parse_code(" VC_MAP ", ms) == ("vc_map", None)
    assert values.parse_code("Dairy cow", vc) == ("dairy_cow", None)
    assert values.parse_code("Dairy_Cow", vc) == ("dairy_cow", None)
    assert values.parse_code("Dairy cows", vc) == ("dairy_cow", None)
    assert values.parse_code("Completed", st_) == ("completed", None)
    assert values.parse_code("in progress", st_) == ("in_progress", None)
    v, err = values.parse_code("finished", st_)
    assert v is None and "completed" in err


@given(st.sampled_from(catalogue.VALUE_CHAINS), st.sampled_from([str.upper, str.lower, str.title]))
def test_every_code_matches_in_any_case(code, case):
    vc = values.code_lookup(catalogue.VALUE_CHAINS, catalogue.VALUE_CHAIN_LABELS)
    assert values.parse_code(case(code), vc) == (code, None)
    assert values.parse_code(case(catalogue.VALUE_CHAIN_LABELS[code]), vc) == (code, None)


def test_pilot_ids_are_trimmed_and_upper_case():
    assert values.parse_pilot_id(" ken-dairy ") == ("KEN-DAIRY", None)
    assert values.parse_pilot_id("phl-dairygoat") == ("PHL-DAIRYGOAT", None)
    assert values.parse_pilot_id("KEN DAIRY")[0] is None


@given(st.text())
def test_csv_safe_text_reimports_unchanged(s):
    # the one text that cannot round-trip: a ' already before = + - @, tab or CR (documented)
    if not (s[:1] == "'" and s[1:2] and s[1:].startswith(values.CSV_UNSAFE_START)):
        assert values.parse_text(values.csv_safe(s)) == (s, None)


def test_the_csv_export_writes_text_through_csv_safe_and_a_tab_or_cr_first_reimports():
    from linkdash import exports

    for text in ("=1+1", "+x", "-women first", "@sum", "\tindented", "\rx", "plain", "'quoted'"):
        assert exports.csv_cell(text) == values.csv_safe(text)
        assert values.parse_text(exports.csv_cell(text)) == (text, None)


def test_text_keeps_its_text_but_drops_the_csv_quote_before_formula_characters():
    assert values.parse_text("'=SUM(A1:A3)") == ("=SUM(A1:A3)", None)
    assert values.parse_text("'-women first") == ("-women first", None)
    assert values.parse_text("'quoted'") == ("'quoted'", None)
    assert values.parse_text("  spaced  ") == ("  spaced  ", None)
    assert values.parse_text(12.0) == ("12", None)


def test_blank_cells():
    assert values.is_blank(None) and values.is_blank("") and values.is_blank(" \u00a0\t")
    assert not values.is_blank(0.0) and not values.is_blank("0")


_NO_VALUE = [None, float("nan"), np.float64("nan"), np.float32("nan"), pd.NA, pd.NaT,
             np.datetime64("NaT"), decimal.Decimal("NaN")]
_VALUES = [0, 0.0, False, "0", "x", b"", dt.date(2017, 1, 1), pd.Timestamp("2017-01-01"), [None]]


@pytest.mark.parametrize("v", _NO_VALUE)
def test_a_missing_value_is_missing_and_blank(v):
    assert values.is_missing(v) and values.is_blank(v)


@pytest.mark.parametrize("v", _VALUES)
def test_numbers_dates_and_text_are_values(v):
    assert not values.is_missing(v) and not values.is_blank(v)


@pytest.mark.parametrize("v", ["", " ", "\u00a0\t\n", "\u2009"])
def test_empty_text_is_blank_but_not_missing(v):
    """The one difference: text of spaces is not reported (a cell, a fact), yet it is a
    value for the store (``store.rows`` keeps what it is given)."""
    assert values.is_blank(v) and not values.is_missing(v)


def test_the_store_the_story_and_the_pilot_page_ask_values_if_there_is_a_value():
    from linkdash import story
    from linkdash.store import rows
    from linkdash.ui import widgets

    assert rows._coerce("text", "") == "" and rows._coerce("text", pd.NA) is None
    assert rows._coerce("date", pd.NaT) is None and rows._coerce("float", np.nan) is None
    assert widgets.is_blank is values.is_blank and story.is_blank is values.is_blank


def test_years_currencies_and_coordinates():
    assert values.parse_year(2017.0) == (2017, None)
    assert values.parse_year("1850")[0] is None
    assert values.parse_currency(" kes ") == ("KES", None)
    assert values.parse_currency("KSH")[0] is None
    assert values.parse_latitude(-91)[0] is None
    assert values.parse_longitude("36.95") == (36.95, None)


@pytest.mark.parametrize("text", ["\u22123.37", " \u2013 3.37".replace(" ", "", 1).replace(" ", ""),
                                  "\uff0d3.37"])
def test_a_minus_sign_pasted_from_the_web_is_a_minus(text):
    """Coordinates copied from a web page often carry U+2212 instead of '-'."""
    from linkdash.values import parse_number

    assert parse_number(text) == (-3.37, None)


SAME_PAIRS = [(0.1 + 0.2, 0.3), (1e-13, 0.0), (1e-11, 0.0), (1e6, 1e6 * (1 + 1e-13)), (1e6, 1e6 + 1e-3),
              (274.65999999999997, 274.66), (-5.0, -5.0), (5.0, -5.0), (math.inf, math.inf),
              (math.inf, -math.inf), (math.inf, 1e308), (math.nan, math.nan), (math.nan, 1.0)]


def test_the_same_number_is_math_isclose_within_1e_12_one_by_one_and_on_arrays():
    expected = [True, True, False, True, False, True, True, False, True, False, False, False, False]
    assert [values.same_number(a, b) for a, b in SAME_PAIRS] == expected
    a, b = (np.array(x) for x in zip(*SAME_PAIRS))
    assert values.same_numbers(a, b).tolist() == expected
    assert values.same_numbers(b, a).tolist() == expected
    assert values.same_numbers(np.array([1e-13, 2.0]), 0.0).tolist() == [True, False]


@given(st.floats(), st.floats())
def test_same_numbers_on_arrays_is_same_number_of_each_pair(a, b):
    assert values.same_numbers(np.array([a]), np.array([b])).tolist() == [values.same_number(a, b)]
    assert values.same_number(a, b) == math.isclose(a, b, rel_tol=values.SAME_TOLERANCE,
                                                    abs_tol=values.SAME_TOLERANCE)


def test_quarters_dates_and_times_as_users_read_them():
    from linkdash import quarters

    assert quarters.quarter_text("2017-Q3") == "Q3 2017"
    assert quarters.quarter_text(None) == quarters.quarter_text("") == "no quarter reported"
    assert quarters.date_text(dt.date(2018, 12, 31)) == "31 Dec 2018"
    assert quarters.date_text(dt.date(2019, 3, 1)) == "1 Mar 2019"  # (no leading zero)
    assert quarters.date_text(None) == "no date" and quarters.date_text(None, "no data") == "no data"
    assert quarters.time_text(dt.datetime(2019, 4, 2, 10, 11, 59)) == "2019-04-02 10:11"
    assert quarters.time_text(pd.Timestamp("2019-04-02 09:05:00", tz="UTC")) == "2019-04-02 09:05"
