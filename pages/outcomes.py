"""Outcomes: income, inclusiveness, business and the New Business Model Principles.
Only the open tab is drawn. Every choice is kept in the URL (``?tab=Business&measure=
Volume+sold``, ``?who=Youth``, ``?find=`` a pilot), so a pasted link shows the same view.
With many pilots the rankings name the lowest and the highest (and the pilot found)."""

import streamlit as st

from linkdash import catalogue, charts, ui

ui.page_start()

st.title("Outcomes")

portfolio = ui.load_portfolio()
view = ui.filtered_portfolio(portfolio)
quarter = ui.current_quarter(portfolio)
ui.filter_caption(portfolio)

if view.indicators.empty:
    ui.no_data(ui.no_match_message() if ui.nothing_matches(portfolio)
               else "No indicator values reported yet for this selection (sheet **Indicators**).")

TABS = ["Income", "Inclusiveness", "Business", "New Business Model Principles"]
ui.check_link("tab", TABS, "the tab", "showing the Income tab")
income, inclusive, business, nbmp = st.tabs(TABS, key="tab", on_change="rerun", bind="query-params")

if income.open:
    with income:
        find = ui.find_pilot(view, "the rankings")
        ui.chart(charts.income_to_living_income_chart, quarter, key="income_vs_living_income", find=find)
        ui.chart(charts.income_trend, key="income_trend")
        c1, c2 = st.columns(2)
        with c1:
            ui.chart(charts.living_income_share_chart, quarter, key="living_income", find=find)
        with c2:
            ui.chart(charts.income_gender_gap_chart, quarter, key="gender_gap", find=find)

if inclusive.open:
    with inclusive:
        find = ui.find_pilot(view, "the ranking")
        c1, c2 = st.columns(2)
        WHO, AMONG = ["women", "youth"], ["participants", "members", "leaders"]
        ui.check_link("who", [w.capitalize() for w in WHO], "the group", "showing women")
        ui.check_link("among", [a.capitalize() for a in AMONG], "the group", "showing participants")
        who = c1.radio("Who", WHO, horizontal=True, key="who", format_func=str.capitalize,
                       bind="query-params")
        group = c2.radio("Among", AMONG, horizontal=True, key="among", format_func=str.capitalize,
                         bind="query-params")
        ui.chart(charts.inclusiveness_bars, quarter, group, who, key="incl_bars", find=find)
        ui.chart(charts.inclusiveness_trend, who, key="incl_trend")

if business.open:
    with business:
        codes = ["sales_usd", "volume_sold", "buyers_with_agreements", "prototypes_tested"]
        labels = catalogue.indicators()
        ui.check_link("measure", [labels[c].label for c in codes], "the indicator",
                      f"showing {labels[codes[0]].label.lower()}")
        indicator = st.selectbox("Indicator", codes, format_func=lambda c: labels[c].label,
                                 key="measure", bind="query-params")
        ui.chart(charts.business_chart, indicator, key="business_total")
        find = ui.find_pilot(view, "the ranking")
        ui.chart(charts.business_ranking_chart, indicator, quarter, key="business", find=find)

if nbmp.open:
    with nbmp:
        st.caption(" · ".join(catalogue.NBMP_LABELS.values()))
        ui.chart(charts.nbmp_radar, key="nbmp_radar")

with st.expander("Open a pilot's page"):
    ui.pilot_links(view, label="Every chart above names pilots; each has its own page:")
