"""Generate gradestore's sample data (deterministic, stdlib only).

Run from anywhere::

    python sample_data/generate.py            # writes next to this file
    python sample_data/generate.py --out DIR  # writes into DIR instead

It writes the same grades twice:

* ``grades.csv``: the canonical CSV (design.md section 1);
* ``legacy/Runs/*.RUN``, ``legacy/Groups/*.GRP``, ``legacy/Sections/*.SEC``: the legacy layout;

plus ``legacy/history/good.lst``, an earlier good list (older sections, not in the sample).

Exactly one section, ``COMSC210.02F25``, differs significantly from its group at alpha 0.05
under the design.md one-sample z-test; the generator checks that before it writes anything.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import random
import shutil
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

SEED = 330
ALPHA = 0.05
SIGNIFICANT_SECTION = "COMSC210.02F25"

GRADE_POINTS = {
    "A+": 4.0,
    "A": 4.0,
    "A-": 3.7,
    "B+": 3.3,
    "B": 3.0,
    "B-": 2.7,
    "C+": 2.3,
    "C": 2.0,
    "C-": 1.7,
    "D+": 1.3,
    "D": 1.0,
    "D-": 0.7,
    "F": 0.0,
}
EXCLUDED = ("W", "I", "P", "NP")

# A typical section: mean about 2.81.
TYPICAL = {
    "A+": 0.04,
    "A": 0.14,
    "A-": 0.12,
    "B+": 0.13,
    "B": 0.135,
    "B-": 0.10,
    "C+": 0.09,
    "C": 0.08,
    "C-": 0.05,
    "D+": 0.03,
    "D": 0.03,
    "D-": 0.03,
    "F": 0.025,
}
# An upper-level course: somewhat stronger students, mean about 3.05.
UPPER = {
    "A+": 0.05,
    "A": 0.18,
    "A-": 0.14,
    "B+": 0.14,
    "B": 0.16,
    "B-": 0.10,
    "C+": 0.07,
    "C": 0.06,
    "C-": 0.04,
    "D+": 0.02,
    "D": 0.02,
    "D-": 0.01,
    "F": 0.01,
}
# The struggling section: mostly C, D and F, mean about 1.48.
STRUGGLING = {
    "A-": 0.02,
    "B": 0.04,
    "B-": 0.05,
    "C+": 0.10,
    "C": 0.15,
    "C-": 0.14,
    "D+": 0.13,
    "D": 0.13,
    "D-": 0.12,
    "F": 0.12,
}


@dataclass(frozen=True)
class SectionSpec:
    name: str  # also the legacy file's stem
    size: int
    distribution: dict[str, float]
    n_excluded: int = 0
    extension: str = ".SEC"
    header_gap: str = " "  # what separates the header's name from the credit hours

    @property
    def term(self) -> str:
        return self.name[-3:]


@dataclass(frozen=True)
class GroupSpec:
    name: str
    credit_hours: str
    sections: tuple[SectionSpec, ...]
    returning: int  # how many of its students already took a course of an earlier group


GROUPS = (
    GroupSpec(
        "COMSC110",
        "4.0",
        (
            SectionSpec("COMSC110.01S25", 30, TYPICAL, n_excluded=1),
            SectionSpec("COMSC110.01F25", 33, TYPICAL, n_excluded=1),
            SectionSpec("COMSC110.02F25", 31, TYPICAL),
            # Legacy quirk: two spaces between the section name and the credit hours.
            SectionSpec("COMSC110.03F25", 29, TYPICAL, n_excluded=1, header_gap="  "),
        ),
        returning=0,
    ),
    GroupSpec(
        "COMSC210",
        "4.0",
        (
            SectionSpec("COMSC210.01S25", 34, TYPICAL, n_excluded=1),
            SectionSpec("COMSC210.01F25", 35, TYPICAL),
            SectionSpec(SIGNIFICANT_SECTION, 19, STRUGGLING, n_excluded=1),
            SectionSpec("COMSC210.03F25", 33, TYPICAL, n_excluded=1),
        ),
        returning=16,
    ),
    GroupSpec(
        "COMSC330",
        "3.0",
        (
            SectionSpec("COMSC330.01S25", 26, UPPER, extension=".sec"),  # lower-case extension
            SectionSpec("COMSC330.01F25", 28, UPPER, n_excluded=1),
            SectionSpec("COMSC330.02F25", 27, UPPER),
        ),
        returning=14,
    ),
)

RUNS = (
    ("FALL25", ("COMSC110", "COMSC210", "COMSC330")),
    ("INTRO", ("COMSC110",)),
)

FIRST_NAMES = (
    "Aaliyah", "Aiden", "Alejandro", "Alexis", "Amara", "Andre", "Anika", "Ava", "Benjamin",
    "Bianca", "Caleb", "Camila", "Carlos", "Chloe", "Daniel", "Deja", "Diego", "Dylan", "Elena",
    "Elijah", "Emily", "Emma", "Ethan", "Fatima", "Gabriel", "Grace", "Hannah", "Hiroshi",
    "Isabella", "Isaiah", "Jacob", "Jada", "James", "Jasmine", "Javier", "Jordan", "Joseph",
    "Julia", "Kai", "Kayla", "Kevin", "Leah", "Liam", "Lucas", "Madison", "Malik", "Maria",
    "Mason", "Maya", "Mei", "Michael", "Mohammed", "Natalie", "Nathan", "Noah", "Olivia",
    "Omar", "Priya", "Rachel", "Rahul", "Ryan", "Samantha", "Samuel", "Sofia", "Tyler",
    "Valentina", "Victoria", "William", "Xavier", "Yusuf", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Ahmed", "Allen", "Alvarez", "Anderson", "Baker", "Bennett", "Brooks", "Brown",
    "Campbell", "Carter", "Chen", "Clark", "Collins", "Cooper", "Cruz", "Davis", "Diaz",
    "Edwards", "Evans", "Fischer", "Flores", "Garcia", "Gomez", "Gonzalez", "Green", "Gupta",
    "Hall", "Harris", "Hernandez", "Hill", "Huang", "Jackson", "Johnson", "Jones", "Kelly",
    "Kim", "King", "Kowalski", "Lee", "Lewis", "Lopez", "Martin", "Martinez", "Mitchell",
    "Moore", "Morales", "Murphy", "Nguyen", "O'Brien", "Okafor", "Ortiz", "Patel", "Perez",
    "Phillips", "Ramirez", "Reed", "Reyes", "Rivera", "Roberts", "Robinson", "Rodriguez",
    "Rossi", "Sanchez", "Scott", "Shah", "Singh", "Smith", "Stewart", "Sullivan", "Taylor",
    "Thomas", "Thompson", "Torres", "Tran", "Turner", "Walker", "Wang", "White", "Williams",
    "Wilson", "Wright", "Young", "Zhang", "Van der Berg", "Garcia-Lopez",
)  # fmt: skip

# Earlier sections for the history good list (none of them is in the sample).
HISTORY_SECTIONS = ("COMSC101.01F23", "COMSC101.02S24", "MATH140.01F24", "ENGR120.03S24")

MEAN_TOLERANCE = 0.06  # a section's mean GPA is kept within this of its distribution's mean
MIN_Z_MARGIN = 3.5  # |z| of the significant section must exceed this
MAX_OTHER_Z = 1.5  # |z| of every other section must stay below this


@dataclass(frozen=True)
class Student:
    student_id: str
    last_name: str
    first_name: str


@dataclass
class Section:
    spec: SectionSpec
    group: GroupSpec
    grades: dict[Student, str] = field(default_factory=dict)


def _expected_mean(distribution: dict[str, float]) -> float:
    total = sum(distribution.values())
    return sum(GRADE_POINTS[g] * p for g, p in distribution.items()) / total


def _draw_grades(rng: random.Random, spec: SectionSpec, excluded: list[str]) -> list[str]:
    """Draw a section's grades; redraw until the section's mean GPA is near the expected one."""
    letters = list(spec.distribution)
    weights = [spec.distribution[g] for g in letters]
    target = _expected_mean(spec.distribution)
    n_counted = spec.size - spec.n_excluded
    while True:
        grades = rng.choices(letters, weights=weights, k=n_counted)
        mean = statistics.fmean(GRADE_POINTS[g] for g in grades)
        if abs(mean - target) <= MEAN_TOLERANCE:
            break
    grades += [excluded.pop(0) for _ in range(spec.n_excluded)]
    rng.shuffle(grades)
    return grades


def _new_student(rng: random.Random, used_ids: set[str], used_names: set[tuple[str, str]]):
    while True:
        # About a third of the ids are below 1000000 and so start with a zero; a few with "00".
        number = rng.randint(10_000, 99_999) if rng.random() < 0.05 else rng.randint(0, 2_999_999)
        student_id = f"{number:07d}"
        if number >= 10_000 and student_id not in used_ids:
            break
    while True:
        name = (rng.choice(LAST_NAMES), rng.choice(FIRST_NAMES))
        if name not in used_names:
            break
    used_ids.add(student_id)
    used_names.add(name)
    return Student(student_id, name[0], name[1])


def build(
    rng: random.Random,
) -> tuple[list[Section], set[str], set[tuple[str, str]]]:
    """Build every section with its students and grades."""
    used_ids: set[str] = set()
    used_names: set[tuple[str, str]] = set()
    earlier: list[Student] = []  # students of groups built so far, in order of creation
    n_excluded = sum(s.n_excluded for g in GROUPS for s in g.sections)
    excluded = [EXCLUDED[i % len(EXCLUDED)] for i in range(n_excluded)]  # W, I, P, NP, W, ...
    sections: list[Section] = []
    for group in GROUPS:
        total = sum(s.size for s in group.sections)
        returning = rng.sample(earlier, group.returning)
        fresh = [_new_student(rng, used_ids, used_names) for _ in range(total - len(returning))]
        roster = returning + fresh
        rng.shuffle(roster)
        start = 0
        for spec in group.sections:
            students = roster[start : start + spec.size]
            start += spec.size
            grades = _draw_grades(rng, spec, excluded)
            section = Section(spec, group)
            section.grades = dict(zip(students, grades, strict=True))
            sections.append(section)
        earlier += fresh
    return sections, used_ids, used_names


def z_tests(sections: list[Section]) -> dict[str, tuple[float, float]]:
    """Section against its group, as in design.md section 2: name -> (z, p)."""
    result = {}
    for group in GROUPS:
        members = [s for s in sections if s.group is group]
        pool = [GRADE_POINTS[g] for s in members for g in s.grades.values() if g in GRADE_POINTS]
        mean, std = statistics.fmean(pool), statistics.pstdev(pool)
        for s in members:
            points = [GRADE_POINTS[g] for g in s.grades.values() if g in GRADE_POINTS]
            z = (statistics.fmean(points) - mean) / (std / math.sqrt(len(points)))
            result[s.spec.name] = (z, math.erfc(abs(z) / math.sqrt(2)))
    return result


def check(sections: list[Section]) -> dict[str, tuple[float, float]]:
    """Fail loudly if the sample lost the shape it promises."""
    tests = z_tests(sections)
    significant = [name for name, (_, p) in tests.items() if p < ALPHA]
    if significant != [SIGNIFICANT_SECTION]:
        raise SystemExit(f"significant sections are {significant}, not [{SIGNIFICANT_SECTION}]")
    for name, (z, _) in tests.items():
        if name == SIGNIFICANT_SECTION and abs(z) <= MIN_Z_MARGIN:
            raise SystemExit(f"{name}: |z| = {abs(z):.2f} is not clearly significant")
        if name != SIGNIFICANT_SECTION and abs(z) >= MAX_OTHER_Z:
            raise SystemExit(f"{name}: |z| = {abs(z):.2f} is too close to significance")
    counts: dict[str, int] = {}
    for s in sections:
        for g in s.grades.values():
            counts[g] = counts.get(g, 0) + 1
    for g in ("A+", "A", "A-"):
        if counts.get(g, 0) < 8:
            raise SystemExit(f"only {counts.get(g, 0)} {g} grades")
    for g in ("D+", "D", "D-", "F"):
        if counts.get(g, 0) < 6:
            raise SystemExit(f"only {counts.get(g, 0)} {g} grades")
    if sum(counts.get(g, 0) for g in EXCLUDED) < 5:
        raise SystemExit("fewer than 5 excluded grades")
    for s in sections:
        if not 18 <= s.spec.size <= 35:
            raise SystemExit(f"{s.spec.name} has {s.spec.size} students")
    return tests


def _sorted_rows(section: Section) -> list[tuple[Student, str]]:
    return sorted(
        section.grades.items(),
        key=lambda item: (item[0].last_name, item[0].first_name, item[0].student_id),
    )


def render_csv(sections: list[Section]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "section",
            "student_id",
            "last_name",
            "first_name",
            "grade",
            "group",
            "credit_hours",
            "term",
        ]
    )
    for s in sections:
        for student, grade in _sorted_rows(s):
            writer.writerow(
                [
                    s.spec.name,
                    student.student_id,
                    student.last_name,
                    student.first_name,
                    grade,
                    s.group.name,
                    s.group.credit_hours,
                    s.spec.term,
                ]
            )
    return buffer.getvalue()


def render_sec(section: Section) -> str:
    lines = [f"{section.spec.name}{section.spec.header_gap}{section.group.credit_hours}"]
    for student, grade in _sorted_rows(section):
        lines.append(
            f'"{student.last_name}, {student.first_name}","{student.student_id}","{grade}"'
        )
    return "\n".join(lines) + "\n"


def render_history(
    rng: random.Random,
    sections: list[Section],
    used_ids: set[str],
    used_names: set[tuple[str, str]],
) -> str:
    """An earlier good list: one student of the sample (who has an A in it) and two others."""
    with_a = [
        student
        for s in sections
        if s.spec.name != SIGNIFICANT_SECTION
        for student, grade in _sorted_rows(s)
        if grade == "A"
    ]
    returning = rng.choice(with_a)
    others = [_new_student(rng, used_ids, used_names) for _ in range(2)]
    entries = {
        returning: [(HISTORY_SECTIONS[0], "A-"), (HISTORY_SECTIONS[2], "A")],
        others[0]: [(HISTORY_SECTIONS[1], "A+")],
        others[1]: [(HISTORY_SECTIONS[0], "A"), (HISTORY_SECTIONS[3], "B+")],
    }
    lines = []
    for student, items in entries.items():
        lines.append(
            f'"{student.student_id}","{student.last_name}, {student.first_name}", {len(items)}'
        )
        lines += [f'"{section}","{grade}"' for section, grade in items]
    return "\n".join(lines) + "\n"


def render_all(rng: random.Random) -> tuple[dict[str, str], dict[str, tuple[float, float]]]:
    """Every output file (relative path -> text) and the z-tests."""
    sections, used_ids, used_names = build(rng)
    tests = check(sections)
    files = {"grades.csv": render_csv(sections)}
    for s in sections:
        files[f"legacy/Sections/{s.spec.name}{s.spec.extension}"] = render_sec(s)
    for group in GROUPS:
        names = [f"{s.name}{s.extension}" for s in group.sections]
        files[f"legacy/Groups/{group.name}.GRP"] = "\n".join([group.name, *names]) + "\n"
    for run, groups in RUNS:
        files[f"legacy/Runs/{run}.RUN"] = "\n".join([run, *(f"{g}.GRP" for g in groups)]) + "\n"
    files["legacy/history/good.lst"] = render_history(rng, sections, used_ids, used_names)
    return files, tests


def main(out_dir: Path | None = None) -> dict[str, tuple[float, float]]:
    """Write the sample into out_dir (default: this file's folder); return the z-tests."""
    out = Path(out_dir) if out_dir is not None else Path(__file__).resolve().parent
    files, tests = render_all(random.Random(SEED))
    shutil.rmtree(out / "legacy", ignore_errors=True)  # drop files of an older layout
    for relative, text in files.items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    return tests


def _cli(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="output folder (default: next to this script)")
    args = parser.parse_args(argv)
    tests = main(args.out)
    for name, (z, p) in tests.items():
        mark = "  <- significant" if p < ALPHA else ""
        print(f"{name:16} z = {z:+.3f}  p = {p:.3g}{mark}")
    return 0


if __name__ == "__main__":
    sys.exit(_cli())
