"""Integer keys for matching rows of a file with stored rows without hashing strings
row by row: codes of each key column, one int64 key per row (mixed radix), and lookups
of those keys through a dense array when the key space is small enough, else hashing.
Used by the store's preview and the importer's rules."""

from __future__ import annotations

import numpy as np
import pandas as pd


def run_factorize(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(x)`` (same codes, same uniques), through runs of equal neighbours:
    stored values come grouped by pilot and quarter, so only the first value of each
    run is hashed (string hashing is what costs)."""
    if len(x) < 2:
        return pd.factorize(x)
    try:
        starts = np.empty(len(x), dtype=bool)
        starts[0] = True
        np.not_equal(x[1:], x[:-1], out=starts[1:])
    except (TypeError, ValueError):  # a value without a plain truth for "!=" (pd.NA)
        return pd.factorize(x)
    heads = np.flatnonzero(starts)
    if len(heads) * 4 > len(x):  # hardly any runs: hash them all
        return pd.factorize(x)
    codes, uniques = pd.factorize(x[heads])
    return np.repeat(codes, np.diff(np.append(heads, len(x)))), uniques


def mixed_radix(codes: list[np.ndarray], sizes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """One int64 key per row from per-column codes (``-1`` = no code), and where any
    column had none."""
    key = np.zeros(len(codes[0]) if codes else 0, dtype=np.int64)
    missing = np.zeros(len(key), dtype=bool)
    for c, size in zip(codes, sizes):
        key *= max(size, 1)
        key += c
        missing |= c < 0
    return key, missing


# Key spaces up to this size are looked up in dense arrays (at most 128 MB of int64);
# larger ones (thousands of pilots x decades x every indicator) by hashing.
DENSE_KEYS = 1 << 24


def repeated(key: np.ndarray, size: int) -> bool:
    """Whether a key (0 <= key < size) occurs twice."""
    if not len(key):
        return False
    if size <= DENSE_KEYS:
        return bool(np.bincount(key, minlength=1).max() > 1)
    return bool(pd.Series(key, copy=False).duplicated().any())


class KeyIndex:
    """Where each key sits in an array of keys (``skey``; -1 matches nothing), for many
    lookups: a key found twice (never written so) is at its last row, as
    ``Store.commit`` reads it."""

    def __init__(self, skey: np.ndarray, size: int):
        valid = np.flatnonzero(skey >= 0)
        self._table: np.ndarray | None = None
        self._index: pd.Index | None = None
        self._n = len(skey)
        if size <= DENSE_KEYS and not repeated(skey[valid], size):
            self._table = np.full(size, -1, dtype=np.int64)
            self._table[skey[valid]] = valid
            return
        rev = skey[::-1]
        self._last = np.flatnonzero(~pd.Series(rev, copy=False).duplicated().to_numpy() & (rev >= 0))
        self._index = pd.Index(rev[self._last])

    def positions(self, key: np.ndarray) -> np.ndarray:
        """For each of ``key`` (0 <= key < size), its row in ``skey``, -1 for none."""
        if self._table is not None:
            return self._table[key]
        if not len(self._last):
            return np.full(len(key), -1, dtype=np.int64)
        assert self._index is not None  # set whenever the table is not
        hit = self._index.get_indexer(key)
        return np.where(hit >= 0, self._n - 1 - self._last[np.maximum(hit, 0)], -1)


def last_position(skey: np.ndarray, key: np.ndarray, size: int) -> np.ndarray:
    """For each of ``key``, the position in ``skey`` of the last row with that key
    (-1: none; ``skey`` -1 matches nothing)."""
    return KeyIndex(skey, size).positions(key)


def codes_in(values: np.ndarray, uniques: np.ndarray) -> np.ndarray:
    """The position of each value in ``uniques`` (-1: absent), looked up once per run of
    equal neighbours (the store's rows come sorted by pilot and quarter)."""
    n = len(values)
    if not n:
        return np.empty(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    codes = pd.Index(uniques, dtype=object).get_indexer(pd.Index(values[starts], dtype=object))
    if len(starts) == n:
        return codes
    return np.repeat(codes, np.diff(np.append(starts, n)))
