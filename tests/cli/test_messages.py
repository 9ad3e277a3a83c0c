"""The lines users see most, verbatim, with their exit codes: a bad row, a duplicate warning, a
section stored with other grades, a missing file, a bad threshold, an empty store, a store with no
analysis, unknown names with their suggestion, options that do not go together. (The upgrade hint
is asserted verbatim in tests/integration/test_old_stores.py.)

Other tests check what these cases store or leave alone; these check the words and the codes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import run_cli

HEADER = "section,student_id,last_name,first_name,grade,group\n"
GOOD = HEADER + "S1,001,Lee,Ann,A,CORE\nS1,002,Kim,Bo,B,CORE\nS1,001,Lee,Ann,A,CORE\n"


def write(path: Path, content: str) -> Path:
    path.write_text(content, encoding="utf-8")
    return path


@pytest.fixture
def empty_store(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture(scope="module")
def analysed_store(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path]:
    """A store holding one analysis of S1 (001 A, 002 B) in group CORE, only read by the tests."""
    folder = tmp_path_factory.mktemp("analysed")
    shutil.copyfile(sqlite_template, folder / "store.db")
    url = f"sqlite:///{folder / 'store.db'}"
    assert run_cli("--db", url, "ingest", str(write(folder / "good.csv", GOOD))).exit_code == 0
    assert run_cli("--db", url, "analyze").exit_code == 0
    return url, folder


def test_bad_rows_and_a_missing_file(empty_store: str, tmp_path: Path) -> None:
    bad = write(
        tmp_path / "bad.csv",
        HEADER + "S1,001,Lee,Ann,A,CORE\nS1,002,Kim,Bo,Q,CORE\nS1,003,Ng,Cy,B\n",
    )
    missing = tmp_path / "missing.csv"
    result = run_cli("--db", empty_store, "ingest", str(bad), str(missing))
    assert result.exit_code == 65
    assert result.stderr.splitlines() == [
        f"{bad}:3: unknown grade 'Q': not a letter of the store's grade scale 'default' "
        "(`gradestore scale show` lists them; `gradestore scale set NAME|FILE` changes it)",
        f"{bad}:4: expected 6 fields, found 5",
        f"{missing}: no such file or directory",
    ]


def test_only_missing_files_exit_66(empty_store: str, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.csv"
    result = run_cli("--db", empty_store, "ingest", str(missing))
    assert (result.exit_code, result.stderr) == (66, f"{missing}: no such file or directory\n")


def test_a_student_twice_with_the_same_grade_is_a_warning(empty_store: str, tmp_path: Path) -> None:
    twice = write(tmp_path / "good.csv", GOOD)
    result = run_cli("--db", empty_store, "ingest", str(twice))
    assert result.exit_code == 0
    assert result.stderr == (
        f"{twice}:4: warning: student 001 is in section S1 twice (also on line 2); kept once\n"
    )


def test_a_section_stored_with_other_grades(
    analysed_store: tuple[str, Path], tmp_path: Path
) -> None:
    url, _ = analysed_store
    other = write(tmp_path / "other.csv", HEADER + "S1,001,Lee,Ann,C,CORE\n")
    result = run_cli("--db", url, "ingest", str(other))
    assert result.exit_code == 65
    assert result.stderr == (
        f"{other}:2: section S1 is already stored with different grades; "
        "use --replace to replace them\n"
    )


def test_an_empty_store_and_a_store_without_analysis(empty_store: str, tmp_path: Path) -> None:
    empty = run_cli("--db", empty_store, "report")
    assert (empty.exit_code, empty.stderr) == (
        66,
        "gradestore: no grades are stored yet: run `gradestore ingest FILE...` first\n",
    )
    assert (
        run_cli("--db", empty_store, "ingest", str(write(tmp_path / "g.csv", GOOD))).exit_code == 0
    )
    unanalysed = run_cli("--db", empty_store, "report")
    assert (unanalysed.exit_code, unanalysed.stderr) == (
        66,
        "gradestore: no analysis is stored yet: run `gradestore analyze` first\n",
    )


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("analyze", "--group", "CORF"), "unknown group 'CORF'; did you mean CORE?"),
        (("report", "--section", "S2"), "unknown section 'S2'; did you mean S1?"),
        (("report", "--student", "009"), "unknown student '009'; did you mean 002, 001?"),
        (("report", "--analysis", "9"), "unknown analysis 9; stored analyses: 1"),
    ],
)
def test_unknown_names_exit_66_with_the_closest_names(
    analysed_store: tuple[str, Path], args: tuple[str, ...], line: str
) -> None:
    url, _ = analysed_store
    result = run_cli("--db", url, *args)
    assert (result.exit_code, result.stderr, result.stdout) == (66, f"gradestore: {line}\n", "")


def test_options_that_do_not_go_together_exit_64(analysed_store: tuple[str, Path]) -> None:
    url, _ = analysed_store
    result = run_cli("--db", url, "report", "--group", "CORE", "--section", "S1")
    assert (result.exit_code, result.stderr) == (
        64,
        "gradestore: give one of --section, --group, --student, --list "
        "(not --section and --group)\n",
    )


def test_a_bad_threshold_is_a_usage_error_naming_the_option(
    analysed_store: tuple[str, Path],
) -> None:
    url, _ = analysed_store
    result = run_cli("--db", url, "analyze", "--threshold", "2")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--threshold': must be a number between 0 and 1 "
        "(exclusive), e.g. 0.05"
    )


def test_an_empty_group_name_is_a_usage_error_naming_the_option(empty_store: str) -> None:
    result = run_cli("--db", empty_store, "ingest", "--group", " ", "missing.csv")
    assert (result.exit_code, result.stdout, result.stderr) == (
        64,
        "",
        "gradestore: --group needs a non-empty name\n",
    )
