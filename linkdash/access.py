"""Who may change which pilots.

A regional director may only change the pilots of their region. The rules live in a
small CSV file named by ``LINKDASH_ACCESS_FILE`` (default ``data/access.csv`` when it
exists)::

    email,scope
    asia.director@example.org,Asia
    kenya.team@example.org,"KEN-DAIRY, UGA-DAIRY"
    admin@example.org,*

``scope`` lists pilot ids and/or region names, or ``*`` for every pilot. Without the
file, everyone may change every pilot (a single-user installation). A user who is not
in an existing file may change nothing.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pandas as pd

from linkdash import catalogue

ALL = None  # scope meaning "every pilot"


def access_file() -> Path | None:
    env = os.environ.get("LINKDASH_ACCESS_FILE")
    path = Path(env) if env else catalogue.DATA_DIR / "access.csv"
    return path if path.exists() else None


def scope_for(user: str | None, pilots: pd.DataFrame, path: Path | None = None) -> set[str] | None:
    """The pilot ids ``user`` may change (upper case), or ``None`` for every pilot.

    ``pilots`` is the current Pilots frame, used to expand region names."""
    path = path or access_file()
    if path is None:
        return ALL
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    wanted = (user or "").strip().lower()
    for row in rows:
        if (row.get("email") or "").strip().lower() != wanted:
            continue
        items = [s.strip() for s in (row.get("scope") or "").split(",") if s.strip()]
        if "*" in items:
            return ALL
        region_names = {r.lower() for r in catalogue.REGIONS}
        regions = {i.lower() for i in items if i.lower() in region_names}
        ids = {i.upper() for i in items if i.lower() not in region_names}
        if not pilots.empty:
            ids |= set(pilots.loc[pilots["region"].str.lower().isin(regions), "pilot_id"])
        return ids
    return set()
