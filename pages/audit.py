"""Audit: every submission, rollback and role change with who, when and what changed;
the original file of a submission for administrators, and for regional directors when
the file is within their regions."""

import streamlit as st

from linkdash import access, ui

ui.page_start()

actor = ui.current_actor()
st.title("Audit")
st.caption("Every upload, rollback and change of a role, newest first, with who made it "
           "and when (UTC)." + ("" if actor.role in ("admin", "director") else
                                " Role changes are listed for administrators and directors."))

log = access.audit_log(ui.get_store(), actor)
if log.empty:
    ui.no_data("Nothing has happened yet.")
    st.stop()

events = st.multiselect("Events", sorted(log["event"].unique()), key="audit_events",
                        format_func=ui.event_words, placeholder="Every event")
shown = log[log["event"].isin(events)] if events else log
st.dataframe(ui.audit_in_words(shown), hide_index=True, width="stretch", placeholder=ui.BLANK, column_config={
    "when": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm"),
    "who": "Who", "event": "Event", "what": st.column_config.TextColumn("What changed", width="large"),
    "submission_id": st.column_config.NumberColumn("Submission", format="%d")})
ui.csv_download(ui.audit_in_words(shown), "Download the audit log (.csv)", "link-audit-log.csv", "audit_csv")

with_files = [int(i) for i in shown["submission_id"].dropna()
              if ui.get_store().submission_file(int(i)) is not None] if actor.may_download_originals else []
st.subheader("Original files")
if not actor.may_download_originals:
    st.caption("Original files are for administrators and for regional directors within their "
               "regions.")
elif not with_files:
    st.caption("No submission listed here has a file.")
else:
    pick = st.selectbox("Submission", with_files, key="audit_pick",
                        format_func=lambda i: f"#{i} · " + str(shown.loc[shown["submission_id"] == i,
                                                                         "what"].iloc[0]))
    ui.original_download(pick, actor, key="audit_file")
