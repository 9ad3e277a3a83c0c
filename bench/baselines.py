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

The baselines of issue 16, into the minimal normalized schema a careful person writes by hand
(``MINIMAL_SQLITE_SCHEMA``: five tables, one unique key besides each table's own):

- ``sqlite_minimal`` (a0): stdlib ``csv`` + ``sqlite3.executemany`` in one transaction into a new
  SQLite file (URL) holding the minimal schema; foreign keys on, WAL, ``synchronous=NORMAL``.
- ``pg_copy_keys_after`` (c0): psycopg ``COPY`` into a temporary staging table, then ``INSERT ...
  SELECT`` into the minimal schema created without keys; its primary, unique and foreign keys are
  added after the load; one transaction. URL: an empty PostgreSQL database.
- ``pg_copy_keys_before`` (c1): the same with the keys declared before the load (the schema is
  created when missing, so URL may also be a database that already holds c1's tables and grades).
- ``sqlite_stats_groupby`` (f): the section and group statistics and z-scores of design.md
  section 2 over (a0)'s tables: one SQL ``GROUP BY`` pass per section, then the groups, the pool
  of all groups and every z-test in plain Python over the section rows. URL: (a0)'s file.

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


# --- issue 16: the minimal schema, by hand ----------------------------------------------------

MINIMAL_SQLITE_SCHEMA = (
    "CREATE TABLE students (id INTEGER PRIMARY KEY, student_id TEXT UNIQUE NOT NULL, fname TEXT,"
    " lname TEXT)",
    "CREATE TABLE sections (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, credit_hours REAL,"
    " term TEXT)",
    "CREATE TABLE groups (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL)",
    "CREATE TABLE section_groups (section_id INTEGER, group_id INTEGER,"
    " PRIMARY KEY (section_id, group_id))",
    "CREATE TABLE enrollments (id INTEGER PRIMARY KEY,"
    " section_id INTEGER NOT NULL REFERENCES sections,"
    " student_id INTEGER NOT NULL REFERENCES students, grade TEXT NOT NULL,"
    " UNIQUE (section_id, student_id))",
)


def sqlite_minimal(file: str, url: str) -> int:
    """(a0): what a careful person writes with the standard library alone."""
    import sqlite3

    connection = sqlite3.connect(_sqlite_path(url), isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute("BEGIN IMMEDIATE")
    cursor = connection.cursor()
    for statement in MINIMAL_SQLITE_SCHEMA:
        cursor.execute(statement)
    students: dict[str, int] = {}
    sections: dict[str, int] = {}
    groups: dict[str, int] = {}
    new_students: list[tuple[int, str, str, str]] = []
    new_sections: list[tuple[int, str, float | None, str | None]] = []
    new_groups: list[tuple[int, str]] = []
    memberships: set[tuple[int, int]] = set()
    batch: list[tuple[int, int, str]] = []
    rows = 0
    with open(file, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        next(reader)
        for section, sid, last, first, grade, group, credit_hours, term in reader:
            student = students.get(sid)
            if student is None:
                student = students[sid] = len(students) + 1
                new_students.append((student, sid, first, last))
            section_id = sections.get(section)
            if section_id is None:
                section_id = sections[section] = len(sections) + 1
                hours = float(credit_hours) if credit_hours else None
                new_sections.append((section_id, section, hours, term or None))
            if group:
                group_id = groups.get(group)
                if group_id is None:
                    group_id = groups[group] = len(groups) + 1
                    new_groups.append((group_id, group))
                memberships.add((section_id, group_id))
            batch.append((section_id, student, grade.strip().upper()))
            rows += 1
            if len(batch) >= 50_000:
                _minimal_flush(cursor, new_students, new_sections, new_groups, batch)
    _minimal_flush(cursor, new_students, new_sections, new_groups, batch)
    cursor.executemany("INSERT INTO section_groups VALUES (?, ?)", sorted(memberships))
    connection.execute("COMMIT")
    connection.close()
    return rows


def _minimal_flush(cursor, students, sections, groups, enrollments) -> None:  # type: ignore[no-untyped-def]
    """Parents first: foreign keys are on."""
    cursor.executemany("INSERT INTO students VALUES (?, ?, ?, ?)", students)
    cursor.executemany("INSERT INTO sections VALUES (?, ?, ?, ?)", sections)
    cursor.executemany("INSERT INTO groups VALUES (?, ?)", groups)
    cursor.executemany(
        "INSERT INTO enrollments (section_id, student_id, grade) VALUES (?, ?, ?)", enrollments
    )
    for rows in (students, sections, groups, enrollments):
        rows.clear()


# The same tables on PostgreSQL: ids from sequences, keys in a separate list so that (c0) can
# add them after the load and (c1) can declare them before.
MINIMAL_PG_TABLES = (
    "CREATE TABLE IF NOT EXISTS students (id serial NOT NULL, student_id text NOT NULL,"
    " fname text, lname text)",
    "CREATE TABLE IF NOT EXISTS sections (id serial NOT NULL, name text NOT NULL,"
    " credit_hours float8, term text)",
    "CREATE TABLE IF NOT EXISTS groups (id serial NOT NULL, name text NOT NULL)",
    "CREATE TABLE IF NOT EXISTS section_groups (section_id integer NOT NULL,"
    " group_id integer NOT NULL)",
    "CREATE TABLE IF NOT EXISTS enrollments (id serial NOT NULL, section_id integer NOT NULL,"
    " student_id integer NOT NULL, grade text NOT NULL)",
)
MINIMAL_PG_KEYS = (
    "ALTER TABLE students ADD PRIMARY KEY (id), ADD UNIQUE (student_id)",
    "ALTER TABLE sections ADD PRIMARY KEY (id), ADD UNIQUE (name)",
    "ALTER TABLE groups ADD PRIMARY KEY (id), ADD UNIQUE (name)",
    "ALTER TABLE section_groups ADD PRIMARY KEY (section_id, group_id)",
    "ALTER TABLE enrollments ADD PRIMARY KEY (id), ADD UNIQUE (section_id, student_id),"
    " ADD FOREIGN KEY (section_id) REFERENCES sections,"
    " ADD FOREIGN KEY (student_id) REFERENCES students",
)


def _pg_minimal_load(cursor, file: str, *, keys_first: bool) -> int:  # type: ignore[no-untyped-def]
    """COPY into staging, then INSERT ... SELECT into the minimal tables (new rows only)."""
    cursor.execute(
        "CREATE TEMPORARY TABLE staging (section text, student_id text, last_name text,"
        " first_name text, grade text, grp text, credit_hours float8, term text) ON COMMIT DROP"
    )
    _copy_file(cursor, "COPY staging FROM STDIN (FORMAT csv, HEADER true)", file)
    cursor.execute("ANALYZE staging")
    cursor.execute(
        "INSERT INTO students (student_id, fname, lname)"
        " SELECT DISTINCT ON (s.student_id) s.student_id, s.first_name, s.last_name"
        " FROM staging s WHERE NOT EXISTS (SELECT 1 FROM students t"
        " WHERE t.student_id = s.student_id) ORDER BY s.student_id"
    )
    cursor.execute(
        "INSERT INTO sections (name, credit_hours, term)"
        " SELECT s.section, MAX(s.credit_hours), MAX(s.term) FROM staging s"
        " WHERE NOT EXISTS (SELECT 1 FROM sections t WHERE t.name = s.section)"
        " GROUP BY s.section"
    )
    cursor.execute(
        "INSERT INTO groups (name) SELECT DISTINCT s.grp FROM staging s WHERE s.grp <> ''"
        " AND NOT EXISTS (SELECT 1 FROM groups t WHERE t.name = s.grp)"
    )
    cursor.execute(
        "INSERT INTO section_groups (section_id, group_id)"
        " SELECT sec.id, g.id FROM (SELECT DISTINCT section, grp FROM staging WHERE grp <> '') p"
        " JOIN sections sec ON sec.name = p.section JOIN groups g ON g.name = p.grp"
        + (" ON CONFLICT DO NOTHING" if keys_first else "")
    )
    cursor.execute(
        "INSERT INTO enrollments (section_id, student_id, grade)"
        " SELECT sec.id, st.id, upper(trim(s.grade)) FROM staging s"
        " JOIN sections sec ON sec.name = s.section"
        " JOIN students st ON st.student_id = s.student_id"
    )
    return int(cursor.rowcount)


def pg_copy_keys_after(file: str, url: str) -> int:
    """(c0): load into key-less tables, then add every key, in one transaction."""
    import psycopg

    with psycopg.connect(_pg_conninfo(url)) as connection, connection.cursor() as cursor:
        for statement in MINIMAL_PG_TABLES:
            cursor.execute(statement)
        rows = _pg_minimal_load(cursor, file, keys_first=False)
        for statement in MINIMAL_PG_KEYS:
            cursor.execute(statement)
    return rows


def pg_copy_keys_before(file: str, url: str) -> int:
    """(c1): the keys exist before the load (created with the tables when they are missing)."""
    import psycopg

    with psycopg.connect(_pg_conninfo(url)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('enrollments') IS NOT NULL")
        exists = cursor.fetchone()[0]  # type: ignore[index]
        if not exists:
            for statement in (*MINIMAL_PG_TABLES, *MINIMAL_PG_KEYS):
                cursor.execute(statement)
        rows = _pg_minimal_load(cursor, file, keys_first=True)
    return rows


GPA_SCALE = {
    "A+": 4.0, "A": 4.0, "A-": 3.7, "B+": 3.3, "B": 3.0, "B-": 2.7, "C+": 2.3, "C": 2.0,
    "C-": 1.7, "D+": 1.3, "D": 1.0, "D-": 0.7, "F": 0.0,
}  # fmt: skip
LETTERS = (*GPA_SCALE, "I", "W", "P", "NP")


def sqlite_stats_groupby(file: str, url: str) -> int:
    """(f): design.md section 2's statistics and z-tests, one GROUP BY pass over (a0)'s tables.

    Returns the number of z-tests computed (sections against groups, groups against all).
    """
    section_tests, group_tests = groupby_statistics(_sqlite_path(url))
    return len(section_tests) + len(group_tests)


ZResult = tuple[float | None, float | None]


def groupby_statistics(
    path: str,
) -> tuple[dict[tuple[str, str], ZResult], dict[str, tuple[int, float | None, ZResult]]]:
    """{(section, group): (z, p)} and {group: (count, mean, (z, p) against all groups)}."""
    import sqlite3

    connection = sqlite3.connect(path)
    points = " ".join(f"WHEN '{letter}' THEN {value}" for letter, value in GPA_SCALE.items())
    letter_counts = ", ".join(f"SUM(grade = '{letter}')" for letter in LETTERS)
    sections = {
        name: (count, total, squares, letters[:-1])
        for name, count, total, squares, *letters in connection.execute(
            "SELECT s.name, x.* FROM (SELECT COUNT(p), SUM(p), SUM(p * p),"
            f" {letter_counts}, section_id FROM (SELECT section_id, grade, CASE grade {points}"
            " END AS p FROM enrollments) GROUP BY section_id) x"
            " JOIN sections s ON s.id = x.section_id"
        )
    }
    members: dict[str, list[str]] = {}
    for section, group in connection.execute(
        "SELECT s.name, g.name FROM section_groups sg JOIN sections s ON s.id = sg.section_id"
        " JOIN groups g ON g.id = sg.group_id"
    ):
        members.setdefault(group, []).append(section)
    connection.close()
    groups = {group: _pool(sections[s] for s in names) for group, names in members.items()}
    everything = _pool(sections[s] for s in {s for names in members.values() for s in names})
    section_tests = {}
    for group, names in members.items():
        _, group_mean, group_sd = groups[group]
        for name in names:
            count, total, _, _ = sections[name]
            mean = total / count if count else None
            section_tests[name, group] = _z_test(mean, count, group_mean, group_sd)
    group_tests = {
        group: (count, mean, _z_test(mean, count, everything[1], everything[2]))
        for group, (count, mean, _) in groups.items()
    }
    return section_tests, group_tests


def _pool(rows) -> tuple[int, float | None, float | None]:  # type: ignore[no-untyped-def]
    """Count, mean and population standard deviation of sections' pooled grade points."""
    count = total = squares = 0.0
    for n, s, q, _ in rows:
        count, total, squares = count + n, total + (s or 0.0), squares + (q or 0.0)
    if not count:
        return 0, None, None
    mean = total / count
    return int(count), mean, max(squares / count - mean * mean, 0.0) ** 0.5


def _z_test(mean, count, pool_mean, pool_sd) -> tuple[float | None, float | None]:  # type: ignore[no-untyped-def]
    import math

    if mean is None or not count or not pool_sd:
        return None, None
    z = (mean - pool_mean) / (pool_sd / math.sqrt(count))
    return z, math.erfc(abs(z) / math.sqrt(2))


BASELINES = {
    "sqlite_executemany": sqlite_executemany,
    "pandas_to_sql": pandas_to_sql,
    "pg_copy_normalized": pg_copy_normalized,
    "pg_copy_flat": pg_copy_flat,
    "sqlite_minimal": sqlite_minimal,
    "pg_copy_keys_after": pg_copy_keys_after,
    "pg_copy_keys_before": pg_copy_keys_before,
    "sqlite_stats_groupby": sqlite_stats_groupby,
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
