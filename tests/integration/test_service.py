"""The seed's persistence API works as the seed wrote it, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from sqlalchemy import text

from gradestore.errors import UsageError
from gradestore.persistence import db, service


@pytest.fixture
def configured(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The seed configures its database through the environment, as a user would."""
    monkeypatch.setenv("GRADESTORE_DATABASE_URL", db_url)
    service.configure(None)
    yield db_url
    for database in service._databases.values():
        database.dispose()
    service._databases.clear()


def rows(url: str, sql: str) -> list[tuple]:
    engine = db.create_engine_for(url)
    with db.connect(engine, write=False) as connection:
        result = [tuple(row) for row in connection.execute(text(sql))]
    engine.dispose()
    return result


def test_the_seed_sample_usage_writes_rows_that_read_back(configured: str) -> None:
    good_list = pd.DataFrame(
        {
            "FirstName": ["Emily", "Liam"],
            "LastName": ["Adams", "Foster"],
            "id": ["0345678", "321654"],
            "Grade": ["A", "A-"],
            "section_source": ["COMSC101_SEC1", "COMSC101_SEC1"],
        }
    )
    mean_gpa, count = 3.1, 2
    group_mean, group_std = 2.9, 0.6
    z_score, p_value, significant, threshold = 1.7, 0.089, False, 0.05

    service.persist_performances(good_list, section_name="COMSC101_SEC1", category="good")
    service.persist_section_stats("COMSC101_SEC1", mean_gpa, count)
    service.persist_group_stats("Fall2023_GroupA", group_mean, group_std)
    service.persist_zscore("COMSC101_SEC1", z_score, p_value, significant, threshold)

    assert rows(
        configured, "SELECT student_id, fname, lname FROM students ORDER BY student_id"
    ) == [
        ("0345678", "Emily", "Adams"),
        ("321654", "Liam", "Foster"),
    ]
    assert rows(
        configured,
        "SELECT s.student_id, sec.name, p.grade, p.category FROM performances p"
        " JOIN students s ON s.id = p.student_id JOIN sections sec ON sec.id = p.section_id"
        " ORDER BY s.student_id",
    ) == [("0345678", "COMSC101_SEC1", "A", "good"), ("321654", "COMSC101_SEC1", "A-", "good")]
    assert rows(configured, "SELECT name, mean_gpa, count FROM sections") == [
        ("COMSC101_SEC1", 3.1, 2)
    ]
    assert rows(configured, "SELECT name, mean_gpa, stddev FROM groups") == [
        ("Fall2023_GroupA", 2.9, 0.6)
    ]
    [(z, p, sig, alpha)] = rows(
        configured, "SELECT z_score, p_value, significant, threshold FROM zscores"
    )
    assert (z, p, bool(sig), alpha) == (1.7, 0.089, False, 0.05)


def test_repeat_calls_add_no_duplicate_students_or_performances(configured: str) -> None:
    frame = pd.DataFrame(
        {
            "student_id": ["1", "2"],
            "first_name": ["A", "B"],
            "last_name": ["X", "Y"],
            "grade": ["F", "d"],
        }
    )
    assert service.persist_performances(frame, section_name="S1", category="bad") == 2
    assert service.persist_performances(frame, section_name="S1", category="bad") == 0
    service.persist_zscore("S1", -2.5, 0.012, True, 0.05)
    service.persist_zscore("S1", -2.6, 0.009, True, 0.05)
    assert rows(configured, "SELECT COUNT(*) FROM students") == [(2,)]
    assert rows(configured, "SELECT COUNT(*), MIN(grade) FROM performances") == [(2, "D")]
    assert rows(configured, "SELECT z_score FROM zscores") == [(-2.6,)]
    assert rows(configured, "SELECT COUNT(*) FROM analyses WHERE scope_kind = 'service'") == [(1,)]


def test_a_name_column_written_last_comma_first_is_split(configured: str) -> None:
    frame = pd.DataFrame({"ID": ["77"], "Name": ["Diaz, Michael"], "Grade": ["A+"]})
    service.persist_performances(frame, section_name="S2", category="good")
    assert rows(configured, "SELECT fname, lname FROM students") == [("Michael", "Diaz")]


def test_a_bad_category_is_refused_and_nothing_is_stored(configured: str) -> None:
    frame = pd.DataFrame({"id": ["1"], "FirstName": ["A"], "LastName": ["B"], "Grade": ["A"]})
    with pytest.raises(UsageError, match="category must be 'good' or 'bad'"):
        service.persist_performances(frame, section_name="S1", category="great")
    assert rows(configured, "SELECT COUNT(*) FROM students") == [(0,)]


def test_a_missing_column_is_named(configured: str) -> None:
    frame = pd.DataFrame({"FirstName": ["A"], "LastName": ["B"], "Grade": ["A"]})
    with pytest.raises(UsageError, match="lacks column\\(s\\) student_id"):
        service.persist_performances(frame, section_name="S1", category="good")
