"""LINK Pilot Monitor: the Streamlit entry point.

    streamlit run app.py

Sets the page, decides who is using the app (sign-in with ``st.login`` when ``[auth]``
is configured, else "local mode": one local administrator on 127.0.0.1), offers the
pages that user's role may see, draws the shared sidebar filters (kept in the URL) and
runs the selected page from ``pages/``. Nothing is read from the store before the
sign-in gate has let the user in.
"""

import streamlit as st

from linkdash import ui

st.set_page_config(page_title="LINK Pilot Monitor", page_icon="🐄", layout="wide",
                   initial_sidebar_state="auto")  # closed on a phone, open on a desktop

# a database that stops answering is said in words, on every page (ui.database_guard)
with ui.database_guard():
    actor = ui.sign_in_gate()  # stops here for someone signed out, unverified or without a role

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
            *([st.Page(ui.PAGE_FILES["upload"], title="Upload", icon=":material/upload_file:")]
              if actor.may_upload else []),
            st.Page(ui.PAGE_FILES["submissions"], title="Submissions", icon=":material/history:"),
            st.Page(ui.PAGE_FILES["audit"], title="Audit", icon=":material/fact_check:"),
            *([st.Page(ui.PAGE_FILES["admin"], title="Admin", icon=":material/admin_panel_settings:")]
              if actor.may_manage_users else []),
        ],
    }
    pg = st.navigation(pages)
    ui.load_charts_early(pg.url_path)  # plotly.js loads while the rest of the script runs

    portfolio = ui.load_portfolio()
    ui.sidebar_filters(portfolio)
    ui.demo_badge()
    ui.user_box(actor)
    pg.run()
