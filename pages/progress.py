"""Progress: the learning cycle of every pilot, what is overdue, and the LINK tools."""

import streamlit as st

from linkdash import catalogue, charts, ui

ui.page_start()

st.title("Progress through the learning cycle")

portfolio = ui.load_portfolio()
view = ui.filtered_portfolio(portfolio)
ui.filter_caption(portfolio, with_quarter=False)

c1, c2 = st.columns([1, 3])
as_of = c1.date_input("As of", value=ui.today(), key="progress_as_of",
                      help="Milestones are completed or overdue as of this date.")
group_by = c2.radio("Group pilots by", ["region", "value_chain"], horizontal=True,
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
    st.success(f"Nothing overdue as of {as_of:%d %b %Y}.")
else:
    ui.table_with_pilot_links(overdue, view, name_column="Pilot")

st.subheader("LINK tools")
st.caption(" · ".join(f"{i + 1}. {catalogue.MILESTONE_LABELS[m]}"
                      for i, m in enumerate(catalogue.LINK_TOOLS)))
ui.chart(charts.link_tools_matrix, as_of, key="link_tools")
