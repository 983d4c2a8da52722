"""Held-out scores of every estimate of a session's units (issue 12 item 1): the baseline
scores exactly 0, the true model bounds the estimates and, where the frame-count models
hold the truth, the best estimate comes within 10 % of it; chunks of units give the
result of one call; a unit without spikes to train on is left out saying why."""

import numpy as np
import pytest

from sparsefield.errors import InputError
from sparsefield.rf.binning import bin_units
from sparsefield.rf.joint_subframe import subframe_counts
from sparsefield.rf.neuron import NeuronModel
from sparsefield.rf.simulate import contrast_values, expected_frame_counts, simulate_recording
from sparsefield.rf.units import concatenate_units
from sparsefield.rf.units_lasso import fit_lasso_units
from sparsefield.rf.units_ml import fit_ml_units
from sparsefield.rf.units_scores import (
    ESTIMATES,
    score_columns,
    score_units,
    truth_expected,
    unit_choices,
)

LAGS = [0, 1, 2]


def _fits(stimulus, counts, durations):
    """The session's ML and lasso fits and the choices of the per-lag estimates."""
    ml = fit_ml_units(stimulus, counts, durations, LAGS)
    lasso = fit_lasso_units(stimulus, counts, durations, LAGS, n_lambdas=5, n_folds=5)
    return unit_choices(ml, lasso)


@pytest.fixture(scope="module")
def fast_unit():
    """One simulated unit whose response follows each frame within ~10 ms (of 200 ms
    frames): the frame-count Poisson GLMs hold the true model (nearly), so the best
    estimate should reach the true model's held-out score."""
    model = NeuronModel(kind="gaussian", center_row=3.0, center_col=4.0, sigma=1.2,
                        latency=0.004, width=0.001, rebound_ratio=0.0, baseline_rate=8.0,
                        gain=1.0)
    raw, truth = simulate_recording(model, n_frames=3000, frame_shape=(8, 8), seed=5)
    stimulus = raw["stimulus_hwt"].reshape(64, -1).T[:3000].astype(np.float64)
    offsets = [0, raw["spike_times"].size]
    binned = bin_units(raw["spike_times"], offsets, raw["trigger_times"])
    counts = binned.counts.astype(np.float64)
    truth_counts = expected_frame_counts([truth], stimulus, binned.edges)
    return (stimulus, counts, binned.durations, truth_counts,
            subframe_counts(raw["spike_times"], offsets, binned.edges, 4))


def test_expected_frame_counts_is_the_mean_of_the_simulated_counts(fast_unit):
    stimulus, counts, _, truth_counts, _ = fast_unit
    assert truth_counts.shape == counts.shape
    # the total over 3000 frames: Poisson, ~5 SD allowed
    total = truth_counts.sum()
    assert abs(counts.sum() - total) < 5 * np.sqrt(total)
    # a frame's expected count follows its own contrast through the map (latency << frame)
    drive = contrast_values(stimulus, "binary").sum(axis=1)
    assert np.corrcoef(np.log(truth_counts[1:, 0]), drive[1:])[0, 1] > 0.3


def test_best_estimate_within_ten_percent_of_the_true_model(fast_unit):
    stimulus, counts, durations, truth_counts, bins = fast_unit
    scores = score_units(stimulus, counts, durations, _fits(stimulus, counts, durations),
                         max_lag=max(LAGS), truth=truth_counts, unit_ids=[1], bin_counts=bins)
    assert scores.scored.tolist() == [True]
    bits = dict(zip(ESTIMATES, scores.bits_per_spike[0], strict=True))
    truth_bits = float(scores.truth_bits_per_spike[0])
    best = scores.best[0]
    assert best in ("ml", "lasso", "joint", "joint_subframe"), bits
    assert truth_bits > 0.2, truth_bits
    assert bits[best] >= 0.9 * truth_bits, (bits, truth_bits)
    # nothing fitted beats the truth by more than noise (0.02 bits/spike here)
    assert max(bits.values()) <= truth_bits + 0.02, (bits, truth_bits)


def _session(seed=0, n_frames=1500, n_units=3):
    """A small session of independent exponential units (one silent), 5 x 5 pixels."""
    rng = np.random.default_rng(seed)
    stimulus = rng.choice([0.0, 1.0], size=(n_frames, 25))
    durations = np.full(n_frames, 0.1)
    eta = np.zeros((n_frames, n_units))
    for unit in range(n_units - 1):
        weights = np.zeros(25)
        weights[unit * 6] = 1.0
        eta[1:, unit] = (2 * stimulus[:-1] - 1) @ weights
    counts = rng.poisson(durations[:, None] * 20.0 * np.exp(eta)).astype(np.float64)
    counts[:, -1] = 0.0
    counts[n_frames - 5, -1] = 3.0  # every spike in the last block: nothing to train on
    return stimulus, counts, durations


def test_baseline_scores_exactly_zero_and_chunks_give_one_call():
    stimulus, counts, durations = _session()
    ml = fit_ml_units(stimulus, counts, durations, LAGS)
    lasso = fit_lasso_units(stimulus, counts, durations, LAGS, n_lambdas=5, n_folds=3)
    choices = unit_choices(ml, lasso)
    # one sub-bin per frame: the sub-frame GLM on frame counts, its kernel over 3 frames
    options = {"max_lag": 2, "n_folds": 4, "unit_ids": [7, 8, 9], "subframe_span": 0.3}
    bins = counts[:, None, :]
    whole = score_units(stimulus, counts, durations, choices, bin_counts=bins, **options)
    assert whole.scored.tolist() == [True, True, False]
    assert "models.n_folds" in whole.why[2] and "block 3" in whole.why[2]
    baseline = list(whole.estimates).index("baseline")
    assert np.all(whole.bits_per_spike[:2, baseline] == 0.0)
    assert np.all(whole.pseudo_r2[:2, baseline] == 0.0)
    assert np.all(whole.fold_bits_per_spike[:2, baseline] == 0.0)
    assert np.all(np.isnan(whole.bits_per_spike[2]))
    for unit in (0, 1):  # a lag-1 unit: every estimate but the baseline gains
        assert whole.best[unit] != "baseline"
        assert whole.ml_lag[unit] == 1 and whole.lasso_lag[unit] == 1
        assert np.all(whole.bits_per_spike[unit, 1:] > 0.05), whole.bits_per_spike[unit]
    parts = [score_units(stimulus, counts[:, units], durations,
                         {key: value[units] for key, value in choices.items()},
                         bin_counts=bins[:, :, units],
                         **{**options, "unit_ids": np.array([7, 8, 9])[units]})
             for units in (slice(0, 1), slice(1, 3))]
    joined = concatenate_units(parts)
    for name, value in whole.to_npz_dict().items():
        np.testing.assert_array_equal(joined.to_npz_dict()[name], value, err_msg=name)
    columns = score_columns(whole, 0)
    assert columns["best_model"] == whole.best[0]
    assert set(columns) == {f"{kind}_{name}" for kind in ("bits_per_spike", "pseudo_r2")
                            for name in ESTIMATES} | {"best_model"}
    assert score_columns(whole, 2) == {}


def test_ridge_and_raised_cosine_variants_run_and_bad_options_name_the_argument():
    stimulus, counts, durations = _session(n_units=2)
    ml = fit_ml_units(stimulus, counts, durations, LAGS)
    lasso = fit_lasso_units(stimulus, counts, durations, LAGS, n_lambdas=5, n_folds=3)
    choices = unit_choices(ml, lasso)
    ridge = score_units(stimulus, counts[:, :1], durations,
                        {key: value[:1] for key, value in choices.items()}, max_lag=2,
                        joint_fit="ridge", joint_alpha=1e-3, joint_bases=2)
    assert ridge.bits_per_spike[0, list(ESTIMATES).index("joint")] > 0.05
    with pytest.raises(InputError, match="joint_fit"):
        score_units(stimulus, counts, durations, choices, max_lag=2, joint_fit="full")
    with pytest.raises(InputError, match="models.joint.n_bases"):
        score_units(stimulus, counts, durations, choices, max_lag=2, joint_bases=4)
    with pytest.raises(InputError, match="n_folds"):
        score_units(stimulus, counts, durations, choices, max_lag=2, n_folds=1000)


def test_truth_expected_fills_units_without_truth_with_nan(fast_unit):
    stimulus, _, _, truth_counts, _ = fast_unit
    edges = np.arange(stimulus.shape[0] + 1) * 0.2
    archive = {"unit_ids": np.array([3])}
    model = NeuronModel(kind="gaussian", center_row=3.0, center_col=4.0)
    _, truth = simulate_recording(model, n_frames=20, frame_shape=(8, 8))
    archive.update({f"u3_{key}": value for key, value in truth.items()})
    expected = truth_expected(archive, [3, 4], stimulus, edges)
    assert expected.shape == (stimulus.shape[0], 2)
    assert np.all(np.isfinite(expected[:, 0])) and np.all(np.isnan(expected[:, 1]))


def test_a_units_truth_does_not_depend_on_the_other_units_given(fast_unit):
    stimulus, _, _, _, _ = fast_unit
    edges = np.arange(stimulus.shape[0] + 1) * 0.2
    truths = [simulate_recording(NeuronModel(kind="gaussian", center_row=row, center_col=2.0),
                                 n_frames=20, frame_shape=(8, 8))[1] for row in (1.0, 5.0, 6.0)]
    together = expected_frame_counts(truths, stimulus, edges)
    for column, truth in enumerate(truths):  # byte for byte: chunks of units agree
        np.testing.assert_array_equal(expected_frame_counts([truth], stimulus, edges)[:, 0],
                                      together[:, column])
