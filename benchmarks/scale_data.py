"""Stores and workbooks of generated data (``linkdash.generate``) for the benchmarks,
made once and kept in benchmarks/out/ (git-ignored): ``sqlite_store(P, Q)`` is the URL
of a SQLite file holding P pilots x Q quarters, ``workbook(P, Q)`` the path of the
.xlsx of the same data, ``postgres_store(P, Q)`` a fresh PostgreSQL schema loaded with
it (dropped by ``drop_postgres``)."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))

PG_URL = os.environ.get("LINKDASH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
PAGES = ["overview", "progress", "outcomes", "pilot", "lessons", "presentation", "upload", "submissions"]


def hwm_mb() -> float:
    """This process's peak resident memory in MB (``sandbox.peak_rss_kb``: VmHWM, not
    inherited from the parent that started it; reset by writing 5 to /proc/self/clear_refs)."""
    from linkdash import sandbox

    return sandbox.peak_rss_kb() / 1024


def schema_head() -> str:
    """The schema version (Alembic head) of the ``linkdash`` imported here."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from linkdash.store import MIGRATIONS_DIR

    # (not ``store.engine.alembic_config``: with ``--before`` this runs on older code too)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return str(ScriptDirectory.from_config(cfg).get_current_head())


def sqlite_store(pilots: int, quarters: int) -> str:
    """URL of a SQLite store holding the generated data (built on first use), one per
    schema version: a store that newer code opened is migrated, and older code (``--before``)
    could no longer open it."""
    from linkdash import generate
    from linkdash.store import Store

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"store_{pilots}x{quarters}_schema{schema_head()}.sqlite"
    url = f"sqlite:///{path}"
    if not path.exists():
        tmp = path.with_suffix(".building")
        for p in tmp.parent.glob(tmp.name + "*"):
            p.unlink()
        store = Store.open(f"sqlite:///{tmp}")
        generate.load_store(store, generate.generate_tables(pilots, quarters),
                            filename=generate.FILENAME_FORMAT.format(pilots=pilots, quarters=quarters,
                                                                     seed=generate.SEED))
        store.close()
        for p in tmp.parent.glob(tmp.name + "-*"):  # SQLite's side files (WAL checkpointed)
            p.unlink()
        tmp.rename(path)
    return url


def workbook(pilots: int, quarters: int) -> Path:
    """Path of the generated workbook (built on first use)."""
    from linkdash import generate

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"generated_{pilots}x{quarters}.xlsx"
    if not path.exists():
        tmp = path.with_suffix(".part")
        generate.write_workbook(generate.generate_tables(pilots, quarters), tmp)
        tmp.rename(path)
    return path


def first_pilot(url: str) -> str:
    import sqlalchemy as sa

    from linkdash.store import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        pid = conn.execute(sa.text("SELECT min(pilot_id) FROM pilots")).scalar()
    engine.dispose()
    return pid


def postgres_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def new_postgres_schema() -> tuple[str, str]:
    """(url, schema) of a new empty schema."""
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options={quote('-csearch_path=' + schema)}", schema


def drop_postgres(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def postgres_store(pilots: int, quarters: int) -> tuple[str, str]:
    """(url, schema) of a new schema loaded with the generated data."""
    from linkdash import generate
    from linkdash.store import Store

    url, schema = new_postgres_schema()
    store = Store.open(url)
    generate.load_store(store, generate.generate_tables(pilots, quarters))
    store.close()
    return url, schema
