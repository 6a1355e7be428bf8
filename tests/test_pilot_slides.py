"""Which pilots get a slide and a report card (issue 13: pages that read well at 1,000
pilots). Up to 20 pilots every pilot has one, by name. Beyond, a slide each made a deck of
1,009 slides (2 minutes to build, 11.6 MB) and a report of 19 MB: the pilots that get one
are the lowest and the highest by income against the living-income benchmark (the
Outcomes page's ranking) and any pilot picked by name; the report then lists every pilot
in a table, and the Presentation page has a picker for any other."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from pptx import Presentation

from linkdash import charts, deck, demo, figures, presenting, report
from linkdash import story as story_parts
from linkdash.names import pilot_names
from tests.scale_fixture import big_portfolio

N = 100
ENDS = story_parts.PILOT_SLIDE_ENDS


@pytest.fixture(scope="module")
def big():
    return big_portfolio(N)


@pytest.fixture(scope="module")
def told(big):
    return story_parts.resolve(big)


def _ranked(told) -> list[str]:
    return figures.living_income_ranking(told.view, told.quarter)["pilot_id"].tolist()


def test_beyond_twenty_pilots_the_ends_of_the_living_income_ranking_get_a_slide(told):
    ranked = _ranked(told)
    assert 2 * ENDS < len(ranked) <= N
    chosen = story_parts.pilot_slides(told)
    assert chosen == ranked[:ENDS] + ranked[-ENDS:]
    ratios = figures.living_income_ranking(told.view, told.quarter).set_index("pilot_id")["ratio"]
    assert ratios[chosen[0]] == ratios.min() and ratios[chosen[-1]] == ratios.max()
    # each slide says where its pilot stands, as the Outcomes chart ranks it
    first = story_parts.pilot_rank(told, chosen[0])
    assert first.startswith(f"Income {ratios[chosen[0]] * 100:.0f}% of the living income: #1 of "
                            f"{len(ranked)} pilots")
    assert f"#{len(ranked)} of {len(ranked)}" in story_parts.pilot_rank(told, chosen[-1])


def test_the_slides_rank_the_pilots_as_the_outcomes_chart_does(big, told):
    fig = charts.income_to_living_income_chart(big, told.quarter)
    names = pilot_names(big.pilots)
    drawn = [y for tr in fig.data if tr.type == "bar" and tr.customdata is not None for y in tr.y]
    order = list(fig.layout.yaxis.categoryarray)
    chosen = [names[p] for p in story_parts.pilot_slides(told)]
    on_chart = [y for y in order if y in set(drawn)]
    # the chart names the lowest and highest 10; the slides are its first and last 5
    assert chosen == on_chart[:ENDS] + on_chart[-ENDS:]


def test_a_pilot_picked_by_name_gets_its_slide_where_it_ranks(told):
    ranked = _ranked(told)
    middle = ranked[len(ranked) // 2]
    chosen = story_parts.pilot_slides(told, (middle,))
    assert chosen == ranked[:ENDS] + [middle] + ranked[-ENDS:]
    # a pilot without an income is not ranked: its slide comes after the others
    unranked = sorted(set(told.view.pilots["pilot_id"]) - set(ranked))[0]
    assert story_parts.pilot_slides(told, (unranked,))[-1] == unranked
    assert story_parts.pilot_rank(told, unranked).startswith("Not ranked: no income")
    # an id that is not in the view adds nothing
    assert story_parts.pilot_slides(told, ("NOPE-000",)) == story_parts.pilot_slides(told)
    assert "and " + pilot_names(told.view.pilots)[middle] in story_parts.pilot_choice(told, (middle,))


def test_up_to_twenty_pilots_every_pilot_has_a_slide_by_name():
    told = story_parts.resolve(demo.portfolio_from_tables(demo.demo_tables(today=dt.date(2019, 2, 1))))
    assert len(told.view.pilots) == 13
    assert story_parts.pilot_slides(told, ("KEN-DAIRY",)) == story_parts.pilot_order(told)
    assert story_parts.pilot_rank(told, story_parts.pilot_order(told)[0]) is None
    assert not story_parts.pilots_chosen(told)


def test_the_page_and_the_deck_show_the_same_pilots(big, told):
    ranked = _ranked(told)
    middle = ranked[len(ranked) // 2]
    names = pilot_names(big.pilots)
    page = [s.pilot_id for s in presenting.slides(told, (middle,)) if s.kind == "pilot"]
    prs = Presentation(io.BytesIO(deck.deck_bytes(big, find=(middle,))))
    titles = [s.shapes.title.text for s in prs.slides if s.shapes.title is not None]
    in_deck = [p for t in titles for p in [re.sub(r".*\((.+)\)$", r"\1", t)] if p in names]
    assert in_deck == page == story_parts.pilot_slides(told, (middle,))
    assert len(prs.slides) < 25  # not a slide per pilot
    slide = next(s for s in prs.slides if s.shapes.title is not None
                 and s.shapes.title.text == f"{names[middle]} ({middle})")
    text = " ".join(sh.text_frame.text for sh in slide.shapes if sh.has_text_frame)
    assert story_parts.pilot_rank(told, middle) in text
    notes = slide.notes_slide.notes_text_frame.text
    assert story_parts.pilot_rank(told, middle) in notes


def test_the_report_has_cards_for_the_chosen_pilots_and_a_table_of_every_pilot(big, told):
    html_text = report.report_html(big)
    cards = re.findall(r'<article class="pilot" id="pilot-([^"]+)"', html_text)
    assert cards == story_parts.pilot_slides(told)
    listed = story_parts.pilot_list(told)
    assert len(listed) == N and listed["ID"].is_unique
    table = html_text[html_text.index('id="all-pilots"'):]
    for pid in told.view.pilots["pilot_id"]:
        assert f"<td>{pid}</td>" in table
    ranked = _ranked(told)
    assert listed.set_index("ID").loc[ranked[0], "Rank"] == "#1"
    assert "get a card" in html_text and "for a card each" in html_text
    middle = ranked[len(ranked) // 2]
    picked = report.report_html(big, find=(middle,))
    assert re.findall(r'<article class="pilot" id="pilot-([^"]+)"', picked) == (
        story_parts.pilot_slides(told, (middle,)))
    assert middle in re.findall(r'<article class="pilot" id="pilot-([^"]+)"', picked)
