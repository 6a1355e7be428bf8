"""Connecting: the database URL, the engine and its connection settings (SQLite's busy
timeout, foreign keys, BEGIN IMMEDIATE for writers), and migrating to the schema's head."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from linkdash.store.schema import StoreError

ROOT = Path(__file__).resolve().parent.parent.parent
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_PG_LOCK_KEY = 0x4C494E4B  # "LINK": serialises migrations between processes

# --- connecting ----------------------------------------------------------------------

def default_url() -> str:
    url = os.environ.get("LINKDASH_DATABASE_URL")
    if url:
        return url
    folder = Path(os.environ.get("LINKDASH_DATA_DIR") or ROOT / "data")
    return f"sqlite:///{folder / 'linkdash.sqlite'}"


def normalize_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` use the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


SQLITE_BUSY_TIMEOUT_S = 120  # how long a SQLite connection waits for another's lock


def _sqlite_file(engine: Engine) -> Path | None:
    """The database file of a SQLite engine (None for memory or another backend)."""
    if engine.dialect.name != "sqlite":
        return None
    db = engine.url.database
    return Path(db) if db and db != ":memory:" and not db.startswith("file:") else None


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    u = sa.make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        # the driver's timeout is SQLite's busy timeout from the moment it connects,
        # before any statement (a connection never gives up on a lock at once)
        engine = sa.create_engine(u, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):
            # SQLAlchemy emits BEGIN itself (so DDL is transactional and writers can
            # take the write lock up front with BEGIN IMMEDIATE).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
            cur.execute("PRAGMA foreign_keys=ON")
            # (WAL is set once, by ``migrate`` under its file lock: it is persistent)
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            conn.exec_driver_sql("BEGIN " + conn.get_execution_options().get("sqlite_begin", ""))

        return engine
    return sa.create_engine(u, pool_pre_ping=True)


@contextlib.contextmanager
def _file_lock(path: Path | None, timeout: float = 600.0):
    """An exclusive ``flock`` on ``path`` (waiting for it up to ``timeout`` seconds);
    nothing when ``path`` is None. The kernel releases it if the holder dies."""
    if path is None:
        yield
        return
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreError(f"{path} stayed locked for {timeout:.0f} s: is another "
                                     "process stuck migrating the store?") from None
                time.sleep(0.02)  # polling a lock, not synchronising on time
        yield
    finally:
        os.close(fd)  # releases the lock


def alembic_config():
    """Alembic's configuration for the store's migrations (``linkdash/migrations``)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def migrate(engine: Engine) -> None:
    """``alembic upgrade head`` on this engine; idempotent, and safe when several
    processes start at once. PostgreSQL: a transaction-level advisory lock. SQLite: an
    exclusive file lock next to the database file (``<file>-migrate.lock``) around
    switching to WAL and migrating, and BEGIN IMMEDIATE, so processes that open one
    new file at once wait for each other instead of failing with "database is
    locked"."""
    from alembic import command

    cfg = alembic_config()
    db = _sqlite_file(engine)
    with _file_lock(db.with_name(db.name + "-migrate.lock") if db else None):
        with engine.connect() as conn:
            if db is not None:
                # persistent in the file; readers then never block the writer
                # (outside any transaction: on the driver's connection)
                driver = conn.connection.driver_connection
                assert driver is not None  # an open connection
                driver.execute("PRAGMA journal_mode=WAL").close()
            conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                if engine.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
