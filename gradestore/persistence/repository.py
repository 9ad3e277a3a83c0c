"""All of gradestore's SQL, behind methods named for what the use cases ask.

Bulk work is set-based: an ingest streams rows into a temporary staging table (executemany on
SQLite, COPY on PostgreSQL) and then compares and inserts with a handful of INSERT ... SELECT
statements; an analysis counts grades with GROUP BY. No query runs once per row or per student.
Every value reaches the database as a bound parameter.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from gradestore.persistence.models import (
    Analysis,
    Enrollment,
    Group,
    GroupSection,
    Performance,
    Run,
    RunGroup,
    Section,
    SourceFile,
    Student,
    ZScore,
    utc_now,
)

STAGING_COLUMNS = ("seq", "source_file_id", "line", "kind", "section", "student_id", "grade")
# Staged row kinds: a grade of a section, or an entry of a legacy .lst list file.
GRADE_ROW = "grade"
LIST_ROW = "list"

SERVICE_SCOPE = "service"
# Significant tests first, then by |z| (null z last), keeping the first :top rows.
_LARGEST_Z_FIRST = (
    "{table}.significant DESC, CASE WHEN {table}.z_score IS NULL THEN 1 ELSE 0 END,"
    " ABS({table}.z_score) DESC LIMIT :top"
)


@dataclass(frozen=True, slots=True)
class StagedDuplicate:
    section: str
    student_id: str
    grade: str
    source_file_id: int
    line: int


@dataclass(frozen=True, slots=True)
class StoredSection:
    id: int
    has_grades: bool


@dataclass(frozen=True, slots=True)
class NewSection:
    name: str
    credit_hours: float | None
    term: str | None
    header_name: str | None


class Repository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.is_postgres = connection.dialect.name == "postgresql"

    def _execute(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        return self.connection.execute(text(sql), params or {})

    # --- ingest: provenance -------------------------------------------------------------------

    def add_source_file(self, path: str, sha256: str, row_count: int) -> int:
        return self.connection.execute(
            insert(SourceFile)
            .values(path=path, sha256=sha256, row_count=row_count, ingested_at=utc_now())
            .returning(SourceFile.id)
        ).scalar_one()

    def set_source_row_count(self, source_file_id: int, row_count: int) -> None:
        self.connection.execute(
            update(SourceFile).where(SourceFile.id == source_file_id).values(row_count=row_count)
        )

    def unchanged_source(self, sha256: str) -> tuple[int, int] | None:
        """(sections, grades) of a file with these bytes that stored every grade it holds and
        whose grades are all still stored; None when the file must be read and compared."""
        row = self._execute(
            "SELECT sf.id, sf.grades_stored FROM source_files sf"
            " WHERE sf.sha256 = :sha256 AND sf.grades_stored > 0 ORDER BY sf.id DESC LIMIT 1",
            {"sha256": sha256},
        ).first()
        if row is None:
            return None
        sections, grades = self._execute(
            "SELECT COUNT(DISTINCT section_id), COUNT(*) FROM enrollments"
            " WHERE source_file_id = :source",
            {"source": row.id},
        ).one()
        return (sections, grades) if grades == row.grades_stored else None

    def set_source_grades_stored(self, source_file_id: int, grades: int) -> None:
        self.connection.execute(
            update(SourceFile).where(SourceFile.id == source_file_id).values(grades_stored=grades)
        )

    def drop_unused_source_files(self, source_file_ids: Sequence[int]) -> None:
        """Provenance is kept only for files that put something in the store."""
        if source_file_ids:
            self.connection.execute(
                text(
                    "DELETE FROM source_files WHERE id IN :ids"
                    " AND NOT EXISTS (SELECT 1 FROM enrollments e"
                    " WHERE e.source_file_id = source_files.id)"
                    " AND NOT EXISTS (SELECT 1 FROM list_appearances a"
                    " WHERE a.source_file_id = source_files.id)"
                ).bindparams(bindparam("ids", expanding=True)),
                {"ids": list(source_file_ids)},
            )

    # --- ingest: staging ----------------------------------------------------------------------

    def create_staging(self) -> None:
        """Temporary tables for one unit of ingest (dropped at commit on PostgreSQL)."""
        on_commit = " ON COMMIT DROP" if self.is_postgres else ""
        self._execute("DROP TABLE IF EXISTS staging_sections")
        self._execute("DROP TABLE IF EXISTS staging_grades")
        self._execute(
            "CREATE TEMPORARY TABLE staging_grades (seq INTEGER PRIMARY KEY,"
            " source_file_id INTEGER NOT NULL, line INTEGER NOT NULL, kind VARCHAR(5) NOT NULL,"
            " section TEXT NOT NULL, student_id TEXT NOT NULL,"
            f" grade VARCHAR(2) NOT NULL){on_commit}"
        )
        self._execute(
            "CREATE TEMPORARY TABLE staging_sections (section TEXT PRIMARY KEY,"
            f" action VARCHAR(8) NOT NULL){on_commit}"
        )

    def stage_rows(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Bulk-load rows shaped like STAGING_COLUMNS."""
        self._bulk_insert("staging_grades", STAGING_COLUMNS, rows)

    def _bulk_insert(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """COPY on PostgreSQL, executemany on SQLite: the fastest way in on each."""
        if not rows:
            return
        names = ", ".join(columns)
        if self.is_postgres:
            driver_connection = self.connection.connection.driver_connection
            assert driver_connection is not None
            with (
                driver_connection.cursor() as cursor,
                cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join("?" for _ in columns)
            self.connection.exec_driver_sql(
                f"INSERT INTO {table} ({names}) VALUES ({placeholders})", list(rows)
            )

    def index_staging(self) -> bool:
        """Index the staged rows; True when no (section, student) pair is staged twice.

        A unique index costs no more than a plain one and answers the question for free in the
        usual case; only when it fails are the duplicates looked for.
        """
        savepoint = self.connection.begin_nested()
        try:
            self._execute(
                "CREATE UNIQUE INDEX ix_staging_section_student"
                " ON staging_grades (section, student_id)"
            )
        except IntegrityError:
            savepoint.rollback()
            self._execute(
                "CREATE INDEX ix_staging_section_student ON staging_grades (section, student_id)"
            )
            unique = False
        else:
            savepoint.commit()
            unique = True
        if self.is_postgres:
            self._execute("ANALYZE staging_grades")
        return unique

    def staged_duplicates(self, limit: int = 1000) -> list[StagedDuplicate]:
        """Rows of (section, student) pairs staged more than once, in file order."""
        rows = self._execute(
            "SELECT g.section, g.student_id, g.grade, g.source_file_id, g.line"
            " FROM staging_grades g JOIN (SELECT section, student_id FROM staging_grades"
            f" WHERE kind = '{GRADE_ROW}' GROUP BY section, student_id HAVING COUNT(*) > 1) d"
            " ON d.section = g.section AND d.student_id = g.student_id"
            f" WHERE g.kind = '{GRADE_ROW}' ORDER BY g.seq LIMIT :limit",
            {"limit": limit},
        )
        return [StagedDuplicate(*row) for row in rows]

    def stored_sections(self, names: Sequence[str]) -> dict[str, StoredSection]:
        """Which of these sections the store holds, and whether they have grades."""
        found: dict[str, StoredSection] = {}
        statement = text(
            "SELECT sec.name, sec.id, EXISTS (SELECT 1 FROM enrollments e"
            " WHERE e.section_id = sec.id) FROM sections sec WHERE sec.name IN :names"
        ).bindparams(bindparam("names", expanding=True))
        for chunk in _chunks(sorted(names)):
            for name, section_id, has_grades in self.connection.execute(
                statement, {"names": chunk}
            ):
                found[name] = StoredSection(section_id, bool(has_grades))
        return found

    def set_section_actions(self, actions: dict[str, str]) -> None:
        """Per staged section: 'check' (compare), then 'new', 'fill', 'replace' or 'keep'."""
        self._execute("DELETE FROM staging_sections")
        if actions:
            self.connection.execute(
                text("INSERT INTO staging_sections (section, action) VALUES (:section, :action)"),
                [{"section": name, "action": action} for name, action in actions.items()],
            )

    def sections_with_other_grades(self) -> set[str]:
        """Of the sections marked 'check', those whose stored grades differ from the staged."""
        staged = (
            "SELECT g.section AS section, g.student_id AS student_id, g.grade AS grade"
            " FROM staging_grades g"
            " JOIN staging_sections ss ON ss.section = g.section AND ss.action = 'check'"
            f" WHERE g.kind = '{GRADE_ROW}'"
        )
        stored = (
            "SELECT sec.name AS section, st.student_id AS student_id, e.grade AS grade"
            " FROM staging_sections ss"
            " JOIN sections sec ON sec.name = ss.section AND ss.action = 'check'"
            " JOIN enrollments e ON e.section_id = sec.id JOIN students st ON st.id = e.student_id"
        )
        rows = self._execute(
            f"SELECT section FROM ({staged} EXCEPT {stored}) a"
            f" UNION SELECT section FROM ({stored} EXCEPT {staged}) b"
        )
        return {row[0] for row in rows}

    def stored_students(self) -> dict[str, tuple[str, str]]:
        """student_id -> (last name, first name) of the staged students the store knows."""
        if self.connection.execute(select(Student.id).limit(1)).first() is None:
            return {}  # a new store: nothing to compare, and the query would read every row
        rows = self._execute(
            "SELECT st.student_id, st.lname, st.fname FROM students st"
            " WHERE st.student_id IN (SELECT student_id FROM staging_grades)"
        )
        return {student_id: (last, first) for student_id, last, first in rows}

    def add_students(self, students: Sequence[tuple[str, str, str]]) -> int:
        """Insert (student_id, first name, last name) rows; the caller knows they are new."""
        self._bulk_insert("students", ("student_id", "fname", "lname"), students)
        return len(students)

    def add_sections(self, sections: Sequence[NewSection]) -> int:
        self._bulk_insert(
            "sections",
            ("name", "credit_hours", "term", "header_name"),
            [(s.name, s.credit_hours, s.term, s.header_name) for s in sections],
        )
        return len(sections)

    def store_staged_grades(self, *, deduplicate: bool, every_section: bool) -> None:
        """Replace the grades of 'replace' sections and insert those of 'new' and 'fill' ones.

        ``deduplicate``: the staging holds a (section, student) pair more than once (with the
        same grade); only its first row is stored. ``every_section``: no staged section is
        'keep', so no row needs its section's action looked up.
        """
        self._execute(
            "DELETE FROM enrollments WHERE section_id IN (SELECT sec.id FROM sections sec"
            " JOIN staging_sections ss ON ss.section = sec.name AND ss.action = 'replace')"
        )
        first_only = (
            " AND NOT EXISTS (SELECT 1 FROM staging_grades d WHERE d.section = g.section"
            " AND d.student_id = g.student_id AND d.seq < g.seq)"
            if deduplicate
            else ""
        )
        self._execute(
            "INSERT INTO enrollments (section_id, student_id, grade, source_file_id)"
            " SELECT sec.id, st.id, g.grade, g.source_file_id FROM staging_grades g"
            + (
                ""
                if every_section
                else " JOIN staging_sections ss ON ss.section = g.section"
                " AND ss.action IN ('new', 'fill', 'replace')"
            )
            + " JOIN sections sec ON sec.name = g.section"
            " JOIN students st ON st.student_id = g.student_id"
            f" WHERE g.kind = '{GRADE_ROW}'{first_only}"
            # File order keeps SQLite's index pages warm; PostgreSQL would only sort for nothing.
             + ("" if self.is_postgres else " ORDER BY g.seq")
        )

    def store_staged_list_entries(self) -> int:
        """Entries of .lst files become earlier list appearances (each stored once)."""
        return max(
            self._execute(
                "INSERT INTO list_appearances (student_id, section_name, grade, source_file_id)"
                " SELECT st.id, g.section, g.grade, MIN(g.source_file_id) FROM staging_grades g"
                " JOIN students st ON st.student_id = g.student_id"
                f" WHERE g.kind = '{LIST_ROW}' AND NOT EXISTS (SELECT 1 FROM list_appearances a"
                " WHERE a.student_id = st.id AND a.section_name = g.section"
                " AND a.grade = g.grade) GROUP BY st.id, g.section, g.grade"
            ).rowcount,
            0,
        )

    # --- groups, runs, sections, students -------------------------------------------------------

    def ensure_groups(self, names: Iterable[str]) -> dict[str, int]:
        return self._ensure_named(Group, names)

    def ensure_sections(self, names: Iterable[str]) -> dict[str, int]:
        return self._ensure_named(Section, names)

    def _ensure_named(
        self, model: type[Group] | type[Section] | type[Run], names: Iterable[str]
    ) -> dict[str, int]:
        wanted = sorted(set(names))
        if not wanted:
            return {}
        existing = self._ids_by_name(model, wanted)
        missing = [name for name in wanted if name not in existing]
        if missing:
            self.connection.execute(insert(model), [{"name": name} for name in missing])
            existing.update(self._ids_by_name(model, missing))
        return existing

    def _ids_by_name(self, model: Any, names: list[str]) -> dict[str, int]:
        ids: dict[str, int] = {}
        for start in range(0, len(names), 500):
            chunk = names[start : start + 500]
            ids.update(
                self.connection.execute(
                    select(model.name, model.id).where(model.name.in_(chunk))
                ).all()
            )
        return ids

    def add_memberships(self, pairs: Iterable[tuple[str, str]]) -> int:
        """Put sections into groups; pairs are (group, section) names. Returns how many are new."""
        wanted = set(pairs)
        if not wanted:
            return 0
        group_ids = self.ensure_groups(group for group, _ in wanted)
        section_ids = self._ids_by_name(Section, sorted({section for _, section in wanted}))
        rows = {
            (group_ids[group], section_ids[section])
            for group, section in wanted
            if section in section_ids
        }
        existing = set(
            self.connection.execute(
                select(GroupSection.group_id, GroupSection.section_id).where(
                    GroupSection.group_id.in_(sorted({group for group, _ in rows}))
                )
            ).all()
        )
        new_rows = sorted(rows - existing)
        if new_rows:
            self.connection.execute(
                insert(GroupSection),
                [{"group_id": group, "section_id": section} for group, section in new_rows],
            )
        return len(new_rows)

    def add_run_groups(self, pairs: Iterable[tuple[str, str]]) -> int:
        """Record legacy runs; pairs are (run name, group name). Returns how many are new."""
        wanted = set(pairs)
        if not wanted:
            return 0
        run_ids = self._ensure_named(Run, (run for run, _ in wanted))
        group_ids = self.ensure_groups(group for _, group in wanted)
        rows = {(run_ids[run], group_ids[group]) for run, group in wanted}
        existing = set(
            self.connection.execute(
                select(RunGroup.run_id, RunGroup.group_id).where(
                    RunGroup.run_id.in_(sorted(run_ids.values()))
                )
            ).all()
        )
        new_rows = sorted(rows - existing)
        if new_rows:
            self.connection.execute(
                insert(RunGroup), [{"run_id": run, "group_id": group} for run, group in new_rows]
            )
        return len(new_rows)

    def ensure_students(self, students: Iterable[tuple[str, str, str]]) -> dict[str, int]:
        """(student_id, first name, last name) -> row id; a known student keeps the stored name."""
        by_id = {student_id: (first, last) for student_id, first, last in students}
        if not by_id:
            return {}
        wanted = sorted(by_id)
        existing = self._student_ids(wanted)
        missing = [student_id for student_id in wanted if student_id not in existing]
        if missing:
            self.connection.execute(
                insert(Student),
                [
                    {"student_id": sid, "fname": by_id[sid][0], "lname": by_id[sid][1]}
                    for sid in missing
                ],
            )
            existing.update(self._student_ids(missing))
        return existing

    def _student_ids(self, student_ids: list[str]) -> dict[str, int]:
        ids: dict[str, int] = {}
        for start in range(0, len(student_ids), 500):
            chunk = student_ids[start : start + 500]
            ids.update(
                self.connection.execute(
                    select(Student.student_id, Student.id).where(Student.student_id.in_(chunk))
                ).all()
            )
        return ids

    # --- the seed's service API -------------------------------------------------------------------

    def service_analysis_id(self) -> int:
        """The one analysis that collects rows written through the seed's service API."""
        found = self.connection.execute(
            select(Analysis.id).where(Analysis.scope_kind == SERVICE_SCOPE).order_by(Analysis.id)
        ).first()
        if found is not None:
            return found[0]
        return self.connection.execute(
            insert(Analysis)
            .values(created_at=utc_now(), threshold=None, scope_kind=SERVICE_SCOPE, scope_names=[])
            .returning(Analysis.id)
        ).scalar_one()

    def add_performances(
        self, analysis_id: int, section_id: int, rows: Iterable[tuple[int, str, str]]
    ) -> int:
        """Add (student row id, grade, category) list entries not stored yet; returns how many."""
        wanted = {(student, category): grade for student, grade, category in rows}
        if not wanted:
            return 0
        existing = set(
            self.connection.execute(
                select(Performance.student_id, Performance.category).where(
                    Performance.analysis_id == analysis_id, Performance.section_id == section_id
                )
            ).all()
        )
        new_rows = [
            {
                "analysis_id": analysis_id,
                "section_id": section_id,
                "student_id": student,
                "grade": grade,
                "category": category,
                "appeared_before": False,
            }
            for (student, category), grade in sorted(wanted.items())
            if (student, category) not in existing
        ]
        if new_rows:
            self.connection.execute(insert(Performance), new_rows)
        return len(new_rows)

    def set_section_stats(self, section_id: int, mean_gpa: float | None, count: int | None) -> None:
        self.connection.execute(
            update(Section).where(Section.id == section_id).values(mean_gpa=mean_gpa, count=count)
        )

    def set_group_stats(self, group_id: int, mean_gpa: float | None, stddev: float | None) -> None:
        self.connection.execute(
            update(Group).where(Group.id == group_id).values(mean_gpa=mean_gpa, stddev=stddev)
        )

    def put_service_zscore(
        self,
        analysis_id: int,
        section_id: int,
        z_score: float | None,
        p_value: float | None,
        significant: bool,
        threshold: float,
        timestamp: datetime,
    ) -> None:
        """One z-score per section in the service analysis: a repeat call updates it."""
        values = {
            "z_score": z_score,
            "p_value": p_value,
            "significant": significant,
            "threshold": threshold,
            "timestamp": timestamp,
        }
        updated = self.connection.execute(
            update(ZScore)
            .where(
                ZScore.analysis_id == analysis_id,
                ZScore.section_id == section_id,
                ZScore.group_id.is_(None),
            )
            .values(**values)
        ).rowcount
        if not updated:
            self.connection.execute(
                insert(ZScore).values(analysis_id=analysis_id, section_id=section_id, **values)
            )

    # --- analyses: scope and inputs --------------------------------------------------------------

    def has_grades(self) -> bool:
        return self.connection.execute(select(Enrollment.id).limit(1)).first() is not None

    def group_ids(self, names: Iterable[str]) -> dict[str, int]:
        return self._ids_by_name(Group, sorted(set(names)))

    def group_names(self) -> list[str]:
        return list(self.connection.execute(select(Group.name).order_by(Group.name)).scalars())

    def section_names(self) -> list[str]:
        return list(self.connection.execute(select(Section.name).order_by(Section.name)).scalars())

    def run_names(self) -> list[str]:
        return list(self.connection.execute(select(Run.name).order_by(Run.name)).scalars())

    def run_group_names(self, run_name: str) -> list[str] | None:
        """The groups of a legacy run, or None when no such run is stored."""
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

    def scope_grade_counts(
        self, group_ids: Sequence[int] | None, letters: Sequence[str]
    ) -> dict[int, dict[str, int]]:
        """section id -> {letter: how many} for every section of the scope (all ``letters``,
        zeros included; a section without grades too). ``group_ids`` None: every section.

        The counting is one GROUP BY over the (section_id, grade) index; its rows (a dozen per
        section) are read through the driver's cursor, which at a million grades is twice as
        fast as building SQLAlchemy rows for them.
        """
        if group_ids is None:
            sections = "SELECT id FROM sections"
            counts = (
                "SELECT section_id, grade, COUNT(*) FROM enrollments GROUP BY section_id, grade"
            )
            params: tuple[Any, ...] = ()
        else:
            marks = ", ".join("?" for _ in group_ids)
            sections = f"SELECT DISTINCT section_id FROM group_sections WHERE group_id IN ({marks})"
            counts = (
                "SELECT e.section_id, e.grade, COUNT(*) FROM enrollments e"
                f" WHERE e.section_id IN ({sections}) GROUP BY e.section_id, e.grade"
            )
            params = tuple(group_ids)
        result = {
            section_id: dict.fromkeys(letters, 0)
            for (section_id,) in self._driver_rows(sections, params)
        }
        for section_id, letter, count in self._driver_rows(counts, params):
            if letter in result[section_id]:
                result[section_id][letter] = count
        return result

    def _driver_rows(self, sql: str, params: tuple[Any, ...]) -> Sequence[Any]:
        """All rows of a query (written with ? placeholders) through the DBAPI cursor."""
        if self.is_postgres:
            sql = sql.replace("?", "%s")
        cursor = self.connection.connection.cursor()
        try:
            cursor.execute(sql, params)
            return cursor.fetchall()
        finally:
            cursor.close()

    def scope_memberships(self, group_ids: Sequence[int] | None) -> list[tuple[int, str, int]]:
        """(group id, group name, section id) of the groups of the scope (None: every group)."""
        statement = select(Group.id, Group.name, GroupSection.section_id).join(
            GroupSection, GroupSection.group_id == Group.id
        )
        if group_ids is not None:
            statement = statement.where(Group.id.in_(list(group_ids)))
        return [tuple(row) for row in self.connection.execute(statement.order_by(Group.name))]  # type: ignore[misc]

    # --- analyses: results ----------------------------------------------------------------------

    def create_analysis(
        self, threshold: float, scope_kind: str, scope_names: list[str], created_at: datetime
    ) -> int:
        return self.connection.execute(
            insert(Analysis)
            .values(
                created_at=created_at,
                threshold=threshold,
                scope_kind=scope_kind,
                scope_names=scope_names,
            )
            .returning(Analysis.id)
        ).scalar_one()

    def add_analysis_rows(
        self,
        *,
        sections: list[dict[str, Any]],
        groups: list[dict[str, Any]],
        zscores: list[dict[str, Any]],
    ) -> None:
        """Store an analysis' figures, and copy the latest into the seed's columns.

        Written with the driver's bulk paths (COPY, executemany): an analysis of a million
        grades writes tens of thousands of rows.
        """
        section_columns = ("analysis_id", "section_id", "count", "mean_gpa", "grade_counts")
        self._bulk_insert(
            "analysis_sections",
            section_columns,
            [
                (*(row[name] for name in section_columns[:-1]), json.dumps(row["grade_counts"]))
                for row in sections
            ],
        )
        group_columns = (
            "analysis_id", "group_id", "count", "mean_gpa", "stddev", "z_score", "p_value",
            "significant",
        )  # fmt: skip
        self._bulk_insert(
            "analysis_groups",
            group_columns,
            [tuple(row[name] for name in group_columns) for row in groups],
        )
        zscore_columns = (
            "analysis_id", "section_id", "group_id", "z_score", "p_value", "significant",
            "threshold", "timestamp",
        )  # fmt: skip
        self._bulk_insert(
            "zscores",
            zscore_columns,
            [
                (*(row[name] for name in zscore_columns[:-1]), self._timestamp(row["timestamp"]))
                for row in zscores
            ],
        )
        self._execute_many(
            "UPDATE sections SET mean_gpa = ?, count = ? WHERE id = ?",
            [(row["mean_gpa"], row["count"], row["section_id"]) for row in sections],
        )
        self._execute_many(
            "UPDATE groups SET mean_gpa = ?, stddev = ? WHERE id = ?",
            [(row["mean_gpa"], row["stddev"], row["group_id"]) for row in groups],
        )

    def _execute_many(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """One statement (written with ? placeholders) for many rows, through the driver."""
        if rows:
            if self.is_postgres:
                sql = sql.replace("?", "%s")
            self.connection.exec_driver_sql(sql, list(rows))

    def _timestamp(self, value: datetime) -> Any:
        """A timestamp as the driver-level bulk paths must pass it: SQLAlchemy's SQLite
        storage format (naive UTC text), or the aware datetime for PostgreSQL."""
        if self.is_postgres:
            return value
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")

    def add_list_performances(
        self, analysis_id: int, good_grades: Sequence[str], work_grades: Sequence[str]
    ) -> None:
        """Every qualifying grade of the analysis' sections becomes a performance row, and
        ``appeared_before`` is set for students with a qualifying grade outside those sections
        or an earlier list appearance (.lst) in another section."""
        qualifying = [*good_grades, *work_grades]
        listed_before = (
            "SELECT e.student_id FROM enrollments e WHERE e.grade IN :qualifying"
            " AND NOT EXISTS (SELECT 1 FROM analysis_sections a"
            " WHERE a.analysis_id = :analysis AND a.section_id = e.section_id)"
            " UNION SELECT la.student_id FROM list_appearances la"
            " WHERE NOT EXISTS (SELECT 1 FROM analysis_sections a"
            " JOIN sections s ON s.id = a.section_id"
            " WHERE a.analysis_id = :analysis AND s.name = la.section_name)"
        )
        self.connection.execute(
            text(
                "INSERT INTO performances"
                " (section_id, student_id, grade, category, analysis_id, appeared_before)"
                " SELECT e.section_id, e.student_id, e.grade,"
                " CASE WHEN e.grade IN :good THEN 'good' ELSE 'bad' END, :analysis,"
                f" CASE WHEN e.student_id IN ({listed_before}) THEN :yes ELSE :no END"
                " FROM enrollments e JOIN analysis_sections a ON a.section_id = e.section_id"
                " AND a.analysis_id = :analysis WHERE e.grade IN :qualifying"
                # In student order SQLite's student index grows at its end: a third faster.
                # PostgreSQL would only spend a sort on it.
                + ("" if self.is_postgres else " ORDER BY e.student_id")
            ).bindparams(
                bindparam("good", expanding=True), bindparam("qualifying", expanding=True)
            ),
            {
                "good": list(good_grades),
                "qualifying": qualifying,
                "analysis": analysis_id,
                "yes": True,
                "no": False,
            },
        )

    # --- analyses: reading back -----------------------------------------------------------------

    def latest_analysis_id(self) -> int | None:
        """The newest analysis made by `gradestore analyze` (not the seed API's collection)."""
        return self.connection.execute(
            select(Analysis.id)
            .where(Analysis.scope_kind != SERVICE_SCOPE)
            .order_by(Analysis.created_at.desc(), Analysis.id.desc())
            .limit(1)
        ).scalar()

    def analysis_ids(self) -> list[int]:
        return list(self.connection.execute(select(Analysis.id).order_by(Analysis.id)).scalars())

    def analysis(self, analysis_id: int) -> dict[str, Any] | None:
        row = self.connection.execute(
            select(
                Analysis.id,
                Analysis.created_at,
                Analysis.threshold,
                Analysis.scope_kind,
                Analysis.scope_names,
            ).where(Analysis.id == analysis_id)
        ).first()
        return dict(row._mapping) if row is not None else None

    def section_tests(
        self,
        analysis_id: int,
        *,
        section: str | None = None,
        group: str | None = None,
        top: int | None = None,
    ) -> list[dict[str, Any]]:
        """One row per (section, group) test of the analysis; group None for a section in none.

        ``section`` or ``group`` keep that section's or that group's tests only; ``top`` keeps
        the significant ones and the largest |z| first, at most that many.
        """
        only = " AND sec.name = :section" if section is not None else ""
        only += " AND g.name = :group" if group is not None else ""
        order = "sec.name, g.name" if top is None else _LARGEST_Z_FIRST.format(table="z")
        rows = self._execute(
            "SELECT sec.name, g.name, a.count, a.mean_gpa, a.grade_counts,"
            " z.z_score, z.p_value, z.significant"
            " FROM analysis_sections a JOIN sections sec ON sec.id = a.section_id"
            " LEFT JOIN zscores z ON z.analysis_id = a.analysis_id AND z.section_id = a.section_id"
            " LEFT JOIN groups g ON g.id = z.group_id"
            f" WHERE a.analysis_id = :analysis{only} ORDER BY {order}",
            {"analysis": analysis_id, "section": section, "group": group, "top": top},
        )
        return [
            {
                "section": section,
                "group": group,
                "count": count,
                "mean_gpa": mean_gpa,
                "grade_counts": _json_value(grade_counts),
                "z_score": z_score,
                "p_value": p_value,
                "significant": bool(significant),
            }
            for section, group, count, mean_gpa, grade_counts, z_score, p_value, significant in rows
        ]

    def group_tests(
        self, analysis_id: int, *, group: str | None = None, top: int | None = None
    ) -> list[dict[str, Any]]:
        only = " AND g.name = :group" if group is not None else ""
        order = "g.name" if top is None else _LARGEST_Z_FIRST.format(table="a")
        rows = self._execute(
            "SELECT g.name, a.count, a.mean_gpa, a.stddev, a.z_score, a.p_value, a.significant"
            " FROM analysis_groups a JOIN groups g ON g.id = a.group_id"
            f" WHERE a.analysis_id = :analysis{only} ORDER BY {order}",
            {"analysis": analysis_id, "group": group, "top": top},
        )
        return [
            {
                "group": group,
                "count": count,
                "mean_gpa": mean_gpa,
                "stddev": stddev,
                "z_score": z_score,
                "p_value": p_value,
                "significant": bool(significant),
            }
            for group, count, mean_gpa, stddev, z_score, p_value, significant in rows
        ]

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

    def test_counts(self, analysis_id: int) -> tuple[int, int]:
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
        return sections, groups

    def list_sizes(self, analysis_id: int) -> tuple[int, int]:
        """How many distinct students are on the good and on the work list."""
        sizes = dict(
            self._execute(
                "SELECT category, COUNT(DISTINCT student_id) FROM performances"
                " WHERE analysis_id = :analysis GROUP BY category",
                {"analysis": analysis_id},
            ).all()
        )
        return sizes.get("good", 0), sizes.get("bad", 0)

    def list_rows(
        self,
        analysis_id: int,
        category: str,
        *,
        section: str | None = None,
    ) -> Iterator[Any]:
        """A list's rows (of one section, if given), ordered by student name then section."""
        section_filter = " AND sec.name = :section" if section is not None else ""
        # Streamed (a server-side cursor on PostgreSQL): lists can hold 100,000s of rows.
        return iter(
            self.connection.execute(
                text(
                    "SELECT st.student_id AS student_id, st.fname AS first_name,"
                    " st.lname AS last_name, sec.name AS section, p.grade AS grade,"
                    " p.appeared_before AS appeared_before FROM performances p"
                    " JOIN students st ON st.id = p.student_id"
                    " JOIN sections sec ON sec.id = p.section_id"
                    f" WHERE p.analysis_id = :analysis AND p.category = :category{section_filter}"
                    " ORDER BY st.lname, st.fname, st.student_id, sec.name"
                ),
                {"analysis": analysis_id, "category": category, "section": section},
                execution_options={"yield_per": 5000},
            )
        )

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

    # --- reports --------------------------------------------------------------------------------

    def section_info(self, name: str) -> dict[str, Any] | None:
        row = self.connection.execute(
            select(Section.name, Section.term, Section.credit_hours, Section.header_name).where(
                Section.name == name
            )
        ).first()
        return dict(row._mapping) if row is not None else None

    def student(self, student_id: str) -> dict[str, Any] | None:
        row = self.connection.execute(
            select(Student.id, Student.student_id, Student.fname, Student.lname).where(
                Student.student_id == student_id
            )
        ).first()
        return dict(row._mapping) if row is not None else None

    def student_ids(self) -> list[str]:
        return list(self.connection.execute(select(Student.student_id)).scalars())

    def student_grades(self, student_pk: int) -> list[Any]:
        """(section, term, grade) of every stored grade of a student."""
        return list(
            self._execute(
                "SELECT sec.name AS section, sec.term AS term, e.grade AS grade"
                " FROM enrollments e JOIN sections sec ON sec.id = e.section_id"
                " WHERE e.student_id = :student ORDER BY sec.term, sec.name",
                {"student": student_pk},
            )
        )

    def student_list_history(self, student_pk: int) -> list[Any]:
        """Every list entry of a student in every analysis, oldest analysis first."""
        return list(
            self._execute(
                "SELECT a.id AS analysis_id, a.created_at AS created_at, p.category AS category,"
                " sec.name AS section, p.grade AS grade FROM performances p"
                " JOIN analyses a ON a.id = p.analysis_id"
                " JOIN sections sec ON sec.id = p.section_id"
                " WHERE p.student_id = :student ORDER BY a.id, p.category, sec.name",
                {"student": student_pk},
            )
        )

    def student_earlier_lists(self, student_pk: int) -> list[Any]:
        """Entries of a student in legacy .lst files."""
        return list(
            self._execute(
                "SELECT la.section_name AS section, la.grade AS grade, sf.path AS path"
                " FROM list_appearances la LEFT JOIN source_files sf ON sf.id = la.source_file_id"
                " WHERE la.student_id = :student ORDER BY la.section_name",
                {"student": student_pk},
            )
        )


def _chunks(items: Sequence[Any], size: int = 500) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _json_value(value: Any) -> Any:
    """JSON columns come back parsed, except through a plain text() query on some drivers."""
    if isinstance(value, str):
        import json

        return json.loads(value)
    return value
