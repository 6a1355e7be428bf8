"""The baseline of the page benchmarks: a bare Streamlit page with a title and one plotly
chart (40 points), the least any dashboard page costs on this machine.

    .venv/bin/streamlit run benchmarks/baseline_app.py
"""

import plotly.graph_objects as go
import streamlit as st

st.set_page_config(page_title="Baseline", layout="wide")
st.title("One chart")
fig = go.Figure(go.Scatter(x=[f"Q{i % 4 + 1} {2016 + i // 4}" for i in range(40)],
                           y=[1000 + 25 * i for i in range(40)], mode="lines+markers"))
st.plotly_chart(fig)
