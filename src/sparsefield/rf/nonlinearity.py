r"""The output nonlinearity of a linear estimate, on held-out frames; the energy model.

For a linear estimate (a filter of shape ``(lags, pixels)``: an STA, a per-lag fit
stacked over lags, a joint GLM's filter), the **generator signal** of count frame
``t`` is the filter's projection of the window of frames ``t, t - 1, ...`` of the
stimulus centred by its mean per pixel (:func:`sparsefield.rf.stc.project_windows`;
only frames whose window lies in their own trial).  :func:`estimate_nonlinearity`

* splits those frames into ``n_folds`` contiguous blocks; for each block the filter is
  the one given, or refitted without the block (a callable), and the generator of the
  block's frames is that fold's **held-out** generator;
* bins the held-out generators by quantiles and gives each bin's observed rate
  (spikes / seconds) with an exact Poisson confidence interval (Garwood 1936: the
  chi-square interval of the bin's total count, divided by its total duration; it
  treats counts given the generator as Poisson, so over-dispersed spiking makes it too
  narrow);
* fits two links of the generator ``g`` with a scale and an offset on the training
  frames of each block, the exponential ``rate = exp(a g + b)`` (the Poisson GLM of
  :func:`sparsefield.rf.estimators_glm.fit_ridge`) and the softplus
  ``rate = log(1 + exp(a g + b))`` (damped Newton on the same likelihood, which is
  convex in ``(a, b)``), and scores each on the block
  (:func:`sparsefield.rf.scores.blocked_scores`): the link with more held-out bits per
  spike is preferred.

:func:`energy_model_scores` fits and scores the quadratic (energy) model on the axes of
the spike-triggered covariance (:mod:`sparsefield.rf.stc`).
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit
from scipy.stats import chi2

from sparsefield._checks import as_float, as_float_array, as_int
from sparsefield._npz import NpzMixin
from sparsefield.errors import InputError
from sparsefield.rf.estimators_glm import damped_newton, fit_ridge
from sparsefield.rf.lasso_cv import contiguous_folds
from sparsefield.rf.scores import BlockScores, blocked_scores
from sparsefield.rf.stc import (
    WindowData,
    check_dims,
    complement,
    moments,
    prior_moments,
    project_windows,
    window_data,
)

#: The links :func:`estimate_nonlinearity` compares.
LINKS = ("exp", "softplus")

#: A filter given as a function of the frames it may be fitted on.
FilterFit = Callable[[NDArray[np.int64]], ArrayLike]


@dataclass(frozen=True)
class Nonlinearity(NpzMixin):
    """Binned held-out generator vs rate, and the two links compared (module docstring).

    Attributes
    ----------
    bin_edges : ndarray of shape (n_bins + 1,)
        Quantiles of the held-out generator.
    generator : ndarray of shape (n_bins,)
        Mean held-out generator of each bin (NaN for an empty bin).
    rate : ndarray of shape (n_bins,)
        Observed rate of each bin in spikes/s: its spikes over its seconds.
    rate_low, rate_high : ndarray of shape (n_bins,)
        Exact Poisson (Garwood) confidence interval of ``rate``.
    n_frames : ndarray of shape (n_bins,), int64
    n_spikes : ndarray of shape (n_bins,)
    confidence : float
        Level of the interval, e.g. 0.95.
    exp_params, softplus_params : ndarray of shape (2,)
        ``[a, b]`` of each link fitted on all held-out generators (the curves drawn
        through the bins).
    exp_bits_per_spike, softplus_bits_per_spike : float
        Held-out bits per spike of each link, pooled over blocks.
    exp_pseudo_r2, softplus_pseudo_r2 : float
        Held-out pseudo-R² of each link, pooled over blocks.
    fold_edges : ndarray of shape (n_folds + 1,), int64
        Blocks over the frames with a whole window.
    exp_fold_bits_per_spike, softplus_fold_bits_per_spike : ndarray of shape (n_folds,)
    preferred : str
        The link with more held-out bits per spike.
    """

    bin_edges: np.ndarray
    generator: np.ndarray
    rate: np.ndarray
    rate_low: np.ndarray
    rate_high: np.ndarray
    n_frames: np.ndarray
    n_spikes: np.ndarray
    confidence: float
    exp_params: np.ndarray
    softplus_params: np.ndarray
    exp_bits_per_spike: float
    softplus_bits_per_spike: float
    exp_pseudo_r2: float
    softplus_pseudo_r2: float
    fold_edges: np.ndarray
    exp_fold_bits_per_spike: np.ndarray
    softplus_fold_bits_per_spike: np.ndarray
    preferred: str


def link_rate(link: str, eta: NDArray[np.float64]) -> NDArray[np.float64]:
    """``exp(eta)`` or ``softplus(eta) = log(1 + exp(eta))``, elementwise.

    Parameters
    ----------
    link : {"exp", "softplus"}
    eta : ndarray
        ``a g + b``.

    Returns
    -------
    ndarray
        The rate, same shape as ``eta``.
    """
    return np.exp(eta) if link == "exp" else np.logaddexp(0.0, eta)


class SoftplusProblem:
    """Mean Poisson NLL of ``rate = softplus(a g + b)`` and its derivatives in ``(a, b)``.

    Parameters
    ----------
    generator, counts, durations : ndarray of shape (n_rows,)
        Checked; durations > 0.
    """

    def __init__(self, generator: NDArray[np.float64], counts: NDArray[np.float64],
                 durations: NDArray[np.float64]) -> None:
        self.design = np.column_stack([generator, np.ones_like(generator)])
        self.counts = counts
        self.durations = durations

    def _terms(self, theta: NDArray[np.float64]
               ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Per row: softplus(eta), sigmoid(eta), sigmoid / softplus (eta floored at -500)."""
        eta = np.maximum(self.design @ theta, -500.0)
        softplus = np.logaddexp(0.0, eta)
        sigmoid = expit(eta)
        return softplus, sigmoid, sigmoid / softplus

    def value_grad(self, theta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        """Mean NLL (without the constant) and its gradient, shape (2,)."""
        softplus, sigmoid, ratio = self._terms(theta)
        value = np.mean(self.durations * softplus - self.counts * np.log(softplus))
        slope = self.durations * sigmoid - self.counts * ratio
        return float(value), self.design.T @ slope / self.counts.size

    def hessian(self, theta: NDArray[np.float64]) -> NDArray[np.float64]:
        """Hessian of the mean NLL, shape (2, 2); positive semi-definite (convex)."""
        _, sigmoid, ratio = self._terms(theta)
        curvature = (self.durations * sigmoid * (1.0 - sigmoid)
                     - self.counts * (ratio * (1.0 - sigmoid) - ratio**2))
        return np.asarray((self.design * curvature[:, None]).T @ self.design / self.counts.size)


def fit_link(link: str, generator: NDArray[np.float64], counts: NDArray[np.float64],
             durations: NDArray[np.float64]) -> NDArray[np.float64]:
    """Maximum-likelihood ``[a, b]`` of ``rate = link(a g + b)``, Poisson counts.

    Parameters
    ----------
    link : {"exp", "softplus"}
    generator, counts, durations : ndarray of shape (n_rows,)
        Checked (at least one spike, durations > 0).

    Returns
    -------
    params : ndarray of shape (2,)
        ``[a, b]``.

    Raises
    ------
    FitError
        The fit did not converge.
    """
    if link == "exp":
        weights, intercept, _ = fit_ridge(generator[:, None], counts, durations, 0.0)
        return np.array([weights[0], intercept])
    problem = SoftplusProblem(generator, counts, durations)
    mean_rate = counts.sum() / durations.sum()
    start = np.array([0.0, mean_rate + np.log(-np.expm1(-mean_rate))])  # softplus^-1
    params, _ = damped_newton(problem.value_grad, problem.hessian, start, 1e-9, 200,
                              "softplus link fit")
    return np.asarray(params, dtype=np.float64)


def binned_rates(generator: NDArray[np.float64], counts: NDArray[np.float64],
                 durations: NDArray[np.float64], n_bins: int, confidence: float
                 ) -> dict[str, NDArray[np.float64]]:
    """Quantile bins of the generator, each bin's rate and its Poisson interval.

    Parameters
    ----------
    generator, counts, durations : ndarray of shape (n_rows,)
    n_bins : int
    confidence : float
        In (0, 1).

    Returns
    -------
    dict
        ``bin_edges`` (n_bins + 1,), and ``generator``, ``rate``, ``rate_low``,
        ``rate_high``, ``n_frames``, ``n_spikes`` (n_bins,), as in :class:`Nonlinearity`.
    """
    edges = np.quantile(generator, np.linspace(0.0, 1.0, n_bins + 1))
    index = np.clip(np.searchsorted(edges[1:-1], generator, side="right"), 0, n_bins - 1)
    n_frames = np.bincount(index, minlength=n_bins)
    spikes = np.bincount(index, weights=counts, minlength=n_bins)
    seconds = np.bincount(index, weights=durations, minlength=n_bins)
    total = np.bincount(index, weights=generator, minlength=n_bins)
    tail = (1.0 - confidence) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(spikes > 0, chi2.ppf(tail, 2 * spikes) / 2, 0.0) / seconds
        high = chi2.ppf(1.0 - tail, 2 * spikes + 2) / 2 / seconds
        return {"bin_edges": edges, "generator": total / n_frames, "rate": spikes / seconds,
                "rate_low": low, "rate_high": high, "n_frames": n_frames.astype(np.int64),
                "n_spikes": spikes}


def _check_filter(rf: ArrayLike, n_pixels: int, name: str) -> NDArray[np.float64]:
    """A finite (n_lags, n_pixels) filter."""
    rf = as_float_array(rf, name, 2)
    if rf.shape[1] != n_pixels or rf.shape[0] < 1:
        raise InputError(name, f"expected a filter of shape (n_lags, {n_pixels}), got "
                         f"{rf.shape}")
    return rf


def held_out_generators(data: WindowData, rf: ArrayLike | FilterFit,
                        fold_edges: NDArray[np.int64]) -> NDArray[np.float64]:
    """Per block, the generator of every row under that block's filter.

    Parameters
    ----------
    data : WindowData
        Its ``n_lags`` is the filter's.
    rf : ndarray of shape (n_lags, n_pixels), or callable
        A fixed filter, or ``rf(train_frames) -> filter`` refitted without each block.
    fold_edges : ndarray of shape (n_folds + 1,), int64

    Returns
    -------
    generators : ndarray of shape (n_folds, n_rows)
        Rows are ``data.frames``.
    """
    n_folds = fold_edges.size - 1
    n_pixels = data.centred.shape[1]
    if not callable(rf):
        rf = _check_filter(rf, n_pixels, "rf")
        if rf.shape[0] != data.n_lags:
            raise InputError("rf", f"has {rf.shape[0]} lags, but n_lags is {data.n_lags}")
        fixed = project_windows(data.centred, rf[None], data.frames)[:, 0]
        return np.tile(fixed, (n_folds, 1))
    generators = np.empty((n_folds, data.frames.size))
    for fold in range(n_folds):
        keep = np.r_[0:fold_edges[fold], fold_edges[fold + 1]:data.frames.size]
        fitted = _check_filter(rf(data.frames[keep]), n_pixels, "rf")
        if fitted.shape[0] != data.n_lags:
            raise InputError("rf", f"returned {fitted.shape[0]} lags, the first call "
                             f"{data.n_lags}")
        generators[fold] = project_windows(data.centred, fitted[None], data.frames)[:, 0]
    return generators


def estimate_nonlinearity(stimulus: ArrayLike, counts: ArrayLike, durations: ArrayLike,
                          rf: ArrayLike | FilterFit, *, n_lags: int | None = None,
                          n_bins: int = 10, confidence: float = 0.95, n_folds: int = 5,
                          trial_starts: ArrayLike | None = None) -> Nonlinearity:
    """Generator vs rate on held-out frames, and exp vs softplus by held-out score.

    Parameters
    ----------
    stimulus : ndarray of shape (n_frames, n_pixels)
    counts : ndarray of shape (n_frames,)
        Spikes per frame, >= 0.
    durations : ndarray of shape (n_frames,)
        Frame durations in seconds, > 0.
    rf : ndarray of shape (n_lags, n_pixels), or callable
        The linear estimate (lag 0 first), or a function ``rf(frames)`` that fits it on
        the count frames ``frames`` (int64, increasing) and returns it: then it is
        refitted without each block and the generator is held out from the filter too.
    n_lags : int, optional
        Lags of a callable's filter (a fixed filter's own number of lags otherwise).
    n_bins : int, default 10
        Quantile bins, ``>= 2``.
    confidence : float, default 0.95
        Level of the bins' intervals.
    n_folds : int, default 5
        Contiguous blocks (:func:`sparsefield.rf.lasso_cv.contiguous_folds`).
    trial_starts : array_like of int of shape (n_trials,), optional

    Returns
    -------
    Nonlinearity

    Raises
    ------
    InputError
        On bad input or options.
    FitError
        A link fit did not converge.
    """
    stimulus = as_float_array(stimulus, "stimulus", 2, allow_empty=False)
    if n_lags is None:
        if callable(rf):
            raise InputError("n_lags", "is needed when rf is a function")
        n_lags = _check_filter(rf, stimulus.shape[1], "rf").shape[0]
    data = window_data(stimulus, counts, n_lags, trial_starts)
    durations = as_float_array(durations, "durations", 1, length=data.counts.size)
    if np.any(durations <= 0):
        raise InputError("durations", "must be positive (seconds)")
    n_bins = as_int(n_bins, "n_bins", 2)
    confidence = as_float(confidence, "confidence", minimum=0.0, strict=True, maximum=0.999999)
    row_counts, row_durations = data.counts[data.frames], durations[data.frames]
    fold_edges = contiguous_folds(data.frames.size, n_folds)
    generators = held_out_generators(data, rf, fold_edges)
    fold_of_row = np.repeat(np.arange(fold_edges.size - 1), np.diff(fold_edges))
    held_out = generators[fold_of_row, np.arange(data.frames.size)]

    def scores_of(link: str) -> BlockScores:
        def fit_predict(train: NDArray[np.intp], test: NDArray[np.intp]) -> NDArray[np.float64]:
            generator = generators[fold_of_row[test[0]]]
            params = fit_link(link, generator[train], row_counts[train], row_durations[train])
            return row_durations[test] * link_rate(link, params[0] * generator[test] + params[1])

        return blocked_scores(fit_predict, row_counts, row_durations, fold_edges=fold_edges)

    scores = {link: scores_of(link) for link in LINKS}
    bins = binned_rates(held_out, row_counts, row_durations, n_bins, confidence)
    return Nonlinearity(
        **bins, confidence=confidence,
        exp_params=fit_link("exp", held_out, row_counts, row_durations),
        softplus_params=fit_link("softplus", held_out, row_counts, row_durations),
        exp_bits_per_spike=scores["exp"].bits_per_spike,
        softplus_bits_per_spike=scores["softplus"].bits_per_spike,
        exp_pseudo_r2=scores["exp"].pseudo_r2, softplus_pseudo_r2=scores["softplus"].pseudo_r2,
        fold_edges=fold_edges, exp_fold_bits_per_spike=scores["exp"].fold_bits_per_spike,
        softplus_fold_bits_per_spike=scores["softplus"].fold_bits_per_spike,
        preferred=max(LINKS, key=lambda link: scores[link].bits_per_spike),
    )


# ----------------------------------------------------------------------------
# The quadratic (energy) model on the axes of the spike-triggered covariance


@dataclass(frozen=True)
class EnergyModel(NpzMixin):
    r"""A Poisson GLM on the STA projection and the squared projections on STC filters.

    .. math::

        \mu_t = d_t \exp\bigl(b + a\, (u \cdot w_t) + \textstyle\sum_k q_k
            (f_k \cdot w_t)^2\bigr)

    with ``w_t`` the centred window of frame ``t``, ``u`` the unit STA, ``f_k`` the
    filters and ``d_t`` the frame duration.

    Attributes
    ----------
    sta_direction : ndarray of shape (n_lags, n_pixels)
        ``u``, unit norm (zeros when the linear term is left out).
    filters : ndarray of shape (n_filters, n_lags, n_pixels)
        ``f_k``, orthonormal: excitatory, then suppressive.
    linear_weight : float
        ``a``.
    quadratic_weights : ndarray of shape (n_filters,)
        ``q_k``.
    intercept : float
        ``b`` (the stimulus centred by its mean per pixel).
    """

    sta_direction: np.ndarray
    filters: np.ndarray
    linear_weight: float
    quadratic_weights: np.ndarray
    intercept: float

    def features(self, centred: NDArray[np.float64],
                 frames: NDArray[np.int64]) -> NDArray[np.float64]:
        """The GLM's design ``[u . w_t, (f_1 . w_t)^2, ...]``, shape (n_rows, 1 + n_filters).

        Parameters
        ----------
        centred : ndarray of shape (n_frames, n_pixels)
        frames : ndarray of shape (n_rows,), int64
            Frames with a whole window.

        Returns
        -------
        ndarray of shape (n_rows, 1 + n_filters)
        """
        projections = project_windows(
            centred, np.concatenate([self.sta_direction[None], self.filters]), frames)
        projections[:, 1:] **= 2
        return projections

    def expected_counts(self, data: WindowData, durations: NDArray[np.float64],
                        frames: NDArray[np.int64]) -> NDArray[np.float64]:
        """The model's expected counts at some frames.

        Parameters
        ----------
        data : WindowData
        durations : ndarray of shape (n_frames,)
        frames : ndarray of shape (n_rows,), int64
            Frames with a whole window.

        Returns
        -------
        ndarray of shape (n_rows,)
        """
        coefficients = np.r_[self.linear_weight, self.quadratic_weights]
        eta = self.intercept + self.features(data.centred, frames) @ coefficients
        return np.asarray(durations[frames] * np.exp(eta), dtype=np.float64)


def fit_energy(data: WindowData, durations: NDArray[np.float64], rows: NDArray[np.int64],
               prior: tuple[NDArray[np.float64], NDArray[np.float64]], n_excitatory: int,
               n_suppressive: int, linear: bool, project_sta: bool) -> EnergyModel:
    """Fit an :class:`EnergyModel` on some of the frames with a whole window.

    The filters are the ``n_excitatory`` largest and ``n_suppressive`` smallest
    eigenvectors of ``C_spike - C_prior`` (with the spikes of the rows ``rows`` only;
    orthogonal to the STA when ``project_sta``), as
    :func:`sparsefield.rf.stc.spike_triggered_covariance` finds them; the weights are
    the maximum-likelihood Poisson GLM (:func:`sparsefield.rf.estimators_glm.fit_ridge`).

    Parameters
    ----------
    data : WindowData
    durations : ndarray of shape (n_frames,)
    rows : ndarray of shape (n_fit,), int64
        Positions in ``data.frames`` to fit on.
    prior : tuple of ndarray
        Mean (n_dims,) and covariance (n_dims, n_dims) of the windows of all used frames.
    n_excitatory, n_suppressive : int
    linear : bool
        Include the STA projection.
    project_sta : bool
        Take the filters orthogonal to the STA.

    Returns
    -------
    EnergyModel
    """
    weights = np.zeros_like(data.counts)
    frames = data.frames[rows]
    weights[frames] = data.counts[frames]
    _, mean, covariance = moments(data, weights)
    sta = mean - prior[0]
    norm = float(np.linalg.norm(sta))
    direction = sta / norm if norm > 0 else sta
    axes = direction[None] if project_sta and norm > 0 else np.empty((0, data.n_dims))
    basis = complement(axes, data.n_dims)
    _, vectors = scipy.linalg.eigh(basis.T @ (covariance - prior[1]) @ basis)
    chosen = np.r_[vectors.shape[1] - 1 - np.arange(n_excitatory), np.arange(n_suppressive)]
    shape = (-1, data.n_lags, data.centred.shape[1])
    filters = (basis @ vectors[:, chosen.astype(np.intp)]).T.reshape(shape)
    unit = direction.reshape(shape[1:]) if linear else np.zeros(shape[1:])
    model = EnergyModel(sta_direction=unit, filters=filters, linear_weight=0.0,
                        quadratic_weights=np.zeros(chosen.size), intercept=0.0)
    features = model.features(data.centred, frames)[:, (0 if linear else 1):]
    coefficients, intercept, _ = fit_ridge(features, data.counts[frames], durations[frames],
                                           0.0)
    if not linear:
        coefficients = np.r_[0.0, coefficients]
    return EnergyModel(sta_direction=unit, filters=filters,
                       linear_weight=float(coefficients[0]),
                       quadratic_weights=np.asarray(coefficients[1:]), intercept=intercept)


def energy_model_scores(stimulus: ArrayLike, counts: ArrayLike, durations: ArrayLike,
                        n_lags: int, *, n_excitatory: int, n_suppressive: int = 0,
                        linear: bool = True, project_sta: bool = False,
                        trial_starts: ArrayLike | None = None,
                        n_folds: int = 5) -> tuple[EnergyModel, BlockScores]:
    """Fit the energy model on all frames and score it on held-out blocks.

    Each of ``n_folds`` contiguous blocks of the frames with a whole window is held
    out in turn; the STA, the filters and the GLM weights are refitted on the other
    blocks (:func:`fit_energy`) and the block is predicted
    (:func:`sparsefield.rf.scores.blocked_scores`).  For the axes an STC analysis
    found, pass ``n_excitatory=len(stc.excitatory)``,
    ``n_suppressive=len(stc.suppressive)`` and ``project_sta=stc.sta_projected``.  With
    no quadratic filter and ``linear=True`` this is the LN model on the STA
    (exponential output), the reference to compare with.

    Parameters
    ----------
    stimulus : ndarray of shape (n_frames, n_pixels)
    counts : ndarray of shape (n_frames,)
        Spikes per frame, >= 0.
    durations : ndarray of shape (n_frames,)
        Frame durations in seconds, > 0.
    n_lags : int
    n_excitatory, n_suppressive : int
        Quadratic filters of each kind, ``>= 0``.
    linear : bool, default True
        Include the STA projection as a linear term.
    project_sta : bool, default False
        Take the filters orthogonal to the STA.
    trial_starts : array_like of int of shape (n_trials,), optional
    n_folds : int, default 5

    Returns
    -------
    model : EnergyModel
        Fitted on all frames with a whole window.
    scores : BlockScores
        Over the rows ``window_frames(n_frames, n_lags, trial_starts)``.

    Raises
    ------
    InputError
        On bad input (naming ``n_lags`` when there are fewer spikes than dimensions).
    FitError
        A GLM fit did not converge.
    """
    data = window_data(stimulus, counts, n_lags, trial_starts)
    durations = as_float_array(durations, "durations", 1, length=data.counts.size)
    if np.any(durations <= 0):
        raise InputError("durations", "must be positive (seconds)")
    n_excitatory = as_int(n_excitatory, "n_excitatory", 0)
    n_suppressive = as_int(n_suppressive, "n_suppressive", 0)
    if n_excitatory + n_suppressive + int(linear) == 0:
        raise InputError("n_excitatory", "the model has no term: ask for a filter or the "
                         "linear term")
    check_dims(data, float(data.counts.sum()), 0)
    prior = prior_moments(data)
    options = (n_excitatory, n_suppressive, bool(linear), bool(project_sta))

    def fit_predict(train: NDArray[np.intp], test: NDArray[np.intp]) -> NDArray[np.float64]:
        model = fit_energy(data, durations, train.astype(np.int64), prior, *options)
        return model.expected_counts(data, durations, data.frames[test])

    scores = blocked_scores(fit_predict, data.counts[data.frames], durations[data.frames],
                            n_folds=n_folds)
    model = fit_energy(data, durations, np.arange(data.frames.size), prior, *options)
    return model, scores


__all__ = ["EnergyModel", "FilterFit", "LINKS", "Nonlinearity", "SoftplusProblem",
           "binned_rates", "energy_model_scores", "estimate_nonlinearity", "fit_energy",
           "fit_link", "held_out_generators", "link_rate"]
