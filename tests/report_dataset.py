"""The store both report test files build: its rows and the figures expected of it, computed
here independently of gradestore."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.expected import GOOD, LETTERS, POINTS, WORK, ztest

S1, S2, S3, S4 = "COMSC210.01F25", "COMSC210.02F25", "MATH101.01F25", "ART100.01F25"
HYPERLINK = '=HYPERLINK("http://evil","x")'
HEADER = ("section", "student_id", "last_name", "first_name", "grade", "group", "term")
# S1 holds every one of the 17 letters (A three times, B twice); S2 is in two groups (the
# group column differs between its rows); S4 is in no group. Four last names begin with a
# spreadsheet formula character.
ROWS: list[tuple[str, str, str, str, str, str]] = [
    (S1, "1001", HYPERLINK, "Eve", "A", "COMSC210"),
    (S1, "1002", "Adams", "Ann", "A", "COMSC210"),
    (S1, "1003", "Baker", "Bo", "A", "COMSC210"),
    (S1, "1004", "Cole", "Cy", "A+", "COMSC210"),
    (S1, "1005", "+1", "Pat", "A-", "COMSC210"),
    (S1, "1006", "Dunn", "Di", "B+", "COMSC210"),
    (S1, "1007", "Ellis", "Ed", "B", "COMSC210"),
    (S1, "1008", "Ford", "Fi", "B", "COMSC210"),
    (S1, "1009", "Gray", "Gil", "B-", "COMSC210"),
    (S1, "1010", "Hart", "Hu", "C+", "COMSC210"),
    (S1, "1011", "Ives", "Ian", "C", "COMSC210"),
    (S1, "1012", "Jain", "Jo", "C-", "COMSC210"),
    (S1, "1013", "Kent", "Kim", "D+", "COMSC210"),
    (S1, "1014", "-Smith", "Sue", "D", "COMSC210"),
    (S1, "1015", "Lowe", "Liv", "D-", "COMSC210"),
    (S1, "1016", "@x", "Max", "F", "COMSC210"),
    (S1, "1017", "Mann", "Mo", "I", "COMSC210"),
    (S1, "1018", "Nash", "Ned", "W", "COMSC210"),
    (S1, "1019", "Orr", "Ola", "P", "COMSC210"),
    (S1, "1020", "Penn", "Pia", "NP", "COMSC210"),
    (S2, "1002", "Adams", "Ann", "D", "COMSC210"),
    (S2, "1021", "Quinn", "Zed", "A", "COMSC210"),
    (S2, "1022", "Reed", "Ray", "C", "COMSC210"),
    (S2, "1023", "Shaw", "Sy", "C", "COMSC210"),
    (S2, "1024", "Tate", "Tom", "F", "CORE"),
    (S3, "1021", "Quinn", "Zed", "A", "CORE"),
    (S3, "1025", "Upton", "Uma", "A-", "CORE"),
    (S3, "1026", "Vance", "Val", "B+", "CORE"),
    (S3, "1007", "Ellis", "Ed", "D+", "CORE"),
    (S3, "1024", "Tate", "Tom", "D-", "CORE"),
    (S3, "1027", "West", "Wes", "A", "CORE"),
    (S4, "1027", "West", "Wes", "B", ""),
    (S4, "1028", "Young", "Yan", "A", ""),
]
GROUPS = {"COMSC210": [S1, S2], "CORE": [S2, S3]}
# An earlier list: Tate was on it for a section the store has no grades of.
HISTORY_LST = '"1024","Tate, Tom", 1\n"OLD100.01F20","D"\n'
FIRST_THRESHOLD = 0.4  # S2's two tests (p 0.337 and 0.376) are significant, the others not


# --- independent expectations -------------------------------------------------------------------


def points(section: str) -> list[float]:
    return [POINTS[r[4]] for r in ROWS if r[0] == section and r[4] in POINTS]


def grade_counts(section: str) -> dict[str, int]:
    counts = dict.fromkeys(LETTERS, 0)
    for row in ROWS:
        if row[0] == section:
            counts[row[4]] += 1
    return counts


def expected(groups: dict[str, list[str]], alpha: float) -> dict[str, Any]:
    """(section, group) tests and group tests of an analysis over ``groups`` (plus, when it is
    every group, S4 in no group)."""
    all_pool = [v for s in sorted({s for m in groups.values() for s in m}) for v in points(s)]
    sections: dict[tuple[str, str | None], dict[str, Any]] = {}
    group_tests: dict[str, dict[str, Any]] = {}
    for group, members in groups.items():
        pool = [v for s in members for v in points(s)]
        z, p, sig = ztest(pool, all_pool, alpha)
        group_tests[group] = {
            "sections": sorted(members),
            "count": len(pool),
            "mean_gpa": float(np.mean(pool)),
            "stddev": float(np.std(pool, ddof=0)),
            "z_score": z,
            "p_value": p,
            "significant": sig,
        }
        for section in members:
            z, p, sig = ztest(points(section), pool, alpha)
            sections[(section, group)] = {
                "count": len(points(section)),
                "mean_gpa": float(np.mean(points(section))),
                "grade_counts": grade_counts(section),
                "z_score": z,
                "p_value": p,
                "significant": sig,
            }
    return {"sections": sections, "groups": group_tests}


def expected_lists(scope: set[str]) -> dict[str, dict[str, set[tuple[str, str]]]]:
    lists: dict[str, dict[str, set[tuple[str, str]]]] = {"good": {}, "work": {}}
    for section, student, _last, _first, grade, _group in ROWS:
        if section in scope:
            which = "good" if grade in GOOD else "work" if grade in WORK else None
            if which:
                lists[which].setdefault(student, set()).add((section, grade))
    return lists


def close(actual: float | None, want: float | None) -> bool:
    if want is None or actual is None:
        return actual is want
    return actual == pytest.approx(want, rel=1e-9, abs=1e-12)


def check_analysis_json(got: dict[str, Any], want: dict[str, Any]) -> None:
    tests = {(s["section"], s["group"]): s for s in got["sections"] if s["group"] is not None}
    assert set(tests) == set(want["sections"])
    for key, exp in want["sections"].items():
        assert tests[key]["count"] == exp["count"], key
        assert tests[key]["grade_counts"] == exp["grade_counts"], key
        for field in ("mean_gpa", "z_score", "p_value"):
            assert close(tests[key][field], exp[field]), (key, field)
        assert tests[key]["significant"] is exp["significant"], key
    groups = {g["group"]: g for g in got["groups"]}
    assert set(groups) == set(want["groups"])
    for name, exp in want["groups"].items():
        assert sorted(groups[name]["sections"]) == exp["sections"]
        assert groups[name]["count"] == exp["count"]
        for field in ("mean_gpa", "stddev", "z_score", "p_value"):
            assert close(groups[name][field], exp[field]), (name, field)
        assert groups[name]["significant"] is exp["significant"], name
