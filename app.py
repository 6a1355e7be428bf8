"""LINK Pilot Monitor: the Streamlit entry point.

    streamlit run app.py

Sets the page, signs the user in (when ``[auth]`` is configured), draws the shared
sidebar filters (kept in the URL) and runs the selected page from ``pages/``.
"""

import streamlit as st

from linkdash import ui

st.set_page_config(page_title="LINK Pilot Monitor", page_icon="🐄", layout="wide",
                   initial_sidebar_state="expanded")

ui.sign_in_gate()

pages = {
    "Portfolio": [
        st.Page(ui.PAGE_FILES["overview"], title="Overview", icon=":material/dashboard:", default=True),
        st.Page(ui.PAGE_FILES["progress"], title="Progress", icon=":material/timeline:"),
        st.Page(ui.PAGE_FILES["outcomes"], title="Outcomes", icon=":material/trending_up:"),
        st.Page(ui.PAGE_FILES["pilot"], title="Pilot", icon=":material/agriculture:"),
        st.Page(ui.PAGE_FILES["lessons"], title="Lessons", icon=":material/lightbulb:"),
        st.Page(ui.PAGE_FILES["presentation"], title="Presentation", icon=":material/slideshow:"),
    ],
    "Data": [
        st.Page(ui.PAGE_FILES["upload"], title="Upload", icon=":material/upload_file:"),
        st.Page(ui.PAGE_FILES["submissions"], title="Submissions", icon=":material/history:"),
    ],
}
pg = st.navigation(pages)

with ui.database_guard():
    portfolio = ui.load_portfolio()
    ui.sidebar_filters(portfolio)
    ui.demo_badge()
    ui.user_box()
    pg.run()
