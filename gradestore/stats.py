"""Pure statistics of design.md section 2: numbers in, numbers out. No I/O, no database.

Grades are summarised as counts per grade-point value, which is all a mean, a population
standard deviation or a z-test needs, and lets the database do the counting. The work is done
on arrays (numpy, scipy), a row per pool, because an analysis of a million grades has tens of
thousands of sections; the one-pool functions are the same computation on one row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

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
    import numpy as np

    with np.errstate(invalid="ignore", divide="ignore"):
        z = (sample.mean - population.mean) / (population.stddev / np.sqrt(sample.count))
    undefined = (sample.count == 0) | ~(population.stddev > 0) | ~np.isfinite(z)
    z[undefined] = np.nan
    p = two_sided_p_values(z)
    return z, p, p < threshold


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
