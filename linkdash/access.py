"""Who may do what: every action of ``linkdash`` that changes data, undoes it, hands out
an original file or manages users takes the acting user (an ``Actor``) and is decided
here, whatever page or command calls it.

Roles (stored in the store, ``linkdash.roles``; matched by verified e-mail):

| action | admin | director | country | viewer |
|---|---|---|---|---|
| read every page | yes | yes | yes | yes |
| upload (check and commit) | every pilot | the pilots of their regions | their pilots | no |
| reference data: Benchmarks, Rates, new pilots, a pilot's region, country, value chain | yes | no | no | no |
| roll back a submission | yes | when every value it set is in their scope | no | no |
| download a submission's original file | yes | when the whole file is in their regions (*) | no | no |
| add, change, remove users | yes | no | no | no |

(*) every pilot, and every benchmark country, in the file.

A scope lists region names and/or pilot ids; a region means the pilots the store places
in it. A signed-in person without a role (``Actor.role is None``) may do nothing, not
even read. Out-of-scope rows of a workbook are ``Problem`` errors naming sheet, cell and
pilot; other refusals are ``Denied`` (or a refused ``Rollback``) with a message.

Who acts:
- the app with sign-in configured: the signed-in person's verified e-mail and the role
  stored for it (``actor_for``);
- the app without sign-in ("local mode"): one local administrator (``local_admin``);
- the command line: ``--user EMAIL`` (who must have a role: ``cli_actor``), or
  ``--as-admin`` for the person at the server's shell (``shell_admin``). Never a silent
  default.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa

from linkdash import catalogue, originals, roles
from linkdash.problems import ERROR, Problem

REFERENCE_SHEETS = ("Benchmarks", "Rates")
PILOT_REFERENCE_COLUMNS = ("country", "value_chain", "region")  # only admins change these
UPLOAD_ROLES = ("admin", "director", "country")
ROLLBACK_ROLES = ("admin", "director")
DOWNLOAD_ROLES = ("admin", "director")

# problem codes of this module (errors)
NOT_ALLOWED = "not_allowed"  # the role may not upload at all
ADMIN_ONLY = "admin_only"  # reference data sent by someone who is not an administrator
OUT_OF_SCOPE = "out_of_scope"  # as the importer's rule (tables re-checked at commit)


class Denied(Exception):
    """The acting user may not do this; the message says why and whom to ask."""


@dataclass(frozen=True)
class Actor:
    """Who acts. ``email`` is recorded as the submission's or change's author;
    ``role`` None is a signed-in person the store does not know (no rights at all)."""

    email: str
    role: str | None
    scope: tuple[str, ...] = ()
    how: str = "signed-in"  # signed-in | local | shell | cli

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def may_read(self) -> bool:
        return self.role in roles.ROLES

    @property
    def may_upload(self) -> bool:
        return self.role in UPLOAD_ROLES

    @property
    def may_roll_back(self) -> bool:
        return self.role in ROLLBACK_ROLES

    @property
    def may_download_originals(self) -> bool:
        return self.role in DOWNLOAD_ROLES

    @property
    def may_manage_users(self) -> bool:
        return self.role == "admin"

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(s for s in self.scope if s in catalogue.REGIONS)

    @property
    def pilot_ids(self) -> tuple[str, ...]:
        return tuple(s for s in self.scope if s not in catalogue.REGIONS)

    def describe(self) -> str:
        if self.role is None:
            return f"{self.email} (no role)"
        where = f": {', '.join(self.scope)}" if self.scope else ""
        return f"{self.email} ({self.role}{where})"


def local_admin(name: str | None = None) -> Actor:
    """The one user of an installation without sign-in (local mode)."""
    return Actor(name or os.environ.get("LINKDASH_USER") or "local administrator", "admin",
                 how="local")


def shell_admin() -> Actor:
    """``--as-admin`` on the command line: the person at the server's shell."""
    try:
        who = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in this environment
        who = "unknown"
    return Actor(f"{who} at the server shell (--as-admin)", "admin", how="shell")


def actor_for(engine_or_store: Any, email: str | None, *, how: str = "signed-in") -> Actor:
    """The actor of a verified e-mail: its stored role and scope, or ``role=None``."""
    engine = getattr(engine_or_store, "engine", engine_or_store)
    e = (email or "").strip().lower()
    user = roles.get_user(engine, e) if e else None
    if user is None:
        return Actor(e or "unknown", None, how=how)
    return Actor(user.email, user.role, user.scope, how=how)


def cli_actor(store: Any, email: str | None, as_admin: bool) -> Actor:
    """Who the command line acts as: ``--as-admin`` or ``--user EMAIL`` (who must have a
    role). ``Denied`` with what to do otherwise."""
    if as_admin and email:
        raise Denied("Give either --user EMAIL or --as-admin, not both.")
    if as_admin:
        return shell_admin()
    if not email:
        raise Denied("Say who acts: --user EMAIL (a user with a role: `python -m linkdash user "
                     "list`), or --as-admin if you are the administrator at the server's shell.")
    actor = actor_for(store, email, how="cli")
    if actor.role is None:
        raise Denied(f"{email} has no role in this store: an administrator adds them with "
                     f"`python -m linkdash user add {email} ROLE [SCOPE] --as-admin`.")
    return actor


# --- scope ------------------------------------------------------------------------------------

def _pilot_frame(pilots: pd.DataFrame | None) -> pd.DataFrame:
    if pilots is None or pilots.empty:
        return pd.DataFrame({"pilot_id": [], "region": []}, dtype=object)
    return pilots


def pilot_scope(actor: Actor, pilots: pd.DataFrame | None) -> set[str] | None:
    """The pilot ids (upper case) ``actor`` may change; None = every pilot (admins).
    ``pilots``: the stored Pilots frame (pilot_id, region), to expand region names."""
    if actor.is_admin:
        return None
    if not actor.may_upload:
        return set()
    p = _pilot_frame(pilots)
    ids = {i.upper() for i in actor.pilot_ids}
    if actor.regions:
        ids |= set(p.loc[p["region"].isin(actor.regions), "pilot_id"].astype(str))
    return ids


def stored_pilots(store: Any) -> pd.DataFrame:
    """The current Pilots rows (pilot_id, country, value_chain, region), read directly:
    cheaper than ``store.load()`` when only the pilots are needed."""
    from linkdash.store import DATA_TABLES

    t = DATA_TABLES["Pilots"]
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(t.c.pilot_id, t.c.country, t.c.value_chain, t.c.region)
                            .where(t.c.superseded_by.is_(None))).all()
    return pd.DataFrame(rows, columns=["pilot_id", "country", "value_chain", "region"], dtype=object)


# --- uploads: the file's rows --------------------------------------------------------------------

def _same_text(a: Any, b: Any) -> bool:
    if a is None or (isinstance(a, float) and a != a):
        return b is None or (isinstance(b, float) and b != b)
    return b is not None and str(a).strip().lower() == str(b).strip().lower()


def _plain(v: Any) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def sort_problems(problems: list[Problem], sheet_names: dict[str, str]) -> list[Problem]:
    """In the order the importer reports them: by sheet (spec order), row, column; file
    problems first."""
    import re

    rank = {written: catalogue.SHEET_ORDER.index(canon) for canon, written in sheet_names.items()
            if canon in catalogue.SHEET_ORDER}

    def key(p: Problem):
        m = re.match(r"([A-Z]+)(\d+)$", p.cell or "")
        row = int(m.group(2)) if m else 0
        col = sum((ord(ch) - 64) * 26 ** k for k, ch in enumerate(reversed(m.group(1)))) if m else 0
        return (rank.get(p.sheet, -1) if p.sheet else -1, row, col)

    return sorted(problems, key=key)


def _parsed_sheets(data: bytes, filename: str, names: tuple[str, ...]) -> dict[str, Any]:
    """The file's sheets ``names`` parsed as the importer parses them (for cells and
    rows: the checked tables do not keep row numbers), read by the isolated reader like
    every uploaded or stored file. Problems found here are the importer's and already
    reported; they are dropped. A file the reader cannot read safely gives nothing."""
    from linkdash import importer

    read = importer.read_isolated(data, filename)
    if read.report.errors and not read.parsed:
        return {}
    return {n: read.parsed[n] for n in names if n in read.parsed}


def upload_problems(actor: Actor, data: bytes, filename: str, sheet_names: dict[str, str],
                    pilots: pd.DataFrame | None, found: list[Problem] | None = None) -> list[Problem]:
    """Errors for what ``actor`` may not send in this file, on top of the importer's
    (which already reports pilots outside the scope as ``out_of_scope``):

    - a role that may not upload: one error for the file;
    - not an administrator: every row of Benchmarks and Rates (reference data), every new
      pilot and every change of a pilot's region, country or value chain on the Pilots
      sheet, each at its cell.

    ``sheet_names``: the checked workbook's canonical -> as written; ``pilots``: the
    stored Pilots frame; ``found``: the importer's problems (a cell already reported as
    out of scope is not reported again)."""
    if actor.is_admin:
        return []
    if not actor.may_upload:
        who = "you have no role" if actor.role is None else f"your role is {actor.role}"
        return [Problem(NOT_ALLOWED, ERROR, None, None, actor.email,
                        f"You may not upload data ({who}): ask an administrator for the "
                        "country or director role.")]
    wanted = tuple(n for n in ("Pilots", *REFERENCE_SHEETS) if n in sheet_names)
    if not wanted:
        return []
    parsed = _parsed_sheets(data, filename, wanted)
    taken = {(p.sheet, p.cell) for p in (found or []) if p.severity == ERROR}
    out: list[Problem] = []
    for name in REFERENCE_SHEETS:
        p = parsed.get(name)
        if p is None:
            continue
        key = catalogue.sheets()[name].key
        for i in p.rows:
            cell = p.cell(key[0], i)
            value = " ".join(_plain(p.get(k, i)) for k in key if p.get(k, i) is not None) or None
            out.append(Problem(
                ADMIN_ONLY, ERROR, p.name, cell, value,
                f"{name} are reference data that only administrators change: remove row "
                f"{p.row(i)} (or the whole {p.name} sheet) and ask an administrator to update "
                f"{value or 'it'}."))
    p = parsed.get("Pilots")
    if p is not None and p.has("pilot_id"):
        stored = {str(r["pilot_id"]): r for r in _pilot_frame(pilots).to_dict("records")}
        for i in p.rows:
            pid = p.get("pilot_id", i)
            if pid is None:
                continue
            pid = str(pid).upper()
            cell = p.cell("pilot_id", i)
            old = stored.get(pid)
            if old is None:
                if (p.name, cell) not in taken:
                    out.append(Problem(
                        ADMIN_ONLY, ERROR, p.name, cell, pid,
                        f"{pid} is a new pilot: only administrators add pilots. Remove row "
                        f"{p.row(i)} or ask an administrator to add the pilot."))
                continue
            for col in PILOT_REFERENCE_COLUMNS:
                if not p.has(col):
                    continue
                new = p.get(col, i)
                if new is None or _same_text(new, old.get(col)):
                    continue
                out.append(Problem(
                    ADMIN_ONLY, ERROR, p.name, p.cell(col, i), new,
                    f"The {col.replace('_', ' ')} of {pid} is {old.get(col)}: only "
                    f"administrators change a pilot's region, country or value chain. Put "
                    f"back {old.get(col)} or leave the cell blank, or ask an administrator."))
    return out


def tables_problems(actor: Actor, tables: dict[str, pd.DataFrame],
                    pilots: pd.DataFrame | None) -> list[Problem]:
    """The same rules as the upload's, on checked tables (no cells: they do not keep row
    numbers), for the commit to check again whatever outcome it is given."""
    if actor.is_admin:
        return []
    if not actor.may_upload:
        return upload_problems(actor, b"", "", {}, pilots)
    scope = pilot_scope(actor, pilots) or set()
    out: list[Problem] = []
    for sheet, df in tables.items():
        if df is None or df.empty:
            continue
        if sheet in REFERENCE_SHEETS:
            out.append(Problem(ADMIN_ONLY, ERROR, sheet, None, None,
                               f"{sheet} are reference data that only administrators change."))
            continue
        if "pilot_id" in df.columns:
            for pid in sorted({str(v).upper() for v in df["pilot_id"].dropna()} - scope):
                out.append(Problem(OUT_OF_SCOPE, ERROR, sheet, None, pid,
                                   f"{pid} is not in your scope "
                                   f"({', '.join(actor.scope) or 'none'}): nothing was stored."))
    pl = tables.get("Pilots")
    if pl is not None and not pl.empty:
        stored = {str(r["pilot_id"]): r for r in _pilot_frame(pilots).to_dict("records")}
        for rec in pl.to_dict("records"):
            pid = str(rec.get("pilot_id") or "").upper()
            old = stored.get(pid)
            if old is None:
                out.append(Problem(ADMIN_ONLY, ERROR, "Pilots", None, pid,
                                   f"{pid} is a new pilot: only administrators add pilots."))
                continue
            for col in PILOT_REFERENCE_COLUMNS:
                new = rec.get(col)
                if col in rec and new is not None and not (isinstance(new, float) and new != new) \
                        and not _same_text(new, old.get(col)):
                    out.append(Problem(ADMIN_ONLY, ERROR, "Pilots", None, new,
                                       f"Only administrators change the {col.replace('_', ' ')} "
                                       f"of {pid} (stored: {old.get(col)})."))
    return out


# --- rollback and original files -------------------------------------------------------------------

def _written_by(store: Any, submission_id: int) -> dict[str, list[dict[str, Any]]]:
    """sheet -> the rows that carry the submission's values (written by it, or restored
    copies of them)."""
    from linkdash.store import DATA_TABLES

    out: dict[str, list[dict[str, Any]]] = {}
    with store.engine.connect() as conn:
        for sheet, t in DATA_TABLES.items():
            cols = [c for c in ("pilot_id", "country", "value_chain", "region") if c in t.c]
            rows = conn.execute(sa.select(t.c.id, *[t.c[c] for c in cols])
                                .where(sa.or_(t.c.submission_id == submission_id,
                                              t.c.origin_id == submission_id))).mappings().all()
            if rows:
                out[sheet] = [dict(r) for r in rows]
        pl = out.get("Pilots")
        if pl:
            t = DATA_TABLES["Pilots"]
            prev = conn.execute(sa.select(t.c.pilot_id, t.c.country, t.c.value_chain, t.c.region)
                                .where(t.c.superseded_by == submission_id)).mappings().all()
            before = {r["pilot_id"]: dict(r) for r in prev}
            for r in pl:
                r["_before"] = before.get(r["pilot_id"])
    return out


def rollback_refusal(actor: Actor, store: Any, submission_id: int) -> str | None:
    """Why ``actor`` may not roll this submission back (None: they may). A director
    needs scope over every value it set; reference data needs an administrator."""
    if actor.is_admin:
        return None
    if not actor.may_roll_back:
        return (f"{actor.describe()} may not roll back submissions: ask your regional "
                "director or an administrator.")
    written = _written_by(store, submission_id)
    scope = pilot_scope(actor, stored_pilots(store)) or set()
    outside: set[str] = set()
    reference: list[str] = []
    for sheet, rows in written.items():
        if sheet in REFERENCE_SHEETS:
            reference.append(sheet)
            continue
        outside |= {str(r["pilot_id"]) for r in rows if r.get("pilot_id") and r["pilot_id"] not in scope}
        if sheet == "Pilots":
            for r in rows:
                before = r.get("_before")
                if before is None or any(not _same_text(before.get(c), r.get(c))
                                         for c in PILOT_REFERENCE_COLUMNS):
                    reference.append(f"the pilot {r['pilot_id']}")
    if outside:
        return (f"Submission {submission_id} set values of pilots outside your scope "
                f"({', '.join(sorted(outside))}): only an administrator or their regional "
                "director may roll it back.")
    if reference:
        return (f"Submission {submission_id} changed reference data "
                f"({', '.join(sorted(set(reference)))}): only an administrator may roll it back.")
    return None


def file_reach(data: bytes, filename: str, pilots: pd.DataFrame | None) -> dict[str, Any]:
    """What a workbook holds rows of: ``pilots`` {pilot id: region} for every pilot id
    on a sheet with pilots (placed by the store's pilots, else by the country its Pilots
    row gives; None when neither places it) and ``benchmark_regions`` (the regions of
    its Benchmarks countries; None for a country without one). Rates rows have no
    region and are not counted."""
    from linkdash import countries

    names = tuple(n for n in catalogue.SHEET_ORDER if n != "Rates")
    parsed = _parsed_sheets(data, filename, names)
    region_of = {str(r["pilot_id"]): r.get("region") for r in _pilot_frame(pilots).to_dict("records")}
    file_country: dict[str, str] = {}
    pl = parsed.get("Pilots")
    if pl is not None and pl.has("pilot_id") and pl.has("country"):
        for i in pl.rows:
            if pl.get("pilot_id", i) and pl.get("country", i):
                file_country[str(pl.get("pilot_id", i)).upper()] = pl.get("country", i)
    found: dict[str, str | None] = {}
    bench: set[str | None] = set()
    for name, p in parsed.items():
        if name == "Benchmarks":
            for i in p.rows:
                c = p.get("country", i)
                bench.add(countries.region(c) if c else None)
            continue
        if not p.has("pilot_id"):
            continue
        for i in p.rows:
            pid = p.get("pilot_id", i)
            if pid is None:
                continue
            pid = str(pid).upper()
            region = region_of.get(pid)
            if region is None and pid in file_country:
                region = countries.region(file_country[pid])
            found[pid] = region
    return {"pilots": found, "benchmark_regions": bench}


def download_refusal(actor: Actor, store: Any, submission_id: int,
                     reach: dict[str, Any] | None = None) -> str | None:
    """Why ``actor`` may not download this submission's original file (None: they may).
    Administrators may; a director when every pilot in the file is one of their
    regions (or of their pilot ids) and every Benchmarks country is in their regions.
    ``reach``: ``file_reach`` of the file if the caller has it (the page caches it)."""
    if actor.is_admin:
        return None
    if not actor.may_download_originals:
        return ("Original files are for administrators and for regional directors within "
                "their regions.")
    if reach is None:
        original = store.submission_file(submission_id)
        if original is None:
            return None
        reach = file_reach(original[1], original[0], stored_pilots(store))
    pilots, bench = reach["pilots"], reach["benchmark_regions"]
    if not pilots and not bench:
        return "This file holds no pilot or country rows: only an administrator may download it."
    mine, own = set(actor.regions), set(actor.pilot_ids)
    outside = sorted({r or "pilots the store does not know" for pid, r in pilots.items()
                      if pid not in own and r not in mine}
                     | {r or "a country of no region" for r in bench if r not in mine})
    if outside:
        return (f"The file holds data of {', '.join(outside)}, outside your regions "
                f"({', '.join(actor.regions) or 'none'}): only an administrator may download it.")
    return None


def original_file(store: Any, actor: Actor, submission_id: int,
                  reach: dict[str, Any] | None = None) -> tuple[str, bytes] | None:
    """(filename, bytes) of a submission's original file for ``actor``; None when it has
    none (a rollback). ``Denied`` when they may not have it."""
    refusal = download_refusal(actor, store, submission_id, reach)
    if refusal:
        raise Denied(refusal)
    found = store.submission_file(submission_id)
    if found is None:
        return None
    # a macro-enabled original is never handed on as it is (linkdash.originals)
    offered = originals.for_download(*found)
    if offered.data is None:
        raise Denied(offered.note)
    return offered.filename, offered.data


# --- users ---------------------------------------------------------------------------------------

def _require_user_admin(actor: Actor) -> None:
    if not actor.may_manage_users:
        raise Denied(f"Only administrators manage users ({actor.describe()}).")


def list_users(store: Any, actor: Actor) -> pd.DataFrame:
    _require_user_admin(actor)
    return roles.list_users(store.engine)


def role_history(store: Any, actor: Actor) -> pd.DataFrame:
    """Every role change (who, when, what); administrators and directors see it."""
    if actor.role not in ("admin", "director"):
        raise Denied("The history of roles is for administrators and directors.")
    return roles.role_changes(store.engine)


def set_user(store: Any, actor: Actor, email: str, role: str, scope=None) -> str:
    """Add a user or change their role and scope (recorded with ``actor`` as author):
    ``"add"``, ``"change"`` or ``"same"``. ``Denied`` for non-admins; ``roles.RoleError``
    for a bad e-mail, role or scope, or for demoting the last administrator."""
    _require_user_admin(actor)
    return roles.put_user(store.engine, roles.check_user(email, role, scope), by=actor.email)


def remove_user(store: Any, actor: Actor, email: str) -> roles.User:
    _require_user_admin(actor)
    return roles.delete_user(store.engine, email, by=actor.email)


def import_users_csv(store: Any, actor: Actor, text: str) -> dict[str, int]:
    """Every user of an ``access.csv`` (see ``roles.parse_access_csv``) added or changed;
    the counts of ``add``, ``change`` and ``same``. Checked whole before anything is
    stored."""
    _require_user_admin(actor)
    users = roles.parse_access_csv(text)
    counts = {"add": 0, "change": 0, "same": 0}
    for u in users:
        counts[roles.put_user(store.engine, u, by=actor.email)] += 1
    return counts


# --- the audit log -----------------------------------------------------------------------------

AUDIT_COLUMNS = ["when", "who", "event", "what", "submission_id"]


def _changes_text(summary: dict[str, Any]) -> str:
    sheets = summary.get("sheets") or {}
    parts = []
    for sheet in catalogue.SHEET_ORDER:
        c = sheets.get(sheet)
        if not c:
            continue
        bits = [f"{c[k]} {k}" for k in ("new", "changed") if c.get(k)]
        if bits:
            parts.append(f"{sheet}: {', '.join(bits)}")
    if parts:
        return "; ".join(parts)
    return (f"{summary.get('new', 0)} new, {summary.get('changed', 0)} changed, "
            f"{summary.get('unchanged', 0)} unchanged")


def audit_log(store: Any, actor: Actor) -> pd.DataFrame:
    """Every submission, rollback and (for administrators and directors) role change,
    newest first: when (UTC), who, event (upload | demo | rollback | role), what changed,
    submission_id (None for a role change). Everyone with a role reads it."""
    if not actor.may_read:
        raise Denied("Ask an administrator for a role to see the audit log.")
    rows: list[dict[str, Any]] = []
    for r in store.submissions().to_dict("records"):
        summary = r.get("summary") or {}
        if r["kind"] == "rollback":
            what = (f"rolled back submission {summary.get('rolled_back')}: "
                    f"{summary.get('restored', 0)} restored, {summary.get('removed', 0)} removed, "
                    f"{summary.get('kept', 0)} kept")
        else:
            what = f"{r.get('filename') or '-'}: {_changes_text(summary)}"
            if r["status"] == "rolled_back":
                what += f" (rolled back by submission {int(r['rolled_back_by'])})"
        rows.append({"when": r["created_at"], "who": r.get("user") or "-", "event": r["kind"],
                     "what": what, "submission_id": int(r["id"])})
    if actor.role in ("admin", "director"):
        for r in roles.role_changes(store.engine).to_dict("records"):
            def role_text(role, scope):
                return f"{role}" + (f" ({scope})" if scope else "")
            if r["action"] == "add":
                what = f"added {r['email']} as {role_text(r['new_role'], r['new_scope'])}"
            elif r["action"] == "remove":
                what = f"removed {r['email']} (was {role_text(r['old_role'], r['old_scope'])})"
            else:
                what = (f"changed {r['email']} from {role_text(r['old_role'], r['old_scope'])} "
                        f"to {role_text(r['new_role'], r['new_scope'])}")
            rows.append({"when": r["at"], "who": r["by"], "event": "role", "what": what,
                         "submission_id": None})
    df = pd.DataFrame(rows, columns=AUDIT_COLUMNS)
    if not df.empty:
        df = df.sort_values("when", ascending=False, kind="stable").reset_index(drop=True)
    return df
