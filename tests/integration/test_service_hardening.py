"""The seed API refuses bad arguments with a UsageError naming the argument (nothing stored),
analyze leaves alone the stats it wrote for sections without grades, and its z-scores show in
`zscore --analysis ID` of the service analysis. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from gradestore.errors import UsageError
from gradestore.persistence import db, service
from tests.helpers import run_cli, table_counts


@pytest.fixture
def configured(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("GRADESTORE_DATABASE_URL", db_url)
    service.configure(None)
    yield db_url
    for database in service._databases.values():
        database.dispose()
    service._databases.clear()


def frame(**columns: list[object]) -> pd.DataFrame:
    base: dict[str, list[object]] = {"id": ["1"], "FirstName": ["Ann"], "LastName": ["Lee"],
                                      "Grade": ["A"]}  # fmt: skip
    return pd.DataFrame({**base, **columns})


BAD_CALLS = [
    (lambda: service.persist_section_stats(None, 3.0, 2), "section_name"),  # type: ignore[arg-type]
    (lambda: service.persist_section_stats("  ", 3.0, 2), "section_name"),
    (lambda: service.persist_section_stats("S\nT", 3.0, 2), "section_name"),
    (lambda: service.persist_section_stats("S" * 201, 3.0, 2), "section_name"),
    (lambda: service.persist_section_stats("S", "3.0", 2), "mean_gpa"),  # type: ignore[arg-type]
    (lambda: service.persist_section_stats("S", math.inf, 2), "mean_gpa"),
    (lambda: service.persist_section_stats("S", -1.0, 2), "mean_gpa"),
    (lambda: service.persist_section_stats("S", 3.0, 2.5), "count"),  # type: ignore[arg-type]
    (lambda: service.persist_section_stats("S", 3.0, -1), "count"),
    (lambda: service.persist_section_stats("S", 3.0, True), "count"),
    (lambda: service.persist_group_stats("", 3.0, 0.5), "group_name"),
    (lambda: service.persist_group_stats("G", 3.0, -0.5), "std"),
    (lambda: service.persist_group_stats("G", "x", 0.5), "mean"),  # type: ignore[arg-type]
    (lambda: service.persist_zscore("S", 1.0, 1.5, False, 0.05), "p_value"),
    (lambda: service.persist_zscore("S", 1.0, -0.1, False, 0.05), "p_value"),
    (lambda: service.persist_zscore("S", 1.0, 0.5, "False", 0.05), "significant"),  # type: ignore[arg-type]
    (lambda: service.persist_zscore("S", 1.0, 0.5, 1, 0.05), "significant"),  # type: ignore[arg-type]
    (lambda: service.persist_zscore("S", 1.0, 0.5, False, math.nan), "threshold"),
    (lambda: service.persist_zscore("S", 1.0, 0.5, False, 1.5), "threshold"),
    (lambda: service.persist_zscore("S", "1.0", 0.5, False, 0.05), "z_score"),  # type: ignore[arg-type]
    (lambda: service.persist_zscore(None, 1.0, 0.5, False, 0.05), "section_name"),  # type: ignore[arg-type]
    (lambda: service.persist_performances(frame(), None), "section_name"),  # type: ignore[arg-type]
    (lambda: service.persist_performances([1, 2], "S"), "df"),  # type: ignore[arg-type]
    (lambda: service.persist_performances(frame(LastName=["Le\x1be"]), "S"), "row 1: last_name"),
]


@pytest.mark.parametrize(("call", "argument"), BAD_CALLS)
def test_a_bad_argument_is_a_usage_error_naming_it_and_nothing_is_stored(
    configured: str, call: object, argument: str
) -> None:
    engine = db.open_database(configured)
    before = table_counts(engine)
    with pytest.raises(UsageError, match=rf"^persist_\w+: {argument}"):
        call()  # type: ignore[operator]
    assert table_counts(engine) == before
    engine.dispose()


def test_good_arguments_of_numpy_types_and_nan_are_accepted(configured: str) -> None:
    service.persist_section_stats("S", np.float64(3.1), np.int64(2))
    service.persist_group_stats("G", np.float32(2.5), math.nan)
    service.persist_zscore("S", np.float64(1.2), np.float64(0.23), np.bool_(False), 0.05)
    engine = db.open_database(configured)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT stddev FROM groups")).scalar_one() is None
        assert connection.execute(text("SELECT significant FROM zscores")).scalar_one() in (
            0,
            False,
        )
    engine.dispose()


def test_analyze_leaves_alone_stats_the_api_wrote_for_sections_without_grades(
    configured: str, tmp_path: Path
) -> None:
    service.persist_section_stats("API_ONLY", 3.25, 4)
    grades = tmp_path / "g.csv"
    grades.write_text("section,student_id,last_name,first_name,grade\nS1,1,Lee,Ann,B\n")
    assert run_cli("--db", configured, "ingest", str(grades)).exit_code == 0
    assert run_cli("--db", configured, "analyze").exit_code == 0
    engine = db.open_database(configured)
    with engine.connect() as connection:
        stats = dict(
            (name, (mean, count))
            for name, mean, count in connection.execute(
                text("SELECT name, mean_gpa, count FROM sections")
            )
        )
    engine.dispose()
    assert stats == {"API_ONLY": (3.25, 4), "S1": (3.0, 1)}


def test_api_zscores_are_shown_by_zscore_of_the_service_analysis(configured: str) -> None:
    service.persist_section_stats("COMSC101_SEC1", 3.1, 2)
    service.persist_zscore("COMSC101_SEC1", 1.7, 0.089, False, 0.05)
    service.persist_zscore("COMSC101_SEC1", 1.8, 0.072, False, 0.05)  # updated, not doubled
    engine = db.open_database(configured)
    with engine.connect() as connection:
        service_id = connection.execute(
            text("SELECT id FROM analyses WHERE scope_kind = 'service'")
        ).scalar_one()
    engine.dispose()
    listing = run_cli(
        "--db", configured, "zscore", "--analysis", str(service_id), "--format", "json"
    )
    assert listing.exit_code == 0, listing.stderr
    table = run_cli("--db", configured, "zscore", "--analysis", str(service_id))
    assert "COMSC101_SEC1" in table.stdout and "1.800" in table.stdout
    csv_text = run_cli(
        "--db", configured, "zscore", "--analysis", str(service_id), "--format", "csv"
    ).stdout
    assert csv_text.splitlines()[1:] == [
        f"{service_id},section,COMSC101_SEC1,,2,3.1,,1.8,0.072,false,,,,"
    ]
    assert "COMSC101_SEC1" in json.dumps(json.loads(listing.stdout))
