"""`gradestore analyze` and `gradestore zscore`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Annotated

import typer

from gradestore.cli.common import (
    OutputFormat,
    SummaryFormat,
    echo_err,
    handle_errors,
    print_renderables,
    state,
    write_stdout,
)
from gradestore.kinds import Adjustment, FailOn, TestMethod

if TYPE_CHECKING:
    from gradestore.analysis import AnalysisRun
    from gradestore.history import Alert
    from gradestore.persistence.db import Database


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)
    app.command("zscore")(zscore)


def _threshold(value: float) -> float:
    """The library's rule, reported as a bad option (exit 2) before anything is opened."""
    from gradestore.analysis import validate_threshold
    from gradestore.errors import UsageError

    try:
        return validate_threshold(value)
    except UsageError:
        raise typer.BadParameter(
            "must be a number between 0 and 1 (exclusive), e.g. 0.05"
        ) from None


_Threshold = Annotated[
    float,
    typer.Option(
        "--threshold", callback=_threshold, help="Significance level alpha: p < threshold."
    ),
]
_Groups = Annotated[
    list[str] | None,
    typer.Option("--group", metavar="G", help="Analyse this group (repeat for several)."),
]
_Run = Annotated[
    str | None,
    typer.Option("--run", metavar="R", help="Analyse the groups of a legacy run (a .RUN file)."),
]
_Terms = Annotated[
    list[str] | None,
    typer.Option(
        "--term",
        metavar="T",
        help="Only the sections of this term (repeat for several; with --group or --run: "
        "their sections of these terms). `gradestore terms` lists them.",
    ),
]
_Method = Annotated[
    TestMethod,
    typer.Option(
        "--method",
        help="z: design.md's z-test against the group; welch: Welch's t-test against the rest "
        "of the group.",
    ),
]
_Adjust = Annotated[
    Adjustment,
    typer.Option(
        "--adjust",
        help="Multiplicity adjustment of p: bh, by (false discovery rate), holm, bonferroni "
        "(family-wise), none.",
    ),
]
_MinN = Annotated[
    int,
    typer.Option(
        "--min-n",
        min=1,
        metavar="N",
        help="Test only sections with at least N counted grades (the others keep their figures).",
    ),
]
_Format = Annotated[
    SummaryFormat,
    typer.Option("--format", help="table (for people) or json (design.md shape)."),
]
_Scale = Annotated[
    str | None,
    typer.Option(
        "--scale",
        metavar="NAME|FILE",
        help="Analyse under this grade scale (built-in name or TOML file) instead of the "
        "store's; the store's scale is not changed.",
    ),
]
_Force = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Store a new analysis even when the store holds what the latest analysis of the "
        "same scope and options read.",
    ),
]
_FailOn = Annotated[
    FailOn | None,
    typer.Option(
        "--fail-on",
        help="Exit 3 when the analysis has tests significant by p (significant), flagged after "
        "adjustment (adjusted), or flagged where the previous analysis of the same scope and "
        "options was not (new); they are listed.",
    ),
]


@handle_errors
def analyze(
    ctx: typer.Context,
    threshold: _Threshold = 0.05,
    groups: _Groups = None,
    run: _Run = None,
    terms: _Terms = None,
    method: _Method = TestMethod.Z,
    adjust: _Adjust = Adjustment.BH,
    min_n: _MinN = 1,
    output_format: _Format = SummaryFormat.table,
    scale_name: _Scale = None,
    force: _Force = False,
    fail_on: _FailOn = None,
) -> None:
    """Compute section and group statistics, z-tests and the good and work lists; store them
    as a new analysis and print it. Default scope: everything in the store. On a store that
    holds what the latest analysis of the same scope and options read, nothing is stored and
    that analysis stands (exit 0)."""
    from gradestore.analysis import Scope, TestOptions
    from gradestore.analysis import analyze as analyze_store
    from gradestore.grades import resolve_scale

    scope = Scope.from_options(groups, run, terms)
    scale = resolve_scale(scale_name) if scale_name is not None else None
    units = state(ctx).units()
    options = TestOptions(threshold=threshold, method=method, adjust=adjust, min_n=min_n)
    done = analyze_store(units, scope, options=options, scale=scale, force=force)
    alert = _judge_and_show(units, done, output_format, fail_on)
    if alert is not None and alert.exit_code:
        raise typer.Exit(alert.exit_code)


def _judge_and_show(
    units: Database, done: AnalysisRun, output_format: SummaryFormat, fail_on: FailOn | None
) -> Alert | None:
    """What --fail-on finds (None without it), and the analysis shown with it."""
    analysis_id = done.result.analysis_id
    # Only a new analysis needs saying that it is stored when showing it fails.
    guard = (
        stored_even_if_output_fails(f"analysis {analysis_id}", analysis_id)
        if done.stored
        else nullcontext()
    )
    with guard:
        alert = _judge(units, analysis_id, fail_on, unchanged=not done.stored)
        _show(units, done, output_format, alert)
    return alert


def _judge(
    units: Database, analysis_id: int, fail_on: FailOn | None, unchanged: bool
) -> Alert | None:
    from gradestore.history import alert_for

    return None if fail_on is None else alert_for(units, analysis_id, fail_on, unchanged)


def _show(
    units: Database, done: AnalysisRun, output_format: SummaryFormat, alert: Alert | None
) -> None:
    """The analysis (or the line naming the one that stands), then what --fail-on found."""
    from gradestore.render import analysis_renderables, write_analysis_json
    from gradestore.render_history import alert_renderables, unchanged_line
    from gradestore.reports import open_analysis

    line = unchanged_line(done.result.analysis_id, done.result.created_at)
    if output_format is SummaryFormat.json:
        if not done.stored:
            echo_err(line)
        extra = {} if alert is None else {"fail_on": alert.as_json()}
        # Read back as stored, lists streamed: the same JSON as `report --format json`.
        with open_analysis(units, done.result.analysis_id, streamed_tests=True) as stored:
            write_analysis_json(stored, sys.stdout, extra=extra)
        return
    print_renderables(
        lambda plain: [
            *([line] if not done.stored else analysis_renderables(done.result, plain)),
            *([] if alert is None else alert_renderables(alert, plain)),
        ]
    )


@contextmanager
def stored_even_if_output_fails(what: str, analysis_id: int) -> Iterator[None]:
    """After the commit, a failure to show the work (a lost connection while reading it back,
    a full disk) must not read as a failure of the work: say that it was stored (exit 74)."""
    from gradestore.errors import GradestoreError, ShownOutputError

    try:
        yield
    except BrokenPipeError:
        raise
    except (GradestoreError, OSError) as error:
        text = (error.strerror if isinstance(error, OSError) else None) or str(error).strip()
        reason = text.splitlines()[0] if text else type(error).__name__
        raise ShownOutputError(
            f"{what} is stored, but showing it failed ({reason}): "
            f"`gradestore report --analysis {analysis_id}` shows it"
        ) from error


@handle_errors
def zscore(
    ctx: typer.Context,
    section: str | None = typer.Option(None, "--section", metavar="S", help="Only this section."),
    group: str | None = typer.Option(
        None, "--group", metavar="G", help="Only this group's sections and its test against all."
    ),
    analysis_id: int | None = typer.Option(
        None, "--analysis", metavar="ID", help="Which analysis (default: the latest)."
    ),
    output_format: OutputFormat = typer.Option(OutputFormat.table, "--format"),
) -> None:
    """List the stored z-tests of an analysis, sections and groups, largest |z| first."""
    from gradestore.render import to_json, zscore_csv, zscore_renderables
    from gradestore.reports import zscore_listing

    listing = zscore_listing(
        state(ctx).units(read_only=True), section=section, group=group, analysis_id=analysis_id
    )
    if not listing.rows:
        echo_err(_no_rows_message(listing.analysis_id, section, group))
    if output_format is OutputFormat.json:
        write_stdout(to_json(listing.as_json()))
    elif output_format is OutputFormat.csv:
        write_stdout(zscore_csv(listing))
    else:
        print_renderables(lambda plain: zscore_renderables(listing, plain))


def _no_rows_message(analysis_id: int, section: str | None, group: str | None) -> str:
    """Why a z-score listing is empty: a filter that matches nothing says so."""
    if section is not None and group is not None:
        return f"section {section} is not in group {group}: no z-test of it against {group}"
    if section is not None:
        return f"section {section} is in no group: it has no z-test"
    if group is not None:
        return f"group {group} has no z-tests in analysis {analysis_id}"
    return f"analysis {analysis_id} holds no z-tests"
