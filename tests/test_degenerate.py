"""Degenerate results are errors or flags, never successes (issue 10): a fit with no
signal, an STA grid of one delay, settings that do not fit the recording, a sparsity
penalty that leaves every code zero, images too small or blank for the patches asked for."""

import numpy as np
import pytest

from sparsefield.errors import InputError
from sparsefield.io.session import Session
from sparsefield.rf.binning import bin_units
from sparsefield.rf.lags import check_fit_settings, session_lags
from sparsefield.rf.lasso_lags import fit_lasso_lags, lag_folds
from sparsefield.rf.ml import fit_ml
from sparsefield.rf.separation import separate_units
from sparsefield.rf.sta import check_delays, spike_triggered_average
from sparsefield.rf.summary import FLAG_MEANINGS, fitted_units, unit_table
from sparsefield.rf.units import concatenate_units
from sparsefield.rf.units_lasso import NO_SIGNAL_LASSO, fit_lasso_units
from sparsefield.rf.units_ml import NO_SIGNAL_ML, fit_ml_units
from sparsefield.rf.units_sta import sta_units
from sparsefield.sparse.dictionary import LearningSettings, learn_dictionary, recover_atoms
from sparsefield.sparse.images import ImageSet
from sparsefield.sparse.patches import make_patch_sets
from sparsefield.sparse.whitening import unit_norm

LAGS = [0, 1, 2]
N_FRAMES = 400
SHAPE = (4, 5)


def _data(seed=0):
    """A binary stimulus, equal frame durations and three units' counts: a unit driven
    by pixel 3, a second one driven by pixel 7, and a unit with exactly one spike in
    every frame (its counts follow the frame durations exactly: no signal)."""
    rng = np.random.default_rng(seed)
    stimulus = rng.choice([-1.0, 1.0], size=(N_FRAMES, SHAPE[0] * SHAPE[1]))
    durations = np.full(N_FRAMES, 0.1)
    counts = np.empty((N_FRAMES, 3))
    counts[:, 0] = rng.poisson(0.1 * 20 * np.exp(0.8 * stimulus[:, 3]))
    counts[:, 1] = rng.poisson(0.1 * 20 * np.exp(-0.8 * stimulus[:, 7]))
    counts[:, 2] = 1.0
    return stimulus, counts, durations


# --- ML: no signal -----------------------------------------------------------------------


def test_ml_fit_of_a_constant_stimulus_is_no_signal_not_converged():
    stimulus, counts, durations = _data()
    fit = fit_ml(np.ones_like(stimulus), counts[:, 0], durations, LAGS)
    assert not fit.converged.any() and fit.no_signal.all()
    assert (fit.weights == 0).all() and (fit.n_iter == 0).all()
    real = fit_ml(stimulus, counts[:, 0], durations, LAGS)
    assert real.converged.all() and not real.no_signal.any()


def test_ml_units_leave_a_unit_without_signal_out_and_say_why():
    stimulus, counts, durations = _data()
    fit = fit_ml_units(stimulus, counts, durations, LAGS, unit_ids=[4, 9, 17])
    assert fit.fitted.tolist() == [True, True, False]
    assert fit.why.tolist() == ["", "", NO_SIGNAL_ML]
    assert np.isnan(fit.weights[2]).all() and (fit.n_iter[2] == 0).all()
    assert not fit.unit(2).converged.any()
    # the fitted units are the ones fit_ml gives
    alone = fit_ml(stimulus, counts[:, 1], durations, LAGS)
    np.testing.assert_allclose(fit.weights[1], alone.weights, atol=1e-6)
    # a constant stimulus: no unit has a signal
    flat = fit_ml_units(np.zeros_like(stimulus), counts, durations, LAGS)
    assert not flat.fitted.any() and set(flat.why.tolist()) == {NO_SIGNAL_ML}


def test_ml_units_say_why_a_unit_without_spikes_after_the_largest_lag_is_left_out():
    stimulus, counts, durations = _data()
    counts[:, 1] = 0
    counts[1, 1] = 3  # before lag 2
    fit = fit_ml_units(stimulus, counts[:, :2], durations, LAGS)
    assert fit.fitted.tolist() == [True, False]
    assert fit.why[1] == "no spike in frames 2.. (needed for a fit at lag 2)"


def test_why_survives_the_npz_round_trip_and_the_joining_of_chunks(tmp_path):
    stimulus, counts, durations = _data()
    whole = fit_ml_units(stimulus, counts, durations, LAGS)
    parts = [fit_ml_units(stimulus, counts[:, :2], durations, LAGS),
             fit_ml_units(stimulus, counts[:, 2:], durations, LAGS)]
    joined = concatenate_units(parts)
    assert joined.why.tolist() == whole.why.tolist() and joined.why.dtype == whole.why.dtype
    np.savez(tmp_path / "ml.npz", **whole.to_npz_dict())
    with np.load(tmp_path / "ml.npz", allow_pickle=False) as arrays:
        again = type(whole).from_npz(arrays)
    assert again.why.tolist() == whole.why.tolist()


# --- lasso: no signal, folds ---------------------------------------------------------------


def test_lasso_units_leave_a_unit_without_signal_out_instead_of_failing():
    stimulus, counts, durations = _data()
    fit = fit_lasso_units(stimulus, counts, durations, LAGS, n_lambdas=4, n_folds=3,
                          unit_ids=[4, 9, 17])
    assert fit.fitted.tolist() == [True, True, False]
    assert fit.why.tolist() == ["", "", NO_SIGNAL_LASSO]
    assert fit.index_chosen[2] == -1 and np.isnan(fit.chosen_weights[2]).all()
    assert (fit.index_chosen[:2] >= 0).all()
    flat = fit_lasso_units(np.ones_like(stimulus), counts, durations, LAGS, n_lambdas=4,
                           n_folds=3)
    assert not flat.fitted.any()
    with pytest.raises(InputError, match="stimulus: no signal: the largest penalty lambda_max is 0"):
        fit_lasso_lags(np.ones_like(stimulus), counts[:, 0], durations, LAGS, n_lambdas=4,
                       n_folds=3)


def test_more_folds_than_the_frames_after_the_largest_lag_allow_is_named():
    stimulus, counts, durations = _data()
    message = (r"n_folds: 200 cross-validation blocks need at least 400 frames after the "
               r"largest lag \(2\), 2 per block, but the recording has 398 of its 400 frames")
    with pytest.raises(InputError, match=message):
        fit_lasso_units(stimulus, counts, durations, LAGS, n_folds=200)
    with pytest.raises(InputError, match=message):
        fit_lasso_lags(stimulus, counts[:, 0], durations, LAGS, n_folds=200)
    assert lag_folds(12, 2, 5).tolist() == [0, 4, 6, 8, 10, 12]


# --- the units summary ---------------------------------------------------------------------


def _summary(counts, stimulus, min_spikes=1):
    """unit_table of a session with the given counts (spikes spread inside the frames)."""
    rng = np.random.default_rng(1)
    triggers = np.arange(N_FRAMES) * 0.1
    trains = [np.sort(np.repeat(triggers, counts[:, unit].astype(int))
                      + rng.uniform(0.0, 0.1, int(counts[:, unit].sum())))
              for unit in range(counts.shape[1])]
    n_units = counts.shape[1]
    session = Session(
        session_id="s", unit_ids=np.arange(n_units) + 1, unit_labels=np.array([""] * n_units),
        spike_times=np.concatenate(trains),
        spike_offsets=np.concatenate(([0], np.cumsum([train.size for train in trains]))),
        n_spikes_left_out=np.zeros(n_units, dtype=np.int64), trigger_times=triggers,
        stimulus=stimulus, frame_shape=SHAPE, trial_starts=np.array([0]), n_frames_left_out=0,
        min_spikes=min_spikes)
    binned = bin_units(session.spike_times, session.spike_offsets, session.trigger_times)
    fitted, _ = fitted_units(binned.counts, min_spikes)
    ml = fit_ml_units(stimulus, binned.counts, binned.durations, LAGS, fitted=fitted)
    lasso = fit_lasso_units(stimulus, binned.counts, binned.durations, LAGS, fitted=fitted,
                            n_lambdas=4, n_folds=3)
    sta = sta_units(session.spike_times, session.spike_offsets, binned.edges, stimulus,
                    tau_max=0.3, tau_step=0.05, null="analytic")
    return unit_table(session, binned, ml, separate_units(ml.weights), sta,
                      separate_units(sta.sta - sta.null_mean), lasso,
                      separate_units(lasso.chosen_weights))


def test_unit_table_flags_a_unit_without_signal_as_not_fitted():
    stimulus, counts, durations = _data()
    rows = _summary(counts, stimulus)
    assert [row["fitted"] for row in rows] == [True, True, False]
    assert rows[2]["why"] == NO_SIGNAL_ML and "best_lag" not in rows[2]


def test_unit_table_flags_a_unit_with_fewer_spikes_than_parameters():
    stimulus, counts, durations = _data()
    counts[:, 2] = 0
    counts[[50, 120, 200, 260, 330], 2] = 1  # 5 spikes for 20 pixels + 1
    rows = _summary(counts, stimulus)
    assert rows[2]["fitted"] and "few_spikes" in rows[2]["flags"].split()
    assert "few_spikes" not in rows[0]["flags"] and "few_spikes" not in rows[1]["flags"]
    assert "min_spikes" in FLAG_MEANINGS["few_spikes"]


# --- STA delays and the recording -----------------------------------------------------------


def test_an_sta_grid_of_one_delay_is_an_error():
    rng = np.random.default_rng(2)
    spikes = np.sort(rng.uniform(0, 20, 50))
    edges = np.arange(101) * 0.2
    stimulus = rng.integers(0, 2, (100, 3)).astype(float)
    message = r"tau_step: 0.5 s is longer than tau_max \(0.3 s\): the only delay would be 0 s"
    with pytest.raises(InputError, match=message):
        spike_triggered_average(spikes, edges, stimulus, tau_max=0.3, tau_step=0.5)
    with pytest.raises(InputError, match=message):
        sta_units(spikes, np.array([0, 50]), edges, stimulus, tau_max=0.3, tau_step=0.5,
                  null="analytic")
    # two delays are enough
    assert spike_triggered_average(spikes, edges, stimulus, tau_max=0.3, tau_step=0.3,
                                   n_shifts=4).taus.tolist() == [0.0, 0.3]


@pytest.mark.parametrize("tau_max, duration, null, source, phrase", [
    (10000.0, 40.0, "analytic", "tau_max", "10000 s is not shorter than the recording (40 s)"),
    (20.0, 60.0, "shift", "tau_max", "the recording must last over 80 s"),
    (0.3, 1.5, "shift", "null", "this one lasts 1.5 s; use the analytic null"),
])
def test_delays_that_do_not_fit_the_recording_are_named(tau_max, duration, null, source, phrase):
    with pytest.raises(InputError) as caught:
        check_delays(tau_max, 0.01, duration, null)
    assert caught.value.source == source and phrase in caught.value.problem
    check_delays(0.3, 0.01, 1.5, "analytic")  # no shifts: fine


def test_check_fit_settings_names_the_config_key():
    triggers = np.arange(300) * 0.2
    rf = {"lags": None, "window": [0.0, 0.3], "min_lags": 5}
    lasso = {"lags": [0, 1, 2], "window": [0.0, 0.3], "min_lags": 5, "n_folds": 3}
    sta = {"tau_max": 0.5, "tau_step": 0.01, "null_model": "shift"}
    check_fit_settings(triggers, rf=rf, lasso=lasso, sta=sta)
    cases = [
        ({"rf": dict(rf, lags=[0, 295])}, "rf.lags", "lag 295 leaves 5 of the session's 300"),
        ({"rf": dict(rf, window=[0.0, 100.0])}, "rf.window", "is beyond the session's 300"),
        ({"lasso": dict(lasso, n_folds=200)}, "lasso.n_folds", "need at least 400 frames"),
        ({"sta": dict(sta, tau_max=100.0)}, "sta.tau_max", "not shorter than the recording"),
        ({"sta": dict(sta, tau_max=20.0)}, "sta.tau_max", "2 x sta.tau_max"),
        ({"sta": dict(sta, tau_step=1.0)}, "sta.tau_step", "longer than sta.tau_max (0.5 s)"),
    ]
    for change, source, phrase in cases:
        settings = {"rf": rf, "lasso": lasso, "sta": sta, **change}
        with pytest.raises(InputError) as caught:
            check_fit_settings(triggers, **settings)
        assert caught.value.source == source, str(caught.value)
        assert phrase in caught.value.problem, str(caught.value)
    short = np.arange(1, 16) * 0.1  # 1.5 s
    with pytest.raises(InputError, match="sta.null_model: the shift null"):
        check_fit_settings(short, sta=sta)
    check_fit_settings(short, sta=dict(sta, null_model="analytic"))


def test_session_lags_beyond_the_recording_say_so():
    with pytest.raises(InputError, match="rf.window: lag 50 is beyond the session's 40 frames"):
        session_lags(None, (0.0, 10.0), 5, np.full(40, 0.2), "rf.window")


# --- sparse coding: tau, images ----------------------------------------------------------


def _patches(rng, n, n_pixels=16):
    return unit_norm(rng.standard_normal((n, n_pixels)))


@pytest.mark.parametrize("compressed", [False, True])
def test_a_tau_that_leaves_every_code_zero_is_an_error_naming_tau(compressed):
    rng = np.random.default_rng(4)
    train, validation, correlation = _patches(rng, 60), _patches(rng, 20), _patches(rng, 30)
    phi = rng.standard_normal((8, 16)) if compressed else None
    settings = LearningSettings(n_atoms=6, tau=1000.0, n_epochs=2, batch_size=20)
    with pytest.raises(InputError) as caught:
        learn_dictionary(train, settings, compression=phi, validation=validation,
                         correlation=correlation)
    error = caught.value
    assert error.source == "tau"
    assert "1000 is too large for these patches: no training patch has a non-zero code" in \
        error.problem
    scale = float(error.problem.split("its largest value over the patches is ")[1].split(";")[0])
    assert 0.0 < scale <= 1.0  # unit-norm measurements and atoms: |atom . patch| <= 1
    # below that scale the same run learns
    good = LearningSettings(n_atoms=6, tau=0.1 * scale, n_epochs=2, batch_size=20)
    run = learn_dictionary(train, good, compression=phi, validation=validation,
                           correlation=correlation)
    assert run.n_active[-1] > 0


def test_recovering_atoms_without_any_code_names_tau():
    rng = np.random.default_rng(5)
    patches = _patches(rng, 10)
    atoms = unit_norm(rng.standard_normal((4, 16)))
    with pytest.raises(InputError, match="no correlation patch has a non-zero code"):
        recover_atoms(patches, patches, atoms, LearningSettings(n_atoms=4, tau=50.0))


def _image_set(shapes, blank=None):
    rng = np.random.default_rng(6)
    images = [rng.random(shape) for shape in shapes]
    if blank is not None:
        images[blank] = np.full(shapes[blank], 0.5)
    return ImageSet(images=images, names=tuple(f"{i}.png" for i in range(len(shapes))))


@pytest.mark.parametrize("shapes, counts, source, phrase", [
    ([(10, 10), (10, 10)], (200, 5, 5), "n_train",
     "200 training patches asked for, but the training images ('0.png') hold only 9 distinct"),
    ([(24, 24), (40, 40)], (200, 5, 100), "n_correlation",
     "the 200 training patches leave 89"),
    ([(40, 40), (10, 10)], (200, 50, 5), "n_validation",
     "50 validation patches asked for, but the validation images ('1.png') hold only 9"),
])
def test_images_too_small_for_the_patches_asked_for(shapes, counts, source, phrase):
    n_train, n_validation, n_correlation = counts
    with pytest.raises(InputError) as caught:
        make_patch_sets(_image_set(shapes), ["1.png"], 8, n_train, n_validation, n_correlation,
                        seed=0)
    assert caught.value.source == source and phrase in caught.value.problem, str(caught.value)
    # exactly as many positions as asked for is fine: every one used once
    make_patch_sets(_image_set([(10, 10), (10, 10)]), ["1.png"], 8, 4, 9, 5, seed=0)


def test_a_blank_image_is_named():
    with pytest.raises(InputError, match=r"image '0.png': every pixel is 0.5: a blank image"):
        make_patch_sets(_image_set([(20, 20), (20, 20)], blank=0), ["1.png"], 8, 20, 5, 5,
                        seed=0)
