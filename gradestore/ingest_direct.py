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
from gradestore.ingest import IngestOptions, ProgressCallback, UnitResult
from gradestore.ingest_staged import section_to_store
from gradestore.kinds import FileKind, FileStatus
from gradestore.persistence.db import UnitOfWork
from gradestore.persistence.ingest_store import IngestStore
from gradestore.persistence.lengths import MAX_LENGTHS
from gradestore.persistence.rows import NewSection
from gradestore.readers import file_sha256
from gradestore.readers.plain_csv import NotPlainCsv, PlainBlock, read_plain_csv
from gradestore.readers.records import Problem
from gradestore.student_keys import SharedHash, StudentKeys, name_hashes
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
            # Grades go in by (section, student) of new sections, all from one new file: the
            # source file's index grows at its end, for less than building it again.
            repository.indexes_built_after(
                "enrollments", estimate, keep=("ix_enrollments_source_file_id",)
            ),
        ):
            for item in read_plain_csv(self.path, self.display, MAX_LENGTHS, scale=self.scale):
                if isinstance(item, Problem):
                    result.warn(item)
                    continue
                self._load_block(item)
                if progress is not None:
                    progress(self.display, item.rows, "reading")
        if not self.rows:
            raise NotDirect("no grade")
        changed = [
            section_to_store(name, seen.credit_hours, seen.term, None)
            for name, seen in self.sections.items()
            if seen.changed
        ]
        repository.set_section_details(changed)
        repository.set_source_row_count(self.source_id, self.rows)
        repository.set_source_grades_stored(self.source_id, self.rows, len(self.sections))

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
            section_keys[block.section_codes],
            student_keys[block.student_codes],
            block.grade_codes,
            block.grade_letters,
            self.source_id,
        )
        if not added:
            raise NotDirect("a student twice in a section")
        self.rows += block.rows

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
        ids = block.student_ids
        names = name_hashes(block.student_last_names, block.student_first_names)
        keys, missing, hashes = self._look_up(ids, names)
        if not len(missing):
            return keys
        new = self._stored_students(block, missing, keys) if self.store_had_students else missing
        keys[new] = self.repository.add_student_columns(
            ids[new].tolist(),
            block.student_last_names[new].tolist(),
            block.student_first_names[new].tolist(),
            self.source_id,
        )
        self.students.add(ids, names, hashes, missing, keys)
        self.students_added += len(new)
        return keys

    def _look_up(
        self, ids: npt.NDArray[np.object_], names: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.intp], npt.NDArray[np.int64]]:
        """For the block's students and their names' hashes: the key of each (0 where not
        seen yet in the file), the positions of those not seen yet, and the ids' hashes. A
        student seen under another name is not plain (the careful reader warns)."""
        import numpy as np

        try:
            rows, found_keys, found_names, hashes = self.students.find(ids)
        except SharedHash:
            raise NotDirect("two student ids of one hash") from None
        if (found_names != names[rows]).any():
            raise NotPlainCsv("a student with two names")
        keys = np.zeros(len(ids), dtype=np.int64)
        keys[rows] = found_keys
        seen = np.zeros(len(ids), dtype=bool)
        seen[rows] = True
        return keys, np.flatnonzero(~seen), hashes

    def _stored_students(
        self, block: PlainBlock, missing: npt.NDArray[np.intp], keys: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.intp]:
        """Of students not seen before in the file (at ``missing``), those the store holds
        get their keys (a stored student under another name: the usual path warns); the
        positions of the others, which are new."""
        import numpy as np

        positions = dict(zip(block.student_ids[missing].tolist(), missing.tolist(), strict=True))
        known = np.zeros(len(block.student_ids), dtype=bool)
        for student_id, key, last, first in self.repository.known_students(list(positions)):
            at = positions[student_id]
            if (block.student_last_names[at], block.student_first_names[at]) != (last, first):
                raise NotDirect("a stored student with another name")
            keys[at], known[at] = key, True
        return missing[~known[missing]]


def _check_term(term: str | None) -> None:
    if term is not None and not is_recognised(term):
        raise NotPlainCsv("an unrecognised term")  # the careful reader warns, once a file


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
        # The other tables it grew were analysed with their keys (indexes_built_after).
        unit.ingest.analyze_after_growth({"groups": result.memberships_added})
    result.sections_added = len(load.sections)
    result.students_added = load.students_added
    result.grades_added = load.rows
    result.status = FileStatus.WOULD_STORE if options.dry_run else FileStatus.STORED
    return result, True
