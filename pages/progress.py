"""Progress: the learning cycle of every pilot, what is overdue, and the LINK tools."""

import streamlit as st

from linkdash import catalogue, charts, ui

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
ui.show_chart(charts.progress_gantt(view, as_of, group_by), key="gantt")

st.subheader("Overdue milestones")
overdue = charts.overdue_table(view, as_of)
if overdue.empty:
    st.success(f"Nothing overdue as of {as_of:%d %b %Y}.")
else:
    st.dataframe(ui.with_pilot_links(overdue), hide_index=True, width="stretch",
                 column_config={"pilot_id": ui.pilot_link_column()})

st.subheader("LINK tools")
st.caption(" · ".join(f"{i + 1}. {catalogue.MILESTONE_LABELS[m]}"
                      for i, m in enumerate(catalogue.LINK_TOOLS)))
ui.show_chart(charts.link_tools_matrix(view, as_of), key="link_tools")
