"""What gradestore prints, facing odd data and odd places to print to: text from data shown
literally, --output that never replaces what it must not, tables that hold at 80 columns,
pipes without padding or CRLF, a closed pipe, and messages that say what happened."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import REPO_ROOT, run_cli, run_gradestore

HEADER = "section,student_id,last_name,first_name,grade,group\n"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def write(path: Path, content: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    return path


def ok(*args: str) -> str:
    result = run_cli(*args)
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return result.stdout


def in_terminal(*args: str, columns: int = 80, exit_code: int = 0) -> str:
    """Run gradestore with its standard output on a terminal `columns` wide; what it shows."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns), "LINES": "50", "TERM": "xterm"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "gradestore", *args],
        stdout=follower, stderr=subprocess.PIPE, env=env, cwd=REPO_ROOT,
    )  # fmt: skip
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=120)
    os.close(leader)
    assert process.returncode == exit_code, process.stderr.read() if process.stderr else ""
    return ANSI.sub("", b"".join(chunks).decode()).replace("\r\n", "\n")


# --- text from data is shown literally ---------------------------------------------------------

ODD = {"student": "[/]", "first": ":thumbs_up:", "section": "[bold]S[/bold]", "group": "[red]G"}


@pytest.fixture
def odd_store(db_url: str, tmp_path: Path) -> str:
    folder = tmp_path / "[old] grades"
    rows = [
        f"{ODD['section']},1,{ODD['student']},{ODD['first']},A,{ODD['group']}",
        f"{ODD['section']},2,Kim,Bo,F,{ODD['group']}",
        f"T2,3,Lee,Ann,B,{ODD['group']}",
        f"T2,4,Ng,Cy,C,{ODD['group']}",
    ]
    csv_file = write(folder / "g.csv", HEADER + "\n".join(rows) + "\n")
    result = run_cli("--db", db_url, "ingest", str(folder))
    assert result.exit_code == 0, result.stderr
    assert f"{folder.name}/g.csv" in result.stdout  # the folder's name is not eaten as markup
    assert str(csv_file) in result.stdout
    ok("--db", db_url, "analyze")
    return db_url


def test_markup_and_emoji_codes_in_data_are_shown_as_written(odd_store: str) -> None:
    section, group, student, first = ODD["section"], ODD["group"], ODD["student"], ODD["first"]
    expected = {
        ("analyze", "--force"): [section, group],
        ("report",): [section, group, student, first],
        ("zscore",): [section, group],
        ("report", "--list", "good"): [section, student, first],
        ("report", "--section", section): [section, group, student, first],
        ("report", "--group", group): [section, group],
        ("report", "--student", "1"): [section, student, first],
        ("zscore", "--section", section): [section, group],
    }
    for args, values in expected.items():
        shown = ok("--db", odd_store, *args)
        for value in values:
            assert value in shown, (args, value, shown)
        assert "👍" not in shown


def test_markup_in_data_is_literal_on_a_terminal_too(odd_store: str) -> None:
    shown = in_terminal("--db", odd_store, "report", "--list", "good")
    assert "[/]" in shown and ":thumbs_up:" in shown and "[bold]S[/bold]" in shown
    shown = in_terminal("--db", odd_store, "zscore")
    assert "[bold]S[/bold]" in shown


def test_control_characters_of_file_names_are_made_visible(db_url: str, tmp_path: Path) -> None:
    bad = write(tmp_path / "evil\x1b[31m.csv", HEADER + "S,1,Lee,Ann,Q,G\n")
    result = run_cli("--db", db_url, "ingest", str(bad))
    assert result.exit_code == 65
    assert "\x1b" not in result.stdout + result.stderr
    assert "evil\\x1b[31m.csv:2: unknown grade 'Q'" in result.stderr
    assert "evil\\x1b[31m.csv" in result.stdout


_ACCEPTED = st.text(
    st.one_of(
        st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")),
        st.sampled_from(list(",\"'=+-@[]/:")),
    ),
    min_size=1,
    max_size=12,
).filter(lambda value: value.strip() == value)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(last=_ACCEPTED, first=_ACCEPTED, section=_ACCEPTED)
def test_any_name_the_reader_accepts_is_shown_literally_and_round_trips(
    tmp_path_factory: pytest.TempPathFactory, last: str, first: str, section: str
) -> None:
    """Through the reader, the store, a table, CSV (read back with csv and unescape_cell) and
    the .lst layout (read back by gradestore's own reader). The .lst layout has no escaping, so
    (README) a `"` becomes `'` and a comma in a first name is read back into the last name:
    those two are checked as documented."""
    from gradestore.render import unescape_cell
    from tests.helpers import read_grade_csv, read_list_file

    folder = tmp_path_factory.mktemp("names")
    source = folder / "in.csv"
    with source.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["section", "student_id", "last_name", "first_name", "grade"])
        writer.writerow([section, "1", last, first, "A"])
    records = list(read_grade_csv(source))
    if any(not hasattr(record, "grade") for record in records):
        return  # not accepted by the reader (a value that only looks like a name)
    db = f"sqlite:///{folder / 's.db'}"
    ok("--db", db, "ingest", str(source))
    ok("--db", db, "analyze")
    table = ok("--db", db, "report", "--list", "good")
    assert last in table and first in table and section in table
    rows = list(
        csv.reader(io.StringIO(ok("--db", db, "report", "--list", "good", "--format", "csv")))
    )
    assert [unescape_cell(cell) for cell in rows[1][3:6]] == [last, first, section]
    lst = folder / "good.lst"
    assert run_cli("--db", db, "report", "--list", "good", "--output", str(lst)).exit_code == 0
    entries, problems = read_list_file(lst)
    assert [p for p in problems if not p.is_warning] == []
    written = [value.replace('"', "'") for value in (last, first, section)]
    if "," in first:  # documented: the last comma splits the name
        full = f"{written[0]}, {written[1]}"
        written[0], written[1] = (part.strip() for part in full.rsplit(",", 1))
    assert [(e.last_name, e.first_name, e.section) for e in entries] == [tuple(written)]


# --- --output ------------------------------------------------------------------------------------


@pytest.fixture
def small_store(db_url: str, tmp_path: Path) -> str:
    csv_file = write(tmp_path / "g.csv", HEADER + "S1,1,Lee,Ann,A,G\nS1,2,Kim,Bo,F,G\n")
    ok("--db", db_url, "ingest", str(csv_file))
    ok("--db", db_url, "analyze")
    return db_url


def test_output_through_a_symlink_writes_its_target(small_store: str, tmp_path: Path) -> None:
    target = write(tmp_path / "real" / "report.csv", "old\n")
    target.chmod(0o640)
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    result = run_cli("--db", small_store, "report", "--format", "csv", "--output", str(link))
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink()
    assert target.read_text().startswith("analysis_id,test,")
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in target.parent.iterdir()] == ["report.csv"]  # no partial file left


def test_output_to_a_device_writes_in_place(small_store: str, tmp_path: Path) -> None:
    full = run_cli("--db", small_store, "report", "--format", "csv", "--output", "/dev/full")
    assert full.exit_code == 73
    assert full.stderr == "gradestore: cannot write /dev/full: No space left on device\n"
    assert Path("/dev/full").is_char_device()
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE, text=True)
    result = run_gradestore("--db", small_store, "report", "--format", "csv", "--output", str(fifo))
    assert result.exit_code == 0, result.stderr
    assert reader.communicate(timeout=60)[0].startswith("analysis_id,test,")
    assert fifo.is_fifo()


@pytest.mark.parametrize("name", ["", "."])
def test_output_that_names_no_file_is_one_line(small_store: str, name: str) -> None:
    result = run_cli("--db", small_store, "report", "--output", name)
    assert result.exit_code == 73
    assert result.stderr == "gradestore: --output needs a file name (or - for standard output)\n"


def test_output_dash_is_standard_output(small_store: str) -> None:
    result = run_cli("--db", small_store, "report", "--format", "csv", "--output", "-")
    assert result.exit_code == 0
    assert result.stdout.startswith("analysis_id,test,")
    assert not Path("-").exists()


def test_output_to_a_folder_is_one_line(small_store: str, tmp_path: Path) -> None:
    result = run_cli("--db", small_store, "report", "--output", str(tmp_path))
    assert result.exit_code == 73
    assert result.stderr == f"gradestore: cannot write {tmp_path}: it is a folder\n"


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="gradestore-out-", dir="/tmp"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder)


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv"
)
def test_a_file_the_user_may_not_write_is_refused_not_replaced(shared_folder: Path) -> None:
    store = shared_folder / "s.db"
    write(shared_folder / "g.csv", HEADER + "S1,1,Lee,Ann,A,G\n")
    ok("--db", str(store), "ingest", str(shared_folder / "g.csv"))
    ok("--db", str(store), "analyze")
    store.chmod(0o644)
    theirs = write(shared_folder / "theirs.csv", "root's file\n")
    theirs.chmod(0o444)
    result = subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable,
         "-m", "gradestore", "--db", str(store), "report", "--format", "csv",
         "--output", str(theirs)],
        capture_output=True, text=True, cwd="/", timeout=120,
        env={**os.environ, "HOME": "/nonexistent", "PYTHONPATH": str(REPO_ROOT)},
    )  # fmt: skip
    assert result.returncode == 73, result.stderr
    assert result.stderr == (
        f"gradestore: cannot write {theirs}: permission denied (it was left as it is)\n"
    )
    assert theirs.read_text() == "root's file\n"
    assert theirs.stat().st_uid == 0


# --- terminals, pipes ----------------------------------------------------------------------------


@pytest.fixture
def long_names_store(db_url: str, tmp_path: Path) -> str:
    rows = [
        f"COMSC210.02F25-EVENING-{n},{n}{i},Student{i},Name,{'ABCDF'[(i + n) % 5]},"
        f"COMSC210-ALL-SECTIONS"
        for n in range(3)
        for i in range(6)
    ]
    csv_file = write(tmp_path / "long" / "export_from_the_registrar_system.csv",
                     HEADER + "\n".join(rows) + "\n")  # fmt: skip
    ok("--db", db_url, "ingest", str(csv_file))
    ok("--db", db_url, "analyze")
    return db_url


def test_section_names_never_wrap_at_80_columns(long_names_store: str) -> None:
    for args in (["zscore"], ["analyze", "--force"], ["report"]):
        shown = in_terminal("--db", long_names_store, *args)
        assert max(len(line) for line in shown.splitlines()) <= 80, shown
        for n in range(3):
            assert f"COMSC210.02F25-EVENING-{n}" in shown, shown


def test_a_list_of_long_names_at_80_columns_keeps_them_whole(db_url: str, tmp_path: Path) -> None:
    """Names too long for the history columns: those are left out and said so; a name
    longer than the terminal allows folds whole. Rich alone would cut it short silently."""
    last, first = "Wolfeschlegelsteinhausenbergerdorff-Montgomery", "Maximiliana-Alexandrina"
    rows = [f"S1,{i},{last},{first},{'AF'[i % 2]},G\nS2,{i + 100},Li,Bo,B,G\n" for i in range(6)]
    ok("--db", db_url, "ingest", str(write(tmp_path / "long.csv", HEADER + "".join(rows))))
    ok("--db", db_url, "analyze")
    shown = in_terminal("--db", db_url, "report", "--list", "work", columns=80)
    lines = shown.splitlines()
    assert max(len(line) for line in lines) <= 80, shown
    assert "(first term, appeared before, risk and entries left out to fit 80 columns: see" in shown
    for i in (1, 3, 5):
        row = next(n for n, line in enumerate(lines) if line.split()[:1] == [str(i)])
        assert lines[row].split()[1] + lines[row + 1].strip() == last, shown
        assert lines[row].split()[2] == first, shown


def test_the_ingest_table_keeps_every_column_at_80_columns(db_url: str, tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 4)
    write(deep / "grades-exported-from-the-registrar.csv", HEADER + "S1,1,Lee,Ann,Q,G\n")
    shown = in_terminal("--db", db_url, "ingest", str(deep), exit_code=65)
    header = next(line for line in shown.splitlines() if line.startswith("file"))
    assert header.split() == ["file", "status", "sections", "students", "grades", "bad", "rows"]
    assert max(len(line) for line in shown.splitlines()) <= 80


def test_piped_tables_have_no_trailing_padding(odd_store: str) -> None:
    for args in (["report"], ["zscore"], ["report", "--list", "work"], ["analyze"]):
        text = ok("--db", odd_store, *args)
        assert all(line == line.rstrip() for line in text.splitlines()), args


def test_csv_lines_end_with_lf(small_store: str, tmp_path: Path) -> None:
    for args in (["report"], ["zscore"], ["report", "--list", "good"], ["report", "--group", "G"],
                 ["report", "--section", "S1"], ["report", "--student", "1"]):  # fmt: skip
        text = ok("--db", small_store, *args, "--format", "csv")
        assert "\r" not in text and text.endswith("\n"), args


def test_a_closed_pipe_ends_quietly_with_141(small_store: str, tmp_path: Path) -> None:
    many = write(tmp_path / "many.csv", HEADER + "".join(
        f"P{n // 40},{n + 10},Last{n},First{n},A,G\n" for n in range(4000)))  # fmt: skip
    ok("--db", small_store, "ingest", str(many))
    ok("--db", small_store, "analyze")
    for args in (
        ["report", "--list", "good", "--format", "csv"],
        ["analyze", "--force", "--format", "json"],
    ):
        command = [sys.executable, "-m", "gradestore", "--db", small_store, *args]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert process.stdout is not None and process.stderr is not None
        process.stdout.readline()
        process.stdout.close()
        assert process.wait(timeout=120) == 141
        assert process.stderr.read() == b""


# --- messages that say what happened -------------------------------------------------------------


def test_the_error_cap_says_there_may_be_more(db_url: str, tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.csv", HEADER + "S,1,L,F,Q,G\n" * 50)
    result = run_cli("--db", db_url, "ingest", str(bad))
    lines = result.stderr.splitlines()
    assert len(lines) == 21
    assert lines[-1] == f"{bad}: stopped after 20 errors; there may be more"
    assert "more errors" not in result.stderr


def test_legacy_errors_past_the_cap_are_counted_exactly(db_url: str, tmp_path: Path) -> None:
    sec = write(tmp_path / "S.SEC", "S 3\n" + '"L, F","1","Q"\n' * 30)
    result = run_cli("--db", db_url, "ingest", str(sec))
    lines = result.stderr.splitlines()
    assert lines[-1] == f"{sec}: ... and 10 more errors"
    assert len(lines) == 21


def test_zscore_of_a_section_not_in_the_group_says_so(db_url: str, tmp_path: Path) -> None:
    csv_file = write(tmp_path / "g.csv", HEADER + "A1,1,L,F,A,GA\nA2,2,L,F,B,GA\n"
                     "B1,3,L,F,C,GB\nB2,4,L,F,D,GB\n")  # fmt: skip
    ok("--db", db_url, "ingest", str(csv_file))
    ok("--db", db_url, "analyze")
    result = run_cli("--db", db_url, "zscore", "--section", "A1", "--group", "GB")
    assert result.exit_code == 0
    assert result.stderr == "section A1 is not in group GB: no z-test of it against GB\n"


def test_analysis_stored_then_output_fails_says_it_was_stored(small_store: str) -> None:
    result = run_cli("--db", small_store, "analyze", "--format", "json")
    assert result.exit_code == 0
    stored = json.loads(result.stdout)["analysis_id"]
    failed = run_gradestore_to_full("--db", small_store, "analyze", "--force", "--format", "json")
    assert failed.returncode == 74, failed.stderr
    assert failed.stderr == (
        f"gradestore: analysis {stored + 1} is stored, but showing it failed (No space left on "
        f"device): `gradestore report --analysis {stored + 1}` shows it\n"
    )
    again = run_cli(
        "--db", small_store, "report", "--analysis", str(stored + 1), "--format", "json"
    )
    assert again.exit_code == 0


def run_gradestore_to_full(*args: str) -> subprocess.CompletedProcess[str]:
    """Run gradestore with its standard output on /dev/full (every write fails)."""
    with open("/dev/full", "w") as full:
        return subprocess.run(
            [sys.executable, "-m", "gradestore", *args],
            stdout=full, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT, timeout=120,
        )  # fmt: skip


def test_a_files_progress_line_goes_once_the_next_file_starts() -> None:
    from gradestore.cli.common import data_console
    from gradestore.cli.ingest_command import _Progress

    console = data_console(io.StringIO(), force_terminal=True, width=80)
    progress = _Progress(lambda: console)
    advance = progress.__enter__()
    assert advance is not None and progress._progress is not None
    try:
        advance("a.csv", 10, "reading")
        advance("a.csv", 5, "reading")
        advance("b\x1b.csv", 3, "reading")
        tasks = progress._progress.tasks
        assert [(task.description, task.completed) for task in tasks] == [
            ("b\\x1b.csv: reading", 3)
        ]
    finally:
        progress.__exit__(None, None, None)


@pytest.fixture
def sample_store(db_url: str) -> str:
    ok("--db", db_url, "ingest", str(REPO_ROOT / "sample_data" / "grades.csv"))
    ok("--db", db_url, "analyze")
    return db_url


def shown_figures(test: dict[str, object]) -> tuple[str, str]:
    """z and p as a table shows them (three decimals; four, or e-notation below 0.0001)."""
    z, p = float(test["z_score"]), float(test["p_value"])  # type: ignore[arg-type]
    return f"{z:.3f}", (f"{p:.2e}" if p < 1e-4 else f"{p:.4f}")


@pytest.mark.parametrize("columns", [80, 100])
def test_tables_of_tests_keep_every_number_whole(sample_store: str, columns: int) -> None:
    tests = json.loads(ok("--db", sample_store, "zscore", "--format", "json"))["tests"]
    analyze = ["analyze", "--force"]  # the store is analysed already: a new analysis is shown
    for args in (analyze, ["zscore"], ["report"], ["report", "--group", "COMSC210"]):
        shown = in_terminal("--db", sample_store, *args, columns=columns)
        lines = shown.splitlines()
        assert max(len(line) for line in lines) <= columns, shown
        if args == analyze or columns == 100:  # room for every column of the sample's
            assert "left out" not in shown, shown
        for test in tests:
            if test["kind"] == "section" and args != ["report", "--group", "COMSC210"]:
                row = next(line for line in lines if test["name"] in line.split())
                assert set(shown_figures(test)) <= set(row.split()), (row, test)


def test_a_narrow_table_leaves_out_effect_size_and_says_so(long_names_store: str) -> None:
    listing = json.loads(ok("--db", long_names_store, "zscore", "--format", "json"))
    tests = [test for test in listing["tests"] if test["z_score"] is not None]
    shown = in_terminal("--db", long_names_store, "zscore", columns=80)
    lines = shown.splitlines()
    assert max(len(line) for line in lines) <= 80, shown
    assert any(
        line.startswith("(d, diff, ")
        and line.endswith(" left out to fit 80 columns: see --format json)")
        for line in lines
    ), shown
    header = next(line for line in lines if line.startswith("test "))
    assert " d " not in header and "diff" not in header
    for test in tests:
        row = next(line for line in lines if test["name"] in line.split())
        assert set(shown_figures(test)) <= set(row.split()), (row, test)
    wide = in_terminal("--db", long_names_store, "zscore", columns=160)
    assert "left out" not in wide and "diff" in wide
