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
import re

import plotly.graph_objects as go

from linkdash import catalogue
from linkdash.values import is_missing

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
NOT_DUE_FILL = "#F4F4F4"         # grid cells where nothing was due (before a pilot started)

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


# Widths assumed when wrapping titles: Streamlit's main column with the sidebar open
# (about 820 px in a 1400 px window), and half of it.
CHART_WIDTH_PX = 820
HALF_WIDTH_PX = 400
# Average advance of a character of the title font, as a fraction of the font size
# (measured on the pages' titles: 0.46-0.48; a little more for titles with wide letters).
CHAR_WIDTH_EM = 0.5
# Words that belong together on a line: quarters ("Q3 2017"), dates ("29 Nov 2026").
_UNBROKEN = re.compile(r"Q[1-4] \d{4}|\d{1,2} [A-Z][a-z]{2} \d{4}|\S+")
LINE_HEIGHT_EM = 1.3
SUBTITLE_FONT_SIZE = BASE_FONT_SIZE - 2
TITLE_TOP_PX = 16  # from the top of the figure to the title
TITLE_GAP_PX = 24  # between the subtitle and the plot


def wrap_text(text: str, max_chars: int) -> str:
    """Break ``text`` at spaces into lines of at most ``max_chars`` characters joined with
    ``<br>`` (plotly's line break); a single word longer than a line stays whole, and so
    do quarters and dates ("Q4 2018", "29 Nov 2026"). When the text does not fit one line
    and the part before its last ", " does, the break goes there ("what" on the first
    line, "when" on the next). Existing ``<br>`` are kept as line breaks."""
    max_chars = max(int(max_chars), 8)
    out = []
    paras = []
    for para in text.split("<br>"):
        head, sep, tail = para.rpartition(", ")
        if len(para) > max_chars and sep and len(head) + 1 <= max_chars and len(tail) <= max_chars:
            paras += [head + ",", tail]
        else:
            paras.append(para)
    for para in paras:
        line = ""
        for word in _UNBROKEN.findall(para):
            if line and len(line) + 1 + len(word) > max_chars:
                out.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        out.append(line)
    return "<br>".join(out)


def chars_per_line(width_px: int, font_size: int) -> int:
    """How many characters of ``font_size`` fit on a line of a chart ``width_px`` wide
    (the title starts 1% in and keeps a small right margin)."""
    usable = width_px * 0.99 - 24
    return max(int(usable / (font_size * CHAR_WIDTH_EM)), 8)


def update_layout(fig: go.Figure, **changes) -> go.Figure:
    """``fig.update_layout(**changes)`` for nested dicts (``xaxis=dict(title=dict(text=
    ...))``, not plotly's ``xaxis_title_text`` shortcuts), made faster for many changes
    at once. Plotly's update checks and dispatches every property it touches on its own,
    under 1 ms each: the 31 of the shared look cost about 30 ms on a new chart. Beyond
    ``MERGED_FROM`` properties the layout is merged as plain dicts instead and set once
    (plotly checks it once, as any new layout): about 8 ms whatever it changes, so a
    change of a few properties is left to plotly. Either way the same layout: dicts merge
    into dicts, except ``meta`` (any value to plotly); any other value replaces what was
    there."""
    if _properties(changes) < MERGED_FROM:
        fig.update_layout(**changes)
        return fig
    return set_merged_layout(fig, changes)


# From this many properties changed at once, merging and setting the layout anew is
# faster than plotly's update (measured on a laid-out chart: 0.4 ms for one property,
# 3.7 ms for 6, 8.6 ms for 11 and 16 to 30 ms for 31, against 8 to 10 ms merged).
MERGED_FROM = 12


def _properties(changes: dict) -> int:
    return sum(_properties(v) if isinstance(v, dict) and k != "meta" else 1 for k, v in changes.items())


def set_merged_layout(fig: go.Figure, changes: dict) -> go.Figure:
    """:func:`update_layout`'s merge: ``changes`` merged into the layout as plain dicts,
    the result set as the figure's new layout."""
    current = fig.layout.to_plotly_json()
    # the template (plotly's default, 7 KB) is left out and set again by plotly: checking
    # it again would cost more than all the rest
    template = None if "template" in changes else current.pop("template", None)
    fig.layout = go.Layout(_merged(current, changes))
    if template is not None and fig.layout.template.to_plotly_json() != template:
        fig.layout.template = template  # not the default one: kept
    return fig


def _merged(base: dict, changes: dict) -> dict:
    out = dict(base)
    for key, value in changes.items():
        old = out.get(key)
        if key != "meta" and isinstance(value, dict) and isinstance(old, dict):
            value = _merged(old, value)
        out[key] = value
    return out


def apply_layout(fig: go.Figure, title: str, subtitle: str | None = None, *,
                 width_px: int = CHART_WIDTH_PX) -> go.Figure:
    """Apply the shared look and a title (say what and when: "Women's share of
    participants, Q3 2017"); ``subtitle`` goes under it in smaller grey text. Both wrap
    to the width the chart is expected to get (``width_px``: a full-width column by
    default, :data:`HALF_WIDTH_PX` for charts shown side by side), and the top margin
    grows so they never run into the plot or its tick labels."""
    # No title.automargin: plotly.js then shifts a multi-line title up out of the figure.
    # The title hangs from the top instead, and the top margin is made to fit it. A
    # multi-line title has its first baseline (not its top) at pad.t: pad it by the ascent.
    text = wrap_text(title, chars_per_line(width_px, TITLE_FONT_SIZE))
    pad = TITLE_TOP_PX + (round(0.75 * TITLE_FONT_SIZE) if "<br>" in text else 0)
    t: dict = dict(text=text, x=0.01, xanchor="left", y=1, yanchor="top", yref="container",
                   pad=dict(t=pad), font=dict(size=TITLE_FONT_SIZE))
    sub = wrap_text(subtitle, chars_per_line(width_px, SUBTITLE_FONT_SIZE)) if subtitle else None
    if sub:
        t["subtitle"] = dict(text=sub, font=dict(size=SUBTITLE_FONT_SIZE, color="#666666"))
    layout = base_layout()
    layout["title"] = t
    layout["margin"]["t"] = _title_height(text, pad, sub) + TITLE_GAP_PX
    return update_layout(fig, **layout)


def title_height(fig: go.Figure) -> int:
    """Pixels from the top of ``fig`` to the bottom of its title and subtitle (as
    plotly.js lays them out for :func:`apply_layout`), counting their lines."""
    t = fig.layout.title
    if not t.text:
        return 0
    pad = t.pad.t if t.pad and t.pad.t is not None else TITLE_TOP_PX
    return _title_height(t.text, pad, t.subtitle.text if t.subtitle else None)


def _title_height(text: str, pad: float, subtitle: str | None) -> int:
    lines = text.count("<br>") + 1
    line_px = TITLE_FONT_SIZE * LINE_HEIGHT_EM
    # the first baseline: pad + ascent for one line, pad itself for several (plotly.js)
    first = pad + (0.7 * TITLE_FONT_SIZE if lines == 1 else 0)
    h = first + (lines - 1) * line_px + 0.3 * TITLE_FONT_SIZE
    if subtitle:
        h += 0.3 * TITLE_FONT_SIZE + SUBTITLE_FONT_SIZE * (1 + (subtitle.count("<br>")) * LINE_HEIGHT_EM)
    return round(h)


def top_margin(fig: go.Figure, extra: int = 0) -> int:
    """The top margin that leaves room for the title and subtitle plus ``extra`` pixels
    (tick labels of an axis drawn at the top, a label above the plot)."""
    return title_height(fig) + TITLE_GAP_PX + extra
