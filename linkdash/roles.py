"""Who may do what, kept in the store: the users with their role and scope, and the
history of every change of a role.

Tables (created by ``migrations/versions/0003_roles.py``; on their own ``metadata`` so
this module does not touch ``store/``):

- ``users``: ``email`` (lower case, the key), ``role`` (``admin`` | ``director`` |
  ``country`` | ``viewer``), ``scope`` (region names and/or pilot ids, comma-separated,
  as given), ``added_by``, ``added_at``, ``changed_at``.
- ``role_changes``: one row per change (``add``, ``change``, ``remove``): ``at`` (UTC),
  ``by`` (who made it), ``email``, ``old_role``, ``new_role``, ``old_scope``,
  ``new_scope``.

The functions here only store and read. Who may call them is decided by
``linkdash.access`` (``access.add_user``... take the acting user and refuse what is
not theirs to do); pages and the command line call those.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from linkdash import catalogue
from linkdash.quarters import as_utc, utc_now

ROLES = ("admin", "director", "country", "viewer")
ROLE_LABELS = {
    "admin": "Administrator: everything, users and reference data",
    "director": "Regional director: reads everything; uploads and rolls back for the pilots "
                "of their regions",
    "country": "Country team: uploads for their own pilots",
    "viewer": "Viewer: reads",
}

metadata = sa.MetaData()

users_table = sa.Table(
    "users", metadata,
    sa.Column("email", sa.String(320), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("scope", sa.Text, nullable=False, default=""),
    sa.Column("added_by", sa.Text),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
)

role_changes_table = sa.Table(
    "role_changes", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("by", sa.Text, nullable=False),
    sa.Column("action", sa.String(16), nullable=False),  # add | change | remove
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("old_role", sa.String(16)),
    sa.Column("new_role", sa.String(16)),
    sa.Column("old_scope", sa.Text),
    sa.Column("new_scope", sa.Text),
    sa.Index("ix_role_changes_email", "email"),
)


class RoleError(ValueError):
    """A request about users that cannot be done (bad e-mail, role or scope, the last
    administrator...); the message says why."""


@dataclass(frozen=True)
class User:
    email: str
    role: str
    scope: tuple[str, ...] = ()  # region names (as in catalogue.REGIONS) and/or pilot ids

    @property
    def scope_text(self) -> str:
        return ", ".join(self.scope)


_EMAIL = re.compile(r"^[^@\s,;<>\"']+@[^@\s,;<>\"']+\.[^@\s,;<>\"']+$")
_PILOT_ID = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)*$")


def normalize_email(email: str | None) -> str:
    """Trimmed, lower case; a ``RoleError`` when it is not an e-mail address."""
    e = (email or "").strip().lower()
    if not _EMAIL.match(e):
        raise RoleError(f"{email!r} is not an e-mail address.")
    return e


def parse_scope(scope: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """Region names (any case, written as in ``catalogue.REGIONS``) and pilot ids (upper
    case), comma-separated or a list; ``*`` is not a scope (it is the admin role)."""
    items = scope.split(",") if isinstance(scope, str) else list(scope or ())
    regions = {r.lower(): r for r in catalogue.REGIONS}
    out: list[str] = []
    for raw in items:
        item = str(raw).strip()
        if not item:
            continue
        if item.lower() in regions:
            item = regions[item.lower()]
        else:
            item = item.upper()
            if not _PILOT_ID.match(item):
                raise RoleError(f"{raw!r} is neither a region ({', '.join(catalogue.REGIONS)}) "
                                "nor a pilot id (like KEN-DAIRY).")
        if item not in out:
            out.append(item)
    return tuple(out)


def check_user(email: str, role: str, scope) -> User:
    """A valid ``User`` or a ``RoleError`` that says what is wrong."""
    email = normalize_email(email)
    role = (role or "").strip().lower()
    if role not in ROLES:
        raise RoleError(f"{role!r} is not a role: use one of {', '.join(ROLES)}.")
    items = parse_scope(scope)
    if role in ("admin", "viewer"):
        items = ()  # admins see and change everything; viewers change nothing
    elif not items:
        raise RoleError(f"A {role} user needs a scope: "
                        + ("their regions (Asia, Africa, Latin America)" if role == "director"
                           else "their pilot ids (like KEN-DAIRY)") + ".")
    return User(email, role, items)


def _write(engine: sa.Engine):
    conn = engine.connect()
    conn.execution_options(sqlite_begin="IMMEDIATE")  # SQLite: take the write lock up front
    return conn


def _row_user(r) -> User:
    return User(r["email"], r["role"], parse_scope(r["scope"]))


# --- reading ---------------------------------------------------------------------------

def get_user(engine: sa.Engine, email: str | None) -> User | None:
    """The stored user of this e-mail (any case), or None."""
    e = (email or "").strip().lower()
    if not e:
        return None
    u = users_table
    with engine.connect() as conn:
        r = conn.execute(sa.select(u).where(u.c.email == e)).mappings().first()
    return None if r is None else _row_user(r)


def list_users(engine: sa.Engine) -> pd.DataFrame:
    """Every user: email, role, scope (text), added_by, added_at, changed_at; by e-mail."""
    u = users_table
    cols = ["email", "role", "scope", "added_by", "added_at", "changed_at"]
    with engine.connect() as conn:
        rows = conn.execute(sa.select(*[u.c[c] for c in cols]).order_by(u.c.email)).mappings().all()
    df = pd.DataFrame([dict(r) for r in rows], columns=cols, dtype=object)
    for c in ("added_at", "changed_at"):
        df[c] = df[c].map(as_utc)
    return df


def role_changes(engine: sa.Engine) -> pd.DataFrame:
    """The history of roles, newest first: id, at (UTC), by, action, email, old_role,
    new_role, old_scope, new_scope."""
    t = role_changes_table
    cols = ["id", "at", "by", "action", "email", "old_role", "new_role", "old_scope", "new_scope"]
    with engine.connect() as conn:
        rows = conn.execute(sa.select(*[t.c[c] for c in cols]).order_by(t.c.id.desc())).mappings().all()
    df = pd.DataFrame([dict(r) for r in rows], columns=cols, dtype=object)
    df["at"] = df["at"].map(as_utc)
    return df


def count_admins(conn: sa.Connection) -> int:
    u = users_table
    return int(conn.execute(sa.select(sa.func.count()).select_from(u)
                            .where(u.c.role == "admin")).scalar_one())


# --- writing (the caller has checked that ``by`` may) ---------------------------------------

def put_user(engine: sa.Engine, user: User, *, by: str) -> str:
    """Add the user or change their role/scope, with a row in the history; returns
    ``"add"``, ``"change"`` or ``"same"`` (nothing to record). Refuses to take the admin
    role from the last administrator."""
    u, h = users_table, role_changes_table
    now = utc_now()
    with _write(engine) as conn, conn.begin():
        old = conn.execute(sa.select(u).where(u.c.email == user.email)).mappings().first()
        if old is None:
            conn.execute(sa.insert(u).values(email=user.email, role=user.role,
                                             scope=user.scope_text, added_by=by,
                                             added_at=now, changed_at=now))
            action = "add"
        else:
            if old["role"] == user.role and parse_scope(old["scope"]) == user.scope:
                return "same"
            if old["role"] == "admin" and user.role != "admin" and count_admins(conn) <= 1:
                raise RoleError(f"{user.email} is the last administrator: make someone else "
                                "an administrator first.")
            conn.execute(sa.update(u).where(u.c.email == user.email)
                         .values(role=user.role, scope=user.scope_text, changed_at=now))
            action = "change"
        conn.execute(sa.insert(h).values(
            at=now, by=by, action=action, email=user.email,
            old_role=None if old is None else old["role"], new_role=user.role,
            old_scope=None if old is None else old["scope"], new_scope=user.scope_text))
    return action


def delete_user(engine: sa.Engine, email: str, *, by: str) -> User:
    """Remove a user (recorded in the history); ``RoleError`` when there is none, or
    when they are the last administrator."""
    e = (email or "").strip().lower()
    u, h = users_table, role_changes_table
    with _write(engine) as conn, conn.begin():
        old = conn.execute(sa.select(u).where(u.c.email == e)).mappings().first()
        if old is None:
            raise RoleError(f"There is no user {email!r}.")
        if old["role"] == "admin" and count_admins(conn) <= 1:
            raise RoleError(f"{e} is the last administrator: make someone else an "
                            "administrator first.")
        conn.execute(sa.delete(u).where(u.c.email == e))
        conn.execute(sa.insert(h).values(at=utc_now(), by=by, action="remove", email=e,
                                         old_role=old["role"], new_role=None,
                                         old_scope=old["scope"], new_scope=None))
    return _row_user(old)


# --- the access.csv format --------------------------------------------------------------------

def parse_access_csv(text: str) -> list[User]:
    """Users from the ``access.csv`` format::

        email,scope[,role]
        asia.director@example.org,Asia
        kenya.team@example.org,"KEN-DAIRY, UGA-DAIRY"
        admin@example.org,*

    Without a ``role`` column (or with it blank) the role follows the scope: ``*`` is
    ``admin``, region names make a ``director``, pilot ids only a ``country`` user, an
    empty scope a ``viewer``. ``RoleError`` names the first bad line."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    fields = {(f or "").strip().lower(): f for f in reader.fieldnames or []}
    if "email" not in fields:
        raise RoleError("The file needs a header row with at least the column 'email' "
                        "(and 'scope', optionally 'role').")
    out: dict[str, User] = {}
    for n, row in enumerate(reader, start=2):
        def get(name: str) -> str:
            key = fields.get(name)
            return (row.get(key) or "").strip() if key else ""  # noqa: B023 (used in this iteration)

        email, scope, role = get("email"), get("scope"), get("role").lower()
        if not email:
            continue
        try:
            if not role:
                items = [s.strip() for s in scope.split(",") if s.strip()]
                if "*" in items:
                    role = "admin"
                elif not items:
                    role = "viewer"
                elif any(i.lower() in {r.lower() for r in catalogue.REGIONS} for i in items):
                    role = "director"
                else:
                    role = "country"
            if "*" in scope:
                scope = ""
            user = check_user(email, role, scope)
        except RoleError as e:
            raise RoleError(f"line {n}: {e}") from None
        out[user.email] = user
    return list(out.values())
