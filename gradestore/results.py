"""What an analysis is, as users see it (design.md section 4), built from the stored rows.

``analyze`` and ``report`` both build their output here from what the store holds, so the two
always agree.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from gradestore.grades import GradeScale, stored_scale
from gradestore.jsontypes import JsonObject
from gradestore.kinds import ListKind, ScopeKind
from gradestore.persistence.rows import FlagCounts, ListSizes, Testing
from gradestore.stats import IN_NO_GROUP

# Tests a summary (and a screen) holds when an analysis has more: significant, largest |z| first.
LEADING_TESTS = 60

if TYPE_CHECKING:
    from gradestore.persistence.report_queries import ListRow, ReportQueries, SectionTestTuple
    from gradestore.persistence.rows import AnalysisRow, GroupTestRow, SectionTestRow


@dataclass(frozen=True, slots=True)
class SectionTest:
    """A section's statistics and its z-test against one group (group None: in no group)."""

    section: str
    group: str | None
    count: int
    mean_gpa: float | None
    grade_counts: dict[str, int]
    z_score: float | None
    p_value: float | None
    significant: bool
    # Beside the seed's z, p and significant (docs/statistics.md); null for analyses stored
    # before these figures existed. ``no_test_reason`` says why z and p are null.
    p_adjusted: float | None = None
    significant_adjusted: bool | None = None
    effect_size: float | None = None
    no_test_reason: str | None = None
    # The group's mean GPA (for the difference in points); None in no group.
    against_mean_gpa: float | None = None

    @classmethod
    def from_row(cls, row: SectionTestRow) -> SectionTest:
        return cls(
            section=row.section,
            group=row.group,
            count=row.count,
            mean_gpa=row.mean_gpa,
            grade_counts=row.grade_counts,
            z_score=row.z_score,
            p_value=row.p_value,
            significant=row.significant,
            p_adjusted=row.p_adjusted,
            significant_adjusted=row.significant_adjusted,
            effect_size=row.effect_size,
            no_test_reason=row.no_test_reason,
            against_mean_gpa=row.against_mean_gpa,
        )

    @property
    def reason(self) -> str | None:
        """Why there is no test: the stored reason, or that the section is in no group."""
        return IN_NO_GROUP if self.group is None and self.z_score is None else self.no_test_reason

    def as_json(self) -> JsonObject:
        return {
            "section": self.section,
            "group": self.group,
            "count": self.count,
            "mean_gpa": self.mean_gpa,
            "grade_counts": self.grade_counts,
            "z_score": self.z_score,
            "p_value": self.p_value,
            "significant": self.significant,
            **_figures_json(self),
        }

    @property
    def difference(self) -> float | None:
        """The section's mean GPA minus its group's, in grade points."""
        return _difference(self.mean_gpa, self.against_mean_gpa)


class StreamedTests:
    """Every section test of an analysis, streamed from the open transaction and read once:
    as :class:`SectionTest` objects, or as the stored tuples (``rows``) for a writer that
    needs no object per test (the JSON: :func:`gradestore.render.section_test_json`)."""

    __slots__ = ("rows",)

    def __init__(self, rows: Iterator[SectionTestTuple]) -> None:
        self.rows = rows

    def __iter__(self) -> Iterator[SectionTest]:
        return map(stored_section_test, self.rows)


def stored_section_test(row: SectionTestTuple) -> SectionTest:
    """A section test from its stored tuple (:meth:`ReportQueries.section_test_tuples`)."""
    from gradestore.persistence.sql import json_value

    (section, group, count, mean_gpa, grade_counts, z_score, p_value, significant,
     p_adjusted, significant_adjusted, effect_size, no_test_reason, against) = row  # fmt: skip
    return SectionTest(
        section=section,
        group=group,
        count=count,
        mean_gpa=mean_gpa,
        grade_counts=json_value(grade_counts),
        z_score=z_score,
        p_value=p_value,
        significant=bool(significant),
        p_adjusted=p_adjusted,
        significant_adjusted=None if significant_adjusted is None else bool(significant_adjusted),
        effect_size=effect_size,
        no_test_reason=no_test_reason,
        against_mean_gpa=against,
    )


@dataclass(frozen=True, slots=True)
class GroupTest:
    """A group's pooled statistics and its z-test against all groups of the analysis."""

    group: str
    sections: list[str]
    count: int
    mean_gpa: float | None
    stddev: float | None
    z_score: float | None
    p_value: float | None
    significant: bool
    # Beside the seed's z, p and significant (docs/statistics.md); null for analyses stored
    # before these figures existed. ``no_test_reason`` says why z and p are null.
    p_adjusted: float | None = None
    significant_adjusted: bool | None = None
    effect_size: float | None = None
    no_test_reason: str | None = None
    # The mean GPA of all groups of the analysis (for the difference in points).
    against_mean_gpa: float | None = None

    @classmethod
    def from_row(
        cls, row: GroupTestRow, sections: list[str], all_mean_gpa: float | None
    ) -> GroupTest:
        return cls(
            group=row.group,
            sections=sections,
            count=row.count,
            mean_gpa=row.mean_gpa,
            stddev=row.stddev,
            z_score=row.z_score,
            p_value=row.p_value,
            significant=row.significant,
            p_adjusted=row.p_adjusted,
            significant_adjusted=row.significant_adjusted,
            effect_size=row.effect_size,
            no_test_reason=row.no_test_reason,
            against_mean_gpa=all_mean_gpa,
        )

    @property
    def reason(self) -> str | None:
        return self.no_test_reason

    def as_json(self) -> JsonObject:
        return {
            "group": self.group,
            "sections": self.sections,
            "count": self.count,
            "mean_gpa": self.mean_gpa,
            "stddev": self.stddev,
            "z_score": self.z_score,
            "p_value": self.p_value,
            "significant": self.significant,
            **_figures_json(self),
        }

    @property
    def difference(self) -> float | None:
        """The group's mean GPA minus that of all groups, in grade points."""
        return _difference(self.mean_gpa, self.against_mean_gpa)


def _difference(mean: float | None, against: float | None) -> float | None:
    return None if mean is None or against is None else mean - against


@dataclass(frozen=True, slots=True)
class ListEntry:
    section: str
    grade: str


@dataclass(slots=True)
class ListedStudent:
    student_id: str
    first_name: str
    last_name: str
    entries: list[ListEntry] = field(default_factory=list)
    appeared_before: bool = False
    # History by term (docs/history.md): distinct terms earlier than the latest term of these
    # entries in which the student had a grade of each list, and the first term in which they
    # had a grade of this list. None in analyses stored before history by term.
    earlier_terms_on_work_list: int | None = None
    earlier_terms_on_good_list: int | None = None
    first_term_listed: str | None = None

    @property
    def terms_on_work_list(self) -> int | None:
        """On the work list: the terms the student was on it, this one included (the risk)."""
        work = self.earlier_terms_on_work_list
        return None if work is None else work + 1

    def as_json(self) -> JsonObject:
        return {
            "student_id": self.student_id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "entries": [{"section": entry.section, "grade": entry.grade} for entry in self.entries],
            "appeared_before": self.appeared_before,
            "earlier_terms_on_work_list": self.earlier_terms_on_work_list,
            "earlier_terms_on_good_list": self.earlier_terms_on_good_list,
            "first_term_listed": self.first_term_listed,
        }


class StoredList:
    """A stored list, streamed from the open transaction and read once: as
    :class:`ListedStudent` objects with their entries, or as the rows the query gives
    (``rows``: a student's rows one after another, in list order) for a writer that needs no
    object per student (the JSON: :func:`gradestore.render.list_json_texts`)."""

    __slots__ = ("rows",)

    def __init__(self, rows: Iterator[ListRow]) -> None:
        self.rows = rows

    def __iter__(self) -> Iterator[ListedStudent]:
        student: ListedStudent | None = None
        for (
            student_id,
            first,
            last,
            section,
            grade,
            appeared_before,
            work,
            good,
            first_term,
        ) in self.rows:
            if student is None or student_id != student.student_id:
                if student is not None:
                    yield student
                student = ListedStudent(
                    student_id=student_id,
                    first_name=first,
                    last_name=last,
                    earlier_terms_on_work_list=work,
                    earlier_terms_on_good_list=good,
                    first_term_listed=first_term,
                )
            student.entries.append(ListEntry(section=section, grade=grade))
            student.appeared_before = student.appeared_before or bool(appeared_before)
        if student is not None:
            yield student


@dataclass(slots=True)
class AnalysisResult:
    analysis_id: int
    created_at: datetime
    threshold: float | None
    scope_kind: ScopeKind
    scope_names: list[str]
    # The scale the analysis used: its letters, their order and the lists' letters.
    scale: GradeScale
    sections: list[SectionTest]
    groups: list[GroupTest]
    # Lists, when loaded: a list, or an iterator streamed from an open transaction.
    good_list: Iterable[ListedStudent] | None
    work_list: Iterable[ListedStudent] | None
    # Distinct students on each list: read, or a query that reads them when first asked
    # (:func:`load_analysis` with ``streamed``, within its transaction: the JSON of the lists
    # in full shows no sizes, and counting them was 0.4 s of it at 1M).
    list_sizes: ListSizes | Callable[[], ListSizes]
    # The terms the scope was narrowed to (`analyze --term`); empty: none.
    scope_terms: list[str] = field(default_factory=list)
    # All tests of the analysis; ``sections`` and ``groups`` may hold only the leading ones.
    section_test_count: int = 0
    group_test_count: int = 0
    # How it tested, and its own figures (docs/statistics.md).
    testing: Testing = field(default_factory=Testing)
    # Section tests flagged, raw and after adjustment (all of them, shown or not).
    flags: FlagCounts = field(default_factory=FlagCounts)
    # Every section test streamed from an open transaction, for a writer that reads them once
    # (the JSON); ``sections`` is then empty (see :func:`stream_tests`).
    streamed_sections: StreamedTests | None = None

    @property
    def good_list_size(self) -> int:
        return self._sizes().good

    @property
    def work_list_size(self) -> int:
        return self._sizes().work

    def _sizes(self) -> ListSizes:
        if not isinstance(self.list_sizes, ListSizes):
            self.list_sizes = self.list_sizes()
        return self.list_sizes

    def sections_to_write(self) -> Iterable[SectionTest]:
        """The section tests, streamed or held."""
        return self.sections if self.streamed_sections is None else self.streamed_sections

    def heading_json(self) -> JsonObject:
        testing = self.testing
        return {
            "analysis_id": self.analysis_id,
            "created_at": self.created_at.isoformat(),
            "threshold": self.threshold,
            "scope": {
                "kind": self.scope_kind,
                "names": self.scope_names,
                "terms": self.scope_terms,
            },
            "method": testing.method,
            "adjust": testing.adjust,
            "min_n": testing.min_n,
            "overdispersion": testing.overdispersion,
            "tests": testing.tests,
            "expected_false_flags": testing.expected_false_flags,
            "scale": self.scale.as_json(),
        }

    def as_json(self) -> JsonObject:
        """The JSON of design.md section 4 (plus the scope)."""
        return {
            **self.heading_json(),
            "sections": [test.as_json() for test in self.sections],
            "groups": [test.as_json() for test in self.groups],
            "good_list": [student.as_json() for student in self.good_list or []],
            "work_list": [student.as_json() for student in self.work_list or []],
        }


def _figures_json(test: SectionTest | GroupTest) -> JsonObject:
    return {
        "effect_size": test.effect_size,
        "p_adjusted": test.p_adjusted,
        "significant_adjusted": test.significant_adjusted,
        "no_test_reason": test.reason,
    }


def load_tests(
    queries: ReportQueries,
    analysis_id: int,
    *,
    section: str | None = None,
    group: str | None = None,
) -> tuple[list[SectionTest], list[GroupTest]]:
    """The stored tests of an analysis: all, or one section's, or one group's."""
    group_sections: dict[str, list[str]] = {}
    sections: list[SectionTest] = []
    for row in queries.section_tests(analysis_id, section=section, group=group):
        sections.append(SectionTest.from_row(row))
        if row.group is not None:
            group_sections.setdefault(row.group, []).append(row.section)
    if section is not None:
        return sections, []
    all_mean = queries.all_groups_mean(analysis_id)
    groups = [
        GroupTest.from_row(row, sorted(group_sections.get(row.group, [])), all_mean)
        for row in queries.group_tests(analysis_id, group=group)
    ]
    return sections, groups


def stream_tests(queries: ReportQueries, analysis_id: int) -> tuple[StreamedTests, list[GroupTest]]:
    """:func:`load_tests` of a whole analysis with its section tests streamed from the open
    transaction: held whole, the 188,000 tests of a 5M-grade analysis doubled the memory of
    its JSON. The groups' sections come from a query of their own."""
    members = queries.every_group_section_names(analysis_id)
    all_mean = queries.all_groups_mean(analysis_id)
    groups = [
        GroupTest.from_row(row, members.get(row.group, []), all_mean)
        for row in queries.group_tests(analysis_id)
    ]
    return StreamedTests(queries.section_test_tuples(analysis_id)), groups


def _leading_tests(
    queries: ReportQueries, analysis_id: int, top: int
) -> tuple[list[SectionTest], list[GroupTest]]:
    """At most ``top`` section tests and group tests, significant and largest |z| first."""
    sections = [SectionTest.from_row(row) for row in queries.section_tests(analysis_id, top=top)]
    group_rows = queries.group_tests(analysis_id, top=top)
    members = queries.group_section_names(analysis_id, [row.group for row in group_rows])
    all_mean = queries.all_groups_mean(analysis_id)
    groups = [GroupTest.from_row(row, members[row.group], all_mean) for row in group_rows]
    return sections, groups


def load_analysis(
    queries: ReportQueries,
    analysis_id: int,
    *,
    with_lists: bool,
    top: int | None = None,
    streamed: bool = False,
) -> AnalysisResult:
    """An analysis as stored; the lists are left out (only their sizes) unless asked for.

    ``top``: only that many section tests and group tests, significant and largest |z| first,
    when there are more (for a screen; the counts say how many there are). ``streamed``: the
    section tests as :func:`stream_tests` gives them, for one pass, and the lists' sizes read
    only if asked for, in the same transaction.
    """
    analysis = queries.analysis(analysis_id)
    assert analysis is not None
    counted = queries.test_counts(analysis_id)
    streamed_sections: StreamedTests | None = None
    if streamed:
        sections: list[SectionTest] = []
        streamed_sections, groups = stream_tests(queries, analysis_id)
    elif top is not None and max(counted) > top:
        sections, groups = _leading_tests(queries, analysis_id, top)
    else:
        sections, groups = load_tests(queries, analysis_id)
    sizes: ListSizes | Callable[[], ListSizes] = (
        functools.partial(queries.list_sizes, analysis_id)
        if streamed
        else queries.list_sizes(analysis_id)
    )
    return AnalysisResult(
        analysis_id=analysis_id,
        created_at=analysis.created_at,
        threshold=analysis.threshold,
        scope_kind=analysis.scope_kind,
        scope_names=analysis.scope_names,
        scope_terms=list(analysis.scope_terms),
        scale=scale_of(analysis),
        sections=sections,
        groups=groups,
        good_list=load_list(queries, analysis_id, ListKind.GOOD) if with_lists else None,
        work_list=load_list(queries, analysis_id, ListKind.WORK) if with_lists else None,
        list_sizes=sizes,
        section_test_count=counted.sections,
        group_test_count=counted.groups,
        testing=analysis.testing,
        flags=queries.flag_counts(analysis_id),
        streamed_sections=streamed_sections,
    )


def scale_of(analysis: AnalysisRow) -> GradeScale:
    """The scale a stored analysis used (none recorded: the default, the only one then)."""
    return stored_scale(analysis.scale, f"the grade scale of analysis {analysis.id}")


def analysis_scale(queries: ReportQueries, analysis_id: int) -> GradeScale:
    analysis = queries.analysis(analysis_id)
    assert analysis is not None
    return scale_of(analysis)


def iter_list(
    queries: ReportQueries,
    analysis_id: int,
    kind: ListKind,
    *,
    section: str | None = None,
    repeat_first: bool = False,
) -> StoredList:
    """A stored list, one student at a time with their (section, grade) entries, streamed from
    the database (a million-grade store has lists of hundreds of thousands of students);
    ``repeat_first``: students on the work list in most earlier terms first."""
    return StoredList(
        queries.list_rows(analysis_id, kind, section=section, repeat_first=repeat_first)
    )


def load_list(
    queries: ReportQueries,
    analysis_id: int,
    kind: ListKind,
    *,
    section: str | None = None,
) -> list[ListedStudent]:
    return list(iter_list(queries, analysis_id, kind, section=section))
