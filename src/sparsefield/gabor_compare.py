"""Measured receptive fields against learned atoms: Olshausen & Field's question in numbers.

Ringach (2002) compared V1 receptive fields with sparse-coding atoms by their envelope
sizes in carrier periods, ``(n_x, n_y)``: the plane does not depend on the pixel size,
so maps measured on a stimulus and atoms learned from image patches can share it.  This
module compares the well-fitted maps (:mod:`sparsefield.gabor_table`) of a session with
those of each sparse-coding run: the medians of orientation, spatial frequency and
envelope aspect ratio, and the energy distance between the two ``(n_x, n_y)``
distributions with a bootstrap interval (:func:`energy_distance_interval`).

Energy distance (Székely & Rizzo 2013) between samples ``X`` and ``Y``::

    E = 2 mean |x - y| - mean |x - x'| - mean |y - y'|

with Euclidean distances, ``E >= 0`` and 0 only for equal distributions.  The
within-sample means are over pairs of distinct points (the U-statistic, unbiased, so an
estimate may fall slightly below 0 when the distributions are the same; a sample of one
point has no pair and contributes 0); ``unbiased=False`` gives the V-statistic, which also
averages the zero distances of each point to itself (``scipy.stats.energy_distance`` in
1-D is its square root).  The interval resamples each sample with replacement
``n_bootstrap`` times from ``default_rng(seed)`` and takes the 2.5 and 97.5 percentiles;
pairs of copies of the same point are left out of the resampled within-sample means, as
they are of the estimate's, since copies would otherwise pull the within-sample spread
down and every resampled distance up (an interval above the estimate).
"""

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial.distance import cdist

from sparsefield._checks import as_float_array, as_int
from sparsefield.gabor_table import GaborTable

#: Default bootstrap resamples of the energy distance's interval.
N_BOOTSTRAP = 1000
#: Coverage of the bootstrap interval.
LEVEL = 0.95


def energy_distance(x: ArrayLike, y: ArrayLike, *, unbiased: bool = True) -> float:
    """The energy distance between two samples of points (module docstring).

    Parameters
    ----------
    x : array_like of shape (n_x, n_dims)
    y : array_like of shape (n_y, n_dims)
    unbiased : bool
        Within-sample means over pairs of distinct points (U-statistic), or over all
        pairs (V-statistic).

    Returns
    -------
    float
        NaN when either sample is empty.
    """
    x = as_float_array(x, "x", 2)
    y = as_float_array(y, "y", 2)
    if x.shape[0] == 0 or y.shape[0] == 0:
        return float("nan")
    if unbiased:
        return _energy(cdist(x, y), cdist(x, x), cdist(y, y), None, None)
    return float(2.0 * cdist(x, y).mean() - cdist(x, x).mean() - cdist(y, y).mean())


def _within(distances: NDArray[np.float64], picks: NDArray[np.intp] | None) -> float:
    """Mean distance over pairs of distinct points (of distinct original indices
    ``picks`` in a resample); 0 without such a pair.
    """
    if picks is None:
        picks = np.arange(distances.shape[0])
    distinct = picks[:, None] != picks[None, :]
    return float(distances[distinct].mean()) if distinct.any() else 0.0


def _energy(between: NDArray[np.float64], within_x: NDArray[np.float64],
            within_y: NDArray[np.float64], picks_x: NDArray[np.intp] | None,
            picks_y: NDArray[np.intp] | None) -> float:
    """The U-statistic from the three distance matrices (of the resample ``picks``)."""
    return float(2.0 * between.mean() - _within(within_x, picks_x) - _within(within_y, picks_y))


def energy_distance_interval(x: ArrayLike, y: ArrayLike, *, n_bootstrap: int = N_BOOTSTRAP,
                             seed: int = 0) -> tuple[float, float, float]:
    """The energy distance (U-statistic) and its bootstrap interval.

    Parameters
    ----------
    x : array_like of shape (n_x, n_dims)
    y : array_like of shape (n_y, n_dims)
    n_bootstrap : int
        Resamples (>= 0; 0: no interval).
    seed : int
        Seed of the resamples.

    Returns
    -------
    distance, low, high : float
        The distance of the samples and the :data:`LEVEL` percentile interval of the
        resampled distances (NaN without an interval or with an empty sample).
    """
    x = as_float_array(x, "x", 2)
    y = as_float_array(y, "y", 2)
    n_bootstrap = as_int(n_bootstrap, "n_bootstrap", 0)
    if x.shape[0] == 0 or y.shape[0] == 0:
        return float("nan"), float("nan"), float("nan")
    between, within_x, within_y = cdist(x, y), cdist(x, x), cdist(y, y)
    distance = _energy(between, within_x, within_y, None, None)
    if n_bootstrap == 0:
        return distance, float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    draws = np.empty(n_bootstrap)
    for index in range(n_bootstrap):
        pick_x: NDArray[np.intp] = rng.integers(0, x.shape[0], size=(x.shape[0],))
        pick_y: NDArray[np.intp] = rng.integers(0, y.shape[0], size=(y.shape[0],))
        draws[index] = _energy(between[np.ix_(pick_x, pick_y)],
                               within_x[np.ix_(pick_x, pick_x)],
                               within_y[np.ix_(pick_y, pick_y)], pick_x, pick_y)
    tail = 100.0 * (1.0 - LEVEL) / 2.0
    low, high = np.percentile(draws, [tail, 100.0 - tail])
    return distance, float(low), float(high)


def ringach_points(table: GaborTable) -> NDArray[np.float64]:
    """The ``(n_x, n_y)`` of a table's well-fitted maps.

    Parameters
    ----------
    table : GaborTable

    Returns
    -------
    ndarray of shape (n_well_fitted, 2)
    """
    keep = table.well_fitted & np.isfinite(table.n_x) & np.isfinite(table.n_y)
    return np.column_stack([table.n_x[keep], table.n_y[keep]])


def last_epoch(table: GaborTable) -> GaborTable:
    """The rows of a table's last epoch (a dictionary's final atoms).

    Parameters
    ----------
    table : GaborTable

    Returns
    -------
    GaborTable
    """
    if len(table) == 0:
        return table
    return table.select(table.epoch == table.epoch.max())


def comparison_rows(measured: GaborTable, learned: Mapping[str, GaborTable], *,
                    n_bootstrap: int = N_BOOTSTRAP, seed: int = 0) -> list[dict[str, Any]]:
    """One row per sparse-coding run: measured units against the run's final atoms.

    Parameters
    ----------
    measured : GaborTable
        A session's fits (:func:`sparsefield.gabor_table.fit_unit_maps`).
    learned : mapping of str to GaborTable
        Run name (``<scheme>-J<J>-<solver>``) to its atoms' fits
        (:func:`sparsefield.gabor_table.fit_atoms`); the last epoch is compared.
    n_bootstrap, seed
        Of :func:`energy_distance_interval` (the same seed for every run).

    Returns
    -------
    list of dict
        ``run``, ``scheme``, ``n_units``, ``n_units_well_fitted``, ``n_atoms``,
        ``n_atoms_well_fitted``, the medians over well-fitted maps of spatial
        frequency (cycles per pixel; the units' also in cycles per degree), aspect
        ratio, ``n_x`` and ``n_y`` for units and atoms, and
        ``energy_distance``, ``energy_low``, ``energy_high``, ``n_bootstrap``, ``seed``.
    """
    units = measured.select(measured.well_fitted)
    unit_points = ringach_points(measured)
    rows = []
    for run, table in learned.items():
        atoms = last_epoch(table)
        well = atoms.select(atoms.well_fitted)
        distance, low, high = energy_distance_interval(
            unit_points, ringach_points(atoms), n_bootstrap=n_bootstrap, seed=seed)
        row: dict[str, Any] = {
            "run": run, "scheme": run.split("-")[0],
            "n_units": len(measured), "n_units_well_fitted": len(units),
            "n_atoms": len(atoms), "n_atoms_well_fitted": len(well),
        }
        for who, fits in (("units", units), ("atoms", well)):
            row[f"{who}_sf_cpp"] = _median(fits.frequency)
            if who == "units":
                row["units_sf_cpd"] = _median(fits.frequency_deg)
            row[f"{who}_aspect"] = _median(fits.aspect)
            row[f"{who}_n_x"] = _median(fits.n_x)
            row[f"{who}_n_y"] = _median(fits.n_y)
        row.update(energy_distance=distance, energy_low=low, energy_high=high,
                   n_bootstrap=int(n_bootstrap), seed=int(seed))
        rows.append(row)
    return rows


def _median(values: NDArray[np.float64]) -> float:
    """Median of the finite values; NaN when there are none."""
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else float("nan")
