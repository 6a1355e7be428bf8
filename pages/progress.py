"""Progress: where the pilots are in the learning cycle, what is overdue (the list the
Overview's "Milestones overdue" card leads to), each pilot's milestones and the LINK
tools. With more pilots than fit one timeline, the timeline and the tools come in parts
(those with most overdue first), kept in the URL like the grouping (``?group_by=``). On
a phone the timeline has one level of short row labels and each pilot's name above its
bars (the browser says how wide the page is: ``narrow_screen``)."""

import streamlit as st

from linkdash import catalogue, charts, quarters, ui
from linkdash.portfolio import Filter

# The browser says whether the main column is narrower than a chart on a phone
# (``ui.NARROW_CHART_PX``); it answers again only when that changes (a rotated phone).
_NARROW_JS = """
export default function(component) {
  const { data, setStateValue } = component;
  const narrow = () => {
    const main = document.querySelector("[data-testid='stMainBlockContainer']");
    return ((main && main.clientWidth) || window.innerWidth) < __PX__;
  };
  const report = () => { const n = narrow(); if (n !== Boolean(data)) setStateValue('narrow', n); };
  let timer = null;
  const onResize = () => { clearTimeout(timer); timer = setTimeout(report, 200); };
  window.addEventListener('resize', onResize);
  report();
  return () => { window.removeEventListener('resize', onResize); clearTimeout(timer); };
}
""".replace("__PX__", str(ui.NARROW_CHART_PX))


@st.cache_resource(show_spinner=False)
def _narrow_component():
    return st.components.v2.component("linkdash_narrow_screen", html="<span></span>", js=_NARROW_JS)


def narrow_screen() -> bool:
    """Whether the page is as narrow as a phone's (False until the browser has said)."""
    known = bool(st.session_state.get("_lp_narrow", False))
    st.html("<style>.st-key-lp_narrow { display: none; }</style>")
    result = _narrow_component()(key="lp_narrow", data=known, on_narrow_change=lambda: None,
                                 width="content")
    said = result.get("narrow") if hasattr(result, "get") else None
    if isinstance(said, bool):
        st.session_state["_lp_narrow"] = known = said
    return known


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
ui.chart(charts.progress_gantt, as_of, group_by, order, key="gantt", flt=shown, narrow=narrow_screen())
ui.pilot_links(view)

st.subheader("LINK tools")
st.caption(" · ".join(f"{i + 1}. {catalogue.MILESTONE_LABELS[m]}"
                      for i, m in enumerate(catalogue.LINK_TOOLS)))
ui.chart(charts.link_tools_matrix, as_of, order, key="link_tools", flt=shown)
