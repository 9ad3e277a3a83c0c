"""The read side: stored analyses, their tests and lists, sections and students, as reports and
``analyze`` read them back. Nothing here writes. Orders of tests: persistence/ordering.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TypedDict, cast

from sqlalchemy import JSON, Row, bindparam, text
from sqlalchemy.util.typing import TupleAny

from gradestore.kinds import Adjustment, ListKind, ScopeKind, TestMethod
from gradestore.persistence.ordering import significant_then_largest_z_sql
from gradestore.persistence.rows import (
    AnalysisRow,
    CountedTests,
    EarlierListRow,
    FlagCounts,
    GroupTestRow,
    ListSizes,
    SectionInfo,
    SectionTestRow,
    StudentGradeRow,
    StudentListRow,
    StudentPk,
    StudentRow,
    TermCountRow,
    Testing,
)
from gradestore.persistence.sql import TEST_FIGURES, SqlStore, json_value
from gradestore.persistence.types import UTCDateTime

# Rows of one list are read in this order: student by name, then section.
LIST_ORDER = "st.lname, st.fname, st.student_id, sec.name"
# A row of a list as a .lst file holds it: student id, first name, last name, section, grade.
ListFileRow = tuple[str, str, str, str, str]
# A row of a list (one student's entry): a ListFileRow, then appeared before (a stored
# boolean: may come back as 0 or 1), the student's history by term (docs/history.md; None in
# analyses stored before it): earlier terms on the work and on the good list, first term listed.
ListRow = tuple[str, str, str, str, str, bool | int, int | None, int | None, str | None]
# A group test as stored: group, count, mean GPA, stddev, z, p, significant, TEST_FIGURES'.
_GroupTestTuple = tuple[
    str, int, float | None, float | None, float | None, float | None, bool | int,
    float | None, bool | int | None, float | None, str | None,
]  # fmt: skip
# A section test as stored: section, group (None: in no group), count, mean GPA, grade counts
# (the stored JSON text), z, p, significant (0/1 or a boolean), then TEST_FIGURES' columns,
# then the group's mean GPA.
SectionTestTuple = tuple[
    str, str | None, int, float | None, str, float | None, float | None, bool | int,
    float | None, bool | int | None, float | None, str | None, float | None,
]  # fmt: skip


class ReportQueries(SqlStore):
    # --- analyses -----------------------------------------------------------------------------

    def latest_analysis_id(self) -> int | None:
        """The newest analysis made by `gradestore analyze` (not the seed API's collection)."""
        latest: int | None = self._execute(
            "SELECT id FROM analyses WHERE scope_kind <> :service"
            " ORDER BY created_at DESC, id DESC LIMIT 1",
            {"service": ScopeKind.SERVICE},
        ).scalar()
        return latest

    def analysis_ids(self) -> list[int]:
        return list(self._execute("SELECT id FROM analyses ORDER BY id").scalars())

    def analysis(self, analysis_id: int) -> AnalysisRow | None:
        row = self.connection.execute(
            text(
                "SELECT id, created_at, threshold, scope_kind, scope_names, method, adjust,"
                " min_n, overdispersion, tests, expected_false_flags, scale, scope_terms"
                " FROM analyses WHERE id = :analysis"
            ).columns(
                created_at=UTCDateTime(), scope_names=JSON(), scale=JSON(), scope_terms=JSON()
            ),
            {"analysis": analysis_id},
        ).first()
        if row is None:
            return None
        return AnalysisRow(
            id=row.id,
            created_at=row.created_at,
            threshold=row.threshold,
            scope_kind=ScopeKind(row.scope_kind),
            scope_names=list(row.scope_names or []),
            testing=Testing(
                method=TestMethod(row.method),
                adjust=Adjustment(row.adjust) if row.adjust is not None else None,
                min_n=row.min_n,
                overdispersion=row.overdispersion,
                tests=row.tests,
                expected_false_flags=row.expected_false_flags,
            ),
            scale=row.scale,
            scope_terms=tuple(row.scope_terms or ()),
        )

    def section_tests(
        self,
        analysis_id: int,
        *,
        section: str | None = None,
        group: str | None = None,
        top: int | None = None,
    ) -> list[SectionTestRow]:
        """One row per (section, group) test of the analysis; group None for a section in none.

        ``section`` or ``group`` keep that section's or that group's tests only; ``top`` keeps
        the significant ones and the largest |z| first, at most that many.
        """
        return list(self.iter_section_tests(analysis_id, section=section, group=group, top=top))

    def iter_section_tests(
        self,
        analysis_id: int,
        *,
        section: str | None = None,
        group: str | None = None,
        top: int | None = None,
    ) -> Iterator[SectionTestRow]:
        """:meth:`section_tests` a row at a time, from the open transaction (an analysis of
        5M grades has 188,000 of them)."""
        only = " AND sec.name = :section" if section is not None else ""
        order = "sec.name, g.name"
        if top is not None:
            order = significant_then_largest_z_sql("z") + " LIMIT :top"
        if group is not None:
            only += " AND g.name = :group"
        rows = self._execute(
            "SELECT sec.name, g.name, a.count, a.mean_gpa, a.grade_counts,"
            f" z.z_score, z.p_value, z.significant, {_figures('z')}, ag.mean_gpa"
            f"{_section_tests_from(group)} LEFT JOIN analysis_groups ag"
            " ON ag.analysis_id = a.analysis_id AND ag.group_id = z.group_id"
            f" WHERE a.analysis_id = :analysis{only} ORDER BY {order}",
            {"analysis": analysis_id, "section": section, "group": group, "top": top},
        )
        return (_section_test_row(row) for row in rows)

    def section_test_tuples(self, analysis_id: int) -> Iterator[SectionTestTuple]:
        """Every section test of the analysis as :meth:`iter_section_tests` orders them, as
        plain tuples from the driver's cursor a block at a time (a server-side cursor on
        PostgreSQL), the grade counts as their stored JSON text: for a writer that reads them
        once (the JSON), without an object per test."""
        counts = "CAST(a.grade_counts AS TEXT)" if self.is_postgres else "a.grade_counts"
        sql = (
            f"SELECT sec.name, g.name, a.count, a.mean_gpa, {counts},"
            f" z.z_score, z.p_value, z.significant, {_figures('z')}, ag.mean_gpa"
            f"{_section_tests_from(None)} LEFT JOIN analysis_groups ag"
            " ON ag.analysis_id = a.analysis_id AND ag.group_id = z.group_id"
            " WHERE a.analysis_id = ? ORDER BY sec.name, g.name"
        )
        return cast("Iterator[SectionTestTuple]", self._driver_stream(sql, (analysis_id,)))

    def group_tests(
        self, analysis_id: int, *, group: str | None = None, top: int | None = None
    ) -> list[GroupTestRow]:
        only = " AND g.name = ?" if group is not None else ""
        order = "g.name" if top is None else significant_then_largest_z_sql("a") + " LIMIT ?"
        params = (
            analysis_id,
            *(() if group is None else (group,)),
            *(() if top is None else (top,)),
        )
        # Through the driver's cursor: an analysis of 1M grades has 7,500 group tests.
        rows = self._driver_rows(
            "SELECT g.name, a.count, a.mean_gpa, a.stddev, a.z_score, a.p_value, a.significant,"
            f" {_figures('a')} FROM analysis_groups a JOIN groups g ON g.id = a.group_id"
            f" WHERE a.analysis_id = ?{only} ORDER BY {order}",
            params,
        )
        return [
            GroupTestRow(
                group=row[0],
                count=row[1],
                mean_gpa=row[2],
                stddev=row[3],
                z_score=row[4],
                p_value=row[5],
                significant=bool(row[6]),
                **_figures_of(row[7:11]),
            )
            for row in cast("list[_GroupTestTuple]", rows)
        ]

    def all_groups_mean(self, analysis_id: int) -> float | None:
        """The mean GPA of 'all' (every counted grade of the analysis' grouped sections, each
        enrollment once), from the stored section figures: what groups are tested against."""
        # Summed in section order on both backends, so that its last bits are the same
        # whatever plan the database chooses (SQLite reads `a` in its key's order, which is
        # that order; SQLite 3.40 has no ORDER BY in an aggregate). IS TRUE keeps the IN a
        # hashed look-up, one pass over each table: a new analysis' tables have no planner
        # statistics on PostgreSQL for a while, and a join planned for 80 rows was probed
        # 37,671 times (60-140 ms at 1M; the hashed look-up 20-40 ms).
        ordered = " ORDER BY a.section_id" if self.connection.dialect.name == "postgresql" else ""
        mean: float | None = self._execute(
            f"SELECT SUM(a.count * a.mean_gpa{ordered}) / SUM(a.count) FROM analysis_sections a"
            " WHERE a.analysis_id = :analysis AND a.count > 0 AND (a.section_id IN ("
            "SELECT z.section_id FROM zscores z WHERE z.analysis_id = :analysis"
            " AND z.group_id IS NOT NULL)) IS TRUE",
            {"analysis": analysis_id},
        ).scalar()
        return mean

    def group_section_names(self, analysis_id: int, groups: Sequence[str]) -> dict[str, list[str]]:
        """The sections each of these groups had in the analysis."""
        names: dict[str, list[str]] = {group: [] for group in groups}
        statement = text(
            "SELECT g.name, s.name FROM zscores z JOIN groups g ON g.id = z.group_id"
            " JOIN sections s ON s.id = z.section_id"
            " WHERE z.analysis_id = :analysis AND g.name IN :groups ORDER BY g.name, s.name"
        ).bindparams(bindparam("groups", expanding=True))
        if groups:
            for group, section in self.connection.execute(
                statement, {"analysis": analysis_id, "groups": list(groups)}
            ):
                names[group].append(section)
        return names

    def every_group_section_names(self, analysis_id: int) -> dict[str, list[str]]:
        """The sections each group of the analysis had, in name order (Python's, as
        :func:`gradestore.results.load_tests` sorts them)."""
        names: dict[str, list[str]] = {}
        rows = self._driver_rows(  # plain tuples: a group test per grouped section
            "SELECT g.name, s.name FROM zscores z JOIN groups g ON g.id = z.group_id"
            " JOIN sections s ON s.id = z.section_id WHERE z.analysis_id = ?",
            (analysis_id,),
        )
        for group, section in cast("list[tuple[str, str]]", rows):
            names.setdefault(group, []).append(section)
        for sections in names.values():
            sections.sort()
        return names

    def test_counts(self, analysis_id: int) -> CountedTests:
        """How many section tests (a section in no group counts once) and group tests."""
        sections = self._execute(
            "SELECT COUNT(*) FROM analysis_sections a LEFT JOIN zscores z"
            " ON z.analysis_id = a.analysis_id AND z.section_id = a.section_id"
            " WHERE a.analysis_id = :analysis",
            {"analysis": analysis_id},
        ).scalar_one()
        groups = self._execute(
            "SELECT COUNT(*) FROM analysis_groups WHERE analysis_id = :analysis",
            {"analysis": analysis_id},
        ).scalar_one()
        return CountedTests(sections, groups)

    def flag_counts(self, analysis_id: int) -> FlagCounts:
        """How many section tests are significant, raw and after adjustment."""
        raw, adjusted = self._execute(
            "SELECT COALESCE(SUM(CASE WHEN significant THEN 1 ELSE 0 END), 0),"
            " COALESCE(SUM(CASE WHEN significant_adjusted THEN 1 ELSE 0 END), 0)"
            " FROM zscores WHERE analysis_id = :analysis",
            {"analysis": analysis_id},
        ).one()
        return FlagCounts(int(raw), int(adjusted))

    def analyses_covering(
        self, *, section: str | None = None, group: str | None = None
    ) -> list[int]:
        """Ids of the analyses that hold tests of this section or of this group."""
        if section is not None:
            sql = (
                "SELECT DISTINCT a.analysis_id FROM analysis_sections a"
                " JOIN sections s ON s.id = a.section_id WHERE s.name = :name"
            )
        else:
            sql = (
                "SELECT DISTINCT a.analysis_id FROM analysis_groups a"
                " JOIN groups g ON g.id = a.group_id WHERE g.name = :name"
            )
        rows = self._execute(sql + " ORDER BY 1", {"name": section or group})
        return [row[0] for row in rows]

    # --- lists --------------------------------------------------------------------------------

    def list_sizes(self, analysis_id: int) -> ListSizes:
        """How many distinct students are on the good and on the work list."""
        sizes = {
            category: count
            for category, count in self._execute(
                "SELECT category, COUNT(DISTINCT student_id) FROM performances"
                " WHERE analysis_id = :analysis GROUP BY category",
                {"analysis": analysis_id},
            )
        }
        return ListSizes(
            good=sizes.get(ListKind.GOOD.stored, 0), work=sizes.get(ListKind.WORK.stored, 0)
        )

    def list_rows(
        self,
        analysis_id: int,
        kind: ListKind,
        *,
        section: str | None = None,
        repeat_first: bool = False,
    ) -> Iterator[ListRow]:
        """A list's rows (of one section, if given), ordered by student name then section;
        ``repeat_first``: students on the work list in most earlier terms first (a student's
        rows all carry the same count, so they stay together). Streamed (a server-side cursor
        on PostgreSQL): lists can hold 100,000s of rows. Plain tuples from the driver's
        cursor, a block at a time: an object per row was a third of a JSON report's time."""
        sql = _list_sql(
            "p.appeared_before, p.earlier_terms_on_work_list, p.earlier_terms_on_good_list,"
            " p.first_term_listed",
            repeat_first,
            " AND sec.name = ?" if section is not None else "",
        )
        params = (analysis_id, kind.stored, *(() if section is None else (section,)))
        return cast("Iterator[ListRow]", self._driver_stream(sql, params))

    def list_file_rows(
        self, analysis_id: int, kind: ListKind, *, repeat_first: bool = False
    ) -> Iterator[ListFileRow]:
        """What a .lst file holds of a list: (student id, first name, last name, section,
        grade), in :meth:`list_rows`' order, straight from the driver's cursor a block at a
        time (no SQLAlchemy row per row; a server-side cursor on PostgreSQL)."""
        rows = self._driver_stream(_list_sql("", repeat_first), (analysis_id, kind.stored))
        return cast("Iterator[ListFileRow]", rows)

    # --- sections and students ----------------------------------------------------------------

    def section_info(self, name: str) -> SectionInfo | None:
        row = self._execute(
            "SELECT name, term, credit_hours, header_name FROM sections WHERE name = :name",
            {"name": name},
        ).first()
        return SectionInfo(*row) if row is not None else None

    def student(self, student_id: str) -> StudentRow | None:
        row = self._execute(
            "SELECT id, student_id, fname, lname FROM students WHERE student_id = :student_id",
            {"student_id": student_id},
        ).first()
        return StudentRow(*row) if row is not None else None

    def student_ids(self) -> list[str]:
        return list(self._execute("SELECT student_id FROM students").scalars())

    def student_grades(self, student_pk: StudentPk) -> list[StudentGradeRow]:
        """(section, term, grade) of every stored grade of a student."""
        rows = self._execute(
            "SELECT sec.name, sec.term, e.grade FROM enrollments e"
            " JOIN sections sec ON sec.id = e.section_id"
            " WHERE e.student_id = :student_pk ORDER BY sec.term, sec.name",
            {"student_pk": student_pk},
        )
        return [StudentGradeRow(*row) for row in rows]

    def student_list_history(self, student_pk: StudentPk) -> list[StudentListRow]:
        """Every list entry of a student in every analysis, oldest analysis first."""
        rows = self._execute(
            "SELECT a.id, a.created_at, p.category, sec.name, p.grade FROM performances p"
            " JOIN analyses a ON a.id = p.analysis_id"
            " JOIN sections sec ON sec.id = p.section_id"
            " WHERE p.student_id = :student_pk ORDER BY a.id, p.category, sec.name",
            {"student_pk": student_pk},
        )
        return [
            StudentListRow(
                analysis_id, _aware(created_at), ListKind.from_stored(category), name, grade
            )
            for analysis_id, created_at, category, name, grade in rows
        ]

    def student_earlier_lists(self, student_pk: StudentPk) -> list[EarlierListRow]:
        """Entries of a student in legacy .lst files."""
        rows = self._execute(
            "SELECT la.section_name, la.grade, sf.path"
            " FROM list_appearances la LEFT JOIN source_files sf ON sf.id = la.source_file_id"
            " WHERE la.student_id = :student_pk ORDER BY la.section_name",
            {"student_pk": student_pk},
        )
        return [EarlierListRow(*row) for row in rows]

    # --- terms ----------------------------------------------------------------------------------

    def term_counts(self) -> list[TermCountRow]:
        """Per distinct (term as written, term_order) of the sections, how many sections and
        grades; sections without a term are one row with term None. One pass over the
        enrollments' key (grades per section), then a GROUP BY over the sections."""
        rows = self._execute(
            "SELECT s.term, s.term_order, COUNT(*), COALESCE(SUM(g.grades), 0) FROM sections s"
            " LEFT JOIN (SELECT section_id, COUNT(*) AS grades FROM enrollments"
            " GROUP BY section_id) g ON g.section_id = s.id"
            " GROUP BY s.term, s.term_order"
        )
        return [
            TermCountRow(term, term_order, int(sections), int(grades))
            for term, term_order, sections, grades in rows
        ]


def _figures(table: str) -> str:
    return ", ".join(f"{table}.{name}" for name in TEST_FIGURES)


class _TestFigures(TypedDict):
    p_adjusted: float | None
    significant_adjusted: bool | None
    effect_size: float | None
    no_test_reason: str | None


def _figures_of(
    values: tuple[float | None, bool | int | None, float | None, str | None],
) -> _TestFigures:
    """The stored test figures (TEST_FIGURES' order; a stored boolean may come back as 0 or 1)."""
    p_adjusted, significant_adjusted, effect_size, no_test_reason = values
    return _TestFigures(
        p_adjusted=p_adjusted,
        significant_adjusted=None if significant_adjusted is None else bool(significant_adjusted),
        effect_size=effect_size,
        no_test_reason=no_test_reason,
    )


def _aware(value: datetime | str) -> datetime:
    """Timestamps read through a plain query on SQLite come back naive (or as text); they are
    UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _section_tests_from(group: str | None) -> str:
    """The FROM clause of section tests: every section test of the analysis, or one group's
    tests from the group by name (its index), then its z-tests, not from every section test
    of the analysis (the same rows: a test of the group has its zscores and groups rows)."""
    if group is None:
        return (
            " FROM analysis_sections a JOIN sections sec ON sec.id = a.section_id"
            " LEFT JOIN zscores z"
            " ON z.analysis_id = a.analysis_id AND z.section_id = a.section_id"
            " LEFT JOIN groups g ON g.id = z.group_id"
        )
    return (
        " FROM groups g JOIN zscores z ON z.group_id = g.id"
        " JOIN analysis_sections a"
        " ON a.analysis_id = z.analysis_id AND a.section_id = z.section_id"
        " JOIN sections sec ON sec.id = a.section_id"
    )


def _list_sql(more_columns: str, repeat_first: bool, section_filter: str = "") -> str:
    """One list's rows (? placeholders: the analysis, the category, then the filter's):
    student id, first and last name, section and grade, then ``more_columns``, in the list's
    order; ``repeat_first``: students on the work list in most earlier terms first."""
    order = LIST_ORDER
    if repeat_first:
        order = f"COALESCE(p.earlier_terms_on_work_list, 0) DESC, {order}"
    columns = "st.student_id, st.fname, st.lname, sec.name, p.grade"
    return (
        f"SELECT {columns}{', ' + more_columns if more_columns else ''}"
        " FROM performances p JOIN students st ON st.id = p.student_id"
        " JOIN sections sec ON sec.id = p.section_id"
        f" WHERE p.analysis_id = ? AND p.category = ?{section_filter} ORDER BY {order}"
    )


def _section_test_row(row: Row[*TupleAny]) -> SectionTestRow:
    return SectionTestRow(
        section=row[0],
        group=row[1],
        count=row[2],
        mean_gpa=row[3],
        grade_counts=json_value(row[4]),
        z_score=row[5],
        p_value=row[6],
        significant=bool(row[7]),
        **_figures_of(row[8:12]),
        against_mean_gpa=row[12],
    )
