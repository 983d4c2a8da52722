"""Held-out scores: bits per spike and pseudo-R² against scipy / scikit-learn, the
baseline's exact 0, the saturated model's 1, and a true model beating a wrong one.
"""

import math

import numpy as np
import pytest
from scipy.stats import poisson
from sklearn.metrics import d2_tweedie_score, mean_poisson_deviance

from sparsefield.errors import InputError
from sparsefield.rf.scores import (
    BlockScores,
    blocked_scores,
    constant_rate,
    held_out_score,
)
from sparsefield.rf.simulate_nonlinear import quadrature_gabors, simulate_ln_unit


def counts_and_durations(seed: int = 0, n_rows: int = 600
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Poisson counts of a log-normal rate (spikes/s) over jittered durations."""
    rng = np.random.default_rng(seed)
    durations = rng.uniform(0.01, 0.03, n_rows)
    rate = 40.0 * np.exp(rng.normal(0.0, 0.7, n_rows))
    return rng.poisson(rate * durations).astype(np.float64), durations, rate


def test_score_matches_scipy_and_sklearn() -> None:
    """Log-likelihoods are scipy's logpmf sums; deviance and D² are scikit-learn's."""
    counts, durations, rate = counts_and_durations()
    expected = rate * durations
    baseline_rate = 0.9 * counts.sum() / durations.sum()
    score = held_out_score(counts, expected, durations, baseline_rate)
    loglik = poisson.logpmf(counts, expected).sum()
    baseline_loglik = poisson.logpmf(counts, baseline_rate * durations).sum()
    assert score.loglik == pytest.approx(loglik, rel=1e-12)
    assert score.baseline_loglik == pytest.approx(baseline_loglik, rel=1e-12)
    assert score.bits_per_spike == pytest.approx(
        (loglik - baseline_loglik) / (counts.sum() * math.log(2)), rel=1e-10)
    assert score.deviance == pytest.approx(
        mean_poisson_deviance(counts, expected) * counts.size, rel=1e-10)
    # With equal durations and the test rows' own mean as the baseline, pseudo-R² is
    # scikit-learn's D² (Poisson deviance explained).
    equal = np.full(counts.size, 0.02)
    d2 = held_out_score(counts, expected, equal, counts.mean() / 0.02).pseudo_r2
    assert d2 == pytest.approx(d2_tweedie_score(counts, expected, power=1), rel=1e-10)


def test_saturated_model_has_pseudo_r2_one_and_zero_deviance() -> None:
    """Predicting the counts themselves explains all the deviance."""
    counts, durations, _ = counts_and_durations(1)
    score = held_out_score(counts, counts, durations, counts.sum() / durations.sum())
    assert score.pseudo_r2 == 1.0
    assert score.deviance == 0.0
    assert score.bits_per_spike > 0


def test_baseline_scores_exactly_zero() -> None:
    """The training rows' constant rate scores 0 bits/spike and 0 pseudo-R², exactly."""
    counts, durations, _ = counts_and_durations(2)
    for fit_predict in (constant_rate(counts, durations),
                        lambda train, test: counts[train].sum() / durations[train].sum()
                        * durations[test]):
        scores = blocked_scores(fit_predict, counts, durations, n_folds=5)
        assert scores.bits_per_spike == 0.0
        assert scores.pseudo_r2 == 0.0
        np.testing.assert_array_equal(scores.fold_bits_per_spike, 0.0)
        np.testing.assert_array_equal(scores.fold_pseudo_r2, 0.0)


def test_blocks_are_contiguous_and_scores_pool() -> None:
    """Blocks are contiguous, each scored on its own, then pooled by sums."""
    counts, durations, rate = counts_and_durations(3, n_rows=503)
    calls = []

    def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        calls.append((train, test))
        return rate[test] * durations[test]

    scores = blocked_scores(fit_predict, counts, durations, n_folds=4)
    np.testing.assert_array_equal(scores.fold_edges, [0, 126, 252, 378, 503])
    for fold, (train, test) in enumerate(calls):
        start, stop = scores.fold_edges[fold], scores.fold_edges[fold + 1]
        np.testing.assert_array_equal(test, np.arange(start, stop))
        np.testing.assert_array_equal(np.sort(np.r_[train, test]), np.arange(503))
        block = held_out_score(counts[test], rate[test] * durations[test], durations[test],
                               counts[train].sum() / durations[train].sum())
        assert scores.fold_bits_per_spike[fold] == pytest.approx(block.bits_per_spike,
                                                                 rel=1e-12)
    gains = scores.fold_loglik - scores.fold_baseline_loglik
    assert scores.bits_per_spike == pytest.approx(
        gains.sum() / (counts.sum() * math.log(2)), rel=1e-12)
    assert scores.pseudo_r2 == pytest.approx(
        1 - scores.fold_deviance.sum() / scores.fold_baseline_deviance.sum(), rel=1e-12)
    np.testing.assert_allclose(scores.predicted, rate * durations)
    again = BlockScores.from_npz(scores.to_npz_dict())
    assert again.bits_per_spike == scores.bits_per_spike


def test_true_model_beats_a_wrong_one_and_the_baseline() -> None:
    """The simulated truth gains bits over the baseline and over a shifted filter."""
    rf = quadrature_gabors(6, 12, sigma=2.0, wavelength=5.0, latency=2.0, width=1.0)[0]
    unit = simulate_ln_unit(20000, link="exp", rf=rf, scale=1.0, offset=math.log(20.0),
                            seed=4)
    truth = unit.expected_counts()
    wrong = simulate_ln_unit(20000, link="exp", rf=np.roll(rf, 3, axis=1), scale=1.0,
                             offset=math.log(20.0), seed=4).expected_counts()
    true_scores = blocked_scores(lambda train, test: truth[test], unit.counts, unit.durations)
    wrong_scores = blocked_scores(lambda train, test: wrong[test], unit.counts,
                                  unit.durations)
    assert true_scores.bits_per_spike > 0.3
    assert np.all(true_scores.fold_bits_per_spike > 0.2)
    assert true_scores.bits_per_spike > wrong_scores.bits_per_spike + 0.3
    assert 0 < true_scores.pseudo_r2 < 1
    assert wrong_scores.pseudo_r2 < true_scores.pseudo_r2


def test_bad_predictions_and_blocks_are_named() -> None:
    """Wrong predictions name fit_predict; a block holding every spike names n_folds."""
    counts, durations, _ = counts_and_durations(5, n_rows=100)
    with pytest.raises(InputError, match="fit_predict"):
        blocked_scores(lambda train, test: np.ones(test.size + 1), counts, durations)
    with pytest.raises(InputError, match="fit_predict.*>= 0"):
        blocked_scores(lambda train, test: -np.ones(test.size), counts, durations)
    lonely = np.zeros(100)
    lonely[:10] = 1.0
    with pytest.raises(InputError, match="n_folds.*no spike"):
        blocked_scores(constant_rate(lonely, durations), lonely, durations, n_folds=10)
    with pytest.raises(InputError, match="fold_edges"):
        blocked_scores(constant_rate(counts, durations), counts, durations,
                       fold_edges=[0, 50, 40, 100])
    with pytest.raises(InputError, match="baseline_rate"):
        held_out_score(counts, counts, durations, 0.0)
