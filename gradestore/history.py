"""Use cases of a store's analyses over time: list, show, delete, prune; the rule by which
`analyze` on an unchanged store stores nothing new; the flags a cron job is alerted to.

Two analyses are *the same analysis* when their :class:`AnalysisKey` is equal: scope and every
option that changes a figure (threshold, method, adjustment, min-n, grade scale). The seed
API's analysis (scope ``service``) is never deleted or pruned and is no one's predecessor.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from gradestore.errors import UsageError
from gradestore.grades import GradeScale
from gradestore.jsontypes import JsonObject
from gradestore.kinds import (
    Adjustment,
    FailOn,
    FlagChange,
    FlagState,
    ScopeKind,
    TestKind,
    TestMethod,
)
from gradestore.persistence.db import UnitOfWork, UnitOfWorkFactory
from gradestore.persistence.rows import (
    AnalysisRow,
    FlagCounts,
    FlaggedTest,
    ListSizes,
    TableRows,
)
from gradestore.reports import resolve_analysis_id
from gradestore.results import scale_of

# `analyze --fail-on` exits with this when its condition holds: not 0 (something to look at),
# not 1, 2 or a sysexits code (every one of those is an error), so cron can tell them apart.
EXIT_FLAGGED = 3

# A test as two analyses both know it: kind, name, and the group a section is tested against.
TestIdentity = tuple[TestKind, str, str | None]


@dataclass(frozen=True)
class AnalysisKey:
    """What two analyses must share to be the same analysis (group names in any order)."""

    scope_kind: ScopeKind
    scope_names: tuple[str, ...]
    threshold: float | None
    method: TestMethod
    adjust: Adjustment | None
    min_n: int
    scale: GradeScale
    # The terms the scope was narrowed to (`analyze --term`), in any order.
    scope_terms: tuple[str, ...] = ()

    @classmethod
    def of(cls, row: AnalysisRow) -> AnalysisKey:
        testing = row.testing
        return cls(
            scope_kind=row.scope_kind,
            scope_names=tuple(sorted(row.scope_names)),
            threshold=row.threshold,
            method=testing.method,
            adjust=testing.adjust,
            min_n=testing.min_n,
            scale=scale_of(row),
            scope_terms=tuple(sorted(row.scope_terms)),
        )


@dataclass(frozen=True)
class AnalysisEntry:
    """An analysis in the store's history: how it was made, what it read, its flags."""

    analysis: AnalysisRow
    inputs_fingerprint: str | None
    flags: FlagCounts

    @property
    def id(self) -> int:
        return self.analysis.id

    @property
    def protected(self) -> bool:
        """The seed API's analysis: its rows are written by the API, not by `analyze`."""
        return self.analysis.scope_kind is ScopeKind.SERVICE

    @property
    def key(self) -> AnalysisKey:
        return AnalysisKey.of(self.analysis)

    def as_json(self) -> JsonObject:
        row, testing = self.analysis, self.analysis.testing
        return {
            "analysis_id": row.id,
            "created_at": row.created_at.isoformat(),
            "scope": {
                "kind": row.scope_kind,
                "names": row.scope_names,
                "terms": list(row.scope_terms),
            },
            "threshold": row.threshold,
            "method": testing.method,
            "adjust": testing.adjust,
            "min_n": testing.min_n,
            "scale": scale_of(row).name,
            "tests": testing.tests,
            "flags": {"raw": self.flags.raw, "adjusted": self.flags.adjusted},
            "protected": self.protected,
        }


def _entries(unit: UnitOfWork) -> list[AnalysisEntry]:
    """Every analysis, newest first (a few hundred rows even after a year of nightly runs)."""
    entries = []
    for stamp in unit.history.analysis_stamps():
        row = unit.reports.analysis(stamp.analysis_id)
        assert row is not None
        entries.append(AnalysisEntry(row, stamp.inputs_fingerprint, stamp.flags))
    return entries


def list_analyses(units: UnitOfWorkFactory) -> list[AnalysisEntry]:
    """The stored analyses, newest first."""
    with units(write=False) as unit:
        return _entries(unit)


def previous_of(entries: list[AnalysisEntry], analysis_id: int) -> AnalysisEntry | None:
    """The analysis before this one of the same scope and options (``entries``: newest
    first), or None."""
    position = next(i for i, entry in enumerate(entries) if entry.id == analysis_id)
    this = entries[position]
    if this.protected:
        return None
    return next((e for e in entries[position + 1 :] if e.key == this.key), None)


# --- show -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnalysisDetail:
    entry: AnalysisEntry
    previous: AnalysisEntry | None
    flagged: list[FlaggedTest]
    list_sizes: ListSizes

    def as_json(self) -> JsonObject:
        return {
            **self.entry.as_json(),
            "previous_analysis_id": self.previous.id if self.previous else None,
            "list_sizes": {"good": self.list_sizes.good, "work": self.list_sizes.work},
            "flagged": [flagged_json(test) for test in self.flagged],
        }


def show_analysis(units: UnitOfWorkFactory, analysis_id: int) -> AnalysisDetail:
    with units(write=False) as unit:
        resolve_analysis_id(unit.reports, analysis_id)
        entries = _entries(unit)
        entry = next(e for e in entries if e.id == analysis_id)
        return AnalysisDetail(
            entry=entry,
            previous=previous_of(entries, analysis_id),
            flagged=unit.history.flagged_tests(analysis_id),
            list_sizes=unit.reports.list_sizes(analysis_id),
        )


def flagged_json(test: FlaggedTest) -> JsonObject:
    return {
        "test": test.test,
        "name": test.name,
        "against": test.against,
        "p_value": test.p_value,
        "p_adjusted": test.p_adjusted,
        "significant": test.significant,
        "significant_adjusted": test.significant_adjusted,
    }


# --- delete and prune -------------------------------------------------------------------------


@dataclass(frozen=True)
class Deletion:
    """Analyses deleted (or, in a dry run, that would be), with the rows of each table."""

    analysis_ids: list[int]
    rows: list[TableRows]
    dry_run: bool

    def as_json(self) -> JsonObject:
        return {
            "analysis_ids": self.analysis_ids,
            "rows": {row.table: row.rows for row in self.rows},
            "dry_run": self.dry_run,
        }


def delete_analyses(
    units: UnitOfWorkFactory, analysis_ids: list[int], *, dry_run: bool = False
) -> Deletion:
    """Delete these analyses and all their rows, in one transaction; an unknown id or the
    seed API's analysis refuses the whole command."""
    with units(write=True) as unit:
        by_id = {entry.id: entry for entry in _entries(unit)}
        for analysis_id in analysis_ids:
            resolve_analysis_id(unit.reports, analysis_id)
            if by_id[analysis_id].protected:
                raise UsageError(
                    f"analysis {analysis_id} holds what the seed's service API wrote: "
                    "it is not deleted"
                )
        return _delete(unit, sorted(set(analysis_ids)), dry_run)


def prune_analyses(units: UnitOfWorkFactory, keep: int, *, dry_run: bool = False) -> Deletion:
    """Keep the newest ``keep`` analyses of each scope and options (at least 1, so the newest
    of each, and the store's latest, always stay); delete the others in one transaction."""
    if keep < 1:
        raise UsageError(f"--keep must be at least 1, not {keep}")
    with units(write=True) as unit:
        kept: dict[AnalysisKey, int] = defaultdict(int)
        doomed = []
        for entry in _entries(unit):  # newest first
            if entry.protected:
                continue
            kept[entry.key] += 1
            if kept[entry.key] > keep:
                doomed.append(entry.id)
        return _delete(unit, sorted(doomed), dry_run)


def _delete(unit: UnitOfWork, analysis_ids: list[int], dry_run: bool) -> Deletion:
    rows = unit.history.delete_analyses(analysis_ids)
    if not dry_run:
        unit.commit()
    return Deletion(analysis_ids, rows, dry_run)


# --- the unchanged store ----------------------------------------------------------------------


def standing_analysis(unit: UnitOfWork, key: AnalysisKey, fingerprint: str) -> int | None:
    """The analysis that stands for a new one: the latest of the same scope and options, when
    it read exactly what the store holds now (``fingerprint``); else None."""
    for entry in _entries(unit):
        if not entry.protected and entry.key == key:
            return entry.id if entry.inputs_fingerprint == fingerprint else None
    return None


# --- alerts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertFlag:
    test: FlaggedTest
    new: bool

    @property
    def flagged(self) -> bool:
        """The headline flag: after adjustment, or by p where the analysis has no adjusted flag."""
        return headline_flag(self.test.significant, self.test.significant_adjusted)


def headline_flag(significant: bool, significant_adjusted: bool | None) -> bool:
    return significant if significant_adjusted is None else significant_adjusted


@dataclass(frozen=True)
class Alert:
    """What `analyze --fail-on` judged: the analysis' flags, which are new against the previous
    analysis of the same scope and options (``compared_with``), and which set it off."""

    condition: FailOn
    analysis_id: int
    compared_with: int | None
    flags: list[AlertFlag] = field(default_factory=list)
    unchanged: bool = False  # nothing was stored: the analysis that stands was judged before

    @property
    def raised(self) -> list[AlertFlag]:
        if self.condition is FailOn.SIGNIFICANT:
            return [flag for flag in self.flags if flag.test.significant]
        if self.condition is FailOn.ADJUSTED:
            return [flag for flag in self.flags if flag.flagged]
        return [flag for flag in self.flags if flag.new]

    @property
    def exit_code(self) -> int:
        return EXIT_FLAGGED if self.raised else 0

    def as_json(self) -> JsonObject:
        return {
            "fail_on": self.condition,
            "failed": bool(self.raised),
            "compared_with": self.compared_with,
            "unchanged": self.unchanged,
            "flags": [
                {**flagged_json(flag.test), "flagged": flag.flagged, "new": flag.new}
                for flag in self.flags
            ],
        }


def judge(unit: UnitOfWork, analysis_id: int, condition: FailOn, unchanged: bool = False) -> Alert:
    """The analysis' flags against ``condition``; a flag is new when the previous analysis of
    the same scope and options did not have it (flagged), or when there is none. On an
    ``unchanged`` store (the analysis stands, nothing was stored) no flag is new: it was new,
    if ever, when that analysis was stored, so a nightly job alerts once, not every night."""
    entries = _entries(unit)
    previous = previous_of(entries, analysis_id)
    before: set[TestIdentity] = set()
    if previous is not None:
        before = {
            _identity(test)
            for test in unit.history.flagged_tests(previous.id)
            if headline_flag(test.significant, test.significant_adjusted)
        }
    flags = [
        AlertFlag(
            test,
            not unchanged
            and headline_flag(test.significant, test.significant_adjusted)
            and _identity(test) not in before,
        )
        for test in unit.history.flagged_tests(analysis_id)
    ]
    return Alert(condition, analysis_id, previous.id if previous else None, flags, unchanged)


def _identity(test: FlaggedTest) -> TestIdentity:
    return (test.test, test.name, test.against)


def alert_for(
    units: UnitOfWorkFactory, analysis_id: int, condition: FailOn, unchanged: bool = False
) -> Alert:
    """`analyze --fail-on`: the stored analysis judged (read in a unit of its own)."""
    with units(write=False) as unit:
        return judge(unit, analysis_id, condition, unchanged)


# --- diff -------------------------------------------------------------------------------------


class _TestState(NamedTuple):
    state: FlagState
    mean_gpa: float | None


@dataclass(frozen=True)
class TestChange:
    """A test that differs between two analyses: its flag, its mean, or both."""

    test: TestKind
    name: str
    against: str | None
    before: FlagState
    after: FlagState
    mean_before: float | None
    mean_after: float | None
    changes: tuple[FlagChange, ...]

    @property
    def moved(self) -> float | None:
        if self.mean_before is None or self.mean_after is None:
            return None
        return self.mean_after - self.mean_before

    def as_json(self) -> JsonObject:
        return {
            "test": self.test,
            "name": self.name,
            "against": self.against,
            "flag_before": self.before,
            "flag_after": self.after,
            "mean_gpa_before": self.mean_before,
            "mean_gpa_after": self.mean_after,
            "mean_moved": self.moved,
            "changes": list(self.changes),
        }


@dataclass(frozen=True)
class AnalysisDiff:
    """`analyses diff A B`: what changed from A (before) to B (after)."""

    before: AnalysisEntry
    after: AnalysisEntry
    mean_moved: float | None
    changes: list[TestChange]
    # The options in which the two analyses differ (empty: the same analysis).
    differs_in: list[str]

    def count(self, change: FlagChange) -> int:
        return sum(change in test.changes for test in self.changes)

    def as_json(self) -> JsonObject:
        return {
            "before": self.before.as_json(),
            "after": self.after.as_json(),
            "mean_moved_threshold": self.mean_moved,
            "differs_in": self.differs_in,
            "counts": {change.value: self.count(change) for change in FlagChange},
            "changes": [test.as_json() for test in self.changes],
        }


def diff_analyses(
    units: UnitOfWorkFactory, before_id: int, after_id: int, *, mean_moved: float | None = None
) -> AnalysisDiff:
    """Tests whose flag changed (new, vanished, or between 'by p alone' and not flagged) and,
    with ``mean_moved``, tests whose mean GPA moved by more than that many points."""
    if mean_moved is not None and not mean_moved >= 0:
        raise UsageError(f"--mean-moved must be a number of grade points >= 0, not {mean_moved}")
    with units(write=False) as unit:
        for analysis_id in (before_id, after_id):
            resolve_analysis_id(unit.reports, analysis_id)
        by_id = {entry.id: entry for entry in _entries(unit)}
        states = [_test_states(unit, analysis_id) for analysis_id in (before_id, after_id)]
    changes = [
        change
        for identity in sorted(set(states[0]) | set(states[1]), key=_identity_order)
        if (change := _change(identity, states[0], states[1], mean_moved)) is not None
    ]
    changes.sort(key=lambda test: _CHANGE_ORDER.index(test.changes[0]))
    before, after = by_id[before_id], by_id[after_id]
    return AnalysisDiff(before, after, mean_moved, changes, _differs_in(before, after))


_CHANGE_ORDER = list(FlagChange)


def _identity_order(identity: TestIdentity) -> tuple[bool, str, str]:
    """Sections first, then groups, each by name."""
    kind, name, against = identity
    return (kind is TestKind.GROUP, name, against or "")


def _test_states(unit: UnitOfWork, analysis_id: int) -> dict[TestIdentity, _TestState]:
    queries = unit.reports
    states: dict[TestIdentity, _TestState] = {}
    for section in queries.section_tests(analysis_id):
        identity = (TestKind.SECTION, section.section, section.group)
        states[identity] = _state(
            section.significant, section.significant_adjusted, section.mean_gpa
        )
    for group in queries.group_tests(analysis_id):
        identity = (TestKind.GROUP, group.group, None)
        states[identity] = _state(group.significant, group.significant_adjusted, group.mean_gpa)
    return states


def _state(significant: bool, adjusted: bool | None, mean_gpa: float | None) -> _TestState:
    if headline_flag(significant, adjusted):
        return _TestState(FlagState.FLAGGED, mean_gpa)
    return _TestState(FlagState.P_ALONE if significant else FlagState.NO, mean_gpa)


_ABSENT = _TestState(FlagState.ABSENT, None)


def _change(
    identity: TestIdentity,
    before_states: dict[TestIdentity, _TestState],
    after_states: dict[TestIdentity, _TestState],
    mean_moved: float | None,
) -> TestChange | None:
    before = before_states.get(identity, _ABSENT)
    after = after_states.get(identity, _ABSENT)
    changes: list[FlagChange] = []
    if after.state is FlagState.FLAGGED and before.state is not FlagState.FLAGGED:
        changes.append(FlagChange.NEW)
    elif before.state is FlagState.FLAGGED and after.state is not FlagState.FLAGGED:
        changes.append(FlagChange.VANISHED)
    elif before.state != after.state and FlagState.P_ALONE in (before.state, after.state):
        changes.append(FlagChange.CHANGED)
    if (
        mean_moved is not None
        and before.mean_gpa is not None
        and after.mean_gpa is not None
        and abs(after.mean_gpa - before.mean_gpa) > mean_moved
    ):
        changes.append(FlagChange.MEAN_MOVED)
    if not changes:
        return None
    kind, name, against = identity
    return TestChange(
        kind, name, against, before.state, after.state, before.mean_gpa, after.mean_gpa,
        tuple(changes),
    )  # fmt: skip


def _differs_in(before: AnalysisEntry, after: AnalysisEntry) -> list[str]:
    a, b = before.key, after.key
    fields = {
        "scope": (a.scope_kind, a.scope_names, a.scope_terms)
        != (b.scope_kind, b.scope_names, b.scope_terms),
        "threshold": a.threshold != b.threshold,
        "method": a.method != b.method,
        "adjust": a.adjust != b.adjust,
        "min_n": a.min_n != b.min_n,
        "scale": a.scale != b.scale,
    }
    return [name for name, differs in fields.items() if differs]
