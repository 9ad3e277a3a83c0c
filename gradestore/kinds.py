"""The named values that cross layers (readers -> use cases -> persistence -> render).

Each is a StrEnum: it prints, compares and serialises to JSON as its word, and is bound into SQL
as a parameter like any string. One word means one thing: a file's kind, a staged row's kind, a
scope's kind and a test's kind are four types.
"""

from __future__ import annotations

from enum import StrEnum


class FileKind(StrEnum):
    """What a grade file is, by its extension (UNKNOWN: missing, or not a grade file)."""

    CSV = "csv"
    SEC = "sec"
    GRP = "grp"
    RUN = "run"
    LST = "lst"
    UNKNOWN = "?"

    @property
    def is_single_file(self) -> bool:
        """A file read alone (a .GRP or .RUN names other files)."""
        return self in (FileKind.CSV, FileKind.SEC, FileKind.LST)


class FileStatus(StrEnum):
    """What happened to one file argument of an ingest."""

    STORED = "stored"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"
    WOULD_STORE = "would store"
    ALREADY_DONE = "already done"


class SectionAction(StrEnum):
    """What an ingest does with a staged section (CHECK: being compared with the store)."""

    CHECK = "check"
    NEW = "new"
    FILL = "fill"
    KEEP = "keep"
    REPLACE = "replace"


class RowKind(StrEnum):
    """A staged row: a grade of a section, or an entry of a legacy .lst list file."""

    GRADE = "grade"
    LIST = "list"


class ScopeKind(StrEnum):
    """What an analysis covers; SERVICE collects what the seed's service API writes."""

    ALL = "all"
    GROUPS = "groups"
    RUN = "run"
    SERVICE = "service"


class TestKind(StrEnum):
    """A z-test of a section against a group, or of a group against all groups."""

    __test__ = False  # not a pytest class

    SECTION = "section"
    GROUP = "group"


class ListKind(StrEnum):
    """The good or the work list, as users name them. The store (the seed's schema) calls the
    work list 'bad': :meth:`stored` and :meth:`from_stored` are the one translation."""

    GOOD = "good"
    WORK = "work"

    @property
    def stored(self) -> str:
        """The word in ``performances.category``."""
        return _STORED_CATEGORY[self]

    @classmethod
    def from_stored(cls, category: str) -> ListKind:
        return next(kind for kind, word in _STORED_CATEGORY.items() if word == category)


_STORED_CATEGORY = {ListKind.GOOD: "good", ListKind.WORK: "bad"}


class TestMethod(StrEnum):
    """How a section is tested against its group: design.md's z-test against the whole group,
    or Welch's t-test against the rest of the group (docs/statistics.md)."""

    __test__ = False  # not a pytest class

    Z = "z"
    WELCH = "welch"


class Adjustment(StrEnum):
    """How p-values are adjusted for the number of tests: Benjamini-Hochberg or -Yekutieli
    (false discovery rate), Holm or Bonferroni (family-wise error), or not at all."""

    BH = "bh"
    BY = "by"
    HOLM = "holm"
    BONFERRONI = "bonferroni"
    NONE = "none"


class FailOn(StrEnum):
    """What makes `analyze --fail-on` exit with its own code: flags by p alone, flags after
    adjustment, or flags (after adjustment) the previous analysis of the same scope and
    options did not have."""

    SIGNIFICANT = "significant"
    ADJUSTED = "adjusted"
    NEW = "new"


class FlagChange(StrEnum):
    """How a test differs between two analyses (`analyses diff`)."""

    NEW = "new flag"
    VANISHED = "flag vanished"
    CHANGED = "flag changed"
    MEAN_MOVED = "mean moved"


class FlagState(StrEnum):
    """A test's flag in one analysis: flagged (after adjustment, or by p where the analysis
    has no adjusted flag), significant by p alone, not flagged, or no such test."""

    FLAGGED = "flagged"
    P_ALONE = "p alone"
    NO = "no"
    ABSENT = "absent"
