"""Outcomes: income, inclusiveness, business and the New Business Model Principles."""

import streamlit as st

from linkdash import catalogue, charts, ui

st.title("Outcomes")

portfolio = ui.load_portfolio()
view = ui.filtered_portfolio(portfolio)
quarter = ui.current_quarter(portfolio)
ui.filter_caption(portfolio)

if view.indicators.empty:
    ui.no_data("No indicator values reported yet for this selection (sheet **Indicators**).")

income, inclusive, business, nbmp = st.tabs(
    ["Income", "Inclusiveness", "Business", "New Business Model Principles"])

with income:
    ui.show_chart(charts.income_trend(view), key="income_trend")
    c1, c2 = st.columns(2)
    with c1:
        ui.show_chart(charts.living_income_share_chart(view, quarter), key="living_income")
    with c2:
        ui.show_chart(charts.income_gender_gap_chart(view, quarter), key="gender_gap")

with inclusive:
    c1, c2 = st.columns(2)
    who = c1.radio("Who", ["women", "youth"], horizontal=True, key="incl_who",
                   format_func=str.capitalize)
    group = c2.radio("Among", ["participants", "members", "leaders"], horizontal=True,
                     key="incl_group", format_func=str.capitalize)
    if who == "youth" and group == "leaders":
        st.caption("Leaders are reported by sex only (no youth count in the workbook).")
    ui.show_chart(charts.inclusiveness_bars(view, quarter, group, who), key="incl_bars")
    ui.show_chart(charts.inclusiveness_trend(view, who), key="incl_trend")

with business:
    codes = ["sales_usd", "volume_sold", "buyers_with_agreements", "prototypes_tested"]
    labels = catalogue.indicators()
    indicator = st.selectbox("Indicator", codes, format_func=lambda c: labels[c].label,
                             key="business_indicator")
    ui.show_chart(charts.business_chart(view, indicator), key="business")

with nbmp:
    st.caption(" · ".join(catalogue.NBMP_LABELS.values()))
    ui.show_chart(charts.nbmp_radar(view), key="nbmp_radar")
