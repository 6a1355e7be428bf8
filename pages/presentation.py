"""Presentation: one story per slide, for the learning event.

The portfolio on the map, progress through the learning cycle, income against the
living-income benchmark, inclusiveness, the New Business Model Principles, then one
slide per pilot: its income against its baseline, target and living-income benchmark,
its key figures against their targets and its key lesson. Beyond 20 pilots only the
ends of the living-income ranking have a slide (``story.pilot_slides``); "Find a pilot in
the slides" (sidebar, ``?find=``) adds any other and goes to it. The slide number lives
in the URL (``?slide=3``). Follows the sidebar filters; draws with no internet; "Export what you
see" downloads the data, the indicators, the deck (.pptx, with progress) and the report.

"Present" (``?present=1``) makes a slide the screen: no sidebar or Streamlit chrome, type
and charts sized from the window, a presenter's remote (Page Down / Page Up, arrows,
space, Home, End; F for full screen), "Exit" back to the page. "Presenter view" opens a
second window (``?presenter=1&talk=CODE``) with the slide's speaker notes (the deck's),
the next slide's title and a timer, following the main window.
"""

import html

import streamlit as st

from linkdash import catalogue, charts, exports, maps, presenting, quarters, style, ui
from linkdash import story as story_parts

ui.page_start()

SLIDE_PARAM = "slide"
PRESENTING = ui.present_mode()

if ui.presenter_mode():
    ui.presenter_view(str(st.query_params.get(ui.TALK_PARAM) or ""))
    st.stop()

if PRESENTING:
    ui.hide_chrome()

portfolio = ui.load_portfolio()
flt = ui.current_filter()
story, story_key = ui.story_of(flt, ui.current_quarter(portfolio), ui.current_as_of(portfolio),
                               ui.illustrative_shown())
view = story.view
FIND_KEY = "find"


def _found() -> None:  # a pilot picked by name: go to its slide
    st.session_state.slide_goto = st.session_state.get(FIND_KEY)


found: tuple[str, ...] = ()
if story_parts.pilots_chosen(story):  # only some pilots get a slide: any other by name
    with st.sidebar:
        found = ui.find_pilot(view, "the slides", key=FIND_KEY, on_change=_found,
                              all_named_max=story_parts.figures.SLIDE_ROWS_MAX, bind=False,
                              named=f"the {story_parts.PILOT_SLIDE_ENDS} lowest and highest by income "
                                    "against the living income have slides")
        st.caption(story_parts.pilot_choice(story, found))
SLIDES = presenting.slides(story, found)
n_slides = len(SLIDES)
ui.warm_deck_map(portfolio, flt, story.quarter)


def _from_url() -> int:
    try:
        return int(st.query_params.get(SLIDE_PARAM, 1)) - 1
    except (TypeError, ValueError):
        return 0


def _set(i: int) -> None:
    i = min(max(i, 0), n_slides - 1)
    st.session_state.slide_index = i
    st.query_params[SLIDE_PARAM] = str(i + 1)


def _go(step: int) -> None:
    _set(st.session_state.slide_index + step)


if "slide_index" not in st.session_state:
    st.session_state.slide_index = _from_url()
goto = st.session_state.pop("slide_goto", None)
if goto:
    st.session_state.slide_index = next((i for i, s in enumerate(SLIDES) if s.pilot_id == goto),
                                        st.session_state.slide_index)

# --- the bar: previous / next, where we are, present / exit, full screen ----------------
bar = st.container(key="lp-bar", horizontal=False)
cols = bar.columns([1.3, 1.1, 4.6, 1.4, 1.5, 1.5] if PRESENTING else [1.5, 1.2, 4.3, 1.6, 3],
                   vertical_alignment="center")
if PRESENTING:
    with cols[3]:
        action, vp = ui.clicker()
    step = {"next": 1, "prev": -1}.get(action or "")
    if step:
        _go(step)
    elif action == "first":
        _set(0)
    elif action == "last":
        _set(n_slides - 1)
else:
    vp = {"w": 1100, "h": 900}  # the page: sizes of a laptop screen, the sidebar open
index = min(max(int(st.session_state.slide_index), 0), n_slides - 1)
st.session_state.slide_index = index
if st.query_params.get(SLIDE_PARAM) != str(index + 1):
    st.query_params[SLIDE_PARAM] = str(index + 1)

cols[0].button("◀ Previous", on_click=_go, args=(-1,), disabled=index == 0, width="stretch",
               key="slide_prev")
cols[1].button("Next ▶", on_click=_go, args=(1,), disabled=index >= n_slides - 1, width="stretch",
               key="slide_next", type="primary")
where = (f"**Slide {index + 1} of {n_slides}** · {html.escape(story.flt.describe())} · "
         f"{story.quarter_label}" + (" · *illustrative demo data*" if story.demo else ""))
cols[2].markdown(where)
talk = str(st.query_params.get(ui.TALK_PARAM) or "")
if PRESENTING:
    cols[4].link_button("Presenter view", f"?{ui.PRESENTER_PARAM}=1&{ui.TALK_PARAM}={talk}",
                        width="stretch", icon=":material/speaker_notes:",
                        help="A second window with the notes, the next slide and a timer")
    cols[5].button("✕ Exit", on_click=ui.set_present, args=(False,), width="stretch", key="lp_exit",
                   help="Back to the page, with the sidebar")
else:
    cols[3].button("Present", on_click=ui.set_present, args=(True,), width="stretch", key="lp_present",
                   icon=":material/slideshow:", type="primary",
                   help="The slide as the whole screen; Page Down / Page Up move, F is full screen")
    with cols[4].popover("Export what you see", icon=":material/download:", width="stretch"):
        st.caption(f"Files of **{html.escape(story.flt.describe())}**, {story.quarter_label}; "
                   "each is built when you click it.")
        ui.export_buttons(portfolio, flt=flt, as_of=story.as_of, demo=story.demo_arg, stacked=True,
                          find=found)
        chosen = st.session_state.get(ui.QUARTER_KEY) or None
        ui.deck_download(portfolio, flt=flt, quarter=str(chosen) if chosen else None, as_of=story.as_of,
                         demo=story.demo_arg, file_name=exports.export_filename(".pptx", flt, story.quarter),
                         find=found)

if view.pilots.empty:
    ui.no_data("No pilots match the filters in the sidebar.")
    st.stop()

slide = SLIDES[index]
if PRESENTING and talk:
    nxt = SLIDES[index + 1].title if index + 1 < n_slides else None
    ui.publish_slide(talk, {"index": index, "n": n_slides, "title": slide.title, "next_title": nxt,
                            "notes": presenting.notes(story, slide)})

# --- sizes from the window ---------------------------------------------------------------
W, H = int(vp["w"]), int(vp["h"])
title_px = int(max(20, min(0.06 * H, (W - 60) / (0.58 * max(len(slide.title), 1)))))
kicker_px = int(max(13, min(24, 0.026 * H)))
card_px = int(max(18, min(44, 0.045 * H, W / 22)))  # four cards must fit a phone's width too
text_px = int(max(13, min(26, 0.024 * H)))
BAR_PX, GAP_PX = 46, 8
used = BAR_PX + round(title_px * 1.3) + GAP_PX + 16  # bar, title, gap, bottom room
cards_h = round(card_px * 1.2 + 2 * 1.2 * max(12, card_px * 0.45) + 16) + GAP_PX
kicker_h = round(kicker_px * 1.4) + GAP_PX
if PRESENTING:
    st.html(f"<style>.st-key-lp-slide .lp-title {{ font-size: {title_px}px; }}"
            f".st-key-lp-slide .lp-kicker {{ font-size: {kicker_px}px; }}"
            f".st-key-lp-slide .lp-text, .st-key-lp-slide .lp-targets {{ font-size: {text_px}px; }}</style>")

figs = story.figures


def _cards(names: list[str]) -> int:
    if PRESENTING:
        ui.slide_cards(figs, names, card_px)
        return cards_h
    ui.kpi_cards(figs, names, per_row=len(names))
    return 0


def _kicker(text: str) -> int:
    st.html(f'<p class="lp-kicker">{html.escape(text)}</p>')
    return kicker_h


def _figure(func, *args, **kwargs):
    """A chart of the story, shared by every session (never changed: copied to change);
    no clicks on its pilots on a slide in presentation mode (a click must not leave
    the talk)."""
    return ui.story_chart(story_key, func, *args, pilot_clicks=not PRESENTING, **kwargs)


def _chart(fig, key: str, height: int, **slide_layout) -> None:
    if PRESENTING:  # sized for the window, with ``slide_layout``'s changes (on a copy)
        ui.slide_chart(fig, key, height, **slide_layout)
    else:
        ui.show_chart(fig, key=key)


st.html("""<style>
.lp-kicker { color: #5f5f5f; font-size: 1.1rem; margin: 0; }
.lp-lesson { background: #eef3ef; border-left: 8px solid #1b6e3a; padding: 0.5em 0.9em;
             line-height: 1.35; margin: 0; }
.lp-lesson .lp-head { display: block; color: #1b6e3a; font-size: 0.7em; font-weight: bold; }
.lp-text { line-height: 1.4; }
</style>""")

with st.container(key="lp-slide"):
    if PRESENTING:  # a heading of its own: sized from the window, no anchor link
        st.html(f'<h1 class="lp-title" data-sized="{W}x{H}">{html.escape(slide.title)}</h1>')
    else:
        st.title(slide.title)
    if slide.kind == "map":
        used += _cards(["pilots_total", "pilots_reporting", "households_reached", "participants_total"])
        fig = _figure(maps.country_map, story_parts.MAP_FIGURE, story.quarter,
                      width_px=W - 60, height_px=max(H - used, 240))
        _chart(fig, "slide_map", H - used, title=None, margin=dict(l=0, r=0, t=0, b=0))
    elif slide.kind == "progress":
        used += _kicker(f"Milestones as of {story.as_of_label}")
        used += _cards(["milestones_completed", "milestones_overdue"])
        if story_parts.slides_by_group(story):  # too many pilots for a row each
            _chart(_figure(charts.milestone_summary_chart, story.as_of), "slide_milestones",
                   H - used - (44 if PRESENTING else 0))
        else:
            _chart(_figure(charts.link_tools_matrix, story.as_of), "slide_tools",
                   H - used - (44 if PRESENTING else 0))
        overdue = ui.story_chart(story_key, charts.overdue_table, story.as_of)
        if not overdue.empty:
            if PRESENTING:
                with st.popover(f"Overdue milestones ({len(overdue)})"):
                    st.dataframe(overdue, hide_index=True, width="stretch")
            else:
                st.subheader("Overdue milestones")
                st.dataframe(overdue, hide_index=True, width="stretch")
    elif slide.kind == "income":
        used += _cards(["income_avg_usd", "share_above_living_income"])
        _chart(_figure(charts.income_trend), "slide_income", H - used)
    elif slide.kind == "inclusiveness":
        used += _cards(["women_share_participants", "youth_share_participants", "women_share_leaders"])
        left, right = st.columns(2)
        # a bar per pilot up to 20 pilots, else per country, region or value chain
        shares = (charts.inclusiveness_by_group if story_parts.slides_by_group(story)
                  else charts.inclusiveness_bars)
        # each chart's width: half the window, or all of it where the columns stack (a phone:
        # the window's width when presenting, else what the browser says)
        if W < ui.STACKED_COLUMNS_PX:
            half_px = W - 50
        elif not PRESENTING and ui.narrow_screen():
            half_px = ui.NARROW_CHART_PX - 240  # a phone's column
        else:
            half_px = max(style.HALF_WIDTH_PX, W // 2 - 60)
        for col, who in ((left, "women"), (right, "youth")):
            with col:
                _chart(_figure(shares, story.quarter, "participants", who, width_px=half_px),
                       f"slide_{who}", H - used)
    elif slide.kind == "nbmp":
        used += _kicker(story_parts.NBMP_DEFINITION)
        _chart(_figure(charts.nbmp_radar), "slide_nbmp", H - used - kicker_h)
    else:
        pid = slide.pilot_id
        s = story_parts.pilot_summary(story, pid)
        f = s["facts"]
        used += _kicker(story_parts.pilot_kicker(f))
        rank = story_parts.pilot_rank(story, pid)  # why it has a slide, when not every pilot has one
        if rank:
            used += _kicker(rank)
        les = s["lesson"]
        if les:
            head = f"Key lesson ({les['kind']}, {quarters.label(les['quarter'])}"
            if les.get("milestone"):
                head += f", {catalogue.MILESTONE_LABELS.get(les['milestone'], les['milestone'])}"
            head += ")"
            short, cut = story_parts.shorten(les["lesson"]) if PRESENTING else (str(les["lesson"]), False)
            lesson_cols = st.columns([8, 1.3], vertical_alignment="center") if cut else [st.container()]
            lesson_cols[0].html(
                f'<div class="lp-lesson lp-text"><span class="lp-head">{html.escape(head)}</span>'
                f'{html.escape(short)}</div>')
            if cut:
                with lesson_cols[1].popover("Read in full", width="stretch"):
                    st.markdown(f"**{ui.literal(head)}**")
                    st.markdown(ui.literal(les["lesson"]))
            used += round(text_px * (0.7 * 1.35 + 3 * 1.35)) + 16 + GAP_PX
        else:
            st.info("No insight or recommendation recorded yet for this pilot.")
            used += 60
        left, right = st.columns([2, 3])
        with left:
            ms = s["milestones"]
            st.html(
                '<div class="lp-text">'
                + "".join(f"<b>{html.escape(k)}:</b> {html.escape(f[k])}<br>"
                          for k in ("Dates", "Target households") if k in f)
                + f"<b>Milestones:</b> {ms['completed']} of {ms['total']} completed, {ms['overdue']} overdue"
                + "</div>")
            targets = story_parts.pilot_targets(story, pid)
            if len(targets):
                rows = "".join(
                    f"<tr><td>{html.escape(r.label)}</td><td><b>{html.escape(r.value_text)}</b></td>"
                    f"<td>{html.escape(r.target_text)}</td>"
                    f"<td>{html.escape(r.progress_text.replace(' of the way', ''))}</td></tr>"
                    for r in targets.itertuples())
                st.html('<table class="lp-targets">'
                        f"<tr><th>Against targets, {html.escape(story.quarter_label)}</th>"
                        f"<th>Now</th><th>Target</th><th>Done</th></tr>{rows}</table>")
            elif s["figures"]:
                ui.kpi_cards(s["figures"], ["households_reached", "income_avg_usd"], per_row=1)
            else:
                st.caption("No indicators reported yet.")
        with right:
            series, tgt = story_parts.pilot_income_series(story, pid)
            width = int((W - 60) * 3 / 5) if PRESENTING else 520
            fig = charts.pilot_goal_chart(series, tgt, s["name"], width_px=width,
                                          height_px=max(H - used, 260) if PRESENTING else 520,
                                          font_size=max(12, min(18, text_px - 2)) if PRESENTING else 14,
                                          title=not PRESENTING)
            _chart(fig, f"slide_income_{pid}", max(H - used, 260))
