"""Display names: the one home of a pilot's name as every layer shows it (the charts, the
story, the deck and the report, the upload's words)."""

from __future__ import annotations

import pandas as pd


def pilot_names(pilots: pd.DataFrame | None) -> dict[str, str]:
    """id -> display name of a pilots frame (``Portfolio.pilots`` or a file's Pilots
    sheet): its ``pilot_name``, or the id where the name is blank or missing."""
    if pilots is None or pilots.empty or "pilot_id" not in pilots.columns:
        return {}
    names = pilots["pilot_name"] if "pilot_name" in pilots.columns else pilots["pilot_id"]
    return {str(i): (n if isinstance(n, str) and n.strip() else str(i))
            for i, n in zip(pilots["pilot_id"], names)}
