"""Make the old stores the upgrade test starts from: one small store per released schema.

For each revision in REVISIONS this writes ``store_<rev>.db`` (SQLite) and ``store_<rev>.sql``
(a plain ``pg_dump`` of the same store on PostgreSQL), each holding a row in every table, so that
an upgrade has real data to carry in each of them. Run it from the repository root when a
release adds a schema revision (append it to REVISIONS), and commit what it writes:

    python tests/data/old_stores/make_old_stores.py [--postgres postgresql://postgres@127.0.0.1/x]

The rows are the same in every store (what the schema of the revision has room for): two
students in one section of one group of one run, both on a list of one analysis, one of them
in an earlier .lst file.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, MetaData, create_engine, insert, text
from sqlalchemy.engine import make_url

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from gradestore.persistence import db  # noqa: E402

REVISIONS = ("0001", "0002", "0003")
WHEN = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)
OLD_SECTION = "OLD101.01F24"
OLD_GROUP = "OLDGROUP"
OLD_RUN = "OLDRUN"
OLD_STUDENTS = (("0001", "Ann", "Lee", "A"), ("0002", "Bo", "Moe", "F"))

# Table -> rows, parents before children. Columns a revision lacks are left out.
ROWS: dict[str, list[dict[str, object]]] = {
    "students": [
        {"id": number, "student_id": sid, "fname": first, "lname": last}
        for number, (sid, first, last, _) in enumerate(OLD_STUDENTS, start=1)
    ],
    "sections": [
        {
            "id": 1,
            "name": OLD_SECTION,
            "credit_hours": 3.0,
            "term": "F24",
            "header_name": None,
            "mean_gpa": 2.0,
            "count": 2,
        }
    ],
    "groups": [{"id": 1, "name": OLD_GROUP, "mean_gpa": 2.0, "stddev": 2.0}],
    "group_sections": [{"group_id": 1, "section_id": 1}],
    "runs": [{"id": 1, "name": OLD_RUN}],
    "run_groups": [{"run_id": 1, "group_id": 1}],
    "source_files": [
        {
            "id": 1,
            "path": "old/grades.csv",
            "sha256": "0" * 64,
            "row_count": 2,
            "ingested_at": WHEN,
            "grades_stored": 2,
        }
    ],
    "enrollments": [
        {"id": number, "section_id": 1, "student_id": number, "grade": grade, "source_file_id": 1}
        for number, (_, _, _, grade) in enumerate(OLD_STUDENTS, start=1)
    ],
    "list_appearances": [
        {
            "id": 1,
            "student_id": 1,
            "section_name": "OLD100.01S24",
            "grade": "A",
            "source_file_id": 1,
        }
    ],
    "analyses": [
        {"id": 1, "created_at": WHEN, "threshold": 0.05, "scope_kind": "all", "scope_names": []}
    ],
    "analysis_sections": [
        {
            "analysis_id": 1,
            "section_id": 1,
            "count": 2,
            "mean_gpa": 2.0,
            "grade_counts": {"A": 1, "F": 1},
        }
    ],
    "analysis_groups": [
        {
            "analysis_id": 1,
            "group_id": 1,
            "count": 2,
            "mean_gpa": 2.0,
            "stddev": 2.0,
            "z_score": None,
            "p_value": None,
            "significant": False,
        }
    ],
    "zscores": [
        {
            "id": 1,
            "section_id": 1,
            "group_id": 1,
            "analysis_id": 1,
            "z_score": 0.0,
            "p_value": 1.0,
            "significant": False,
            "threshold": 0.05,
            "timestamp": WHEN,
        }
    ],
    "performances": [
        {
            "id": 1,
            "section_id": 1,
            "student_id": 1,
            "grade": "A",
            "category": "good",
            "analysis_id": 1,
            "appeared_before": True,
        },
        {
            "id": 2,
            "section_id": 1,
            "student_id": 2,
            "grade": "F",
            "category": "bad",
            "analysis_id": 1,
            "appeared_before": False,
        },
    ],
}


def fill(connection: Connection) -> None:
    """A row in every table of the schema ``connection`` is at (reflected, not the models')."""
    metadata = MetaData()
    metadata.reflect(connection)
    missing = set(metadata.tables) - set(ROWS) - {"alembic_version"}
    if missing:
        raise SystemExit(f"no rows for table(s) {sorted(missing)}: add them to ROWS")
    for name, rows in ROWS.items():
        table = metadata.tables[name]
        known = [{key: value for key, value in row.items() if key in table.c} for row in rows]
        connection.execute(insert(table), known)
    if connection.dialect.name == "postgresql":
        # Explicit ids leave the sequences behind: the next insert must not reuse id 1.
        for name, table in metadata.tables.items():
            if "id" in table.c and name in ROWS:
                sequence = f"pg_get_serial_sequence('{name}', 'id')"
                connection.execute(text(f"SELECT setval({sequence}, MAX(id)) FROM {name}"))


def make_store(url: str, revision: str) -> None:
    engine = db.create_engine_for(url)
    try:
        with db.connect(engine, write=True) as connection:
            db.upgrade(connection, revision)
            fill(connection)
    finally:
        engine.dispose()


def make_sqlite(revision: str) -> Path:
    path = HERE / f"store_{revision}.db"
    path.unlink(missing_ok=True)
    make_store(f"sqlite:///{path}", revision)
    # One self-contained file: fold the write-ahead log back in.
    connection = create_engine(f"sqlite:///{path}").connect()
    connection.exec_driver_sql("PRAGMA journal_mode = DELETE")
    connection.close()
    return path


def make_postgres_dump(server_url: str, revision: str) -> Path:
    """Build the store in a scratch database, dump it as plain SQL, drop the database."""
    server = make_url(server_url)
    name = f"gs_old_store_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        make_store(server.set(database=name).render_as_string(hide_password=False), revision)
        path = HERE / f"store_{revision}.sql"
        libpq = server.set(drivername="postgresql", database=name)
        dump = subprocess.run(
            [
                "pg_dump",
                "--no-owner",
                "--no-privileges",
                "--inserts",
                libpq.render_as_string(hide_password=False),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        path.write_text(dump, encoding="utf-8")
        return path
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    arguments = parser.parse_args()
    for revision in REVISIONS:
        print(make_sqlite(revision))
        print(make_postgres_dump(arguments.postgres, revision))


if __name__ == "__main__":
    main()
