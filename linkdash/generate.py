"""Generated portfolios of any size, for benchmarks and tests: N pilots x Q quarters.

``generate_tables(pilots, quarters, seed)`` builds every sheet of the workbook in the
``CheckedWorkbook.tables`` format (as ``demo.demo_tables``): canonical columns, dates
as ``datetime.date``, quarters ``2017-Q1``, numbers float, blanks None, Indicators long.
The same arguments give the same tables. The numbers follow the rules of the workbook
contract (parts never above their totals, scores 1 to 5, sites inside their country,
nothing after the last quarter), so a workbook written from them imports without an
error; they are plausible, not real.

- ``write_workbook(tables, out)`` writes them as an .xlsx (openpyxl in write-only mode,
  so a million values take tens of seconds and little memory), one sheet each, column
  codes as headers, Indicators wide (one row per pilot and quarter).
- ``load_store(store, tables)`` puts them straight into an EMPTY store as one submission,
  bypassing the check and the row-by-row commit (bulk inserts; COPY on PostgreSQL), with
  the data version bumped as a commit does: fast set-up for benchmarks and tests. The
  stored values are the same as importing the workbook gives (tests/test_generate.py).

What grows with what: pilots N, quarters Q; Indicators hold about 27 values per pilot and
quarter (about 2% of pilot-quarters are not reported), Progress 9 rows per pilot, Targets
3 and Lessons 2 per pilot; countries about 2 sqrt(N) (at most the ones we know), Rates one
per currency and quarter, Benchmarks one per country and year.

    python -m linkdash generate --pilots 1000 --quarters 40 out.xlsx   # a workbook
    python -m linkdash generate --pilots 1000 --quarters 40 --load     # into the store
"""

from __future__ import annotations

import datetime as dt
import io
import math
from functools import cache
from typing import IO

import numpy as np
import pandas as pd

from linkdash import catalogue, quarters

SEED = 13
LAST_QUARTER = "2025-Q4"  # in the past, so the data never reports the future
SOURCE = "generated test data"
FILENAME_FORMAT = "generated {pilots} pilots x {quarters} quarters (seed {seed})"

# short chain codes for pilot ids (letters only: ids are ISO3-CHAIN plus a number)
CHAIN_CODES = {
    "dairy_cow": "DAIRY", "dairy_goat": "DGOAT", "goat_meat": "GOAT", "sheep": "SHEEP",
    "chicken_meat": "BROIL", "chicken_eggs": "EGGS", "indigenous_rice": "RICE", "swine": "PIG",
}
# volume unit, volume sold per household per quarter at full scale, USD per unit
CHAINS = {
    "dairy_cow": ("litres", 420.0, 0.38), "dairy_goat": ("litres", 70.0, 1.25),
    "goat_meat": ("head", 0.8, 68.0), "sheep": ("head", 0.45, 115.0),
    "chicken_meat": ("kg", 35.0, 2.9), "chicken_eggs": ("eggs", 1400.0, 0.16),
    "indigenous_rice": ("kg", 600.0, 0.45), "swine": ("head", 1.1, 150.0),
}
# the learning cycle on a pilot's timeline: planned start and end as fractions of it
PLAN = {
    "training_workshop": (0.0, 0.004), "vc_map": (0.01, 0.07), "business_model_canvas": (0.07, 0.14),
    "nbmp_assessment": (0.14, 0.2), "prototype_cycle": (0.2, 0.5), "backstopping": (0.01, 0.75),
    "peer_review": (0.5, 0.62), "documentation": (0.62, 0.84), "learning_event": (0.9, 0.902),
}
LESSONS = [
    ("insight", "vc_map", "Mapping the chain with {org} showed where most of the produce leaves "
                          "the villages and who buys it."),
    ("adaptation", "prototype_cycle", "A shared collection round run by {org} cut losses and members "
                                      "sold more through the group in {site}."),
    ("recommendation", "documentation", "Agree quality-based prices with buyers before {org} scales up."),
    ("challenge", "backstopping", "Records in {site} were kept on paper and often late; a weekly "
                                  "shared sheet fixed most of it."),
    ("insight", "nbmp_assessment", "Scoring the principles with buyers present made the assessment "
                                   "of {org} more honest."),
    ("adaptation", None, "Women members of {org} asked for meetings after market hours; attendance "
                         "rose after the change."),
]
AUTHORS = ("Pilot facilitator", "Country coordinator", "Business coach", "Producer organisation board")


# --- countries ------------------------------------------------------------------------

@cache
def _eligible_countries() -> tuple[tuple[str, str, str], ...]:
    """(alpha-3, region, currency) of every country of the three regions whose boundary
    and currency we ship, sorted by code."""
    from linkdash import countries

    out = []
    for code, row in sorted(countries._currency_rows().items()):
        region = countries.region(code)
        if region in catalogue.REGIONS and countries._shape(code) is not None and countries.name(code):
            out.append((code, region, row["currency"]))
    return tuple(out)


def _points_inside(alpha3: str, n: int, rng: np.random.Generator) -> list[tuple[float, float]]:
    """``n`` (lat, lon) points inside the country's shipped boundary, rounded to 4 decimals."""
    from linkdash import countries

    polygons, _ = countries._shape(alpha3)
    outer = max((rings[0] for rings in polygons), key=len)
    (x0, y0), (x1, y1) = outer.min(axis=0), outer.max(axis=0)
    pts: list[tuple[float, float]] = []
    for _ in range(200 * n):
        if len(pts) == n:
            break
        lon, lat = round(float(rng.uniform(x0, x1)), 4), round(float(rng.uniform(y0, y1)), 4)
        if countries.point_in_country(alpha3, lat, lon, tolerance_deg=0.0):
            pts.append((lat, lon))
    while len(pts) < n:  # a sliver of a country: its first boundary point is on it
        pts.append((round(float(outer[0, 1]), 4), round(float(outer[0, 0]), 4)))
    return pts


def _smooth(x: np.ndarray) -> np.ndarray:
    """A gentle ramp from 0 to 1 (near linear: a steep rise after flat quarters would
    be an outlier by the importer's rule)."""
    return 0.7 * x + 0.3 * x * x * (3 - 2 * x)


# --- the tables -----------------------------------------------------------------------

def quarter_span(n_quarters: int, last_quarter: str = LAST_QUARTER) -> list[str]:
    return quarters.span(quarters.shift(last_quarter, -(n_quarters - 1)), last_quarter)


def generate_tables(pilots: int = 1000, n_quarters: int = 40, *, seed: int = SEED,
                    last_quarter: str = LAST_QUARTER) -> dict[str, pd.DataFrame]:
    """Every sheet for ``pilots`` pilots reporting over ``n_quarters`` quarters up to
    ``last_quarter``, deterministic for a seed (see the module docstring)."""
    if pilots < 1 or n_quarters < 1:
        raise ValueError("pilots and quarters must be at least 1")
    rng = np.random.default_rng(seed)
    qs = quarter_span(n_quarters, last_quarter)
    first_day, last_day = quarters.start_date(qs[0]), quarters.end_date(qs[-1])
    P, Q = pilots, n_quarters

    # pilots: countries about 2 sqrt(N), value chains at random
    eligible = _eligible_countries()
    n_countries = max(1, min(len(eligible), P, round(2 * math.sqrt(P))))
    chosen = [eligible[int(i)] for i in sorted(rng.choice(len(eligible), n_countries, replace=False))]
    country_of = rng.integers(0, n_countries, P)
    country_of[:n_countries] = np.arange(n_countries)  # every chosen country has a pilot
    chains = list(CHAIN_CODES)
    chain_of = rng.integers(0, len(chains), P)
    li_country = rng.uniform(1500, 6000, n_countries)  # living income in the first year
    inside = {c: _points_inside(chosen[c][0], int(np.sum(country_of == c)), rng)
              for c in range(n_countries)}
    from linkdash import countries as _countries

    counter: dict[tuple[int, int], int] = {}
    used = [0] * n_countries  # points of each country handed out
    pilot_rows = []
    for i in range(P):
        c, ch = int(country_of[i]), chains[int(chain_of[i])]
        code, region, currency = chosen[c]
        k = counter[(c, chain_of[i])] = counter.get((c, chain_of[i]), 0) + 1
        lat, lon = inside[c][used[c]]
        used[c] += 1
        name = _countries.name(code)
        site = f"{name} site {k}"
        pilot_rows.append(dict(
            pilot_id=f"{code}-{CHAIN_CODES[ch]}{k:02d}",
            pilot_name=f"{name} {catalogue.VALUE_CHAIN_LABELS[ch].lower()} {k}",
            country=code, value_chain=ch, region=region,
            cycle="Latin America" if region == "Latin America" else catalogue.DEFAULT_CYCLE,
            producer_org=f"{site} {catalogue.VALUE_CHAIN_LABELS[ch].lower()} cooperative",
            site=site, latitude=lat, longitude=lon,
            start_date=first_day + dt.timedelta(days=int(rng.integers(0, 20))),
            end_date=last_day + dt.timedelta(days=int(rng.integers(0, 400))),
            target_households=float(rng.integers(200, 3000)), currency=currency,
        ))
    ids = np.array([r["pilot_id"] for r in pilot_rows], dtype=object)
    li = li_country[country_of]

    # indicators: P x Q arrays
    t = np.linspace(0.0, 1.0, Q) if Q > 1 else np.zeros(1)
    year = np.array([quarters.split(q)[0] for q in qs])
    growth = 1.03 ** (year - year[0])
    noise = lambda: rng.normal(0.0, 0.25, (P, Q))  # noqa: E731  (small: few outlier warnings)
    target = np.array([r["target_households"] for r in pilot_rows])
    ramp_end = rng.uniform(0.85, 1.05, P)
    hh = target[:, None] * (0.35 + (ramp_end[:, None] - 0.35) * _smooth(t)[None, :]) * (1 + 0.02 * noise())
    hh = np.maximum.accumulate(np.round(hh), axis=1)
    women = np.clip(rng.uniform(0.2, 0.6, P)[:, None] + 0.06 * t + 0.02 * noise(), 0.05, 0.9)
    youth = np.clip(rng.uniform(0.15, 0.33, P)[:, None] + 0.03 * t + 0.015 * noise(), 0.05, 0.9)
    participants = np.round(hh * (0.45 + 0.03 * noise()))
    members = np.round(hh * (0.78 + 0.2 * t))
    leaders = np.repeat(rng.integers(9, 16, P)[:, None], Q, axis=1).astype(float)
    start, end = rng.uniform(0.3, 0.5, P), rng.uniform(0.6, 0.95, P)
    ratio = np.maximum(0.1, start[:, None] + (end - start)[:, None] * _smooth(t) + 0.015 * noise())
    living = li[:, None] * growth[None, :]
    income = np.round(ratio * living)
    share_hh = np.clip(0.15 + 0.9 * (ratio - 0.3) + 0.02 * noise(), 0.05, 0.75)
    hh_surveyed = np.minimum(hh, np.round(60 + 0.06 * hh + 5 * noise()))
    unit = np.array([CHAINS[chains[int(c)]][0] for c in chain_of], dtype=object)
    per_hh = np.array([CHAINS[chains[int(c)]][1] for c in chain_of])
    price = np.array([CHAINS[chains[int(c)]][2] for c in chain_of]) * rng.uniform(0.8, 1.25, P)
    volume = np.round(hh * per_hh[:, None] * (0.45 + 0.55 * _smooth(t)) * (1 + 0.05 * noise()))
    buyers = rng.integers(0, 3, P)[:, None] + np.floor(t * 4.5)
    # tested in the prototype cycle only (not reported before or after it)
    proto = np.where(((t >= 0.2) & (t <= 0.5))[None, :], 1.0 + (np.abs(noise()) > 0.3), np.nan)
    nbmp0 = rng.integers(1, 4, (P, len(catalogue.NBMP)))
    steps = np.floor(t * 3).astype(int)  # a step up at a third and two thirds of the way
    values: dict[str, np.ndarray] = {
        "households_reached": hh,
        "participants_total": participants,
        "participants_women": np.round(participants * women),
        "participants_youth": np.round(participants * youth),
        "members_total": members,
        "members_women": np.round(members * np.clip(women - 0.04, 0.0, 1.0)),
        "members_youth": np.round(members * youth * 0.8),
        "leaders_total": leaders,
        "leaders_women": np.clip(np.round(leaders * (women - 0.12)), 1, leaders),
        "income_avg_usd": income,
        "income_avg_usd_women_headed": np.round(income * (0.82 + 0.02 * noise())),
        "income_avg_usd_men_headed": np.round(income * (1.06 + 0.01 * noise())),
        "hh_surveyed": hh_surveyed,
        "hh_above_living_income": np.round(hh_surveyed * share_hh),
        "sales_usd": np.round(volume * price[:, None]),
        "volume_sold": volume,
        "buyers_with_agreements": np.broadcast_to(buyers, (P, Q)).astype(float),
        "prototypes_tested": np.broadcast_to(proto, (P, Q)).astype(float),
    }
    for j, code in enumerate(catalogue.NBMP):
        values[code] = np.minimum(5, nbmp0[:, j][:, None] + steps[None, :]).astype(float)
    reported = rng.uniform(size=(P, Q)) >= 0.02
    reported[:, 0] = True  # every pilot reports in its first quarter (its start)
    codes = catalogue.numeric_indicators()
    pi, qi = np.nonzero(reported)  # (pilot, quarter) pairs in order
    n_rows = len(pi)
    cube = np.column_stack([values[c][pi, qi] for c in codes])  # n_rows x numeric codes
    all_codes = list(catalogue.indicators())
    unit_at = all_codes.index("volume_unit")
    n_ind = len(all_codes)
    value = np.full((n_rows, n_ind), np.nan)
    value[:, [all_codes.index(c) for c in codes]] = cube
    text = np.full((n_rows, n_ind), None, dtype=object)
    text[:, unit_at] = unit[pi]
    ind = pd.DataFrame({
        "pilot_id": np.repeat(ids[pi], n_ind),
        "quarter": np.repeat(np.array(qs, dtype=object)[qi], n_ind),
        "indicator": np.tile(np.array(all_codes, dtype=object), n_rows),
        "value": value.reshape(-1),
        "text": text.reshape(-1),
    })
    given = ~np.isnan(value.reshape(-1)) | (np.arange(len(ind)) % n_ind == unit_at)
    ind = ind[given].reset_index(drop=True).astype(
        {"pilot_id": object, "quarter": object, "indicator": object, "text": object})

    # progress: the learning cycle along each pilot's timeline
    span_days = (last_day - first_day).days
    late = rng.integers(0, 60, P)
    stuck = rng.uniform(size=P) < 0.1  # the documentation still under way at the end
    dropped = rng.uniform(size=P) < 0.03  # the peer review dropped
    ms_rows = []
    for i, r in enumerate(pilot_rows):
        s0 = r["start_date"]
        assert isinstance(s0, dt.date)
        for m in catalogue.MILESTONES:
            a, b = PLAN[m]
            ps = s0 + dt.timedelta(days=int(a * span_days))
            pe = s0 + dt.timedelta(days=max(int(b * span_days), int(a * span_days) + 4))
            a_s: dt.date | None
            a_e: dt.date | None
            if m in ("training_workshop", "learning_event"):
                a_s, a_e = ps, pe
            else:
                a_s = ps + dt.timedelta(days=int(rng.integers(0, 15)))
                a_e = max(pe + dt.timedelta(days=int(rng.integers(-5, 10)) + int(late[i])),
                          a_s + dt.timedelta(days=14))
            status: str | None = None
            if m == "documentation" and stuck[i]:
                a_e = None
            if m == "peer_review" and dropped[i]:
                a_s = a_e = None
                status = "dropped"
            a_s = a_s if a_s is not None and a_s <= last_day else None
            a_e = a_e if a_e is not None and a_e <= last_day and a_s is not None else None
            ms_rows.append(dict(pilot_id=r["pilot_id"], milestone=m, planned_start=ps, planned_end=pe,
                                actual_start=a_s, actual_end=a_e,
                                status=status or _status(a_s, a_e),
                                notes=f"{catalogue.MILESTONE_LABELS[m]} with {r['producer_org']}"))

    # targets: households, income and women participants, from the first quarter's values
    first = {c: values[c][:, 0] for c in ("households_reached", "income_avg_usd", "participants_women")}
    last_li = li * growth[-1]
    tg_rows = []
    for i, r in enumerate(pilot_rows):
        for code, goal in (("households_reached", target[i]),
                           ("income_avg_usd", round(float(last_li[i]) * 0.9, -1)),
                           ("participants_women", round(float(target[i]) * 0.45 * 0.5, -1))):
            tg_rows.append(dict(pilot_id=r["pilot_id"], indicator=code, baseline=float(first[code][i]),
                                baseline_quarter=qs[0], target=float(goal),
                                target_quarter=quarters.shift(qs[-1], 4)))

    # lessons: two per pilot
    ls_rows = []
    for r in pilot_rows:
        for j in rng.choice(len(LESSONS), 2, replace=False):
            kind, ms, text_ = LESSONS[int(j)]
            ls_rows.append(dict(pilot_id=r["pilot_id"], quarter=qs[int(rng.integers(0, Q))], kind=kind,
                                lesson=text_.format(org=r["producer_org"], site=r["site"]),
                                milestone=ms, author=AUTHORS[int(rng.integers(0, len(AUTHORS)))]))

    # benchmarks per country and year; rates per currency and quarter
    years = sorted(set(year.tolist()))
    bm_rows = [dict(country=chosen[c][0], year=y,
                    living_income_usd=float(round(li_country[c] * 1.03 ** (y - years[0]), -1)),
                    source=SOURCE)
               for c in range(n_countries) for y in years]
    rt_rows = []
    for cur in sorted({chosen[c][2] for c in range(n_countries)}):
        base, drift = float(np.exp(rng.uniform(0, 9))), float(rng.uniform(-0.005, 0.015))
        for k, q in enumerate(qs):
            v = base * (1 + drift) ** k
            rt_rows.append(dict(currency=cur, quarter=q, units_per_usd=float(round(v, 2 if v < 1000 else 0))))

    from linkdash.demo import sheet_tables

    return sheet_tables({"Pilots": pilot_rows, "Progress": ms_rows, "Targets": tg_rows, "Lessons": ls_rows,
                         "Benchmarks": bm_rows, "Rates": rt_rows}, ind)


def _status(actual_start, actual_end) -> str:
    if actual_end is not None:
        return "completed"
    return "in_progress" if actual_start is not None else "not_started"


def portfolio(pilots: int = 1000, n_quarters: int = 40, *, seed: int = SEED):
    """The generated tables as a Portfolio, without a store."""
    from linkdash.demo import portfolio_from_tables

    return portfolio_from_tables(generate_tables(pilots, n_quarters, seed=seed))


# --- the workbook -------------------------------------------------------------------------

_WHOLE = {"count", "score", "year"}


def _column_cells(col: pd.Series, ctype: str) -> list:
    """A column as cell values: None for blank, whole numbers as int, dates as dates."""
    if ctype in _WHOLE or ctype in ("nonneg", "money", "number"):
        arr = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        blank = np.isnan(arr)
        out = np.empty(len(arr), dtype=object)
        whole = ~blank & (arr == np.round(arr)) & (np.abs(arr) < 2**53)
        out[whole] = arr[whole].astype(np.int64).tolist() if ctype in _WHOLE else arr[whole].tolist()
        rest = ~blank & ~whole
        out[rest] = arr[rest].tolist()
        out[blank] = None
        return out.tolist()
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in col.tolist()]


def wide_indicators(ind: pd.DataFrame) -> pd.DataFrame:
    """Long ``pilot_id, quarter, indicator, value, text`` -> one row per pilot and
    quarter (in order), one column per indicator of the catalogue."""
    codes = list(catalogue.indicators())
    if ind.empty:
        return pd.DataFrame(columns=["pilot_id", "quarter", *codes])
    num = ind[ind["indicator"] != "volume_unit"]
    wide = num.pivot(index=["pilot_id", "quarter"], columns="indicator", values="value")
    units = ind[ind["indicator"] == "volume_unit"].set_index(["pilot_id", "quarter"])["text"]
    wide = wide.reindex(columns=codes)
    wide["volume_unit"] = units.reindex(wide.index).astype(object)
    wide = wide.reset_index()
    wide.columns.name = None
    return wide


def write_workbook(tables: dict[str, pd.DataFrame], out: str | IO[bytes]) -> None:
    """The tables as an .xlsx that the importer reads back to the same tables: one sheet
    per table in the template's order, header row of column codes, Indicators wide.
    openpyxl's write-only mode: rows stream to the file."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for name in catalogue.SHEET_ORDER:
        df = tables.get(name)
        if df is None:
            continue
        sheet = catalogue.sheets()[name]
        if name == "Indicators":
            df = wide_indicators(df)
        cols = [c for c in df.columns]
        types = {}
        for c in cols:
            try:
                types[c] = sheet.column(c).type
            except KeyError:
                types[c] = "text"
        ws = wb.create_sheet(name)
        ws.append(cols)
        columns = [_column_cells(df[c], types[c]) for c in cols]
        for row in zip(*columns):
            ws.append(row)
    wb.save(out)


def workbook_bytes(tables: dict[str, pd.DataFrame]) -> bytes:
    buf = io.BytesIO()
    write_workbook(tables, buf)
    return buf.getvalue()


# --- straight into a store ------------------------------------------------------------------

def load_store(store, tables: dict[str, pd.DataFrame], *, filename: str = "generated data",
               user: str | None = "generator") -> int:
    """Store the tables in an EMPTY store as one submission (kind ``upload``) without
    the check or the row-by-row commit: bulk inserts (COPY on PostgreSQL) and the data
    version bumped in the same transaction. -> the submission id. Raises ValueError on a
    store that holds data (this is a set-up tool, not an import)."""
    import sqlalchemy as sa

    from linkdash import store as st

    if not store.is_empty():
        raise ValueError("load_store fills an empty store only; use the importer for more data")
    counts = {}
    with store._write() as conn, conn.begin():
        store._bump(conn)
        sub_id = conn.execute(sa.insert(st.submissions_table).values(
            kind="upload", filename=filename, sha256=None, file=None, user=user,
            created_at=quarters.utc_now(), status="committed", summary={},
        ).returning(st.submissions_table.c.id)).scalar_one()
        for sheet, df in st._ordered(tables):
            keys, cols = st.LAYOUT[sheet]
            names = [c for c in cols if c in df.columns]
            frame = df[names]
            if sheet == "Indicators":
                given = frame["value"].notna() | frame["text"].notna()
                frame = frame[given]
            data = {c: _stored_column(frame[c], cols[c]) for c in names}
            n = len(frame)
            data.update(submission_id=[sub_id] * n, origin_id=[sub_id] * n)
            _bulk_insert(conn, st.DATA_TABLES[sheet], data, n)
            counts[sheet] = n
        total = sum(counts.values())
        conn.execute(sa.update(st.submissions_table).where(st.submissions_table.c.id == sub_id)
                     .values(summary={"new": total, "changed": 0, "unchanged": 0,
                                      "sheets": {s: {"new": n, "changed": 0, "unchanged": 0}
                                                 for s, n in counts.items()}}))
    return sub_id


def _stored_column(col: pd.Series, kind: str) -> list:
    if kind == "float":
        arr = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        out = np.array(arr.tolist() + [None], dtype=object)[:-1]
        out[np.isnan(arr)] = None
        return out.tolist()
    if kind == "int":
        return [None if v is None or (isinstance(v, float) and math.isnan(v)) else int(v)
                for v in col.tolist()]
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in col.tolist()]


_CHUNK = 50_000


def _bulk_insert(conn, table, data: dict[str, list], n: int) -> None:
    names = list(data)
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        cols = ", ".join(f'"{c}"' for c in names)
        with raw.cursor() as cur, cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as copy:
            for row in zip(*data.values()):
                copy.write_row(row)
        return
    rows = list(zip(*data.values()))
    stmt = table.insert()
    for i in range(0, n, _CHUNK):
        conn.execute(stmt, [dict(zip(names, r)) for r in rows[i:i + _CHUNK]])


def described(tables: dict[str, pd.DataFrame], pilots: int, n_quarters: int) -> str:
    """"1000 pilots x 40 quarters (952,311 indicator values)": what the tables hold."""
    ind = tables["Indicators"]
    n_values = int((ind["value"].notna() | ind["text"].notna()).sum())
    return f"{pilots} pilots x {n_quarters} quarters ({n_values:,} indicator values)"
