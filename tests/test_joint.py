"""The joint space-time Poisson GLM (sparsefield.rf.joint*).

The design against a direct construction, the ML / L2 / L1 solutions against glum on
the same design, derivatives against finite differences, recovery of simulated
filters (a 120 Hz biphasic LNP unit, a refractory post-spike filter), the rank-1
fit's optimality, and bad input.
"""

import math

import numpy as np
import pytest
from scipy import stats

from sparsefield.errors import InputError
from sparsefield.rf._joint_kernels import (
    block_hessian,
    poisson_quantile,
    simulate_with_history,
)
from sparsefield.rf.basis import identity_basis, raised_cosine_basis
from sparsefield.rf.design import lagged_design
from sparsefield.rf.joint import JointDesign, JointFit, joint_design
from sparsefield.rf.joint_fit import (
    JointRidgeCV,
    fit_joint,
    joint_lasso,
    joint_lasso_cv,
    joint_problem,
    joint_ridge_cv,
)
from sparsefield.rf.joint_newton import CentredRidge
from sparsefield.rf.joint_rank1 import fit_rank1
from sparsefield.rf.simulate_glm import SimulatedGLM, simulate_lnp, simulate_refractory

glum = pytest.importorskip("glum")

FRAME = 1.0 / 120.0

Unit = tuple[SimulatedGLM, JointDesign]


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two arrays, flattened."""
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


def relative_difference(ours: np.ndarray, reference: np.ndarray) -> float:
    """``max |ours - reference| / max |reference|``."""
    return float(np.abs(ours - reference).max() / np.abs(reference).max())


@pytest.fixture(scope="module")
def refractory() -> Unit:
    """A refractory unit (6000 frames, 4 bars) on 6 stimulus + 4 post-spike bases."""
    unit = simulate_refractory(6000, n_pixels=4, seed=3)
    joint = joint_design(unit.stimulus, unit.counts, unit.durations,
                         raised_cosine_basis(6, 0.3, FRAME),
                         history_basis=raised_cosine_basis(4, 0.1, FRAME, first_lag=1))
    return unit, joint


# ---------------------------------------------------------------------------- design


def test_design_matches_a_direct_construction_with_trials() -> None:
    """Design entries and kept rows equal a loop over frames, lags and bases."""
    rng = np.random.default_rng(0)
    stimulus = rng.normal(size=(40, 3))
    counts = rng.poisson(1.0, 40).astype(float)
    durations = rng.uniform(0.9, 1.1, 40)
    basis, history = rng.normal(size=(5, 2)), rng.normal(size=(3, 2))
    joint = joint_design(stimulus, counts, durations, basis, history_basis=history,
                         trial_starts=[0, 17])
    # the window is lags 0..4 of the stimulus and 1..3 of the counts: 4 frames per trial lost
    np.testing.assert_array_equal(joint.frames, np.r_[4:17, 21:40])
    expected = np.empty((joint.frames.size, 2 * 3 + 2))
    for row, frame in enumerate(joint.frames):
        for j in range(2):
            for pixel in range(3):
                expected[row, j * 3 + pixel] = sum(basis[k, j] * stimulus[frame - k, pixel]
                                                   for k in range(5))
            expected[row, 6 + j] = sum(history[m - 1, j] * counts[frame - m] for m in (1, 2, 3))
    np.testing.assert_allclose(joint.design, expected, rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(joint.counts, counts[joint.frames])
    np.testing.assert_array_equal(joint.durations, durations[joint.frames])


def test_identity_basis_gives_the_lagged_designs_side_by_side() -> None:
    """With one weight per lag, the columns are the per-lag designs."""
    rng = np.random.default_rng(1)
    stimulus = rng.integers(0, 2, size=(30, 4)).astype(float)
    joint = joint_design(stimulus, np.ones(30), np.ones(30), identity_basis(3))
    for lag in range(3):
        # rows of the lag-`lag` design paired with counts of frames 2.. (the joint rows)
        np.testing.assert_array_equal(joint.design[:, lag * 4:(lag + 1) * 4],
                                      lagged_design(stimulus, lag)[2 - lag:30 - lag])


def test_filters_map_weights_back_through_the_bases(refractory: Unit) -> None:
    """The filters are ``basis @ weights`` and ``history_basis @ post-spike weights``."""
    _, joint = refractory
    weights = np.arange(joint.design.shape[1], dtype=float)
    filter_, history_filter = joint.filters(weights)
    np.testing.assert_allclose(filter_, joint.basis @ weights[:24].reshape(6, 4))
    np.testing.assert_allclose(history_filter, joint.history_basis @ weights[24:])
    assert filter_.shape == (36, 4) and history_filter.shape == (11,)


# ---------------------------------------------------------------------------- glum


def glum_fit(joint: JointDesign, alpha: float, l1_ratio: float) -> tuple[np.ndarray, float]:
    """The glum Poisson GLM on the joint design, offset = log(durations), tight tolerance."""
    model = glum.GeneralizedLinearRegressor(family="poisson", alpha=alpha, l1_ratio=l1_ratio,
                                            gradient_tol=1e-11, max_iter=1000)
    model.fit(joint.design, joint.counts, offset=np.log(joint.durations))
    return model.coef_, float(model.intercept_)


@pytest.mark.parametrize(("alpha", "l1_ratio"), [(0.0, 0.0), (1e-2, 0.0), (2e-3, 1.0)],
                         ids=["ml", "l2", "l1"])
def test_solutions_equal_glum_on_the_same_design(refractory: Unit, alpha: float,
                                                 l1_ratio: float) -> None:
    """ML, L2 and L1 solutions equal glum's within 1e-5 relative."""
    _, joint = refractory
    if l1_ratio:
        fit = joint_lasso(joint, alpha, tol=1e-11)
        assert 0 < np.count_nonzero(fit.weights) < fit.weights.size  # a sparse answer
    else:
        fit = fit_joint(joint, alpha=alpha, tol=1e-11)
    coef, intercept = glum_fit(joint, alpha, l1_ratio)
    assert relative_difference(fit.weights, coef) <= 1e-5
    assert abs(fit.intercept - intercept) <= 1e-5 * max(1.0, abs(intercept))
    assert fit.penalty == ("l1" if l1_ratio else "l2" if alpha else "none")
    problem = joint_problem(joint)
    assert fit.nll == pytest.approx(problem.nll(fit.weights, fit.intercept), rel=1e-12)


def test_a_constant_pixel_gets_zero_weight_and_changes_nothing_else() -> None:
    """A constant pixel: weights exactly 0, the rest as with the pixel left out."""
    unit = simulate_lnp(4000, n_pixels=3, seed=6)
    stimulus = unit.stimulus.copy()
    stimulus[:, 1] = 1.0
    basis = raised_cosine_basis(5, 0.3, FRAME)
    with_pixel = fit_joint(joint_design(stimulus, unit.counts, unit.durations, basis), tol=1e-11)
    without = fit_joint(joint_design(stimulus[:, [0, 2]], unit.counts, unit.durations, basis),
                        tol=1e-11)
    np.testing.assert_array_equal(with_pixel.filter[:, 1], 0.0)
    np.testing.assert_allclose(with_pixel.filter[:, [0, 2]], without.filter, rtol=1e-8,
                               atol=1e-10)
    assert with_pixel.intercept == pytest.approx(without.intercept, rel=1e-9)


# ---------------------------------------------------------------------------- derivatives


@pytest.fixture(scope="module")
def small_ridge(refractory: Unit) -> tuple[CentredRidge, np.ndarray]:
    """The L2 objective on the refractory design and a point near its optimum."""
    _, joint = refractory
    ridge = CentredRidge(joint_problem(joint), 0.03, joint.n_bases, joint.n_pixels)
    theta = np.random.default_rng(2).normal(scale=0.05, size=joint.design.shape[1] + 1)
    theta[-1] = math.log(joint.counts.sum() / joint.durations.sum())
    return ridge, theta


def test_gradient_equals_finite_differences(
        small_ridge: tuple[CentredRidge, np.ndarray]) -> None:
    """The gradient of the L2 objective equals central differences."""
    ridge, theta = small_ridge
    _, gradient = ridge.value_grad(theta)
    step = 1e-6
    numeric = np.empty_like(theta)
    for index in range(theta.size):
        shift = np.zeros_like(theta)
        shift[index] = step
        numeric[index] = (ridge.value_grad(theta + shift)[0]
                          - ridge.value_grad(theta - shift)[0]) / (2 * step)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-8)


def test_hessian_vector_equals_finite_differences_and_dense(
        small_ridge: tuple[CentredRidge, np.ndarray]) -> None:
    """Hessian-vector products and the preconditioner's blocks against references."""
    ridge, theta = small_ridge
    vector = np.random.default_rng(3).normal(size=theta.size)
    expected = ridge.expected(theta)
    product = ridge.hessian_vector(expected, vector)
    step = 1e-6
    numeric = (ridge.value_grad(theta + step * vector)[1]
               - ridge.value_grad(theta - step * vector)[1]) / (2 * step)
    np.testing.assert_allclose(product, numeric, rtol=1e-5, atol=1e-8)
    # the dense Hessian of the centred design, written out with numpy
    design = ridge.problem.design
    centred = np.hstack([design - design.mean(axis=0), np.ones((design.shape[0], 1))])
    dense = centred.T @ (centred * expected[:, None]) / design.shape[0]
    dense[np.arange(theta.size - 1), np.arange(theta.size - 1)] += ridge.alpha
    np.testing.assert_allclose(product, dense @ vector, rtol=1e-10, atol=1e-12)
    # the preconditioner's blocks are the dense Hessian's diagonal blocks
    n_bases, n_pixels = ridge.n_bases, ridge.n_pixels
    pixel_blocks = np.empty((n_bases, n_bases, n_pixels))
    tail = np.empty((theta.size - n_bases * n_pixels,) * 2)
    block_hessian(design, ridge.centre, expected, n_bases, n_pixels, pixel_blocks, tail)
    no_penalty = dense - ridge.alpha * np.diag(np.r_[np.ones(theta.size - 1), 0.0])
    for pixel in range(n_pixels):
        columns = np.arange(n_bases) * n_pixels + pixel
        np.testing.assert_allclose(pixel_blocks[:, :, pixel],
                                   no_penalty[np.ix_(columns, columns)], rtol=1e-10)
    rest = np.arange(n_bases * n_pixels, theta.size)
    np.testing.assert_allclose(tail, no_penalty[np.ix_(rest, rest)], rtol=1e-10)


# ---------------------------------------------------------------------------- recovery


@pytest.mark.parametrize("n_pixels", [1, 8], ids=["full-field", "8-bars"])
def test_120_hz_biphasic_temporal_filter_is_recovered(n_pixels: int) -> None:
    """The 120 Hz unit's temporal filter is recovered (correlation >= 0.95)."""
    unit = simulate_lnp(30_000, n_pixels=n_pixels, seed=1)
    joint = joint_design(unit.stimulus, unit.counts, unit.durations,
                         raised_cosine_basis(8, 0.3, unit.frame_interval_s))
    fit = fit_joint(joint)
    left, _, right = np.linalg.svd(fit.filter, full_matrices=False)
    temporal = left[:, 0] * np.sign(right[0] @ unit.spatial)
    assert correlation(temporal, unit.temporal) >= 0.95
    rank1 = fit_rank1(joint, full=fit)
    assert correlation(rank1.temporal, unit.temporal) >= 0.95
    assert correlation(rank1.filter, unit.filter) >= 0.95


def test_post_spike_filter_is_recovered() -> None:
    """The refractory post-spike filter is recovered (correlation >= 0.9)."""
    unit = simulate_refractory(30_000, n_pixels=4, seed=2)
    joint = joint_design(unit.stimulus, unit.counts, unit.durations,
                         raised_cosine_basis(8, 0.3, FRAME),
                         history_basis=raised_cosine_basis(5, 0.1, FRAME, first_lag=1))
    fit = fit_joint(joint)
    assert fit.history_filter.shape == unit.history_filter.shape
    assert correlation(fit.history_filter, unit.history_filter) >= 0.9
    assert fit.history_filter[0] < -1.5  # refractory right after a spike
    assert correlation(fit.filter, unit.filter) >= 0.9


def test_lasso_cv_on_the_joint_design_recovers_the_filter(refractory: Unit) -> None:
    """The L1 penalty chosen by contiguous-block CV gives the true filter."""
    unit, joint = refractory
    cv, fit = joint_lasso_cv(joint, n_lambdas=6, n_folds=3)
    np.testing.assert_array_equal(fit.weights, cv.weights)
    assert fit.alpha == cv.lambda_chosen and fit.penalty == "l1"
    assert correlation(fit.filter, unit.filter) >= 0.9


def test_ridge_cv_scores_held_out_blocks_as_glum_and_scipy_do(refractory: Unit) -> None:
    """Held-out log-likelihoods of the L2 CV equal glum fits scored by scipy."""
    _, joint = refractory
    alphas = [10.0, 0.1, 1e-3]
    cv = joint_ridge_cv(joint, alphas, n_folds=3, rule="min")
    np.testing.assert_array_equal(cv.alphas, alphas)  # already decreasing
    start, stop = cv.fold_edges[1], cv.fold_edges[2]
    train = np.r_[0:start, stop:joint.design.shape[0]]
    for index, alpha in enumerate(alphas):
        model = glum.GeneralizedLinearRegressor(family="poisson", alpha=alpha, l1_ratio=0.0,
                                                gradient_tol=1e-11, max_iter=1000)
        model.fit(joint.design[train], joint.counts[train],
                  offset=np.log(joint.durations[train]))
        mu = joint.durations[start:stop] * np.exp(joint.design[start:stop] @ model.coef_
                                                  + model.intercept_)
        expected = stats.poisson.logpmf(joint.counts[start:stop], mu).mean()
        assert cv.fold_loglik[1, index] == pytest.approx(expected, rel=1e-7)
    # a very strong penalty flattens the filter: it predicts worse than a weak one
    assert cv.gain_mean[0] < cv.gain_mean[-1] and cv.index_min > 0
    assert cv.fit.alpha == cv.alpha_chosen == alphas[cv.index_min]
    again = JointRidgeCV.from_npz(cv.to_npz_dict())
    np.testing.assert_array_equal(again.fit.filter, cv.fit.filter)


# ---------------------------------------------------------------------------- rank 1


def test_rank1_fit_is_stationary_and_between_the_svd_and_the_full_fit(refractory: Unit) -> None:
    """The bilinear fit is a stationary point, at least as likely as the SVD's."""
    unit, joint = refractory
    rank1 = fit_rank1(joint)
    assert rank1.converged
    assert rank1.full_nll <= rank1.nll <= rank1.svd_nll + 1e-12
    assert rank1.loglik >= rank1.svd_loglik
    assert np.linalg.norm(rank1.spatial) == pytest.approx(1.0)
    # first-order optimality in the bilinear parameters (s, t), history and intercept
    n_stimulus = joint.n_stimulus_columns
    weights = np.concatenate([np.outer(rank1.temporal_weights, rank1.spatial).ravel(),
                              np.linalg.lstsq(joint.history_basis, rank1.history_filter,
                                              rcond=None)[0]])
    _, gradient, grad_intercept = joint_problem(joint).nll_grad(weights, rank1.intercept)
    stimulus_gradient = gradient[:n_stimulus].reshape(joint.n_bases, joint.n_pixels)
    assert np.abs(stimulus_gradient @ rank1.spatial).max() <= 1e-7
    assert np.abs(stimulus_gradient.T @ rank1.temporal_weights).max() <= 1e-7
    assert np.abs(gradient[n_stimulus:]).max() <= 1e-7 and abs(grad_intercept) <= 1e-7
    assert correlation(rank1.filter, unit.filter) >= 0.9


# ---------------------------------------------------------------------------- simulation


def test_poisson_quantile_equals_scipy() -> None:
    """The inverse-CDF Poisson draw equals scipy's quantile function."""
    for mean in (0.0, 0.05, 1.3, 12.0, 150.0):
        for uniform in (0.1, 0.5, 0.93, 0.9999):
            assert poisson_quantile(mean, uniform) == stats.poisson.ppf(uniform, mean)
        assert poisson_quantile(mean, 0.0) == 0.0  # (scipy's ppf(0) is -1 by convention)


def test_frame_by_frame_simulation_follows_the_history_filter() -> None:
    """The history simulation equals a Python loop over frames."""
    rng = np.random.default_rng(4)
    drive, uniforms = rng.normal(1.0, 0.5, 50), rng.random(50)
    durations, history = np.full(50, 0.5), np.array([-1.0, -0.4])
    counts = np.empty(50)
    simulate_with_history(drive, durations, history, uniforms, 10.0, counts)
    expected = np.zeros(50)
    for frame in range(50):
        eta = drive[frame] + sum(history[m] * expected[frame - m - 1]
                                 for m in range(2) if frame - m - 1 >= 0)
        expected[frame] = stats.poisson.ppf(uniforms[frame], 0.5 * math.exp(eta))
    np.testing.assert_array_equal(counts, expected)


def test_simulations_are_reproducible_and_at_the_asked_rate() -> None:
    """Same seed, same counts; the rate and the filter's peak as documented."""
    first, second = simulate_lnp(6000, seed=5), simulate_lnp(6000, seed=5)
    np.testing.assert_array_equal(first.counts, second.counts)
    rate = first.counts.sum() / first.durations.sum()
    assert 15 < rate < 25  # asked for about 20 spikes/s
    assert first.history_filter.size == 0 and first.filter.shape == (36, 8)
    assert np.argmax(first.temporal) * FRAME == pytest.approx(0.033, abs=0.01)


# ---------------------------------------------------------------------------- bad input


def test_fit_round_trips_through_npz(refractory: Unit) -> None:
    """A JointFit survives to_npz_dict / from_npz."""
    _, joint = refractory
    fit = fit_joint(joint, alpha=0.1)
    again = JointFit.from_npz(fit.to_npz_dict())
    np.testing.assert_array_equal(again.filter, fit.filter)
    assert again.penalty == "l2" and again.alpha == 0.1


def test_basis_longer_than_the_recording_is_refused() -> None:
    """A basis with more lags than frames: one message naming it."""
    with pytest.raises(InputError, match="basis: spans 50 lags from lag 0, longer than the "
                                         r"recording \(40 frames\)"):
        joint_design(np.zeros((40, 2)), np.ones(40), np.ones(40), np.ones((50, 3)))
    with pytest.raises(InputError, match="history_basis: spans 40 lags from lag 1"):
        joint_design(np.zeros((40, 2)), np.ones(40), np.ones(40), np.ones((5, 3)),
                     history_basis=np.ones((40, 2)))


def test_trials_shorter_than_the_window_are_refused() -> None:
    """No frame with a whole window in its trial: refused by name."""
    with pytest.raises(InputError, match=r"basis: a window of 10 lags leaves no frame .* "
                                         r"\(longest trial: 8 frames\)"):
        joint_design(np.zeros((40, 2)), np.ones(40), np.ones(40), np.ones((10, 2)),
                     trial_starts=np.arange(0, 40, 8))


def test_fit_without_spikes_is_refused() -> None:
    """No spikes, or a negative alpha: refused by name."""
    joint = joint_design(np.random.default_rng(0).normal(size=(40, 2)), np.zeros(40),
                         np.ones(40), np.ones((3, 1)))
    with pytest.raises(InputError, match="counts: has no spikes"):
        fit_joint(joint)
    with pytest.raises(InputError, match="alpha: must be a finite number >= 0"):
        fit_joint(joint, alpha=-1.0)
