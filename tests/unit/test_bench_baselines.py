"""The benchmark's hand-written baselines compute what gradestore computes (else a ratio lies).

Baseline (f) is checked against numpy and scipy over the generated CSV itself, read here with
the csv module: no gradestore code and no code of the baseline is trusted for the expected side.
"""

from __future__ import annotations

import csv
import importlib.util
import sqlite3
from collections import defaultdict
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
import pytest
from scipy import stats

from tests.expected import POINTS
from tests.helpers import REPO_ROOT, load_script

if TYPE_CHECKING:
    from tests.conftest import PostgresServer


def _bench_module(name: str) -> ModuleType:
    return load_script(REPO_ROOT / "bench" / f"{name}.py")


baselines = _bench_module("baselines")
generate = _bench_module("generate")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("baselines")
    data, store = folder / "grades.csv", folder / "a0.db"
    generate.generate(3000, data, seed=3)
    assert baselines.sqlite_minimal(str(data), str(store)) == 3000
    return data, store


def test_a0_stores_every_row_in_the_minimal_schema(loaded: tuple[Path, Path]) -> None:
    data, store = loaded
    with data.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    with sqlite3.connect(store) as connection:
        stored = set(
            connection.execute(
                "SELECT s.name, st.student_id, e.grade FROM enrollments e"
                " JOIN sections s ON s.id = e.section_id JOIN students st ON st.id = e.student_id"
            )
        )
        memberships = connection.execute("SELECT COUNT(*) FROM section_groups").fetchone()[0]
    assert stored == {(r["section"], r["student_id"], r["grade"]) for r in rows}
    assert memberships == len({(r["section"], r["group"]) for r in rows})


def test_f_matches_numpy_and_scipy_over_the_file(loaded: tuple[Path, Path]) -> None:
    data, store = loaded
    points: dict[str, list[float]] = defaultdict(list)
    sections_of: dict[str, set[str]] = defaultdict(set)
    with data.open(newline="") as handle:
        for row in csv.DictReader(handle):
            sections_of[row["group"]].add(row["section"])
            if row["grade"] in POINTS:
                points[row["section"]].append(POINTS[row["grade"]])
    everything = np.concatenate([points[s] for s in {s for v in sections_of.values() for s in v}])

    section_tests, group_tests = baselines.groupby_statistics(str(store))

    assert set(section_tests) == {(s, g) for g, names in sections_of.items() for s in names}
    for (section, group), (z, p) in section_tests.items():
        pool = np.concatenate([points[s] for s in sections_of[group]])
        mine = np.array(points[section])
        expected_z = (mine.mean() - pool.mean()) / (pool.std() / np.sqrt(len(mine)))
        assert z == pytest.approx(expected_z, rel=1e-9)
        assert p == pytest.approx(2 * stats.norm.sf(abs(expected_z)), rel=1e-6)
    for group, (count, mean, (z, _)) in group_tests.items():
        pool = np.concatenate([points[s] for s in sections_of[group]])
        assert count == len(pool)
        assert mean == pytest.approx(pool.mean())
        expected_z = (pool.mean() - everything.mean()) / (everything.std() / np.sqrt(len(pool)))
        assert z == pytest.approx(expected_z, rel=1e-9)


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_c0_and_c1_load_every_row_and_end_with_every_key(
    backend: str, postgres_server: PostgresServer, tmp_path: Path
) -> None:
    import psycopg

    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    generate.generate(2000, first, seed=3)
    generate.generate(1500, second, seed=3, prefix="X_")
    keys_after, keys_before = postgres_server.empty_database(), postgres_server.empty_database()
    assert baselines.pg_copy_keys_after(str(first), keys_after) == 2000
    assert baselines.pg_copy_keys_before(str(first), keys_before) == 2000
    assert baselines.pg_copy_keys_before(str(second), keys_before) == 1500
    for url, grades in ((keys_after, 2000), (keys_before, 3500)):
        with psycopg.connect(baselines._pg_conninfo(url)) as connection:
            kinds = connection.execute(
                "SELECT conrelid::regclass::text, contype, count(*) FROM pg_constraint"
                " WHERE connamespace = 'public'::regnamespace GROUP BY 1, 2"
            ).fetchall()
            stored = connection.execute("SELECT count(*) FROM enrollments").fetchone()
        assert stored == (grades,)
        assert {(table, kind): n for table, kind, n in kinds} == {
            ("students", "p"): 1, ("students", "u"): 1, ("sections", "p"): 1,
            ("sections", "u"): 1, ("groups", "p"): 1, ("groups", "u"): 1,
            ("section_groups", "p"): 1, ("enrollments", "p"): 1, ("enrollments", "u"): 1,
            ("enrollments", "f"): 2,
        }  # fmt: skip


def test_the_benchmark_byte_compiles_the_gradestore_it_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under PYTHONDONTWRITEBYTECODE no timed process writes bytecode, so each would compile
    gradestore again: the benchmark compiles the package that runs before it times."""
    import shutil
    import sys

    spec = importlib.util.spec_from_file_location("bench_run", REPO_ROOT / "bench" / "run.py")
    assert spec is not None and spec.loader is not None
    run = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_run", run)  # its dataclasses look themselves up
    spec.loader.exec_module(run)
    copy = tmp_path / "gradestore"
    shutil.copytree(REPO_ROOT / "gradestore", copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m == "gradestore" or m.startswith("gradestore.")]:
        monkeypatch.delitem(sys.modules, name)
    run._compile_gradestore()
    assert (copy / "__pycache__").is_dir()
    assert (copy / "persistence" / "__pycache__").is_dir()
