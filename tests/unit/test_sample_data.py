"""The committed sample data: reproducible, consistent, and with exactly one significant section.

Independent of gradestore: only the csv module, numpy and scipy.
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy import stats

from tests.expected import NOT_COUNTED as EXCLUDED
from tests.expected import POINTS

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
LEGACY = SAMPLE / "legacy"
SIGNIFICANT = "COMSC210.02F25"
ALPHA = 0.05

SEC_ROW = re.compile(r'^"([^",]+), ([^"]+)","(\d{7})","([A-Z+-]+)"$')


def _csv_rows() -> list[dict[str, str]]:
    with (SAMPLE / "grades.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file()
        and p.name not in {"generate.py", "README.md"}
        and "__pycache__" not in p.parts
    }


def _resolve(folder: Path, name: str) -> Path:
    """A name from a .RUN/.GRP file, case-insensitively, beside the file or in Sections/Groups."""
    for candidate in (folder, folder.parent / "Sections", folder.parent / "Groups"):
        for p in candidate.glob("*"):
            if p.name.lower() == name.lower():
                return p
    raise AssertionError(f"{name} not found from {folder}")


def _legacy_sections() -> dict[str, tuple[str, list[tuple[str, str, str, str]]]]:
    """Section name -> (group, [(student_id, last, first, grade)]), read through FALL25.RUN."""
    run = (LEGACY / "Runs" / "FALL25.RUN").read_text(encoding="utf-8").splitlines()
    sections = {}
    for grp_name in run[1:]:
        grp_path = _resolve(LEGACY / "Runs", grp_name)
        grp = grp_path.read_text(encoding="utf-8").splitlines()
        assert grp[0] == grp_path.stem
        for sec_name in grp[1:]:
            sec_path = _resolve(grp_path.parent, sec_name)
            lines = sec_path.read_text(encoding="utf-8").splitlines()
            header = lines[0].split()
            assert header[0] == sec_path.stem and len(header) == 2
            float(header[1])
            rows = []
            for line in lines[1:]:
                match = SEC_ROW.match(line)
                assert match, f"{sec_path.name}: bad line {line!r}"
                last, first, sid, grade = match.groups()
                rows.append((sid, last, first, grade))
            assert sec_path.stem not in sections, "a section belongs to one group only"
            sections[sec_path.stem] = (grp[0], rows)
    return sections


def test_generator_reproduces_committed_files(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SAMPLE / "generate.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    generated = _files(tmp_path)
    committed = _files(SAMPLE)
    assert "grades.csv" in generated
    assert sorted(generated) == sorted(committed)
    for name, data in generated.items():
        assert data == committed[name], f"{name} is not up to date: run sample_data/generate.py"


def test_csv_and_legacy_hold_the_same_grades() -> None:
    rows = _csv_rows()
    assert list(rows[0]) == [
        "section",
        "student_id",
        "last_name",
        "first_name",
        "grade",
        "group",
        "credit_hours",
        "term",
    ]
    legacy = _legacy_sections()
    from_csv = {(r["section"], r["student_id"], r["grade"]) for r in rows}
    from_sec = {(sec, sid, grade) for sec, (_, rs) in legacy.items() for sid, _, _, grade in rs}
    assert len(from_csv) == len(rows)
    assert from_csv == from_sec
    # Names and groups agree too.
    csv_names = {(r["section"], r["student_id"], r["last_name"], r["first_name"]) for r in rows}
    sec_names = {
        (sec, sid, last, first) for sec, (_, rs) in legacy.items() for sid, last, first, _ in rs
    }
    assert csv_names == sec_names
    assert {(r["section"], r["group"]) for r in rows} == {(s, g) for s, (g, _) in legacy.items()}
    assert all(r["term"] == r["section"][-3:] for r in rows)
    # INTRO.RUN names only the first group.
    intro = (LEGACY / "Runs" / "INTRO.RUN").read_text(encoding="utf-8").splitlines()
    assert intro == ["INTRO", "COMSC110.GRP"]


def test_shape() -> None:
    rows = _csv_rows()
    groups = {r["group"] for r in rows}
    assert groups == {"COMSC110", "COMSC210", "COMSC330"}
    sections_of: dict[str, set[str]] = defaultdict(set)
    size: dict[str, int] = defaultdict(int)
    for r in rows:
        sections_of[r["group"]].add(r["section"])
        size[r["section"]] += 1
        assert re.fullmatch(r"\d{7}", r["student_id"])
        assert r["grade"] in POINTS or r["grade"] in EXCLUDED
    assert all(3 <= len(s) <= 4 for s in sections_of.values())
    assert all(18 <= n <= 35 for n in size.values())
    students = {r["student_id"] for r in rows}
    assert 270 <= len(students) <= 330
    assert any(s.startswith("00") for s in students)
    grades = [r["grade"] for r in rows]
    assert all(grades.count(g) >= 8 for g in ("A+", "A", "A-"))
    assert sum(grades.count(g) for g in ("D+", "D", "D-", "F")) >= 6
    assert sum(grades.count(g) for g in EXCLUDED) >= 5
    by_student: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        by_student[r["student_id"]].add(r["group"])
    assert any(len(g) > 1 for g in by_student.values())


def test_history_list_names_a_sample_student_with_an_a() -> None:
    lines = (LEGACY / "history" / "good.lst").read_text(encoding="utf-8").splitlines()
    ids, i = [], 0
    while i < len(lines):
        match = re.fullmatch(r'"(\d{7})","[^"]+, [^"]+", (\d+)', lines[i])
        assert match, lines[i]
        ids.append(match[1])
        n = int(match[2])
        for entry in lines[i + 1 : i + 1 + n]:
            assert re.fullmatch(r'"[A-Z]+\d+\.\d\d[FS]\d\d","[A-Z][+-]?"', entry)
        i += 1 + n
    text = "\n".join(lines)
    assert not any(f'"{r["section"]}"' in text for r in _csv_rows()), "older sections only"
    with_a = {r["student_id"] for r in _csv_rows() if r["grade"] == "A"}
    assert len([s for s in ids if s in with_a]) == 1


def _z_tests() -> dict[str, tuple[float, float]]:
    pooled: dict[str, list[float]] = defaultdict(list)
    per_section: dict[str, list[float]] = defaultdict(list)
    group_of = {}
    for r in _csv_rows():
        group_of[r["section"]] = r["group"]
        if r["grade"] in POINTS:
            pooled[r["group"]].append(POINTS[r["grade"]])
            per_section[r["section"]].append(POINTS[r["grade"]])
    result = {}
    for section, points in per_section.items():
        pool = np.asarray(pooled[group_of[section]])
        z = (np.mean(points) - pool.mean()) / (pool.std(ddof=0) / np.sqrt(len(points)))
        result[section] = (float(z), float(2 * stats.norm.sf(abs(z))))
    return result


def test_exactly_one_section_is_significant() -> None:
    tests = _z_tests()
    assert len(tests) == 11
    significant = sorted(s for s, (_, p) in tests.items() if p < ALPHA)
    assert significant == [SIGNIFICANT]
    z, p = tests[SIGNIFICANT]
    assert z < -3.5 and p < 0.001  # clearly, not marginally
    assert all(abs(z) < 1.5 for s, (z, _) in tests.items() if s != SIGNIFICANT)


def test_readme_states_the_z_and_p() -> None:
    z, p = _z_tests()[SIGNIFICANT]
    readme = (SAMPLE / "README.md").read_text(encoding="utf-8")
    assert SIGNIFICANT in readme
    assert f"z = {z:.3f}, p = {p:.2e}" in readme
