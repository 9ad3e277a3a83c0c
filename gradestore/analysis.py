"""Use case: compute design.md section 2 over a scope of the store and keep it as an analysis.

The database counts grades per (section, letter) in one GROUP BY; the statistics are computed
from those counts in Python (stats.py); the results and the good and work lists are written
back set-based, all in one transaction.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Engine

from gradestore import stats
from gradestore.errors import NotFoundError, UsageError
from gradestore.grades import ALL_GRADES, GOOD_GRADES, WORK_GRADES, points_histogram
from gradestore.persistence.db import UnitOfWork
from gradestore.persistence.models import utc_now
from gradestore.persistence.repository import Repository
from gradestore.results import AnalysisResult, load_analysis

DEFAULT_THRESHOLD = 0.05
NOTHING_STORED = "no grades are stored yet: run `gradestore ingest FILE...` first"


@dataclass(frozen=True)
class Scope:
    """What an analysis covers: everything, some groups, or the groups of a legacy run."""

    kind: str  # "all" | "groups" | "run"
    names: tuple[str, ...] = ()

    @classmethod
    def from_options(cls, groups: list[str] | None, run: str | None) -> Scope:
        if groups and run:
            raise UsageError("give --group or --run, not both")
        if run:
            return cls("run", (run,))
        if groups:
            return cls("groups", tuple(dict.fromkeys(groups)))
        return cls("all")


def validate_threshold(threshold: float) -> float:
    if not 0 < threshold < 1:
        raise UsageError(
            f"--threshold must be a number between 0 and 1 (exclusive), not {threshold}"
        )
    return threshold


def run_analysis(
    engine: Engine,
    threshold: float = DEFAULT_THRESHOLD,
    scope: Scope = Scope("all"),
    *,
    with_lists: bool = True,
) -> AnalysisResult:
    """Analyse ``scope``, store it as a new analysis and return it as stored."""
    validate_threshold(threshold)
    with UnitOfWork(engine, write=True) as unit:
        repository = unit.repository
        if not repository.has_grades():
            raise NotFoundError(NOTHING_STORED)
        group_ids = _scope_group_ids(repository, scope)
        grade_rows = repository.scope_grade_counts(group_ids)
        if not grade_rows:
            raise NotFoundError(f"the {scope.kind} scope {', '.join(scope.names)} has no sections")
        memberships = repository.scope_memberships(group_ids)
        analysis_id = repository.create_analysis(
            threshold, scope.kind, list(scope.names), created_at=utc_now()
        )
        _compute_and_store(repository, analysis_id, threshold, grade_rows, memberships)
        repository.add_list_performances(analysis_id, GOOD_GRADES, WORK_GRADES)
        result = load_analysis(repository, analysis_id, with_lists=with_lists)
        unit.commit()
    return result


def _scope_group_ids(repository: Repository, scope: Scope) -> list[int] | None:
    if scope.kind == "all":
        return None
    if scope.kind == "run":
        (run_name,) = scope.names
        group_names = repository.run_group_names(run_name)
        if group_names is None:
            raise NotFoundError(unknown("run", run_name, repository.run_names()))
    else:
        group_names = list(scope.names)
    found = repository.group_ids(group_names)
    for name in group_names:
        if name not in found:
            raise NotFoundError(unknown("group", name, repository.group_names()))
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


def _compute_and_store(
    repository: Repository,
    analysis_id: int,
    threshold: float,
    grade_rows: list[tuple[int, str, str | None, int]],
    memberships: list[tuple[int, str, int]],
) -> None:
    grade_counts: dict[int, dict[str, int]] = defaultdict(dict)
    for section_id, _name, letter, count in grade_rows:
        counts = grade_counts[section_id]
        if letter is not None:
            counts[letter] = count
    histograms = {
        section_id: points_histogram(counts) for section_id, counts in grade_counts.items()
    }
    section_stats = {section_id: stats.pool_stats(h) for section_id, h in histograms.items()}

    group_members: dict[int, list[int]] = defaultdict(list)
    for group_id, _group_name, section_id in memberships:
        if section_id in histograms:
            group_members[group_id].append(section_id)
    group_stats = {
        group_id: stats.pool_stats(stats.merge_histograms(histograms[s] for s in members))
        for group_id, members in group_members.items()
    }
    # 'All' pools every section of every group of the analysis, each enrollment once.
    grouped_sections = {s for members in group_members.values() for s in members}
    all_stats = stats.pool_stats(stats.merge_histograms(histograms[s] for s in grouped_sections))

    timestamp = utc_now()
    zscore_rows = []
    for group_id, members in group_members.items():
        for section_id in members:
            test = stats.z_test(section_stats[section_id], group_stats[group_id], threshold)
            zscore_rows.append(
                {
                    "analysis_id": analysis_id,
                    "section_id": section_id,
                    "group_id": group_id,
                    "z_score": test.z_score,
                    "p_value": test.p_value,
                    "significant": test.significant,
                    "threshold": threshold,
                    "timestamp": timestamp,
                }
            )
    group_rows = []
    for group_id, pool in group_stats.items():
        test = stats.z_test(pool, all_stats, threshold)
        group_rows.append(
            {
                "analysis_id": analysis_id,
                "group_id": group_id,
                "count": pool.count,
                "mean_gpa": pool.mean_gpa,
                "stddev": pool.stddev,
                "z_score": test.z_score,
                "p_value": test.p_value,
                "significant": test.significant,
            }
        )
    section_rows = [
        {
            "analysis_id": analysis_id,
            "section_id": section_id,
            "count": section_stats[section_id].count,
            "mean_gpa": section_stats[section_id].mean_gpa,
            "grade_counts": {
                letter: grade_counts[section_id].get(letter, 0) for letter in ALL_GRADES
            },
        }
        for section_id in histograms
    ]
    repository.add_analysis_rows(sections=section_rows, groups=group_rows, zscores=zscore_rows)
