r"""One joint space-time Poisson GLM: the design over every lag, and its filters.

Instead of one model per frame lag joined afterwards by an SVD
(:mod:`sparsefield.rf.lags`), the joint model predicts the counts of frame ``t`` from
every lag of the stimulus at once, through a temporal basis
(:mod:`sparsefield.rf.basis`), and optionally from the unit's own past counts:

.. math::

    \mathrm{counts}_t \sim \mathrm{Poisson}(\mathrm{durations}_t\, e^{\eta_t}), \quad
    \eta_t = b + \sum_{k=0}^{K-1} \sum_p \mathrm{stimulus}_{t-k,\,p}\, F_{k p}
        + \sum_{m=1}^{M} \mathrm{counts}_{t-m}\, h_m ,

with the spatio-temporal filter ``F = basis @ V`` (``V`` of shape (n_bases, n_pixels),
``K = n_lags``) and the post-spike filter ``h = history_basis @ u`` (lags ``1 .. M``).
In the weights ``[vec(V), u]`` this is a Poisson GLM on the **joint design**
(:func:`joint_design`): one row per count frame, one column per (basis, pixel) pair,
``design[r, j * n_pixels + p] = sum_k basis[k, j] * stimulus[t_r - k, p]``, then one
column per post-spike basis, ``sum_m history_basis[m - 1, j] * counts[t_r - m]``.
The design has ``n_bases * n_pixels (+ n_history)`` columns, never ``n_lags *
n_pixels`` (unless the basis is the identity): a numba kernel sums the lags into
each column.  The exposure is the frame durations, as in every fit of this package;
the objective is :mod:`sparsefield.rf.poisson`'s mean negative log-likelihood.

Rows: a count frame is kept only when its whole window, the stimulus lags ``0 ..
n_lags - 1`` and the history lags ``1 .. M``, lies in its own trial (after the
recording start and after its trial's start), as :mod:`sparsefield.rf.design` pairs
frames at one lag: the first ``max(n_lags - 1, M)`` frames of every trial are left
out.

Fits on the design: :mod:`sparsefield.rf.joint_fit` (maximum likelihood, L2, the L1
path and its cross-validation) and :mod:`sparsefield.rf.joint_rank1` (space x time by
alternation).  :meth:`JointDesign.filters` maps weights back to the filters.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_float_array
from sparsefield._npz import NpzMixin
from sparsefield.errors import InputError
from sparsefield.rf import _joint_kernels
from sparsefield.rf.binning import check_trial_starts
from sparsefield.rf.design import lagged_frames
from sparsefield.rf.poisson import check_data

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class JointDesign:
    """The joint design of one unit and what is needed to read weights on it.

    Attributes
    ----------
    design : ndarray of shape (n_rows, n_columns), float64, C-contiguous
        ``n_columns = n_bases * n_pixels + n_history`` (module docstring).
    counts : ndarray of shape (n_rows,)
        Counts of the kept frames.
    durations : ndarray of shape (n_rows,)
        Their durations in seconds (the exposure).
    frames : ndarray of shape (n_rows,), int64
        Frame index of each row.
    basis : ndarray of shape (n_lags, n_bases)
        Stimulus basis, row ``k`` = lag ``k``.
    history_basis : ndarray of shape (n_history_lags, n_history)
        Post-spike basis, row ``m`` = lag ``m + 1``; shape (0, 0) without history.
    n_pixels : int
    """

    design: np.ndarray
    counts: np.ndarray
    durations: np.ndarray
    frames: np.ndarray
    basis: np.ndarray
    history_basis: np.ndarray
    n_pixels: int

    @property
    def n_bases(self) -> int:
        """Stimulus bases."""
        return int(self.basis.shape[1])

    @property
    def n_history(self) -> int:
        """Post-spike bases (0 without history)."""
        return int(self.history_basis.shape[1])

    @property
    def n_stimulus_columns(self) -> int:
        """``n_bases * n_pixels``: the stimulus columns come first."""
        return self.n_bases * self.n_pixels

    def filters(self, weights: ArrayLike) -> tuple[Floats, Floats]:
        """The spatio-temporal and post-spike filters of weights on this design.

        Parameters
        ----------
        weights : array_like of shape (n_columns,)

        Returns
        -------
        filter : ndarray of shape (n_lags, n_pixels)
            ``basis @ weights[:n_bases * n_pixels].reshape(n_bases, n_pixels)``.
        history_filter : ndarray of shape (n_history_lags,)
            ``history_basis @ weights[n_bases * n_pixels:]`` (lags 1 ..); empty
            without history.
        """
        weights = as_float_array(weights, "weights", 1, length=self.design.shape[1])
        stimulus_weights = weights[: self.n_stimulus_columns].reshape(self.n_bases,
                                                                      self.n_pixels)
        return (self.basis @ stimulus_weights,
                self.history_basis @ weights[self.n_stimulus_columns:])


@dataclass(frozen=True)
class JointFit(NpzMixin):
    """A fit of the joint GLM, with its weights read back as filters.

    Attributes
    ----------
    weights : ndarray of shape (n_columns,)
        On the joint design (:class:`JointDesign`).
    intercept : float
        For the design as given (not centred).
    filter : ndarray of shape (n_lags, n_pixels)
        Spatio-temporal filter, ``basis @ stimulus weights``.
    history_filter : ndarray of shape (n_history_lags,)
        Post-spike filter at lags ``1 ..``; empty without history.
    penalty : str
        ``"none"`` (maximum likelihood), ``"l2"`` or ``"l1"``.
    alpha : float
        Penalty strength (``alpha / 2 * |w|^2`` or ``alpha * |w|_1`` added to the
        mean NLL; glum's ``alpha``); 0 for maximum likelihood.
    nll : float
        Mean Poisson negative log-likelihood per row (constants included).
    n_iter : int
        Newton steps.
    gradient_max : float
        Largest entry of the objective's (sub)gradient at the solution (the
        optimality violation).
    """

    weights: np.ndarray
    intercept: float
    filter: np.ndarray
    history_filter: np.ndarray
    penalty: str
    alpha: float
    nll: float
    n_iter: int
    gradient_max: float


def joint_frames(n_frames: int, max_lag: int,
                 trial_starts: ArrayLike | None = None) -> NDArray[np.int64]:
    """Count frames whose window of lags ``0 .. max_lag`` lies inside their own trial.

    Parameters
    ----------
    n_frames : int
    max_lag : int
        Longest lag of the model (stimulus or post-spike), ``0 <= max_lag``.
    trial_starts : array_like of int of shape (n_trials,), optional
        First frame of each trial; None for one trial.

    Returns
    -------
    frames : ndarray of shape (n_rows,), int64
        Increasing; every frame but the first ``max_lag`` of each trial
        (:func:`sparsefield.rf.design.lagged_frames`).  Empty when no trial is
        longer than ``max_lag`` frames.
    """
    if max_lag >= n_frames:
        return np.zeros(0, dtype=np.int64)
    return lagged_frames(n_frames, max_lag, trial_starts)


def _check_basis(basis: ArrayLike, name: str, n_frames: int, first_lag: int) -> Floats:
    """A 2-D basis with at least one column whose lags fit in the recording."""
    basis = as_float_array(basis, name, 2)
    if basis.shape[0] < 1 or basis.shape[1] < 1:
        raise InputError(name, f"needs at least one lag and one basis, got shape {basis.shape}")
    if first_lag + basis.shape[0] > n_frames:
        raise InputError(name, f"spans {basis.shape[0]} lags from lag {first_lag}, longer "
                         f"than the recording ({n_frames} frames): shorten the span")
    return basis


def joint_design(stimulus: ArrayLike, counts: ArrayLike, durations: ArrayLike,
                 basis: ArrayLike, *, history_basis: ArrayLike | None = None,
                 trial_starts: ArrayLike | None = None) -> JointDesign:
    """The joint design: every pixel's stimulus through every temporal basis, plus history.

    Parameters
    ----------
    stimulus : array_like of shape (n_frames, n_pixels)
        Frames in display order (not centred here; the fits centre internally).
    counts : array_like of shape (n_frames,)
        Spikes per frame, >= 0.
    durations : array_like of shape (n_frames,)
        Frame durations in seconds, > 0 (the exposure).
    basis : array_like of shape (n_lags, n_bases)
        Stimulus basis, row ``k`` = lag ``k``
        (:func:`sparsefield.rf.basis.raised_cosine_basis`, or
        :func:`sparsefield.rf.basis.identity_basis` for one weight per lag).
    history_basis : array_like of shape (n_history_lags, n_history), optional
        Post-spike basis, row ``m`` = lag ``m + 1`` (``raised_cosine_basis(...,
        first_lag=1)``); None for no spike-history term.
    trial_starts : array_like of int of shape (n_trials,), optional
        First frame of each trial; None for one trial.

    Returns
    -------
    JointDesign
        Rows: the frames whose whole window lies in their trial (module docstring).

    Raises
    ------
    InputError
        Bad data, a basis longer than the recording, or no frame with a whole
        window in its trial (every trial shorter than the window).
    """
    stimulus, counts, durations = check_data(stimulus, counts, durations, "stimulus",
                                             min_pixels=1)
    n_frames, n_pixels = stimulus.shape
    basis = _check_basis(basis, "basis", n_frames, 0)
    max_lag = basis.shape[0] - 1
    if history_basis is None:
        history = np.zeros((0, 0))
    else:
        history = _check_basis(history_basis, "history_basis", n_frames, 1)
        max_lag = max(max_lag, history.shape[0])
    trial_starts = check_trial_starts(trial_starts, n_frames)
    frames = joint_frames(n_frames, max_lag, trial_starts)
    if frames.size == 0:
        raise InputError("basis", f"a window of {max_lag + 1} lags leaves no frame whose window "
                         f"lies inside its trial (longest trial: "
                         f"{int(np.diff(np.append(trial_starts, n_frames)).max())} frames)")
    n_columns = basis.shape[1] * n_pixels + history.shape[1]
    design = np.empty((frames.size, n_columns))
    _joint_kernels.stimulus_columns(stimulus, basis, frames, design)
    if history.shape[1]:
        _joint_kernels.history_columns(counts, history, frames, basis.shape[1] * n_pixels,
                                       design)
    return JointDesign(design=design, counts=counts[frames], durations=durations[frames],
                       frames=frames, basis=basis, history_basis=history, n_pixels=n_pixels)


__all__ = ["JointDesign", "JointFit", "joint_design", "joint_frames"]
