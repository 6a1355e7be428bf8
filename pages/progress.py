"""Progress: the learning cycle of every pilot, what is overdue, and the LINK tools."""

import streamlit as st

from linkdash import catalogue, charts, quarters, ui

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
group_by = st.radio("Group pilots by", ["region", "value_chain"], horizontal=True,
                    format_func=lambda g: "Region" if g == "region" else "Value chain",
                    key="progress_group_by")

if view.milestones.empty:
    ui.no_data("No milestones reported yet for this selection (sheet **Progress**).")

st.subheader("Milestones")
ui.chart(charts.progress_gantt, as_of, group_by, key="gantt")
ui.pilot_links(view)

st.subheader("Overdue milestones")
overdue = ui.computed(charts.overdue_table, as_of)
if overdue.empty:
    st.success(f"Nothing overdue as of {ui.fmt_date(as_of)}.")
else:
    ui.table_with_pilot_links(overdue, view, name_column="Pilot")

st.subheader("LINK tools")
st.caption(" · ".join(f"{i + 1}. {catalogue.MILESTONE_LABELS[m]}"
                      for i, m in enumerate(catalogue.LINK_TOOLS)))
ui.chart(charts.link_tools_matrix, as_of, key="link_tools")
