"""Tests for sparsefield.rf.poisson: the Poisson objective against scipy and finite differences."""

import numpy as np
import pytest
from scipy.stats import poisson

from sparsefield.errors import InputError
from sparsefield.rf.poisson import PoissonProblem, poisson_nll, poisson_nll_grad


def make_problem(seed, n_rows, n_pixels):
    """Random design, parameters, durations and Poisson counts drawn from the model."""
    rng = np.random.default_rng(seed)
    design = rng.normal(0.0, 1.0, (n_rows, n_pixels))
    weights = rng.normal(0.0, 0.3 / np.sqrt(n_pixels), n_pixels)
    intercept = rng.normal(2.5, 0.3)
    durations = rng.uniform(0.15, 0.25, n_rows)
    mu = durations * np.exp(design @ weights + intercept)
    counts = rng.poisson(mu)
    return weights, intercept, design, counts, durations


# row counts around the kernel's block size (128 rows) and tiny cases
@pytest.mark.parametrize("n_rows", [1, 7, 128, 129, 300])
def test_nll_equals_scipy_logpmf(n_rows):
    weights, intercept, design, counts, durations = make_problem(n_rows, n_rows, 9)
    mu = durations * np.exp(design @ weights + intercept)
    expected = -np.mean(poisson.logpmf(counts, mu))
    assert poisson_nll(weights, intercept, design, counts, durations) == pytest.approx(
        expected, rel=1e-12, abs=1e-12
    )
    nll, _, _ = poisson_nll_grad(weights, intercept, design, counts, durations)
    assert nll == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradient_matches_central_differences(seed):
    weights, intercept, design, counts, durations = make_problem(seed, 300, 12)
    rng = np.random.default_rng(100 + seed)
    # a random point away from the truth, where the gradient is not small
    weights = weights + rng.normal(0.0, 0.1, weights.shape)
    intercept = intercept + 0.2
    _, grad_weights, grad_intercept = poisson_nll_grad(
        weights, intercept, design, counts, durations
    )
    problem = PoissonProblem.from_arrays(design, counts, durations)
    theta = np.append(weights, intercept)
    step = 1e-6
    numeric = np.empty_like(theta)
    for index in range(theta.size):
        shift = np.zeros_like(theta)
        shift[index] = step
        upper = problem.nll(theta[:-1] + shift[:-1], theta[-1] + shift[-1])
        lower = problem.nll(theta[:-1] - shift[:-1], theta[-1] - shift[-1])
        numeric[index] = (upper - lower) / (2 * step)
    analytic = np.append(grad_weights, grad_intercept)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)
    assert np.max(np.abs(analytic)) > 1e-2  # a real test, not a zero gradient


def test_gradient_matches_numpy_closed_form_large():
    weights, intercept, design, counts, durations = make_problem(5, 2000, 300)
    mu = durations * np.exp(design @ weights + intercept)
    _, grad_weights, grad_intercept = poisson_nll_grad(
        weights, intercept, design, counts, durations
    )
    np.testing.assert_allclose(
        grad_weights, design.T @ (mu - counts) / 2000, rtol=1e-9, atol=1e-12
    )
    assert grad_intercept == pytest.approx(np.mean(mu - counts), rel=1e-9, abs=1e-12)


def test_theta_interface_and_expected_counts():
    weights, intercept, design, counts, durations = make_problem(3, 200, 5)
    problem = PoissonProblem.from_arrays(design, counts, durations)
    nll, grad_weights, grad_intercept = problem.nll_grad(weights, intercept)
    nll_theta, grad_theta = problem.nll_grad_theta(np.append(weights, intercept))
    assert nll_theta == nll
    np.testing.assert_array_equal(grad_theta, np.append(grad_weights, grad_intercept))
    np.testing.assert_allclose(
        problem.expected_counts(weights, intercept),
        durations * np.exp(design @ weights + intercept),
        rtol=1e-12,
    )


def test_constant_duration_matches_course_rate_form():
    """r_t = exp(w . s_t) * dt * R is the model with intercept = log R."""
    weights, _, design, counts, _ = make_problem(4, 150, 6)
    dt, rate = 0.2, 12.0
    durations = np.full(150, dt)
    course_rate = np.exp(design @ weights) * dt * rate
    expected = -np.mean(poisson.logpmf(counts, course_rate))
    assert poisson_nll(weights, np.log(rate), design, counts, durations) == pytest.approx(
        expected, rel=1e-12
    )


def test_bad_inputs():
    weights, intercept, design, counts, durations = make_problem(6, 20, 3)
    with pytest.raises(InputError,
                       match=r"counts: expected 20 entries along the first axis, got shape \(19,\)"):
        poisson_nll(weights, intercept, design, counts[:-1], durations)
    with pytest.raises(InputError, match="counts: contains negative"):
        poisson_nll(weights, intercept, design, -np.ones(20), durations)
    with pytest.raises(InputError, match="durations: must be positive"):
        poisson_nll(weights, intercept, design, counts, np.zeros(20))
    with pytest.raises(InputError, match="weights: expected shape"):
        poisson_nll(weights[:2], intercept, design, counts, durations)
    with pytest.raises(InputError, match="design: contains NaN"):
        poisson_nll(weights, intercept, np.full((20, 3), np.nan), counts, durations)
