"""The output nonlinearity: softplus preferred on a softplus unit and exp on an exponential
one (held out), the softplus fit against an independent optimiser and finite
differences, and the bins' exact Poisson intervals.
"""

import math

import numpy as np
import pytest
from scipy.optimize import approx_fprime, minimize
from scipy.stats import poisson

from sparsefield.errors import InputError
from sparsefield.rf.nonlinearity import (
    Nonlinearity,
    SoftplusProblem,
    binned_rates,
    estimate_nonlinearity,
    fit_link,
)
from sparsefield.rf.simulate_nonlinear import NonlinearCell, quadrature_gabors, simulate_ln_unit
from sparsefield.rf.stc import project_windows, window_covariance, window_frames

N_LAGS, N_BARS = 6, 12


def filter_() -> np.ndarray:
    """The units' filter, shape (N_LAGS, N_BARS), unit norm."""
    return quadrature_gabors(N_LAGS, N_BARS, sigma=2.0, wavelength=5.0, latency=2.0,
                             width=1.0)[0]


@pytest.fixture(scope="module")
def softplus_unit() -> NonlinearCell:
    """Rate = softplus(30 g) spikes/s."""
    return simulate_ln_unit(30000, link="softplus", rf=filter_(), scale=30.0, offset=0.0,
                            seed=0)


@pytest.fixture(scope="module")
def exp_unit() -> NonlinearCell:
    """Rate = exp(g + log 20) spikes/s."""
    return simulate_ln_unit(30000, link="exp", rf=filter_(), scale=1.0,
                            offset=math.log(20.0), seed=1)


def test_softplus_unit_prefers_softplus(softplus_unit: NonlinearCell) -> None:
    """Held out, softplus wins on every block, and its fit finds the true link."""
    unit = softplus_unit
    result = estimate_nonlinearity(unit.stimulus, unit.counts, unit.durations, filter_())
    assert result.preferred == "softplus"
    assert result.softplus_bits_per_spike > result.exp_bits_per_spike + 0.1
    assert np.all(result.softplus_fold_bits_per_spike > result.exp_fold_bits_per_spike)
    np.testing.assert_allclose(result.softplus_params, [30.0, 0.0], atol=1.5)
    again = Nonlinearity.from_npz(result.to_npz_dict())
    assert again.preferred == "softplus"


def test_exponential_unit_prefers_exp(exp_unit: NonlinearCell) -> None:
    """Held out, exp wins; the bins' intervals hold the true rates."""
    unit = exp_unit
    result = estimate_nonlinearity(unit.stimulus, unit.counts, unit.durations, filter_())
    assert result.preferred == "exp"
    assert result.exp_bits_per_spike > result.softplus_bits_per_spike + 0.1
    np.testing.assert_allclose(result.exp_params, [1.0, math.log(20.0)], atol=0.05)
    # Each bin's interval holds the true mean rate of its frames (at 95 %: most bins).
    frames = window_frames(unit.counts.size, N_LAGS)
    centred = unit.stimulus - unit.stimulus.mean(axis=0)
    generator = project_windows(centred, filter_()[None], frames)[:, 0]
    index = np.clip(np.searchsorted(result.bin_edges[1:-1], generator, side="right"), 0, 9)
    seconds = np.bincount(index, weights=unit.durations[frames])
    truth = np.bincount(index, weights=(unit.rate * unit.durations)[frames]) / seconds
    inside = (result.rate_low <= truth) & (truth <= result.rate_high)
    assert inside.sum() >= 8
    assert np.all(np.diff(result.rate) > 0)


def test_held_out_filter_from_the_sta_still_prefers_softplus(
        softplus_unit: NonlinearCell) -> None:
    """A filter refitted without each block (the STA) is called once per block."""
    unit = softplus_unit
    calls = []

    def sta(frames: np.ndarray) -> np.ndarray:
        calls.append(frames)
        weights = np.zeros(unit.counts.size)
        weights[frames] = unit.counts[frames]
        return window_covariance(unit.stimulus, weights, N_LAGS)[0]

    result = estimate_nonlinearity(unit.stimulus, unit.counts, unit.durations, sta,
                                   n_lags=N_LAGS, n_folds=4)
    assert len(calls) == 4
    assert all(np.intersect1d(frames, np.arange(N_LAGS - 1)).size == 0 for frames in calls)
    assert result.preferred == "softplus"
    assert result.fold_edges.size == 5


def test_softplus_fit_matches_an_independent_optimiser() -> None:
    """Newton's optimum is Nelder-Mead's; gradient and Hessian match finite differences."""
    rng = np.random.default_rng(5)
    generator = rng.normal(size=3000)
    durations = np.full(3000, 0.02)
    counts = rng.poisson(durations * np.logaddexp(0.0, 25.0 * generator - 5.0)).astype(float)
    params = fit_link("softplus", generator, counts, durations)
    problem = SoftplusProblem(generator, counts, durations)
    reference = minimize(lambda theta: problem.value_grad(theta)[0], x0=[1.0, 1.0],
                         method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-14,
                                                        "maxiter": 20000})
    np.testing.assert_allclose(params, reference.x, rtol=1e-5)
    np.testing.assert_allclose(params, [25.0, -5.0], rtol=0.15)
    theta = np.array([20.0, -3.0])
    gradient = approx_fprime(theta, lambda t: problem.value_grad(t)[0], 1e-6)
    np.testing.assert_allclose(problem.value_grad(theta)[1], gradient, rtol=1e-5)
    hessian = np.stack([approx_fprime(theta, lambda t, i=i: problem.value_grad(t)[1][i], 1e-6)
                        for i in range(2)])
    np.testing.assert_allclose(problem.hessian(theta), hessian, rtol=1e-4)


def test_bins_give_exact_poisson_intervals() -> None:
    """Quantile bins hold equal frames; the intervals are Garwood's."""
    rng = np.random.default_rng(6)
    generator = rng.normal(size=2000)
    durations = rng.uniform(0.01, 0.02, 2000)
    counts = rng.poisson(20 * durations * np.exp(generator)).astype(float)
    bins = binned_rates(generator, counts, durations, 8, 0.9)
    assert np.all(np.abs(bins["n_frames"] - 250) <= 1)
    index = np.clip(np.searchsorted(bins["bin_edges"][1:-1], generator, side="right"), 0, 7)
    for b in range(8):
        spikes, seconds = counts[index == b].sum(), durations[index == b].sum()
        assert bins["rate"][b] == pytest.approx(spikes / seconds)
        # Garwood: the interval's ends are the rates at which k spikes are in the 5 % tails.
        assert poisson.sf(spikes - 1, bins["rate_low"][b] * seconds) == pytest.approx(0.05)
        assert poisson.cdf(spikes, bins["rate_high"][b] * seconds) == pytest.approx(0.05)


def test_bad_filters_are_named(exp_unit: NonlinearCell) -> None:
    """A filter of the wrong shape names rf; a function without n_lags names n_lags."""
    unit = exp_unit
    with pytest.raises(InputError, match="^rf: expected a filter of shape"):
        estimate_nonlinearity(unit.stimulus, unit.counts, unit.durations, np.ones((4, 5)))
    with pytest.raises(InputError, match="^rf: has 6 lags, but n_lags is 3"):
        estimate_nonlinearity(unit.stimulus, unit.counts, unit.durations, filter_(), n_lags=3)
    with pytest.raises(InputError, match="^n_lags"):
        estimate_nonlinearity(unit.stimulus, unit.counts, unit.durations, lambda frames: None)
