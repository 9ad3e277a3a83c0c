"""Tests a chair can trust (stats.py): null cases with reasons, multiplicity adjustment, effect
sizes, Welch's t-test and over-dispersion. Every number is worked out here, by hand for small
cases and with numpy/scipy directly (on the expanded grade points) for larger ones."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as scipy_stats
from scipy.stats.mstats import winsorize

from gradestore import stats
from gradestore.stats import Pools, pools_from_counts
from tests.expected import POINTS as CONTRACT_POINTS

POINTS = np.array(sorted(set(CONTRACT_POINTS.values())))
NAN = math.nan


def pools(*histograms: dict[float, int]) -> Pools:
    """One pool per histogram {grade points: how many}."""
    counts = np.array([[h.get(p, 0) for p in POINTS] for h in histograms], dtype=float)
    return pools_from_counts(counts.reshape(len(histograms), len(POINTS)), POINTS)


def expand(histogram: dict[float, int]) -> np.ndarray:
    return np.array([points for points, n in histogram.items() for _ in range(n)], dtype=float)


def merged(*histograms: dict[float, int]) -> dict[float, int]:
    total: dict[float, int] = {}
    for histogram in histograms:
        for points, n in histogram.items():
            total[points] = total.get(points, 0) + n
    return total


def same(actual: np.ndarray, expected: list[float]) -> None:
    np.testing.assert_allclose(actual, np.array(expected, dtype=float), rtol=1e-12, atol=0)


# --- p adjustment: a hand-worked example with ties and an untested row --------------------------
# p = 0.01, 0.02, 0.02, 0.04, 0.5 (m = 5 tests), and a row without a test (NaN) in the middle.
# BH: p_(k) * m / k = 0.05, 0.05, 0.0333.., 0.05, 0.5; the running minimum from the largest p
#     down: 0.5, 0.05, 0.0333.., 0.0333.., 0.0333..
# BY: BH's terms times c(5) = 1 + 1/2 + 1/3 + 1/4 + 1/5 = 137/60, then the same running minimum,
#     at most 1: 0.05 * 137/60 = 0.0761.., 0.0333.. * 137/60 = 0.0761.., 0.05 * 137/60 = 0.11416..
# Holm: p_(k) * (m - k + 1) = 0.05, 0.08, 0.06, 0.08, 0.5; running maximum: 0.05, 0.08, 0.08,
#       0.08, 0.5 (the tied 0.02s get the same adjusted value whichever comes first)
# Bonferroni: p * 5, at most 1: 0.05, 0.1, 0.1, 0.2, 1.0
RAW = [0.02, 0.5, NAN, 0.01, 0.04, 0.02]
HAND_WORKED = {
    "bh": [1 / 30, 0.5, NAN, 1 / 30, 0.05, 1 / 30],
    "by": [137 / 1800, 1.0, NAN, 137 / 1800, 0.05 * 137 / 60, 137 / 1800],
    "holm": [0.08, 0.5, NAN, 0.05, 0.08, 0.08],
    "bonferroni": [0.1, 1.0, NAN, 0.05, 0.2, 0.1],
    "none": RAW,
}


@pytest.mark.parametrize("method", stats.ADJUSTMENTS)
def test_adjustment_by_hand_with_ties_and_an_untested_row(method: str) -> None:
    same(stats.adjust_p_values(np.array(RAW), method), HAND_WORKED[method])


def test_adjustment_of_no_tests_is_empty() -> None:
    assert stats.adjust_p_values(np.array([]), "bh").size == 0
    assert np.isnan(stats.adjust_p_values(np.array([NAN, NAN]), "holm")).all()


def test_unknown_adjustment_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown adjustment"):
        stats.adjust_p_values(np.array([0.1]), "sidak")


def reference_adjustment(p: list[float], method: str) -> list[float]:
    """The textbook definitions, one p at a time (O(m^2)), as an independent computation."""
    m = len(p)
    rank_sorted = sorted(p)
    harmonic = sum(1 / k for k in range(1, m + 1)) if method == "by" else 1.0
    adjusted = []
    for value in p:
        rank = rank_sorted.index(value) + 1  # first of its ties
        if method in ("bh", "by"):
            terms = [rank_sorted[j - 1] * m * harmonic / j for j in range(rank, m + 1)]
            adjusted.append(min(1.0, min(terms)))
        elif method == "holm":
            last_tie = m - rank_sorted[::-1].index(value)
            terms = [rank_sorted[j - 1] * (m - j + 1) for j in range(1, last_tie + 1)]
            adjusted.append(min(1.0, max(terms)))
        else:
            adjusted.append(min(1.0, value * m))
    return adjusted


@given(
    st.lists(st.sampled_from([0.0001, 0.001, 0.01, 0.02, 0.03, 0.2, 0.5, 0.9, 1.0]), max_size=25),
    st.sampled_from(["bh", "by", "holm", "bonferroni"]),
)
def test_adjustment_matches_the_textbook_definition(p: list[float], method: str) -> None:
    np.testing.assert_allclose(
        stats.adjust_p_values(np.array(p, dtype=float), method),
        np.array(reference_adjustment(p, method)),
        rtol=1e-12,
    )


# --- null cases and their reasons ----------------------------------------------------------------


def test_section_z_tests_say_why_they_are_null() -> None:
    a_only, mixed = {4.0: 5}, {4.0: 3, 2.0: 2}
    sections = pools({}, mixed, {4.0: 2}, a_only, {3.0: 4, 1.0: 4})
    groups = pools(
        mixed,
        mixed,
        merged({4.0: 2}, {2.0: 9}),
        merged(a_only, a_only),
        merged({3.0: 4, 1.0: 4}, {3.0: 8}),
    )
    tests = stats.section_z_tests(sections, groups, min_n=3)
    assert tests.reason.tolist() == [
        "no counted grades",
        "only section of its group",
        "fewer than 3 counted grades",
        "group stddev is 0",
        None,
    ]
    assert np.isnan(tests.statistic[:4]).all() and np.isnan(tests.p_value[:4]).all()
    assert not tests.significant(0.99)[:4].any()
    # The tested row is design.md's z: group {3.0 x12, 1.0 x4}: mean 2.5, variance
    # (12 * 0.25 + 4 * 2.25) / 16 = 0.75; z = (2.0 - 2.5) / (sqrt(0.75) / sqrt(8)).
    z = -0.5 / (math.sqrt(0.75) / math.sqrt(8))
    assert tests.statistic[4] == pytest.approx(z, rel=1e-12)
    assert tests.p_value[4] == pytest.approx(2 * scipy_stats.norm.sf(abs(z)), rel=1e-12)


def test_only_section_holds_every_counted_grade_even_beside_an_empty_section() -> None:
    # A group of this section and one whose grades are all W: z would be 0 by construction.
    tests = stats.section_z_tests(pools({4.0: 2, 2.0: 2}), pools({4.0: 2, 2.0: 2}))
    assert tests.reason.tolist() == ["only section of its group"]


@pytest.mark.parametrize(("count", "tested"), [(4, False), (5, True), (6, True)])
def test_min_n_boundary(count: int, tested: bool) -> None:
    section = {4.0: count - 1, 0.0: 1}
    tests = stats.section_z_tests(pools(section), pools(merged(section, {2.0: 20})), min_n=5)
    assert (tests.reason[0] is None) is tested
    assert np.isnan(tests.statistic[0]) is not tested
    if not tested:
        assert tests.reason[0] == "fewer than 5 counted grades"


def test_default_min_n_keeps_the_contract_for_a_single_grade() -> None:
    tests = stats.section_z_tests(pools({4.0: 1}), pools({4.0: 1, 2.0: 1}))
    assert tests.reason[0] is None
    # group {4, 2}: mean 3, population stddev 1; z = (4 - 3) / (1 / 1) = 1
    assert tests.statistic[0] == pytest.approx(1.0)


def test_group_z_tests_say_why_they_are_null() -> None:
    everything = pools({4.0: 3, 2.0: 3})
    tests = stats.group_z_tests(
        pools({}, {4.0: 3, 2.0: 3}, {4.0: 3}), everything.take(np.zeros(3, dtype=np.intp))
    )
    assert tests.reason.tolist() == ["no counted grades", "only group in the analysis", None]
    # all: mean 3, population stddev 1; group {4 x3}: z = (4 - 3) / (1 / sqrt(3)) = sqrt(3)
    assert tests.statistic[2] == pytest.approx(math.sqrt(3))
    constant = stats.group_z_tests(pools({4.0: 3}), pools({4.0: 5}))
    assert constant.reason.tolist() == ["stddev of all groups is 0"]


# --- effect size ---------------------------------------------------------------------------------


def test_effect_size_by_hand_and_null_where_the_test_is() -> None:
    # group {4 x2, 2 x2}: mean 3, population stddev 1; section {2 x2}: d = (2 - 3) / 1 = -1
    # section {4 x3, 0 x1} of group {4 x3, 0 x1, 2 x4}: means 3 and 2.5, group variance
    # (3 * 2.25 + 6.25 + 4 * 0.25) / 8 = 1.75, d = 0.5 / sqrt(1.75)
    sections = pools({2.0: 2}, {4.0: 3, 0.0: 1}, {4.0: 1})
    groups = pools({4.0: 2, 2.0: 2}, {4.0: 3, 0.0: 1, 2.0: 4}, {4.0: 1, 2.0: 9})
    tests = stats.section_z_tests(sections, groups, min_n=2)
    d = stats.effect_sizes(sections, groups, tests)
    same(d, [-1.0, 0.5 / math.sqrt(1.75), NAN])


# --- Welch ---------------------------------------------------------------------------------------

grade_histograms = st.dictionaries(
    st.sampled_from(POINTS.tolist()), st.integers(min_value=0, max_value=40), max_size=13
)


@pytest.mark.filterwarnings("ignore:Precision loss occurred:RuntimeWarning")
@given(grade_histograms, grade_histograms)
def test_welch_matches_scipy_on_the_expanded_grade_points(
    section: dict[float, int], rest: dict[float, int]
) -> None:
    group = merged(section, rest)
    tests = stats.welch_tests(pools(section), pools(rest), pools(group))
    section_points, rest_points = expand(section), expand(rest)
    if tests.reason[0] is not None:
        untested = (
            len(section_points) < 2
            or len(rest_points) < 2
            or np.ptp(section_points) == np.ptp(rest_points) == 0
        )
        assert untested
        assert np.isnan(tests.statistic[0]) and np.isnan(tests.p_value[0])
        return
    expected = scipy_stats.ttest_ind(section_points, rest_points, equal_var=False)
    assert tests.statistic[0] == pytest.approx(float(expected.statistic), rel=1e-9, abs=1e-9)
    assert tests.p_value[0] == pytest.approx(float(expected.pvalue), rel=1e-9, abs=1e-300)


def test_welch_null_reasons() -> None:
    cases = [
        ({}, {4.0: 3, 2.0: 3}, "no counted grades"),
        ({4.0: 3, 2.0: 3}, {}, "only section of its group"),
        ({4.0: 1}, {4.0: 3, 2.0: 3}, "fewer than 2 counted grades"),
        ({4.0: 3}, {4.0: 3}, "group stddev is 0"),
        ({4.0: 3, 2.0: 3}, {2.0: 1}, "rest of its group has fewer than 2 counted grades"),
        ({4.0: 3}, {2.0: 3}, "no spread within the section or the rest"),
        ({4.0: 3, 2.0: 1}, {2.0: 3}, None),
    ]
    sections = pools(*(section for section, _, _ in cases))
    rests = pools(*(rest for _, rest, _ in cases))
    groups = pools(*(merged(section, rest) for section, rest, _ in cases))
    tests = stats.welch_tests(sections, rests, groups)
    assert tests.reason.tolist() == [reason for _, _, reason in cases]
    assert np.isnan(tests.statistic[:-1]).all()
    # The one tested row by hand: section {4, 4, 4, 2}: mean 3.5, sample variance 3 * 0.25 +
    # 2.25 = 3 over 3 = 1; rest {2, 2, 2}: mean 2, sample variance 0. t = 1.5 / sqrt(1/4 + 0).
    assert tests.statistic[-1] == pytest.approx(3.0)


def test_welch_min_n_above_two() -> None:
    section, rest = {4.0: 3, 2.0: 1}, {2.0: 3, 3.0: 2}
    tests = stats.welch_tests(pools(section), pools(rest), pools(merged(section, rest)), min_n=5)
    assert tests.reason.tolist() == ["fewer than 5 counted grades"]


def test_welch_of_groups_names_the_analysis() -> None:
    tests = stats.welch_tests(
        pools({4.0: 2, 2.0: 2}, {4.0: 2, 2.0: 2}),
        pools({}, {3.0: 1}),
        pools({4.0: 2, 2.0: 2}, {4.0: 2, 2.0: 2, 3.0: 1}),
        whole=stats.ONLY_GROUP,
    )
    assert tests.reason.tolist() == [
        "only group in the analysis",
        "rest of the analysis has fewer than 2 counted grades",
    ]


# --- over-dispersion -----------------------------------------------------------------------------


def test_overdispersion_by_hand() -> None:
    # 10 z-scores (and an untested NaN): the 10% most extreme at each end (one each) are
    # replaced by their neighbours: -3 -> -1 and 4 -> 1.5. Squares: 1, 1, 0.25, 0, 0.04, 0.16,
    # 0.36, 1, 2.25, 2.25; sum 8.31; phi = 8.31 / 10.
    z = np.array([0.2, -3.0, 1.0, NAN, -0.5, 4.0, 0.0, 1.5, 0.6, -1.0, 0.4])
    assert stats.overdispersion(z) == pytest.approx(0.831, rel=1e-12)


def test_overdispersion_of_few_tests_winsorises_nothing() -> None:
    # Below 10 tests, 10% is less than one test: nothing is replaced. (1 + 4 + 9) / 3
    assert stats.overdispersion(np.array([1.0, -2.0, 3.0])) == pytest.approx(14 / 3)
    assert stats.overdispersion(np.array([NAN])) is None
    assert stats.overdispersion(np.array([])) is None


@given(st.lists(st.floats(min_value=-50, max_value=50), min_size=1, max_size=80))
def test_overdispersion_matches_scipy_winsorize(z: list[float]) -> None:
    values = np.array(z)
    expected = float(np.mean(np.asarray(winsorize(values, limits=(0.1, 0.1))) ** 2))
    assert stats.overdispersion(values) == pytest.approx(expected, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("method", ["bh", "by"])
@pytest.mark.parametrize("size", [1, 2, 7, 45_214])
def test_false_discovery_rate_is_bit_for_bit_scipys(method: str, size: int) -> None:
    """BH/BY are computed in numpy (no scipy.stats import on an analysis' path): the same
    floats as scipy's, ties and p = 0 or 1 included, as a stored figure must not move."""
    from scipy.stats import false_discovery_control

    rng = np.random.default_rng(size)
    p = rng.uniform(0, 1, size) ** 4
    p[rng.integers(0, size, size // 5 + 1)] = p[0]  # ties
    p[rng.integers(0, size, size // 50 + 1)] = 1.0
    p[rng.integers(0, size, size // 50 + 1)] = 0.0
    with_untested = np.concatenate([p, [NAN]])
    got = stats.adjust_p_values(with_untested, method)
    expected = np.atleast_1d(false_discovery_control(p, method=method))
    assert got[:-1].tobytes() == expected.tobytes() and np.isnan(got[-1])


def test_the_funnels_control_limit_is_the_z_tests_limit() -> None:
    """z·sd/√n with z from scipy: a mean that far from the centre has p exactly alpha."""
    for stddev, count, alpha in ((1.2, 25, 0.05), (0.8, 7, 0.001), (1.0, 1, 0.2)):
        expected = scipy_stats.norm.ppf(1 - alpha / 2) * stddev / count**0.5
        assert stats.control_limit(stddev, count, alpha) == pytest.approx(expected, rel=1e-12)
