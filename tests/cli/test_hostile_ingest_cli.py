"""Ingest of hostile or mistaken files, on both backends: nothing outside the data folder is read
or shown, the good files still go in, and every bad thing is one line at its file and line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from tests.helpers import run_cli, table_counts

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
