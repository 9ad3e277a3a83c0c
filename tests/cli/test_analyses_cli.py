"""Analyses over time through the command line, on SQLite and PostgreSQL: `analyses` (list,
show, delete, prune), the unchanged-store rule of `analyze` and `analyze --fail-on`.

The data (tests/history_dataset.py) is built so that which tests are flagged is known by hand.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import text

from gradestore.persistence import db, service
from tests.helpers import run_cli, table_counts
from tests.history_dataset import FAILING, first_csv, second_csv

# Every table that holds rows of an analysis, by its column naming the analysis.
ANALYSIS_TABLES = ("analysis_sections", "analysis_groups", "zscores", "performances")


def ok(*args: str) -> str:
    result = run_cli(*args)
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return result.stdout


def one_line_error(result: Any) -> str:
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def sql(url: str, statement: str) -> list[tuple[Any, ...]]:
    engine = db.create_engine_for(url)
    try:
        with db.connect(engine, write=False) as connection:
            return [tuple(row) for row in connection.execute(text(statement))]
    finally:
        engine.dispose()


def counts(url: str) -> dict[str, int]:
    engine = db.open_database(url)
    try:
        return table_counts(engine)
    finally:
        engine.dispose()


def analysis_ids(url: str) -> list[int]:
    return [row[0] for row in sql(url, "SELECT id FROM analyses ORDER BY id")]


def rows_of(url: str, analysis_id: int) -> dict[str, int]:
    return {
        table: sql(url, f"SELECT COUNT(*) FROM {table} WHERE analysis_id = {analysis_id}")[0][0]
        for table in ANALYSIS_TABLES
    }


@pytest.fixture
def first_store(db_url: str, tmp_path: Path) -> str:
    ok("--db", db_url, "ingest", str(first_csv(tmp_path)))
    return db_url


def test_analyze_twice_on_an_unchanged_store_stores_one_analysis(first_store: str) -> None:
    ok("--db", first_store, "analyze")
    before = counts(first_store)
    second = run_cli("--db", first_store, "analyze")
    assert second.exit_code == 0
    lines = second.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("unchanged: analysis 1 (")
    assert "stands" in lines[0] and "--force" in lines[0]
    assert counts(first_store) == before
    assert analysis_ids(first_store) == [1]
    assert "Analysis 2," in ok("--db", first_store, "analyze", "--force")
    assert analysis_ids(first_store) == [1, 2]
    # The forced analysis stands from now on.
    assert ok("--db", first_store, "analyze").startswith("unchanged: analysis 2 (")


def test_unchanged_with_json_prints_the_standing_analysis_and_the_line_on_stderr(
    first_store: str,
) -> None:
    ok("--db", first_store, "analyze")
    result = run_cli("--db", first_store, "analyze", "--format", "json")
    assert result.exit_code == 0
    assert result.stderr.startswith("unchanged: analysis 1 (")
    report = ok("--db", first_store, "report", "--analysis", "1", "--format", "json")
    assert json.loads(result.stdout) == json.loads(report)


def test_what_an_analysis_read_changing_makes_a_new_one(first_store: str, tmp_path: Path) -> None:
    ok("--db", first_store, "analyze")
    ok("--db", first_store, "ingest", str(second_csv(tmp_path)))
    assert "Analysis 2," in ok("--db", first_store, "analyze")
    # A membership alone changes what an analysis reads.
    ok("--db", first_store, "ingest", "--group", "EXTRA", str(tmp_path / "first.csv"))
    assert "Analysis 3," in ok("--db", first_store, "analyze")
    assert ok("--db", first_store, "analyze").startswith("unchanged: analysis 3 ")


@pytest.mark.parametrize(
    "options",
    [
        ("--threshold", "0.01"),
        ("--method", "welch"),
        ("--adjust", "holm"),
        ("--min-n", "5"),
        ("--scale", "thirds"),
        ("--group", "G"),
    ],
)
def test_other_options_or_scope_make_a_new_analysis(
    first_store: str, options: tuple[str, ...]
) -> None:
    ok("--db", first_store, "analyze")
    assert "Analysis 2," in ok("--db", first_store, "analyze", *options)
    assert ok("--db", first_store, "analyze", *options).startswith("unchanged: analysis 2 ")


def test_groups_named_in_another_order_are_the_same_scope(first_store: str, tmp_path: Path) -> None:
    ok("--db", first_store, "ingest", str(second_csv(tmp_path)))
    ok("--db", first_store, "analyze", "--group", "G", "--group", "H")
    standing = ok("--db", first_store, "analyze", "--group", "H", "--group", "G")
    assert standing.startswith("unchanged: analysis 1 ")


# --- --fail-on ----------------------------------------------------------------------------------


def test_fail_on_new_exits_with_its_own_code_only_when_a_new_flag_appears(
    first_store: str, tmp_path: Path
) -> None:
    first = run_cli("--db", first_store, "analyze", "--fail-on", "new")
    assert first.exit_code == 0, first.stderr
    assert "--fail-on new: no new flag" in first.stdout
    ok("--db", first_store, "ingest", str(second_csv(tmp_path)))
    alert = run_cli("--db", first_store, "analyze", "--fail-on", "new")
    assert alert.exit_code == 3, alert.stderr
    assert alert.stderr == ""
    listed = alert.stdout[alert.stdout.index("--fail-on new:") :]
    assert "new flags against analysis 1" in listed
    assert FAILING in listed and "G.01F25" not in listed
    # The store is unchanged: nothing is new since analysis 2 raised the alert (a nightly job
    # alerts once), while --fail-on adjusted still sees the flag that stands.
    again = run_cli("--db", first_store, "analyze", "--fail-on", "new")
    assert again.exit_code == 0 and again.stdout.startswith("unchanged: analysis 2 ")
    assert (
        "--fail-on new: no new flag since analysis 2 was stored (the store is unchanged)."
        in again.stdout
    )
    still = run_cli("--db", first_store, "analyze", "--fail-on", "adjusted", "--format", "json")
    assert still.exit_code == 3 and json.loads(still.stdout)["fail_on"]["unchanged"] is True
    # A new analysis with the same flags as the one before it has no new flag.
    forced = run_cli("--db", first_store, "analyze", "--force", "--fail-on", "new")
    assert forced.exit_code == 0, forced.stdout
    assert "--fail-on new: no new flag against analysis 2." in forced.stdout


def test_fail_on_significant_and_adjusted(first_store: str, tmp_path: Path) -> None:
    for condition in ("significant", "adjusted"):
        assert run_cli("--db", first_store, "analyze", "--fail-on", condition).exit_code == 0
    ok("--db", first_store, "ingest", str(second_csv(tmp_path)))
    for condition in ("significant", "adjusted"):
        result = run_cli("--db", first_store, "analyze", "--fail-on", condition)
        assert result.exit_code == 3, result.stdout
        assert FAILING in result.stdout[result.stdout.index("--fail-on") :]
    bad = run_cli("--db", first_store, "analyze", "--fail-on", "sometimes")
    assert bad.exit_code == 2


def test_fail_on_json_says_which_flags_are_new(first_store: str, tmp_path: Path) -> None:
    ok("--db", first_store, "analyze")
    ok("--db", first_store, "ingest", str(second_csv(tmp_path)))
    result = run_cli("--db", first_store, "analyze", "--fail-on", "new", "--format", "json")
    assert result.exit_code == 3
    document = json.loads(result.stdout)
    alert = document["fail_on"]
    assert alert["fail_on"] == "new" and alert["failed"] is True
    assert alert["compared_with"] == 1
    flags = {(flag["test"], flag["name"]): flag for flag in alert["flags"]}
    assert flags[("section", FAILING)]["new"] is True
    assert flags[("section", FAILING)]["against"] == "H"
    assert all(flag["new"] for flag in alert["flags"])
    # Beside the alert, the document is the analysis as `report` gives it.
    del document["fail_on"]
    report = ok("--db", first_store, "report", "--format", "json")
    assert document == json.loads(report)


# --- list and show --------------------------------------------------------------------------


def test_analyses_lists_newest_first_in_every_format(first_store: str, tmp_path: Path) -> None:
    ok("--db", first_store, "analyze")
    ok("--db", first_store, "analyze", "--threshold", "0.01", "--adjust", "holm")
    ok("--db", first_store, "ingest", str(second_csv(tmp_path)))
    ok("--db", first_store, "analyze", "--group", "H", "--group", "G", "--min-n", "3")
    listed = json.loads(ok("--db", first_store, "analyses", "--format", "json"))
    assert [entry["analysis_id"] for entry in listed] == [3, 2, 1]
    newest = listed[0]
    assert newest["scope"] == {"kind": "groups", "names": ["H", "G"], "terms": []}
    assert (newest["threshold"], newest["method"], newest["adjust"], newest["min_n"]) == (
        0.05, "z", "bh", 3,
    )  # fmt: skip
    assert newest["scale"] == "default" and newest["tests"] == 8
    assert newest["flags"] == {"raw": 1, "adjusted": 1}
    assert listed[1]["threshold"] == 0.01 and listed[1]["adjust"] == "holm"
    assert listed[2]["flags"] == {"raw": 0, "adjusted": 0}
    rows = list(csv.DictReader(io.StringIO(ok("--db", first_store, "analyses", "--format", "csv"))))
    assert [row["analysis_id"] for row in rows] == ["3", "2", "1"]
    assert rows[0]["scope_names"] == "H; G" and rows[0]["flags_adjusted"] == "1"
    table = ok("--db", first_store, "analyses").splitlines()
    assert [line.split()[0] for line in table[2:]] == ["3", "2", "1"]
    assert "groups: H, G" in table[2]


def test_analyses_on_a_store_without_analyses(first_store: str) -> None:
    assert "No analyses are stored" in ok("--db", first_store, "analyses")
    assert json.loads(ok("--db", first_store, "analyses", "--format", "json")) == []


def test_analyses_show(first_store: str, tmp_path: Path) -> None:
    ok("--db", first_store, "analyze")
    ok("--db", first_store, "ingest", str(second_csv(tmp_path)))
    ok("--db", first_store, "analyze")
    shown = json.loads(ok("--db", first_store, "analyses", "show", "2", "--format", "json"))
    assert shown["analysis_id"] == 2 and shown["previous_analysis_id"] == 1
    assert shown["list_sizes"] == {"good": 20, "work": 40}
    flagged = {(test["test"], test["name"]) for test in shown["flagged"]}
    assert flagged == {("section", FAILING), ("group", "G"), ("group", "H")}
    table = ok("--db", first_store, "analyses", "show", "2")
    assert FAILING in table and "1 (same scope and options)" in table
    first = json.loads(ok("--db", first_store, "analyses", "show", "1", "--format", "json"))
    assert first["previous_analysis_id"] is None and first["flagged"] == []


@pytest.mark.parametrize(
    "command",
    [("show", "9"), ("delete", "9"), ("delete", "1", "9"), ("diff", "1", "9"), ("show", "--", "-9"),
     ("show", "99999999999999999999")],
)  # fmt: skip
def test_an_unknown_analysis_is_one_line_and_nothing_changes(
    first_store: str, command: tuple[str, ...]
) -> None:
    ok("--db", first_store, "analyze")
    result = run_cli("--db", first_store, "analyses", *command)
    assert result.exit_code == 66
    wrong = command[-1]
    assert one_line_error(result) == f"gradestore: unknown analysis {wrong}; stored analyses: 1"
    assert analysis_ids(first_store) == [1]


def test_an_analysis_id_that_is_not_a_number_is_a_usage_error(first_store: str) -> None:
    for command in (("show", "x"), ("delete", "1x"), ("prune", "--keep", "0")):
        assert run_cli("--db", first_store, "analyses", *command).exit_code == 2


# --- delete and prune -------------------------------------------------------------------------


def test_delete_removes_every_row_of_the_analysis_and_nothing_else(
    first_store: str, tmp_path: Path
) -> None:
    ok("--db", first_store, "ingest", str(second_csv(tmp_path)))
    ok("--db", first_store, "analyze")
    ok("--db", first_store, "analyze", "--force")
    first, second = rows_of(first_store, 1), rows_of(first_store, 2)
    assert all(first.values()) and first == second
    before = counts(first_store)
    dry = ok("--db", first_store, "analyses", "delete", "1", "--dry-run")
    assert dry.startswith("would delete analysis 1 (rows: ")
    assert f"zscores {first['zscores']}" in dry
    assert counts(first_store) == before
    deleted = json.loads(ok("--db", first_store, "analyses", "delete", "1", "--format", "json"))
    assert deleted["analysis_ids"] == [1] and deleted["dry_run"] is False
    assert deleted["rows"] == {**first, "analyses": 1}
    assert rows_of(first_store, 1) == dict.fromkeys(ANALYSIS_TABLES, 0)
    assert rows_of(first_store, 2) == second
    after = counts(first_store)
    for table, count in before.items():
        assert after[table] == count - deleted["rows"].get(table, 0), table
    # Analysis 2 still reads back whole.
    ok("--db", first_store, "report", "--analysis", "2", "--format", "json")


def test_delete_of_several_is_one_transaction(first_store: str) -> None:
    for threshold in ("0.05", "0.04", "0.03"):
        ok("--db", first_store, "analyze", "--threshold", threshold)
    assert ok("--db", first_store, "analyses", "delete", "3", "1", "3").startswith(
        "deleted analyses 1, 3 (rows: "
    )
    assert analysis_ids(first_store) == [2]


def _seed_analysis(url: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("GRADESTORE_DATABASE_URL", url)
    service.configure(None)
    try:
        frame = pd.DataFrame({"id": ["1"], "first_name": ["A"], "last_name": ["B"], "grade": ["A"]})
        service.persist_performances(frame, section_name="G.01F25", category="good")
        service.persist_zscore("G.01F25", 1.0, 0.3, False, 0.05)
    finally:
        for database in service._databases.values():
            database.dispose()
        service._databases.clear()
    (seed_id,) = [
        row[0] for row in sql(url, "SELECT id FROM analyses WHERE scope_kind = 'service'")
    ]
    return seed_id


def test_the_seed_api_analysis_is_protected(
    first_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok("--db", first_store, "analyze")
    seed_id = _seed_analysis(first_store, monkeypatch)
    ok("--db", first_store, "analyze", "--force")
    result = run_cli("--db", first_store, "analyses", "delete", "1", str(seed_id))
    assert result.exit_code == 64
    assert one_line_error(result) == (
        f"gradestore: analysis {seed_id} holds what the seed's service API wrote: it is not deleted"
    )
    assert len(analysis_ids(first_store)) == 3
    listed = json.loads(ok("--db", first_store, "analyses", "--format", "json"))
    assert [entry["protected"] for entry in listed] == [False, True, False]
    assert "seed API" in ok("--db", first_store, "analyses")
    ok("--db", first_store, "analyses", "prune", "--keep", "1")
    assert analysis_ids(first_store) == sorted([seed_id, 3])
    # The seed's analysis is no one's previous analysis.
    shown = json.loads(ok("--db", first_store, "analyses", "show", "3", "--format", "json"))
    assert shown["previous_analysis_id"] is None


def test_prune_keeps_the_newest_n_of_each_scope_and_options(first_store: str) -> None:
    for _ in range(3):
        ok("--db", first_store, "analyze", "--force")  # 1, 2, 3
    for _ in range(2):
        ok("--db", first_store, "analyze", "--force", "--threshold", "0.01")  # 4, 5
    ok("--db", first_store, "analyze", "--group", "G")  # 6
    dry = ok("--db", first_store, "analyses", "prune", "--keep", "2", "--dry-run")
    assert dry.startswith("would delete analysis 1 (rows: ")
    assert analysis_ids(first_store) == [1, 2, 3, 4, 5, 6]
    pruned = json.loads(
        ok("--db", first_store, "analyses", "prune", "--keep", "1", "--format", "json")
    )
    assert pruned["analysis_ids"] == [1, 2, 4]
    assert analysis_ids(first_store) == [3, 5, 6]
    assert ok("--db", first_store, "analyses", "prune", "--keep", "1").startswith(
        "nothing to delete"
    )


# --- diff -------------------------------------------------------------------------------------


def test_diff_of_two_analyses_around_an_ingest_names_the_section_whose_flag_changed(
    first_store: str, tmp_path: Path
) -> None:
    ok("--db", first_store, "analyze")
    ok("--db", first_store, "ingest", str(second_csv(tmp_path)))
    ok("--db", first_store, "analyze")
    table = ok("--db", first_store, "analyses", "diff", "1", "2")
    line = next(line for line in table.splitlines() if line.startswith("section"))
    assert line.split() == [
        "section",
        FAILING,
        "H",
        "absent",
        "flagged",
        "-",
        "0.000",
        "new",
        "flag",
    ]
    assert "3 new flags, 0 vanished" in table
    found = json.loads(ok("--db", first_store, "analyses", "diff", "1", "2", "--format", "json"))
    changes = {(change["test"], change["name"]): change for change in found["changes"]}
    assert set(changes) == {("section", FAILING), ("group", "G"), ("group", "H")}
    assert changes[("section", FAILING)]["changes"] == ["new flag"]
    assert (found["before"]["analysis_id"], found["after"]["analysis_id"]) == (1, 2)
    assert found["differs_in"] == [] and found["counts"]["new flag"] == 3
    back = json.loads(ok("--db", first_store, "analyses", "diff", "2", "1", "--format", "json"))
    assert {c["name"]: c["changes"] for c in back["changes"]}[FAILING] == ["flag vanished"]
    assert (
        json.loads(ok("--db", first_store, "analyses", "diff", "2", "2", "--format", "json"))[
            "changes"
        ]
        == []
    )


def test_diff_lists_means_that_moved_by_more_than_x(first_store: str, tmp_path: Path) -> None:
    """G.01 all A after a --replace: its mean moves 2.5 -> 4.0, G's 2.5 -> 2.875 (by hand)."""
    from tests.history_dataset import HEADER, write

    ok("--db", first_store, "analyze")
    rows = [("G.01F25", f"{n:05d}", f"Last{n}", f"First{n}", "A", "G", "F25") for n in range(1, 21)]
    ok("--db", first_store, "ingest", "--replace", str(write(tmp_path / "fix.csv", rows)))
    assert HEADER[0] == "section"
    ok("--db", first_store, "analyze")
    found = json.loads(
        ok(
            "--db",
            first_store,
            "analyses",
            "diff",
            "1",
            "2",
            "--mean-moved",
            "0.5",
            "--format",
            "json",
        )
    )
    changes = {(change["test"], change["name"]): change for change in found["changes"]}
    assert set(changes) == {("section", "G.01F25")}
    moved = changes[("section", "G.01F25")]
    assert moved["changes"] == ["new flag", "mean moved"]
    assert moved["mean_gpa_before"] == pytest.approx(2.5)
    assert moved["mean_moved"] == pytest.approx(1.5)
    found = json.loads(
        ok(
            "--db",
            first_store,
            "analyses",
            "diff",
            "1",
            "2",
            "--mean-moved",
            "0.3",
            "--format",
            "json",
        )
    )
    group = {(c["test"], c["name"]): c for c in found["changes"]}[("group", "G")]
    assert group["changes"] == ["mean moved"] and group["mean_moved"] == pytest.approx(0.375)
    rows_csv = list(
        csv.DictReader(
            io.StringIO(ok("--db", first_store, "analyses", "diff", "1", "2", "--format", "csv"))
        )
    )
    assert [(r["name"], r["flag_before"], r["flag_after"], r["changes"]) for r in rows_csv] == [
        ("G.01F25", "no", "flagged", "new flag")
    ]


def test_diff_says_how_two_analyses_differ(first_store: str) -> None:
    ok("--db", first_store, "analyze")
    ok("--db", first_store, "analyze", "--threshold", "0.01", "--scale", "thirds")
    found = json.loads(ok("--db", first_store, "analyses", "diff", "1", "2", "--format", "json"))
    assert found["differs_in"] == ["threshold", "scale"]
    assert "They differ in threshold, scale" in ok(
        "--db", first_store, "analyses", "diff", "1", "2"
    )


def test_diff_refuses_what_it_cannot_compare(first_store: str) -> None:
    ok("--db", first_store, "analyze")
    unknown = run_cli("--db", first_store, "analyses", "diff", "1", "7")
    assert unknown.exit_code == 66
    assert one_line_error(unknown) == "gradestore: unknown analysis 7; stored analyses: 1"
    negative = run_cli("--db", first_store, "analyses", "diff", "1", "1", "--mean-moved", "-1")
    assert negative.exit_code == 64
    assert "--mean-moved" in one_line_error(negative)
    assert run_cli("--db", first_store, "analyses", "diff", "1").exit_code == 2
    assert (
        run_cli("--db", first_store, "analyses", "diff", "1", "1", "--mean-moved", "x").exit_code
        == 2
    )
