"""`gradestore db ...`, configuration, --version and --help, through the real command line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gradestore import __version__
from gradestore.config import resolve_database
from gradestore.persistence import db
from tests.helpers import REPO_ROOT, run_cli, run_gradestore


def test_version_prints_the_version() -> None:
    result = run_cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"gradestore {__version__}"


def test_upgrade_then_current_from_another_directory_prints_the_head(
    tmp_path: Path,
) -> None:
    """What a user of a non-editable install does: the packaged migrations are found."""
    url = f"sqlite:///{tmp_path / 'g.db'}"
    upgraded = run_gradestore("--db", url, "db", "upgrade", cwd=tmp_path)
    assert upgraded.exit_code == 0, upgraded.stderr
    current = run_gradestore("--db", url, "db", "current", cwd=tmp_path)
    assert current.exit_code == 0, current.stderr
    assert f"revision: {db.head_revision()} (latest)" in current.stdout


def test_current_masks_the_password(tmp_path: Path) -> None:
    result = run_cli("--db", "postgresql://reader:s3cret@127.0.0.1:1/grades", "db", "current")
    assert result.exit_code == 69
    assert "s3cret" not in result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert db.masked_url("postgresql+psycopg://reader:s3cret@h/g") == (
        "postgresql+psycopg://reader:***@h/g"
    )


def test_an_out_of_date_schema_is_refused_until_upgraded(db_url: str) -> None:
    assert run_cli("--db", db_url, "db", "downgrade", "0001").exit_code == 0
    refused = run_cli("--db", db_url, "zscore")
    assert refused.exit_code == 78
    assert "gradestore db upgrade" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    upgraded = run_cli("--db", db_url, "db", "upgrade")
    assert upgraded.exit_code == 0
    assert "upgraded from 0001 to" in upgraded.stdout
    assert "no grades are stored yet" in run_cli("--db", db_url, "zscore").stderr


def test_downgrade_to_base_and_upgrade_again(db_url: str) -> None:
    assert run_cli("--db", db_url, "db", "downgrade", "base").exit_code == 0
    assert "none (empty database)" in run_cli("--db", db_url, "db", "current").stdout
    assert run_cli("--db", db_url, "db", "upgrade").exit_code == 0
    assert f"revision: {db.head_revision()}" in run_cli("--db", db_url, "db", "current").stdout


def test_downgrade_to_an_unknown_revision_is_a_usage_error(db_url: str) -> None:
    result = run_cli("--db", db_url, "db", "downgrade", "nonsense")
    assert result.exit_code == 64
    assert "nonsense" in result.stderr


def test_database_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    default = resolve_database()
    assert default.source == "default"
    assert default.url.endswith("/gradestore/gradestore.db")
    assert str(tmp_path / "xdg-data") in default.url  # the user's data directory

    config.write_text('database_url = "sqlite:////srv/from-config.db"\n')
    monkeypatch.setenv("GRADESTORE_CONFIG", str(config))
    assert resolve_database().url == "sqlite:////srv/from-config.db"

    monkeypatch.setenv("GRADESTORE_DATABASE_URL", "postgresql://u@h/env")
    assert resolve_database().url == "postgresql+psycopg://u@h/env"

    assert resolve_database("sqlite:////tmp/cli.db").url == "sqlite:////tmp/cli.db"


def test_a_broken_config_file_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text("database_url = [unterminated\n")
    monkeypatch.setenv("GRADESTORE_CONFIG", str(config))
    result = run_cli("db", "current")
    assert result.exit_code == 78
    assert str(config) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_default_database_is_created_in_the_data_directory(tmp_path: Path) -> None:
    result = run_cli("db", "upgrade")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "xdg-data" / "gradestore" / "gradestore.db").is_file()


def _command_paths() -> list[list[str]]:
    from typer.main import get_command

    from gradestore.cli import app

    root = get_command(app)
    paths: list[list[str]] = []

    def walk(command: object, prefix: list[str]) -> None:
        sub = getattr(command, "commands", None)
        if not sub:
            paths.append(prefix)
            return
        for name, child in sub.items():
            walk(child, [*prefix, name])

    walk(root, [])
    return paths


@pytest.mark.parametrize("path", _command_paths(), ids=" ".join)
def test_every_command_has_help_and_is_in_the_readme(path: list[str]) -> None:
    result = run_cli(*path, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.stdout
    from typer.main import get_command

    from gradestore.cli import app

    command = get_command(app)
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    assert command.help, f"{' '.join(path)} has no help text"
    readme = (REPO_ROOT / "README.md").read_text()
    assert re.search(rf"`gradestore {' '.join(path)}\b", readme) or (
        f"{path[-1]} " in readme and f"`gradestore {path[0]}" in readme
    ), f"{' '.join(path)} is not documented in README.md"
    for option in re.findall(r"(--[a-z-]+)", result.stdout):
        if option not in ("--help", "--install-completion", "--show-completion"):
            assert option in readme, f"{option} of {' '.join(path)} is not in README.md"
