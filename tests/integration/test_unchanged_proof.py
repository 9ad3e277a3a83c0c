"""The re-ingest of stored bytes is answered from ``source_files`` alone (migration 0010): the
file's ``grades_stored`` and ``sections_stored``, which triggers on ``enrollments`` clear when
any grade of the file is deleted or changed, by gradestore or by SQL typed by hand.

Each removal path below is followed by a re-ingest of the same bytes, which must read the file
and store its grades again (and then be answered unchanged once more); without the triggers the
stale proof would answer "unchanged" over the missing grades. Real SQLite files and the real
PostgreSQL server; nothing is mocked.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from gradestore.ingest import IngestOptions, UnitResult, ingest_paths
from gradestore.persistence.db import Database
from gradestore.sources import remove_source
from tests.integration.test_ingest import HEADER, grades, rows, write

FIRST = HEADER + "S1,001,Smith,John,A\nS1,002,Doe,Jane,B\nS2,001,Smith,John,C\n"
FIRST_GRADES = [
    ("S1", "001", "Smith", "John", "A"),
    ("S1", "002", "Doe", "Jane", "B"),
    ("S2", "001", "Smith", "John", "C"),
]
OTHER = HEADER + "T1,001,Smith,John,D\nT1,003,Poe,Cy,F\n"


def ingest(engine: Engine, path: Path, *, replace: bool = False) -> UnitResult:
    (unit,) = ingest_paths(Database(engine), [path], IngestOptions(replace=replace)).units
    return unit


def execute(engine: Engine, *statements: str) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


def proof(engine: Engine, path: Path) -> list[tuple[int, int]]:
    """(grades_stored, sections_stored) of each row of the file, oldest first."""
    return [
        (int(g), int(s))
        for g, s in rows(
            engine,
            "SELECT grades_stored, sections_stored FROM source_files WHERE path = :path"
            " ORDER BY id",
            path=str(path),
        )
    ]


def assert_proofs_hold(engine: Engine) -> None:
    """Every file with a proof holds exactly the grades and sections it says it stored."""
    held = rows(
        engine,
        "SELECT sf.path, sf.grades_stored, sf.sections_stored,"
        " (SELECT COUNT(*) FROM enrollments e WHERE e.source_file_id = sf.id),"
        " (SELECT COUNT(DISTINCT e.section_id) FROM enrollments e"
        " WHERE e.source_file_id = sf.id) FROM source_files sf WHERE sf.grades_stored > 0",
    )
    for path, grades_stored, sections_stored, grades_held, sections_held in held:
        assert (grades_stored, sections_stored) == (grades_held, sections_held), path


def _first_file_id(engine: Engine) -> int:
    return int(rows(engine, "SELECT MIN(id) FROM source_files")[0][0])


def _replace_by_another_file(engine: Engine, tmp_path: Path) -> None:
    correction = write(tmp_path / "fix.csv", HEADER + "S1,001,Smith,John,B+\n")
    assert ingest(engine, correction, replace=True).status == "stored"


def _sources_remove(engine: Engine, tmp_path: Path) -> None:
    # The file's own row goes with its grades: its bytes are unknown again (no trigger needed).
    removal = remove_source(Database(engine), _first_file_id(engine))
    assert removal.removed("enrollments") == 3


REMOVALS: dict[str, Callable[[Engine, Path], None]] = {
    "ingest --replace by another file": _replace_by_another_file,
    "sources remove": _sources_remove,
    "DELETE of one grade": lambda engine, _: execute(
        engine,
        "DELETE FROM enrollments WHERE grade = 'B'",
    ),
    "DELETE of every grade": lambda engine, _: execute(engine, "DELETE FROM enrollments"),
    "UPDATE of a grade": lambda engine, _: execute(
        engine, "UPDATE enrollments SET grade = 'F' WHERE grade = 'C'"
    ),
    "UPDATE of a key": lambda engine, _: execute(
        engine,
        "UPDATE enrollments SET student_id = (SELECT id FROM students WHERE student_id = '002')"
        " WHERE grade = 'C'",
    ),
    "a section deleted (its grades cascade)": lambda engine, _: execute(
        engine, "DELETE FROM group_sections", "DELETE FROM sections WHERE name = 'S2'"
    ),
}


@pytest.mark.parametrize("removal", list(REMOVALS))
def test_grades_removed_since_make_the_same_bytes_read_and_stored_again(
    engine: Engine, tmp_path: Path, removal: str
) -> None:
    original = write(tmp_path / "a.csv", FIRST)
    assert ingest(engine, original).status == "stored"
    assert proof(engine, original) == [(3, 2)]
    assert ingest(engine, original).status == "unchanged"

    REMOVALS[removal](engine, tmp_path)
    assert grades(engine) != FIRST_GRADES
    assert proof(engine, original) in ([], [(0, 2)])  # gone with the file, or cleared

    again = ingest(engine, original, replace=True)
    assert again.status == "stored", again.errors
    assert again.grades_added + again.grades_replaced >= 1
    assert [row for row in grades(engine) if row[0] in ("S1", "S2")] == FIRST_GRADES
    assert_proofs_hold(engine)
    once_more = ingest(engine, original)
    assert (once_more.status, once_more.sections_unchanged, once_more.grades_unchanged) == (
        "unchanged",
        2,
        3,
    )


def test_grades_given_to_another_file_clear_the_proof(engine: Engine, tmp_path: Path) -> None:
    """The same grades, no longer the file's (their provenance changed by hand): the file no
    longer holds what it stored, so its bytes are read again (and found the same)."""
    original = write(tmp_path / "a.csv", FIRST)
    assert ingest(engine, original).status == "stored"
    execute(engine, "UPDATE enrollments SET source_file_id = NULL WHERE grade = 'A'")
    assert proof(engine, original) == [(0, 2)]
    again = ingest(engine, original)
    assert (again.status, again.grades_unchanged, again.grades_added) == ("unchanged", 3, 0)
    assert grades(engine) == FIRST_GRADES


@pytest.mark.parametrize(
    "statement",
    [
        "TRUNCATE enrollments",
        "TRUNCATE sections CASCADE",
        "INSERT INTO enrollments (section_id, student_id, grade, source_file_id)"
        " SELECT section_id, student_id, 'F', source_file_id FROM enrollments WHERE grade = 'A'"
        " ON CONFLICT (section_id, student_id) DO UPDATE SET grade = excluded.grade",
    ],
)
def test_postgresql_truncate_and_upsert_clear_the_proof(
    backend: str, engine: Engine, tmp_path: Path, statement: str
) -> None:
    if backend != "postgresql":
        pytest.skip("PostgreSQL's statements (SQLite has no TRUNCATE; its upsert is an UPDATE)")
    original = write(tmp_path / "a.csv", FIRST)
    assert ingest(engine, original).status == "stored"
    execute(engine, statement)
    assert proof(engine, original) == [(0, 2)]
    again = ingest(engine, original, replace=True)
    assert again.status == "stored", again.errors
    assert [row for row in grades(engine) if row[0] in ("S1", "S2")] == FIRST_GRADES
    assert ingest(engine, original).status == "unchanged"


def test_what_changes_no_grade_of_a_file_keeps_its_proof(engine: Engine, tmp_path: Path) -> None:
    """Only the grades of the file itself, really changed, clear its proof: an UPDATE that
    writes the same values, a rolled-back removal, and another file's removal keep it."""
    original = write(tmp_path / "a.csv", FIRST)
    other = write(tmp_path / "b.csv", OTHER)
    assert [ingest(engine, path).status for path in (original, other)] == ["stored", "stored"]
    execute(engine, "UPDATE enrollments SET grade = grade, section_id = section_id")
    remove_source(Database(engine), _first_file_id(engine), dry_run=True)
    execute(engine, "DELETE FROM enrollments WHERE grade = 'F'")  # b.csv's
    assert proof(engine, original) == [(3, 2)]
    assert proof(engine, other) == [(0, 1)]
    assert ingest(engine, original).status == "unchanged"
    assert ingest(engine, other, replace=True).status == "stored"


def test_every_way_in_keeps_a_proof_that_holds(engine: Engine, tmp_path: Path) -> None:
    """The direct load, the careful reader (a student under two names), a .SEC file, a file
    that repeats a row, and a --replace that takes another file's sections: each file's
    proof says what it holds."""
    files = {
        "direct.csv": HEADER + "D1,001,Smith,John,A\nD1,002,Doe,Jane,B\nD2,001,Smith,John,C\n",
        "careful.csv": HEADER + "C1,001,Smith,John,A\nC2,001,Smyth,John,B\n",
        "REPEAT.csv": HEADER + "R1,004,Lee,Ann,A\nR1,004,Lee,Ann,A\nR2,004,Lee,Ann,B\n",
        "SEC1.01F25.SEC": 'SEC1.01F25    3.0\n"Smith, John","001","A"\n"Doe, Jane","002","B-"\n',
    }
    for name, content in files.items():
        unit = ingest(engine, write(tmp_path / name, content))
        assert unit.status == "stored", (name, unit.errors)
    fix = write(tmp_path / "fix.csv", HEADER + "D1,001,Smith,John,F\nD1,002,Doe,Jane,F\n")
    assert ingest(engine, fix, replace=True).status == "stored"
    assert_proofs_hold(engine)
    stored = {
        Path(path).name: (int(g), int(s))
        for path, g, s in rows(
            engine, "SELECT path, grades_stored, sections_stored FROM source_files"
        )
    }
    assert stored == {
        "direct.csv": (0, 2),  # D1 replaced by fix.csv
        "careful.csv": (2, 2),
        "REPEAT.csv": (2, 2),
        "SEC1.01F25.SEC": (2, 1),
        "fix.csv": (2, 1),
    }
    for name in ("careful.csv", "REPEAT.csv", "SEC1.01F25.SEC", "fix.csv"):
        assert ingest(engine, tmp_path / name).status == "unchanged", name


def test_postgresql_triggers_clear_the_store_s_proof_from_any_search_path(
    backend: str, empty_db_url: str, tmp_path: Path
) -> None:
    """A store in its own schema (reached through the URL's search_path): grades deleted by
    hand from a session whose search_path leads elsewhere, where another ``source_files``
    table exists, clear the store's own proof, not that table's."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL's schemas and search_path")
    from gradestore.persistence import db

    plain = db.create_engine_for(empty_db_url)
    execute(
        plain,
        "CREATE SCHEMA gs_store",
        "CREATE TABLE public.source_files (id integer, grades_stored integer)",
        "INSERT INTO public.source_files VALUES (1, 7)",
    )
    separator = "&" if "?" in empty_db_url else "?"
    store = db.open_database(f"{empty_db_url}{separator}options=-csearch_path%3Dgs_store")
    try:
        original = write(tmp_path / "a.csv", FIRST)
        assert ingest(store, original).status == "stored"
        execute(plain, "DELETE FROM gs_store.enrollments WHERE grade = 'A'")
        assert proof(store, original) == [(0, 2)]
        assert rows(plain, "SELECT id, grades_stored FROM public.source_files") == [(1, 7)]
        again = ingest(store, original, replace=True)
        assert again.status == "stored", again.errors
        assert ingest(store, original).status == "unchanged"
    finally:
        store.dispose()
        plain.dispose()
