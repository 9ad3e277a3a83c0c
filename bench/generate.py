"""Write a deterministic canonical CSV of N grades for the benchmark.

    python bench/generate.py --grades 1000000 --out bench/data/grades-1000000.csv [--seed 7]
    python bench/generate.py --grades 1000000 --out bench/data/other.csv --prefix X_

Shape (issue 7): groups of 2-8 sections, sections of 8-45 students, about N/6 distinct students
(7-digit ids, leading zeros kept, the same name for an id in every file), about 3% I/W/P/NP and a
realistic letter distribution for the rest (each section drawn from one of a few difficulty
profiles, so that some sections differ from their group). A student appears at most once per
section. The file is written section by section; memory does not grow with N.

``--prefix P`` prefixes every section and group name, so that a second, disjoint set of sections
can be generated for "a store that already holds another million grades". Student ids come from
the same id space (half of the second file's students are shared with the first by default, see
``--student-offset``), and a student's name depends only on the id, so shared students never
trigger a name-mismatch warning.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from itertools import accumulate
from pathlib import Path

HEADER = [
    "section",
    "student_id",
    "last_name",
    "first_name",
    "grade",
    "group",
    "credit_hours",
    "term",
]

NAME_HEADER = ["section", "student_id", "name", "grade", "group", "credit_hours", "term"]

DEPARTMENTS = [
    "COMSC", "MATH", "PHYS", "CHEM", "BIOL", "ENGL", "HIST", "ECON", "PSYC", "SOCI",
    "PHIL", "ARTH", "MUSC", "GEOL", "ASTR", "POLS", "SPAN", "FREN", "STAT", "ENGR",
]  # fmt: skip
TERMS = ["F21", "S22", "F22", "S23", "F23", "S24", "F24", "S25", "F25", "S26", "F26", "S27"]

LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans",
    "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris",
    "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson",
    "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson",
    "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes",
    "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster",
    "Jimenez", "O'Brien", "De La Cruz", "Smith-Jones", "Müller", "Øvergaard", "Nakamura",
    "Okafor", "Kowalski", "Novak", "Ivanova",
]  # fmt: skip
FIRST_NAMES = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Charles", "Karen", "Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty",
    "Anthony", "Margaret", "Mark", "Sandra", "Donald", "Ashley", "Steven", "Kimberly", "Paul",
    "Emily", "Andrew", "Donna", "Joshua", "Michelle", "Kenneth", "Carol", "Kevin", "Amanda",
    "Brian", "Dorothy", "George", "Melissa", "Timothy", "Deborah", "Ronald", "Stephanie",
    "Edward", "Rebecca", "Jason", "Sharon", "Jeffrey", "Laura", "Ryan", "Cynthia", "Jacob",
    "Kathleen", "Gary", "Amy", "Nicholas", "Angela", "Eric", "Shirley", "Jonathan", "Anna",
    "Wei", "Aisha", "José", "Zoë", "Li", "Chidi", "Priya", "Mateo", "Sofía", "Hiroshi",
    "Mary Ann", "Jean-Luc",
]  # fmt: skip

LETTERS = ["A+", "A", "A-", "B+", "B", "B-", "C+", "C", "C-", "D+", "D", "D-", "F"]
# Relative weights of the counted letters, from an easy section to a hard one.
PROFILES = [
    [4, 22, 16, 13, 12, 8, 6, 7, 3, 2, 3, 1, 3],  # easy
    [3, 15, 13, 13, 14, 10, 8, 9, 4, 3, 4, 1, 3],  # typical
    [3, 14, 12, 13, 14, 10, 8, 10, 4, 3, 4, 1, 4],  # typical
    [2, 11, 10, 11, 13, 10, 9, 11, 5, 4, 6, 2, 6],  # harder
    [1, 6, 7, 9, 12, 10, 10, 13, 6, 5, 8, 3, 10],  # hard
]
NOT_COUNTED = [("W", 0.55), ("I", 0.15), ("P", 0.2), ("NP", 0.1)]
NOT_COUNTED_SHARE = 0.03

ID_SPACE = 10_000_000  # 7-digit ids, 0000000-9999999
ID_STRIDE = 7_919  # coprime with ID_SPACE: index -> id is a bijection
ID_SHIFT = 1_234_567


def student_id(index: int) -> str:
    return f"{(index * ID_STRIDE + ID_SHIFT) % ID_SPACE:07d}"


def student_name(sid: str) -> tuple[str, str]:
    """A name that depends only on the id: the same student has the same name in every file."""
    value = int(sid)
    return (
        LAST_NAMES[(value * 2_654_435_761 >> 7) % len(LAST_NAMES)],
        FIRST_NAMES[(value * 40_503 >> 3) % len(FIRST_NAMES)],
    )


def _profiles() -> list[tuple[list[str], list[float]]]:
    """Cumulative weights over all letters for each profile (3% not-counted letters)."""
    out = []
    for weights in PROFILES:
        total = sum(weights)
        letters = list(LETTERS)
        probs = [w / total * (1 - NOT_COUNTED_SHARE) for w in weights]
        for letter, share in NOT_COUNTED:
            letters.append(letter)
            probs.append(share * NOT_COUNTED_SHARE)
        out.append((letters, list(accumulate(probs))))
    return out


def generate(
    grades: int,
    out: Path,
    *,
    seed: int = 7,
    prefix: str = "",
    student_offset: int | None = None,
    name_without_comma: bool = False,
) -> dict[str, str]:
    """Write the file; return one existing section, group and student id (for reports).

    ``name_without_comma``: one ``name`` column written ``Last First``, so that every row
    carries a warning (design.md: a name without a comma is read as a last name).
    """
    rng = random.Random(f"{seed}:{prefix}")
    n_students = max(grades // 6, 50)
    if student_offset is None:
        student_offset = n_students // 2 if prefix else 0
    profiles = _profiles()
    weights_by_profile = [1, 3, 3, 2, 1]
    cum_profile = list(accumulate(weights_by_profile))
    sample: dict[str, str] = {}
    written = 0
    group_index = 0
    per_cycle = len(DEPARTMENTS) * len(TERMS)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(NAME_HEADER if name_without_comma else HEADER)
        while written < grades:
            dept = DEPARTMENTS[group_index % len(DEPARTMENTS)]
            term = TERMS[(group_index // len(DEPARTMENTS)) % len(TERMS)]
            course = 100 + group_index // per_cycle
            group = f"{prefix}{dept}{course}{term}"
            credit_hours = rng.choices((1, 2, 3, 4, 5), (1, 2, 10, 6, 1))[0]
            group_index += 1
            for number in range(1, rng.randint(2, 8) + 1):
                if written >= grades:
                    break
                section = f"{prefix}{dept}{course}.{number:02d}{term}"
                size = min(rng.randint(8, 45), grades - written)
                letters, cum = profiles[
                    rng.choices(range(len(profiles)), cum_weights=cum_profile)[0]
                ]
                chosen = rng.sample(range(n_students), size)
                drawn = rng.choices(letters, cum_weights=cum, k=size)
                rows = []
                for index, grade in zip(chosen, drawn, strict=True):
                    sid = student_id(index + student_offset)
                    last, first = student_name(sid)
                    names = (f"{last} {first}",) if name_without_comma else (last, first)
                    rows.append((section, sid, *names, grade, group, credit_hours, term))
                writer.writerows(rows)
                written += size
                if not sample:
                    sample = {"section": section, "group": group, "student_id": rows[0][1]}
    return sample


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grades", type=int, default=1_000_000, help="number of grade rows")
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--prefix", default="", help="prefix of every section and group name")
    parser.add_argument(
        "--student-offset",
        type=int,
        default=None,
        help="shift into the student id space (default: 0, or N/12 with --prefix: half shared)",
    )
    parser.add_argument(
        "--name-without-comma",
        action="store_true",
        help="one name column written 'Last First': every row carries a warning",
    )
    args = parser.parse_args(argv)
    if args.grades < 0:
        parser.error("--grades must be >= 0")
    sample = generate(
        args.grades,
        args.out,
        seed=args.seed,
        prefix=args.prefix,
        student_offset=args.student_offset,
        name_without_comma=args.name_without_comma,
    )
    print(
        f"{args.out}: {args.grades} grades; e.g. section {sample.get('section')},"
        f" group {sample.get('group')}, student {sample.get('student_id')}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
