"""The plain-CSV fast path (readers.plain_csv) stores what the careful reader stores.

Every test ingests the same file twice, into two new stores of the same backend: once with the
fast path (taken for any file size, blocks of a few KiB so that a file has many), once with it
off. The two stores must hold the same rows in every table (provenance included, the time of
ingest aside) and the two reports the same counts and the same messages, word for word. Each
test also says which path the file took: a file that the fast path gives up on, in a late
block, is read again by the careful reader, and nothing of the first attempt may remain.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, text

import gradestore.ingest_staged as ingest_module
import gradestore.readers.plain_csv as plain_csv
from gradestore.ingest import IngestOptions, IngestReport, ingest_paths
from gradestore.persistence import db
from gradestore.persistence.db import Database
from tests.conftest import PostgresServer

HEADER = "section,student_id,last_name,first_name,grade,group,credit_hours,term\n"
LETTERS = ["A", "A-", "B+", "B", "B-", "C+", "C", "D", "F", "W", "I"]
ROWS = 3000
# The time a file was ingested differs between the two stores; every other value must not.
VOLATILE_COLUMNS = {"ingested_at"}


def plain_rows(count: int = ROWS, seed: int = 16) -> list[str]:
    """Data lines of a plain file: sections of 20-40 students, about 6 grades a student."""
    rng = random.Random(seed)
    students = [f"{n:07d}" for n in range(count // 6)]
    names = {sid: (f"Last{rng.randrange(900)}", f"First{rng.randrange(300)}") for sid in students}
    lines: list[str] = []
    section = 0
    while len(lines) < count:
        section += 1
        name, term = f"CS{section:04d}.01", f"F{20 + section % 5}"
        for sid in rng.sample(students, rng.randrange(20, 41)):
            last, first = names[sid]
            grade = rng.choice(LETTERS)
            lines.append(f"{name},{sid},{last},{first},{grade},G{section // 4},3,{term}\n")
    return lines[:count]


def write(path: Path, lines: list[str], header: str = HEADER) -> Path:
    path.write_text(header + "".join(lines), encoding="utf-8")
    return path


@dataclass
class Outcome:
    report: IngestReport
    tables: dict[str, list[tuple[Any, ...]]]
    careful_reads: int
    staged_plain_reads: int  # the fast reader into staging (the direct load gave up)


class Stores:
    """New stores of one backend, and ingest into them with the fast path on or off."""

    def __init__(self, new_url: Callable[[], str], monkeypatch: pytest.MonkeyPatch) -> None:
        self.new_url = new_url
        self.monkeypatch = monkeypatch
        self.careful_reads = self.staged_plain_reads = 0
        careful, staged = ingest_module.read_grade_csv, ingest_module.read_plain_csv

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.careful_reads += 1
            return careful(*args, **kwargs)

        def counted_plain(*args: Any, **kwargs: Any) -> Any:
            self.staged_plain_reads += 1
            return staged(*args, **kwargs)

        monkeypatch.setattr(ingest_module, "read_grade_csv", counted)
        monkeypatch.setattr(ingest_module, "read_plain_csv", counted_plain)
        monkeypatch.setattr(plain_csv, "BLOCK_BYTES", 8 << 10)  # many blocks per file

    def ingest(self, fast: bool, *files: Path, url: str | None = None, **options: Any) -> Outcome:
        self.monkeypatch.setattr(plain_csv, "MIN_FILE_BYTES", 0 if fast else 1 << 62)
        self.careful_reads = self.staged_plain_reads = 0
        engine = db.open_database(url or self.new_url())
        try:
            report = ingest_paths(Database(engine), list(files), IngestOptions(**options))
            return Outcome(report, dump(engine), self.careful_reads, self.staged_plain_reads)
        finally:
            engine.dispose()

    def both(self, *files: Path, before: tuple[Path, ...] = (), **options: Any) -> Outcome:
        """Ingest ``files`` (after ``before``, careful, in each store) both ways; assert the
        same outcome; return the fast one."""
        outcomes = []
        for fast in (True, False):
            url = self.new_url()
            for earlier in before:
                self.ingest(False, earlier, url=url)
            outcomes.append(self.ingest(fast, *files, url=url, **options))
        fast_run, careful_run = outcomes
        assert fast_run.report.as_json() == careful_run.report.as_json()
        assert fast_run.tables == careful_run.tables
        return fast_run


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted.

    On SQLite the ids are kept: both stores insert in one order. PostgreSQL's sequences do not
    roll back with a savepoint, so after a direct load that gave up the ids have a gap there:
    an ``id`` is left out and a foreign key shown as the row it points to.
    """
    inspector = inspect(engine)
    keep_ids = engine.dialect.name == "sqlite"
    raw: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as connection:
        for table in inspector.get_table_names():
            columns = [c["name"] for c in inspector.get_columns(table)]
            result = connection.execute(text(f"SELECT {', '.join(columns)} FROM {table}"))
            raw[table] = [
                {k: v for k, v in row._mapping.items() if k not in VOLATILE_COLUMNS}
                for row in result
            ]

    def plain(row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(v for k, v in row.items() if keep_ids or k != "id")

    if not keep_ids:  # provenance first, so that a row another one points to shows its file
        files = {row["id"]: plain(row) for row in raw.get("source_files", [])}
        for rows in raw.values():
            for row in rows:
                if row.get("source_file_id") is not None:
                    row["source_file_id"] = files.get(row["source_file_id"], row["source_file_id"])
    by_id = {
        table: {row["id"]: plain(row) for row in rows if "id" in row} for table, rows in raw.items()
    }
    tables: dict[str, list[tuple[Any, ...]]] = {}
    for table, rows in raw.items():
        if not keep_ids:
            for key in inspector.get_foreign_keys(table):
                (column,), target = key["constrained_columns"], key["referred_table"]
                for row in rows:
                    row[column] = by_id[target].get(row[column], row[column])
        tables[table] = sorted((plain(row) for row in rows), key=repr)
    return tables


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def stores(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Stores]:
    made = iter(range(1_000))
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")

        def new_url() -> str:
            path = tmp_path / f"store-{next(made)}.db"
            shutil.copyfile(template, path)
            return f"sqlite:///{path}"

        yield Stores(new_url, monkeypatch)
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    leased: list[str] = []

    def new_pg_url() -> str:
        leased.append(server.lease_migrated_database())
        return leased[-1]

    yield Stores(new_pg_url, monkeypatch)
    for url in leased:
        server.give_back(url)


def messages(outcome: Outcome) -> list[str]:
    unit = outcome.report.units[0]
    return [str(problem) for problem in [*unit.errors, *unit.warnings]]


def test_a_plain_file_takes_the_fast_path_and_stores_the_same(
    stores: Stores, tmp_path: Path
) -> None:
    file = write(tmp_path / "plain.csv", plain_rows())
    fast = stores.both(file)
    assert (fast.careful_reads, fast.staged_plain_reads) == (0, 0)  # the direct load
    unit = fast.report.units[0]
    assert (unit.status, unit.grades_added, messages(fast)) == ("stored", ROWS, [])
    assert len(fast.tables["enrollments"]) == ROWS
    assert len(fast.tables["source_files"]) == 1


def test_header_warnings_blank_lines_and_crlf_stay_fast(stores: Stores, tmp_path: Path) -> None:
    rows = [f"{row.rstrip()},x\r\n" for row in plain_rows()]
    rows[1000] = "\r\n"
    rows[2000] = "   ,  ,,,,,,,\r\n"  # every field blank: skipped, as the careful reader does
    rows[2500] = "  \r\n"
    file = write(tmp_path / "crlf.csv", rows, header=HEADER.rstrip() + ", Notes \r\n")
    fast = stores.both(file)
    assert (fast.careful_reads, fast.staged_plain_reads) == (0, 0)
    assert messages(fast) == [f"{file}:1: warning: ignoring unknown columns: 'Notes'"]
    assert fast.report.units[0].grades_added == ROWS - 3


def test_crlf_lines_with_empty_last_values_and_comma_only_lines_stay_fast(
    stores: Stores, tmp_path: Path
) -> None:
    """Where no value needs trimming the bytes decide (a CR is not part of the last value,
    a line of commas alone is blank), as the careful reader does."""
    rows = [row.replace("\n", "\r\n") for row in plain_rows()]
    for at in range(5, ROWS, 7):  # sections of 20-40 rows: some get their term later
        rows[at] = rows[at].rsplit(",", 1)[0] + ",\r\n"
    rows[1500] = ",,,,,,,\r\n"
    # A name of 150 characters in 300 bytes: longer than a last name may be in bytes alone.
    student, long_name = rows[2000].split(",")[1], "\u00e9" * 150
    rows = [
        row.replace(f",{student},{row.split(',')[2]},", f",{student},{long_name},") for row in rows
    ]
    file = write(tmp_path / "crlf.csv", rows, header=HEADER.replace("\n", "\r\n"))
    fast = stores.both(file)
    assert (fast.careful_reads, fast.staged_plain_reads) == (0, 0)
    assert messages(fast) == []
    assert fast.report.units[0].grades_added == ROWS - 1
    assert any(long_name in row for row in fast.tables["students"])


@pytest.mark.parametrize(
    ("change", "message", "careful"),
    [
        (lambda cells: cells.__setitem__(4, "Q"), "unknown grade", True),
        (lambda cells: cells.__setitem__(4, "b+"), None, True),  # the careful reader: B+
        (lambda cells: cells.__setitem__(2, "Other"), "the first name is kept", True),
        (lambda cells: cells.__setitem__(7, "S99"), None, True),  # a second term
        (lambda cells: cells.__setitem__(6, "1_0"), None, False),  # float() reads it, as both do
        (lambda cells: cells.__setitem__(6, "-1"), "credit_hours", True),
        (lambda cells: cells.__setitem__(5, f'"{cells[5]}"'), None, True),  # a quote
        (lambda cells: cells.__setitem__(3, " "), "empty first_name", True),
        # Found from the bytes where no value needs trimming (readers.plain_csv._FieldSizes).
        (lambda cells: cells.__setitem__(3, ""), "empty first_name", True),
        (lambda cells: cells.__setitem__(2, ""), "empty last_name", True),
        (lambda cells: cells.__setitem__(1, ""), "empty student_id", True),
        (lambda cells: cells.__setitem__(0, ""), "empty section", True),
        (lambda cells: cells.__setitem__(1, "1" * 65), "student_id is longer than 64", True),
        (lambda cells: cells.__setitem__(5, "G" * 201), "group is longer than 200", True),
        (lambda cells: cells.__setitem__(0, "S" * 300), "section is longer than", True),
        (lambda cells: cells.pop(), "expected 8 fields, found 7", True),
        (lambda cells: cells.append("extra"), "expected 8 fields, found 9", True),
        (lambda cells: cells.__setitem__(1, cells[1] + "\x01"), "control character", True),
        (lambda cells: cells.__setitem__(2, f" {cells[2]}\u00a0"), None, False),  # trimmed
    ],
)
def test_a_row_the_fast_path_cannot_take_sends_the_file_to_the_careful_reader(
    stores: Stores,
    tmp_path: Path,
    change: Callable[[list[str]], None],
    message: str | None,
    careful: bool,
) -> None:
    rows = plain_rows()
    cells = rows[-100].rstrip("\n").split(",")  # in the file's last blocks
    change(cells)
    rows[-100] = ",".join(cells) + "\n"
    file = write(tmp_path / "late.csv", rows)
    fast = stores.both(file)
    assert (fast.careful_reads, fast.staged_plain_reads) == (int(careful), 0)
    found = messages(fast)
    if message is None:
        assert found == [] and fast.report.units[0].status == "stored"
    else:
        line = len(rows) - 100 + 2
        assert len(found) == 1 and found[0].startswith(f"{file}:{line}: "), found
        assert message in found[0]


def test_a_student_twice_in_a_section_is_found_in_staging_on_either_path(
    stores: Stores, tmp_path: Path
) -> None:
    rows = plain_rows()
    same, other = rows[10], rows[20].split(",")
    other[4] = "F" if other[4] != "F" else "A"
    file = write(tmp_path / "twice.csv", [*rows, same])
    fast = stores.both(file)
    assert (fast.careful_reads, fast.staged_plain_reads) == (0, 1)
    assert messages(fast) == [
        f"{file}:{ROWS + 2}: warning: student {same.split(',')[1]} is in section "
        f"{same.split(',')[0]} twice (also on line 12); kept once"
    ]
    bad = write(tmp_path / "twice-bad.csv", [*rows, ",".join(other)])
    rejected = stores.both(bad)
    assert rejected.report.units[0].status == "rejected"
    assert "twice with different grades" in messages(rejected)[0]
    assert rejected.tables["enrollments"] == []


def test_into_a_store_holding_the_sections_keep_refuse_and_replace(
    stores: Stores, tmp_path: Path
) -> None:
    rows = plain_rows()
    cut = next(n for n in range(1500, ROWS) if rows[n][:7] != rows[n - 1][:7])  # whole sections
    first = write(tmp_path / "first.csv", rows[:cut])
    write(tmp_path / "whole.csv", rows)
    changed = rows.copy()
    cells = changed[5].split(",")
    cells[4] = "F" if cells[4] != "F" else "A"
    changed[5] = ",".join(cells)
    other = write(tmp_path / "changed.csv", changed)
    kept = stores.both(tmp_path / "whole.csv", before=(first,))
    assert kept.report.units[0].sections_unchanged > 0
    refused = stores.both(other, before=(first,))
    assert "already stored with different grades" in messages(refused)[0]
    replaced = stores.both(other, before=(first,), replace=True)
    assert replaced.report.units[0].sections_replaced == 1
    assert (replaced.careful_reads, replaced.staged_plain_reads) == (0, 1)


def test_students_of_the_store_new_sections_and_a_dry_run_load_directly(
    stores: Stores, tmp_path: Path
) -> None:
    rows = plain_rows()
    students = {row.split(",")[1]: row.split(",")[2:4] for row in rows}
    known = sorted(students)[:50]
    others = [f"OLD9999.01,{sid},{students[sid][0]},{students[sid][1]},B,,,\n" for sid in known]
    earlier = write(tmp_path / "earlier.csv", others)
    # The first sections give their hours and term only in a later block.
    late = [
        ",".join([*row.split(",")[:6], "", "\n"]) if row.startswith("CS0001.") else row
        for row in rows
    ]
    late.append(rows[0])  # CS0001's hours and term, at the end
    late[0] = late[0].replace(rows[0].split(",")[1], "9999999")
    file = write(tmp_path / "late-hours.csv", late)
    loaded = stores.both(file, before=(earlier,))
    assert (loaded.careful_reads, loaded.staged_plain_reads) == (0, 0)
    unit = loaded.report.units[0]
    assert unit.students_added == len(students) + 1 - 50
    dry = stores.both(file, before=(earlier,), dry_run=True)
    assert dry.report.units[0].status == "would store"
    assert len(dry.tables["enrollments"]) == 50


def test_a_stored_student_under_another_name_is_warned_about_on_the_usual_path(
    stores: Stores, tmp_path: Path
) -> None:
    rows = plain_rows()
    sid = rows[7].split(",")[1]
    earlier = write(tmp_path / "earlier.csv", [f"OLD9999.01,{sid},Someone,Else,B,,,\n"])
    file = write(tmp_path / "plain.csv", rows)
    fast = stores.both(file, before=(earlier,))
    assert (fast.careful_reads, fast.staged_plain_reads) == (0, 1)
    assert messages(fast) == [
        f"{file}:9: warning: student {sid} is stored as 'Someone, Else', not "
        f"'{rows[7].split(',')[2]}, {rows[7].split(',')[3]}'; the stored name is kept"
    ]


def test_a_direct_load_with_a_group_option_stores_the_same(stores: Stores, tmp_path: Path) -> None:
    file = write(tmp_path / "plain.csv", plain_rows())
    fast = stores.both(file, group="Everything")
    assert (fast.careful_reads, fast.staged_plain_reads) == (0, 0)
    sections = {row.split(",")[0] for row in plain_rows()}
    groups = {row.split(",")[5] for row in plain_rows()}
    assert fast.report.units[0].memberships_added == 2 * len(sections)
    assert len(fast.tables["groups"]) == len(groups) + 1


def _schema(engine: Engine) -> dict[str, tuple[Any, ...]]:
    inspector = inspect(engine)
    schema: dict[str, tuple[Any, ...]] = {
        table: (
            sorted(repr(key) for key in inspector.get_foreign_keys(table)),
            sorted(repr(index) for index in inspector.get_indexes(table)),
            repr(inspector.get_unique_constraints(table)),
        )
        for table in inspector.get_table_names()
    }
    if engine.dialect.name == "sqlite":  # each index as the statement that made it
        with engine.connect() as connection:
            schema["sqlite_master"] = tuple(
                connection.exec_driver_sql(
                    "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
                ).fetchall()
            )
    return schema


def test_after_a_direct_load_every_key_holds_and_is_checked_again(
    stores: Stores, tmp_path: Path
) -> None:
    """SQLite loads without foreign-key checks in a unit of its own; PostgreSQL drops keys
    and indexes for a large load and adds them back: afterwards all are in place and hold."""
    url = stores.new_url()
    engine = db.open_database(url)
    try:
        before = _schema(engine)
        stores.monkeypatch.setattr(plain_csv, "MIN_FILE_BYTES", 0)
        database = Database(engine)
        file = write(tmp_path / "plain.csv", plain_rows())
        report = ingest_paths(database, [file], IngestOptions(group="Everything"))
        assert report.units[0].status == "stored"
        assert stores.staged_plain_reads == stores.careful_reads == 0
        assert _schema(engine) == before
        with database(write=False) as unit:
            if engine.dialect.name == "sqlite":
                connection = unit.connection
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
            else:
                unvalidated = unit.connection.execute(
                    text("SELECT conname FROM pg_constraint WHERE NOT convalidated")
                ).fetchall()
                assert unvalidated == []
    finally:
        engine.dispose()


def _students(*rows: tuple[str, str, str]) -> tuple[Any, Any]:
    """Distinct student ids and their names' hashes, as a block gives them to StudentKeys."""
    import numpy as np

    from gradestore.student_keys import name_hashes

    ids = np.array([row[0] for row in rows], dtype=object)
    last = np.array([row[1] for row in rows], dtype=object)
    first = np.array([row[2] for row in rows], dtype=object)
    return ids, name_hashes(last, first)


def test_student_keys_find_every_student_seen_whatever_the_length_of_its_id() -> None:
    import numpy as np

    from gradestore.student_keys import StudentKeys

    keys = StudentKeys()
    ids, names = _students(("0042", "Li", "Wei"), ("7", "Ng", "Ann"))
    rows, _, _, hashes = keys.find(ids)
    assert rows.tolist() == []
    keys.add(ids, names, hashes, np.arange(2), np.array([10, 11]))
    ids, names = _students(
        ("7", "Ng", "Ann"), ("00000000000042", "Li", "Wei"), ("0042", "Li", "Wu")
    )
    rows, found_keys, found_names, hashes = keys.find(ids)
    assert rows.tolist() == [0, 2] and found_keys.tolist() == [11, 10]
    assert found_names.tolist() == [names[0], _students(("0042", "Li", "Wei"))[1][0]]
    keys.add(ids, names, hashes, np.array([1]), np.array([0, 12, 0]))
    assert keys.names_seen(["00000000000042", "042", "7"]) == {
        "00000000000042": names[1],
        "7": names[0],
    }


def test_student_keys_in_runs_find_each_of_many_students_with_its_key() -> None:
    """Blocks of new students of every size, merged into runs as they come: every student
    is found afterwards with its own key, and none that was not added."""
    import numpy as np

    from gradestore.student_keys import StudentKeys

    rng = random.Random(7)
    keys, added = StudentKeys(), {}
    for block in range(60):
        new = [f"{rng.randrange(10**9):09d}x{block}" for _ in range(rng.randrange(0, 400))]
        new = [sid for sid in dict.fromkeys(new) if sid not in added]
        start = len(added)
        keys.note(new, [hash(sid) for sid in new], list(range(start, start + len(new))))
        added.update({sid: start + n for n, sid in enumerate(new)})
    assert len(keys.runs) < 12
    asked = [*added, "nobody", "0042"]
    ids = np.array(asked, dtype=object)
    rows, found_keys, found_names, _ = keys.find(ids)
    assert ids[rows].tolist() == list(added)
    assert found_keys.tolist() == list(added.values())
    assert found_names.tolist() == [hash(sid) for sid in added]


def test_two_student_ids_of_one_hash_are_told_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys are found by a hash of the id; ids that share one are never taken as one."""
    import numpy as np

    import gradestore.student_keys as student_keys

    monkeypatch.setattr(student_keys, "id_hashes", lambda ids: np.zeros(len(ids), dtype=np.int64))
    keys = student_keys.StudentKeys()
    keys.note(["0042"], [5], [10])
    assert keys.names_seen(["0042"]) == {"0042": 5}
    with pytest.raises(student_keys.SharedHash):
        keys.names_seen(["0043"])
    with pytest.raises(student_keys.SharedHash):
        student_keys.StudentKeys().names_seen(["1", "2"])


def _one_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    import gradestore.student_keys as student_keys

    monkeypatch.setattr(student_keys, "id_hashes", lambda ids: np.zeros(len(ids), dtype=np.int64))


def test_a_file_whose_student_ids_share_a_hash_stores_the_same(
    stores: Stores, tmp_path: Path
) -> None:
    """Every id given one hash: the direct load gives up at once, the usual path stores it
    (reading each chunk's students back from its staging table)."""
    _one_hash(stores.monkeypatch)
    file = write(tmp_path / "plain.csv", plain_rows())
    fast = stores.both(file)
    assert (fast.careful_reads, fast.staged_plain_reads) == (0, 1)
    assert len(fast.tables["enrollments"]) == ROWS


def _renamed(rows: list[str], at: int, last: str) -> list[str]:
    cells = rows[at].split(",")
    cells[2] = last
    return [*rows[:at], ",".join(cells), *rows[at + 1 :]]


@pytest.mark.parametrize("one_hash", [False, True])
def test_the_careful_path_warns_about_other_names_across_chunks_as_before(
    stores: Stores, tmp_path: Path, one_hash: bool
) -> None:
    """Students are checked a chunk at a time against those staged before; a second name is
    warned about with the first one's words and line, whichever chunk saw it first, and the
    warnings beyond those kept are counted."""
    stores.monkeypatch.setattr(ingest_module, "STAGING_CHUNK_ROWS", 250)
    if one_hash:
        _one_hash(stores.monkeypatch)
    rows = plain_rows()
    first_row = {}
    for n, row in enumerate(rows):
        first_row.setdefault(row.split(",")[1], n)
    later = [n for n, row in enumerate(rows) if first_row[row.split(",")[1]] < n - 600]
    for n in later[:150]:
        rows = _renamed(rows, n, f"Other{n}")
    header = HEADER.replace("last_name,first_name", "last_name, first_name")
    file = write(tmp_path / "names.csv", [*rows, '"quoted",x,y,z,A,,,\n'], header=header)
    fast = stores.both(file)
    unit = fast.report.units[0]
    assert fast.careful_reads == 1 and unit.warning_count == 150
    n = later[0]
    sid = rows[n].split(",")[1]
    last, first = rows[first_row[sid]].split(",")[2:4]
    assert messages(fast)[0] == (
        f"{file}:{n + 2}: warning: student {sid} is 'Other{n}, {first}' here but "
        f"'{last}, {first}' on line {first_row[sid] + 2}; the first name is kept"
    )


@pytest.mark.postgres
@pytest.mark.parametrize("careful", [False, True])
def test_a_large_load_leaves_planner_statistics_of_every_table_it_grew(
    postgres_server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, careful: bool
) -> None:
    """PostgreSQL: after a load large beside the tables (into a new store), students,
    sections, groups and their memberships have been analysed (pg_class.reltuples is the
    row count, where a table never analysed has -1), on the direct load and the usual path."""
    monkeypatch.setattr(plain_csv, "MIN_FILE_BYTES", 0)
    rows = plain_rows()
    if careful:  # a quoted value: the careful reader, and the usual path's set-based writes
        rows[5] = rows[5].replace(",G", ',"G', 1).replace(",3,", '",3,', 1)
    url = postgres_server.lease_migrated_database()
    engine = db.open_database(url)
    try:
        file = write(tmp_path / "grades.csv", rows)
        report = ingest_paths(Database(engine), [file], IngestOptions())
        assert report.units[0].status == "stored"
        with engine.connect() as connection:
            for table in ("students", "sections", "groups", "group_sections", "enrollments"):
                count = connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
                estimate = connection.execute(
                    text("SELECT reltuples FROM pg_class WHERE relname = :table"),
                    {"table": table},
                ).scalar_one()
                assert (table, estimate) == (table, count)
    finally:
        engine.dispose()
        postgres_server.give_back(url)


@pytest.mark.postgres
def test_a_small_file_into_an_analysed_store_leaves_its_statistics_alone(
    postgres_server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table is analysed again only when a load grows it by a quarter of what its
    statistics know: one new student beside 500 does not, 500 more beside 500 do."""
    monkeypatch.setattr(plain_csv, "MIN_FILE_BYTES", 0)
    url = postgres_server.lease_migrated_database()
    engine = db.open_database(url)

    def students_known_and_held() -> tuple[float, int]:
        with engine.connect() as connection:
            known = connection.execute(
                text("SELECT reltuples FROM pg_class WHERE relname = 'students'")
            ).scalar_one()
            held = connection.execute(text("SELECT COUNT(*) FROM students")).scalar_one()
            return float(known), int(held)

    try:
        first = write(tmp_path / "first.csv", plain_rows())
        ingest_paths(Database(engine), [first], IngestOptions())
        known, held = students_known_and_held()
        assert known == held > 400
        one = write(tmp_path / "one.csv", ["NEW1.01F25,9999999,Lee,Ann,A,GN,3,F25\n"])
        assert ingest_paths(Database(engine), [one], IngestOptions()).units[0].status == "stored"
        assert students_known_and_held() == (known, held + 1)  # 1 beside 500: not analysed
        many = [
            f"NEW{n // 30:03d}.02F25,{8_000_000 + n:07d},Lee,Ann,A,GM,3,F25\n"
            for n in range(ROWS // 6)
        ]
        ingest_paths(Database(engine), [write(tmp_path / "many.csv", many)], IngestOptions())
        assert students_known_and_held() == (held + 1 + ROWS // 6, held + 1 + ROWS // 6)
    finally:
        engine.dispose()
        postgres_server.give_back(url)


def test_memberships_written_a_chunk_at_a_time_are_every_pair_once(
    stores: Stores, tmp_path: Path
) -> None:
    """The usual path writes memberships a few at a time (chunks of 7 here): each (group,
    section) pair of the file is stored once, with --group's too, whichever chunk it is in."""
    import gradestore.persistence.ingest_store as ingest_store

    stores.monkeypatch.setattr(ingest_store, "MEMBERSHIP_CHUNK", 7)
    rows = plain_rows()
    rows[3] = rows[3].replace(",G", ',"G', 1).replace(",3,", '",3,', 1)  # the careful reader
    file = write(tmp_path / "groups.csv", rows)
    fast = stores.both(file, group="Everything")
    pairs = {(row.split(",")[5].strip('"'), row.split(",")[0]) for row in rows}
    pairs |= {("Everything", row.split(",")[0]) for row in rows}
    unit = fast.report.units[0]
    assert fast.careful_reads == 1 and unit.memberships_added == len(pairs)
    assert len(fast.tables["group_sections"]) == len(pairs)


@pytest.mark.parametrize("large_keys", [False, True])
def test_grades_by_key_are_stored_as_given_packed_or_row_by_row(
    engine: Engine, large_keys: bool
) -> None:
    """The direct load's grades (IngestStore.add_grade_columns): on SQLite each row's keys and
    letter packed into one integer of a JSON array, or, for keys too large to pack in 64 bits,
    bound row by row; on PostgreSQL COPY, or row by row for letters COPY's text would escape.
    Either way the rows are those given, any letter kept as text, and a pair given twice is
    refused."""
    import numpy as np

    if large_keys and engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's integer keys hold 32 bits; only SQLite packs")
    base = (1 << 40) if large_keys else 1
    letters = ["A", 'B"', "C\\", "D'", "E\t"]
    sections, students = [base, base + 1], [base, base + 1, base + 2]
    with Database(engine)(write=True) as unit:
        store = unit.ingest
        source = store.add_source_file("f.csv", "0" * 64, 3)
        for key in sections:
            unit.connection.execute(
                text("INSERT INTO sections (id, name) VALUES (:id, :name)"),
                {"id": key, "name": f"S{key}"},
            )
        for key in students:
            unit.connection.execute(
                text(
                    "INSERT INTO students (id, student_id, fname, lname) VALUES (:id, :s, 'F', 'L')"
                ),
                {"id": key, "s": f"{key:07d}"},
            )
        for codes in ([0, 3, 1], [4, 2, 0]):  # the second: a tab (not COPY's text as it is)
            given = [(base, base), (base, base + 1), (base + 1, base + 2)]
            unit.connection.execute(text("DELETE FROM enrollments"))
            assert store.add_grade_columns(
                np.array([s for s, _ in given], dtype=np.int64),
                np.array([t for _, t in given], dtype=np.int64),
                np.array(codes, dtype=np.intp),
                letters,
                source,
            )
            rows = unit.connection.execute(
                text(
                    "SELECT section_id, student_id, grade, source_file_id FROM enrollments"
                    " ORDER BY section_id, student_id"
                )
            ).fetchall()
            expected = [
                (*pair, letters[code], source) for pair, code in zip(given, codes, strict=True)
            ]
            assert [tuple(row) for row in rows] == expected
        with unit.savepoint() as savepoint:
            assert not store.add_grade_columns(
                np.array([base + 1], dtype=np.int64),
                np.array([base + 2], dtype=np.int64),
                np.array([0], dtype=np.intp),
                letters,
                source,
            )
            savepoint.rollback()
        assert unit.connection.execute(text("SELECT COUNT(*) FROM enrollments")).scalar() == 3
