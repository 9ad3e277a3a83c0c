"""Use cases that read stored analyses: every report is a query on the store, never a
recomputation from files. Each opens one read transaction."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from gradestore.errors import NOTHING_STORED, NotFoundError, unknown
from gradestore.grades import DEFAULT_SCALE, GradeScale
from gradestore.jsontypes import JsonObject
from gradestore.kinds import ListKind, TestKind
from gradestore.persistence.db import UnitOfWorkFactory
from gradestore.persistence.ordering import largest_z_first, lowest_z_first
from gradestore.persistence.report_queries import ListFileRow, ReportQueries
from gradestore.persistence.rows import FlagCounts, Testing
from gradestore.results import (
    AnalysisResult,
    GroupTest,
    ListedStudent,
    ListEntry,
    SectionTest,
    analysis_scale,
    iter_list,
    load_analysis,
    load_list,
    load_tests,
    scale_of,
)
from gradestore.scales import current_scale

NOTHING_ANALYSED = "no analysis is stored yet: run `gradestore analyze` first"


def resolve_analysis_id(queries: ReportQueries, analysis_id: int | None) -> int:
    """The analysis asked for, else the latest; a clear error when there is none."""
    if analysis_id is None:
        latest = queries.latest_analysis_id()
        if latest is None:
            raise NotFoundError(NOTHING_ANALYSED if queries.has_grades() else NOTHING_STORED)
        return latest
    # An id no database column can hold is simply not there (SQLite would refuse to bind it).
    if not 0 < analysis_id < 2**63 or queries.analysis(analysis_id) is None:
        known = queries.analysis_ids()
        listed = ", ".join(map(str, known[-10:])) if known else "none"
        raise NotFoundError(f"unknown analysis {analysis_id}; stored analyses: {listed}")
    return analysis_id


@contextmanager
def open_analysis(
    units: UnitOfWorkFactory, analysis_id: int | None = None, *, streamed_tests: bool = False
) -> Iterator[AnalysisResult]:
    """The comprehensive report: everything an analysis stored. Its lists are streamed while
    the block runs (one read transaction), so a report of any size fits in memory;
    ``streamed_tests``: its section tests too, for a writer that reads them once (the JSON:
    :meth:`AnalysisResult.sections_to_write`)."""
    with units(write=False) as unit:
        queries = unit.reports
        analysis_id = resolve_analysis_id(queries, analysis_id)
        result = load_analysis(queries, analysis_id, with_lists=False, streamed=streamed_tests)
        result.good_list = iter_list(queries, analysis_id, ListKind.GOOD)
        result.work_list = iter_list(queries, analysis_id, ListKind.WORK)
        yield result


def analysis_report(units: UnitOfWorkFactory, analysis_id: int | None = None) -> AnalysisResult:
    """The comprehensive report with its lists loaded."""
    with open_analysis(units, analysis_id) as result:
        result.good_list = list(result.good_list or [])
        result.work_list = list(result.work_list or [])
        return result


@dataclass(frozen=True, slots=True)
class ZScoreRow:
    """One stored z-test: a section against a group, or a group against all groups."""

    kind: TestKind
    name: str
    against: str | None  # None: a z-score written through the seed's API, against no group
    count: int
    mean_gpa: float | None
    z_score: float | None
    p_value: float | None
    significant: bool
    effect_size: float | None = None
    p_adjusted: float | None = None
    significant_adjusted: bool | None = None
    reason: str | None = None
    difference: float | None = None

    @classmethod
    def of(cls, kind: TestKind, test: SectionTest | GroupTest, against: str | None) -> ZScoreRow:
        name = test.section if isinstance(test, SectionTest) else test.group
        return cls(
            kind, name, against, test.count, test.mean_gpa, test.z_score, test.p_value,
            test.significant, test.effect_size, test.p_adjusted, test.significant_adjusted,
            test.reason, test.difference,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class ZScoreListing:
    analysis_id: int
    threshold: float | None
    rows: list[ZScoreRow]
    testing: Testing = field(default_factory=Testing)
    flags: FlagCounts = field(default_factory=FlagCounts)

    def as_json(self) -> JsonObject:
        return {
            "analysis_id": self.analysis_id,
            "threshold": self.threshold,
            "method": self.testing.method,
            "adjust": self.testing.adjust,
            "tests": [
                {
                    "kind": row.kind,
                    "name": row.name,
                    "against": row.against,
                    "count": row.count,
                    "mean_gpa": row.mean_gpa,
                    "z_score": row.z_score,
                    "p_value": row.p_value,
                    "significant": row.significant,
                    "effect_size": row.effect_size,
                    "p_adjusted": row.p_adjusted,
                    "significant_adjusted": row.significant_adjusted,
                    "no_test_reason": row.reason,
                }
                for row in self.rows
            ],
        }


ALL_GROUPS = "all groups"


def zscore_listing(
    units: UnitOfWorkFactory,
    *,
    section: str | None = None,
    group: str | None = None,
    analysis_id: int | None = None,
) -> ZScoreListing:
    """The stored z-tests of an analysis (the latest by default), sorted by |z|."""
    with units(write=False) as unit:
        queries = unit.reports
        analysis_id = resolve_analysis_id(queries, analysis_id)
        analysis = queries.analysis(analysis_id)
        assert analysis is not None
        threshold = analysis.threshold
        if section is not None:
            _check_section(queries, analysis_id, section)
        if group is not None:
            _check_group(queries, analysis_id, group)
        sections, groups = load_tests(queries, analysis_id, section=section, group=group)
        flags = queries.flag_counts(analysis_id)
    rows = [
        ZScoreRow.of(TestKind.SECTION, test, test.group)
        for test in sections
        # A z-score without a group is the seed's API's (a section in no group has no z).
        if (test.group is not None or test.z_score is not None)
        and (group is None or test.group == group)
    ]
    rows += [ZScoreRow.of(TestKind.GROUP, test, ALL_GROUPS) for test in groups]
    return ZScoreListing(
        analysis_id, threshold, sorted(rows, key=largest_z_first), analysis.testing, flags
    )


def _check_section(queries: ReportQueries, analysis_id: int, section: str) -> list[SectionTest]:
    """The section's tests; an unknown name, or one the analysis did not cover, is an error
    naming close matches."""
    tests, _ = load_tests(queries, analysis_id, section=section)
    if tests:
        return tests
    names = queries.section_names()
    if section in names:
        raise NotFoundError(
            f"section {section!r} is not in analysis {analysis_id}"
            + _elsewhere(queries.analyses_covering(section=section))
        )
    raise NotFoundError(unknown("section", section, names))


def _check_group(
    queries: ReportQueries, analysis_id: int, group: str
) -> tuple[list[SectionTest], GroupTest]:
    """The group's section tests and its own test; an unknown name, or one the analysis did
    not cover, is an error naming close matches."""
    sections, groups = load_tests(queries, analysis_id, group=group)
    if groups:
        return sections, groups[0]
    names = queries.group_names()
    if group in names:
        raise NotFoundError(
            f"group {group!r} is not in analysis {analysis_id}"
            + _elsewhere(queries.analyses_covering(group=group))
        )
    raise NotFoundError(unknown("group", group, names))


def _elsewhere(analysis_ids: list[int]) -> str:
    if not analysis_ids:
        return " (run `gradestore analyze` to include it)"
    shown = ", ".join(map(str, analysis_ids[-5:]))
    return f"; it is in analyses {shown}: use --analysis ID"


# --- section, group, student and list reports -----------------------------------------------


@dataclass(frozen=True, slots=True)
class SectionReport:
    analysis_id: int
    section: str
    term: str | None
    credit_hours: float | None
    count: int
    mean_gpa: float | None
    grade_counts: dict[str, int]
    tests: list[SectionTest]
    good_list: list[ListedStudent]
    work_list: list[ListedStudent]
    scale: GradeScale  # the analysis': its letters are the grade counts' columns
    testing: Testing = field(default_factory=Testing)

    def as_json(self) -> JsonObject:
        return {
            "analysis_id": self.analysis_id,
            "method": self.testing.method,
            "adjust": self.testing.adjust,
            "section": self.section,
            "term": self.term,
            "credit_hours": self.credit_hours,
            "count": self.count,
            "mean_gpa": self.mean_gpa,
            "grade_counts": self.grade_counts,
            "tests": [
                {
                    "group": test.group,
                    "z_score": test.z_score,
                    "p_value": test.p_value,
                    "significant": test.significant,
                    "effect_size": test.effect_size,
                    "p_adjusted": test.p_adjusted,
                    "significant_adjusted": test.significant_adjusted,
                    "no_test_reason": test.reason,
                }
                for test in self.tests
                if test.group is not None
            ],
            "good_list": [student.as_json() for student in self.good_list],
            "work_list": [student.as_json() for student in self.work_list],
        }


def section_report(
    units: UnitOfWorkFactory, section: str, analysis_id: int | None = None
) -> SectionReport:
    with units(write=False) as unit:
        queries = unit.reports
        analysis_id = resolve_analysis_id(queries, analysis_id)
        tests = _check_section(queries, analysis_id, section)
        info = queries.section_info(section)
        assert info is not None
        good = load_list(queries, analysis_id, ListKind.GOOD, section=section)
        work = load_list(queries, analysis_id, ListKind.WORK, section=section)
        analysis = queries.analysis(analysis_id)
        assert analysis is not None
    first = tests[0]
    return SectionReport(
        analysis_id=analysis_id,
        section=section,
        term=info.term,
        credit_hours=info.credit_hours,
        count=first.count,
        mean_gpa=first.mean_gpa,
        grade_counts=first.grade_counts,
        tests=tests,
        good_list=good,
        work_list=work,
        scale=scale_of(analysis),
        testing=analysis.testing,
    )


@dataclass(frozen=True, slots=True)
class GroupReport:
    analysis_id: int
    group: GroupTest
    section_tests: list[SectionTest]
    testing: Testing = field(default_factory=Testing)
    # The analysis' threshold and scale (for the HTML report's limits and bars).
    threshold: float | None = None
    scale: GradeScale = field(default_factory=lambda: DEFAULT_SCALE)

    def as_json(self) -> JsonObject:
        return {
            "analysis_id": self.analysis_id,
            "method": self.testing.method,
            "adjust": self.testing.adjust,
            **self.group.as_json(),
            "section_tests": [test.as_json() for test in self.section_tests],
        }


def group_report(
    units: UnitOfWorkFactory, group: str, analysis_id: int | None = None
) -> GroupReport:
    """A group's pooled statistics, its test against all groups, its sections by z."""
    with units(write=False) as unit:
        queries = unit.reports
        analysis_id = resolve_analysis_id(queries, analysis_id)
        tests, group_test = _check_group(queries, analysis_id, group)
        analysis = queries.analysis(analysis_id)
        assert analysis is not None
    tests.sort(key=lowest_z_first)
    return GroupReport(
        analysis_id, group_test, tests, analysis.testing, analysis.threshold, scale_of(analysis)
    )


@dataclass(frozen=True, slots=True)
class StudentGrade:
    section: str
    term: str | None
    grade: str
    points: float | None


@dataclass(frozen=True, slots=True)
class StudentListEntry:
    analysis_id: int
    created_at: datetime
    list: ListKind
    section: str
    grade: str


@dataclass(frozen=True, slots=True)
class StudentReport:
    student_id: str
    first_name: str
    last_name: str
    grades: list[StudentGrade]
    lists: list[StudentListEntry]
    earlier_lists: list[ListEntry]

    def as_json(self) -> JsonObject:
        return {
            "student_id": self.student_id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "grades": [
                {"section": g.section, "term": g.term, "grade": g.grade, "points": g.points}
                for g in self.grades
            ],
            "lists": [
                {
                    "analysis_id": entry.analysis_id,
                    "created_at": entry.created_at.isoformat(),
                    "list": entry.list,
                    "section": entry.section,
                    "grade": entry.grade,
                }
                for entry in self.lists
            ],
            "earlier_lists": [
                {"section": entry.section, "grade": entry.grade} for entry in self.earlier_lists
            ],
        }


def student_report(units: UnitOfWorkFactory, student_id: str) -> StudentReport:
    """Every stored grade of a student and every list they were on, in every analysis."""
    with units(write=False) as unit:
        queries = unit.reports
        student = queries.student(student_id)
        if student is None:
            if not queries.has_grades():
                raise NotFoundError(NOTHING_STORED)
            raise NotFoundError(unknown("student", student_id, queries.student_ids()))
        # Points under the store's scale as it is now: the grades are the store's, not an
        # analysis' (each list entry below belongs to an analysis with its own scale).
        scale = current_scale(unit)
        grades = queries.student_grades(student.student_pk)
        history = queries.student_list_history(student.student_pk)
        earlier = queries.student_earlier_lists(student.student_pk)
    return StudentReport(
        student_id=student.student_id,
        first_name=student.first_name,
        last_name=student.last_name,
        grades=[
            StudentGrade(row.section, row.term, row.grade, scale.points_of(row.grade))
            for row in grades
        ],
        lists=[
            StudentListEntry(
                row.analysis_id,
                row.created_at,
                row.list,
                row.section,
                row.grade,
            )
            for row in history
        ],
        earlier_lists=[ListEntry(row.section, row.grade) for row in earlier],
    )


@dataclass(slots=True)
class ListReport:
    analysis_id: int
    list: ListKind
    size: int
    students: Iterable[ListedStudent]  # streamed while the report is open
    scale: GradeScale  # the analysis': which letters the list holds


@contextmanager
def open_list(
    units: UnitOfWorkFactory, which: ListKind, analysis_id: int | None = None
) -> Iterator[ListReport]:
    """The good or the work list of an analysis: students, their entries, appeared_before;
    streamed while the block runs."""
    kind = ListKind(which)
    with units(write=False) as unit:
        queries = unit.reports
        analysis_id = resolve_analysis_id(queries, analysis_id)
        size = queries.list_sizes(analysis_id).of(kind)
        yield ListReport(
            analysis_id,
            kind,
            size,
            iter_list(queries, analysis_id, kind, repeat_first=kind is ListKind.WORK),
            analysis_scale(queries, analysis_id),
        )


@contextmanager
def open_list_rows(
    units: UnitOfWorkFactory, which: ListKind, analysis_id: int | None = None
) -> Iterator[Iterator[ListFileRow]]:
    """A list as a .lst file holds it: (student id, first name, last name, section, grade) in
    :func:`open_list`'s order, streamed while the block runs; no sizes, no history by term."""
    kind = ListKind(which)
    with units(write=False) as unit:
        queries = unit.reports
        analysis_id = resolve_analysis_id(queries, analysis_id)
        yield queries.list_file_rows(analysis_id, kind, repeat_first=kind is ListKind.WORK)
