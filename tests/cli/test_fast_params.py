"""gradestore.cli.fast_params: option values converted without pydantic, exactly as Typer
converts them (values, types and error messages), and Typer's own path for everything else."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.core
from typer import _coercion
from typer._click import Context
from typer._click.exceptions import BadParameter
from typer.main import get_command

from gradestore.cli import app, fast_params


def _params() -> list[tuple[Any, Any]]:
    """(command, parameter) for every parameter of every gradestore command."""
    found: list[tuple[Any, Any]] = []

    def walk(command: Any) -> None:
        found.extend((command, param) for param in command.params)
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(get_command(app))
    return found


SAMPLES: list[Any] = [
    "", " ", "x", "abc", "12", "-3", "+4", " 5", "007", "5_0", "1.5", "-0.25", "1e3", ".5",
    "inf", "nan", "-", "good", "GOOD", "work", "bad", "table", "json", "csv", "html", "none",
    "holm", "z", "significant", "S25", "true", "false", "1", "0", "/tmp", "/no/such/file.csv",
    "a.lst", "é", "x\ty", 3, 2.5, True, False, ["a", "b"], ("12", "x"),
]  # fmt: skip


def _outcome(runtime: Any, value: Any, param: Any, ctx: Context) -> tuple[str, Any]:
    try:
        converted = runtime._coerce_value(value, param=param, ctx=ctx)
    except BadParameter as error:
        return ("error", error.format_message())
    return ("value", (type(converted), repr(converted)))


def test_typer_takes_the_fast_builder() -> None:
    # If this fails, a new Typer moved its conversion: gradestore still works (install()
    # leaves Typer alone), but reports import pydantic again; see fast_params' docstring.
    assert typer.core.build_runtime_param is fast_params.build_runtime_param  # type: ignore[attr-defined]
    assert fast_params.install()


@pytest.mark.parametrize(("command", "param"), _params(), ids=lambda p: getattr(p, "name", "?"))
def test_every_option_converts_as_typer_does(command: Any, param: Any, tmp_path: Path) -> None:
    ctx = Context(command)
    ours = fast_params.build_runtime_param(param.type_descriptor)
    typers = _coercion.build_runtime_param(param.type_descriptor)
    existing = tmp_path / "grades.csv"
    existing.write_text("x\n")
    for value in [*SAMPLES, str(existing), str(tmp_path)]:
        assert _outcome(ours, value, param, ctx) == _outcome(typers, value, param, ctx), (
            param.name,
            value,
        )


def test_the_simple_options_need_no_pydantic() -> None:
    """Each kind of option gradestore has is converted here, not by Typer's adapters."""
    kinds = set()
    for _, param in _params():
        if fast_params._converter(param.type_descriptor) is not None:
            kinds.add(param.type_descriptor.annotation)
    names = {getattr(kind, "__name__", str(kind)) for kind in kinds}
    assert {"str", "int", "float", "bool", "Path", "ReportFormat", "ListKind"} <= names, names


def test_a_value_typer_rejects_keeps_typers_message(tmp_path: Path) -> None:
    code = (
        "import sys\nfrom gradestore.cli import app\n"
        "try:\n    app(sys.argv[1:])\nexcept SystemExit as done:\n    code = done.code\n"
        "sys.stderr.write(f'exit={code} pydantic={\"pydantic\" in sys.modules}\\n')\n"
    )
    db = f"sqlite:///{tmp_path / 'none.db'}"
    completed = subprocess.run(
        [sys.executable, "-c", code, "--db", db, "report", "--analysis", "x1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = completed.stderr.splitlines()
    assert lines[-1] == "exit=2 pydantic=True", completed.stderr
    assert (
        "Error: Invalid value for '--analysis': Input should be a valid integer, unable to parse "
        "string as an integer" in lines
    ), completed.stderr
