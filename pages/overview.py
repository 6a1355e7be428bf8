"""Overview: the portfolio figures for the selected quarter, who reported, and the map."""

import streamlit as st

from linkdash import charts, figures, maps, ui

st.title("LINK pilots: overview")

portfolio = ui.load_portfolio()
flt = ui.current_filter()
view = ui.filtered_portfolio(portfolio)
quarter = ui.current_quarter(portfolio)
ui.filter_caption(portfolio)

if portfolio.pilots.empty:
    ui.no_data("The store holds no pilots yet. Upload a quarterly workbook on the "
               "**Upload** page (or load the demo data with `python -m linkdash demo`).")

figs = figures.portfolio_figures(portfolio, flt, quarter=quarter)
ui.kpi_cards(figs)

st.subheader("Reporting completeness")
reporting, total = figs.get("pilots_reporting"), figs.get("pilots_total")
if quarter and total:
    st.write(f"**{reporting or 0} of {total}** pilots reported indicators for **{quarter}**.")
else:
    st.write("No pilot has reported indicators yet.")
ui.show_chart(charts.reporting_grid_chart(view), key="reporting_grid")

st.subheader("Map")
map_choices = ui.map_figures()
chosen = st.selectbox("Figure on the map", list(map_choices), format_func=map_choices.get,
                      key="overview_map_figure")
ui.show_chart(maps.country_map(view, chosen, quarter), key="country_map")
