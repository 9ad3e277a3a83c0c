"""The SQL of the files a store holds: what each still holds (and whether the same bytes need
reading again), and taking an ingest back: the removal of a file's rows and of what it
created that nothing else holds (set-based: one statement per table). No ORM models: a
re-ingest of stored bytes is answered from here."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import text

from gradestore.persistence.sql import SqlStore

if TYPE_CHECKING:
    # Imported where listed or removed: the answer for stored bytes needs none of them.
    from gradestore.persistence.rows import SourceFileRow, TableRows

# What a file's rows are, by table: every row that names the file.
_HELD = ("enrollments", "list_appearances", "group_sections", "run_groups")
# What a file created and nothing else may hold any more, in the order they are removed (a
# section goes after its memberships, a group after its memberships and runs). Each WHERE says
# what still holds a row: grades, list entries, memberships, and what analyses refer to (kept
# as history, with the sections, students and groups they name).
_CREATED = (
    (
        "sections",
        "NOT EXISTS (SELECT 1 FROM enrollments e WHERE e.section_id = sections.id)"
        " AND NOT EXISTS (SELECT 1 FROM group_sections g WHERE g.section_id = sections.id)"
        " AND NOT EXISTS (SELECT 1 FROM analysis_sections a WHERE a.section_id = sections.id)"
        " AND NOT EXISTS (SELECT 1 FROM zscores z WHERE z.section_id = sections.id)"
        " AND NOT EXISTS (SELECT 1 FROM performances p WHERE p.section_id = sections.id)",
    ),
    (
        "students",
        "NOT EXISTS (SELECT 1 FROM enrollments e WHERE e.student_id = students.id)"
        " AND NOT EXISTS (SELECT 1 FROM list_appearances l WHERE l.student_id = students.id)"
        " AND NOT EXISTS (SELECT 1 FROM performances p WHERE p.student_id = students.id)",
    ),
    (
        "groups",
        "NOT EXISTS (SELECT 1 FROM group_sections g WHERE g.group_id = groups.id)"
        " AND NOT EXISTS (SELECT 1 FROM run_groups r WHERE r.group_id = groups.id)"
        " AND NOT EXISTS (SELECT 1 FROM analysis_groups a WHERE a.group_id = groups.id)"
        " AND NOT EXISTS (SELECT 1 FROM zscores z WHERE z.group_id = groups.id)",
    ),
    ("runs", "NOT EXISTS (SELECT 1 FROM run_groups r WHERE r.run_id = runs.id)"),
)


class UnchangedSource(NamedTuple):
    """What a file stored whole earlier still holds in the store."""

    sections: int
    grades: int


class SourcesStore(SqlStore):
    def unchanged_source(self, sha256: str) -> UnchangedSource | None:
        """What a file with these bytes stored, when it stored every grade it holds and all
        are still stored; None when the file must be read and compared.

        Read from the file's row alone: triggers on enrollments (migration 0010) clear
        ``grades_stored`` when any grade of the file is deleted or changed, by whatever
        statement (`sources remove`, `--replace`, a cascade, SQL by hand)."""
        row = self._execute(
            "SELECT sections_stored, grades_stored FROM source_files"
            " WHERE sha256 = :sha256 AND grades_stored > 0 ORDER BY id DESC LIMIT 1",
            {"sha256": sha256},
        ).first()
        return None if row is None else UnchangedSource(*row)

    def source_files(self, source_file_id: int | None = None) -> list[SourceFileRow]:
        """Every ingested file (or one), oldest first, with what it still holds."""
        from gradestore.persistence.rows import SourceFileRow
        from gradestore.persistence.types import UTCDateTime

        held = ", ".join(
            f"(SELECT COUNT(*) FROM {table} t WHERE t.source_file_id = sf.id)" for table in _HELD
        )
        only = "" if source_file_id is None else " WHERE sf.id = :source"
        rows = self.connection.execute(
            text(
                f"SELECT sf.id, sf.path, sf.sha256, sf.ingested_at, {held}"
                f" FROM source_files sf{only} ORDER BY sf.id"
            ).columns(ingested_at=UTCDateTime()),
            {"source": source_file_id},
        )
        return [SourceFileRow(*row) for row in rows]

    def source_file_ids(self) -> list[int]:
        return list(self._execute("SELECT id FROM source_files ORDER BY id").scalars())

    def remove_source_file(self, source_file_id: int) -> list[TableRows]:
        """Delete the file's rows, then what it created that nothing holds, then the file;
        returns the rows per table."""
        from gradestore.persistence.rows import TableRows

        removed = [
            TableRows(table, self._delete(f"DELETE FROM {table} WHERE source_file_id = :source",
                                          source_file_id))
            for table in _HELD
        ]  # fmt: skip
        for table, unheld in _CREATED:
            sql = f"DELETE FROM {table} WHERE source_file_id = :source AND {unheld}"
            removed.append(TableRows(table, self._delete(sql, source_file_id)))
        sql = "DELETE FROM source_files WHERE id = :source"
        removed.append(TableRows("source_files", self._delete(sql, source_file_id)))
        return removed

    def _delete(self, sql: str, source_file_id: int) -> int:
        """Table names come from this module, never from a user; the id is bound."""
        return max(int(self._execute(sql, {"source": source_file_id}).rowcount), 0)

    def remove_membership(self, group: str, section: str) -> int:
        """Take a section out of a group (by names); returns 0 or 1."""
        return self._delete_pair(
            "DELETE FROM group_sections"
            " WHERE group_id = (SELECT id FROM groups WHERE name = :group)"
            " AND section_id = (SELECT id FROM sections WHERE name = :section)",
            group,
            section,
        )

    def _delete_pair(self, sql: str, group: str, section: str) -> int:
        return max(int(self._execute(sql, {"group": group, "section": section}).rowcount), 0)

    def has_group(self, name: str) -> bool:
        return (
            self._execute("SELECT 1 FROM groups WHERE name = :name", {"name": name}).first()
            is not None
        )

    def has_section(self, name: str) -> bool:
        found = self._execute("SELECT 1 FROM sections WHERE name = :name", {"name": name})
        return found.first() is not None

    def is_member(self, group: str, section: str) -> bool:
        return (
            self._execute(
                "SELECT 1 FROM group_sections gs JOIN groups g ON g.id = gs.group_id"
                " JOIN sections s ON s.id = gs.section_id WHERE g.name = :group"
                " AND s.name = :section",
                {"group": group, "section": section},
            ).first()
            is not None
        )
