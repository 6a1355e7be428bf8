"""Maps: drawn from the shipped boundaries with no tiles or fonts from the internet,
coloured with the same numbers as the KPI cards."""

from __future__ import annotations

import re

import pytest
from test_charts import make_portfolio  # the small portfolio with gaps

from linkdash import charts, figures, maps, style
from linkdash.portfolio import Filter, Portfolio


@pytest.fixture(scope="module")
def pf() -> Portfolio:
    return make_portfolio()


def choropleths(fig):
    return [t for t in fig.data if t.type == "choroplethmap"]


def data_trace(fig):
    return next(t for t in choropleths(fig) if t.showscale is not False)


def no_data_trace(fig):
    return next(t for t in choropleths(fig) if t.name and t.name.startswith("No data"))


def test_geojson_is_loaded_once_and_keyed_by_alpha3():
    gj = maps.countries_geojson()
    assert gj is maps.countries_geojson()
    codes = {f["properties"]["iso_a3"] for f in gj["features"]}
    assert {"KEN", "SEN", "VNM", "PHL", "CHN"} <= codes


def test_country_map_colours_countries_with_data_like_the_kpi_cards(pf):
    fig = maps.country_map(pf, "income_avg_usd", "2017-Q3")
    tr = data_trace(fig)
    assert tr.featureidkey == "properties.iso_a3"
    coloured = dict(zip(tr.locations, tr.z))
    assert set(coloured) == {"KEN", "SEN"}
    for c, z in coloured.items():
        expected = figures.portfolio_figures(pf, Filter(countries=(c,)), "2017-Q3")["income_avg_usd"]
        assert z == pytest.approx(expected)
    assert "2017" in fig.layout.title.text


def test_country_without_data_is_grey_with_no_data_on_hover(pf):
    fig = maps.country_map(pf, "income_avg_usd", "2017-Q3")
    nd = no_data_trace(fig)
    assert list(nd.locations) == ["VNM"]
    assert nd.colorscale[0][1] == style.NO_DATA_FILL
    assert "no data" in nd.text[0]
    # a quarter with data only for Kenya: Senegal turns grey
    fig = maps.country_map(pf, "households_reached", "2017-Q1")
    assert set(no_data_trace(fig).locations) == {"SEN", "VNM"}
    assert list(data_trace(fig).locations) == ["KEN"]


def test_land_layer_gives_context_without_hover(pf):
    fig = maps.country_map(pf)
    land = choropleths(fig)[0]
    assert land.hoverinfo == "skip"
    assert len(land.locations) > 150
    assert not {"KEN", "SEN", "VNM"} & set(land.locations)


def test_map_is_offline_white_bg_without_tiles_or_text(pf):
    fig = maps.country_map(pf, "women_share_participants", "2017-Q3")
    assert fig.layout.map.style == "white-bg"
    assert not fig.layout.map.layers  # no tile or vector sources
    assert not re.search(r"https?://", fig.to_json())
    for t in fig.data:
        if t.type == "scattermap":
            assert "text" not in (t.mode or "")  # text labels would fetch glyphs


def test_sites_are_markers_with_hover_and_view_fits_the_pilots(pf):
    fig = maps.country_map(pf)
    sites = [t for t in fig.data if t.type == "scattermap" and t.hoverinfo != "skip"]
    located = {(round(la, 2), round(lo, 2)) for t in sites for la, lo in zip(t.lat, t.lon)}
    assert located == {(-0.42, 36.95), (14.15, -16.07)}  # Vietnam has no coordinates
    hover = " ".join(x for t in sites for x in t.text)
    assert "Kenya dairy" in hover and "Senegal sheep" in hover
    center, zoom = fig.layout.map.center, fig.layout.map.zoom
    # the view spans Senegal to Vietnam (no site, so its boundary counts)
    assert -16.07 < center.lon < 109.5 and zoom > 0.5


def test_fit_view_zooms_in_on_a_small_area():
    c1, z_wide = maps.fit_view([-16, 121], [-13, 30])
    c2, z_small = maps.fit_view([36.0, 37.0], [-1.0, 0.0])
    assert z_small > z_wide
    assert c2["lon"] == pytest.approx(36.5) and -1 < c2["lat"] < 0


def test_empty_portfolio_map_is_no_data():
    fig = maps.country_map(Portfolio())
    assert charts.is_no_data(fig)
    assert "No pilots" in fig.layout.annotations[0].text


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

def test_the_static_map_colours_each_country_as_the_interactive_map(pf):
    fig = maps.country_map(pf, "households_reached", "2017-Q3")
    tr = data_trace(fig)
    smap = maps.static_country_map(pf, "households_reached", "2017-Q3", width=800, height=450)
    fills = {a.iso: a.fill for a in smap.countries}
    assert set(fills) == set(pf.pilots["country"])  # every pilot country is drawn
    for iso, z in zip(tr.locations, tr.z):
        assert fills[iso] == maps.value_color(z, tr.zmin, tr.zmax)
        assert _rgb(fills[iso]) != _rgb(style.NO_DATA_FILL)
    for iso in no_data_trace(fig).locations:
        assert fills[iso] == style.NO_DATA_FILL
    # the darkest country is the one with the most households: the colour says how many
    most = tr.locations[list(tr.z).index(max(tr.z))]
    assert sum(_rgb(fills[most])) == min(sum(_rgb(fills[i])) for i in tr.locations)
    assert (smap.scale.zmin, smap.scale.zmax) == (tr.zmin, tr.zmax)
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
    tr = data_trace(fig)
    low = _rgb(tr.colorscale[0][1])
    assert min(low) < 215 and low[2] > low[0] + 20  # a clear light blue, not near-white
    grey = _rgb(style.NO_DATA_FILL)
    land = _rgb(style.LAND_FILL)
    assert low != grey and low != land
    assert tr.zmin == 0 and tr.zmax >= max(tr.z)  # counts start at zero: colour says how many


def test_fitted_view_keeps_every_site_away_from_the_edges(pf):
    width, height = 900, 520
    fig = maps.country_map(pf, "households_reached", "2017-Q3", width_px=width, height_px=height)
    c, zoom = fig.layout.map.center, fig.layout.map.zoom
    px_per_deg = 512 * 2 ** zoom / 360
    drawn = width - maps.COLORBAR_PX - 20  # what the colour bar and margins leave to the map
    for t in fig.data:
        if t.type == "scattermap" and t.hoverinfo != "skip":
            for lon in t.lon:
                # at least 10% of the drawn width between a site and the left or right edge
                assert abs(lon - c.lon) * px_per_deg <= 0.4 * drawn, lon


def site_traces(fig):
    return [t for t in fig.data if t.type == "scattermap" and t.hoverinfo != "skip"]


def test_site_markers_carry_their_pilot_so_a_click_opens_its_page(pf):
    fig = maps.country_map(pf, "households_reached", "2017-Q3")
    sites = site_traces(fig)
    located = pf.pilots.dropna(subset=["latitude"]).set_index("pilot_id")
    marked = {}
    for t in sites:
        for cd, lat, lon in zip(t.customdata, t.lat, t.lon):
            marked[cd[charts.PILOT_CUSTOMDATA_INDEX]] = (lat, lon)
    assert set(marked) == set(located.index)  # VNM has no coordinates, so no marker
    for pid, (lat, lon) in marked.items():
        assert (lat, lon) == (located.loc[pid, "latitude"], located.loc[pid, "longitude"])
    assert charts.pilot_ids_in(fig) == set(located.index)
    # countries hold several pilots: they carry no id, and a click on one dims nothing
    for t in choropleths(fig):
        assert t.customdata is None
        if t.hoverinfo != "skip":
            assert t.unselected.marker.opacity == (t.marker.opacity if t.marker.opacity is not None else 1)


def test_site_map_marker_carries_its_pilot(pf):
    fig = maps.pilot_site_map(pf, "SEN-SHEEP")
    assert charts.pilot_ids_in(fig) == {"SEN-SHEEP"}


def test_the_app_serves_the_same_shapes_and_its_maps_name_them_by_url(pf):
    # static/ is what Streamlit serves at app/static/ (server.enableStaticServing): the
    # maps of the pages name the file there instead of carrying its shapes in every trace
    root = maps.GEOJSON_PATH.parent.parent
    assert (root / "static" / "countries_110m.geojson").read_bytes() == maps.GEOJSON_PATH.read_bytes()
    assert "enableStaticServing = true" in (root / ".streamlit" / "config.toml").read_text()
    p = pf
    fig = maps.country_map(p, geojson_url=maps.GEOJSON_URL)
    shapes = [t.geojson for t in choropleths(fig)]
    assert shapes and all(g == maps.GEOJSON_URL for g in shapes)
    assert len(fig.to_json()) < 50_000
    # without a URL (the report) the shapes stay inline
    assert isinstance(maps.country_map(p).data[0].geojson, dict)
