"""Deterministic illustrative demo data for the 13 pilots of the Asia & Africa cycle.

``demo_tables()`` builds every sheet of the workbook (in the ``CheckedWorkbook.tables``
format the importer produces, see AGENTS.md) from ``data/pilots.csv`` and a seeded random
generator, so two calls give the same tables. The numbers are made up but plausible and
internally consistent: they respect every rule of the workbook contract and tell a few
stories a director can find on the pages:

- incomes rise towards the country's living-income benchmark for most pilots, but the
  Malawi dairy pilot's incomes stall after a breakdown of its milk collection;
- women make up 30-60% of participants, except in the Senegal sheep pilot (about 20%);
- some pilots miss some quarters (reporting gaps), and the Bangladesh goat pilot reports
  women leaders without the total number of seats for a while;
- most milestones finish on time or a little late; as of the end of 2018 the Malawi
  prototype cycle and the Senegal case study are overdue, and the China peer review was
  dropped.

Producer organisations, sites, lessons and benchmarks are illustrative demo data, not
facts about real organisations. ``load_demo`` stores them with the filename
``DEMO_FILENAME`` so pages can label them as such.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from linkdash import catalogue, quarters
from linkdash.portfolio import FRAME_COLUMNS, ILLUSTRATIVE_SOURCE, Portfolio, empty_frame
from linkdash.problems import Problem

SEED = 2016
FIRST_QUARTER = "2016-Q3"
LAST_QUARTER = "2018-Q4"
DEMO_FILENAME = "illustrative demo data"
DEMO_KIND = "demo"
DEMO_SOURCE = ILLUSTRATIVE_SOURCE  # the mark `portfolio.is_illustrative` looks for

D = dt.date

# --- the pilots' stories -------------------------------------------------------------
# li: living income (USD per household per year) in 2016; start/end: income as a share of
# it in the first and last quarter; women/youth: share of participants; gaps: quarters
# without any report; late: typical delay of milestones in days.
PROFILES: dict[str, dict] = {
    "VNM-DAIRY": dict(li=3900, start=0.45, end=0.86, women=0.42, youth=0.22, gaps=("2017-Q3",), late=5),
    "KEN-DAIRY": dict(li=3100, start=0.50, end=0.93, women=0.48, youth=0.28, gaps=(), late=3),
    "UGA-DAIRY": dict(li=2500, start=0.42, end=0.81, women=0.38, youth=0.31, gaps=("2018-Q1",), late=10),
    "MWI-DAIRY": dict(li=1800, start=0.38, end=0.40, women=0.45, youth=0.25,
                      gaps=("2017-Q2", "2018-Q3"), late=40, stall=True),
    "RWA-DAIRY": dict(li=2100, start=0.40, end=0.84, women=0.55, youth=0.32, gaps=(), late=4),
    "ZMB-DAIRY": dict(li=2700, start=0.44, end=0.79, women=0.40, youth=0.24, gaps=("2016-Q4",), late=25),
    "SEN-SHEEP": dict(li=3300, start=0.36, end=0.74, women=0.20, youth=0.33,
                      gaps=("2017-Q1", "2017-Q2"), late=45, laggard=True),
    "PHL-DAIRYGOAT": dict(li=4600, start=0.30, end=0.63, women=0.58, youth=0.18, gaps=(), late=8),
    "KHM-CHICKEN": dict(li=2900, start=0.40, end=0.82, women=0.52, youth=0.26, gaps=("2018-Q2",), late=6),
    "NPL-GOAT": dict(li=2500, start=0.46, end=0.88, women=0.60, youth=0.20, gaps=(), late=2),
    "IND-GOAT": dict(li=2700, start=0.35, end=0.71, women=0.57, youth=0.23, gaps=("2016-Q3",), late=30),
    "BGD-GOAT": dict(li=2600, start=0.42, end=0.86, women=0.50, youth=0.17, gaps=("2018-Q4",), late=7),
    "CHN-EGGS": dict(li=5600, start=0.48, end=0.90, women=0.35, youth=0.15, gaps=("2017-Q4",), late=12),
}

# Per value chain: volume unit, volume sold per household per quarter at full scale,
# price in USD per unit.
CHAINS: dict[str, dict] = {
    "dairy_cow": dict(unit="litres", per_hh=420.0, price=0.38),
    "dairy_goat": dict(unit="litres", per_hh=70.0, price=1.25),
    "goat_meat": dict(unit="head", per_hh=0.8, price=68.0),
    "sheep": dict(unit="head", per_hh=0.45, price=115.0),
    "chicken_meat": dict(unit="kg", per_hh=35.0, price=2.9),
    "chicken_eggs": dict(unit="eggs", per_hh=1400.0, price=0.16),
}
DAIRY_PRICE = {"VNM-DAIRY": 0.55, "CHN-EGGS": 0.21}  # a few local prices

# Local currency units per US dollar around mid-2016 and their drift per quarter.
RATES: dict[str, tuple[float, float]] = {
    "VND": (22300, 0.003), "KES": (101.0, 0.001), "UGX": (3420, 0.012), "MWK": (715, 0.002),
    "RWF": (790, 0.011), "ZMW": (10.0, 0.004), "XOF": (590, -0.004), "PHP": (47.5, 0.010),
    "KHR": (4060, 0.000), "NPR": (107, 0.003), "INR": (67.0, 0.002), "BDT": (78.5, 0.006),
    "CNY": (6.65, 0.003),
}

# --- milestones -----------------------------------------------------------------------
WORKSHOP = (D(2016, 6, 6), D(2016, 6, 10))
PLANNED: dict[str, tuple[dt.date, dt.date]] = {
    "training_workshop": WORKSHOP,
    "vc_map": (D(2016, 7, 1), D(2016, 9, 30)),
    "business_model_canvas": (D(2016, 10, 1), D(2016, 12, 15)),
    "nbmp_assessment": (D(2017, 1, 9), D(2017, 3, 31)),
    "prototype_cycle": (D(2017, 4, 3), D(2017, 12, 15)),
    "backstopping": (D(2016, 7, 1), D(2018, 6, 30)),
    "peer_review": (D(2017, 10, 2), D(2018, 3, 30)),
    "documentation": (D(2018, 1, 8), D(2018, 9, 28)),
    "learning_event": (D(2018, 11, 12), D(2018, 11, 16)),
}
MILESTONE_NOTES = {
    "training_workshop": "Regional training workshop in Siem Reap, Cambodia, 6-10 June 2016, with all pilots",
    "vc_map": "Value chain map drawn with the producer organisation and buyers",
    "business_model_canvas": "Canvas workshop with the board and two buyers",
    "nbmp_assessment": "First NBMP self-assessment; reassessed in later quarters",
    "prototype_cycle": "Prototypes tested with a group of members",
    "backstopping": "Remote and in-country coaching",
    "peer_review": "Peer-to-peer exchange with another pilot",
    "documentation": "Case study written with the country team",
    "learning_event": "Global learning event",
}
# Exceptions that give the progress page something to show at the end of 2018.
SPECIAL_MILESTONES: dict[tuple[str, str], dict] = {
    ("MWI-DAIRY", "prototype_cycle"): dict(
        actual_start=D(2017, 5, 8), actual_end=None, status=None,
        notes="Second prototype (evening milk collection round) restarted after the cooling tank was "
              "repaired"),
    ("SEN-SHEEP", "documentation"): dict(
        actual_start=D(2018, 6, 18), actual_end=None, status=None,
        notes="Case study draft under review by the union's board"),
    ("CHN-EGGS", "peer_review"): dict(
        actual_start=None, actual_end=None, status="dropped",
        notes="Exchange visit not possible; replaced by two video calls with another pilot"),
    ("ZMB-DAIRY", "learning_event"): dict(
        actual_start=None, actual_end=None, status="dropped",
        notes="Team could not travel; joined the recorded sessions afterwards"),
}


def _shift(d: dt.date, days: int) -> dt.date:
    return d + dt.timedelta(days=int(days))


def _derive_status(actual_start, actual_end, status=None) -> str:
    if status == "dropped":
        return "dropped"
    if actual_end is not None:
        return "completed"
    if actual_start is not None:
        return "in_progress"
    return "not_started"


def _progress(rng: np.random.Generator, pilots: list[dict]) -> list[dict]:
    rows = []
    for p in pilots:
        pid = p["pilot_id"]
        late = PROFILES[pid]["late"]
        for code in catalogue.MILESTONES:
            ps, pe = PLANNED[code]
            start_delay = int(rng.integers(0, 15))
            end_delay = int(rng.integers(-5, 10)) + int(rng.integers(0, late + 1))
            if code in ("training_workshop", "learning_event"):  # shared events: fixed dates
                a_s, a_e = ps, pe
            else:
                a_s = _shift(ps, start_delay)
                a_e = max(_shift(pe, end_delay), _shift(a_s, 14))
            row = dict(pilot_id=pid, milestone=code, planned_start=ps, planned_end=pe,
                       actual_start=a_s, actual_end=a_e, status=None,
                       notes=MILESTONE_NOTES[code])
            row.update(SPECIAL_MILESTONES.get((pid, code), {}))
            rows.append(row)
    return rows


# --- indicators -------------------------------------------------------------------------

def _smooth(x: float) -> float:
    return x * x * (3 - 2 * x)


def living_income(pid: str, year: int) -> float:
    """The demo's living-income benchmark of a pilot's country for a year."""
    return float(round(PROFILES[pid]["li"] * 1.03 ** (year - 2016), -1))


def _indicator_rows(rng: np.random.Generator, pilots: list[dict], progress: list[dict]) -> list[dict]:
    qs = quarters.span(FIRST_QUARTER, LAST_QUARTER)
    n = len(qs)
    by_pm = {(r["pilot_id"], r["milestone"]): r for r in progress}
    rows: list[dict] = []
    for p in pilots:
        pid, chain = p["pilot_id"], p["value_chain"]
        prof, ch = PROFILES[pid], CHAINS[chain]
        target = float(p["target_households"])
        price = DAIRY_PRICE.get(pid, ch["price"])
        ramp_end = 0.55 if prof.get("stall") else float(rng.uniform(0.92, 1.06))
        leaders = int(rng.integers(9, 16))
        buyers0 = int(rng.integers(0, 3))
        nbmp0 = {c: int(rng.integers(1, 4)) for c in catalogue.NBMP}
        nbmp_q = quarters.of_date(by_pm[(pid, "nbmp_assessment")]["actual_end"])
        proto = by_pm[(pid, "prototype_cycle")]
        proto_first = quarters.of_date(proto["actual_start"])
        proto_last = quarters.of_date(proto["actual_end"]) if proto["actual_end"] else LAST_QUARTER
        reported = [q for q in qs if q not in prof["gaps"]]
        # NBMP assessed at the assessment milestone, then again a year on and at the end
        # (in the first quarter with a report at or after each of those).
        nbmp_quarters = []
        for want in (nbmp_q, quarters.shift(nbmp_q, 4), "2018-Q3"):
            got = next((q for q in reported if q >= want), None)
            if got and got not in nbmp_quarters:
                nbmp_quarters.append(got)
        nbmp = dict(nbmp0)
        households = 0.0
        for i, q in enumerate(qs):
            t = i / (n - 1)
            year = quarters.split(q)[0]
            # draw the noise for every quarter, reported or not, so gaps don't shift it
            noise = rng.normal(0, 1, 12)
            if q in prof["gaps"]:
                continue
            li = living_income(pid, year)
            if prof.get("stall"):
                ratio = prof["start"] + (0.07 * min(t / 0.35, 1.0) if t <= 0.35 else 0.07 - 0.05 * (t - 0.35))
            else:
                ratio = prof["start"] + (prof["end"] - prof["start"]) * _smooth(t)
            ratio = max(0.1, ratio + 0.015 * noise[0])
            income = round(ratio * li)
            share_hh = min(0.75, max(0.01, 0.04 + 1.05 * (ratio - 0.48) + 0.02 * noise[1]))
            reached = round(target * (0.35 + (ramp_end - 0.35) * _smooth(t)) * (1 + 0.02 * noise[2]))
            households = max(households, reached)
            women = prof["women"] + (0.0 if prof.get("laggard") else 0.06 * t) + 0.02 * noise[3]
            youth = prof["youth"] + 0.03 * t + 0.015 * noise[4]
            participants = round(households * (0.45 + 0.1 * noise[5] / 3) * (1.3 if i < 2 else 1.0))
            members = round(households * (0.78 + 0.2 * t))
            seasonal = 1.0
            if chain == "sheep" and q.endswith("Q3"):
                seasonal = 2.4  # Tabaski
            elif chain == "dairy_cow" and (q.endswith("Q1") or q.endswith("Q2")):
                seasonal = 1.15  # rains, more milk
            stall_factor = 0.75 if prof.get("stall") and "2017-Q3" <= q <= "2018-Q1" else 1.0
            per_hh = 0.5 if prof.get("stall") else 0.45 + 0.55 * _smooth(t)  # stalled: no more per member
            volume = households * ch["per_hh"] * per_hh * seasonal * stall_factor * (1 + 0.05 * noise[6])
            volume = round(volume)
            hh_surveyed = int(min(households, round(60 + 0.06 * households + 5 * noise[7])))
            leaders_women = max(1, min(leaders, round(leaders * (women - 0.12)) + (1 if t > 0.5 else 0)))
            v: dict[str, float | None] = {
                "households_reached": households,
                "participants_total": participants,
                "participants_women": round(participants * women),
                "participants_youth": round(participants * youth),
                "members_total": members,
                "members_women": round(members * (women - 0.04)),
                "members_youth": round(members * youth * 0.8),
                "leaders_total": leaders,
                "leaders_women": leaders_women,
                "income_avg_usd": income,
                "income_avg_usd_women_headed": round(income * (0.82 + 0.02 * noise[8])),
                "income_avg_usd_men_headed": round(income * (1.06 + 0.01 * noise[9])),
                "hh_surveyed": hh_surveyed,
                "hh_above_living_income": round(hh_surveyed * share_hh),
                "sales_usd": round(volume * price),
                "volume_sold": volume,
                "buyers_with_agreements": buyers0 + int(t * 4.5),
                "prototypes_tested": (1 + int(abs(noise[10]) > 0.8)) if proto_first <= q <= proto_last else 0,
            }
            if q in nbmp_quarters:
                if nbmp_quarters.index(q) > 0:
                    for c in nbmp:
                        step = 1 if noise[11] + rng.uniform(-1, 1) > -0.6 else 0
                        if prof.get("stall") and c in ("nbmp_market_linkages", "nbmp_services"):
                            step = 0
                        nbmp[c] = min(5, nbmp[c] + step)
                v.update({c: nbmp[c] for c in nbmp})
            # partial reports: some values missing in some quarters
            if pid == "BGD-GOAT" and "2017-Q1" <= q <= "2017-Q4":
                v["leaders_total"] = None  # women leaders given, total seats not
            if pid == "MWI-DAIRY" and q in ("2017-Q3", "2017-Q4"):
                v["hh_surveyed"] = v["hh_above_living_income"] = None  # no survey during the breakdown
            if pid == "UGA-DAIRY" and q == "2016-Q3":
                v["income_avg_usd_women_headed"] = v["income_avg_usd_men_headed"] = None
            if pid == "IND-GOAT" and q <= "2017-Q1":
                v["members_youth"] = None
            for code in catalogue.numeric_indicators():
                val = v.get(code)
                if val is not None:
                    rows.append(dict(pilot_id=pid, quarter=q, indicator=code, value=float(val), text=None))
            rows.append(dict(pilot_id=pid, quarter=q, indicator="volume_unit", value=math.nan,
                             text=ch["unit"]))
    return rows


# --- targets, lessons, benchmarks, rates ---------------------------------------------------

NO_TARGETS = ("NPL-GOAT", "CHN-EGGS")


def _targets(pilots: list[dict], ind: pd.DataFrame) -> list[dict]:
    rows = []
    for p in pilots:
        pid = p["pilot_id"]
        if pid in NO_TARGETS:
            continue
        mine = ind[ind["pilot_id"] == pid]
        first_q = mine["quarter"].min()

        def base(code: str) -> float | None:
            s = mine[(mine["quarter"] == first_q) & (mine["indicator"] == code)]["value"]  # noqa: B023 (used in this iteration)
            return float(s.iloc[0]) if len(s) else None

        prof = PROFILES[pid]
        rows.append(dict(pilot_id=pid, indicator="households_reached", baseline=base("households_reached"),
                         baseline_quarter=first_q, target=float(p["target_households"]),
                         target_quarter="2018-Q4"))
        rows.append(dict(pilot_id=pid, indicator="income_avg_usd", baseline=base("income_avg_usd"),
                         baseline_quarter=first_q, target=float(round(living_income(pid, 2018) * 0.9, -1)),
                         target_quarter="2018-Q4"))
        if pid not in ("PHL-DAIRYGOAT",):
            expected = float(p["target_households"]) * 0.45  # participants at full scale
            rows.append(dict(pilot_id=pid, indicator="participants_women",
                             baseline=base("participants_women"), baseline_quarter=first_q,
                             target=float(round(expected * max(0.4, prof["women"] + 0.08), -1)),
                             target_quarter="2018-Q4"))
        if pid in ("KEN-DAIRY", "VNM-DAIRY", "SEN-SHEEP", "BGD-GOAT"):
            rows.append(dict(pilot_id=pid, indicator="buyers_with_agreements",
                             baseline=base("buyers_with_agreements"), baseline_quarter=first_q,
                             target=6.0, target_quarter="2019-Q4"))
        if pid in ("KEN-DAIRY", "UGA-DAIRY", "RWA-DAIRY", "MWI-DAIRY"):
            rows.append(dict(pilot_id=pid, indicator="hh_above_living_income",
                             baseline=base("hh_above_living_income"), baseline_quarter=first_q,
                             target=40.0, target_quarter="2019-Q4"))
    return rows


# (kind, milestone, text); {org} and {site} are filled from data/pilots.csv.
LESSONS_BY_CHAIN: dict[str, list[tuple[str, str | None, str]]] = {
    "dairy": [
        ("insight", "vc_map",
         "Mapping the chain showed that most morning milk leaves the villages through informal traders; "
         "the milk collection centre of {org} mainly received the evening milk."),
        ("adaptation", "prototype_cycle",
         "We tested a second daily milk collection round with a shared transporter. Rejected milk fell "
         "and members delivered more of their milk to the collection centre."),
        ("recommendation", "documentation",
         "Agree quality-based prices with the processor before scaling up milk collection; otherwise the "
         "extra volume is paid at the lowest grade."),
        ("insight", "business_model_canvas",
         "The canvas made clear that the processor values a steady supply all year more than a high volume "
         "in the rainy season."),
        ("challenge", "backstopping",
         "Milk collection records were kept on paper at each collection point and were often late; a simple "
         "shared spreadsheet updated weekly fixed most of it."),
    ],
    "dairy_goat": [
        ("insight", "vc_map",
         "Goat milk buyers in {site} were few but willing to pay a premium for pasteurised milk delivered "
         "twice a week."),
        ("adaptation", "prototype_cycle",
         "A shared pasteuriser run by the association let members sell to a hotel and a school feeding "
         "programme instead of only at the roadside."),
        ("challenge", "backstopping",
         "Milk volumes drop sharply in the dry season; buyers asked for a supply plan before signing "
         "agreements."),
    ],
    "goat": [
        ("insight", "vc_map",
         "Traders pay by head in the village but by live weight in town; collective weighing on sale days "
         "raised prices for heavier animals."),
        ("adaptation", "prototype_cycle",
         "Monthly collective sale days brought several traders to {site} at once, and prices became more "
         "transparent for members."),
        ("recommendation", "documentation",
         "Start collective marketing with a few trusted traders and a written agreement on weighing and "
         "payment."),
        ("challenge", "backstopping",
         "Goat losses to disease before sale days cut the volume the group could promise buyers; a shared "
         "vaccination calendar helped."),
    ],
    "sheep": [
        ("insight", "vc_map",
         "Most sheep are sold in the weeks before Tabaski; fattening plans now aim for that window."),
        ("challenge", "business_model_canvas",
         "Few women own sheep in their own name, so few women came to the meetings of the union."),
        ("adaptation", "prototype_cycle",
         "Grouped transport of fattened rams to the city market lowered the cost per head for members."),
    ],
    "chicken_meat": [
        ("insight", "vc_map",
         "Restaurants in town want chickens of a steady weight every week rather than large batches before "
         "festivals."),
        ("adaptation", "prototype_cycle",
         "Staggered batches planned with the feed supplier let the cooperative deliver every week."),
        ("challenge", "backstopping",
         "Feed prices rose during the prototype and squeezed margins; members now buy feed in bulk through "
         "the cooperative."),
    ],
    "chicken_eggs": [
        ("insight", "vc_map",
         "Supermarket buyers pay more for graded and labelled free-range eggs than village traders do."),
        ("adaptation", "prototype_cycle",
         "Grading eggs by size at the cooperative before delivery reduced rejected eggs."),
        ("challenge", "nbmp_assessment",
         "Members disagreed on how to share the premium from graded eggs; the NBMP discussion on fair "
         "governance helped agree on rules."),
    ],
}
GENERIC_LESSONS: list[tuple[str, str | None, str]] = [
    ("insight", "training_workshop",
     "Working through the LINK tools with the board, not only with staff, made the board own the changes."),
    ("adaptation", None,
     "Women members asked for meetings after market hours; attendance of women rose after the change."),
    ("recommendation", "peer_review",
     "Peer visits between pilots were most useful when each team brought one concrete problem to discuss."),
    ("insight", "nbmp_assessment",
     "The NBMP self-assessment was more honest when buyers took part in scoring the principles."),
    ("challenge", None,
     "A quarterly income survey of every household was too heavy; a sample of about 60 households was "
     "enough."),
    ("adaptation", None,
     "Young members joined when the producer organisation offered paid roles in aggregation and transport."),
]
STORY_LESSONS: dict[str, list[tuple[str, str, str | None, str]]] = {
    "MWI-DAIRY": [
        ("2017-Q3", "challenge", "prototype_cycle",
         "Milk collection stopped for several weeks when the cooling tank at the collection centre "
         "broke down; farmers went back to informal traders and not all of them returned."),
        ("2018-Q2", "recommendation", "documentation",
         "Keep a maintenance fund for the cooling tank; incomes stalled while milk collection was "
         "interrupted."),
    ],
    "SEN-SHEEP": [
        ("2018-Q1", "adaptation", "peer_review",
         "After the peer exchange the union opened a fattening group for women with small ruminants of their "
         "own."),
    ],
    "CHN-EGGS": [
        ("2018-Q1", "challenge", "peer_review",
         "The planned exchange visit could not take place; video calls worked for questions but not for "
         "seeing the farms."),
    ],
}
AUTHORS = ("Pilot facilitator", "Country coordinator", "Business coach", "Producer organisation board")


def _chain_group(chain: str) -> str:
    return {"dairy_cow": "dairy", "goat_meat": "goat"}.get(chain, chain)


def _lessons(rng: np.random.Generator, pilots: list[dict], progress: list[dict]) -> list[dict]:
    by_pm = {(r["pilot_id"], r["milestone"]): r for r in progress}
    rows = []
    for p in pilots:
        pid = p["pilot_id"]
        bank = LESSONS_BY_CHAIN[_chain_group(p["value_chain"])]
        picks = list(bank[:3])
        extra = rng.choice(len(GENERIC_LESSONS), size=int(rng.integers(1, 3)), replace=False)
        picks += [GENERIC_LESSONS[int(i)] for i in sorted(extra)]
        if len(bank) > 3 and rng.uniform() < 0.6:
            picks.append(bank[3 + int(rng.integers(0, len(bank) - 3))])
        chosen = []
        for kind, ms, text in picks:
            m = by_pm.get((pid, ms)) if ms else None
            when = ((m and (m["actual_end"] or m["actual_start"]))
                    or _shift(D(2017, 1, 1), int(rng.integers(0, 600))))
            chosen.append((quarters.of_date(when), kind, ms, text))
        chosen = list(STORY_LESSONS.get(pid, [])) + chosen
        for q, kind, ms, text in chosen[:6]:
            rows.append(dict(pilot_id=pid, quarter=q, kind=kind,
                             lesson=text.format(org=p["producer_org"], site=p["site"]),
                             milestone=ms, author=AUTHORS[int(rng.integers(0, len(AUTHORS)))]))
    return rows


def _benchmarks(pilots: list[dict]) -> list[dict]:
    return [dict(country=p["country"], year=year, living_income_usd=living_income(p["pilot_id"], year),
                 source=DEMO_SOURCE)
            for p in pilots for year in (2016, 2017, 2018)]


def _rates(pilots: list[dict]) -> list[dict]:
    rows = []
    for cur in sorted({p["currency"] for p in pilots}):
        base, drift = RATES[cur]
        for i, q in enumerate(quarters.span(FIRST_QUARTER, LAST_QUARTER)):
            value = base * (1 + drift) ** i
            rows.append(dict(currency=cur, quarter=q,
                             units_per_usd=float(round(value, 2 if value < 1000 else 0))))
    return rows


# --- the tables ---------------------------------------------------------------------------

def _pilot_rows() -> list[dict]:
    rows = []
    for r in catalogue.reference_pilots():
        rows.append(dict(
            pilot_id=r["pilot_id"], pilot_name=r["pilot_name"], country=r["country"],
            value_chain=r["value_chain"], region=r["region"], cycle=r["cycle"] or catalogue.DEFAULT_CYCLE,
            producer_org=r["producer_org"], site=r["site"],
            latitude=float(r["latitude"]), longitude=float(r["longitude"]),
            start_date=dt.date.fromisoformat(r["start_date"]), end_date=dt.date.fromisoformat(r["end_date"]),
            target_households=float(r["target_households"]), currency=r["currency"],
        ))
    return rows


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns).astype(object).where(lambda d: d.notna(), None)


def sheet_tables(rows: dict[str, list[dict]], indicators: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Each sheet's rows (dicts by column code; Indicators already a long frame, kept as
    it is) as ``CheckedWorkbook.tables``, in ``catalogue.SHEET_ORDER``: the sheet's
    columns (the Pilots' derived ones too), object columns, blanks None. The demo's and
    the generated data's (``generate``) tables."""
    sheets = catalogue.sheets()
    return {name: indicators if name == "Indicators" else
            _frame(rows[name], [c.code for c in sheets[name].all_columns] if name == "Pilots"
                   else sheets[name].codes)
            for name in catalogue.SHEET_ORDER}


def demo_tables(today: dt.date | None = None) -> dict[str, pd.DataFrame]:
    """Every sheet of the demo workbook, keyed by sheet name, in the ``CheckedWorkbook.tables``
    format: canonical columns, dates as ``datetime.date``, quarters ``2017-Q1``, numbers float,
    blanks None, Indicators long (``pilot_id, quarter, indicator, value, text``).

    Deterministic: the same ``today`` gives the same tables. Anything dated after ``today``
    (default: the real today) is left out, so the data never reports the future."""
    today = today or dt.date.today()
    rng = np.random.default_rng(SEED)
    pilots = _pilot_rows()
    progress = _progress(rng, pilots)
    ind_rows = _indicator_rows(rng, pilots, progress)
    ind = pd.DataFrame(ind_rows, columns=["pilot_id", "quarter", "indicator", "value", "text"])
    targets = _targets(pilots, ind)
    lessons = _lessons(rng, pilots, progress)

    # keep only what has happened by `today`
    cur = quarters.current(today)
    for r in progress:
        if r["actual_end"] is not None and r["actual_end"] > today:
            r["actual_end"] = None
        if r["actual_start"] is not None and r["actual_start"] > today:
            r["actual_start"] = None
        r["status"] = _derive_status(r["actual_start"], r["actual_end"], r["status"])
    ind = ind[ind["quarter"] <= cur].reset_index(drop=True)
    lessons = [r for r in lessons if r["quarter"] <= cur]

    ind = ind.astype({"pilot_id": object, "quarter": object, "indicator": object})
    ind["value"] = ind["value"].astype("float64")
    ind["text"] = ind["text"].astype(object).where(ind["text"].notna(), None)
    return sheet_tables({"Pilots": pilots, "Progress": progress, "Targets": targets, "Lessons": lessons,
                         "Benchmarks": _benchmarks(pilots), "Rates": _rates(pilots)}, ind)


def _country_name(alpha3: str | None) -> str | None:
    if not alpha3:
        return None
    from linkdash import countries

    return countries.name(alpha3) or alpha3


def portfolio_from_tables(tables: dict[str, pd.DataFrame]) -> Portfolio:
    """A Portfolio straight from importer-style tables (no store): for tests and for
    developing charts on the demo data. Missing sheets give empty frames."""
    frames: dict[str, pd.DataFrame] = {}
    for name, sheet in (("pilots", "Pilots"), ("milestones", "Progress"), ("indicators", "Indicators"),
                        ("targets", "Targets"), ("lessons", "Lessons"), ("benchmarks", "Benchmarks"),
                        ("rates", "Rates")):
        df = tables.get(sheet)
        if df is None:
            frames[name] = empty_frame(name)
            continue
        df = df.copy()
        for col in FRAME_COLUMNS[name]:
            if col not in df.columns:
                df[col] = None
        if name == "pilots":
            df["country_name"] = [_country_name(c) for c in df["country"]]
        if name == "milestones":
            df["status"] = [_derive_status(s, e, st) for s, e, st in
                            zip(df["actual_start"], df["actual_end"], df["status"])]
        if name == "indicators":
            df["value"] = pd.to_numeric(df["value"], errors="coerce").astype("float64")
        frames[name] = df[FRAME_COLUMNS[name]].reset_index(drop=True)
    return Portfolio(**frames)


def demo_portfolio(today: dt.date | None = None) -> Portfolio:
    """The demo data as a Portfolio, without a store."""
    return portfolio_from_tables(demo_tables(today))


def demo_file_bytes(tables: dict[str, pd.DataFrame]) -> bytes:
    """A deterministic JSON dump of the tables: what the store keeps as the submission's file."""
    payload = {name: json.loads(df.to_json(orient="records", date_format="iso", default_handler=str))
               for name, df in tables.items()}
    return json.dumps({"source": DEMO_SOURCE, "tables": payload}, sort_keys=True, indent=1).encode("utf-8")


@dataclass(frozen=True)
class DemoLoad:
    """What ``load_demo`` did: loaded (``submission_id``), found the store with pilots
    already (``pilots_in_store``), found the same data stored (``duplicate_of``), or was
    refused inside the commit's transaction (``errors``: nothing stored)."""

    rows: dict[str, int] = field(default_factory=dict)  # rows per sheet of the demo data
    pilots_in_store: int | None = None  # set when the store had pilots: nothing loaded
    submission_id: int | None = None
    duplicate_of: int | None = None
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    errors: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self) -> list[str]:
        """What happened, in words."""
        if self.pilots_in_store is not None:
            return [f"The store already has {self.pilots_in_store} pilots; demo data not loaded."]
        if self.errors:
            return [f"ERROR {p.message} [{p.code}]" for p in self.errors]
        if self.submission_id is None:
            return [f"The illustrative demo data is already stored (submission {self.duplicate_of}); "
                    "nothing changed."]
        sheets = ", ".join(f"{n} {k} rows" for k, n in self.rows.items() if k != "Pilots")
        return [f"Loaded the illustrative demo data for {self.rows.get('Pilots', 0)} pilots as submission "
                f"{self.submission_id}: {self.new} new, {self.changed} changed, {self.unchanged} unchanged "
                f"values ({sheets})."]


def load_demo(store, only_if_empty: bool = False) -> DemoLoad:
    """Store the demo data as one submission (``python -m linkdash demo [--if-empty]``);
    with ``only_if_empty``, only into a store without pilots."""
    if only_if_empty:
        n = len(store.load().pilots)
        if n:
            return DemoLoad(pilots_in_store=n)
    tables = demo_tables()
    rows = {name: len(df) for name, df in tables.items()}
    commit = store.commit(tables, file_bytes=demo_file_bytes(tables), filename=DEMO_FILENAME,
                          user="demo", kind=DEMO_KIND)
    if commit.errors:  # refused inside the transaction: nothing stored
        return DemoLoad(rows, errors=tuple(commit.errors))
    c = commit.changes
    return DemoLoad(rows, submission_id=commit.submission_id, duplicate_of=commit.duplicate_of,
                    new=c.new, changed=c.changed, unchanged=c.unchanged)
