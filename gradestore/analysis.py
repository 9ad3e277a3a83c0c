"""Use case: compute design.md section 2 over a scope of the store and keep it as an analysis.

The database counts grades per (section, letter) in one GROUP BY; the statistics are computed
from those counts in Python (stats.py); the results and the good and work lists are written
back set-based, all in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from gradestore import stats
from gradestore.errors import NOTHING_STORED, NotFoundError, UsageError, unknown
from gradestore.grades import GradeScale
from gradestore.history import AnalysisKey, standing_analysis
from gradestore.kinds import Adjustment, ScopeKind, TestMethod
from gradestore.persistence.analysis_store import (
    AnalysisStore,
    FigureBlocks,
    SectionColumns,
    ZTestColumns,
)
from gradestore.persistence.db import UnitOfWorkFactory
from gradestore.persistence.rows import (
    GroupFigures,
    Membership,
    TermFilter,
    Testing,
)
from gradestore.persistence.types import utc_now
from gradestore.results import LEADING_TESTS, AnalysisResult, load_analysis
from gradestore.scales import check_letters_known, current_scale
from gradestore.terms import term_key

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from gradestore.stats import FloatArray

    IntArray = npt.NDArray[np.int64]

DEFAULT_THRESHOLD = 0.05


@dataclass(frozen=True)
class Scope:
    """What an analysis covers: everything, some groups, or the groups of a legacy run;
    ``terms``, when given, narrows it to the sections of those terms (an intersection)."""

    kind: ScopeKind
    names: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ScopeKind(self.kind))
        for term in self.terms:
            if not isinstance(term, str) or not term.strip():
                raise UsageError(f"--term must name a term, not {term!r}")

    @classmethod
    def from_options(
        cls, groups: list[str] | None, run: str | None, terms: list[str] | None = None
    ) -> Scope:
        if groups and run:
            raise UsageError("give --group or --run, not both")
        chosen = tuple(dict.fromkeys(term.strip() for term in terms or []))
        if run:
            return cls(ScopeKind.RUN, (run,), chosen)
        if groups:
            return cls(ScopeKind.GROUPS, tuple(dict.fromkeys(groups)), chosen)
        return cls(ScopeKind.ALL, terms=chosen)

    def describe(self) -> str:
        """The scope in words, for a message: 'groups G1, G2, terms F25'."""
        text = self.kind if not self.names else f"{self.kind} {', '.join(self.names)}"
        return f"{text}, terms {', '.join(self.terms)}" if self.terms else str(text)


def validate_threshold(threshold: float) -> float:
    """The one rule for a significance level (the CLI reports it as a bad --threshold)."""
    if not 0 < threshold < 1:
        raise UsageError(
            f"--threshold must be a number between 0 and 1 (exclusive), not {threshold}"
        )
    return threshold


@dataclass(frozen=True)
class TestOptions:
    """How an analysis tests (docs/statistics.md): alpha, the test, the multiplicity
    adjustment, and the smallest section that is tested."""

    __test__ = False  # not a pytest class

    threshold: float = DEFAULT_THRESHOLD
    method: TestMethod = TestMethod.Z
    adjust: Adjustment = Adjustment.BH
    min_n: int = 1

    def validated(self) -> TestOptions:
        """The options with their words as enums; a bad value is a usage error."""
        validate_threshold(self.threshold)
        if self.min_n < 1:
            raise UsageError(f"--min-n must be a whole number of at least 1, not {self.min_n}")
        try:
            method, adjust = TestMethod(self.method), Adjustment(self.adjust)
        except ValueError as error:
            raise UsageError(str(error)) from None
        return TestOptions(self.threshold, method, adjust, self.min_n)


def run_analysis(
    units: UnitOfWorkFactory,
    threshold: float = DEFAULT_THRESHOLD,
    scope: Scope = Scope(ScopeKind.ALL),
    *,
    options: TestOptions | None = None,
    scale: GradeScale | None = None,
) -> AnalysisResult:
    """Analyse ``scope``, store it as a new analysis and return its summary: the analysis as
    stored, with the leading tests only (see :data:`gradestore.results.LEADING_TESTS`) and the
    lists' sizes but not the lists; ``reports`` reads the whole of it back. ``options`` say how
    to test (its threshold wins over ``threshold``); by default design.md's z-test, BH-adjusted.
    ``scale``: the grade scale (default: the store's; another one is a what-if that leaves the
    store's scale alone); the analysis records the scale it used. Always stores: see
    :func:`analyze` for the rule that an unchanged store is not analysed again."""
    options = options or TestOptions(threshold=threshold)
    return analyze(units, scope, options=options, scale=scale, force=True).result


@dataclass(frozen=True)
class AnalysisRun:
    """What `analyze` did: ``stored`` a new analysis, or found one that stands for it (the
    latest of the same scope and options, which read exactly what the store holds now)."""

    result: AnalysisResult
    stored: bool


def analyze(
    units: UnitOfWorkFactory,
    scope: Scope = Scope(ScopeKind.ALL),
    *,
    options: TestOptions | None = None,
    scale: GradeScale | None = None,
    force: bool = False,
) -> AnalysisRun:
    """Analyse ``scope`` (see :func:`run_analysis`) unless the store is unchanged: when the
    latest analysis of the same scope and options read what the store holds now, nothing is
    stored and that analysis stands (``force``: store a new one anyway). docs/store-life.md."""
    options = (options or TestOptions()).validated()
    # SQLite checks no foreign key in this unit: every key it writes is the analysis it has
    # just inserted or a section, group or student it has read from the store in this very
    # transaction, whose write lock (BEGIN IMMEDIATE) it holds from its start, so no row it
    # refers to can go before it commits, and it deletes nothing (no key action to run).
    # The three checks per list row were 0.75 s of 10.5 s at 1M grades.
    with units(write=True, foreign_keys=False) as unit:
        store = unit.analysis
        if not store.has_grades():
            raise NotFoundError(NOTHING_STORED)
        scale = scale or current_scale(unit)
        group_ids = _scope_group_ids(store, scope)
        fingerprint = unit.history.inputs_fingerprint(scale.letters)
        key = AnalysisKey(
            scope.kind, tuple(sorted(scope.names)), options.threshold, options.method,
            options.adjust, options.min_n, scale, tuple(sorted(scope.terms)),
        )  # fmt: skip
        standing = None if force else standing_analysis(unit, key, fingerprint)
        if standing is not None:
            summary = load_analysis(unit.reports, standing, with_lists=False, top=LEADING_TESTS)
            return AnalysisRun(summary, stored=False)
        analysis_id = _store_analysis(store, scope, options, scale, group_ids)
        unit.history.set_inputs_fingerprint(analysis_id, fingerprint)
        result = load_analysis(unit.reports, analysis_id, with_lists=False, top=LEADING_TESTS)
        unit.commit()
    return AnalysisRun(result, stored=True)


def _store_analysis(
    store: AnalysisStore,
    scope: Scope,
    options: TestOptions,
    scale: GradeScale,
    group_ids: list[int] | None,
) -> int:
    """Compute the analysis of the scope's sections and write it; returns its id."""
    analysis_id = _store_figures(store, scope, options, scale, group_ids)
    # The figures' arrays are gone by now: the lists' history needs memory of its own (at 5M
    # grades each held about 100 MB).
    store.add_list_performances(analysis_id, scale.good, scale.work)
    return analysis_id


def _store_figures(
    store: AnalysisStore,
    scope: Scope,
    options: TestOptions,
    scale: GradeScale,
    group_ids: list[int] | None,
) -> int:
    """The analysis with its figures (sections, groups, tests) written; returns its id."""
    terms = _scope_terms(store, scope)
    grade_counts = _scope_grade_counts(store, group_ids, scale, terms)
    if not grade_counts.section_ids:
        raise NotFoundError(f"the scope {scope.describe()} has no sections")
    pools = _build_pools(grade_counts, store.scope_memberships(group_ids), scale)
    tested = (_section_tests(pools, options), _group_tests(pools, options))
    analysis_id = store.create_analysis(
        options.threshold,
        scope.kind,
        list(scope.names),
        created_at=utc_now(),
        testing=_testing(tested[0], options),
        scale=scale.as_json(),
        scope_terms=scope.terms,
    )
    store.add_analysis_figures(
        _figures(analysis_id, options.threshold, pools, tested),
        sections=len(pools.section_ids),
        tests=len(pools.test_section),
    )
    return analysis_id


@dataclass(frozen=True)
class _GradeCounts:
    """How many grades of each of the scale's letters (columns) each section (rows) holds."""

    section_ids: list[int]
    counts: IntArray


def _scope_grade_counts(
    store: AnalysisStore, group_ids: list[int] | None, scale: GradeScale, terms: TermFilter | None
) -> _GradeCounts:
    """The scope's grade counts as one array (a dict per section was most of the memory of
    an analysis of 5M grades). Its grades must all be letters of the scale it uses."""
    table = store.scope_grade_counts(group_ids, scale.letters, terms)
    counts = table[:, 1:-1]
    if (table[:, -1] != counts.sum(axis=1)).any():
        check_letters_known(
            scale,
            store.scope_letter_totals(group_ids, terms),
            f"analyse under grade scale {scale.name!r}",
        )
    return _GradeCounts(table[:, 0].tolist(), counts)


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


def _scope_terms(store: AnalysisStore, scope: Scope) -> TermFilter | None:
    """The scope's terms as stored: a recognised term matches every spelling of it (``F25``,
    ``Fall 2025``), an unrecognised one only as written. A term no section has is an error
    naming the closest stored ones."""
    if not scope.terms:
        return None
    stored = store.stored_terms()
    orders = {row.term_order for row in stored if row.term_order is not None}
    labels = {row.term for row in stored}
    chosen_orders: list[int] = []
    chosen_labels: list[str] = []
    for term in scope.terms:
        key = term_key(term)
        if key is not None and key in orders:
            chosen_orders.append(key)
        elif term in labels:
            chosen_labels.append(term)
        else:
            raise NotFoundError(unknown("term", term, sorted(labels)))
    return TermFilter(tuple(chosen_orders), tuple(chosen_labels))


@dataclass(frozen=True)
class _Pools:
    """The analysis' pools as grade counts (a row per pool, a column per grade-point value):
    sections, groups, and 'all' (every enrollment of a grouped section once)."""

    grade_counts: IntArray  # a row per section, a column per letter of the scale
    letters: tuple[str, ...]
    section_ids: list[int]
    group_ids: list[int]
    counts: FloatArray
    group_counts: FloatArray
    all_counts: FloatArray
    points: FloatArray
    # One row per (group, section) test.
    test_group: npt.NDArray[np.intp]
    test_section: npt.NDArray[np.intp]

    def pools(self, counts: FloatArray) -> stats.Pools:
        return stats.pools_from_counts(counts, self.points)


def _build_pools(
    grade_counts: _GradeCounts, memberships: list[Membership], scale: GradeScale
) -> _Pools:
    import numpy as np

    section_ids = grade_counts.section_ids
    row_of = {section_id: row for row, section_id in enumerate(section_ids)}
    counted = list(scale.counted)
    columns = [scale.letters.index(letter) for letter in counted]
    counts = grade_counts.counts[:, columns].astype(float)
    group_members: dict[int, list[int]] = defaultdict(list)
    for membership in memberships:
        if membership.section_id in row_of:
            group_members[membership.group_id].append(row_of[membership.section_id])
    group_ids = list(group_members)
    test_group = np.array([i for i, g in enumerate(group_ids) for _ in group_members[g]], int)
    test_section = np.array([row for g in group_ids for row in group_members[g]], dtype=int)
    # Counts are whole numbers, so their sums are exact in any order: one unbuffered add over
    # every (group, section) instead of a sum per group (7,542 at 1M grades).
    group_counts = np.zeros((len(group_ids), len(counted)), dtype=float)
    np.add.at(group_counts, test_group, counts[test_section])
    grouped_rows = sorted({row for rows in group_members.values() for row in rows})
    return _Pools(
        grade_counts=grade_counts.counts,
        letters=tuple(scale.letters),
        section_ids=section_ids,
        group_ids=group_ids,
        counts=counts,
        group_counts=group_counts,
        all_counts=counts[grouped_rows].sum(axis=0, keepdims=True),
        points=np.array([scale.points[letter] for letter in counted]),
        test_group=test_group,
        test_section=test_section,
    )


@dataclass(frozen=True)
class _Tested:
    """Tests, with the figures stored beside them."""

    tests: stats.TestArrays
    effect_size: FloatArray
    p_adjusted: FloatArray


def _section_tests(pools: _Pools, options: TestOptions) -> _Tested:
    """Each section against each of its groups (z), or against the rest of it (Welch)."""
    sections = pools.pools(pools.counts[pools.test_section])
    group_counts = pools.group_counts[pools.test_group]
    groups = pools.pools(group_counts)
    if options.method is TestMethod.WELCH:
        rests = pools.pools(group_counts - pools.counts[pools.test_section])
        tests = stats.welch_tests(sections, rests, groups, min_n=options.min_n)
    else:
        tests = stats.section_z_tests(sections, groups, min_n=options.min_n)
    return _tested(tests, sections, groups, options)


def _group_tests(pools: _Pools, options: TestOptions) -> _Tested:
    """Each group against all groups (z), or against the rest of the analysis (Welch)."""
    import numpy as np

    groups = pools.pools(pools.group_counts)
    everything = pools.pools(np.repeat(pools.all_counts, len(pools.group_ids), axis=0))
    if options.method is TestMethod.WELCH:
        rests = pools.pools(pools.all_counts - pools.group_counts)
        tests = stats.welch_tests(groups, rests, everything, whole=stats.ONLY_GROUP)
    else:
        tests = stats.group_z_tests(groups, everything)
    return _tested(tests, groups, everything, options)


def _tested(
    tests: stats.TestArrays, samples: stats.Pools, populations: stats.Pools, options: TestOptions
) -> _Tested:
    return _Tested(
        tests=tests,
        effect_size=stats.effect_sizes(samples, populations, tests),
        p_adjusted=stats.adjust_p_values(tests.p_value, options.adjust),
    )


def _testing(section_tests: _Tested, options: TestOptions) -> Testing:
    """How the analysis tested, phi, and the raw flags chance alone would give."""
    import numpy as np

    tests = int(np.count_nonzero(~np.isnan(section_tests.tests.p_value)))
    return Testing(
        method=options.method,
        adjust=options.adjust,
        min_n=options.min_n,
        overdispersion=stats.overdispersion(section_tests.tests.statistic),
        tests=tests,
        expected_false_flags=options.threshold * tests,
    )


class _TestColumns(NamedTuple):
    z_score: float | None
    p_value: float | None
    significant: bool
    p_adjusted: float | None
    significant_adjusted: bool
    effect_size: float | None
    no_test_reason: str | None


def _test_columns(tested: _Tested, threshold: float) -> Iterator[_TestColumns]:
    """What every stored test holds, row by row (NaN stored as null), made as it is read."""
    tests = tested.tests
    significant = tests.significant(threshold)
    adjusted = tested.p_adjusted < threshold
    for block in _blocks(len(tests.statistic)):
        for z, p, flag, p_adjusted, flag_adjusted, effect_size, reason in zip(
            tests.statistic[block].tolist(),
            tests.p_value[block].tolist(),
            significant[block].tolist(),
            tested.p_adjusted[block].tolist(),
            adjusted[block].tolist(),
            tested.effect_size[block].tolist(),
            tests.reason[block].tolist(),
            strict=True,
        ):
            yield _TestColumns(
                _optional(z), _optional(p), flag, _optional(p_adjusted), flag_adjusted,
                _optional(effect_size), reason,
            )  # fmt: skip


def _blocks(size: int, block: int = 5000) -> Iterator[slice[int, int, None]]:
    """Rows of arrays a block at a time, each converted to Python values as it is written:
    at 5M grades the figures as whole lists of objects (per section, per test) were the
    analysis' peak memory."""
    for start in range(0, size, block):
        yield slice(start, start + block)


def _optional(value: float) -> float | None:
    return None if value != value else value


def _figures(
    analysis_id: int, threshold: float, pools: _Pools, tested: tuple[_Tested, _Tested]
) -> FigureBlocks:
    section_tests, group_tests = tested
    group_pools = stats.pool_list(pools.pools(pools.group_counts))
    return FigureBlocks(
        analysis_id=analysis_id,
        threshold=threshold,
        timestamp=utc_now(),
        letters=pools.letters,
        sections=_section_figures(pools),
        groups=[
            GroupFigures(group_id, pool.count, pool.mean_gpa, pool.stddev, *columns)
            for group_id, pool, columns in zip(
                pools.group_ids, group_pools, _test_columns(group_tests, threshold), strict=True
            )
        ],
        zscores=_section_z_tests(pools, section_tests, threshold),
    )


def _section_figures(pools: _Pools) -> Iterator[SectionColumns]:
    """Each section's figures, a block at a time, made as they are written."""
    sections = pools.pools(pools.counts)
    for block in _blocks(len(pools.section_ids)):
        counts = [int(count) for count in sections.count[block].tolist()]
        yield SectionColumns(
            section_id=pools.section_ids[block],
            counted=counts,
            mean_gpa=[
                mean if count else None
                for mean, count in zip(sections.mean[block].tolist(), counts, strict=True)
            ],
            grade_counts=list(map(tuple, pools.grade_counts[block].tolist())),
        )


def _section_z_tests(pools: _Pools, tested: _Tested, threshold: float) -> Iterator[ZTestColumns]:
    """Each section test (a row per section and group), a block at a time, made as they are
    written."""
    import numpy as np

    section_ids = np.asarray(pools.section_ids, dtype=np.int64)[pools.test_section]
    group_ids = np.asarray(pools.group_ids, dtype=np.int64)[pools.test_group]
    tests = tested.tests
    significant = tests.significant(threshold)
    adjusted = tested.p_adjusted < threshold
    for block in _blocks(len(section_ids)):
        yield ZTestColumns(
            section_id=section_ids[block].tolist(),
            group_id=group_ids[block].tolist(),
            z_score=_optionals(tests.statistic[block].tolist()),
            p_value=_optionals(tests.p_value[block].tolist()),
            significant=significant[block].tolist(),
            p_adjusted=_optionals(tested.p_adjusted[block].tolist()),
            significant_adjusted=adjusted[block].tolist(),
            effect_size=_optionals(tested.effect_size[block].tolist()),
            no_test_reason=tests.reason[block].tolist(),
        )


def _optionals(values: list[float]) -> list[float | None]:
    """NaN stored as null."""
    return [None if value != value else value for value in values]
