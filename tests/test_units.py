"""Population fits of a session: every unit equals its single-unit fit."""

import numpy as np
import pytest

from sparsefield.errors import InputError
from sparsefield.rf.binning import bin_units
from sparsefield.rf.lasso_lags import LassoLags, fit_lasso_lags
from sparsefield.rf.ml import MLFit, fit_ml
from sparsefield.rf.sta import STA, spike_triggered_average
from sparsefield.rf.units_lasso import UnitsLasso, fit_lasso_units
from sparsefield.rf.units_ml import UnitsML, fit_ml_units
from sparsefield.rf.units_sta import UnitsSTA, sta_units

N_FRAMES, N_PIXELS = 1200, 48
LAGS = (0, 1, 2)


def spikes_from_counts(counts, edges, rng):
    """Spike times uniform within each frame, ``counts[f]`` of them in frame ``f``."""
    frames = np.repeat(np.arange(counts.size), counts)
    start, width = edges[frames], np.diff(edges)[frames]
    return np.sort(start + rng.uniform(0.0, 1.0, frames.size) * width)


def concatenate(blocks):
    offsets = np.concatenate([[0], np.cumsum([block.size for block in blocks])])
    return np.concatenate(blocks), offsets.astype(np.int64)


@pytest.fixture(scope="module")
def session():
    """Binary white noise, jittered frames and four units driven at lag 1 by different
    pixels (plus a fifth that never fires), as spike times and binned counts."""
    rng = np.random.default_rng(5)
    stimulus = rng.integers(0, 2, (N_FRAMES, N_PIXELS)).astype(np.float64)
    durations = np.clip(rng.normal(0.2, 0.02, N_FRAMES), 0.15, 0.25)
    trigger_times = 2.0 + np.concatenate([[0.0], np.cumsum(durations[:-1])])
    edges = np.append(trigger_times, trigger_times[-1] + np.median(np.diff(trigger_times)))
    blocks = []
    for unit, rate in enumerate([8.0, 12.0, 5.0, 20.0]):
        weights = np.zeros(N_PIXELS)
        weights[6 * unit:6 * unit + 3] = 0.9
        weights[6 * unit + 3] = -0.6
        linear = np.zeros(N_FRAMES)
        linear[1:] = (stimulus[:-1] - 0.5) @ weights
        counts = rng.poisson(np.diff(edges) * rate * np.exp(linear))
        blocks.append(spikes_from_counts(counts, edges, rng))
    blocks.append(np.array([]))
    spike_times, spike_offsets = concatenate(blocks)
    binned = bin_units(spike_times, spike_offsets, trigger_times)
    return {"stimulus": stimulus, "blocks": blocks, "spike_times": spike_times,
            "spike_offsets": spike_offsets, "binned": binned, "edges": binned.edges}


# ----------------------------------------------------------------------------
# Maximum likelihood


@pytest.fixture(scope="module")
def ml_units(session):
    binned = session["binned"]
    return fit_ml_units(session["stimulus"], binned.counts, binned.durations, LAGS)


def test_ml_units_equal_fit_ml_per_unit(session, ml_units):
    binned = session["binned"]
    assert ml_units.weights.shape == (5, len(LAGS), N_PIXELS)
    np.testing.assert_array_equal(ml_units.fitted, [True, True, True, True, False])
    for unit in range(4):
        alone = fit_ml(session["stimulus"], binned.counts[:, unit], binned.durations, LAGS)
        mine = ml_units.unit(unit)
        assert isinstance(mine, MLFit)
        np.testing.assert_allclose(mine.weights, alone.weights, rtol=0, atol=1e-6)
        np.testing.assert_allclose(mine.intercepts, alone.intercepts, rtol=0, atol=1e-6)
        np.testing.assert_allclose(mine.nll, alone.nll, rtol=1e-9)
        np.testing.assert_array_equal(mine.lags, alone.lags)
        np.testing.assert_array_equal(mine.stimulus_mean, alone.stimulus_mean)
        assert mine.converged.all()
        assert mine.best_lag == 1


def test_ml_silent_and_unselected_units_get_nan(session, ml_units):
    binned = session["binned"]
    silent = ml_units.unit(4)
    assert np.isnan(silent.weights).all() and not silent.converged.any()
    assert (ml_units.n_iter[4] == 0).all()
    fitted = np.array([False, True, False, False, False])
    some = fit_ml_units(session["stimulus"], binned.counts, binned.durations, (1,),
                        fitted=fitted)
    np.testing.assert_array_equal(some.fitted, fitted)
    assert np.isnan(some.weights[[0, 2, 3, 4]]).all()
    np.testing.assert_allclose(some.weights[1, 0], ml_units.weights[1, 1], atol=1e-6)
    with pytest.raises(InputError, match=r"fitted: unit\(s\) \[4\] .* no spike in frames"):
        fit_ml_units(session["stimulus"], binned.counts, binned.durations, LAGS,
                     fitted=np.ones(5, dtype=bool))


def test_ml_units_npz_round_trip(ml_units, tmp_path):
    np.savez(tmp_path / "ml.npz", **ml_units.to_npz_dict())
    with np.load(tmp_path / "ml.npz", allow_pickle=False) as npz:
        again = UnitsML.from_npz(npz)
    np.testing.assert_array_equal(again.weights, ml_units.weights)
    np.testing.assert_array_equal(again.fitted, ml_units.fitted)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"lags": ()}, "lags: expected a non-empty"),
        ({"lags": (0, N_FRAMES)}, "lags: must be an integer in"),
        ({"fitted": np.ones(4, dtype=bool)}, r"fitted: expected a bool array of shape \(5,\)"),
        ({"fitted": np.ones(5)}, "fitted: expected a bool array"),
        ({"counts": np.zeros((N_FRAMES - 1, 5))}, "counts: expected 1200 entries"),
        ({"counts": np.zeros((N_FRAMES, 0))}, "counts: has no unit"),
        ({"counts": -np.ones((N_FRAMES, 5))}, "counts: contains negative"),
    ],
)
def test_ml_units_bad_input(session, change, message):
    binned = session["binned"]
    arguments = {"stimulus": session["stimulus"], "counts": binned.counts,
                 "durations": binned.durations, "lags": LAGS}
    arguments.update(change)
    with pytest.raises(InputError, match=message):
        fit_ml_units(**arguments)


# ----------------------------------------------------------------------------
# Lasso over lags

LASSO_OPTIONS = {"n_lambdas": 6, "n_folds": 4}


@pytest.fixture(scope="module", params=["population", "per_unit"])
def lasso_units(session, request):
    """The units fitted by the population solver and one by one: both must equal
    fit_lasso_lags per unit."""
    binned = session["binned"]
    return fit_lasso_units(session["stimulus"], binned.counts, binned.durations, LAGS,
                           solver=request.param, **LASSO_OPTIONS)


def test_lasso_units_equal_fit_lasso_lags_per_unit(session, lasso_units):
    binned = session["binned"]
    assert lasso_units.weights.shape == (5, 6, len(LAGS), N_PIXELS)
    for unit in range(4):
        alone = fit_lasso_lags(session["stimulus"], binned.counts[:, unit], binned.durations,
                               LAGS, **LASSO_OPTIONS)
        mine = lasso_units.unit(unit)
        assert isinstance(mine, LassoLags) and mine.backend == "sparsefield"
        np.testing.assert_allclose(mine.lambdas, alone.lambdas, rtol=1e-12)
        np.testing.assert_array_equal(mine.fold_frames, alone.fold_frames)
        scale = np.abs(alone.weights).max()
        np.testing.assert_allclose(mine.weights, alone.weights, rtol=0, atol=1e-4 * scale)
        np.testing.assert_allclose(mine.intercepts, alone.intercepts, rtol=0, atol=1e-4)
        np.testing.assert_allclose(mine.gain_mean, alone.gain_mean, rtol=0, atol=1e-6)
        np.testing.assert_allclose(mine.total_gain_se, alone.total_gain_se, rtol=0, atol=1e-6)
        assert (mine.index_min, mine.index_1se) == (alone.index_min, alone.index_1se)
        assert mine.kkt_violation.shape == alone.kkt_violation.shape
        assert np.all(mine.kkt_violation <= 1e-7 * mine.lambdas[0] * (1 + 1e-9))
        # the fit found the planted pixels
        peak = np.unravel_index(np.argmax(np.abs(mine.chosen_weights)), (len(LAGS), N_PIXELS))
        assert peak[0] == 1 and 6 * unit <= peak[1] < 6 * unit + 4
    np.testing.assert_array_equal(lasso_units.n_folds_used[:4], 4)


def test_lasso_silent_unit_is_not_fitted(lasso_units):
    assert not lasso_units.fitted[4]
    silent = lasso_units.unit(4)
    assert np.isnan(silent.weights).all() and np.isnan(silent.lambdas).all()
    assert (silent.index_min, silent.index_1se) == (-1, -1)
    assert lasso_units.index_chosen[4] == -1
    assert np.isnan(lasso_units.chosen_weights[4]).all()
    np.testing.assert_array_equal(lasso_units.chosen_weights[0],
                                  lasso_units.unit(0).chosen_weights)


def test_lasso_unit_without_spikes_in_a_training_set_keeps_the_others(session):
    """All spikes of unit 1 in fold 2's block: fit_lasso_lags refuses it; here that fold
    gets NaN gains for unit 1, which is chosen on the other folds, and unit 0 is as alone."""
    binned = session["binned"]
    counts = binned.counts[:, :2].copy()
    fold_frames = np.array([0, 302, 602, 901, 1200])
    counts[:, 1] = 0
    counts[650:850, 1] = binned.counts[650:850, 1]
    result = fit_lasso_units(session["stimulus"], counts, binned.durations, LAGS,
                             **LASSO_OPTIONS)
    np.testing.assert_array_equal(result.fold_frames, fold_frames)
    np.testing.assert_array_equal(result.n_folds_used, [4, 3])
    assert result.index_1se[1] >= 0 and np.isfinite(result.total_gain_mean[1]).all()
    with pytest.raises(InputError, match="training rows contain no spikes"):
        fit_lasso_lags(session["stimulus"], counts[:, 1], binned.durations, LAGS,
                       **LASSO_OPTIONS)
    alone = fit_lasso_lags(session["stimulus"], counts[:, 0], binned.durations, LAGS,
                           **LASSO_OPTIONS)
    assert result.index_1se[0] == alone.index_1se
    np.testing.assert_allclose(result.gain_mean[0], alone.gain_mean, atol=1e-6)


def test_lasso_units_npz_round_trip(lasso_units, tmp_path):
    np.savez(tmp_path / "lasso.npz", **lasso_units.to_npz_dict())
    with np.load(tmp_path / "lasso.npz", allow_pickle=False) as npz:
        again = UnitsLasso.from_npz(npz)
    np.testing.assert_array_equal(again.weights, lasso_units.weights)
    np.testing.assert_array_equal(again.index_1se, lasso_units.index_1se)
    assert again.rule == "1se"


def test_lasso_units_bad_options(session):
    binned = session["binned"]
    arguments = (session["stimulus"], binned.counts, binned.durations, LAGS)
    with pytest.raises(InputError, match="rule"):
        fit_lasso_units(*arguments, rule="max")
    with pytest.raises(InputError, match="n_folds"):
        fit_lasso_units(*arguments, n_folds=1)
    with pytest.raises(InputError, match="lambda_min_ratio"):
        fit_lasso_units(*arguments, lambda_min_ratio=0.0)


# ----------------------------------------------------------------------------
# Spike-triggered averages


def test_sta_units_shift_null_equals_spike_triggered_average(session):
    blocks = list(session["blocks"])
    edges = session["edges"]
    # a unit with spikes only outside the edges, one with some outside
    blocks.append(np.array([edges[0] - 1.0, edges[-1], edges[-1] + 3.0]))
    blocks.append(np.concatenate([[edges[0] - 0.5], blocks[2][:40], [edges[-1] + 0.1]]))
    spike_times, spike_offsets = concatenate(blocks)
    options = {"tau_max": 0.3, "tau_step": 0.02, "n_shifts": 12, "seed": 4}
    result = sta_units(spike_times, spike_offsets, edges, session["stimulus"], **options)
    assert result.sta.shape == (7, 16, N_PIXELS)
    assert (result.null, result.n_shifts) == ("shift", 12)
    for unit, block in enumerate(blocks):
        mine = result.unit(unit)
        assert isinstance(mine, STA)
        if unit in (4, 5):
            assert mine.n_spikes == 0
            for name in ("sta", "zscore", "null_mean", "null_std"):
                assert np.isnan(getattr(mine, name)).all()
            continue
        alone = spike_triggered_average(block, edges, session["stimulus"], **options)
        assert mine.n_spikes == alone.n_spikes
        np.testing.assert_array_equal(mine.taus, alone.taus)
        for name in ("sta", "null_mean", "null_std", "zscore"):
            np.testing.assert_allclose(getattr(mine, name), getattr(alone, name), rtol=0,
                                       atol=1e-10, err_msg=name)


def permutation_std(spike_times, edges, stimulus, taus, n_permutations, rng):
    """Standard deviation of the STA over random orders of the frames (the exact null)."""
    seen = np.zeros((taus.size, stimulus.shape[0]))
    inside = spike_times[(spike_times >= edges[0]) & (spike_times < edges[-1])]
    for j, tau in enumerate(taus):
        shifted = inside - tau
        frames = np.searchsorted(edges, shifted[shifted >= edges[0]], side="right") - 1
        seen[j] = np.bincount(frames, minlength=stimulus.shape[0])
    weights = seen / seen.sum(axis=1, keepdims=True)
    draws = np.array([weights @ stimulus[rng.permutation(stimulus.shape[0])]
                      for _ in range(n_permutations)])
    return draws.std(axis=0, ddof=1)


@pytest.mark.parametrize("spikes_per_frame", [0.3, 4.0])
def test_analytic_null_is_the_permutation_null(spikes_per_frame):
    rng = np.random.default_rng(8)
    n_frames = 300
    edges = np.concatenate([[0.0], np.cumsum(rng.uniform(0.15, 0.25, n_frames))])
    stimulus = rng.normal(size=(n_frames, 6))
    spike_times = np.sort(rng.uniform(edges[0], edges[-1], int(spikes_per_frame * n_frames)))
    result = sta_units(spike_times, np.array([0, spike_times.size]), edges, stimulus,
                       tau_max=0.4, tau_step=0.1, null="analytic")
    expected = permutation_std(spike_times, edges, stimulus, result.taus, 3000, rng)
    np.testing.assert_allclose(result.null_std[0], expected, rtol=0.08)
    np.testing.assert_allclose(result.null_mean[0], np.broadcast_to(stimulus.mean(axis=0),
                                                                    expected.shape))


@pytest.mark.parametrize("rate", [1.0, 20.0])  # fewer and more spikes than frames
def test_analytic_null_agrees_with_the_shift_null_on_white_noise(rate):
    rng = np.random.default_rng(9)
    n_frames, n_pixels, n_units = 1500, 30, 2
    edges = np.concatenate([[1.0], 1.0 + np.cumsum(np.clip(rng.normal(0.2, 0.02, n_frames),
                                                           0.15, 0.25))])
    stimulus = rng.integers(0, 2, (n_frames, n_pixels)).astype(np.float64)
    blocks = [np.sort(rng.uniform(edges[0], edges[-1], rng.poisson(rate * (edges[-1] - 1.0))))
              for _ in range(n_units)]
    spike_times, spike_offsets = concatenate(blocks)
    options = {"tau_max": 0.3, "tau_step": 0.05}
    shift = sta_units(spike_times, spike_offsets, edges, stimulus, n_shifts=200, **options)
    analytic = sta_units(spike_times, spike_offsets, edges, stimulus, null="analytic",
                         **options)
    assert (analytic.null, analytic.n_shifts) == ("analytic", 0)
    np.testing.assert_array_equal(analytic.sta, shift.sta)
    np.testing.assert_array_equal(analytic.n_spikes, shift.n_spikes)
    ratio = analytic.null_std / shift.null_std
    assert abs(np.median(ratio) - 1.0) < 0.05
    assert np.quantile(np.abs(ratio - 1.0), 0.95) < 0.15
    # The means differ: the analytic null's is each pixel's mean over frames, the shift
    # null's (spikes uniform in time) weights frames by their duration; both estimate the
    # pixel's mean, and they differ by a fraction of null_std when spikes outnumber frames.
    np.testing.assert_allclose(analytic.null_mean,
                               np.broadcast_to(stimulus.mean(axis=0), analytic.sta.shape))
    weighted_mean = np.diff(edges) @ stimulus / (edges[-1] - edges[0])
    np.testing.assert_allclose(shift.null_mean, np.broadcast_to(weighted_mean, shift.sta.shape),
                               atol=2 * shift.null_std.max())
    assert np.median(np.abs(analytic.null_mean - shift.null_mean) / shift.null_std) < 0.3
    # z-scores of spikes independent of the stimulus are standard normal
    assert abs(analytic.zscore.mean()) < 0.15 and 0.85 < analytic.zscore.std() < 1.15


def test_sta_units_npz_round_trip_and_bad_input(session, tmp_path):
    edges, stimulus = session["edges"], session["stimulus"]
    spike_times, spike_offsets = session["spike_times"], session["spike_offsets"]
    result = sta_units(spike_times, spike_offsets, edges, stimulus, null="analytic",
                       tau_max=0.2)
    np.savez(tmp_path / "sta.npz", **result.to_npz_dict())
    with np.load(tmp_path / "sta.npz", allow_pickle=False) as npz:
        again = UnitsSTA.from_npz(npz)
    np.testing.assert_array_equal(again.zscore, result.zscore)
    assert (again.null, again.n_shifts) == ("analytic", 0)
    with pytest.raises(InputError, match="null: must be one of"):
        sta_units(spike_times, spike_offsets, edges, stimulus, null="poisson")
    with pytest.raises(InputError, match="n_shifts"):
        sta_units(spike_times, spike_offsets, edges, stimulus, n_shifts=1)
    with pytest.raises(InputError, match="stimulus: has 1199 frames"):
        sta_units(spike_times, spike_offsets, edges, stimulus[1:])
    unsorted = spike_times.copy()
    first, second = spike_offsets[2], spike_offsets[2] + 1
    unsorted[[first, second]] = unsorted[[second, first]]
    with pytest.raises(InputError, match=r"spike_times: unit 2 \(0-based index\): spike times "
                                         "are not sorted"):
        sta_units(unsorted, spike_offsets, edges, stimulus)


def test_lasso_units_peer_backend_replaces_only_the_full_data_fits(session, lasso_units):
    binned = session["binned"]
    options = {"n_lambdas": 3, "n_folds": 3}
    peer = fit_lasso_units(session["stimulus"], binned.counts[:, :2], binned.durations,
                           (1,), backend="sklearn", **options)
    assert peer.backend == "sklearn" and peer.unit(1).backend == "sklearn"
    for unit in range(2):
        alone = fit_lasso_lags(session["stimulus"], binned.counts[:, unit], binned.durations,
                               (1,), backend="sklearn", **options)
        mine = peer.unit(unit)
        np.testing.assert_allclose(mine.weights, alone.weights, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(mine.kkt_violation, alone.kkt_violation, rtol=1e-6)
        assert mine.index_1se == alone.index_1se
    with pytest.raises(InputError, match="backend: must be one of"):
        fit_lasso_units(session["stimulus"], binned.counts, binned.durations, (1,),
                        backend="glmnet")


def test_chunks_of_units_join_to_the_whole_session_byte_for_byte(session):
    """What units_per_job relies on: each unit's fit depends on its own data only."""
    from sparsefield.rf.units import concatenate_units

    binned, stimulus = session["binned"], session["stimulus"]
    spike_times, offsets = session["spike_times"], session["spike_offsets"]
    chunks = [slice(0, 2), slice(2, 5)]

    def sta_of(units):
        first, last = offsets[units.start], offsets[units.stop]
        return sta_units(spike_times[first:last], offsets[units.start:units.stop + 1] - first,
                         session["edges"], stimulus, tau_max=0.3, tau_step=0.05, n_shifts=8,
                         seed=4)

    fits = {
        "ml": lambda units: fit_ml_units(stimulus, binned.counts[:, units], binned.durations,
                                         LAGS),
        "lasso": lambda units: fit_lasso_units(stimulus, binned.counts[:, units],
                                               binned.durations, LAGS, **LASSO_OPTIONS),
        "sta": sta_of,
    }
    for name, fit in fits.items():
        whole = fit(slice(0, 5)).to_npz_dict()
        joined = concatenate_units([fit(units) for units in chunks]).to_npz_dict()
        assert sorted(joined) == sorted(whole), name
        for key, value in whole.items():
            np.testing.assert_array_equal(joined[key], value, err_msg=f"{name}.{key}")
    with pytest.raises(InputError, match="disagree on 'lags'"):
        concatenate_units([fit_ml_units(stimulus, binned.counts[:, :2], binned.durations, [0]),
                           fit_ml_units(stimulus, binned.counts[:, 2:], binned.durations, [1])])
