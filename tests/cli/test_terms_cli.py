"""`gradestore terms` and `analyze --term` (issue 14) through the command line, on SQLite and
PostgreSQL: the three formats, hostile term labels shown as written, one-line errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tests.cli.test_hostile_output_cli import in_terminal
from tests.helpers import run_cli

HEADER = "section,student_id,last_name,first_name,grade,group,term\n"
LONG_TERM = "T" * 32  # the longest term the store keeps


def write(path: Path, content: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    return path


def ok(*args: str) -> str:
    result = run_cli(*args)
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return result.stdout


def store_with_terms(db_url: str, tmp_path: Path) -> Path:
    csv_file = write(
        tmp_path / "terms.csv",
        HEADER
        + "CS1.01F25,1,Lee,Ann,A,CS1,F25\n"
        + "CS1.02F25,2,Kim,Bo,B,CS1,Fall 2025\n"
        + "CS1.01S25,3,Ng,Cy,C,CS1,S25\n"
        + "CS1.01S25,4,Oh,Di,F,CS1,S25\n"
        + "CS2.01,5,Poe,Ed,A,CS2,[bold]x[/bold]\n"
        + f"CS2.02,6,Roe,Al,B,CS2,{LONG_TERM}\n"
        + "CS2.03,7,Sun,Jo,B,CS2,\n",
    )
    result = run_cli("--db", db_url, "ingest", str(csv_file))
    assert result.exit_code == 0, result.stderr
    # One warning for the file, though it holds two unrecognised terms.
    assert result.stderr.count("warning: term") == 1, result.stderr
    assert f"{csv_file}:6: warning: term '[bold]x[/bold]' is not a term" in result.stderr
    return csv_file


def test_terms_table_lists_terms_in_order_then_unrecognised_marked(
    db_url: str, tmp_path: Path
) -> None:
    store_with_terms(db_url, tmp_path)
    lines = ok("--db", db_url, "terms").splitlines()
    assert lines[0].split() == ["term", "in", "time", "sections", "grades"]
    assert [line.split() for line in lines[1:7]] == [
        ["S25", "Spring", "2025", "1", "2"],
        ["F25", "Fall", "2025", "1", "1"],
        ["Fall", "2025", "Fall", "2025", "1", "1"],
        [LONG_TERM, "unrecognised", "1", "1"],
        ["[bold]x[/bold]", "unrecognised", "1", "1"],
        ["-", "no", "term", "1", "1"],
    ]
    assert lines[7].startswith("2 unrecognised terms: kept as written")
    assert all(line == line.rstrip() for line in lines)  # piped: no padding


def test_terms_json_and_csv(db_url: str, tmp_path: Path) -> None:
    store_with_terms(db_url, tmp_path)
    data = json.loads(ok("--db", db_url, "terms", "--format", "json"))
    assert [term["term"] for term in data["terms"]] == [
        "S25", "F25", "Fall 2025", LONG_TERM, "[bold]x[/bold]", None,
    ]  # fmt: skip
    assert data["terms"][1] == {
        "term": "F25",
        "recognised": True,
        "year": 2025,
        "season": "fall",
        "order": 20254,
        "sections": 1,
        "grades": 1,
    }
    assert data["terms"][4]["recognised"] is False and data["terms"][4]["order"] is None
    text = ok("--db", db_url, "terms", "--format", "csv")
    assert "\r" not in text
    table = list(csv.DictReader(io.StringIO(text)))
    assert [row["term"] for row in table] == [term["term"] or "" for term in data["terms"]]
    assert table[0] == {
        "term": "S25",
        "recognised": "true",
        "year": "2025",
        "season": "spring",
        "order": "20252",
        "sections": "1",
        "grades": "2",
    }


def test_terms_at_80_columns_keep_every_column_and_show_markup_as_written(
    db_url: str, tmp_path: Path
) -> None:
    store_with_terms(db_url, tmp_path)
    shown = in_terminal("--db", db_url, "terms", columns=80)
    assert "[bold]x[/bold]" in shown
    long_line = next(line for line in shown.splitlines() if LONG_TERM in line)
    assert long_line.split() == [LONG_TERM, "unrecognised", "1", "1"]
    assert max(len(line) for line in shown.splitlines()) <= 80


def test_terms_of_an_empty_store_says_what_to_run(db_url: str) -> None:
    result = run_cli("--db", db_url, "terms")
    assert result.exit_code == 66
    assert result.stderr.strip() == (
        "gradestore: no sections are stored yet: run `gradestore ingest FILE...` first"
    )


def test_analyze_term_scope_and_an_unknown_term(db_url: str, tmp_path: Path) -> None:
    store_with_terms(db_url, tmp_path)
    data = json.loads(
        ok("--db", db_url, "analyze", "--term", "FA2025", "--group", "CS1", "--format", "json")
    )
    assert data["scope"] == {"kind": "groups", "names": ["CS1"], "terms": ["FA2025"]}
    assert sorted(test["section"] for test in data["sections"]) == ["CS1.01F25", "CS1.02F25"]
    heading = ok("--db", db_url, "report").splitlines()[0]
    assert "scope: groups CS1, terms FA2025," in heading
    markup = json.loads(
        ok("--db", db_url, "analyze", "--term", "[bold]x[/bold]", "--format", "json")
    )
    assert [test["section"] for test in markup["sections"]] == ["CS2.01"]

    result = run_cli("--db", db_url, "analyze", "--term", "F26")
    assert result.exit_code == 66
    assert result.stderr == "gradestore: unknown term 'F26'; did you mean F25?\n"
    result = run_cli("--db", db_url, "analyze", "--term", "")
    assert result.exit_code == 64
    assert result.stderr == "gradestore: --term must name a term, not ''\n"
