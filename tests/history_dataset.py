"""Two grade files for the tests of a store's life (analyses over time, alerts, undo).

``first.csv``: group G, four sections of the same 20 grades (5 each of A, B, C, D): every
section's mean is its group's, so no test is flagged (z = 0, and the only group has no test).

``second.csv``: group H, three sections like G's and H.04, where all 20 students have F. By
hand: H's mean is 1.875 and its stddev (ddof 0) 1.4524, so H.04's z is
(0 - 1.875) / (1.4524 / sqrt 20) = -5.77 (p about 8e-9): flagged; H.01-H.03 have
z = (2.5 - 1.875) / 0.3248 = 1.92, p = 0.054: not flagged at 0.05. The students of H.04 are
new; those of H.01-H.03 are G's students (the file adds grades of known students too).
"""

from __future__ import annotations

import csv
from pathlib import Path

HEADER = ("section", "student_id", "last_name", "first_name", "grade", "group", "term")
SPREAD = ["A"] * 5 + ["B"] * 5 + ["C"] * 5 + ["D"] * 5
G_SECTIONS = ["G.01F25", "G.02F25", "G.03F25", "G.04F25"]
H_SECTIONS = ["H.01F25", "H.02F25", "H.03F25"]
FAILING = "H.04F25"


def _student(number: int) -> tuple[str, str, str]:
    return (f"{number:05d}", f"Last{number}", f"First{number}")


def _rows(sections: list[str], group: str, first_student: int) -> list[tuple[str, ...]]:
    rows = []
    for index, section in enumerate(sections):
        for seat, grade in enumerate(SPREAD):
            student = _student(first_student + index * 20 + seat)
            rows.append((section, *student, grade, group, "F25"))
    return rows


def write(path: Path, rows: list[tuple[str, ...]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def first_csv(folder: Path) -> Path:
    return write(folder / "first.csv", _rows(G_SECTIONS, "G", 1))


def second_csv(folder: Path) -> Path:
    rows = _rows(H_SECTIONS, "H", 1)
    rows += [(FAILING, *_student(1000 + seat), "F", "H", "F25") for seat in range(20)]
    return write(folder / "second.csv", rows)
