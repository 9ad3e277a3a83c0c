"""Use case: compute design.md section 2 over a scope of the store and keep it as an analysis.

The database counts grades per (section, letter) in one GROUP BY; the statistics are computed
from those counts in Python (stats.py); the results and the good and work lists are written
back set-based, all in one transaction.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass

from gradestore import stats
from gradestore.errors import NotFoundError, UsageError
from gradestore.grades import ALL_GRADES, GOOD_GRADES, GRADE_POINTS, WORK_GRADES
from gradestore.kinds import ScopeKind
from gradestore.persistence.analysis_store import AnalysisStore
from gradestore.persistence.db import UnitOfWorkFactory
from gradestore.persistence.models import utc_now
from gradestore.persistence.rows import (
    AnalysisFigures,
    GroupFigures,
    Membership,
    SectionFigures,
    SectionZTest,
)
from gradestore.results import AnalysisResult, load_analysis

DEFAULT_THRESHOLD = 0.05
NOTHING_STORED = "no grades are stored yet: run `gradestore ingest FILE...` first"


@dataclass(frozen=True)
class Scope:
    """What an analysis covers: everything, some groups, or the groups of a legacy run."""

    kind: ScopeKind
    names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ScopeKind(self.kind))

    @classmethod
    def from_options(cls, groups: list[str] | None, run: str | None) -> Scope:
        if groups and run:
            raise UsageError("give --group or --run, not both")
        if run:
            return cls(ScopeKind.RUN, (run,))
        if groups:
            return cls(ScopeKind.GROUPS, tuple(dict.fromkeys(groups)))
        return cls(ScopeKind.ALL)


def validate_threshold(threshold: float) -> float:
    if not 0 < threshold < 1:
        raise UsageError(
            f"--threshold must be a number between 0 and 1 (exclusive), not {threshold}"
        )
    return threshold


def run_analysis(
    units: UnitOfWorkFactory,
    threshold: float = DEFAULT_THRESHOLD,
    scope: Scope = Scope(ScopeKind.ALL),
    *,
    with_lists: bool = True,
    top: int | None = None,
) -> AnalysisResult:
    """Analyse ``scope``, store it as a new analysis and return it as stored (``top``: only the
    leading tests, see :func:`gradestore.results.load_analysis`)."""
    validate_threshold(threshold)
    with units(write=True) as unit:
        store = unit.analysis
        if not store.has_grades():
            raise NotFoundError(NOTHING_STORED)
        group_ids = _scope_group_ids(store, scope)
        grade_counts = store.scope_grade_counts(group_ids, ALL_GRADES)
        if not grade_counts:
            raise NotFoundError(f"the {scope.kind} scope {', '.join(scope.names)} has no sections")
        memberships = store.scope_memberships(group_ids)
        analysis_id = store.create_analysis(
            threshold, scope.kind, list(scope.names), created_at=utc_now()
        )
        store.add_analysis_figures(_compute(analysis_id, threshold, grade_counts, memberships))
        store.add_list_performances(analysis_id, GOOD_GRADES, WORK_GRADES)
        result = load_analysis(unit.reports, analysis_id, with_lists=with_lists, top=top)
        unit.commit()
    return result


def _scope_group_ids(store: AnalysisStore, scope: Scope) -> list[int] | None:
    if scope.kind is ScopeKind.ALL:
        return None
    if scope.kind is ScopeKind.RUN:
        (run_name,) = scope.names
        group_names = store.run_group_names(run_name)
        if group_names is None:
            raise NotFoundError(unknown("run", run_name, store.run_names()))
    else:
        group_names = list(scope.names)
    found = store.group_ids(group_names)
    for name in group_names:
        if name not in found:
            raise NotFoundError(unknown("group", name, store.group_names()))
    return sorted(found.values())


def unknown(kind: str, name: str, existing: list[str]) -> str:
    """One line naming what was asked and the closest existing names."""
    close = difflib.get_close_matches(name, existing, n=3, cutoff=0.5)
    if close:
        hint = f"; did you mean {', '.join(close)}?"
    elif existing:
        shown = ", ".join(existing[:5]) + (", ..." if len(existing) > 5 else "")
        hint = f"; known {kind}s: {shown}"
    else:
        hint = f"; no {kind}s are stored"
    return f"unknown {kind} {name!r}{hint}"


def _compute(
    analysis_id: int,
    threshold: float,
    grade_counts: dict[int, dict[str, int]],
    memberships: list[Membership],
) -> AnalysisFigures:
    """Every statistic of the analysis, on arrays: a row per section, group or test."""
    import numpy as np

    section_ids = list(grade_counts)
    row_of = {section_id: row for row, section_id in enumerate(section_ids)}
    counted = list(GRADE_POINTS)
    points = np.array([GRADE_POINTS[letter] for letter in counted])
    counts = np.array(
        [[grade_counts[s].get(letter, 0) for letter in counted] for s in section_ids], dtype=float
    ).reshape(len(section_ids), len(counted))
    sections = stats.pools_from_counts(counts, points)

    group_members: dict[int, list[int]] = defaultdict(list)
    for membership in memberships:
        if membership.section_id in row_of:
            group_members[membership.group_id].append(row_of[membership.section_id])
    group_ids = list(group_members)
    group_counts = np.array(
        [counts[group_members[g]].sum(axis=0) for g in group_ids], dtype=float
    ).reshape(len(group_ids), len(counted))
    groups = stats.pools_from_counts(group_counts, points)
    # 'All' pools every section of every group of the analysis, each enrollment once.
    grouped_rows = sorted({row for rows in group_members.values() for row in rows})
    everything = stats.pools_from_counts(counts[grouped_rows].sum(axis=0, keepdims=True), points)

    # Section against each of its groups: one row per (group, section) test.
    test_group = np.array([i for i, g in enumerate(group_ids) for _ in group_members[g]], dtype=int)
    test_section = np.array([row for g in group_ids for row in group_members[g]], dtype=int)
    section_z = stats.test_list(
        *stats.z_tests_of(sections.take(test_section), groups.take(test_group), threshold)
    )
    group_z = stats.test_list(
        *stats.z_tests_of(groups, everything.take(np.zeros(len(group_ids), dtype=int)), threshold)
    )
    return AnalysisFigures(
        analysis_id=analysis_id,
        threshold=threshold,
        timestamp=utc_now(),
        sections=[
            SectionFigures(section_id, pool.count, pool.mean_gpa, grade_counts[section_id])
            for section_id, pool in zip(section_ids, stats.pool_list(sections), strict=True)
        ],
        groups=[
            GroupFigures(
                group_id,
                pool.count,
                pool.mean_gpa,
                pool.stddev,
                test.z_score,
                test.p_value,
                test.significant,
            )
            for group_id, pool, test in zip(
                group_ids, stats.pool_list(groups), group_z, strict=True
            )
        ],
        zscores=[
            SectionZTest(
                section_ids[row],
                group_ids[group_index],
                test.z_score,
                test.p_value,
                test.significant,
            )
            for group_index, row, test in zip(
                test_group.tolist(), test_section.tolist(), section_z, strict=True
            )
        ],
    )
