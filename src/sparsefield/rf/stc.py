r"""Spike-triggered covariance over a window of lags, with a nested shift null.

Windows: with ``n_lags`` lags, the window of count frame ``t`` is the stimulus of
frames ``t, t - 1, ..., t - n_lags + 1`` (lag 0 first, the pairing of
:mod:`sparsefield.rf.design`), a vector of ``n_dims = n_lags * n_pixels`` entries,
reshaped as ``(lags, pixels)``.  Only frames whose whole window lies in their own trial
are used (:func:`window_frames`: the first ``n_lags - 1`` frames of every trial are left
out, their counts too).  The stimulus is centred by its mean per pixel over all frames.

The analysis (Rust, Schwartz, Movshon & Simoncelli 2005):

1. ``C_prior``: the covariance of the windows of all used frames; ``C_spike``: the
   spike-weighted covariance (each frame's window weighted by its spike count, about
   the spike-triggered mean); the STA is the spike-triggered mean minus the windows'
   mean.  ``C_spike`` is accumulated over the frames with spikes, one block of windows
   at a time: a numba kernel gathers the block (:mod:`sparsefield.rf._stc_kernels`)
   and one symmetric BLAS product adds it (:func:`moments`); ``C_prior`` comes from
   the lag structure (:func:`prior_moments`).  The lagged design is never formed.
2. The STA is projected out of the stimulus: everything below happens in the
   ``n_dims - 1`` dimensions orthogonal to it.  By default only an STA whose norm
   is above its null band (the shifted trains' STA norms) is projected out: the noise
   STA of a complex cell is not an axis of the cell (``project_sta``).
3. ``C_spike - C_prior`` is diagonalised there: eigenvalues above 0 are directions of
   increased variance (excitatory), below 0 of decreased variance (suppressive).
4. Significance, nested: ``n_shifts`` spike trains shifted circularly over the whole
   time line by whole frames (offsets drawn from ``seed``, each at least
   ``2 n_lags`` frames from 0 and from the length; each shifted spike is used only
   where it sees a whole window of its trial, as the data's) give the null: in the
   current subspace, each shifted train's largest and smallest eigenvalue.  The band
   is ``[quantile(smallest, alpha / 2), quantile(largest, 1 - alpha / 2)]``; the
   data's eigenvalues outside it are significant axes.  These are removed from the
   subspace and the test is repeated (in the smaller subspace the null band narrows)
   until no new axis is found.  Removing axes does not change the data's other
   eigenvalues or eigenvectors (they are the same matrix's), only the null band.

Stimulus statistics: the analysis assumes a Gaussian stimulus.  With binary (+-1)
contrasts the fourth moments differ from a Gaussian's, and a cell with strong
quadratic filters ``f_k`` shows an extra ``-2 diag(sum_k f_k^2)``-like term in
``C_spike - C_prior``: weak suppressive axes where the filters are strongest, and
excitatory axes tilted by a few degrees (seen on the simulated complex cell with binary
bars; :mod:`sparsefield.rf.simulate_nonlinear` draws Gaussian bars on request).

Cost: ``n_shifts + 2`` spike-weighted covariances (each ``n_used_frames * n_dims^2``
multiply-adds in BLAS) and a few eigen-decompositions per shift and round.

:func:`sparsefield.rf.nonlinearity.energy_model_scores` fits and scores
(:mod:`sparsefield.rf.scores`) the quadratic (energy) model on the significant filters.
"""

from dataclasses import dataclass

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_float, as_float_array, as_int
from sparsefield._npz import NpzMixin
from sparsefield.errors import InputError
from sparsefield.rf._stc_kernels import gather_windows
from sparsefield.rf.binning import check_trial_starts
from sparsefield.rf.design import lagged_frames

#: When :func:`spike_triggered_covariance` projects the STA out of the stimulus.
PROJECT_STA = ("significant", "always", "never")
#: Bytes of one block of gathered windows (:func:`moments`): 8192 windows of 384 dims.
BLOCK_BYTES = 24 * 2**20
#: Most bytes the covariances of the shifted trains may take together.
MAX_NULL_BYTES = 2 * 2**30


@dataclass(frozen=True)
class STC(NpzMixin):
    """A spike-triggered covariance analysis (module docstring).

    Attributes
    ----------
    n_lags : int
        Lags of the window (lag 0 first).
    eigenvalues : ndarray of shape (n_dims - 1,) or (n_dims,)
        Spectrum of ``C_spike - C_prior``, decreasing: orthogonal to the STA when it
        was projected out (``n_dims - 1`` entries), else in all ``n_dims``.
    excitatory : ndarray of shape (n_excitatory, n_lags, n_pixels)
        Significant axes of increased variance, unit norm, largest eigenvalue first;
        the sign makes each filter's largest entry in absolute value positive.
    excitatory_eigenvalues : ndarray of shape (n_excitatory,)
    suppressive : ndarray of shape (n_suppressive, n_lags, n_pixels)
        Significant axes of decreased variance, most negative eigenvalue first.
    suppressive_eigenvalues : ndarray of shape (n_suppressive,)
    null_band : ndarray of shape (2,)
        ``[lower, upper]`` band of the last round (where no axis was significant).
    round_bands : ndarray of shape (n_rounds, 2)
        The band of each round of the nested test, the first round first.
    sta : ndarray of shape (n_lags, n_pixels)
        Spike-triggered mean of the windows minus their mean over all used frames.
    sta_norm : float
        Euclidean norm of ``sta``.
    sta_null_band : ndarray of shape (2,)
        The ``alpha / 2`` and ``1 - alpha / 2`` quantiles of the shifted trains' STA
        norms: an STA with a norm below the upper edge is not distinguishable from 0.
    sta_projected : bool
        Whether the STA was projected out (``project_sta``).
    n_spikes : float
        Spikes that see a whole window (those used).
    n_shifts : int
    alpha : float
    """

    n_lags: int
    eigenvalues: np.ndarray
    excitatory: np.ndarray
    excitatory_eigenvalues: np.ndarray
    suppressive: np.ndarray
    suppressive_eigenvalues: np.ndarray
    null_band: np.ndarray
    round_bands: np.ndarray
    sta: np.ndarray
    sta_norm: float
    sta_null_band: np.ndarray
    sta_projected: bool
    n_spikes: float
    n_shifts: int
    alpha: float

    @property
    def filters(self) -> NDArray[np.float64]:
        """Excitatory then suppressive filters, shape (n_filters, n_lags, n_pixels)."""
        return np.concatenate([self.excitatory, self.suppressive])


@dataclass(frozen=True)
class WindowData:
    """Checked data of a window analysis, shared by the functions of this module.

    Attributes
    ----------
    centred : ndarray of shape (n_frames, n_pixels)
        The stimulus minus its mean per pixel.
    counts : ndarray of shape (n_frames,)
        Spike counts, 0 at frames without a whole window in their trial.
    frames : ndarray of shape (n_used,), int64
        The frames with a whole window (:func:`window_frames`).
    n_lags : int
    """

    centred: np.ndarray
    counts: np.ndarray
    frames: np.ndarray
    n_lags: int

    @property
    def n_dims(self) -> int:
        """``n_lags * n_pixels``."""
        return self.n_lags * self.centred.shape[1]


def window_frames(n_frames: int, n_lags: int,
                  trial_starts: ArrayLike | None = None) -> NDArray[np.int64]:
    """The frames whose window of ``n_lags`` lags lies in their own trial.

    Parameters
    ----------
    n_frames : int
    n_lags : int
        ``1 <= n_lags <= n_frames``.
    trial_starts : array_like of int of shape (n_trials,), optional
        First frame of each trial; None for one trial.

    Returns
    -------
    frames : ndarray of shape (n_used,), int64
        Increasing; every frame but the first ``n_lags - 1`` of each trial
        (:func:`sparsefield.rf.design.lagged_frames` at lag ``n_lags - 1``).
    """
    n_lags = as_int(n_lags, "n_lags", 1, max(1, n_frames))
    return lagged_frames(n_frames, n_lags - 1, trial_starts)


def window_data(stimulus: ArrayLike, counts: ArrayLike, n_lags: int,
                trial_starts: ArrayLike | None = None) -> WindowData:
    """Check a stimulus and counts once and centre the stimulus (:class:`WindowData`).

    Parameters
    ----------
    stimulus : ndarray of shape (n_frames, n_pixels)
    counts : ndarray of shape (n_frames,)
        Spike counts (or weights) per frame, >= 0.
    n_lags : int
    trial_starts : array_like of int of shape (n_trials,), optional

    Returns
    -------
    WindowData

    Raises
    ------
    InputError
        On bad shapes or values, or ``n_lags`` outside ``[1, n_frames]``.
    """
    stimulus = as_float_array(stimulus, "stimulus", 2, allow_empty=False)
    n_frames = stimulus.shape[0]
    counts = as_float_array(counts, "counts", 1, length=n_frames)
    if np.any(counts < 0):
        raise InputError("counts", "contains negative values")
    starts = check_trial_starts(trial_starts, n_frames)
    frames = window_frames(n_frames, n_lags, starts)
    used = np.zeros(n_frames)
    used[frames] = counts[frames]
    return WindowData(centred=stimulus - stimulus.mean(axis=0), counts=used,
                      frames=frames, n_lags=int(n_lags))


def moments(data: WindowData, counts: NDArray[np.float64]
            ) -> tuple[float, NDArray[np.float64], NDArray[np.float64]]:
    """Total weight, mean and covariance of the windows weighted by ``counts``.

    The windows of the frames with a weight are gathered a block at a time by
    :func:`sparsefield.rf._stc_kernels.gather_windows` and each block's weighted outer
    products are added with one symmetric BLAS product.

    Parameters
    ----------
    data : WindowData
    counts : ndarray of shape (n_frames,)
        Weight of each frame's window, >= 0 (0 at frames without a whole window).

    Returns
    -------
    total : float
    mean : ndarray of shape (n_dims,)
    covariance : ndarray of shape (n_dims, n_dims)
        ``sum_t counts_t (w_t - mean)(w_t - mean)' / total`` (divided by the total
        weight, not by total - 1).
    """
    frames = np.flatnonzero(counts).astype(np.int64)
    weights = np.ascontiguousarray(counts[frames])
    n_dims = data.n_dims
    first = np.zeros(n_dims)
    second = np.zeros((n_dims, n_dims))
    buffer = np.empty((max(1, min(frames.size, BLOCK_BYTES // (8 * n_dims))), n_dims))
    for start in range(0, frames.size, buffer.shape[0]):
        rows = gather_windows(data.centred, frames, weights, data.n_lags, start, buffer, first)
        block = buffer[:rows]
        second += block.T @ block
    total = float(weights.sum())
    mean = first / total
    return total, mean, second / total - np.outer(mean, mean)


def prior_moments(data: WindowData) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Mean and covariance of the windows of all used frames (``C_prior``), fast.

    The same as :func:`moments` with weight 1 on every used frame, from the lag
    structure: in a trial whose used frames are ``t = a .. b - 1``, the block of lags
    ``(l, l + e)`` is ``sum_{u = a - l}^{b - 1 - l} x[u] x[u - e]'``, which is the block
    ``(0, e)`` (one ``pixels x pixels`` matrix product over the trial) with ``l`` rows
    added at the head and ``l`` dropped at the tail.  The cost is about ``n_lags``
    products of ``n_frames x pixels`` columns instead of one ``n_frames x n_dims``
    product (16 times less for 16 lags).

    Parameters
    ----------
    data : WindowData

    Returns
    -------
    mean : ndarray of shape (n_dims,)
    covariance : ndarray of shape (n_dims, n_dims)
        Divided by the number of used frames.
    """
    n_lags, n_pixels = data.n_lags, data.centred.shape[1]
    x = data.centred
    first = np.zeros((n_lags, n_pixels))
    second = np.zeros((n_lags, n_pixels, n_lags, n_pixels))
    # Runs of consecutive used frames: one per trial (of at least n_lags frames).
    breaks = np.flatnonzero(np.diff(data.frames) > 1) + 1
    for run in np.split(data.frames, breaks):
        start, stop = int(run[0]), int(run[-1]) + 1
        for lag in range(n_lags):
            first[lag] += x[start - lag:stop - lag].sum(axis=0)
        for shift in range(n_lags):
            block = x[start:stop].T @ x[start - shift:stop - shift]
            for lag in range(n_lags - shift):
                if lag:
                    head, tail = start - lag, stop - lag
                    block += np.outer(x[head], x[head - shift]) - np.outer(x[tail],
                                                                           x[tail - shift])
                second[lag, :, lag + shift, :] += block
                if shift:
                    second[lag + shift, :, lag, :] += block.T
    total = float(data.frames.size)
    mean = first.ravel() / total
    n_dims = n_lags * n_pixels
    return mean, second.reshape(n_dims, n_dims) / total - np.outer(mean, mean)


def window_covariance(stimulus: ArrayLike, counts: ArrayLike, n_lags: int,
                      trial_starts: ArrayLike | None = None
                      ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Count-weighted mean and covariance of the stimulus windows of ``n_lags`` lags.

    With spike counts this is the spike-triggered ensemble's mean and covariance
    (``C_spike``); with ones, the windows' own (``C_prior``).

    Parameters
    ----------
    stimulus : ndarray of shape (n_frames, n_pixels)
        Centred here by its mean per pixel over all frames.
    counts : ndarray of shape (n_frames,)
        Weight (spike count) per frame, >= 0; frames without a whole window in their
        trial are left out.
    n_lags : int
    trial_starts : array_like of int of shape (n_trials,), optional

    Returns
    -------
    mean : ndarray of shape (n_lags, n_pixels)
        Of the centred stimulus.
    covariance : ndarray of shape (n_dims, n_dims)
        ``n_dims = n_lags * n_pixels``, entries in the order of ``mean.ravel()``;
        divided by the total weight (``np.cov(..., fweights=counts, bias=True)`` of the
        windows).

    Raises
    ------
    InputError
        On bad input, or no weight on any frame with a whole window.
    """
    data = window_data(stimulus, counts, n_lags, trial_starts)
    if not data.counts.sum() > 0:
        raise InputError("counts", "no weight falls on a frame with a whole window")
    _, mean, covariance = moments(data, data.counts)
    return mean.reshape(n_lags, -1), covariance


def project_windows(centred: NDArray[np.float64], filters: NDArray[np.float64],
                    frames: NDArray[np.int64]) -> NDArray[np.float64]:
    """Each frame's window projected on each filter (no design formed).

    Parameters
    ----------
    centred : ndarray of shape (n_frames, n_pixels)
    filters : ndarray of shape (n_filters, n_lags, n_pixels)
    frames : ndarray of shape (n_rows,), int64
        Frames ``>= n_lags - 1``.

    Returns
    -------
    projections : ndarray of shape (n_rows, n_filters)
        ``sum_{lag, pixel} filters[k, lag, pixel] * centred[frame - lag, pixel]``.
    """
    projections = np.zeros((frames.size, filters.shape[0]))
    for lag in range(filters.shape[1]):
        projections += centred[frames - lag] @ filters[:, lag, :].T
    return projections


def complement(axes: NDArray[np.float64], n_dims: int) -> NDArray[np.float64]:
    """An orthonormal basis of the directions orthogonal to some axes.

    Parameters
    ----------
    axes : ndarray of shape (n_axes, n_dims)
        Linearly independent rows (none: the whole space).
    n_dims : int

    Returns
    -------
    basis : ndarray of shape (n_dims, n_dims - n_axes)
        Orthonormal columns, each orthogonal to every row of ``axes``.
    """
    if axes.shape[0] == 0:
        return np.eye(n_dims)
    return np.asarray(scipy.linalg.null_space(axes), dtype=np.float64)


def _signed(vectors: NDArray[np.float64]) -> NDArray[np.float64]:
    """Columns flipped so that each one's largest entry in absolute value is positive."""
    peaks = vectors[np.argmax(np.abs(vectors), axis=0), np.arange(vectors.shape[1])]
    return vectors * np.where(peaks < 0, -1.0, 1.0)


def _extremes(matrix: NDArray[np.float64]) -> tuple[float, float]:
    """Smallest and largest eigenvalue of a symmetric matrix."""
    values = scipy.linalg.eigvalsh(matrix, check_finite=False)
    return float(values[0]), float(values[-1])


def shift_frames(n_frames: int, n_lags: int, n_shifts: int,
                 seed: int | None) -> NDArray[np.int64]:
    """Circular shifts of the null in whole frames.

    Parameters
    ----------
    n_frames, n_lags, n_shifts : int
    seed : int or None
        Seed of ``np.random.default_rng``.

    Returns
    -------
    offsets : ndarray of shape (n_shifts,), int64
        Uniform in ``[m, n_frames - m]`` with ``m = 2 n_lags``.

    Raises
    ------
    InputError
        Naming ``n_lags`` when the recording is not longer than ``4 n_lags`` frames.
    """
    margin = 2 * n_lags
    if n_frames <= 2 * margin:
        raise InputError("n_lags", f"the shift null shifts spikes by at least 2 x n_lags = "
                         f"{margin} frames, so the recording needs more than {2 * margin} "
                         f"frames; it has {n_frames}: use fewer lags")
    rng = np.random.default_rng(seed)
    return rng.integers(margin, n_frames - margin, size=n_shifts, endpoint=True)


def check_dims(data: WindowData, n_spikes: float, n_shifts: int) -> None:
    """Check that the window has fewer dimensions than spikes and frames, and that the
    null's covariances fit in memory.

    Parameters
    ----------
    data : WindowData
    n_spikes : float
        Spikes that see a whole window.
    n_shifts : int
        Shifted trains whose covariances are kept (0: none).

    Raises
    ------
    InputError
        Naming ``n_lags``.
    """
    n_pixels = data.centred.shape[1]
    window = f"the window of {data.n_lags} lags x {n_pixels} pixels has {data.n_dims} dimensions"
    if data.n_dims >= n_spikes:
        raise InputError("n_lags", f"{window}, and only {n_spikes:g} spikes see a whole "
                         "window: the spike-triggered covariance is singular (it needs more "
                         "spikes than dimensions, ideally many times more); use fewer lags "
                         "or pixels, or a longer recording")
    if data.n_dims >= data.frames.size:
        raise InputError("n_lags", f"{window}, and only {data.frames.size} frames have a whole "
                         "window: the stimulus covariance is singular; use fewer lags")
    needed = (n_shifts + 3) * data.n_dims**2 * 8
    if needed > MAX_NULL_BYTES:
        raise InputError("n_lags", f"{window}: the {n_shifts} shifted covariances would take "
                         f"{needed / 2**30:.1f} GiB (at most {MAX_NULL_BYTES / 2**30:g}); use "
                         "fewer lags or pixels, or fewer shifts")


def spike_triggered_covariance(stimulus: ArrayLike, counts: ArrayLike, n_lags: int, *,
                               n_shifts: int = 20, alpha: float = 0.05, seed: int | None = 0,
                               project_sta: str = "significant",
                               trial_starts: ArrayLike | None = None) -> STC:
    """Excitatory and suppressive filters of a cell from its spike-triggered covariance.

    Parameters
    ----------
    stimulus : ndarray of shape (n_frames, n_pixels)
        Frames in display order (e.g. bars: one column per bar).
    counts : ndarray of shape (n_frames,)
        Spikes per frame (:func:`sparsefield.rf.binning.bin_spikes`), >= 0.
    n_lags : int
        Lags of the window (frames ``t .. t - n_lags + 1``), ``>= 1``.
    n_shifts : int, default 20
        Shifted spike trains of the null (``>= 2``).  Each costs one covariance.
    alpha : float, default 0.05
        Two-sided level of the null band, in ``(0, 0.5]``.
    seed : int or None, default 0
        Seed of the shifts (:func:`shift_frames`).
    project_sta : {"significant", "always", "never"}, default "significant"
        When the STA is projected out of the stimulus (step 2 of the module docstring):
        ``"significant"``, only when its norm is above the upper edge of its null band.
        An STA that is only noise points in a random direction, partly inside the
        filters' subspace (the noise is largest there), and projecting it out tilts the
        recovered subspace away from the true one (by 10-20 degrees on the simulated
        complex cell of the tests), so it is kept unless it is a real axis.
    trial_starts : array_like of int of shape (n_trials,), optional
        First frame of each trial; windows never cross a trial start.

    Returns
    -------
    STC

    Raises
    ------
    InputError
        On bad input; naming ``n_lags`` when the window has at least as many
        dimensions as spikes (or as frames), when the recording is too short for the
        shift null, or when the null's covariances would not fit in memory.
    """
    data = window_data(stimulus, counts, n_lags, trial_starts)
    n_shifts = as_int(n_shifts, "n_shifts", 2)
    alpha = as_float(alpha, "alpha", minimum=0.0, strict=True, maximum=0.5)
    if project_sta not in PROJECT_STA:
        raise InputError("project_sta", f"must be one of {list(PROJECT_STA)}, got "
                         f"{project_sta!r}")
    n_spikes = float(data.counts.sum())
    check_dims(data, n_spikes, n_shifts)
    offsets = shift_frames(data.centred.shape[0], data.n_lags, n_shifts, seed)

    prior_mean, prior = prior_moments(data)
    _, spike_mean, spike = moments(data, data.counts)
    sta = spike_mean - prior_mean
    sta_norm = float(np.linalg.norm(sta))
    null_deltas = []
    null_norms = np.empty(n_shifts)
    for index, offset in enumerate(offsets):
        shifted = np.zeros_like(data.counts)
        shifted[data.frames] = np.roll(data.counts, offset)[data.frames]
        _, shifted_mean, shifted_covariance = moments(data, shifted)
        null_norms[index] = np.linalg.norm(shifted_mean - prior_mean)
        null_deltas.append(shifted_covariance - prior)

    sta_null_band = np.quantile(null_norms, [alpha / 2, 1 - alpha / 2])
    project = project_sta == "always" or (project_sta == "significant"
                                          and sta_norm > sta_null_band[1])
    axes = (sta / sta_norm)[None, :] if project and sta_norm > 0 else np.empty((0, data.n_dims))
    basis = complement(axes, data.n_dims)
    values, vectors = scipy.linalg.eigh(basis.T @ (spike - prior) @ basis)
    values, vectors = values[::-1], basis @ vectors[:, ::-1]
    found, bands = nested_test(values, vectors, null_deltas, alpha)
    excitatory = sorted((index for index in found if values[index] > 0),
                        key=lambda index: -values[index])
    suppressive = sorted((index for index in found if values[index] < 0),
                         key=lambda index: values[index])
    shape = (-1, data.n_lags, data.centred.shape[1])
    return STC(
        n_lags=data.n_lags, eigenvalues=values,
        excitatory=_signed(vectors[:, excitatory]).T.reshape(shape),
        excitatory_eigenvalues=values[excitatory],
        suppressive=_signed(vectors[:, suppressive]).T.reshape(shape),
        suppressive_eigenvalues=values[suppressive],
        null_band=bands[-1], round_bands=bands, sta=sta.reshape(shape[1:]), sta_norm=sta_norm,
        sta_null_band=sta_null_band, sta_projected=bool(axes.shape[0]), n_spikes=n_spikes,
        n_shifts=n_shifts, alpha=alpha,
    )


def nested_test(values: NDArray[np.float64], vectors: NDArray[np.float64],
                null_deltas: list[NDArray[np.float64]],
                alpha: float) -> tuple[list[int], NDArray[np.float64]]:
    """The nested significance test of the module docstring.

    Parameters
    ----------
    values : ndarray of shape (n_axes,)
        The data's eigenvalues, decreasing.
    vectors : ndarray of shape (n_dims, n_axes)
        Their eigenvectors (orthonormal columns).
    null_deltas : list of ndarray of shape (n_dims, n_dims)
        ``C_spike - C_prior`` of each shifted train.
    alpha : float

    Returns
    -------
    found : list of int
        Indices of the significant axes in ``values``, in the order found (each
        round: decreasing eigenvalue).
    bands : ndarray of shape (n_rounds, 2)
        ``[lower, upper]`` of each round.
    """
    remaining = np.arange(values.size)
    found: list[int] = []
    bands = []
    while remaining.size:
        subspace = vectors[:, remaining]
        extremes = np.array([_extremes(subspace.T @ delta @ subspace) for delta in null_deltas])
        band = np.array([np.quantile(extremes[:, 0], alpha / 2),
                         np.quantile(extremes[:, 1], 1 - alpha / 2)])
        bands.append(band)
        outside = (values[remaining] > band[1]) | (values[remaining] < band[0])
        if not outside.any():
            break
        found.extend(int(index) for index in remaining[outside])
        remaining = remaining[~outside]
    return found, np.array(bands).reshape(-1, 2)


__all__ = ["BLOCK_BYTES", "MAX_NULL_BYTES", "PROJECT_STA", "STC", "WindowData", "check_dims",
           "complement", "moments", "nested_test", "prior_moments", "project_windows",
           "shift_frames", "spike_triggered_covariance", "window_covariance", "window_data",
           "window_frames"]
