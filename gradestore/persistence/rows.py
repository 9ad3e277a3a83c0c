"""The typed shapes the stores take and return: every query answers in one of these, never in
a column-keyed dict, so a renamed column or field is a type error, not a run-time surprise.

``StudentPk`` (and ``student_pk`` in SQL) is the integer key of ``students``; ``student_id`` is
always the institution's id, a string.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from gradestore.kinds import Adjustment, ListKind, RowKind, ScopeKind, TestKind, TestMethod

StudentPk = int


# --- ingest -----------------------------------------------------------------------------------


class StagedRow(NamedTuple):
    """One row of the staging table (column order of the table)."""

    seq: int
    source_file_id: int
    line: int
    kind: RowKind
    section: str
    student_id: str
    grade: str


@dataclass(frozen=True, slots=True)
class StagedDuplicate:
    section: str
    student_id: str
    grade: str
    source_file_id: int
    line: int


@dataclass(frozen=True, slots=True)
class StoredSection:
    id: int
    has_grades: bool


@dataclass(frozen=True, slots=True)
class NewSection:
    name: str
    credit_hours: float | None
    term: str | None
    header_name: str | None
    # The term's place in time (gradestore.terms.term_key); None: no term, or unrecognised.
    term_order: int | None = None
    # The file whose ingest creates it (provenance, for `sources remove`).
    source_file_id: int | None = None


class NewStudent(NamedTuple):
    student_id: str
    first_name: str
    last_name: str
    # The file whose ingest creates the student (provenance; None: the seed API).
    source_file_id: int | None = None


class NewMembership(NamedTuple):
    """A section put into a group by names, with the file that says so."""

    group: str
    section: str
    source_file_id: int | None


class StagedStudent(NamedTuple):
    """A student of the unit being ingested, as first seen (column order of its table)."""

    student_id: str
    seq: int  # the order first seen
    last_name: str
    first_name: str
    source_file_id: int
    line: int


class StoredAsOther(NamedTuple):
    """A staged student the store holds under another name."""

    student_id: str
    stored_last_name: str
    stored_first_name: str
    last_name: str
    first_name: str
    source_file_id: int
    line: int


# --- analysis: inputs and figures -------------------------------------------------------------


class Membership(NamedTuple):
    group_id: int
    group_name: str
    section_id: int


class StoredTerm(NamedTuple):
    """A term as written on stored sections, and its place in time (None: unrecognised)."""

    term: str
    term_order: int | None


@dataclass(frozen=True, slots=True)
class TermFilter:
    """The sections of some terms: recognised ones by place in time, others as written."""

    orders: tuple[int, ...] = ()
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GroupFigures:
    """A group's pooled statistics and its z-test against all groups of the analysis."""

    group_id: int
    count: int
    mean_gpa: float | None
    stddev: float | None
    z_score: float | None
    p_value: float | None
    significant: bool
    # Beside the seed's z, p and significant (docs/statistics.md); null in rows written
    # through the seed's service API and in analyses stored before these figures existed.
    p_adjusted: float | None = None
    significant_adjusted: bool | None = None
    effect_size: float | None = None
    no_test_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Testing:
    """How an analysis tested, and its own figures: phi, the section tests that have a p, and
    threshold x tests (the raw flags chance alone would give). Analyses stored before these
    existed read as method z, min_n 1 and null for the rest."""

    method: TestMethod = TestMethod.Z
    adjust: Adjustment | None = None
    min_n: int = 1
    overdispersion: float | None = None
    tests: int | None = None
    expected_false_flags: float | None = None


# --- reading back -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnalysisRow:
    id: int
    created_at: datetime
    threshold: float | None
    scope_kind: ScopeKind
    scope_names: list[str]
    testing: Testing = Testing()
    # The terms the scope was narrowed to (`analyze --term`); empty: none.
    scope_terms: tuple[str, ...] = ()
    # The grade scale the analysis used (GradeScale.as_json); None: made before scales.
    scale: Mapping[str, object] | None = None


@dataclass(frozen=True, slots=True)
class SectionTestRow:
    """A section's statistics and its test against one group (group None: in no group)."""

    section: str
    group: str | None
    count: int
    mean_gpa: float | None
    grade_counts: dict[str, int]
    z_score: float | None
    p_value: float | None
    significant: bool
    # Beside the seed's z, p and significant (docs/statistics.md); null in rows written
    # through the seed's service API and in analyses stored before these figures existed.
    p_adjusted: float | None = None
    significant_adjusted: bool | None = None
    effect_size: float | None = None
    no_test_reason: str | None = None
    # The group's mean GPA, for the difference in points (None: in no group).
    against_mean_gpa: float | None = None


@dataclass(frozen=True, slots=True)
class GroupTestRow:
    group: str
    count: int
    mean_gpa: float | None
    stddev: float | None
    z_score: float | None
    p_value: float | None
    significant: bool
    # Beside the seed's z, p and significant (docs/statistics.md); null in rows written
    # through the seed's service API and in analyses stored before these figures existed.
    p_adjusted: float | None = None
    significant_adjusted: bool | None = None
    effect_size: float | None = None
    no_test_reason: str | None = None


class CountedTests(NamedTuple):
    sections: int
    groups: int


class FlagCounts(NamedTuple):
    """Section tests flagged significant: by p alone, and after adjustment."""

    raw: int = 0
    adjusted: int = 0


class ListSizes(NamedTuple):
    """Distinct students on each list."""

    good: int
    work: int

    def of(self, kind: ListKind) -> int:
        return self.good if kind is ListKind.GOOD else self.work


@dataclass(frozen=True, slots=True)
class SectionInfo:
    name: str
    term: str | None
    credit_hours: float | None
    header_name: str | None


@dataclass(frozen=True, slots=True)
class StudentRow:
    student_pk: StudentPk
    student_id: str
    first_name: str
    last_name: str


class StudentGradeRow(NamedTuple):
    section: str
    term: str | None
    grade: str


class StudentListRow(NamedTuple):
    analysis_id: int
    created_at: datetime
    list: ListKind
    section: str
    grade: str


class EarlierListRow(NamedTuple):
    """An entry of a student in a legacy .lst file."""

    section: str
    grade: str
    path: str | None


# --- the life of a store: analyses listed and compared, files taken back ----------------------


class AnalysisStamp(NamedTuple):
    """An analysis as its history sees it: what it read, and its flags."""

    analysis_id: int
    inputs_fingerprint: str | None
    flags: FlagCounts


class FlaggedTest(NamedTuple):
    """A test of an analysis flagged significant, raw or after adjustment. ``against``: the
    group a section was tested against (None for a group's test against all groups)."""

    test: TestKind
    name: str
    against: str | None
    p_value: float | None
    p_adjusted: float | None
    significant: bool
    significant_adjusted: bool | None


class TableRows(NamedTuple):
    """How many rows of a table a command removed (or would remove)."""

    table: str
    rows: int


class TermCountRow(NamedTuple):
    """A term as written on stored sections (None: sections without a term), its place in
    time (None: unrecognised), and how many sections and grades it holds."""

    term: str | None
    term_order: int | None
    sections: int
    grades: int


class SourceFileRow(NamedTuple):
    """An ingested file and what the store still holds from it."""

    id: int
    path: str
    sha256: str
    ingested_at: datetime
    grades: int
    list_entries: int
    memberships: int
    run_groups: int
