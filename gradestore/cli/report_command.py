"""`gradestore report`: read stored analyses as tables, JSON, CSV or a legacy .lst file."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import typer

from gradestore.cli.common import (
    data_console,
    echo_err,
    handle_errors,
    print_parts,
    print_renderables,
    state,
)
from gradestore.kinds import ListKind

if TYPE_CHECKING:
    from gradestore.jsontypes import JsonObject
    from gradestore.persistence.db import Database
    from gradestore.suppression import Suppression


def register(app: typer.Typer) -> None:
    app.command("report")(report)


class ReportFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    html = "html"


@dataclass(frozen=True)
class ReportRequest:
    """The options of one `report`, checked together."""

    section: str | None
    group: str | None
    student: str | None
    list_name: ListKind | None
    analysis_id: int | None
    output_format: ReportFormat
    output: Path | None
    hide: Suppression | None
    include_students: bool = False

    @property
    def whole(self) -> bool:
        return self.section is None and self.group is None and self.student is None

    @property
    def wants_lst(self) -> bool:
        return self.output is not None and self.output.suffix.lower() == ".lst"


SECTION = typer.Option(
    None, "--section", metavar="S", help="One section: grades chart, z-tests, its students."
)
GROUP = typer.Option(None, "--group", metavar="G", help="One group: statistics, its sections by z.")
STUDENT = typer.Option(
    None, "--student", metavar="ID", help="One student: every grade and every list."
)
LIST = typer.Option(
    None, "--list", help="The good or the work list (with --output X.lst: the legacy format)."
)
ANALYSIS = typer.Option(
    None, "--analysis", metavar="ID", help="Which analysis (default: the latest)."
)
FORMAT = typer.Option(ReportFormat.table, "--format")
OUTPUT = typer.Option(
    None, "--output", "-o", metavar="FILE", help="Write to FILE instead of the screen."
)
SUPPRESS_BELOW = typer.Option(
    None,
    "--suppress-below",
    metavar="K",
    help="For sharing: counts below K shown as <K, sections with fewer than K counted grades "
    "without mean and test, no student named.",
)
INCLUDE_STUDENTS = typer.Option(
    False,
    "--include-students",
    help="With --format html: name the listed students (the default page names none).",
)


@handle_errors
def report(
    ctx: typer.Context,
    section: str | None = SECTION,
    group: str | None = GROUP,
    student: str | None = STUDENT,
    list_name: ListKind | None = LIST,
    analysis_id: int | None = ANALYSIS,
    output_format: ReportFormat = FORMAT,
    output: Path | None = OUTPUT,
    suppress_below: int | None = SUPPRESS_BELOW,
    include_students: bool = INCLUDE_STUDENTS,
) -> None:
    """Report a stored analysis (the latest by default); with no option, the whole of it."""
    from gradestore.suppression import check_suppress_below

    request = ReportRequest(
        section, group, student, list_name, analysis_id, output_format, output,
        check_suppress_below(suppress_below), include_students,
    )  # fmt: skip
    _check_request(request)
    units = state(ctx).units(read_only=True)
    if request.output_format is ReportFormat.html:
        _html_report(units, request, state(ctx).database_url())
    elif request.list_name is not None:
        _list_report(units, request, request.list_name)
    elif request.whole:
        _whole_report(units, request)
    else:
        _one_report(units, request)


def _check_request(request: ReportRequest) -> None:
    """Options that do not go together (exit 64)."""
    from gradestore.errors import UsageError

    chosen = [
        name
        for name, value in (
            ("--section", request.section),
            ("--group", request.group),
            ("--student", request.student),
            ("--list", request.list_name),
        )
        if value is not None
    ]
    if len(chosen) > 1:
        raise UsageError(
            f"give one of --section, --group, --student, --list (not {' and '.join(chosen)})"
        )
    if request.wants_lst and request.list_name is None:
        raise UsageError("a .lst file holds a list: use --list good or --list work with it")
    if request.student is not None and request.analysis_id is not None:
        raise UsageError("--student covers every analysis; leave out --analysis")
    if request.hide is not None and (request.student is not None or request.list_name):
        raise UsageError(
            f"--suppress-below leaves out student names and ids: {chosen[0]} has nothing "
            "else to show (report the whole analysis, a --section or a --group)"
        )
    _check_html_request(request, chosen)


def _check_html_request(request: ReportRequest, chosen: list[str]) -> None:
    from gradestore.errors import UsageError

    html = request.output_format is ReportFormat.html
    if request.include_students and not html:
        raise UsageError("--include-students is for --format html (the other formats name them)")
    if request.include_students and request.hide is not None:
        raise UsageError("--include-students names students, which --suppress-below leaves out")
    if html and (request.student is not None or request.list_name is not None):
        raise UsageError(
            f"--format html reports the whole analysis, a --section or a --group, not {chosen[0]}"
        )


def _list_report(units: Database, request: ReportRequest, which: ListKind) -> None:
    from gradestore import render, reports

    if request.wants_lst:
        with (
            reports.open_list_rows(units, which, request.analysis_id) as rows,
            output_stream(request.output) as out,
        ):
            written = render.write_legacy_list_rows(rows, out)
        echo_err(f"wrote {written} students to {request.output}")
        return
    with reports.open_list(units, which, request.analysis_id) as listing:
        _emit(
            listing,
            request,
            Renderers(
                render.list_report_renderables, render.write_list_csv, render.write_list_json
            ),
        )


def _whole_report(units: Database, request: ReportRequest) -> None:
    from gradestore import render, reports

    hide = request.hide
    streamed = request.output_format is ReportFormat.json  # the JSON reads its tests once
    with reports.open_analysis(units, request.analysis_id, streamed_tests=streamed) as analysis:
        _emit(
            analysis,
            request,
            Renderers(
                lambda result, plain: render.full_report_renderables(result, plain, hide),
                _text_writer(lambda result: render.full_report_csv(result, hide)),
                lambda result, out: render.write_analysis_json(result, out, hide),
            ),
        )


def _one_report(units: Database, request: ReportRequest) -> None:
    """A section's, a group's or a student's report."""
    from gradestore import render, reports

    hide = request.hide
    result: Any
    table: Callable[[Any, bool, Suppression | None], list[Any]]
    as_csv: Callable[[Any, Suppression | None], str]
    if request.section is not None:
        result = reports.section_report(units, request.section, request.analysis_id)
        table, as_csv = render.section_report_renderables, render.section_report_csv
    elif request.group is not None:
        result = reports.group_report(units, request.group, request.analysis_id)
        table, as_csv = render.group_report_renderables, render.group_report_csv
    else:
        assert request.student is not None
        result = reports.student_report(units, request.student)
        table = lambda report, plain, _: render.student_report_renderables(report, plain)  # noqa: E731
        as_csv = lambda report, _: render.student_report_csv(report)  # noqa: E731
    _emit(
        result,
        request,
        Renderers(
            lambda result, plain: table(result, plain, hide),
            _text_writer(lambda result: as_csv(result, hide)),
            _text_writer(lambda result: render.to_json(_json_of(result, hide))),
        ),
    )


def _html_report(units: Database, request: ReportRequest, database_url: str) -> None:
    """The self-contained HTML page (its imports, jinja2 and matplotlib, only here)."""
    from gradestore import html_report, reports
    from gradestore.config import mask_secrets

    options = html_report.HtmlOptions(
        mask_secrets(database_url), request.hide, request.include_students
    )
    if request.section is not None:
        report = reports.section_report(units, request.section, request.analysis_id)
        page = html_report.section_page(report, options)
    elif request.group is not None:
        group = reports.group_report(units, request.group, request.analysis_id)
        page = html_report.group_page(group, options)
    else:
        with reports.open_analysis(units, request.analysis_id) as analysis:
            page = html_report.analysis_page(analysis, options)
    with output_stream(request.output) as out:
        html_report.write_page(page, out, options)


def _json_of(result: Any, hide: Suppression | None) -> JsonObject:
    data: JsonObject = result.as_json()
    return data if hide is None else {**hide.heading_json(), **hide.masked_json(data)}


Writer = Callable[[Any, TextIO], Any]


@dataclass(frozen=True)
class Renderers:
    """How one report is shown in each format."""

    table: Callable[[Any, bool], list[Any]]
    csv: Writer
    json: Writer


def _text_writer(make_text: Callable[[Any], str]) -> Writer:
    return lambda result, out: out.write(make_text(result))


def _emit(result: Any, request: ReportRequest, renderers: Renderers) -> None:
    """Render ``result`` as asked: a table on the screen, or a file or stdout of any format."""
    output_format, output = request.output_format, request.output
    if output_format is ReportFormat.table and output is None:
        print_renderables(lambda plain: renderers.table(result, plain))
        return
    with output_stream(output) as out:
        if output_format is ReportFormat.json:
            renderers.json(result, out)
        elif output_format is ReportFormat.csv:
            renderers.csv(result, out)
        else:
            console = data_console(out, width=200, no_color=True)
            print_parts(console, renderers.table(result, True), plain=True)


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
