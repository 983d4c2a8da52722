"""Simulated sessions: centre-surround maps, stimulus geometries and contrasts, many units
under one stimulus, and the default population."""

import numpy as np
import pytest

from sparsefield.errors import InputError
from sparsefield.rf.neuron import NeuronModel
from sparsefield.rf.simulate import CONTRASTS, simulate_recording
from sparsefield.rf.simulate_session import session_models, simulate_session

# The default session: 4000 frames of 0.2 s (jittered), as the workflow's default data.
SESSION = {"n_frames": 4000, "frame_shape": (20, 15), "mean_frame_duration": 0.2,
           "sd_frame_duration": 0.024, "n_extra_frames": 11}
DURATION = SESSION["n_frames"] * SESSION["mean_frame_duration"]


def expected_spikes(model, duration):
    """Spikes expected from the log-normal rate: baseline * exp(gain^2 / 2) * duration."""
    return model.baseline_rate * np.exp(model.gain**2 / 2.0) * duration


@pytest.fixture(scope="module")
def default_session():
    models = session_models()
    raw, truth = simulate_session(models, seed=0, **SESSION)
    return models, raw, truth


# --- centre-surround maps and geometries -------------------------------------------

def test_center_surround_map_known_answers():
    cs = NeuronModel(kind="center_surround", center_row=10.0, center_col=7.0, sigma=1.5,
                     surround_ratio=2.5, surround_weight=0.7)
    spatial = cs.spatial_map((21, 15)).reshape(21, 15)
    assert np.linalg.norm(spatial) == pytest.approx(1.0)
    assert np.unravel_index(np.argmax(spatial), spatial.shape) == (10, 7)
    assert spatial[10, 7] > 0
    # The surround: negative on a ring 4-6 pixels out (centre term ~ 0 there).
    rows, cols = np.indices(spatial.shape)
    distance = np.hypot(rows - 10, cols - 7)
    ring = (distance >= 4) & (distance <= 6)
    assert np.all(spatial[ring] < 0)
    # Closed forms: no surround is the Gaussian kind; OFF flips the sign.
    plain = NeuronModel(kind="gaussian", center_row=10.0, center_col=7.0, sigma=1.5)
    np.testing.assert_allclose(
        NeuronModel(**dict(cs.to_dict(), surround_weight=0.0)).spatial_map((21, 15)),
        plain.spatial_map((21, 15)))
    off = NeuronModel(**dict(cs.to_dict(), polarity="off"))
    np.testing.assert_allclose(off.spatial_map((21, 15)), -spatial.ravel())
    # surround_weight is the ratio of integrals: on a frame large enough to hold the
    # surround, sum / centre pixel = 2 pi sigma^2 (1 - w) / (1 - w / k^2) (a sampled
    # Gaussian sums to 2 pi sigma^2), so a balanced field (w = 1) sums to 0.
    for weight in (0.0, 0.3, 0.7, 1.0):
        model = NeuronModel(**dict(cs.to_dict(), center_row=30.0, center_col=30.0,
                                   surround_weight=weight))
        spatial = model.spatial_map((61, 61))
        closed_form = 2 * np.pi * 1.5**2 * (1.0 - weight) / (1.0 - weight / 2.5**2)
        assert spatial.sum() / spatial[30 * 61 + 30] == pytest.approx(closed_form, abs=1e-9)


@pytest.mark.parametrize("parameters", [
    {"kind": "gaussian", "sigma": 2.0},
    {"kind": "gabor", "sigma": 2.5, "orientation": 30.0, "wavelength": 7.0, "phase": 20.0},
    {"kind": "center_surround", "sigma": 1.5, "surround_ratio": 3.0, "surround_weight": 0.8},
])
def test_bars_see_the_field_integrated_over_rows(parameters):
    """(1, W) bars span the screen height: the map is the 2-D field summed over rows, and
    the model's centre row does not matter."""
    model = NeuronModel(center_row=12.0, center_col=14.0, **parameters)
    bars = model.spatial_map((1, 30))
    tall = NeuronModel(**dict(model.to_dict(), center_row=60.0)).spatial_map((121, 30))
    integrated = tall.reshape(121, 30).sum(axis=0)
    np.testing.assert_allclose(bars, integrated / np.linalg.norm(integrated), atol=1e-9)
    assert np.linalg.norm(bars) == pytest.approx(1.0)


def test_full_field_map_is_one():
    assert NeuronModel().spatial_map((1, 1)).tolist() == [1.0]
    assert NeuronModel(polarity="off").spatial_map((1, 1)).tolist() == [-1.0]
    weak_surround = NeuronModel(kind="center_surround", surround_weight=0.5)
    assert weak_surround.spatial_map((1, 1)).tolist() == [1.0]
    # A balanced surround or an odd Gabor does not see a full field at all.
    with pytest.raises(InputError, match="zero"):
        NeuronModel(kind="center_surround", surround_weight=1.0).spatial_map((1, 1))
    with pytest.raises(InputError, match="zero"):
        NeuronModel(kind="gabor", phase=90.0).spatial_map((1, 1))


def test_new_fields_have_defaults_and_checks():
    model = NeuronModel.from_dict({"kind": "center_surround", "surround_ratio": 3,
                                   "surround_weight": 1})
    assert model.surround_ratio == 3.0 and NeuronModel.from_dict(model.to_dict()) == model
    with pytest.raises(InputError, match=r"x\.surround_ratio: must be a finite number > 1"):
        NeuronModel.from_dict({"surround_ratio": 1.0}, source="x")
    with pytest.raises(InputError, match=r"x\.surround_weight"):
        NeuronModel.from_dict({"surround_weight": -0.1}, source="x")
    with pytest.raises(InputError, match="center_surround"):
        NeuronModel.from_dict({"kind": "dog"})
    # Only centre-surround truth carries the surround parameters.
    _, gauss = simulate_recording({}, n_frames=20, seed=0)
    _, cs = simulate_recording({"kind": "center_surround"}, n_frames=20, seed=0)
    assert "model_surround_ratio" not in gauss
    assert cs["model_surround_ratio"] == 2.5 and str(cs["model_kind"]) == "center_surround"


# --- simulate_session --------------------------------------------------------------

@pytest.mark.parametrize("contrast", sorted(CONTRASTS))
@pytest.mark.parametrize("frame_shape", [(1, 1), (1, 8), (6, 5)])
def test_session_layout(contrast, frame_shape):
    models = {907: NeuronModel(kind="center_surround", center_row=2.0, center_col=3.0),
              12: {"kind": "gaussian", "center_row": 3.0, "center_col": 1.0, "polarity": "off"}}
    raw, truth = simulate_session(models, n_frames=300, frame_shape=frame_shape,
                                  mean_frame_duration=0.05, n_extra_frames=4,
                                  contrast=contrast, seed=1)
    np.testing.assert_array_equal(raw["unit_ids"], [12, 907])
    assert raw["unit_ids"].dtype == np.int64
    stimulus = raw["stimulus"]
    assert stimulus.shape == (304, *frame_shape) and stimulus.dtype == CONTRASTS[contrast]
    values = np.unique(stimulus)
    if contrast == "binary":
        assert set(values.tolist()) <= {0, 1}
    elif contrast == "pm1":
        assert set(values.tolist()) <= {-1, 1}
    else:
        assert abs(stimulus.mean()) < 0.1 and stimulus.std() == pytest.approx(1.0, abs=0.1)
    trigger_times = raw["trigger_times"]
    np.testing.assert_allclose(np.diff(trigger_times), 0.05)  # no jitter by default
    stop = trigger_times[-1] + 0.05
    assert len(raw["spike_times"]) == 2
    for spike_times in raw["spike_times"]:
        assert spike_times.dtype == np.float64 and spike_times.size > 0
        assert np.all(np.diff(spike_times) >= 0) and 0 <= spike_times[0]
        assert spike_times[-1] < stop
    assert sorted(truth) == [12, 907]
    _, recording_truth = simulate_recording({}, n_frames=20, seed=0)
    for unit_id, unit_truth in truth.items():
        assert set(recording_truth) <= set(unit_truth)
        assert int(unit_truth["unit_id"]) == unit_id and str(unit_truth["contrast"]) == contrast
        assert unit_truth["spatial"].shape == (frame_shape[0] * frame_shape[1],)
        assert unit_truth["dt"] == pytest.approx(0.001)  # min(0.001, D / 10)
        np.testing.assert_array_equal(unit_truth["frame_shape"], frame_shape)


def test_session_is_deterministic_and_units_are_independent():
    models = session_models(n_units=8, seed=4)
    settings = {"n_frames": 200, "frame_shape": (20, 15), "mean_frame_duration": 0.1,
                "sd_frame_duration": 0.01, "n_extra_frames": 3}
    first, _ = simulate_session(models, seed=7, **settings)
    again, _ = simulate_session(dict(reversed(list(models.items()))), seed=7, **settings)
    other, _ = simulate_session(models, seed=8, **settings)
    for key in ("unit_ids", "trigger_times", "stimulus"):
        np.testing.assert_array_equal(first[key], again[key])
    for trains in zip(first["spike_times"], again["spike_times"]):
        np.testing.assert_array_equal(*trains)
    assert not np.array_equal(first["stimulus"], other["stimulus"])
    # "pm1" is the same draw as "binary" stored as +-1: same contrast, same spikes.
    pm1, _ = simulate_session(models, seed=7, contrast="pm1", **settings)
    np.testing.assert_array_equal(pm1["stimulus"], 2 * first["stimulus"].astype(np.int8) - 1)
    for trains in zip(first["spike_times"], pm1["spike_times"]):
        np.testing.assert_array_equal(*trains)
    # One unit alone gets the same stimulus and the same spikes as in the session.
    unit_id = int(first["unit_ids"][3])
    alone, _ = simulate_session({unit_id: models[unit_id]}, seed=7, **settings)
    np.testing.assert_array_equal(alone["stimulus"], first["stimulus"])
    np.testing.assert_array_equal(alone["spike_times"][0], first["spike_times"][3])


def test_each_unit_is_the_per_unit_lnp_simulation():
    """Reference: each unit simulated on its own (numpy only, direct convolution) from the
    session's stimulus and triggers, with the documented per-unit generator, gives the
    same spike train as the batched session (one matrix product for all units)."""
    models = {301: NeuronModel(kind="center_surround", center_row=3.0, center_col=4.0,
                               polarity="off", baseline_rate=20.0),
              5: NeuronModel(kind="gabor", center_row=4.0, center_col=2.0, orientation=45.0,
                             latency=0.2, rebound_latency=0.4)}
    seed, dt, duration, n_frames = 11, 0.002, 0.05, 400
    for contrast in sorted(CONTRASTS):
        raw, _ = simulate_session(models, n_frames=n_frames, frame_shape=(7, 6),
                                  mean_frame_duration=duration, n_extra_frames=2,
                                  contrast=contrast, dt=dt, seed=seed)
        stimulus = raw["stimulus"][:n_frames].reshape(n_frames, -1).astype(np.float64)
        contrast_values = 2.0 * stimulus - 1.0 if contrast == "binary" else stimulus
        trigger_times = raw["trigger_times"]
        stop = trigger_times[-1] + duration  # no jitter: every frame lasts `duration`
        n_bins = int(np.ceil(stop / dt))
        centres = (np.arange(n_bins) + 0.5) * dt
        frame = np.searchsorted(trigger_times, centres, side="right") - 1
        for index, unit_id in enumerate(raw["unit_ids"].tolist()):
            model = models[unit_id]
            projection = contrast_values @ model.spatial_map((7, 6))
            held = np.where(centres < stop, projection[np.minimum(frame, n_frames - 1)], 0.0)
            _, kernel = model.temporal_kernel(dt, duration)
            drive = np.convolve(held, kernel * dt)[:n_bins]
            rate = model.baseline_rate * np.exp(model.gain * drive)
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1, unit_id)))
            bins = np.repeat(np.arange(n_bins), rng.poisson(rate * dt))
            expected = np.sort((bins + rng.random(bins.size)) * dt)
            expected = expected[expected < stop]
            assert expected.size > 100
            np.testing.assert_array_equal(raw["spike_times"][index], expected)


def test_mean_rates_match_the_model():
    """Long runs: each unit's mean rate is baseline * exp(gain^2 / 2) within a few %."""
    base = {"latency": 0.09, "width": 0.03, "rebound_latency": 0.2, "rebound_width": 0.06,
            "rebound_ratio": 0.3}
    models = {
        10 + 7 * index: NeuronModel(kind=kind, center_row=row, center_col=col, gain=gain,
                                    baseline_rate=rate, **base)
        for index, (kind, row, col, gain, rate) in enumerate([
            ("gaussian", 12.0, 4.0, 1.0, 10.0), ("gaussian", 5.0, 10.0, 0.5, 20.0),
            ("center_surround", 9.0, 7.0, 1.0, 8.0), ("center_surround", 15.0, 3.0, 0.7, 12.0),
            ("gabor", 8.0, 8.0, 1.0, 10.0), ("gabor", 10.0, 6.0, 0.5, 15.0),
        ])
    }
    for contrast in ("binary", "gaussian"):
        raw, truth = simulate_session(models, seed=2, contrast=contrast, **SESSION)
        stop = raw["trigger_times"][-1] + SESSION["mean_frame_duration"]
        ratios = []
        for unit_id, spike_times in zip(raw["unit_ids"].tolist(), raw["spike_times"]):
            model = models[unit_id]
            expected = model.baseline_rate * np.exp(model.gain**2 / 2.0)
            assert float(truth[unit_id]["mean_rate"]) == pytest.approx(
                spike_times.size / stop, rel=0.01)
            ratios.append(truth[unit_id]["mean_rate"] / expected)
        # Seeds 0-5: units within 8 %, their mean within 2.3 % (the drive's variance
        # varies within a frame, which biases the mean rate up by about 1 %).
        assert np.all(np.abs(np.array(ratios) - 1.0) < 0.1), (contrast, ratios)
        assert abs(np.mean(ratios) - 1.0) < 0.04, (contrast, ratios)


def _sta(spike_times, trigger_times, contrast_values, taus):
    """Spike-triggered average of the frame on screen tau before each spike (0 before the
    first trigger), with the frames' own mean removed."""
    values = contrast_values - contrast_values.mean(axis=0)
    sta = np.zeros((taus.size, values.shape[1]))
    for row, tau in enumerate(taus):
        frame = np.searchsorted(trigger_times, spike_times - tau, side="right") - 1
        seen = frame >= 0
        sta[row] = values[frame[seen]].sum(axis=0) / spike_times.size
    return sta


def test_full_field_unit_at_120_hz():
    """A full-field flicker at 120 Hz: the STA follows the truth's sta_temporal, and the
    truth's lags cover the whole kernel (36 frames for 0.3 s)."""
    duration = 1.0 / 120.0
    model = NeuronModel(latency=0.06, width=0.02, rebound_latency=0.15, rebound_width=0.04,
                        rebound_ratio=0.4, baseline_rate=40.0, gain=0.8)
    raw, truth = simulate_session({7: model}, n_frames=18000, frame_shape=(1, 1),
                                  mean_frame_duration=duration, contrast="pm1", seed=3)
    unit = truth[7]
    assert unit["dt"] == pytest.approx(duration / 10)
    np.testing.assert_array_equal(unit["spatial"], [1.0])
    assert unit["lags"].size * duration >= unit["fine_taus"][-1]
    # The STA grid divides the frame: at whole frames it equals the per-lag weights.
    step = unit["sta_taus"][1]
    assert step <= 0.01 and duration / step == pytest.approx(round(duration / step))
    per_frame = round(duration / step)
    lags = unit["lags"][unit["lags"] * per_frame < unit["sta_taus"].size]
    np.testing.assert_allclose(unit["sta_temporal"][lags * per_frame],
                               unit["temporal_lags"][lags], atol=1e-12)
    taus = unit["sta_taus"][unit["sta_taus"] <= 0.4]
    sta = _sta(raw["spike_times"][0], raw["trigger_times"],
               raw["stimulus"][:18000].reshape(18000, 1).astype(np.float64), taus)[:, 0]
    assert np.corrcoef(sta, unit["sta_temporal"][:taus.size])[0, 1] >= 0.9


def test_bar_unit_at_60_hz():
    """Bars at 60 Hz with Gaussian contrast: the STA at the peak delay shows the truth's
    1-D map, and the peak delay is the truth's."""
    duration = 1.0 / 60.0
    model = NeuronModel(kind="center_surround", center_col=9.0, sigma=1.5,
                        surround_ratio=2.5, surround_weight=0.8, baseline_rate=30.0,
                        latency=0.08, width=0.025)
    raw, truth = simulate_session({42: model}, n_frames=9000, frame_shape=(1, 20),
                                  mean_frame_duration=duration, contrast="gaussian", seed=5)
    unit = truth[42]
    assert raw["stimulus"].shape == (9000, 1, 20) and raw["stimulus"].dtype == np.float32
    taus = unit["sta_taus"][unit["sta_taus"] <= 0.4]
    sta = _sta(raw["spike_times"][0], raw["trigger_times"],
               raw["stimulus"][:9000].reshape(9000, 20).astype(np.float64), taus)
    peak = np.argmax(np.abs(unit["sta_temporal"][:taus.size]))
    assert abs(np.argmax(np.linalg.norm(sta, axis=1)) - peak) <= 1
    assert np.corrcoef(sta[peak], unit["spatial"])[0, 1] >= 0.9
    temporal = sta @ unit["spatial"]
    assert np.corrcoef(temporal, unit["sta_temporal"][:taus.size])[0, 1] >= 0.9


def test_session_bad_input_names_the_unit():
    settings = {"n_frames": 10, "frame_shape": (5, 5), "mean_frame_duration": 0.1}
    with pytest.raises(InputError, match=r"models\[3\]: centre"):
        simulate_session({3: {"center_row": 9.0, "center_col": 1.0}}, **settings)
    with pytest.raises(InputError, match=r"models\[4\]\.sigma"):
        simulate_session({4: {"sigma": -1.0}}, **settings)
    with pytest.raises(InputError, match="unit ids"):
        simulate_session({-1: {}}, **settings)
    with pytest.raises(InputError, match="non-empty"):
        simulate_session({}, **settings)
    with pytest.raises(InputError, match="contrast"):
        simulate_session({1: {"center_row": 2.0, "center_col": 2.0}}, contrast="ternary",
                         **settings)
    with pytest.raises(InputError, match="dt"):
        simulate_session({1: {"center_row": 2.0, "center_col": 2.0}}, dt=0.05, **settings)
    # On a full field or bars, the centre along an axis of size 1 is ignored.
    simulate_session({1: {}}, n_frames=10, frame_shape=(1, 1), mean_frame_duration=0.1)


# --- the default population ---------------------------------------------------------

def test_session_models_population(default_session):
    models, raw, truth = default_session
    assert len(models) >= 30
    unit_ids = np.array(list(models))
    assert np.all(np.diff(unit_ids) > 0) and not np.array_equal(unit_ids,
                                                                np.arange(unit_ids.size))
    kinds = [(model.kind, model.polarity) for model in models.values()]
    assert kinds.count(("center_surround", "on")) >= 10
    assert kinds.count(("center_surround", "off")) >= 10
    assert kinds.count(("gabor", "on")) == len(models) // 4
    assert len({round(model.orientation) for model in models.values()
                if model.kind == "gabor"}) == len(models) // 4
    rows = np.array([model.center_row for model in models.values()])
    cols = np.array([model.center_col for model in models.values()])
    assert np.all((rows >= 1) & (rows <= 20 - 2) & (cols >= 1) & (cols <= 15 - 2))
    # The two mosaics each tile the frame: no two ON (or OFF) centres on top of each other.
    for polarity in ("on", "off"):
        centres = np.array([(model.center_row, model.center_col)
                            for model in models.values()
                            if model.kind == "center_surround" and model.polarity == polarity])
        distance = np.hypot(*(centres[:, None] - centres[None]).transpose(2, 0, 1))
        np.fill_diagonal(distance, np.inf)
        assert distance.min() > 1.5
        assert np.ptp(centres[:, 0]) > 12 and np.ptp(centres[:, 1]) > 8
    latencies = np.array([model.latency for model in models.values()])
    assert latencies.min() == pytest.approx(0.05) and latencies.max() == pytest.approx(0.3)
    expected = np.array([expected_spikes(model, DURATION) for model in models.values()])
    assert np.sum(expected < 50) >= 3
    assert np.all(expected[expected >= 50] >= 1000)
    # Same seed, same models; another seed, another population.
    assert session_models() == models
    assert session_models(seed=1) != models


def test_default_session_spikes_and_lags(default_session):
    models, raw, truth = default_session
    counts = np.array([spike_times.size for spike_times in raw["spike_times"]])
    expected = np.array([expected_spikes(models[unit_id], DURATION)
                         for unit_id in raw["unit_ids"].tolist()])
    assert np.sum(counts < 50) >= 3 and np.all(counts[expected < 50] < 50)
    assert np.all(counts[expected >= 50] >= 1000)
    ratios = counts[expected >= 50] / expected[expected >= 50]
    assert abs(ratios.mean() - 1.0) < 0.03 and np.all(np.abs(ratios - 1.0) < 0.15)
    peak_lags = [int(np.argmax(np.abs(unit["temporal_lags"]))) for unit in truth.values()]
    assert peak_lags.count(0) >= 5 and peak_lags.count(1) >= 5
    assert raw["stimulus"].shape == (4011, 20, 15) and raw["stimulus"].dtype == np.uint8
