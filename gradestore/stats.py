"""Pure statistics of design.md section 2: numbers in, numbers out. No I/O, no database.

Grades are summarised as histograms (grade points -> how many), which is all a mean, a
population standard deviation or a z-test needs, and lets the database do the counting.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

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


def merge_histograms(histograms: Iterable[PointsHistogram]) -> dict[float, int]:
    """Pool several histograms into one (the union of their grades)."""
    pooled: dict[float, int] = {}
    for histogram in histograms:
        for points, count in histogram.items():
            pooled[points] = pooled.get(points, 0) + count
    return pooled


def pool_stats(histogram: PointsHistogram) -> PoolStats:
    count = sum(histogram.values())
    if count == 0:
        return PoolStats(count=0, mean_gpa=None, stddev=None)
    values = [points for points, n in histogram.items() if n]
    if len(values) == 1:
        # Exactly 0, not a rounding residue that would turn into an enormous z.
        return PoolStats(count=count, mean_gpa=values[0], stddev=0.0)
    mean = math.fsum(points * n for points, n in histogram.items()) / count
    variance = math.fsum(n * (points - mean) ** 2 for points, n in histogram.items()) / count
    return PoolStats(count=count, mean_gpa=mean, stddev=math.sqrt(variance))


def two_sided_p_value(z_score: float) -> float:
    """p = 2 * (1 - Phi(|z|)), computed as 2 * Phi(-|z|) so tiny p-values keep their precision."""
    from scipy.special import ndtr

    return float(2.0 * ndtr(-abs(z_score)))


def z_test(sample: PoolStats, population: PoolStats, threshold: float) -> ZTest:
    """One-sample z-test of ``sample``'s mean against ``population`` (mean and stddev known).

    Null (and not significant) when the population's stddev is 0 or unknown, or the sample is empty.
    """
    if (
        sample.count == 0
        or sample.mean_gpa is None
        or population.mean_gpa is None
        or not population.stddev
    ):
        return NO_TEST
    standard_error = population.stddev / math.sqrt(sample.count)
    z_score = (sample.mean_gpa - population.mean_gpa) / standard_error
    p_value = two_sided_p_value(z_score)
    return ZTest(z_score=z_score, p_value=p_value, significant=p_value < threshold)
