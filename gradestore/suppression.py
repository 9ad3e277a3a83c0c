"""Small-cell suppression for a report that is shared (``report --suppress-below K``). Pure.

What a suppressed report withholds (docs/sharing.md says why and what it does not protect):

- every count below K, zero included: a grade count, a section's or a group's number of
  counted grades, a list's size. Tables and CSV show ``<K``; JSON has null and
  ``"suppressed": true`` on the object that lost it;
- everything computed from a section (or a group) with fewer than K counted grades: its mean
  GPA, standard deviation and every test figure (diff, d, z, p, adjusted p, both flags, the
  reason there is no test);
- every student's name and id: the good and work lists are reduced to their sizes.

The renderers ask this module what to show; the result objects themselves are never changed,
so a suppressed report is the same analysis as the full one, only less of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gradestore.jsontypes import JsonObject, JsonValue

# The figures a section or group with too few counted grades loses, by their JSON keys.
WITHHELD_FIGURES = (
    "mean_gpa",
    "stddev",
    "z_score",
    "p_value",
    "significant",
    "effect_size",
    "p_adjusted",
    "significant_adjusted",
    "no_test_reason",
)
# Arrays of students, by their JSON keys: replaced by their sizes.
STUDENT_ARRAYS = ("good_list", "work_list")
# Arrays of tests inside a report: each masked on its own count, or on the report's.
TEST_ARRAYS = ("sections", "groups", "section_tests")


@dataclass(frozen=True, slots=True)
class Suppression:
    """Withhold every count below ``below`` and what a small section's grades would show."""

    below: int

    @property
    def label(self) -> str:
        """What a table or a CSV shows in place of a withheld count."""
        return f"<{self.below}"

    @property
    def reason(self) -> str:
        """What stands in the z column of a table for a section whose figures are withheld."""
        return "withheld"  # short: its count shows <K, and the line above the table says why

    def hides(self, count: int | None) -> bool:
        """A count that is not shown: below K (zero too: 'nobody got an F' is about everyone)."""
        return count is not None and count < self.below

    def count_cell(self, count: int) -> int | str:
        return self.label if self.hides(count) else count

    def grade_count_cells(
        self, grade_counts: Mapping[str, int], letters: Sequence[str]
    ) -> list[int | str]:
        """A section's grade counts in ``letters``' order, the small ones withheld."""
        return [self.count_cell(grade_counts.get(letter, 0)) for letter in letters]

    def heading_json(self) -> JsonObject:
        return {"suppress_below": self.below}

    def list_size_json(self, size: int) -> int | None:
        return None if self.hides(size) else size

    def masked_json(self, data: JsonObject) -> JsonObject:
        """A test's or a report's JSON (as ``as_json()`` gives it) with the small cells null.

        An object that lost anything gets ``"suppressed": true``; arrays of tests are masked
        item by item, and arrays of students become null beside their ``*_size`` (withheld
        when small).
        """
        masked = dict(data)
        withheld = self._mask_grade_counts(masked)
        count = data.get("count")
        if isinstance(count, int) and self.hides(count):
            masked["count"] = None
            withheld = True
            for key in WITHHELD_FIGURES:
                if key in masked:
                    masked[key] = None
            if isinstance(tests := masked.get("tests"), list):
                masked["tests"] = [self._without_figures(test) for test in tests]
        for key in TEST_ARRAYS:
            if isinstance(tests := masked.get(key), list):
                masked[key] = [
                    self.masked_json(test) if isinstance(test, dict) else test for test in tests
                ]
        for key in STUDENT_ARRAYS:
            if isinstance(students := masked.get(key), list):
                masked[key] = None
                masked[f"{key}_size"] = self.list_size_json(len(students))
                withheld = True
        if withheld:
            masked["suppressed"] = True
        return masked

    def _mask_grade_counts(self, data: JsonObject) -> bool:
        counts = data.get("grade_counts")
        if not isinstance(counts, Mapping):
            return False
        masked = {
            letter: None if isinstance(n, int) and self.hides(n) else n
            for letter, n in counts.items()
        }
        data["grade_counts"] = masked
        return any(value is None for value in masked.values())

    def _without_figures(self, test: JsonValue) -> JsonValue:
        if not isinstance(test, dict):
            return test
        return {
            **test,
            **{key: None for key in WITHHELD_FIGURES if key in test},
            "suppressed": True,
        }


def check_suppress_below(value: int | None) -> Suppression | None:
    """The rule for ``--suppress-below K``: K is a whole number of at least 2 (K = 1 would
    withhold only zeros)."""
    from gradestore.errors import UsageError

    if value is None:
        return None
    if value < 2:
        raise UsageError(f"--suppress-below must be at least 2 (got {value})")
    return Suppression(value)
