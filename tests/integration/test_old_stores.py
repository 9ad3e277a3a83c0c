"""Stores made by every released schema (tests/data/old_stores, made by make_old_stores.py) upgrade
to whatever the head revision is, keep every row, and then serve ingest, analyze and report.

SQLite stores are the committed files; PostgreSQL stores are restored from the committed dumps.
The revisions come from the script's REVISIONS: a new revision's store is one line there.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from gradestore.persistence import db
from tests.helpers import REPO_ROOT, load_script, run_cli

OLD_STORES = REPO_ROOT / "tests" / "data" / "old_stores"
MIGRATIONS = REPO_ROOT / "migrations" / "versions"


def _generator() -> ModuleType:
    return load_script(OLD_STORES / "make_old_stores.py")


REVISIONS: list[str] = list(_generator().REVISIONS)


def holds(revision: str, since: str) -> bool:
    """Whether the store of ``revision`` has what revision ``since`` added (ids are numbered)."""
    return revision >= since


def test_there_is_an_old_store_of_every_released_revision() -> None:
    migrations = sorted(path.name[:4] for path in MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))
    assert sorted(set(REVISIONS)) == REVISIONS
    # No gap: every revision up to the newest store has one (a revision newer than every store
    # is one that no release has shipped yet).
    assert [rev for rev in migrations if rev <= REVISIONS[-1]] == REVISIONS
    for suffix in ("db", "sql"):
        stored = sorted(p.stem.removeprefix("store_") for p in OLD_STORES.glob(f"store_*.{suffix}"))
        assert stored == REVISIONS, suffix


def _restore_dump(server_url: str, dump: Path) -> None:
    libpq = make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)
    psql = shutil.which("psql")
    assert psql is not None, "psql (the PostgreSQL client) is needed to restore the old stores"
    subprocess.run(
        [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(dump), libpq],
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.fixture
def old_store(
    request: pytest.FixtureRequest, backend: str, revision: str, tmp_path: Path
) -> tuple[str, str]:
    """(URL, revision) of a copy of the old store of one revision, on each backend."""
    if backend == "sqlite":
        path = tmp_path / f"store_{revision}.db"
        shutil.copyfile(OLD_STORES / path.name, path)
        return f"sqlite:///{path}", revision
    server = request.getfixturevalue("postgres_server")
    url = server.empty_database()
    request.addfinalizer(lambda: server.give_back(url, empty=True))
    _restore_dump(url, OLD_STORES / f"store_{revision}.sql")
    return url, revision


def cli_json(url: str, *args: str) -> dict[str, Any]:
    data = _json_of(url, *args)
    assert isinstance(data, dict)
    return data


def cli_list(url: str, *args: str) -> list[dict[str, Any]]:
    data = _json_of(url, *args)
    assert isinstance(data, list)
    return data


def _json_of(url: str, *args: str) -> object:
    result = run_cli("--db", url, *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("revision", REVISIONS)
def test_an_old_store_upgrades_and_then_serves_ingest_analyze_and_report(
    old_store: tuple[str, str], tmp_path: Path
) -> None:
    url, revision = old_store
    head = db.head_revision()
    masked = db.masked_url(url)
    if revision != head:
        refused = run_cli("--db", url, "report")
        assert refused.exit_code == 78
        assert refused.stderr == (
            f"gradestore: the database schema is out of date ({revision}, latest {head}): "
            "run `gradestore db upgrade`\n"
        )
    upgraded = run_cli("--db", url, "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.stderr
    assert upgraded.stdout == (
        f"{masked}: upgraded from {revision} to {head}\n"
        if revision != head
        else f"{masked}: already at revision {head}\n"
    )

    # Every old row is still there: the student's grade, list entry and earlier .lst entry.
    ann = cli_json(url, "report", "--student", "0001")
    assert ann["grades"] == [
        {"section": "OLD101.01F24", "term": "F24", "grade": "A", "points": 4.0}
    ]
    assert [(e["analysis_id"], e["list"], e["section"]) for e in ann["lists"]] == [
        (1, "good", "OLD101.01F24")
    ]
    assert ann["earlier_lists"] == [{"section": "OLD100.01S24", "grade": "A"}]
    old = cli_json(url, "report", "--analysis", "1")
    assert [(s["section"], s["count"], s["mean_gpa"]) for s in old["sections"]] == [
        ("OLD101.01F24", 2, 2.0)
    ]
    # 0005 stored how an analysis tested and its figures; older analyses read them as null.
    figures = holds(revision, "0005")
    assert (old["method"], old["adjust"], old["tests"], old["expected_false_flags"]) == (
        ("z", "bh", 1, 0.05) if figures else ("z", None, None, None)
    )
    (section,) = old["sections"]
    assert (section["p_adjusted"], section["effect_size"]) == (
        (1.0, 0.0) if figures else (None, None)
    )
    (old_group,) = old["groups"]
    assert old_group["no_test_reason"] == ("only group in the analysis" if figures else None)
    # 0006 stored the store's scale and each analysis'; older ones were made under the default.
    scale = "thirds" if holds(revision, "0006") else "default"
    assert old["scale"]["name"] == scale
    assert cli_json(url, "scale", "show")["name"] == scale
    # 0008 stored the listed students' history by term; older analyses read it as null.
    history = (0, 0, "F24") if holds(revision, "0008") else (None, None, None)
    listed = [
        (s["student_id"], s["earlier_terms_on_work_list"], s["earlier_terms_on_good_list"],
         s["first_term_listed"])
        for s in [*old["good_list"], *old["work_list"]]
    ]  # fmt: skip
    assert listed == [("0001", *history), ("0002", *history)]
    # 0009 stored which file made each membership and run entry; older ones name no file.
    made = 1 if holds(revision, "0009") else 0
    (source,) = cli_list(url, "sources")
    assert (source["path"], source["grades"], source["list_entries"]) == ("old/grades.csv", 2, 1)
    assert (source["memberships"], source["run_groups"]) == (made, made)

    # New grades go in beside the old ones, into the old group.
    new_csv = tmp_path / "new.csv"
    new_csv.write_text(
        "section,student_id,last_name,first_name,grade,group\n"
        "NEW201.01S25,0001,Lee,Ann,B,OLDGROUP\n"
        "NEW201.01S25,0003,Poe,Cy,D,OLDGROUP\n",
        encoding="utf-8",
    )
    ingested = run_cli("--db", url, "ingest", str(new_csv), "--format", "json")
    assert ingested.exit_code == 0, ingested.stderr
    (unit,) = json.loads(ingested.stdout)["units"]
    assert (unit["status"], unit["students_added"], unit["grades_added"]) == ("stored", 1, 2)

    analysis = cli_json(url, "analyze")
    assert analysis["analysis_id"] == 2
    assert analysis["scale"]["name"] == scale  # the store's (thirds: A, B, D, F as the default)
    by_section = {s["section"]: s for s in analysis["sections"]}
    # By hand: OLD101 = A, F -> (4 + 0) / 2; NEW201 = B, D -> (3 + 1) / 2; the group pools all 4.
    assert (by_section["OLD101.01F24"]["count"], by_section["OLD101.01F24"]["mean_gpa"]) == (2, 2.0)
    assert (by_section["NEW201.01S25"]["count"], by_section["NEW201.01S25"]["mean_gpa"]) == (2, 2.0)
    (group,) = analysis["groups"]
    assert (group["group"], group["count"], group["mean_gpa"]) == ("OLDGROUP", 4, 2.0)
    assert group["sections"] == ["NEW201.01S25", "OLD101.01F24"]
    work = {(s["student_id"], e["section"]) for s in analysis["work_list"] for e in s["entries"]}
    assert work == {("0002", "OLD101.01F24"), ("0003", "NEW201.01S25")}
    (good,) = analysis["good_list"]
    assert (good["student_id"], good["appeared_before"]) == ("0001", True)

    latest = cli_json(url, "report")
    assert latest == analysis
