"""Use case: put grade files into the store, each file argument in one transaction.

A unit is one file argument (a .RUN or .GRP together with the files it names). Its rows are
streamed into a staging table, checked as a whole (bad rows, a student twice in a section, a
section stored with other grades), and only then stored; any error rolls the unit back, so a
file is stored whole or not at all. Other units of the same command still go in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from gradestore.persistence.db import UnitOfWork
from gradestore.persistence.repository import GRADE_ROW, LIST_ROW, Repository, StagedSection
from gradestore.readers import (
    file_sha256,
    grade_file_kind,
    read_grade_csv,
    read_group_file,
    read_list_file,
    read_run_file,
    read_section_file,
)
from gradestore.readers.records import GradeRecord, ListEntry, Problem, Reference

STAGING_CHUNK_ROWS = 20_000
MAX_LENGTHS = {"section": 200, "student_id": 64, "last_name": 200, "first_name": 200, "group": 200}

ProgressCallback = Callable[[str, int], None]


@dataclass(frozen=True)
class IngestOptions:
    group: str | None = None
    replace: bool = False
    dry_run: bool = False
    max_errors_per_file: int = 20


@dataclass
class UnitResult:
    """What happened to one file argument."""

    path: str
    kind: str
    status: str = "unchanged"  # stored | unchanged | rejected | would store | already done
    files: int = 0
    sections_added: int = 0
    sections_unchanged: int = 0
    sections_replaced: int = 0
    students_added: int = 0
    grades_added: int = 0
    grades_unchanged: int = 0
    grades_replaced: int = 0
    memberships_added: int = 0
    list_entries_added: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def rows_rejected(self) -> int:
        return sum(1 for problem in self.errors if problem.line is not None)

    @property
    def changes_store(self) -> bool:
        return any(
            (
                self.sections_added,
                self.sections_replaced,
                self.students_added,
                self.memberships_added,
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
        return all(unit.status != "rejected" for unit in self.units)


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
    engine: Engine,
    paths: Iterable[Path],
    options: IngestOptions = IngestOptions(),
    progress: ProgressCallback | None = None,
) -> IngestReport:
    units, skipped = _expand_arguments(paths)
    report = IngestReport(units=[], skipped_files=skipped, dry_run=options.dry_run)
    done_files: set[Path] = set()
    # A dry run works in one transaction that is never committed, each unit in a savepoint,
    # so that later units see what earlier ones would have stored.
    dry_run_unit = UnitOfWork(engine, write=True) if options.dry_run else None
    with dry_run_unit or nullcontext():
        for path, kind in units:
            if kind is None:
                report.units.append(_missing_or_unknown(path))
                continue
            resolved = path.resolve()
            if resolved in done_files and kind in ("sec", "csv", "lst"):
                report.units.append(UnitResult(path=str(path), kind=kind, status="already done"))
                continue
            if dry_run_unit is not None:
                savepoint = dry_run_unit.connection.begin_nested()
                result, files = _ingest_unit(dry_run_unit.repository, path, kind, options, progress)
                if result.status == "rejected":
                    savepoint.rollback()
                else:
                    savepoint.commit()
            else:
                with UnitOfWork(engine, write=True) as unit:
                    result, files = _ingest_unit(unit.repository, path, kind, options, progress)
                    if result.status == "stored":
                        unit.commit()
            report.units.append(result)
            if result.status != "rejected":
                done_files.update(file.resolve() for file in files)
    return report


def _missing_or_unknown(path: Path) -> UnitResult:
    reason = (
        "not a grade file (expected .csv, .sec, .grp, .run or .lst)"
        if path.exists()
        else "no such file or directory"
    )
    return UnitResult(
        path=str(path), kind="?", status="rejected", errors=[Problem(str(path), None, reason)]
    )


def _expand_arguments(paths: Iterable[Path]) -> tuple[list[tuple[Path, str | None]], list[str]]:
    """File arguments as given; a directory means every grade file in it (runs and groups first,
    so that the sections they name are read once)."""
    units: list[tuple[Path, str | None]] = []
    skipped: list[str] = []
    order = {"run": 0, "grp": 1, "sec": 2, "csv": 2, "lst": 3}
    for path in paths:
        if not path.is_dir():
            units.append((path, grade_file_kind(path) if path.is_file() else None))
            continue
        found: list[tuple[Path, str]] = []
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


def _collect_unit_files(path: Path, kind: str) -> _UnitFiles:
    files = _UnitFiles()
    if kind == "csv":
        files.csv_files.append(path)
    elif kind == "sec":
        files.sections.append(path)
    elif kind == "lst":
        files.list_files.append(path)
    elif kind == "grp":
        _add_group(files, path)
    elif kind == "run":
        run = read_run_file(path)
        files.problems.extend(run.problems)
        for reference in run.groups:
            if reference.path is not None:
                group_name = _add_group(files, reference.path)
                if group_name is not None:
                    files.run_groups.append((run.name, group_name))
    return files


def _add_group(files: _UnitFiles, path: Path) -> str | None:
    group = read_group_file(path)
    files.problems.extend(group.problems)
    if any(not problem.is_warning for problem in group.problems):
        return None
    for member in group.members:
        assert member.path is not None
        if member.path.resolve() not in {known.resolve() for known in files.sections}:
            files.sections.append(member.path)
        files.memberships.append((group.name, _section_name(member)))
    return group.name


def _section_name(reference: Reference) -> str:
    assert reference.path is not None
    return reference.path.name.rsplit(".", 1)[0]


def _ingest_unit(
    repository: Repository,
    path: Path,
    kind: str,
    options: IngestOptions,
    progress: ProgressCallback | None,
) -> tuple[UnitResult, list[Path]]:
    result = UnitResult(path=str(path), kind=kind)
    files = _collect_unit_files(path, kind)
    _sort_problems(result, files.problems)
    result.files = len(files.all_files) + (0 if kind in ("csv", "sec", "lst") else 1)
    if result.errors:
        result.status = "rejected"
        return result, []
    repository.create_staging()
    stager = _Stager(repository, options, result, progress)
    section_headers: dict[str, str] = {}
    declared_sections: list[str] = []
    for file in files.all_files:
        stager.stage_file(file, section_headers, declared_sections)
    if result.errors:
        return _rejected(result), []
    repository.index_staging()
    _check_duplicates(repository, stager, result)
    staged_sections = repository.staged_sections()
    actions = _decide_section_actions(staged_sections, stager, options, result)
    if result.errors:
        return _rejected(result), []
    repository.set_section_actions(actions)
    memberships = list(files.memberships)
    if options.group:
        memberships.extend((options.group, section.name) for section in staged_sections)
    staged_names = {section.name for section in staged_sections}
    new_empty = [name for name in declared_sections if name not in staged_names]
    counts = repository.apply_staged(
        declared_sections=new_empty,
        section_headers=section_headers,
        memberships=memberships,
        run_groups=files.run_groups,
    )
    for mismatch in repository.name_mismatches():
        result.warnings.append(
            Problem(
                stager.display_path(mismatch.source_file_id),
                mismatch.line,
                f"student {mismatch.student_id} is stored as '{mismatch.stored_name}', "
                f"not '{mismatch.staged_name}'; the stored name is kept",
                is_warning=True,
            )
        )
    repository.drop_unused_source_files(stager.source_ids)
    result.students_added = counts.students_added
    result.grades_added = counts.grades_added
    result.grades_replaced = counts.grades_replaced
    result.grades_unchanged = counts.grades_unchanged
    result.memberships_added = counts.memberships_added
    result.list_entries_added = counts.list_entries_added
    result.sections_added = counts.sections_added
    result.sections_replaced = sum(1 for action in actions.values() if action == "replace")
    result.sections_unchanged = sum(1 for action in actions.values() if action == "keep")
    if not result.changes_store:
        result.status = "unchanged"
    elif options.dry_run:
        result.status = "would store"
    else:
        result.status = "stored"
    return result, files.all_files


def _rejected(result: UnitResult) -> UnitResult:
    result.status = "rejected"
    return result


def _sort_problems(result: UnitResult, problems: Iterable[Problem]) -> None:
    for problem in problems:
        (result.warnings if problem.is_warning else result.errors).append(problem)


class _Stager:
    """Streams a unit's files into the staging table, keeping bad rows as problems."""

    def __init__(
        self,
        repository: Repository,
        options: IngestOptions,
        result: UnitResult,
        progress: ProgressCallback | None,
    ) -> None:
        self.repository = repository
        self.options = options
        self.result = result
        self.progress = progress
        self.source_ids: list[int] = []
        self._display_paths: dict[int, str] = {}
        self._seq = 0

    def display_path(self, source_file_id: int) -> str:
        return self._display_paths[source_file_id]

    def stage_file(
        self, path: Path, section_headers: dict[str, str], declared_sections: list[str]
    ) -> None:
        display = str(path)
        source_id = self.repository.add_source_file(display, file_sha256(path), row_count=0)
        self.source_ids.append(source_id)
        self._display_paths[source_id] = display
        kind = grade_file_kind(path)
        rows: Iterator[GradeRecord | ListEntry | Problem]
        if kind == "sec":
            section = read_section_file(path, display)
            declared_sections.append(section.header.name)
            if section.header.header_name and section.header.header_name != section.header.name:
                section_headers[section.header.name] = section.header.header_name
            rows = iter([*section.problems, *section.records])
        elif kind == "lst":
            entries, problems = read_list_file(path, display)
            rows = iter([*problems, *entries])
        else:
            rows = read_grade_csv(path, display, max_errors=self.options.max_errors_per_file)
        staged = self._stage_records(rows, source_id, display)
        self.repository.set_source_row_count(source_id, staged)

    def _stage_records(
        self, records: Iterator[GradeRecord | ListEntry | Problem], source_id: int, display: str
    ) -> int:
        batch: list[tuple[object, ...]] = []
        staged = 0
        group = self.options.group
        for record in records:
            if isinstance(record, Problem):
                (self.result.warnings if record.is_warning else self.result.errors).append(record)
                continue
            too_long = _too_long_field(record, group)
            if too_long:
                self.result.errors.append(Problem(display, record.line, too_long))
                continue
            self._seq += 1
            if isinstance(record, ListEntry):
                batch.append(
                    (
                        self._seq,
                        source_id,
                        record.line,
                        LIST_ROW,
                        record.section,
                        record.student_id,
                        record.last_name,
                        record.first_name,
                        record.grade,
                        None,
                        None,
                        None,
                    )
                )
            else:
                batch.append(
                    (
                        self._seq,
                        source_id,
                        record.line,
                        GRADE_ROW,
                        record.section,
                        record.student_id,
                        record.last_name,
                        record.first_name,
                        record.grade,
                        record.group,
                        record.credit_hours,
                        record.term,
                    )
                )
            if len(batch) >= STAGING_CHUNK_ROWS:
                staged += self._flush(batch, display)
        staged += self._flush(batch, display)
        return staged

    def _flush(self, batch: list[tuple[object, ...]], display: str) -> int:
        count = len(batch)
        if count and not self.result.errors:
            # Once the unit has an error nothing will be stored: keep reading only to report.
            self.repository.stage_rows(batch)
        batch.clear()
        if self.progress is not None and count:
            self.progress(display, count)
        return count


def _too_long_field(record: GradeRecord | ListEntry, group: str | None) -> str | None:
    values = {
        "section": record.section,
        "student_id": record.student_id,
        "last_name": record.last_name,
        "first_name": record.first_name,
        "group": getattr(record, "group", None) or group or "",
    }
    for name, value in values.items():
        if len(value) > MAX_LENGTHS[name]:
            return f"{name} is longer than {MAX_LENGTHS[name]} characters"
    return None


def _check_duplicates(repository: Repository, stager: _Stager, result: UnitResult) -> None:
    """The same student twice in one section: an error with different grades, else a warning."""
    first_seen: dict[tuple[str, str], tuple[str, int]] = {}
    for row in repository.staged_duplicates():
        key = (row.section, row.student_id)
        display = stager.display_path(row.source_file_id)
        if key not in first_seen:
            first_seen[key] = (row.grade, row.line)
            continue
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
            result.warnings.append(
                Problem(
                    display,
                    row.line,
                    f"student {row.student_id} is in section {row.section} twice "
                    f"(also on line {first_line}); kept once",
                    is_warning=True,
                )
            )


def _decide_section_actions(
    staged_sections: list[StagedSection],
    stager: _Stager,
    options: IngestOptions,
    result: UnitResult,
) -> dict[str, str]:
    actions: dict[str, str] = {}
    for section in staged_sections:
        if not section.exists:
            actions[section.name] = "new"
        elif not section.has_grades:
            actions[section.name] = "fill"
        elif not section.differs:
            actions[section.name] = "keep"
        elif options.replace:
            actions[section.name] = "replace"
        else:
            result.errors.append(
                Problem(
                    stager.display_path(section.source_file_id),
                    section.line,
                    f"section {section.name} is already stored with different grades; "
                    "use --replace to replace them",
                )
            )
    return actions
