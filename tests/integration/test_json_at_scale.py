"""The JSON of an analysis at scale, on each backend: the fast writer (lists read through the
driver's cursor, each student written as text, blocks of items per write) against the generic
path (every item's as_json() through the encoder) and against the data it came from.

The data is the benchmark's generator (thousands of students, every list of any length), and
names with quotes, backslashes and non-ASCII added, so that escaping is exercised at scale.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from types import ModuleType

from sqlalchemy import Engine, event, text

from gradestore import reports
from gradestore.analysis import run_analysis
from gradestore.ingest import IngestOptions, ingest_paths
from gradestore.kinds import ListKind
from gradestore.persistence.db import Database
from gradestore.render import write_analysis_json, write_json_document, write_list_json
from tests.expected import GOOD, WORK
from tests.helpers import REPO_ROOT, load_script

GRADES = 6000


def _generator() -> ModuleType:
    return load_script(REPO_ROOT / "bench" / "generate.py")


def _hostile_copy(source: Path, target: Path) -> list[dict[str, str]]:
    """The generated rows, every seventh student's names made hostile."""
    with source.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    names = ['O"Brien', "Back\\slash", "Ünï 中文", "Emoji 😀", "</script>"]
    for row in rows:
        number = int(row["student_id"]) % 7
        if number < len(names):
            row["first_name"] = f"{names[number]} {row['first_name']}"
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows


def _generic_document(units: Database, analysis_id: int) -> str:
    """The document as the generic path writes it: every item's as_json() to the encoder."""
    result = reports.analysis_report(units, analysis_id)
    out = io.StringIO()
    write_json_document(
        out,
        result.heading_json(),
        [
            ("sections", [test.as_json() for test in result.sections]),
            ("groups", [test.as_json() for test in result.groups]),
            ("good_list", [student.as_json() for student in result.good_list or []]),
            ("work_list", [student.as_json() for student in result.work_list or []]),
        ],
    )
    return out.getvalue()


def test_analysis_json_at_scale_is_the_generic_documents_bytes(
    engine: Engine, tmp_path: Path
) -> None:
    generated = tmp_path / "generated.csv"
    _generator().generate(GRADES, generated, seed=11)
    path = tmp_path / "grades.csv"
    rows = _hostile_copy(generated, path)
    first_names = {row.get("student_id"): row.get("first_name") for row in rows}
    assert any('"' in name for name in first_names.values() if name)
    units = Database(engine)
    assert ingest_paths(units, [path], IngestOptions()).ok
    analysis_id = run_analysis(units).analysis_id

    documents = []
    for streamed_tests in (False, True):  # the section tests held, or streamed as written
        with reports.open_analysis(units, analysis_id, streamed_tests=streamed_tests) as result:
            out = io.StringIO()
            write_analysis_json(result, out)
        documents.append(out.getvalue())
    text = documents[0]
    assert documents == [_generic_document(units, analysis_id)] * 2
    document = json.loads(text)

    # The lists against the data: each student with a good (work) letter, each of their
    # entries on that list, in list order (last name, first name, id; then section).
    expected: dict[str, dict[str, list[tuple[str, str]]]] = {"good": {}, "work": {}}
    for row in rows:
        kind = "good" if row["grade"] in GOOD else "work" if row["grade"] in WORK else None
        if kind is not None:
            expected[kind].setdefault(row["student_id"], []).append((row["section"], row["grade"]))
    for kind in ("good", "work"):
        listed = document[f"{kind}_list"]
        assert len(listed) > 300
        got = {
            student["student_id"]: [(e["section"], e["grade"]) for e in student["entries"]]
            for student in listed
        }
        assert got == {sid: sorted(entries) for sid, entries in expected[kind].items()}
        for student in listed:
            assert student["first_name"] == first_names[student["student_id"]]
        keys = [(s["last_name"], s["first_name"], s["student_id"]) for s in listed]
        assert keys == sorted(keys)


def test_list_json_at_scale_is_the_generic_documents_bytes(engine: Engine, tmp_path: Path) -> None:
    generated = tmp_path / "generated.csv"
    _generator().generate(GRADES, generated, seed=12)
    units = Database(engine)
    assert ingest_paths(units, [generated], IngestOptions()).ok
    run_analysis(units)
    for kind in (ListKind.GOOD, ListKind.WORK):
        out = io.StringIO()
        with reports.open_list(units, kind) as report:
            write_list_json(report, out)
        with reports.open_list(units, kind) as report:
            students = list(report.students)
        items = []
        for student in students:
            item = student.as_json()
            if kind is ListKind.WORK:
                item["terms_on_work_list"] = student.terms_on_work_list
            items.append(item)
        generic = io.StringIO()
        write_json_document(
            generic, {"analysis_id": report.analysis_id, "list": kind}, [("students", items)]
        )
        assert out.getvalue() == generic.getvalue()
        assert len(json.loads(out.getvalue())["students"]) == len(students) > 300


# Section and group names that need escaping, and grade counts stored in forms other than
# the encoder's (spacing, key order, escaped keys): the JSON writes them as before.
HOSTILE_NAMES = [
    'Q"1',
    "B\\2",
    "T\t3",
    "N\n4",
    "C\x01\x1f5",
    "Ü中😀6",
    "\u2028\u20297",
    "</script>8",
]
OTHER_COUNTS = ['{"A":3,"B":1}', '{"B": 1, "A": 3}', '{"\\u00e9": 2, "A": 1}', '{ "A" : 1 }']


def test_analysis_json_of_hostile_stored_values_is_the_generic_documents_bytes(
    engine: Engine, tmp_path: Path
) -> None:
    generated = tmp_path / "generated.csv"
    _generator().generate(1500, generated, seed=13)
    units = Database(engine)
    assert ingest_paths(units, [generated], IngestOptions()).ok
    analysis_id = run_analysis(units).analysis_id
    with engine.begin() as connection:
        sections = connection.execute(text("SELECT id FROM sections ORDER BY id")).scalars()
        section_ids = list(sections)
        groups = list(connection.execute(text("SELECT id FROM groups ORDER BY id")).scalars())
        for number, name in enumerate(HOSTILE_NAMES):
            connection.execute(
                text("UPDATE sections SET name = :name WHERE id = :id"),
                {"name": name, "id": section_ids[number]},
            )
            connection.execute(
                text("UPDATE groups SET name = :name WHERE id = :id"),
                {"name": "g" + name, "id": groups[number]},
            )
        for number, counts in enumerate(OTHER_COUNTS):
            connection.execute(
                text(
                    "UPDATE analysis_sections SET grade_counts = :counts"
                    " WHERE analysis_id = :analysis AND section_id = :id"
                ),
                {"counts": counts, "analysis": analysis_id, "id": section_ids[-1 - number]},
            )
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731 (conn, cursor, statement, ...)
    event.listen(engine, "before_cursor_execute", listener)
    with reports.open_analysis(units, analysis_id, streamed_tests=True) as result:
        out = io.StringIO()
        write_analysis_json(result, out)
    event.remove(engine, "before_cursor_execute", listener)
    # The lists in full: their sizes, which the document does not show, are not counted.
    assert statements and not [sql for sql in statements if "COUNT(DISTINCT" in sql]
    assert out.getvalue() == _generic_document(units, analysis_id)
    document = json.loads(out.getvalue())
    with reports.open_analysis(units, analysis_id, streamed_tests=True) as result:
        assert result.good_list_size == len(document["good_list"]) > 0  # read when asked
        assert result.work_list_size == len(document["work_list"]) > 0
    names = {test["section"] for test in document["sections"]}
    assert names >= set(HOSTILE_NAMES)
    stored = {
        json.dumps(test["grade_counts"], separators=(",", ":"), ensure_ascii=False)
        for test in document["sections"]
    }
    assert '{"A":3,"B":1}' in stored and '{"B":1,"A":3}' in stored and '{"é":2,"A":1}' in stored
