"""The SQL behind the seed project's service API (``gradestore.persistence.service``).

Rows written here belong to one analysis of scope SERVICE; repeat calls are idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update

from gradestore.kinds import ListKind, ScopeKind
from gradestore.persistence.models import (
    Analysis,
    AnalysisSection,
    Group,
    Performance,
    Section,
    Student,
    ZScore,
    utc_now,
)
from gradestore.persistence.rows import NewStudent, StudentPk
from gradestore.persistence.sql import SqlStore, chunks


@dataclass(frozen=True, slots=True)
class SeedPerformance:
    """One list entry written through the service API."""

    student_pk: StudentPk
    grade: str
    kind: ListKind


@dataclass(frozen=True, slots=True)
class SeedZScore:
    z_score: float | None
    p_value: float | None
    significant: bool
    threshold: float
    timestamp: datetime


class SeedStore(SqlStore):
    def service_analysis_id(self) -> int:
        """The one analysis that collects rows written through the seed's service API."""
        found = self.connection.execute(
            select(Analysis.id)
            .where(Analysis.scope_kind == ScopeKind.SERVICE)
            .order_by(Analysis.id)
        ).first()
        if found is not None:
            return found[0]
        return self.connection.execute(
            insert(Analysis)
            .values(
                created_at=utc_now(), threshold=None, scope_kind=ScopeKind.SERVICE, scope_names=[]
            )
            .returning(Analysis.id)
        ).scalar_one()

    def ensure_students(self, students: Iterable[NewStudent]) -> dict[str, StudentPk]:
        """student_id -> student_pk; a known student keeps the stored name."""
        by_id = {student.student_id: student for student in students}
        if not by_id:
            return {}
        wanted = sorted(by_id)
        existing = self._student_pks(wanted)
        missing = [student_id for student_id in wanted if student_id not in existing]
        if missing:
            self.connection.execute(
                insert(Student),
                [
                    {
                        "student_id": sid,
                        "fname": by_id[sid].first_name,
                        "lname": by_id[sid].last_name,
                    }
                    for sid in missing
                ],
            )
            existing.update(self._student_pks(missing))
        return existing

    def _student_pks(self, student_ids: list[str]) -> dict[str, StudentPk]:
        pks: dict[str, StudentPk] = {}
        for chunk in chunks(student_ids):
            for student_id, student_pk in self.connection.execute(
                select(Student.student_id, Student.id).where(Student.student_id.in_(chunk))
            ):
                pks[student_id] = student_pk
        return pks

    def add_performances(
        self, analysis_id: int, section_id: int, rows: Iterable[SeedPerformance]
    ) -> int:
        """Add list entries not stored yet; returns how many."""
        wanted = {(row.student_pk, row.kind.stored): row.grade for row in rows}
        if not wanted:
            return 0
        existing = {
            (student_pk, category)
            for student_pk, category in self.connection.execute(
                select(Performance.student_id, Performance.category).where(
                    Performance.analysis_id == analysis_id, Performance.section_id == section_id
                )
            )
        }
        new_rows = [
            {
                "analysis_id": analysis_id,
                "section_id": section_id,
                "student_id": student_pk,
                "grade": grade,
                "category": category,
                "appeared_before": False,
            }
            for (student_pk, category), grade in sorted(wanted.items())
            if (student_pk, category) not in existing
        ]
        if new_rows:
            self.connection.execute(insert(Performance), new_rows)
        return len(new_rows)

    def set_section_stats(self, section_id: int, mean_gpa: float | None, count: int | None) -> None:
        self.connection.execute(
            update(Section).where(Section.id == section_id).values(mean_gpa=mean_gpa, count=count)
        )

    def set_group_stats(self, group_id: int, mean_gpa: float | None, stddev: float | None) -> None:
        self.connection.execute(
            update(Group).where(Group.id == group_id).values(mean_gpa=mean_gpa, stddev=stddev)
        )

    def put_service_zscore(self, analysis_id: int, section_id: int, zscore: SeedZScore) -> None:
        """One z-score per section in the service analysis: a repeat call updates it."""
        values = {
            "z_score": zscore.z_score,
            "p_value": zscore.p_value,
            "significant": zscore.significant,
            "threshold": zscore.threshold,
            "timestamp": zscore.timestamp,
        }
        updated = self.connection.execute(
            update(ZScore)
            .where(
                ZScore.analysis_id == analysis_id,
                ZScore.section_id == section_id,
                ZScore.group_id.is_(None),
            )
            .values(**values)
        ).rowcount
        if not updated:
            self.connection.execute(
                insert(ZScore).values(analysis_id=analysis_id, section_id=section_id, **values)
            )
        self._cover_section(analysis_id, section_id)

    def _cover_section(self, analysis_id: int, section_id: int) -> None:
        """The section belongs to the service analysis, so `zscore --analysis ID` and the
        reports of that analysis show the z-score (with the section's stored stats)."""
        covered = self.connection.execute(
            select(AnalysisSection.section_id).where(
                AnalysisSection.analysis_id == analysis_id,
                AnalysisSection.section_id == section_id,
            )
        ).first()
        if covered is not None:
            return
        count, mean_gpa = self.connection.execute(
            select(Section.count, Section.mean_gpa).where(Section.id == section_id)
        ).one()
        self.connection.execute(
            insert(AnalysisSection).values(
                analysis_id=analysis_id,
                section_id=section_id,
                count=count or 0,
                mean_gpa=mean_gpa,
                grade_counts={},
            )
        )
