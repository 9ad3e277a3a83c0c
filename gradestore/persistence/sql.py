"""What every store shares: the unit of work's connection, the fastest bulk paths of each
backend, and the look-ups several use cases need (names and ids of groups and sections).

Every value reaches the database as a bound parameter; a ``StrEnum`` is bound as its word.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, CursorResult, insert, select, text
from sqlalchemy.util.typing import TupleAny

if TYPE_CHECKING:
    # The ORM models are imported where a store writes; reading a report needs none of them.
    from gradestore.persistence.models import Group, Run, Section

    NamedModel = type[Group] | type[Section] | type[Run]

# A SQL value as the drivers take it (a StrEnum is a str).
SqlValue = str | int | float | bool | datetime | None
Params = Mapping[str, SqlValue | Sequence[SqlValue]]
CHUNK = 500
# Names of server-side cursors, one per stream (two streams may be open at once).
_CURSOR_NUMBERS = itertools.count()
# On SQLite, a load of at least 1/REBUILD_SHARE of the rows a table holds drops the table's
# secondary indexes and builds them again after it: one sort instead of a random B-tree
# insert per row (a million grades into an empty store: half the insert's time).
REBUILD_SHARE = 4
# What a stored test (zscores, analysis_groups) holds beside the seed's z, p and significant.
TEST_FIGURES = ("p_adjusted", "significant_adjusted", "effect_size", "no_test_reason")


class SqlStore:
    """Base of the per-use-case stores; all of them share the unit of work's connection."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.is_postgres = connection.dialect.name == "postgresql"

    def _execute(self, sql: str, params: Params | None = None) -> CursorResult[*TupleAny]:
        return self.connection.execute(text(sql), dict(params or {}))

    def _bulk_insert(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[SqlValue]]
    ) -> None:
        """COPY on PostgreSQL, executemany on SQLite: the fastest way in on each."""
        if not rows:
            return
        names = ", ".join(columns)
        if self.is_postgres:
            driver_connection = self.connection.connection.driver_connection
            assert driver_connection is not None
            with (
                driver_connection.cursor() as cursor,
                cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join("?" for _ in columns)
            self.connection.exec_driver_sql(
                f"INSERT INTO {table} ({names}) VALUES ({placeholders})", list(map(tuple, rows))
            )

    def _bulk_insert_iter(
        self, table: str, columns: Sequence[str], rows: Iterable[tuple[SqlValue, ...]]
    ) -> None:
        """As _bulk_insert, for rows made as they are written (no list of them is held)."""
        names = ", ".join(columns)
        driver_connection = self.connection.connection.driver_connection
        assert driver_connection is not None
        if self.is_postgres:
            with (
                driver_connection.cursor() as cursor,
                cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join("?" for _ in columns)
            cursor = driver_connection.cursor()
            try:
                cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", rows)
            finally:
                cursor.close()

    def _copy_text(self, table: str, columns: Sequence[str], data: str) -> None:
        """PostgreSQL: rows already written in COPY's text format go in as they are (no
        Python call per row)."""
        self._copy_text_blocks(table, columns, (data,))

    def _copy_text_blocks(self, table: str, columns: Sequence[str], blocks: Iterable[str]) -> None:
        """PostgreSQL: COPY's text, made a block at a time as it is sent."""
        driver_connection = self.connection.connection.driver_connection
        assert driver_connection is not None
        with (
            driver_connection.cursor() as cursor,
            cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for block in blocks:
                copy.write(block)

    def _new_keys(self, table: str, count: int) -> list[int]:
        """``count`` new keys of ``table``'s integer primary key, for rows the caller inserts
        with them: from the sequence on PostgreSQL, after MAX(id) on SQLite (where a write
        unit is the store's only writer: BEGIN IMMEDIATE)."""
        if self.is_postgres:
            # The sequence is named once: pg_get_serial_sequence per row is a catalog look-up.
            sequence = self._execute(f"SELECT pg_get_serial_sequence('{table}', 'id')").scalar()
            return list(
                self._execute(
                    "SELECT nextval(CAST(:sequence AS regclass)) FROM generate_series(1, :n)",
                    {"sequence": sequence, "n": count},
                ).scalars()
            )
        first = self._execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}").scalar_one()
        return list(range(first, first + count))

    def _in_list(self) -> str:
        """``IN`` a list given as one parameter (see _list_value), for _driver_rows."""
        return "= ANY(?)" if self.is_postgres else "IN (SELECT value FROM json_each(?))"

    def _list_value(self, values: Sequence[str]) -> SqlValue | list[str]:
        """A list of strings as one parameter: an array on PostgreSQL, JSON on SQLite."""
        return list(values) if self.is_postgres else json.dumps(list(values))

    def _execute_many(self, sql: str, rows: Sequence[tuple[SqlValue, ...]]) -> None:
        """One statement (written with ? placeholders) for many rows, through the driver."""
        if rows:
            if self.is_postgres:
                sql = sql.replace("?", "%s")
            self.connection.exec_driver_sql(sql, list(rows))

    def _driver_rows(
        self, sql: str, params: tuple[SqlValue | list[str], ...]
    ) -> list[tuple[object, ...]]:
        """All rows of a query (written with ? placeholders) through the DBAPI cursor."""
        if self.is_postgres:
            sql = sql.replace("?", "%s")
        cursor = self.connection.connection.cursor()
        try:
            cursor.execute(sql, params)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def _driver_stream(
        self, sql: str, params: tuple[SqlValue, ...], block: int = 5000
    ) -> Iterator[tuple[SqlValue, ...]]:
        """The rows of a query (written with ? placeholders) through the DBAPI cursor,
        ``block`` at a time: a server-side (named) cursor on PostgreSQL, SQLite's stepping
        cursor, so that no list is held whole."""
        raw = self.connection.connection
        if self.is_postgres:
            sql = sql.replace("?", "%s")
            driver = raw.driver_connection
            assert driver is not None
            cursor = driver.cursor(name=f"gradestore_rows_{next(_CURSOR_NUMBERS)}")
        else:
            cursor = raw.cursor()
        try:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(block):
                yield from rows
        finally:
            # A stream left unfinished (its reader's pipe closed) is closed when it is
            # collected, which may be after its connection: that cursor is gone with it.
            with suppress(Exception):
                cursor.close()

    def _timestamp(self, value: datetime) -> datetime | str:
        """A timestamp as the driver-level bulk paths must pass it: SQLAlchemy's SQLite
        storage format (naive UTC text), or the aware datetime for PostgreSQL."""
        if self.is_postgres:
            return value
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")

    @contextmanager
    def indexes_built_after(
        self, table: str, new_rows: int, keep: Sequence[str] = (), *, analyze: bool = True
    ) -> Iterator[None]:
        """For a load large beside ``table`` (at least 1/REBUILD_SHARE of the rows it holds),
        its secondary (non-unique) indexes are dropped for the load and built again after it,
        in the same transaction: one sort instead of a B-tree insert per row. ``keep``: SQLite
        indexes the load appends to in their order anyway (so that keeping them costs less
        than building them again). ``analyze`` False: PostgreSQL's statistics of the table are
        left to the caller (who analyses it with others after).

        On PostgreSQL its foreign keys are dropped and added again too (one join to check
        them all instead of a trigger per row). That takes an ACCESS EXCLUSIVE lock on
        ``table`` (and SHARE ROW EXCLUSIVE on the tables it refers to) until the commit:
        readers of the table wait for the ingest instead of seeing the last commit. A small
        load keeps everything, and never locks readers out. On SQLite (WAL) readers keep
        seeing the last commit either way.
        """
        rebuild = False
        if new_rows:
            stored = self._execute(f"SELECT COUNT(*) FROM {table}").scalar_one()
            rebuild = new_rows * REBUILD_SHARE >= stored
        if not rebuild:
            yield
            return
        if not self.is_postgres:
            # Each index is built again from the statement that made it (sqlite_master): the
            # same schema, and no models or DDL compiler needed.
            indexes = [
                (str(name), str(sql))
                for name, sql in self._execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
                    " AND tbl_name = :table AND sql IS NOT NULL ORDER BY name",
                    {"table": table},
                )
                if name not in keep
            ]
            for name, _ in indexes:
                self._execute(f'DROP INDEX "{name}"')
            yield
            for _, sql in indexes:
                self._execute(sql)
            return
        from sqlalchemy.schema import AddConstraint, DropConstraint

        from gradestore.persistence.models import Base

        model = Base.metadata.tables[table]
        foreign_keys = sorted(model.foreign_key_constraints, key=lambda fk: str(fk.name))
        pg_indexes = sorted(model.indexes, key=lambda ix: str(ix.name))
        for foreign_key in foreign_keys:
            self.connection.execute(DropConstraint(foreign_key))
        for index in pg_indexes:
            index.drop(self.connection)
        yield
        for index in pg_indexes:
            index.create(self.connection)
        for foreign_key in foreign_keys:
            self.connection.execute(AddConstraint(foreign_key))
        if analyze:
            self._execute(f"ANALYZE {table}")

    def analyze_after_growth(self, added: Mapping[str, int]) -> None:
        """PostgreSQL: statistics for each table a load grew by at least 1/REBUILD_SHARE of
        what it now holds (``added``: table -> rows added). Without them the planner takes a
        table it has never analysed for nearly empty, and a later report joining grades to
        students and sections runs nested loops over hundreds of thousands of rows. (SQLite
        keeps no statistics here and plans these joins by their indexes.)

        What a table held is the planner's own figure (``pg_class.reltuples``, -1 before its
        first statistics), not a count: a folder of small files into a large store would
        otherwise count each grown table once per file."""
        if not self.is_postgres:
            return
        for table, rows in added.items():
            if not rows:
                continue
            known = self._execute(
                "SELECT reltuples FROM pg_class WHERE oid = to_regclass(:table)",
                {"table": table},
            ).scalar_one()
            if known < 0 or rows * REBUILD_SHARE >= known + rows:
                self._execute(f"ANALYZE {table}")

    # --- names and ids shared by several use cases --------------------------------------------

    def has_grades(self) -> bool:
        return self._execute("SELECT 1 FROM enrollments LIMIT 1").first() is not None

    def ensure_groups(self, names: Iterable[str]) -> dict[str, int]:
        from gradestore.persistence.models import Group

        return self._ensure_named(Group, names)

    def ensure_sections(self, names: Iterable[str]) -> dict[str, int]:
        from gradestore.persistence.models import Section

        return self._ensure_named(Section, names)

    def group_names(self) -> list[str]:
        return list(self._execute("SELECT name FROM groups ORDER BY name").scalars())

    def section_names(self) -> list[str]:
        return list(self._execute("SELECT name FROM sections ORDER BY name").scalars())

    def _ensure_named(self, model: NamedModel, names: Iterable[str]) -> dict[str, int]:
        wanted = sorted(set(names))
        if not wanted:
            return {}
        existing = self._ids_by_name(model, wanted)
        missing = [name for name in wanted if name not in existing]
        if missing:
            self.connection.execute(insert(model), [{"name": name} for name in missing])
            existing.update(self._ids_by_name(model, missing))
        return existing

    def _ids_by_name(self, model: NamedModel, names: list[str]) -> dict[str, int]:
        ids: dict[str, int] = {}
        for chunk in chunks(names):
            for name, row_id in self.connection.execute(
                select(model.name, model.id).where(model.name.in_(chunk))
            ):
                ids[name] = row_id
        return ids


def chunks(items: Sequence[str], size: int = CHUNK) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def json_value(value: object) -> dict[str, int]:
    """JSON columns come back parsed, except through a plain text() query on some drivers."""
    parsed = json.loads(value) if isinstance(value, str) else value
    assert isinstance(parsed, dict)
    return parsed
