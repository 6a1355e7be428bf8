"""The Indicators sheet's rules across cells: parts not above their totals, local money
converted to USD, volume units."""

from __future__ import annotations

import math

import numpy as np

from linkdash import catalogue, countries
from linkdash.problems import Report
from linkdash.rules.sheet import (
    Context,
    ParsedSheet,
    _show,
    indicator_index,
    stored_keys,
)

RAISES = (  # the problem codes these rules report (problems.CODES says what each means)
    "missing_rate", "money_both_given", "not_a_number", "part_above_total", "volume_unit_missing",
)


# --- Indicators ---------------------------------------------------------------------------------

def parts_rules(p: ParsedSheet, ctx: Context, report: Report) -> None:
    """Every part (``*_women``, ``*_youth``, ``hh_above_living_income``) <= its total,
    as they will be after the upload: a part or a total the file leaves blank keeps its
    stored value (a blank never erases), so one given alone is compared with the other
    as stored."""
    inds = catalogue.indicators()
    parts = [(c, i.total) for c, i in inds.items() if i.total and (c in p.values or i.total in p.values)]
    if not parts:
        return
    ids, qs = p.values["pilot_id"], p.values["quarter"]
    n = p.table.n_rows
    ok = np.zeros(n, dtype=bool)
    ok[p.ok_rows()] = True
    blank = np.full(n, np.nan)
    k = None
    for part, total in parts:
        pv, tv = p.values.get(part, blank), p.values.get(total, blank)
        p_file, t_file = ~np.isnan(pv), ~np.isnan(tv)
        pv_all, tv_all = pv, tv
        for code, given, other, side in ((part, p_file, t_file, "p"), (total, t_file, p_file, "t")):
            need = ok & ~given & other
            if not need.any() or ctx.current.indicators.empty:
                continue
            if k is None:
                k = stored_keys(p, ctx)
            rows = np.flatnonzero(need)
            found = k.stored_values(k.pid[rows], k.q[rows], indicator_index()[code])
            if side == "p":
                pv_all = pv_all.copy()
                pv_all[rows] = found
            else:
                tv_all = tv_all.copy()
                tv_all[rows] = found
        with np.errstate(invalid="ignore"):
            over = ok & (p_file | t_file) & (pv_all > tv_all)
        pl, tl = inds[part].label, inds[total].label
        for i in np.flatnonzero(over).tolist():
            pn, tn = float(pv_all[i]), float(tv_all[i])
            if p_file[i] and t_file[i]:
                report.error("part_above_total", p.name, p.cell(part, i), pn,
                             f"{pl} ({_show(pn)}) is more than {tl} ({_show(tn)}) for {ids[i]} "
                             f"{qs[i]}: correct one of them.")
            elif p_file[i]:
                report.error("part_above_total", p.name, p.cell(part, i), pn,
                             f"{pl} ({_show(pn)}) is more than {tl} ({_show(tn)}, stored earlier) "
                             f"for {ids[i]} {qs[i]}: correct it, or give the right {tl} too.")
            else:
                report.error("part_above_total", p.name, p.cell(total, i), tn,
                             f"{tl} ({_show(tn)}) is less than {pl} ({_show(pn)}, stored earlier) "
                             f"for {ids[i]} {qs[i]}: correct it, or give the right {pl} too.")


def rate_for(ctx: Context, currency: str, quarter: str) -> float | None:
    return ctx.rates.get((currency, quarter))


def convert_local_money(p: ParsedSheet, ctx: Context, report: Report) -> None:
    """``*_local`` columns -> their ``*_usd`` column with the pilot's currency and the
    quarter's rate. When both are given the USD value is kept (with a warning)."""
    ids, qs = p.values["pilot_id"], p.values["quarter"]
    ok_rows = set(p.ok_rows())
    for ind in catalogue.indicators().values():
        local = catalogue.money_local_code(ind.code)
        if local == ind.code or local not in p.values:
            continue
        lv = p.values[local]
        uv = p.values.get(ind.code)
        if uv is None:
            uv = np.full(len(lv), np.nan)
        else:
            uv = uv.copy()
        for i in np.flatnonzero(~np.isnan(lv)).tolist():
            if i not in ok_rows:
                continue
            pid, q = ids[i], qs[i]
            if not np.isnan(uv[i]):
                report.warn("money_both_given", p.name, p.cell(local, i), float(lv[i]),
                            f"{pid} {q} gives both {ind.label} and its local-currency column: "
                            f"the USD value {_show(float(uv[i]))} is kept; clear one of them.")
                continue
            info = ctx.pilots.get(pid, {})
            cur = info.get("currency") or (countries.currency(info["country"]) if info.get("country")
                                           else None)
            if not cur:
                report.error("missing_rate", p.name, p.cell(local, i), float(lv[i]),
                             f"The currency of {pid} is not known, so its local amount cannot be "
                             f"converted: add a currency (ISO 4217) for {pid} in the Pilots sheet, "
                             f"or give the amount in USD.")
                continue
            rate = rate_for(ctx, cur, q)
            if rate is None:
                report.error("missing_rate", p.name, p.cell(local, i), float(lv[i]),
                             f"No exchange rate for {cur} in {q}, needed to convert {pid}'s local "
                             f"amount: add a row to the Rates sheet with currency {cur}, quarter {q} "
                             f"and units_per_usd (or give the amount in USD).")
                continue
            usd = float(lv[i]) / rate
            if not math.isfinite(usd):
                report.error("not_a_number", p.name, p.cell(local, i), float(lv[i]),
                             f"{ind.label}: {_show(float(lv[i]))} {cur} at {rate:g} {cur} per USD "
                             f"is too large to store: check the amount and the rate for {cur} "
                             f"in {q}.")
                continue
            uv[i] = usd
        p.values[ind.code] = uv
        if ind.code not in p.table.columns:  # cells of the converted values point at the local column
            p.table.columns[ind.code] = p.table.columns[local]


def volume_unit_rules(p: ParsedSheet, ctx: Context, report: Report) -> None:
    if "volume_sold" not in p.values:
        return
    vs = p.values["volume_sold"]
    units = p.values.get("volume_unit")
    need = np.zeros(p.table.n_rows, dtype=bool)
    need[p.ok_rows()] = True
    need &= ~np.isnan(vs)
    if units is not None:
        need &= np.equal(np.asarray(units, dtype=object), None)  # type: ignore[call-overload]
    rows = np.flatnonzero(need).tolist()
    if not rows:
        return
    ind = ctx.current.indicators
    stored = set()
    if not ind.empty:
        sub = ind[ind["indicator"] == "volume_unit"]
        stored = set(zip(sub["pilot_id"], sub["quarter"]))
    for i in rows:
        pid, q = p.values["pilot_id"][i], p.values["quarter"][i]
        if (pid, q) not in stored:
            report.warn("volume_unit_missing", p.name, p.cell("volume_sold", i), float(vs[i]),
                        f"Volume sold for {pid} {q} has no unit: fill in volume_unit "
                        f"({', '.join(catalogue.VOLUME_UNITS)}).")
