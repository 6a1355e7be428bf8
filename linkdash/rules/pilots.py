"""The Pilots sheet: pilots merged with the stored ones, ids, dates in order, places."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from linkdash import catalogue, countries, quarters, values
from linkdash.portfolio import Portfolio
from linkdash.problems import Report
from linkdash.rules.sheet import Context, ParsedSheet

RAISES = (  # the problem codes these rules report (problems.CODES says what each means)
    "before_start", "coordinates_incomplete", "end_before_start", "outside_country",
    "pilot_id_prefix",
)


# --- Pilots -------------------------------------------------------------------------------

def _stored_rows(frame, key_cols: list[str]) -> dict[tuple, dict]:
    if frame is None or frame.empty:
        return {}
    names = list(frame.columns)
    cols = [[None if (isinstance(v, float) and v != v) or v is _NA else v for v in frame[c].tolist()]
            for c in names]
    key_idx = [names.index(k) for k in key_cols]
    out = {}
    for rec in zip(*cols):
        out[tuple(rec[k] for k in key_idx)] = dict(zip(names, rec))
    return out


_NA = pd.NA


def _as_date(v: Any) -> dt.date | None:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if hasattr(v, "date") and callable(v.date) and v is not None:
        try:
            return v.date()
        except Exception:  # noqa: BLE001
            return None
    if isinstance(v, str):
        d, _ = values.parse_date(v)
        return d
    return None


def pilot_context(current: Portfolio, pilots: ParsedSheet | None) -> dict[str, dict]:
    """Every pilot's stored values merged with the file's Pilots rows (file wins)."""
    out = {k[0]: dict(v) for k, v in _stored_rows(current.pilots, ["pilot_id"]).items()}
    for info in out.values():
        for c in ("start_date", "end_date"):
            info[c] = _as_date(info.get(c))
    if pilots is not None:
        for i in pilots.ok_rows():
            pid = pilots.values["pilot_id"][i]
            info = out.setdefault(pid, {"pilot_id": pid})
            for code in pilots.values:
                v = pilots.get(code, i)
                if v is not None:
                    info[code] = v
    return out


def _date_order(p: ParsedSheet, i: int, report: Report, a: str, b: str, start: dt.date | None,
                end: dt.date | None, a_label: str, b_label: str, what: str) -> None:
    """``end_before_start`` when ``end`` < ``start`` as they will be after the upload (a
    blank keeps the stored date), pointing at a date the file gives and saying which
    one is stored."""
    if not (start and end and end < start):
        return
    a_file, b_file = p.get(a, i) is not None, p.get(b, i) is not None
    if not (a_file or b_file):
        return  # both stored: not this file's doing
    s_note = "" if a_file else " (stored earlier)"
    e_note = "" if b_file else " (stored earlier)"
    if a_file and b_file:
        fix = "correct one of them"
    elif b_file:
        fix = f"correct it, or give the right {a_label.lower()} too"
    else:
        fix = f"correct it, or give the right {b_label.lower()} too"
    report.error("end_before_start", p.name, p.cell(b if b_file else a, i),
                 (end if b_file else start).isoformat(),
                 f"{b_label} {end.isoformat()}{e_note} is before {a_label.lower()} "
                 f"{start.isoformat()}{s_note} for {what}: {fix}.")


def _first_stored_quarters(p: ParsedSheet, ctx: Context) -> dict[str, str]:
    """The first quarter with a stored indicator value, for the pilots whose start date
    the Pilots sheet gives."""
    if "start_date" not in p.values or ctx.current.indicators.empty:
        return {}
    pids = {p.values["pilot_id"][i] for i in p.ok_rows() if p.get("start_date", i) is not None}
    ind = ctx.current.indicators
    sub = ind[ind["pilot_id"].isin(pids)]
    if not len(sub):
        return {}
    # on codes (quarters sort as text): a groupby min of text columns runs in Python,
    # 0.37 s for 950,000 values against 20 ms this way
    q_codes, quarters = pd.factorize(sub["quarter"], sort=True)
    p_codes, pilots = pd.factorize(sub["pilot_id"])
    keep = (q_codes >= 0) & (p_codes >= 0)
    first = np.full(len(pilots), len(quarters))
    np.minimum.at(first, p_codes[keep], q_codes[keep])
    return {str(pid): str(quarters[c]) for pid, c in zip(pilots, first) if c < len(quarters)}


def pilots_rules(p: ParsedSheet, ctx: Context, report: Report) -> dict[str, list]:
    """Checks of the Pilots sheet. -> derived columns (region, cycle, currency)."""
    n = p.table.n_rows
    derived: dict[str, list[Any]] = {"region": [None] * n, "cycle": [None] * n, "currency": [None] * n}
    stored = _stored_rows(ctx.current.pilots, ["pilot_id"])
    first_stored = _first_stored_quarters(p, ctx)
    for i in p.ok_rows():
        pid = p.values["pilot_id"][i]
        old = stored.get((pid,), {})
        country = p.get("country", i) or old.get("country")
        if country and pid.split("-")[0] != country:
            report.warn("pilot_id_prefix", p.name, p.cell("pilot_id", i), pid,
                        f"Pilot id {pid} does not start with the country code {country} "
                        f"({countries.name(country) or country}): ids are ISO3-CHAIN such as "
                        f"{country}-DAIRY; check the id and the country.")
        # derived values
        region = p.get("region", i) or (countries.region(country) if country else None) or old.get("region")
        derived["region"][i] = region
        derived["cycle"][i] = p.get("cycle", i) or old.get("cycle") or catalogue.DEFAULT_CYCLE
        derived["currency"][i] = (p.get("currency", i) or old.get("currency")
                                  or (countries.currency(country) if country else None))
        # dates
        start = p.get("start_date", i) or _as_date(old.get("start_date"))
        end = p.get("end_date", i) or _as_date(old.get("end_date"))
        _date_order(p, i, report, "start_date", "end_date", start, end, "Start date", "End date",
                    f"{pid}")
        first = first_stored.get(pid)
        if (p.get("start_date", i) is not None and start is not None and first
                and quarters.of_date(start) > first):
            report.error("before_start", p.name, p.cell("start_date", i), start.isoformat(),
                         f"Start date {start.isoformat()} ({quarters.of_date(start)}) is after "
                         f"{first}, the first quarter with indicator values stored for {pid}: "
                         f"correct the start date (a pilot starts in or before the first quarter "
                         f"it reports).")
        # coordinates
        lat = p.get("latitude", i)
        lon = p.get("longitude", i)
        if lat is None and lon is not None:
            lat = _num(old.get("latitude"))
        if lon is None and lat is not None:
            lon = _num(old.get("longitude"))
        unreadable = any(p.has(c) and p.get(c, i) is None and not values.is_blank(p.table.columns_raw[c][i])
                         for c in ("latitude", "longitude"))
        if unreadable:
            pass  # already reported as an error
        elif (lat is None) != (lon is None):
            have = "latitude" if lat is not None else "longitude"
            missing = "longitude" if lat is not None else "latitude"
            report.warn("coordinates_incomplete", p.name, p.cell(have, i), lat if lat is not None else lon,
                        f"{pid} has a {have} but no {missing}: add the {missing} so the site "
                        f"shows on the map.")
        elif lat is not None and country and (p.has("latitude") or p.has("longitude")):
            inside = countries.point_in_country(country, lat, lon)
            if inside is False:
                report.warn("outside_country", p.name, p.cell("latitude", i) or p.cell("longitude", i),
                            f"{lat}, {lon}",
                            f"The site of {pid} ({lat}, {lon}) is outside "
                            f"{countries.name(country) or country}: check the latitude and "
                            f"longitude (decimal degrees, south and west negative) and the country.")
    return derived


def _num(v: Any) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else f
