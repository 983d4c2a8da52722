"""Tests for sparsefield.rf.ml: per-lag Poisson ML fits on data simulated from a known RF."""

import numpy as np
import pytest
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from sparsefield.errors import FitError, InputError
from sparsefield.rf.design import lagged_design, lagged_problem
from sparsefield.rf.ml import MLFit, fit_ml, predicted_counts
from sparsefield.rf.poisson import poisson_nll_grad

N_FRAMES = 8000
HEIGHT, WIDTH = 20, 15
TRUE_LAG = 1
BASE_RATE = 15.0  # spikes per second at the mean stimulus


def true_receptive_field():
    """Difference-of-Gaussians ON centre at row 12, col 4; shape (300,), C order."""
    rows, cols = np.mgrid[:HEIGHT, :WIDTH]
    squared_distance = (rows - 12) ** 2 + (cols - 4) ** 2
    centre = 0.8 * np.exp(-squared_distance / (2 * 1.5**2))
    surround = 0.3 * np.exp(-squared_distance / (2 * 4.0**2))
    return (centre - surround).ravel()


@pytest.fixture(scope="module")
def simulated():
    """Binary white noise with counts[t] ~ Poisson(durations[t] * exp(stimulus[t - 1] . rf + b)).

    Fitted once (lags 0, 1, 2, tight tolerance) and shared by the tests.
    """
    rng = np.random.default_rng(42)
    weights = true_receptive_field()
    stimulus = rng.integers(0, 2, (N_FRAMES, HEIGHT * WIDTH)).astype(np.float64)
    durations = rng.uniform(0.18, 0.25, N_FRAMES)
    # intercept for the raw (uncentred) stimulus so that the rate at the mean stimulus is BASE_RATE
    intercept = np.log(BASE_RATE) - 0.5 * weights.sum()
    linear = np.full(N_FRAMES, intercept)
    linear[TRUE_LAG:] += stimulus[: N_FRAMES - TRUE_LAG] @ weights
    counts = rng.poisson(durations * np.exp(linear))
    fit = fit_ml(stimulus, counts, durations, lags=(0, 1, 2), tol=1e-10)
    return {
        "stimulus": stimulus,
        "counts": counts,
        "durations": durations,
        "weights": weights,
        "intercept": intercept,
        "fit": fit,
    }


def scipy_reference_fit(design, counts, durations):
    """Independent ML fit: numpy objective, gradient and Hessian, scipy trust-exact."""
    n_rows = design.shape[0]
    augmented = np.hstack([design, np.ones((n_rows, 1))])

    def nll(theta):
        eta = augmented @ theta
        return np.mean(durations * np.exp(eta) - counts * eta)

    def gradient(theta):
        mu = durations * np.exp(augmented @ theta)
        return augmented.T @ (mu - counts) / n_rows

    def hessian(theta):
        mu = durations * np.exp(augmented @ theta)
        return (augmented.T * mu) @ augmented / n_rows

    theta_start = np.zeros(augmented.shape[1])
    theta_start[-1] = np.log(counts.sum() / durations.sum())
    # one BLAS thread: on 2 shared cores threaded gemm was ~8x slower here
    with threadpool_limits(limits=1, user_api="blas"):
        result = minimize(
            nll, theta_start, jac=gradient, hess=hessian, method="trust-exact",
            options={"gtol": 1e-10},
        )
    assert np.max(np.abs(gradient(result.x))) < 1e-9
    return result.x


def test_recovers_true_rf_at_true_lag(simulated):
    fit = simulated["fit"]
    np.testing.assert_array_equal(fit.lags, [0, 1, 2])
    position = fit.lag_position(TRUE_LAG)
    recovered = fit.weights[position]
    assert np.corrcoef(recovered, simulated["weights"])[0, 1] > 0.95
    assert np.argmax(recovered) == 12 * WIDTH + 4
    # other lags carry no signal
    for lag in (0, 2):
        other = fit.weights[fit.lag_position(lag)]
        assert abs(np.corrcoef(other, simulated["weights"])[0, 1]) < 0.3
    # intercept refers to the centred stimulus
    expected_intercept = simulated["intercept"] + simulated["weights"] @ fit.stimulus_mean
    assert fit.intercepts[position] == pytest.approx(expected_intercept, abs=0.05)
    assert fit.converged.all()
    assert (fit.n_iter > 0).all()
    assert fit.best_lag == TRUE_LAG


def test_matches_scipy_reference(simulated):
    fit = simulated["fit"]
    stimulus = simulated["stimulus"]
    centred = stimulus - stimulus.mean(axis=0)
    design = lagged_design(centred, TRUE_LAG)
    counts = simulated["counts"][TRUE_LAG:].astype(np.float64)
    durations = simulated["durations"][TRUE_LAG:]
    reference = scipy_reference_fit(design, counts, durations)
    position = fit.lag_position(TRUE_LAG)
    np.testing.assert_allclose(fit.weights[position], reference[:-1], rtol=0, atol=1e-5)
    assert fit.intercepts[position] == pytest.approx(reference[-1], abs=1e-5)
    # the recorded nll is the objective at the optimum, where the gradient vanishes
    nll, grad_weights, grad_intercept = poisson_nll_grad(
        fit.weights[position], fit.intercepts[position], design, counts, durations
    )
    assert fit.nll[position] == pytest.approx(nll, rel=1e-12)
    assert np.max(np.abs(grad_weights)) < 1e-5 and abs(grad_intercept) < 1e-5


def test_default_tolerance_is_close_to_reference(simulated):
    fit = fit_ml(
        simulated["stimulus"], simulated["counts"], simulated["durations"], lags=(TRUE_LAG,)
    )
    tight = simulated["fit"]
    np.testing.assert_allclose(
        fit.weights[0], tight.weights[tight.lag_position(TRUE_LAG)], rtol=0, atol=1e-4
    )


def test_max_iter_one_raises_fit_error(simulated):
    with pytest.raises(FitError, match="lag 1 did not converge after 1 iterations"):
        fit_ml(
            simulated["stimulus"], simulated["counts"], simulated["durations"],
            lags=(1,), max_iter=1,
        )


def test_predicted_counts(simulated):
    fit = simulated["fit"]
    stimulus = simulated["stimulus"][:500]
    durations = simulated["durations"][:500]
    lag = 2
    expected = predicted_counts(fit, lag, stimulus, durations)
    assert expected.shape == (500,)
    assert np.isnan(expected[:lag]).all()
    position = fit.lag_position(lag)
    manual = durations[lag:] * np.exp(
        (stimulus[:-lag] - fit.stimulus_mean) @ fit.weights[position] + fit.intercepts[position]
    )
    np.testing.assert_allclose(expected[lag:], manual, rtol=1e-12)
    with pytest.raises(InputError, match="lag: 7 was not fitted"):
        predicted_counts(fit, 7, stimulus, durations)


def test_lagged_design_pairs_counts_with_earlier_frames():
    stimulus = np.arange(12.0).reshape(6, 2)
    design = lagged_design(stimulus, 2)
    assert design.shape == (4, 2)
    # counts[2 + i] is paired with stimulus[i]
    np.testing.assert_array_equal(design, stimulus[:4])
    np.testing.assert_array_equal(lagged_design(stimulus, 0), stimulus)
    with pytest.raises(InputError, match=r"lag: must be an integer in \[0, 5\], got 6"):
        lagged_design(stimulus, 6)


def test_lagged_problem_pairs_frames_counts_and_durations():
    stimulus = np.arange(12).reshape(6, 2)
    counts = np.array([0, 1, 2, 3, 4, 5])
    durations = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    design, lagged_counts, lagged_durations = lagged_problem(stimulus, counts, durations, 2)
    # counts[2 + i] and durations[2 + i] are paired with stimulus[i]
    np.testing.assert_array_equal(design, stimulus[:4])
    np.testing.assert_array_equal(lagged_counts, [2, 3, 4, 5])
    np.testing.assert_array_equal(lagged_durations, [0.3, 0.4, 0.5, 0.6])
    assert design.dtype == lagged_counts.dtype == np.float64
    np.testing.assert_array_equal(design, lagged_design(stimulus, 2))
    with pytest.raises(InputError, match="durations: expected 6 entries"):
        lagged_problem(stimulus, counts, durations[:5], 0)
    with pytest.raises(InputError, match="counts: contains negative values"):
        lagged_problem(stimulus, -counts, durations, 0)
    with pytest.raises(InputError, match=r"lag: must be an integer in \[0, 5\], got 6"):
        lagged_problem(stimulus, counts, durations, 6)


def test_bad_inputs():
    stimulus = np.zeros((10, 3))
    with pytest.raises(InputError, match="counts: expected 10 entries along the first axis"):
        fit_ml(stimulus, np.ones(9), np.ones(10))
    with pytest.raises(InputError, match=r"lags: must be an integer in \[0, 9\], got 10"):
        fit_ml(stimulus, np.ones(10), np.ones(10), lags=(0, 10))
    with pytest.raises(InputError, match="counts: no spikes"):
        fit_ml(stimulus, np.zeros(10), np.ones(10), lags=(0,))
    with pytest.raises(InputError, match=r"tol: must be a finite number > 0, got '1e-8' \(str\)"):
        fit_ml(stimulus, np.ones(10), np.ones(10), tol="1e-8")
    with pytest.raises(InputError, match="max_iter: must be an integer >= 1, got 0"):
        fit_ml(stimulus, np.ones(10), np.ones(10), max_iter=0)


def test_npz_round_trip(simulated, tmp_path):
    fit = simulated["fit"]
    np.savez(tmp_path / "ml.npz", **fit.to_npz_dict())
    with np.load(tmp_path / "ml.npz", allow_pickle=False) as npz:
        restored = MLFit.from_npz(npz)
    for name in ("lags", "weights", "intercepts", "nll", "n_iter", "converged", "stimulus_mean"):
        np.testing.assert_array_equal(getattr(restored, name), getattr(fit, name))
    assert restored.converged.dtype == bool
