"""Session and sign-in, the store and the cached loaders keyed on the store's data version."""

from __future__ import annotations

import contextlib
import os
from typing import Any

import pandas as pd
import streamlit as st

from linkdash.portfolio import Filter, Portfolio
from linkdash.story import Demo
from linkdash.ui.page import _md

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def auth_configured() -> bool:
    """True when ``.streamlit/secrets.toml`` has an ``[auth]`` section (OIDC sign-in)."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 (no secrets file at all: Streamlit raises several kinds)
        return False


def local_mode() -> bool:
    return not auth_configured()


def _user_info() -> dict[str, Any]:
    try:
        return dict(st.user.to_dict())
    except Exception:  # noqa: BLE001 - outside a session
        return {}


def signed_in_email() -> str | None:
    """The verified e-mail of the signed-in person (lower case); None when nobody is
    signed in or the provider does not say the e-mail is verified."""
    info = _user_info()
    if not info.get("is_logged_in"):
        return None
    email = str(info.get("email") or "").strip().lower()
    if not email or info.get("email_verified") is not True:
        return None
    return email


def current_actor():
    """Who uses the app: the local administrator in local mode; else the signed-in
    person with the role stored for their verified e-mail (``role`` None without one;
    ``access.Actor``)."""
    from linkdash import access

    if local_mode():
        return access.local_admin()
    email = signed_in_email()
    if email is None:
        return access.Actor(str(_user_info().get("email") or "not signed in"), None)
    return access.actor_for(get_store(), email)


def current_user() -> str:
    """The e-mail (or the local administrator's name) of who uses the app."""
    return current_actor().email


def _listening_address() -> str:
    try:
        return str(st.get_option("server.address") or "")
    except Exception:  # noqa: BLE001
        return ""


def _sign_out_button(key: str = "sign_out_gate") -> None:
    if st.button("Sign out", key=key):
        st.logout()


def sign_in_gate():
    """Before anything else of the app: returns the acting user, or shows why there is
    none and stops the script (no data is read before this returns):

    - local mode served on an address other than 127.0.0.1: refuses (a local
      administrator must not be reachable from the network);
    - sign-in configured and nobody signed in: a sign-in button;
    - signed in without a verified e-mail, or with no role: an "ask an administrator"
      page with a sign-out button."""
    from linkdash import access

    if local_mode():
        address = _listening_address()
        if address and address not in LOOPBACK:
            st.title("LINK Pilot Monitor")
            st.error("This installation has no sign-in configured (local mode), so it only "
                     "serves this computer: start it on 127.0.0.1, or configure sign-in "
                     "(see the README, \"Who may change what\").")
            st.stop()
        return access.local_admin()
    info = _user_info()
    if not info.get("is_logged_in"):
        st.title("LINK Pilot Monitor")
        st.write("Sign in to see the LINK pilots.")
        if st.button("Sign in", type="primary", key="sign_in"):
            st.login()
        st.stop()
    actor = current_actor()
    if actor.role is None:
        st.title("LINK Pilot Monitor")
        email = _md(info.get("email") or "this account")
        if signed_in_email() is None:
            st.warning(f"You are signed in as {email}, but the sign-in provider does not say "
                       "that this e-mail address is verified. Verify it with your provider, "
                       "or ask an administrator.")
        else:
            st.info(f"You are signed in as **{email}**, but you have no role in LINK Pilot "
                    "Monitor yet. **Ask an administrator** to add you (as a viewer, country "
                    "team, regional director or administrator).")
        _sign_out_button()
        st.stop()
    return actor


def user_box(actor=None) -> None:
    """Who uses the app in the sidebar: "local mode" in local mode; the e-mail, role and
    a sign-out button when signed in."""
    actor = actor or current_actor()
    with st.sidebar:
        if local_mode():
            st.warning(f"**Local mode**: no sign-in; you are the local administrator "
                       f"(*{_md(actor.email)}*) on this computer only.",
                       icon=":material/computer:")
            return
        scope = f" · {_md(', '.join(actor.scope))}" if actor.scope else ""
        st.caption(f"Signed in as **{_md(actor.email)}** ({actor.role}{scope})")
        if st.button("Sign out", key="sign_out"):
            st.logout()


def require(allowed: bool, what: str) -> None:
    """Stop a page that the acting user may not see (the navigation hides it already;
    this guards a direct link)."""
    if not allowed:
        st.title("Not available")
        st.info(f"{what} Ask an administrator if you need it.")
        st.stop()


# --- the store and the data ---------------------------------------------------------

def database_url() -> str | None:
    return os.environ.get("LINKDASH_DATABASE_URL") or None


@st.cache_resource(show_spinner=False)
def _open_store(url: str | None):
    from linkdash.store import Store

    return Store.open(url)


def get_store():
    """The store of ``LINKDASH_DATABASE_URL`` (default: the project's SQLite file),
    opened (and migrated) once per process."""
    return _open_store(database_url())


def data_version() -> int:
    return int(get_store().data_version())


@contextlib.contextmanager
def database_guard():
    """Around a page run: when the database stops answering (PostgreSQL restarted,
    the network to it cut), say so in words instead of a traceback, and offer to try
    again; the next run reconnects by itself once it is back (``pool_pre_ping``)."""
    import sqlalchemy.exc

    try:
        yield
    except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError,
            sqlalchemy.exc.DisconnectionError) as exc:
        _database_down(exc)


def _database_down(exc: Exception) -> None:
    import logging

    logging.getLogger("linkdash").warning("database not answering: %s", exc)
    _open_store.clear()  # a store that failed to open is opened again next time
    st.error("**The database is not answering**, so no data can be shown or stored right "
             "now. Nothing that was stored is lost. This page works again as soon as the "
             "database is back: try again in a minute.", icon=":material/cloud_off:")
    if st.button("Try again", key="database_retry", type="primary"):
        st.rerun()
    st.stop()


@st.cache_resource(show_spinner=False, max_entries=2)
def _load_portfolio(url: str | None, version: int) -> Portfolio:
    # two entries: the current version, and the one before for runs still using it
    # while a newer one is read (a run holds its own reference either way)
    return _open_store(url).load()


def load_portfolio(version: int | None = None) -> Portfolio:
    """The current portfolio, read once per data version and shared (not copied) by every
    call, page and session: a page run asks for it several times (app.py's sidebar, the
    page, the charts' pilot names), and a copy of a large store costs a tenth of a second
    each. Like ``computed``'s results it must not be changed in place (pandas copies on
    write, so derived frames are safe); its memoised ``indicator_codes`` then serve every
    upload checked against this version."""
    if version is None:
        version = data_version()
    return _load_portfolio(database_url(), version)


@st.cache_data(show_spinner=False, max_entries=8)
def _load_submissions(url: str | None, version: int) -> pd.DataFrame:
    return _open_store(url).submissions()


def load_submissions(version: int | None = None) -> pd.DataFrame:
    """The submission history (newest first as the store gives it), cached per version."""
    if version is None:
        version = data_version()
    return _load_submissions(database_url(), version)


def data_changed() -> None:
    """Call after a commit or rollback: drop cached data so every page shows the new
    values on its next run (the version key would miss anyway; this frees memory)."""
    _load_portfolio.clear()
    _load_submissions.clear()
    _touched.clear()
    _computed.clear()
    _story.clear()
    _story_chart.clear()


# --- the shared sidebar filters -----------------------------------------------------



# Bounded: at 1,000 pilots a chart can hold megabytes, and each filter adds one result
# per chart of the page (the least recently used go first).
@st.cache_resource(show_spinner=False, max_entries=64)
def _computed(url: str | None, version: int, flt: Filter, module: str, name: str,
              args: tuple, kwargs: tuple = (), shown: bool | None = None) -> Any:
    import importlib

    portfolio = _load_portfolio(url, version)
    if flt != Filter():
        portfolio = portfolio.filtered(flt)
    got = getattr(importlib.import_module(module), name)(portfolio, *args, **dict(kwargs))
    return _finished(got, shown)


def _finished(got: Any, clicks: bool | None) -> Any:
    """A cached chart finished for the page before any session holds it
    (``ui.page.finish_figure``): with pilot clicks when ``clicks`` and its marks carry
    pilot ids. ``clicks`` None: not a chart to draw, left as it is."""
    from plotly.basedatatypes import BaseFigure

    if clicks is None or not isinstance(got, BaseFigure):
        return got
    from linkdash import charts
    from linkdash.ui.page import finish_figure

    return finish_figure(got, clicks and bool(charts.pilot_ids_in(got)))


# The Presentation page's story (``story.resolve``: the filtered view up to the quarter,
# a new portfolio each time) and its slides' charts, kept per data version, filter,
# quarter, date and demo flag: resolved again on every run, the story's view was built
# anew and nothing memoised on it (the wide table, the figures) survived the run.
# Two kept (each holds its view and what is memoised on it).
@st.cache_resource(show_spinner=False, max_entries=2)
def _story(url: str | None, version: int, key: tuple) -> Any:
    import dataclasses

    from linkdash import story

    flt, quarter, as_of, demo = key
    portfolio = _load_portfolio(url, version)
    told = story.resolve(portfolio, flt, quarter, as_of, demo=demo)
    part = portfolio.filtered(flt)
    if told.quarter and all((frame["quarter"].astype(str) <= told.quarter).all()
                            for frame in (part.indicators, part.lessons)):
        # nothing after the story's quarter (the latest, as usual): the filter's part
        # itself, shared with the other pages, rather than a copy of every row
        told = dataclasses.replace(told, view=part)
    return told


def story_of(flt: Filter, quarter: str | None, as_of: Any, demo: Demo) -> tuple[Any, tuple]:
    """``(story.resolve(load_portfolio(), flt, quarter, as_of, demo), key)``, shared by every
    run and session with the same arguments (do not change it); ``key`` for
    :func:`story_chart`."""
    key = (flt, quarter, as_of, demo)
    return _story(database_url(), data_version(), key), key


@st.cache_resource(show_spinner=False, max_entries=16)
def _story_chart(url: str | None, version: int, key: tuple, module: str, name: str,
                 args: tuple, kwargs: tuple = (), clicks: bool = True) -> Any:
    import importlib

    view = _story(url, version, key).view
    return _finished(getattr(importlib.import_module(module), name)(view, *args, **dict(kwargs)),
                     clicks)


def story_chart(key: tuple, func, *args, pilot_clicks: bool = True, **kwargs) -> Any:
    """``func(story.view, *args, **kwargs)`` of the story :func:`story_of` gave ``key`` for,
    cached as it is (a shared result: copy a figure before changing it). A figure comes
    finished for ``ui.show_chart``, with clicks on its pilots unless ``pilot_clicks`` is
    False (a slide in presentation mode)."""
    return _story_chart(database_url(), data_version(), key, func.__module__, func.__name__,
                        tuple(args), tuple(sorted(kwargs.items())), pilot_clicks)


@st.cache_data(show_spinner=False, max_entries=32)
def _touched(url: str | None, version: int, pilot_id: str) -> list[int]:
    hist = _open_store(url).history(pilot_id)
    return sorted({int(i) for i in hist["submission_id"].dropna()}, reverse=True)
