"""Lessons: everything the pilots documented (moment 3), searchable and downloadable."""

import streamlit as st

from linkdash import catalogue, exports, ui

ui.page_start()

st.title("Lessons learned")

portfolio = ui.load_portfolio()
view = ui.filtered_portfolio(portfolio)
ui.filter_caption(portfolio, with_quarter=False)
lessons = view.lessons

# Every choice is in the URL (?lessons_q=milk+collection&lessons_kind=Challenge), so a
# pasted link shows the same lessons; a choice the data does not have is said.
text = st.text_input("Search the lessons", key="lessons_q", bind="query-params",
                     placeholder="e.g. milk collection")
quarter_options = sorted(lessons["quarter"].dropna().unique().tolist(), reverse=True)
ui.check_link("lessons_kind", [k.capitalize() for k in catalogue.LESSON_KINDS], "the kind of lesson",
              "it is left out of the search")
ui.check_link("lessons_milestone", catalogue.MILESTONE_LABELS.values(), "the milestone",
              "it is left out of the search")
ui.check_link("lessons_quarter", quarter_options, "the quarter", "no lesson of the selection has it")
c1, c2, c3 = st.columns(3)
kinds = c1.multiselect("Kind", list(catalogue.LESSON_KINDS), key="lessons_kind",
                       format_func=str.capitalize, placeholder="All kinds", bind="query-params")
milestones = c2.multiselect("Milestone", list(catalogue.MILESTONES), key="lessons_milestone",
                            format_func=catalogue.MILESTONE_LABELS.get,
                            placeholder="All milestones", bind="query-params")
quarters = c3.multiselect("Quarter", quarter_options, key="lessons_quarter",
                          placeholder="All quarters", bind="query-params")

found = ui.search_lessons(lessons, text, kinds, milestones, quarters)
st.write(f"**{len(found)}** of {len(lessons)} lessons")

if portfolio.lessons.empty:
    ui.no_data("No lessons documented yet (sheet **Lessons** of the workbook).")
elif ui.nothing_matches(portfolio):
    ui.no_data(ui.no_match_message())
elif found.empty:
    ui.no_data("No lesson matches this search.")
else:
    d1, d2, _ = st.columns([1, 1, 3])
    flt = ui.current_filter()
    stem = exports.lessons_stem(flt, text)
    what = flt.describe() + (f', search "{text.strip()}"' if text.strip() else "") + \
        f" ({len(found)} lesson{'' if len(found) == 1 else 's'})"
    d1.download_button("Download as CSV", ui.frame_csv_bytes(found[ui.LESSON_COLUMNS]),
                       file_name=f"{stem}.csv", mime="text/csv", key="lessons_csv")
    d2.download_button("Download as Excel", lambda: exports.lessons_xlsx_bytes(found, what),
                       file_name=f"{stem}.xlsx", key="lessons_xlsx", mime=ui.XLSX_MIME)
    ui.lessons_view(found)
