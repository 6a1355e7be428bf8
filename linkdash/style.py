"""The look shared by every chart, map, slide and report: colours, number formats and
the base layout.

Colours are colour-blind safe: value chains use the Okabe-Ito palette, regions Paul
Tol's "muted" colours (so a region is never mistaken for a value chain), statuses a
grey-blue-green scale with vermillion reserved for "overdue". Every page, the deck
and the HTML report take their colours from here, so "dairy cows" is the same blue
everywhere.
"""

from __future__ import annotations

import math
from numbers import Number

import pandas as pd
import plotly.graph_objects as go

from linkdash import catalogue

NO_DATA = "no data"

# --- colours ------------------------------------------------------------------

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO = {
    "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7", "black": "#000000", "grey": "#999999",
}

VALUE_CHAIN_COLORS: dict[str, str] = {
    "dairy_cow": OKABE_ITO["blue"],
    "dairy_goat": OKABE_ITO["sky_blue"],
    "goat_meat": OKABE_ITO["orange"],
    "sheep": OKABE_ITO["reddish_purple"],
    "chicken_meat": OKABE_ITO["vermillion"],
    "chicken_eggs": OKABE_ITO["bluish_green"],
    "indigenous_rice": "#B8A800",  # Okabe-Ito yellow darkened to read on white
    "swine": OKABE_ITO["black"],
    "other": OKABE_ITO["grey"],
}

# Paul Tol, "muted" qualitative scheme.
REGION_COLORS: dict[str, str] = {
    "Asia": "#882255",        # wine
    "Africa": "#44AA99",      # teal
    "Latin America": "#DDCC77",  # sand
}

STATUS_COLORS: dict[str, str] = {
    "completed": OKABE_ITO["bluish_green"],
    "in_progress": OKABE_ITO["blue"],
    "not_started": "#D0D0D0",
    "dropped": "#7F7F7F",
    "overdue": OKABE_ITO["vermillion"],
}
STATUS_LABELS: dict[str, str] = {
    "completed": "Completed", "in_progress": "In progress",
    "not_started": "Not started", "dropped": "Dropped", "overdue": "Overdue",
}

PLANNED_COLOR = "rgba(120, 120, 120, 0.25)"  # light bars for planned periods
PORTFOLIO_COLOR = "#333333"      # the portfolio (weighted) line / reference
REFERENCE_COLOR = "#666666"      # baselines, targets, benchmarks
NO_DATA_FILL = "#BDBDBD"         # countries / cells without data (darker than LAND_FILL)
LAND_FILL = "#F4F4F4"            # context land on maps
BORDER_COLOR = "#FFFFFF"

# Line dashes to tell apart pilots that share a value chain colour.
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "star")

FONT_FAMILY = "Arial, Helvetica, sans-serif"
BASE_FONT_SIZE = 16
TITLE_FONT_SIZE = 22


def value_chain_color(code: object) -> str:
    return VALUE_CHAIN_COLORS.get(str(code), VALUE_CHAIN_COLORS["other"])


def value_chain_label(code: object) -> str:
    return catalogue.VALUE_CHAIN_LABELS.get(str(code), str(code))


def region_color(region: object) -> str:
    return REGION_COLORS.get(str(region), OKABE_ITO["grey"])


def status_color(status: object) -> str:
    return STATUS_COLORS.get(str(status), STATUS_COLORS["not_started"])


def hex_to_rgba(color: str, alpha: float) -> str:
    """``#0072B2`` -> ``rgba(0, 114, 178, 0.3)`` (integer channels: plotly.js 4 parses
    colours strictly)."""
    h = color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r}, {g}, {b}, {alpha:g})"


# --- number formats -------------------------------------------------------------

def is_missing(x: object) -> bool:
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):  # array-likes are not "missing"
        return False


def _trim(text: str) -> str:
    return text[:-2] if text.endswith(".0") else text


def fmt_number(x: object) -> str:
    """Short numbers for cards and labels: ``12400`` -> ``"12.4k"``, ``1250000`` ->
    ``"1.3M"``, ``950`` -> ``"950"``, ``12.5`` -> ``"12.5"``; ``None``/NaN -> ``"no data"``."""
    if is_missing(x):
        return NO_DATA
    v = float(x)  # type: ignore[arg-type]
    a = abs(v)
    sign = "-" if v < 0 else ""
    if a >= 999.95:
        for limit, suffix in ((1e3, "k"), (1e6, "M"), (1e9, "B")):
            scaled = _round_half_up(a / limit, 1)
            if scaled < 1000 or suffix == "B":
                return sign + _trim(f"{scaled:.1f}") + suffix
    if v == int(v):
        return f"{int(v):d}"
    if a < 1:
        return f"{v:.2g}"
    return sign + _trim(f"{_round_half_up(a, 1):.1f}")


def _round_half_up(a: float, digits: int) -> float:
    f = 10 ** digits
    return math.floor(a * f + 0.5) / f


def fmt_share(x: object) -> str:
    """A fraction as a whole percentage: ``0.48`` -> ``"48%"``; ``None`` -> ``"no data"``."""
    if is_missing(x):
        return NO_DATA
    return f"{float(x) * 100:.0f}%"  # type: ignore[arg-type]


def fmt_usd(x: object) -> str:
    """Whole US dollars with thousands separators: ``1234.4`` -> ``"$1,234"``,
    ``-50`` -> ``"-$50"``; ``None`` -> ``"no data"``."""
    if is_missing(x):
        return NO_DATA
    v = round(float(x))  # type: ignore[arg-type]
    return f"-${-v:,d}" if v < 0 else f"${v:,d}"


def fmt_indicator(code: str, x: object) -> str:
    """Format a value of a catalogue indicator by its kind (money as USD, scores with
    one decimal, counts short)."""
    if is_missing(x):
        return NO_DATA
    ind = catalogue.indicators().get(code)
    if ind is not None and ind.kind == "money":
        return fmt_usd(x)
    if code.endswith("_share") or "_share_" in code or code.startswith("share_"):
        return fmt_share(x)
    if ind is not None and ind.kind == "score":
        return f"{float(x):.1f}"  # type: ignore[arg-type]
    return fmt_number(x)


def is_number(x: object) -> bool:
    return isinstance(x, Number) and not is_missing(x)


# --- layout --------------------------------------------------------------------------

def base_layout() -> dict:
    """Large readable fonts for projection, white background, light grid."""
    axis = dict(showgrid=True, gridcolor="#E5E5E5", zeroline=False, linecolor="#BBBBBB",
                ticks="outside", tickcolor="#BBBBBB", automargin=True,
                title=dict(font=dict(size=BASE_FONT_SIZE)), tickfont=dict(size=BASE_FONT_SIZE - 2))
    return dict(
        font=dict(family=FONT_FAMILY, size=BASE_FONT_SIZE, color="#222222"),
        paper_bgcolor="white",
        plot_bgcolor="white",
        xaxis=axis,
        yaxis=axis,
        legend=dict(font=dict(size=BASE_FONT_SIZE - 2), bgcolor="rgba(255, 255, 255, 0.8)"),
        hoverlabel=dict(font=dict(size=BASE_FONT_SIZE - 2)),
        margin=dict(l=60, r=30, t=90, b=60),
        colorway=list(VALUE_CHAIN_COLORS.values()),
    )


def apply_layout(fig: go.Figure, title: str, subtitle: str | None = None) -> go.Figure:
    """Apply the shared look and a title (say what and when: "Women's share of
    participants, Q3 2017"); ``subtitle`` goes under it in smaller grey text."""
    fig.update_layout(**base_layout())
    t: dict = dict(text=title, x=0.01, xanchor="left", font=dict(size=TITLE_FONT_SIZE))
    if subtitle:
        t["subtitle"] = dict(text=subtitle, font=dict(size=BASE_FONT_SIZE - 2, color="#666666"))
    fig.update_layout(title=t)
    return fig
