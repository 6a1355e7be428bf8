"""Alembic environment for the linkdash store.

Run programmatically by ``linkdash.store.migrate`` (which passes its connection in
``config.attributes["connection"]``), or by hand from the repository root:
``alembic -c linkdash/migrations/alembic.ini upgrade head`` (URL: ``LINKDASH_DATABASE_URL``
or the default SQLite file).
"""

import functools

from alembic import context

from linkdash.store.engine import default_url, make_engine
from linkdash.store.schema import include_object, metadata

config = context.config


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url") or default_url(),
                      target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=metadata,
                          include_object=functools.partial(include_object,
                                                           dialect=connection.dialect.name))
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or default_url())
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata,
                          include_object=functools.partial(include_object,
                                                           dialect=connection.dialect.name))
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
