"""The loaders a user would reach for instead of gradestore, each run as its own process.

    python bench/baselines.py NAME FILE URL

NAME is one of:

- ``sqlite_executemany`` (a): stdlib ``csv`` + ``sqlite3.executemany`` into gradestore's own
  normalized tables (students, sections, groups, group_sections, source_files, enrollments) in one
  transaction. URL is a SQLite URL or path of a store already at gradestore's schema (``gradestore
  db upgrade``). Students, sections and groups are deduplicated in Python dicts, ids are assigned in
  Python, rows go in with ``executemany``. No validation: a hand-tuned lower bound.
- ``pandas_to_sql`` (b): ``pandas.read_csv`` + ``DataFrame.to_sql`` of the flat file into one table
  of a SQLite file. No validation, no normalization.
- ``pg_copy_normalized`` (c): psycopg ``COPY`` of the file into a temporary staging table, then
  ``INSERT ... SELECT`` into the same normalized tables, in one transaction. URL is a PostgreSQL
  database already at gradestore's schema (empty, or holding other grades).
- ``pg_copy_flat`` (floor): a plain ``COPY`` of the flat file into one flat table.

Prints one line of JSON: the rows loaded.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path


def _sqlite_path(url: str) -> str:
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix):
            return url[len(prefix) :]
    return url


def _pg_conninfo(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sqlite_executemany(file: str, url: str) -> int:
    import sqlite3

    connection = sqlite3.connect(_sqlite_path(url), isolation_level=None)
    # The same settings gradestore uses for its SQLite stores.
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute("BEGIN IMMEDIATE")
    cursor = connection.cursor()

    def next_id(table: str) -> int:
        return cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}").fetchone()[0]

    students: dict[str, int] = dict(cursor.execute("SELECT student_id, id FROM students"))
    sections: dict[str, int] = dict(cursor.execute("SELECT name, id FROM sections"))
    groups: dict[str, int] = dict(cursor.execute("SELECT name, id FROM groups"))
    student_rows: list[tuple[int, str, str, str]] = []
    section_rows: list[tuple[int, str, float | None, str | None]] = []
    group_rows: list[tuple[int, str]] = []
    memberships: set[tuple[int, int]] = set()
    student_next, section_next, group_next = (
        next_id("students"),
        next_id("sections"),
        next_id("groups"),
    )
    cursor.execute(
        "INSERT INTO source_files (path, sha256, ingested_at, row_count) VALUES (?, ?, ?, 0)",
        (file, _sha256(file), datetime.now(UTC).isoformat(sep=" ")),
    )
    source_id = cursor.lastrowid
    rows = 0
    enrollment_sql = (
        "INSERT INTO enrollments (section_id, student_id, grade, source_file_id)"
        " VALUES (?, ?, ?, ?)"
    )
    batch: list[tuple[int, int, str, int]] = []
    with open(file, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        next(reader)
        for section, sid, last, first, grade, group, credit_hours, term in reader:
            student = students.get(sid)
            if student is None:
                student = students[sid] = student_next
                student_next += 1
                student_rows.append((student, sid, first, last))
            section_id = sections.get(section)
            if section_id is None:
                section_id = sections[section] = section_next
                section_next += 1
                section_rows.append(
                    (
                        section_id,
                        section,
                        float(credit_hours) if credit_hours else None,
                        term or None,
                    )
                )
            if group:
                group_id = groups.get(group)
                if group_id is None:
                    group_id = groups[group] = group_next
                    group_next += 1
                    group_rows.append((group_id, group))
                memberships.add((group_id, section_id))
            batch.append((section_id, student, grade.strip().upper(), source_id))
            rows += 1
            if len(batch) >= 50_000:
                # Parents first (foreign keys are on).
                _flush_parents(cursor, student_rows, section_rows, group_rows)
                cursor.executemany(enrollment_sql, batch)
                batch.clear()
    _flush_parents(cursor, student_rows, section_rows, group_rows)
    cursor.executemany(enrollment_sql, batch)
    cursor.executemany(
        "INSERT OR IGNORE INTO group_sections (group_id, section_id) VALUES (?, ?)",
        sorted(memberships),
    )
    cursor.execute("UPDATE source_files SET row_count = ? WHERE id = ?", (rows, source_id))
    connection.execute("COMMIT")
    connection.close()
    return rows


def _flush_parents(cursor, student_rows, section_rows, group_rows) -> None:  # type: ignore[no-untyped-def]
    cursor.executemany(
        "INSERT INTO students (id, student_id, fname, lname) VALUES (?, ?, ?, ?)", student_rows
    )
    cursor.executemany(
        "INSERT INTO sections (id, name, credit_hours, term) VALUES (?, ?, ?, ?)", section_rows
    )
    cursor.executemany("INSERT INTO groups (id, name) VALUES (?, ?)", group_rows)
    student_rows.clear()
    section_rows.clear()
    group_rows.clear()


def pandas_to_sql(file: str, url: str) -> int:
    import sqlite3

    import pandas as pd

    frame = pd.read_csv(file, dtype={"student_id": str})  # keep the ids' leading zeros
    connection = sqlite3.connect(_sqlite_path(url))
    frame.to_sql("grades", connection, if_exists="replace", index=False)
    connection.commit()
    connection.close()
    return len(frame)


def _copy_file(cursor, sql: str, file: str) -> None:  # type: ignore[no-untyped-def]
    with open(file, "rb") as handle, cursor.copy(sql) as copy:
        for block in iter(lambda: handle.read(1 << 20), b""):
            copy.write(block)


def pg_copy_normalized(file: str, url: str) -> int:
    import psycopg

    with psycopg.connect(_pg_conninfo(url)) as connection, connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE staging (section TEXT, student_id TEXT, last_name TEXT,"
            " first_name TEXT, grade TEXT, grp TEXT, credit_hours FLOAT, term TEXT)"
            " ON COMMIT DROP"
        )
        _copy_file(cursor, "COPY staging FROM STDIN (FORMAT csv, HEADER true)", file)
        cursor.execute("ANALYZE staging")
        cursor.execute(
            "INSERT INTO source_files (path, sha256, ingested_at, row_count)"
            " SELECT %s, %s, now(), COUNT(*) FROM staging RETURNING id, row_count",
            (file, _sha256(file)),
        )
        source_id, rows = cursor.fetchone()  # type: ignore[misc]
        cursor.execute(
            "INSERT INTO students (student_id, fname, lname)"
            " SELECT DISTINCT ON (student_id) student_id, first_name, last_name FROM staging"
            " ORDER BY student_id ON CONFLICT (student_id) DO NOTHING"
        )
        cursor.execute(
            "INSERT INTO sections (name, credit_hours, term)"
            " SELECT section, MAX(credit_hours), MAX(term) FROM staging GROUP BY section"
            " ON CONFLICT (name) DO NOTHING"
        )
        cursor.execute(
            "INSERT INTO groups (name) SELECT DISTINCT grp FROM staging WHERE grp <> ''"
            " ON CONFLICT (name) DO NOTHING"
        )
        cursor.execute(
            "INSERT INTO group_sections (group_id, section_id)"
            " SELECT DISTINCT g.id, sec.id FROM (SELECT DISTINCT grp, section FROM staging) p"
            " JOIN groups g ON g.name = p.grp JOIN sections sec ON sec.name = p.section"
            " ON CONFLICT DO NOTHING"
        )
        cursor.execute(
            "INSERT INTO enrollments (section_id, student_id, grade, source_file_id)"
            " SELECT sec.id, st.id, upper(trim(g.grade)), %s FROM staging g"
            " JOIN sections sec ON sec.name = g.section"
            " JOIN students st ON st.student_id = g.student_id",
            (source_id,),
        )
    return int(rows)


def pg_copy_flat(file: str, url: str) -> int:
    import psycopg

    with psycopg.connect(_pg_conninfo(url)) as connection, connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE grades_flat (section TEXT, student_id TEXT, last_name TEXT,"
            " first_name TEXT, grade TEXT, grp TEXT, credit_hours FLOAT, term TEXT)"
        )
        _copy_file(cursor, "COPY grades_flat FROM STDIN (FORMAT csv, HEADER true)", file)
        return int(cursor.rowcount)


BASELINES = {
    "sqlite_executemany": sqlite_executemany,
    "pandas_to_sql": pandas_to_sql,
    "pg_copy_normalized": pg_copy_normalized,
    "pg_copy_flat": pg_copy_flat,
}


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in BASELINES:
        print(f"usage: baselines.py {{{','.join(BASELINES)}}} FILE URL", file=sys.stderr)
        return 2
    name, file, url = argv
    if not Path(file).is_file():
        print(f"{file}: no such file", file=sys.stderr)
        return 66
    rows = BASELINES[name](file, url)
    print(json.dumps({"baseline": name, "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
