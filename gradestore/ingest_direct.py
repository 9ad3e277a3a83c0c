"""The direct load: a plain CSV file whose sections are all new goes straight into the tables.

The usual ingest stages every row and then checks and inserts with set-based SQL, which writes
each grade twice and looks up its section and student by name in SQL. For the common case, a
plain file (see readers.plain_csv) whose sections the store does not hold, none of that is
needed: each block's new sections and students are inserted and their keys kept, and its grades
go straight into ``enrollments`` with those keys. The checks are the same: the reader's (every
value), a student's other name (in the file, or against the store), and a student twice in a
section (the primary key of ``enrollments``).

Whenever the file is not that case (a stored section, a student twice, a name that differs) the
load is rolled back to its savepoint and the caller ingests the file the usual way, which has
the exact messages; nothing of the attempt remains.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gradestore.grades import GradeScale
from gradestore.ingest import (
    IngestOptions,
    ProgressCallback,
    UnitResult,
    section_to_store,
)
from gradestore.kinds import FileKind, FileStatus
from gradestore.persistence.db import UnitOfWork
from gradestore.persistence.ingest_store import IngestStore
from gradestore.persistence.models import MAX_LENGTHS
from gradestore.persistence.rows import NewSection, NewStudent
from gradestore.readers import file_sha256
from gradestore.readers.plain_csv import NotPlainCsv, PlainBlock, read_plain_csv
from gradestore.readers.records import Problem
from gradestore.terms import is_recognised

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


class NotDirect(Exception):
    """The file must be ingested the usual way (its reason is for tests and profiles)."""


@dataclass(slots=True)
class _Section:
    key: int
    credit_hours: float | None
    term: str | None
    changed: bool = False  # hours or term given after the section was inserted


class DirectLoad:
    """One file's direct load, in the caller's savepoint."""

    def __init__(
        self, repository: IngestStore, path: Path, display: str, scale: GradeScale
    ) -> None:
        self.repository = repository
        self.path = path
        self.display = display
        self.scale = scale
        self.sections: dict[str, _Section] = {}
        self.students = StudentKeys()
        self.store_had_students = False
        self.store_had_sections = False
        self.students_added = 0
        self.rows = 0
        self.source_id = 0
        self.sha256: str | None = None  # the file's, when known already

    def run(self, result: UnitResult, progress: ProgressCallback | None) -> None:
        """Load the file (raises NotPlainCsv or NotDirect, having stored part of it)."""
        repository = self.repository
        digest = self.sha256 or file_sha256(self.path)
        self.source_id = repository.add_source_file(self.display, digest, 0)
        self.store_had_students = repository.has_students()
        self.store_had_sections = repository.has_sections()
        repository.create_membership_staging()
        estimate = self._estimated_rows()
        with (
            repository.indexes_built_after("students", estimate),
            repository.indexes_built_after("sections", estimate),
            repository.indexes_built_after("enrollments", estimate),
        ):
            for item in read_plain_csv(self.path, self.display, MAX_LENGTHS, scale=self.scale):
                if isinstance(item, Problem):
                    result.warn(item)
                    continue
                self._load_block(item)
                if progress is not None:
                    progress(self.display, len(item.lines), "reading")
        if not self.rows:
            raise NotDirect("no grade")
        changed = [
            section_to_store(name, seen.credit_hours, seen.term, None)
            for name, seen in self.sections.items()
            if seen.changed
        ]
        repository.set_section_details(changed)
        repository.set_source_row_count(self.source_id, self.rows)
        repository.set_source_grades_stored(self.source_id, self.rows)

    def _estimated_rows(self) -> int:
        """Rows of the file, from its size and its first lines (for the index rebuild)."""
        with open(self.path, "rb") as stream:
            head = stream.read(1 << 16)
        lines = max(head.count(b"\n"), 1)
        return self.path.stat().st_size * lines // max(len(head), 1)

    def _load_block(self, block: PlainBlock) -> None:
        section_keys = self._add_sections(block)
        student_keys = self._add_students(block)
        sections = self.sections
        pairs = [(group, sections[section].key) for section, group in block.memberships]
        self.repository.stage_memberships(pairs)
        added = self.repository.add_grade_columns(
            section_keys[block.section_codes].tolist(),
            student_keys[block.student_codes].tolist(),
            block.grades,
            self.source_id,
        )
        if not added:
            raise NotDirect("a student twice in a section")
        self.rows += len(block.lines)

    def _add_sections(self, block: PlainBlock) -> npt.NDArray[np.int64]:
        """Insert the block's new sections; the key of each of its sections, in order."""
        import numpy as np

        new: list[NewSection] = []
        for summary in block.section_summaries:
            seen = self.sections.get(summary.name)
            if seen is None:
                _check_term(summary.term)
                new.append(
                    section_to_store(
                        summary.name, summary.credit_hours, summary.term, None, self.source_id
                    )
                )
                continue
            if seen.credit_hours is None and summary.credit_hours is not None:
                seen.credit_hours, seen.changed = summary.credit_hours, True
            if seen.term is None and summary.term is not None:
                _check_term(summary.term)
                seen.term, seen.changed = summary.term, True
            elif summary.term is not None and summary.term != seen.term:
                raise NotPlainCsv("a section with two terms")
        if new:
            if self.store_had_sections and self.repository.any_stored_section(
                [section.name for section in new]
            ):
                raise NotDirect("a stored section")
            keys = self.repository.add_sections_with_keys(new)
            terms = {summary.name: summary.term for summary in block.section_summaries}
            for section, key in zip(new, keys, strict=True):
                # The term as the file gives it (section_to_store may take one from the name).
                term = terms[section.name]
                self.sections[section.name] = _Section(
                    key, section.credit_hours, None if term is None else sys.intern(term)
                )
        sections = self.sections
        return np.array(
            [sections[summary.name].key for summary in block.section_summaries], dtype=np.int64
        )

    def _add_students(self, block: PlainBlock) -> npt.NDArray[np.int64]:
        """Insert the block's new students; the key of each of its students, in order."""
        students = block.students
        keys, missing = self.students.look_up(students)
        if not missing:
            return keys
        new = [
            NewStudent(students[i][0], students[i][2], students[i][1], self.source_id)
            for i in missing.values()
        ]
        if self.store_had_students:
            new = self._stored_students(new, missing, keys)
        new_keys = self.repository.add_students_with_keys(new)
        for student, key in zip(new, new_keys, strict=True):
            keys[missing[student.student_id]] = key
        self.students.add(students, missing, keys)
        self.students_added += len(new)
        return keys

    def _stored_students(
        self, new: list[NewStudent], missing: dict[str, int], keys: npt.NDArray[np.int64]
    ) -> list[NewStudent]:
        """Of students not seen before in the file, those the store holds get their keys (a
        stored student under another name: the usual path warns); the others are new."""
        names = {student.student_id: (student.last_name, student.first_name) for student in new}
        stored = self.repository.known_students(list(names))
        for student_id, key, last, first in stored:
            if names[student_id] != (last, first):
                raise NotDirect("a stored student with another name")
            keys[missing[student_id]] = key
        known = {row[0] for row in stored}
        return [student for student in new if student.student_id not in known]


class StudentKeys:
    """Every student of the file so far: its id, key and a 64-bit hash of its name, in three
    arrays sorted by id (a few dozen bytes a student, where a dictionary entry took about
    300). Each block looks its students up with one binary search."""

    def __init__(self) -> None:
        import numpy as np

        self.ids: npt.NDArray[np.str_] = np.empty(0, dtype="U1")
        self.keys: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self.names: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)

    def look_up(
        self, students: list[tuple[str, str, str, int]]
    ) -> tuple[npt.NDArray[np.int64], dict[str, int]]:
        """The key of each student (0 where not seen yet), and those not seen yet: id ->
        position. A student seen under another name is not plain (the careful reader warns)."""
        import numpy as np

        ids = np.array([student[0] for student in students], dtype=np.str_)
        names = _name_hashes(students)
        keys = np.zeros(len(students), dtype=np.int64)
        found = np.zeros(len(students), dtype=bool)
        if len(self.ids):
            at = np.minimum(np.searchsorted(self.ids, ids), len(self.ids) - 1)
            found = self.ids[at] == ids
            if (self.names[at[found]] != names[found]).any():
                raise NotPlainCsv("a student with two names")
            keys[found] = self.keys[at[found]]
        missing = np.flatnonzero(~found).tolist()
        return keys, {students[i][0]: i for i in missing}

    def add(
        self,
        students: list[tuple[str, str, str, int]],
        positions: dict[str, int],
        keys: npt.NDArray[np.int64],
    ) -> None:
        """Note these students (at ``positions`` of ``students`` and ``keys``)."""
        import numpy as np

        chosen = np.fromiter(positions.values(), dtype=np.intp, count=len(positions))
        ids = np.array([students[i][0] for i in chosen.tolist()], dtype=np.str_)
        order = np.argsort(ids, kind="stable")
        ids, chosen = ids[order], chosen[order]
        names = _name_hashes([students[i] for i in chosen.tolist()])
        if ids.dtype.itemsize > self.ids.dtype.itemsize:  # a longer id than any before
            self.ids = self.ids.astype(ids.dtype)
        at = np.searchsorted(self.ids, ids)
        self.ids = np.insert(self.ids, at, ids)
        self.keys = np.insert(self.keys, at, keys[chosen])
        self.names = np.insert(self.names, at, names)


def _check_term(term: str | None) -> None:
    if term is not None and not is_recognised(term):
        raise NotPlainCsv("an unrecognised term")  # the careful reader warns, once a file


def _name_hashes(students: list[tuple[str, str, str, int]]) -> npt.NDArray[np.int64]:
    """Students' names in 64 bits each: two names whose hashes are equal (one chance in
    2**64) would be taken as the same."""
    import numpy as np

    return np.fromiter(
        (hash((student[1], student[2])) for student in students),
        dtype=np.int64,
        count=len(students),
    )


def ingest_plain_directly(
    unit: UnitOfWork,
    path: Path,
    options: IngestOptions,
    progress: ProgressCallback | None,
    scale: GradeScale,
    sha256: str | None = None,
) -> tuple[UnitResult | None, bool]:
    """The unit of a plain CSV file loaded directly, or None (rolled back) and whether the
    file is plain all the same (the usual ingest may then still use the fast reader).
    ``sha256``: the file's, when the caller has it already."""
    result = UnitResult(path=str(path), kind=FileKind.CSV, files=1)
    load = DirectLoad(unit.ingest, path, str(path), scale)
    load.sha256 = sha256
    with unit.savepoint() as savepoint:
        try:
            load.run(result, progress)
        except (NotPlainCsv, NotDirect) as error:
            savepoint.rollback()
            return None, isinstance(error, NotDirect)
        if progress is not None:
            progress(str(path), 0, "storing")
        result.memberships_added = unit.ingest.store_staged_memberships(
            load.source_id, options.group
        )
    result.sections_added = len(load.sections)
    result.students_added = load.students_added
    result.grades_added = load.rows
    result.status = FileStatus.WOULD_STORE if options.dry_run else FileStatus.STORED
    return result, True
