"""Ingest of hostile or mistaken files, on both backends: nothing outside the data folder is read
or shown, the good files still go in, and every bad thing is one line at its file and line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from tests.helpers import REPO_ROOT, run_cli, table_counts

SECRET = "root:x:0:0:not-a-grade-file"


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def section_names(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(text("SELECT name FROM sections ORDER BY name")).scalars())


@pytest.fixture
def attack(tmp_path: Path) -> Path:
    """A data folder whose .RUN and .GRP name files outside it, next to a good run."""
    data = tmp_path / "data"
    outside = tmp_path / "outside"
    write(outside / "X.SEC", f'X 3\n"{SECRET}","9","A"\n')
    write(outside / "X.GRP", f"X\n{SECRET}\n")
    write(outside / "passwd", f"{SECRET}\n")
    write(data / "Sections" / "S1.SEC", 'S1 3\n"Lee, Ann","1","A"\n')
    os.symlink(outside / "X.SEC", data / "Sections" / "LINK.SEC")
    write(data / "Groups" / "GOOD.GRP", "GOOD\nS1.SEC\n")
    write(data / "Groups" / "BAD.GRP", "BAD\n../../outside/X.SEC\nLINK.SEC\nGOOD.GRP\n")
    write(data / "Runs" / "BAD.RUN", f"BADRUN\n{outside / 'passwd'}\n../../outside/X.GRP\n")
    return data


def test_names_leading_out_of_the_data_folder_are_refused_at_their_lines(
    db_url: str, engine: Engine, attack: Path
) -> None:
    before = table_counts(engine)
    bad_run = attack / "Runs" / "BAD.RUN"
    bad_group = attack / "Groups" / "BAD.GRP"
    result = run_cli("--db", db_url, "ingest", str(bad_run), str(bad_group))
    assert result.exit_code == 65
    assert SECRET not in result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        f"{bad_run}:2: refused group file name: {str(attack.parent)[:40]!r}... is an absolute "
        "path: name a file within the data folder",
        f"{bad_run}:3: refused group file name: '../../outside/X.GRP' leads outside the data "
        "folder",
        f"{bad_group}:2: refused section file name: '../../outside/X.SEC' leads outside the "
        "data folder",
        f"{bad_group}:3: refused section file name: 'LINK.SEC' leads outside the data folder",
        f"{bad_group}:4: refused section file name: 'GOOD.GRP' is a group file, not a section "
        "file (.SEC)",
    ]
    assert table_counts(engine) == before


def test_a_run_naming_etc_passwd_shows_none_of_it_and_good_units_still_go_in(
    db_url: str, engine: Engine, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    write(data / "Sections" / "S1.SEC", 'S1 3\n"Lee, Ann","1","A"\n')
    write(data / "Groups" / "GOOD.GRP", "GOOD\nS1.SEC\n")
    run = write(data / "Runs" / "EVIL.RUN", "EVIL\n/etc/passwd\n/etc/shadow\n")
    result = run_cli("--db", db_url, "ingest", str(run), str(data / "Groups" / "GOOD.GRP"))
    assert result.exit_code == 65
    assert [line.split(": refused")[0] for line in result.stderr.splitlines()] == [
        f"{run}:2",
        f"{run}:3",
    ]
    passwd = Path("/etc/passwd").read_text().splitlines()
    assert not any(line and line in result.stdout + result.stderr for line in passwd)
    assert section_names(engine) == ["S1"]


def test_a_group_entry_too_long_for_a_file_name_is_that_files_error(
    db_url: str, engine: Engine, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    write(data / "Sections" / "S1.SEC", 'S1 3\n"Lee, Ann","1","A"\n')
    write(data / "Sections" / "S2.SEC", 'S2 3\n"Kim, Bo","2","B"\n')
    long_group = write(data / "Groups" / "A.GRP", "A\n" + "S" * 5000 + ".SEC\n")
    write(data / "Groups" / "B.GRP", "B\nS2.SEC\n")
    result = run_cli("--db", db_url, "ingest", str(data / "Groups"), str(data / "Sections"))
    assert result.exit_code == 65
    assert result.stderr.splitlines() == [
        f"{long_group}:2: refused section file name: {'S' * 40!r}... is longer than 255 characters"
    ]
    assert "S" * 41 not in result.stdout
    assert section_names(engine) == ["S1", "S2"]


# --- values longer than their columns, on both backends -----------------------------------------

HEADER = "section,student_id,last_name,first_name,grade,group,term\n"


def test_values_longer_than_their_columns_are_bad_rows_and_good_files_still_go_in(
    db_url: str, engine: Engine, tmp_path: Path
) -> None:
    long_term = write(tmp_path / "a_term.csv", HEADER + f"T1,1,Lee,Ann,A,G,{'T' * 33}\n")
    header = write(tmp_path / "b" / "S2.SEC", f"{'H' * 201} 3\n" + '"Kim, Bo","2","B"\n')
    group = write(tmp_path / "c" / "G.GRP", "G" * 201 + "\nS3.SEC\n")
    write(tmp_path / "c" / "S3.SEC", 'S3 3\n"Ng, Cy","3","C"\n')
    deep = tmp_path.joinpath(*["d" * 200] * 5)
    long_path = write(deep / "S4.SEC", 'S4 3\n"Oh, Di","4","D"\n')
    good = write(tmp_path / "z_good.csv", HEADER + "GOOD,5,Roe,Al,A,G,F25\n")
    result = run_cli(
        "--db", db_url, "ingest", str(long_term), str(header), str(group), str(long_path),
        str(good),
    )  # fmt: skip
    assert result.exit_code == 65
    assert result.stderr.splitlines() == [
        f"{long_term}:2: term is longer than 32 characters",
        f"{header}:1: header is longer than 200 characters",
        f"{group}:1: group is longer than 200 characters",
        f"{long_path}: path is longer than 1000 characters",
    ]
    assert section_names(engine) == ["GOOD"]


# --- a file that cannot be read is that file's error ---------------------------------------------


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root")
def test_an_unreadable_file_is_its_own_error_and_the_others_go_in() -> None:
    folder = Path(tempfile.mkdtemp(prefix="gradestore-unreadable-", dir="/tmp"))
    try:
        folder.chmod(0o777)
        write(folder / "data" / "a.csv", HEADER + "A1,1,Lee,Ann,A,G,F25\n")
        secret = write(folder / "data" / "b.csv", HEADER + "B1,2,Kim,Bo,B,G,F25\n")
        secret.chmod(0o000)
        write(folder / "data" / "c.csv", HEADER + "C1,3,Ng,Cy,C,G,F25\n")
        store = folder / "s.db"
        result = subprocess.run(
            ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable,
             "-m", "gradestore", "--db", str(store), "ingest", str(folder / "data")],
            capture_output=True, text=True, cwd="/", timeout=120,
            env={**os.environ, "HOME": "/nonexistent", "PYTHONPATH": str(REPO_ROOT)},
        )  # fmt: skip
        assert result.returncode == 65, result.stderr
        assert result.stderr == f"{secret}: cannot read: Permission denied\n"
        assert [line.split()[:2] for line in result.stdout.splitlines()[2:5]] == [
            [str(folder / "data" / "a.csv"), "stored"],
            [str(secret), "rejected"],
            [str(folder / "data" / "c.csv"), "stored"],
        ]
        engine = create_engine(f"sqlite:///{store}")
        assert section_names(engine) == ["A1", "C1"]
        engine.dispose()
    finally:
        shutil.rmtree(folder)
