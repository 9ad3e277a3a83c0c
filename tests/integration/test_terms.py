"""Terms in the store (issue 14), on SQLite and PostgreSQL: every stored term gets its place in
time at ingest, an unrecognised term is kept as written with one warning a file, `analyze
--term` narrows the scope by term, `terms` lists them in order, and migration 0008 computes
the order of a store that holds data (and goes back)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, text

from gradestore.analysis import Scope, run_analysis
from gradestore.errors import NotFoundError, UsageError
from gradestore.ingest import IngestOptions, IngestReport, ingest_paths
from gradestore.kinds import ScopeKind
from gradestore.persistence import db
from gradestore.persistence.db import Database
from gradestore.reports import analysis_report
from gradestore.term_listing import list_terms

HEADER = "section,student_id,last_name,first_name,grade,group,term\n"


def write(path: Path, content: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    return path


def ingest(engine: Engine, *paths: Path) -> IngestReport:
    report = ingest_paths(Database(engine), list(paths), IngestOptions())
    assert report.ok, [(unit.path, unit.errors) for unit in report.units]
    return report


def rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return sorted(tuple(row) for row in connection.execute(text(sql)))


def warnings_of(report: IngestReport) -> list[str]:
    return [str(problem) for unit in report.units for problem in unit.warnings]


def test_every_term_is_stored_as_written_with_its_place_in_time(
    engine: Engine, tmp_path: Path
) -> None:
    csv_file = write(
        tmp_path / "terms.csv",
        HEADER
        + "A.01,1,Lee,Ann,A,G,S25\n"
        + "B.01,1,Lee,Ann,B,G,Fall 2024\n"
        + "C.01,1,Lee,Ann,C,G,2025-su\n"
        + "D.01,1,Lee,Ann,D,G,WI2014\n"
        + "E.01,1,Lee,Ann,F,G,Block 3\n"
        + "F.01,1,Lee,Ann,F,G,\n"
        # no term in the file: the one its name ends with, when it is recognised
        + "G.01F23,1,Lee,Ann,A,G,\n"
        + "H.01Q23,1,Lee,Ann,A,G,\n",
    )
    ingest(engine, csv_file)
    assert rows(engine, "SELECT name, term, term_order FROM sections") == [
        ("A.01", "S25", 20252),
        ("B.01", "Fall 2024", 20244),
        ("C.01", "2025-su", 20253),
        ("D.01", "WI2014", 20141),
        ("E.01", "Block 3", None),
        ("F.01", None, None),
        ("G.01F23", "F23", 20234),
        ("H.01Q23", None, None),
    ]


def test_a_legacy_section_takes_the_term_of_its_file_name(engine: Engine, tmp_path: Path) -> None:
    sections = tmp_path / "Sections"
    write(sections / "CS1.01FA2017.SEC", 'CS1.01FA2017 3\n"Lee, Ann","1","A"\n')
    write(sections / "CS1.01S18.SEC", 'CS1.01S18 3\n"Lee, Ann","1","B"\n')
    ingest(engine, sections)
    assert rows(engine, "SELECT name, term, term_order FROM sections") == [
        ("CS1.01FA2017", "FA2017", 20174),
        ("CS1.01S18", "S18", 20182),
    ]


def test_an_unrecognised_term_is_a_warning_once_per_file(engine: Engine, tmp_path: Path) -> None:
    first = write(
        tmp_path / "a.csv",
        HEADER
        + "A.01,1,Lee,Ann,A,G,Block 3\n"
        + "B.01,2,Kim,Bo,B,G,Block 4\n"
        + "C.01,3,Ng,Cy,C,G,S25\n"
        + "D.01,4,Oh,Di,C,G,Block 3\n",
    )
    second = write(tmp_path / "b.csv", HEADER + "E.01,5,Poe,Ed,A,G,[bold]x[/bold]\n")
    legacy = write(tmp_path / "S" / "CS1.01X25.SEC", 'CS1.01X25 3\n"Lee, Ann","1","A"\n')
    report = ingest(engine, first, second, legacy)
    by_file = {unit.path: [str(p) for p in unit.warnings] for unit in report.units}
    assert [len(warnings) for warnings in by_file.values()] == [1, 1, 1]
    (warning,) = by_file[str(first)]
    assert warning.startswith(f"{first}:2: warning: term 'Block 3' is not a term gradestore")
    assert "kept as written and takes no part in ordering" in warning
    assert by_file[str(second)][0].startswith(f"{second}:2: warning: term '[bold]x[/bold]'")
    assert by_file[str(legacy)][0].startswith(f"{legacy}: warning: term 'X25'")
    # Warnings, not bad rows: everything is stored.
    assert all(unit.status == "stored" and not unit.errors for unit in report.units)
    assert len(rows(engine, "SELECT section_id FROM enrollments")) == 6


def test_a_file_of_recognised_terms_has_no_warning(engine: Engine, tmp_path: Path) -> None:
    report = ingest(engine, write(tmp_path / "a.csv", HEADER + "A.01,1,Lee,Ann,A,G,F25\n"))
    assert warnings_of(report) == []


def test_terms_are_listed_in_time_order_then_unrecognised_then_none(
    engine: Engine, tmp_path: Path
) -> None:
    csv_file = write(
        tmp_path / "a.csv",
        HEADER
        + "A.01,1,Lee,Ann,A,G,F25\n"
        + "A.01,2,Kim,Bo,B,G,F25\n"
        + "B.01,1,Lee,Ann,A,G,Zeta\n"
        + "C.01,1,Lee,Ann,A,G,S25\n"
        + "D.01,1,Lee,Ann,A,G,Spring 2025\n"
        + "E.01,1,Lee,Ann,A,G,W25\n"
        + "F.01,1,Lee,Ann,A,G,\n"
        + "G.01,1,Lee,Ann,A,G,Alpha\n"
        + "H.01,1,Lee,Ann,A,G,SU2024\n",
    )
    ingest(engine, csv_file)
    listing = list_terms(Database(engine))
    shown = [
        (t.term, t.place.label if t.place else None, t.sections, t.grades) for t in listing.terms
    ]
    assert shown == [
        ("SU2024", "Summer 2024", 1, 1),
        ("W25", "Winter 2025", 1, 1),
        ("S25", "Spring 2025", 1, 1),
        ("Spring 2025", "Spring 2025", 1, 1),
        ("F25", "Fall 2025", 1, 2),
        ("Alpha", None, 1, 1),
        ("Zeta", None, 1, 1),
        (None, None, 1, 1),
    ]
    first = listing.as_json()["terms"][0]
    assert first == {
        "term": "SU2024",
        "recognised": True,
        "year": 2024,
        "season": "summer",
        "order": 20243,
        "sections": 1,
        "grades": 1,
    }


def test_terms_of_a_store_without_sections_is_an_error(engine: Engine) -> None:
    with pytest.raises(NotFoundError, match="no sections are stored yet"):
        list_terms(Database(engine))


# --- analyze --term ----------------------------------------------------------------------------


@pytest.fixture
def two_terms(engine: Engine, tmp_path: Path) -> Database:
    csv_file = write(
        tmp_path / "two.csv",
        HEADER
        + "CS1.01S25,1,Lee,Ann,A,CS1,S25\n"
        + "CS1.01S25,2,Kim,Bo,C,CS1,S25\n"
        + "CS1.01F25,1,Lee,Ann,B,CS1,Fall 2025\n"
        + "CS1.01F25,3,Ng,Cy,D,CS1,Fall 2025\n"
        + "CS2.01F25,2,Kim,Bo,F,CS2,F25\n"
        + "CS2.01F25,4,Oh,Di,A,CS2,F25\n"
        + "CS2.01XX,4,Oh,Di,B,CS2,Block 3\n",
    )
    ingest(engine, csv_file)
    return Database(engine)


def sections_of(units: Database, scope: Scope) -> list[str]:
    result = analysis_report(units, run_analysis(units, scope=scope).analysis_id).as_json()
    return sorted({test["section"] for test in result["sections"]})


def test_term_scope_takes_every_spelling_of_the_term(two_terms: Database) -> None:
    assert sections_of(two_terms, Scope(ScopeKind.ALL, terms=("F25",))) == [
        "CS1.01F25",
        "CS2.01F25",
    ]
    assert sections_of(two_terms, Scope(ScopeKind.ALL, terms=("FA2025",))) == [
        "CS1.01F25",
        "CS2.01F25",
    ]
    assert sections_of(two_terms, Scope(ScopeKind.ALL, terms=("S25", "Block 3"))) == [
        "CS1.01S25",
        "CS2.01XX",
    ]


def test_term_scope_with_groups_is_their_intersection(two_terms: Database) -> None:
    scope = Scope.from_options(["CS1"], None, ["F25"])
    assert sections_of(two_terms, scope) == ["CS1.01F25"]
    scope = Scope.from_options(["CS2"], None, ["S25"])
    with pytest.raises(NotFoundError, match="the scope groups CS2, terms S25 has no sections"):
        run_analysis(two_terms, scope=scope)


def test_the_term_scope_is_stored_with_the_analysis(two_terms: Database) -> None:
    summary = run_analysis(two_terms, scope=Scope.from_options(["CS1"], None, ["F25", "F25"]))
    stored = analysis_report(two_terms, summary.analysis_id).as_json()
    assert stored["scope"] == {"kind": "groups", "names": ["CS1"], "terms": ["F25"]}
    everything = analysis_report(two_terms, run_analysis(two_terms).analysis_id).as_json()
    assert everything["scope"] == {"kind": "all", "names": [], "terms": []}


@pytest.mark.parametrize(
    ("term", "message"),
    [
        ("F26", "unknown term 'F26'; did you mean F25?"),
        ("Block 9", "unknown term 'Block 9'; did you mean Block 3?"),
        ("fall 2030", "unknown term 'fall 2030'"),
    ],
)
def test_an_unknown_term_names_the_closest(two_terms: Database, term: str, message: str) -> None:
    with pytest.raises(NotFoundError) as raised:
        run_analysis(two_terms, scope=Scope(ScopeKind.ALL, terms=(term,)))
    assert str(raised.value).startswith(message)


def test_an_empty_term_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--term must name a term"):
        Scope.from_options(None, None, ["  "])


# --- migration 0008 ----------------------------------------------------------------------------


def test_migration_orders_the_terms_of_a_store_with_data_and_goes_back(
    empty_db_url: str,
) -> None:
    engine = db.create_engine_for(empty_db_url)
    with db.connect(engine, write=True) as connection:
        db.upgrade(connection, "0007")
        connection.execute(
            text(
                "INSERT INTO sections (id, name, term) VALUES (1, 'A.01S25', 'S25'),"
                " (2, 'B.01', 'Fall 2024'), (3, 'C.01', 'Block 3'), (4, 'D.01', NULL),"
                " (5, 'E.01S25', 'S25')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO students (id, fname, lname, student_id)"
                " VALUES (1, 'Ada', 'Byron', '007')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO enrollments (section_id, student_id, grade)"
                " VALUES (1, 1, 'F'), (2, 1, 'D')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO analyses (id, created_at, threshold, scope_kind, scope_names)"
                " VALUES (1, '2026-01-01 00:00:00', 0.05, 'all', '[]')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO performances"
                " (section_id, student_id, grade, category, analysis_id, appeared_before)"
                " VALUES (1, 1, 'F', 'bad', 1, false)"
            )
        )
    with db.connect(engine, write=True) as connection:
        db.upgrade(connection, "0008")
    assert rows(engine, "SELECT id, term, term_order FROM sections") == [
        (1, "S25", 20252),
        (2, "Fall 2024", 20244),
        (3, "Block 3", None),
        (4, None, None),
        (5, "S25", 20252),
    ]
    # The listed student of an analysis made before keeps a null history; the scope no terms.
    assert rows(
        engine,
        "SELECT earlier_terms_on_work_list, earlier_terms_on_good_list, first_term_listed,"
        " appeared_before FROM performances",
    ) == [(None, None, None, False)]
    assert rows(engine, "SELECT scope_terms FROM analyses") == [(None,)]
    with db.connect(engine, write=True) as connection:
        db.downgrade(connection, "0007")
    inspector = inspect(engine)
    assert "term_order" not in {column["name"] for column in inspector.get_columns("sections")}
    assert "first_term_listed" not in {c["name"] for c in inspector.get_columns("performances")}
    assert "scope_terms" not in {column["name"] for column in inspector.get_columns("analyses")}
    # Nothing else is lost going down.
    assert len(rows(engine, "SELECT id FROM sections")) == 5
    assert len(rows(engine, "SELECT section_id FROM enrollments")) == 2
    assert len(rows(engine, "SELECT id FROM performances")) == 1
    # As `gradestore db upgrade` runs (SQLite: foreign keys off while 0009 copies tables).
    with db.migrating(engine) as connection:
        db.upgrade(connection)
    assert rows(engine, "SELECT id, term_order FROM sections")[0] == (1, 20252)
    engine.dispose()


def test_an_analysis_of_other_terms_is_not_the_one_that_stands(two_terms: Database) -> None:
    """The unchanged-store shortcut compares the term scope too: `analyze --term F25` after a
    whole-store analysis stores its own, and stands for itself when run again."""
    from gradestore.analysis import analyze

    everything = analyze(two_terms)
    fall = analyze(two_terms, Scope(ScopeKind.ALL, terms=("F25",)))
    assert everything.stored and fall.stored
    assert fall.result.analysis_id != everything.result.analysis_id
    again = analyze(two_terms, Scope(ScopeKind.ALL, terms=("F25",)))
    assert not again.stored and again.result.analysis_id == fall.result.analysis_id
    spring = analyze(two_terms, Scope(ScopeKind.ALL, terms=("S25",)))
    assert spring.stored
