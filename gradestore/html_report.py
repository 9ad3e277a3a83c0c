"""`report --format html`: one self-contained page (CSS, SVG charts and a small script inline;
nothing fetched when it is viewed).

The page is a renderer of the result objects the JSON report is made of (results.py,
reports.py): every figure it shows is a field of those objects, written with its exact value
in a ``data-v`` attribute beside the rounded text (a test compares them with the JSON). Only the
charts' geometry is computed (charts.py). Templates are Jinja2 with autoescaping on, so every
name from the data is shown as written. Imported only on this path: jinja2 and matplotlib
cost other commands nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from gradestore import charts
from gradestore.kinds import TestMethod
from gradestore.persistence.ordering import significant_then_largest_z
from gradestore.render import (
    ADJUSTMENT_NAMES,
    METHOD_NAMES,
    entries_text,
    fixed,
    flags_line,
    fmt,
    list_title,
    overdispersion_line,
    suppression_line,
    testing_text,
)

if TYPE_CHECKING:
    from markupsafe import Markup

    from gradestore.grades import GradeScale
    from gradestore.persistence.rows import Testing
    from gradestore.reports import GroupReport, SectionReport
    from gradestore.results import AnalysisResult, GroupTest, ListedStudent, SectionTest
    from gradestore.suppression import Suppression

# More groups than this: the groups with flags first (at most this many, with charts), the
# rest folded, tables only.
OPEN_GROUPS = 36
# Students per list table; the rest are counted (the CSV and JSON have them all).
MAX_LIST_ROWS = 1000
# Flagged sections named in the summary.
MAX_FLAGGED = 20
# Largest effects named in the summary.
TOP_EFFECTS = 5


@dataclass(frozen=True, slots=True)
class HtmlOptions:
    store: str  # the database, password masked
    hide: Suppression | None = None
    include_students: bool = False


@dataclass(frozen=True, slots=True)
class Cell:
    """A figure: the field of the JSON it comes from, its exact value, the rounded text."""

    field: str
    value: object
    text: str
    numeric: bool = True

    @property
    def data_v(self) -> str:
        if self.value is None:
            return ""
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        return repr(self.value)


@dataclass(slots=True)
class Row:
    kind: str  # "section" or "group"
    name: str
    group: str | None
    cells: list[Cell]
    flagged: bool = False
    withheld: bool = False
    # Exact values in data-v; the folded rows of a large page carry the rounded text only.
    exact: bool = True


@dataclass(slots=True)
class Chart:
    svg: Markup
    kind: str  # "funnel" or "bars"


@dataclass(slots=True)
class GroupView:
    name: str
    row: Row | None
    sections: list[Row]
    funnel: Chart | None
    bars: list[tuple[str, Chart | None]]
    flagged: bool
    note: str = ""


@dataclass(slots=True)
class ListView:
    title: str
    size_text: str
    columns: list[str]
    rows: list[list[str]]
    more: int
    table_id: str


@dataclass(slots=True)
class Page:
    title: str
    facts: list[tuple[str, Cell]]
    summary: list[str]
    flagged: list[str]
    effects: list[str]
    all_funnel: Chart | None
    groups: list[GroupView]
    folded: list[Row]
    ungrouped: GroupView | None
    lists: list[ListView]
    threshold_text: str = "0.05"


class _Ids:
    """Ids unique within the page, for charts and tables."""

    def __init__(self) -> None:
        self._next = itertools.count(1)

    def new(self, prefix: str) -> str:
        return f"{prefix}{next(self._next)}"


# --- figures as cells ------------------------------------------------------------------------


def _hidden(count: int, hide: Suppression | None) -> bool:
    return hide is not None and hide.hides(count)


def _count_cell(count: int, hide: Suppression | None) -> Cell:
    if _hidden(count, hide):
        assert hide is not None
        return Cell("count", None, hide.label)
    return Cell("count", count, str(count))


def _test_cells(test: SectionTest | GroupTest, hide: Suppression | None) -> list[Cell]:
    if _hidden(test.count, hide):
        assert hide is not None
        return [Cell("mean_gpa", None, "-"), Cell("reason", None, hide.reason, numeric=False)]
    untested = test.z_score is None
    return [
        Cell("mean_gpa", test.mean_gpa, fmt(test.mean_gpa)),
        Cell("difference", test.difference, fmt(test.difference)),
        Cell("effect_size", test.effect_size, fixed(test.effect_size, 2)),
        Cell("z_score", test.z_score, (test.reason or "-") if untested else fmt(test.z_score),
             numeric=not untested),
        Cell("p_value", test.p_value, fmt(test.p_value, 4)),
        Cell("p_adjusted", test.p_adjusted, fmt(test.p_adjusted, 4)),
        Cell("significant_adjusted", test.significant_adjusted,
             _flag_text(test.significant_adjusted), numeric=False),
        Cell("significant", test.significant, _flag_text(test.significant), numeric=False),
    ]  # fmt: skip


def _flag_text(flag: bool | None) -> str:
    return "-" if flag is None else "YES" if flag else "no"


def _flags(test: SectionTest | GroupTest, hide: Suppression | None) -> bool:
    """Flagged, raw or after adjustment, and shown."""
    return (test.significant or bool(test.significant_adjusted)) and not _hidden(test.count, hide)


FOLDED_FIELDS = ("section_count", "count", "mean_gpa", "z_score", "p_value",
                 "significant_adjusted", "significant")  # fmt: skip


def _folded_row(test: GroupTest, hide: Suppression | None) -> Row:
    """A group of the folded table: fewer figures, rounded only (the page stays small)."""
    row = group_row(test, hide)
    row.cells = [cell for cell in row.cells if cell.field in (*FOLDED_FIELDS, "reason")]
    row.exact = False
    return row


def section_row(test: SectionTest, hide: Suppression | None) -> Row:
    return Row(
        "section",
        test.section,
        test.group,
        [_count_cell(test.count, hide), *_test_cells(test, hide)],
        flagged=_flags(test, hide),
        withheld=_hidden(test.count, hide),
    )


def group_row(test: GroupTest, hide: Suppression | None) -> Row:
    withheld = _hidden(test.count, hide)
    shown = None if withheld else test.stddev
    stddev = Cell("stddev", shown, fmt(shown))
    cells = [
        Cell("section_count", len(test.sections), str(len(test.sections))),
        _count_cell(test.count, hide),
        *_test_cells(test, hide),
    ]
    return Row(
        "group",
        test.group,
        None,
        [*cells[:3], stddev, *cells[3:]],
        flagged=_flags(test, hide),
        withheld=withheld,
    )


# --- charts ----------------------------------------------------------------------------------


def _funnel_point(test: SectionTest | GroupTest) -> charts.FunnelPoint:
    from gradestore.results import SectionTest

    name = test.section if isinstance(test, SectionTest) else test.group
    assert test.mean_gpa is not None
    return charts.FunnelPoint(
        name, test.count, test.mean_gpa, test.significant, bool(test.significant_adjusted)
    )


def group_funnel(
    group: GroupTest, tests: Sequence[SectionTest], threshold: float, hide: Suppression | None,
    ids: _Ids,
) -> Chart | None:  # fmt: skip
    """The funnel of a group with two or more sections (those withheld are not drawn)."""
    drawn = [t for t in tests if t.mean_gpa is not None and t.count and not _hidden(t.count, hide)]
    if len(tests) < 2 or not drawn or group.mean_gpa is None or not group.stddev:
        return None
    if _hidden(group.count, hide):
        return None
    funnel = charts.Funnel(
        f"Group {group.group}", group.mean_gpa, group.stddev, threshold,
        [_funnel_point(t) for t in drawn],
    )  # fmt: skip
    return Chart(charts.funnel_svg(funnel, ids.new("chart")), "funnel")


def all_groups_funnel(
    result: AnalysisResult, all_stddev: float | None, hide: Suppression | None, ids: _Ids
) -> Chart | None:
    drawn = [g for g in result.groups if g.mean_gpa is not None and not _hidden(g.count, hide)]
    centre = result.groups[0].against_mean_gpa if result.groups else None
    if len(result.groups) < 2 or not drawn or centre is None or not all_stddev:
        return None
    funnel = charts.Funnel(
        "All groups", centre, all_stddev, result.threshold or 0.05,
        [_funnel_point(g) for g in drawn], what="group",
    )  # fmt: skip
    return Chart(charts.funnel_svg(funnel, ids.new("chart")), "funnel")


def all_groups_stddev(sections: Iterable[SectionTest], scale: GradeScale) -> float | None:
    """The population stddev of 'all' (every counted grade of the grouped sections, each
    section once), from the stored grade counts: the spread the group tests used."""
    seen: set[str] = set()
    total = square = 0.0
    count = 0
    for test in sections:
        if test.group is None or test.section in seen:
            continue
        seen.add(test.section)
        for letter, points in scale.points.items():
            n = test.grade_counts.get(letter, 0)
            count += n
            total += n * points
            square += n * points * points
    if count == 0:
        return None
    mean = total / count
    return max(square / count - mean * mean, 0.0) ** 0.5


def section_bars(
    name: str, grade_counts: dict[str, int], scale: GradeScale, hide: Suppression | None,
    ids: _Ids,
) -> Chart | None:  # fmt: skip
    """A section's bars; none when every count is withheld (an empty chart says nothing)."""
    if hide is not None and all(hide.hides(grade_counts.get(x, 0)) for x in scale.letters):
        return None

    def shown(letter: str) -> tuple[str, int | None]:
        count = grade_counts.get(letter, 0)
        return letter, None if _hidden(count, hide) else count

    bars = charts.Bars(
        f"Section {name}",
        [shown(letter) for letter in scale.counted],
        [shown(letter) for letter in scale.not_counted],
        hide.label if hide is not None else "",
    )
    return Chart(charts.bars_svg(bars, ids.new("chart")), "bars")


# --- the page --------------------------------------------------------------------------------


def analysis_page(result: AnalysisResult, options: HtmlOptions) -> Page:
    """The whole analysis: what stands out, the funnels, every group, the lists."""
    hide, ids = options.hide, _Ids()
    threshold = result.threshold or 0.05
    by_group: dict[str | None, list[SectionTest]] = {}
    for test in result.sections:
        by_group.setdefault(test.group, []).append(test)
    ordered = _groups_flagged_first(result.groups, by_group, hide)
    views = [
        _group_view(group, by_group.get(group.group, []), result.scale, threshold, hide, ids, True)
        for group in ordered[:OPEN_GROUPS]
    ]
    rest = ordered[OPEN_GROUPS:]
    # Folded: one row per group, its sections only by name (each group's own page has them).
    folded = [_folded_row(group, hide) for group in rest]
    ungrouped = by_group.get(None, [])
    return Page(
        title=f"gradestore: analysis {result.analysis_id}",
        facts=_facts(result, options),
        summary=_summary(result, hide),
        flagged=_flagged(result.sections, hide),
        effects=_effects(result.sections, hide),
        all_funnel=all_groups_funnel(
            result, all_groups_stddev(result.sections, result.scale), hide, ids
        ),
        groups=views,
        folded=folded,
        ungrouped=_ungrouped_view(ungrouped, result.scale, hide, ids) if ungrouped else None,
        lists=_lists(result, options, ids),
        threshold_text=fmt(threshold, 3),
    )


def _groups_flagged_first(
    groups: Sequence[GroupTest], by_group: dict[str | None, list[SectionTest]],
    hide: Suppression | None,
) -> list[GroupTest]:  # fmt: skip
    def flagged(group: GroupTest) -> bool:
        tests = by_group.get(group.group, [])
        return _flags(group, hide) or any(_flags(test, hide) for test in tests)

    if len(groups) <= OPEN_GROUPS:
        return list(groups)
    return sorted(groups, key=lambda group: not flagged(group))


def _group_view(
    group: GroupTest, tests: list[SectionTest], scale: GradeScale, threshold: float,
    hide: Suppression | None, ids: _Ids, with_charts: bool,
) -> GroupView:  # fmt: skip
    rows = [section_row(test, hide) for test in tests]
    head = group_row(group, hide)
    return GroupView(
        name=group.group,
        row=head,
        sections=rows,
        funnel=group_funnel(group, tests, threshold, hide, ids) if with_charts else None,
        bars=_bars_of(tests, scale, hide, ids) if with_charts else [],
        flagged=head.flagged or any(row.flagged for row in rows),
        note="" if len(tests) >= 2 else "One section: no funnel plot.",
    )


def _bars_of(
    tests: Sequence[SectionTest], scale: GradeScale, hide: Suppression | None, ids: _Ids
) -> list[tuple[str, Chart | None]]:
    """Each section's bars (none where its counts are withheld)."""
    return [
        (
            test.section,
            None
            if _hidden(test.count, hide)
            else section_bars(test.section, test.grade_counts, scale, hide, ids),
        )
        for test in tests
    ]


def _ungrouped_view(
    tests: list[SectionTest], scale: GradeScale, hide: Suppression | None, ids: _Ids
) -> GroupView:
    return GroupView(
        name="Sections in no group",
        row=None,
        sections=[section_row(test, hide) for test in tests],
        funnel=None,
        bars=_bars_of(tests, scale, hide, ids),
        flagged=False,
        note="In no group: no z-test, no funnel plot.",
    )


def _facts(result: AnalysisResult, options: HtmlOptions) -> list[tuple[str, Cell]]:
    testing = result.testing
    scope = result.scope_kind + (f" {', '.join(result.scope_names)}" if result.scope_names else "")
    facts = [
        ("Analysis", Cell("analysis_id", result.analysis_id, str(result.analysis_id))),
        ("Made", Cell("created_at", None, result.created_at.strftime("%Y-%m-%d %H:%M:%S %Z"),
                      numeric=False)),
        ("Store", Cell("store", None, options.store, numeric=False)),
        ("Scope", Cell("scope", None, scope, numeric=False)),
        ("Threshold (alpha)", Cell("threshold", result.threshold, fmt(result.threshold, 3))),
        ("Method", Cell("method", None, method_text(testing), numeric=False)),
        ("Grade scale", Cell("scale", None, result.scale.name, numeric=False)),
        ("Min counted grades to test", Cell("min_n", testing.min_n, str(testing.min_n))),
        ("Section tests with a p", Cell("tests", testing.tests, fmt(testing.tests))),
        ("Raw flags chance alone gives",
         Cell("expected_false_flags", testing.expected_false_flags,
              fmt(testing.expected_false_flags, 2))),
        ("Over-dispersion phi", Cell("overdispersion", testing.overdispersion,
                                     fmt(testing.overdispersion, 2))),
    ]  # fmt: skip
    if testing.adjust is not None:
        facts.insert(6, ("Adjustment", Cell("adjust", None, ADJUSTMENT_NAMES[testing.adjust],
                                            numeric=False)))  # fmt: skip
    return facts


def method_text(testing: Testing) -> str:
    """The method's name; the page's fact also says what a z-test compares with."""
    name = METHOD_NAMES[testing.method]
    return f"{name} against the group" if testing.method == TestMethod.Z else name


def _summary(result: AnalysisResult, hide: Suppression | None) -> list[str]:
    lines = [
        flags_line(result.testing, result.flags, result.threshold),
        overdispersion_line(result.testing),
    ]
    if hide is not None:
        lines.insert(0, suppression_line(hide))
    return lines


def _flagged(tests: Sequence[SectionTest], hide: Suppression | None) -> list[str]:
    """The flagged sections, adjusted flags first (the first MAX_FLAGGED of them)."""
    flagged = [t for t in tests if _flags(t, hide)]
    more = [f"... and {len(flagged) - MAX_FLAGGED} more"] if len(flagged) > MAX_FLAGGED else []
    return [
        f"{t.section} against {t.group}: mean GPA {fmt(t.mean_gpa)} "
        f"({fmt(t.difference)} points), z {fmt(t.z_score)}, p {fmt(t.p_value, 4)}"
        + (", flagged after adjustment" if t.significant_adjusted else ", by p alone")
        for t in sorted(flagged, key=significant_then_largest_z)[:MAX_FLAGGED]
    ] + more


def _effects(tests: Sequence[SectionTest], hide: Suppression | None) -> list[str]:
    """The largest effects (|d|), whether flagged or not."""
    sized = [t for t in tests if t.effect_size is not None and not _hidden(t.count, hide)]
    sized.sort(key=lambda t: -abs(t.effect_size or 0.0))
    return [
        f"{t.section} against {t.group}: d {fixed(t.effect_size, 2)}, "
        f"{fmt(t.difference)} points, {t.count} counted grades"
        for t in sized[:TOP_EFFECTS]
    ]


def _lists(result: AnalysisResult, options: HtmlOptions, ids: _Ids) -> list[ListView]:
    return [
        list_view(list_title(which, result.scale), students, size, options, ids)
        for which, students, size in (
            ("good", result.good_list, result.good_list_size),
            ("work", result.work_list, result.work_list_size),
        )
    ]


# A list's columns (without whom a row is of; docs/history.md says what the terms mean).
LIST_COLUMNS = ("entries", "sections", "appeared before", "first term listed",
                "earlier terms on work list", "earlier terms on good list")  # fmt: skip
NUMERIC_LIST_COLUMNS = frozenset({"sections", "earlier terms on work list",
                                  "earlier terms on good list"})  # fmt: skip


def list_view(
    title: str, students: Iterable[ListedStudent] | None, size: int, options: HtmlOptions,
    ids: _Ids,
) -> ListView:  # fmt: skip
    """A list's table: no names or ids unless ``include_students``; suppressed: only its size."""
    hide = options.hide
    size_text = str(size) if hide is None else str(hide.count_cell(size))
    if hide is not None:
        return ListView(title, size_text, [], [], 0, ids.new("list"))
    columns = list(LIST_COLUMNS)
    if options.include_students:
        columns = ["student id", "last name", "first name", *columns]
    rows = [
        ([s.student_id, s.last_name, s.first_name] if options.include_students else [])
        + [entries_text(s), str(len(s.entries)), "yes" if s.appeared_before else "no",
           s.first_term_listed or "-", fmt(s.earlier_terms_on_work_list),
           fmt(s.earlier_terms_on_good_list)]
        for s in itertools.islice(students or [], MAX_LIST_ROWS)
    ]  # fmt: skip
    return ListView(title, size_text, columns, rows, max(0, size - len(rows)), ids.new("list"))


def section_page(report: SectionReport, options: HtmlOptions) -> Page:
    hide, ids = options.hide, _Ids()
    rows = [section_row(test, hide) for test in report.tests]
    withheld = _hidden(report.count, hide)
    bars = None if withheld else section_bars(report.section, report.grade_counts, report.scale,
                                              hide, ids)  # fmt: skip
    view = GroupView(f"Section {report.section}", None, rows, None, [(report.section, bars)],
                     any(r.flagged for r in rows))  # fmt: skip
    return Page(
        title=f"gradestore: section {report.section}, analysis {report.analysis_id}",
        facts=[
            ("Analysis", Cell("analysis_id", report.analysis_id, str(report.analysis_id))),
            ("Store", Cell("store", None, options.store, numeric=False)),
            ("Term", Cell("term", None, report.term or "-", numeric=False)),
            ("Method", Cell("method", None, testing_text(report.testing), numeric=False)),
            ("Counted grades", _count_cell(report.count, hide)),
        ],
        summary=[suppression_line(hide)] if hide is not None else [],
        flagged=[], effects=[], all_funnel=None, groups=[view], folded=[], ungrouped=None,
        lists=[
            list_view("Good list", report.good_list, len(report.good_list), options, ids),
            list_view("Work list", report.work_list, len(report.work_list), options, ids),
        ],
    )  # fmt: skip


def group_page(report: GroupReport, options: HtmlOptions) -> Page:
    hide, ids = options.hide, _Ids()
    threshold = report.threshold or 0.05
    view = _group_view(report.group, report.section_tests, report.scale, threshold, hide, ids,
                       True)  # fmt: skip
    return Page(
        title=f"gradestore: group {report.group.group}, analysis {report.analysis_id}",
        facts=[
            ("Analysis", Cell("analysis_id", report.analysis_id, str(report.analysis_id))),
            ("Store", Cell("store", None, options.store, numeric=False)),
            ("Threshold (alpha)", Cell("threshold", threshold, fmt(threshold, 3))),
            ("Method", Cell("method", None, testing_text(report.testing), numeric=False)),
        ],
        summary=[suppression_line(hide)] if hide is not None else [],
        flagged=_flagged(report.section_tests, hide), effects=[], all_funnel=None,
        groups=[view], folded=[], ungrouped=None, lists=[], threshold_text=fmt(threshold, 3),
    )  # fmt: skip


# --- writing ---------------------------------------------------------------------------------


def write_page(page: Page, out: TextIO, options: HtmlOptions) -> None:
    """The page through the template (autoescaped), streamed to ``out``."""
    for chunk in _render(page, options):
        out.write(chunk)


def _render(page: Page, options: HtmlOptions) -> Iterator[str]:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    environment = Environment(
        loader=PackageLoader("gradestore", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = environment.get_template("report.html.j2")
    context: dict[str, Any] = {
        "page": page,
        "hide": options.hide,
        "include_students": options.include_students,
        "open_groups": OPEN_GROUPS,
        "numeric_list_columns": NUMERIC_LIST_COLUMNS,
    }
    return template.generate(context)
