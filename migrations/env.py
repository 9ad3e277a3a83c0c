"""Alembic environment for gradestore.

gradestore passes its own connection in ``config.attributes["connection"]`` (so no URL goes
through ConfigParser); Alembic's command line, run from the repository root, gets the database
gradestore would use.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection, Engine

from gradestore.persistence.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def database_url() -> str:
    from gradestore.config import resolve_database

    return resolve_database(config.get_main_option("sqlalchemy.url")).url


if context.is_offline_mode():
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    shared_connection = config.attributes.get("connection")
    if isinstance(shared_connection, Engine):  # pytest-alembic hands over an engine
        with shared_connection.begin() as connection:
            run_migrations(connection)
    elif shared_connection is not None:
        run_migrations(shared_connection)
    else:
        if config.config_file_name is not None:
            fileConfig(config.config_file_name, disable_existing_loggers=False)
        from gradestore.persistence.db import create_engine_for, migrating

        # As `gradestore db upgrade` does: on SQLite with foreign keys off while tables are
        # copied (a copied parent table would otherwise cascade to its children).
        engine = create_engine_for(database_url())
        with migrating(engine) as connection:
            run_migrations(connection)
        engine.dispose()
