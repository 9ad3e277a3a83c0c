"""`gradestore report`: read stored analyses as tables, JSON, CSV or a legacy .lst file."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import typer

from gradestore.cli.common import (
    OutputFormat,
    data_console,
    echo_err,
    handle_errors,
    print_parts,
    print_renderables,
    state,
)
from gradestore.kinds import ListKind


def register(app: typer.Typer) -> None:
    app.command("report")(report)


@handle_errors
def report(
    ctx: typer.Context,
    section: str | None = typer.Option(
        None, "--section", metavar="S", help="One section: grades chart, z-tests, its students."
    ),
    group: str | None = typer.Option(
        None, "--group", metavar="G", help="One group: statistics, its sections by z."
    ),
    student: str | None = typer.Option(
        None, "--student", metavar="ID", help="One student: every grade and every list."
    ),
    list_name: ListKind | None = typer.Option(
        None, "--list", help="The good or the work list (with --output X.lst: the legacy format)."
    ),
    analysis_id: int | None = typer.Option(
        None, "--analysis", metavar="ID", help="Which analysis (default: the latest)."
    ),
    output_format: OutputFormat = typer.Option(OutputFormat.table, "--format"),
    output: Path | None = typer.Option(
        None, "--output", "-o", metavar="FILE", help="Write to FILE instead of the screen."
    ),
) -> None:
    """Report a stored analysis (the latest by default); with no option, the whole of it."""
    from gradestore import render, reports
    from gradestore.errors import UsageError

    chosen = [
        name
        for name, value in (
            ("--section", section),
            ("--group", group),
            ("--student", student),
            ("--list", list_name),
        )
        if value is not None
    ]
    if len(chosen) > 1:
        raise UsageError(
            f"give one of --section, --group, --student, --list (not {' and '.join(chosen)})"
        )
    wants_lst = output is not None and output.suffix.lower() == ".lst"
    if wants_lst and list_name is None:
        raise UsageError("a .lst file holds a list: use --list good or --list work with it")
    if student is not None and analysis_id is not None:
        raise UsageError("--student covers every analysis; leave out --analysis")

    units = state(ctx).units(read_only=True)
    if list_name is not None:
        with reports.open_list(units, list_name, analysis_id) as listing:
            if wants_lst:
                with output_stream(output) as out:
                    written = render.write_legacy_list(listing, out)
                echo_err(f"wrote {written} students to {output}")
            else:
                _emit(
                    listing,
                    output_format,
                    output,
                    render.list_report_renderables,
                    render.write_list_csv,
                    render.write_list_json,
                )
        return
    if section is None and group is None and student is None:
        with reports.open_analysis(units, analysis_id) as analysis:
            _emit(
                analysis,
                output_format,
                output,
                render.full_report_renderables,
                _text_writer(render.full_report_csv),
                render.write_analysis_json,
            )
        return

    result: Any
    table: Callable[[Any, bool], list[Any]]
    as_csv: Callable[[Any], str]
    if section is not None:
        result = reports.section_report(units, section, analysis_id)
        table, as_csv = render.section_report_renderables, render.section_report_csv
    elif group is not None:
        result = reports.group_report(units, group, analysis_id)
        table, as_csv = render.group_report_renderables, render.group_report_csv
    else:
        assert student is not None
        result = reports.student_report(units, student)
        table, as_csv = render.student_report_renderables, render.student_report_csv
    _emit(
        result,
        output_format,
        output,
        table,
        _text_writer(as_csv),
        _text_writer(lambda result: render.to_json(result.as_json())),
    )


Writer = Callable[[Any, TextIO], Any]


def _text_writer(make_text: Callable[[Any], str]) -> Writer:
    return lambda result, out: out.write(make_text(result))


def _emit(
    result: Any,
    output_format: OutputFormat,
    output: Path | None,
    renderables: Callable[[Any, bool], list[Any]],
    write_csv: Writer,
    write_json: Writer,
) -> None:
    """Render ``result`` as asked: a table on the screen, or a file or stdout of any format."""
    if output_format is OutputFormat.table and output is None:
        print_renderables(lambda plain: renderables(result, plain))
        return
    with output_stream(output) as out:
        if output_format is OutputFormat.json:
            write_json(result, out)
        elif output_format is OutputFormat.csv:
            write_csv(result, out)
        else:
            console = data_console(out, width=200, no_color=True)
            print_parts(console, renderables(result, True), plain=True)


@contextmanager
def output_stream(path: Path | None) -> Iterator[TextIO]:
    """Where a report goes: stdout (no --output, or ``-``), or FILE.

    A regular file appears only once it is complete (written aside in its folder, then
    renamed over it, keeping an existing file's permissions); a symlink is written through to
    its target; a device or a pipe (``/dev/stdout``, a FIFO) is written in place. A file this
    user may not write is refused, never replaced.
    """
    if path is None or str(path) == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    target = _output_target(path)
    if target.exists() and not target.is_file():
        with _opened(path, lambda: target.open("w", encoding="utf-8", newline="")) as out:
            yield out
        return
    with _atomic_file(path, target) as out:
        yield out


def _output_target(path: Path) -> Path:
    """The file --output names, through symlinks; refused when it cannot be one."""
    from gradestore.errors import OutputError

    if str(path) in ("", "."):
        raise OutputError("--output needs a file name (or - for standard output)")
    target = Path(os.path.realpath(path))
    if target.is_dir():
        raise OutputError(f"cannot write {path}: it is a folder")
    if target.is_file() and not os.access(target, os.W_OK):
        raise OutputError(f"cannot write {path}: permission denied (it was left as it is)")
    return target


@contextmanager
def _atomic_file(path: Path, target: Path) -> Iterator[TextIO]:
    import tempfile

    from gradestore.errors import OutputError

    mode = target.stat().st_mode & 0o7777 if target.exists() else _new_file_mode()
    try:
        fd, partial_name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".partial"
        )
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror}") from error
    partial = Path(partial_name)
    try:
        with _opened(path, lambda: open(fd, "w", encoding="utf-8", newline="")) as out:
            yield out
        try:
            os.chmod(partial, mode)
            os.replace(partial, target)
        except OSError as error:
            raise OutputError(f"cannot write {path}: {error.strerror}") from error
    finally:
        partial.unlink(missing_ok=True)


@contextmanager
def _opened(path: Path, open_it: Callable[[], TextIO]) -> Iterator[TextIO]:
    """An open output whose every error (opening, writing, closing) names ``path``."""
    from gradestore.errors import OutputError

    try:
        with open_it() as out:
            yield out
    except OSError as error:
        if isinstance(error, BrokenPipeError):
            raise
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from error


def _new_file_mode() -> int:
    """What a plain open() would give a new file: 0o666 less the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
