"""The contract's grade scale and z-test (design.md section 2), written out independently of
gradestore, for tests that check gradestore's figures against their own."""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm

POINTS = {
    "A+": 4.0,
    "A": 4.0,
    "A-": 3.7,
    "B+": 3.3,
    "B": 3.0,
    "B-": 2.7,
    "C+": 2.3,
    "C": 2.0,
    "C-": 1.7,
    "D+": 1.3,
    "D": 1.0,
    "D-": 0.7,
    "F": 0.0,
}
NOT_COUNTED = ("I", "W", "P", "NP")
LETTERS = (*POINTS, *NOT_COUNTED)
GOOD = {"A+", "A", "A-"}
WORK = {"D+", "D", "D-", "F"}


def ztest(
    sample: list[float], population: list[float], alpha: float
) -> tuple[float | None, float | None, bool]:
    """One-sample z-test against a population of known (population) standard deviation; none
    when the sample is the whole population (design.md section 7: z would be 0 by
    construction)."""
    if len(sample) == len(population):
        return None, None, False
    std = float(np.std(population, ddof=0))
    z = (float(np.mean(sample)) - float(np.mean(population))) / (std / math.sqrt(len(sample)))
    p = float(2 * norm.sf(abs(z)))
    return z, p, p < alpha
