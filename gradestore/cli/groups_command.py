"""`gradestore groups remove-section GROUP SECTION`: take a wrong membership back."""

from __future__ import annotations

import typer

from gradestore.cli.common import handle_errors, state

app = typer.Typer(help="Groups of sections.", no_args_is_help=True)


@app.command("remove-section")
@handle_errors
def remove_section(
    ctx: typer.Context,
    group: str = typer.Argument(..., metavar="GROUP", help="The group's name."),
    section: str = typer.Argument(..., metavar="SECTION", help="The section's name."),
) -> None:
    """Take a section out of a group (a wrong --group, a wrong .GRP line); the section, its
    grades and the group stay, and analyses keep what they computed."""
    from gradestore.render import visible
    from gradestore.sources import remove_section_from_group

    remove_section_from_group(state(ctx).units(), group, section)
    typer.echo(visible(f"removed section {section} from group {group}"))
