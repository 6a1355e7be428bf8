"""Maps: drawn from the shipped boundaries with no tiles or fonts from the internet,
coloured with the same numbers as the KPI cards."""

from __future__ import annotations

import math
import re

import pytest
from test_charts import make_portfolio  # the small portfolio with gaps

from linkdash import charts, figures, maps, style
from linkdash.portfolio import Filter, Portfolio


@pytest.fixture(scope="module")
def pf() -> Portfolio:
    return make_portfolio()


def countries(fig) -> dict:
    """The pilot countries of a map figure: alpha-3 (the trace's ``meta``) -> its trace."""
    return {t.meta: t for t in fig.data if t.hoveron == "fills"}


def colour_bar(fig):
    return next(t for t in fig.data if t.marker and t.marker.showscale)


def site_traces(fig):
    return [t for t in fig.data if t.mode == "markers" and t.hoverinfo != "skip"]


def _inside(x: float, y: float, xs: list, ys: list) -> bool:
    """Whether (x, y) lies in one of the gap-separated rings of xs/ys (even-odd rule)."""
    inside = False
    ring: list = []
    for px, py in list(zip(xs, ys)) + [(None, None)]:
        if px is not None:
            ring.append((px, py))
            continue
        for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]):
            if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
                inside = not inside
        ring = []
    return inside


def test_geojson_is_loaded_once_and_keyed_by_alpha3():
    gj = maps.countries_geojson()
    assert gj is maps.countries_geojson()
    codes = {f["properties"]["iso_a3"] for f in gj["features"]}
    assert {"KEN", "SEN", "VNM", "PHL", "CHN"} <= codes


def test_country_map_colours_countries_with_data_like_the_kpi_cards(pf):
    fig = maps.country_map(pf, "income_avg_usd", "2017-Q3")
    bar = colour_bar(fig)
    drawn = countries(fig)
    assert set(drawn) == {"KEN", "SEN", "VNM"}
    for c in ("KEN", "SEN"):
        expected = figures.portfolio_figures(pf, Filter(countries=(c,)), "2017-Q3")["income_avg_usd"]
        assert drawn[c].fillcolor == maps.value_color(expected, bar.marker.cmin, bar.marker.cmax)
        assert figures.format_figure("income_avg_usd", expected) in drawn[c].text  # on hover
    assert "2017" in fig.layout.title.text


def test_country_without_data_is_grey_with_no_data_on_hover(pf):
    fig = maps.country_map(pf, "income_avg_usd", "2017-Q3")
    vnm = countries(fig)["VNM"]
    assert vnm.fillcolor == style.NO_DATA_FILL and "no data" in vnm.text
    # a quarter with data only for Kenya: Senegal turns grey
    fig = maps.country_map(pf, "households_reached", "2017-Q1")
    grey = {c for c, t in countries(fig).items() if t.fillcolor == style.NO_DATA_FILL}
    assert grey == {"SEN", "VNM"}
    assert "Grey countries" in fig.layout.title.subtitle.text


def test_land_layer_gives_context_without_hover(pf):
    fig = maps.country_map(pf)
    land = next(t for t in fig.data if t.name == "Other countries")
    assert land.hoverinfo == "skip" and land.fill == "toself"
    assert sum(v is None for v in land.x) > 100  # one gap after each ring: the world's land


def test_map_is_plain_svg_shapes_with_nothing_fetched(pf):
    fig = maps.country_map(pf, "women_share_participants", "2017-Q3")
    assert {t.type for t in fig.data} == {"scatter"}  # no MapLibre (WebGL), no geo subplot
    assert not fig.layout.map.to_plotly_json() and not fig.layout.geo.to_plotly_json()
    assert not re.search(r"https?://", fig.to_json())
    assert len(fig.to_json()) < 200_000  # sent with each new figure: kept small
    # the map keeps its proportions: y grows downwards, one px on x is one px on y
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.range[0] > fig.layout.yaxis.range[1]


def test_sites_are_markers_with_hover_in_their_countries_and_the_view_fits_the_pilots(pf):
    fig = maps.country_map(pf)
    sites = site_traces(fig)
    hover = " ".join(x for t in sites for x in t.text)
    assert "Kenya dairy" in hover and "Senegal sheep" in hover
    drawn = countries(fig)
    at = {cd[charts.PILOT_CUSTOMDATA_INDEX]: (x, y) for t in sites
          for cd, x, y in zip(t.customdata, t.x, t.y)}
    assert set(at) == {"KEN-DAIRY", "SEN-SHEEP"}  # Vietnam's pilot has no coordinates
    for pid, iso in (("KEN-DAIRY", "KEN"), ("SEN-SHEEP", "SEN")):
        assert _inside(*at[pid], list(drawn[iso].x), list(drawn[iso].y)), pid
    # the view the axes open on spans Senegal's site to Vietnam (no site: its shape counts)
    xr = fig.layout.xaxis.range
    vnm_x = [v for v in drawn["VNM"].x if v is not None]
    assert xr[0] < at["SEN-SHEEP"][0] and max(vnm_x) <= xr[1]


def _dot_cover(fig) -> tuple[float, int, float]:
    """The site dots of a page map: their diameter, how many, and the share of the map's
    view (the axes' opening ranges, in px) they cover together."""
    dots = site_traces(fig)
    sizes = {t.marker.size for t in dots}
    assert len(sizes) == 1, sizes
    d, n = sizes.pop(), sum(len(t.x) for t in dots)
    xr, yr = fig.layout.xaxis.range, fig.layout.yaxis.range
    view = abs(xr[1] - xr[0]) * abs(yr[1] - yr[0])
    return d, n, n * math.pi * d * d / 4 / view


def test_at_13_pilots_the_sites_are_big_dots_with_a_white_halo(pf):
    d, n, _ = _dot_cover(maps.country_map(pf))
    assert d == 14 and n == 2
    halos = [t for t in maps.country_map(pf).data if t.mode == "markers" and t.hoverinfo == "skip"
             and t.marker.color == "white"]
    assert halos and all(t.marker.size == 19 for t in halos)


@pytest.mark.parametrize("regions", [(), ("Africa",)])
def test_at_1000_pilots_the_dots_leave_the_countries_colour_visible(regions):
    """At 14 px, 1,000 dots covered the map: the households reached by country, what the
    map is for, could not be seen. The dots now thin out with their number."""
    from test_charts import _generated

    big = _generated(1000, 4)
    view = big.filtered(Filter(regions=regions)) if regions else big
    fig = maps.country_map(view)
    d, n, cover = _dot_cover(fig)
    assert n >= 300
    assert maps.SITE_MIN_PX <= d < 14
    assert cover <= maps.SITE_COVER * 1.5  # (the axes open a little wider than the fitted box)
    assert fig.layout.legend.itemsizing == "constant"  # the legend's symbols stay readable
    halos = [t for t in fig.data if t.mode == "markers" and t.hoverinfo == "skip"
             and t.marker.color == "white"]
    assert all(d < t.marker.size <= d + 3 for t in halos)


def test_site_px_keeps_full_size_until_the_dots_would_cover_the_map():
    assert maps.site_px(13, 900, 520, largest=14) == 14
    assert maps.site_px(0, 900, 520, largest=14) == 14
    sizes = [maps.site_px(n, 900, 520, largest=14) for n in (50, 200, 400, 800, 5000)]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] == 14 and sizes[-1] == maps.SITE_MIN_PX
    for n, d in zip((200, 400, 800), sizes[1:4]):
        assert n * math.pi * d * d / 4 <= maps.SITE_COVER * 900 * 520 * 1.01


def test_on_a_phone_the_dots_are_sized_for_its_map_and_hidden_when_too_many(pf):
    """On a phone the page's map is a third as wide, its dots as big as on a laptop: 100
    sites of 14 px covered it, 1,000 of 5 px hid the countries' colours. The page script
    sizes them for a phone (``meta.narrow.sites``) and, when even the smallest would cover
    twice what a map's dots may, hides them until a value chain is tapped in the legend."""
    from test_charts import _generated

    small = maps.country_map(pf).layout.meta["narrow"]
    assert small["sites"]["size"] == 14 and not small["sites"]["hide"] and "sub_narrow" not in small
    for n, hidden in ((100, False), (1000, True)):
        fig = maps.country_map(_generated(n, 4))
        hint = fig.layout.meta["narrow"]
        st = hint["sites"]
        dots = [fig.data[i] for i in st["dots"]]
        halos = [fig.data[i] for i in st["halos"]]
        # the hint names the dot and halo traces, each value chain's pair in one legend group
        assert dots and all(t.showlegend is not False and t.hoverinfo != "skip" for t in dots)
        assert all(t.marker.color == "white" for t in halos)
        assert [t.legendgroup for t in dots] == [t.legendgroup for t in halos]
        assert st["hide"] is hidden
        assert maps.SITE_MIN_PX <= st["size"] < st["halo"]
        w = maps.PHONE_VIEW_PX
        h = w * maps.VIEW_HEIGHT_PX / (maps.VIEW_WIDTH_PX - maps.COLORBAR_PX - 20)  # the view, on a phone
        cover = n * math.pi * st["size"] ** 2 / 4 / (w * h)
        if hidden:
            assert cover > maps.SITE_COVER_PHONE_MAX
            assert f"{n:,} pilot sites: tap a value chain" in hint["sub_narrow"]
        else:
            assert cover <= maps.SITE_COVER * 1.01 and st["size"] < 14


def test_fit_view_zooms_in_on_a_small_area():
    c1, z_wide = maps.fit_view([-16, 121], [-13, 30])
    c2, z_small = maps.fit_view([36.0, 37.0], [-1.0, 0.0])
    assert z_small > z_wide
    assert c2["lon"] == pytest.approx(36.5) and -1 < c2["lat"] < 0


def test_empty_portfolio_map_is_no_data():
    fig = maps.country_map(Portfolio())
    assert charts.is_no_data(fig)
    assert "No pilots" in fig.layout.annotations[0].text


def test_pilot_site_map_shows_the_one_site_in_its_country(pf):
    fig = maps.pilot_site_map(pf, "KEN-DAIRY")
    assert "Kenya dairy" in fig.layout.title.text
    sites = [t for t in fig.data if t.mode == "markers" and t.hoverinfo != "skip"]
    assert len(sites) == 1 and len(sites[0].x) == 1
    kenya = next(t for t in fig.data if t.hoveron == "fills")  # hovering the country names it
    assert kenya.fill == "toself" and kenya.name in {"Kenya", "KEN"}
    x, y = sites[0].x[0], sites[0].y[0]
    assert _inside(x, y, list(kenya.x), list(kenya.y)), "the site is drawn outside Kenya"
    # Nyeri (36.95 E, 0.42 S): west of Kenya's middle, just south of the equator
    ks = [v for v in kenya.x if v is not None]
    assert min(ks) < x < (min(ks) + max(ks)) / 2
    # the whole country is in the view the axes open on; the map keeps its proportions
    xr, yr = fig.layout.xaxis.range, fig.layout.yaxis.range
    assert xr[0] <= min(ks) and max(ks) <= xr[1]
    kys = [v for v in kenya.y if v is not None]
    assert yr[1] <= min(kys) and max(kys) <= yr[0]  # y grows downwards (reversed range)
    assert fig.layout.yaxis.scaleanchor == "x"
    # land around for context, not hoverable
    land = next(t for t in fig.data if t.name == "Other countries")
    assert land.hoverinfo == "skip" and sum(v is None for v in land.x) > 3
    assert charts.is_no_data(maps.pilot_site_map(pf, "NOPE-X"))
    # a pilot without coordinates still shows its country, and says the site is missing
    vnm = maps.pilot_site_map(pf, "VNM-DAIRY")
    assert any(t.hoveron == "fills" and len(t.x) > 10 for t in vnm.data)
    assert "No coordinates" in vnm.layout.title.subtitle.text
    assert not [t for t in vnm.data if t.mode == "markers"]


def test_pilot_site_map_is_small_svg(pf):
    # plain SVG shapes (no MapLibre canvas, no shapes fetched), a few tens of KB
    for pid in pf.pilots["pilot_id"]:
        fig = maps.pilot_site_map(pf, pid)
        assert {t.type for t in fig.data} == {"scatter"}
        assert len(fig.to_json()) < 60_000


# --- the map as shapes (the slide deck) ---------------------------------------------------

def test_the_static_map_colours_each_country_by_its_value(pf):
    smap = maps.static_country_map(pf, "households_reached", "2017-Q3", width=800, height=450)
    fills = {a.iso: a.fill for a in smap.countries}
    assert set(fills) == set(pf.pilots["country"])  # every pilot country is drawn
    values = maps.country_values(pf, "households_reached", "2017-Q3").set_index("country")["value"]
    for iso, v in values.items():
        if v is None or v != v:  # no data (None, or NaN once in a Series)
            assert fills[iso] == style.NO_DATA_FILL
        else:
            assert fills[iso] == maps.value_color(v, smap.scale.zmin, smap.scale.zmax)
            assert _rgb(fills[iso]) != _rgb(style.NO_DATA_FILL)
    # the darkest country is the one with the most households: the colour says how many
    have = values.dropna()
    assert sum(_rgb(fills[have.idxmax()])) == min(sum(_rgb(fills[i])) for i in have.index)
    assert smap.scale.zmin == 0 and smap.scale.zmax == max(have)
    texts = [t for _, t in smap.scale.ticks]
    assert texts[0] == "0" and all(smap.scale.zmin <= v <= smap.scale.zmax for v, _ in smap.scale.ticks)
    assert smap.no_data  # the legend says what grey means


def test_the_static_map_stays_in_its_box_and_shows_the_sites_of_the_fitted_view(pf):
    w, h = 800, 450
    smap = maps.static_country_map(pf, "households_reached", "2017-Q3", width=w, height=h)
    for area in smap.land + smap.countries:
        for ring in area.rings:
            assert len(ring) >= 3
            assert all(-1e-6 <= x <= w + 1e-6 and -1e-6 <= y <= h + 1e-6 for x, y in ring), area.iso
    located = pf.pilots.dropna(subset=["latitude"])
    assert {s.pilot_id for s in smap.sites} == set(located["pilot_id"])  # every site in view
    for s in smap.sites:  # and away from the edges, as the fitted view of the page's map
        assert 0.05 * w <= s.x <= 0.95 * w and 0.05 * h <= s.y <= 0.95 * h
    # north is up and west is left: Kenya's site lies south-west of Vietnam's country
    ken = next(s for s in smap.sites if s.pilot_id == "KEN-DAIRY")
    vnm = next(a for a in smap.countries if a.iso == "VNM")
    assert ken.x < min(x for r in vnm.rings for x, _ in r) and ken.y > max(y for r in vnm.rings for _, y in r)
    assert {label for label, _ in smap.chains} == {style.value_chain_label(v) for v in located["value_chain"]}
    assert {a.iso for a in smap.land}.isdisjoint(a.iso for a in smap.countries)


def test_a_quarter_without_values_has_no_colour_scale_and_no_pilots_no_map(pf):
    smap = maps.static_country_map(pf, "households_reached", "2010-Q1")
    assert smap.scale is None and smap.no_data
    assert all(a.fill == style.NO_DATA_FILL for a in smap.countries)
    empty = maps.static_country_map(Portfolio())
    assert not empty.countries and not empty.land and not empty.sites


def test_nice_ticks_are_round_and_within_the_range():
    assert maps.nice_ticks(0, 1470) == [0, 500, 1000]
    assert maps.nice_ticks(0, 0.62) == [0, 0.2, 0.4, 0.6]
    assert maps.nice_ticks(0, 8) == [0, 2, 4, 6, 8]
    assert maps.nice_ticks(5, 5) == [5]


def _rgb(color: str) -> tuple[int, ...]:
    if color.startswith("#"):
        return tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))
    return tuple(int(float(v)) for v in re.findall(r"[\d.]+", color)[:3])


def test_the_lowest_value_is_a_visible_blue_not_white_and_not_the_no_data_grey(pf):
    fig = maps.country_map(pf, "households_reached", "2017-Q3")
    bar = colour_bar(fig)
    low = _rgb(bar.marker.colorscale[0][1])
    assert min(low) < 215 and low[2] > low[0] + 20  # a clear light blue, not near-white
    grey = _rgb(style.NO_DATA_FILL)
    land = _rgb(style.LAND_FILL)
    assert low != grey and low != land
    assert bar.marker.cmin == 0  # counts start at zero: colour says how many
    values = maps.country_values(pf, "households_reached", "2017-Q3").dropna(subset=["value"])
    assert bar.marker.cmax == values["value"].max()
    darkest = min(countries(fig).values(), key=lambda t: sum(_rgb(t.fillcolor)))
    assert darkest.meta == values.loc[values["value"].idxmax(), "country"]  # the most: darkest


def test_fitted_view_keeps_every_site_away_from_the_edges(pf):
    width, height = 900, 520
    fig = maps.country_map(pf, "households_reached", "2017-Q3", width_px=width, height_px=height)
    x0, x1 = fig.layout.xaxis.range
    y1, y0 = fig.layout.yaxis.range
    for t in site_traces(fig):
        for x, y in zip(t.x, t.y):
            # at least 10% of the view between a site and its left or right edge
            assert x0 + 0.1 * (x1 - x0) <= x <= x1 - 0.1 * (x1 - x0), x
            assert y0 <= y <= y1


def test_site_markers_carry_their_pilot_so_a_click_opens_its_page(pf):
    fig = maps.country_map(pf, "households_reached", "2017-Q3")
    located = pf.pilots.dropna(subset=["latitude"])
    assert charts.pilot_ids_in(fig) == set(located["pilot_id"])  # VNM has no coordinates
    for t in site_traces(fig):
        assert t.unselected.marker.opacity == t.marker.opacity  # a click dims no other site
    # countries hold several pilots: they carry no id, and have no marks a click could dim
    for t in countries(fig).values():
        assert t.customdata is None and t.mode == "none"


def test_site_map_marker_carries_its_pilot(pf):
    fig = maps.pilot_site_map(pf, "SEN-SHEEP")
    assert charts.pilot_ids_in(fig) == {"SEN-SHEEP"}


def test_the_page_map_and_the_deck_map_are_the_same_countries(pf):
    # the figure is drawn from static_country_map (the deck's shapes): same colours, same rings
    fig = maps.country_map(pf, "households_reached", "2017-Q3", width_px=900, height_px=520)
    smap = maps.static_country_map(pf, "households_reached", "2017-Q3", width=900 - maps.COLORBAR_PX - 20,
                                   height=520, surround=3)
    drawn = countries(fig)
    for area in smap.countries:
        assert drawn[area.iso].fillcolor == area.fill
        assert sum(v is None for v in drawn[area.iso].x) == len(area.rings)


def test_every_map_is_a_valid_plotly_figure_though_built_without_checking_each_point(pf):
    """The maps skip plotly's check of each coordinate (``maps._map_figure``: 0.2 to
    0.3 s of a 1,000-pilot filter change). Rebuilt with every check on, each map is the
    same figure: a wrong property or layout key fails here."""
    import plotly.graph_objects as go

    figs = [maps.country_map(pf), maps.country_map(pf, "living_income_share"),
            maps.country_map(pf.filtered(Filter(regions=("Africa",)))),
            *[maps.pilot_site_map(pf, p) for p in pf.pilots["pilot_id"]]]
    for fig in figs:
        spec = fig.to_plotly_json()
        checked = go.Figure(spec)  # raises ValueError on anything plotly does not know
        assert checked.to_plotly_json() == spec
        assert any(len(t.x or ()) > 50 for t in fig.data)  # the shapes are there
