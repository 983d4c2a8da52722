"""pyglmnet 1.1 through the compatibility shim: it runs, leaves numpy alone, and solves our lasso.

Known differences, checked here:
- pyglmnet's proximal step leaves out the learning rate (upstream #383), so
  ``reg_lambda = lam * learning_rate`` solves our lasso at ``lam``;
- its Poisson link is linear above ``eta = 2``: where no row's linear
  predictor exceeds 2 the two solutions agree to pyglmnet's own stopping
  tolerance (<= 1e-4 relative here); where some rows do, the difference
  grows (to ~0.2 % with 7 % of rows above 2), and it disappears again
  when pyglmnet's threshold is moved out of the way (``eta=20``), which
  shows the link is the whole difference;
- it has no offset, so the tests use constant durations.
"""

import warnings

import numpy as np
import pytest

from sparsefield.rf.lasso_backends import fit_lasso_at_lambda
from sparsefield.rf.lasso_path import lasso_path
from sparsefield.rf.pyglmnet_compat import (
    ScalarNormalRandomState, fit_pyglmnet, make_glm, numpy_aliases, reg_lambda_for,
)

import pyglmnet  # noqa: F401  (a hard dependency: a missing install must fail, not skip)


def low_rate_problem(rate_per_row, n_rows=2000, n_pixels=40, seed=0):
    """Binary design, planted sparse weights, constant durations (0.2 s)."""
    rng = np.random.default_rng(seed)
    design = (rng.random((n_rows, n_pixels)) < 0.5).astype(np.float64)
    weights = np.zeros(n_pixels)
    weights[[3, 10, 11, 25]] = [0.6, -0.4, 0.3, 0.5]
    durations = np.full(n_rows, 0.2)
    eta = design @ weights
    intercept = np.log(rate_per_row / 0.2) - np.log(np.mean(np.exp(eta)))
    counts = rng.poisson(durations * np.exp(intercept + eta)).astype(np.float64)
    return design, counts, durations


def relative_difference(ours, reference):
    return float(np.abs(ours - reference).max() / np.abs(reference).max())


def test_numpy_aliases_are_scoped():
    assert "float" not in np.__dict__ and "int" not in np.__dict__
    with numpy_aliases() as added:
        assert np.float is float and np.int is int
        assert set(added) == {"float", "int"}
    assert "float" not in np.__dict__ and "int" not in np.__dict__
    with pytest.raises(AttributeError):
        np.float  # noqa: B018  (numpy >= 1.24 removed it; the shim must not leak it)


def test_scalar_normal_keeps_the_stream():
    ours = ScalarNormalRandomState(7)
    reference = np.random.RandomState(7)
    first = ours.normal(0.0, 1.0, 1)
    assert isinstance(first, float) and first == reference.normal(0.0, 1.0, 1)[0]
    np.testing.assert_array_equal(ours.normal(0.0, 1.0, (5,)), reference.normal(0.0, 1.0, (5,)))


@pytest.fixture(scope="module")
def low_rate():
    design, counts, durations = low_rate_problem(rate_per_row=0.8)
    path = lasso_path(design, counts, durations, n_lambdas=6, lambda_min_ratio=0.05)
    return design, counts, durations, path


def test_converted_penalty_matches_our_lasso_where_the_link_is_exp(low_rate):
    design, counts, durations, path = low_rate
    for index in (2, 4):
        lam = path.lambdas[index]
        eta = design @ path.weights[index] + path.intercepts[index] + np.log(durations)
        assert eta.max() < 2.0  # pyglmnet's link is exactly exp here
        weights, intercept, _ = fit_pyglmnet(design, counts, durations, lam, tol=1e-9,
                                             max_iter=20000)
        assert relative_difference(weights, path.weights[index]) <= 1e-4
        assert intercept == pytest.approx(path.intercepts[index], abs=1e-4)
    assert reg_lambda_for(0.1, learning_rate=0.2) == pytest.approx(0.02)


def test_unconverted_reg_lambda_is_five_times_our_penalty(low_rate):
    """Passing lam as reg_lambda (learning_rate 0.2) gives our lasso at 5 * lam (#383)."""
    design, counts, durations, _ = low_rate
    lam = 0.004
    reference = lasso_path(design, counts, durations, lambdas=[5 * lam])
    glm = make_glm(distr="poisson", alpha=1.0, reg_lambda=lam, learning_rate=0.2,
                   max_iter=20000, tol=1e-9)
    with numpy_aliases():
        glm.fit(design - design.mean(axis=0), counts)
    assert np.count_nonzero(reference.weights[0]) >= 3
    assert relative_difference(glm.beta_, reference.weights[0]) <= 1e-4


def test_difference_at_high_rates_is_the_linearised_link():
    design, counts, durations = low_rate_problem(rate_per_row=4.0, seed=1)
    path = lasso_path(design, counts, durations, n_lambdas=5, lambda_min_ratio=0.05)
    lam = path.lambdas[3]
    eta = design @ path.weights[3] + path.intercepts[3] + np.log(durations)
    assert np.mean(eta > 2.0) > 0.05
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        linearised, _, _ = fit_pyglmnet(design, counts, durations, lam, tol=1e-9,
                                        max_iter=20000, learning_rate=0.05)
        pure_exp, _, _ = fit_pyglmnet(design, counts, durations, lam, tol=1e-9,
                                      max_iter=20000, learning_rate=0.05, eta=20.0)
    # 7 % of rows above eta = 2 move the weights by ~0.2 %; without the
    # linearisation the difference is pyglmnet's stopping tolerance.
    assert relative_difference(linearised, path.weights[3]) > 1e-3
    assert relative_difference(pure_exp, path.weights[3]) <= 1e-5


def test_fit_lasso_at_lambda_pyglmnet_backend_reports_our_objective(low_rate):
    design, counts, durations, path = low_rate
    lam = float(path.lambdas[3])
    fit = fit_lasso_at_lambda(design, counts, durations, lam, backend="pyglmnet", tol=1e-9,
                              max_iter=20000)
    assert fit.backend == "pyglmnet"
    assert fit.objective == pytest.approx(path.objective[3], rel=1e-6)
    assert fit.kkt_violation < 1e-4
    assert "float" not in np.__dict__


def test_aliases_survive_an_overlapping_user_leaving():
    """Two overlapping users (threads, or nesting): the first to leave must not
    remove the aliases from under the other; the last one removes them."""
    import numpy as np

    from sparsefield.rf.pyglmnet_compat import numpy_aliases

    assert "float" not in np.__dict__
    first = numpy_aliases()
    first.__enter__()
    with numpy_aliases():
        first.__exit__(None, None, None)
        assert np.float is float
    assert "float" not in np.__dict__
