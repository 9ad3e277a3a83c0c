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

from dataclasses import dataclass, field
from pathlib import Path

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
from gradestore.persistence.rows import NewMembership, NewSection, NewStudent
from gradestore.readers import file_sha256
from gradestore.readers.plain_csv import NotPlainCsv, PlainBlock, read_plain_csv
from gradestore.readers.records import Problem
from gradestore.terms import is_recognised


class NotDirect(Exception):
    """The file must be ingested the usual way (its reason is for tests and profiles)."""


@dataclass(slots=True)
class _Section:
    rows: int
    credit_hours: float | None
    term: str | None
    # A list, not a set: a section has a group or two, and an empty set costs 216 bytes.
    groups: list[str] = field(default_factory=list)
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
        self.section_ids: dict[str, int] = {}
        # Every student of the file: student_id -> key << 64 | the hash of the name.
        self.students: dict[str, int] = {}
        self.store_had_students = False
        self.students_added = 0
        self.rows = 0
        self.source_id = 0

    def run(self, result: UnitResult, progress: ProgressCallback | None) -> None:
        """Load the file (raises NotPlainCsv or NotDirect, having stored part of it)."""
        repository = self.repository
        self.source_id = repository.add_source_file(self.display, file_sha256(self.path), 0)
        self.store_had_students = repository.has_students()
        if self.store_had_students:
            repository.create_student_staging()
        estimate = self._estimated_rows()
        with repository.indexes_built_after("enrollments", estimate):
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

    def memberships(self) -> list[tuple[str, str]]:
        return [(group, name) for name, seen in self.sections.items() for group in seen.groups]

    def _estimated_rows(self) -> int:
        """Rows of the file, from its size and its first lines (for the index rebuild)."""
        with open(self.path, "rb") as stream:
            head = stream.read(1 << 16)
        lines = max(head.count(b"\n"), 1)
        return self.path.stat().st_size * lines // max(len(head), 1)

    def _load_block(self, block: PlainBlock) -> None:
        self._add_sections(block)
        self._add_students(block)
        sections = self.sections
        for section, group in block.memberships:
            groups = sections[section].groups
            if group not in groups:
                groups.append(group)
        rows = zip(
            map(self.section_ids.__getitem__, block.sections),
            map(self._key, block.student_ids),
            block.grades,
            [self.source_id] * len(block.grades),
            strict=True,
        )
        if not self.repository.add_grades(rows):
            raise NotDirect("a student twice in a section")
        self.rows += len(block.lines)

    def _add_sections(self, block: PlainBlock) -> None:
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
            seen.rows += summary.rows
            if seen.credit_hours is None and summary.credit_hours is not None:
                seen.credit_hours, seen.changed = summary.credit_hours, True
            if seen.term is None and summary.term is not None:
                _check_term(summary.term)
                seen.term, seen.changed = summary.term, True
            elif summary.term is not None and summary.term != seen.term:
                raise NotPlainCsv("a section with two terms")
        if not new:
            return
        if self.repository.any_stored_section([section.name for section in new]):
            raise NotDirect("a stored section")
        ids = self.repository.add_sections_with_ids(new)
        rows = {summary.name: summary.rows for summary in block.section_summaries}
        terms = {summary.name: summary.term for summary in block.section_summaries}
        self.section_ids.update(ids)
        for section in new:
            self.sections[section.name] = _Section(
                rows[section.name], section.credit_hours, terms[section.name]
            )

    def _add_students(self, block: PlainBlock) -> None:
        """Note the block's students; insert the new ones and keep every key."""
        students = self.students
        new: list[NewStudent] = []
        for student_id, last, first, _ in block.students:
            seen = students.get(student_id)
            if seen is None:
                students[student_id] = _NO_KEY | _name_hash(last, first)
                new.append(NewStudent(student_id, first, last, self.source_id))
            elif seen & _HASH_BITS != _name_hash(last, first):
                raise NotPlainCsv("a student with two names")
        if not new:
            return
        if self.store_had_students:
            stored = self.repository.known_students(new)
            for student_id, (key, last, first) in stored.items():
                if students[student_id] & _HASH_BITS != _name_hash(last, first):
                    raise NotDirect("a stored student with another name")
                students[student_id] = key << 64 | _name_hash(last, first)
            new = [student for student in new if student.student_id not in stored]
        keys = self.repository.add_students_with_keys(new)
        for student_id, key in keys.items():
            students[student_id] = key << 64 | (students[student_id] & _HASH_BITS)
        self.students_added += len(new)

    def _key(self, student_id: str) -> int:
        return self.students[student_id] >> 64


def _check_term(term: str | None) -> None:
    if term is not None and not is_recognised(term):
        raise NotPlainCsv("an unrecognised term")  # the careful reader warns, once a file


_HASH_BITS = (1 << 64) - 1
_NO_KEY = -1 << 64  # replaced by the key as soon as the student is stored


def _name_hash(last: str, first: str) -> int:
    """A student's name in 64 bits: the direct load keeps one integer per student (key and
    name), so that millions of students fit in memory; two names whose hashes are equal
    (one chance in 2**64) would be taken as the same."""
    return hash((last, first)) & _HASH_BITS


def ingest_plain_directly(
    unit: UnitOfWork,
    path: Path,
    options: IngestOptions,
    progress: ProgressCallback | None,
    scale: GradeScale,
) -> tuple[UnitResult | None, bool]:
    """The unit of a plain CSV file loaded directly, or None (rolled back) and whether the
    file is plain all the same (the usual ingest may then still use the fast reader)."""
    result = UnitResult(path=str(path), kind=FileKind.CSV, files=1)
    load = DirectLoad(unit.ingest, path, str(path), scale)
    with unit.savepoint() as savepoint:
        try:
            load.run(result, progress)
        except (NotPlainCsv, NotDirect) as error:
            savepoint.rollback()
            return None, isinstance(error, NotDirect)
        if progress is not None:
            progress(str(path), 0, "storing")
        memberships = load.memberships()
        if options.group:
            memberships.extend((options.group, name) for name in load.sections)
        result.memberships_added = unit.ingest.add_memberships(
            NewMembership(group, section, load.source_id) for group, section in memberships
        )
    result.sections_added = len(load.sections)
    result.students_added = load.students_added
    result.grades_added = load.rows
    result.status = FileStatus.WOULD_STORE if options.dry_run else FileStatus.STORED
    return result, True
