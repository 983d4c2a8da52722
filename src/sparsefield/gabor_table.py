"""Gabor fits of measured receptive fields and of learned atoms, as one kind of table.

:mod:`sparsefield.gabor` fits maps; this module decides *which* maps (a session's
rank-1 spatial maps by stimulus geometry, a dictionary's atoms by epoch), keeps their
ids, and turns the fits into the numbers the workflow reports: a :class:`GaborTable`
per session (``results/<recording>/gabor.npz``) or per sparse-coding run
(``results/sparse/<run>/gabor.npz``), the per-unit summary columns
(:func:`unit_columns`, with the errors against a simulated truth) and a run's
"well fitted" share (:func:`atom_gabor_summary`).

Geometry
--------
A 2-D stimulus (``grid``) gets the 2-D Gabor of :func:`sparsefield.gabor.fit_gabors`.
Bars (``(1, width)`` or ``(height, 1)``) get the 1-D Gabor
(:func:`~sparsefield.gabor.fit_gabors_1d`) along the bars' axis: ``frequency``,
``sigma_x`` (the envelope SD along that axis), ``x0`` and ``n_x`` are filled, the
orientation, ``sigma_y``, ``y0``, ``n_y`` and the aspect ratio are NaN (one axis has
no orientation).  A full-field stimulus has no spatial map: every unit is flagged.

Well fitted
-----------
A map is *well fitted* when the Gabor is the chosen model (the BIC of
:mod:`sparsefield.gabor`), its R^2 is at least ``r2_threshold`` and above the R^2 of the
same fit to the shuffled map (:meth:`sparsefield.gabor.GaborFits.well_fitted`).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_float, as_float_array, as_int
from sparsefield._npz import NpzMixin
from sparsefield.errors import InputError
from sparsefield.gabor import fit_gabors, fit_gabors_1d
from sparsefield.rf.shape import stimulus_geometry

#: Default R^2 a Gabor fit needs to count as well fitted.
R2_THRESHOLD = 0.8

#: Float columns of a :class:`GaborTable`, shape (n_maps,) each.
FLOAT_COLUMNS = ("x0", "y0", "sigma_x", "sigma_y", "orientation", "frequency", "phase",
                 "amplitude", "n_x", "n_y", "aspect", "r2", "null_r2", "r2_gaussian")

#: Why a map of a full-field stimulus is not fitted.
FULL_FIELD = "full-field stimulus: no spatial map to fit"
#: Why a unit without a map (not fitted by the lasso) is not fitted.
NO_MAP = "no receptive field map (the unit was not fitted)"


@dataclass(frozen=True)
class GaborTable(NpzMixin):
    """Gabor fits of a batch of maps with their ids, one entry per map.

    Attributes
    ----------
    ids : ndarray of shape (n_maps,), int
        Unit ids (measured receptive fields) or atom indices, 0-based (atoms).
    epoch : ndarray of shape (n_maps,), int
        Epoch (1-based) of the dictionary an atom comes from; 0 for receptive fields.
    model : ndarray of shape (n_maps,), str
        ``'gabor'``, ``'gaussian'`` (no carrier; :mod:`sparsefield.gabor`) or ``'none'``.
    why : ndarray of shape (n_maps,), str
        Why a map was not fitted (all zero, NaN pixels, too small, full field, no map);
        ``''`` for fitted maps.
    x0, y0 : ndarray of shape (n_maps,)
        Envelope centre, column and row in pixels (bars: ``x0`` along the bars' axis).
    sigma_x, sigma_y : ndarray of shape (n_maps,)
        Envelope SDs in pixels along and across the carrier.
    orientation : ndarray of shape (n_maps,)
        Direction of the carrier's wave vector in degrees, ``[0, 180)``, counted as
        :attr:`sparsefield.rf.neuron.NeuronModel.orientation` is (0: vertical stripes).
    frequency : ndarray of shape (n_maps,)
        Carrier frequency in cycles per pixel.
    phase : ndarray of shape (n_maps,)
        Carrier phase in radians.
    amplitude : ndarray of shape (n_maps,)
        In the map's units.
    n_x, n_y : ndarray of shape (n_maps,)
        Ringach's envelope sizes in carrier periods, ``sigma * frequency``.
    aspect : ndarray of shape (n_maps,)
        Envelope aspect ratio ``sigma_y / sigma_x``.
    r2, null_r2, r2_gaussian : ndarray of shape (n_maps,)
        R^2 of the Gabor, of the Gabor on the shuffled map, of the no-carrier model.
    well_fitted : ndarray of shape (n_maps,), bool
        Module docstring.
    dims : int
        2 (2-D maps), 1 (bars) or 0 (full field: nothing fitted).
    frame_shape : tuple of int
        ``(height, width)`` of the maps.
    r2_threshold : float
        The R^2 of ``well_fitted``.
    pixel_size_deg : float
        Degrees of visual angle per pixel; NaN when not known.
    seed : int
        Seed of the shuffles of the null.
    """

    ids: np.ndarray
    epoch: np.ndarray
    model: np.ndarray
    why: np.ndarray
    x0: np.ndarray
    y0: np.ndarray
    sigma_x: np.ndarray
    sigma_y: np.ndarray
    orientation: np.ndarray
    frequency: np.ndarray
    phase: np.ndarray
    amplitude: np.ndarray
    n_x: np.ndarray
    n_y: np.ndarray
    aspect: np.ndarray
    r2: np.ndarray
    null_r2: np.ndarray
    r2_gaussian: np.ndarray
    well_fitted: np.ndarray
    dims: int
    frame_shape: tuple
    r2_threshold: float
    pixel_size_deg: float
    seed: int

    def __len__(self) -> int:
        return int(self.ids.size)

    @property
    def frequency_deg(self) -> NDArray[np.float64]:
        """Carrier frequency in cycles per degree, shape (n_maps,); NaN without a pixel size."""
        return self.frequency / self.pixel_size_deg

    def select(self, keep: ArrayLike) -> "GaborTable":
        """The rows ``keep`` (a boolean mask or indices) as a new table.

        Parameters
        ----------
        keep : array_like of bool of shape (n_maps,) or of int

        Returns
        -------
        GaborTable
        """
        keep = np.asarray(keep)
        rows = {name: getattr(self, name)[keep] for name in _ROW_FIELDS}
        return GaborTable(**rows, dims=self.dims, frame_shape=self.frame_shape,
                          r2_threshold=self.r2_threshold, pixel_size_deg=self.pixel_size_deg,
                          seed=self.seed)


_ROW_FIELDS = ("ids", "epoch", "model", "why", *FLOAT_COLUMNS, "well_fitted")


def fit_unit_maps(spatial: ArrayLike, frame_shape: Sequence[int], unit_ids: ArrayLike, *,
                  n_orientations: int = 3, n_frequencies: int = 3, n_frequencies_1d: int = 5,
                  bic_margin: float = 6.0, r2_threshold: float = R2_THRESHOLD,
                  pixel_size_deg: float | None = None, seed: int = 0) -> GaborTable:
    """Fit the spatial maps of a session's units by the stimulus geometry.

    Parameters
    ----------
    spatial : array_like of shape (n_units, n_pixels)
        Each unit's spatial map, pixels in C order (e.g. the rank-1 spatial part of the
        lasso receptive field, :attr:`sparsefield.rf.separation.UnitsSeparation.spatial`);
        a unit without a map has a row of NaN.
    frame_shape : tuple of int
        ``(height, width)``.
    unit_ids : array_like of int of shape (n_units,)
    n_orientations, n_frequencies : int
        The start grid of the 2-D fits (:func:`sparsefield.gabor.fit_gabors`).
    n_frequencies_1d : int
        The starts of the 1-D fits (:func:`sparsefield.gabor.fit_gabors_1d`).
    bic_margin : float
        BIC gain the Gabor needs over the no-carrier model.
    r2_threshold : float
        In [0, 1]: the R^2 of a well-fitted map.
    pixel_size_deg : float, optional
        Degrees of visual angle per pixel (> 0), for cycles per degree.
    seed : int
        Seed of the null's shuffles.

    Returns
    -------
    GaborTable
        One row per unit, ``epoch`` 0.

    Raises
    ------
    InputError
        When the arrays do not fit together or an option is out of range.
    """
    spatial = as_float_array(spatial, "spatial", 2, finite=False)
    height, width = (as_int(size, "frame_shape", 1) for size in frame_shape)
    if spatial.shape[1] != height * width:
        raise InputError("spatial", f"has {spatial.shape[1]} pixels per map but the frame "
                         f"{height} x {width} has {height * width}")
    ids = np.asarray(unit_ids, dtype=np.int64).ravel()
    if ids.size != spatial.shape[0]:
        raise InputError("unit_ids", f"has {ids.size} ids for {spatial.shape[0]} maps")
    geometry = stimulus_geometry((height, width))
    if geometry == "grid":
        fits: Any = fit_gabors(spatial.reshape(-1, height, width), n_orientations=n_orientations,
                               n_frequencies=n_frequencies, bic_margin=bic_margin, seed=seed)
        dims = 2
    elif geometry == "bars":
        fits = fit_gabors_1d(spatial, n_frequencies=n_frequencies_1d, bic_margin=bic_margin,
                             seed=seed)
        dims = 1
    else:
        fits, dims = None, 0
    why = np.full(ids.size, FULL_FIELD if dims == 0 else "", dtype=object)
    why[np.all(np.isnan(spatial), axis=1)] = NO_MAP
    return _table(fits, dims, ids, np.zeros(ids.size, dtype=np.int64), (height, width),
                  r2_threshold, pixel_size_deg, seed, why)


def fit_atoms(phi: ArrayLike, patch_shape: Sequence[int], *, epochs_every: int = 10,
              n_orientations: int = 3, n_frequencies: int = 3, bic_margin: float = 6.0,
              r2_threshold: float = R2_THRESHOLD, seed: int = 0) -> GaborTable:
    """Fit every atom of a dictionary's last epoch and of every ``epochs_every``-th epoch.

    Parameters
    ----------
    phi : array_like of shape (n_epochs, n_pixels, n_atoms)
        Pixel-space atoms after every epoch, one atom per column, pixels in C order
        (:attr:`sparsefield.sparse.dictionary.DictionaryRun.phi`).
    patch_shape : tuple of int
        ``(height, width)`` of an atom.
    epochs_every : int
        Also fit epochs ``epochs_every``, ``2 epochs_every``, ... (1-based); 0: the last
        epoch only.
    n_orientations, n_frequencies, bic_margin, r2_threshold, seed
        As in :func:`fit_unit_maps`.

    Returns
    -------
    GaborTable
        One row per atom and fitted epoch (epochs ascending, atoms in order within an
        epoch); ``ids`` are the atoms' indices.
    """
    phi = as_float_array(phi, "phi", 3, finite=False)
    height, width = (as_int(size, "patch_shape", 1) for size in patch_shape)
    n_epochs, n_pixels, n_atoms = phi.shape
    if n_pixels != height * width:
        raise InputError("phi", f"has {n_pixels} pixels per atom but the patch "
                         f"{height} x {width} has {height * width}")
    epochs = fitted_epochs(n_epochs, epochs_every)
    maps = np.ascontiguousarray(np.transpose(phi[epochs - 1], (0, 2, 1)))
    fits = fit_gabors(maps.reshape(-1, height, width), n_orientations=n_orientations,
                      n_frequencies=n_frequencies, bic_margin=bic_margin, seed=seed)
    ids = np.tile(np.arange(n_atoms, dtype=np.int64), epochs.size)
    return _table(fits, 2, ids, np.repeat(epochs, n_atoms), (height, width), r2_threshold,
                  None, seed, np.full(ids.size, "", dtype=object))


def fitted_epochs(n_epochs: int, epochs_every: int) -> NDArray[np.int64]:
    """The epochs (1-based, ascending) :func:`fit_atoms` fits.

    Parameters
    ----------
    n_epochs : int
        At least 1.
    epochs_every : int
        At least 0 (0: the last epoch only).

    Returns
    -------
    ndarray of int64 of shape (n_fitted,)
    """
    n_epochs = as_int(n_epochs, "n_epochs", 1)
    epochs_every = as_int(epochs_every, "epochs_every", 0)
    every = np.arange(epochs_every, n_epochs, epochs_every) if epochs_every else np.zeros(0)
    return np.unique(np.append(every, n_epochs)).astype(np.int64)


def _table(fits: Any, dims: int, ids: NDArray[np.int64], epoch: NDArray[np.int64],
           frame_shape: tuple[int, int], r2_threshold: float, pixel_size_deg: float | None,
           seed: int, why: NDArray[np.object_]) -> GaborTable:
    """A :class:`GaborTable` from 2-D fits, 1-D fits or none (``dims`` 0); ``why``
    (n_maps,) overrides the fits' reason where it is not empty.
    """
    r2_threshold = as_float(r2_threshold, "r2_threshold", minimum=0.0, maximum=1.0)
    size = np.nan if pixel_size_deg is None else as_float(pixel_size_deg, "pixel_size_deg",
                                                            minimum=0.0, strict=True)
    n_maps = ids.size
    columns = {name: np.full(n_maps, np.nan) for name in FLOAT_COLUMNS}
    model = np.full(n_maps, "none", dtype="<U8")
    well = np.zeros(n_maps, dtype=bool)
    if fits is not None:
        for name in ("x0", "frequency", "phase", "amplitude", "r2", "null_r2", "r2_gaussian"):
            columns[name] = np.asarray(getattr(fits, name), dtype=np.float64)
        if dims == 2:
            for name in ("y0", "sigma_x", "sigma_y", "n_x", "n_y"):
                columns[name] = np.asarray(getattr(fits, name), dtype=np.float64)
            columns["orientation"] = np.rad2deg(fits.theta)
            with np.errstate(divide="ignore", invalid="ignore"):
                columns["aspect"] = fits.sigma_y / fits.sigma_x
        else:
            columns["sigma_x"] = np.asarray(fits.sigma, dtype=np.float64)
            columns["n_x"] = fits.n_x
        model = fits.model.astype("<U8")
        why = np.where(why == "", fits.why.astype(object), why)
        well = _well_fitted(fits, r2_threshold)
    return GaborTable(ids=ids, epoch=epoch, model=model, why=why.astype(str), **columns,
                      well_fitted=well, dims=dims, frame_shape=tuple(frame_shape),
                      r2_threshold=r2_threshold, pixel_size_deg=size, seed=int(seed))


def _well_fitted(fits: Any, r2_threshold: float) -> NDArray[np.bool_]:
    """Gabor chosen, R^2 at least ``r2_threshold`` and above the null's (2-D or 1-D)."""
    null = np.where(np.isnan(fits.null_r2), -np.inf, fits.null_r2)
    return np.asarray((fits.model == "gabor") & (fits.r2 >= r2_threshold) & (fits.r2 > null))


# ---------------------------------------------------------------------------- summaries


def unit_columns(table: GaborTable, truth: Mapping[int, Mapping[str, Any]] | None = None
                 ) -> dict[int, dict[str, Any]]:
    """The per-unit summary columns of a session's fits, by unit id.

    Parameters
    ----------
    table : GaborTable
        From :func:`fit_unit_maps`.
    truth : mapping of int to mapping, optional
        Unit id to that unit's truth (:func:`sparsefield.rf.summary.truth_of_unit`);
        a unit whose ``model_kind`` is ``'gabor'`` gets the orientation error and the
        relative spatial-frequency error of the fit (2-D stimuli).

    Returns
    -------
    dict of int to dict
        ``gabor_model``, ``gabor_orientation_deg``, ``gabor_sf_cpp`` (cycles per
        pixel), ``gabor_sf_cpd`` (cycles per degree; NaN without a pixel size),
        ``gabor_sigma_x``, ``gabor_sigma_y`` (pixels), ``gabor_n_x``, ``gabor_n_y``,
        ``gabor_r2``, ``gabor_null_r2``, ``gabor_well_fitted`` and ``gabor_flag`` (why
        not fitted, ``''`` when fitted); with a Gabor truth
        ``truth_gabor_orientation_error_deg`` (``[0, 90]``) and
        ``truth_gabor_sf_relative_error`` (``fit / truth - 1``).
    """
    frequency_deg = table.frequency_deg
    columns: dict[int, dict[str, Any]] = {}
    for row, unit_id in enumerate(table.ids.tolist()):
        values: dict[str, Any] = {
            "gabor_model": str(table.model[row]),
            "gabor_orientation_deg": float(table.orientation[row]),
            "gabor_sf_cpp": float(table.frequency[row]),
            "gabor_sf_cpd": float(frequency_deg[row]),
            "gabor_sigma_x": float(table.sigma_x[row]),
            "gabor_sigma_y": float(table.sigma_y[row]),
            "gabor_n_x": float(table.n_x[row]),
            "gabor_n_y": float(table.n_y[row]),
            "gabor_r2": float(table.r2[row]),
            "gabor_null_r2": float(table.null_r2[row]),
            "gabor_well_fitted": bool(table.well_fitted[row]),
            "gabor_flag": str(table.why[row]),
        }
        unit_truth = None if truth is None else truth.get(int(unit_id))
        if unit_truth is not None and table.dims == 2 \
                and str(unit_truth.get("model_kind", "")) == "gabor":
            values.update(truth_errors(table.orientation[row], table.frequency[row],
                                       float(unit_truth["model_orientation"]),
                                       float(unit_truth["model_wavelength"])))
        columns[int(unit_id)] = values
    return columns


def truth_errors(orientation: float, frequency: float, true_orientation: float,
                 true_wavelength: float) -> dict[str, float]:
    """Orientation and spatial-frequency errors of a fit against a known Gabor.

    Parameters
    ----------
    orientation : float
        Fitted wave-vector direction, degrees.
    frequency : float
        Fitted cycles per pixel.
    true_orientation : float
        The model's orientation in degrees (any range; taken modulo 180).
    true_wavelength : float
        The model's wavelength in pixels.

    Returns
    -------
    dict
        ``truth_gabor_orientation_error_deg``: the smallest angle between the two
        orientations, in ``[0, 90]``; ``truth_gabor_sf_relative_error``:
        ``frequency * true_wavelength - 1``.  NaN for a map that was not fitted.
    """
    difference = (float(orientation) - float(true_orientation)) % 180.0
    return {
        "truth_gabor_orientation_error_deg": float(min(difference, 180.0 - difference)),
        "truth_gabor_sf_relative_error": float(frequency) * float(true_wavelength) - 1.0,
    }


def atom_gabor_summary(table: GaborTable) -> dict[str, float | int]:
    """The well-fitted share of a dictionary's last fitted epoch.

    Parameters
    ----------
    table : GaborTable
        From :func:`fit_atoms`.

    Returns
    -------
    dict
        ``gabor_epoch`` (the epoch), ``gabor_r2_threshold``, ``n_well_fitted``,
        ``fraction_well_fitted`` (of all the epoch's atoms), ``fraction_gabor_model``
        (the Gabor chosen over the no-carrier model) and ``median_gabor_r2``.
    """
    last = int(table.epoch.max()) if len(table) else 0
    rows = table.epoch == last
    r2 = table.r2[rows]
    finite = r2[np.isfinite(r2)]
    return {
        "gabor_epoch": last,
        "gabor_r2_threshold": float(table.r2_threshold),
        "n_well_fitted": int(np.count_nonzero(table.well_fitted[rows])),
        "fraction_well_fitted": float(np.mean(table.well_fitted[rows])) if rows.any()
        else float("nan"),
        "fraction_gabor_model": float(np.mean(table.model[rows] == "gabor")) if rows.any()
        else float("nan"),
        "median_gabor_r2": float(np.median(finite)) if finite.size else float("nan"),
    }
