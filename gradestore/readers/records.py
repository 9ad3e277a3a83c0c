"""Plain records that readers produce: no database, no I/O beyond reading the file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Problem:
    """A bad row (error) or something worth a look (warning), at a file's line.

    ``line`` is 1-based as an editor shows it (the header is line 1) and, for a record that spans
    several lines, the line where it begins. It is None for a problem with the whole file.
    """

    path: str
    line: int | None
    message: str
    is_warning: bool = False

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        kind = "warning: " if self.is_warning else ""
        return f"{where}: {kind}{self.message}"


@dataclass(frozen=True, slots=True)
class GradeRecord:
    """One student's grade in one section, as read (trimmed, grade letter normalised)."""

    line: int
    section: str
    student_id: str
    last_name: str
    first_name: str
    grade: str
    group: str | None = None
    credit_hours: float | None = None
    term: str | None = None


@dataclass(frozen=True, slots=True)
class SectionHeader:
    """A legacy .SEC file's section: named by its file name; the header's own words are kept."""

    path: Path
    name: str
    header_name: str | None
    credit_hours: float | None
    term: str | None


@dataclass(frozen=True, slots=True)
class Reference:
    """A file named inside a .GRP or .RUN, resolved to a path (or None when not found)."""

    line: int
    name: str
    path: Path | None


@dataclass(frozen=True, slots=True)
class GroupFile:
    path: Path
    name: str
    members: list[Reference]
    problems: list[Problem]


@dataclass(frozen=True, slots=True)
class RunFile:
    path: Path
    name: str
    groups: list[Reference]
    problems: list[Problem]


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One (section, grade) entry of a student in a legacy .lst file."""

    line: int
    student_id: str
    last_name: str
    first_name: str
    section: str
    grade: str


@dataclass(frozen=True, slots=True)
class LegacySection:
    """A whole legacy .SEC file: small enough to hold in memory."""

    header: SectionHeader
    records: list[GradeRecord]
    problems: list[Problem]
