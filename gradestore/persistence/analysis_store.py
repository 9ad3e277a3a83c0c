"""The analysis use case's SQL: the scope and its grade counts in, the figures and lists out.

The database counts grades with one GROUP BY; the figures are written back with the drivers'
bulk paths (an analysis of a million grades writes tens of thousands of rows).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import JSON, Float, Integer, String, bindparam, select, text

from gradestore.kinds import ListKind, ScopeKind
from gradestore.list_history import ListHistory, QualifyingGrades, latest_term, list_history
from gradestore.persistence.rows import (
    GroupFigures,
    Membership,
    StoredTerm,
    TermFilter,
    Testing,
)
from gradestore.persistence.sql import TEST_FIGURES, SqlStore, SqlValue
from gradestore.persistence.types import UTCDateTime

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


class SectionColumns(NamedTuple):
    """A block of sections' figures, a list of Python values per column (``counted``: how
    many grades count; ``mean_gpa`` None for a section without counted grades;
    ``grade_counts``: a tuple per section, how many of each of the analysis' letters)."""

    section_id: list[int]
    counted: list[int]
    mean_gpa: list[float | None]
    grade_counts: list[tuple[int, ...]]


class ZTestColumns(NamedTuple):
    """A block of section tests (a row per section and group) as lists, None for NaN."""

    section_id: list[int]
    group_id: list[int]
    z_score: list[float | None]
    p_value: list[float | None]
    significant: list[bool]
    p_adjusted: list[float | None]
    significant_adjusted: list[bool]
    effect_size: list[float | None]
    no_test_reason: list[str | None]


@dataclass(frozen=True)
class FigureBlocks:
    """Everything an analysis computed, written in one call: the sections and section tests
    as blocks of columns, made as they are written and zipped into the drivers' rows (a
    frozen dataclass per row was 0.55 s of CPU at 1M grades; at 5M whole lists of rows were
    an analysis' peak memory)."""

    analysis_id: int
    threshold: float
    timestamp: datetime
    letters: tuple[str, ...]  # the scale's, in order: what each section's grade_counts counts
    sections: Iterable[SectionColumns]
    groups: list[GroupFigures]
    zscores: Iterable[ZTestColumns]


def _test_figures(test: GroupFigures) -> tuple[SqlValue, ...]:
    return (test.p_adjusted, test.significant_adjusted, test.effect_size, test.no_test_reason)


def _term_condition(terms: TermFilter) -> tuple[str, tuple[SqlValue, ...]]:
    """A condition on ``sections`` (? placeholders): a recognised term by its place in time
    (so ``F25`` also finds ``Fall 2025``), an unrecognised one as written."""
    parts = []
    if terms.orders:
        parts.append(f"term_order IN ({', '.join('?' for _ in terms.orders)})")
    if terms.labels:
        parts.append(f"term IN ({', '.join('?' for _ in terms.labels)})")
    return "(" + (" OR ".join(parts) or "1 = 0") + ")", (*terms.orders, *terms.labels)


def grade_counts_template(letters: Sequence[str]) -> str:
    """A %-template that gives ``json.dumps(dict(zip(letters, counts)))`` of a tuple of int
    counts, without the dict."""
    keys = [json.dumps(letter).replace("%", "%%") for letter in letters]
    return "{" + ", ".join(f"{key}: %d" for key in keys) + "}"


def _marks(count: int) -> str:
    """``count`` placeholders for an IN list (none: NULL, which nothing is IN)."""
    return ", ".join("?" for _ in range(count)) or "NULL"


def _grade_flags(good: Sequence[str], work: Sequence[str]) -> str:
    """What the history reads of a qualifying grade beside its student and term, as one
    character: "1" for a good-list grade, "2" for a work-list grade, "3" for both (a format
    string of the grade's table alias; ? placeholders for the good, then the work letters)."""
    return (
        f"CASE WHEN {{0}}.grade IN ({_marks(len(good))}) THEN 1 ELSE 0 END"
        f" + CASE WHEN {{0}}.grade IN ({_marks(len(work))}) THEN 2 ELSE 0 END"
    )


def _scope_sections(
    group_ids: Sequence[int] | None, terms: TermFilter | None
) -> tuple[str | None, tuple[SqlValue, ...]]:
    """The ids of the scope's sections as a subquery (? placeholders), None for every section."""
    if group_ids is None and terms is None:
        return None, ()
    params: tuple[SqlValue, ...] = ()
    if group_ids is None:
        sections = "SELECT id FROM sections WHERE 1 = 1"
    else:
        marks = ", ".join("?" for _ in group_ids)
        sections = f"SELECT DISTINCT section_id FROM group_sections WHERE group_id IN ({marks})"
        params = tuple(group_ids)
    if terms is not None:
        in_terms, term_params = _term_condition(terms)
        column = "id" if group_ids is None else "section_id"
        sections += f" AND {column} IN (SELECT id FROM sections WHERE {in_terms})"
        params += term_params
    return sections, params


def _history_rows(block: ListHistory) -> Iterator[tuple[SqlValue, ...]]:
    """A block of the history as the temporary table's rows, made as they are written."""
    words = (ListKind.WORK.stored, ListKind.GOOD.stored)
    for student, on_good, work_terms, good_terms, first_listed, earlier in zip(
        block.student.tolist(),
        block.on_good.tolist(),
        block.work_terms.tolist(),
        block.good_terms.tolist(),
        block.first_listed.tolist(),
        block.earlier.tolist(),
        strict=True,
    ):
        yield student, words[on_good], work_terms, good_terms, first_listed, int(earlier)


class AnalysisStore(SqlStore):
    # --- scope and inputs ---------------------------------------------------------------------

    # The ORM models are imported only where a scope other than everything needs them: an
    # analysis of everything runs on SQLAlchemy Core alone (the models and sqlalchemy.orm
    # were 0.2 s of its start).

    def group_ids(self, names: Sequence[str]) -> dict[str, int]:
        from gradestore.persistence.models import Group

        return self._ids_by_name(Group, sorted(set(names)))

    def run_names(self) -> list[str]:
        from gradestore.persistence.models import Run

        return list(self.connection.execute(select(Run.name).order_by(Run.name)).scalars())

    def run_group_names(self, run_name: str) -> list[str] | None:
        """The groups of a legacy run, or None when no such run is stored."""
        from gradestore.persistence.models import Group, Run, RunGroup

        run_id = self.connection.execute(select(Run.id).where(Run.name == run_name)).scalar()
        if run_id is None:
            return None
        return list(
            self.connection.execute(
                select(Group.name)
                .join(RunGroup, RunGroup.group_id == Group.id)
                .where(RunGroup.run_id == run_id)
                .order_by(Group.name)
            ).scalars()
        )

    def stored_terms(self) -> list[StoredTerm]:
        """Every distinct (term as written, term_order) of the stored sections."""
        rows = self._execute(
            "SELECT DISTINCT term, term_order FROM sections WHERE term IS NOT NULL ORDER BY term"
        )
        return [StoredTerm(term, order) for term, order in rows]

    def scope_grade_counts(
        self,
        group_ids: Sequence[int] | None,
        letters: Sequence[str],
        terms: TermFilter | None = None,
    ) -> npt.NDArray[np.int64]:
        """One row per section of the scope, in section id order: (section id, how many grades
        of each of ``letters``, how many grades in all); a section without grades too, with
        zeros. ``group_ids`` None: every section; ``terms``: only the sections of those terms.
        A total above the letters' sum means grades of letters outside ``letters``
        (:meth:`scope_letter_totals` names them).

        The database gives each section's grades as one string, a character per grade (its
        letter's place in ``letters``), read over the enrollments' key and counted here with
        one bincount per block of sections: a COUNT(CASE ...) per letter compared every
        grade with every letter (1.7 against 0.75 s at 1M on SQLite). Streamed through the
        driver's cursor, so that no list of rows is held.
        """
        import numpy as np

        if len(letters) > len(_LETTER_CODES):
            return self._scope_grade_counts_by_letter(group_ids, letters, terms)
        if _short_letters(letters):
            table = self._scope_grade_counts_as_written(group_ids, letters, terms)
            if table is not None:
                return table
        cases = " ".join("WHEN ? THEN ?" for _ in letters)
        coded = f"CASE e.grade {cases} END" if letters else "NULL"
        scope, params = _scope_sections(group_ids, terms)
        where = "" if scope is None else f" WHERE s.id IN ({scope})"
        aggregate = "string_agg" if self.is_postgres else "group_concat"
        rows = self._driver_stream(
            f"SELECT s.id, {aggregate}({coded}, ''), COUNT(e.grade) FROM sections s"
            f" LEFT JOIN enrollments e ON e.section_id = s.id{where}"
            " GROUP BY s.id ORDER BY s.id",
            (*itertools.chain.from_iterable(zip(letters, _LETTER_CODES, strict=False)), *params),
        )
        width = len(letters)
        blocks = [np.zeros((0, width + 2), np.int64)]
        while block := list(itertools.islice(rows, _BLOCK)):
            coded_grades = [str(row[1] or "") for row in block]
            sizes = np.fromiter(map(len, coded_grades), np.int64, len(block))
            # The digits' own bits: "1" is 0b110001, "2" 0b110010, "3" 0b110011.
            codes = np.frombuffer("".join(coded_grades).encode("ascii"), np.uint8)
            section_rows = np.repeat(np.arange(len(block)), sizes)
            table = np.empty((len(block), width + 2), np.int64)
            table[:, 0] = np.array([row[0] for row in block], dtype=np.int64)
            table[:, 1:-1] = np.bincount(
                section_rows * width + (codes - _FIRST_CODE), minlength=len(block) * width
            ).reshape(len(block), width)
            table[:, -1] = np.array([row[2] for row in block], dtype=np.int64)
            blocks.append(table)
        return np.concatenate(blocks)

    def _scope_grade_counts_as_written(
        self,
        group_ids: Sequence[int] | None,
        letters: Sequence[str],
        terms: TermFilter | None = None,
    ) -> npt.NDArray[np.int64] | None:
        """As :meth:`scope_grade_counts`, for a scale of letters of one or two ASCII
        characters, none a comma: each section's grades as written, joined by commas (no
        CASE of up to a comparison per letter for each grade: 0.35 against 0.75 s at 1M on
        SQLite), each grade told by its two bytes in numpy. A grade that is not one of the
        letters counts in the total only, as with the codes. None (nothing read yet that
        matters) when a block holds a grade with a comma in it: its parts would not line up
        with the grades, and the caller counts by codes instead."""
        import numpy as np

        scope, params = _scope_sections(group_ids, terms)
        where = "" if scope is None else f" WHERE s.id IN ({scope})"
        aggregate = "string_agg(e.grade, ',')" if self.is_postgres else "group_concat(e.grade, ',')"
        rows = self._driver_stream(
            f"SELECT s.id, {aggregate}, COUNT(e.grade) FROM sections s"
            f" LEFT JOIN enrollments e ON e.section_id = s.id{where}"
            " GROUP BY s.id ORDER BY s.id",
            params,
        )
        width = len(letters)
        # A grade's two bytes (the second 0 for one character) -> its letter's column, or -1.
        column_of = np.full(1 << 16, -1, np.int64)
        for column, letter in enumerate(letters):
            raw = letter.encode("ascii")
            column_of[raw[0] * 256 + (raw[1] if len(raw) == 2 else 0)] = column
        blocks = [np.zeros((0, width + 2), np.int64)]
        while block := list(itertools.islice(rows, _BLOCK)):
            totals = np.array([row[2] for row in block], dtype=np.int64)
            data = np.frombuffer(
                ",".join([str(row[1]) for row in block if row[1] is not None]).encode(), np.uint8
            )
            table = np.zeros((len(block), width + 2), np.int64)
            table[:, 0] = np.array([row[0] for row in block], dtype=np.int64)
            table[:, -1] = totals
            grades = int(totals.sum())
            if grades:
                commas = np.flatnonzero(data == ord(","))
                if len(commas) + 1 != grades:
                    return None  # the stream is closed as it is dropped
                starts = np.concatenate([[0], commas + 1])
                lengths = np.concatenate([commas, [len(data)]]) - starts
                padded = np.concatenate([data, np.zeros(2, np.uint8)]).astype(np.int64)
                first, second = padded[starts], padded[starts + 1]
                key = first * 256 + np.where(lengths == 2, second, 0)
                known = ((lengths == 1) | ((lengths == 2) & (second != 0))) & (first != 0)
                columns = np.where(known, column_of[key], -1)
                counted = columns >= 0
                section_rows = np.repeat(np.arange(len(block)), totals)
                table[:, 1:-1] = np.bincount(
                    section_rows[counted] * width + columns[counted], minlength=len(block) * width
                ).reshape(len(block), width)
            blocks.append(table)
        return np.concatenate(blocks)

    def _scope_grade_counts_by_letter(
        self,
        group_ids: Sequence[int] | None,
        letters: Sequence[str],
        terms: TermFilter | None = None,
    ) -> npt.NDArray[np.int64]:
        """As :meth:`scope_grade_counts`, for a scale of more letters than there are codes:
        a COUNT per letter."""
        import numpy as np

        counted = ", ".join("COUNT(CASE WHEN e.grade = ? THEN 1 END)" for _ in letters)
        scope, params = _scope_sections(group_ids, terms)
        where = "" if scope is None else f" WHERE s.id IN ({scope})"
        rows = self._driver_stream(
            f"SELECT s.id, {counted}, COUNT(e.grade) FROM sections s"
            f" LEFT JOIN enrollments e ON e.section_id = s.id{where}"
            " GROUP BY s.id ORDER BY s.id",
            (*letters, *params),
        )
        table = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64)
        return table.reshape(-1, len(letters) + 2)

    def scope_letter_totals(
        self, group_ids: Sequence[int] | None, terms: TermFilter | None = None
    ) -> dict[str, int]:
        """letter -> how many grades of the scope's sections hold it (every stored letter)."""
        scope, params = _scope_sections(group_ids, terms)
        where = "" if scope is None else f" WHERE e.section_id IN ({scope})"
        rows = self._driver_rows(
            f"SELECT e.grade, COUNT(*) FROM enrollments e{where} GROUP BY e.grade", params
        )
        return {str(letter): int(str(count)) for letter, count in rows}

    def scope_memberships(self, group_ids: Sequence[int] | None) -> list[Membership]:
        """The (group, section) pairs of the groups of the scope (None: every group), in the
        statement the ORM made of it (the order of a group's sections is the plan's)."""
        where = "" if group_ids is None else " WHERE groups.id IN :groups"
        statement = text(
            "SELECT groups.id, groups.name, group_sections.section_id FROM groups"
            f" JOIN group_sections ON group_sections.group_id = groups.id{where}"
            " ORDER BY groups.name"
        )
        params: dict[str, list[int]] = {}
        if group_ids is not None:
            statement = statement.bindparams(bindparam("groups", expanding=True))
            params["groups"] = list(group_ids)
        return [
            Membership(group_id, name, section_id)
            for group_id, name, section_id in self.connection.execute(statement, params)
        ]

    # --- results ------------------------------------------------------------------------------

    def create_analysis(
        self,
        threshold: float,
        scope_kind: ScopeKind,
        scope_names: list[str],
        created_at: datetime,
        testing: Testing | None = None,
        scale: Mapping[str, object] | None = None,
        scope_terms: Sequence[str] = (),
    ) -> int:
        """A new analysis; ``scale``: the grade scale it uses, in full (GradeScale.as_json)."""
        testing = testing or Testing()
        # The models' column types bound by name: the same stored values as an insert of the
        # model (UTC timestamps, JSON as the JSON type writes it).
        statement = text(
            "INSERT INTO analyses (created_at, threshold, scope_kind, scope_names, scope_terms,"
            " method, adjust, min_n, overdispersion, tests, expected_false_flags, scale_name,"
            " scale) VALUES (:created_at, :threshold, :scope_kind, :scope_names, :scope_terms,"
            " :method, :adjust, :min_n, :overdispersion, :tests, :expected_false_flags,"
            " :scale_name, :scale) RETURNING id"
        ).bindparams(
            bindparam("created_at", type_=UTCDateTime()),
            bindparam("threshold", type_=Float()),
            bindparam("scope_kind", type_=String(16)),
            bindparam("scope_names", type_=JSON()),
            bindparam("scope_terms", type_=JSON()),
            bindparam("method", type_=String(16)),
            bindparam("adjust", type_=String(16)),
            bindparam("min_n", type_=Integer()),
            bindparam("overdispersion", type_=Float()),
            bindparam("tests", type_=Integer()),
            bindparam("expected_false_flags", type_=Float()),
            bindparam("scale_name", type_=String(64)),
            bindparam("scale", type_=JSON()),
        )
        analysis_id = self.connection.execute(
            statement,
            {
                "created_at": created_at,
                "threshold": threshold,
                "scope_kind": scope_kind,
                "scope_names": scope_names,
                "scope_terms": list(scope_terms),
                "method": testing.method,
                "adjust": testing.adjust,
                "min_n": testing.min_n,
                "overdispersion": testing.overdispersion,
                "tests": testing.tests,
                "expected_false_flags": testing.expected_false_flags,
                "scale_name": scale["name"] if scale else None,
                "scale": scale,
            },
        ).scalar_one()
        return int(analysis_id)

    def add_analysis_figures(self, figures: FigureBlocks, sections: int, tests: int) -> None:
        """Store an analysis' figures, and copy the latest into the seed's columns.
        ``sections``, ``tests``: how many sections and section tests ``figures`` holds.

        On PostgreSQL a large load (beside what the table holds) goes in with the table's
        foreign keys and indexes dropped and made again after it (indexes_built_after): each
        row's three key checks were 1.1 of the 1.5 s of the zscores of 1M grades."""
        with self._figures_load("analysis_sections", sections):
            self._add_section_figures(figures)
        with self._figures_load("analysis_groups", len(figures.groups)):
            self._add_group_figures(figures)
        with self._figures_load("zscores", tests):
            self._add_section_zscores(figures)
        # A section that holds no grade keeps the stats it has (the seed's API may have set them).
        self._execute(
            "UPDATE sections SET"
            " mean_gpa = (SELECT a.mean_gpa FROM analysis_sections a"
            " WHERE a.analysis_id = :analysis AND a.section_id = sections.id),"
            " count = (SELECT a.count FROM analysis_sections a"
            " WHERE a.analysis_id = :analysis AND a.section_id = sections.id)"
            " WHERE id IN (SELECT section_id FROM analysis_sections WHERE analysis_id = :analysis)"
            " AND EXISTS (SELECT 1 FROM enrollments e WHERE e.section_id = sections.id)",
            {"analysis": figures.analysis_id},
        )
        self._execute_many(
            "UPDATE groups SET mean_gpa = ?, stddev = ? WHERE id = ?",
            [(g.mean_gpa, g.stddev, g.group_id) for g in figures.groups],
        )
        if self.is_postgres:
            # Rows just written have no planner statistics: PostgreSQL took the analysis'
            # tens of thousands of sections for a few hundred, in the lists' statement and in
            # the reports that read the analysis back. ANALYZE samples a bounded number of rows.
            self._execute("ANALYZE analysis_sections, zscores, analysis_groups")

    def _figures_load(self, table: str, rows: int) -> AbstractContextManager[None]:
        """PostgreSQL: see add_analysis_figures (the statistics are made after, with those of
        analysis_groups). SQLite checks no key in the analysis' unit, and appends to the
        indexes in their order: nothing to do."""
        if not self.is_postgres:
            return nullcontext()
        return self.indexes_built_after(table, rows, analyze=False)

    def _add_section_figures(self, figures: FigureBlocks) -> None:
        """Each section's grade counts as a JSON object of the analysis' letters, in order,
        made as it is written (no dict per section is held): ``json.dumps`` of that dict,
        from a template of the letters (a test compares the two)."""
        template = grade_counts_template(figures.letters)
        self._bulk_insert_iter(
            "analysis_sections",
            ("analysis_id", "section_id", "count", "mean_gpa", "grade_counts"),
            itertools.chain.from_iterable(
                zip(
                    repeat(figures.analysis_id), block.section_id, block.counted, block.mean_gpa,
                    map(template.__mod__, block.grade_counts),
                )
                for block in figures.sections
            ),
        )  # fmt: skip

    def _add_group_figures(self, figures: FigureBlocks) -> None:
        columns = (
            "analysis_id", "group_id", "count", "mean_gpa", "stddev", "z_score", "p_value",
            "significant", *TEST_FIGURES,
        )  # fmt: skip
        rows = [
            (figures.analysis_id, g.group_id, g.count, g.mean_gpa, g.stddev, g.z_score,
             g.p_value, g.significant, *_test_figures(g))
            for g in figures.groups
        ]  # fmt: skip
        self._bulk_insert("analysis_groups", columns, rows)

    def _add_section_zscores(self, figures: FigureBlocks) -> None:
        columns = (
            "analysis_id", "section_id", "group_id", "z_score", "p_value", "significant",
            *TEST_FIGURES, "threshold", "timestamp",
        )  # fmt: skip
        timestamp = self._timestamp(figures.timestamp)
        rows = itertools.chain.from_iterable(
            zip(
                repeat(figures.analysis_id), block.section_id, block.group_id, block.z_score,
                block.p_value, block.significant, block.p_adjusted, block.significant_adjusted,
                block.effect_size, block.no_test_reason, repeat(figures.threshold),
                repeat(timestamp),
            )
            for block in figures.zscores
        )  # fmt: skip
        self._bulk_insert_iter("zscores", columns, rows)

    def add_list_performances(
        self, analysis_id: int, good_grades: Sequence[str], work_grades: Sequence[str]
    ) -> None:
        """Every qualifying grade of the analysis' sections becomes a performance row, with
        the student's history on that list (docs/history.md): ``appeared_before`` (a
        qualifying grade outside those sections, an earlier list appearance (.lst) in another
        section, or a qualifying grade in a term earlier than the latest term of their entries
        on this list), the distinct earlier terms with a work-list and a good-list grade, and
        the first term with a grade of this list.

        The history is computed from the qualifying grades read once as arrays
        (:mod:`gradestore.list_history`), kept in a temporary table by (student, list), and
        joined to the entries as they are inserted."""
        good, work = tuple(good_grades), tuple(work_grades)
        flags = _grade_flags(good, work)
        qualifying = _marks(len(good) + len(work))
        entries = self._qualifying_grades(
            "s.term_order", flags.format("e"), "e.student_id",
            " FROM analysis_sections a JOIN sections s ON s.id = a.section_id"
            " JOIN enrollments e ON e.section_id = a.section_id"
            f" WHERE a.analysis_id = ? AND e.grade IN ({qualifying})"
            " GROUP BY a.section_id, s.term_order",
            (*good, *work, analysis_id, *good, *work),
        )  # fmt: skip
        # Other sections' qualifying grades, up to the analysis' latest term (CROSS JOIN:
        # SQLite then reads sections first and each one's grades by the key; PostgreSQL
        # plans it as any join): only from sections outside the analysis, so none for an
        # analysis of everything.
        outside = self._qualifying_grades(
            "os.term_order", flags.format("o"), "o.student_id",
            " FROM sections os CROSS JOIN enrollments o"
            f" WHERE o.section_id = os.id AND o.grade IN ({qualifying})"
            " AND os.term_order <= ? AND NOT EXISTS (SELECT 1 FROM analysis_sections oa"
            " WHERE oa.analysis_id = ? AND oa.section_id = os.id) GROUP BY os.term_order, os.id",
            (*good, *work, *good, *work, latest_term(entries), analysis_id),
        )  # fmt: skip
        history = list_history(entries, outside)
        del entries, outside  # freed as soon as the history no longer needs them
        with (
            self.indexes_built_after("performances", self._scope_grades(analysis_id)),
            self._list_statement_memory(),
        ):
            self._keep_list_history(history)
            self._insert_performances(analysis_id, good_grades, work_grades)
            self._execute(f"DROP TABLE {self._history_table}")

    @contextmanager
    def _list_statement_memory(self) -> Iterator[None]:
        """More memory for the lists' statement while it runs, the setting restored after.
        PostgreSQL: its hash joins (a row per listed student) spilled to disk in batches at
        the default 4 MB of work_mem. SQLite: the statement looks each entry's history up in
        the temporary table in no order of it, and at the default 2 MB of cache most
        look-ups read a page again (the table is 4 MB at 1M grades); the cache grows only as
        pages are read."""
        if self.is_postgres:
            # SET LOCAL ends with the transaction anyway (a failed one takes no RESET).
            self._execute(f"SET LOCAL work_mem = '{_LIST_WORK_MEM}'")
            yield
            self._execute("RESET work_mem")
            return
        temp_cache = int(self._execute("PRAGMA temp.cache_size").scalar_one())
        self._execute(f"PRAGMA temp.cache_size = {_TEMP_CACHE_SIZE}")
        try:
            yield
        finally:
            self._execute(f"PRAGMA temp.cache_size = {temp_cache}")

    def _qualifying_grades(
        self, term: str, flags: str, student: str, grouped: str, params: tuple[SqlValue, ...]
    ) -> QualifyingGrades:
        """The qualifying grades of a query grouped by section (``grouped``: its FROM, WHERE
        and GROUP BY; ``term``, ``flags`` (see _grade_flags) and ``student``: its columns) as
        arrays. Each section comes back as one row: its term, how many grades, their
        students as one comma-separated string and their flags as one string of digits, in
        the same order (one aggregate pass feeds both), parsed by numpy a block of sections
        at a time: a row per grade through the driver (a tuple of three per grade) took
        twice as long, 0.9 s at 1M on SQLite."""
        import numpy as np

        if self.is_postgres:
            students = f"string_agg(CAST({student} AS TEXT), ',')"
            coded = f"string_agg(CAST({flags} AS TEXT), '')"
        else:
            students, coded = f"group_concat({student}, ',')", f"group_concat({flags}, '')"
        rows = self._driver_stream(
            f"SELECT {term}, COUNT(*), {students}, {coded}{grouped}", params, block=_BLOCK
        )
        parts: list[QualifyingGrades] = []
        while block := list(itertools.islice(rows, _BLOCK)):
            counts = np.array([row[1] for row in block], dtype=np.int64)
            has_term = np.repeat(np.array([row[0] is not None for row in block]), counts)
            terms = np.repeat(np.array([row[0] or 0 for row in block], np.int64), counts)
            ids = np.fromstring(",".join([str(row[2]) for row in block]), np.int64, sep=",")
            # The digits' own bits: "1" is 0b110001, "2" 0b110010, "3" 0b110011.
            codes = np.frombuffer("".join([str(row[3]) for row in block]).encode(), np.uint8)
            if not len(ids) == len(codes) == len(terms):
                raise RuntimeError("the qualifying grades came back malformed")
            parts.append(QualifyingGrades(ids, terms, has_term, (codes & 1) != 0, (codes & 2) != 0))
        if len(parts) == 1:
            return parts[0]
        empty = np.zeros(0, np.int64)
        return QualifyingGrades(
            student=np.concatenate([empty, *(part.student for part in parts)]),
            term=np.concatenate([empty, *(part.term for part in parts)]),
            has_term=np.concatenate([empty.astype(bool), *(part.has_term for part in parts)]),
            good=np.concatenate([empty.astype(bool), *(part.good for part in parts)]),
            work=np.concatenate([empty.astype(bool), *(part.work for part in parts)]),
        )

    @property
    def _history_table(self) -> str:
        return f"{'pg_temp' if self.is_postgres else 'temp'}.{_HISTORY_TABLE}"

    def _keep_list_history(self, history: Iterable[ListHistory]) -> None:
        """The history by (student, list), in a temporary table keyed by them."""
        import numpy as np

        self._execute(f"DROP TABLE IF EXISTS {self._history_table}")
        self._execute(
            f"CREATE TEMPORARY TABLE {self._history_table} (student_id INTEGER NOT NULL,"
            " category VARCHAR(4) NOT NULL, work_terms INTEGER NOT NULL,"
            " good_terms INTEGER NOT NULL, first_listed INTEGER NOT NULL,"
            " earlier INTEGER NOT NULL, PRIMARY KEY (student_id, category))"
            + ("" if self.is_postgres else " WITHOUT ROWID")
        )
        columns = ("student_id", "category", "work_terms", "good_terms", "first_listed", "earlier")
        if self.is_postgres:
            # COPY's text a block at a time, made by one format per row (integers and the
            # lists' words only: nothing to escape); a write_row per row took twice as long.
            words = np.array([ListKind.WORK.stored, ListKind.GOOD.stored], dtype=object)
            self._copy_text_blocks(
                self._history_table,
                columns,
                (
                    "".join(
                        map(
                            "{}\t{}\t{}\t{}\t{}\t{:d}\n".format,
                            block.student.tolist(),
                            words[block.on_good.astype(np.intp)].tolist(),
                            block.work_terms.tolist(),
                            block.good_terms.tolist(),
                            block.first_listed.tolist(),
                            block.earlier.tolist(),
                        )
                    )
                    for block in history
                ),
            )
            self._execute(f"ANALYZE {self._history_table}")
            return
        for block in history:
            if not self._insert_packed_history(block):
                self._bulk_insert_iter(self._history_table, columns, _history_rows(block))

    def _insert_packed_history(self, block: ListHistory) -> bool:
        """SQLite: a block of the history as one JSON array of integers, each row's values
        packed into one and unpacked by one ``INSERT ... SELECT`` over ``json_each`` (as the
        ingest writes grades): executemany of the same rows took 0.86 against 0.31 s at 1M.
        False (nothing done) when the packed values would not fit in 64 bits."""
        if not len(block.student):
            return True
        base = int(block.first_listed.min())
        span = int(block.first_listed.max()) - base + 1
        width = int(max(block.work_terms.max(), block.good_terms.max())) + 1
        lowest = min(
            int(block.student.min()), int(block.work_terms.min()), int(block.good_terms.min())
        )
        if lowest < 0 or (int(block.student.max()) + 1) * 2 * width * width * span * 2 >= 1 << 63:
            return False
        # (((student, list) * width + work terms) * width + good terms) * span + first, earlier
        packed = block.student * 2 + block.on_good
        packed *= width
        packed += block.work_terms
        packed *= width
        packed += block.good_terms
        packed *= span
        packed += block.first_listed - base
        packed *= 2
        packed += block.earlier
        cursor = self.connection.connection.cursor()
        try:
            cursor.execute(
                f"INSERT INTO {self._history_table} (student_id, category, work_terms,"
                " good_terms, first_listed, earlier) SELECT value / 2 / ?2 / ?3 / ?3 / 2,"
                " CASE value / 2 / ?2 / ?3 / ?3 % 2 WHEN 1 THEN ?5 ELSE ?6 END,"
                " value / 2 / ?2 / ?3 % ?3, value / 2 / ?2 % ?3, value / 2 % ?2 + ?4, value % 2"
                " FROM json_each(?1)",
                (
                    json.dumps(packed.tolist()), span, width, base,
                    ListKind.GOOD.stored, ListKind.WORK.stored,
                ),
            )  # fmt: skip
        finally:
            cursor.close()
        return True

    def _scope_grades(self, analysis_id: int) -> int:
        """Counted grades of the analysis' sections: an upper bound of its list rows."""
        total = self._execute(
            "SELECT SUM(count) FROM analysis_sections WHERE analysis_id = :analysis",
            {"analysis": analysis_id},
        ).scalar_one()
        return int(total or 0)

    def _insert_performances(
        self, analysis_id: int, good_grades: Sequence[str], work_grades: Sequence[str]
    ) -> None:
        self.connection.execute(
            text(
                f"WITH {_TERM_LABELS} INSERT INTO performances"
                " (section_id, student_id, grade, category, analysis_id, appeared_before,"
                " earlier_terms_on_work_list, earlier_terms_on_good_list, first_term_listed)"
                f" SELECT e.section_id, e.student_id, e.grade, {_CATEGORY}, :analysis,"
                f" CASE WHEN e.student_id IN ({_LISTED_ELSEWHERE})"
                " OR h.earlier = 1 THEN :yes ELSE :no END,"
                " COALESCE(h.work_terms, 0), COALESCE(h.good_terms, 0), lb.term"
                " FROM analysis_sections a JOIN enrollments e ON e.section_id = a.section_id"
                f" LEFT JOIN {self._history_table} h"
                f" ON h.student_id = e.student_id AND h.category = {_CATEGORY}"
                " LEFT JOIN term_labels lb ON lb.term_order = h.first_listed"
                " WHERE a.analysis_id = :analysis AND e.grade IN :qualifying"
                # In the enrollments' key order SQLite appends to the unique index (the
                # student index is built after a large load); PostgreSQL would only sort.
                # Ordered by the columns the plan reads in that order (the analysis'
                # sections by their key, each one's grades by theirs), SQLite sorts nothing:
                # ordered by a subquery's columns it sorted the 409,619 rows (0.3 s at 1M).
                + ("" if self.is_postgres else " ORDER BY a.section_id, e.student_id")
            ).bindparams(
                bindparam("good", expanding=True),
                bindparam("qualifying", expanding=True),
            ),
            {
                "good": list(good_grades),
                "qualifying": [*good_grades, *work_grades],
                "analysis": analysis_id,
                "good_list": ListKind.GOOD.stored,
                "work_list": ListKind.WORK.stored,
                "yes": True,
                "no": False,
            },
        )


# SQLite's cache for the temporary schema while the lists are written (a negative size is in
# KiB): the history's table whole up to about 5M grades.
_TEMP_CACHE_SIZE = -32768

# PostgreSQL's memory for each sort and hash of the lists' statement (per node; the default is
# 4 MB): at a million grades the hash aggregates hold a few hundred thousand rows.
_LIST_WORK_MEM = "32MB"

# A section (os) outside the analysis' sections: asked per section, so that the grades read are
# only those of such sections (none for an analysis of everything).
_OUTSIDE = (
    "NOT EXISTS (SELECT 1 FROM analysis_sections oa"
    " WHERE oa.analysis_id = :analysis AND oa.section_id = os.id)"
)

# The design.md rule: students with a qualifying grade outside the analysis' sections, or an
# earlier list appearance (.lst) in a section outside them.
_LISTED_ELSEWHERE = (
    "SELECT o.student_id FROM sections os CROSS JOIN enrollments o"
    " WHERE o.section_id = os.id AND o.grade IN :qualifying"
    f" AND {_OUTSIDE}"
    " UNION SELECT la.student_id FROM list_appearances la"
    " WHERE NOT EXISTS (SELECT 1 FROM analysis_sections a"
    " JOIN sections s ON s.id = a.section_id"
    " WHERE a.analysis_id = :analysis AND s.name = la.section_name)"
)

# The list of a qualifying grade (e).
_CATEGORY = "(CASE WHEN e.grade IN :good THEN :good_list ELSE :work_list END)"


# Whether a scale's letters are each one or two ASCII characters, none a comma (or a NUL):
# their grades are then counted as written (_scope_grade_counts_as_written).
def _short_letters(letters: Sequence[str]) -> bool:
    return all(
        0 < len(letter) <= 2 and letter.isascii() and "," not in letter and "\0" not in letter
        for letter in letters
    )


# A letter's code in a section's string of grades (scope_grade_counts): one ASCII character
# each, from "!" on (a scale has a few letters; one of more than these is counted per letter).
_FIRST_CODE = 33
_LETTER_CODES = tuple(chr(code) for code in range(_FIRST_CODE, 127))

# Rows converted to Python values at a time.
_BLOCK = 5000

# Where the lists' statement finds each listed student's history (see _keep_list_history).
# Always named with its temporary schema, so that no statement here can reach a table of that
# name in the store's own schema.
_HISTORY_TABLE = "list_history"

# One label per term (spellings of one term share it: the first as written).
_TERM_LABELS = (
    "term_labels AS (SELECT term_order, MIN(term) AS term FROM sections"
    " WHERE term_order IS NOT NULL GROUP BY term_order)"
)
