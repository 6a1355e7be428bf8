"""Presentation: one story per slide, full width, large type, for the learning event.

The portfolio on the map, progress through the learning cycle, income against the
living-income benchmark, inclusiveness, the New Business Model Principles, then one
slide per pilot with its key lesson. Previous / Next keep the slide number in the URL
(``?slide=3``), so a reload stays on the slide. Follows the sidebar filters; draws with
no internet; "Export what you see" downloads the data (.xlsx), the indicators (.csv), the
deck (.pptx) and the report (.html) of what the filters show.
"""

import html

import streamlit as st

from linkdash import catalogue, charts, deck, maps, quarters, style, ui

# the pilot slide's chart column (3/5 of the main column in a 1400 px window)
PILOT_CHART_PX = 520

ui.page_start()

SLIDE_PARAM = "slide"

st.html("""<style>
.lp-kicker { color: #5f5f5f; font-size: 1.1rem; margin: 0; }
.lp-lesson { background: #eef3ef; border-left: 8px solid #1b6e3a; padding: 18px 24px;
             font-size: 1.6rem; line-height: 1.4; margin: 8px 0 16px; }
.lp-lesson .lp-head { display: block; color: #1b6e3a; font-size: 1.05rem; font-weight: bold;
                      margin-bottom: 6px; }
.lp-facts { font-size: 1.2rem; line-height: 1.6; }
</style>""")

portfolio = ui.load_portfolio()
flt = ui.current_filter()
story = deck.resolve(portfolio, flt, ui.current_quarter(portfolio), ui.current_as_of(portfolio),
                     demo=ui.is_demo_data())
view = story.view
names = deck.pilot_names(view)
pilot_ids = sorted(view.pilots["pilot_id"], key=lambda p: names.get(p, p))

SLIDES = ["map", "progress", "income", "inclusiveness", "nbmp"] + [f"pilot:{p}" for p in pilot_ids]
n_slides = len(SLIDES)


def _from_url() -> int:
    try:
        return int(st.query_params.get(SLIDE_PARAM, 1)) - 1
    except (TypeError, ValueError):
        return 0


if "slide_index" not in st.session_state:
    st.session_state.slide_index = _from_url()
index = min(max(int(st.session_state.slide_index), 0), n_slides - 1)
st.session_state.slide_index = index
if st.query_params.get(SLIDE_PARAM) != str(index + 1):
    st.query_params[SLIDE_PARAM] = str(index + 1)


def _go(step: int) -> None:
    i = min(max(st.session_state.slide_index + step, 0), n_slides - 1)
    st.session_state.slide_index = i
    st.query_params[SLIDE_PARAM] = str(i + 1)


# --- the navigation bar --------------------------------------------------------------
nav = st.columns([1.5, 1.2, 4.3, 3], vertical_alignment="center")
nav[0].button("◀ Previous", on_click=_go, args=(-1,), disabled=index == 0, width="stretch",
              key="slide_prev")
nav[1].button("Next ▶", on_click=_go, args=(1,), disabled=index >= n_slides - 1, width="stretch",
              key="slide_next", type="primary")
nav[2].markdown(f"**Slide {index + 1} of {n_slides}** · {html.escape(story.flt.describe())} · "
                f"{story.quarter_label}" + (" · *illustrative demo data*" if story.demo else ""))
with nav[3].popover("Export what you see", icon=":material/download:", width="stretch"):
    st.caption(f"Files of **{html.escape(story.flt.describe())}**, {story.quarter_label}; "
               "each is built when you click it.")
    ui.export_buttons(portfolio, flt=flt, as_of=story.as_of, demo=story.demo, stacked=True)

if view.pilots.empty:
    ui.no_data("No pilots match the filters in the sidebar.")
    st.stop()

figs = story.figures


def _cards(names_: list[str]) -> None:
    ui.kpi_cards(figs, names_, per_row=len(names_))


slide = SLIDES[index]
if slide == "map":
    st.title(f"The LINK pilots on the map, {story.quarter_label}")
    _cards(["pilots_total", "pilots_reporting", "households_reached", "participants_total"])
    ui.show_chart(maps.country_map(view, deck.MAP_FIGURE, story.quarter), key="slide_map")
elif slide == "progress":
    st.title("Progress through the learning cycle")
    st.markdown(f'<p class="lp-kicker">Milestones as of {story.as_of_label}</p>', unsafe_allow_html=True)
    _cards(["milestones_completed", "milestones_overdue"])
    ui.show_chart(charts.link_tools_matrix(view, story.as_of), key="slide_tools")
    overdue = charts.overdue_table(view, story.as_of)
    if not overdue.empty:
        st.subheader("Overdue milestones")
        st.dataframe(overdue, hide_index=True, width="stretch")
elif slide == "income":
    st.title("Income against the living-income benchmark")
    _cards(["income_avg_usd", "share_above_living_income"])
    ui.show_chart(charts.income_trend(view), key="slide_income")
elif slide == "inclusiveness":
    st.title(f"Inclusiveness: women and youth, {story.quarter_label}")
    _cards(["women_share_participants", "youth_share_participants", "women_share_leaders"])
    left, right = st.columns(2)
    with left:
        ui.show_chart(charts.inclusiveness_bars(view, story.quarter, "participants", "women",
                                                width_px=style.HALF_WIDTH_PX),
                      key="slide_women")
    with right:
        ui.show_chart(charts.inclusiveness_bars(view, story.quarter, "participants", "youth",
                                                width_px=style.HALF_WIDTH_PX),
                      key="slide_youth")
elif slide == "nbmp":
    st.title("The New Business Model Principles")
    st.markdown(f'<p class="lp-kicker">{html.escape(deck.NBMP_DEFINITION)}</p>', unsafe_allow_html=True)
    ui.show_chart(charts.nbmp_radar(view), key="slide_nbmp")
else:
    pid = slide.split(":", 1)[1]
    s = deck.pilot_summary(story, pid)
    f = s["facts"]
    st.title(f"{s['name']} ({pid})")
    st.markdown(f'<p class="lp-kicker">{html.escape(deck.pilot_kicker(f))}</p>',
                unsafe_allow_html=True)
    les = s["lesson"]
    if les:
        head = f"Key lesson ({les['kind']}, {quarters.label(les['quarter'])}"
        if les.get("milestone"):
            head += f", {catalogue.MILESTONE_LABELS.get(les['milestone'], les['milestone'])}"
        head += ")"
        st.markdown(f'<div class="lp-lesson"><span class="lp-head">{html.escape(head)}</span>'
                    f'{html.escape(str(les["lesson"]))}</div>', unsafe_allow_html=True)
    else:
        st.info("No insight or recommendation recorded yet for this pilot.")
    left, right = st.columns([2, 3])
    with left:
        ms = s["milestones"]
        st.markdown(
            '<div class="lp-facts">'
            + "".join(f"<b>{html.escape(k)}:</b> {html.escape(v)}<br>" for k, v in f.items())
            + f"<b>Milestones:</b> {ms['completed']} of {ms['total']} completed, {ms['overdue']} overdue"
            + "</div>", unsafe_allow_html=True)
        if s["figures"]:
            st.caption(f"Key figures, {quarters.label(s['quarter'])}")
            ui.kpi_cards(s["figures"], ["households_reached", "women_share_participants",
                                        "income_avg_usd", "share_above_living_income"], per_row=1)
        else:
            st.caption("No indicators reported yet.")
    with right:
        ui.show_chart(charts.income_trend(view, [pid], width_px=PILOT_CHART_PX),
                      key=f"slide_income_{pid}")
