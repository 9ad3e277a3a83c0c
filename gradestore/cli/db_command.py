"""`gradestore db ...`: see and change the schema revision of the database."""

from __future__ import annotations

import typer

from gradestore.cli.common import handle_errors, state

app = typer.Typer(
    help="Show or change the database schema (Alembic migrations).", no_args_is_help=True
)


@app.command("current")
@handle_errors
def current(ctx: typer.Context) -> None:
    """Print the database URL (password masked) and its schema revision."""
    from gradestore.persistence import db

    setting = state(ctx).database_setting()
    engine = db.create_engine_for(setting.url, create=False)
    try:
        with db.connect(engine, write=False) as connection:
            revision = db.current_revision(connection)
    finally:
        engine.dispose()
    head = db.head_revision()
    status = "latest" if revision == head else f"latest is {head}: run `gradestore db upgrade`"
    typer.echo(f"database: {db.masked_url(setting.url)}")
    typer.echo(f"from: {setting.describe_source()}")
    typer.echo(f"revision: {revision or 'none (empty database)'} ({status})")


@app.command("upgrade")
@handle_errors
def upgrade(
    ctx: typer.Context,
    revision: str = typer.Argument("head", help="Target revision (default: the latest)."),
) -> None:
    """Bring the database schema up to date (creates the tables of an empty database)."""
    from alembic.util import CommandError

    from gradestore.errors import UsageError
    from gradestore.persistence import db

    url = state(ctx).database_url()
    engine = db.create_engine_for(url)
    with db.migrating(engine) as connection:
        before = db.current_revision(connection)
        try:
            db.upgrade(connection, revision)
        except CommandError as error:
            raise UsageError(f"cannot upgrade to {revision!r}: {error}") from error
        after = db.current_revision(connection)
    if before == after:
        typer.echo(f"{db.masked_url(url)}: already at revision {after}")
    else:
        typer.echo(f"{db.masked_url(url)}: upgraded from {before or 'empty'} to {after}")


@app.command("downgrade")
@handle_errors
def downgrade(
    ctx: typer.Context,
    revision: str = typer.Argument(..., help="Target revision, or 'base' to drop every table."),
) -> None:
    """Take the database schema back to REVISION (data in dropped tables and columns is lost)."""
    from alembic.util import CommandError

    from gradestore.errors import UsageError
    from gradestore.persistence import db

    url = state(ctx).database_url()
    engine = db.create_engine_for(url)
    with db.migrating(engine) as connection:
        before = db.current_revision(connection)
        try:
            db.downgrade(connection, revision)
        except CommandError as error:
            raise UsageError(f"cannot downgrade to {revision!r}: {error}") from error
        after = db.current_revision(connection)
    typer.echo(f"{db.masked_url(url)}: downgraded from {before} to {after or 'base (empty)'}")
