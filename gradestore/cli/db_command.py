"""`gradestore db ...`: see and change the schema revision of the database."""

from __future__ import annotations

import typer

from gradestore.cli.common import handle_errors, state
from gradestore.entry import resume_collector

app = typer.Typer(
    help="Show or change the database schema (Alembic migrations).", no_args_is_help=True
)


@app.command("current")
@handle_errors
def current(ctx: typer.Context) -> None:
    """Print the database URL (password masked) and its schema revision."""
    from gradestore.persistence import db

    setting = state(ctx).database_setting()
    schema = db.schema_state(setting.url)
    status = (
        "latest"
        if schema.after == schema.head
        else f"latest is {schema.head}: run `gradestore db upgrade`"
    )
    typer.echo(f"database: {schema.url}")
    typer.echo(f"from: {setting.describe_source()}")
    typer.echo(f"revision: {schema.after or 'none (empty database)'} ({status})")


@app.command("upgrade")
@handle_errors
def upgrade(
    ctx: typer.Context,
    revision: str = typer.Argument("head", help="Target revision (default: the latest)."),
) -> None:
    """Bring the database schema up to date (creates the tables of an empty database)."""
    from gradestore.persistence import db

    resume_collector()  # a migration's work is not start-up
    schema = db.change_schema(state(ctx).database_url(), revision, up=True)
    if schema.before == schema.after:
        typer.echo(f"{schema.url}: already at revision {schema.after}")
    else:
        typer.echo(f"{schema.url}: upgraded from {schema.before or 'empty'} to {schema.after}")


@app.command("downgrade")
@handle_errors
def downgrade(
    ctx: typer.Context,
    revision: str = typer.Argument(..., help="Target revision, or 'base' to drop every table."),
) -> None:
    """Take the database schema back to REVISION (data in dropped tables and columns is lost)."""
    from gradestore.persistence import db

    resume_collector()  # a migration's work is not start-up
    schema = db.change_schema(state(ctx).database_url(), revision, up=False)
    typer.echo(f"{schema.url}: downgraded from {schema.before} to {schema.after or 'base (empty)'}")
