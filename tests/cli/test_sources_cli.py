"""Taking an ingest back through the command line, on SQLite and PostgreSQL: `sources`,
`sources remove`, `groups remove-section` and `ingest --replace` of memberships.

The must-show: `sources remove` of the last ingested file gives back the store as it was before
that ingest, every row of every table (except analyses and the rows they still refer to).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from gradestore.persistence import db
from gradestore.persistence.models import Base
from tests.helpers import run_cli, table_counts
from tests.history_dataset import FAILING, H_SECTIONS, first_csv, second_csv, write

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
ANALYSIS_TABLES = {"analyses", "analysis_sections", "analysis_groups", "zscores", "performances"}


def ok(*args: str) -> str:
    result = run_cli(*args)
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return result.stdout


def one_line_error(result: Any) -> str:
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def snapshot(url: str, skip: set[str] = frozenset()) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (but ``skip``), in a stable order."""
    engine = db.create_engine_for(url)
    try:
        with db.connect(engine, write=False) as connection:
            return {
                name: sorted(
                    (
                        tuple(map(repr, row))
                        for row in connection.execute(text(f'SELECT * FROM "{name}"'))
                    ),
                )
                for name in Base.metadata.tables
                if name not in skip
            }
    finally:
        engine.dispose()


def counts(url: str) -> dict[str, int]:
    engine = db.open_database(url)
    try:
        return table_counts(engine)
    finally:
        engine.dispose()


def sources(url: str) -> list[dict[str, Any]]:
    return json.loads(ok("--db", url, "sources", "--format", "json"))


def test_sources_remove_of_the_last_file_gives_back_the_store_as_it_was(
    db_url: str, tmp_path: Path
) -> None:
    ok("--db", db_url, "ingest", str(first_csv(tmp_path)))
    before = snapshot(db_url)
    ok("--db", db_url, "ingest", str(second_csv(tmp_path)))
    listed = sources(db_url)
    assert [(s["source_id"], Path(s["path"]).name, s["grades"]) for s in listed] == [
        (1, "first.csv", 80), (2, "second.csv", 80),
    ]  # fmt: skip
    assert listed[1]["memberships"] == 4 and len(listed[1]["sha256"]) == 64
    removed = json.loads(ok("--db", db_url, "sources", "remove", "2", "--format", "json"))
    # By hand: 80 grades in 4 sections of the new group H, 20 new students (H.04's).
    assert removed["rows"] == {
        "enrollments": 80, "list_appearances": 0, "group_sections": 4, "run_groups": 0,
        "sections": 4, "students": 20, "groups": 1, "runs": 0, "source_files": 1,
    }  # fmt: skip
    assert snapshot(db_url) == before


def test_remove_says_what_it_removed_and_a_dry_run_removes_nothing(
    db_url: str, tmp_path: Path
) -> None:
    ok("--db", db_url, "ingest", str(first_csv(tmp_path)))
    ok("--db", db_url, "ingest", str(second_csv(tmp_path)))
    before = counts(db_url)
    dry = ok("--db", db_url, "sources", "remove", "2", "--dry-run")
    assert dry == (
        f"would remove source file 2 ({tmp_path / 'second.csv'}): 80 grades, 4 memberships, "
        "4 sections, 20 students, 1 group\n"
    )
    assert counts(db_url) == before
    done = ok("--db", db_url, "sources", "remove", "2")
    assert done.startswith("removed source file 2 (")
    assert [s["source_id"] for s in sources(db_url)] == [1]


def test_analyses_and_what_they_refer_to_stay(db_url: str, tmp_path: Path) -> None:
    ok("--db", db_url, "ingest", str(first_csv(tmp_path)))
    ok("--db", db_url, "analyze")
    before = snapshot(db_url, skip=ANALYSIS_TABLES | {"sections", "groups", "students"})
    ok("--db", db_url, "ingest", str(second_csv(tmp_path)))
    ok("--db", db_url, "analyze")
    report = ok("--db", db_url, "report", "--analysis", "2", "--format", "json")
    analyses = snapshot(db_url)
    removed = json.loads(ok("--db", db_url, "sources", "remove", "2", "--format", "json"))
    # H's sections and group, and H.04's students (on analysis 2's work list), stay.
    assert removed["rows"]["enrollments"] == 80
    assert removed["rows"]["sections"] == removed["rows"]["groups"] == 0
    assert removed["rows"]["students"] == 0
    assert snapshot(db_url, skip=ANALYSIS_TABLES | {"sections", "groups", "students"}) == before
    after = snapshot(db_url)
    for table in ANALYSIS_TABLES:
        assert after[table] == analyses[table], table
    for table in ("sections", "groups", "students"):
        # Kept as they were, but no longer said to come from the removed file (the last
        # column, provenance, is null where it named file 2).
        assert [row[:-1] for row in after[table]] == [row[:-1] for row in analyses[table]]
        assert [row[-1] for row in after[table]] == [
            "None" if row[-1] == "2" else row[-1] for row in analyses[table]
        ]
    # The analysis reads back as it was; the store holds no grade of H any more.
    assert ok("--db", db_url, "report", "--analysis", "2", "--format", "json") == report
    shown = json.loads(ok("--db", db_url, "report", "--student", "01000", "--format", "json"))
    assert shown["grades"] == []


def test_what_an_analysis_names_stays_empty_and_later_analyses_list_it_in_no_group(
    db_url: str, tmp_path: Path
) -> None:
    # docs/store-life.md: analysis 1 names H's sections and group, so removing the file that
    # created them leaves them, empty; ingesting the file again fills them.
    ok("--db", db_url, "ingest", str(first_csv(tmp_path)), str(second_csv(tmp_path)))
    ok("--db", db_url, "analyze")
    ok("--db", db_url, "sources", "remove", "2")
    later = json.loads(ok("--db", db_url, "analyze", "--format", "json"))
    kept = {
        s["section"]: (s["group"], s["count"], s["z_score"])
        for s in later["sections"]
        if s["section"].startswith("H.")
    }
    assert kept == {name: (None, 0, None) for name in [*H_SECTIONS, FAILING]}
    assert [g["group"] for g in later["groups"]] == ["G"]
    assert one_line_error(run_cli("--db", db_url, "report", "--group", "H")) == (
        "gradestore: group 'H' is not in analysis 2; it is in analyses 1: use --analysis ID"
    )
    again = json.loads(ok("--db", db_url, "ingest", str(second_csv(tmp_path)), "--format", "json"))
    (unit,) = again["units"]
    added = (unit["sections_added"], unit["grades_added"], unit["memberships_added"])
    assert (unit["status"], added) == ("stored", (0, 80, 4))


def test_a_legacy_run_and_a_list_file_are_taken_back_whole(db_url: str) -> None:
    ok("--db", db_url, "ingest", str(SAMPLE / "grades.csv"))
    before = snapshot(db_url)
    ok("--db", db_url, "ingest", str(SAMPLE / "legacy"))
    added = [s for s in sources(db_url) if s["source_id"] > 1]
    assert added and any(s["run_groups"] for s in added) and any(s["list_entries"] for s in added)
    for source in sorted(added, key=lambda s: -s["source_id"]):
        ok("--db", db_url, "sources", "remove", str(source["source_id"]))
    assert snapshot(db_url) == before


def test_removing_a_middle_file_leaves_the_others(db_url: str, tmp_path: Path) -> None:
    ok("--db", db_url, "ingest", str(first_csv(tmp_path)))
    ok("--db", db_url, "ingest", str(second_csv(tmp_path)))
    rows = [("K.01F25", f"{n:05d}", f"Last{n}", f"First{n}", "B", "K", "F25") for n in range(1, 6)]
    ok("--db", db_url, "ingest", str(write(tmp_path / "third.csv", rows)))
    only_first_and_third = snapshot(db_url)
    ok("--db", db_url, "sources", "remove", "2")
    assert [(s["source_id"], s["grades"]) for s in sources(db_url)] == [(1, 80), (3, 5)]
    report = json.loads(ok("--db", db_url, "report", "--student", "00001", "--format", "json"))
    assert sorted(g["section"] for g in report["grades"]) == ["G.01F25", "K.01F25"]
    assert len(only_first_and_third["enrollments"]) - 80 == len(snapshot(db_url)["enrollments"])


def test_sources_lists_what_each_file_still_holds(db_url: str, tmp_path: Path) -> None:
    ok("--db", db_url, "ingest", str(first_csv(tmp_path)))
    rows = [("G.01F25", f"{n:05d}", f"Last{n}", f"First{n}", "A", "G", "F25") for n in range(1, 21)]
    ok("--db", db_url, "ingest", "--replace", str(write(tmp_path / "fix.csv", rows)))
    assert [(s["source_id"], s["grades"]) for s in sources(db_url)] == [(1, 60), (2, 20)]
    table = ok("--db", db_url, "sources").splitlines()
    assert table[2].split()[:4] == ["1", table[2].split()[1], table[2].split()[2], "60"]
    rows_csv = list(csv.DictReader(io.StringIO(ok("--db", db_url, "sources", "--format", "csv"))))
    assert [row["grades"] for row in rows_csv] == ["60", "20"]
    assert rows_csv[0]["path"] == str(tmp_path / "first.csv")


@pytest.mark.parametrize("wrong", ["9", "0", "-1", "99999999999999999999"])
def test_an_unknown_source_is_one_line_and_removes_nothing(
    db_url: str, tmp_path: Path, wrong: str
) -> None:
    ok("--db", db_url, "ingest", str(first_csv(tmp_path)))
    before = counts(db_url)
    result = run_cli("--db", db_url, "sources", "remove", "--", wrong)
    assert result.exit_code == 66
    assert one_line_error(result) == f"gradestore: unknown source file {wrong}; stored files: 1"
    assert counts(db_url) == before
    assert run_cli("--db", db_url, "sources", "remove", "x").exit_code == 2


# --- memberships --------------------------------------------------------------------------------


def memberships(url: str) -> set[tuple[str, str]]:
    engine = db.create_engine_for(url)
    try:
        with db.connect(engine, write=False) as connection:
            rows = connection.execute(
                text(
                    "SELECT g.name, s.name FROM group_sections gs"
                    " JOIN groups g ON g.id = gs.group_id JOIN sections s ON s.id = gs.section_id"
                )
            )
            return {(group, section) for group, section in rows}
    finally:
        engine.dispose()


def test_groups_remove_section_takes_a_wrong_membership_back(db_url: str, tmp_path: Path) -> None:
    first = first_csv(tmp_path)
    ok("--db", db_url, "ingest", str(first))
    ok("--db", db_url, "ingest", "--group", "[bold]WRONG[/bold]", str(first))
    assert ("[bold]WRONG[/bold]", "G.01F25") in memberships(db_url)
    done = ok("--db", db_url, "groups", "remove-section", "[bold]WRONG[/bold]", "G.01F25")
    assert done == "removed section G.01F25 from group [bold]WRONG[/bold]\n"
    assert memberships(db_url) == {
        *(("G", s) for s in ("G.01F25", "G.02F25", "G.03F25", "G.04F25")),
        *(("[bold]WRONG[/bold]", s) for s in ("G.02F25", "G.03F25", "G.04F25")),
    }
    # The file that gave the wrong group is listed; removing it takes the rest back.
    wrong = [s for s in sources(db_url) if s["memberships"] and s["grades"] == 0]
    assert len(wrong) == 1
    ok("--db", db_url, "sources", "remove", str(wrong[0]["source_id"]))
    assert memberships(db_url) == {("G", s) for s in ("G.01F25", "G.02F25", "G.03F25", "G.04F25")}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("NOPE", "G.01F25"), "unknown group 'NOPE'; known groups: G"),
        (("G", "G.09F25"), "unknown section 'G.09F25'; did you mean G.04F25, G.03F25, G.02F25?"),
        (("G", "H.01F25"), "section 'H.01F25' is not in group 'G'"),
        (
            ("G", "\x1b[31mred"),
            "unknown section '\\x1b[31mred'; known sections: G.01F25, G.02F25"
            ", G.03F25, G.04F25, H.01F25",
        ),
    ],
)
def test_groups_remove_section_refuses_in_one_line(
    db_url: str, tmp_path: Path, args: tuple[str, str], message: str
) -> None:
    ok("--db", db_url, "ingest", str(first_csv(tmp_path)))
    rows = [("H.01F25", "00001", "Last1", "First1", "A", "", "F25")]
    ok("--db", db_url, "ingest", str(write(tmp_path / "nogroup.csv", rows)))
    before = memberships(db_url)
    result = run_cli("--db", db_url, "groups", "remove-section", *args)
    assert result.exit_code == 66
    assert one_line_error(result) == f"gradestore: {message}"
    assert memberships(db_url) == before


def test_ingest_replace_replaces_the_memberships_a_file_gives(db_url: str, tmp_path: Path) -> None:
    first = first_csv(tmp_path)
    ok("--db", db_url, "ingest", str(first))
    with first.open() as handle:
        rows = [tuple(row) for row in csv.reader(handle)][1:]
    moved = [(*row[:5], "G2" if row[0] == "G.01F25" else row[5], row[6]) for row in rows]
    regrouped = write(tmp_path / "regrouped.csv", moved)
    ok("--db", db_url, "ingest", str(regrouped))  # without --replace: one more membership
    assert {("G", "G.01F25"), ("G2", "G.01F25")} <= memberships(db_url)
    report = json.loads(
        ok("--db", db_url, "ingest", "--replace", "--format", "json", str(regrouped))
    )
    unit = report["units"][0]
    assert unit["memberships_removed"] == 1 and unit["status"] == "stored"
    assert ("G", "G.01F25") not in memberships(db_url)
    assert {("G2", "G.01F25"), ("G", "G.02F25")} <= memberships(db_url)
    # --replace --group puts every section of the file into that group only.
    ok("--db", db_url, "ingest", "--replace", "--group", "ONLY", str(first))
    assert {group for group, _ in memberships(db_url)} == {"G", "ONLY"}
    assert {s for g, s in memberships(db_url) if g == "ONLY"} == {
        "G.01F25", "G.02F25", "G.03F25", "G.04F25",
    }  # fmt: skip
