"""Helpers shared by the tests (fixtures live alone in conftest.py)."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import Engine, text

from gradestore.config import normalize_url
from gradestore.persistence import db

POSTGRES_ENV = "GRADESTORE_TEST_POSTGRES_URL"
REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_LEGACY = REPO_ROOT.parent / "shared" / "legacy_data" / "penz6__Comp330"
IN_CI = os.environ.get("CI", "").lower() == "true"


def load_script(path: Path, name: str | None = None) -> ModuleType:
    """A script that is not in a package (bench/, tests/data/old_stores/) as a module."""
    spec = importlib.util.spec_from_file_location(name or path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def postgres_server_url() -> str | None:
    url = os.environ.get(POSTGRES_ENV)
    return normalize_url(url) if url else None


def table_counts(engine: Engine) -> dict[str, int]:
    """Row counts of every table, to prove a rejected command changed nothing."""
    from gradestore.persistence.models import Base

    with db.connect(engine, write=False) as connection:
        return {
            name: connection.execute(text(f'SELECT COUNT(*) FROM "{name}"')).scalar_one()
            for name in Base.metadata.tables
        }


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(
    *args: str, input: str | None = None, env: dict[str, str | None] | None = None
) -> CliResult:
    """Run the command line in-process, as `gradestore ARGS...` would, its output piped
    (``env``: variables set, or removed when None, while it runs)."""
    from typer.testing import CliRunner

    from gradestore.cli import app

    result = CliRunner().invoke(app, list(args), input=input, env=env, catch_exceptions=False)
    return CliResult(result.exit_code, result.stdout, result.stderr)


def run_gradestore(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> CliResult:
    """Run the installed program in a real process (what a shell or cron job sees)."""
    import subprocess
    import sys

    completed = subprocess.run(
        [sys.executable, "-m", "gradestore", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=300,
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


# The readers take the store's grade scale; reader tests read under the contract's (default).


def read_grade_csv(path: Path, *args: Any, **kwargs: Any) -> Any:
    from gradestore import readers
    from gradestore.grades import DEFAULT_SCALE

    return readers.read_grade_csv(path, *args, scale=DEFAULT_SCALE, **kwargs)


def read_section_file(path: Path, *args: Any, **kwargs: Any) -> Any:
    from gradestore import readers
    from gradestore.grades import DEFAULT_SCALE

    return readers.read_section_file(path, *args, scale=DEFAULT_SCALE, **kwargs)


def read_list_file(path: Path, *args: Any, **kwargs: Any) -> Any:
    from gradestore import readers
    from gradestore.grades import DEFAULT_SCALE

    return readers.read_list_file(path, *args, scale=DEFAULT_SCALE, **kwargs)
