"""The Presentation page's slides, without streamlit.

Which slides the page shows (:func:`slides`: the parts of ``story.PARTS`` it has, in
that order, one slide per pilot that gets one) with their titles, and each slide's speaker notes
(:func:`notes`: ``story.notes`` of its part, the same notes as the deck's slide).
"""

from __future__ import annotations

from dataclasses import dataclass

from linkdash import story as story_parts
from linkdash.names import pilot_names
from linkdash.story import Story, pilot_slides


@dataclass(frozen=True)
class Slide:
    kind: str  # map, progress, income, inclusiveness, nbmp, pilot
    title: str
    pilot_id: str | None = None


def _titles(story: Story) -> dict[str, str]:
    """The page's title of each part it shows (the page's map slide also shows cards)."""
    return {"map": f"The LINK pilots on the map, {story.quarter_label}",
            "progress": "Progress through the learning cycle",
            "income": "Income against the living-income benchmark",
            "inclusiveness": f"Inclusiveness: women and youth, {story.quarter_label}",
            "nbmp": "The New Business Model Principles"}


def slides(story: Story, find=()) -> list[Slide]:
    """The Presentation page's slides, in the story's order; the pilots' slides are those
    of ``story.pilot_slides`` (all of them up to 20 pilots; else the ends of a ranking and
    the pilots of ``find``)."""
    titles = _titles(story)
    names = pilot_names(story.view.pilots)
    out: list[Slide] = []
    for part in story_parts.PARTS:
        if part == "pilots":
            out += [Slide("pilot", f"{names.get(p, p)} ({p})", p) for p in pilot_slides(story, find)]
        elif part in titles:
            out.append(Slide(part, titles[part]))
    return out


def notes(story: Story, slide: Slide) -> str:
    """The speaker notes of a slide: the deck's notes of the same part."""
    return story_parts.notes(story, "pilots" if slide.kind == "pilot" else slide.kind, slide.pilot_id)
