"""The ingest use case's SQL: provenance, the staging tables, the checks and the writes.

Bulk work is set-based: an ingest streams rows into a temporary staging table (executemany on
SQLite, COPY on PostgreSQL) and then compares and inserts with a handful of INSERT ... SELECT
statements. No query runs once per row or per student.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import repeat
from typing import TYPE_CHECKING, Generic, TypeVar

from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.exc import IntegrityError

from gradestore.kinds import RowKind, SectionAction
from gradestore.persistence.rows import (
    NewMembership,
    NewSection,
    StagedDuplicate,
    StagedRow,
    StagedStudent,
    StoredAsOther,
    StoredSection,
)
from gradestore.persistence.sql import SqlStore, chunks
from gradestore.persistence.types import UTCDateTime, utc_now

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from sqlalchemy.orm import InstrumentedAttribute

# The direct load of a plain CSV writes with these statements and Core alone: the ORM models
# (about 0.1 s to import) are imported by the usual path's methods, where they are used.
_ADD_SOURCE_FILE = text(
    "INSERT INTO source_files (path, sha256, row_count, ingested_at)"
    " VALUES (:path, :sha256, :row_count, :ingested_at) RETURNING id"
).bindparams(bindparam("ingested_at", type_=UTCDateTime()))

STAGING_COLUMNS = StagedRow._fields
MEMBERSHIP_CHUNK = 5000
# Sections whose grades an ingest writes.
_WRITTEN = (SectionAction.NEW, SectionAction.FILL, SectionAction.REPLACE)


class IngestStore(SqlStore):
    # --- provenance ---------------------------------------------------------------------------

    def add_source_file(self, path: str, sha256: str, row_count: int) -> int:
        return int(
            self.connection.execute(
                _ADD_SOURCE_FILE,
                {"path": path, "sha256": sha256, "row_count": row_count, "ingested_at": utc_now()},
            ).scalar_one()
        )

    def set_source_row_count(self, source_file_id: int, row_count: int) -> None:
        self._execute(
            "UPDATE source_files SET row_count = :rows WHERE id = :id",
            {"rows": row_count, "id": source_file_id},
        )

    def set_source_grades_stored(self, source_file_id: int, grades: int, sections: int) -> None:
        """The file stored every grade it holds: ``grades`` in ``sections``. Set after the
        unit's last write of enrollments (a trigger clears it when one of them goes)."""
        self._execute(
            "UPDATE source_files SET grades_stored = :grades, sections_stored = :sections"
            " WHERE id = :id",
            {"grades": grades, "sections": sections, "id": source_file_id},
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
                    # A file that only put sections into groups (or runs) is kept for them.
                    " AND NOT EXISTS (SELECT 1 FROM group_sections gs"
                    " WHERE gs.source_file_id = source_files.id)"
                    " AND NOT EXISTS (SELECT 1 FROM run_groups rg"
                    " WHERE rg.source_file_id = source_files.id)"
                ).bindparams(bindparam("ids", expanding=True)),
                {"ids": list(source_file_ids)},
            )

    # --- staging ------------------------------------------------------------------------------

    def create_staging(self) -> None:
        """Temporary tables for one unit of ingest (dropped at commit on PostgreSQL)."""
        on_commit = " ON COMMIT DROP" if self.is_postgres else ""
        self._execute("DROP TABLE IF EXISTS staging_sections")
        self._execute("DROP TABLE IF EXISTS staging_grades")
        self._execute("DROP TABLE IF EXISTS staging_students")
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
        # Each student of the unit once, as first seen (seq: the order first seen).
        # On SQLite one B-tree keyed by the id (WITHOUT ROWID): a look-up is one descent.
        clustered = "" if self.is_postgres else " WITHOUT ROWID"
        self._execute(
            "CREATE TEMPORARY TABLE staging_students (student_id TEXT PRIMARY KEY,"
            " seq INTEGER NOT NULL, last_name TEXT NOT NULL, first_name TEXT NOT NULL,"
            f" source_file_id INTEGER NOT NULL, line INTEGER NOT NULL){clustered}{on_commit}"
        )

    def stage_rows(self, rows: Sequence[StagedRow]) -> None:
        self._bulk_insert("staging_grades", STAGING_COLUMNS, rows)

    def stage_students(self, students: Sequence[StagedStudent]) -> None:
        """Note students first seen (the caller knows they are not staged yet)."""
        self._bulk_insert("staging_students", StagedStudent._fields, students)

    def staged_students(self, student_ids: Sequence[str]) -> dict[str, StagedStudent]:
        """Of these students, those staged already, as first seen. One query, the ids in
        order (the look-ups then walk the table's pages in order)."""
        if not student_ids:
            return {}
        rows = self._driver_rows(
            f"SELECT {', '.join(StagedStudent._fields)} FROM staging_students"
            f" WHERE student_id {self._in_list()}",
            (self._list_value(sorted(student_ids)),),
        )
        return {str(row[0]): StagedStudent(*row) for row in rows}  # type: ignore[arg-type]

    def stage_grade_columns(
        self,
        first_seq: int,
        source_file_id: int,
        lines: Sequence[int],
        sections: Sequence[str],
        student_ids: Sequence[str],
        grades: Sequence[str],
    ) -> None:
        """Stage grade rows given column by column (the plain CSV's fast path), numbered from
        ``first_seq``: no row object is made per grade."""
        rows = zip(
            range(first_seq, first_seq + len(lines)),
            repeat(source_file_id),
            lines,
            repeat(RowKind.GRADE.value),
            sections,
            student_ids,
            grades,
            strict=False,
        )
        self._bulk_insert_iter("staging_grades", STAGING_COLUMNS, rows)

    # --- the direct load of a plain CSV into new sections (no staging of grades) -------------

    def known_students(self, student_ids: Sequence[str]) -> list[tuple[str, int, str, str]]:
        """Of these students, those the store holds: (student_id, key, last, first). One
        query, the ids passed as one value (a JSON array on SQLite, an array on PostgreSQL)."""
        rows = self._driver_rows(
            "SELECT st.student_id, st.id, st.lname, st.fname FROM students st"
            f" WHERE st.student_id {self._in_list()}",
            (self._list_value(student_ids),),
        )
        return [(str(a), int(str(b)), str(c), str(d)) for a, b, c, d in rows]

    def add_student_columns(
        self,
        student_ids: Sequence[str],
        last_names: Sequence[str],
        first_names: Sequence[str],
        source_file_id: int,
    ) -> list[int]:
        """Insert students the caller knows are new, given column by column, with keys taken
        here (the unit is the only writer: BEGIN IMMEDIATE on SQLite, the sequence on
        PostgreSQL); their keys, in order. No query reads them back."""
        if not student_ids:
            return []
        keys = self._new_keys("students", len(student_ids))
        self._bulk_insert_iter(
            "students",
            ("id", "student_id", "fname", "lname", "source_file_id"),
            zip(keys, student_ids, first_names, last_names, repeat(source_file_id), strict=False),
        )
        return keys

    def has_students(self) -> bool:
        return self._execute("SELECT id FROM students LIMIT 1").first() is not None

    def has_sections(self) -> bool:
        return self._execute("SELECT id FROM sections LIMIT 1").first() is not None

    def add_sections_with_keys(self, sections: Sequence[NewSection]) -> list[int]:
        """Insert new sections (the caller knows none is stored) with keys taken here, as
        add_student_columns; their keys, in order."""
        if not sections:
            return []
        keys = self._new_keys("sections", len(sections))
        self._bulk_insert_iter(
            "sections",
            (
                "id", "name", "credit_hours", "term", "term_order", "header_name",
                "source_file_id",
            ),
            (
                (key, s.name, s.credit_hours, s.term, s.term_order, s.header_name,
                 s.source_file_id)
                for key, s in zip(keys, sections, strict=True)
            ),
        )  # fmt: skip
        return keys

    def any_stored_section(self, names: Sequence[str]) -> bool:
        """Whether the store holds any of these sections (by name alone: the direct load's
        question, asked per block while enrollments grows). One query."""
        return bool(
            self._driver_rows(
                f"SELECT 1 FROM sections WHERE name {self._in_list()} LIMIT 1",
                (self._list_value(names),),
            )
        )

    def set_section_details(self, sections: Sequence[NewSection]) -> None:
        """Credit hours and term of sections that a later block gave them."""
        self._execute_many(
            "UPDATE sections SET credit_hours = ?, term = ?, term_order = ? WHERE name = ?",
            [(s.credit_hours, s.term, s.term_order, s.name) for s in sections],
        )

    def add_grade_columns(
        self,
        section_keys: npt.NDArray[np.int64],
        student_keys: npt.NDArray[np.int64],
        grade_codes: npt.NDArray[np.intp],
        letters: Sequence[str],
        source_file_id: int,
    ) -> bool:
        """Insert grades given column by column, by key, straight into enrollments (each
        row's letter as its position in ``letters``); False when a (section, student) pair is
        there already (the unit must then be rolled back to its savepoint: PostgreSQL's
        transaction is aborted)."""
        dbapi = self.connection.dialect.dbapi
        assert dbapi is not None
        columns = ("section_id", "student_id", "grade", "source_file_id")
        try:
            if not self.is_postgres and self._insert_packed_grades(
                section_keys, student_keys, grade_codes, letters, source_file_id
            ):
                return True
            import numpy as np

            grades = np.array(letters, dtype=object)[grade_codes].tolist()
            if self.is_postgres and _copy_safe(letters):
                self._copy_text(
                    "enrollments",
                    columns,
                    "".join(
                        map(f"{{}}\t{{}}\t{{}}\t{source_file_id}\n".format,
                            section_keys.tolist(), student_keys.tolist(), grades)
                    ),
                )  # fmt: skip
            else:
                self._bulk_insert_iter(
                    "enrollments",
                    columns,
                    zip(
                        section_keys.tolist(),
                        student_keys.tolist(),
                        grades,
                        repeat(source_file_id),
                    ),
                )
        except dbapi.IntegrityError:
            return False
        return True

    def _insert_packed_grades(
        self,
        section_keys: npt.NDArray[np.int64],
        student_keys: npt.NDArray[np.int64],
        grade_codes: npt.NDArray[np.intp],
        letters: Sequence[str],
        source_file_id: int,
    ) -> bool:
        """SQLite: the rows as one JSON array of integers, each row's three values packed
        into one, unpacked by one ``INSERT ... SELECT`` over ``json_each``: no Python call and
        no parameter binding per grade (executemany of the same rows took twice as long).
        False (nothing done) when the packed values would not fit in 64 bits."""
        if not len(section_keys):
            return True
        width, students = len(letters), int(student_keys.max()) + 1
        if (int(section_keys.max()) + 1) * students * width >= 1 << 63 or min(
            int(section_keys.min()), int(student_keys.min())
        ) < 0:
            return False
        packed = (section_keys * students + student_keys) * width + grade_codes
        letter = " ".join(f"WHEN {code} THEN ?{code + 5}" for code in range(width))
        cursor = self.connection.connection.cursor()
        try:
            cursor.execute(
                "INSERT INTO enrollments (section_id, student_id, grade, source_file_id)"
                " SELECT value / ?2 / ?3, value / ?2 % ?3,"
                f" CASE value % ?2 {letter} END, ?4 FROM json_each(?1)",
                (json.dumps(packed.tolist()), width, students, source_file_id, *letters),
            )
        finally:
            cursor.close()
        return True

    def create_membership_staging(self) -> None:
        """A temporary table of the (group name, section key) pairs a direct load gives."""
        on_commit = " ON COMMIT DROP" if self.is_postgres else ""
        self._execute("DROP TABLE IF EXISTS staging_memberships")
        self._execute(
            "CREATE TEMPORARY TABLE staging_memberships (group_name TEXT NOT NULL,"
            f" section_id INTEGER NOT NULL){on_commit}"
        )

    def stage_memberships(self, pairs: Sequence[tuple[str, int]]) -> None:
        self._bulk_insert("staging_memberships", ("group_name", "section_id"), pairs)

    def store_staged_memberships(self, source_file_id: int, group: str | None) -> int:
        """The staged memberships (and, with ``group``, every section the file created) go
        into group_sections: the sections are new, so every pair is new. Missing groups are
        created first, by name in order, as add_memberships does. Returns how many."""
        if group is not None:
            self._execute(
                "INSERT INTO staging_memberships (group_name, section_id)"
                " SELECT :group, id FROM sections WHERE source_file_id = :source",
                {"group": group, "source": source_file_id},
            )
        names = self._execute("SELECT DISTINCT group_name FROM staging_memberships").scalars()
        self._ensure_groups_from(dict.fromkeys(names, source_file_id))
        staged = self._execute("SELECT COUNT(*) FROM staging_memberships").scalar_one()
        with self.indexes_built_after("group_sections", staged):
            inserted = self._execute(
                "INSERT INTO group_sections (group_id, section_id, source_file_id)"
                " SELECT DISTINCT g.id, m.section_id, :source FROM staging_memberships m"
                " JOIN groups g ON g.name = m.group_name",
                {"source": source_file_id},
            ).rowcount
        return max(inserted, 0)

    def unstage_file(self, source_file_id: int) -> None:
        """Take a file's rows out of the staging table (the fast path gave up on it)."""
        for table in ("staging_grades", "staging_students"):
            self._execute(
                f"DELETE FROM {table} WHERE source_file_id = :source", {"source": source_file_id}
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
            " WHERE kind = :grade_row GROUP BY section, student_id HAVING COUNT(*) > 1) d"
            " ON d.section = g.section AND d.student_id = g.student_id"
            " WHERE g.kind = :grade_row ORDER BY g.seq LIMIT :limit",
            {"limit": limit, "grade_row": RowKind.GRADE},
        )
        return [StagedDuplicate(*row) for row in rows]

    def stored_sections(self, names: Sequence[str]) -> dict[str, StoredSection]:
        """Which of these sections the store holds, and whether they have grades."""
        found: dict[str, StoredSection] = {}
        statement = text(
            "SELECT sec.name, sec.id, EXISTS (SELECT 1 FROM enrollments e"
            " WHERE e.section_id = sec.id) FROM sections sec WHERE sec.name IN :names"
        ).bindparams(bindparam("names", expanding=True))
        for chunk in chunks(sorted(names)):
            for name, section_id, has_grades in self.connection.execute(
                statement, {"names": chunk}
            ):
                found[name] = StoredSection(section_id, bool(has_grades))
        return found

    def set_section_actions(self, actions: Mapping[str, SectionAction]) -> None:
        """Per staged section: CHECK (being compared), then NEW, FILL, REPLACE or KEEP."""
        self._execute("DELETE FROM staging_sections")
        if actions:  # streamed: no parameter dictionary per section (188,000 at 5M grades)
            self._bulk_insert_iter(
                "staging_sections",
                ("section", "action"),
                ((name, action.value) for name, action in actions.items()),
            )

    def sections_with_other_grades(self) -> set[str]:
        """Of the sections marked CHECK, those whose stored grades differ from the staged."""
        staged = (
            "SELECT g.section AS section, g.student_id AS student_id, g.grade AS grade"
            " FROM staging_grades g"
            " JOIN staging_sections ss ON ss.section = g.section AND ss.action = :check"
            " WHERE g.kind = :grade_row"
        )
        stored = (
            "SELECT sec.name AS section, st.student_id AS student_id, e.grade AS grade"
            " FROM staging_sections ss"
            " JOIN sections sec ON sec.name = ss.section AND ss.action = :check"
            " JOIN enrollments e ON e.section_id = sec.id"
            " JOIN students st ON st.id = e.student_id"
        )
        rows = self._execute(
            f"SELECT section FROM ({staged} EXCEPT {stored}) a"
            f" UNION SELECT section FROM ({stored} EXCEPT {staged}) b",
            {"check": SectionAction.CHECK, "grade_row": RowKind.GRADE},
        )
        return {row[0] for row in rows}

    def staged_students_stored_as_others(self) -> Iterator[StoredAsOther]:
        """Staged students the store holds under another name, by student id."""
        if not self.has_students():
            return iter(())  # a new store: nothing to compare, and the query would read every row
        rows = self._execute(
            "SELECT s.student_id, st.lname, st.fname, s.last_name, s.first_name,"
            " s.source_file_id, s.line FROM staging_students s"
            " JOIN students st ON st.student_id = s.student_id"
            " WHERE st.lname <> s.last_name OR st.fname <> s.first_name ORDER BY s.student_id"
        )
        return (StoredAsOther(*row) for row in rows)

    def add_staged_students(self) -> int:
        """Insert the staged students the store does not hold, in the order first seen, each
        with the file that first gave it; how many."""
        inserted = self._execute(
            "INSERT INTO students (student_id, fname, lname, source_file_id)"
            " SELECT s.student_id, s.first_name, s.last_name, s.source_file_id"
            " FROM staging_students s WHERE NOT EXISTS (SELECT 1 FROM students st"
            " WHERE st.student_id = s.student_id) ORDER BY s.seq"
        ).rowcount
        return max(inserted, 0)

    def add_sections(self, sections: Iterable[NewSection]) -> int:
        """Insert sections the caller knows are new (streamed); how many."""
        counted = _Counted(sections)
        self._bulk_insert_iter(
            "sections",
            ("name", "credit_hours", "term", "term_order", "header_name", "source_file_id"),
            (
                (s.name, s.credit_hours, s.term, s.term_order, s.header_name, s.source_file_id)
                for s in counted
            ),
        )
        return counted.count

    def store_staged_grades(self, *, deduplicate: bool, every_section: bool) -> None:
        """Replace the grades of REPLACE sections and insert those of NEW and FILL ones.

        ``deduplicate``: the staging holds a (section, student) pair more than once (with the
        same grade); only its first row is stored. ``every_section``: no staged section is
        KEEP, so no row needs its section's action looked up.
        """
        self._execute(
            "DELETE FROM enrollments WHERE section_id IN (SELECT sec.id FROM sections sec"
            " JOIN staging_sections ss ON ss.section = sec.name AND ss.action = :replace)",
            {"replace": SectionAction.REPLACE},
        )
        with self.indexes_built_after("enrollments", self._written_grade_rows(every_section)):
            self._insert_staged_grades(deduplicate=deduplicate, every_section=every_section)

    def _insert_staged_grades(self, *, deduplicate: bool, every_section: bool) -> None:
        first_only = (
            " AND NOT EXISTS (SELECT 1 FROM staging_grades d WHERE d.section = g.section"
            " AND d.student_id = g.student_id AND d.seq < g.seq)"
            if deduplicate
            else ""
        )
        self.connection.execute(
            text(
                "INSERT INTO enrollments (section_id, student_id, grade, source_file_id)"
                " SELECT sec.id, st.id, g.grade, g.source_file_id FROM staging_grades g"
                + (
                    ""
                    if every_section
                    else " JOIN staging_sections ss ON ss.section = g.section"
                    " AND ss.action IN :written"
                )
                + " JOIN sections sec ON sec.name = g.section"
                " JOIN students st ON st.student_id = g.student_id"
                f" WHERE g.kind = :grade_row{first_only}"
                # File order keeps SQLite's index pages warm; PostgreSQL would only sort.
                 + ("" if self.is_postgres else " ORDER BY g.seq")
            ).bindparams(*([] if every_section else [bindparam("written", expanding=True)])),
            {"grade_row": RowKind.GRADE, **({} if every_section else {"written": list(_WRITTEN)})},
        )

    def _written_grade_rows(self, every_section: bool) -> int:
        """How many staged grades go into enrollments (repeats of a pair counted too)."""
        in_written = (
            ""
            if every_section
            else " JOIN staging_sections ss ON ss.section = g.section AND ss.action IN :written"
        )
        statement = text(
            f"SELECT COUNT(*) FROM staging_grades g{in_written} WHERE g.kind = :grade_row"
        ).bindparams(*([] if every_section else [bindparam("written", expanding=True)]))
        params = {
            "grade_row": RowKind.GRADE,
            **({} if every_section else {"written": list(_WRITTEN)}),
        }
        return int(self.connection.execute(statement, params).scalar_one())

    def store_staged_list_entries(self) -> int:
        """Entries of .lst files become earlier list appearances (each stored once)."""
        inserted = self._execute(
            "INSERT INTO list_appearances (student_id, section_name, grade, source_file_id)"
            " SELECT st.id, g.section, g.grade, MIN(g.source_file_id) FROM staging_grades g"
            " JOIN students st ON st.student_id = g.student_id"
            " WHERE g.kind = :list_row AND NOT EXISTS (SELECT 1 FROM list_appearances a"
            " WHERE a.student_id = st.id AND a.section_name = g.section"
            " AND a.grade = g.grade) GROUP BY st.id, g.section, g.grade",
            {"list_row": RowKind.LIST},
        ).rowcount
        return max(inserted, 0)

    # --- groups and runs ----------------------------------------------------------------------

    def add_memberships(self, memberships: Iterable[NewMembership]) -> int:
        """Put sections into groups (a group is created by the first file that names it);
        each new membership keeps the file that gave it. Returns how many are new."""
        wanted = {(m.group, m.section): m.source_file_id for m in memberships}
        if not wanted:
            return 0
        group_ids = self._ensure_groups_from(
            {group: source for (group, _), source in wanted.items()}
        )
        # A few thousand at a time: the ids, pairs and sets of all of them at once were the
        # peak of a 5M-grade ingest (88 MB). Each pair is wanted once, so no chunk adds a
        # pair another one adds.
        added, items = 0, iter(wanted.items())
        while chunk := list(itertools.islice(items, MEMBERSHIP_CHUNK)):
            added += self._add_membership_chunk(chunk, group_ids)
        return added

    def _add_membership_chunk(
        self, wanted: list[tuple[tuple[str, str], int | None]], group_ids: Mapping[str, int]
    ) -> int:
        from gradestore.persistence.models import GroupSection, Section

        section_ids = self._ids_by_name(Section, sorted({section for (_, section), _ in wanted}))
        rows = {
            (group_ids[group], section_ids[section]): source
            for (group, section), source in wanted
            if section in section_ids
        }
        existing = self._existing_pairs(GroupSection.group_id, GroupSection.section_id, rows)
        new_rows = sorted(set(rows) - existing)
        self._bulk_insert_iter(  # rows made as they go in (not a dictionary of parameters each)
            "group_sections",
            ("group_id", "section_id", "source_file_id"),
            ((group, section, rows[group, section]) for group, section in new_rows),
        )
        return len(new_rows)

    def replace_memberships(self, memberships: Sequence[NewMembership]) -> int:
        """`--replace`: the sections these memberships name leave every other group. Returns
        how many memberships went."""
        sections: dict[str, set[str]] = {}
        for membership in memberships:
            sections.setdefault(membership.section, set()).add(membership.group)
        removed = 0
        statement = text(
            "DELETE FROM group_sections WHERE section_id = (SELECT id FROM sections"
            " WHERE name = :section) AND group_id NOT IN (SELECT id FROM groups"
            " WHERE name IN :groups)"
        ).bindparams(bindparam("groups", expanding=True))
        for section, groups in sorted(sections.items()):
            result = self.connection.execute(
                statement, {"section": section, "groups": sorted(groups)}
            )
            removed += max(result.rowcount, 0)
        return removed

    def _ensure_groups_from(self, sources: Mapping[str, int | None]) -> dict[str, int]:
        """Group ids by name; a missing group is created with the file that names it."""
        existing = self._group_ids(sorted(sources))
        missing = [name for name in sorted(sources) if name not in existing]
        if missing:
            self._execute_many(
                "INSERT INTO groups (name, source_file_id) VALUES (?, ?)",
                [(name, sources[name]) for name in missing],
            )
            existing.update(self._group_ids(missing))
        return existing

    def _group_ids(self, names: list[str]) -> dict[str, int]:
        """Ids of these groups by name (Core alone: the direct load's memberships use it)."""
        statement = text("SELECT name, id FROM groups WHERE name IN :names").bindparams(
            bindparam("names", expanding=True)
        )
        ids: dict[str, int] = {}
        for chunk in chunks(names):
            for name, row_id in self.connection.execute(statement, {"names": chunk}):
                ids[name] = row_id
        return ids

    def _existing_pairs(
        self,
        first: InstrumentedAttribute[int],
        second: InstrumentedAttribute[int],
        rows: Iterable[tuple[int, int]],
    ) -> set[tuple[int, int]]:
        firsts = sorted({pair[0] for pair in rows})
        found = self.connection.execute(select(first, second).where(first.in_(firsts)))
        return {(a, b) for a, b in found}

    def add_run_groups(self, pairs: Iterable[tuple[str, str]], source_file_id: int | None) -> int:
        """Record legacy runs; pairs are (run name, group name), given by one file (a .RUN).
        Returns how many are new."""
        from gradestore.persistence.models import RunGroup

        wanted = set(pairs)
        if not wanted:
            return 0
        run_ids = self._ensure_runs({run for run, _ in wanted}, source_file_id)
        group_ids = self._ensure_groups_from({group: source_file_id for _, group in wanted})
        rows = {(run_ids[run], group_ids[group]) for run, group in wanted}
        existing = self._existing_pairs(RunGroup.run_id, RunGroup.group_id, rows)
        new_rows = sorted(rows - existing)
        if new_rows:
            self.connection.execute(
                insert(RunGroup),
                [
                    {"run_id": run, "group_id": group, "source_file_id": source_file_id}
                    for run, group in new_rows
                ],
            )
        return len(new_rows)

    def _ensure_runs(self, names: set[str], source_file_id: int | None) -> dict[str, int]:
        from gradestore.persistence.models import Run

        existing = self._ids_by_name(Run, sorted(names))
        missing = sorted(names - set(existing))
        if missing:
            self.connection.execute(
                insert(Run), [{"name": name, "source_file_id": source_file_id} for name in missing]
            )
            existing.update(self._ids_by_name(Run, missing))
        return existing


def _copy_safe(letters: Sequence[str]) -> bool:
    """Whether these values can go into COPY's text format as they are (no tab, line break
    or backslash, none read as null)."""
    return not any(
        "\t" in letter or "\n" in letter or "\r" in letter or "\\" in letter for letter in letters
    )


_Item = TypeVar("_Item")


class _Counted(Generic[_Item]):
    """An iterable that counts what it gave (for rows streamed into a bulk insert)."""

    def __init__(self, items: Iterable[_Item]) -> None:
        self.items = items
        self.count = 0

    def __iter__(self) -> Iterator[_Item]:
        for item in self.items:
            self.count += 1
            yield item
