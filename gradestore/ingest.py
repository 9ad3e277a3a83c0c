"""Use case: put grade files into the store, each file argument in one transaction.

A unit is one file argument (a .RUN or .GRP together with the files it names). Its rows are
streamed into a staging table, checked as a whole (bad rows, a student twice in a section, a
section stored with other grades), and only then stored; any error rolls the unit back, so a
file is stored whole or not at all. Other units of the same command still go in.

This module holds what every ingest needs: the options, the results, a unit per argument, and
the answer for bytes stored already (read from source_files: the file is not read). Reading
and writing a file (the readers, the direct load, the staging) is gradestore.ingest_staged,
imported only when a file must be read: the same bytes again import neither it nor the
readers.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from gradestore.errors import GradestoreError, UsageError
from gradestore.jsontypes import JsonObject
from gradestore.kinds import FileKind, FileStatus
from gradestore.readers.identity import file_sha256, grade_file_kind

if TYPE_CHECKING:
    # Annotations only: the answer for stored bytes (answer_unchanged) imports no SQLAlchemy,
    # which persistence.db does.
    from gradestore.persistence.db import UnitOfWork, UnitOfWorkFactory
    from gradestore.readers.records import Problem

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
            if len(group) > max_lengths()["group"]:
                raise UsageError(f"--group is longer than {max_lengths()['group']} characters")
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


def summary_json(report: IngestReport) -> str:
    """render.ingest_json's bytes, without importing render (and the results model under it)
    on the path of the same bytes again: the summary holds only strings, numbers, booleans and
    lists of them, which render.to_json passes through as they are."""
    import json

    return json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n"


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
            from gradestore.ingest_staged import load_directly  # a file to read: the reading path

            direct, plain = load_directly(unit, path, kind, options, progress, digests)
            if direct is not None:
                if direct.status is FileStatus.STORED:
                    unit.commit()
                return direct, [path]
    with units(write=True) as unit:
        if kind is FileKind.CSV:  # answered above: not unchanged, not loaded directly
            from gradestore.ingest_staged import stage_and_store

            result, files = stage_and_store(unit, path, kind, options, progress, plain, digests)
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
    from gradestore.readers.records import Problem

    where = error.filename or path
    reason = error.strerror or str(error)
    return UnitResult(
        path=str(path),
        kind=kind,
        status=FileStatus.REJECTED,
        errors=[Problem(str(where), None, f"cannot read: {reason}")],
    )


def _missing_or_unknown(path: Path) -> UnitResult:
    from gradestore.readers.records import Problem

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
    from gradestore.ingest_staged import load_directly, stage_and_store

    direct, plain = load_directly(unit, path, kind, options, progress, digests)
    if direct is not None:
        return direct, [path]
    return stage_and_store(unit, path, kind, options, progress, plain, digests)


class StoredSources(Protocol):
    """What the answer for stored bytes asks a store (SourcesStore, or the quick stores of
    quick_sqlite and quick_postgres)."""

    def unchanged_source(self, sha256: str) -> tuple[int, int] | None: ...


class QuickStore(StoredSources, Protocol):
    def close(self) -> None: ...


def answer_unchanged(
    db_url: str | None, paths: Sequence[Path], options: IngestOptions = IngestOptions()
) -> IngestReport | None:
    """ingest_paths' report, answered before SQLAlchemy is imported (with the standard
    library's sqlite3, or psycopg alone), when the command names one .csv or .sec file whose
    very bytes a SQLite or PostgreSQL store (``db_url`` as ``--db`` gives it, else the
    configured one) holds unchanged; None whenever that is not certain (several paths, a
    folder, --dry-run, --replace, --group, a URL not plain, a store missing, locked, not at
    the expected revision, an error): ingest_paths then answers, as it always has. See
    persistence/quick_sqlite.py and persistence/quick_postgres.py."""
    if len(paths) != 1 or options.dry_run or options.replace or options.group is not None:
        return None
    import sqlite3

    from gradestore.config import resolve_database
    from gradestore.persistence import quick_postgres, quick_sqlite

    try:
        setting = resolve_database(db_url, check=False)
        arguments, skipped = _expand_arguments(paths)
        if skipped or len(arguments) != 1:
            return None
        path, kind = arguments[0]
        if kind not in (FileKind.CSV, FileKind.SEC):
            return None
        store: QuickStore | None
        if setting.url.startswith("postgresql"):
            store = quick_postgres.open_at_head(setting.url)
        else:
            store = quick_sqlite.open_at_head(setting.url)
        if store is None:
            return None
        try:
            identity = _identity(path)
            digests: dict[Path, str] = {}
            unchanged = _unchanged_unit(store, path, kind, options, digests)
        finally:
            store.close()
        if unchanged is None and path in digests:
            _HANDED_OVER[path] = (identity, digests[path])
    except (GradestoreError, OSError, ValueError, sqlite3.Error, quick_postgres.QuickStoreError):
        return None
    if unchanged is None:
        return None
    return IngestReport(units=[unchanged], skipped_files=[], dry_run=False)


def _unchanged_unit(
    sources: StoredSources,
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
    digest = digests[path] = _sha256(path)
    unchanged = sources.unchanged_source(digest)
    if unchanged is None:
        return None
    result = UnitResult(path=str(path), kind=kind, files=1)
    result.sections_unchanged, result.grades_unchanged = unchanged
    return result


# A digest answer_unchanged computed for a file that must be read after all, by the file's
# identity (device, inode, size, times) when it was hashed: the usual path takes it once
# instead of hashing the file again (0.1 s at 1M grades). A file written since has another
# size or change time.
_HANDED_OVER: dict[Path, tuple[tuple[int, ...], str]] = {}


def _identity(path: Path) -> tuple[int, ...]:
    stat = path.stat()
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def _sha256(path: Path) -> str:
    """file_sha256, or the digest answer_unchanged handed over for the file as it still is."""
    handed = _HANDED_OVER.pop(path, None)
    if handed is not None and handed[0] == _identity(path):
        return handed[1]
    return file_sha256(path)


@functools.cache
def max_lengths() -> dict[str, int]:
    """The longest value the store keeps in each column (lengths.MAX_LENGTHS, imported when a
    file is read, not for bytes that are stored already)."""
    from gradestore.persistence.lengths import MAX_LENGTHS

    return MAX_LENGTHS
