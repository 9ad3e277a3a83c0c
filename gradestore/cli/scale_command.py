"""`gradestore scale show | set | list`: the store's grade scale and the built-in ones."""

from __future__ import annotations

import typer

from gradestore.cli.common import (
    SummaryFormat,
    handle_errors,
    print_renderables,
    state,
    write_stdout,
)

app = typer.Typer(
    help="The store's grade scale: which letters exist, their points, the lists' letters.",
    no_args_is_help=True,
)

SCALE_ARGUMENT_HELP = "A built-in scale's name (see `gradestore scale list`) or a TOML scale file."


@app.command("show")
@handle_errors
def show(
    ctx: typer.Context,
    name_or_file: str | None = typer.Argument(
        None, metavar="[NAME|FILE]", help="Show this scale instead of the store's."
    ),
    output_format: SummaryFormat = typer.Option(
        SummaryFormat.table, "--format", help="table, or json with the scale file's keys."
    ),
) -> None:
    """Print the store's grade scale (or a built-in one, or a scale file, to check it)."""
    from gradestore.grades import resolve_scale
    from gradestore.render import scale_renderables, to_json
    from gradestore.scales import store_scale

    if name_or_file is None:
        scale = store_scale(state(ctx).units(read_only=True))
        title = f"Grade scale {scale.name} (the store's)"
    else:
        scale = resolve_scale(name_or_file)
        title = f"Grade scale {scale.name}"
    if output_format is SummaryFormat.json:
        write_stdout(to_json(scale.as_json()))
    else:
        print_renderables(lambda plain: scale_renderables(scale, title, plain))


@app.command("set")
@handle_errors
def set_scale(
    ctx: typer.Context,
    name_or_file: str = typer.Argument(..., metavar="NAME|FILE", help=SCALE_ARGUMENT_HELP),
) -> None:
    """Make a built-in scale or a scale file the store's, in one transaction. Refused, naming
    the letters, while stored grades use letters the new scale does not know."""
    from gradestore.scales import set_store_scale

    change = set_store_scale(state(ctx).units(), name_or_file)
    if change.changed:
        typer.echo(f"the store's grade scale is now {change.after.name} (was {change.before.name})")
    else:
        typer.echo(f"unchanged: the store's grade scale is already {change.after.name}")


@app.command("list")
@handle_errors
def list_scales(
    output_format: SummaryFormat = typer.Option(
        SummaryFormat.table, "--format", help="table (side by side) or json (a list of scales)."
    ),
) -> None:
    """List the built-in grade scales side by side."""
    from gradestore.render import scales_renderables, to_json
    from gradestore.scales import built_in_scales

    scales = built_in_scales()
    if output_format is SummaryFormat.json:
        write_stdout(to_json([scale.as_json() for scale in scales]))
    else:
        print_renderables(lambda plain: scales_renderables(scales, plain))
