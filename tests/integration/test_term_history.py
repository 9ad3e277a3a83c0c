"""History by term (issue 14), on SQLite and PostgreSQL: appeared_before by an earlier term
(and not by the same or a later one), the earlier_terms_* counts, first_term_listed, under the
store's grade scale. Every expected value is worked out by hand in the comments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from gradestore.analysis import Scope, run_analysis
from gradestore.ingest import IngestOptions, ingest_paths
from gradestore.kinds import ListKind, ScopeKind
from gradestore.persistence.db import Database
from gradestore.reports import analysis_report, open_list
from gradestore.scales import set_store_scale

HEADER = "section,student_id,last_name,first_name,grade,group,term\n"


def write(path: Path, content: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    return path


def ingest(units: Database, path: Path) -> None:
    report = ingest_paths(units, [path], IngestOptions())
    assert report.ok, [(unit.path, unit.errors) for unit in report.units]


def lists(units: Database, scope: Scope | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    """{'good_list'|'work_list': {student id: its JSON}} of a new analysis."""
    summary = run_analysis(units, scope=scope or Scope(ScopeKind.ALL))
    result = analysis_report(units, summary.analysis_id).as_json()
    return {
        which: {student["student_id"]: student for student in result[which]}
        for which in ("good_list", "work_list")
    }


def history(student: dict[str, Any]) -> tuple[bool, int, int, str | None]:
    return (
        student["appeared_before"],
        student["earlier_terms_on_work_list"],
        student["earlier_terms_on_good_list"],
        student["first_term_listed"],
    )


# Every section is in group G. Terms in order: W25 < S25 (also written Spring 2025) < F25.
ROWS = [
    # 1 Ames: work list in S25 and F25 -> in F25, one earlier term on the work list.
    ("G.01S25", "1", "Ames", "Al", "F", "S25"),
    ("G.01F25", "1", "Ames", "Al", "D", "F25"),
    # 2 Bell: two work-list grades in the same term only -> nothing earlier.
    ("G.01F25", "2", "Bell", "Bo", "D", "F25"),
    ("G.02F25", "2", "Bell", "Bo", "F", "F25"),
    # 3 Cole: work list in F25, good list later in W26 -> on the work list, nothing earlier;
    # on the good list (W26), the F25 D is an earlier qualifying grade.
    ("G.02F25", "3", "Cole", "Cy", "D-", "F25"),
    ("G.01W26", "3", "Cole", "Cy", "A", "W26"),
    # 4 Dunn: good list in W25 and S25, work list in F25 -> earlier good terms 2, work 0.
    ("G.01W25", "4", "Dunn", "Di", "A", "W25"),
    ("G.01S25", "4", "Dunn", "Di", "A-", "S25"),
    ("G.01F25", "4", "Dunn", "Di", "F", "F25"),
    # 5 Eng: work grades in S25 and in 'Spring 2025' (one term) and F25 -> one earlier term.
    ("G.01S25", "5", "Eng", "Ed", "D", "S25"),
    ("G.03S25", "5", "Eng", "Ed", "D+", "Spring 2025"),
    ("G.02F25", "5", "Eng", "Ed", "F", "F25"),
    # 6 Ford: a B (not qualifying) in S25, then an F in F25 -> nothing earlier.
    ("G.01S25", "6", "Ford", "Fi", "B", "S25"),
    ("G.01F25", "6", "Ford", "Fi", "F", "F25"),
    # 7 Gray: an F in an unrecognised term after an earlier D -> no place in time, no history.
    ("G.01S25", "7", "Gray", "Gil", "D", "S25"),
    ("G.01XX", "7", "Gray", "Gil", "F", "Block 3"),
    # Fillers so that the sections have spread.
    ("G.01F25", "8", "Hart", "Hu", "B", "F25"),
    ("G.02F25", "9", "Ives", "Ian", "C", "F25"),
]


@pytest.fixture
def store(engine: Engine, tmp_path: Path) -> Database:
    units = Database(engine)
    body = "".join(f"{s},{i},{last},{first},{g},G,{t}\n" for s, i, last, first, g, t in ROWS)
    ingest(units, write(tmp_path / "terms.csv", HEADER + body))
    return units


def test_history_of_two_terms_analysed_together(store: Database) -> None:
    """Everything in one analysis: no grade is outside it, so only terms give history."""
    listed = lists(store)
    work, good = listed["work_list"], listed["good_list"]
    # Ames: F in S25 earlier than the F25 entry -> yes, 1 earlier work term, first S25.
    assert history(work["1"]) == (True, 1, 0, "S25")
    # Bell: both in F25 -> no.
    assert history(work["2"]) == (False, 0, 0, "F25")
    # Cole on the work list: the A is later (W26) -> no.
    assert history(work["3"]) == (False, 0, 0, "F25")
    # Cole on the good list: latest good term W26; the F25 D- is earlier -> yes.
    assert history(good["3"]) == (True, 1, 0, "W26")
    # Dunn on the work list: A in W25 and A- in S25 are earlier qualifying grades -> yes;
    # two earlier good terms, no earlier work term; first on the work list in F25.
    assert history(work["4"]) == (True, 0, 2, "F25")
    # Dunn on the good list: latest good term S25; the W25 A is earlier -> yes, 1 good term.
    assert history(good["4"]) == (True, 0, 1, "W25")
    # Eng: S25 and Spring 2025 are one term -> 1, first S25 (as written, the first label).
    assert history(work["5"]) == (True, 1, 0, "S25")
    # Ford: the earlier B does not qualify -> no.
    assert history(work["6"]) == (False, 0, 0, "F25")
    # Gray: her latest work entry's term is S25 (Block 3 has no place) -> nothing earlier.
    assert history(work["7"]) == (False, 0, 0, "S25")


def test_history_of_the_end_of_term_job(store: Database) -> None:
    """`analyze --term F25`: earlier terms are outside the analysis, so design.md's rule gives
    appeared_before too; the counts are the same as when analysed together."""
    work = lists(store, Scope(ScopeKind.ALL, terms=("F25",)))["work_list"]
    assert history(work["1"]) == (True, 1, 0, "S25")
    assert history(work["2"]) == (False, 0, 0, "F25")
    # Cole: the W26 A is outside the analysis' sections -> design.md's rule says yes, though
    # it is later: no earlier term on either list.
    assert history(work["3"]) == (True, 0, 0, "F25")
    assert history(work["4"]) == (True, 0, 2, "F25")
    assert history(work["5"]) == (True, 1, 0, "S25")
    assert history(work["6"]) == (False, 0, 0, "F25")
    assert "7" not in work  # Gray has no F25 grade


def test_unrecognised_terms_take_no_part(store: Database) -> None:
    work = lists(store, Scope(ScopeKind.ALL, terms=("Block 3",)))["work_list"]
    # Gray's F in 'Block 3': no place in time, so no earlier term and no first term; her S25 D
    # is outside the analysis, which design.md's rule counts.
    assert history(work["7"]) == (True, 0, 0, None)


def test_the_work_list_report_puts_repeat_students_first(store: Database) -> None:
    with open_list(store, ListKind.WORK, run_analysis(store).analysis_id) as report:
        students = [(s.student_id, s.terms_on_work_list) for s in report.students]
    # Ames and Eng were on the work list in an earlier term (risk 2), by name; then the rest
    # by name.
    assert students == [
        ("1", 2), ("5", 2), ("2", 1), ("3", 1), ("4", 1), ("6", 1), ("7", 1),
    ]  # fmt: skip
    with open_list(store, ListKind.GOOD) as report:
        assert [s.student_id for s in report.students] == ["3", "4"]  # by name only


SCALE_WITH_U = (
    'name = "su"\n'
    'not_counted = ["I", "W", "P", "NP", "S", "U"]\n'
    'good = ["A+", "A", "A-"]\n'
    'work = ["D+", "D", "D-", "F", "U"]\n'
    "[points]\n"
    '"A+" = 4.0\n"A" = 4.0\n"A-" = 3.7\n"B+" = 3.3\n"B" = 3.0\n"B-" = 2.7\n"C+" = 2.3\n'
    '"C" = 2.0\n"C-" = 1.7\n"D+" = 1.3\n"D" = 1.0\n"D-" = 0.7\n"F" = 0.0\n'
)


def test_the_lists_letters_are_the_store_scales(engine: Engine, tmp_path: Path) -> None:
    """Under a scale whose work list holds U (not counted), an earlier U is an earlier term on
    the work list; under the default scale U is no grade at all."""
    units = Database(engine)
    set_store_scale(units, str(write(tmp_path / "su.toml", SCALE_WITH_U)))
    ingest(
        units,
        write(
            tmp_path / "u.csv",
            HEADER
            + "P.01S25,1,Ames,Al,U,P,S25\n"
            + "P.01F25,1,Ames,Al,F,P,F25\n"
            + "P.01F25,2,Bell,Bo,B,P,F25\n",
        ),
    )
    work = lists(units)["work_list"]
    assert history(work["1"]) == (True, 1, 0, "S25")
    assert work["1"]["entries"] == [
        {"section": "P.01F25", "grade": "F"},
        {"section": "P.01S25", "grade": "U"},
    ]
