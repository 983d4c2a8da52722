"""Receptive fields of every unit of a session: what the population fits share.

A session is one stimulus, shape (n_frames, n_pixels), its frame edges, and the
spike times of ``n_units`` units (concatenated, see
:func:`sparsefield.rf.binning.check_unit_spikes`; counted per frame by
:func:`sparsefield.rf.binning.bin_units`).  The population functions fit all units
together and give, unit by unit, what the single-unit functions give:

- :func:`~sparsefield.rf.units_ml.fit_ml_units`, per unit
  :func:`~sparsefield.rf.ml.fit_ml`;
- :func:`~sparsefield.rf.units_lasso.fit_lasso_units`, per unit
  :func:`~sparsefield.rf.lasso_lags.fit_lasso_lags`;
- :func:`~sparsefield.rf.units_sta.sta_units`, per unit
  :func:`~sparsefield.rf.sta.spike_triggered_average`.

What is shared is done once: the checks (here), the centring of the stimulus, the
lagged designs (:mod:`sparsefield.rf.design`), the lasso's products with the design,
and the STA's random shifts and products with the stimulus.  This module also joins
the results of chunks of a session's units (:func:`unit_chunks`,
:func:`concatenate_units`).

Trials
------
Every function takes the session's ``trial_starts`` (the first frame of each trial,
:mod:`sparsefield.rf.binning`) and pairs a response only with a stimulus of its own
trial, as the single-unit functions do: the fits leave out the first ``k`` frames of
each trial at lag ``k`` (:func:`sparsefield.rf.design.lagged_frames`); the STA counts a
spike at delay ``tau`` only when ``t_spike - tau`` lies in the spike's trial, for the
data and for every shifted train of the shift null
(:func:`sparsefield.rf.units_sta.sta_units`).

Units that are not fitted
-------------------------
``fitted`` (n_units,) bool says which units to fit.  By default it is every unit
with at least one spike in frames ``max(lags)`` onwards (of their trial: the frames
the largest lag pairs; a unit without a spike there has no finite Poisson fit at
the largest lag); asking for such a unit explicitly is an error
(:func:`check_fitted`).  Units not fitted get NaN in every float field and -1 in
index fields, so that one silent unit does not stop a session.

A unit can also be asked for and still not be fitted, when its data give nothing to
estimate ("no signal", e.g. a constant stimulus): the ML fit stays at its zero-weight
start at every lag (the gradient there is zero), or the lasso's largest penalty
``lambda_max`` is 0 at every lag (the same, for the lasso; :func:`has_signal`).  Such a
unit is left out like an unfitted one, and the results' ``why`` (n_units,) says why, in
words for the units summary (:func:`sparsefield.rf.summary.unit_table`); ``why`` is ""
for every other unit.
"""

import dataclasses
from collections.abc import Iterable
from typing import Any, ClassVar, Protocol, TypeVar, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_int
from sparsefield.errors import InputError
from sparsefield.rf.binning import check_trial_starts
from sparsefield.rf.design import frames_at_lag_words, rows_at_lag


class UnitResult(Protocol):
    """What :func:`concatenate_units` joins: a dataclass of per-unit fields."""

    UNIT_FIELDS: ClassVar[tuple[str, ...]]
    __dataclass_fields__: ClassVar[dict[str, Any]]


# A result of the population fits (:class:`UnitResult`).
Result = TypeVar("Result", bound=UnitResult)


def unit_names(unit_ids: ArrayLike | None, n_units: int) -> list[str]:
    """What messages call each unit: ``"unit 17"`` (its id) or ``"unit index 3"``.

    Parameters
    ----------
    unit_ids : array_like of shape (n_units,) or None
        The units' ids; None names them by their 0-based index.
    n_units : int

    Returns
    -------
    names : list of str
        One per unit.

    Raises
    ------
    InputError
        When ``unit_ids`` does not hold ``n_units`` ids.
    """
    if unit_ids is None:
        return [f"unit index {index}" for index in range(n_units)]
    ids = np.asarray(unit_ids).ravel()
    if ids.size != n_units:
        raise InputError("unit_ids", f"expected {n_units} ids (one per unit), got {ids.size}")
    return [f"unit {unit_id}" for unit_id in ids.tolist()]


def why_array(reasons: Iterable[str]) -> NDArray[np.str_]:
    """Per-unit reasons as a fixed-width str array ("" for none).

    Parameters
    ----------
    reasons : iterable of str
        One per unit.

    Returns
    -------
    why : ndarray of shape (n_units,), str
    """
    return np.asarray(list(reasons), dtype=str).reshape(-1)


@overload
def has_signal(lambda_max: float, mean_counts: float,
               stimulus: NDArray[np.float64]) -> np.bool_: ...


@overload
def has_signal(lambda_max: NDArray[np.float64], mean_counts: ArrayLike,
               stimulus: NDArray[np.float64]) -> NDArray[np.bool_]: ...


def has_signal(lambda_max: ArrayLike, mean_counts: ArrayLike,
               stimulus: NDArray[np.float64]) -> NDArray[np.bool_] | np.bool_:
    """Whether a lasso ``lambda_max`` is more than rounding: the gradient of the mean
    Poisson NLL at zero weights is a mean of ``(expected - counts) * pixel`` terms, so
    in double precision a true 0 comes out as up to about 1e-16 times
    ``mean counts * the stimulus's range``; below 1e-10 times that there is no signal.

    Parameters
    ----------
    lambda_max : float or ndarray
    mean_counts : float or ndarray
        Mean counts per frame (of each unit).
    stimulus : ndarray of shape (n_frames, n_pixels)

    Returns
    -------
    bool or ndarray of bool
    """
    scale = np.asarray(mean_counts, dtype=float) * float(np.ptp(stimulus)) if stimulus.size \
        else 0.0
    lambda_max = np.asarray(lambda_max, dtype=float)
    return np.isfinite(lambda_max) & (lambda_max > 1e-10 * scale) & (lambda_max > 0)


def check_lags(lags: ArrayLike, n_frames: int) -> NDArray[np.int64]:
    """Non-empty 1-D integer lags in ``[0, n_frames - 1]``, as int64.

    Parameters
    ----------
    lags : sequence of int
    n_frames : int

    Returns
    -------
    lags : ndarray of shape (n_lags,), int64

    Raises
    ------
    InputError
        Naming ``lags``.
    """
    lags_array = np.asarray(lags)
    if lags_array.ndim != 1 or lags_array.size == 0:
        raise InputError("lags", f"expected a non-empty sequence of integers, got {lags!r}")
    return np.array([as_int(lag, "lags", 0, n_frames - 1) for lag in lags_array.tolist()],
                    dtype=np.int64)


def spikes_at_lag(counts: ArrayLike, lag: int,
                  trial_starts: ArrayLike | None = None) -> NDArray[Any] | np.number[Any]:
    """Each unit's spikes in the frames a fit at ``lag`` pairs with a stimulus.

    Parameters
    ----------
    counts : ndarray of shape (n_frames, n_units) or (n_frames,)
    lag : int
    trial_starts : array_like of int of shape (n_trials,), optional
        First frame of each trial; None for one trial.

    Returns
    -------
    ndarray of shape (n_units,) (or a scalar for 1-D counts)
        ``counts[lag:].sum(axis=0)`` for one trial; with several, the sum over the
        frames ``lag`` or more into their trial
        (:func:`sparsefield.rf.design.lagged_frames`).
    """
    counts = np.asarray(counts)
    starts = check_trial_starts(trial_starts, counts.shape[0])
    rows = rows_at_lag(int(lag), counts.shape[0], starts)
    return (counts[int(lag):] if rows is None else counts[rows]).sum(axis=0)


def _no_spike_words(max_lag: int, trial_starts: ArrayLike | None) -> str:
    """``why`` of a unit without a spike to fit at the largest lag."""
    return (f"no spike in {frames_at_lag_words(max_lag, trial_starts)} (needed for a fit at "
            f"lag {max_lag})")


def check_fitted(fitted: ArrayLike | None, counts: NDArray[Any], lags: NDArray[np.int64],
                 trial_starts: NDArray[np.int64] | None = None) -> NDArray[np.bool_]:
    """The mask of units to fit (module docstring, "Units that are not fitted").

    Parameters
    ----------
    fitted : array_like of bool of shape (n_units,) or None
    counts : ndarray of shape (n_frames, n_units)
    lags : ndarray of shape (n_lags,), int64
    trial_starts : ndarray of shape (n_trials,), int64, optional
        Checked; None for one trial.

    Returns
    -------
    fitted : ndarray of shape (n_units,), bool

    Raises
    ------
    InputError
        When ``counts`` has no unit, ``fitted`` is not a bool mask of the units, or it
        asks for a unit without a spike at the largest lag.
    """
    n_units = counts.shape[1]
    if n_units == 0:
        raise InputError("counts", "has no unit (0 columns)")
    max_lag = int(lags.max())
    rows = None if trial_starts is None else rows_at_lag(max_lag, counts.shape[0],
                                                         trial_starts)
    has_spikes = (counts[max_lag:] if rows is None else counts[rows]).sum(axis=0) > 0
    if fitted is None:
        return has_spikes
    mask = np.asarray(fitted)
    if mask.dtype != np.bool_ or mask.shape != (n_units,):
        raise InputError("fitted", f"expected a bool array of shape ({n_units},) (one entry "
                         f"per unit), got dtype {mask.dtype} and shape {mask.shape}")
    silent = np.flatnonzero(mask & ~has_spikes)
    if silent.size:
        raise InputError(
            "fitted",
            f"unit(s) {silent[:10].tolist()} (0-based index) have no spike in "
            f"{frames_at_lag_words(max_lag, trial_starts)} and cannot be fitted at lag "
            f"{max_lag}; leave them out of fitted",
        )
    return mask.copy()


def reasons_not_fitted(asked: ArrayLike | None, fitted: NDArray[np.bool_],
                       lags: NDArray[np.int64],
                       trial_starts: NDArray[np.int64] | None = None) -> list[str]:
    """The first ``why`` of each unit: why a unit left out by default is not fitted.

    Parameters
    ----------
    asked : array_like of bool of shape (n_units,) or None
        The caller's ``fitted``; when it is given, every unit it leaves out was left
        out on purpose, and gets no reason.
    fitted : ndarray of shape (n_units,), bool
        From :func:`check_fitted`.
    lags : ndarray of shape (n_lags,), int64
    trial_starts : ndarray of shape (n_trials,), int64, optional
        Checked; None for one trial.

    Returns
    -------
    why : list of str
        One per unit: "" for a unit to fit, else that it has no spike to fit at the
        largest lag.
    """
    why = [""] * fitted.size
    if asked is None:
        max_lag = int(lags.max())
        for unit in np.flatnonzero(~fitted).tolist():
            why[unit] = _no_spike_words(max_lag, trial_starts)
    return why


def concatenate_units(parts: Iterable[Result]) -> Result:
    """Join the results of consecutive chunks of a session's units along the units axis.

    Parameters
    ----------
    parts : sequence of UnitsML, UnitsLasso, UnitsSTA or UnitsSeparation
        Results of the same class for units ``0..k-1``, ``k..2k-1``, ... of one session,
        in order (e.g. from jobs of ``units_per_job`` units each).

    Returns
    -------
    The same class, with every field listed in its ``UNIT_FIELDS`` concatenated and the
    shared fields (lags, delays, fold blocks, options) taken from the parts, which must
    agree on them exactly.  Every unit's fit depends only on that unit's data, so the
    result equals (byte for byte) fitting all units in one call.

    Raises
    ------
    InputError
        When the parts are of different classes or disagree on a shared field.
    """
    parts = list(parts)
    if not parts:
        raise InputError("parts", "needs at least one chunk")
    kind = type(parts[0])
    if any(type(part) is not kind for part in parts):
        raise InputError("parts", "chunks of different kinds of result cannot be joined")
    values = {}
    for field in dataclasses.fields(kind):
        items = [getattr(part, field.name) for part in parts]
        if field.name in kind.UNIT_FIELDS:
            values[field.name] = np.concatenate(items, axis=0)
            continue
        first = items[0]
        same = all(np.array_equal(first, item, equal_nan=isinstance(first, np.ndarray)
                                  and first.dtype.kind == "f") for item in items[1:])
        if not same:
            raise InputError("parts", f"chunks disagree on {field.name!r}; they must come from "
                             "the same session and settings")
        values[field.name] = first
    return kind(**values)


def unit_chunks(n_units: int, units_per_job: int) -> list[slice]:
    """Consecutive chunks of a session's units, one per job.

    Parameters
    ----------
    n_units : int
    units_per_job : int
        Units per chunk; 0 puts every unit in one chunk.

    Returns
    -------
    chunks : list of slice
        ``[slice(0, k), slice(k, 2k), ...]`` covering ``range(n_units)`` (one empty
        chunk when there are no units).
    """
    n_units = as_int(n_units, "n_units", minimum=0)
    units_per_job = as_int(units_per_job, "units_per_job", minimum=0)
    if units_per_job == 0 or n_units == 0:
        return [slice(0, n_units)]
    return [slice(start, min(start + units_per_job, n_units))
            for start in range(0, n_units, units_per_job)]
