"""Per-unit summaries and the session figures' data: flags, lags, truth, order."""

import numpy as np
import pytest

from sparsefield.errors import InputError
from sparsefield.io.session import Session
from sparsefield.rf.binning import bin_units
from sparsefield.rf.separation import separate, separate_units
from sparsefield.rf.session_views import atlas_maps, kernel_rows, mosaic_fits
from sparsefield.rf.lags import session_lags
from sparsefield.rf.summary import fitted_units, truth_of_unit, unit_table
from sparsefield.rf.units_lasso import fit_lasso_units
from sparsefield.rf.units_ml import fit_ml_units
from sparsefield.rf.units_sta import sta_units


def test_fitted_units_flags_units_below_min_spikes():
    counts = np.array([[3, 0, 1], [2, 0, 0], [5, 0, 1]])
    fitted, why = fitted_units(counts, 5)
    assert fitted.tolist() == [True, False, False]
    assert why == ["", "0 spikes < min_spikes 5", "2 spikes < min_spikes 5"]
    # min_spikes 0 still needs one spike to fit anything
    assert fitted_units(counts, 0)[0].tolist() == [True, False, True]


@pytest.mark.parametrize("frame_duration, last", [(0.2, 4), (1 / 60, 18), (1 / 120, 36)])
def test_session_lags_cover_the_window_at_any_frame_rate(frame_duration, last):
    durations = np.full(2000, frame_duration)
    lags = session_lags(None, (0.0, 0.3), 5, durations, "config rf")
    assert lags.tolist() == list(range(last + 1))
    assert session_lags([0, 2], (0.0, 0.3), 5, durations, "config rf").tolist() == [0, 2]


def test_session_lags_refuse_lags_longer_than_the_recording():
    with pytest.raises(InputError, match=r"config rf: lag 36 leaves 4 of the session's 40 frames"):
        session_lags(None, (0.0, 0.3), 5, np.full(40, 1 / 120), "config rf")


def test_truth_of_unit_reads_one_neuron_and_session_archives():
    single = {"spatial": np.ones(3), "lags": np.arange(5)}
    assert truth_of_unit(single, 1) is not None and set(truth_of_unit(single, 1)) == set(single)
    session = {"unit_ids": np.array([4, 9]), "u4_spatial": np.zeros(3), "u9_spatial": np.ones(3),
               "u9_lags": np.arange(5)}
    np.testing.assert_array_equal(truth_of_unit(session, 9)["spatial"], np.ones(3))
    assert set(truth_of_unit(session, 9)) == {"spatial", "lags"}
    assert truth_of_unit(session, 5) is None


def test_separate_units_equals_separate_per_unit_and_skips_unfitted():
    rng = np.random.default_rng(0)
    matrices = rng.normal(size=(3, 4, 6))
    matrices[1] = np.nan
    result = separate_units(matrices, "pixel")
    for unit in (0, 2):
        alone = separate(matrices[unit], "pixel")
        np.testing.assert_allclose(result.spatial[unit], alone.spatial)
        np.testing.assert_allclose(result.temporal[unit], alone.temporal)
        assert result.unit(unit).explained == pytest.approx(alone.explained)
    assert np.isnan(result.spatial[1]).all() and np.isnan(result.explained[1])


@pytest.fixture(scope="module")
def small_session():
    """Four units with known RF centres on a 6 x 8 grid, and one silent unit."""
    rng = np.random.default_rng(3)
    n_frames, shape = 3000, (6, 8)
    stimulus = rng.choice([-1.0, 1.0], size=(n_frames, shape[0] * shape[1]))
    durations = np.full(n_frames, 0.1)
    triggers = np.arange(n_frames) * 0.1
    centres = [(1, 1), (4, 6), (2, 5), (4, 2)]
    signs = [1, -1, 1, -1]
    trains = []
    for (row, col), sign in zip(centres, signs):
        weights = np.zeros(shape)
        weights[row, col] = 0.8 * sign
        counts = rng.poisson(durations * 15 * np.exp(stimulus @ weights.ravel()))
        trains.append(np.sort(np.repeat(triggers, counts) + rng.uniform(0, 0.1, counts.sum())))
    trains.append(np.zeros(0))
    offsets = np.concatenate(([0], np.cumsum([train.size for train in trains])))
    session = Session(
        session_id="s", unit_ids=np.array([3, 5, 8, 13, 21]), unit_labels=np.array([""] * 5),
        spike_times=np.concatenate(trains), spike_offsets=offsets,
        n_spikes_left_out=np.zeros(5, dtype=np.int64), trigger_times=triggers,
        stimulus=stimulus, frame_shape=shape, trial_starts=np.array([0]),
        n_frames_left_out=0, min_spikes=50)
    binned = bin_units(session.spike_times, session.spike_offsets, session.trigger_times)
    fitted, _ = fitted_units(binned.counts, 50)
    lags = [0, 1, 2]
    ml = fit_ml_units(stimulus, binned.counts, binned.durations, lags, fitted=fitted)
    lasso = fit_lasso_units(stimulus, binned.counts, binned.durations, lags,
                            fitted=fitted, n_lambdas=6, n_folds=3)
    sta = sta_units(session.spike_times, session.spike_offsets, binned.edges, stimulus,
                    tau_max=0.3, tau_step=0.02, n_shifts=10)
    chosen = np.full((5, 3, stimulus.shape[1]), np.nan)
    for unit in np.flatnonzero(fitted):
        chosen[unit] = lasso.unit(unit).chosen_weights
    parts = dict(binned=binned, ml=ml, ml_separation=separate_units(ml.weights), sta=sta,
                 sta_separation=separate_units(sta.sta - sta.null_mean), lasso=lasso,
                 lasso_separation=separate_units(chosen))
    return session, parts, centres, signs


def test_unit_table_has_one_row_per_unit_with_centres_and_flags(small_session):
    session, parts, centres, _ = small_session
    rows = unit_table(session, **parts)
    assert [row["unit_id"] for row in rows] == [3, 5, 8, 13, 21]
    silent = rows[4]
    assert not silent["fitted"] and "min_spikes" in silent["why"] and "best_lag" not in silent
    for row, (centre_row, centre_col) in zip(rows[:4], centres):
        assert row["fitted"] and row["best_lag"] == 0
        assert abs(row["rf_centre_row"] - centre_row) < 0.5
        assert abs(row["rf_centre_col"] - centre_col) < 0.5
        assert row["lasso_cv_gain"] > 0
        # lag 0 is the first fitted lag but the causal limit: not flagged
        assert "best_lag" not in row["flags"]


def test_session_views_order_units_by_position_and_keep_polarity(small_session):
    session, parts, centres, signs = small_session
    maps, order, units = atlas_maps(session.frame_shape, parts["lasso"], parts["lasso_separation"])
    assert units.tolist() == [0, 1, 2, 3] and maps.shape == (4, 48)
    by_position = sorted(range(4), key=lambda unit: centres[unit])
    assert order.tolist() == by_position
    for unit, sign in enumerate(signs):
        peak = np.argmax(np.abs(maps[unit]))
        assert np.sign(maps[unit][peak]) == sign
    centre_fits, ellipses, polarity, shown = mosaic_fits(session.frame_shape,
                                                         parts["lasso_separation"])
    assert polarity.tolist() == signs and ellipses.shape == (4, 3)
    np.testing.assert_allclose(centre_fits, np.array(centres, dtype=float), atol=0.5)
    kernels, order, shown = kernel_rows(parts["sta_separation"])
    assert kernels.shape[0] == 4 and shown.tolist() == [0, 1, 2, 3]


def test_unit_chunks_cover_the_units_in_order():
    from sparsefield.rf.units import unit_chunks

    assert unit_chunks(7, 3) == [slice(0, 3), slice(3, 6), slice(6, 7)]
    assert unit_chunks(7, 0) == [slice(0, 7)]
    assert unit_chunks(6, 3) == [slice(0, 3), slice(3, 6)]
    assert unit_chunks(2, 10) == [slice(0, 2)]


def test_spikes_of_units_match_each_units_spikes(small_session):
    session = small_session[0]
    spike_times, offsets = session.spikes_of_units(slice(1, 4))
    assert offsets[0] == 0 and offsets.size == 4
    for position, unit in enumerate(range(1, 4)):
        np.testing.assert_array_equal(spike_times[offsets[position]:offsets[position + 1]],
                                      session.unit_spike_times(unit))
