"""The Streamlit layer: cached loaders, the shared sidebar filters and small widgets.

This package is the only part of ``linkdash`` that imports streamlit. Pages stay thin: they
gather input with the helpers here, call the functional core (figures, charts, maps,
submit, exports) and render what comes back.

Caching: the store is a ``st.cache_resource`` (one per database URL); the portfolio is a
``st.cache_resource`` keyed on ``store.data_version()``, which is read on every script run,
so a commit made in another process (the command line, another browser, another app
server on the same PostgreSQL database) shows at the next run. Every session shares that
one portfolio (never a copy per session), and the parts a filter selects are kept on it
(``Portfolio.filtered``), so all charts of one filter share one part. After a commit or a
rollback in this process :func:`data_changed` drops the old entries; another process
drops its old version when it reads the new one.

What the caches hold is shared by every session's thread, so nothing changes it once
shared: a chart is finished for the page (data revision, selection modes) by the cached
function that makes it (``page.finish_figure``) and is copied before any other change; a
shared dict is iterated over a snapshot (``list(d)``, ``d.copy()``). One session changing
a figure while another's run copied it to send showed that director an error page.

The modules: ``page`` (page start, look, text helpers), ``session`` (sign-in, the store,
the cached loaders), ``filters`` (sidebar filters, links, as-of date, demo badge),
``widgets`` (cards, charts, pilot links and pickers), ``records`` (lessons and
submissions as cards and tables), ``upload`` (the Upload page's pieces), ``downloads``
and ``present`` (presentation mode). Every name the pages use is re-exported here, with
the core's helpers they call (``lessons``, ``reporting``, ``exports``, ``originals``):
pages write ``ui.name``.
"""

# pure helpers of the core (tested without streamlit), re-exported for the pages
from linkdash.exports import frame_csv_bytes  # noqa: F401
from linkdash.lessons import search_lessons  # noqa: F401
from linkdash.originals import download_name  # noqa: F401
from linkdash.reporting import (  # noqa: F401
    AUDIT_EVENTS,
    audit_in_words,
    describe_commit,
    describe_submission,
    event_words,
    problems_frame,
    rollback_text,
)
from linkdash.ui.downloads import (  # noqa: F401
    EXPORT_HELP,
    EXPORT_KEYS,
    XLSX_MIME,
    csv_download,
    export_buttons,
    export_download,
    original_download,
    show_refusal,
    template_bytes,
)
from linkdash.ui.filters import (  # noqa: F401
    as_of_default,
    as_of_input,
    check_link,
    current_as_of,
    current_filter,
    current_quarter,
    demo_badge,
    filter_caption,
    filtered_portfolio,
    fmt_date,
    illustrative_shown,
    illustrative_state,
    is_demo_data,
    link_notes,
    link_values,
    mixed_banner,
    no_match_message,
    nothing_matches,
    remember_link,
    sidebar_filters,
)
from linkdash.ui.page import (  # noqa: F401
    APP_PATH,
    AS_OF_KEY,
    BLANK,
    CHAIN_KEY,
    COUNTRY_KEY,
    NARROW_CHART_PX,
    NO_DATA,
    PAGE_CSS,
    PAGE_FILES,
    PILOT_PARAM,
    PLOTLY_CONFIG,
    PRESENT_PARAM,
    PRESENTER_PARAM,
    QUARTER_KEY,
    REGION_KEY,
    STACKED_COLUMNS_PX,
    TALK_PARAM,
    figure_copy,
    literal,
    load_charts_early,
    narrow_screen,
    page_look,
    page_start,
    present_mode,
    presenter_mode,
    today,
)
from linkdash.ui.present import (  # noqa: F401
    DEFAULT_VIEWPORT,
    PRESENT_CSS,
    clicker,
    deck_download,
    hide_chrome,
    presenter_view,
    publish_slide,
    restart_timer,
    set_present,
    slide_cards,
    slide_chart,
    talk_state,
    warm_deck_map,
)
from linkdash.ui.records import (  # noqa: F401
    LESSON_COLUMNS,
    LESSONS_READ,
    SUBMISSION_COLUMNS,
    SUBMISSION_CONFIG,
    lessons_cards,
    lessons_table,
    lessons_view,
    submissions_for_pilot,
    submissions_table,
)
from linkdash.ui.session import (  # noqa: F401
    LOOPBACK,
    auth_configured,
    current_actor,
    current_user,
    data_changed,
    data_version,
    database_guard,
    database_url,
    get_store,
    load_portfolio,
    load_submissions,
    local_mode,
    require,
    sign_in_gate,
    signed_in_email,
    story_chart,
    story_of,
    user_box,
)
from linkdash.ui.upload import (  # noqa: F401
    DETAIL_CONFIG,
    DETAIL_ROWS_SHOWN,
    ILLUSTRATIVE_RESULT,
    LISTED_PROBLEMS,
    PROBLEM_TABLE_CONFIG,
    changes_counts,
    changes_detail,
    checked_upload,
    commit_upload,
    committed_message,
    illustrative_offer,
    kept_table,
    problem_report,
    quarter_link_html,
    report_csv_bytes,
    roll_back,
    unusual_changes,
    upload_coverage,
    warm_reader,
)
from linkdash.ui.widgets import (  # noqa: F401
    KPI_GROUPS,
    NOT_REPORTING_LISTED,
    PILOT_CARDS,
    PILOT_LINKS_MAX,
    chart,
    clicked_pilot,
    computed,
    figure_help,
    figure_label,
    find_pilot,
    format_value,
    kpi_cards,
    map_figures,
    no_data,
    not_reporting,
    open_clicked_pilot,
    pager,
    pilot_facts,
    pilot_link,
    pilot_link_column,
    pilot_links,
    pilot_picker,
    pilot_query_params,
    pilot_url,
    show_chart,
    table_with_pilot_links,
    with_pilot_links,
)
