"""Use cases that read stored analyses: every report is a query on the store, never a
recomputation from files. Each opens one read transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from gradestore.analysis import NOTHING_STORED, unknown
from gradestore.errors import NotFoundError
from gradestore.persistence.db import UnitOfWork
from gradestore.persistence.repository import Repository
from gradestore.results import AnalysisResult, GroupTest, SectionTest, load_analysis

NOTHING_ANALYSED = "no analysis is stored yet: run `gradestore analyze` first"


def resolve_analysis_id(repository: Repository, analysis_id: int | None) -> int:
    """The analysis asked for, else the latest; a clear error when there is none."""
    if analysis_id is None:
        latest = repository.latest_analysis_id()
        if latest is None:
            raise NotFoundError(NOTHING_ANALYSED if repository.has_grades() else NOTHING_STORED)
        return latest
    if repository.analysis(analysis_id) is None:
        known = repository.analysis_ids()
        listed = ", ".join(map(str, known[-10:])) if known else "none"
        raise NotFoundError(f"unknown analysis {analysis_id}; stored analyses: {listed}")
    return analysis_id


def analysis_report(engine: Engine, analysis_id: int | None = None) -> AnalysisResult:
    """The comprehensive report: everything an analysis stored, lists included."""
    with UnitOfWork(engine, write=False) as unit:
        repository = unit.repository
        return load_analysis(
            repository, resolve_analysis_id(repository, analysis_id), with_lists=True
        )


@dataclass(frozen=True, slots=True)
class ZScoreRow:
    """One stored z-test: a section against a group, or a group against all groups."""

    kind: str  # "section" | "group"
    name: str
    against: str
    count: int
    mean_gpa: float | None
    z_score: float | None
    p_value: float | None
    significant: bool


@dataclass(frozen=True, slots=True)
class ZScoreListing:
    analysis_id: int
    threshold: float | None
    rows: list[ZScoreRow]

    def as_json(self) -> dict[str, Any]:
        return {
            "analysis_id": self.analysis_id,
            "threshold": self.threshold,
            "tests": [
                {
                    "kind": row.kind,
                    "name": row.name,
                    "against": row.against,
                    "count": row.count,
                    "mean_gpa": row.mean_gpa,
                    "z_score": row.z_score,
                    "p_value": row.p_value,
                    "significant": row.significant,
                }
                for row in self.rows
            ],
        }


ALL_GROUPS = "all groups"


def by_abs_z(row: ZScoreRow | SectionTest | GroupTest) -> tuple[bool, float]:
    """Largest |z| first; tests without a z (null cases) last."""
    return (row.z_score is None, -abs(row.z_score or 0.0))


def zscore_listing(
    engine: Engine,
    *,
    section: str | None = None,
    group: str | None = None,
    analysis_id: int | None = None,
) -> ZScoreListing:
    """The stored z-tests of an analysis (the latest by default), sorted by |z|."""
    with UnitOfWork(engine, write=False) as unit:
        repository = unit.repository
        analysis_id = resolve_analysis_id(repository, analysis_id)
        result = load_analysis(repository, analysis_id, with_lists=False)
        _check_known(repository, result, section=section, group=group)
    rows = [
        ZScoreRow(
            "section",
            test.section,
            test.group,
            test.count,
            test.mean_gpa,
            test.z_score,
            test.p_value,
            test.significant,
        )
        for test in result.sections
        if test.group is not None
        and (section is None or test.section == section)
        and (group is None or test.group == group)
    ]
    if section is None:
        rows += [
            ZScoreRow(
                "group",
                test.group,
                ALL_GROUPS,
                test.count,
                test.mean_gpa,
                test.z_score,
                test.p_value,
                test.significant,
            )
            for test in result.groups
            if group is None or test.group == group
        ]
    return ZScoreListing(analysis_id, result.threshold, sorted(rows, key=by_abs_z))


def _check_known(
    repository: Repository,
    result: AnalysisResult,
    *,
    section: str | None,
    group: str | None,
) -> None:
    """An unknown name, or one the analysis did not cover, is an error naming close matches."""
    if section is not None and section not in {test.section for test in result.sections}:
        names = repository.section_names()
        if section in names:
            raise NotFoundError(
                f"section {section!r} is not in analysis {result.analysis_id}"
                " (run `gradestore analyze` to include it)"
            )
        raise NotFoundError(unknown("section", section, names))
    if group is not None and group not in {test.group for test in result.groups}:
        names = repository.group_names()
        if group in names:
            raise NotFoundError(f"group {group!r} is not in analysis {result.analysis_id}")
        raise NotFoundError(unknown("group", group, names))
