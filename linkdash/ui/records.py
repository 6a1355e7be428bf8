"""Lessons and submissions shown as cards and tables (their words come from the core:
``reporting``, ``lessons``)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from linkdash import catalogue
from linkdash.ui.page import BLANK, _md
from linkdash.ui.session import (
    _touched,
    data_version,
    database_url,
    load_portfolio,
    load_submissions,
)
from linkdash.ui.widgets import pilot_link_column, pilot_url, with_pilot_links

LESSON_COLUMNS = ["pilot_id", "quarter", "kind", "milestone", "lesson", "author"]

LESSONS_READ = 60  # lessons written out in full (the table and the downloads have them all)


def lessons_view(lessons: pd.DataFrame, *, with_pilot: bool = True, key: str = "lessons") -> None:
    """The lessons to read (each in full, newest first) and, in a second tab, as a table."""
    read, table = st.tabs(["Read", "Table"])
    with read:
        lessons_cards(lessons, with_pilot=with_pilot)
    with table:
        lessons_table(lessons, with_pilot=with_pilot)


def lessons_cards(lessons: pd.DataFrame, *, with_pilot: bool = True) -> None:
    """Each lesson in full: who, when, what kind and which milestone, then its text."""
    names = {}
    if with_pilot:
        p = load_portfolio().pilots
        names = dict(zip(p["pilot_id"], p["pilot_name"]))
    df = lessons.sort_values(["quarter", "pilot_id"], ascending=False)
    for r in df.head(LESSONS_READ).itertuples(index=False):
        head = []
        if with_pilot:
            head.append(f"[{_md(names.get(r.pilot_id) or r.pilot_id)}]({pilot_url(r.pilot_id)})")
        head.append(f"**{_md(r.quarter)}**")
        if isinstance(getattr(r, "kind", None), str):
            head.append(_md(r.kind.capitalize()))
        ms = getattr(r, "milestone", None)
        if isinstance(ms, str):
            head.append(_md(catalogue.MILESTONE_LABELS.get(ms, ms)))
        author = getattr(r, "author", None)
        if isinstance(author, str) and author.strip():
            head.append(f"by {_md(author)}")
        with st.container(border=True):
            st.markdown(" · ".join(head))
            st.markdown(_md(r.lesson).replace("\n", "  \n"))
    if len(df) > LESSONS_READ:
        st.caption(f"The {LESSONS_READ} newest of {len(df):,} lessons; the Table tab and the "
                   "downloads have them all.")


def lessons_table(lessons: pd.DataFrame, *, with_pilot: bool = True) -> None:
    cols = [c for c in LESSON_COLUMNS if c in lessons.columns and (with_pilot or c != "pilot_id")]
    df = lessons[cols].sort_values(["quarter"] + (["pilot_id"] if with_pilot else []),
                                   ascending=False)
    if "milestone" in df.columns:
        df = df.assign(milestone=df["milestone"].map(
            lambda m: catalogue.MILESTONE_LABELS.get(m, m) if isinstance(m, str) else None))
    if "kind" in df.columns:
        df = df.assign(kind=df["kind"].map(lambda k: k.capitalize() if isinstance(k, str) else k))
    config: dict[str, Any] = {"lesson": st.column_config.TextColumn("Lesson", width="large"),
              "quarter": "Quarter", "kind": "Kind", "milestone": "Milestone",
              "author": "Author"}
    if with_pilot:
        df = with_pilot_links(df)
        config["pilot_id"] = pilot_link_column()
    st.dataframe(df, hide_index=True, width="stretch", column_config=config, placeholder=BLANK)


SUBMISSION_COLUMNS = ["id", "kind", "filename", "user", "created_at", "status", "what"]
SUBMISSION_CONFIG = {
    "id": st.column_config.NumberColumn("#", format="%d"),
    "kind": "Kind", "filename": "File", "user": "Sent by",
    "created_at": st.column_config.DatetimeColumn("Sent (UTC)", format="YYYY-MM-DD HH:mm"),
    "status": "Status", "what": st.column_config.TextColumn("What it did", width="medium"),
    "new": "New", "changed": "Changed", "unchanged": "Unchanged",
}


def submissions_table(subs: pd.DataFrame) -> pd.DataFrame:
    """The history in words (``reporting.submissions_in_words``): kinds and statuses as
    people say them, no blank shown as "None"."""
    from linkdash import reporting

    words = reporting.submissions_in_words(subs)
    return words[[c for c in SUBMISSION_COLUMNS if c in words.columns]]


def submissions_for_pilot(pilot_id: str) -> pd.DataFrame:
    """The submissions that wrote a value of this pilot (current or since replaced),
    newest first."""
    version = data_version()
    ids = set(_touched(database_url(), version, pilot_id))
    subs = load_submissions(version)
    return submissions_table(subs[subs["id"].isin(ids)])
