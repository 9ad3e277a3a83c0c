"""Make the old stores the upgrade test starts from: one small store per released schema.

For each revision in REVISIONS this writes ``store_<rev>.db`` (SQLite) and ``store_<rev>.sql``
(a plain ``pg_dump`` of the same store on PostgreSQL), each holding a row in every table, so that
an upgrade has real data to carry in each of them. When a release adds a schema revision, append
it to REVISIONS (one line; tests/integration/test_old_stores.py reads the list from here), give
ROWS a row for any table it adds (the script refuses to run without one; columns it adds to an
existing table go into that table's rows), and make that revision's store only, from the
repository root, on a checkout whose head is that revision:

    python tests/data/old_stores/make_old_stores.py [--postgres URL] [REVISION...]

Commit what it writes. With no REVISION it remakes every store (the SQLite files then differ in
bytes, not in content).

The rows are the same in every store (what the schema of the revision has room for): two
students in one section of one group of one run, both on a list of one analysis, one of them
in an earlier .lst file; from 0005 the analysis has its test settings and figures, from 0006
the store and the analysis have the built-in "thirds" scale (which gives A, B, D and F the
default's points, so the figures an upgraded store computes are the same in every store), from
0007 the analysis has the fingerprint of what it read (computed by gradestore's own code when the
store is made), from 0008 the section has its term's order, the analysis an empty term scope and
its listed students their history by term (no earlier term; first listed in F24), and from 0009
the one source file is the provenance of every student, section, group, run, membership and run
entry.
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

from gradestore.grades import BUILT_IN_SCALES  # noqa: E402
from gradestore.persistence import db  # noqa: E402
from gradestore.persistence.history_store import HistoryStore  # noqa: E402
from gradestore.terms import term_key  # noqa: E402

# Every released schema revision, oldest first: a new revision is one more line.
REVISIONS = (
    "0001",
    "0002",
    "0003",
    "0004",
    "0005",
    "0006",
    "0007",
    "0008",
    "0009",
)
WHEN = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)
OLD_SECTION = "OLD101.01F24"
OLD_TERM = "F24"
OLD_GROUP = "OLDGROUP"
OLD_RUN = "OLDRUN"
OLD_STUDENTS = (("0001", "Ann", "Lee", "A"), ("0002", "Bo", "Moe", "F"))
# From 0006 the store's scale and the one the analysis used.
OLD_SCALE = BUILT_IN_SCALES["thirds"].as_json()
# From 0009 the file that created each student, section, group, run, membership and run entry.
OLD_SOURCE = 1

# Table -> rows, parents before children (from 0009 every table that an ingest creates rows in
# refers to source_files). Columns a revision lacks are left out.
ROWS: dict[str, list[dict[str, object]]] = {
    "source_files": [
        {
            "id": OLD_SOURCE,
            "path": "old/grades.csv",
            "sha256": "0" * 64,
            "row_count": 2,
            "ingested_at": WHEN,
            "grades_stored": 2,
        }
    ],
    "students": [
        {
            "id": number,
            "student_id": sid,
            "fname": first,
            "lname": last,
            "source_file_id": OLD_SOURCE,
        }
        for number, (sid, first, last, _) in enumerate(OLD_STUDENTS, start=1)
    ],
    "sections": [
        {
            "id": 1,
            "name": OLD_SECTION,
            "credit_hours": 3.0,
            "term": OLD_TERM,
            "header_name": None,
            "mean_gpa": 2.0,
            "count": 2,
            "term_order": term_key(OLD_TERM),  # 0008
            "source_file_id": OLD_SOURCE,  # 0009
        }
    ],
    "groups": [
        {"id": 1, "name": OLD_GROUP, "mean_gpa": 2.0, "stddev": 2.0, "source_file_id": OLD_SOURCE}
    ],
    "group_sections": [{"group_id": 1, "section_id": 1, "source_file_id": OLD_SOURCE}],
    "runs": [{"id": 1, "name": OLD_RUN, "source_file_id": OLD_SOURCE}],
    "run_groups": [{"run_id": 1, "group_id": 1, "source_file_id": OLD_SOURCE}],
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
        {
            "id": 1,
            "created_at": WHEN,
            "threshold": 0.05,
            "scope_kind": "all",
            "scope_names": [],
            # 0005: how it tested
            "method": "z",
            "adjust": "bh",
            "min_n": 1,
            "overdispersion": None,
            "tests": 1,
            "expected_false_flags": 0.05,
            # 0006: the scale it used
            "scale_name": OLD_SCALE["name"],
            "scale": OLD_SCALE,
            # 0007: inputs_fingerprint, written by fill() once the rows are in
            # 0008: the terms the scope was narrowed to (none)
            "scope_terms": [],
        }
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
            # 0005
            "p_adjusted": None,
            "significant_adjusted": False,
            "effect_size": None,
            "no_test_reason": "only group in the analysis",
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
            # 0005
            "p_adjusted": 1.0,
            "significant_adjusted": False,
            "effect_size": 0.0,
            "no_test_reason": None,
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
            # 0008: no grade of either list in a term before F24
            "earlier_terms_on_work_list": 0,
            "earlier_terms_on_good_list": 0,
            "first_term_listed": OLD_TERM,
        },
        {
            "id": 2,
            "section_id": 1,
            "student_id": 2,
            "grade": "F",
            "category": "bad",
            "analysis_id": 1,
            "appeared_before": False,
            # 0008
            "earlier_terms_on_work_list": 0,
            "earlier_terms_on_good_list": 0,
            "first_term_listed": OLD_TERM,
        },
    ],
    # 0006
    "store_scale": [{"id": 1, "name": OLD_SCALE["name"], "scale": OLD_SCALE, "set_at": WHEN}],
}


def fill(connection: Connection) -> None:
    """A row in every table of the schema ``connection`` is at (reflected, not the models')."""
    metadata = MetaData()
    metadata.reflect(connection)
    missing = set(metadata.tables) - set(ROWS) - {"alembic_version"}
    if missing:
        raise SystemExit(f"no rows for table(s) {sorted(missing)}: add them to ROWS")
    for name, rows in ROWS.items():
        if name not in metadata.tables:
            continue  # a table of a later revision
        table = metadata.tables[name]
        known = [{key: value for key, value in row.items() if key in table.c} for row in rows]
        connection.execute(insert(table), known)
    if "inputs_fingerprint" in metadata.tables["analyses"].c:
        # What the analysis read is the whole store, as gradestore computes it (0007).
        letters = BUILT_IN_SCALES["thirds"].letters
        fingerprint = HistoryStore(connection).inputs_fingerprint(letters)
        connection.execute(
            text("UPDATE analyses SET inputs_fingerprint = :fingerprint"),
            {"fingerprint": fingerprint},
        )
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
    parser.add_argument("revisions", nargs="*", metavar="REVISION", help="default: every one")
    arguments = parser.parse_args()
    unknown = set(arguments.revisions) - set(REVISIONS)
    if unknown:
        parser.error(f"not in REVISIONS: {', '.join(sorted(unknown))}")
    for revision in arguments.revisions or REVISIONS:
        print(make_sqlite(revision))
        print(make_postgres_dump(arguments.postgres, revision))


if __name__ == "__main__":
    main()
