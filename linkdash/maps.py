"""Maps that draw with no internet.

The shipped Natural Earth boundaries (``data/countries_110m.geojson``) projected here
(Web Mercator) and drawn as plain shapes: filled ``go.Scatter`` traces on hidden axes in
the pages and the report, PowerPoint shapes in the deck (``static_country_map``). No
tiles, no fonts, no CDN, no WebGL: a map costs a browser without a graphics card what any
chart costs, and draws in a report opened from disk. Names appear in hover labels.

Per-country values come from ``figures.portfolio_figures`` on a one-country filter, so a
country's colour always agrees with the KPI cards for that country.

Site markers stand for pilots: each carries ``customdata = [pilot_id]`` (the convention
of ``linkdash.charts``: the id at ``charts.PILOT_CUSTOMDATA_INDEX``), so clicking one on a
page opens that pilot's page. A country may hold several pilots, so countries carry no
id; clicking one selects nothing visible (its unselected look is its normal look).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache, lru_cache

import pandas as pd
import plotly.colors as pcolors
import plotly.graph_objects as go

from linkdash import catalogue, figures, quarters, style
from linkdash.charts import pilot_customdata
from linkdash.portfolio import Portfolio
from linkdash.values import is_missing

GEOJSON_PATH = catalogue.DATA_DIR / "countries_110m.geojson"
# Figures a map can show, with their label and how to read the number.
MAP_FIGURES: dict[str, tuple[str, str]] = {
    "households_reached": ("Households reached", "count"),
    "participants_total": ("Participants", "count"),
    "women_share_participants": ("Women's share of participants", "share"),
    "youth_share_participants": ("Youth share of participants", "share"),
    "women_share_members": ("Women's share of members", "share"),
    "youth_share_members": ("Youth share of members", "share"),
    "women_share_leaders": ("Women's share of leaders", "share"),
    "income_avg_usd": ("Average household income (USD/year)", "money"),
    "share_above_living_income": ("Share of households above living income", "share"),
    "sales_usd": ("Sales (USD)", "money"),
    "pilots_total": ("Pilots", "count"),
    "pilots_reporting": ("Pilots reporting", "count"),
    "milestones_completed": ("Milestones completed", "count"),
    "milestones_overdue": ("Milestones overdue", "count"),
}

# Viewport assumed when fitting the view (Streamlit's wide column; the deck uses 1200x700).
VIEW_WIDTH_PX = 900
VIEW_HEIGHT_PX = 520
COLORBAR_PX = 100  # the colour bar and its labels, right of the map
# Sequential scale for values: Blues without its near-white end, so any value reads as
# "has data" and stays distinct from the grey of "no data" and the light land.
VALUE_SCALE_START = 0.3
VALUE_COLORSCALE = [[i / 8, c] for i, c in enumerate(pcolors.sample_colorscale(
    "Blues", [VALUE_SCALE_START + (1 - VALUE_SCALE_START) * i / 8 for i in range(9)]))]
SITE_MAP_WIDTH_PX = 340  # the Pilot page shows the site map in a third of the width
SITE_VIEW_PX = (420, 320)  # the site map's view (px) the pilot's country is fitted into
# The pages' maps project their shapes for a box this many times the view, the view in its
# middle: a chart wider than the view shows more land around it instead of white space.
SURROUND = 3
LAND_LINE = ("#C8C8C8", 0.5)  # other countries' borders: colour, width (px)
# Pilot sites' dots keep their full size while all of them together cover at most this share
# of the map; with more sites they get smaller (never under SITE_MIN_PX), so that at hundreds
# of pilots the countries' colours, the figure the map is for, still show between them.
SITE_COVER = 0.04
SITE_PX = 14  # a site's dot on the pages' map, at full size
SITE_MIN_PX = 5.0
# On a phone the page's map is about this wide (px, the colour bar aside): its dots are sized
# for it (the page script's ``meta.narrow.sites``), and hidden until a value chain is tapped in
# the legend where even the smallest dots would cover more than SITE_COVER_PHONE_MAX of it.
PHONE_VIEW_PX = 300
SITE_COVER_PHONE_MAX = 2 * SITE_COVER
_TILE_PX = 512  # MapLibre's world is 512 px wide at zoom 0


@cache
def countries_geojson() -> dict:
    """The Natural Earth countries (177 features), loaded once."""
    with open(GEOJSON_PATH, encoding="utf-8") as fh:
        return json.load(fh)


@cache
def country_names() -> dict[str, str]:
    return {f["properties"]["iso_a3"]: f["properties"]["name"] for f in countries_geojson()["features"]}


@cache
def _country_bounds() -> dict[str, tuple[float, float, float, float]]:
    """alpha-3 -> (min_lon, min_lat, max_lon, max_lat)."""
    out = {}
    for f in countries_geojson()["features"]:
        xs, ys = [], []
        geom = f["geometry"]
        polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        for poly in polys:
            for ring in poly:
                for x, y in ring:
                    xs.append(x)
                    ys.append(y)
        if xs:
            out[f["properties"]["iso_a3"]] = (min(xs), min(ys), max(xs), max(ys))
    return out


# --- view fitting -------------------------------------------------------------------

def _merc_y(lat: float) -> float:
    lat = max(min(lat, 85.0), -85.0)
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def fit_view(lons: list[float], lats: list[float], width_px: int = VIEW_WIDTH_PX,
             height_px: int = VIEW_HEIGHT_PX, padding: float = 0.15,
             max_zoom: float = 5.5) -> tuple[dict, float]:
    """Center and zoom (MapLibre) showing every point of the bounding box with a margin."""
    if not lons:
        return {"lat": 10.0, "lon": 40.0}, 1.0
    min_lon, max_lon, min_lat, max_lat = min(lons), max(lons), min(lats), max(lats)
    mid_y = (_merc_y(min_lat) + _merc_y(max_lat)) / 2
    center = {"lon": (min_lon + max_lon) / 2,
              "lat": math.degrees(2 * math.atan(math.exp(mid_y)) - math.pi / 2)}
    lon_span = max(max_lon - min_lon, 1e-6) * (1 + 2 * padding)
    y_span = max(_merc_y(max_lat) - _merc_y(min_lat), 1e-6) * (1 + 2 * padding)
    zoom_x = math.log2(width_px * 360.0 / (_TILE_PX * lon_span))
    zoom_y = math.log2(height_px * 2 * math.pi / (_TILE_PX * y_span))
    zoom = max(0.0, min(zoom_x, zoom_y, max_zoom))
    return center, round(zoom, 2)


def _sites(pilots: pd.DataFrame) -> pd.DataFrame:
    """Pilots with numeric coordinates."""
    p = pilots
    if p.empty:
        return p
    sites = p.copy()
    sites["latitude"] = pd.to_numeric(sites["latitude"], errors="coerce")
    sites["longitude"] = pd.to_numeric(sites["longitude"], errors="coerce")
    return sites.dropna(subset=["latitude", "longitude"])


def _view_for(portfolio: Portfolio, width_px: int, height_px: int) -> tuple[dict, float]:
    """Fit the pilot sites' bounding box; countries without coordinates widen it by
    their boundary, so every pilot country is in view."""
    sites = _sites(portfolio.pilots)
    lons = sites["longitude"].tolist() if not sites.empty else []
    lats = sites["latitude"].tolist() if not sites.empty else []
    located = set(sites["country"]) if not sites.empty else set()
    bounds = _country_bounds()
    for c in portfolio.pilots["country"].dropna().unique():
        if c not in located and c in bounds:
            x0, y0, x1, y1 = bounds[c]
            lons += [x0, x1]
            lats += [y0, y1]
    return fit_view(lons, lats, width_px, height_px)


# --- per-country values ----------------------------------------------------------------

def country_values(portfolio: Portfolio, figure: str, quarter: str | None) -> pd.DataFrame:
    """One row per pilot country: ``country``, ``name``, ``value`` (None = no data),
    ``text`` (formatted), ``pilots`` (names). Values from ``figures.figures_by`` (the same
    definitions as ``portfolio_figures`` on a one-country filter)."""
    rows = []
    names = country_names()
    pilots = portfolio.pilots[portfolio.pilots["country"].notna()]
    by_country = figures.figures_by(portfolio, "country", quarter=quarter, names=(figure,))
    # one pass over the pilots (not a selection per country): labels and names by country
    labels = _pilot_labels(pilots)
    listed = labels.groupby(pilots["country"], sort=True).agg(", ".join)
    named = pilots["country_name"].where(pilots["country_name"].notna()).groupby(pilots["country"]).first()
    for c in listed.index:
        value = by_country.get(c, {}).get(figure)
        if is_missing(value):
            value = None
        name = named.get(c)
        rows.append({
            "country": c,
            "name": name if isinstance(name, str) else names.get(c, c),
            "value": value,
            "text": format_value(figure, value),
            "pilots": listed[c],
        })
    return pd.DataFrame(rows, columns=["country", "name", "value", "text", "pilots"])


def format_value(figure: str, value: object) -> str:
    try:
        return figures.format_figure(figure, value)
    except (AttributeError, KeyError, TypeError, ValueError):
        kind = MAP_FIGURES.get(figure, ("", "count"))[1]
        return {"share": style.fmt_share, "money": style.fmt_usd}.get(kind, style.fmt_number)(value)


def _pilot_labels(pilots: pd.DataFrame) -> pd.Series:
    """``_pilot_label`` of every row: the pilot's name, or its id without one."""
    name = pilots["pilot_name"]
    ok = name.map(lambda v: isinstance(v, str) and bool(v.strip())).astype(bool)
    return name.where(ok, pilots["pilot_id"]).astype(str)


def _pilot_label(row: pd.Series) -> str:
    name = row.get("pilot_name")
    return str(name) if isinstance(name, str) and name.strip() else str(row["pilot_id"])


def _no_data_map(title: str, message: str) -> go.Figure:
    # Local import: charts imports maps-free modules only, and the no-data look is shared.
    from linkdash.charts import no_data_figure
    return no_data_figure(title, message)


# --- traces ------------------------------------------------------------------------------

def _texts(frame: pd.DataFrame, col: str, fallback: list[str]) -> list[str]:
    """The column's texts, ``fallback`` where a row has none."""
    values = frame[col].tolist() if col in frame else [None] * len(frame)
    return [v if isinstance(v, str) else f for v, f in zip(values, fallback)]


def site_px(n_sites: int, width: float, height: float, largest: float) -> float:
    """A pilot site's dot diameter (px) for ``n_sites`` dots on a ``width`` x ``height`` map:
    ``largest`` while the dots cover at most ``SITE_COVER`` of the map (a few pilots, as
    today's 13), smaller as sites are added, never under ``SITE_MIN_PX``. The page's map and
    the deck's use it, so both thin out the same way."""
    if n_sites <= 0:
        return float(largest)
    fits = math.sqrt(SITE_COVER * width * height * 4 / (math.pi * n_sites))
    return max(SITE_MIN_PX, min(float(largest), math.floor(fits * 10) / 10))


def _site_trace(sites: pd.DataFrame, project, size: float = SITE_PX) -> list[go.Scatter]:
    """Pilot sites at ``project(lon, lat)``, one trace per value chain (so the legend
    explains the colours); ``size``: the dot's diameter, its white halo a little wider."""
    halo = _halo_px(size)
    traces = []
    for vc, grp in sites.groupby("value_chain", sort=True):
        at_site = [f"{v}, " if v else "" for v in _texts(grp, "site", [""] * len(grp))]
        places = _texts(grp, "country_name", grp["country"].astype(str).tolist())
        orgs = _texts(grp, "producer_org", [style.value_chain_label(vc)] * len(grp))
        hover = [f"<b>{label}</b><br>{site}{place}<br>{org}"
                 for label, site, place, org in zip(_pilot_labels(grp), at_site, places, orgs)]
        xy = [project(lon, lat) for lon, lat in zip(grp["longitude"].tolist(), grp["latitude"].tolist())]
        x, y = [round(p[0], 1) for p in xy], [round(p[1], 1) for p in xy]
        # A white halo under each dot keeps it readable over a coloured country.
        traces.append(go.Scatter(x=x, y=y, mode="markers", marker=dict(size=halo, color="white"),
                                 hoverinfo="skip", showlegend=False, legendgroup=str(vc)))
        traces.append(go.Scatter(
            x=x, y=y, mode="markers",
            marker=dict(size=size, color=style.value_chain_color(vc), opacity=0.95),
            name=style.value_chain_label(vc), legendgroup=str(vc), text=hover,
            hovertemplate="%{text}<extra></extra>",
            customdata=pilot_customdata(grp["pilot_id"].tolist()),
            unselected=dict(marker=dict(opacity=0.95))))
    return traces


def _halo_px(size: float) -> float:
    """A site dot's white halo: 5 px wider at 14 px, 2 px for small dots."""
    return size + max(2.0, round(size * 0.36, 1))


def phone_sites(n_sites: int, view_w: float, view_h: float) -> dict | None:
    """How a map's ``n_sites`` dots show on a phone, where the map drawn for a
    ``view_w`` x ``view_h`` view is about ``PHONE_VIEW_PX`` wide: ``{"size", "halo",
    "hide"}`` (``hide``: even the smallest dots would cover more than
    ``SITE_COVER_PHONE_MAX`` of it, so they wait for a tap on the legend); None without sites."""
    if n_sites <= 0 or view_w <= 0:
        return None
    w, h = PHONE_VIEW_PX, PHONE_VIEW_PX * view_h / view_w
    size = site_px(n_sites, w, h, largest=SITE_PX)
    cover = n_sites * math.pi / 4 * size ** 2 / (w * h)
    return {"size": size, "halo": _halo_px(size), "hide": cover > SITE_COVER_PHONE_MAX}


def _share_or_money_colorbar(figure: str) -> dict:
    kind = MAP_FIGURES.get(figure, ("", "count"))[1]
    fmt = {"share": ".0%", "money": "$,.0f"}.get(kind, "~s")
    return dict(tickformat=fmt, thickness=16, len=0.75, x=1.0, xanchor="left",
                tickfont=dict(size=style.BASE_FONT_SIZE - 2))


def country_map(portfolio: Portfolio, figure: str = "households_reached",
                quarter: str | None = None, *, width_px: int = VIEW_WIDTH_PX,
                height_px: int = VIEW_HEIGHT_PX) -> go.Figure:
    """Pilot countries coloured by ``figure`` for ``quarter`` (default: the latest quarter
    with data), countries without data in grey ("no data" on hover), other countries as
    light land, pilot sites as markers coloured by value chain; view fitted to the pilots.

    Plain SVG shapes: the countries of ``static_country_map`` (the deck's map: the same
    values, colours and view), projected for a box three times the view so that a chart
    wider or taller than ``width_px`` x ``height_px`` shows more land around (the axes keep
    the map's proportions) and dragging pans over land. Not MapLibre: in a browser without
    a graphics card a MapLibre map costs one to two seconds of drawing; and the same
    figure draws in a report opened from disk, where MapLibre's worker cannot start."""
    label = MAP_FIGURES.get(figure, (figure.replace("_", " ").capitalize(), "count"))[0]
    quarter = quarter or portfolio.latest_quarter()
    when = quarters.quarter_text(quarter)
    title = f"{label} by country, {when}"
    if portfolio.pilots.empty:
        return _no_data_map(title, "No pilots in this selection")

    values = country_values(portfolio, figure, quarter)
    any_value = bool(values["value"].notna().any())
    # the colour bar takes its width from the map's
    view_w = width_px - (COLORBAR_PX if any_value else 0) - 20
    shapes = static_country_map(portfolio, figure, quarter, width=view_w, height=height_px,
                                surround=SURROUND, values=values)
    hover = {r.country: f"<b>{r.name}</b><br>{label}: {r.text if r.value is not None else style.NO_DATA}"
                        f"<br>Pilots: {r.pilots}" for r in values.itertuples(index=False)}
    # pilot countries' fills, the land over them (an enclave stays land), the outlines on top
    traces = [_shape_trace(area.rings, fill=area.fill, hover=hover[area.iso], name=area.name, iso=area.iso)
              for area in shapes.countries]
    traces.append(_shape_trace([r for a in shapes.land for r in a.rings], fill=style.LAND_FILL,
                               line=LAND_LINE, name="Other countries"))
    for line in ("#909090", "#505050"):  # countries without data, then with
        outlined = [r for a in shapes.countries if a.line == line for r in a.rings]
        if outlined:
            traces.append(_shape_trace(outlined, line=(line, 1.0), name="Borders"))
    project, _ = _mercator(*shapes.view, shapes.width, shapes.height)
    located = _sites(portfolio.pilots)
    dot = site_px(len(located), view_w, height_px, largest=SITE_PX)
    first_site = len(traces)
    traces += _site_trace(located, project, size=dot)
    sites = list(range(first_site, len(traces)))  # halo, dot, halo, dot...
    phone = phone_sites(len(located), view_w, height_px)
    if shapes.scale:
        traces.append(go.Scatter(  # the colour bar only (a trace with no point)
            x=[None], y=[None], mode="markers", hoverinfo="skip", showlegend=False,
            marker=dict(colorscale=VALUE_COLORSCALE, cmin=shapes.scale.zmin, cmax=shapes.scale.zmax,
                        color=[shapes.scale.zmin], showscale=True,
                        colorbar=_share_or_money_colorbar(figure))))
    fig = _map_figure(traces)
    grey = "Grey countries: no data for this quarter. " if shapes.no_data else ""
    style.apply_layout(fig, title, subtitle=grey + "Dots: pilot sites by value chain", width_px=width_px)
    if phone:  # the page script sizes the dots for a phone (and hides them where too many)
        narrow: dict[str, object] = {"sites": {"dots": sites[1::2], "halos": sites[0::2], **phone}}
        if phone["hide"]:
            narrow["sub_narrow"] = (grey + f"{len(located):,} pilot sites: tap a value chain below "
                                    "to show its sites")
        style.update_layout(fig, meta={**dict(fig.layout.meta or {}), "narrow": narrow})
    _map_axes(fig, view_w, height_px, taller="domain")
    style.update_layout(fig,
        margin=dict(l=10, r=10, t=style.top_margin(fig), b=10),
        # small dots (many sites) keep full-size symbols in the legend
        legend=dict(orientation="h", yanchor="top", y=-0.02, x=0.01, title=dict(text=""),
                    **({"itemsizing": "constant"} if dot < SITE_PX else {})),
        height=height_px + style.top_margin(fig) + 10,
    )
    return fig


def _shape_trace(rings, *, fill: str | None = None, line: tuple[str, float] | None = None,
                 hover: str | None = None, name: str | None = None, iso: str | None = None) -> go.Scatter:
    """Rings (px) as one trace: filled with ``fill``, outlined with ``line`` (colour,
    width). With ``hover`` the shape shows it when the mouse is over it (one country: its
    alpha-3 in ``meta``); without, it does not hover."""
    x, y = _rings_xy(rings)
    look: dict = dict(mode="lines", line=dict(color=line[0], width=line[1])) if line else dict(mode="none")
    if fill:
        look.update(fill="toself", fillcolor=fill)
    if hover:
        look.update(hoveron="fills", text=hover, meta=iso)
    else:
        look.update(hoverinfo="skip")
    return go.Scatter(x=x, y=y, name=name, showlegend=False, _validate=False, **look)


def _map_figure(traces: list) -> go.Figure:
    """A map's figure of its traces, the shapes' coordinates not validated: plotly checks
    each of a map's tens of thousands of coordinates one by one, when a trace is made and
    again when it is added to a figure (0.2 to 0.3 s of a 1,000-pilot Overview's filter
    change). The coordinates are ours (whole px and gaps); the site traces are checked as
    they are made, layout changes made afterwards are checked as in any figure, and
    ``tests/test_maps.py`` rebuilds every map with every check on."""
    return go.Figure(data=traces, _validate=False)


def _map_axes(fig: go.Figure, view_w: float, view_h: float, *, fixed: bool = False,
              taller: str = "range") -> None:
    """Hidden axes opening on the view in the middle of its ``SURROUND`` box (y down),
    in the map's proportions: a chart wider than the view widens the x range (more land
    left and right). A chart taller than the view (a phone) widens the y range with
    ``taller="range"``; with ``taller="domain"`` the map keeps the view and shrinks to
    its width, at the top of the chart (no polar ocean and ice above and below it)."""
    hidden = dict(visible=False, showgrid=False, zeroline=False, fixedrange=fixed)
    x0, y0 = (SURROUND - 1) / 2 * view_w, (SURROUND - 1) / 2 * view_h
    style.update_layout(fig, xaxis=dict(hidden, range=[x0, x0 + view_w], constrain="range"),
                             yaxis=dict(hidden, range=[y0 + view_h, y0], scaleanchor="x", scaleratio=1,
                                        constrain=taller, constraintoward="top"),
                             plot_bgcolor="white", hovermode="closest")


def _rings_xy(rings) -> tuple[list, list]:
    """Rings (px, to the nearest px: finer than the outlines' own detail) as one trace's x
    and y, each ring closed and ended by a gap (plotly fills each gap-separated part of a
    ``fill="toself"`` trace on its own)."""
    xs: list = []
    ys: list = []
    for ring in rings:
        xs += [round(x) for x, _ in ring] + [round(ring[0][0]), None]
        ys += [round(y) for _, y in ring] + [round(ring[0][1]), None]
    return xs, ys


def pilot_site_map(portfolio: Portfolio, pilot_id: str) -> go.Figure:
    """A small map of one pilot's site in its country.

    A locator, drawn as plain SVG shapes (the deck's projected countries) rather than a
    MapLibre map: in a browser without a graphics card a MapLibre map costs a second or
    two of drawing, for a view nobody needs to pan. The shapes are projected for a box
    three times the view's size, so a chart wider or taller than the view shows more of
    the land around (the axes keep the map's proportions) instead of white space."""
    p = portfolio.pilots[portfolio.pilots["pilot_id"] == pilot_id]
    title = f"Where {pilot_id} works"
    if p.empty:
        return _no_data_map(title, f"No pilot {pilot_id} in this selection")
    row = p.iloc[0]
    title = f"Where {_pilot_label(row)} works"
    country = row["country"]
    sites = _sites(p)
    bounds = _country_bounds().get(country)
    lons = sites["longitude"].tolist()
    lats = sites["latitude"].tolist()
    if bounds:
        lons += [bounds[0], bounds[2]]
        lats += [bounds[1], bounds[3]]
    w, h = SITE_VIEW_PX
    center, zoom = fit_view(lons, lats, w, h, padding=0.1, max_zoom=7)
    box_w, box_h = float(SURROUND * w), float(SURROUND * h)
    rings = _projected_countries(round(center["lon"], 6), round(center["lat"], 6), zoom, box_w, box_h)
    project, _ = _mercator(center, zoom, box_w, box_h)
    color = style.hex_to_rgba(style.value_chain_color(row["value_chain"]), 0.18)
    name = str(row.get("country_name") if isinstance(row.get("country_name"), str) else country)
    own = rings.get(country, ())
    # the country's fill, the land over it (an enclave stays land), then its outline on top
    fig = _map_figure([
        _shape_trace(own, fill=color, hover=name, name=name, iso=country),
        _shape_trace([r for iso, rr in rings.items() if iso != country for r in rr],
                     fill=style.LAND_FILL, line=LAND_LINE, name="Other countries"),
        _shape_trace(own, line=("#505050", 1.0)),
        *_site_trace(sites, project, size=18)])
    style.apply_layout(fig, title, subtitle=None if not sites.empty else "No coordinates for the site",
                       width_px=SITE_MAP_WIDTH_PX)
    _map_axes(fig, w, h, fixed=True)
    style.update_layout(fig,
        dragmode=False, margin=dict(l=5, r=5, t=style.top_margin(fig, -10), b=5),
        height=h + style.top_margin(fig, -10), showlegend=False)
    return fig


# --- the map as shapes (the slide deck: no browser) ---------------------------------------
# The deck draws the map with PowerPoint shapes, not a picture: no headless browser (which
# took most of a deck's time), crisp on a projector and editable. ``static_country_map``
# gives what to draw as plain data: the countries' rings projected (Web Mercator, the view
# ``country_map`` fits) into a box of ``width`` x ``height`` px and clipped to it, each
# country's fill from the same values and colour scale as ``country_map``, the pilot sites
# and the legends. The projected boundaries are kept per view (``_projected_countries``).

@dataclass(frozen=True)
class MapArea:
    """One country: ``rings`` in px of the map box (y down), clipped to the box."""
    iso: str
    name: str
    fill: str
    line: str
    line_px: float
    rings: tuple[tuple[tuple[float, float], ...], ...]
    text: str = ""  # "Kenya: 1,470" (the value as the hover says it), "" for context land


@dataclass(frozen=True)
class MapSite:
    x: float
    y: float
    color: str
    label: str
    pilot_id: str


@dataclass(frozen=True)
class ColourScale:
    label: str
    zmin: float
    zmax: float
    ticks: tuple[tuple[float, str], ...]  # (value, text) from zmin to zmax

    def color(self, value: float) -> str:
        return value_color(value, self.zmin, self.zmax)


@dataclass(frozen=True)
class StaticMap:
    width: float
    height: float
    land: tuple[MapArea, ...]  # the other countries, for context
    countries: tuple[MapArea, ...]  # the pilot countries (valued or no data)
    sites: tuple[MapSite, ...]
    scale: ColourScale | None  # None when no pilot country has a value
    chains: tuple[tuple[str, str], ...]  # (value chain label, colour) of the sites shown
    no_data: bool  # some pilot country is grey (no data for the quarter)
    title: str
    view: tuple[dict, float] = ({"lon": 0.0, "lat": 0.0}, 0.0)  # the view's centre and zoom


def value_range(values) -> tuple[float, float]:
    """The colour scale's ends for ``values`` (counts, money and shares start at 0)."""
    z = [float(v) for v in values]
    zmin = 0.0 if min(z) >= 0 else min(z)
    return zmin, max(max(z), zmin + 1e-9)


def value_color(value: float, zmin: float, zmax: float) -> str:
    """The ``VALUE_COLORSCALE`` colour (``#rrggbb``) of ``value`` on the scale zmin..zmax."""
    f = min(max((float(value) - zmin) / (zmax - zmin), 0.0), 1.0)
    rgb = pcolors.sample_colorscale(VALUE_COLORSCALE, [f])[0]
    r, g, b = (round(float(v)) for v in rgb[rgb.index("(") + 1:-1].split(","))
    return f"#{r:02X}{g:02X}{b:02X}"


def nice_ticks(zmin: float, zmax: float, n: int = 5) -> list[float]:
    """About ``n`` round values (1, 2, 2.5 or 5 times a power of ten) from zmin to zmax."""
    span = zmax - zmin
    if span <= 0:
        return [zmin]
    raw = span / max(n - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(zmin / step) * step
    return [round(first + i * step, 10) for i in range(int((zmax - first) / step + 1e-9) + 1)]


def _mercator(center: dict, zoom: float, width: float, height: float):
    """lon, lat -> x, y in px of a ``width`` x ``height`` box (MapLibre's view)."""
    world = _TILE_PX * 2 ** zoom
    x0 = (center["lon"] + 180.0) / 360.0 * world - width / 2
    y0 = (1 - _merc_y(center["lat"]) / math.pi) / 2 * world - height / 2

    def project(lon: float, lat: float) -> tuple[float, float]:
        return ((lon + 180.0) / 360.0 * world - x0, (1 - _merc_y(lat) / math.pi) / 2 * world - y0)
    return project, world


def _clip(ring: list[tuple[float, float]], width: float, height: float) -> list[tuple[float, float]]:
    """Sutherland-Hodgman: the ring cut to the box (fills stay right; edges on the box)."""
    def cut(points, inside, cross):
        out = []
        for i, cur in enumerate(points):
            prev = points[i - 1]
            if inside(cur):
                if not inside(prev):
                    out.append(cross(prev, cur))
                out.append(cur)
            elif inside(prev):
                out.append(cross(prev, cur))
        return out

    def at_x(x):
        return lambda a, b: (x, a[1] + (b[1] - a[1]) * (x - a[0]) / (b[0] - a[0]))

    def at_y(y):
        return lambda a, b: (a[0] + (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]), y)

    pts = ring
    for inside, cross in ((lambda p: p[0] >= 0, at_x(0.0)), (lambda p: p[0] <= width, at_x(width)),
                          (lambda p: p[1] >= 0, at_y(0.0)), (lambda p: p[1] <= height, at_y(height))):
        if not pts:
            break
        pts = cut(pts, inside, cross)
    return pts


def _thin(ring: list[tuple[float, float]], tolerance: float = 0.75) -> list[tuple[float, float]]:
    """The ring without the detail no one can see (Ramer-Douglas-Peucker): every point
    dropped lies within ``tolerance`` px of the simplified outline."""
    n = len(ring)
    if n < 4:
        return ring
    keep = [False] * n
    keep[0] = keep[-1] = True
    stack = [(0, n - 1)]
    while stack:
        i, j = stack.pop()
        (x0, y0), (x1, y1) = ring[i], ring[j]
        dx, dy = x1 - x0, y1 - y0
        length = math.hypot(dx, dy)
        far, at = -1.0, -1
        for k in range(i + 1, j):
            x, y = ring[k]
            d = (abs(dy * (x - x0) - dx * (y - y0)) / length if length
                 else math.hypot(x - x0, y - y0))
            if d > far:
                far, at = d, k
        if far > tolerance:
            keep[at] = True
            stack += [(i, at), (at, j)]
    return [p for p, k in zip(ring, keep) if k]


@lru_cache(maxsize=8)
def _projected_countries(center_lon: float, center_lat: float, zoom: float, width: float,
                         height: float) -> dict[str, tuple[tuple[tuple[float, float], ...], ...]]:
    """Every country's rings in the view, projected, clipped to the box and thinned;
    countries out of view are left out. A world narrower than the box repeats (as
    MapLibre draws it)."""
    project, world = _mercator({"lon": center_lon, "lat": center_lat}, zoom, width, height)
    out: dict[str, tuple] = {}
    for f in countries_geojson()["features"]:
        geom = f["geometry"]
        polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        rings = []
        for poly in polys:
            for ring in poly:
                pts = [project(lon, lat) for lon, lat in ring]
                xs = [p[0] for p in pts]
                ys = [p[1] for p in pts]
                if max(ys) < 0 or min(ys) > height:
                    continue
                for k in (-1, 0, 1):
                    dx = k * world
                    if max(xs) + dx < 0 or min(xs) + dx > width:
                        continue
                    shifted = [(x + dx, y) for x, y in pts] if dx else pts
                    inside = (min(xs) + dx >= 0 and max(xs) + dx <= width
                              and min(ys) >= 0 and max(ys) <= height)
                    cut = shifted if inside else _clip(shifted, width, height)
                    if len(cut) >= 3:
                        thin = _thin(cut)
                        if len(thin) >= 3:
                            rings.append(tuple(thin))
        if rings:
            out[f["properties"]["iso_a3"]] = tuple(rings)
    return out


def static_country_map(portfolio: Portfolio, figure: str = "households_reached",
                       quarter: str | None = None, *, width: float = 930,
                       height: float = 500, surround: int = 1,
                       values: pd.DataFrame | None = None) -> StaticMap:
    """The map as plain shapes for a ``width`` x ``height`` px view: the values
    (``country_values``, or ``values`` already made), colour scale, grey for no data, land
    for context, sites by value chain, and the view fitted to the pilots. ``surround``:
    the shapes are projected for a box that many times the view (the view in its middle;
    ``country_map`` keeps land around the view)."""
    label = MAP_FIGURES.get(figure, (figure.replace("_", " ").capitalize(), "count"))[0]
    quarter = quarter or portfolio.latest_quarter()
    when = quarters.quarter_text(quarter)
    title = f"{label} by country, {when}"
    if portfolio.pilots.empty:
        return StaticMap(width, height, (), (), (), None, (), False, title)
    if values is None:
        values = country_values(portfolio, figure, quarter)
    center, zoom = _view_for(portfolio, int(width), int(height))
    width, height = float(width * surround), float(height * surround)
    rings = _projected_countries(round(center["lon"], 6), round(center["lat"], 6), zoom,
                                 width, height)
    have = values[values["value"].notna()]
    scale = None
    if not have.empty:
        zmin, zmax = value_range(have["value"])
        scale = ColourScale(label, zmin, zmax, tuple(
            (t, format_value(figure, t)) for t in nice_ticks(zmin, zmax) if zmin <= t <= zmax + 1e-9))
    countries = []
    pilot_countries = set(values["country"])
    for r in values.itertuples(index=False):
        if r.country not in rings:
            continue
        if r.value is None or is_missing(r.value):
            countries.append(MapArea(r.country, str(r.name), style.NO_DATA_FILL, "#909090", 1.0,
                                     rings[r.country], f"{r.name}: {label} {style.NO_DATA}"))
        else:
            assert scale is not None  # a value makes the scale
            countries.append(MapArea(r.country, str(r.name), scale.color(r.value), "#505050", 1.0,
                                     rings[r.country], f"{r.name}: {label} {r.text}"))
    names = country_names()
    land = tuple(MapArea(iso, names.get(iso, iso), style.LAND_FILL, *LAND_LINE, rr)
                 for iso, rr in rings.items() if iso not in pilot_countries)
    project, _ = _mercator(center, zoom, float(width), float(height))
    sites, chains = [], []
    located = _sites(portfolio.pilots)
    for vc, grp in located.groupby("value_chain", sort=True):
        shown = 0
        color = style.value_chain_color(vc)
        for lon, lat, label, pid in zip(grp["longitude"].tolist(), grp["latitude"].tolist(),
                                        _pilot_labels(grp).tolist(), grp["pilot_id"].tolist()):
            x, y = project(float(lon), float(lat))
            if 0 <= x <= width and 0 <= y <= height:
                sites.append(MapSite(x, y, color, label, str(pid)))
                shown += 1
        if shown:
            chains.append((style.value_chain_label(vc), color))
    return StaticMap(float(width), float(height), land, tuple(countries), tuple(sites), scale,
                     tuple(chains), bool(values["value"].isna().any()), title, (center, zoom))
