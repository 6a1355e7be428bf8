"""Progress: where the pilots are in the learning cycle, what is overdue (the list the
Overview's "Milestones overdue" card leads to), each pilot's milestones and the LINK
tools. With more pilots than fit one timeline, the timeline and the tools come in parts
(those with most overdue first), kept in the URL like the grouping (``?group_by=``). On
a phone the timeline has one level of short row labels and each pilot's name above its
bars (the browser says how wide the page is: ``ui.narrow_screen``)."""

import streamlit as st

from linkdash import catalogue, charts, quarters, ui
from linkdash.portfolio import Filter

ui.page_start()

st.title("Progress through the learning cycle")

portfolio = ui.load_portfolio()
view = ui.filtered_portfolio(portfolio)
quarter = ui.current_quarter(portfolio)
ui.filter_caption(portfolio)
as_of = ui.current_as_of(portfolio)
st.markdown(f"Milestones as of **{ui.fmt_date(as_of)}**"
            + (f", the end of {quarters.label(quarter)}" if quarter and as_of == quarters.end_date(quarter)
               else "")
            + ". Change the date under *Milestones as of* in the sidebar.")

if view.milestones.empty:
    ui.no_data(ui.no_match_message() if ui.nothing_matches(portfolio)
               else "No milestones reported yet for this selection (sheet **Progress**).")

ui.chart(charts.milestone_summary_chart, as_of, key="milestone_summary")

st.subheader("Overdue milestones", anchor="overdue")
overdue = ui.computed(charts.overdue_table, as_of)
if overdue.empty:
    st.success(f"Nothing overdue as of {ui.fmt_date(as_of)}.")
else:
    ui.table_with_pilot_links(overdue, view, name_column="Pilot")

st.subheader("Milestones of each pilot")
GROUPS = {"region": "Region", "value_chain": "Value chain"}
ui.check_link("group_by", GROUPS.values(), "grouping", "pilots are grouped by region")
group_by = st.radio("Group pilots by", list(GROUPS), horizontal=True, format_func=GROUPS.get,
                    key="group_by", bind="query-params")
n = len(view.pilots)
order = None
if n > charts.GANTT_PILOTS_MAX:
    every = ui.computed(charts.attention_order, as_of)
    found = ui.find_pilot(view, "the timeline", key="find",
                          on_change=lambda: st.session_state.update(part=1))
    if found:  # the pilot asked for comes first
        every = [*found, *[p for p in every if p not in found]]
    start, stop = ui.pager(n, charts.GANTT_PILOTS_MAX, "pilots", key="part")
    order = tuple(every[start:stop])
    st.caption("Pilots with the most overdue milestones first, then the most days late.")
shown = Filter(pilots=order) if order else None
narrow = ui.narrow_screen()  # (once a run: it is an element)
ui.chart(charts.progress_gantt, as_of, group_by, order, key="gantt", flt=shown, narrow=narrow)
ui.pilot_links(view)

st.subheader("LINK tools")
st.caption(" · ".join(f"{i + 1}. {catalogue.MILESTONE_LABELS[m]}"
                      for i, m in enumerate(catalogue.LINK_TOOLS))
           + (f"  \n{charts.TOOL_SIGNS_KEY}" if narrow else ""))  # a phone's cells
ui.chart(charts.link_tools_matrix, as_of, order, key="link_tools", flt=shown)
