"""Pure statistics of design.md section 2: numbers in, numbers out. No I/O, no database.

Grades are summarised as counts per grade-point value, which is all a mean, a population
standard deviation or a z-test needs, and lets the database do the counting. The work is done
on arrays (numpy, scipy), a row per pool, because an analysis of a million grades has tens of
thousands of sections; the one-pool functions are the same computation on one row.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gradestore.kinds import Adjustment, TestMethod

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

PointsHistogram = Mapping[float, int]


@dataclass(frozen=True, slots=True)
class PoolStats:
    """Count, mean and population standard deviation (divide by N) of a pool of grade points.

    ``mean_gpa`` and ``stddev`` are None for an empty pool.
    """

    count: int
    mean_gpa: float | None
    stddev: float | None


@dataclass(frozen=True, slots=True)
class ZTest:
    z_score: float | None
    p_value: float | None
    significant: bool


NO_TEST = ZTest(z_score=None, p_value=None, significant=False)


@dataclass(frozen=True, slots=True)
class Pools:
    """Many pools at once: ``count``, ``mean`` and ``stddev`` arrays, NaN where undefined."""

    count: FloatArray
    mean: FloatArray
    stddev: FloatArray

    def take(self, rows: npt.NDArray[np.intp]) -> Pools:
        """The pools at ``rows`` (an index array; a pool may be taken several times)."""
        return Pools(count=self.count[rows], mean=self.mean[rows], stddev=self.stddev[rows])


def pools_from_counts(counts: FloatArray, points: FloatArray) -> Pools:
    """``counts[i, j]``: how many grades worth ``points[j]`` pool i holds.

    The stddev is the population one (divide by N), computed in two passes for accuracy, and
    exactly 0 for a pool of a single value (not a rounding residue that would give a huge z).
    """
    import numpy as np

    # In row order whatever the caller's layout: the product sums a row's terms in another
    # order for a column-ordered array (a column selection is one), which moves a mean's
    # last bit, and stored figures must not depend on how an array was sliced.
    counts = np.ascontiguousarray(counts, dtype=float)
    count = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (counts @ points) / count
        variance = (counts * (points[np.newaxis, :] - mean[:, np.newaxis]) ** 2).sum(axis=1) / count
    stddev = np.sqrt(variance)
    one_value = (counts > 0).sum(axis=1) == 1
    if one_value.any():
        mean[one_value] = points[np.argmax(counts[one_value] > 0, axis=1)]
        stddev[one_value] = 0.0
    return Pools(count=count, mean=mean, stddev=stddev)


def z_tests_of(
    sample: Pools, population: Pools, threshold: float
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """Row-wise one-sample z-tests of each sample's mean against its population:
    ``z = (mean - population mean) / (population stddev / sqrt(count))``,
    ``p = 2 * (1 - Phi(|z|))``, significant when ``p < threshold``.

    z and p are NaN (and not significant) where the population's stddev is 0 or undefined, or
    the sample is empty.
    """
    z, p = z_and_p(sample, population)
    return z, p, p < threshold


def z_and_p(sample: Pools, population: Pools) -> tuple[FloatArray, FloatArray]:
    """The z and two-sided p of :func:`z_tests_of`, NaN where undefined."""
    import numpy as np

    with np.errstate(invalid="ignore", divide="ignore"):
        z = (sample.mean - population.mean) / (population.stddev / np.sqrt(sample.count))
    undefined = (sample.count == 0) | ~(population.stddev > 0) | ~np.isfinite(z)
    z[undefined] = np.nan
    return z, two_sided_p_values(z)


def two_sided_p_values(z: FloatArray) -> FloatArray:
    """p = 2 * (1 - Phi(|z|)), computed as 2 * Phi(-|z|) so tiny p-values keep their precision."""
    import numpy as np
    from scipy.special import ndtr

    return 2.0 * ndtr(-np.abs(z))


def pool_stats(histogram: PointsHistogram) -> PoolStats:
    """Count, mean and population stddev of one pool given as {grade points: how many}."""
    import numpy as np

    points = np.array(list(histogram), dtype=float)
    pools = pools_from_counts(np.array([list(histogram.values())], dtype=float), points)
    return _pool_at(pools, 0)


def two_sided_p_value(z_score: float) -> float:
    """:func:`two_sided_p_values` of one z."""
    import numpy as np

    return float(two_sided_p_values(np.array([z_score], dtype=float))[0])


def z_test(sample: PoolStats, population: PoolStats, threshold: float) -> ZTest:
    """One-sample z-test of ``sample``'s mean against ``population`` (mean and stddev known).

    Null (and not significant) when the population's stddev is 0 or unknown, or the sample is empty.
    """
    return z_tests([(sample, population)], threshold)[0]


def z_tests(pairs: Sequence[tuple[PoolStats, PoolStats]], threshold: float) -> list[ZTest]:
    """:func:`z_test` of many (sample, population) pairs at once."""
    samples = _pools([sample for sample, _ in pairs])
    populations = _pools([population for _, population in pairs])
    return test_list(*z_tests_of(samples, populations, threshold))


def pool_list(pools: Pools) -> list[PoolStats]:
    """The pools as PoolStats (None where undefined), for storing or showing."""
    return [_pool_at(pools, i) for i in range(len(pools.count))]


def test_list(z: FloatArray, p: FloatArray, significant: npt.NDArray[np.bool_]) -> list[ZTest]:
    return [
        ZTest(*_optional(z_value, p_value), significant=bool(flag))
        for z_value, p_value, flag in zip(z.tolist(), p.tolist(), significant.tolist(), strict=True)
    ]


def _pool_at(pools: Pools, index: int) -> PoolStats:
    count = int(pools.count[index])
    if count == 0:
        return PoolStats(count=0, mean_gpa=None, stddev=None)
    return PoolStats(
        count=count, mean_gpa=float(pools.mean[index]), stddev=float(pools.stddev[index])
    )


def _pools(stats: Sequence[PoolStats]) -> Pools:
    import numpy as np

    def column(values: Iterable[float | None]) -> FloatArray:
        return np.array([np.nan if value is None else value for value in values], dtype=float)

    return Pools(
        count=column(s.count for s in stats),
        mean=column(s.mean_gpa for s in stats),
        stddev=column(s.stddev for s in stats),
    )


def _optional(z_value: float, p_value: float) -> tuple[float | None, float | None]:
    if z_value != z_value:  # NaN: no test
        return None, None
    return z_value, p_value


# --- Tests that say why they are null, effect sizes, multiplicity, over-dispersion ---------------

NO_COUNTED_GRADES = "no counted grades"
GROUP_STDDEV_ZERO = "group stddev is 0"
ONLY_SECTION = "only section of its group"
ONLY_GROUP = "only group in the analysis"
ALL_STDDEV_ZERO = "stddev of all groups is 0"
REST_TOO_SMALL = "rest of its group has fewer than 2 counted grades"
REST_OF_ALL_TOO_SMALL = "rest of the analysis has fewer than 2 counted grades"
NO_SPREAD = "no spread within the section or the rest"
IN_NO_GROUP = "in no group"

METHODS = tuple(str(method) for method in TestMethod)
ADJUSTMENTS = tuple(str(adjustment) for adjustment in Adjustment)
WINSORISED_SHARE = 0.1


def fewer_than(n: int) -> str:
    """The reason of a test left out for its size (``--min-n``, or Welch's 2)."""
    return f"fewer than {n} counted grades"


@dataclass(frozen=True, slots=True)
class TestArrays:
    """Row-wise tests: the statistic (z, or Welch's t) and its two-sided p, NaN where there is
    no test, and there ``reason`` says why (None where there is a test)."""

    statistic: FloatArray
    p_value: FloatArray
    reason: npt.NDArray[np.object_]

    def significant(self, threshold: float) -> npt.NDArray[np.bool_]:
        """``p < threshold``; False where there is no test."""
        return self.p_value < threshold


def _reasons(rows: int, cases: Sequence[tuple[npt.NDArray[np.bool_], str]]) -> npt.NDArray[Any]:
    """The first reason (in ``cases`` order) that holds for each row, None where none does."""
    import numpy as np

    reasons = np.full(rows, None, dtype=object)
    for condition, reason in reversed(cases):
        reasons[condition] = reason
    return reasons


def _with_reasons(
    statistic: FloatArray, p_value: FloatArray, reasons: npt.NDArray[Any]
) -> TestArrays:
    import numpy as np

    untested = reasons != None  # noqa: E711 (element-wise on an object array)
    statistic, p_value = statistic.copy(), p_value.copy()
    statistic[untested] = np.nan
    p_value[untested] = np.nan
    return TestArrays(statistic=statistic, p_value=p_value, reason=reasons)


def section_z_tests(sections: Pools, groups: Pools, *, min_n: int = 1) -> TestArrays:
    """design.md's z-test of each section against its group (row by row), with a reason where a
    test cannot inform: no counted grades, the only section of its group (z = 0 by
    construction), fewer than ``min_n`` counted grades, or a group stddev of 0."""
    z, p = z_and_p(sections, groups)
    reasons = _reasons(
        len(z),
        [
            (sections.count == 0, NO_COUNTED_GRADES),
            (sections.count == groups.count, ONLY_SECTION),
            (sections.count < min_n, fewer_than(min_n)),
            (~(groups.stddev > 0), GROUP_STDDEV_ZERO),
        ],
    )
    return _with_reasons(z, p, reasons)


def group_z_tests(groups: Pools, everything: Pools) -> TestArrays:
    """design.md's z-test of each group against all groups of the analysis (``everything``:
    one pool per row); a group that holds every counted grade of the analysis is not tested."""
    z, p = z_and_p(groups, everything)
    reasons = _reasons(
        len(z),
        [
            (groups.count == 0, NO_COUNTED_GRADES),
            (groups.count == everything.count, ONLY_GROUP),
            (~(everything.stddev > 0), ALL_STDDEV_ZERO),
        ],
    )
    return _with_reasons(z, p, reasons)


def welch_tests(
    samples: Pools, rests: Pools, populations: Pools, *, min_n: int = 1, whole: str = ONLY_SECTION
) -> TestArrays:
    """Welch's t-test of each sample against the rest of its population (the population's
    other grades), from the pools' counts, means and sample variances; ``statistic`` is t.

    Pools hold population stddevs (divide by N); Welch needs sample ones (N - 1), converted
    here. No test where either side has fewer than 2 counted grades, or neither has any spread.
    """
    import numpy as np
    from scipy.stats import ttest_ind_from_stats

    smallest = max(min_n, 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        t, p = ttest_ind_from_stats(
            samples.mean, _sample_stddev(samples), samples.count,
            rests.mean, _sample_stddev(rests), rests.count,
            equal_var=False,
        )  # fmt: skip
    t, p = np.asarray(t, dtype=float), np.asarray(p, dtype=float)
    whole_reason = (ONLY_SECTION, GROUP_STDDEV_ZERO, REST_TOO_SMALL)
    if whole == ONLY_GROUP:
        whole_reason = (ONLY_GROUP, ALL_STDDEV_ZERO, REST_OF_ALL_TOO_SMALL)
    reasons = _reasons(
        len(t),
        [
            (samples.count == 0, NO_COUNTED_GRADES),
            (rests.count == 0, whole_reason[0]),
            (samples.count < smallest, fewer_than(smallest)),
            (~(populations.stddev > 0), whole_reason[1]),
            (rests.count < 2, whole_reason[2]),
            (~np.isfinite(t), NO_SPREAD),
        ],
    )
    return _with_reasons(t, p, reasons)


def _sample_stddev(pools: Pools) -> FloatArray:
    """The sample stddev (divide by N - 1) of pools that hold the population one; NaN below 2."""
    import numpy as np

    with np.errstate(invalid="ignore", divide="ignore"):
        return pools.stddev * np.sqrt(pools.count / (pools.count - 1))


def effect_sizes(samples: Pools, populations: Pools, tests: TestArrays) -> FloatArray:
    """Cohen's d against the population, ``(mean - population mean) / population stddev``, row by
    row; NaN where there is no test (whatever test was run, d has this one definition)."""
    import numpy as np

    with np.errstate(invalid="ignore", divide="ignore"):
        d = (samples.mean - populations.mean) / populations.stddev
    d[tests.reason != None] = np.nan  # noqa: E711
    return d


def adjust_p_values(p_values: FloatArray, method: str) -> FloatArray:
    """p-values adjusted for multiplicity over the tests that have one (NaN stays NaN, in place):
    ``bh``/``by`` (Benjamini-Hochberg/-Yekutieli false discovery rate), ``holm``,
    ``bonferroni``, or ``none`` (p unchanged)."""
    import numpy as np

    adjusted = np.array(p_values, dtype=float)
    tested = ~np.isnan(adjusted)
    p = adjusted[tested]
    if p.size == 0 or method == "none":
        return adjusted
    if method in ("bh", "by"):
        adjusted[tested] = _benjamini(p, by=method == "by")
    elif method == "holm":
        adjusted[tested] = _holm(p)
    elif method == "bonferroni":
        adjusted[tested] = np.minimum(1.0, p * p.size)
    else:
        raise ValueError(f"unknown adjustment {method!r}")
    return adjusted


def _benjamini(p: FloatArray, *, by: bool) -> FloatArray:
    """Benjamini-Hochberg (``by``: -Yekutieli): the k-th smallest p times m / k (BY: times
    c(m) = 1 + 1/2 + ... + 1/m too), made non-increasing from the largest down, at most 1.

    The same operations in the same order as ``scipy.stats.false_discovery_control``, so the
    figures are bit for bit scipy's (a test compares them), without importing scipy.stats
    (over a second of an analysis' start-up: it builds every distribution's docstring)."""
    import numpy as np

    if p.size <= 1:
        return p.copy()
    order = np.argsort(p)
    ranked = p[order]
    ranks = np.arange(1, p.size + 1, dtype=float)
    ranked = ranked * (p.size / ranks)
    if by:
        ranked = ranked * np.sum(1 / ranks)
    np.minimum.accumulate(ranked[::-1], out=ranked[::-1])
    adjusted = np.empty_like(ranked)
    adjusted[order] = ranked
    return np.clip(adjusted, 0.0, 1.0)


def _holm(p: FloatArray) -> FloatArray:
    """Holm's step-down: the k-th smallest p times (m - k + 1), made non-decreasing, at most 1."""
    import numpy as np

    order = np.argsort(p, kind="stable")
    scaled = (p.size - np.arange(p.size)) * p[order]
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return adjusted


def overdispersion(statistics: FloatArray) -> float | None:
    """phi: the mean squared z after winsorising the 10% most extreme at each end (Spiegelhalter,
    Stat. Med. 2005); about 1 when sections differ by chance alone. None without any test."""
    import numpy as np

    z = np.sort(statistics[~np.isnan(statistics)])
    if z.size == 0:
        return None
    cut = int(z.size * WINSORISED_SHARE)
    z = np.clip(z, z[cut], z[z.size - 1 - cut])
    return float(np.mean(z**2))


def critical_z(alpha: float) -> float:
    """The two-sided critical z of ``alpha`` (the funnel plot's limits)."""
    from statistics import NormalDist

    return NormalDist().inv_cdf(1 - alpha / 2)


def control_limit(stddev: float, count: float, alpha: float) -> float:
    """How far from the centre a mean of ``count`` grades may lie by chance at ``alpha``:
    z·sd/√n, the z-test's own limit drawn as a funnel."""
    return critical_z(alpha) * stddev / math.sqrt(count)
