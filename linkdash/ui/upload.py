"""The Upload page's pieces: checking, the problem report, the changes, commit, rollback,
kept values, removing and loading again the illustrative data."""

from __future__ import annotations

import functools
from typing import Any

import pandas as pd
import streamlit as st

from linkdash.exports import frame_csv_bytes
from linkdash.portfolio import Portfolio
from linkdash.reporting import counted, problems_frame
from linkdash.reporting import md_names as _md_names
from linkdash.ui.filters import illustrative_state
from linkdash.ui.page import BLANK, QUARTER_KEY, _md
from linkdash.ui.session import data_changed, get_store, load_portfolio


@st.cache_resource(show_spinner=False)
def warm_reader() -> bool:
    """Start the isolated file reader's fork server once per server process, in the
    background, so the first upload does not wait for it (``sandbox.warm``)."""
    from linkdash import sandbox

    sandbox.warm()
    return True


def checked_upload(data: bytes, filename: str, actor, portfolio: Portfolio):
    """Read and check an uploaded file against the store as ``actor`` would send it
    (stores nothing), showing progress while it runs. ``portfolio``: the page's
    ``load_portfolio()`` (the checks, the user's scope and the preview share it; one
    copy, not one per use). Kept per file, data version and user for this session, so
    widget changes on the page do not check the file again."""
    import hashlib

    from linkdash import submit

    key = (hashlib.sha256(data).hexdigest(), filename, portfolio.data_version, actor)
    cached = st.session_state.get("_upload_check")
    if cached and cached[0] == key:
        return cached[1]
    with st.status(f"Reading and checking **{_md(filename)}**…", expanded=False) as status:
        outcome = submit.validate(get_store(), data, filename, actor=actor, current=portfolio)
        n_err, n_warn = len(outcome.errors), len(outcome.warnings)
        status.update(label=f"Checked **{_md(filename)}**: {counted(n_err, 'error')}, "
                            f"{counted(n_warn, 'warning')}",
                      state="complete" if outcome.ok else "error")
    st.session_state["_upload_check"] = (key, outcome)
    return outcome


LISTED_PROBLEMS = 30


def _problem_line(p) -> str:
    from linkdash import reporting

    value = "" if p.value is None else f" (found: {_md(reporting.cell_text(p.value))})"
    return f"**{_md(reporting.problem_where(p))}**{value}: {_md(p.message)}"


PROBLEM_TABLE_CONFIG = {
    "severity": None, "kind": None,
    "sheet": st.column_config.TextColumn("Sheet", width="small"),
    "cell": st.column_config.TextColumn("Cell", width="small"),
    "value": st.column_config.TextColumn("Value found", width="small"),
    "pilot": st.column_config.TextColumn("Pilot", width="small"),
    "message": st.column_config.TextColumn("What to change", width="large"),
}


def _problem_list(items, pilots, *, key: str, listed: int | None = None) -> None:
    """The first problems as lines, all of them as a sortable table below."""
    listed = LISTED_PROBLEMS if listed is None else listed
    st.markdown("\n".join(f"- {_problem_line(p)}" for p in items[:listed]))
    if len(items) > listed:
        shown = items[:DETAIL_ROWS_SHOWN]  # a table of 100,000 rows would freeze a weak laptop
        st.caption(f"… and {len(items) - listed:,} more: "
                   + ("every one is in the table below and in the report." if len(shown) == len(items)
                      else f"the table below shows the first {len(shown):,}; the report has them all."))
        st.dataframe(problems_frame(shown, pilots), hide_index=True, width="stretch", placeholder=BLANK,
                     column_config=PROBLEM_TABLE_CONFIG,
                     column_order=["sheet", "cell", "pilot", "value", "message"], key=key)


def problem_report(outcome, portfolio: Portfolio | None = None, *, key: str = "report") -> None:
    """Errors first, all of them, at once (sheet, cell, value, what to change); then the
    warnings grouped by kind with their pilots and counts, each group opening to its
    cells (``reporting.group_problems``); the whole report as a csv download."""
    from linkdash import reporting

    errors, warnings = list(outcome.errors), list(outcome.warnings)
    if not errors and not warnings:
        st.success("No errors, no warnings.")
        return
    names = reporting.pilot_names(portfolio.pilots if portfolio is not None else None)
    tables = getattr(outcome, "tables", None) or {}
    if "Pilots" in tables:
        names.update(reporting.pilot_names(tables["Pilots"]))
    grouped = reporting.group_problems(errors, warnings, names or None)
    summary = f"**{reporting.counted(len(errors), 'error')}**, {reporting.counted(len(warnings), 'warning')}"
    if errors and len(grouped.error_groups) > 1:
        summary += ": " + "; ".join(g.title for g in grouped.error_groups)
    with st.container(key=f"{key}_errors"):
        (st.error if errors else st.warning)(summary)
        if errors:
            st.markdown("**Errors** (nothing is stored until they are fixed)")
            st.markdown("\n".join(f"- {_problem_line(p)}" for p in errors[:LISTED_PROBLEMS]))
            if len(errors) > LISTED_PROBLEMS:
                st.caption(f"… and {len(errors) - LISTED_PROBLEMS:,} more errors: every one is in "
                           "the report" + (f", the first {DETAIL_ROWS_SHOWN:,} in the table."
                                           if len(errors) > DETAIL_ROWS_SHOWN else " and in the table."))
            with st.expander(f"All {reporting.counted(len(errors), 'error')} as a table (sortable)"
                             if len(errors) <= DETAIL_ROWS_SHOWN else
                             f"The first {DETAIL_ROWS_SHOWN:,} errors as a table (sortable)"):
                st.dataframe(problems_frame(errors[:DETAIL_ROWS_SHOWN], names), hide_index=True,
                             width="stretch",
                             placeholder=BLANK, column_config=PROBLEM_TABLE_CONFIG,
                             column_order=["sheet", "cell", "pilot", "value", "message"],
                             key=f"{key}_error_table")
    if warnings:
        with st.container(key=f"{key}_warnings"):
            st.markdown(f"**Warnings** (they do not block): {_md(grouped.warning_summary)}")
            few = not errors and len(warnings) <= 3
            for i, g in enumerate(grouped.warning_groups):
                with st.expander(g.title, expanded=few):
                    if len(g.pilots) > 1:
                        st.caption("By pilot: " + " · ".join(_md(t) for t in g.pilot_lines(names)))
                    _problem_list(g.problems, names, key=f"{key}_warning_table_{i}", listed=10)
    st.download_button("Download the report (.csv)",
                       lambda: frame_csv_bytes(problems_frame(errors + warnings, names)),
                       file_name="link-upload-report.csv", mime="text/csv",
                       key=f"{key}_download" if key != "report" else "report_download",
                       on_click="ignore")


def report_csv_bytes(problems, pilots=None) -> bytes:
    return frame_csv_bytes(problems_frame(problems, pilots))


def changes_counts(outcome) -> bool:
    """New, changed and unchanged value counts; False when the file changes nothing."""
    ch = outcome.changes
    c1, c2, c3 = st.columns(3)
    for col, label, n in ((c1, "New values", ch.new), (c2, "Changed values", ch.changed),
                          (c3, "Unchanged", ch.unchanged)):
        with col, st.container(border=True):
            st.metric(label, f"{n:,}")
    if ch.new == 0 and ch.changed == 0:
        st.info("This file changes nothing in the store.")
        return False
    detail = getattr(ch, "detail", None)
    if detail is not None and not detail.empty and (detail["sheet"] != "Indicators").any():
        st.caption("A value is one indicator of one pilot in one quarter, or one whole row of "
                   "the other sheets (a pilot, a milestone, a target...); the lists below show "
                   "each cell that is new or changes.")
    return True


DETAIL_CONFIG = {"sheet": "Sheet", "pilot": "Pilot", "quarter": "Quarter", "what": "What",
                 "old": "Old value", "new": "New value"}


DETAIL_ROWS_SHOWN = 2000  # a browser table of a million rows would freeze a weak laptop


def upload_coverage(outcome, portfolio: Portfolio):
    """What the checked file covers, said in a line (``reporting.coverage``); returned
    for the commit's message."""
    from linkdash import reporting

    cov = reporting.coverage(outcome.tables or {}, portfolio.pilots)
    with st.container(key="upload_coverage"):
        st.markdown(_md_names(cov).sentence())
    return cov


def unusual_changes(outcome, portfolio: Portfolio, cov) -> bool:
    """Say what the preview holds that a quarterly upload rarely does
    (``reporting.unusual_changes``), before Commit. True when there is something."""
    from linkdash import reporting

    ch = outcome.changes
    if ch is None or not ch.changed:
        return False
    latest = max([q for q in (portfolio.latest_quarter(), cov.latest_quarter) if q], default=None)
    found = reporting.unusual_changes(ch.detail, portfolio.pilots, changed=ch.changed,
                                      sent=ch.new + ch.changed + ch.unchanged, latest_quarter=latest)
    if not found:
        return False
    lines = []
    for u in found:
        lines.append(f"- **{_md(u.title)}**")
        lines += [f"    - {_md(t)}" for t in u.lines[:8]]
        if len(u.lines) > 8:
            lines.append(f"    - … and {len(u.lines) - 8:,} more")
    with st.container(key="upload_unusual"):
        st.warning("**Unusual for a quarterly upload**: check that these changes are meant "
                   "before you commit.\n\n" + "\n".join(lines), icon=":material/report:")
    return True


def _detail_csv(rows: pd.DataFrame, names: dict[str, str], kind: str) -> bytes:
    """The whole list of new or changed cells as csv (the page shows its first rows)."""
    from linkdash import reporting

    words = reporting.detail_in_words(rows, names)
    return frame_csv_bytes(words.drop(columns=["old"] if kind == "new" else []))


def changes_detail(outcome, portfolio: Portfolio | None = None) -> None:
    """The changed values with old and new, then the new values, in words: the pilot by
    name, the quarter, the indicator's or column's label. Large uploads show the first
    rows of each, with the whole list as a CSV download."""
    from linkdash import reporting

    detail = getattr(outcome.changes, "detail", None)
    if detail is None or detail.empty:
        return
    names = reporting.pilot_names(portfolio.pilots if portfolio is not None else None)
    if outcome.tables and "Pilots" in outcome.tables:
        names.update({k: v for k, v in reporting.pilot_names(outcome.tables["Pilots"]).items()
                      if k not in names})
    counts = {"changed": outcome.changes.changed, "new": outcome.changes.new}
    for kind, title in (("changed", "Changed"), ("new", "New")):
        rows = detail[detail["kind"] == kind]
        if rows.empty:
            continue
        n = len(rows)
        shown = reporting.detail_in_words(rows.head(DETAIL_ROWS_SHOWN), names)
        if kind == "new":
            shown = shown.drop(columns=["old"])
        if not (shown["quarter"] != "").any():
            shown = shown.drop(columns=["quarter"])
        suffix = "old and new value" if kind == "changed" else ""
        # the cards count values (a whole Pilots row is one); the list shows each cell
        m = counts[kind]
        what = f"{n:,}" if n == m else f"{n:,} cells in {reporting.counted(m, 'value')}"
        st.markdown(f"**{title}** ({what}){': ' + suffix if suffix else ''}")
        if n > DETAIL_ROWS_SHOWN:
            st.caption(f"Showing the first {DETAIL_ROWS_SHOWN:,} of {n:,}; the download has them all.")
            st.download_button(
                f"Download all {n:,} {title.lower()} cells (.csv)",
                functools.partial(_detail_csv, rows, names, kind),
                file_name=f"{kind}-values.csv", mime="text/csv",
                key=f"detail_csv_{kind}", on_click="ignore")
        st.dataframe(shown, hide_index=True, width="stretch", column_config=DETAIL_CONFIG,
                     placeholder=BLANK)


def commit_upload(outcome, data: bytes, filename: str, actor):
    """Commit a checked upload as ``actor`` (checked again against what they may change;
    the changes are counted again inside the transaction), then drop the cached data so
    every page shows the new values at once."""
    from linkdash import submit

    result = submit.commit(get_store(), outcome, data, filename, actor=actor)
    data_changed()
    st.session_state.pop("_upload_check", None)
    return result


def quarter_link_html(q: str, label: str) -> str:
    """An ordinary link to the Overview for quarter ``q``. Not ``st.page_link``: within
    a session the sidebar's quarter keeps its value over a link's query parameter, and
    ``st.switch_page`` refuses to change a parameter bound to a widget; a link that loads
    ``./?quarter=...`` opens the view a pasted link opens."""
    import html
    from urllib.parse import urlencode

    href = "./?" + urlencode({QUARTER_KEY: q})
    return (f'<a class="lp-quarter-link" href="{html.escape(href)}" style="display:inline-flex;'
            f'align-items:center;gap:.4rem;padding:.35rem .8rem;border:1px solid rgba(49,51,63,.2);'
            f'border-radius:.5rem;text-decoration:none;color:inherit">'
            f'<span aria-hidden="true">&#8594;</span>{html.escape(label)}</a>')


def committed_message(done: dict[str, Any]) -> None:
    """The Upload page after a commit: what changed, and a link to the quarter the file
    reported (the Overview for that quarter, ``?quarter=``)."""
    with st.container(key="upload_done"):
        st.success(done["text"], icon=":material/check_circle:")
        q = done.get("quarter")
        if q:
            st.html(quarter_link_html(q, f"See {q} on the Overview"))


# --- rollback, original files, audit and users (decided in linkdash.access) ------------

def roll_back(submission_id: int, actor):
    """Roll a submission back as ``actor`` (refused unless they may), then drop the
    cached data."""
    from linkdash import submit

    result = submit.rollback(get_store(), submission_id, actor=actor)
    if result.ok:
        data_changed()
    return result


def kept_table(kept) -> pd.DataFrame:
    """A rollback's kept values in words, pilots by name."""
    from linkdash import reporting

    return reporting.kept_in_words(kept, reporting.pilot_names(load_portfolio().pilots))


ILLUSTRATIVE_RESULT = "_illustrative_result"


def _remove_illustrative(actor) -> tuple[bool, str]:
    """Roll back every live demo submission (newest first); the Pilots rows that real
    uploads report on stay (``illustrative.removal``, ``Store.rollback``)."""
    from linkdash import illustrative, submit

    store = get_store()
    ill = illustrative.state(store.submissions(), None)  # only its live demo submissions count here
    plan = illustrative.removal(store.history(), ill)
    done = []
    for sid in plan.demo_ids:
        result = submit.rollback(store, sid, actor=actor)
        if not result.ok:
            data_changed()
            return False, _md(result.message)
        done.append(result)
    data_changed()
    removed = sum(r.removed for r in done)
    kept = sum(len(r.kept) for r in done)
    ids = ", ".join(f"#{r.rolled_back}" for r in done)
    return True, (f"Removed the illustrative demo data (submission {ids}): "
                  + (f"{removed:,} made-up values are gone" if removed != 1 else "1 made-up value is gone")
                  + ((f", {kept:,} that real uploads changed are kept" if kept != 1
                      else ", 1 that a real upload changed is kept") if kept else "")
                  + ". It stays in the history: **Load it again** below brings back what no real "
                    "upload holds."
                  + ((" The Pilots rows of " + ", ".join(_pilot_display_names(plan.kept_pilots))
                      + " stay as the illustrative data wrote them, because your uploads report on "
                      "these pilots: send their real site, producer organisation and coordinates "
                      "in a Pilots sheet.") if plan.kept_pilots else ""))


def _restore_illustrative(actor) -> tuple[bool, str]:
    """Load the illustrative data again where the store holds no value (never over a
    real one), as a new demo submission that can be removed again."""
    from linkdash import demo, illustrative

    store = get_store()
    tables = illustrative.restore_tables(demo.demo_tables(), store.load())
    if not tables:
        return False, "Nothing to load: the store holds a value everywhere the illustrative data has one."
    commit = store.commit(tables, file_bytes=demo.demo_file_bytes(tables), filename=demo.DEMO_FILENAME,
                          user=actor.email, kind=demo.DEMO_KIND)
    data_changed()
    if commit.errors:
        return False, "The illustrative data could not be loaded again: " + " ".join(
            _md(p.message) for p in commit.errors[:3])
    if commit.submission_id is None:
        return False, "The illustrative data is already stored; nothing changed."
    return True, (f"Loaded the illustrative demo data again as submission #{commit.submission_id}: "
                  f"{commit.changes.new:,} values where the store had none.")


def _pilot_display_names(ids) -> list[str]:
    from linkdash import reporting

    names = reporting.pilot_names(load_portfolio().pilots)
    return [f"{names[i]} ({i})" if names.get(i, i) != i else i for i in ids]


def illustrative_offer(actor, *, key: str, restore: bool = False, only_mixed: bool = False) -> None:
    """Remove the illustrative demo data (a rollback of its submissions, kept in the
    history), or with ``restore`` load it again; for those who may. ``only_mixed``:
    offer the removal only when real uploads sit beside it (after the first one)."""
    from linkdash import access

    done = st.session_state.pop(ILLUSTRATIVE_RESULT, None)
    if done is not None:
        (st.success if done[0] else st.error)(done[1])
    ill = illustrative_state()
    if ill.any and ill.demo_ids and (ill.mixed or not only_mixed):
        with st.container(border=True, key=f"{key}_remove"):
            st.markdown("**Illustrative demo data** " + (
                "is mixed with your real uploads." if ill.mixed else "is what the pages show now."))
            refusals = [r for r in (access.rollback_refusal(actor, get_store(), i) for i in ill.demo_ids)
                        if r]
            if refusals:
                st.caption(_md(refusals[0]))
                return
            st.caption("Removing it rolls back its submission: made-up values go, values that "
                       "real uploads changed stay, and it can be loaded again.")
            sure = st.checkbox("Yes, remove the illustrative data", key=f"{key}_sure")
            if st.button("Remove the illustrative data", key=f"{key}_go", disabled=not sure,
                         type="primary", icon=":material/delete_sweep:"):
                st.session_state[ILLUSTRATIVE_RESULT] = _remove_illustrative(actor)
                st.rerun()
    elif restore and not ill.demo_ids and ill.removed_ids and actor.is_admin:
        with st.container(border=True, key=f"{key}_restore"):
            st.markdown("**Illustrative demo data** was removed (it is in the history).")
            if st.button("Load it again where there is no real value", key=f"{key}_again",
                         icon=":material/science:"):
                st.session_state[ILLUSTRATIVE_RESULT] = _restore_illustrative(actor)
                st.rerun()
