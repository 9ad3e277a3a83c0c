"""stats.py and the grade scale: every number checked against arithmetic done here, by hand for
small cases and with numpy/scipy directly for larger ones."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from gradestore import grades, stats
from gradestore.stats import PoolStats, pool_stats, pools_from_counts, two_sided_p_value, z_test
from tests.expected import POINTS as CONTRACT_POINTS

POINTS = sorted(set(CONTRACT_POINTS.values()))

histograms = st.dictionaries(
    st.sampled_from(POINTS), st.integers(min_value=0, max_value=60), min_size=0, max_size=12
)


def expand(histogram: dict[float, int]) -> np.ndarray:
    """The pool as one value per grade, for numpy."""
    return np.array([points for points, n in histogram.items() for _ in range(n)], dtype=float)


# --- pool_stats ---------------------------------------------------------------------------------


@settings(deadline=None)
@given(histograms)
def test_pool_stats_matches_numpy(histogram: dict[float, int]) -> None:
    values = expand(histogram)
    pool = pool_stats(histogram)
    assert pool.count == len(values)
    if len(values) == 0:
        assert pool.mean_gpa is None and pool.stddev is None
        return
    assert pool.mean_gpa == pytest.approx(float(np.mean(values)), rel=1e-12, abs=1e-12)
    assert pool.stddev == pytest.approx(float(np.std(values, ddof=0)), rel=1e-9, abs=1e-9)


def test_pool_stats_by_hand() -> None:
    # Grades A (4.0) x2, B (3.0) x1, F (0.0) x1: mean = (8 + 3 + 0) / 4 = 2.75
    # deviations: 1.25, 1.25, 0.25, -2.75; squares: 1.5625 * 2 + 0.0625 + 7.5625 = 10.75
    # population variance = 10.75 / 4 = 2.6875, stddev = sqrt(2.6875)
    pool = pool_stats({4.0: 2, 3.0: 1, 0.0: 1})
    assert pool.count == 4
    assert pool.mean_gpa == pytest.approx(2.75)
    assert pool.stddev == pytest.approx(math.sqrt(2.6875))


def test_pool_stats_divides_by_n_not_n_minus_one() -> None:
    # {4.0, 2.0}: mean 3, deviations +-1, population variance 2/2 = 1 (sample variance would be 2)
    pool = pool_stats({4.0: 1, 2.0: 1})
    assert pool.stddev == pytest.approx(1.0)


@pytest.mark.parametrize("histogram", [{}, {4.0: 0}, {4.0: 0, 3.0: 0}])
def test_empty_pool_is_null(histogram: dict[float, int]) -> None:
    assert pool_stats(histogram) == PoolStats(count=0, mean_gpa=None, stddev=None)


@pytest.mark.parametrize(
    ("points", "n"), [(3.7, 3), (3.7, 1), (0.7, 7), (1.3, 11), (2.3, 1000), (0.0, 5)]
)
def test_single_value_pool_has_stddev_exactly_zero(points: float, n: int) -> None:
    pool = pool_stats({points: n, 4.0: 0})
    assert pool.count == n
    assert pool.mean_gpa == pytest.approx(points)
    assert pool.stddev == 0.0


@settings(deadline=None)
@given(st.lists(histograms, min_size=1, max_size=6))
def test_many_pools_at_once_match_numpy_row_by_row(parts: list[dict[float, int]]) -> None:
    """The array form the analysis uses: one row per pool."""
    points = np.array(POINTS)
    counts = np.array([[h.get(p, 0) for p in POINTS] for h in parts], dtype=float)
    pools = pools_from_counts(counts, points)
    for row, histogram in enumerate(parts):
        values = expand(histogram)
        assert pools.count[row] == len(values)
        if len(values):
            assert pools.mean[row] == pytest.approx(float(np.mean(values)), rel=1e-12)
            assert pools.stddev[row] == pytest.approx(float(np.std(values)), rel=1e-9, abs=1e-9)
        else:
            assert np.isnan(pools.mean[row]) and np.isnan(pools.stddev[row])


def test_pools_do_not_depend_on_the_counts_layout() -> None:
    """A column selection of the analysis' counts is column-ordered; its means must be the
    very bits of the same counts in row order (the product once summed them in another
    order and moved 770 of these 3,000 means by an ulp)."""
    rng = np.random.default_rng(7)
    points = np.array(POINTS)
    wide = rng.integers(0, 12, size=(3000, len(POINTS) + 3))
    selected = wide[:, list(range(len(POINTS)))].astype(float)
    assert not selected.flags["C_CONTIGUOUS"]
    in_rows = np.array(selected.tolist(), dtype=float)
    by_selection = pools_from_counts(selected, points)
    by_rows = pools_from_counts(in_rows, points)
    assert by_selection.mean.tobytes() == by_rows.mean.tobytes()
    assert by_selection.stddev.tobytes() == by_rows.stddev.tobytes()


# --- z_test -------------------------------------------------------------------------------------


def test_z_test_by_hand() -> None:
    # sample: n = 4, mean 2.5; population: mean 3.0, stddev 0.5
    # standard error = 0.5 / sqrt(4) = 0.25; z = (2.5 - 3.0) / 0.25 = -2.0
    # p = 2 * (1 - Phi(2)) = 2 * 0.022750131948179... = 0.045500263896358...
    test = z_test(PoolStats(4, 2.5, 0.0), PoolStats(100, 3.0, 0.5), 0.05)
    assert test.z_score == pytest.approx(-2.0)
    assert test.p_value == pytest.approx(0.0455002638963584, rel=1e-12)
    assert test.significant is True
    assert z_test(PoolStats(4, 2.5, 0.0), PoolStats(100, 3.0, 0.5), 0.01).significant is False


@settings(deadline=None)
@given(
    n=st.integers(min_value=1, max_value=500),
    sample_mean=st.floats(min_value=0, max_value=4),
    population_mean=st.floats(min_value=0, max_value=4),
    population_std=st.floats(min_value=0.01, max_value=2),
)
def test_z_and_p_match_scipy(
    n: int, sample_mean: float, population_mean: float, population_std: float
) -> None:
    test = z_test(
        PoolStats(n, sample_mean, 0.3), PoolStats(1000, population_mean, population_std), 0.05
    )
    expected_z = (sample_mean - population_mean) / (population_std / math.sqrt(n))
    expected_p = 2 * norm.sf(abs(expected_z))
    assert test.z_score == pytest.approx(expected_z, rel=1e-9, abs=1e-12)
    assert test.p_value == pytest.approx(expected_p, rel=1e-9, abs=1e-300)
    assert test.significant is bool(expected_p < 0.05)


@pytest.mark.parametrize("z", [0.0, 0.5, -1.0, 1.959963984540054, -3.3, 8.0, -12.0, 30.0])
def test_two_sided_p_value_matches_scipy(z: float) -> None:
    # 2 * norm.sf(|z|) keeps precision deep in the tail, where 2 * (1 - cdf) would be 0.
    assert two_sided_p_value(z) == pytest.approx(2 * norm.sf(abs(z)), rel=1e-12, abs=0)


def test_two_sided_p_value_at_zero_is_one() -> None:
    assert two_sided_p_value(0.0) == 1.0


@pytest.mark.parametrize(
    ("sample", "population"),
    [
        (PoolStats(5, 3.0, 0.1), PoolStats(50, 3.0, 0.0)),  # population stddev exactly 0
        (PoolStats(5, 2.0, 0.1), PoolStats(50, 3.0, 0.0)),  # ... even when the means differ
        (PoolStats(5, 3.0, 0.1), PoolStats(50, 3.0, None)),  # population stddev unknown
        (PoolStats(5, 3.0, 0.1), PoolStats(0, None, None)),  # empty population
        (PoolStats(0, None, None), PoolStats(50, 3.0, 0.8)),  # empty sample
    ],
)
def test_z_test_null_cases(sample: PoolStats, population: PoolStats) -> None:
    test = z_test(sample, population, 0.05)
    assert test.z_score is None
    assert test.p_value is None
    assert test.significant is False


def test_z_test_null_with_a_real_pool_of_equal_grades() -> None:
    # A group whose grades are all 3.7 (A-): stddev 0 -> no test, not an enormous z.
    group = pool_stats({3.7: 3})
    section = pool_stats({3.7: 1})
    test = z_test(section, group, 0.05)
    assert (test.z_score, test.p_value, test.significant) == (None, None, False)


def _boundary_case() -> tuple[PoolStats, PoolStats, float]:
    sample = PoolStats(9, 2.6, 0.5)
    population = PoolStats(200, 3.0, 0.6)
    # z = (2.6 - 3.0) / (0.6 / 3) = -2.0, p = 2 * norm.sf(2)
    expected_p = float(2 * norm.sf(abs((2.6 - 3.0) / (0.6 / 3))))
    return sample, population, expected_p


def test_significance_is_strictly_below_threshold() -> None:
    sample, population, p = _boundary_case()
    just_above_p = z_test(sample, population, p * (1 + 1e-9))
    assert just_above_p.p_value == pytest.approx(p, rel=1e-12)
    assert just_above_p.significant is True

    just_below_p = z_test(sample, population, p * (1 - 1e-9))
    assert just_below_p.significant is False


def test_p_equal_to_threshold_is_not_significant() -> None:
    sample, population, _ = _boundary_case()
    computed_p = z_test(sample, population, 0.5).p_value
    assert computed_p is not None
    assert z_test(sample, population, computed_p).significant is False


def test_no_test_constant_is_null() -> None:
    assert stats.NO_TEST.z_score is None
    assert stats.NO_TEST.p_value is None
    assert stats.NO_TEST.significant is False


# --- grades -------------------------------------------------------------------------------------


def test_grade_scale_is_the_contracts() -> None:
    assert dict(grades.DEFAULT_SCALE.points) == CONTRACT_POINTS
    assert set(grades.DEFAULT_SCALE.not_counted) == {"I", "W", "P", "NP"}
    for letter in ("I", "W", "P", "NP"):
        assert grades.DEFAULT_SCALE.points_of(letter) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("A", "A"),
        ("a", "A"),
        (" a- ", "A-"),
        ("b+", "B+"),
        ("\tC\n", "C"),
        ("np", "NP"),
        (" w", "W"),
        ("i", "I"),
        ("p", "P"),
        ("f", "F"),
        ("d-", "D-"),
        ("E", None),
        ("A++", None),
        ("", None),
        ("  ", None),
        ("B +", None),
        ("4.0", None),
    ],
)
def test_normalize_grade(raw: str, expected: str | None) -> None:
    assert grades.DEFAULT_SCALE.normalize(raw) == expected


@pytest.mark.parametrize(
    ("letter", "category"),
    [
        ("A+", "good"),
        ("A", "good"),
        ("A-", "good"),
        ("B+", None),
        ("C-", None),
        ("D+", "work"),
        ("D", "work"),
        ("D-", "work"),
        ("F", "work"),
        ("W", None),
        ("I", None),
    ],
)
def test_list_kind(letter: str, category: str | None) -> None:
    assert grades.DEFAULT_SCALE.category(letter) == category


def test_the_work_list_is_stored_as_the_seeds_bad_and_read_back_as_work() -> None:
    from gradestore.kinds import ListKind

    assert [kind.stored for kind in ListKind] == ["good", "bad"]
    assert [ListKind.from_stored(word) for word in ("good", "bad")] == [
        ListKind.GOOD,
        ListKind.WORK,
    ]
