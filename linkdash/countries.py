"""Countries: names and codes -> ISO alpha-3, short names, region, currency, boundaries.

- ``to_alpha3("Viet Nam")`` -> ``"VNM"`` (English names in common spellings, alpha-2, alpha-3)
- ``name("VNM")`` -> ``"Vietnam"`` (short common English name)
- ``region("KEN")`` -> ``"Africa"`` (``Asia``, ``Africa``, ``Latin America`` or None),
  from the ``continent`` of ``data/countries_110m.geojson`` and, for countries too small
  for that map, ``data/currencies.csv``
- ``currency("KEN")`` -> ``"KES"`` (``data/currencies.csv``: Asia, Africa, Latin America)
- ``point_in_country("KEN", lat, lon)`` -> True/False, or None when we have no boundary
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from functools import cache

import numpy as np

from linkdash.catalogue import DATA_DIR

# Spellings pycountry does not know (keys are folded with _fold).
_ALIASES = {
    "vietnam": "VNM", "laos": "LAO", "lao pdr": "LAO", "tanzania": "TZA", "bolivia": "BOL",
    "russia": "RUS", "ivory coast": "CIV", "cote divoire": "CIV", "dr congo": "COD",
    "drc": "COD", "democratic republic of congo": "COD", "democratic republic of the congo": "COD",
    "congo kinshasa": "COD", "congo brazzaville": "COG", "republic of congo": "COG",
    "congo": "COG", "swaziland": "SWZ", "eswatini": "SWZ", "burma": "MMR", "myanmar": "MMR",
    "south korea": "KOR", "korea": "KOR", "north korea": "PRK", "syria": "SYR", "iran": "IRN",
    "venezuela": "VEN", "moldova": "MDA", "macedonia": "MKD", "north macedonia": "MKD",
    "czech republic": "CZE", "cape verde": "CPV", "east timor": "TLS", "timor leste": "TLS",
    "the gambia": "GMB", "gambia": "GMB", "uk": "GBR", "united kingdom": "GBR",
    "great britain": "GBR", "usa": "USA", "us": "USA", "united states": "USA",
    "united states of america": "USA", "china": "CHN", "prc": "CHN", "taiwan": "TWN",
    "palestine": "PSE", "micronesia": "FSM", "brunei": "BRN", "turkey": "TUR",
    "turkiye": "TUR", "vatican": "VAT", "kyrgyzstan": "KGZ", "sao tome and principe": "STP",
    "guinea bissau": "GNB", "south sudan": "SSD", "dominican rep": "DOM",
}

# Short common English names where pycountry's name is long or formal.
_SHORT_NAMES = {
    "VNM": "Vietnam", "LAO": "Laos", "TZA": "Tanzania", "BOL": "Bolivia", "RUS": "Russia",
    "KOR": "South Korea", "PRK": "North Korea", "SYR": "Syria", "IRN": "Iran",
    "VEN": "Venezuela", "MDA": "Moldova", "COD": "DR Congo", "COG": "Congo",
    "CIV": "Côte d'Ivoire", "TWN": "Taiwan", "GBR": "United Kingdom", "USA": "United States",
    "CHN": "China", "PSE": "Palestine", "FSM": "Micronesia", "BRN": "Brunei",
    "MKD": "North Macedonia", "CZE": "Czechia", "TUR": "Türkiye", "VAT": "Vatican",
    "CPV": "Cabo Verde", "SWZ": "Eswatini", "GMB": "Gambia",
}

_LATIN_NORTH_AMERICA = {
    "MEX", "GTM", "BLZ", "HND", "SLV", "NIC", "CRI", "PAN", "CUB", "HTI", "DOM", "JAM",
    "BHS", "PRI", "TTO", "BRB",
}


def _fold(text: str) -> str:
    s = unicodedata.normalize("NFKD", text)
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).lower()
    s = re.sub(r"[’'`´.]", "", s)
    s = re.sub(r"[^a-z0-9]+", " ", s).strip()
    return s


@cache
def _lookup_table() -> dict[str, str]:
    import pycountry

    table: dict[str, str] = {}
    for c in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            n = getattr(c, attr, None)
            if n:
                table[_fold(n)] = c.alpha_3
                # "Bolivia, Plurinational State of" -> "bolivia"
                if "," in n:
                    table.setdefault(_fold(n.split(",")[0]), c.alpha_3)
        table[c.alpha_2.lower()] = c.alpha_3
        table[c.alpha_3.lower()] = c.alpha_3
    table.update(_ALIASES)
    return table


@cache
def to_alpha3(text: str | None) -> str | None:
    """An English country name in a common spelling, or an alpha-2/alpha-3 code -> alpha-3."""
    if text is None:
        return None
    key = _fold(str(text))
    if not key:
        return None
    table = _lookup_table()
    if key in table:
        return table[key]
    if key.startswith("the "):
        return table.get(key[4:])
    if key.startswith("republic of "):
        return table.get(key[12:])
    return None


@cache
def name(alpha3: str) -> str | None:
    """A short common English name ("Vietnam", "China")."""
    import pycountry

    if alpha3 in _SHORT_NAMES:
        return _SHORT_NAMES[alpha3]
    c = pycountry.countries.get(alpha_3=alpha3)
    if c is None:
        return None
    n = getattr(c, "common_name", None) or c.name
    return n.split(",")[0]


@cache
def _currency_rows() -> dict[str, dict[str, str]]:
    with open(DATA_DIR / "currencies.csv", newline="", encoding="utf-8") as fh:
        return {r["country"]: r for r in csv.DictReader(fh)}


def currency(alpha3: str) -> str | None:
    """The ISO 4217 code of the country's currency (Asia, Africa, Latin America)."""
    row = _currency_rows().get(alpha3)
    return row["currency"] if row else None


@cache
def _features() -> dict[str, dict]:
    with open(DATA_DIR / "countries_110m.geojson", encoding="utf-8") as fh:
        data = json.load(fh)
    out = {}
    for f in data["features"]:
        code = f["properties"].get("iso_a3")
        if not code or code == "-99":
            code = f.get("id")
        if code and code != "-99":
            out[code] = f
    return out


def region(alpha3: str) -> str | None:
    """``Asia``, ``Africa`` or ``Latin America`` (South and Central America, the
    Caribbean and Mexico); None for other countries."""
    f = _features().get(alpha3)
    if f is not None:
        cont = f["properties"].get("continent")
        if cont in ("Asia", "Africa"):
            return cont
        if cont == "South America" or (cont == "North America" and alpha3 in _LATIN_NORTH_AMERICA):
            return "Latin America"
        if cont in ("Europe", "North America", "Oceania", "Antarctica"):
            return None
    row = _currency_rows().get(alpha3)
    return row["region"] if row else None


# --- boundaries -----------------------------------------------------------------------

@cache
def _shape(alpha3: str):
    """(polygons, segments): polygons as lists of rings (n x 2 arrays of lon, lat), and all
    boundary segments as an (m x 4) array x1, y1, x2, y2."""
    f = _features().get(alpha3)
    if f is None:
        return None
    geom = f["geometry"]
    polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
    polygons, segs = [], []
    for poly in polys:
        rings = [np.asarray(r, dtype=float) for r in poly]
        polygons.append(rings)
        for r in rings:
            segs.append(np.hstack([r[:-1], r[1:]]))
    return polygons, np.vstack(segs)


def _inside_ring_count(ring: np.ndarray, x: float, y: float) -> int:
    x1, y1 = ring[:-1, 0], ring[:-1, 1]
    x2, y2 = ring[1:, 0], ring[1:, 1]
    crosses = (y1 > y) != (y2 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        xint = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
    return int(np.count_nonzero(crosses & (x < xint)))


def _distance_to_segments(segs: np.ndarray, x: float, y: float) -> float:
    x1, y1, x2, y2 = segs.T
    dx, dy = x2 - x1, y2 - y1
    ll = dx * dx + dy * dy
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(ll > 0, ((x - x1) * dx + (y - y1) * dy) / ll, 0.0)
    t = np.clip(t, 0.0, 1.0)
    px, py = x1 + t * dx, y1 + t * dy
    return float(np.sqrt(np.min((px - x) ** 2 + (py - y) ** 2)))


def point_in_country(alpha3: str, lat: float, lon: float, tolerance_deg: float = 0.5) -> bool | None:
    """True when the point is inside the country's shipped (1:110m) boundary or within
    ``tolerance_deg`` degrees of it; None when the boundary is not shipped."""
    shape = _shape(alpha3)
    if shape is None:
        return None
    polygons, segs = shape
    for rings in polygons:
        # even-odd over the outer ring and its holes
        if sum(_inside_ring_count(r, lon, lat) for r in rings) % 2 == 1:
            return True
    return _distance_to_segments(segs, lon, lat) <= tolerance_deg
