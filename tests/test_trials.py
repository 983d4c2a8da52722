"""Several trials on one time line: every estimate pairs a response only with a stimulus of
its own trial.

The fixture is a two-trial session whose second trial's stimulus is unrelated to the end
of the first (independent white noise), with an onset response in the first frames of
trial 2.  A per-lag fit that paired frames across the boundary would explain those
counts with the last frames of trial 1, which the animal did not see just before them;
the STA would average, for spikes early in trial 2, frames shown before the gap.  The
known answers below are built by hand with numpy from the within-trial pairs only, and
each test also asserts that the contaminated pairs exist and would change the answer.
"""

import os
import runpy
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from sparsefield.errors import InputError
from sparsefield.rf.binning import check_trial_starts
from sparsefield.rf.design import lagged_design, lagged_frames, lagged_problem
from sparsefield.rf.lags import check_fit_settings, session_lags
from sparsefield.rf.lasso_path import lasso_path
from sparsefield.rf.lasso_lags import fit_lasso_lags, fold_rows, lag_folds
from sparsefield.rf.ml import fit_ml, predicted_counts
from sparsefield.rf.sta import spike_triggered_average
from sparsefield.rf.units import spikes_at_lag
from sparsefield.rf.units_lasso import fit_lasso_units
from sparsefield.rf.units_ml import fit_ml_units
from sparsefield.rf.units_sta import sta_units

TRIAL_LENGTHS = (300, 260)
N_FRAMES = sum(TRIAL_LENGTHS)
TRIAL_STARTS = np.array([0, TRIAL_LENGTHS[0]])
N_PIXELS = 8
LAGS = (0, 1, 2, 3)
ONSET_FRAMES = 3  # frames of trial 2 with an onset response (>= the largest lag)
TAU_MAX, TAU_STEP = 0.2, 0.025


def hand_frames(lag):
    """Count frames paired at ``lag`` within a trial, written out trial by trial."""
    frames = []
    start = 0
    for length in TRIAL_LENGTHS:
        frames += list(range(start + lag, start + length))
        start += length
    return np.array(frames, dtype=np.int64)


@pytest.fixture(scope="module")
def session():
    """Two trials of binary noise, two units (lag-1 and lag-2 receptive fields), frame
    edges with jitter, and spike times spread inside the frames."""
    rng = np.random.default_rng(7)
    stimulus = rng.choice([-1.0, 1.0], size=(N_FRAMES, N_PIXELS))
    durations = rng.uniform(0.045, 0.055, N_FRAMES)
    edges = 5.0 + np.concatenate(([0.0], np.cumsum(durations)))
    fields = {1: np.array([0.9, -0.6, 0.4, 0.0, 0.0, 0.3, 0.0, 0.0]),
              2: np.array([0.0, 0.0, -0.5, 0.8, 0.0, 0.0, 0.4, -0.3])}
    counts = np.zeros((N_FRAMES, 2))
    for unit, (lag, weights) in enumerate(fields.items()):
        linear = np.full(N_FRAMES, np.log(20.0))
        frames = hand_frames(lag)  # the animal saw a gap before each trial
        linear[frames] += stimulus[frames - lag] @ weights
        counts[:, unit] = rng.poisson(durations * np.exp(linear))
    counts[TRIAL_STARTS[1]:TRIAL_STARTS[1] + ONSET_FRAMES] += 6  # onset response
    trains = [np.sort(np.concatenate([rng.uniform(edges[f], edges[f + 1], int(c))
                                      for f, c in enumerate(counts[:, unit])]))
              for unit in range(2)]
    return SimpleNamespace(stimulus=stimulus, durations=durations, edges=edges,
                           counts=counts, trains=trains)


def reference_ml(design, counts, durations):
    """Independent ML fit on given rows: numpy objective, gradient, Hessian; trust-exact."""
    augmented = np.hstack([design, np.ones((design.shape[0], 1))])

    def nll(theta):
        eta = augmented @ theta
        return np.mean(durations * np.exp(eta) - counts * eta)

    def gradient(theta):
        return augmented.T @ (durations * np.exp(augmented @ theta) - counts) / design.shape[0]

    def hessian(theta):
        mu = durations * np.exp(augmented @ theta)
        return (augmented.T * mu) @ augmented / design.shape[0]

    start = np.zeros(augmented.shape[1])
    start[-1] = np.log(counts.sum() / durations.sum())
    with threadpool_limits(limits=1, user_api="blas"):
        result = minimize(nll, start, jac=gradient, hess=hessian, method="trust-exact",
                          options={"gtol": 1e-10})
        theta = result.x
        for _ in range(5):  # Newton steps polish the optimum
            theta = theta - np.linalg.solve(hessian(theta), gradient(theta))
    assert np.max(np.abs(gradient(theta))) < 1e-12
    return theta[:-1], theta[-1]


def crossing_pairs(lag):
    """Count frames whose lag-``lag`` partner is in the previous trial (what a pairing
    across the boundary would use): the first ``lag`` frames of trial 2."""
    start = TRIAL_STARTS[1]
    return np.arange(start, start + lag)


# --- pairing -----------------------------------------------------------------------------


def test_lagged_frames_leave_out_the_first_frames_of_each_trial():
    assert lagged_frames(10, 2, [0, 4, 7]).tolist() == [2, 3, 6, 9]
    assert lagged_frames(10, 0, [0, 4, 7]).tolist() == list(range(10))
    assert lagged_frames(10, 3, [0, 4, 7]).tolist() == [3]  # trials 2 and 3: 3 frames
    assert lagged_frames(10, 2).tolist() == list(range(2, 10))
    assert lagged_frames(10, 2, [0]).tolist() == list(range(2, 10))
    for lag in LAGS:
        np.testing.assert_array_equal(lagged_frames(N_FRAMES, lag, TRIAL_STARTS),
                                      hand_frames(lag))


def test_lagged_problem_pairs_within_trials(session):
    for lag in LAGS:
        rows = hand_frames(lag)
        design, counts, durations = lagged_problem(session.stimulus, session.counts[:, 0],
                                                   session.durations, lag, TRIAL_STARTS)
        np.testing.assert_array_equal(design, session.stimulus[rows - lag])
        np.testing.assert_array_equal(counts, session.counts[rows, 0])
        np.testing.assert_array_equal(durations, session.durations[rows])
        np.testing.assert_array_equal(lagged_design(session.stimulus, lag, TRIAL_STARTS),
                                      session.stimulus[rows - lag])
        # Without the trials, the first `lag` frames of trial 2 are paired with the end of
        # trial 1, and they hold spikes.
        naive = lagged_problem(session.stimulus, session.counts[:, 0], session.durations, lag)
        assert naive[0].shape[0] == rows.size + lag
        assert session.counts[crossing_pairs(lag), 0].sum() >= 6 * lag


@pytest.mark.parametrize("starts, message", [
    ([1, 5], "must start at frame 0"),
    ([0, 5, 5], "strictly increasing"),
    ([0, 600], "only 560 frames"),
    ([[0, 5]], "1-D integer"),
    ([0.0, 5.0], "1-D integer"),
    ([], "1-D integer"),
])
def test_bad_trial_starts_are_refused(session, starts, message):
    with pytest.raises(InputError, match=message):
        check_trial_starts(np.array(starts), N_FRAMES)
    with pytest.raises(InputError, match="trial_starts"):
        fit_ml(session.stimulus, session.counts[:, 0], session.durations, (0, 1),
               trial_starts=np.array(starts))


# --- maximum likelihood ------------------------------------------------------------------


def test_ml_fit_uses_only_within_trial_pairs(session):
    fit = fit_ml(session.stimulus, session.counts[:, 0], session.durations, LAGS, tol=1e-10,
                 trial_starts=TRIAL_STARTS)
    naive = fit_ml(session.stimulus, session.counts[:, 0], session.durations, LAGS, tol=1e-10)
    centred = session.stimulus - session.stimulus.mean(axis=0)
    for position, lag in enumerate(LAGS):
        rows = hand_frames(lag)
        weights, intercept = reference_ml(centred[rows - lag], session.counts[rows, 0],
                                          session.durations[rows])
        np.testing.assert_allclose(fit.weights[position], weights, atol=2e-6)
        assert fit.intercepts[position] == pytest.approx(intercept, abs=2e-6)
        if lag == 0:  # every frame pairs with itself: nothing to leave out
            np.testing.assert_array_equal(fit.weights[position], naive.weights[position])
        else:  # the onset counts paired with the end of trial 1 pull the naive fit away
            assert np.max(np.abs(naive.weights[position] - weights)) > 1e-3


def test_ml_units_equal_fit_ml_with_trials(session):
    units = fit_ml_units(session.stimulus, session.counts, session.durations, LAGS,
                         trial_starts=TRIAL_STARTS)
    for unit in range(2):
        one = fit_ml(session.stimulus, session.counts[:, unit], session.durations, LAGS,
                     trial_starts=TRIAL_STARTS)
        np.testing.assert_array_equal(units.unit(unit).weights, one.weights)
        np.testing.assert_array_equal(units.unit(unit).intercepts, one.intercepts)
        np.testing.assert_array_equal(units.unit(unit).nll, one.nll)


def test_one_trial_is_the_recording_byte_for_byte(session):
    counts = session.counts[:, 0]
    for starts in (None, [0], np.array([0], dtype=np.int32)):
        fit = fit_ml(session.stimulus, counts, session.durations, (0, 2), trial_starts=starts)
        plain = fit_ml(session.stimulus, counts, session.durations, (0, 2))
        for name in ("weights", "intercepts", "nll", "n_iter"):
            assert getattr(fit, name).tobytes() == getattr(plain, name).tobytes()
    lasso = fit_lasso_lags(session.stimulus, counts, session.durations, (0, 2), n_lambdas=3,
                           n_folds=3, trial_starts=[0])
    plain = fit_lasso_lags(session.stimulus, counts, session.durations, (0, 2), n_lambdas=3,
                           n_folds=3)
    for name, value in plain.to_npz_dict().items():
        assert np.asarray(lasso.to_npz_dict()[name]).tobytes() == np.asarray(value).tobytes()
    sta = spike_triggered_average(session.trains[0], session.edges, session.stimulus,
                                  tau_max=TAU_MAX, tau_step=TAU_STEP, n_shifts=4,
                                  trial_starts=[0])
    plain = spike_triggered_average(session.trains[0], session.edges, session.stimulus,
                                    tau_max=TAU_MAX, tau_step=TAU_STEP, n_shifts=4)
    for name in ("sta", "null_mean", "null_std", "zscore"):
        assert getattr(sta, name).tobytes() == getattr(plain, name).tobytes()


def test_predicted_counts_are_nan_where_no_pair_exists(session):
    fit = fit_ml(session.stimulus, session.counts[:, 0], session.durations, (2,),
                 trial_starts=TRIAL_STARTS)
    expected = predicted_counts(fit, 2, session.stimulus, session.durations, TRIAL_STARTS)
    rows = hand_frames(2)
    missing = np.setdiff1d(np.arange(N_FRAMES), rows)
    assert missing.tolist() == [0, 1, 300, 301]
    assert np.all(np.isnan(expected[missing]))
    centred = session.stimulus - fit.stimulus_mean
    np.testing.assert_allclose(
        expected[rows],
        session.durations[rows] * np.exp(centred[rows - 2] @ fit.weights[0] + fit.intercepts[0]),
        rtol=1e-12)


# --- lasso -------------------------------------------------------------------------------


def hand_lambda_max(design, counts, durations):
    rate = counts.sum() / durations.sum()
    return np.max(np.abs(design.T @ (durations * rate - counts)) / design.shape[0])


def hand_gain(design, counts, durations, weights, intercept, null_intercept):
    """Held-out log-likelihood gain over a constant rate, nats per row."""
    def loglik(eta):
        return np.mean(counts * eta - durations * np.exp(eta))
    return loglik(design @ weights + intercept) - loglik(np.full(counts.size, null_intercept))


def hand_fold_frames(n_folds):
    """Equal blocks of the frames the largest lag pairs, in count frames."""
    usable = hand_frames(max(LAGS))
    sizes = np.full(n_folds, usable.size // n_folds)
    sizes[: usable.size % n_folds] += 1
    bounds = np.concatenate(([0], np.cumsum(sizes)))
    frames = np.append(usable[bounds[:-1]], N_FRAMES)
    frames[0] = 0
    return frames


def test_lag_folds_with_trials():
    # Frames paired at lag 2: 2, 3 | 6, 9 (two per block).
    assert lag_folds(10, 2, 2, [0, 4, 7]).tolist() == [0, 6, 10]
    np.testing.assert_array_equal(lag_folds(N_FRAMES, 3, 4, TRIAL_STARTS), hand_fold_frames(4))
    with pytest.raises(InputError, match="into their trial"):
        lag_folds(10, 2, 3, [0, 4, 7])  # 4 usable frames: 2 blocks at most
    assert lag_folds(12, 2, 5).tolist() == [0, 4, 6, 8, 10, 12]  # one trial: as before


def test_lasso_path_and_cross_validation_use_only_within_trial_pairs(session):
    n_folds = 4
    counts = session.counts[:, 0]
    fit = fit_lasso_lags(session.stimulus, counts, session.durations, LAGS, n_lambdas=5,
                         n_folds=n_folds, trial_starts=TRIAL_STARTS)
    naive = fit_lasso_lags(session.stimulus, counts, session.durations, LAGS, n_lambdas=5,
                           n_folds=n_folds)
    fold_frames = hand_fold_frames(n_folds)
    np.testing.assert_array_equal(fit.fold_frames, fold_frames)
    largest = max(hand_lambda_max(session.stimulus[hand_frames(lag) - lag],
                                  counts[hand_frames(lag)], session.durations[hand_frames(lag)])
                  for lag in LAGS)
    assert fit.lambdas[0] == pytest.approx(largest, rel=1e-12)
    assert abs(naive.lambdas[0] - largest) > 1e-6 * largest
    for position, lag in enumerate(LAGS):
        rows = hand_frames(lag)
        design, y, d = session.stimulus[rows - lag], counts[rows], session.durations[rows]
        # Full data: the KKT conditions of the within-trial objective hold (by numpy).
        for index, lam in enumerate(fit.lambdas):
            weights = fit.weights[index, position]
            eta = design @ weights + fit.intercepts[index, position]
            residual = d * np.exp(eta) - y
            gradient = design.T @ residual / rows.size
            slack = 1e-6 * fit.lambdas[0]  # the solver stops within 1e-7 lambda_max
            assert abs(residual.mean()) < slack
            active = weights != 0
            assert np.all(np.abs(gradient[~active]) <= lam + slack)
            np.testing.assert_allclose(gradient[active], -lam * np.sign(weights[active]),
                                       rtol=0, atol=slack)
        # Cross-validation: held-out gains of training fits on the within-trial rows.
        gains = np.empty((n_folds, fit.lambdas.size))
        for fold in range(n_folds):
            held = (rows >= fold_frames[fold]) & (rows < fold_frames[fold + 1])
            assert held.sum() >= 2
            path = lasso_path(design[~held], y[~held], d[~held], lambdas=fit.lambdas)
            null = np.log(y[~held].sum() / d[~held].sum())
            gains[fold] = [hand_gain(design[held], y[held], d[held], path.weights[index],
                                     path.intercepts[index], null)
                           for index in range(fit.lambdas.size)]
        np.testing.assert_allclose(fit.gain_mean[position], gains.mean(axis=0), atol=1e-7)
        np.testing.assert_array_equal(
            fold_rows(fit.fold_frames, lag, N_FRAMES, TRIAL_STARTS),
            np.searchsorted(rows, fold_frames))
    # The naive fit, with the onset counts paired across the boundary, differs.
    assert np.max(np.abs(naive.weights[-1] - fit.weights[-1])) > 1e-3


def test_lasso_units_equal_fit_lasso_lags_with_trials(session):
    units = fit_lasso_units(session.stimulus, session.counts, session.durations, LAGS,
                            n_lambdas=4, n_folds=3, trial_starts=TRIAL_STARTS)
    for unit in range(2):
        one = fit_lasso_lags(session.stimulus, session.counts[:, unit], session.durations,
                             LAGS, n_lambdas=4, n_folds=3, trial_starts=TRIAL_STARTS)
        got = units.unit(unit)
        np.testing.assert_array_equal(got.fold_frames, one.fold_frames)
        np.testing.assert_allclose(got.lambdas, one.lambdas, rtol=1e-12)
        scale = np.abs(one.weights).max()
        np.testing.assert_allclose(got.weights, one.weights, rtol=0, atol=1e-4 * scale)
        np.testing.assert_allclose(got.gain_mean, one.gain_mean, atol=1e-6)
        assert got.index_chosen == one.index_chosen


# --- spike-triggered average -------------------------------------------------------------


def hand_counts(spikes, edges, taus):
    """counts[f, j]: spikes that saw frame f at taus[j] within their own trial, by numpy."""
    trial_first = edges[TRIAL_STARTS]
    own_first = trial_first[np.searchsorted(trial_first, spikes, side="right") - 1]
    counts = np.zeros((edges.size - 1, taus.size))
    for j, tau in enumerate(taus):
        seen = spikes - tau
        valid = seen >= own_first
        frames = np.searchsorted(edges, seen[valid], side="right") - 1
        np.add.at(counts[:, j], frames, 1.0)
    return counts


def hand_sta(spikes, edges, taus, stimulus):
    counts = hand_counts(spikes, edges, taus)
    return (counts.T @ stimulus) / counts.sum(axis=0)[:, None]


def test_sta_counts_only_frames_of_the_spikes_own_trial(session):
    spikes = session.trains[0]
    result = spike_triggered_average(spikes, session.edges, session.stimulus, tau_max=TAU_MAX,
                                     tau_step=TAU_STEP, n_shifts=6, seed=3,
                                     trial_starts=TRIAL_STARTS)
    naive = spike_triggered_average(spikes, session.edges, session.stimulus, tau_max=TAU_MAX,
                                    tau_step=TAU_STEP, n_shifts=6, seed=3)
    taus = result.taus
    np.testing.assert_allclose(result.sta, hand_sta(spikes, session.edges, taus,
                                                    session.stimulus), rtol=1e-12, atol=1e-14)
    # Contaminated pairs exist: spikes of trial 2 that would look back into trial 1.
    second = session.edges[TRIAL_STARTS[1]]
    early = spikes[(spikes >= second) & (spikes - TAU_MAX < second)]
    assert early.size >= 6
    assert np.max(np.abs(naive.sta[-1] - result.sta[-1])) > 1e-3
    np.testing.assert_array_equal(naive.sta[0], result.sta[0])  # tau 0: nothing left out

    # The shift null: the same offsets, each shifted train under the same rule.
    start, period = session.edges[0], session.edges[-1] - session.edges[0]
    margin = max(1.0, 2 * TAU_MAX)
    offsets = np.random.default_rng(3).uniform(margin, period - margin, size=6)
    null = []
    for offset in offsets:
        position = spikes - start + offset
        shifted = start + (position - period * np.floor(position / period))
        null.append(hand_sta(np.sort(shifted), session.edges, taus, session.stimulus))
    null = np.array(null)
    np.testing.assert_allclose(result.null_mean, null.mean(axis=0), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(result.null_std, null.std(axis=0, ddof=1), rtol=1e-8,
                               atol=1e-13)


def test_sta_units_with_trials(session):
    spike_times = np.concatenate(session.trains)
    offsets = np.array([0, session.trains[0].size, spike_times.size])
    shift = sta_units(spike_times, offsets, session.edges, session.stimulus, tau_max=TAU_MAX,
                      tau_step=TAU_STEP, n_shifts=4, seed=1, trial_starts=TRIAL_STARTS)
    analytic = sta_units(spike_times, offsets, session.edges, session.stimulus,
                         tau_max=TAU_MAX, tau_step=TAU_STEP, null="analytic",
                         trial_starts=TRIAL_STARTS)
    n_frames = session.stimulus.shape[0]
    for unit, spikes in enumerate(session.trains):
        one = spike_triggered_average(spikes, session.edges, session.stimulus, tau_max=TAU_MAX,
                                      tau_step=TAU_STEP, n_shifts=4, seed=1,
                                      trial_starts=TRIAL_STARTS)
        for name in ("sta", "null_mean", "null_std", "zscore"):
            np.testing.assert_array_equal(getattr(shift.unit(unit), name), getattr(one, name))
        # The analytic null of the within-trial counts (module docstring of units).
        counts = hand_counts(spikes, session.edges, shift.taus)
        total = counts.sum(axis=0)
        np.testing.assert_allclose(analytic.sta[unit], (counts.T @ session.stimulus)
                                   / total[:, None], rtol=1e-12)
        spread = np.sqrt((counts**2).sum(axis=0) / total**2 - 1 / n_frames)
        np.testing.assert_allclose(analytic.null_std[unit], spread[:, None]
                                   * session.stimulus.std(axis=0, ddof=1), rtol=1e-10)
        np.testing.assert_allclose(analytic.null_mean[unit],
                                   np.broadcast_to(session.stimulus.mean(axis=0),
                                                   analytic.null_mean[unit].shape))
    naive = sta_units(spike_times, offsets, session.edges, session.stimulus, tau_max=TAU_MAX,
                      tau_step=TAU_STEP, null="analytic")
    assert np.max(np.abs(naive.null_std - analytic.null_std)) > 0


def test_tau_max_must_be_shorter_than_the_longest_trial(session):
    edges = session.edges
    short_starts = np.array([0, 20, 40])  # trials of 20, 20, 520 frames
    spike_triggered_average(session.trains[0], edges, session.stimulus, tau_max=TAU_MAX,
                            tau_step=TAU_STEP, n_shifts=2, trial_starts=short_starts)
    starts = np.arange(0, N_FRAMES, 3)  # trials of 3 frames, about 0.15 s each
    with pytest.raises(InputError, match="longest of the recording's"):
        spike_triggered_average(session.trains[0], edges, session.stimulus, tau_max=TAU_MAX,
                                tau_step=TAU_STEP, n_shifts=2, trial_starts=starts)
    with pytest.raises(InputError, match="sta.tau_max"):
        check_fit_settings(edges[:-1], sta={"tau_max": TAU_MAX, "tau_step": TAU_STEP},
                           trial_starts=starts)


# --- lags, summaries and checks against a session ---------------------------------------


def test_lags_and_settings_count_the_frames_of_each_trial():
    durations = np.full(40, 0.05)
    # One trial: lag 20 leaves 20 frames.  Four trials of 10: lag 5 leaves 4 x 5 = 20,
    # lag 8 leaves 4 x 2 = 8 (< 10).
    starts = np.array([0, 10, 20, 30])
    assert session_lags([0, 5], None, 1, durations, "rf.lags", starts).tolist() == [0, 5]
    with pytest.raises(InputError, match="leaves 8 of the session's 40 frames"):
        session_lags([0, 8], None, 1, durations, "rf.lags", starts)
    assert session_lags([0, 8], None, 1, durations, "rf.lags").tolist() == [0, 8]
    triggers = np.arange(40) * 0.05
    with pytest.raises(InputError, match="lasso.n_folds"):
        check_fit_settings(triggers, lasso={"lags": [0, 5], "n_folds": 11},
                           trial_starts=starts)
    check_fit_settings(triggers, lasso={"lags": [0, 5], "n_folds": 10}, trial_starts=starts)


def test_spikes_at_lag_and_units_without_a_pair(session):
    counts = np.zeros((N_FRAMES, 2))
    counts[TRIAL_STARTS[1], 0] = 3  # spikes only in trial 2's first frame
    counts[-1, 1] = 1
    assert spikes_at_lag(counts, 1, TRIAL_STARTS).tolist() == [0, 1]
    assert spikes_at_lag(counts, 1).tolist() == [3, 1]
    ml = fit_ml_units(session.stimulus, counts + session.counts * [0, 1], session.durations,
                      (0, 1), trial_starts=TRIAL_STARTS)
    assert ml.fitted.tolist() == [False, True]
    assert "no spike in frames 1 or more into their trial" in ml.why[0]
    with pytest.raises(InputError, match="into their trial"):
        fit_ml_units(session.stimulus, counts, session.durations, (0, 1),
                     fitted=np.array([True, True]), trial_starts=TRIAL_STARTS)


# --- the workflow scripts pass the session's trials ------------------------------------

SCRIPTS = Path(__file__).resolve().parents[1] / "workflow" / "scripts"


class _Named(dict):
    """What snakemake gives a script: a mapping with attribute access."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError as error:
            raise AttributeError(name) from error


def _run_script(name, monkeypatch, **parts):
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                     "NUMBA_NUM_THREADS"):
        monkeypatch.setenv(variable, os.environ.get(variable, "1"))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.syspath_prepend(str(SCRIPTS))
    snakemake = SimpleNamespace(threads=1, log=[], rule=name, wildcards=_Named(chunk="0"),
                                **{key: _Named(value) for key, value in parts.items()})
    runpy.run_path(str(SCRIPTS / f"{name}.py"), init_globals={"snakemake": snakemake},
                   run_name="__main__")


def test_workflow_scripts_fit_within_trials(session, tmp_path, monkeypatch):
    from sparsefield.io import save_npz
    from sparsefield.io.session import Session
    from sparsefield.rf.binning import bin_units
    from sparsefield.rf.units_lasso import UnitsLasso
    from sparsefield.rf.units_ml import UnitsML
    from sparsefield.rf.units_sta import UnitsSTA

    spike_times = np.concatenate(session.trains)
    offsets = np.array([0, session.trains[0].size, spike_times.size], dtype=np.int64)
    recording = Session(
        session_id="trials", unit_ids=np.array([1, 2]), unit_labels=np.array(["", ""]),
        spike_times=spike_times, spike_offsets=offsets,
        n_spikes_left_out=np.zeros(2, dtype=np.int64), trigger_times=session.edges[:-1],
        stimulus=session.stimulus, frame_shape=(2, 4), trial_starts=TRIAL_STARTS,
        n_frames_left_out=0, min_spikes=10)
    binned = bin_units(spike_times, offsets, recording.trigger_times)
    save_npz(tmp_path / "session.npz", recording.to_npz_dict())
    save_npz(tmp_path / "counts.npz", binned.to_npz_dict())
    inputs = {"recording": str(tmp_path / "session.npz"), "counts": str(tmp_path / "counts.npz")}
    lags = [0, 2]
    _run_script("fit_ml", monkeypatch, input=inputs,
                output={"fit": str(tmp_path / "ml.npz"), "separation": str(tmp_path / "s1.npz")},
                params={"lags": lags, "window": [0, 0.3], "min_lags": 2, "max_iter": 1000,
                        "tol": 1e-8, "centering": "none", "units_per_job": 0})
    _run_script("fit_lasso", monkeypatch, input=inputs,
                output={"fit": str(tmp_path / "lasso.npz"),
                        "separation": str(tmp_path / "s2.npz")},
                params={"lags": lags, "window": [0, 0.3], "min_lags": 2, "n_lambdas": 3,
                        "lambda_min_ratio": 0.05, "n_folds": 3, "rule": "1se", "tol": 1e-7,
                        "backend": "sparsefield", "solver": "per_unit", "centering": "none",
                        "units_per_job": 0})
    _run_script("spike_triggered_average", monkeypatch, input=inputs,
                output={"sta": str(tmp_path / "sta.npz"), "separation": str(tmp_path / "s3.npz")},
                params={"tau_max": TAU_MAX, "tau_step": TAU_STEP, "n_shifts": 3, "seed": 0,
                        "null": "shift", "centering": "none", "units_per_job": 0})

    def load(kind, path):
        with np.load(path, allow_pickle=False) as arrays:
            return kind.from_npz(arrays)

    ml = load(UnitsML, tmp_path / "ml.npz")
    expected = fit_ml_units(session.stimulus, binned.counts, binned.durations, lags,
                            trial_starts=TRIAL_STARTS)
    np.testing.assert_array_equal(ml.weights, expected.weights)
    plain = fit_ml_units(session.stimulus, binned.counts, binned.durations, lags)
    assert np.max(np.abs(plain.weights[:, 1] - ml.weights[:, 1])) > 1e-3

    lasso = load(UnitsLasso, tmp_path / "lasso.npz")
    expected = fit_lasso_units(session.stimulus, binned.counts, binned.durations, lags,
                               n_lambdas=3, lambda_min_ratio=0.05, n_folds=3,
                               trial_starts=TRIAL_STARTS)
    np.testing.assert_array_equal(lasso.fold_frames, expected.fold_frames)
    np.testing.assert_array_equal(lasso.weights, expected.weights)

    sta = load(UnitsSTA, tmp_path / "sta.npz")
    expected = sta_units(spike_times, offsets, binned.edges, session.stimulus, tau_max=TAU_MAX,
                         tau_step=TAU_STEP, n_shifts=3, seed=0, trial_starts=TRIAL_STARTS)
    np.testing.assert_array_equal(sta.sta, expected.sta)
    np.testing.assert_array_equal(sta.null_std, expected.null_std)
