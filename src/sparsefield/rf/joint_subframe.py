r"""The joint space-time GLM at sub-frame resolution: a rank-1 filter in continuous delay.

A unit whose response follows a frame flip by tens of milliseconds, with frames of a
fifth of a second, changes its rate inside each frame; a model of frame counts on
frame-lagged stimulus values cannot represent that.  This model splits every frame
into ``bins_per_frame`` equal sub-bins (from the frame's own edges: jittered frames
give sub-bins of different lengths) and models the counts of each sub-bin:

.. math::

    \mathrm{counts}_i \sim \mathrm{Poisson}(\Delta_i\, e^{\eta_i}), \quad
    \eta_i = b + \int_0^{T} k(\tau)\, s' x(c_i - \tau)\, d\tau ,
    \quad k(\tau) = \sum_j t_j\, \beta_j(\tau),

with ``c_i`` the sub-bin's centre, ``Delta_i`` its duration (the exposure), ``x(t)``
the frame on screen at time ``t`` (held, as shown), ``s`` the spatial profile (unit
norm) and ``k`` the temporal kernel on a continuous delay axis ``0 .. T`` (``T`` =
``span_s``) through raised cosines on a log-stretched axis
(:func:`sparsefield.rf.basis.raised_cosine_basis`, sampled finely).  The stimulus is
piecewise constant, so the integral is exact: frame ``g`` enters sub-bin ``i`` with
weight ``int beta_j`` over the delays at which it was on screen
(:func:`sparsefield.rf._subframe_kernels.window_weights`; delays before the first frame
of the trial see the stimulus mean).  The parameters are ``n_pixels + n_bases + 1``,
fitted by alternating the two convex sub-problems (as :mod:`sparsefield.rf.joint_rank1`):
``s`` fixed, a GLM on ``n_bases`` columns; ``t`` fixed, one on ``n_pixels`` columns,
each by the Newton-CG of :mod:`sparsefield.rf.joint_newton` (maximum likelihood).

A frame's expected count is the sum of its sub-bins' ``Delta_i exp(eta_i)``
(:func:`expected_frame_counts`): the same quantity as every frame-count model's, so
the estimates are scored on the same frames (:mod:`sparsefield.rf.units_scores`).
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_float, as_int
from sparsefield._npz import NpzMixin
from sparsefield.errors import InputError
from sparsefield.rf import _subframe_kernels
from sparsefield.rf.basis import raised_cosine_basis
from sparsefield.rf.joint_newton import NewtonCGResult, newton_cg_ridge
from sparsefield.rf.poisson import PoissonProblem

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]

#: Samples of the delay axis per basis span (the bases' integrals are interpolated).
_N_STEPS = 2000


@dataclass(frozen=True)
class SubframeDesign:
    """What every sub-bin of some count frames sees of the stimulus (module docstring).

    Attributes
    ----------
    stimulus : ndarray of shape (n_frames + 1, n_pixels)
        The frames, then the stimulus mean (seen before a trial's first frame).
    window_frames : ndarray of shape (n_bins, n_window), int64
        Rows of ``stimulus`` in each sub-bin's window, latest first.
    weights : ndarray of shape (n_bins, n_window, n_bases)
        Each basis integrated over the delays at which that row was on screen.
    durations : ndarray of shape (n_bins,)
        Sub-bin durations in seconds (the exposure).
    bins_per_frame : int
        Sub-bins ``r * bins_per_frame .. (r + 1) * bins_per_frame - 1`` are count
        frame ``r``'s.
    delays : ndarray of shape (n_delays,)
        A fine delay grid (s) over the span, for reading kernels.
    basis : ndarray of shape (n_delays, n_bases)
        The temporal bases at ``delays``.
    """

    stimulus: np.ndarray
    window_frames: np.ndarray
    weights: np.ndarray
    durations: np.ndarray
    bins_per_frame: int
    delays: np.ndarray
    basis: np.ndarray

    @property
    def n_bases(self) -> int:
        """Temporal bases."""
        return int(self.weights.shape[2])

    @property
    def n_pixels(self) -> int:
        """Pixels per frame."""
        return int(self.stimulus.shape[1])

    @property
    def n_frames(self) -> int:
        """Count frames (rows of the frame-count models)."""
        return int(self.durations.size // self.bins_per_frame)

    def take(self, rows: NDArray[np.intp]) -> "SubframeDesign":
        """The sub-bins of count frames ``rows`` (positions in this design), a copy.

        Parameters
        ----------
        rows : ndarray of shape (n_taken,), int

        Returns
        -------
        SubframeDesign
        """
        bins = (np.asarray(rows)[:, None] * self.bins_per_frame
                + np.arange(self.bins_per_frame)[None, :]).ravel()
        return SubframeDesign(stimulus=self.stimulus, window_frames=self.window_frames[bins],
                              weights=self.weights[bins], durations=self.durations[bins],
                              bins_per_frame=self.bins_per_frame, delays=self.delays,
                              basis=self.basis)

    def time_columns(self, spatial: Floats) -> Floats:
        """Design of the temporal weights for a spatial profile (n_pixels,): (n_bins, n_bases)."""
        out = np.empty((self.durations.size, self.n_bases))
        _subframe_kernels.time_columns(self.window_frames, self.weights,
                                       np.ascontiguousarray(self.stimulus @ spatial), out)
        return out

    def space_columns(self, temporal_weights: Floats) -> Floats:
        """Design of the spatial profile for temporal weights (n_bases,): (n_bins, n_pixels)."""
        out = np.empty((self.durations.size, self.n_pixels))
        gains = np.ascontiguousarray(self.weights @ np.asarray(temporal_weights,
                                                               dtype=np.float64))
        _subframe_kernels.space_columns(self.window_frames, gains, self.stimulus, out)
        return out


def _delay_basis(n_bases: int, span_s: float, key: str) -> tuple[Floats, Floats, Floats]:
    """The bases on a fine delay grid and their integrals from delay 0.

    Returns ``delays`` (_N_STEPS,), ``basis`` (_N_STEPS, n_bases) and ``cumulative``
    (_N_STEPS + 1, n_bases): trapezoids, every basis 0 at the span's end.
    """
    step = span_s / _N_STEPS
    basis = raised_cosine_basis(n_bases, span_s, step, key=key)
    delays = np.asarray(np.arange(basis.shape[0]) * step, dtype=np.float64)
    closed = np.vstack([basis, np.zeros((1, n_bases))])
    cumulative = np.vstack([np.zeros((1, n_bases)),
                            np.cumsum(0.5 * step * (closed[1:] + closed[:-1]), axis=0)])
    return delays, basis, np.ascontiguousarray(cumulative, dtype=np.float64)


def subframe_design(stimulus: ArrayLike, edges: ArrayLike, frames: ArrayLike,
                    trial_starts: ArrayLike, *, bins_per_frame: int, n_bases: int,
                    span_s: float, key: str = "models.subframe") -> SubframeDesign:
    """The sub-bins of count frames ``frames`` and what each sees (module docstring).

    Parameters
    ----------
    stimulus : array_like of shape (n_frames, n_pixels)
        Frames in display order (not centred; the fits have a free intercept).
    edges : array_like of shape (n_frames + 1,)
        Frame edges in seconds, increasing.
    frames : array_like of int of shape (n_rows,)
        The count frames modelled, increasing.
    trial_starts : array_like of int of shape (n_trials,)
        First frame of each trial (checked).
    bins_per_frame : int
        ``>= 1``.
    n_bases : int
        Raised cosines over ``0 .. span_s``.
    span_s : float
        Longest delay of the temporal kernel in seconds, > 0.
    key : str, default "models.subframe"
        Config section named in messages.

    Returns
    -------
    SubframeDesign

    Raises
    ------
    InputError
        Naming ``<key>.bins_per_frame``, ``<key>.n_bases`` or ``<key>.span_s``: bad
        values, or a span longer than the recording.
    """
    stimulus = np.asarray(stimulus, dtype=np.float64)
    edges = np.ascontiguousarray(edges, dtype=np.float64)
    frames = np.ascontiguousarray(frames, dtype=np.int64)
    bins_per_frame = as_int(bins_per_frame, f"{key}.bins_per_frame", 1)
    span_s = as_float(span_s, f"{key}.span_s", minimum=0.0, strict=True)
    if span_s >= edges[-1] - edges[0]:
        raise InputError(f"{key}.span_s", f"{span_s:g} s is longer than the recording "
                         f"({edges[-1] - edges[0]:g} s): shorten it")
    delays, basis, cumulative = _delay_basis(as_int(n_bases, f"{key}.n_bases", 1), span_s, key)
    starts = np.asarray(trial_starts, dtype=np.int64)
    first_frames = starts[np.searchsorted(starts, frames, side="right") - 1]
    n_window = int(np.ceil(span_s / np.diff(edges).min())) + 2
    n_bins = frames.size * bins_per_frame
    window_frames = np.empty((n_bins, n_window), dtype=np.int64)
    weights = np.empty((n_bins, n_window, basis.shape[1]))
    _subframe_kernels.window_weights(edges, frames, np.ascontiguousarray(first_frames),
                                     bins_per_frame, cumulative, span_s / _N_STEPS,
                                     stimulus.shape[0], window_frames, weights)
    extended = np.ascontiguousarray(np.vstack([stimulus, stimulus.mean(axis=0)]))
    durations = np.repeat(np.diff(edges)[frames] / bins_per_frame, bins_per_frame)
    return SubframeDesign(stimulus=extended, window_frames=window_frames, weights=weights,
                          durations=durations, bins_per_frame=bins_per_frame, delays=delays,
                          basis=basis)


def subframe_counts(spike_times: ArrayLike, spike_offsets: ArrayLike, edges: ArrayLike,
                    bins_per_frame: int = 4) -> Floats:
    """Spikes of every unit in each sub-bin of each frame.

    Frame ``f`` is split into ``bins_per_frame`` equal sub-bins ``[edges[f] + m d,
    edges[f] + (m + 1) d)``, ``d = (edges[f + 1] - edges[f]) / bins_per_frame``;
    spikes on an edge count in the later bin, as the frame counts do
    (:func:`sparsefield.rf.binning.bin_units`), so the sub-bins of a frame sum to
    its count.

    Parameters
    ----------
    spike_times : array_like of shape (n_spikes,)
        All units concatenated, each unit's block sorted.
    spike_offsets : array_like of int of shape (n_units + 1,)
    edges : array_like of shape (n_frames + 1,)
        Frame edges in seconds (``UnitCounts.edges``).
    bins_per_frame : int, default 4
        ``>= 1`` (the workflow's ``models.subframe.bins_per_frame``).

    Returns
    -------
    counts : ndarray of shape (n_frames, bins_per_frame, n_units)
    """
    bins_per_frame = as_int(bins_per_frame, "bins_per_frame", 1)
    edges = np.asarray(edges, dtype=np.float64)
    spike_times = np.asarray(spike_times, dtype=np.float64)
    offsets = np.asarray(spike_offsets, dtype=np.int64)
    fractions = np.arange(bins_per_frame) / bins_per_frame
    sub_edges = np.append((edges[:-1, None] + np.diff(edges)[:, None] * fractions).ravel(),
                          edges[-1])
    n_units = offsets.size - 1
    counts = np.empty((edges.size - 1, bins_per_frame, n_units))
    for unit in range(n_units):
        times = spike_times[offsets[unit]:offsets[unit + 1]]
        counts[:, :, unit] = np.diff(np.searchsorted(times, sub_edges, side="left")).reshape(
            -1, bins_per_frame)
    return counts


@dataclass(frozen=True)
class SubframeFit(NpzMixin):
    """A rank-1 sub-frame GLM (module docstring).

    Attributes
    ----------
    spatial : ndarray of shape (n_pixels,)
        Unit norm, largest entry positive.
    temporal_weights : ndarray of shape (n_bases,)
        ``t``, the gain included.
    intercept : float
        Log spikes per second at zero drive (design not centred).
    nll : float
        Mean Poisson NLL per sub-bin.
    n_iter : int
        Alternations (each fits time, then space).
    converged : bool
        Whether the last alternation lowered the NLL by at most ``tol`` (relative).
    """

    spatial: np.ndarray
    temporal_weights: np.ndarray
    intercept: float
    nll: float
    n_iter: int
    converged: bool

    def temporal(self, design: SubframeDesign) -> Floats:
        """The temporal kernel at ``design.delays``, shape (n_delays,).

        In 1/s for the unit-norm ``spatial``: the drive is ``int k(tau) s' x(t - tau) dtau``.
        """
        return np.asarray(design.basis @ self.temporal_weights, dtype=np.float64)

    def log_rate(self, design: SubframeDesign) -> Floats:
        """``eta`` of every sub-bin of ``design``, (n_bins,)."""
        return design.time_columns(self.spatial) @ self.temporal_weights + self.intercept


def _glm(columns: Floats, counts: Floats, durations: Floats, n_bases: int, n_pixels: int,
         tol: float, label: str, start: tuple[Floats, float] | None = None) -> NewtonCGResult:
    """Maximum likelihood on ``columns`` with an intercept (Newton-CG from ``start``)."""
    problem = PoissonProblem.from_checked(np.ascontiguousarray(columns), counts, durations)
    return newton_cg_ridge(problem, 0.0, n_bases=n_bases, n_pixels=n_pixels, tol=tol,
                           max_iter=100, label=label, start=start)


def _normalised(spatial: Floats, temporal_weights: Floats) -> tuple[Floats, Floats]:
    """``|s| = 1`` with its largest entry positive, the scale and sign moved into ``t``."""
    norm = float(np.linalg.norm(spatial))
    if norm == 0.0:
        return spatial, temporal_weights
    sign = 1.0 if spatial[np.argmax(np.abs(spatial))] >= 0 else -1.0
    return spatial * (sign / norm), temporal_weights * (sign * norm)


def fit_subframe(design: SubframeDesign, counts: ArrayLike, spatial: ArrayLike, *,
                 max_iter: int = 2, tol: float = 1e-5,
                 label: str = "sub-frame GLM") -> SubframeFit:
    """Rank-1 sub-frame GLM by alternating maximum likelihood, from a spatial profile.

    Parameters
    ----------
    design : SubframeDesign
    counts : array_like of shape (n_bins,)
        Spikes per sub-bin (:func:`subframe_counts`, in the design's order).
    spatial : array_like of shape (n_pixels,)
        Where the alternation starts (e.g. the spatial profile of the STA's rank-1 SVD).
    max_iter : int, default 2
        Alternations (time step, then space step).
    tol : float, default 1e-5
        Stop when an alternation lowers the NLL by at most ``tol * max(1, |nll|)``;
        also the gradient tolerance of each sub-problem.
    label : str
        What error messages call the fit.

    Returns
    -------
    SubframeFit

    Raises
    ------
    InputError
        No spike in the sub-bins.
    FitError
        A sub-problem did not converge.
    """
    counts = np.ascontiguousarray(counts, dtype=np.float64)
    if counts.shape != design.durations.shape:
        raise InputError("counts", f"has shape {counts.shape}, the design "
                         f"{design.durations.shape} sub-bins")
    if counts.sum() <= 0:
        raise InputError("counts", "has no spikes in the sub-bins: no finite intercept")
    max_iter = as_int(max_iter, "max_iter", 1)
    spatial = np.asarray(spatial, dtype=np.float64)
    spatial = spatial / max(float(np.linalg.norm(spatial)), np.finfo(float).tiny)
    nll, converged, n_iter = np.inf, False, 0
    temporal_weights, intercept = np.zeros(design.n_bases), 0.0
    while n_iter < max_iter and not converged:
        n_iter += 1
        # each step starts from the last one's filter: the NLL can only go down
        time_step = _glm(design.time_columns(spatial), counts, design.durations,
                         design.n_bases, 1, tol, f"{label} (time step)",
                         None if n_iter == 1 else (temporal_weights, intercept))
        space_step = _glm(design.space_columns(time_step.weights), counts, design.durations,
                          1, design.n_pixels, tol, f"{label} (space step)",
                          (spatial, time_step.intercept))
        spatial, temporal_weights = _normalised(space_step.weights, time_step.weights)
        intercept = space_step.intercept
        change, nll = nll - space_step.nll, space_step.nll
        converged = change <= tol * max(1.0, abs(nll))
    return SubframeFit(spatial=spatial, temporal_weights=temporal_weights, intercept=intercept,
                       nll=nll, n_iter=n_iter, converged=bool(converged))


def expected_frame_counts(design: SubframeDesign, fit: SubframeFit) -> Floats:
    """Each count frame's expected spikes: its sub-bins' ``Delta_i exp(eta_i)`` summed.

    Parameters
    ----------
    design : SubframeDesign
    fit : SubframeFit

    Returns
    -------
    expected : ndarray of shape (n_frames,)
    """
    expected = design.durations * np.exp(fit.log_rate(design))
    return np.asarray(expected.reshape(-1, design.bins_per_frame).sum(axis=1))


__all__ = ["SubframeDesign", "SubframeFit", "expected_frame_counts", "fit_subframe",
           "subframe_counts", "subframe_design"]
