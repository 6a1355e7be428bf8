"""Outcomes: income, inclusiveness, business and the New Business Model Principles.
Only the open tab is drawn; the tab is kept in the URL (``?tab=Business``)."""

import streamlit as st

from linkdash import catalogue, charts, ui

ui.page_start()

st.title("Outcomes")

portfolio = ui.load_portfolio()
view = ui.filtered_portfolio(portfolio)
quarter = ui.current_quarter(portfolio)
ui.filter_caption(portfolio)

if view.indicators.empty:
    ui.no_data("No indicator values reported yet for this selection (sheet **Indicators**).")

income, inclusive, business, nbmp = st.tabs(
    ["Income", "Inclusiveness", "Business", "New Business Model Principles"],
    key="tab", on_change="rerun", bind="query-params")

if income.open:
    with income:
        ui.chart(charts.income_to_living_income_chart, quarter, key="income_vs_living_income")
        ui.chart(charts.income_trend, key="income_trend")
        c1, c2 = st.columns(2)
        with c1:
            ui.chart(charts.living_income_share_chart, quarter, key="living_income")
        with c2:
            ui.chart(charts.income_gender_gap_chart, quarter, key="gender_gap")

if inclusive.open:
    with inclusive:
        c1, c2 = st.columns(2)
        who = c1.radio("Who", ["women", "youth"], horizontal=True, key="incl_who",
                       format_func=str.capitalize)
        group = c2.radio("Among", ["participants", "members", "leaders"], horizontal=True,
                         key="incl_group", format_func=str.capitalize)
        ui.chart(charts.inclusiveness_bars, quarter, group, who, key="incl_bars")
        ui.chart(charts.inclusiveness_trend, who, key="incl_trend")

if business.open:
    with business:
        codes = ["sales_usd", "volume_sold", "buyers_with_agreements", "prototypes_tested"]
        labels = catalogue.indicators()
        indicator = st.selectbox("Indicator", codes, format_func=lambda c: labels[c].label,
                                 key="business_indicator")
        ui.chart(charts.business_chart, indicator, key="business")

if nbmp.open:
    with nbmp:
        st.caption(" · ".join(catalogue.NBMP_LABELS.values()))
        ui.chart(charts.nbmp_radar, key="nbmp_radar")

with st.expander("Open a pilot's page"):
    ui.pilot_links(view, label="Every chart above names pilots; each has its own page:")
