"""The data contract in code: sheets, columns, codes and the indicator catalogue.

Everything here comes from ``../shared/spec/workbook.md`` and from the data files in
``data/`` (the indicator catalogue and the 13 pilots). The template, the importer, the
exporter, the store and the pages all read their column lists from this module, so they
cannot drift apart.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

# --- codes -----------------------------------------------------------------

VALUE_CHAINS = (
    "dairy_cow", "dairy_goat", "goat_meat", "sheep", "chicken_meat",
    "chicken_eggs", "indigenous_rice", "swine", "other",
)
VALUE_CHAIN_LABELS = {
    "dairy_cow": "Dairy cows", "dairy_goat": "Dairy goats", "goat_meat": "Goat meat",
    "sheep": "Sheep", "chicken_meat": "Chicken meat", "chicken_eggs": "Free-range eggs",
    "indigenous_rice": "Indigenous rice", "swine": "Swine", "other": "Other",
}
REGIONS = ("Asia", "Africa", "Latin America")
CYCLES = ("Asia & Africa", "Latin America")
DEFAULT_CYCLE = "Asia & Africa"

# In the order of the learning cycle.
MILESTONES = (
    "training_workshop", "vc_map", "business_model_canvas", "nbmp_assessment",
    "prototype_cycle", "backstopping", "peer_review", "documentation", "learning_event",
)
MILESTONE_LABELS = {
    "training_workshop": "Training workshop",
    "vc_map": "Value chain map",
    "business_model_canvas": "Business model canvas",
    "nbmp_assessment": "New Business Model Principles",
    "prototype_cycle": "Prototype cycle",
    "backstopping": "Backstopping (coaching)",
    "peer_review": "Peer-to-peer learning",
    "documentation": "Documentation (case study)",
    "learning_event": "Global learning event",
}
# The four LINK tools, in order (for the pilot x tool matrix).
LINK_TOOLS = ("vc_map", "business_model_canvas", "nbmp_assessment", "prototype_cycle")

STATUSES = ("not_started", "in_progress", "completed", "dropped")
LESSON_KINDS = ("insight", "challenge", "adaptation", "recommendation")
VOLUME_UNITS = ("litres", "kg", "head", "eggs")

NBMP = (
    "nbmp_collaboration", "nbmp_market_linkages", "nbmp_governance",
    "nbmp_services", "nbmp_innovation", "nbmp_measurement",
)
NBMP_LABELS = {
    "nbmp_collaboration": "Chain-wide collaboration",
    "nbmp_market_linkages": "Effective market linkages",
    "nbmp_governance": "Fair and transparent governance",
    "nbmp_services": "Equitable access to services",
    "nbmp_innovation": "Inclusive innovation",
    "nbmp_measurement": "Measurement of outcomes",
}

LESSON_MAX_CHARS = 2000
TEXT_MAX_CHARS = 2000  # every text field (names, notes, lessons): the spec's limit


# --- header normalisation (the spec's matching rule) ------------------------

_SEPARATORS = re.compile(r"[\s_\-./()]+")


def normalize_header(text: object) -> str:
    """Lower-case, trim, turn every run of spaces and ``_-./()`` into one ``_``,
    drop ``_`` at both ends. ``"Income avg (USD)"`` -> ``"income_avg_usd"``."""
    if text is None:
        return ""
    return _SEPARATORS.sub("_", str(text).strip().lower()).strip("_")


def normalize_sheet_name(text: object) -> str:
    """Sheet names match regardless of case, surrounding spaces and `` _-.``."""
    return re.sub(r"[\s_\-.]+", "", str(text).strip().lower())


# --- the indicator catalogue -------------------------------------------------

@dataclass(frozen=True)
class Indicator:
    code: str
    label: str
    unit: str
    kind: str  # count | money | nonneg | score | unit
    total: str | None  # the *_total (or hh_surveyed) this column is part of
    description: str


@cache
def indicators() -> dict[str, Indicator]:
    """The indicator catalogue (``data/indicators.csv``), by code, in file order."""
    with open(DATA_DIR / "indicators.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return {
        r["code"]: Indicator(r["code"], r["label"], r["unit"], r["kind"],
                             r["total"] or None, r["description"])
        for r in rows
    }


@cache
def indicator_index() -> dict[str, int]:
    """Indicator code -> its place in the catalogue."""
    return {c: i for i, c in enumerate(indicators())}


def numeric_indicators() -> list[str]:
    return [c for c, i in indicators().items() if i.kind != "unit"]


def money_local_code(usd_code: str) -> str:
    """``income_avg_usd`` -> ``income_avg_local``; ``sales_usd`` -> ``sales_local``."""
    return usd_code.replace("_usd", "_local", 1)


# --- sheets and columns ------------------------------------------------------

@dataclass(frozen=True)
class Column:
    code: str
    # pilot_id | text | code | country | date | quarter | count | nonneg | money | score | number | year
    # | currency | indicator | lat | lon
    type: str
    required: bool = False
    label: str = ""
    choices: tuple[str, ...] = ()
    description: str = ""

    @property
    def header(self) -> str:
        """The human label the template writes; it normalises to the code."""
        return self.label or self.code.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Sheet:
    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str = ""
    optional_columns: tuple[Column, ...] = field(default=())  # extensions to the spec

    def column(self, code: str) -> Column:
        for c in self.columns + self.optional_columns:
            if c.code == code:
                return c
        raise KeyError(code)

    @property
    def codes(self) -> list[str]:
        return [c.code for c in self.columns]

    @property
    def all_columns(self) -> tuple[Column, ...]:
        return self.columns + self.optional_columns


def _indicator_columns() -> tuple[Column, ...]:
    kind_to_type = {"count": "count", "money": "money", "nonneg": "nonneg",
                    "score": "score", "unit": "code"}
    cols = []
    for ind in indicators().values():
        cols.append(Column(ind.code, kind_to_type[ind.kind], label=ind.label,
                           choices=VOLUME_UNITS if ind.kind == "unit" else (),
                           description=ind.description))
    return tuple(cols)


def _local_money_columns() -> tuple[Column, ...]:
    return tuple(
        Column(money_local_code(i.code), "money",
               label=i.label.replace("(USD)", "(local)"),
               description=f"{i.description}, in the pilot's currency (converted with Rates)")
        for i in indicators().values() if i.code.endswith("_usd") or "_usd_" in i.code
    )


@cache
def sheets() -> dict[str, Sheet]:
    """The sheets of the workbook, in template order, by canonical name."""
    pid = Column("pilot_id", "pilot_id", True, "Pilot ID")
    return {
        "Pilots": Sheet("Pilots", ("pilot_id",), (
            pid,
            Column("pilot_name", "text", label="Pilot name"),
            Column("country", "country", True, "Country"),
            Column("value_chain", "code", True, "Value chain", VALUE_CHAINS),
            Column("region", "code", label="Region", choices=REGIONS),
            Column("cycle", "code", label="Cycle", choices=CYCLES),
            Column("producer_org", "text", label="Producer org"),
            Column("site", "text", label="Site"),
            Column("latitude", "lat", label="Latitude"),
            Column("longitude", "lon", label="Longitude"),
            Column("start_date", "date", label="Start date"),
            Column("end_date", "date", label="End date"),
            Column("target_households", "count", label="Target households"),
        ), "Reference data: one row per pilot",
            optional_columns=(Column("currency", "currency", label="Currency",
                                     description="ISO 4217 code of the pilot's local currency"),)),
        "Progress": Sheet("Progress", ("pilot_id", "milestone"), (
            pid,
            Column("milestone", "code", True, "Milestone", MILESTONES),
            Column("planned_start", "date", label="Planned start"),
            Column("planned_end", "date", label="Planned end"),
            Column("actual_start", "date", label="Actual start"),
            Column("actual_end", "date", label="Actual end"),
            Column("status", "code", label="Status", choices=STATUSES),
            Column("notes", "text", label="Notes"),
        ), "The learning cycle and the LINK tools: one row per pilot and milestone"),
        "Indicators": Sheet("Indicators", ("pilot_id", "quarter"), (
            pid,
            Column("quarter", "quarter", True, "Quarter"),
            *_indicator_columns(),
        ), "Outcomes: one row per pilot and quarter",
            optional_columns=_local_money_columns()),
        "Targets": Sheet("Targets", ("pilot_id", "indicator"), (
            pid,
            Column("indicator", "indicator", True, "Indicator"),
            Column("baseline", "number", label="Baseline"),
            Column("baseline_quarter", "quarter", label="Baseline quarter"),
            Column("target", "number", label="Target"),
            Column("target_quarter", "quarter", label="Target quarter"),
        ), "Baseline and target of an indicator for a pilot"),
        "Lessons": Sheet("Lessons", ("pilot_id", "quarter", "lesson"), (
            pid,
            Column("quarter", "quarter", True, "Quarter"),
            Column("kind", "code", label="Kind", choices=LESSON_KINDS),
            Column("lesson", "text", True, "Lesson"),
            Column("milestone", "code", label="Milestone", choices=MILESTONES),
            Column("author", "text", label="Author"),
        ), "Moment 3 of the learning cycle: what was learned"),
        "Benchmarks": Sheet("Benchmarks", ("country", "year"), (
            Column("country", "country", True, "Country"),
            Column("year", "year", True, "Year"),
            # a benchmark is never a loss: 0 or more (an error), unlike an income (a warning)
            Column("living_income_usd", "nonneg", label="Living income (USD)"),
            Column("source", "text", label="Source"),
        ), "Living-income benchmark per country and year (annual, per household)"),
        "Rates": Sheet("Rates", ("currency", "quarter"), (
            Column("currency", "currency", True, "Currency"),
            Column("quarter", "quarter", True, "Quarter"),
            Column("units_per_usd", "number", label="Units per USD"),
        ), "Exchange rates: local currency units per US dollar"),
    }


SHEET_ORDER = ("Pilots", "Progress", "Indicators", "Targets", "Lessons", "Benchmarks", "Rates")


@cache
def reference_pilots() -> list[dict[str, str]]:
    """The 13 pilots of the Asia & Africa cycle as shipped in ``data/pilots.csv``."""
    with open(DATA_DIR / "pilots.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
