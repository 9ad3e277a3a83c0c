"""The SQL of a store's life: analyses stamped with what they read, listed, flagged, deleted.

Every statement is set-based: the flags of all analyses are one GROUP BY, a deletion is one
DELETE per table, the fingerprint of the grades one aggregate over ``enrollments``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import bindparam, text

from gradestore.kinds import TestKind
from gradestore.persistence.rows import AnalysisStamp, FlagCounts, FlaggedTest, TableRows
from gradestore.persistence.sql import SqlStore

# The grades' checksum works modulo this prime (2**31 - 1), so that no product of two of its
# terms leaves a 64-bit integer, on SQLite and PostgreSQL alike.
_MODULUS = 2_147_483_647
# The small tables whose rows an analysis reads beside the grades, each in a stable order.
_SMALL_INPUTS = (
    "SELECT id, name, term FROM sections ORDER BY id",
    "SELECT id, name FROM groups ORDER BY id",
    "SELECT group_id, section_id FROM group_sections ORDER BY group_id, section_id",
    "SELECT id, name FROM runs ORDER BY id",
    "SELECT run_id, group_id FROM run_groups ORDER BY run_id, group_id",
    "SELECT student_id, section_name, grade FROM list_appearances"
    " ORDER BY student_id, section_name, grade",
)


class HistoryStore(SqlStore):
    # --- what an analysis read ----------------------------------------------------------------

    def inputs_fingerprint(self, letters: Sequence[str]) -> str:
        """A hash of everything an analysis reads: every grade (which student has which
        letter in which section, as a count and two checksums computed by the database in
        one pass), and the rows of sections, groups, memberships, runs and .lst entries.
        ``letters``: the scale's letters (another letter counts as one unknown letter, which
        no analysis that uses the scale could read)."""
        digest = hashlib.sha256(repr(self._grades_checksum(letters)).encode())
        for query in _SMALL_INPUTS:
            for row in self._driver_stream(query, ()):
                digest.update(repr(row).encode())
            digest.update(b"|")
        return digest.hexdigest()

    def _grades_checksum(self, letters: Sequence[str]) -> tuple[int, int, int]:
        """(count, a linear and a squared checksum) of (section, student, letter) over every
        grade: a changed, added, removed or moved grade changes them."""
        cases = " ".join(f"WHEN :g{i} THEN {i + 1}" for i in range(len(letters)))
        code = f"CASE grade {cases} ELSE 0 END" if letters else "0"
        key = f"(CAST(section_id AS BIGINT) * 1000003 + student_id) % {_MODULUS}"
        mixed = f"(x * (2 * c + 3) % {_MODULUS})"
        # The subquery is kept apart (SQLite: LIMIT -1, PostgreSQL: OFFSET 0), so that each
        # grade's x and c are computed once, not once per use (x three times, c three
        # times, each c up to a comparison per letter): 0.93 -> 0.55 s at 1M on SQLite.
        fence = "OFFSET 0" if self.is_postgres else "LIMIT -1"
        count, linear, squared = self._execute(
            f"SELECT COUNT(*), COALESCE(SUM(x * 31 + c), 0),"
            f" COALESCE(SUM({mixed} * {mixed} % {_MODULUS}), 0)"
            f" FROM (SELECT {key} AS x, {code} AS c FROM enrollments {fence}) e",
            {f"g{i}": letter for i, letter in enumerate(letters)},
        ).one()
        return int(count), int(linear), int(squared)

    def set_inputs_fingerprint(self, analysis_id: int, fingerprint: str) -> None:
        self._execute(
            "UPDATE analyses SET inputs_fingerprint = :fingerprint WHERE id = :analysis",
            {"fingerprint": fingerprint, "analysis": analysis_id},
        )

    # --- analyses -----------------------------------------------------------------------------

    def analysis_stamps(self) -> list[AnalysisStamp]:
        """Every analysis, newest first, with what it read and its flagged section tests."""
        rows = self._execute(
            "SELECT a.id, a.inputs_fingerprint, COALESCE(f.raw, 0), COALESCE(f.adjusted, 0)"
            " FROM analyses a LEFT JOIN (SELECT analysis_id,"
            " SUM(CASE WHEN significant THEN 1 ELSE 0 END) AS raw,"
            " SUM(CASE WHEN significant_adjusted THEN 1 ELSE 0 END) AS adjusted"
            " FROM zscores GROUP BY analysis_id) f ON f.analysis_id = a.id"
            " ORDER BY a.created_at DESC, a.id DESC"
        )
        return [AnalysisStamp(row[0], row[1], FlagCounts(int(row[2]), int(row[3]))) for row in rows]

    def flagged_tests(self, analysis_id: int) -> list[FlaggedTest]:
        """The analysis' tests flagged by p alone or after adjustment: sections against their
        groups, then groups against all groups, each by name."""
        sections = self._execute(
            "SELECT s.name, g.name, z.p_value, z.p_adjusted, z.significant,"
            " z.significant_adjusted FROM zscores z JOIN sections s ON s.id = z.section_id"
            " LEFT JOIN groups g ON g.id = z.group_id WHERE z.analysis_id = :analysis"
            " AND (z.significant OR z.significant_adjusted) ORDER BY s.name, g.name",
            {"analysis": analysis_id},
        )
        groups = self._execute(
            "SELECT g.name, NULL, a.p_value, a.p_adjusted, a.significant, a.significant_adjusted"
            " FROM analysis_groups a JOIN groups g ON g.id = a.group_id"
            " WHERE a.analysis_id = :analysis AND (a.significant OR a.significant_adjusted)"
            " ORDER BY g.name",
            {"analysis": analysis_id},
        )
        return [
            FlaggedTest(kind, row[0], row[1], row[2], row[3], bool(row[4]), _flag(row[5]))
            for kind, rows in ((TestKind.SECTION, sections), (TestKind.GROUP, groups))
            for row in rows
        ]

    def delete_analyses(self, analysis_ids: Sequence[int]) -> list[TableRows]:
        """Delete these analyses and every row of every table that refers to them (found in
        the models, so a table added later is not forgotten); returns the rows per table."""
        from gradestore.persistence.models import Base

        ids = sorted(set(analysis_ids))
        removed: list[TableRows] = []
        for table in reversed(Base.metadata.sorted_tables):
            for key in table.foreign_keys:
                if key.column.table.name == "analyses":
                    rows = self._delete_in(table.name, key.parent.name, ids)
                    removed.append(TableRows(table.name, rows))
        removed.append(TableRows("analyses", self._delete_in("analyses", "id", ids)))
        return removed

    def _delete_in(self, table: str, column: str, ids: list[int]) -> int:
        """Names come from the models, never from a user; the ids are bound."""
        statement = text(f"DELETE FROM {table} WHERE {column} IN :ids").bindparams(
            bindparam("ids", expanding=True)
        )
        return int(self.connection.execute(statement, {"ids": ids}).rowcount) if ids else 0


def _flag(value: bool | int | None) -> bool | None:
    return None if value is None else bool(value)
