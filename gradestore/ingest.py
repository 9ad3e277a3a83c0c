"""Use case: put grade files into the store, each file argument in one transaction.

A unit is one file argument (a .RUN or .GRP together with the files it names). Its rows are
streamed into a staging table, checked as a whole (bad rows, a student twice in a section, a
section stored with other grades), and only then stored; any error rolls the unit back, so a
file is stored whole or not at all. Other units of the same command still go in.
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gradestore.errors import UsageError
from gradestore.grades import GradeScale
from gradestore.jsontypes import JsonObject
from gradestore.kinds import FileKind, FileStatus, RowKind, SectionAction
from gradestore.persistence.db import UnitOfWork, UnitOfWorkFactory
from gradestore.persistence.rows import (
    NewMembership,
    NewSection,
    StagedRow,
    StagedStudent,
    StoredAsOther,
)
from gradestore.readers import (
    file_sha256,
    grade_file_kind,
    read_grade_csv,
    read_group_file,
    read_list_file,
    read_run_file,
    read_section_file,
)
from gradestore.readers.plain_csv import (
    NotPlainCsv,
    PlainBlock,
    is_plain_candidate,
    read_plain_csv,
)
from gradestore.readers.records import GradeRecord, ListEntry, Problem, Reference
from gradestore.scales import current_scale
from gradestore.student_keys import SharedHash, StudentKeys, name_hash, name_hashes
from gradestore.terms import is_recognised, term_in_section_name, term_key

if TYPE_CHECKING:
    from gradestore.persistence.ingest_store import IngestStore
    from gradestore.persistence.sources_store import SourcesStore

# Records read, checked and staged together (a chunk is held whole: its students are found in
# one search). 10,000: at 5M grades 20,000 held 18 MB more at the peak.
STAGING_CHUNK_ROWS = 10_000

# progress(file, rows read since the last call, phase): phase is "reading" while rows are read
# and staged, then "storing" once for the unit's checks and writes.
ProgressCallback = Callable[[str, int, str], None]


@dataclass(frozen=True)
class IngestOptions:
    """How to ingest; checked when made (a group name is stripped, and must fit the store)."""

    group: str | None = None
    replace: bool = False
    dry_run: bool = False
    max_errors_per_file: int = 20

    def __post_init__(self) -> None:
        if self.group is not None:
            group = self.group.strip()
            if not group:
                raise UsageError("--group needs a non-empty name")
            if len(group) > _max_lengths()["group"]:
                raise UsageError(f"--group is longer than {_max_lengths()['group']} characters")
            object.__setattr__(self, "group", group)
        if self.max_errors_per_file < 1:
            raise UsageError("max_errors_per_file must be at least 1")


# Warnings beyond these are counted, not kept: memory stays bounded when every row of a file
# warns (the command line prints the first 20 of a unit, then how many more there were).
KEPT_WARNINGS = 100


@dataclass
class UnitResult:
    """What happened to one file argument."""

    path: str
    kind: FileKind
    status: FileStatus = FileStatus.UNCHANGED
    files: int = 0
    sections_added: int = 0
    sections_unchanged: int = 0
    sections_replaced: int = 0
    students_added: int = 0
    grades_added: int = 0
    grades_unchanged: int = 0
    grades_replaced: int = 0
    memberships_added: int = 0
    memberships_removed: int = 0
    list_entries_added: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    warnings_not_kept: int = 0

    @property
    def only_counts_warnings(self) -> bool:
        """Whether the next warning is counted, not kept."""
        return len(self.warnings) >= KEPT_WARNINGS

    def warn(self, problem: Problem) -> None:
        if len(self.warnings) < KEPT_WARNINGS:
            self.warnings.append(problem)
        else:
            self.warnings_not_kept += 1

    @property
    def warning_count(self) -> int:
        """Every warning of the unit, the ones not kept included."""
        return len(self.warnings) + self.warnings_not_kept

    @property
    def rows_rejected(self) -> int:
        return sum(1 for problem in self.errors if problem.line is not None)

    def as_json(self) -> JsonObject:
        return {
            "path": self.path,
            "kind": self.kind,
            "status": self.status,
            "files": self.files,
            "sections_added": self.sections_added,
            "sections_unchanged": self.sections_unchanged,
            "sections_replaced": self.sections_replaced,
            "students_added": self.students_added,
            "grades_added": self.grades_added,
            "grades_unchanged": self.grades_unchanged,
            "grades_replaced": self.grades_replaced,
            "memberships_added": self.memberships_added,
            "memberships_removed": self.memberships_removed,
            "list_entries_added": self.list_entries_added,
            "rows_rejected": self.rows_rejected,
            "errors": [str(problem) for problem in self.errors],
            "warnings": [str(problem) for problem in self.warnings],
            "warning_count": self.warning_count,
        }

    @property
    def changes_store(self) -> bool:
        """Whether the unit writes anything: grades into a stored section without grades
        (SectionAction.FILL) add no section or student, but they count."""
        return any(
            (
                self.sections_added,
                self.sections_replaced,
                self.students_added,
                self.grades_added,
                self.grades_replaced,
                self.memberships_added,
                self.memberships_removed,
                self.list_entries_added,
            )
        )


@dataclass
class IngestReport:
    units: list[UnitResult]
    skipped_files: list[str]
    dry_run: bool

    @property
    def ok(self) -> bool:
        return all(unit.status is not FileStatus.REJECTED for unit in self.units)

    def as_json(self) -> JsonObject:
        return {
            "dry_run": self.dry_run,
            "ok": self.ok,
            "units": [unit.as_json() for unit in self.units],
            "skipped_files": self.skipped_files,
        }

    @property
    def exit_code(self) -> int:
        """0; else 66 when every rejected argument is missing or not a grade file, else 65."""
        rejected = [unit for unit in self.units if unit.status is FileStatus.REJECTED]
        if not rejected:
            return 0
        if all(unit.kind is FileKind.UNKNOWN for unit in rejected):
            return os.EX_NOINPUT
        return os.EX_DATAERR


@dataclass
class _UnitFiles:
    """The files one unit reads, and the memberships its .GRP/.RUN files declare."""

    sections: list[Path] = field(default_factory=list)
    csv_files: list[Path] = field(default_factory=list)
    list_files: list[Path] = field(default_factory=list)
    memberships: list[tuple[str, str]] = field(default_factory=list)
    run_groups: list[tuple[str, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def all_files(self) -> list[Path]:
        return [*self.sections, *self.csv_files, *self.list_files]


def ingest_paths(
    units: UnitOfWorkFactory,
    paths: Iterable[Path],
    options: IngestOptions = IngestOptions(),
    progress: ProgressCallback | None = None,
) -> IngestReport:
    arguments, skipped = _expand_arguments(paths)
    report = IngestReport(units=[], skipped_files=skipped, dry_run=options.dry_run)
    done_files: set[Path] = set()
    # A dry run works in one transaction that is never committed, each unit in a savepoint,
    # so that later units see what earlier ones would have stored.
    dry_run_unit = units(write=True) if options.dry_run else None
    with dry_run_unit or nullcontext():
        for path, kind in arguments:
            if kind is None:
                report.units.append(_missing_or_unknown(path))
                continue
            if path.resolve() in done_files and kind.is_single_file:
                report.units.append(
                    UnitResult(path=str(path), kind=kind, status=FileStatus.ALREADY_DONE)
                )
                continue
            try:
                if dry_run_unit is not None:
                    result, files = _ingest_in_savepoint(
                        dry_run_unit, path, kind, options, progress
                    )
                else:
                    result, files = _ingest_argument(units, path, kind, options, progress)
            except OSError as error:  # this unit is rolled back; the others go on
                result, files = _unreadable(path, kind, error), []
            report.units.append(result)
            if result.status is not FileStatus.REJECTED:
                done_files.update(file.resolve() for file in files)
    return report


def _ingest_argument(
    units: UnitOfWorkFactory,
    path: Path,
    kind: FileKind,
    options: IngestOptions,
    progress: ProgressCallback | None,
) -> tuple[UnitResult, list[Path]]:
    """One argument in its own unit, committed when stored.

    A CSV file is first answered from source_files or loaded directly in a unit that, on
    SQLite, does not check foreign keys: every key the direct load writes is one it has just
    inserted or read in that transaction (a section, a student, its file, a group), and the
    check of three keys per grade was a quarter of the load. When the direct load gives up,
    that unit is rolled back whole and the usual path, which also deletes and needs the keys'
    actions, runs in a new unit with them."""
    plain: bool | None = None
    digests: dict[Path, str] = {}  # each file's sha256, computed once for the argument
    if kind is FileKind.CSV:
        with units(write=True, foreign_keys=False) as unit:
            unchanged = _unchanged_unit(unit.sources, path, kind, options, digests)
            if unchanged is not None:
                return unchanged, [path]
            direct, plain = _load_directly(unit, path, kind, options, progress, digests)
            if direct is not None:
                if direct.status is FileStatus.STORED:
                    unit.commit()
                return direct, [path]
    with units(write=True) as unit:
        if kind is FileKind.CSV:  # answered above: not unchanged, not loaded directly
            result, files = _stage_and_store(unit, path, kind, options, progress, plain, digests)
        else:
            result, files = _ingest_unit(unit, path, kind, options, progress)
        if result.status is FileStatus.STORED:
            unit.commit()
    return result, files


def _ingest_in_savepoint(
    unit: UnitOfWork,
    path: Path,
    kind: FileKind,
    options: IngestOptions,
    progress: ProgressCallback | None,
) -> tuple[UnitResult, list[Path]]:
    """A dry run's unit: kept for the units after it unless rejected, never committed."""
    with unit.savepoint() as savepoint:
        result, files = _ingest_unit(unit, path, kind, options, progress)
        if result.status is FileStatus.REJECTED:
            savepoint.rollback()
    return result, files


def _unreadable(path: Path, kind: FileKind, error: OSError) -> UnitResult:
    """A file of the unit could not be read: that unit's error, not the command's."""
    where = error.filename or path
    reason = error.strerror or str(error)
    return UnitResult(
        path=str(path),
        kind=kind,
        status=FileStatus.REJECTED,
        errors=[Problem(str(where), None, f"cannot read: {reason}")],
    )


def _missing_or_unknown(path: Path) -> UnitResult:
    reason = (
        "not a grade file (expected .csv, .sec, .grp, .run or .lst)"
        if path.exists()
        else "no such file or directory"
    )
    return UnitResult(
        path=str(path),
        kind=FileKind.UNKNOWN,
        status=FileStatus.REJECTED,
        errors=[Problem(str(path), None, reason)],
    )


def _expand_arguments(
    paths: Iterable[Path],
) -> tuple[list[tuple[Path, FileKind | None]], list[str]]:
    """File arguments as given; a directory means every grade file in it (runs and groups first,
    so that the sections they name are read once)."""
    units: list[tuple[Path, FileKind | None]] = []
    skipped: list[str] = []
    order = {FileKind.RUN: 0, FileKind.GRP: 1, FileKind.SEC: 2, FileKind.CSV: 2, FileKind.LST: 3}
    for path in paths:
        if not path.is_dir():
            units.append((path, grade_file_kind(path) if path.is_file() else None))
            continue
        found: list[tuple[Path, FileKind]] = []
        for child in sorted(path.rglob("*")):
            if not child.is_file():
                continue
            kind = grade_file_kind(child)
            if kind is None:
                skipped.append(str(child))
            else:
                found.append((child, kind))
        found.sort(key=lambda item: (order[item[1]], str(item[0])))
        units.extend(found)
    return units, skipped


def _collect_unit_files(path: Path, kind: FileKind) -> _UnitFiles:
    files = _UnitFiles()
    if kind is FileKind.CSV:
        files.csv_files.append(path)
    elif kind is FileKind.SEC:
        files.sections.append(path)
    elif kind is FileKind.LST:
        files.list_files.append(path)
    elif kind is FileKind.GRP:
        _add_group(files, path)
    elif kind is FileKind.RUN:
        run = read_run_file(path)
        files.problems.extend(run.problems)
        _check_name_length(files, run.path, run.name, "run")
        for reference in run.groups:
            if reference.path is not None:
                group_name = _add_group(files, reference.path)
                if group_name is not None:
                    files.run_groups.append((run.name, group_name))
    return files


def _add_group(files: _UnitFiles, path: Path) -> str | None:
    group = read_group_file(path)
    files.problems.extend(group.problems)
    _check_name_length(files, path, group.name, "group")
    if any(not problem.is_warning for problem in group.problems):
        return None
    for member in group.members:
        assert member.path is not None
        if member.path.resolve() not in {known.resolve() for known in files.sections}:
            files.sections.append(member.path)
        files.memberships.append((group.name, _section_name(member)))
    return group.name


def _check_name_length(files: _UnitFiles, path: Path, name: str, what: str) -> None:
    """A .GRP's or .RUN's name (line 1) longer than the store keeps is an error at line 1."""
    too_long = _too_long(str(path), 1, **{what: name})
    if too_long is not None:
        files.problems.append(too_long)


def _section_name(reference: Reference) -> str:
    assert reference.path is not None
    return reference.path.name.rsplit(".", 1)[0]


def _ingest_unit(
    unit: UnitOfWork,
    path: Path,
    kind: FileKind,
    options: IngestOptions,
    progress: ProgressCallback | None,
) -> tuple[UnitResult, list[Path]]:
    """Stage, check and store one unit in the caller's transaction; the caller commits."""
    digests: dict[Path, str] = {}  # each file's sha256, computed once for the unit
    unchanged = _unchanged_unit(unit.sources, path, kind, options, digests)
    if unchanged is not None:
        return unchanged, [path]
    direct, plain = _load_directly(unit, path, kind, options, progress, digests)
    if direct is not None:
        return direct, [path]
    return _stage_and_store(unit, path, kind, options, progress, plain, digests)


def _unchanged_unit(
    sources: SourcesStore,
    path: Path,
    kind: FileKind,
    options: IngestOptions,
    digests: dict[Path, str],
) -> UnitResult | None:
    """The answer for a file whose very bytes were stored whole and that nothing has replaced
    since (read from source_files, the file is not read), or None. ``digests`` gets the
    file's sha256, for its provenance if it is read after all."""
    if kind not in (FileKind.CSV, FileKind.SEC) or options.group is not None:
        return None
    digest = digests[path] = file_sha256(path)
    unchanged = sources.unchanged_source(digest)
    if unchanged is None:
        return None
    result = UnitResult(path=str(path), kind=kind, files=1)
    result.sections_unchanged, result.grades_unchanged = unchanged
    return result


def _load_directly(
    unit: UnitOfWork,
    path: Path,
    kind: FileKind,
    options: IngestOptions,
    progress: ProgressCallback | None,
    digests: dict[Path, str],
) -> tuple[UnitResult | None, bool | None]:
    """A plain CSV's direct load (ingest_direct): its result, or None and whether the file is
    plain (None: not asked), which tells the usual path's stager which reader to use."""
    if kind is not FileKind.CSV or len(str(path)) > _max_lengths()["path"]:
        return None, None
    if not is_plain_candidate(path):
        return None, False
    from gradestore.ingest_direct import ingest_plain_directly

    scale = current_scale(unit)
    return ingest_plain_directly(unit, path, options, progress, scale, digests.get(path))


def _stage_and_store(
    unit: UnitOfWork,
    path: Path,
    kind: FileKind,
    options: IngestOptions,
    progress: ProgressCallback | None,
    plain: bool | None,
    digests: dict[Path, str],
) -> tuple[UnitResult, list[Path]]:
    """The usual path: read the unit's files into staging, check them, write what passed."""
    repository = unit.ingest
    result = UnitResult(path=str(path), kind=kind)
    files = _collect_unit_files(path, kind)
    _sort_problems(result, files.problems)
    result.files = len(files.all_files) + (0 if kind.is_single_file else 1)
    if result.errors:
        return _rejected(result), []
    repository.create_staging()
    stager = _Stager(repository, options, result, progress, current_scale(unit))
    stager.plain = plain
    stager.digests = digests
    for file in files.all_files:
        stager.stage_file(file)
    if result.errors:
        return _rejected(result), []
    if progress is not None:
        progress(str(path), 0, "storing")
    no_pair_twice = repository.index_staging()
    duplicates = {} if no_pair_twice else _check_duplicates(repository, stager, result)
    actions = _decide_section_actions(repository, stager, options, result)
    if result.errors:
        return _rejected(result), []
    _write_unit(repository, files, stager, actions, duplicates, options, result)
    _count_sections(stager, actions, duplicates, result)
    _note_source_grades(repository, stager, actions, result)
    result.status = _status(result, options)
    return result, files.all_files


def _note_source_grades(
    repository: IngestStore,
    stager: _Stager,
    actions: dict[str, SectionAction],
    result: UnitResult,
) -> None:
    """A unit of one file whose every section was written (none kept or only checked): how
    many grades it stored, so that the same bytes are answered by `_unchanged_unit`."""
    written = {SectionAction.NEW, SectionAction.FILL, SectionAction.REPLACE}
    if len(stager.source_ids) == 1 and set(actions.values()) <= written:
        stored = result.grades_added + result.grades_replaced
        repository.set_source_grades_stored(stager.source_ids[0], stored)


def _status(result: UnitResult, options: IngestOptions) -> FileStatus:
    if not result.changes_store:
        return FileStatus.UNCHANGED
    return FileStatus.WOULD_STORE if options.dry_run else FileStatus.STORED


def _write_unit(
    repository: IngestStore,
    files: _UnitFiles,
    stager: _Stager,
    actions: dict[str, SectionAction],
    duplicates: dict[str, int],
    options: IngestOptions,
    result: UnitResult,
) -> None:
    """The writes of a unit whose checks passed: students, sections, grades, groups, runs."""
    _warn_about_other_names(stager, repository.staged_students_stored_as_others(), result)
    result.students_added = repository.add_staged_students()
    # Streamed (a generator, not a list): a unit may add hundreds of thousands.
    result.sections_added = repository.add_sections(
        _new_section(name, seen, stager.header_names.get(name))
        for name, seen in stager.sections.items()
        if actions.get(name) is SectionAction.NEW
    )
    repository.set_section_actions(actions)
    repository.store_staged_grades(
        deduplicate=bool(duplicates), every_section=SectionAction.KEEP not in actions.values()
    )
    _write_memberships(repository, files, stager, options, result)
    result.list_entries_added = repository.store_staged_list_entries()
    repository.drop_unused_source_files(stager.source_ids)
    repository.analyze_after_growth(
        {
            "students": result.students_added,
            "sections": result.sections_added,
            # Groups come with their memberships (a new group has one at least).
            "groups": result.memberships_added,
            "group_sections": result.memberships_added,
        }
    )


def _new_section(name: str, seen: _SeenSection, header_name: str | None) -> NewSection:
    return section_to_store(
        name, seen.credit_hours, seen.term, header_name, source_file_id=seen.source_file_id
    )


def section_to_store(
    name: str,
    credit_hours: float | None,
    term: str | None,
    header_name: str | None,
    source_file_id: int | None = None,
) -> NewSection:
    """A section to store, with its term's place in time (docs/history.md). A CSV that gives
    it no term leaves the term its name ends with, when that is a recognised one."""
    if term is None:
        from_name = term_in_section_name(name)
        term = from_name if from_name is not None and is_recognised(from_name) else None
    return NewSection(
        name, credit_hours, term, header_name, term_order=term_key(term),
        source_file_id=source_file_id,
    )  # fmt: skip


def _write_memberships(
    repository: IngestStore,
    files: _UnitFiles,
    stager: _Stager,
    options: IngestOptions,
    result: UnitResult,
) -> None:
    """Groups and runs, each membership with the file that gave it; with --replace, the
    sections the unit gives a group lose the memberships it does not give."""
    unit_source = stager.source_ids[0] if stager.source_ids else None

    def memberships() -> Iterator[NewMembership]:  # streamed: 188,000 at 5M grades
        given = ((options.group, name) for name in stager.sections) if options.group else ()
        for group, section in itertools.chain(files.memberships, stager.memberships(), given):
            yield NewMembership(group, section, _source_of(stager, section, unit_source))

    if options.replace:
        result.memberships_removed = repository.replace_memberships(list(memberships()))
    result.memberships_added = repository.add_memberships(memberships())
    result.memberships_added += repository.add_run_groups(files.run_groups, unit_source)


def _source_of(stager: _Stager, section: str, unit_source: int | None) -> int | None:
    """The file that gave a section (a .GRP names sections its .SEC files hold)."""
    seen = stager.sections.get(section)
    return seen.source_file_id if seen is not None else unit_source


def _count_sections(
    stager: _Stager,
    actions: dict[str, SectionAction],
    duplicates: dict[str, int],
    result: UnitResult,
) -> None:
    for name, seen in stager.sections.items():
        stored_grades = seen.rows - duplicates.get(name, 0)
        action = actions[name]
        if action is SectionAction.KEEP:
            result.sections_unchanged += 1
            result.grades_unchanged += stored_grades
        elif action is SectionAction.REPLACE:
            result.sections_replaced += 1
            result.grades_replaced += stored_grades
        else:
            result.grades_added += stored_grades


def _rejected(result: UnitResult) -> UnitResult:
    result.status = FileStatus.REJECTED
    return result


def _sort_problems(result: UnitResult, problems: Iterable[Problem]) -> None:
    for problem in problems:
        if problem.is_warning:
            result.warn(problem)
        else:
            result.errors.append(problem)


@dataclass(slots=True)
class _SeenSection:
    """What the staged rows say about one section (slots, and a list of its group or two: a
    file of millions of grades has hundreds of thousands of sections)."""

    source_file_id: int
    line: int
    rows: int = 0
    credit_hours: float | None = None
    term: str | None = None
    groups: list[str] = field(default_factory=list)


class _Stager:
    """Streams a unit's files into the staging table, keeping bad rows as problems.

    Per section it keeps one small record (where first seen, its hours, term and groups).
    Students go into a staging table of their own as first seen (name, file and line), and
    in memory only as a few bytes each (student_keys: a hash of the id and of the name); the
    words of a warning about a student's other name are read back from that table, for the
    warnings kept. Memory grows with the number of sections, not of students or rows.
    """

    def __init__(
        self,
        repository: IngestStore,
        options: IngestOptions,
        result: UnitResult,
        progress: ProgressCallback | None,
        scale: GradeScale,
    ) -> None:
        self.repository = repository
        self.scale = scale  # the store's: grades are letters of it
        self.options = options
        self.result = result
        self.progress = progress
        self.source_ids: list[int] = []
        self.sections: dict[str, _SeenSection] = {}
        self.students_staged = 0  # students first seen in the unit so far
        self._student_keys: StudentKeys | None = None  # made when first needed (numpy)
        # Two student ids of one hash were seen: every chunk's students are read back from
        # the staging table instead (exact, slower).
        self._read_back_exactly = False
        # The chunk being staged: the hash of each of its students' first name seen, the
        # students first seen in it (staged with it), and those known in full.
        self._students: dict[str, int] = {}
        self._new_students: list[StagedStudent] = []
        self._first_seen: dict[str, StagedStudent] = {}
        self.header_names: dict[str, str] = {}
        self._display_paths: dict[int, str] = {}
        self._seq = 0
        # Files already warned about a term that is not recognised (one warning a file).
        self._term_warned: set[int] = set()
        # Whether the unit's CSV file is plain (readers.plain_csv), when known already.
        self.plain: bool | None = None
        # The sha256 of files already hashed for this unit (the unit's own file, at least).
        self.digests: dict[Path, str] = {}

    def display_path(self, source_file_id: int) -> str:
        return self._display_paths[source_file_id]

    def memberships(self) -> Iterator[tuple[str, str]]:
        return ((group, name) for name, seen in self.sections.items() for group in seen.groups)

    def stage_file(self, path: Path) -> None:
        display = str(path)
        longest = _max_lengths()["path"]
        if len(display) > longest:
            self.result.errors.append(
                Problem(display, None, f"path is longer than {longest} characters")
            )
            return
        digest = self.digests.get(path) or file_sha256(path)
        source_id = self.repository.add_source_file(display, digest, row_count=0)
        self.source_ids.append(source_id)
        self._display_paths[source_id] = display
        kind = grade_file_kind(path)
        rows: Iterator[GradeRecord | ListEntry | Problem]
        if kind is FileKind.SEC:
            section = read_section_file(path, display, scale=self.scale)
            header = section.header
            too_long = _too_long(
                display,
                1,
                section=header.name,
                header=header.header_name or "",
                term=header.term or "",
            )
            if too_long is not None:
                self.result.errors.append(too_long)
                return
            if header.header_name and header.header_name != header.name:
                self.header_names[header.name] = header.header_name
            if header.name not in self.sections:
                # A .SEC file declares its section even when it lists no student.
                self.sections[header.name] = _SeenSection(
                    source_id, 1, credit_hours=header.credit_hours, term=header.term
                )
                self._check_term(header.term, source_id, display, None)
            rows = iter([*section.problems, *section.records])
        elif kind is FileKind.LST:
            entries, problems = read_list_file(path, display, scale=self.scale)
            rows = iter([*problems, *entries])
        elif self._stage_plain(path, display, source_id):
            return
        else:
            rows = read_grade_csv(
                path, display, max_errors=self.options.max_errors_per_file, scale=self.scale
            )
        staged = self._stage_records(rows, source_id, display)
        self.repository.set_source_row_count(source_id, staged)

    def _stage_plain(self, path: Path, display: str, source_id: int) -> bool:
        """The fast path (readers.plain_csv) for a plain CSV file read first in its unit.

        False when the file needs the careful reader: what was staged of it is undone first,
        so that the careful reader's rows, messages and counts are all there is.
        """
        if self.plain is False or self.sections or self.students_staged:
            return False
        if self.plain is None and not is_plain_candidate(path):
            return False
        result = self.result
        mark = (len(result.warnings), result.warnings_not_kept, self._seq)
        staged = 0
        try:
            for item in read_plain_csv(path, display, _max_lengths(), scale=self.scale):
                if isinstance(item, Problem):
                    result.warn(item)
                else:
                    staged += self._stage_block(item, source_id, display)
        except NotPlainCsv:
            self.repository.unstage_file(source_id)
            self.sections.clear()
            self.students_staged, self._student_keys, self._read_back_exactly = 0, None, False
            del result.warnings[mark[0] :]
            result.warnings_not_kept, self._seq = mark[1], mark[2]
            return False
        self.repository.set_source_row_count(source_id, staged)
        return True

    def _stage_block(self, block: PlainBlock, source_id: int, display: str) -> int:
        """One block of the fast path: the students and sections it adds, then its rows.
        Raises NotPlainCsv where the careful reader would warn (a student's other name, a
        section's other term)."""
        self._stage_block_students(block, source_id)
        for summary in block.section_summaries:
            seen = self.sections.get(summary.name)
            if seen is None:
                seen = self.sections[summary.name] = _SeenSection(source_id, summary.line)
            seen.rows += summary.rows
            if seen.credit_hours is None:
                seen.credit_hours = summary.credit_hours
            if seen.term is None and summary.term is not None:
                if not is_recognised(summary.term):
                    raise NotPlainCsv("an unrecognised term")  # the careful reader warns
                seen.term = summary.term
            elif summary.term is not None and summary.term != seen.term:
                raise NotPlainCsv("a section with two terms")
        for section, group in block.memberships:
            groups = self.sections[section].groups
            if group not in groups:
                groups.append(group)
        count = block.rows
        self.repository.stage_grade_columns(
            self._seq + 1,
            source_id,
            block.lines(),
            block.row_sections(),
            block.row_student_ids(),
            block.grades,
        )
        self._seq += count
        if self.progress is not None:
            self.progress(display, count, "reading")
        return count

    def _stage_block_students(self, block: PlainBlock, source_id: int) -> None:
        """Stage the block's students not staged yet; one staged under another name is not
        plain (the careful reader warns)."""
        seen = self._read_back(block.student_ids.tolist())
        names = name_hashes(block.student_last_names, block.student_first_names).tolist()
        for (student_id, last, first, line), name in zip(block.students(), names, strict=True):
            known = seen.get(student_id)
            if known is None:
                self._note_student(student_id, last, first, source_id, line)
            elif known != name:
                raise NotPlainCsv("a student with two names")
        self._stage_new_students()

    def _read_back(self, student_ids: list[str]) -> dict[str, int]:
        """Of these distinct students, those staged already: id -> the hash of the name
        first seen. Starts a chunk."""
        self._students, self._new_students, self._first_seen = {}, [], {}
        if not self._read_back_exactly:
            if self._student_keys is None:
                self._student_keys = StudentKeys()
            try:
                return self._student_keys.names_seen(student_ids)
            except SharedHash:
                self._read_back_exactly = True
        staged = self.repository.staged_students(student_ids)
        self._first_seen.update(staged)
        return {key: name_hash(s.last_name, s.first_name) for key, s in staged.items()}

    def _note_student(
        self, student_id: str, last: str, first: str, source_id: int, line: int
    ) -> None:
        student = StagedStudent(student_id, self.students_staged, last, first, source_id, line)
        self.students_staged += 1
        self._students[student_id] = name_hash(last, first)
        self._first_seen[student_id] = student
        self._new_students.append(student)

    def _stage_new_students(self) -> None:
        """Stage the students first seen in the chunk, and note them. Ends a chunk."""
        new = self._new_students
        self.repository.stage_students(new)
        if new and self._student_keys is not None and not self._read_back_exactly:
            self._student_keys.note(
                [student.student_id for student in new],
                [name_hash(student.last_name, student.first_name) for student in new],
                [student.seq for student in new],
            )
        self._students, self._new_students, self._first_seen = {}, [], {}

    def _stage_records(
        self, records: Iterator[GradeRecord | ListEntry | Problem], source_id: int, display: str
    ) -> int:
        """Stage a file's records in chunks; return how many were staged."""
        staged = 0
        while chunk := list(itertools.islice(records, STAGING_CHUNK_ROWS)):
            staged += self._stage_chunk(chunk, source_id, display)
        return staged

    def _stage_chunk(
        self, chunk: list[GradeRecord | ListEntry | Problem], source_id: int, display: str
    ) -> int:
        """Check and stage one chunk of records, its students read back first (one query)."""
        named = {item.student_id for item in chunk if not isinstance(item, Problem)}
        self._students = self._read_back(list(named))
        batch: list[StagedRow] = []
        for record in chunk:
            if isinstance(record, Problem):
                if record.is_warning:
                    self.result.warn(record)
                else:
                    self.result.errors.append(record)
                continue
            kind = self._check_record(record, source_id, display)
            if kind is None:
                continue
            self._seq += 1
            batch.append(
                StagedRow(
                    self._seq,
                    source_id,
                    record.line,
                    kind,
                    record.section,
                    record.student_id,
                    record.grade,
                )
            )
        self._stage_new_students()
        return self._flush(batch, display)

    def _check_term(self, term: str | None, source_id: int, display: str, line: int | None) -> None:
        """A term that is not recognised is kept as written, with one warning per file."""
        if term is None or source_id in self._term_warned or is_recognised(term):
            return
        self._term_warned.add(source_id)
        self.result.warn(Problem(display, line, unrecognised_term_message(term), is_warning=True))

    def _check_record(
        self, record: GradeRecord | ListEntry, source_id: int, display: str
    ) -> RowKind | None:
        """Note the record's student (and section); its row kind, or None for a bad row.

        Lengths are checked where a student, section or group is first seen: later rows repeat
        the same values (a name that differs is only warned about, never stored).
        """
        problem = self._check_student(record, source_id, display)
        if problem is None and isinstance(record, ListEntry):
            problem = _too_long(display, record.line, section=record.section)
            kind = RowKind.LIST
        elif problem is None:
            assert isinstance(record, GradeRecord)
            problem = self._check_section(record, source_id, display)
            kind = RowKind.GRADE
        if problem is not None:
            self.result.errors.append(problem)
            return None
        return kind

    def _check_student(
        self, record: GradeRecord | ListEntry, source_id: int, display: str
    ) -> Problem | None:
        known = self._students.get(record.student_id)
        if known is None:
            too_long = _too_long(
                display,
                record.line,
                student_id=record.student_id,
                last_name=record.last_name,
                first_name=record.first_name,
            )
            if too_long is None:
                self._note_student(
                    record.student_id, record.last_name, record.first_name, source_id, record.line
                )
            return too_long
        if known != name_hash(record.last_name, record.first_name):
            self._warn_other_name(record, display)
        return None

    def _check_section(self, record: GradeRecord, source_id: int, display: str) -> Problem | None:
        line = record.line
        seen = self.sections.get(record.section)
        if seen is None:
            too_long = _too_long(display, line, section=record.section)
            if too_long is not None:
                return too_long
            seen = self.sections[record.section] = _SeenSection(source_id, line)
        seen.rows += 1
        if seen.credit_hours is None:
            seen.credit_hours = record.credit_hours
        if seen.term is None and record.term is not None:
            too_long = _too_long(display, line, term=record.term)
            if too_long is not None:
                return too_long
            seen.term = record.term
            self._check_term(record.term, source_id, display, line)
        group = record.group
        if group and group not in seen.groups:
            too_long = _too_long(display, line, group=group)
            if too_long is not None:
                return too_long
            seen.groups.append(group)
        return None

    def _warn_other_name(self, record: GradeRecord | ListEntry, display: str) -> None:
        if self.result.only_counts_warnings:  # no words needed: the first name is not read
            self.result.warnings_not_kept += 1
            return
        known = self._first_seen.get(record.student_id)
        if known is None:  # first seen in an earlier chunk
            known = self.repository.staged_students([record.student_id])[record.student_id]
        last, first, source_id, line = (
            known.last_name,
            known.first_name,
            known.source_file_id,
            known.line,
        )
        where = (
            f"line {line}"
            if source_id == self.source_ids[-1]
            else (f"{self.display_path(source_id)}:{line}")
        )
        self.result.warn(
            Problem(
                display,
                record.line,
                f"student {record.student_id} is "
                f"'{_full_name(record.last_name, record.first_name)}' here but "
                f"'{_full_name(last, first)}' on {where}; the first name is kept",
                is_warning=True,
            )
        )

    def _flush(self, batch: list[StagedRow], display: str) -> int:
        count = len(batch)
        if count and not self.result.errors:
            # Once the unit has an error nothing will be stored: keep reading only to report.
            self.repository.stage_rows(batch)
        batch.clear()
        if self.progress is not None and count:
            self.progress(display, count, "reading")
        return count


def unrecognised_term_message(term: str) -> str:
    return (
        f"term {term!r} is not a term gradestore can place in time (forms: S25, SP2025, "
        "Spring 2025, 2025-sp); it is kept as written and takes no part in ordering "
        "(`gradestore terms` lists every stored term)"
    )


def _full_name(last: str, first: str) -> str:
    return f"{last}, {first}" if first else last


def _warn_about_other_names(
    stager: _Stager, others: Iterable[StoredAsOther], result: UnitResult
) -> None:
    """A known student id with another name: a warning; the stored name is kept."""
    for other in others:
        stored = _full_name(other.stored_last_name, other.stored_first_name)
        result.warn(
            Problem(
                stager.display_path(other.source_file_id),
                other.line,
                f"student {other.student_id} is stored as '{stored}', "
                f"not '{_full_name(other.last_name, other.first_name)}'; the stored name is kept",
                is_warning=True,
            )
        )


def _too_long(display: str, line: int, **values: str) -> Problem | None:
    """A bad row when a value is longer than the store keeps (see _max_lengths)."""
    lengths = _max_lengths()
    for name, value in values.items():
        if len(value) > lengths[name]:
            return Problem(display, line, f"{name} is longer than {lengths[name]} characters")
    return None


@functools.cache
def _max_lengths() -> dict[str, int]:
    """The longest value the store keeps in each column (lengths.MAX_LENGTHS, imported when a
    file is read, not for bytes that are stored already)."""
    from gradestore.persistence.lengths import MAX_LENGTHS

    return MAX_LENGTHS


def _check_duplicates(
    repository: IngestStore, stager: _Stager, result: UnitResult
) -> dict[str, int]:
    """The same student twice in one section: an error with different grades, else a warning.

    Returns, per section, how many staged rows repeat an earlier one (and are not stored).
    """
    first_seen: dict[tuple[str, str], tuple[str, int]] = {}
    repeats: dict[str, int] = {}
    for row in repository.staged_duplicates():
        key = (row.section, row.student_id)
        display = stager.display_path(row.source_file_id)
        if key not in first_seen:
            first_seen[key] = (row.grade, row.line)
            continue
        repeats[row.section] = repeats.get(row.section, 0) + 1
        first_grade, first_line = first_seen[key]
        if row.grade != first_grade:
            result.errors.append(
                Problem(
                    display,
                    row.line,
                    f"student {row.student_id} is in section {row.section} twice with "
                    f"different grades ({first_grade} on line {first_line}, {row.grade} here)",
                )
            )
        else:
            result.warn(
                Problem(
                    display,
                    row.line,
                    f"student {row.student_id} is in section {row.section} twice "
                    f"(also on line {first_line}); kept once",
                    is_warning=True,
                )
            )
    return repeats


def _decide_section_actions(
    repository: IngestStore, stager: _Stager, options: IngestOptions, result: UnitResult
) -> dict[str, SectionAction]:
    """Per staged section: NEW, FILL (stored without grades), KEEP (same grades), REPLACE
    (other grades, with --replace); other grades without --replace are an error."""
    stored = repository.stored_sections(list(stager.sections))
    to_compare = {
        name: SectionAction.CHECK for name, section in stored.items() if section.has_grades
    }
    repository.set_section_actions(to_compare)
    differing = repository.sections_with_other_grades() if to_compare else set()
    actions: dict[str, SectionAction] = {}
    for name, seen in stager.sections.items():
        if name not in stored:
            actions[name] = SectionAction.NEW
        elif not stored[name].has_grades:
            actions[name] = SectionAction.FILL
        elif name not in differing:
            actions[name] = SectionAction.KEEP
        elif options.replace:
            actions[name] = SectionAction.REPLACE
        else:
            result.errors.append(
                Problem(
                    stager.display_path(seen.source_file_id),
                    seen.line,
                    f"section {name} is already stored with different grades; "
                    "use --replace to replace them",
                )
            )
    return actions
