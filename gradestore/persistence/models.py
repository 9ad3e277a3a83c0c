"""SQLAlchemy models: the seed's five tables plus what the rest of the contract needs.

The seed's names and columns are kept as they were (``students.fname``, ``zscores.timestamp``...);
new tables use plain names. Every change to this file needs a migration in ``migrations/versions``;
a test fails when the two disagree.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gradestore.persistence.lengths import MAX_LENGTHS as MAX_LENGTHS
from gradestore.persistence.types import UTCDateTime, utc_now

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Student(Base):
    __tablename__ = "students"

    id: Mapped[int] = mapped_column(primary_key=True)
    fname: Mapped[str] = mapped_column(String(200), default="")
    lname: Mapped[str] = mapped_column(String(200), default="")
    student_id: Mapped[str] = mapped_column(String(64), unique=True)
    # Provenance: the file whose ingest created the student (`sources remove` takes it back);
    # null: made before provenance was kept, or by the seed API.
    source_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("source_files.id", ondelete="SET NULL")
    )


class Section(Base):
    __tablename__ = "sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # The seed's columns: the figures of the latest analysis that covered the section.
    mean_gpa: Mapped[float | None] = mapped_column(Float)
    count: Mapped[int | None] = mapped_column(Integer)
    credit_hours: Mapped[float | None] = mapped_column(Float)
    term: Mapped[str | None] = mapped_column(String(32))
    # The term's place in time (gradestore.terms: year * 10 + season), by which terms sort and
    # history looks back; null when the section has no term or one that is not recognised.
    term_order: Mapped[int | None] = mapped_column(Integer, index=True)
    # A legacy .SEC header that names another section is kept here.
    header_name: Mapped[str | None] = mapped_column(String(200))
    # Provenance: the file whose ingest created the section (`sources remove` takes it back);
    # null: made before provenance was kept, or by the seed API.
    source_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("source_files.id", ondelete="SET NULL")
    )


class Group(Base):
    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    mean_gpa: Mapped[float | None] = mapped_column(Float)
    stddev: Mapped[float | None] = mapped_column(Float)
    # Provenance: the file whose ingest created the group (`sources remove` takes it back);
    # null: made before provenance was kept, or by the seed API.
    source_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("source_files.id", ondelete="SET NULL")
    )


class GroupSection(Base):
    """A section may belong to several groups."""

    __tablename__ = "group_sections"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    section_id: Mapped[int] = mapped_column(
        ForeignKey("sections.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # Provenance: the file whose ingest added the membership (`sources remove` takes it back);
    # null: made before provenance was kept, or by the seed API.
    source_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("source_files.id", ondelete="SET NULL")
    )


class Run(Base):
    """A legacy .RUN file: a named set of groups."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # Provenance: the file whose ingest created the run (`sources remove` takes it back);
    # null: made before provenance was kept, or by the seed API.
    source_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("source_files.id", ondelete="SET NULL")
    )


class RunGroup(Base):
    __tablename__ = "run_groups"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # Provenance: the file whose ingest added the group to the run (`sources remove` takes it back);
    # null: made before provenance was kept, or by the seed API.
    source_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("source_files.id", ondelete="SET NULL")
    )


class SourceFile(Base):
    """Provenance: an ingested file that changed the store."""

    __tablename__ = "source_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(1000))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    row_count: Mapped[int] = mapped_column(Integer)
    # The grades and sections this file stored when it stored every grade it holds, else
    # grades_stored is 0. Triggers on enrollments (migration 0010) set it to 0 when any grade
    # of the file is deleted or changed, so while it is not 0 re-ingesting the same bytes is
    # a no-op answered from this row alone (SourcesStore.unchanged_source).
    grades_stored: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sections_stored: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Enrollment(Base):
    """Every stored grade: one row per student per section.

    Its primary key is (section, student), and on SQLite the table is that key's B-tree
    (``WITHOUT ROWID``): a section's grades lie together, so counting grades per section and
    letter, comparing a section with a file and replacing a section read one range, and no
    other index is needed for them. docs/performance.md lists each index with its query.
    """

    __tablename__ = "enrollments"
    __table_args__ = ({"sqlite_with_rowid": False},)

    section_id: Mapped[int] = mapped_column(
        ForeignKey("sections.id", ondelete="CASCADE"), primary_key=True
    )
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), primary_key=True, index=True)
    grade: Mapped[str] = mapped_column(String(2))
    source_file_id: Mapped[int | None] = mapped_column(ForeignKey("source_files.id"), index=True)


class ListAppearance(Base):
    """An entry of a legacy .lst file: the student was on a list in an earlier run."""

    __tablename__ = "list_appearances"
    __table_args__ = (
        UniqueConstraint("student_id", "section_name", "grade"),
        Index("ix_list_appearances_section_name", "section_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"))
    section_name: Mapped[str] = mapped_column(String(200))
    grade: Mapped[str] = mapped_column(String(2))
    source_file_id: Mapped[int | None] = mapped_column(ForeignKey("source_files.id"), index=True)


class Analysis(Base):
    """One run of the statistics over a scope, kept so reports can read it later."""

    __tablename__ = "analyses"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, index=True)
    # Null only for the analysis that collects rows written through the seed's service API.
    threshold: Mapped[float | None] = mapped_column(Float)
    # "all", "groups", "run", or "service"; scope_names holds the group or run names.
    scope_kind: Mapped[str] = mapped_column(String(16))
    scope_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The terms the scope was narrowed to (`analyze --term`), as given; null or empty: none.
    scope_terms: Mapped[list[str] | None] = mapped_column(JSON, default=list)
    # How the tests were made (docs/statistics.md). Analyses stored before these columns have
    # method 'z' and min_n 1 (what they used) and null for what they did not compute.
    method: Mapped[str] = mapped_column(String(16), default="z", server_default="z")
    adjust: Mapped[str | None] = mapped_column(String(16))
    min_n: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    overdispersion: Mapped[float | None] = mapped_column(Float)
    # Section tests that have a p, and threshold x tests: the raw flags chance alone would give.
    tests: Mapped[int | None] = mapped_column(Integer)
    expected_false_flags: Mapped[float | None] = mapped_column(Float)
    # The grade scale the analysis used, in full (GradeScale.as_json), so that it still
    # explains its numbers after the store's scale changes. JSON, not JSONB: letter order counts.
    scale_name: Mapped[str | None] = mapped_column(String(64))
    scale: Mapped[dict[str, object] | None] = mapped_column(JSON)
    # What the analysis read (grades, memberships, sections, list entries, runs) as one hash:
    # `analyze` stores nothing new while it is unchanged (docs/store-life.md). Null: made
    # before it existed, or by the seed API.
    inputs_fingerprint: Mapped[str | None] = mapped_column(String(64))


class StoreScale(Base):
    """The store's grade scale: at most one row; no row means the built-in ``default``."""

    __tablename__ = "store_scale"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    scale: Mapped[dict[str, object]] = mapped_column(JSON)
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class AnalysisSection(Base):
    """A section covered by an analysis, with its statistics as computed then."""

    __tablename__ = "analysis_sections"

    analysis_id: Mapped[int] = mapped_column(
        ForeignKey("analyses.id", ondelete="CASCADE"), primary_key=True
    )
    section_id: Mapped[int] = mapped_column(
        ForeignKey("sections.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    count: Mapped[int] = mapped_column(Integer)
    mean_gpa: Mapped[float | None] = mapped_column(Float)
    grade_counts: Mapped[dict[str, int]] = mapped_column(JSON)


class AnalysisGroup(Base):
    """A group's statistics in an analysis and its z-test against all groups of the analysis."""

    __tablename__ = "analysis_groups"

    analysis_id: Mapped[int] = mapped_column(
        ForeignKey("analyses.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    count: Mapped[int] = mapped_column(Integer)
    mean_gpa: Mapped[float | None] = mapped_column(Float)
    stddev: Mapped[float | None] = mapped_column(Float)
    z_score: Mapped[float | None] = mapped_column(Float)
    p_value: Mapped[float | None] = mapped_column(Float)
    significant: Mapped[bool] = mapped_column(Boolean, default=False)
    p_adjusted: Mapped[float | None] = mapped_column(Float)
    # Null where the analysis predates adjustment (or for the seed's service API rows).
    significant_adjusted: Mapped[bool | None] = mapped_column(Boolean)
    effect_size: Mapped[float | None] = mapped_column(Float)
    no_test_reason: Mapped[str | None] = mapped_column(String(80))


class ZScore(Base):
    """A section's z-test against one of its groups (the seed's table)."""

    __tablename__ = "zscores"
    __table_args__ = (Index("ix_zscores_analysis_id_section_id", "analysis_id", "section_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id", ondelete="CASCADE"))
    z_score: Mapped[float | None] = mapped_column(Float)
    p_value: Mapped[float | None] = mapped_column(Float)
    significant: Mapped[bool] = mapped_column(Boolean, default=False)
    threshold: Mapped[float] = mapped_column(Float)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id", ondelete="CASCADE"))
    # Null for rows written through the seed's service API, which names no group.
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), index=True
    )
    p_adjusted: Mapped[float | None] = mapped_column(Float)
    # Null where the analysis predates adjustment (or for the seed's service API rows).
    significant_adjusted: Mapped[bool | None] = mapped_column(Boolean)
    effect_size: Mapped[float | None] = mapped_column(Float)
    no_test_reason: Mapped[str | None] = mapped_column(String(80))


class Performance(Base):
    """A (student, section, grade) on the good ('good') or work ('bad') list of an analysis."""

    __tablename__ = "performances"
    __table_args__ = (
        CheckConstraint("category IN ('good', 'bad')", name="category"),
        # Also the index by which reports read one analysis' lists.
        UniqueConstraint("analysis_id", "section_id", "student_id", "category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id", ondelete="CASCADE"))
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    grade: Mapped[str] = mapped_column(String(2))
    category: Mapped[str] = mapped_column(String(4))
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id", ondelete="CASCADE"))
    appeared_before: Mapped[bool] = mapped_column(Boolean, default=False)
    # The student's history by term (docs/history.md), the same on each of their rows of a
    # list: distinct earlier terms in which they had a grade of each list, and the first term
    # in which they had a grade of this list. Null in analyses stored before terms sorted.
    earlier_terms_on_work_list: Mapped[int | None] = mapped_column(Integer)
    earlier_terms_on_good_list: Mapped[int | None] = mapped_column(Integer)
    first_term_listed: Mapped[str | None] = mapped_column(String(32))


def column_length(table: str, column: str) -> int:
    """The declared length of a text column (lengths.MAX_LENGTHS must agree: a test checks)."""
    column_type = Base.metadata.tables[table].c[column].type
    assert isinstance(column_type, String) and column_type.length is not None
    return column_type.length
