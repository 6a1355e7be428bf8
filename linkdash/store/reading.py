"""Reading the current values as a Portfolio's frames (``Store.load``), and the data
version."""

from __future__ import annotations

import math
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from linkdash.keys import run_factorize
from linkdash.portfolio import FRAME_COLUMNS, empty_frame
from linkdash.store.schema import meta_table


def _data_version(conn: Connection) -> int:
    return int(conn.execute(sa.select(meta_table.c.value)
                            .where(meta_table.c.key == "data_version")).scalar_one())


_LOAD_BATCH = 50_000  # indicator rows fetched at once by ``Store.load``


def _indicator_frame(conn: Connection, query, names: list[str], cols: dict[str, str]) -> pd.DataFrame:
    """The current indicator values (``query``'s rows) as the Portfolio's frame, read in
    batches from the driver's cursor (inside ``conn``'s transaction). Text columns are
    kept as codes while reading; at the end each distinct text becomes one new string
    object that every row of it points to, so no string of the driver's batches stays
    alive (they would keep the interpreter's memory pools from being freed)."""
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    floats = [cols[c] == "float" for c in names]
    codes_of: list[dict] = [{None: 0} for _ in names]  # text -> code; 0 is None
    parts: list[list[np.ndarray]] = [[] for _ in names]
    driver = conn.connection.driver_connection
    assert driver is not None  # an open connection
    # PostgreSQL: a server-side cursor, so the client holds one batch, not the whole result
    cur = driver.cursor(name="linkdash_load") if conn.dialect.name == "postgresql" else driver.cursor()
    try:
        cur.execute(sql)
        while True:
            rows = cur.fetchmany(_LOAD_BATCH)
            if not rows:
                break
            for j in range(len(names)):
                col = list(map(itemgetter(j), rows))
                if floats[j]:
                    parts[j].append(np.array(col, dtype="float64"))  # None -> NaN
                    continue
                arr = np.empty(len(col), dtype=object)
                arr[:] = col
                codes, uniques = run_factorize(arr)  # None -> -1
                index = codes_of[j]
                lut = np.array([index.setdefault(u, len(index)) for u in uniques.tolist()] + [0],
                               dtype=np.int32)
                parts[j].append(lut[codes])
            del rows, col, arr
    finally:
        cur.close()
    if not parts[0]:
        return _frame("indicators", names, cols, [])
    data = {}
    for j, c in enumerate(names):
        if floats[j]:
            data[c] = pd.Series(np.concatenate(parts[j]), dtype="float64", copy=False)
            continue
        # fresh copies; the driver's strings go with the dict
        texts = [None if v is None
                 else str(v).encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")
                 for v in codes_of[j]]
        codes_of[j] = {}
        uniques = np.array(texts + [None], dtype=object)[:-1]
        data[c] = pd.Series(uniques[np.concatenate(parts[j])], dtype=object, copy=False)
        parts[j] = []
    df = pd.DataFrame(data)
    for c in FRAME_COLUMNS["indicators"]:
        if c not in df.columns:
            df[c] = pd.Series([None] * len(df), dtype=object)
    return df[FRAME_COLUMNS["indicators"]]


def _frame(frame_name: str, names: list[str], cols: dict[str, str], rows) -> pd.DataFrame:
    if not rows:
        df = empty_frame(frame_name)
        for c in names:
            if cols[c] == "float":
                df[c] = df[c].astype("float64")
        return df
    data = {}
    for i, c in enumerate(names):
        values = [r[i] for r in rows]
        kind = cols[c]
        if kind == "float":
            data[c] = pd.Series([math.nan if v is None else float(v) for v in values], dtype="float64")
        elif kind == "int":
            data[c] = pd.Series(values, dtype="int64" if None not in values else "Int64")
        else:
            data[c] = pd.Series(values, dtype=object)
    df = pd.DataFrame(data)
    for c in FRAME_COLUMNS[frame_name]:
        if c not in df.columns:
            df[c] = pd.Series([None] * len(df), dtype=object)
    return df[FRAME_COLUMNS[frame_name]]


def _country_name(code: Any) -> str | None:
    if code is None:
        return None
    try:
        from linkdash import countries  # written by another helper; optional here

        name = getattr(countries, "name", None)
        if name is not None:
            return name(code)
    except ImportError:
        pass
    import pycountry

    c = pycountry.countries.get(alpha_3=str(code))
    return getattr(c, "common_name", None) or getattr(c, "name", None) or str(code)
