"""Which tests come first: each order as a Python key and, where the database sorts too, its SQL
ORDER BY, side by side so the two cannot drift apart.

- significant after adjustment, then significant, then largest |z| (null z last): what a
  summary and a screen show when the tests do not fit;
- largest |z| (null z last): `gradestore zscore`;
- lowest z (null z last): a group report's sections, the ones pulling the group down first.
"""

from __future__ import annotations

from typing import Protocol


class ZTested(Protocol):
    @property
    def z_score(self) -> float | None: ...
    @property
    def significant(self) -> bool: ...


class AdjustedTest(ZTested, Protocol):
    @property
    def significant_adjusted(self) -> bool | None: ...


def largest_z_first(test: ZTested) -> tuple[bool, float]:
    return (test.z_score is None, -abs(test.z_score or 0.0))


def significant_then_largest_z(test: AdjustedTest) -> tuple[bool, bool, bool, float]:
    return (not test.significant_adjusted, not test.significant, *largest_z_first(test))


def significant_then_largest_z_sql(table: str) -> str:
    """The ORDER BY of :func:`significant_then_largest_z` for a table with those columns."""
    return (
        f"CASE WHEN {table}.significant_adjusted THEN 0 ELSE 1 END, {table}.significant DESC,"
        f" CASE WHEN {table}.z_score IS NULL THEN 1 ELSE 0 END, ABS({table}.z_score) DESC"
    )


def lowest_z_first(test: ZTested) -> tuple[bool, float]:
    return (test.z_score is None, test.z_score or 0.0)
