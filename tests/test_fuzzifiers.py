import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from fuzzyprune._fuzzifiers import (
    PolynomialFuzzifier,
    PowerFuzzifier,
    schwaemmle_jensen_m,
)


def mestimate(n_samples, n_features):
    """The published formula, written as in Mfuzz's ``mestimate``."""
    N, D = n_samples, n_features
    return (
        1
        + (1418 / N + 22.05) * D ** (-2)
        + (12.33 / N + 0.243) * D ** (-0.0406 * np.log(N) - 0.1134)
    )


@pytest.mark.parametrize(
    "shape, expected",
    [
        # Worked by hand: iris, and Vehicle-X's 77,516 x 2048 features.
        ((150, 4), 1 + 31.503 / 16 + 0.3252 * 4**-0.31683),
        ((77516, 2048), 1.003145),
    ],
)
def test_schwaemmle_jensen_m_by_hand(shape, expected):
    assert schwaemmle_jensen_m(*shape) == pytest.approx(expected, rel=2e-4)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 10**7), st.integers(1, 10**5))
def test_schwaemmle_jensen_m_equals_published_formula(n_samples, n_features):
    m = schwaemmle_jensen_m(n_samples, n_features)
    assert m == pytest.approx(mestimate(n_samples, n_features), rel=1e-12)
    # More features call for a fuzzifier closer to 1.
    assert 1 < schwaemmle_jensen_m(n_samples, n_features + 1) < m


def polynomial(u, beta):
    return (1 - beta) / (1 + beta) * u**2 + 2 * beta / (1 + beta) * u


def test_polynomial_memberships_by_hand():
    # One sample at squared distances 1, 1.44 and 81, beta = 1/2: ratios
    # 1, 25/36 and 1/81; the first two pass the test (1.5 * 25/36 > 0.5 *
    # 61/36), the third does not (2 / 81 < 0.5 * S), so with S = 61/36,
    # u = ((1 + 1/2) r - S / 2) / (S / 2) = 47/61, 14/61 and 0.
    sq = np.array([[1.0], [1.44], [81.0]])
    memberships, log_weights, log_objective = PolynomialFuzzifier(0.5).terms(sq)
    assert_allclose(memberships[:, 0], [47 / 61, 14 / 61, 0.0], rtol=1e-14)
    assert memberships[2, 0] == 0.0
    weights = polynomial(np.array([47 / 61, 14 / 61, 0.0]), 0.5)
    assert_allclose(np.exp(log_weights[:2, 0]), weights[:2], rtol=1e-14)
    assert log_weights[2, 0] == -np.inf
    assert_allclose(np.exp(log_objective), weights @ sq[:, 0], rtol=1e-14)


def simplex_grid(step):
    values = np.arange(0, 1 + step / 2, step)
    points = [(a, b, 1 - a - b) for a, b in itertools.product(values, values)]
    return np.array([p for p in points if p[2] >= -1e-12]).clip(0)


@settings(max_examples=30, deadline=None)
@given(
    sq=st.lists(st.floats(1e-3, 1e3), min_size=3, max_size=3),
    beta=st.floats(0.0, 0.95),
)
def test_polynomial_memberships_minimise_the_objective(sq, beta):
    sq = np.array(sq)
    memberships, _, log_objective = PolynomialFuzzifier(beta).terms(sq[:, None])
    objective = polynomial(memberships[:, 0], beta) @ sq
    assert np.exp(log_objective[0]) == pytest.approx(objective, rel=1e-12)
    # Brute force over the simplex: nothing does better.
    grid = simplex_grid(0.005)
    assert objective <= (polynomial(grid, beta) @ sq).min() * (1 + 1e-12)


def test_polynomial_with_beta_zero_is_power_two():
    sq = np.random.default_rng(0).random((5, 40)) * 10
    poly = PolynomialFuzzifier(0.0).terms(sq)
    power = PowerFuzzifier(2.0).terms(sq)
    for poly_part, power_part in zip(poly, power, strict=True):
        assert_allclose(poly_part, power_part, rtol=1e-12)


@pytest.mark.parametrize("fuzzifier", [PowerFuzzifier(2.0), PolynomialFuzzifier(0.5)])
def test_sample_on_centers_shares_them(fuzzifier):
    memberships, _, log_objective = fuzzifier.terms(np.array([[0.0], [4.0], [0.0]]))
    assert_array_equal(memberships, [[0.5], [0.0], [0.5]])
    assert log_objective[0] == -np.inf


@settings(max_examples=60, deadline=None)
@given(
    beta=st.one_of(
        st.just(0.0), st.floats(0.0, 1.0, exclude_max=True), st.just(1 - 1e-15)
    ),
    scale=st.sampled_from([1e-300, 1e-30, 1.0, 1e30, 1e300]),
    seed=st.integers(0, 100),
)
def test_polynomial_memberships_are_a_partition(beta, scale, seed):
    sq = np.random.default_rng(seed).random((7, 50)) * scale
    memberships, log_weights, log_objective = PolynomialFuzzifier(beta).terms(sq)
    assert np.isfinite(memberships).all()
    assert memberships.min() >= 0 and memberships.max() <= 1
    assert_allclose(memberships.sum(axis=0), 1.0, rtol=1e-12)
    assert not np.isnan(log_weights).any() and not np.isnan(log_objective).any()
    # The nearest cluster always has the largest membership.
    assert_array_equal(memberships.argmax(axis=0), sq.argmin(axis=0))


@settings(max_examples=100, deadline=None)
@given(
    sq=st.lists(st.floats(1e-3, 1e3), min_size=2, max_size=9),
    beta=st.floats(0.0, 0.95),
)
def test_polynomial_memberships_satisfy_optimality_conditions(sq, beta):
    # The objective is convex in u on the simplex, so these (Karush-Kuhn-Tucker)
    # conditions characterise its minimum: g'(u_j) d_j is one value, lambda,
    # for the clusters of positive membership, and g'(0) d_j >= lambda for the
    # others.
    sq = np.array(sq)
    memberships = PolynomialFuzzifier(beta).terms(sq[:, None])[0][:, 0]
    slope = 2 * (1 - beta) / (1 + beta) * memberships + 2 * beta / (1 + beta)
    marginal = slope * sq
    positive = memberships > 0
    lam = marginal[positive].mean()
    assert_allclose(marginal[positive], lam, rtol=1e-9)
    assert (marginal[~positive] >= lam * (1 - 1e-9)).all()
