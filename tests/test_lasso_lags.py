"""Lasso receptive fields over lags: shared grid, joint choice, backends, recovery."""

import numpy as np
import pytest

import sparsefield.rf.lasso_lags as lasso_lags_module
import sparsefield.rf.lasso_path as lasso_path_module
from sparsefield.errors import InputError
from sparsefield.rf.binning import bin_spikes
from sparsefield.rf.design import lagged_problem
from sparsefield.rf.lasso_cv import choose_penalty, lasso_cv
from sparsefield.rf.lasso_lags import LassoLags, fit_lasso_lags
from sparsefield.rf.lasso_path import lambda_max
from sparsefield.rf.metrics import correlation
from sparsefield.rf.ml import fit_ml
from sparsefield.rf.neuron import NeuronModel
from sparsefield.rf.simulate import simulate_recording

LAGS = (0, 1, 2)


@pytest.fixture(scope="module")
def simulated():
    model = NeuronModel(kind="gaussian", center_row=5.0, center_col=4.0, sigma=1.2)
    raw, truth = simulate_recording(model, n_frames=1500, frame_shape=(10, 8), seed=3)
    stimulus = raw["stimulus_hwt"].reshape(-1, raw["stimulus_hwt"].shape[2]).T
    stimulus = stimulus[: raw["trigger_times"].size].astype(float)
    binned = bin_spikes(raw["spike_times"], raw["trigger_times"])
    return stimulus, binned, truth


@pytest.fixture(scope="module")
def fitted(simulated):
    stimulus, binned, _ = simulated
    return fit_lasso_lags(stimulus, binned.counts, binned.durations, LAGS, n_lambdas=8,
                          n_folds=4)


def test_grid_is_shared_and_starts_at_the_largest_lambda_max(simulated, fitted):
    stimulus, binned, _ = simulated
    largest = max(lambda_max(*lagged_problem(stimulus, binned.counts, binned.durations, lag))
                  for lag in LAGS)
    assert fitted.lambdas[0] == pytest.approx(largest)
    assert np.all(np.diff(fitted.lambdas) < 0)
    assert fitted.weights.shape == (8, len(LAGS), stimulus.shape[1])
    assert np.count_nonzero(fitted.weights[0]) == 0  # lambda_max: every weight is zero


def held_out_frames(fold_edges, lag):
    """Count frames held out by each fold of a lag's design (row i = frame lag + i)."""
    return [set(range(start + lag, stop + lag)) for start, stop in zip(fold_edges[:-1],
                                                                        fold_edges[1:])]


def test_folds_hold_out_the_same_count_frames_at_every_lag(simulated, fitted):
    stimulus, binned, _ = simulated
    n_frames = binned.counts.size
    assert fitted.fold_frames[0] == 0 and fitted.fold_frames[-1] == n_frames
    blocks = {}
    for lag in LAGS:
        problem = lagged_problem(stimulus, binned.counts, binned.durations, lag)
        cv = lasso_cv(*problem, lambdas=fitted.lambdas,
                      fold_edges=np.clip(fitted.fold_frames - lag, 0, None))
        blocks[lag] = held_out_frames(cv.fold_edges, lag)
    for lag in LAGS:
        # Identical blocks, except that fold 0 lacks the frames before `lag`.
        assert blocks[lag][1:] == blocks[0][1:]
        assert blocks[lag][0] == blocks[0][0] - set(range(lag))


def test_each_lag_equals_its_own_path_on_the_shared_grid(simulated, fitted):
    stimulus, binned, _ = simulated
    for index, lag in enumerate(LAGS):
        problem = lagged_problem(stimulus, binned.counts, binned.durations, lag)
        alone = lasso_cv(*problem, lambdas=fitted.lambdas,
                         fold_edges=np.clip(fitted.fold_frames - lag, 0, None))
        np.testing.assert_allclose(fitted.weights[:, index], alone.path.weights, atol=1e-10)
        np.testing.assert_allclose(fitted.gain_mean[index], alone.gain_mean, atol=1e-12)


def test_penalty_is_chosen_on_the_gain_summed_over_lags(simulated, fitted):
    stimulus, binned, _ = simulated
    gains = []
    for lag in LAGS:
        problem = lagged_problem(stimulus, binned.counts, binned.durations, lag)
        cv = lasso_cv(*problem, lambdas=fitted.lambdas,
                      fold_edges=np.clip(fitted.fold_frames - lag, 0, None))
        gains.append(cv.fold_loglik - cv.null_loglik[:, None])
    choice = choose_penalty(np.sum(gains, axis=0))
    assert (fitted.index_min, fitted.index_1se) == (choice.index_min, choice.index_1se)
    np.testing.assert_allclose(fitted.total_gain_mean, choice.gain_mean)
    assert fitted.index_1se <= fitted.index_min  # 1se is the larger (or same) penalty
    assert fitted.lambda_chosen == fitted.lambdas[fitted.index_1se]


def test_lasso_beats_ml_on_the_planted_field(simulated, fitted):
    stimulus, binned, truth = simulated
    ml = fit_ml(stimulus, binned.counts, binned.durations, LAGS)
    lag0 = list(LAGS).index(0)
    lasso_corr = correlation(fitted.chosen_weights[lag0], truth["spatial"])
    ml_corr = correlation(ml.weights[lag0], truth["spatial"])
    assert lasso_corr > 0.9
    assert lasso_corr > ml_corr


def test_npz_round_trip(fitted, tmp_path):
    np.savez(tmp_path / "lasso.npz", **fitted.to_npz_dict())
    with np.load(tmp_path / "lasso.npz", allow_pickle=False) as arrays:
        again = LassoLags.from_npz(arrays)
    np.testing.assert_array_equal(again.weights, fitted.weights)
    assert (again.rule, again.backend, again.index_1se) == (fitted.rule, fitted.backend,
                                                            fitted.index_1se)


def test_sklearn_backend_replaces_only_the_full_data_fits(simulated, fitted):
    stimulus, binned, _ = simulated
    peer = fit_lasso_lags(stimulus, binned.counts, binned.durations, LAGS, n_lambdas=8,
                          n_folds=4, backend="sklearn")
    np.testing.assert_array_equal(peer.lambdas, fitted.lambdas)
    assert peer.index_1se == fitted.index_1se  # chosen with the sparsefield solver
    assert peer.backend == "sklearn"
    assert not np.allclose(peer.weights[-1], fitted.weights[-1])


def test_unknown_backend_and_no_lags_are_refused(simulated):
    stimulus, binned, _ = simulated
    with pytest.raises(InputError, match="backend"):
        fit_lasso_lags(stimulus, binned.counts, binned.durations, LAGS, backend="glmnet")
    with pytest.raises(InputError, match="lags: needs at least one lag"):
        fit_lasso_lags(stimulus, binned.counts, binned.durations, ())


def test_kkt_violation_says_how_far_each_backend_is_from_the_optimum(simulated, fitted):
    stimulus, binned, _ = simulated
    assert fitted.kkt_violation.shape == fitted.weights.shape[:2]
    assert np.all(fitted.kkt_violation <= 1e-7 * fitted.lambdas[0] * (1 + 1e-9))
    peer = fit_lasso_lags(stimulus, binned.counts, binned.durations, (0,), n_lambdas=4,
                          n_folds=3, backend="pyglmnet")
    # pyglmnet ignores the jittered frame durations: measurably off this optimum.
    assert peer.kkt_violation[1:].max() > 1e-4 * peer.lambdas[0]


@pytest.mark.realdata
def test_real_recording_lasso_rf_peaks_at_row12_col4_on_lag0(real_recording):
    from sparsefield.rf.separation import separate
    from sparsefield.rf.summary import peak_pixel

    binned = bin_spikes(real_recording["spike_times"], real_recording["trigger_times"])
    fit = fit_lasso_lags(real_recording["stimulus"], binned.counts, binned.durations)
    separation = separate(fit.chosen_weights)
    assert peak_pixel(separation.spatial, (20, 15))[1:] == (12, 4)
    assert fit.lags[np.argmax(np.abs(separation.temporal))] == 0


@pytest.mark.parametrize("edges", [[0, 5, 3, 1500], [0, 1500], [1, 700, 1500],
                                   [0.0, 700.0, 1500.0], [0, 700, 1499]])
def test_bad_fold_edges_are_refused(simulated, edges):
    stimulus, binned, _ = simulated
    with pytest.raises(InputError, match="fold_edges: must be increasing integers"):
        lasso_cv(stimulus, binned.counts, binned.durations, fold_edges=edges)


def test_data_are_checked_once_for_every_lag_and_fold(simulated, monkeypatch):
    """One full check of the recording: each lag's rows and folds reuse it."""
    stimulus, binned, _ = simulated
    calls = []
    check = lasso_lags_module.check_data
    monkeypatch.setattr(lasso_lags_module, "check_data",
                        lambda *args, **kwargs: calls.append(1) or check(*args, **kwargs))
    monkeypatch.setattr(lasso_path_module, "check_data",
                        lambda *args, **kwargs: calls.append(2) or check(*args, **kwargs))
    fit_lasso_lags(stimulus, binned.counts, binned.durations, LAGS, n_lambdas=3, n_folds=3)
    assert calls == [1]


def test_a_lag_without_spikes_is_refused_as_before(simulated):
    """A lag whose paired counts hold no spike: the lasso's own message."""
    stimulus, binned, _ = simulated
    counts = np.zeros_like(binned.counts)
    counts[0] = 2.0  # only frame 0 has spikes: lag 1 pairs none of them
    with pytest.raises(InputError, match="counts: has no spikes"):
        fit_lasso_lags(stimulus, counts, binned.durations, (0, 1), n_lambdas=3, n_folds=3)
