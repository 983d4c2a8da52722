r"""Spike-triggered averages of every unit of a session, with a null per unit.

The population form of :func:`sparsefield.rf.sta.spike_triggered_average`
(:func:`sta_units`): the checks, the delays and the random shifts are made once for
all units.  Two nulls: circular shifts of each unit's train (``"shift"``, as the
single-unit function), or exchangeable frames in closed form (``"analytic"``, below).
With several trials a spike counts at delay ``tau`` only when ``t_spike - tau`` lies in
the spike's trial, for the data and for every shifted train (:mod:`sparsefield.rf.units`,
"Trials").

The analytic STA null
---------------------
For one unit and one delay ``tau`` the STA of pixel ``p`` is
``sum_f a_f s_fp`` with ``a_f = c_f / N``, where ``c_f`` is the number of spikes
that saw frame ``f`` at that delay and ``N = sum_f c_f``.  Under the null that the
spike train carries no information about which frame was shown where, the
frames are exchangeable: the observed frames in a random order.  For a random
permutation of ``n`` values with mean ``m_p`` and sample variance ``S_p^2``
(ddof=1), and fixed weights summing to 1,

.. math::

    E[\mathrm{STA}_p] = m_p, \qquad
    \mathrm{Var}[\mathrm{STA}_p] = S_p^2 \Big(\sum_f a_f^2 - \frac{1}{n}\Big),

exactly (the ``-1/n`` is the finite-population correction: with ``N`` spikes
spread over ``n`` frames at ``lambda = N / n`` spikes per frame, ``sum_f a_f^2``
is about ``(1 + 1 / lambda) / n``, so without it the standard deviation of a
densely firing unit would be overstated by ``sqrt(1 + lambda)``; the shift null,
which keeps the stimulus, agrees with the corrected form).  For independent,
identically distributed frames and ``N << n`` this is the familiar
``var_p * sum_f c_f^2 / (sum_f c_f)^2``.  No shifted train is needed: the cost
is one STA per unit instead of ``n_shifts + 1``.

``null_mean`` is then each pixel's mean over frames.  The shift null's mean is
the duration-weighted mean instead (shifted spikes fall uniformly in time, so a
long frame is seen more often); both estimate the pixel's mean, and with jittered
frames they differ by a small fraction of ``null_std`` (about 0.1 to 0.2 of it for
a unit with a few spikes per frame, 10 % jitter).
"""

from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_float, as_float_array, as_int, as_times
from sparsefield._npz import NpzMixin
from sparsefield.errors import InputError
from sparsefield.rf.binning import check_trial_starts, check_unit_spikes
from sparsefield.rf.sta import (
    STA,
    check_delays,
    check_trial_delays,
    delay_grid,
    frame_counts,
    shift_null,
    shift_offsets,
    zscore_map,
)

Floats: TypeAlias = NDArray[np.float64]
Ints: TypeAlias = NDArray[np.int64]

#: Nulls of :func:`sta_units`.
NULLS = ("shift", "analytic")

# Memory for one block of STA counts (:func:`_analytic_null`).
_BLOCK_BYTES = 64 * 2**20


@dataclass(frozen=True)
class UnitsSTA(NpzMixin):
    """Spike-triggered averages of every unit of a session and their null.

    Attributes
    ----------
    taus : ndarray of shape (n_taus,)
        Delays before the spike in seconds.
    sta : ndarray of shape (n_units, n_taus, n_pixels)
        Mean over a unit's spikes of the frame on screen ``taus[i]`` before the
        spike; NaN for a unit without a spike inside the edges.
    zscore : ndarray of shape (n_units, n_taus, n_pixels)
        ``(sta - null_mean) / null_std``; 0 where ``null_std`` is 0, NaN for a
        unit without spikes.
    null_mean, null_std : ndarray of shape (n_units, n_taus, n_pixels)
        Of the null (``null``).
    n_spikes : ndarray of shape (n_units,), int64
        Spikes of each unit inside ``[edges[0], edges[-1])``.
    n_shifts : int
        Shifted trains per unit (0 for the analytic null).
    null : str
        ``"shift"`` (circular shifts, as
        :func:`sparsefield.rf.sta.spike_triggered_average`) or ``"analytic"``
        (exchangeable frames; module docstring).
    """

    #: Fields with a leading units axis (the rest are shared by every unit).
    UNIT_FIELDS = ("sta", "zscore", "null_mean", "null_std", "n_spikes")

    taus: np.ndarray
    sta: np.ndarray
    zscore: np.ndarray
    null_mean: np.ndarray
    null_std: np.ndarray
    n_spikes: np.ndarray
    n_shifts: int
    null: str

    @property
    def n_units(self) -> int:
        """Number of units."""
        return self.sta.shape[0]

    def unit(self, index: int) -> STA:
        """The STA of one unit, as :func:`sparsefield.rf.sta.spike_triggered_average` returns it.

        Parameters
        ----------
        index : int
            0-based unit index.

        Returns
        -------
        STA
        """
        index = as_int(index, "unit", 0, self.n_units - 1)
        return STA(taus=self.taus, sta=self.sta[index], zscore=self.zscore[index],
                   null_mean=self.null_mean[index], null_std=self.null_std[index],
                   n_spikes=int(self.n_spikes[index]), n_shifts=self.n_shifts)


def _inside_ranges(spike_times: Floats, spike_offsets: Ints,
                   edges: Floats) -> tuple[Ints, Ints]:
    """Each unit's spikes inside ``[edges[0], edges[-1])``: ``spike_times[starts:stops]``."""
    def before(limit: float) -> Ints:
        below = np.concatenate(([0], np.cumsum(spike_times < limit)))
        return below[spike_offsets[1:]] - below[spike_offsets[:-1]]

    starts = spike_offsets[:-1] + before(edges[0])
    stops = spike_offsets[:-1] + before(edges[-1])
    return starts, stops


def _analytic_null(spike_times: Floats, starts: Ints, stops: Ints, units: Ints, edges: Floats,
                   taus: Floats, stimulus: Floats, trial_starts: Ints | None = None
                   ) -> tuple[Floats, Floats, Floats]:
    """STA and exchangeable-frames null of the given units (module docstring).

    With several trials the counts ``c_f`` hold only the spikes that saw frame ``f``
    within their own trial (:func:`sparsefield.rf.sta.frame_counts`); the null's
    formula is the same for any weights ``a_f = c_f / N`` over the frames, so it
    counts exactly the pairs the STA uses.

    Returns
    -------
    sta, null_mean, null_std : ndarray of shape (n_given, n_taus, n_pixels)
    """
    n_frames, n_pixels = stimulus.shape
    n_taus = taus.size
    pixel_mean = stimulus.mean(axis=0)
    pixel_sd = stimulus.std(axis=0, ddof=1)
    sta = np.empty((units.size, n_taus, n_pixels))
    null_std = np.empty((units.size, n_taus, n_pixels))
    no_shift = np.zeros(1)
    chunk = max(1, _BLOCK_BYTES // (8 * n_frames * n_taus))
    for first in range(0, units.size, chunk):
        block = units[first:first + chunk]
        # counts[f, b, j]: spikes of unit block[b] that saw frame f at taus[j]; as one
        # (n_frames, n_block * n_taus) matrix, one product with the stimulus serves
        # every unit of the block.
        counts = np.zeros((n_frames, block.size, n_taus))
        for position, unit in enumerate(block.tolist()):
            frame_counts(spike_times[starts[unit]:stops[unit]], no_shift, edges, taus,
                         counts[:, position:position + 1].transpose(1, 0, 2), trial_starts)
        flat = counts.reshape(n_frames, block.size * n_taus)
        sums = (flat.T @ stimulus).reshape(block.size, n_taus, n_pixels)
        n_used = flat.sum(axis=0).reshape(block.size, n_taus)
        sum_squares = np.einsum("fk,fk->k", flat, flat).reshape(block.size, n_taus)
        with np.errstate(invalid="ignore", divide="ignore"):
            sta[first:first + block.size] = sums / n_used[:, :, None]
            spread = np.sqrt(np.maximum(sum_squares / n_used**2 - 1.0 / n_frames, 0.0))
        null_std[first:first + block.size] = spread[:, :, None] * pixel_sd
    null_mean = np.broadcast_to(pixel_mean, sta.shape).copy()
    null_mean[np.isnan(null_std)] = np.nan
    return sta, null_mean, null_std


def _check_frames(edges: ArrayLike, stimulus: ArrayLike) -> tuple[Floats, Floats]:
    """The frame edges and the stimulus of :func:`sta_units`, checked together.

    Raises
    ------
    InputError
        Bad edges or stimulus, or a stimulus whose frames do not match the edges.
    """
    edges = as_times(edges, "edges", order="increasing", min_length=2, what="edge")
    stimulus = as_float_array(stimulus, "stimulus", 2)
    n_frames = stimulus.shape[0]
    if n_frames != edges.size - 1:
        raise InputError("stimulus", f"has {n_frames} frames but there are "
                         f"{edges.size - 1} frames between the edges (n_frames = len(edges) - 1)")
    return edges, stimulus


def sta_units(spike_times: ArrayLike, spike_offsets: ArrayLike, edges: ArrayLike,
              stimulus: ArrayLike, *, tau_max: float = 0.5, tau_step: float = 0.01,
              n_shifts: int = 200, seed: int | None = 0, null: str = "shift",
              trial_starts: ArrayLike | None = None) -> UnitsSTA:
    """Spike-triggered average of every unit of a session, with a null per unit.

    Parameters
    ----------
    spike_times : ndarray of shape (n_spikes,)
        Spike times in seconds of all units, concatenated, each unit's block
        sorted (:func:`sparsefield.rf.binning.check_unit_spikes`).
    spike_offsets : ndarray of int of shape (n_units + 1,)
        Unit ``u`` is ``spike_times[spike_offsets[u]:spike_offsets[u + 1]]``.
    edges : ndarray of shape (n_frames + 1,)
        Strictly increasing frame edges in seconds.
    stimulus : ndarray of shape (n_frames, n_pixels)
    tau_max, tau_step : float
        Delays ``0, tau_step, ..., tau_max`` in seconds.
    n_shifts : int
        Shifted trains per unit for ``null="shift"`` (>= 2); ignored otherwise.
    seed : int
        Seed of the shifts; every unit gets the offsets
        :func:`~sparsefield.rf.sta.spike_triggered_average` draws with this seed.
    null : {"shift", "analytic"}
        ``"shift"``: circular shifts, and ``result.unit(u)`` equals
        ``spike_triggered_average(unit u's spikes, edges, stimulus, ...)`` with
        the same seed.  ``"analytic"``: the exchangeable-frames null of the
        module docstring, mean and standard deviation in closed form (no
        shifted trains; ``null_mean`` is each pixel's mean over frames).
    trial_starts : array_like of int of shape (n_trials,), optional
        Index of each trial's first frame (:attr:`Session.trial_starts`); None for
        one trial.  A spike counts at delay ``tau`` only when ``t_spike - tau`` lies
        in its own trial, for the data and for each shifted train
        (:mod:`sparsefield.rf.sta`); both nulls count only these pairs.

    Returns
    -------
    UnitsSTA
        A unit without a spike inside ``[edges[0], edges[-1])`` gets NaN maps and
        ``n_spikes`` 0 (not an error).

    Raises
    ------
    InputError
        On bad spike times or offsets, edges, stimulus or options; delays that
        cannot make an STA (:func:`sparsefield.rf.sta.check_delays`: fewer than two,
        ``tau_max`` not shorter than the recording or its longest trial, or for
        ``"shift"`` a recording not longer than ``2 max(1 s, 2 tau_max)``); for
        ``"analytic"``, fewer than 2 frames.

    Notes
    -----
    Spikes are counted per (frame, tau) by the numba kernel of
    :func:`~sparsefield.rf.sta.spike_triggered_average`.  With the analytic
    null, the counts of a block of units form one matrix, so one BLAS product
    with the stimulus gives their STAs (blocks bounded to about 64 MiB of
    counts).  With the shift null each unit costs ``n_shifts + 1`` such
    products: use it to check the analytic null, not for hundreds of units.
    """
    spike_times, spike_offsets = check_unit_spikes(spike_times, spike_offsets)
    edges, stimulus = _check_frames(edges, stimulus)
    n_frames, n_pixels = stimulus.shape
    tau_step = as_float(tau_step, "tau_step", minimum=0, strict=True)
    tau_max = as_float(tau_max, "tau_max", minimum=0)
    if null not in NULLS:
        raise InputError("null", f"must be one of {NULLS}, got {null!r}")
    check_delays(tau_max, tau_step, edges[-1] - edges[0], null)
    trial_starts = check_trial_starts(trial_starts, n_frames)
    check_trial_delays(tau_max, edges, trial_starts)
    if null == "shift":
        n_shifts = as_int(n_shifts, "n_shifts", 2)
        offsets = shift_offsets(edges, tau_max, n_shifts, seed)
    else:
        n_shifts = 0
        if n_frames < 2:
            raise InputError("stimulus", "the analytic null needs at least 2 frames")

    taus = delay_grid(tau_max, tau_step)
    starts, stops = _inside_ranges(spike_times, spike_offsets, edges)
    n_spikes = stops - starts
    n_units = n_spikes.size
    shape = (n_units, taus.size, n_pixels)
    sta = np.full(shape, np.nan)
    null_mean = np.full(shape, np.nan)
    null_std = np.full(shape, np.nan)
    zscore = np.full(shape, np.nan)
    active = np.flatnonzero(n_spikes > 0)
    if null == "shift":
        for unit in active.tolist():
            sta[unit], null_mean[unit], null_std[unit], zscore[unit] = shift_null(
                spike_times[starts[unit]:stops[unit]], offsets, edges, taus, stimulus,
                trial_starts)
    elif active.size:
        (sta[active], null_mean[active], null_std[active]) = _analytic_null(
            spike_times, starts, stops, active, edges, taus, stimulus, trial_starts)
        zscore[active] = zscore_map(sta[active], null_mean[active], null_std[active])
    return UnitsSTA(taus=taus, sta=sta, zscore=zscore, null_mean=null_mean, null_std=null_std,
                    n_spikes=n_spikes.astype(np.int64), n_shifts=n_shifts, null=null)
