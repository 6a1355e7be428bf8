"""Overview: the portfolio figures for the selected quarter against the quarter before and
their targets, who reported (and who did not), the map, and "Export what you see" (data,
indicators, slides and report of the filters)."""

import streamlit as st

from linkdash import charts, figures, maps, quarters, ui
from linkdash.portfolio import Filter

ui.page_start()

st.title("LINK pilots: overview")

portfolio = ui.load_portfolio()
flt = ui.current_filter()
quarter = ui.current_quarter(portfolio)
as_of = ui.current_as_of(portfolio)
ui.filter_caption(portfolio)

if portfolio.pilots.empty:
    ui.no_data("The store holds no pilots yet. Upload a quarterly workbook on the "
               "**Upload** page (or load the demo data with `python -m linkdash demo`).")

# The same call as `python -m linkdash summary --quarter Q --json`.
figs = ui.computed(figures.portfolio_figures, flt, quarter, as_of, flt=Filter())
changes = ui.computed(figures.figure_changes, flt, quarter, as_of, flt=Filter())
ui.kpi_cards(figs, changes=changes, key="kpis",
             links={"milestones_overdue": "progress", "pilots_reporting": "#reporting"})

st.subheader("Reporting completeness", anchor="reporting")
reporting, total = figs.get("pilots_reporting"), figs.get("pilots_total")
view = ui.filtered_portfolio(portfolio)
if ui.nothing_matches(portfolio):
    st.markdown(ui.no_match_message())
elif quarter and total:
    st.markdown(f"**{reporting or 0} of {total}** pilots reported indicators for "
                f"**{quarters.label(quarter)}**.")
    silent = ui.computed(figures.pilots_not_reporting, quarter)
    ui.not_reporting(silent, quarter)
else:
    st.markdown("No pilot has reported indicators yet.")
ui.chart(charts.reporting_grid_chart, quarter, key="reporting_grid")
ui.pilot_links(view)

st.subheader("Map")
choices = ui.map_figures()
ui.check_link("map", choices.values(), "the map figure",
              f"the map shows {choices['households_reached'].lower()}")
chosen = st.selectbox("Figure on the map", list(choices), format_func=choices.get, key="map",
                      bind="query-params")
ui.chart(maps.country_map, chosen, quarter, key="country_map")

st.subheader("Export what you see")
st.caption(f"The files hold **{flt.describe()}**"
           + (f", quarter **{quarter}**" if quarter else "")
           + ": the data in the upload template's layout (re-importing it changes nothing), "
             "the Indicators sheet as csv, the slides and the report. Each file is built "
             "when you click it.")
ui.export_buttons(portfolio, flt=flt)
