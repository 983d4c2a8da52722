r"""Spike-triggered covariance of every unit of a session (issue 12, item 4).

Each fitted unit gets :func:`sparsefield.rf.stc.spike_triggered_covariance` over lags
``0 .. n_lags - 1`` of a window of pixels: on a 2-D stimulus a ``patch x patch``
square centred on the unit's RF centre (the moment fit of its lasso spatial map,
moved inside the frame where it would cross an edge), else the whole frame (bars, full
field, or ``patch = 0``).  A full-frame window of the default session (20 x 15 pixels x
5 lags = 1500 dimensions) costs ~1 s per covariance and ``n_shifts + 2`` of them per
unit; a 5 x 5 patch (125 dimensions) costs ~1/150 of that and holds a V1-sized RF.

Per-unit properties, not errors (the unit's ``why``): a window with more than
``max_dims`` dimensions (``"stc: too many dimensions (N > stc.max_dims)"``), and a
window with at least as many dimensions as the unit has spikes that see it (the
covariance would be singular).

With a significant axis, the quadratic (energy) model on the significant filters
(:func:`sparsefield.rf.nonlinearity.energy_model_scores`) is scored on ``n_folds``
held-out blocks of the window's frames, in bits per spike.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_int
from sparsefield._npz import NpzMixin
from sparsefield.errors import FitError, InputError
from sparsefield.rf.nonlinearity import energy_model_scores
from sparsefield.rf.stc import STC, spike_triggered_covariance
from sparsefield.rf.units import unit_names, why_array

LOG = logging.getLogger(__name__)

#: Significant filters of each kind kept per unit (the counts keep every one).
MAX_FILTERS = 4


@dataclass(frozen=True)
class UnitsSTC(NpzMixin):
    """Spike-triggered covariance of every unit of a session (module docstring).

    Attributes
    ----------
    n_lags : int
        Lags ``0 .. n_lags - 1`` of the window.
    n_shifts : int
    alpha : float
    frame_shape : ndarray of shape (2,), int64
    window_shape : ndarray of shape (2,), int64
        Shape of every unit's window of pixels (the patch, or the frame).
    unit_ids : ndarray of shape (n_units,), int64
    analysed : ndarray of shape (n_units,), bool
    why : ndarray of shape (n_units,), str
        Why a unit was not analysed; "" for the others.
    pixels : ndarray of shape (n_units, n_window_pixels), int64
        The window's pixels (flat C-order indices into the frame).
    eigenvalues : ndarray of shape (n_units, n_dims)
        Decreasing; NaN-padded (one fewer when the STA was projected out).
    null_band : ndarray of shape (n_units, 2)
        The last round's ``[lower, upper]`` band.
    n_excitatory, n_suppressive : ndarray of shape (n_units,), int64
        Significant axes of each kind.
    excitatory, suppressive : ndarray of shape (n_units, MAX_FILTERS, n_lags, n_window_pixels)
        The first significant filters of each kind, NaN-padded.
    excitatory_eigenvalues, suppressive_eigenvalues : ndarray of shape (n_units, MAX_FILTERS)
    sta : ndarray of shape (n_units, n_lags, n_window_pixels)
    sta_norm : ndarray of shape (n_units,)
    sta_null_band : ndarray of shape (n_units, 2)
    sta_projected : ndarray of shape (n_units,), bool
    n_spikes : ndarray of shape (n_units,)
        Spikes that see a whole window.
    energy_bits_per_spike : ndarray of shape (n_units,)
        Held-out bits per spike of the energy model; NaN without a significant axis.
    """

    UNIT_FIELDS = ("unit_ids", "analysed", "why", "pixels", "eigenvalues", "null_band",
                   "n_excitatory", "n_suppressive", "excitatory", "suppressive",
                   "excitatory_eigenvalues", "suppressive_eigenvalues", "sta", "sta_norm",
                   "sta_null_band", "sta_projected", "n_spikes", "energy_bits_per_spike")

    n_lags: int
    n_shifts: int
    alpha: float
    frame_shape: np.ndarray
    window_shape: np.ndarray
    unit_ids: np.ndarray
    analysed: np.ndarray
    why: np.ndarray
    pixels: np.ndarray
    eigenvalues: np.ndarray
    null_band: np.ndarray
    n_excitatory: np.ndarray
    n_suppressive: np.ndarray
    excitatory: np.ndarray
    suppressive: np.ndarray
    excitatory_eigenvalues: np.ndarray
    suppressive_eigenvalues: np.ndarray
    sta: np.ndarray
    sta_norm: np.ndarray
    sta_null_band: np.ndarray
    sta_projected: np.ndarray
    n_spikes: np.ndarray
    energy_bits_per_spike: np.ndarray

    @property
    def n_units(self) -> int:
        """Number of units (analysed or not)."""
        return int(self.unit_ids.size)

    def unit_filters(self, index: int) -> tuple[NDArray[np.float64], list[str]]:
        """The STA and the unit's kept significant filters, with a label each.

        Returns
        -------
        filters : ndarray of shape (n_shown, n_lags, n_window_pixels)
            The STA, the excitatory filters, then the suppressive ones (NaN padding
            left out); none for a unit not analysed.
        labels : list of str
        """
        if not self.analysed[index]:
            return np.empty((0, self.n_lags, self.pixels.shape[1])), []
        below = self.sta_norm[index] < self.sta_null_band[index, 1]
        shown = [self.sta[index]]
        labels = [f"STA (norm {self.sta_norm[index]:.3g}{', noise' if below else ''})"]
        for kind, short in (("excitatory", "exc"), ("suppressive", "sup")):
            count = min(int(getattr(self, f"n_{kind}")[index]), MAX_FILTERS)
            for rank in range(count):
                shown.append(getattr(self, kind)[index, rank])
                value = getattr(self, f"{kind}_eigenvalues")[index, rank]
                labels.append(f"{short} {rank + 1} ({value:.3g})")
        return np.array(shown), labels


def window_shape(frame_shape: Sequence[int], patch: int) -> tuple[int, int]:
    """The shape ``(rows, cols)`` of the window :func:`window_pixels` takes."""
    height, width = (int(size) for size in frame_shape)
    if patch == 0 or min(height, width) == 1:
        return height, width
    return min(patch, height), min(patch, width)


def window_pixels(frame_shape: Sequence[int], centre: Sequence[float] | None,
                  patch: int) -> NDArray[np.int64]:
    """The pixels of a unit's STC window.

    Parameters
    ----------
    frame_shape : (height, width)
    centre : (row, col) or None
        The RF centre in pixels; None (or non-finite) takes the frame's centre.
    patch : int
        Side of the square window on a 2-D frame (``>= 1``); 0, or a frame with a side
        of 1 (bars, full field), gives the whole frame.

    Returns
    -------
    pixels : ndarray of shape (n_window_pixels,), int64
        Flat C-order indices, row by row; the square is moved inside the frame where it
        would cross an edge, so every unit of a session has the same number of pixels.
    """
    height, width = (int(size) for size in frame_shape)
    if patch == 0 or min(height, width) == 1 or (patch >= height and patch >= width):
        return np.arange(height * width, dtype=np.int64)
    if centre is None or not np.all(np.isfinite(centre)):
        centre = ((height - 1) / 2, (width - 1) / 2)
    starts = []
    for middle, size in zip(centre, (height, width), strict=True):
        side = min(patch, size)
        starts.append((min(max(int(round(middle - (side - 1) / 2)), 0), size - side), side))
    (row, rows), (col, cols) = starts
    grid = np.arange(height * width, dtype=np.int64).reshape(height, width)
    return grid[row:row + rows, col:col + cols].ravel()


def rf_centre(spatial: ArrayLike, frame_shape: Sequence[int]) -> NDArray[np.float64]:
    """The centre ``(row, col)`` of a unit's whole RF: the moment fit of ``|spatial|`` (a
    Gabor's envelope, not its strongest lobe).

    Parameters
    ----------
    spatial : ndarray of shape (n_pixels,)
        A spatial map (e.g. the lasso separation's).
    frame_shape : (height, width)

    Returns
    -------
    centre : ndarray of shape (2,)
        NaN for an all-zero or non-finite map.
    """
    from sparsefield.rf.shape import moment_fit

    spatial = np.asarray(spatial, dtype=np.float64)
    if not (np.any(spatial) and np.all(np.isfinite(spatial))):
        return np.full(2, np.nan)
    return np.asarray(moment_fit(np.abs(spatial), frame_shape).centre, dtype=np.float64)


def _padded(values: NDArray[np.float64], size: int) -> NDArray[np.float64]:
    """``values`` along axis 0, cut or NaN-padded to ``size`` rows."""
    out = np.full((size, *values.shape[1:]), np.nan)
    out[:min(size, values.shape[0])] = values[:size]
    return out


def stc_units(stimulus: ArrayLike, counts: ArrayLike, durations: ArrayLike,
              frame_shape: Sequence[int], fitted: ArrayLike, centres: ArrayLike, *,
              n_lags: int, patch: int, max_dims: int, n_shifts: int, alpha: float,
              seed: int, n_folds: int, unit_ids: ArrayLike | None = None,
              trial_starts: ArrayLike | None = None) -> UnitsSTC:
    """STC of each fitted unit over its window (module docstring).

    Parameters
    ----------
    stimulus : ndarray of shape (n_frames, n_pixels)
    counts : ndarray of shape (n_frames, n_units)
    durations : ndarray of shape (n_frames,)
        Frame durations in seconds (the energy model's exposure).
    frame_shape : (height, width)
    fitted : ndarray of shape (n_units,), bool
        Units to analyse (the others get ``why = "not fitted"``).
    centres : ndarray of shape (n_units, 2)
        RF centres ``(row, col)`` in pixels; NaN: the frame's centre.
    n_lags, patch, max_dims, n_shifts : int
    alpha : float
    seed : int
        Seed of the shift null (the same shifts for every unit).
    n_folds : int
        Held-out blocks of the energy model's score.
    unit_ids : array_like of shape (n_units,), optional
    trial_starts : array_like of int, optional

    Returns
    -------
    UnitsSTC
    """
    stimulus = np.asarray(stimulus, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.float64)
    n_units = counts.shape[1]
    n_lags = as_int(n_lags, "n_lags", 1)
    patch = as_int(patch, "patch", 0)
    max_dims = as_int(max_dims, "max_dims", 1)
    fitted = np.asarray(fitted, dtype=bool)
    centres = np.asarray(centres, dtype=np.float64).reshape(n_units, 2)
    names = unit_names(unit_ids, n_units)
    ids = np.arange(n_units) if unit_ids is None else np.asarray(unit_ids)
    pixels = np.array([window_pixels(frame_shape, centres[unit], patch)
                       for unit in range(n_units)], dtype=np.int64).reshape(n_units, -1)
    n_window = pixels.shape[1]
    n_dims = n_lags * n_window
    shape = (n_units, MAX_FILTERS, n_lags, n_window)
    out = {
        "analysed": np.zeros(n_units, bool), "eigenvalues": np.full((n_units, n_dims), np.nan),
        "null_band": np.full((n_units, 2), np.nan), "n_excitatory": np.zeros(n_units, np.int64),
        "n_suppressive": np.zeros(n_units, np.int64), "excitatory": np.full(shape, np.nan),
        "suppressive": np.full(shape, np.nan),
        "excitatory_eigenvalues": np.full((n_units, MAX_FILTERS), np.nan),
        "suppressive_eigenvalues": np.full((n_units, MAX_FILTERS), np.nan),
        "sta": np.full((n_units, n_lags, n_window), np.nan), "sta_norm": np.full(n_units, np.nan),
        "sta_null_band": np.full((n_units, 2), np.nan),
        "sta_projected": np.zeros(n_units, bool), "n_spikes": np.zeros(n_units),
        "energy_bits_per_spike": np.full(n_units, np.nan),
    }
    why = []
    for unit in range(n_units):
        if not fitted[unit]:
            why.append("not fitted")
            continue
        if n_dims > max_dims:
            why.append(f"stc: too many dimensions ({n_lags} lags x {n_window} pixels = "
                       f"{n_dims} > stc.max_dims = {max_dims})")
            continue
        window = stimulus[:, pixels[unit]]
        try:
            stc = spike_triggered_covariance(window, counts[:, unit], n_lags, n_shifts=n_shifts,
                                             alpha=alpha, seed=seed, trial_starts=trial_starts)
        except InputError as error:
            if error.source != "n_lags":
                raise
            why.append(f"stc: {error.problem} ({names[unit]})")
            continue
        why.append("")
        _store(out, unit, stc)
        if stc.excitatory.shape[0] + stc.suppressive.shape[0]:
            try:
                _, scores = energy_model_scores(
                    window, counts[:, unit], durations, n_lags,
                    n_excitatory=stc.excitatory.shape[0],
                    n_suppressive=stc.suppressive.shape[0], project_sta=stc.sta_projected,
                    trial_starts=trial_starts, n_folds=n_folds)
                out["energy_bits_per_spike"][unit] = scores.bits_per_spike
            except FitError as error:  # its score stays NaN: said, not silent
                LOG.warning("%s: the energy model on its %d STC axes could not be fitted "
                            "(%s); bits_per_spike_energy is left empty", names[unit],
                            stc.excitatory.shape[0] + stc.suppressive.shape[0], error)
    return UnitsSTC(n_lags=n_lags, n_shifts=int(n_shifts), alpha=float(alpha),
                    frame_shape=np.asarray(frame_shape, dtype=np.int64),
                    window_shape=np.asarray(window_shape(frame_shape, patch), dtype=np.int64),
                    unit_ids=np.asarray(ids, dtype=np.int64), why=why_array(why),
                    pixels=pixels, **out)


def _store(out: dict[str, NDArray[Any]], unit: int, stc: STC) -> None:
    """Copy one unit's :class:`sparsefield.rf.stc.STC` into the padded arrays."""
    out["analysed"][unit] = True
    out["eigenvalues"][unit, :stc.eigenvalues.size] = stc.eigenvalues
    out["null_band"][unit] = stc.null_band
    out["n_excitatory"][unit] = stc.excitatory.shape[0]
    out["n_suppressive"][unit] = stc.suppressive.shape[0]
    for kind in ("excitatory", "suppressive"):
        out[kind][unit] = _padded(getattr(stc, kind), MAX_FILTERS)
        out[f"{kind}_eigenvalues"][unit] = _padded(getattr(stc, f"{kind}_eigenvalues"),
                                                   MAX_FILTERS)
    out["sta"][unit] = stc.sta
    out["sta_norm"][unit] = stc.sta_norm
    out["sta_null_band"][unit] = stc.sta_null_band
    out["sta_projected"][unit] = stc.sta_projected
    out["n_spikes"][unit] = stc.n_spikes


def stc_columns(stc: UnitsSTC, index: int) -> dict[str, object]:
    """The summary columns of one unit (:func:`sparsefield.rf.summary.unit_table`).

    Returns
    -------
    dict
        ``stc_n_excitatory``, ``stc_n_suppressive``, ``stc_top_eigenvalue``,
        ``stc_bottom_eigenvalue``, ``stc_null_lower``/``stc_null_upper``,
        ``stc_sta_below_null`` (the STA's norm is below the upper edge of its null
        band: no linear RF distinguishable from 0) and ``bits_per_spike_energy``; for a
        unit not analysed, ``stc_why``.
    """
    if not stc.analysed[index]:
        return {"stc_why": str(stc.why[index])}
    values = stc.eigenvalues[index]
    values = values[np.isfinite(values)]
    return {
        "stc_n_excitatory": int(stc.n_excitatory[index]),
        "stc_n_suppressive": int(stc.n_suppressive[index]),
        "stc_top_eigenvalue": float(values[0]),
        "stc_bottom_eigenvalue": float(values[-1]),
        "stc_null_lower": float(stc.null_band[index, 0]),
        "stc_null_upper": float(stc.null_band[index, 1]),
        "stc_sta_below_null": bool(stc.sta_norm[index] < stc.sta_null_band[index, 1]),
        "bits_per_spike_energy": float(stc.energy_bits_per_spike[index]),
    }


__all__ = ["MAX_FILTERS", "UnitsSTC", "rf_centre", "stc_columns", "stc_units", "window_pixels",
           "window_shape"]
