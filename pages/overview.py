"""Overview: the portfolio figures for the selected quarter, who reported, the map, and
"Export what you see" (data, indicators, slides and report of the filters)."""

import streamlit as st

from linkdash import charts, figures, maps, ui
from linkdash.portfolio import Filter

ui.page_start()

st.title("LINK pilots: overview")

portfolio = ui.load_portfolio()
flt = ui.current_filter()
quarter = ui.current_quarter(portfolio)
ui.filter_caption(portfolio)

if portfolio.pilots.empty:
    ui.no_data("The store holds no pilots yet. Upload a quarterly workbook on the "
               "**Upload** page (or load the demo data with `python -m linkdash demo`).")

# The same call as `python -m linkdash summary --quarter Q --json`.
figs = ui.computed(figures.portfolio_figures, flt, quarter, ui.current_as_of(portfolio), flt=Filter())
ui.kpi_cards(figs)

st.subheader("Reporting completeness")
reporting, total = figs.get("pilots_reporting"), figs.get("pilots_total")
if quarter and total:
    st.markdown(f"**{reporting or 0} of {total}** pilots reported indicators for **{quarter}**.")
else:
    st.markdown("No pilot has reported indicators yet.")
ui.chart(charts.reporting_grid_chart, key="reporting_grid")
ui.pilot_links(ui.filtered_portfolio(portfolio))

st.subheader("Map")
choices = ui.map_figures()
chosen = st.selectbox("Figure on the map", list(choices), format_func=choices.get,
                      key="overview_map_figure")
ui.chart(maps.country_map, chosen, quarter, key="country_map")

st.subheader("Export what you see")
st.caption(f"The files hold **{flt.describe()}**"
           + (f", quarter **{quarter}**" if quarter else "")
           + ": the data in the upload template's layout (re-importing it changes nothing), "
             "the Indicators sheet as csv, the slides and the report. Each file is built "
             "when you click it.")
ui.export_buttons(portfolio, flt=flt)
