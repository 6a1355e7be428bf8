"""Downloads: the template, exports of stored data, original files, formula-safe csv."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

from linkdash.exports import frame_csv_bytes
from linkdash.originals import download_name
from linkdash.portfolio import Filter, Portfolio
from linkdash.ui.filters import current_as_of, current_filter, current_quarter
from linkdash.ui.page import QUARTER_KEY, _md
from linkdash.ui.session import _open_store, data_version, database_url, get_store

if TYPE_CHECKING:
    from linkdash.story import Demo

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@st.cache_resource(show_spinner=False)
def template_bytes() -> bytes:
    """The blank workbook template (.xlsx)."""
    import io

    from linkdash.template import write_template

    buf = io.BytesIO()
    write_template(buf)
    return buf.getvalue()


def export_download(portfolio: Portfolio, label: str = "Download all stored data (.xlsx)",
                    key: str = "export_xlsx") -> None:
    """A download button for the whole portfolio in the template's sheets; the file is
    built only when the button is clicked."""
    from linkdash import exports

    st.download_button(label, lambda: exports.export_xlsx_bytes(portfolio),
                       file_name="link-pilots-data.xlsx", mime=XLSX_MIME, key=key)


# Keys of the "Export what you see" buttons, by format (the Presentation page's slides and
# report buttons kept their keys).
EXPORT_KEYS = {".xlsx": "download_data", ".csv": "download_indicators",
               ".pptx": "download_deck", ".html": "download_report"}
EXPORT_HELP = {
    ".xlsx": "The pilots, milestones, indicators, targets, lessons and benchmarks of what the "
             "filters show, in the upload template's sheets: re-importing the file changes nothing.",
    ".csv": "The Indicators sheet alone, one row per pilot and quarter (formula-safe).",
    ".pptx": "Editable PowerPoint slides of what the filters show (takes a few seconds).",
    ".html": "One HTML file with interactive charts that works offline.",
}


def export_buttons(portfolio: Portfolio, *, flt: Filter | None = None,
                   as_of: dt.date | None = None, demo: Demo = None,
                   stacked: bool = False, key_prefix: str = "", find=()) -> None:
    """"Export what you see": data (.xlsx), indicators (.csv), slides (.pptx) and report
    (.html) of the sidebar's filter (or ``flt``), side by side (or one under the other
    with ``stacked``). A quarter chosen in the sidebar is the last one in the data
    files and the one the slides and report show; left empty, the data files hold every
    quarter and the slides and report show the latest. The file names say what they
    hold (``link-pilots_Africa_2018-Q4.xlsx``). Each file is built only when its button
    is clicked, so the page stays fast. ``find``: pilots picked by name, whose slides
    and report cards are in the files where only some pilots get one."""
    from functools import partial

    from linkdash import exports

    if flt is None:
        flt = current_filter()
    if as_of is None:
        as_of = current_as_of(portfolio)
    chosen = st.session_state.get(QUARTER_KEY) or None
    shown = current_quarter(portfolio)
    slots = [st.container() for _ in exports.FORMATS] if stacked else st.columns(len(exports.FORMATS))
    for slot, fmt in zip(slots, exports.FORMATS.values()):
        slot.download_button(
            fmt.label,
            data=partial(exports.export_bytes, fmt.suffix, portfolio, flt=flt,
                         quarter=str(chosen) if chosen else None, as_of=as_of, demo=demo,
                         find=tuple(find)),
            file_name=exports.export_filename(fmt.suffix, flt, shown), mime=fmt.mime,
            on_click="ignore", width="stretch", icon=":material/download:",
            key=key_prefix + EXPORT_KEYS[fmt.suffix], help=EXPORT_HELP[fmt.suffix])


@st.cache_data(show_spinner=False, max_entries=64)
def _file_reach(url: str | None, submission_id: int, version: int) -> dict[str, Any] | None:
    from linkdash import access

    store = _open_store(url)
    original = store.submission_file(submission_id)
    if original is None:
        return None
    return access.file_reach(original[1], original[0], access.stored_pilots(store))


def original_download(submission_id: int, actor, key: str = "submission_file") -> None:
    """The download button of a submission's original file, for those who may have it
    (administrators; directors when the file is within their regions); otherwise a
    caption that says why not."""
    from linkdash import access

    store = get_store()
    if not actor.may_download_originals:
        st.caption("Original files are for administrators and for regional directors "
                   "within their regions.")
        return
    reach = None if actor.is_admin else _file_reach(database_url(), submission_id, data_version())
    try:
        original = access.original_file(store, actor, submission_id, reach)
    except access.Denied as e:
        st.caption(_md(str(e)))
        return
    if original is None:
        st.caption("This submission has no file (a rollback).")
        return
    name, data = original
    name = download_name(name, data)
    st.download_button(f"Download {name}", data, file_name=name, key=key,
                       mime="application/octet-stream")


def show_refusal(e: Exception) -> None:
    st.error(_md(str(e)))


def csv_download(df: pd.DataFrame, label: str, file_name: str, key: str) -> None:
    """A table as a formula-safe csv download (the tables' own csv export is switched off
    in .streamlit/config.toml: it does not neutralise formulas)."""
    st.download_button(label, lambda: frame_csv_bytes(df), file_name=file_name, mime="text/csv",
                       key=key, on_click="ignore", icon=":material/download:")
