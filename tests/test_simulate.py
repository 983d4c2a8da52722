"""Simulated recordings: layout, rates, truth, and recovery of the planted RF."""

import numpy as np
import pytest
import yaml

from conftest import PROJECT
from sparsefield.errors import InputError
from sparsefield.rf.binning import bin_spikes, frame_edges
from sparsefield.rf.lasso_lags import fit_lasso_lags
from sparsefield.rf.lags import session_lags
from sparsefield.rf.metrics import correlation, recovery_metrics, separation_metrics
from sparsefield.rf.ml import MLFit, fit_ml
from sparsefield.rf.neuron import NeuronModel
from sparsefield.rf.separation import separate
from sparsefield.rf.simulate import simulate_recording
from sparsefield.rf.sta import spike_triggered_average

# The default config: the simulation settings and the two model neurons.
CONFIG = yaml.safe_load((PROJECT / "config/config.yaml").read_text())
SIMULATION = CONFIG["simulation"]
NEURONS = SIMULATION["neurons"]
# Model parameters of each neuron, without the config's seed.
MODELS = {name: {key: value for key, value in neuron.items() if key != "seed"}
          for name, neuron in NEURONS.items()}

# The default simulation length: the shortest that keeps both default neurons
# above 0.9 in the acceptance check with margin (20 seeds: min 0.93).
N_FRAMES = 4000


def as_stimulus(raw):
    """First n_triggers frames of the h x w x t stimulus, flattened in C order."""
    n_frames = raw["trigger_times"].size
    height, width, _ = raw["stimulus_hwt"].shape
    return raw["stimulus_hwt"][:, :, :n_frames].transpose(2, 0, 1).reshape(
        n_frames, height * width).astype(np.float64)


@pytest.fixture(scope="module")
def simulations():
    return {name: simulate_recording(model, n_frames=N_FRAMES, seed=0)
            for name, model in MODELS.items()}


def test_from_dict_names_unknown_and_bad_keys():
    with pytest.raises(ValueError, match=r"config\.models\.x: unknown keys \['latncy'\]"):
        NeuronModel.from_dict({"latncy": 0.1}, source="config.models.x")
    with pytest.raises(InputError, match=r"config\.models\.x\.sigma: must be a finite number > 0"):
        NeuronModel.from_dict({"sigma": 0}, source="config.models.x")
    with pytest.raises(InputError, match="kind"):
        NeuronModel.from_dict({"kind": "dog"})
    assert sorted(MODELS) == ["sim_gabor", "sim_gauss"]
    for name, parameters in MODELS.items():
        model = NeuronModel.from_dict(parameters, source=name)
        assert NeuronModel.from_dict(model.to_dict()) == model


def test_raw_layout_like_the_real_file(simulations):
    raw, truth = simulations["sim_gauss"]
    assert raw["stimulus_hwt"].dtype == np.uint8
    assert raw["stimulus_hwt"].shape == (20, 15, N_FRAMES + 11)
    assert set(np.unique(raw["stimulus_hwt"])) == {0, 1}
    trigger_times = raw["trigger_times"]
    assert trigger_times.shape == (N_FRAMES,) and trigger_times[0] == 0.0
    durations = np.diff(trigger_times)
    assert durations.mean() == pytest.approx(0.2, abs=0.002)
    assert durations.std() == pytest.approx(0.024, abs=0.002)
    assert durations.min() >= 0.2 - 3 * 0.024 - 1e-12
    spike_times = raw["spike_times"]
    assert np.all(np.diff(spike_times) >= 0) and spike_times[0] >= 0
    assert spike_times[-1] < trigger_times[-1] + 0.2 + 3 * 0.024
    # Mean rate near baseline * exp(gain^2 / 2), realistic like the real ~17 Hz.
    model = MODELS["sim_gauss"]
    expected = model["baseline_rate"] * np.exp(model["gain"] ** 2 / 2)
    assert truth["mean_rate"] == pytest.approx(expected, rel=0.1)
    assert 10 < truth["mean_rate"] < 25


def test_deterministic_under_seed():
    first, _ = simulate_recording(MODELS["sim_gabor"], n_frames=200, seed=3)
    again, _ = simulate_recording(MODELS["sim_gabor"], n_frames=200, seed=3)
    other, _ = simulate_recording(MODELS["sim_gabor"], n_frames=200, seed=4)
    for key in first:
        np.testing.assert_array_equal(first[key], again[key])
    assert not np.array_equal(first["spike_times"], other["spike_times"])


def test_zero_gain_is_a_homogeneous_poisson_process():
    model = dict(MODELS["sim_gauss"], gain=0.0, baseline_rate=15.0)
    raw, _ = simulate_recording(model, n_frames=1000, seed=5)
    duration = raw["trigger_times"][-1]
    expected = 15.0 * duration
    assert abs(raw["spike_times"].size - expected) < 4 * np.sqrt(expected)
    # Uniform within the dt bins: no pile-up at bin edges.
    phase = np.mod(raw["spike_times"], 0.001) / 0.001
    assert abs(phase.mean() - 0.5) < 0.02


def test_truth_conventions(tmp_path):
    on = dict(MODELS["sim_gauss"])
    off = dict(on, polarity="off")
    _, truth_on = simulate_recording(on, n_frames=100, seed=0)
    _, truth_off = simulate_recording(off, n_frames=100, seed=0)
    spatial = truth_on["spatial"]
    assert np.linalg.norm(spatial) == pytest.approx(1.0)
    assert np.argmax(spatial) == 12 * 15 + 4  # C order: row * width + col
    assert spatial[np.argmax(np.abs(spatial))] > 0
    # OFF: same sign-fixed map, the polarity moves into the temporal parts.
    np.testing.assert_allclose(truth_off["spatial"], spatial)
    np.testing.assert_allclose(truth_off["temporal_lags"], -truth_on["temporal_lags"])
    # The STA profile at whole frames equals the per-lag weights (same triangle).
    step = round(0.2 / 0.01)
    lags = truth_on["lags"]
    np.testing.assert_allclose(truth_on["sta_temporal"][lags * step],
                               truth_on["temporal_lags"], atol=1e-12)
    # Plain arrays: the truth saves and loads without pickling.
    np.savez(tmp_path / "truth.npz", **truth_on)
    with np.load(tmp_path / "truth.npz", allow_pickle=False) as npz:
        assert str(npz["model_kind"]) == "gaussian"
        np.testing.assert_array_equal(npz["spatial"], spatial)
    # Latencies: the Gaussian peaks within the first frame, the Gabor later.
    assert np.argmax(truth_on["temporal_lags"]) == 0
    _, truth_gabor = simulate_recording(MODELS["sim_gabor"], n_frames=100, seed=0)
    assert np.argmax(truth_gabor["temporal_lags"]) == 1
    peak = truth_on["fine_taus"][np.argmax(truth_on["temporal_fine"])]
    assert peak == pytest.approx(MODELS["sim_gauss"]["latency"], abs=0.002)


def test_sta_recovers_the_planted_field(simulations):
    """Always runs: the STA of each default neuron matches the truth."""
    for name, (raw, truth) in simulations.items():
        stimulus = as_stimulus(raw)
        edges = frame_edges(raw["trigger_times"])
        sta = spike_triggered_average(raw["spike_times"], edges, stimulus, tau_max=0.6,
                                      n_shifts=10)
        separation = separate(sta.sta - sta.null_mean, centering="none")
        assert correlation(separation.spatial, truth["spatial"]) > 0.85, name
        truth_sta = np.interp(sta.taus, truth["sta_taus"], truth["sta_temporal"])
        assert correlation(separation.temporal, truth_sta) > 0.98, name


def test_ml_recovers_the_planted_field(simulations):
    """Per-lag ML fits and their rank-1 separation recover both planted fields (seed 0)."""
    lags = np.arange(5)
    for name, (raw, truth) in simulations.items():
        stimulus = as_stimulus(raw)
        binned = bin_spikes(raw["spike_times"], raw["trigger_times"])
        fit = fit_ml(stimulus, binned.counts, binned.durations, lags=tuple(lags))
        separation = separate(fit.weights, centering="none")
        # The STA arguments get the truth itself: only the ML metrics are checked here.
        metrics = recovery_metrics(truth, fit, separation.temporal,
                                   truth["spatial"], truth["sta_temporal"],
                                   truth["sta_taus"])
        assert metrics["best_lag"] == int(np.argmax(np.abs(truth["temporal_lags"][:5]))), name
        assert metrics["spatial_corr_best_lag"] >= 0.9, (name, metrics)
        assert metrics["temporal_corr_svd"] >= 0.9, (name, metrics)


def test_default_config_recovers_both_neurons():
    """The acceptance check on the default config: its simulation settings, both
    neurons with their config seeds, its ML and lasso settings and separation centring."""
    lasso_settings = CONFIG["lasso"]
    frame_shape = (SIMULATION["frame_height"], SIMULATION["frame_width"])
    for name, neuron in NEURONS.items():
        raw, truth = simulate_recording(
            NeuronModel.from_dict(MODELS[name], source=name),
            n_frames=SIMULATION["n_frames"],
            frame_shape=frame_shape,
            mean_frame_duration=SIMULATION["mean_frame_duration"],
            sd_frame_duration=SIMULATION["sd_frame_duration"],
            n_extra_frames=SIMULATION["n_extra_frames"],
            dt=SIMULATION["dt"],
            seed=neuron["seed"],
        )
        binned = bin_spikes(raw["spike_times"], raw["trigger_times"])
        rf_lags = session_lags(CONFIG["rf"]["lags"], CONFIG["rf"]["window"],
                               CONFIG["rf"]["min_lags"], binned.durations, "config rf")
        assert rf_lags.tolist() == [0, 1, 2, 3, 4]  # 0-300 ms at 0.2 s frames: five lags
        fit = fit_ml(as_stimulus(raw), binned.counts, binned.durations, lags=tuple(rf_lags))
        separation = separate(fit.weights, centering=CONFIG["rf"]["separation_centering"])
        # The STA arguments get the truth itself: only the ML metrics are checked here.
        metrics = recovery_metrics(truth, fit, separation.temporal, truth["spatial"],
                                   truth["sta_temporal"], truth["sta_taus"])
        assert metrics["spatial_corr_best_lag"] >= 0.9, (name, metrics)
        assert metrics["temporal_corr_svd"] >= 0.9, (name, metrics)

        lasso = fit_lasso_lags(
            as_stimulus(raw), binned.counts, binned.durations,
            session_lags(lasso_settings["lags"], lasso_settings["window"],
                         lasso_settings["min_lags"], binned.durations, "config lasso"),
            n_lambdas=lasso_settings["n_lambdas"],
            lambda_min_ratio=lasso_settings["lambda_min_ratio"],
            n_folds=lasso_settings["n_folds"], rule=lasso_settings["rule"],
            tol=lasso_settings["tol"],
        )
        lasso_separation = separate(lasso.chosen_weights,
                                    centering=lasso_settings["separation_centering"])
        lasso_metrics = separation_metrics(truth, lasso.lags, lasso_separation)
        assert lasso_metrics["spatial_corr"] >= 0.9, (name, lasso_metrics)
        assert lasso_metrics["temporal_corr"] >= 0.9, (name, lasso_metrics)


def _fit_with_weights(weights, lags):
    """An MLFit holding given weights (the other fields are placeholders)."""
    n_lags, n_pixels = weights.shape
    return MLFit(lags=np.asarray(lags), weights=weights, intercepts=np.zeros(n_lags),
                 nll=np.zeros(n_lags), n_iter=np.ones(n_lags, dtype=np.int64),
                 converged=np.ones(n_lags, dtype=bool), stimulus_mean=np.zeros(n_pixels))


def test_recovery_metrics_known_answers():
    _, truth = simulate_recording(MODELS["sim_gabor"], n_frames=100, seed=0)
    lags = np.arange(4)
    weights = np.outer(truth["temporal_lags"][:4], truth["spatial"])
    metrics = recovery_metrics(truth, _fit_with_weights(weights, lags),
                               truth["temporal_lags"][:4], -truth["spatial"],
                               truth["sta_temporal"][:40], truth["sta_taus"][:40])
    assert metrics["best_lag"] == 1
    assert metrics["spatial_corr_best_lag"] == pytest.approx(1.0)
    assert metrics["temporal_corr_svd"] == pytest.approx(1.0)
    assert metrics["sta_spatial_corr"] == pytest.approx(-1.0)  # signed
    assert metrics["sta_temporal_corr"] == pytest.approx(1.0)
    with pytest.raises(InputError, match="lags"):
        recovery_metrics(truth, _fit_with_weights(np.zeros((2, 300)), [0, 99]), np.zeros(2),
                         truth["spatial"], truth["sta_temporal"], truth["sta_taus"])
    assert np.isnan(correlation(np.ones(5), np.arange(5)))
    assert correlation([1, 2, 3], [2, 4, 7]) == pytest.approx(np.corrcoef([1, 2, 3],
                                                                         [2, 4, 7])[0, 1])


def test_separation_metrics_known_answers():
    _, truth = simulate_recording(MODELS["sim_gabor"], n_frames=100, seed=0)
    lags = np.array([0, 1, 2, 3])
    exact = separate(np.outer(truth["temporal_lags"][lags], truth["spatial"]))
    metrics = separation_metrics(truth, lags, exact)
    assert metrics["spatial_corr"] == pytest.approx(1.0)
    assert metrics["temporal_corr"] == pytest.approx(1.0)
    shuffled = separate(np.outer(truth["temporal_lags"][lags][::-1], truth["spatial"]))
    assert separation_metrics(truth, lags, shuffled)["temporal_corr"] < 0.5
    with pytest.raises(InputError, match="not in the truth"):
        separation_metrics(truth, np.array([0, 999]), exact)


# Recorded from simulate_recording before centre-surround units, contrast kinds and
# simulate_session were added: the default config's neurons (config seeds) must give
# the same bytes.  sha256 of each raw array's bytes (first 16 hex digits); truth values
# to 1e-12 (they pass through exp and log, whose last bit may vary with the CPU).
PINNED = {
    "sim_gauss": {
        "sha256": {"spike_times": "0521936fb60e0d74", "trigger_times": "1b44eb2b2d37cbc3",
                   "stimulus_hwt": "3e0523aa46aa7ff8"},
        "n_spikes": 13244, "mean_rate": 16.51688906797734,
        "temporal_lags": [0.611206690739852, 0.04814020460368755, -0.12926823962107012],
        "sta_temporal_10": 0.8281440820548654, "spatial_max": 0.37612745401707687,
        "sizes": {"lags": 6, "sta_taus": 101, "fine_taus": 801},
    },
    "sim_gabor": {
        "sha256": {"spike_times": "90d4a8692cbb1597", "trigger_times": "ae61d4b9584c5048",
                   "stimulus_hwt": "90171a0382536968"},
        "n_spikes": 13037, "mean_rate": 16.309627693396642,
        "temporal_lags": [0.0012278503574545715, 0.6604871305009017, 0.11874480987554029],
        "sta_temporal_10": 0.1683420637616593, "spatial_max": 0.31813664397749053,
        "sizes": {"lags": 9, "sta_taus": 151, "fine_taus": 1301},
    },
}
PINNED_TRUTH_KEYS = {
    "dt", "fine_taus", "frame_shape", "lags", "mean_frame_duration", "mean_rate", "n_frames",
    "seed", "spatial", "sta_taus", "sta_temporal", "temporal_fine", "temporal_lags",
    *(f"model_{name}" for name in (
        "baseline_rate", "center_col", "center_row", "gain", "kind", "latency", "orientation",
        "phase", "polarity", "rebound_latency", "rebound_ratio", "rebound_width", "sigma",
        "wavelength", "width")),
}


def test_default_config_output_is_pinned():
    import hashlib

    for name, neuron in NEURONS.items():
        raw, truth = simulate_recording(
            MODELS[name], n_frames=SIMULATION["n_frames"],
            frame_shape=(SIMULATION["frame_height"], SIMULATION["frame_width"]),
            mean_frame_duration=SIMULATION["mean_frame_duration"],
            sd_frame_duration=SIMULATION["sd_frame_duration"],
            n_extra_frames=SIMULATION["n_extra_frames"], dt=SIMULATION["dt"],
            seed=neuron["seed"])
        pinned = PINNED[name]
        digests = {key: hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()[:16]
                   for key, value in raw.items()}
        assert digests == pinned["sha256"], name
        assert raw["spike_times"].size == pinned["n_spikes"]
        assert set(truth) == PINNED_TRUTH_KEYS
        assert float(truth["mean_rate"]) == pytest.approx(pinned["mean_rate"], rel=1e-12)
        np.testing.assert_allclose(truth["temporal_lags"][:3], pinned["temporal_lags"],
                                   rtol=1e-12, atol=1e-15)
        assert truth["sta_temporal"][10] == pytest.approx(pinned["sta_temporal_10"], rel=1e-12)
        assert truth["spatial"].max() == pytest.approx(pinned["spatial_max"], rel=1e-12)
        assert {key: truth[key].size for key in pinned["sizes"]} == pinned["sizes"]
