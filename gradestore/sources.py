"""Use cases that take an ingest back: list the ingested files, remove one (its grades and
what it created that nothing else holds), take a section out of a group.

docs/store-life.md says what a removal removes and what it leaves.
"""

from __future__ import annotations

from dataclasses import dataclass

from gradestore.errors import NotFoundError, unknown
from gradestore.jsontypes import JsonObject
from gradestore.persistence.db import UnitOfWorkFactory
from gradestore.persistence.rows import SourceFileRow, TableRows


def source_json(row: SourceFileRow) -> JsonObject:
    return {
        "source_id": row.id,
        "path": row.path,
        "sha256": row.sha256,
        "ingested_at": row.ingested_at.isoformat(),
        "grades": row.grades,
        "list_entries": row.list_entries,
        "memberships": row.memberships,
        "run_groups": row.run_groups,
    }


def list_sources(units: UnitOfWorkFactory) -> list[SourceFileRow]:
    """Every ingested file that put something in the store, oldest first."""
    with units(write=False) as unit:
        return unit.sources.source_files()


@dataclass(frozen=True)
class Removal:
    """A file taken back (or, in a dry run, what would go), with the rows per table."""

    source: SourceFileRow
    rows: list[TableRows]
    dry_run: bool

    def removed(self, table: str) -> int:
        return sum(row.rows for row in self.rows if row.table == table)

    def as_json(self) -> JsonObject:
        return {
            "source": source_json(self.source),
            "rows": {row.table: row.rows for row in self.rows},
            "dry_run": self.dry_run,
        }


def remove_source(
    units: UnitOfWorkFactory, source_file_id: int, *, dry_run: bool = False
) -> Removal:
    """In one transaction: the grades and .lst entries whose provenance is the file, the
    memberships and run entries it added, then the sections, students, groups and runs it
    created that nothing holds or refers to (analyses keep theirs), then the file's record."""
    with units(write=True) as unit:
        store = unit.sources
        # An id no column can hold is simply not there (SQLite would refuse to bind it).
        found = store.source_files(source_file_id) if 0 < source_file_id < 2**63 else []
        if not found:
            known = store.source_file_ids()
            listed = ", ".join(map(str, known[-10:])) if known else "none"
            raise NotFoundError(f"unknown source file {source_file_id}; stored files: {listed}")
        rows = store.remove_source_file(source_file_id)
        if not dry_run:
            unit.commit()
    return Removal(found[0], rows, dry_run)


def remove_section_from_group(units: UnitOfWorkFactory, group: str, section: str) -> None:
    """Take a section out of a group (the group and the section stay); unknown names and a
    section that is not in the group are one-line errors."""
    with units(write=True) as unit:
        store = unit.sources
        if not store.has_group(group):
            raise NotFoundError(unknown("group", group, store.group_names()))
        if not store.has_section(section):
            raise NotFoundError(unknown("section", section, store.section_names()))
        if not store.remove_membership(group, section):
            raise NotFoundError(f"section {section!r} is not in group {group!r}")
        unit.commit()
