"""The population lasso: the single-unit path's solutions, its metric, its kernels.

:func:`sparsefield.rf.lasso_population.lasso_path_population` must return, neuron by
neuron, what :func:`sparsefield.rf.lasso_path.lasso_path` returns (both stop on the same
KKT criterion, 1e-7 * lambda_max): here within 1e-6 relative at every penalty, on
white-noise designs of the three kinds its metric treats differently (balanced binary,
sparse binary, Gaussian).  "Relative" is ``max_j |w_pop - w_single| / max_j
|w_single|`` (as in ``tests/test_lasso.py``).
"""

import math

import numpy as np
import pytest

from sparsefield.rf import _lasso_population_kernels as kernels
from sparsefield.rf import lasso_population as population_module
from sparsefield.rf.lasso_path import lambda_max, lasso_path
from sparsefield.rf.lasso_population import SPARSE_STEP_FRACTION, lasso_path_population


def white_noise_problem(kind: str, strength: float = 1.0, n_rows: int = 2500,
                        n_pixels: int = 60, n_neurons: int = 6,
                        seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A design of ``kind`` and neurons with 8 non-zero weights of mixed strength.

    The linear predictor's standard deviation is about ``strength * (0.7 + 0.42 *
    neuron)`` (0.7 to 2.8 at strength 1: strong modulation, where the shared metric is a
    poor model and some penalties are handed over to Newton).

    Returns ``design`` (n_rows, n_pixels), ``counts`` (n_rows, n_neurons) and
    ``durations`` (n_rows,).
    """
    rng = np.random.default_rng(seed)
    if kind == "binary":
        design = (rng.random((n_rows, n_pixels)) < 0.5).astype(float)
    elif kind == "sparse binary":
        design = (rng.random((n_rows, n_pixels)) < 0.1).astype(float)
    else:
        design = rng.normal(0.0, 1.0, (n_rows, n_pixels))
    durations = rng.uniform(0.18, 0.25, n_rows)
    counts = np.empty((n_rows, n_neurons))
    for neuron in range(n_neurons):
        weights = np.zeros(n_pixels)
        support = rng.choice(n_pixels, 8, replace=False)
        weights[support] = rng.normal(0.0, strength * (0.25 + 0.15 * neuron), 8) / design.std()
        eta = design @ weights
        rate = 3.0 * np.exp(eta - np.log(np.mean(np.exp(eta))))
        counts[:, neuron] = rng.poisson(durations * rate)
    return design, counts, durations


def relative_difference(ours: np.ndarray, reference: np.ndarray) -> float:
    """``max_j |ours - reference| / max_j |reference|`` (``max |ours|`` if that is 0)."""
    scale = np.abs(reference).max()
    return float(np.abs(ours - reference).max() / scale) if scale else float(np.abs(ours).max())


@pytest.fixture(scope="module", params=["binary", "sparse binary", "gaussian"])
def problem(request: pytest.FixtureRequest) -> tuple:
    """(kind, design, counts, durations, population path) of strongly modulated neurons."""
    design, counts, durations = white_noise_problem(request.param)
    population = lasso_path_population(design, counts, durations, n_lambdas=8)
    return request.param, design, counts, durations, population


def test_population_equals_the_single_unit_path_within_1e_6(problem: tuple) -> None:
    """Every neuron, every penalty, strong modulation included (some hand-overs)."""
    _, design, counts, durations, population = problem
    assert population.converged.all()
    for neuron in range(counts.shape[1]):
        single = lasso_path(design, counts[:, neuron], durations, n_lambdas=8)
        np.testing.assert_allclose(population.lambdas[neuron], single.lambdas, rtol=1e-12)
        for index in range(single.lambdas.size):
            assert relative_difference(population.weights[neuron, index],
                                       single.weights[index]) <= 1e-6, (neuron, index)
        np.testing.assert_allclose(population.intercepts[neuron], single.intercepts,
                                   atol=1e-6)


@pytest.mark.parametrize("kind", ["binary", "sparse binary", "gaussian"])
def test_the_shared_metric_models_white_noise_hessians(kind: str) -> None:
    """A few quasi-Newton steps per penalty, none handed over to Newton, for neurons
    modulated as the benchmark's (linear predictor's sd 0.2 to 0.8): the metric (the
    design's correlations scaled by each pixel's weighted variance) is close to each
    neuron's Hessian.  Here 5.6 to 6.1 steps per penalty (at most 15); the previous
    metric (the covariance minus a rank-one term) needed 12 to 27, with hand-overs.
    """
    design, counts, durations = white_noise_problem(kind, strength=0.3)
    steps = lasso_path_population(design, counts, durations, n_lambdas=8).n_iter[:, 1:]
    assert steps.mean() <= 7.0, (kind, steps.mean())
    assert steps.max() < 30, kind  # max_quasi_newton: a hand-over would add Newton steps


def test_each_neuron_walks_its_own_penalties() -> None:
    """Per-neuron grids where one neuron starts above its lambda_max (all-zero weights
    at once) and another needs many steps: both equal their single-unit paths.
    """
    design, counts, durations = white_noise_problem("binary", n_rows=1500, n_neurons=2,
                                                    seed=3)
    top = [lambda_max(design, counts[:, unit], durations) for unit in range(2)]
    grids = np.array([np.geomspace(2.0 * top[0], 0.05 * top[0], 5),
                      np.geomspace(top[1], 0.01 * top[1], 5)])
    population = lasso_path_population(design, counts, durations, lambdas=grids)
    assert np.all(population.weights[0, 0] == 0.0) and population.n_iter[0, 0] == 0
    for unit in range(2):
        single = lasso_path(design, counts[:, unit], durations, lambdas=grids[unit])
        for index in range(5):
            assert relative_difference(population.weights[unit, index],
                                       single.weights[index]) <= 1e-6


def test_sparse_step_kernel_equals_the_dense_product() -> None:
    """The linear predictor of sparse directions, listed in any order of slots and rows."""
    rng = np.random.default_rng(1)
    n_pixels, n_rows, n_listed = 40, 700, 5
    design_t = rng.normal(size=(n_pixels, n_rows))
    weights = rng.normal(size=(8, n_pixels)) * (rng.random((8, n_pixels)) < 0.3)
    slots = np.array([6, 0, 3, 7, 1], dtype=np.int64)
    new_weights = weights[slots].copy()
    for index in range(n_listed):  # move at most a sixth of the pixels, some of them none
        moved = rng.choice(n_pixels, index * int(SPARSE_STEP_FRACTION * n_pixels) // 4,
                           replace=False)
        new_weights[index, moved] += rng.normal(size=moved.size)
    rows = np.array([2, 4, 0, 1, 3], dtype=np.int64)
    step_eta = np.full((n_listed, n_rows), np.nan)
    kernels.sparse_steps(design_t, weights, new_weights, slots, rows, 0, n_listed, step_eta)
    expected = (new_weights - weights[slots]) @ design_t
    np.testing.assert_allclose(step_eta[rows], expected, rtol=1e-12, atol=1e-12)


def test_row_kernel_exponential_is_within_one_ulp_of_math_exp() -> None:
    """The vectorised exp of the row kernels (a polynomial, no SVML here): within 1 ulp
    of ``math.exp`` from -708 to 709, inf above, 0 below; and the summaries it returns
    equal the ``math.exp`` kernel's to rounding.
    """
    rng = np.random.default_rng(2)
    eta = np.concatenate([rng.normal(0.0, 3.0, 20000), rng.uniform(-708.0, 709.0, 20000),
                          [0.0, 1e-300, -1e-300, 709.0, -708.0, 710.0, 1e4, -709.0, -1e4]])
    rows = eta[None, :]
    residual = np.empty_like(rows)
    summaries = [np.empty(1) for _ in range(3)]
    kernels.start_rows(rows, np.zeros_like(rows), np.ones(eta.size), residual, *summaries,
                       np.zeros(1, dtype=np.int64), 0, 1)
    inside = eta[:-4]
    reference = np.array([math.exp(value) for value in inside])
    ulps = np.abs(residual[0, :-4] - reference) / np.spacing(reference)
    assert ulps.max() <= 1.0 and np.mean(ulps == 0) > 0.9
    assert residual[0, -4] == np.inf and residual[0, -3] == np.inf
    assert residual[0, -2] == 0.0 and residual[0, -1] == 0.0

    counts = rng.poisson(1.0, (3, 5000)).astype(float)
    eta = rng.normal(-0.5, 0.7, (3, 5000))
    durations = rng.uniform(0.1, 0.3, 5000)
    fast = [np.empty(3) for _ in range(3)]
    exact = [np.empty(3) for _ in range(3)]
    fast_residual, exact_residual = np.empty_like(eta), np.empty_like(eta)
    kernels.start_rows(eta, counts, durations, fast_residual, *fast,
                       np.arange(3, dtype=np.int64), 0, 3)
    kernels.population_start(eta, counts, durations, exact_residual, *exact)
    np.testing.assert_allclose(fast_residual, exact_residual, rtol=1e-14, atol=1e-15)
    for ours, theirs in zip(fast, exact, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-13)


def test_large_populations_are_fitted_in_batches_with_the_same_results(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of 2 neurons (as 1000 units x 216,000 frames would be, memory-bound):
    the same penalties and, to the KKT tolerance, the same paths as one batch.
    """
    design, counts, durations = white_noise_problem("binary", strength=0.3, n_rows=1200,
                                                    n_neurons=5, seed=5)
    lambdas = np.geomspace(0.05, 0.001, 4)
    whole = lasso_path_population(design, counts, durations, n_lambdas=5)
    shared = lasso_path_population(design, counts, durations, lambdas=lambdas)
    monkeypatch.setattr(population_module, "MAX_BATCH_BYTES", 2 * 32 * design.shape[0])
    batched = lasso_path_population(design, counts, durations, n_lambdas=5)
    # lambda_max comes from a BLAS product whose last bits depend on the rows it shares
    np.testing.assert_allclose(batched.lambdas, whole.lambdas, rtol=1e-12)
    np.testing.assert_allclose(batched.lambda_max, whole.lambda_max, rtol=1e-12)
    for unit in range(5):
        for index in range(5):
            assert relative_difference(batched.weights[unit, index],
                                       whole.weights[unit, index]) <= 1e-6
    shared_batched = lasso_path_population(design, counts, durations, lambdas=lambdas)
    np.testing.assert_array_equal(shared_batched.lambdas, shared.lambdas)
    np.testing.assert_allclose(shared_batched.weights, shared.weights, atol=1e-7)
