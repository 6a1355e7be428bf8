"""LINK Pilot Monitor: the functional core (no Streamlit here, except linkdash.ui)."""

__version__ = "0.1.0"
