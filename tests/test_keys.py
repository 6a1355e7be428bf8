"""The integer-key helpers behind the preview and the outlier rule agree with plain
dictionary lookups, in the dense and in the hashed key spaces."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from linkdash import keys

small = st.lists(st.integers(-1, 30), max_size=60)


def _reference_last(skey: list[int], key: list[int]) -> list[int]:
    last = {k: i for i, k in enumerate(skey) if k >= 0}
    return [last.get(k, -1) for k in key]


@settings(max_examples=200, deadline=None)
@given(small, st.lists(st.integers(0, 30), max_size=60), st.booleans())
def test_last_position_is_the_last_stored_row_with_that_key(skey, key, hashed):
    s = np.array(skey, dtype=np.int64)
    k = np.array(key, dtype=np.int64)
    size = 31 if not hashed else keys.DENSE_KEYS + 1  # the second takes the hashing path
    assert keys.last_position(s, k, size).tolist() == _reference_last(skey, key)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 20), max_size=50), st.booleans())
def test_repeated_finds_a_key_given_twice(key, hashed):
    size = 21 if not hashed else keys.DENSE_KEYS + 1
    assert keys.repeated(np.array(key, dtype=np.int64), size) == (len(set(key)) < len(key))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["KEN", "VNM", "UGA", None]), max_size=40))
def test_codes_in_and_run_factorize_match_pandas(values):
    arr = np.array(values + ["x"], dtype=object)[:-1]
    uniques = np.array(["UGA", "KEN", "NPL"], dtype=object)
    expected = pd.Index(uniques).get_indexer(pd.Index(arr, dtype=object))
    assert keys.codes_in(arr, uniques).tolist() == expected.tolist()
    codes, uniq = keys.run_factorize(arr)
    ref_codes, ref_uniq = pd.factorize(arr)
    assert codes.tolist() == ref_codes.tolist() and list(uniq) == list(ref_uniq)


def test_mixed_radix_gives_one_key_per_combination_and_marks_missing_parts():
    a = np.array([0, 1, 1, -1])
    b = np.array([2, 0, 2, 1])
    key, missing = keys.mixed_radix([a, b], [2, 3])
    assert key[:3].tolist() == [2, 3, 5] and missing.tolist() == [False, False, False, True]


def test_a_portfolio_derived_from_another_computes_its_own_codes():
    """``indicator_codes`` is memoised per portfolio: a portfolio cut to earlier quarters
    (the story's ``upto_quarter``) or filtered must not reuse the whole one's codes."""
    from dataclasses import replace

    from linkdash.portfolio import Filter, Portfolio
    from linkdash.story import upto_quarter

    ind = pd.DataFrame({"pilot_id": ["KEN-DAIRY", "KEN-DAIRY", "UGA-DAIRY"],
                        "quarter": ["2017-Q1", "2017-Q2", "2017-Q2"],
                        "indicator": ["sales_usd"] * 3, "value": [1.0, 2.0, 3.0], "text": [None] * 3})
    pil = pd.DataFrame({"pilot_id": ["KEN-DAIRY", "UGA-DAIRY"], "country": ["KEN", "UGA"],
                        "region": ["Africa"] * 2, "value_chain": ["dairy_cow"] * 2})
    whole = Portfolio(pilots=pil, indicators=ind, data_version=7)
    assert len(whole.indicator_codes().pid) == 3
    assert upto_quarter(whole, "2017-Q1").indicator_codes().value.tolist() == [1.0]
    assert upto_quarter(whole, "2017-Q1").data_version is None
    assert replace(whole, indicators=ind.iloc[2:]).indicator_codes().value.tolist() == [3.0]
    part = whole.filtered(Filter(pilots=("UGA-DAIRY",)))
    assert part.indicator_codes().value.tolist() == [3.0] and part.data_version is None
