"""Rich tables, JSON and CSV for what the use cases return. No SQL, no statistics."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, is_dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.table import Table

    from gradestore.ingest import IngestReport
    from gradestore.reports import ZScoreListing
    from gradestore.results import AnalysisResult, GroupTest, SectionTest

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")


def new_table(*columns: str, title: str | None = None, plain: bool = False) -> Table:
    """A table that reads well on a terminal; borderless, colourless text when ``plain``."""
    from rich import box
    from rich.table import Table

    table = Table(
        title=title,
        box=None if plain else box.SIMPLE_HEAVY,
        show_edge=not plain,
        pad_edge=False,
        header_style="" if plain else "bold",
        title_justify="left",
    )
    for column in columns:
        numeric = column.endswith(("count", "added", "unchanged", "replaced", "rejected", "files"))
        table.add_column(column, justify="right" if numeric else "left", overflow="fold")
    return table


def fmt(value: Any, digits: int = 3) -> str:
    """Numbers rounded for reading; None as an empty cell's dash."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if value != 0 and abs(value) < 10**-digits:
            return f"{value:.2e}"
        return f"{value:.{digits}f}"
    return str(value)


def to_json(data: Any) -> str:
    return json.dumps(_jsonable(data), indent=2, ensure_ascii=False) + "\n"


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _jsonable(asdict(value))
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def escape_cell(value: Any) -> Any:
    """Text cells that a spreadsheet would run as a formula get a leading quote; numbers stay."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if cell is None else escape_cell(cell) for cell in row])
    return buffer.getvalue()


# --- ingest ---------------------------------------------------------------------------------


INGEST_COLUMNS = (
    "file",
    "status",
    "files",
    "sections added",
    "sections unchanged",
    "sections replaced",
    "students added",
    "grades added",
    "grades unchanged",
    "grades replaced",
    "rows rejected",
)


def ingest_table(report: IngestReport, plain: bool) -> Table:
    title = "Ingest (dry run: nothing was written)" if report.dry_run else "Ingest"
    table = new_table(*INGEST_COLUMNS, title=title, plain=plain)
    for unit in report.units:
        table.add_row(
            unit.path,
            unit.status,
            *(
                str(value)
                for value in (
                    unit.files,
                    unit.sections_added,
                    unit.sections_unchanged,
                    unit.sections_replaced,
                    unit.students_added,
                    unit.grades_added,
                    unit.grades_unchanged,
                    unit.grades_replaced,
                    unit.rows_rejected,
                )
            ),
        )
    return table


def ingest_json(report: IngestReport) -> str:
    return to_json(
        {
            "dry_run": report.dry_run,
            "ok": report.ok,
            "units": [
                {
                    "path": unit.path,
                    "kind": unit.kind,
                    "status": unit.status,
                    "files": unit.files,
                    "sections_added": unit.sections_added,
                    "sections_unchanged": unit.sections_unchanged,
                    "sections_replaced": unit.sections_replaced,
                    "students_added": unit.students_added,
                    "grades_added": unit.grades_added,
                    "grades_unchanged": unit.grades_unchanged,
                    "grades_replaced": unit.grades_replaced,
                    "memberships_added": unit.memberships_added,
                    "list_entries_added": unit.list_entries_added,
                    "rows_rejected": unit.rows_rejected,
                    "errors": [str(problem) for problem in unit.errors],
                    "warnings": [str(problem) for problem in unit.warnings],
                }
                for unit in report.units
            ],
            "skipped_files": report.skipped_files,
        }
    )


# --- analyses -------------------------------------------------------------------------------

MAX_SECTION_ROWS = 60


def analysis_heading(result: AnalysisResult) -> str:
    scope = (
        result.scope_kind
        if not result.scope_names
        else (f"{result.scope_kind} {', '.join(result.scope_names)}")
    )
    created = result.created_at.strftime("%Y-%m-%d %H:%M:%S %Z")
    return (
        f"Analysis {result.analysis_id}, {created}, threshold {fmt(result.threshold, 3)}, "
        f"scope: {scope}"
    )


def significance(flag: bool, plain: bool) -> str:
    if not flag:
        return "no"
    return "YES" if plain else "[bold red]YES[/]"


def section_tests_table(
    tests: Sequence[SectionTest], plain: bool, title: str = "Sections"
) -> Table:
    table = new_table(
        "section", "group", "count", "mean GPA", "z", "p", "significant", title=title, plain=plain
    )
    for test in tests:
        table.add_row(
            test.section,
            test.group or "-",
            str(test.count),
            fmt(test.mean_gpa),
            fmt(test.z_score),
            fmt(test.p_value, 4),
            significance(test.significant, plain),
        )
    return table


def group_tests_table(tests: Sequence[GroupTest], plain: bool, title: str = "Groups") -> Table:
    table = new_table(
        "group",
        "sections",
        "count",
        "mean GPA",
        "stddev",
        "z vs all",
        "p",
        "significant",
        title=title,
        plain=plain,
    )
    for test in tests:
        table.add_row(
            test.group,
            str(len(test.sections)),
            str(test.count),
            fmt(test.mean_gpa),
            fmt(test.stddev),
            fmt(test.z_score),
            fmt(test.p_value, 4),
            significance(test.significant, plain),
        )
    return table


def shown_section_tests(tests: Sequence[SectionTest]) -> tuple[list[SectionTest], int]:
    """All tests when they fit a screen; else the significant ones and the largest |z|."""
    if len(tests) <= MAX_SECTION_ROWS:
        return list(tests), 0
    from gradestore.reports import by_abs_z

    ranked = sorted(tests, key=lambda test: (not test.significant, *by_abs_z(test)))
    shown = ranked[:MAX_SECTION_ROWS]
    return shown, len(tests) - len(shown)


def analysis_renderables(result: AnalysisResult, plain: bool) -> list[Any]:
    shown, hidden = shown_section_tests(result.sections)
    parts: list[Any] = [analysis_heading(result), section_tests_table(shown, plain)]
    if hidden:
        parts.append(
            f"... {hidden} more section tests not shown (none significant): "
            "use --format json or `gradestore zscore`"
        )
    parts.append(group_tests_table(result.groups, plain))
    parts.append(
        f"Good list (A+, A, A-): {result.good_list_size} students; "
        f"work list (D+, D, D-, F): {result.work_list_size} students. "
        "See `gradestore report --list good` and `--list work`."
    )
    return parts


def zscore_table(listing: ZScoreListing, plain: bool) -> Table:
    table = new_table(
        "test",
        "name",
        "against",
        "count",
        "mean GPA",
        "z",
        "p",
        "significant",
        title=f"Z-tests of analysis {listing.analysis_id} (threshold "
        f"{fmt(listing.threshold, 3)}), by |z|",
        plain=plain,
    )
    for row in listing.rows:
        table.add_row(
            row.kind,
            row.name,
            row.against,
            str(row.count),
            fmt(row.mean_gpa),
            fmt(row.z_score),
            fmt(row.p_value, 4),
            significance(row.significant, plain),
        )
    return table


def zscore_csv(listing: ZScoreListing) -> str:
    return to_csv(
        (
            "analysis_id",
            "test",
            "name",
            "against",
            "count",
            "mean_gpa",
            "z_score",
            "p_value",
            "significant",
        ),
        (
            (
                listing.analysis_id,
                row.kind,
                row.name,
                row.against,
                row.count,
                row.mean_gpa,
                row.z_score,
                row.p_value,
                row.significant,
            )
            for row in listing.rows
        ),
    )
