"""The stored lists and their history by term, at scale, on each backend, against the same
values computed here in plain Python from the grades that were ingested (docs/history.md's
rules written out again, not gradestore's SQL): every row of `performances` of an analysis of
everything, of one term and of some groups.

The data is the benchmark's generator with its terms spread (an earlier spelling of a term, an
unrecognised term) and a .lst file of earlier list appearances, so that every branch of the
rules is taken: grades outside the analysis, earlier terms, terms that take no part.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import Engine, text

from gradestore.analysis import Scope, run_analysis
from gradestore.ingest import IngestOptions, ingest_paths
from gradestore.kinds import ScopeKind
from gradestore.persistence.db import Database
from gradestore.terms import term_key
from tests.expected import GOOD, WORK
from tests.helpers import REPO_ROOT, load_script

GRADES = 6000
StoredRow = tuple[str, str, str, str, bool, int, int, str | None]


def _generator() -> ModuleType:
    return load_script(REPO_ROOT / "bench" / "generate.py")


def _spread_terms(source: Path, target: Path) -> list[dict[str, str]]:
    """The generated rows, one section in five in an unrecognised term and one in five in
    FA2020 (before every generated term)."""
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    sections = sorted({row["section"] for row in rows})
    number = {name: position for position, name in enumerate(sections)}
    for row in rows:
        spread = number[row["section"]] % 5
        row["term"] = {0: "Block 3", 1: "FA2020"}.get(spread, row["term"])
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows


def _list_file(rows: list[dict[str, str]], target: Path) -> dict[str, set[str]]:
    """A .lst naming every eleventh student: an entry in a section no longer stored and, for
    every other one of them, one in a stored section. Returns student id -> sections."""
    students = sorted({(r["student_id"], r["last_name"], r["first_name"]) for r in rows})
    stored = sorted({row["section"] for row in rows})
    listed: dict[str, set[str]] = {}
    lines = []
    for position, (student_id, last, first) in enumerate(students[::11]):
        sections = ["OLD.01F19"] + ([stored[position % len(stored)]] if position % 2 else [])
        listed[student_id] = set(sections)
        lines.append(f'"{student_id}","{last}, {first}", {len(sections)}\n')
        lines.extend(f'"{section}","F"\n' for section in sections)
    target.write_text("".join(lines), encoding="utf-8")
    return listed


def _expected(
    rows: list[dict[str, str]], scope: set[str], listed: dict[str, set[str]]
) -> list[StoredRow]:
    """Every list row of an analysis of the sections ``scope``, by docs/history.md."""
    labels: dict[int, set[str]] = defaultdict(set)
    for row in rows:
        order = term_key(row["term"])
        if order is not None:
            labels[order].add(row["term"])
    qualifying = [row for row in rows if row["grade"] in GOOD | WORK]
    terms: dict[tuple[str, int], set[str]] = defaultdict(set)  # (student, term) -> lists
    elsewhere: set[str] = set()
    for row in qualifying:
        order = term_key(row["term"])
        if order is not None:
            terms[row["student_id"], order].add("good" if row["grade"] in GOOD else "bad")
        if row["section"] not in scope:
            elsewhere.add(row["student_id"])
    elsewhere |= {student for student, names in listed.items() if names - scope}
    entries = [row for row in qualifying if row["section"] in scope]
    latest: dict[tuple[str, str], int] = {}
    for row in entries:
        key = (row["student_id"], "good" if row["grade"] in GOOD else "bad")
        order = term_key(row["term"])
        if order is not None:
            latest[key] = max(latest.get(key, order), order)
    expected = []
    for row in entries:
        student, category = row["student_id"], "good" if row["grade"] in GOOD else "bad"
        last = latest.get((student, category))
        before = [] if last is None else [t for (s, t) in terms if s == student and t < last]
        mine = [] if last is None else [t for (s, t) in terms if s == student and t <= last]
        first = min((t for t in mine if category in terms[student, t]), default=None)
        expected.append(
            (
                row["section"],
                student,
                row["grade"],
                category,
                student in elsewhere or bool(before),
                sum("bad" in terms[student, t] for t in before),
                sum("good" in terms[student, t] for t in before),
                None if first is None else min(labels[first]),
            )
        )
    return sorted(expected)


def _stored(engine: Engine, analysis_id: int) -> list[StoredRow]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT sec.name, st.student_id, p.grade, p.category, p.appeared_before,"
                " p.earlier_terms_on_work_list, p.earlier_terms_on_good_list,"
                " p.first_term_listed FROM performances p"
                " JOIN sections sec ON sec.id = p.section_id"
                " JOIN students st ON st.id = p.student_id WHERE p.analysis_id = :analysis"
            ),
            {"analysis": analysis_id},
        )
        return sorted((a, b, c, d, bool(e), f, g, h) for a, b, c, d, e, f, g, h in rows)


@pytest.fixture
def generated(engine: Engine, tmp_path: Path) -> tuple[Database, list[dict[str, str]], dict]:
    source = tmp_path / "generated.csv"
    _generator().generate(GRADES, source, seed=13)
    rows = _spread_terms(source, tmp_path / "spread.csv")
    listed = _list_file(rows, tmp_path / "earlier.lst")
    units = Database(engine)
    report = ingest_paths(
        units, [tmp_path / "spread.csv", tmp_path / "earlier.lst"], IngestOptions()
    )
    assert report.ok, [(unit.path, unit.errors) for unit in report.units]
    return units, rows, listed


def test_lists_and_history_match_an_independent_computation(
    engine: Engine, generated: tuple[Database, list[dict[str, str]], dict[str, set[str]]]
) -> None:
    units, rows, listed = generated
    every_section = {row["section"] for row in rows}
    in_s22 = {row["section"] for row in rows if term_key(row["term"]) == term_key("S22")}
    groups = sorted({row["group"] for row in rows})[::7]
    in_groups = {row["section"] for row in rows if row["group"] in groups}
    scopes = [
        (Scope(ScopeKind.ALL), every_section),
        (Scope(ScopeKind.ALL, terms=("S22",)), in_s22),
        (Scope(ScopeKind.GROUPS, tuple(groups)), in_groups),
    ]
    every_row: list[StoredRow] = []
    for scope, sections in scopes:
        analysis_id = run_analysis(units, scope=scope).analysis_id
        stored = _stored(engine, analysis_id)
        assert stored == _expected(rows, sections, listed), scope
        every_row += stored
    # Every branch of the rules was taken: appeared before or not, earlier terms on each
    # list, no first term (entries only in an unrecognised term).
    assert {row[4] for row in every_row} == {True, False}
    assert any(row[5] for row in every_row) and any(row[6] for row in every_row)
    assert any(row[7] is None for row in every_row)
