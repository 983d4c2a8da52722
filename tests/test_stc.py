"""Spike-triggered covariance: the covariance kernel against a dense numpy reference, the
simulated complex cell's quadrature pair recovered (and its STA not), a linear cell's
STA projected out, the energy model scored, and bad windows refused by name.
"""

import math

import numpy as np
import pytest
from scipy.linalg import subspace_angles

from sparsefield.errors import InputError
from sparsefield.rf.nonlinearity import energy_model_scores
from sparsefield.rf.simulate_nonlinear import (
    NonlinearCell,
    quadrature_gabors,
    simulate_complex_cell,
    simulate_ln_unit,
)
from sparsefield.rf.stc import (
    STC,
    moments,
    prior_moments,
    spike_triggered_covariance,
    window_covariance,
    window_data,
    window_frames,
)

N_LAGS, N_BARS = 6, 12


def pair() -> np.ndarray:
    """The true quadrature pair, shape (2, N_LAGS, N_BARS)."""
    return quadrature_gabors(N_LAGS, N_BARS, sigma=2.0, wavelength=5.0, latency=2.0, width=1.0)


@pytest.fixture(scope="module")
def complex_cell() -> NonlinearCell:
    """An energy-model complex cell on Gaussian bars, about 22 000 spikes."""
    return simulate_complex_cell(60000, filters=pair(), contrast="gaussian", seed=0)


@pytest.fixture(scope="module")
def complex_stc(complex_cell: NonlinearCell) -> STC:
    """Its spike-triggered covariance."""
    return spike_triggered_covariance(complex_cell.stimulus, complex_cell.counts, N_LAGS,
                                      n_shifts=20, seed=1)


def dense_windows(stimulus: np.ndarray, n_lags: int, frames: np.ndarray) -> np.ndarray:
    """The lagged design, materialised: row r is frames[r], frames[r] - 1, ... flattened."""
    return np.stack([stimulus[frame - np.arange(n_lags)].ravel() for frame in frames])


def test_window_frames_never_cross_a_trial_start() -> None:
    """The first n_lags - 1 frames of every trial have no whole window."""
    frames = window_frames(30, 3, trial_starts=np.array([0, 10, 25]))
    expected = [frame for frame in range(30) if frame not in (0, 1, 10, 11, 25, 26)]
    np.testing.assert_array_equal(frames, expected)


@pytest.mark.parametrize("trial_starts", [None, np.array([0, 700, 1500])])
def test_covariance_kernel_matches_numpy_on_the_materialised_ensemble(
        trial_starts: np.ndarray | None) -> None:
    """The blocked kernel gives np.cov of the lagged design weighted by the counts."""
    rng = np.random.default_rng(0)
    n_frames, n_pixels, n_lags = 2000, 5, 4
    stimulus = rng.normal(0.3, 1.0, (n_frames, n_pixels))
    counts = rng.poisson(0.8, n_frames).astype(np.float64)  # > 512 spiking frames: blocks
    mean, covariance = window_covariance(stimulus, counts, n_lags, trial_starts=trial_starts)
    frames = window_frames(n_frames, n_lags, trial_starts)
    windows = dense_windows(stimulus - stimulus.mean(axis=0), n_lags, frames)
    weights = counts[frames].astype(np.int64)
    np.testing.assert_allclose(covariance, np.cov(windows, rowvar=False, fweights=weights,
                                                  bias=True), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mean.ravel(), np.average(windows, axis=0, weights=weights),
                               rtol=1e-10, atol=1e-12)
    # The same from the spike-triggered ensemble itself (one row per spike).
    ensemble = np.repeat(windows, weights, axis=0)
    np.testing.assert_allclose(covariance, np.cov(ensemble, rowvar=False, bias=True),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("n_lags", "trial_starts"), [(4, None), (4, np.array([0, 300, 305, 700])),
                                                    (1, np.array([0, 300]))])
def test_prior_covariance_from_the_lag_structure_matches_the_kernel(
        n_lags: int, trial_starts: np.ndarray | None) -> None:
    """C_prior from one product per lag equals the kernel's sum over every window."""
    rng = np.random.default_rng(1)
    stimulus = rng.normal(0.2, 1.0, (1000, 6))
    data = window_data(stimulus, np.ones(1000), n_lags, trial_starts)
    mean, covariance = prior_moments(data)
    _, kernel_mean, kernel_covariance = moments(data, data.counts)
    np.testing.assert_allclose(mean, kernel_mean, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(covariance, kernel_covariance, rtol=1e-10, atol=1e-13)


def test_complex_cell_quadrature_pair_is_recovered(complex_stc: STC) -> None:
    """Two excitatory axes within 15 degrees of the true pair; the STA is noise."""
    result = complex_stc
    assert result.excitatory.shape == (2, N_LAGS, N_BARS)
    assert result.excitatory_eigenvalues.min() > result.null_band[1]
    recovered = result.excitatory.reshape(2, -1).T
    angles = np.degrees(subspace_angles(recovered, pair().reshape(2, -1).T))
    assert angles.max() < 15.0
    # The STA is not distinguishable from noise: it is not projected out, and its squared
    # norm is tiny next to the excitatory variance it misses.
    assert result.sta_norm < result.sta_null_band[1]
    assert not result.sta_projected
    assert result.sta_norm**2 < 0.02 * result.excitatory_eigenvalues.min()
    assert result.eigenvalues.size == N_LAGS * N_BARS
    np.testing.assert_allclose(np.linalg.norm(recovered, axis=0), 1.0)
    assert result.round_bands.shape[0] >= 2  # the nested test ran again after the pair
    again = STC.from_npz(result.to_npz_dict())
    np.testing.assert_array_equal(again.excitatory, result.excitatory)


def test_linear_cell_has_a_significant_sta_and_no_axis() -> None:
    """An exponential LN unit: its STA is the filter and is projected out; no STC axis."""
    rf = pair()[0]
    unit = simulate_ln_unit(30000, link="exp", rf=rf, scale=1.0, offset=math.log(20.0),
                            contrast="gaussian", seed=2)
    result = spike_triggered_covariance(unit.stimulus, unit.counts, N_LAGS, n_shifts=20)
    assert result.sta_norm > 5 * result.sta_null_band[1]
    assert result.sta_projected
    assert result.eigenvalues.size == N_LAGS * N_BARS - 1
    cosine = abs(np.sum(result.sta * rf)) / result.sta_norm
    assert cosine > 0.98
    assert result.excitatory.shape[0] == 0


def test_energy_model_predicts_the_complex_cell_and_the_sta_does_not(
        complex_cell: NonlinearCell, complex_stc: STC) -> None:
    """Held out, the energy model gains bits per spike; the LN model on the STA none."""
    cell = complex_cell
    model, energy = energy_model_scores(
        cell.stimulus, cell.counts, cell.durations, N_LAGS,
        n_excitatory=len(complex_stc.excitatory), n_suppressive=len(complex_stc.suppressive),
        project_sta=complex_stc.sta_projected, n_folds=3)
    _, sta_only = energy_model_scores(cell.stimulus, cell.counts, cell.durations, N_LAGS,
                                      n_excitatory=0, n_folds=3)
    assert energy.bits_per_spike > 0.25
    assert np.all(energy.fold_bits_per_spike > 0.2)
    assert abs(sta_only.bits_per_spike) < 0.02
    assert np.all(model.quadratic_weights > 0)
    angles = np.degrees(subspace_angles(model.filters.reshape(2, -1).T, pair().reshape(2, -1).T))
    assert angles.max() < 15.0


def test_more_dimensions_than_spikes_is_refused_naming_n_lags() -> None:
    """A window with more dimensions than spikes, or no room for the null: n_lags."""
    rng = np.random.default_rng(3)
    stimulus = rng.normal(size=(3000, 24))
    counts = np.zeros(3000)
    counts[rng.choice(np.arange(15, 3000), 200, replace=False)] = 1.0  # all see a window
    with pytest.raises(InputError, match=r"^n_lags: the window of 16 lags x 24 pixels has 384 "
                                         r"dimensions, and only 200 spikes") as error:
        spike_triggered_covariance(stimulus, counts, 16)
    assert error.value.source == "n_lags"
    with pytest.raises(InputError, match="n_lags.*shift null"):
        spike_triggered_covariance(stimulus[:60, :1], np.ones(60), 16)
