"""Poisson lasso: same solution as glum, KKT conditions, CV folds, populations, bad input.

"Relative coefficient difference" at one penalty is
``max_j |w_ours_j - w_glum_j| / max_j |w_glum_j|`` (0 when both are all zero).
glum is a test dependency; its tolerance is set tight (``gradient_tol=1e-8``
on the L1 norm of its minimum-norm subgradient).
"""

import warnings

import numpy as np
import pytest

import sparsefield.rf.lasso_path as lasso_path_module
from sparsefield.errors import InputError
from sparsefield.rf.lasso_backends import fit_lasso_at_lambda
from sparsefield.rf.lasso_cv import LassoCV, choose_penalty, contiguous_folds, lasso_cv
from sparsefield.rf.lasso_path import (
    LassoPath, lambda_grid, lambda_max, lasso_path, require_fittable,
)
from sparsefield.rf.lasso_population import PopulationLassoPath, lasso_path_population
from sparsefield.rf.poisson import poisson_nll, poisson_nll_grad

HEIGHT, WIDTH = 20, 15


def planted_problem(n_rows=4000, n_pixels=100, n_neurons=1, seed=0, rate=3.7):
    """Binary white-noise design, sparse planted weights, jittered durations.

    Returns
    -------
    design : ndarray of shape (n_rows, n_pixels)
    counts : ndarray of shape (n_rows, n_neurons)
    durations : ndarray of shape (n_rows,)
    weights : ndarray of shape (n_neurons, n_pixels)
    """
    rng = np.random.default_rng(seed)
    design = (rng.random((n_rows, n_pixels)) < 0.5).astype(np.float64)
    durations = np.clip(rng.normal(0.2155, 0.024, n_rows), 0.166, 0.266)
    weights = np.zeros((n_neurons, n_pixels))
    counts = np.empty((n_rows, n_neurons))
    for neuron in range(n_neurons):
        support = rng.choice(n_pixels, 8, replace=False)
        weights[neuron, support] = rng.normal(0.0, 0.3, 8)
        eta = design @ weights[neuron]
        intercept = np.log(rate / 0.2155) - np.log(np.mean(np.exp(eta)))
        counts[:, neuron] = rng.poisson(durations * np.exp(intercept + eta))
    return design, counts, durations, weights


def relative_difference(ours, reference):
    scale = np.abs(reference).max()
    if scale == 0:
        return float(np.abs(ours).max())
    return float(np.abs(ours - reference).max() / scale)


def glum_path(design, counts, durations, lambdas):
    import glum  # a test dependency (pyproject [test]): missing must fail, not skip

    model = glum.GeneralizedLinearRegressor(
        family="poisson", alphas=lambdas, l1_ratio=1, alpha_search=True, fit_intercept=True,
        gradient_tol=1e-8,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # glum's line-search notes at tight tolerance
        model.fit(design, counts, offset=np.log(durations))
    return np.asarray(model.coef_path_), np.asarray(model.intercept_path_)


@pytest.fixture(scope="module")
def planted():
    design, counts, durations, weights = planted_problem()
    return design, counts[:, 0], durations, weights[0]


@pytest.fixture(scope="module")
def planted_path(planted):
    design, counts, durations, _ = planted
    return lasso_path(design, counts, durations)


@pytest.fixture(scope="module")
def recording(real_recording):
    from sparsefield.rf.binning import bin_spikes

    binned = bin_spikes(real_recording["spike_times"], real_recording["trigger_times"])
    return real_recording["stimulus"], binned.counts, binned.durations


# ---------------------------------------------------------------- glum agreement


def test_path_matches_glum_on_planted_problem(planted, planted_path):
    design, counts, durations, _ = planted
    coefs, intercepts = glum_path(design, counts, durations, planted_path.lambdas)
    for index in range(planted_path.lambdas.size):
        assert relative_difference(planted_path.weights[index], coefs[index]) <= 1e-4
        assert abs(planted_path.intercepts[index] - intercepts[index]) <= 1e-4
    assert planted_path.converged.all()
    # the path spans all-zero to dense
    assert np.count_nonzero(planted_path.weights[0]) == 0
    assert np.count_nonzero(planted_path.weights[-1]) > 50


def test_path_matches_glum_at_the_benchmark_size():
    """Issue 3's problem (b): 20000 frames x 300 pixels, 10 penalties."""
    design, counts, durations, _ = planted_problem(n_rows=20000, n_pixels=300, seed=7)
    path = lasso_path(design, counts[:, 0], durations, n_lambdas=10)
    coefs, intercepts = glum_path(design, counts[:, 0], durations, path.lambdas)
    for index in range(path.lambdas.size):
        assert relative_difference(path.weights[index], coefs[index]) <= 1e-4
        assert abs(path.intercepts[index] - intercepts[index]) <= 1e-4


@pytest.mark.realdata
def test_path_matches_glum_on_real_recording_lag0(recording):
    stimulus, counts, durations = recording
    path = lasso_path(stimulus, counts, durations, n_lambdas=10)
    coefs, intercepts = glum_path(stimulus, counts, durations, path.lambdas)
    for index in range(path.lambdas.size):
        assert relative_difference(path.weights[index], coefs[index]) <= 1e-4
        assert abs(path.intercepts[index] - intercepts[index]) <= 1e-4


# ---------------------------------------------------------------- optimality


def test_kkt_conditions_hold_with_the_shared_objective(planted, planted_path):
    """Check optimality with sparsefield.rf.poisson's gradient, not the solver's."""
    design, counts, durations, _ = planted
    tol_abs = planted_path.tol * planted_path.lambda_max
    for index, lam in enumerate(planted_path.lambdas):
        weights = planted_path.weights[index]
        _, gradient, grad_intercept = poisson_nll_grad(
            weights, planted_path.intercepts[index], design, counts, durations)
        nonzero = weights != 0
        assert abs(grad_intercept) <= 2 * tol_abs
        np.testing.assert_allclose(gradient[nonzero], -lam * np.sign(weights[nonzero]),
                                   rtol=0, atol=2 * tol_abs)
        assert np.all(np.abs(gradient[~nonzero]) <= lam + 2 * tol_abs)
        # reported objective is poisson_nll + lam |w|_1
        expected = poisson_nll(weights, planted_path.intercepts[index], design, counts,
                               durations) + lam * np.abs(weights).sum()
        assert planted_path.objective[index] == pytest.approx(expected, rel=1e-12)


def test_lambda_max_is_the_first_all_zero_penalty(planted):
    design, counts, durations, _ = planted
    value = lambda_max(design, counts, durations)
    path = lasso_path(design, counts, durations, lambdas=[value * 1.01, value * 0.99])
    assert np.count_nonzero(path.weights[0]) == 0
    assert np.count_nonzero(path.weights[1]) >= 1
    # at lambda_max the intercept is the log of the mean rate
    assert path.intercepts[0] == pytest.approx(np.log(counts.sum() / durations.sum()))


def test_path_recovers_planted_support(planted, planted_path):
    _, _, _, truth = planted
    # a penalty in the middle of the path keeps the strong planted weights
    middle = planted_path.weights[4]
    strong = np.abs(truth) > 0.15
    assert np.all(np.sign(middle[strong]) == np.sign(truth[strong]))
    assert np.corrcoef(middle, truth)[0, 1] > 0.9


def test_explicit_lambdas_are_sorted_decreasing(planted, planted_path):
    design, counts, durations, _ = planted
    shuffled = planted_path.lambdas[[3, 0, 7]]
    path = lasso_path(design, counts, durations, lambdas=shuffled)
    np.testing.assert_array_equal(path.lambdas, np.sort(shuffled)[::-1])
    np.testing.assert_allclose(path.weights, planted_path.weights[[0, 3, 7]], rtol=0, atol=1e-6)


def test_constant_and_zero_pixels_get_zero_weight(planted):
    design, counts, durations, _ = planted
    design = design.copy()
    design[:, 5] = 1.0
    design[:, 6] = 0.0
    path = lasso_path(design, counts, durations)
    assert np.all(path.weights[:, 5] == 0)
    assert np.all(path.weights[:, 6] == 0)
    population = lasso_path_population(design, counts[:, None], durations)
    assert np.all(population.weights[0, :, 5:7] == 0)


# ---------------------------------------------------------------- cross-validation


def test_contiguous_folds():
    np.testing.assert_array_equal(contiguous_folds(10, 3), [0, 4, 7, 10])
    np.testing.assert_array_equal(contiguous_folds(8, 4), [0, 2, 4, 6, 8])


def test_choose_penalty_min_and_one_standard_error():
    gains = np.array([[0.0, 1.9, 2.0], [0.0, 1.7, 2.3], [0.0, 2.1, 1.7]])
    choice = choose_penalty(gains)
    np.testing.assert_allclose(choice.gain_mean, [0.0, 1.9, 2.0])
    np.testing.assert_allclose(choice.gain_se[2], 0.3 / np.sqrt(3))
    assert choice.index_min == 2
    assert choice.index_1se == 1  # 1.9 >= 2.0 - 0.173: the larger penalty wins


def test_cv_holds_out_contiguous_blocks_and_picks_a_sensible_penalty(planted):
    design, counts, durations, truth = planted
    cv = lasso_cv(design, counts, durations, n_folds=4)
    np.testing.assert_array_equal(cv.fold_edges, [0, 1000, 2000, 3000, 4000])
    # fold 2's score is the held-out log-likelihood of a fit on the other blocks
    train = np.r_[0:2000, 3000:4000]
    fold_path = lasso_path(design[train], counts[train], durations[train], lambdas=cv.lambdas)
    index = 5
    held_out = -poisson_nll(fold_path.weights[index], fold_path.intercepts[index],
                            design[2000:3000], counts[2000:3000], durations[2000:3000])
    assert cv.fold_loglik[2, index] == pytest.approx(held_out, rel=1e-10)
    # the one-SE rule never picks a smaller penalty than the best mean
    assert cv.lambda_1se >= cv.lambda_min
    assert cv.gain_mean[cv.index_1se] >= cv.gain_mean[cv.index_min] - cv.gain_se[cv.index_min]
    np.testing.assert_allclose(cv.gain_mean, (cv.fold_loglik - cv.null_loglik[:, None]).mean(0))
    # the refit at the chosen penalty is the full-data path's entry, and it finds the RF
    np.testing.assert_array_equal(cv.weights, cv.path.weights[cv.index_1se])
    assert 0 < cv.index_1se < cv.lambdas.size - 1
    assert np.corrcoef(cv.weights, truth)[0, 1] > 0.9


@pytest.mark.realdata
def test_real_recording_cv_lasso_rf_peaks_at_row12_col4_lag0(recording):
    from sparsefield.rf.design import lagged_design
    from sparsefield.rf.separation import separate

    stimulus, counts, durations = recording
    cv = lasso_cv(stimulus, counts, durations, n_folds=5)
    lags = range(5)
    rfs = np.stack([
        fit_lasso_at_lambda(lagged_design(stimulus, lag), counts[lag:], durations[lag:],
                            cv.lambda_chosen).weights
        for lag in lags
    ])
    separation = separate(rfs)
    assert divmod(int(np.argmax(separation.spatial)), WIDTH) == (12, 4)
    temporal = np.abs(separation.temporal)
    assert np.argmax(temporal) == 0 and temporal[0] > 0.5 * temporal.sum()


# ---------------------------------------------------------------- populations


def test_population_equals_per_neuron_paths():
    design, counts, durations, _ = planted_problem(n_rows=3000, n_pixels=60, n_neurons=5,
                                                   seed=3)
    population = lasso_path_population(design, counts, durations, n_lambdas=8)
    for neuron in range(counts.shape[1]):
        single = lasso_path(design, counts[:, neuron], durations, n_lambdas=8)
        np.testing.assert_allclose(population.lambdas[neuron], single.lambdas, rtol=1e-12)
        for index in range(single.lambdas.size):
            assert relative_difference(population.weights[neuron, index],
                                       single.weights[index]) <= 1e-5
        np.testing.assert_allclose(population.intercepts[neuron], single.intercepts, atol=1e-6)
    assert population.converged.all()


def test_population_hands_over_hard_neurons_and_still_matches():
    """More pixels than rows: the shared metric is poor and Newton finishes the job."""
    design, counts, durations, _ = planted_problem(n_rows=80, n_pixels=100, n_neurons=2,
                                                   seed=4)
    lambdas = lambda_grid(max(lambda_max(design, counts[:, 0], durations),
                              lambda_max(design, counts[:, 1], durations)), 6, 0.05)
    population = lasso_path_population(design, counts, durations, lambdas=lambdas,
                                       max_quasi_newton=5)
    for neuron in range(2):
        single = lasso_path(design, counts[:, neuron], durations, lambdas=lambdas)
        np.testing.assert_allclose(population.weights[neuron], single.weights, atol=1e-4)


# ---------------------------------------------------------------- backends


def test_backends_agree_on_one_penalty(planted, planted_path):
    design, counts, durations, _ = planted
    lam = float(planted_path.lambdas[4])
    exact = fit_lasso_at_lambda(design, counts, durations, lam)
    np.testing.assert_allclose(exact.weights, planted_path.weights[4], atol=1e-6)
    assert exact.kkt_violation <= 1e-6
    crude = fit_lasso_at_lambda(design, counts, durations, lam, backend="sklearn")
    # first-order mapping: the same map, not the same optimum
    assert np.corrcoef(crude.weights, exact.weights)[0, 1] > 0.95
    assert crude.objective >= exact.objective


# ---------------------------------------------------------------- saving


def test_results_round_trip_through_npz(tmp_path, planted):
    design, counts, durations, _ = planted
    cv = lasso_cv(design[:1000], counts[:1000], durations[:1000], n_folds=3, n_lambdas=4)
    population = lasso_path_population(design[:1000], np.stack([counts[:1000]] * 2, axis=1),
                                       durations[:1000], n_lambdas=3)
    for result, cls in ((cv.path, LassoPath), (cv, LassoCV),
                        (population, PopulationLassoPath)):
        np.savez(tmp_path / "result.npz", **result.to_npz_dict())
        with np.load(tmp_path / "result.npz", allow_pickle=False) as npz:
            again = cls.from_npz(npz)
        for key, value in result.to_npz_dict().items():
            np.testing.assert_array_equal(again.to_npz_dict()[key], value)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("lambdas", [[0.1, 0.0], [-1.0], [], [np.nan]])
def test_bad_penalties_raise(planted, lambdas):
    design, counts, durations, _ = planted
    with pytest.raises(InputError, match="lambdas"):
        lasso_path(design, counts, durations, lambdas=lambdas)


def test_bad_options_raise(planted):
    design, counts, durations, _ = planted
    with pytest.raises(InputError, match="lam"):
        fit_lasso_at_lambda(design, counts, durations, 0.0)
    with pytest.raises(InputError, match="backend"):
        fit_lasso_at_lambda(design, counts, durations, 0.1, backend="glmnet")
    with pytest.raises(InputError, match="n_lambdas"):
        lasso_path(design, counts, durations, n_lambdas=0)
    with pytest.raises(InputError, match="n_folds"):
        lasso_cv(design[:9], counts[:9], durations[:9], n_folds=5)
    with pytest.raises(InputError, match="n_folds"):
        lasso_cv(design, counts, durations, n_folds=1)
    with pytest.raises(InputError, match="counts"):
        lasso_path(design, np.zeros_like(counts), durations)
    with pytest.raises(InputError, match="durations"):
        lasso_path(design, counts, -durations)
    with pytest.raises(InputError, match="counts: expected 3999 entries"):
        lasso_path(design[:-1], counts, durations)
    with pytest.raises(InputError, match="counts"):
        lasso_path_population(design, np.zeros((design.shape[0], 2)), durations)


# ---------------------------------------------------------------- checked once


def test_unchecked_calls_give_the_same_bytes(planted, planted_path):
    """check_input=False skips the data checks only: same results on checked arrays."""
    design, counts, durations, _ = planted
    unchecked = lasso_path(design, counts, durations, check_input=False)
    for key, value in planted_path.to_npz_dict().items():
        np.testing.assert_array_equal(unchecked.to_npz_dict()[key], value)
    assert lambda_max(design, counts, durations, check_input=False) == planted_path.lambda_max
    rows = slice(0, 1200)
    cv = lasso_cv(design[rows], counts[rows], durations[rows], n_folds=3, n_lambdas=4)
    again = lasso_cv(design[rows], counts[rows], durations[rows], n_folds=3, n_lambdas=4,
                     check_input=False)
    np.testing.assert_array_equal(again.fold_loglik, cv.fold_loglik)
    lam = float(planted_path.lambdas[3])
    np.testing.assert_array_equal(
        fit_lasso_at_lambda(design, counts, durations, lam, check_input=False).weights,
        fit_lasso_at_lambda(design, counts, durations, lam).weights)


def test_cv_checks_the_data_once(planted, monkeypatch):
    """One full check per public call: the folds' paths and the refit reuse it."""
    design, counts, durations, _ = planted
    calls = []
    check = lasso_path_module.check_data
    monkeypatch.setattr(lasso_path_module, "check_data",
                        lambda *args, **kwargs: calls.append(1) or check(*args, **kwargs))
    lasso_cv(design[:1200], counts[:1200], durations[:1200], n_folds=4, n_lambdas=3)
    assert len(calls) == 1


def test_require_fittable_raises_what_the_full_check_raises(planted):
    design, counts, durations, _ = planted
    require_fittable(design, counts, durations)  # fine: no error, no full check
    for rows, silent in ((slice(0, 1), False), (slice(0, 50), True)):
        arguments = (design[rows], np.zeros(50)[rows] if silent else counts[rows],
                     durations[rows])
        with pytest.raises(InputError) as expected:
            lasso_path(*arguments)
        with pytest.raises(InputError) as found:
            require_fittable(*arguments)
        assert str(found.value) == str(expected.value)
    with pytest.raises(InputError, match="counts: neuron column"):
        require_fittable(design, np.stack([counts, np.zeros_like(counts)], axis=1), durations)
