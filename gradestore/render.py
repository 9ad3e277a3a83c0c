"""Rich tables, JSON and CSV for what the use cases return. No SQL, no statistics."""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, is_dataclass
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.table import Table
    from rich.text import Text

    from gradestore.grades import GradeScale
    from gradestore.ingest import IngestReport
    from gradestore.persistence.report_queries import ListRow, SectionTestTuple
    from gradestore.persistence.rows import FlagCounts, Testing
    from gradestore.reports import (
        GroupReport,
        ListReport,
        SectionReport,
        StudentReport,
        ZScoreListing,
        ZScoreRow,
    )
    from gradestore.results import AnalysisResult, GroupTest, ListedStudent, SectionTest
    from gradestore.suppression import Suppression
    from gradestore.term_listing import StoredTermCount, TermListing

from gradestore.kinds import TestMethod
from gradestore.results import LEADING_TESTS, StoredList, stored_section_test
from gradestore.stats import IN_NO_GROUP

T = TypeVar("T", "SectionTest", "GroupTest")

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")
# A text cell that starts with the escape quote itself is escaped too, so that unescape_cell
# can tell the quote gradestore added from one in the data.
_ESCAPED_STARTS = (*FORMULA_PREFIXES, "'")


NUMERIC_COLUMNS = frozenset(
    {
        "count",
        "n",
        "mean GPA",
        "stddev",
        "z",
        "t",
        "p",
        "diff",
        "d",
        "adj. p",
        "sections",
        "points",
        "N",
        "entries",
        "risk",
    }
)


# Columns of free text that may wrap when a table is wider than the terminal (numbers and
# yes/no columns may narrow too; names never wrap).
WRAPPING_COLUMNS = frozenset(
    {"file", "entries", "grades", "sections", "significant", "adj. flag", "flag", ""}
)


def new_table(
    *columns: str,
    title: str | None = None,
    plain: bool = False,
    numeric: set[str] | frozenset[str] = NUMERIC_COLUMNS,
    wrap: frozenset[str] = WRAPPING_COLUMNS,
) -> Table:
    """A table that reads well on a terminal; borderless, colourless text when ``plain``.

    Names and numbers never wrap (a section name cut in two reads as two sections): when the
    terminal is narrow, only the free-text columns in ``wrap`` (a path, a list of entries)
    and the headers' words do. Columns are one space apart, so 80 columns hold every table.
    """
    from rich import box
    from rich.table import Table

    # A heavy rule under the header and no other lines.
    table = Table(
        title=title,
        box=None if plain else box.SIMPLE_HEAVY,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
        padding=(0, 1) if plain else (0, 0),  # the box's own column divider is one space
        header_style="" if plain else "bold",
        title_justify="left",
        title_style="" if plain else "bold",
    )
    for column in columns:
        table.add_column(
            column,
            justify="right" if column in numeric else "left",
            overflow="fold",
            no_wrap=column not in wrap and column not in numeric,
        )
    return table


# Characters a terminal would act on rather than show (see visible()).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def visible(text: str) -> str:
    """``text`` with every control character shown as its escape (``\\n``, ``\\x1b``), for plain
    text on a terminal or in a log: a file name or message from data can then neither break
    a line nor send the terminal a command. (Rich output needs no more: its consoles here
    take text literally, with markup and emoji codes off.)"""
    return _UNPRINTABLE.sub(lambda match: match.group().encode("unicode_escape").decode(), text)


def fixed(value: float | None, digits: int) -> str:
    """A figure read at a fixed precision (an effect size): never in e-notation."""
    if value is None or math.isnan(value):
        return "-"
    shown = f"{value:.{digits}f}"
    return shown.lstrip("-") if float(shown) == 0 else shown  # no "-0.00"


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


def _json_default(value: Any) -> Any:
    """What the JSON encoder cannot write itself: dataclasses and timestamps."""
    if is_dataclass(value) and not isinstance(value, type):
        return _jsonable(asdict(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def escape_cell(value: Any) -> Any:
    """Text cells that a spreadsheet would run as a formula get a leading quote (as do cells
    that start with a quote); numbers stay."""
    if isinstance(value, str) and value.startswith(_ESCAPED_STARTS):
        return "'" + value
    return value


def unescape_cell(text: str) -> str:
    """The text :func:`escape_cell` was given (for a program reading gradestore's CSV back)."""
    return text[1:] if text.startswith("'") and text[1:].startswith(_ESCAPED_STARTS) else text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    write_csv(buffer, header, rows)
    return buffer.getvalue()


def write_csv(out: TextIO, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    # LF, not csv's default CRLF: a CR at the end of each line trips awk, cut and friends.
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            [
                ""
                if cell is None
                else ("true" if cell is True else "false" if cell is False else escape_cell(cell))
                for cell in row
            ]
        )


# --- ingest ---------------------------------------------------------------------------------


def _counts_cell(added: int, replaced: int, unchanged: int) -> str:
    parts = [
        f"{count} {label}"
        for count, label in ((added, "new"), (replaced, "replaced"), (unchanged, "same"))
        if count
    ]
    return ", ".join(parts) or "0"


def ingest_table(report: IngestReport, plain: bool) -> Table:
    """One row per file argument; files already read through a .RUN/.GRP are left out."""
    title = "Ingest (dry run: nothing was written)" if report.dry_run else "Ingest"
    units = [unit for unit in report.units if unit.status != "already done"]
    table = new_table(
        "file",
        "status",
        "sections",
        "students",
        "grades",
        "bad rows",
        title=title,
        plain=plain,
        numeric={"students", "bad rows"},
    )
    table.columns[0].min_width = min(24, max((len(unit.path) for unit in units), default=4))
    for unit in units:
        grades = _counts_cell(unit.grades_added, unit.grades_replaced, unit.grades_unchanged)
        if unit.list_entries_added:
            grades = f"{unit.list_entries_added} list entries new"
        table.add_row(
            visible(unit.path),
            unit.status,
            _counts_cell(unit.sections_added, unit.sections_replaced, unit.sections_unchanged),
            f"{unit.students_added} new",
            grades,
            str(unit.rows_rejected),
        )
    return table


def ingest_json(report: IngestReport) -> str:
    return to_json(report.as_json())


# --- analyses -------------------------------------------------------------------------------

MAX_TEST_ROWS = LEADING_TESTS


def analysis_heading(result: AnalysisResult) -> str:
    scope = (
        result.scope_kind
        if not result.scope_names
        else (f"{result.scope_kind} {', '.join(result.scope_names)}")
    )
    if result.scope_terms:
        scope = f"{scope}, terms {', '.join(result.scope_terms)}"
    created = result.created_at.strftime("%Y-%m-%d %H:%M:%S %Z")
    return (
        f"Analysis {result.analysis_id}, {created}, threshold {fmt(result.threshold, 3)}, "
        f"scope: {scope}, grade scale: {result.scale.name}; {testing_text(result.testing)}"
    )


def list_title(which: str, scale: GradeScale) -> str:
    """'Good list (A+, A, A-)': the list's letters are the scale's."""
    letters = scale.good if which == "good" else scale.work
    return f"{which.capitalize()} list ({', '.join(letters) or 'no letters'})"


ADJUSTMENT_NAMES = {
    "bh": "Benjamini-Hochberg",
    "by": "Benjamini-Yekutieli",
    "holm": "Holm",
    "bonferroni": "Bonferroni",
    "none": "no",
}


# What each test method is called wherever an analysis says how it tested (the table's title,
# `analyses`, the HTML report's facts). The z-test's comparison, the whole group, is the default
# and goes unsaid; Welch's, the rest of the group, is part of its name.
METHOD_NAMES: dict[TestMethod, str] = {
    TestMethod.Z: "z-test",
    TestMethod.WELCH: "Welch's t-test against the rest of the group",
}


def testing_text(testing: Testing) -> str:
    """How an analysis tested, in a few words."""
    test = METHOD_NAMES[testing.method]
    adjust = (
        "p not adjusted (made before adjustment existed)"
        if testing.adjust is None
        else f"{ADJUSTMENT_NAMES[testing.adjust]} adjustment"
    )
    return f"{test}, {adjust}, min-n {testing.min_n}"


def flags_line(testing: Testing, flags: FlagCounts, threshold: float | None) -> str:
    """The adjusted flags first, then the raw ones beside what chance alone would give."""
    if testing.tests is None or testing.expected_false_flags is None:
        return f"Significant sections: {flags.raw} (not adjusted for the number of tests)."
    adjusted = (
        f"{flags.adjusted} after {ADJUSTMENT_NAMES[testing.adjust]} adjustment; "
        if testing.adjust not in (None, "none")
        else ""
    )
    return (
        f"Significant sections: {adjusted}{flags.raw} by p alone, where chance alone would give "
        f"{testing.expected_false_flags:.2f} ({fmt(threshold, 3)} x {testing.tests} tests)."
    )


def overdispersion_line(testing: Testing) -> str:
    if testing.overdispersion is None:
        return "Over-dispersion phi: none (no section was tested)."
    return (
        f"Over-dispersion phi {testing.overdispersion:.2f}: about 1 when sections differ from "
        "their groups by chance alone, above 1 when they differ more (docs/statistics.md)."
    )


def significance(flag: bool | None, plain: bool) -> str | Text:
    if flag is None:
        return "-"
    if not flag:
        return "no"
    if plain:
        return "YES"
    from rich.text import Text

    return Text("YES", style="bold red")


TEST_COLUMNS = ("diff", "d", "{z}", "p", "adj. p", "adj. flag", "flag")

# What a narrow terminal leaves out, first to last, rather than break a number in two: the
# names, z, p and the flags always stay.
NARROW_FIRST = ("d", "diff", "stddev", "sections", "adj. p", "mean GPA", "n")


def test_columns(method: str) -> tuple[str, ...]:
    """The figures' headers: z, or t under Welch."""
    z = "t" if method == "welch" else "z"
    return tuple(column.format(z=z) for column in TEST_COLUMNS)


def test_cells(
    test: SectionTest | GroupTest | ZScoreRow, plain: bool, hide: Suppression | None = None
) -> list[str | Text]:
    """A test's figures; where there is no test, the reason stands in the z column (and
    where ``hide`` withholds them, that they are withheld)."""
    if hide is not None and hide.hides(test.count):
        return ["", "", hide.reason, "", "", "", ""]
    untested = test.z_score is None and test.reason is not None
    return [
        fmt(test.difference),
        "" if untested else fixed(test.effect_size, 2),
        (test.reason or "") if untested else fmt(test.z_score),
        "" if untested else fmt(test.p_value, 4),
        "" if untested else fmt(test.p_adjusted, 4),
        significance(test.significant_adjusted, plain),
        significance(test.significant, plain),
    ]


class FittedTable:
    """A table that, on a terminal too narrow for it, leaves out the columns of ``narrow_first``
    one by one (and says so under it) rather than fold a number or a name across lines.

    Rich measures the table at the width it is printed at, so the choice is made there: JSON
    and CSV are never affected, and piped text only when ``$COLUMNS`` is narrower than the
    table (piped text is laid out at ``$COLUMNS``, 200 when unset)."""

    def __init__(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[str | Text]],
        *,
        title: str | None,
        plain: bool,
        narrow_first: Sequence[str] = NARROW_FIRST,
        wrap: frozenset[str] = WRAPPING_COLUMNS,
        numeric: frozenset[str] = NUMERIC_COLUMNS,
    ) -> None:
        self.columns, self.rows, self.title, self.plain = tuple(columns), rows, title, plain
        self.narrow_first, self.wrap, self.numeric = tuple(narrow_first), wrap, numeric

    def table(self, left_out: Sequence[str] = (), fold_names: bool = False) -> Table:
        kept = [i for i, column in enumerate(self.columns) if column not in left_out]
        wrap = self.wrap | set(self.columns) if fold_names else self.wrap
        columns = (self.columns[i] for i in kept)
        table = new_table(*columns, plain=self.plain, wrap=wrap, numeric=self.numeric)
        for row in self.rows:
            table.add_row(*(row[i] for i in kept))
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.measure import Measurement

        def needed(table: Table) -> Measurement:
            # Measured unbounded: Rich clamps a measurement to the width it is given.
            return Measurement.get(console, options.update_width(10**6), table)

        def too_wide(table: Table, at_most: bool = False) -> bool:
            measured = needed(table)
            return (measured.maximum if at_most else measured.minimum) > options.max_width

        def fits(table: Table) -> bool:
            """Whether ``table`` fits with only headers and free text wrapped (it is narrowed
            to do so)."""
            if too_wide(table):
                return False
            if not too_wide(table, at_most=True):
                return True
            return _narrow_to_words(table, options.max_width, lambda t: needed(t).maximum)

        left_out: list[str] = []
        table = self.table()
        optional = [column for column in self.narrow_first if column in self.columns]
        fitted = fits(table)
        while optional and not fitted:
            left_out.append(optional.pop(0))
            table = self.table(left_out)
            fitted = fits(table)
        if not fitted:
            # Names too long for the terminal even so: folded whole (the last resort), never
            # cut short, which would show a name that is not the student's.
            table = self.table(left_out, fold_names=True)
        if self.title:  # a line of its own, wrapped at the terminal, not at the table's width
            from rich.text import Text

            yield Text(self.title, style="" if self.plain else "bold")
        yield table
        if left_out:
            names = ", ".join(left_out[:-1]) + " and " * (len(left_out) > 1) + left_out[-1]
            yield f"({names} left out to fit {options.max_width} columns: see --format json)"


def _narrow_to_words(table: Table, width: int, measure: Callable[[Table], int]) -> bool:
    """Fix each column's width: first at its longest word (a number is one word; a name that
    must not wrap, its whole length), then, while ``width`` allows, widen the columns whose
    cells wrap (one line more per row), then those whose header does (one line in all). So
    only headers and free text wrap, between words: Rich's own narrowing would fold the
    widest column, often a number, in two. False when the names alone do not fit."""
    from rich.cells import cell_len

    def longest_word(text: str) -> int:
        return max((cell_len(word) for word in text.split()), default=0)

    least, cells_full, full = [], [], []
    for column in table.columns:
        header, cells = str(column.header), [str(cell) for cell in column.cells]
        cells_full.append(max((cell_len(cell) for cell in cells), default=0))
        full.append(max(cells_full[-1], cell_len(header)))
        words = max([longest_word(header), *(longest_word(cell) for cell in cells)])
        least.append(full[-1] if column.no_wrap else words)
        column.width = least[-1]
    slack = width - measure(table)  # what the table's dividers and padding leave
    if slack < 0:  # names that must not wrap are too long for the width
        return False
    for target in (cells_full, full):
        for i in sorted(range(len(least)), key=lambda i: target[i] - least[i]):
            current = table.columns[i].width or 0
            extra = max(0, min(slack, target[i] - current))
            table.columns[i].width = current + extra
            slack -= extra
    return True


def section_tests_table(
    tests: Sequence[SectionTest],
    plain: bool,
    title: str = "Sections",
    method: str = "z",
    hide: Suppression | None = None,
) -> FittedTable:
    rows = [
        [test.section, test.group or "-", count_text(test.count, hide), mean_text(test, hide),
         *test_cells(test, plain, hide)]
        for test in tests
    ]  # fmt: skip
    columns = ("section", "group", "n", "mean GPA", *test_columns(method))
    return FittedTable(columns, rows, title=title, plain=plain)


def group_tests_table(
    tests: Sequence[GroupTest],
    plain: bool,
    title: str = "Groups",
    method: str = "z",
    hide: Suppression | None = None,
) -> FittedTable:
    rows = [
        [test.group, str(len(test.sections)), count_text(test.count, hide), mean_text(test, hide),
         "-" if hide is not None and hide.hides(test.count) else fmt(test.stddev),
         *test_cells(test, plain, hide)]
        for test in tests
    ]  # fmt: skip
    columns = ("group", "sections", "n", "mean GPA", "stddev", *test_columns(method))
    return FittedTable(columns, rows, title=f"{title} (against all groups)", plain=plain)


def count_text(count: int, hide: Suppression | None) -> str:
    """A count as a table shows it: ``<K`` where ``hide`` withholds it."""
    return str(count if hide is None else hide.count_cell(count))


def mean_text(test: SectionTest | GroupTest, hide: Suppression | None) -> str:
    return "-" if hide is not None and hide.hides(test.count) else fmt(test.mean_gpa)


def shown_tests(tests: Sequence[T]) -> tuple[list[T], int]:
    """All tests when they fit a screen; else the significant ones and the largest |z| first."""
    if len(tests) <= MAX_TEST_ROWS:
        return list(tests), 0
    from gradestore.persistence.ordering import significant_then_largest_z

    ranked = sorted(tests, key=significant_then_largest_z)
    shown = ranked[:MAX_TEST_ROWS]
    return shown, len(tests) - len(shown)


def _more_tests(hidden: int, kind: str, shown: Sequence[SectionTest | GroupTest]) -> str:
    significant = "none significant" if not shown[-1].significant else "more are significant"
    return (
        f"... {hidden} more {kind} tests not shown ({significant}): "
        "see --format json or `gradestore zscore`"
    )


def analysis_renderables(result: AnalysisResult, plain: bool) -> list[Any]:
    # The result may hold only the leading tests (see load_analysis' ``top``).
    method = result.testing.method
    shown, _ = shown_tests(result.sections)
    parts: list[Any] = [analysis_heading(result), section_tests_table(shown, plain, method=method)]
    hidden = max(result.section_test_count, len(result.sections)) - len(shown)
    if hidden:
        parts.append(_more_tests(hidden, "section", shown))
    parts += testing_lines(result)
    shown_groups, _ = shown_tests(result.groups)
    parts.append(group_tests_table(shown_groups, plain, method=method))
    hidden = max(result.group_test_count, len(result.groups)) - len(shown_groups)
    if hidden:
        parts.append(_more_tests(hidden, "group", shown_groups))
    good, work = list_title("good", result.scale), list_title("work", result.scale)
    parts.append(
        f"{good}: {result.good_list_size} students; "
        f"{work[0].lower()}{work[1:]}: {result.work_list_size} students. "
        "See `gradestore report --list good` and `--list work`."
    )
    return parts


def testing_lines(result: AnalysisResult | ZScoreListing) -> list[str]:
    """How many flags chance alone would give, and phi: one line each."""
    return [
        flags_line(result.testing, result.flags, result.threshold),
        overdispersion_line(result.testing),
    ]


def zscore_table(listing: ZScoreListing, plain: bool) -> FittedTable:
    rows = [
        [row.kind, row.name, row.against or "-", str(row.count), fmt(row.mean_gpa),
         *test_cells(row, plain)]
        for row in listing.rows
    ]  # fmt: skip
    return FittedTable(
        ("test", "name", "against", "n", "mean GPA", *test_columns(listing.testing.method)),
        rows,
        title=f"Tests of analysis {listing.analysis_id} (threshold "
        f"{fmt(listing.threshold, 3)}; {testing_text(listing.testing)}), by |z|",
        plain=plain,
    )


def zscore_renderables(listing: ZScoreListing, plain: bool) -> list[Any]:
    return [zscore_table(listing, plain), *testing_lines(listing)]


def zscore_csv(listing: ZScoreListing) -> str:
    return to_csv(
        TEST_CSV_HEADER,
        (
            (listing.analysis_id, row.kind, row.name, row.against, row.count, row.mean_gpa,
             None, row.z_score, row.p_value, row.significant, row.effect_size, row.p_adjusted,
             row.significant_adjusted, row.reason)
            for row in listing.rows
        ),
    )  # fmt: skip


# One layout for every CSV of z-tests (zscore, the whole report, a group's report).
TEST_CSV_HEADER = (
    "analysis_id", "test", "name", "against", "count", "mean_gpa", "stddev", "z_score",
    "p_value", "significant", "effect_size", "p_adjusted", "significant_adjusted",
    "no_test_reason",
)  # fmt: skip


def _section_test_rows(
    analysis_id: int, tests: Iterable[SectionTest], hide: Suppression | None = None
) -> list[Sequence[Any]]:
    return [
        (analysis_id, "section", t.section, t.group,
         *_csv_test_cells(t, (t.mean_gpa, None, t.z_score, t.p_value, t.significant), hide))
        for t in tests
    ]  # fmt: skip


def _group_test_rows(
    analysis_id: int, tests: Iterable[GroupTest], hide: Suppression | None = None
) -> list[Sequence[Any]]:
    from gradestore.reports import ALL_GROUPS

    return [
        (analysis_id, "group", t.group, ALL_GROUPS,
         *_csv_test_cells(t, (t.mean_gpa, t.stddev, t.z_score, t.p_value, t.significant), hide))
        for t in tests
    ]  # fmt: skip


def _csv_test_cells(
    test: SectionTest | GroupTest, figures: tuple[Any, ...], hide: Suppression | None
) -> tuple[Any, ...]:
    """The count, then ``figures`` and the four beside them; withheld: ``<K`` and empty."""
    if hide is not None and hide.hides(test.count):
        return (hide.label, *(None for _ in range(len(figures) + 4)))
    return (test.count, *figures, *_figure_cells(test))


def _figure_cells(test: SectionTest | GroupTest) -> tuple[Any, ...]:
    return (test.effect_size, test.p_adjusted, test.significant_adjusted, test.reason)


# --- reports --------------------------------------------------------------------------------

MAX_LIST_ROWS = 200
BAR_WIDTH = 40


def entries_text(student: ListedStudent) -> str:
    return ", ".join(f"{entry.section} ({entry.grade})" for entry in student.entries)


# What a narrow terminal leaves out of a list, first to last, rather than cut a name short:
# the student's id and names always stay.
LIST_NARROW_FIRST = ("first term", "appeared before", "risk", "entries")


def list_table(
    students: Iterable[ListedStudent], title: str, plain: bool, *, work: bool = False
) -> FittedTable:
    """The first MAX_LIST_ROWS students of a list; the work list has the risk column (terms
    on the work list, this one included: docs/history.md)."""
    risk = ("risk",) if work else ()
    columns = (
        "student id",
        "last name",
        "first name",
        "entries",
        "appeared before",
        "first term",
        *risk,
    )
    rows = [
        (
            student.student_id,
            student.last_name,
            student.first_name,
            entries_text(student),
            "yes" if student.appeared_before else "no",
            fmt(student.first_term_listed),
            *((fmt(student.terms_on_work_list),) if work else ()),
        )
        for student in itertools.islice(students, MAX_LIST_ROWS)
    ]
    # Their headers fold to two lines (and a term of 32 characters folds) before the entries
    # are squeezed or any column is left out. Entries are text here (elsewhere, a count).
    return FittedTable(
        columns,
        rows,
        title=title,
        plain=plain,
        narrow_first=LIST_NARROW_FIRST,
        wrap=WRAPPING_COLUMNS | {"first term", "appeared before"},
        numeric=NUMERIC_COLUMNS - {"entries"},
    )


def _list_parts(
    students: Iterable[ListedStudent],
    size: int,
    title: str,
    plain: bool,
    hide: Suppression | None = None,
    *,
    work: bool = False,
) -> list[Any]:
    if hide is not None:
        return [f"{title}: {count_text(size, hide)} students (not listed: names are withheld)"]
    parts: list[Any] = [list_table(students, f"{title}: {size} students", plain, work=work)]
    if size > MAX_LIST_ROWS:
        parts.append(f"... {size - MAX_LIST_ROWS} more students: use --format csv or json")
    return parts


def full_report_renderables(
    result: AnalysisResult, plain: bool, hide: Suppression | None = None
) -> list[Any]:
    method = result.testing.method
    parts: list[Any] = [analysis_heading(result)]
    if hide is not None:
        parts.append(suppression_line(hide))
    by_group: dict[str | None, list[SectionTest]] = {}
    for test in result.sections:
        by_group.setdefault(test.group, []).append(test)
    for group in result.groups:
        title = f"Group {group.group}: count {count_text(group.count, hide)}, " + (
            "mean GPA and stddev withheld"
            if hide is not None and hide.hides(group.count)
            else f"mean GPA {fmt(group.mean_gpa)}, stddev {fmt(group.stddev)}"
        )
        tests = by_group.get(group.group, [])
        parts.append(section_tests_table(tests, plain, title=title, method=method, hide=hide))
    ungrouped = by_group.get(None, [])
    if ungrouped:
        parts.append(section_tests_table(ungrouped, plain, title="Sections in no group", hide=hide))
    parts += testing_lines(result)
    parts.append(group_tests_table(result.groups, plain, method=method, hide=hide))
    for which, students, size in (
        ("good", result.good_list, result.good_list_size),
        ("work", result.work_list, result.work_list_size),
    ):
        title = list_title(which, result.scale)
        parts += _list_parts(students or [], size, title, plain, hide, work=which == "work")
    return parts


def suppression_line(hide: Suppression) -> str:
    return (
        f"Suppressed for sharing: counts below {hide.below} show as {hide.label}, sections and "
        f"groups with fewer than {hide.below} counted grades show no mean and no test, and "
        "no student is named."
    )


def full_report_csv(result: AnalysisResult, hide: Suppression | None = None) -> str:
    return to_csv(
        TEST_CSV_HEADER,
        _section_test_rows(result.analysis_id, result.sections, hide)
        + _group_test_rows(result.analysis_id, result.groups, hide),
    )


def grade_bars(
    grade_counts: dict[str, int], scale: GradeScale, plain: bool, hide: Suppression | None = None
) -> Table:
    """Grade counts as a horizontal bar chart: every letter of the scale, in its order,
    not-counted ones too (a withheld count has no bar)."""
    table = new_table("grade", "count", "", title="Grade counts", plain=plain, numeric={"count"})
    largest = max(grade_counts.values(), default=0) or 1
    for letter in scale.letters:
        count = grade_counts.get(letter, 0)
        bar = "#" if plain else "█"
        label = f"{letter} (not in GPA)" if letter in scale.not_counted else letter
        if hide is not None and hide.hides(count):
            table.add_row(label, hide.label, "")
        else:
            table.add_row(label, str(count), bar * round(BAR_WIDTH * count / largest))
    return table


def section_report_renderables(
    report: SectionReport, plain: bool, hide: Suppression | None = None
) -> list[Any]:
    details = ", ".join(
        part
        for part in (
            f"term {report.term}" if report.term else "",
            f"{fmt(report.credit_hours, 1)} credit hours" if report.credit_hours else "",
        )
        if part
    )
    withheld = hide is not None and hide.hides(report.count)
    parts: list[Any] = [
        f"Section {report.section}"
        + (f" ({details})" if details else "")
        + f", analysis {report.analysis_id}: count {count_text(report.count, hide)}, "
        + ("mean GPA withheld" if withheld else f"mean GPA {fmt(report.mean_gpa)}"),
        *([suppression_line(hide)] if hide is not None else []),
        grade_bars(report.grade_counts, report.scale, plain, hide),
        _section_against_groups(report, plain, hide),
    ]
    parts += _list_parts(report.good_list, len(report.good_list), "Good list", plain, hide)
    parts += _list_parts(
        report.work_list, len(report.work_list), "Work list", plain, hide, work=True
    )
    return parts


def _section_against_groups(
    report: SectionReport, plain: bool, hide: Suppression | None
) -> FittedTable | str:
    grouped = [test for test in report.tests if test.group is not None]
    if not grouped:
        return "In no group: no z-test."
    return FittedTable(
        ("group", *test_columns(report.testing.method)),
        [[test.group or "-", *test_cells(test, plain, hide)] for test in grouped],
        title=f"Against its groups ({testing_text(report.testing)})",
        plain=plain,
    )


def section_report_csv(report: SectionReport, hide: Suppression | None = None) -> str:
    letters = report.scale.letters
    header = (
        "analysis_id",
        "section",
        "term",
        "group",
        "count",
        "mean_gpa",
        "z_score",
        "p_value",
        "significant",
        "effect_size",
        "p_adjusted",
        "significant_adjusted",
        "no_test_reason",
        *letters,
    )
    counts: Sequence[int | str] = (
        [report.grade_counts.get(letter, 0) for letter in letters]
        if hide is None
        else hide.grade_count_cells(report.grade_counts, letters)
    )
    return to_csv(
        header,
        (
            (
                report.analysis_id,
                report.section,
                report.term,
                test.group,
                *_csv_test_cells(
                    test, (report.mean_gpa, test.z_score, test.p_value, test.significant), hide
                ),
                *counts,
            )
            for test in report.tests
        ),
    )


def group_report_renderables(
    report: GroupReport, plain: bool, hide: Suppression | None = None
) -> list[Any]:
    group = report.group
    method = report.testing.method
    figures = (
        "mean GPA and stddev withheld"
        if hide is not None and hide.hides(group.count)
        else f"mean GPA {fmt(group.mean_gpa)}, stddev {fmt(group.stddev)}"
    )
    return [
        f"Group {group.group}, analysis {report.analysis_id}: count "
        f"{count_text(group.count, hide)}, {figures}; {testing_text(report.testing)}",
        *([suppression_line(hide)] if hide is not None else []),
        group_tests_table([group], plain, title="The group", method=method, hide=hide),
        section_tests_table(
            report.section_tests, plain, title="Its sections, by z", method=method, hide=hide
        ),
    ]


def group_report_csv(report: GroupReport, hide: Suppression | None = None) -> str:
    return to_csv(
        TEST_CSV_HEADER,
        _group_test_rows(report.analysis_id, [report.group], hide)
        + _section_test_rows(report.analysis_id, report.section_tests, hide),
    )


def student_report_renderables(report: StudentReport, plain: bool) -> list[Any]:
    parts: list[Any] = [f"Student {report.student_id}: {report.last_name}, {report.first_name}"]
    grades = new_table(
        "section", "term", "grade", "points", title="Grades", plain=plain, numeric={"points"}
    )
    for grade in report.grades:
        grades.add_row(grade.section, grade.term or "-", grade.grade, fmt(grade.points, 1))
    parts.append(grades)
    if report.lists:
        lists = new_table(
            "analysis",
            "date",
            "list",
            "section",
            "grade",
            title="On lists",
            plain=plain,
            numeric={"analysis"},
        )
        for entry in report.lists:
            lists.add_row(
                str(entry.analysis_id),
                entry.created_at.strftime("%Y-%m-%d"),
                entry.list,
                entry.section,
                entry.grade,
            )
        parts.append(lists)
    else:
        parts.append("On no list of any analysis.")
    if report.earlier_lists:
        parts.append(
            "Earlier lists (.lst files): "
            + ", ".join(f"{entry.section} ({entry.grade})" for entry in report.earlier_lists)
        )
    return parts


def student_report_csv(report: StudentReport) -> str:
    on_lists: dict[str, list[str]] = {}
    for entry in report.lists:
        on_lists.setdefault(entry.section, []).append(f"{entry.list} in {entry.analysis_id}")
    header = (
        "student_id",
        "last_name",
        "first_name",
        "section",
        "term",
        "grade",
        "points",
        "lists",
    )
    return to_csv(
        header,
        (
            (
                report.student_id,
                report.last_name,
                report.first_name,
                g.section,
                g.term,
                g.grade,
                g.points,
                "; ".join(on_lists.get(g.section, [])),
            )
            for g in report.grades
        ),
    )


def list_report_renderables(report: ListReport, plain: bool) -> list[Any]:
    title = list_title(report.list, report.scale)
    work = report.list == "work"
    if work:
        title += ", repeat students first"
    return _list_parts(
        report.students, report.size, f"{title}, analysis {report.analysis_id}", plain, work=work
    )


def write_list_csv(report: ListReport, out: TextIO) -> None:
    header = (
        "analysis_id",
        "list",
        "student_id",
        "last_name",
        "first_name",
        "section",
        "grade",
        "appeared_before",
        "earlier_terms_on_work_list",
        "earlier_terms_on_good_list",
        "first_term_listed",
        *(("terms_on_work_list",) if report.list == "work" else ()),
    )
    write_csv(
        out,
        header,
        (
            (
                report.analysis_id,
                report.list,
                s.student_id,
                s.last_name,
                s.first_name,
                entry.section,
                entry.grade,
                s.appeared_before,
                s.earlier_terms_on_work_list,
                s.earlier_terms_on_good_list,
                s.first_term_listed,
                *((s.terms_on_work_list,) if report.list == "work" else ()),
            )
            for s in report.students
            for entry in s.entries
        ),
    )


def write_list_json(report: ListReport, out: TextIO) -> None:
    """The list's students; on the work list each also has ``terms_on_work_list`` (the risk:
    terms on the work list, this one included)."""
    write_json_document(
        out,
        {"analysis_id": report.analysis_id, "list": report.list},
        [("students", _student_items(report.students, terms_on_work_list=report.list == "work"))],
    )


def write_legacy_list(report: ListReport, out: TextIO) -> int:
    """The original project's .lst layout (see :func:`gradestore.readers.write_list_file`)."""
    from gradestore.readers import write_list_file

    return write_list_file(report.students, out)


def write_legacy_list_rows(rows: Iterable[tuple[str, str, str, str, str]], out: TextIO) -> int:
    """The same file from a list's rows (:func:`gradestore.reports.open_list_rows`)."""
    from gradestore.readers import write_list_rows

    return write_list_rows(rows, out)


def write_analysis_json(
    result: AnalysisResult,
    out: TextIO,
    hide: Suppression | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """design.md's JSON, written piece by piece: the lists are streamed, never held whole.
    Suppressed (``hide``): small cells null, and the lists only as their sizes. ``extra``:
    keys after the heading's (what `analyze --fail-on` found)."""
    if hide is not None:
        write_json_document(
            out,
            {
                **result.heading_json(),
                **hide.heading_json(),
                "good_list": None,
                "good_list_size": hide.list_size_json(result.good_list_size),
                "work_list": None,
                "work_list_size": hide.list_size_json(result.work_list_size),
            },
            [
                ("sections", (hide.masked_json(t.as_json()) for t in result.sections_to_write())),
                ("groups", (hide.masked_json(test.as_json()) for test in result.groups)),
            ],
        )
        return
    write_json_document(
        out,
        {**result.heading_json(), **(extra or {})},
        [
            ("sections", _section_items(result)),
            ("groups", (test.as_json() for test in result.groups)),
            ("good_list", _student_items(result.good_list or [])),
            ("work_list", _student_items(result.work_list or [])),
        ],
    )


class _JsonText(str):
    """An array item already written as JSON text (see :func:`student_json`)."""

    __slots__ = ()


def _section_items(result: AnalysisResult) -> Iterable[Any]:
    """The section tests as the JSON's items: streamed ones from their stored rows
    (:func:`section_test_json`), held ones from their objects."""
    streamed = result.streamed_sections
    if streamed is None:
        return (test.as_json() for test in result.sections)
    counts = GradeCountsText(result.scale.letters)
    return (section_test_json(row, counts) for row in streamed.rows)


def _student_items(
    students: Iterable[ListedStudent], *, terms_on_work_list: bool = False
) -> Iterator[_JsonText]:
    """A list's students as the JSON's items: a streamed list from its rows
    (:func:`list_json_texts`), any other from its objects (:func:`student_json`)."""
    if isinstance(students, StoredList):
        texts = list_json_texts(students.rows, terms_on_work_list=terms_on_work_list)
    else:
        texts = (student_json(s, terms_on_work_list=terms_on_work_list) for s in students)
    return map(_JsonText, texts)


# Items written out at a time: one write of some 100 KB instead of one per item (a write is a
# system call when Python's output is unbuffered, as under PYTHONUNBUFFERED).
_ITEMS_PER_WRITE = 500


def write_json_document(
    out: TextIO, head: dict[str, Any], arrays: Sequence[tuple[str, Iterable[Any]]]
) -> None:
    """A JSON object: the ``head`` keys, then each array one item a line (streamed). An item
    is a value for the JSON encoder, or a :class:`_JsonText` written as it is."""

    # One C encoder for the document; the walk of _jsonable only for an item the encoder
    # refuses (a NaN): most items are plain dicts already.
    encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=_json_default)

    def dump(value: Any) -> str:
        if isinstance(value, _JsonText):
            return value
        try:
            return encoder.encode(value)
        except ValueError:
            return json.dumps(_jsonable(value), ensure_ascii=False)

    out.write("{\n" + ",\n".join(f"  {dump(key)}: {dump(value)}" for key, value in head.items()))
    for key, values in arrays:
        out.write(f",\n  {dump(key)}: [")
        parts: list[str] = []
        separator = "\n    "
        for value in values:
            parts.append(separator + dump(value))
            separator = ",\n    "
            if len(parts) >= _ITEMS_PER_WRITE:
                out.write("".join(parts))
                parts.clear()
        out.write("".join(parts) + ("]" if separator == "\n    " else "\n  ]"))
    out.write("\n}\n")


def student_json(student: ListedStudent, *, terms_on_work_list: bool = False) -> str:
    """``json.dumps(student.as_json(), ensure_ascii=False)`` (with ``terms_on_work_list``
    last when asked), written directly: a list of 100,000s of students is most of a JSON
    report, and building a dict per student for the encoder tripled its cost. Strings go
    through the encoder's own escaping; a test compares the two on hostile values."""
    entries = ", ".join(
        f'{{"section": {_string(entry.section)}, "grade": {_string(entry.grade)}}}'
        for entry in student.entries
    )
    text = (
        f'{{"student_id": {_string(student.student_id)},'
        f' "first_name": {_string(student.first_name)},'
        f' "last_name": {_string(student.last_name)}, "entries": [{entries}],'
        f' "appeared_before": {"true" if student.appeared_before else "false"},'
        f' "earlier_terms_on_work_list": {_number(student.earlier_terms_on_work_list)},'
        f' "earlier_terms_on_good_list": {_number(student.earlier_terms_on_good_list)},'
        f' "first_term_listed": {_string(student.first_term_listed)}'
    )
    if terms_on_work_list:
        text += f', "terms_on_work_list": {_number(student.terms_on_work_list)}'
    return text + "}"


def list_json_texts(rows: Iterable[ListRow], *, terms_on_work_list: bool = False) -> Iterator[str]:
    """:func:`student_json` of each student of a list, from the list's rows (a student's rows
    one after another, as :class:`gradestore.results.StoredList` groups them: the first row's
    names and history, appeared before if any row says so), without a
    :class:`~gradestore.results.ListedStudent` or an entry object: the lists are most of an
    analysis' JSON. A test compares the two on hostile values."""
    string, number = encode_basestring, int.__repr__  # _string's and _number's, inline
    student: str | None = None
    head = ""
    tail = ""
    appeared = False
    entries: list[str] = []
    for student_id, first, last, section, grade, appeared_before, work, good, first_term in rows:
        if student_id != student:
            if student is not None:
                yield f"{head}{', '.join(entries)}{_appeared[appeared]}{tail}"
                entries.clear()
            student = student_id
            head = (
                f'{{"student_id": {string(student_id)}, "first_name": {string(first)},'
                f' "last_name": {string(last)}, "entries": ['
            )
            tail = (
                f', "earlier_terms_on_work_list": {"null" if work is None else number(work)},'
                f' "earlier_terms_on_good_list": {"null" if good is None else number(good)},'
                f' "first_term_listed": {"null" if first_term is None else string(first_term)}'
            )
            if terms_on_work_list:
                tail += f', "terms_on_work_list": {_number(None if work is None else work + 1)}'
            tail += "}"
            appeared = False
        entries.append(f'{{"section": {string(section)}, "grade": {string(grade)}}}')
        appeared = appeared or bool(appeared_before)
    if student is not None:
        yield f"{head}{', '.join(entries)}{_appeared[appeared]}{tail}"


_appeared = {True: '], "appeared_before": true', False: '], "appeared_before": false'}


class GradeCountsText:
    """A section's stored grade counts as the JSON's encoder writes them. The stored text is
    ``json.dumps`` of the counts in the scale's letter order (the analysis' template): when
    it is exactly that form, with letters the encoder writes alike with and without
    ``ensure_ascii``, it is already the encoder's text and is written as it is; anything
    else (another order, other spacing, escaped or repeated keys) is parsed and encoded."""

    def __init__(self, letters: Sequence[str]) -> None:
        plain = len(set(letters)) == len(letters) and all(
            json.dumps(letter) == encode_basestring(letter) for letter in letters
        )
        pattern = ", ".join(
            f"{re.escape(json.dumps(letter))}: (?:0|[1-9][0-9]*)" for letter in letters
        )
        self._canonical = re.compile("\\{" + pattern + "\\}").fullmatch if plain else None

    def is_encoded(self, text: str) -> bool:
        return self._canonical is not None and self._canonical(text) is not None


class _NotPlain(Exception):
    """A value the encoder writes otherwise than the text fast path would (see
    :func:`section_test_json`)."""


def section_test_json(row: SectionTestTuple, counts: GradeCountsText) -> _JsonText | Any:
    """``SectionTest.as_json()`` of a stored section test as the document's encoder writes
    it, written directly from the row (no object per test, the grade counts' stored text
    as it is when it is the encoder's: :class:`GradeCountsText`); a row with a value the
    direct text does not cover (a float that is not finite, a number of another type) is
    made into the test's dict for the encoder, as before. A test compares the two."""
    (
        section,
        group,
        count,
        mean_gpa,
        grade_counts,
        z_score,
        p_value,
        significant,
        p_adjusted,
        significant_adjusted,
        effect_size,
        no_test_reason,
        _,
    ) = row
    try:
        if type(count) is not int or not counts.is_encoded(grade_counts):
            raise _NotPlain
        reason = IN_NO_GROUP if group is None and z_score is None else no_test_reason
        return _JsonText(
            f'{{"section": {encode_basestring(section)}, "group": {_string(group)},'
            f' "count": {int.__repr__(count)}, "mean_gpa": {_float(mean_gpa)},'
            f' "grade_counts": {grade_counts}, "z_score": {_float(z_score)},'
            f' "p_value": {_float(p_value)}, "significant": {_bool(significant)},'
            f' "effect_size": {_float(effect_size)}, "p_adjusted": {_float(p_adjusted)},'
            f' "significant_adjusted": {_optional_bool(significant_adjusted)},'
            f' "no_test_reason": {_string(reason)}}}'
        )
    except _NotPlain:
        return stored_section_test(row).as_json()


def _float(value: float | None) -> str:
    """A float as the encoder writes it (``float.__repr__``); None as null."""
    if value is None:
        return "null"
    if type(value) is not float or value - value != 0.0:  # an int, a subclass, NaN or inf
        raise _NotPlain
    return float.__repr__(value)


def _bool(value: bool | int) -> str:
    return "true" if value else "false"


def _optional_bool(value: bool | int | None) -> str:
    return "null" if value is None else "true" if value else "false"


def _number(value: int | None) -> str:
    return "null" if value is None else int.__repr__(value)


def _string(value: str | None) -> str:
    """A string as the encoder writes it with ``ensure_ascii=False`` (its own function)."""
    return "null" if value is None else encode_basestring(value)


# --- grade scales ----------------------------------------------------------------------------


def _scale_cell(scale: GradeScale, letter: str) -> str:
    points = scale.points_of(letter)
    if points is not None:
        return f"{points:g}"
    return "not counted" if letter in scale.not_counted else ""


def scale_renderables(scale: GradeScale, heading: str, plain: bool) -> list[Any]:
    """One scale: its letters in order, their points, and the list each puts a student on."""
    table = new_table("letter", "points", "list", plain=plain)
    for letter in scale.letters:
        category = scale.category(letter)
        listed = "" if category is None else str(category)
        table.add_row(letter, _scale_cell(scale, letter), listed)
    return [heading, table]


def scales_renderables(scales: Sequence[GradeScale], plain: bool) -> list[Any]:
    """Several scales' points side by side, letter by letter (blank: no such letter)."""
    from rich.markup import escape

    letters = list(dict.fromkeys(letter for scale in scales for letter in scale.letters))
    table = new_table("letter", *(escape(scale.name) for scale in scales), plain=plain)
    for letter in letters:
        table.add_row(letter, *(_scale_cell(scale, letter) for scale in scales))
    lists = [
        f"{scale.name}: good list {', '.join(scale.good) or '-'}; "
        f"work list {', '.join(scale.work) or '-'}"
        for scale in scales
    ]
    return ["Built-in grade scales", table, *lists]


# --- terms -----------------------------------------------------------------------------------

UNRECOGNISED_TERM = "unrecognised"
NO_TERM = "no term"


def _term_place(term: StoredTermCount) -> str:
    if term.place is not None:
        return term.place.label
    return UNRECOGNISED_TERM if term.term is not None else NO_TERM


def terms_renderables(listing: TermListing, plain: bool) -> list[Any]:
    """The stored terms in time order; unrecognised ones after, marked, then no term."""
    table = new_table(
        "term", "in time", "sections", "grades", plain=plain, numeric=NUMERIC_COLUMNS | {"grades"}
    )
    for term in listing.terms:
        table.add_row(term.term or "-", _term_place(term), str(term.sections), str(term.grades))
    unordered = sum(1 for term in listing.terms if term.term is not None and not term.recognised)
    parts: list[Any] = [table]
    if unordered:
        parts.append(
            f"{unordered} unrecognised term{'s' if unordered > 1 else ''}: kept as written, "
            "in no order and no history (docs/history.md lists the forms)"
        )
    return parts


def terms_csv(listing: TermListing) -> str:
    header = ("term", "recognised", "year", "season", "order", "sections", "grades")
    rows = []
    for term in listing.terms:
        data = term.as_json()
        rows.append([data[column] for column in header])
    return to_csv(header, rows)
