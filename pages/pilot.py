"""One pilot: its figures for the quarter (against the quarter before and its targets), its
facts and site, its milestones, its indicators against targets, its NBMP scores, its
lessons and the submissions that touched it. Reachable by URL: ``/pilot?pilot=KEN-DAIRY``
(``&indicator=...`` keeps the chosen indicator); every table or chart that names a pilot
links here (clicking a pilot's bar, point, cell or site marker opens its page). This
page's own charts name only this pilot, so clicking them does nothing."""

import streamlit as st

from linkdash import catalogue, charts, figures, maps, quarters, ui
from linkdash.portfolio import Filter

ui.page_start()

portfolio = ui.load_portfolio()
head = st.container()
pilot_id = ui.pilot_picker(portfolio)

if pilot_id is None:
    head.title("Pilot")
    ui.no_data("No pilots in the store yet." if portfolio.pilots.empty
               else "Choose a pilot above.")
    st.stop()

only = Filter(pilots=(pilot_id,))
one = portfolio.filtered(only)
facts = one.pilots.iloc[0]
head.title(facts.get("pilot_name") or pilot_id)

quarter = ui.current_quarter(portfolio)
as_of = ui.current_as_of(portfolio)
changes = ui.computed(figures.figure_changes, only, quarter, as_of, flt=Filter())
figs = {n: c.value for n, c in changes.items()}
if quarter:
    silent = ui.computed(figures.pilots_not_reporting, quarter, flt=only)
    did = silent.empty
    last = None if did else silent["last_reported"].iloc[0]
    st.caption(f"**{quarters.label(quarter)}** (the sidebar's quarter) against the quarter before and "
               "the pilot's targets · milestones as of "
               f"**{ui.fmt_date(as_of)}**"
               + ("" if did else f" · :orange[no report for {quarters.label(quarter)}"
                  + (f"; last report {quarters.label(last)}]" if last else "]")))
ui.kpi_cards(figs, list(ui.PILOT_CARDS), per_row=4, changes=changes, key="kpis_pilot",
             links={"milestones_overdue": "#milestones"})

c1, c2 = st.columns([3, 2])
with c1:
    ui.pilot_facts(facts)
with c2:
    ui.chart(maps.pilot_site_map, pilot_id, key="site_map", flt=Filter(), pilot_clicks=False)

st.subheader("Milestones", anchor="milestones")
st.caption(f"As of **{ui.fmt_date(as_of)}** (*Milestones as of* in the sidebar).")
ui.chart(charts.progress_gantt, as_of, "region", key="pilot_gantt", flt=only,
         pilot_clicks=False, narrow=ui.narrow_screen())

st.subheader("Income against the living income")
ui.chart(charts.income_trend, (pilot_id,), key="pilot_income", flt=Filter(), pilot_clicks=False)

st.subheader("Indicators against targets")
reported = [c for c in catalogue.numeric_indicators()
            if c in set(one.indicators["indicator"])] or catalogue.numeric_indicators()
labels = catalogue.indicators()
ui.check_link("indicator", [labels[c].label for c in reported], "the indicator",
              f"this pilot has not reported it; showing {labels[reported[0]].label.lower()}")
indicator = st.selectbox("Indicator", reported, format_func=lambda c: labels[c].label,
                         key="indicator", bind="query-params")
ui.chart(charts.indicator_trend, pilot_id, indicator, key="pilot_trend", flt=Filter(),
         pilot_clicks=False)

st.subheader("New Business Model Principles")
ui.chart(charts.nbmp_radar, pilot_id, key="pilot_nbmp", flt=Filter(), pilot_clicks=False)

st.subheader("Lessons")
if one.lessons.empty:
    ui.no_data("No lessons documented for this pilot yet.")
else:
    ui.lessons_view(one.lessons, with_pilot=False)

st.subheader("Submissions that touched this pilot")
subs = ui.submissions_for_pilot(pilot_id)
if subs.empty:
    st.caption("No submission has touched this pilot.")
else:
    st.dataframe(subs, hide_index=True, width="stretch", column_config=ui.SUBMISSION_CONFIG)
