"""Submissions: every upload, the demo data and every rollback; download the file a
submission sent (administrators, and directors within their regions); roll one back
(administrators, and directors within their scope; after a confirmation) and see what
was restored."""

import pandas as pd
import streamlit as st

from linkdash import access, ui

ui.page_start()

actor = ui.current_actor()
st.title("Submissions")
st.caption("Every upload is kept with its file, who sent it and when. Rolling one back "
           "restores the values it replaced; values a later submission changed are kept.")

done = st.session_state.pop("rollback_result", None)
if done is not None:
    if done.ok:
        st.success(ui.rollback_text(done))
    else:
        st.error(ui.literal(done.message))
    if done.ok and done.kept:
        st.write("Kept because a later submission changed them:")
        st.dataframe(ui.kept_table(done.kept), hide_index=True, width="stretch", placeholder=ui.BLANK)

subs = ui.load_submissions()
if subs.empty:
    ui.no_data("Nothing has been submitted yet. Upload a workbook on the **Upload** page.")
    st.stop()

ui.illustrative_offer(actor, key="submissions_illustrative", restore=True)
st.dataframe(ui.submissions_table(subs), hide_index=True, width="stretch", placeholder=ui.BLANK,
             column_config=ui.SUBMISSION_CONFIG, key="submissions_table")

rows = {int(r["id"]): r for _, r in subs.iterrows()}
chosen = st.selectbox("Submission", list(rows), key="submission_pick",
                      format_func=lambda i: ui.describe_submission(rows[i]))
row = rows[chosen]

c1, c2 = st.columns(2)
with c1:
    st.subheader("Original file")
    ui.original_download(chosen, actor)

with c2:
    st.subheader("Roll back")
    if row["kind"] == "rollback":
        st.caption("A rollback cannot itself be rolled back; send the data again instead.")
    elif row["status"] == "rolled_back" and pd.notna(row["rolled_back_by"]):
        st.caption(f"Already rolled back by submission {int(row['rolled_back_by'])}.")
    elif (refusal := access.rollback_refusal(actor, ui.get_store(), chosen)) is not None:
        st.caption(ui.literal(refusal))
    else:
        st.warning(f"Rolling back submission {chosen} restores the values it replaced and "
                   "removes the values it added, for every page.")
        sure = st.checkbox(f"Yes, roll back submission {chosen}", key=f"rollback_sure_{chosen}")
        if st.button("Roll back", type="primary", disabled=not sure, key="rollback_go"):
            st.session_state["rollback_result"] = ui.roll_back(chosen, actor)
            st.rerun()
