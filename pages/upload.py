"""Upload: the template, then a quarterly workbook: read and checked, every problem
reported at once (errors first, with sheet and cell), the changes previewed, and
committed as one submission."""

import streamlit as st

from linkdash import ui

ui.page_start()

actor = ui.current_actor()
ui.require(actor.may_upload, "Uploading is for administrators, regional directors and "
                             "country teams.")

st.title("Upload a quarterly workbook")
if not actor.is_admin:
    st.caption(f"You may change the pilots of {ui.literal(', '.join(actor.scope))}. Benchmarks, "
               "rates, new pilots and a pilot's region, country or value chain are changed "
               "by administrators.")

ui.warm_reader()
portfolio = ui.load_portfolio()

done = st.session_state.get("upload_committed")  # kept until the next file is chosen
if done is not None:
    ui.committed_message(done)
    ui.illustrative_offer(actor, key="upload_illustrative", only_mixed=True)

with st.container(border=True):
    st.markdown("**1. Fill in the template.** Every sheet is optional; blank cells mean "
                "\"not reported\" and never erase a stored value.")
    c1, c2 = st.columns(2)
    c1.download_button("Download the blank template (.xlsx)", ui.template_bytes(),
                       file_name="link-quarterly-template.xlsx", key="template_download",
                       mime=ui.XLSX_MIME, type="primary")
    with c2:
        if not portfolio.pilots.empty:
            ui.export_download(portfolio, "Download the stored data to edit (.xlsx)")

st.markdown("**2. Upload the filled-in workbook** (.xlsx, .xlsm, .xls, .ods or a one-sheet "
            ".csv; at most 20 MB).")
uploaded = st.file_uploader("Workbook", type=["xlsx", "xlsm", "xls", "ods", "csv"],
                            key=f"upload_file_{st.session_state.get('upload_round', 0)}",
                            label_visibility="collapsed")
if uploaded is None:
    st.stop()
st.session_state.pop("upload_committed", None)

data = uploaded.getvalue()
outcome = ui.checked_upload(data, uploaded.name, actor, portfolio)

st.markdown("**3. The check**")
ui.problem_report(outcome, portfolio)
if not outcome.ok:
    st.error("Nothing can be stored until every error is fixed. "
             + ("Correct the cells listed above and upload the file again."
                if any(p.cell for p in outcome.errors)
                else "Do what the message above says and upload the file again."))
    st.stop()

st.markdown("**4. What would change**")
coverage = ui.upload_coverage(outcome, portfolio)
if ui.changes_counts(outcome):
    unusual = ui.unusual_changes(outcome, portfolio, coverage)
    meant = (st.checkbox("Yes, these changes are meant", key="upload_meant")
             if unusual else True)
    if st.button("Commit this submission", type="primary", key="upload_commit",
                 disabled=not meant):
        with st.spinner("Storing…"):
            result = ui.commit_upload(outcome, data, uploaded.name, actor)
        if result.ok:
            st.session_state["upload_committed"] = ui.describe_commit(result, uploaded.name, coverage)
            st.session_state["upload_round"] = st.session_state.get("upload_round", 0) + 1
            st.rerun()
        else:
            st.error("The file could not be stored:")
            ui.problem_report(result, portfolio, key="commit_report")
    ui.changes_detail(outcome, portfolio)
