"""Gabor fits of receptive-field maps and dictionary atoms, batched.

Model
-----
A 2-D Gabor over pixel columns ``x`` and rows ``y`` (0-based, row 0 at the top)::

    g(x, y) = offset + amplitude * exp(-x'^2 / (2 sigma_x^2) - y'^2 / (2 sigma_y^2))
                                 * cos(2 pi frequency x' + phase)
    x' = (x - x0) cos(theta) - (y - y0) sin(theta)
    y' = (x - x0) sin(theta) + (y - y0) cos(theta)

``x'`` runs along the carrier's wave vector, whose direction ``theta`` is counted
counter-clockwise from the +column axis as the map is displayed (row 0 at the top), as
:attr:`sparsefield.rf.neuron.NeuronModel.orientation` counts it (``theta = 0``: vertical
stripes); ``sigma_x`` is the envelope's SD along the carrier and ``sigma_y`` across it.
Canonical form (:func:`sparsefield.gabor_start.canonical_gabor`): ``theta`` in
``[0, pi)``, ``frequency >= 0`` in cycles per pixel, ``phase`` in ``[0, 2 pi)``,
``amplitude > 0``, so that fits of different maps compare directly.  Ringach's (2002)
envelope sizes in carrier periods are ``n_x = sigma_x * frequency`` and
``n_y = sigma_y * frequency`` (:attr:`GaborFits.n_x`, :attr:`GaborFits.n_y`).  The 1-D
Gabor (:func:`fit_gabors_1d`, maps of bars) is the same along one axis.

Fit
---
Least squares with an analytic Jacobian, by Levenberg-Marquardt written in numba
(:mod:`sparsefield._gabor_kernels`): on 256 maps of 16 x 16 from the same starts it
was about 5 times faster than :func:`scipy.optimize.least_squares` given the same
numba Jacobian (``method="lm"``; 14 times ``"trf"``), whose per-call overhead dominates
maps this small, and 15-30 times faster than ``least_squares`` with finite
differences, at the same R^2 (``bench/gabor.py``, one thread each).  Each map is
fitted from a grid of starts taken from its power spectrum and its energy
(:mod:`sparsefield.gabor_start`); every start is refined for a few steps, the best two
go on to convergence, and the fit with the lowest squared error is kept.  Maps are
fitted in parallel (numba threads).  Each map is standardised first (mean 0, SD 1);
the amplitudes and offsets are given back in the map's own units.

Goodness of fit and the null
----------------------------
``r2 = 1 - RSS / sum((map - mean(map))^2)``.  ``null_r2`` is the R^2 of the same
procedure (same start grid, same solver) on the map with its pixels shuffled (map
``i`` of the batch by ``default_rng(SeedSequence(seed, spawn_key=(i,)))``, so a map's
null does not depend on the other maps): what a Gabor finds in a map with the same
values and no spatial structure.

Alternative model and the choice
--------------------------------
Without a carrier: a single elliptical Gaussian (7 parameters in 2-D, 4 in 1-D) and a
difference of Gaussians (centre-surround: the Gaussian minus a surround Gaussian of the
same shape ``surround_ratio`` times wider, 9 and 6 parameters; started from the
single Gaussian's fit).  Each model gets the Bayesian information criterion of its
pixel residuals, ``BIC = n ln(RSS / n) + k ln(n)`` over the map's ``n`` pixels with
``k`` its number of parameters (the Gabor: 9 in 2-D, 6 in 1-D).  The no-carrier model
is the single Gaussian or the difference of Gaussians, whichever has the lower BIC
(``GaborFits.gaussian``, ``surround`` 0 for the single Gaussian).  ``model`` is
``'gabor'`` when the Gabor's BIC is lower than that by more than ``bic_margin``
(default 6, "strong" evidence on Kass & Raftery's 1995 scale), else ``'gaussian'``: a
carrier has to earn its place.  With equal BICs the maps are as well described without
a carrier, and a weak surround under noise is often fitted about as well by a Gabor of
a long wavelength; on 300 simulated 16 x 16 centre-surround maps at a peak SNR of 12
the margin takes the share called ``'gaussian'`` from 93 % to 99 %, while the smallest
BIC gain of 500 simulated Gabor maps at that SNR was 8.7 (``tests/test_gabor.py``).

Maps that cannot be fitted
--------------------------
A map smaller than 3 x 3 pixels (1-D: fewer than 6 positions), with a NaN or infinite
pixel, all zero or constant is not fitted: ``model`` is ``'none'``, ``why`` says why,
and its numbers are NaN.  The other maps of the batch are fitted as usual; only an
argument that is not a batch of maps at all (wrong number of dimensions, not numbers)
raises :class:`~sparsefield.errors.InputError`.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_float, as_float_array, as_int
from sparsefield._gabor_kernels import (
    DOG_1D,
    DOG_2D,
    GABOR_1D,
    GABOR_2D,
    N_PARAMS,
    evaluate_many,
    fit_many,
)
from sparsefield._npz import NpzMixin
from sparsefield.errors import InputError
from sparsefield.gabor_start import (
    GABOR_1D_NAMES,
    GABOR_NAMES,
    GAUSSIAN_NAMES,
    canonical_gabor,
    canonical_gaussian,
    gabor_starts,
    gaussian_starts,
    map_problems,
    parameter_box,
    pixel_coordinates,
    surround_starts,
)

#: Steps every Gabor start is refined for before the best :data:`N_KEEP` go on.
SCREEN_ITER = 5
#: Starts per map refined to convergence.
N_KEEP = 2
#: Relative decrease of the squared error below which a fit has converged.
TOL = 1e-6
#: Parameters of the single Gaussian (2-D, 1-D).
N_GAUSSIAN = {2: 7, 1: 4}
#: The models of :func:`model_map`.
MODELS = ("gabor", "gaussian")


@dataclass(frozen=True)
class GaborFits(NpzMixin):
    """Gabor fits of a batch of 2-D maps (module docstring), one entry per map.

    Attributes
    ----------
    x0, y0 : ndarray of shape (n_maps,)
        Centre of the envelope: column and row in pixels.
    sigma_x, sigma_y : ndarray of shape (n_maps,)
        Envelope SDs in pixels along and across the carrier.
    theta : ndarray of shape (n_maps,)
        Direction of the carrier's wave vector in radians, ``[0, pi)``.
    frequency : ndarray of shape (n_maps,)
        Carrier frequency in cycles per pixel, ``>= 0``.
    phase : ndarray of shape (n_maps,)
        Carrier phase at the centre in radians, ``[0, 2 pi)``.
    amplitude, offset : ndarray of shape (n_maps,)
        In the map's units, ``amplitude > 0``.
    r2 : ndarray of shape (n_maps,)
        R^2 of the Gabor fit.
    null_r2 : ndarray of shape (n_maps,)
        R^2 of the Gabor fit to the map with shuffled pixels (NaN without the null).
    gaussian : ndarray of shape (n_maps, 9)
        The no-carrier fit, parameters in the order of
        :data:`sparsefield.gabor_start.GAUSSIAN_NAMES` (``surround`` 0: a single
        Gaussian).
    r2_gaussian : ndarray of shape (n_maps,)
        R^2 of the no-carrier fit.
    bic_gabor, bic_gaussian : ndarray of shape (n_maps,)
        BIC of the Gabor and of the no-carrier fit.
    model : ndarray of shape (n_maps,), str
        ``'gabor'``, ``'gaussian'`` or ``'none'`` (not fitted).
    why : ndarray of shape (n_maps,), str
        Why a map was not fitted; ``''`` for fitted maps.
    seed : int
        Seed of the pixel shuffles of the null.
    """

    x0: np.ndarray
    y0: np.ndarray
    sigma_x: np.ndarray
    sigma_y: np.ndarray
    theta: np.ndarray
    frequency: np.ndarray
    phase: np.ndarray
    amplitude: np.ndarray
    offset: np.ndarray
    r2: np.ndarray
    null_r2: np.ndarray
    gaussian: np.ndarray
    r2_gaussian: np.ndarray
    bic_gabor: np.ndarray
    bic_gaussian: np.ndarray
    model: np.ndarray
    why: np.ndarray
    seed: int

    def __len__(self) -> int:
        return int(self.model.size)

    @property
    def params(self) -> NDArray[np.float64]:
        """The Gabor parameters, shape (n_maps, 9), in the order of
        :data:`sparsefield.gabor_start.GABOR_NAMES` (for :func:`model_map`).
        """
        return np.stack([getattr(self, name) for name in GABOR_NAMES], axis=1)

    @property
    def n_x(self) -> NDArray[np.float64]:
        """Ringach's ``n_x = sigma_x * frequency``, shape (n_maps,)."""
        return self.sigma_x * self.frequency

    @property
    def n_y(self) -> NDArray[np.float64]:
        """Ringach's ``n_y = sigma_y * frequency``, shape (n_maps,)."""
        return self.sigma_y * self.frequency

    def well_fitted(self, min_r2: float = 0.8) -> NDArray[np.bool_]:
        """Maps whose chosen model is the Gabor and whose Gabor R^2 is at least
        ``min_r2`` and above the null's.

        Parameters
        ----------
        min_r2 : float

        Returns
        -------
        ndarray of shape (n_maps,), bool
        """
        null = np.where(np.isnan(self.null_r2), -np.inf, self.null_r2)
        return (self.model == "gabor") & (self.r2 >= min_r2) & (self.r2 > null)

    def columns(self) -> dict[str, np.ndarray]:
        """One 1-D array per column of a per-map table (e.g. ``pandas.DataFrame``).

        Returns
        -------
        dict of str to ndarray of shape (n_maps,)
            The Gabor parameters, ``n_x``, ``n_y``, ``r2``, ``null_r2``,
            ``r2_gaussian``, the no-carrier parameters as ``gaussian_<name>``,
            ``model`` and ``why``.
        """
        table = {name: getattr(self, name) for name in GABOR_NAMES}
        table.update(n_x=self.n_x, n_y=self.n_y, r2=self.r2, null_r2=self.null_r2,
                     r2_gaussian=self.r2_gaussian)
        table.update({f"gaussian_{name}": self.gaussian[:, i]
                      for i, name in enumerate(GAUSSIAN_NAMES)})
        table.update(model=self.model, why=self.why)
        return table


@dataclass(frozen=True)
class GaborFits1D(NpzMixin):
    """Gabor fits of a batch of 1-D profiles (maps of bars), one entry per profile.

    Attributes
    ----------
    x0 : ndarray of shape (n_maps,)
        Centre of the envelope in positions (0-based).
    sigma : ndarray of shape (n_maps,)
        Envelope SD in positions.
    frequency : ndarray of shape (n_maps,)
        Cycles per position, ``>= 0``.
    phase : ndarray of shape (n_maps,)
        ``[0, 2 pi)``.
    amplitude, offset : ndarray of shape (n_maps,)
        ``amplitude > 0``.
    r2, null_r2, r2_gaussian, bic_gabor, bic_gaussian, model, why, seed
        As in :class:`GaborFits`.
    gaussian : ndarray of shape (n_maps, 6)
        The no-carrier fit, in the order of
        :data:`sparsefield.gabor_start.GAUSSIAN_1D_NAMES`.
    """

    x0: np.ndarray
    sigma: np.ndarray
    frequency: np.ndarray
    phase: np.ndarray
    amplitude: np.ndarray
    offset: np.ndarray
    r2: np.ndarray
    null_r2: np.ndarray
    gaussian: np.ndarray
    r2_gaussian: np.ndarray
    bic_gabor: np.ndarray
    bic_gaussian: np.ndarray
    model: np.ndarray
    why: np.ndarray
    seed: int

    def __len__(self) -> int:
        return int(self.model.size)

    @property
    def params(self) -> NDArray[np.float64]:
        """The Gabor parameters, shape (n_maps, 6), in the order of
        :data:`sparsefield.gabor_start.GABOR_1D_NAMES`.
        """
        return np.stack([getattr(self, name) for name in GABOR_1D_NAMES], axis=1)

    @property
    def n_x(self) -> NDArray[np.float64]:
        """``sigma * frequency``, shape (n_maps,)."""
        return self.sigma * self.frequency


def fit_gabors(maps: ArrayLike, *, n_orientations: int = 3, n_frequencies: int = 3,
               orientation_step: float = 15.0, frequency_ratio: float = 1.3,
               bic_margin: float = 6.0, null: bool = True, seed: int = 0,
               max_iter: int = 100) -> GaborFits:
    """Fit a 2-D Gabor, a Gaussian and a difference of Gaussians to every map.

    Parameters
    ----------
    maps : array_like of shape (n_maps, height, width)
        Receptive-field maps or atoms; maps that cannot be fitted are flagged
        (module docstring).
    n_orientations, n_frequencies : int
        The grid of starts around the power spectrum's peak
        (:mod:`sparsefield.gabor_start`): ``n_orientations * n_frequencies`` starts.
    orientation_step : float
        Degrees between the orientations of the grid.
    frequency_ratio : float
        Ratio (> 1) between neighbouring frequencies of the grid.
    bic_margin : float
        BIC gain (>= 0) the Gabor needs over the no-carrier model to be chosen.
    null : bool
        Also fit every map with its pixels shuffled (``null_r2``; doubles the time).
    seed : int
        Seed of the shuffles.
    max_iter : int
        Most Levenberg-Marquardt steps per start.

    Returns
    -------
    GaborFits

    Raises
    ------
    InputError
        When ``maps`` is not a 3-D array of numbers, or on a bad option.
    """
    maps = as_float_array(maps, "maps", 3, finite=False)
    options = _options(n_orientations, n_frequencies, orientation_step, frequency_ratio,
                       bic_margin, seed, max_iter)
    results, why = _fit_batch(maps, 2, null=null, **options)
    gabor = results["gabor"]
    return GaborFits(**{name: gabor[:, i] for i, name in enumerate(GABOR_NAMES)},
                     r2=results["r2"], null_r2=results["null_r2"],
                     gaussian=results["gaussian"], r2_gaussian=results["r2_gaussian"],
                     bic_gabor=results["bic_gabor"], bic_gaussian=results["bic_gaussian"],
                     model=results["model"], why=why, seed=options["seed"])


def fit_gabors_1d(profiles: ArrayLike, *, n_frequencies: int = 5, frequency_ratio: float = 1.3,
                  bic_margin: float = 6.0, null: bool = True, seed: int = 0,
                  max_iter: int = 100) -> GaborFits1D:
    """Fit a 1-D Gabor, a Gaussian and a difference of Gaussians to every profile.

    Parameters
    ----------
    profiles : array_like of shape (n_maps, n_positions)
        Maps of bars (one value per bar position).
    n_frequencies : int
        Starts: frequencies around the power spectrum's peak.
    frequency_ratio : float
        Ratio (> 1) between neighbouring start frequencies.
    bic_margin, null, seed, max_iter
        As in :func:`fit_gabors`.

    Returns
    -------
    GaborFits1D

    Raises
    ------
    InputError
        When ``profiles`` is not a 2-D array of numbers, or on a bad option.
    """
    profiles = as_float_array(profiles, "profiles", 2, finite=False)
    options = _options(1, n_frequencies, 15.0, frequency_ratio, bic_margin, seed, max_iter)
    results, why = _fit_batch(profiles, 1, null=null, **options)
    gabor = results["gabor"]
    return GaborFits1D(**{name: gabor[:, i] for i, name in enumerate(GABOR_1D_NAMES)},
                       r2=results["r2"], null_r2=results["null_r2"],
                       gaussian=results["gaussian"], r2_gaussian=results["r2_gaussian"],
                       bic_gabor=results["bic_gabor"], bic_gaussian=results["bic_gaussian"],
                       model=results["model"], why=why, seed=options["seed"])


def model_map(params: ArrayLike, shape: Sequence[int], model: str = "gabor") -> np.ndarray:
    """The Gabor or difference of Gaussians of ``params`` on a map of ``shape``.

    Parameters
    ----------
    params : array_like of shape (n_params,) or (n_maps, n_params)
        In the order of :data:`~sparsefield.gabor_start.GABOR_NAMES` (2-D Gabor),
        :data:`~sparsefield.gabor_start.GAUSSIAN_NAMES` (2-D DoG),
        :data:`~sparsefield.gabor_start.GABOR_1D_NAMES` or
        :data:`~sparsefield.gabor_start.GAUSSIAN_1D_NAMES`.
    shape : tuple of int
        ``(height, width)`` or ``(n_positions,)``.
    model : {"gabor", "gaussian"}

    Returns
    -------
    ndarray of shape ``shape`` or ``(n_maps, *shape)``
    """
    values, _ = _evaluate(params, shape, model, with_jac=False)
    return values


def model_jacobian(params: ArrayLike, shape: Sequence[int], model: str = "gabor") -> np.ndarray:
    """The analytic derivatives of :func:`model_map` by each parameter.

    Parameters
    ----------
    params : array_like of shape (n_params,)
    shape : tuple of int
    model : {"gabor", "gaussian"}

    Returns
    -------
    ndarray of shape (n_pixels, n_params)
        Pixels in C order.
    """
    _, jacobian = _evaluate(params, shape, model, with_jac=True)
    return jacobian


# ---------------------------------------------------------------------------- internals


def _options(n_orientations: int, n_frequencies: int, orientation_step: float,
             frequency_ratio: float, bic_margin: float, seed: int, max_iter: int
             ) -> dict[str, Any]:
    """The fit options, checked."""
    return {
        "n_orientations": as_int(n_orientations, "n_orientations", 1),
        "n_frequencies": as_int(n_frequencies, "n_frequencies", 1),
        "orientation_step": np.deg2rad(as_float(orientation_step, "orientation_step",
                                                minimum=0.0, strict=True)),
        "frequency_ratio": as_float(frequency_ratio, "frequency_ratio", minimum=1.0,
                                    strict=True),
        "bic_margin": as_float(bic_margin, "bic_margin", minimum=0.0),
        "seed": as_int(seed, "seed", 0),
        "max_iter": as_int(max_iter, "max_iter", 1),
    }


def _kinds(n_dims: int) -> tuple[int, int]:
    """The kernel models (Gabor, difference of Gaussians) in ``n_dims`` dimensions."""
    return (GABOR_2D, DOG_2D) if n_dims == 2 else (GABOR_1D, DOG_1D)


def _evaluate(params: ArrayLike, shape: Sequence[int], model: str, with_jac: bool
              ) -> tuple[np.ndarray, np.ndarray]:
    """Model values (``shape`` or ``(n_maps, *shape)``) and, for one parameter vector,
    the Jacobian (n_pixels, n_params).
    """
    if model not in MODELS:
        raise InputError("model", f"must be one of {list(MODELS)}, got {model!r}")
    shape = tuple(as_int(size, "shape", 1) for size in shape)
    if len(shape) not in (1, 2):
        raise InputError("shape", f"must be (height, width) or (n_positions,), got {shape}")
    kind = _kinds(len(shape))[MODELS.index(model)]
    n_params = N_PARAMS[kind]
    array = np.asarray(params, dtype=np.float64)
    wanted_ndim = (1,) if with_jac else (1, 2)
    if array.ndim not in wanted_ndim or array.shape[-1] != n_params:
        wanted = f"({n_params},)" if with_jac else f"({n_params},) or (n_maps, {n_params})"
        raise InputError("params", f"a {len(shape)}-D {model} needs shape {wanted}, "
                                   f"got {array.shape}")
    padded = np.zeros((int(np.prod(array.shape[:-1])), 9))
    padded[:, :n_params] = array.reshape(-1, n_params)
    xs, ys = pixel_coordinates(shape)
    values = np.empty((padded.shape[0], xs.size))
    jacobians = np.zeros((padded.shape[0] if with_jac else 1, xs.size, 9))
    evaluate_many(kind, padded, xs, ys, values, jacobians, with_jac)
    return values.reshape(array.shape[:-1] + shape), jacobians[0, :, :n_params]


def _fit_batch(maps: NDArray[np.float64], n_dims: int, *, null: bool, seed: int,
               **options: Any) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Fit every usable map of ``maps`` (n_maps, *shape); NaN and ``'none'`` for the
    others.  Returns the result arrays and ``why``.
    """
    n_maps, shape = maps.shape[0], maps.shape[1:]
    why = map_problems(maps, 3 if n_dims == 2 else N_PARAMS[GABOR_1D])
    usable = np.flatnonzero(why == "")
    n_gabor, n_dog = N_PARAMS[_kinds(n_dims)[0]], N_PARAMS[_kinds(n_dims)[1]]
    results = {"gabor": np.full((n_maps, n_gabor), np.nan),
               "gaussian": np.full((n_maps, n_dog), np.nan),
               "model": np.full(n_maps, "none", dtype="<U8")}
    results.update({key: np.full(n_maps, np.nan) for key in
                    ("r2", "null_r2", "r2_gaussian", "bic_gabor", "bic_gaussian")})
    if usable.size == 0:
        return results, why
    flat = maps[usable].reshape(usable.size, -1)
    mean = flat.mean(axis=1, keepdims=True)
    scale = flat.std(axis=1, keepdims=True)
    standard = np.ascontiguousarray((flat - mean) / scale)
    shuffled = _shuffled(standard, usable, seed) if null else None
    fitted = _fit_standard(standard, shuffled, shape, n_dims, **options)
    # BIC of the map in its own units: n ln(RSS / n) shifts by n ln(scale^2).
    for key in ("bic_gabor", "bic_gaussian"):
        fitted[key] += flat.shape[1] * 2.0 * np.log(scale[:, 0])
    # Back to the map's units: amplitudes times the SD, offsets shifted and scaled.
    gabor, gaussian = fitted.pop("gabor"), fitted.pop("gaussian")
    amp, offset = (7, 8) if n_dims == 2 else (4, 5)
    gabor[:, amp] *= scale[:, 0]
    gabor[:, offset] = gabor[:, offset] * scale[:, 0] + mean[:, 0]
    amp, offset, surround = (5, 6, 7) if n_dims == 2 else (2, 3, 4)
    gaussian[:, [amp, surround]] *= scale
    gaussian[:, offset] = gaussian[:, offset] * scale[:, 0] + mean[:, 0]
    results["gabor"][usable] = gabor[:, :n_gabor]
    results["gaussian"][usable] = gaussian[:, :n_dog]
    for key, values in fitted.items():
        results[key][usable] = values
    finite = np.all(np.isfinite(results["gabor"]), axis=1) & np.isfinite(results["r2"]) \
        & np.all(np.isfinite(results["gaussian"]), axis=1) & np.isfinite(results["r2_gaussian"])
    failed = ~finite & (results["model"] != "none")
    why = why.astype(object)
    why[failed] = "the fit did not reach finite values"
    results["model"][failed] = "none"
    return results, why.astype(str)


def _solve(kind: int, maps: NDArray[np.float64], shape: Sequence[int],
           starts: NDArray[np.float64], free: NDArray[np.bool_], screen: int, max_iter: int
           ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Best parameters (n_maps, 9) and squared errors (n_maps,) of the kernel's fits."""
    xs, ys = pixel_coordinates(shape)
    lower, upper = parameter_box(kind, shape, maps.shape[0])
    best = np.empty((maps.shape[0], 9))
    cost = np.empty(maps.shape[0])
    fit_many(kind, maps, xs, ys, starts, free, lower, upper, screen, N_KEEP, max_iter, TOL,
             best, cost)
    return best, cost


def _shuffled(maps: NDArray[np.float64], indices: NDArray[np.intp], seed: int
              ) -> NDArray[np.float64]:
    """Each map (n_maps, n_pixels) with its pixels shuffled; map ``indices[i]`` of the
    batch by ``default_rng(SeedSequence(seed, spawn_key=(indices[i],)))``, so that a
    map's null does not depend on the other maps of the batch.
    """
    shuffled = np.empty_like(maps)
    for row, index in enumerate(indices.tolist()):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))
        shuffled[row] = rng.permutation(maps[row])
    return shuffled


def _fit_standard(maps: NDArray[np.float64], shuffled: NDArray[np.float64] | None,
                  shape: Sequence[int], n_dims: int, *, n_orientations: int,
                  n_frequencies: int, orientation_step: float, frequency_ratio: float,
                  bic_margin: float, max_iter: int) -> dict[str, np.ndarray]:
    """The fits of standardised maps (n_maps, n_pixels): the three models, the null
    (Gabor fits of ``shuffled``, when given) and the choice (module docstring).
    """
    n_maps, n_pixels = maps.shape
    gabor_kind, dog_kind = _kinds(n_dims)
    every = np.ones(9, dtype=np.bool_)

    def gabor_fit(values: NDArray[np.float64]) -> tuple[np.ndarray, np.ndarray]:
        starts = gabor_starts(values, shape, n_orientations=n_orientations,
                              n_frequencies=n_frequencies, orientation_step=orientation_step,
                              frequency_ratio=frequency_ratio)
        return _solve(gabor_kind, values, shape, starts, every, SCREEN_ITER, max_iter)

    gabor, gabor_cost = gabor_fit(maps)
    if shuffled is not None:
        null_r2 = 1.0 - gabor_fit(shuffled)[1] / n_pixels
    else:
        null_r2 = np.full(n_maps, np.nan)
    single_free = every.copy()
    single_free[[7, 8] if n_dims == 2 else [4, 5]] = False
    single, single_cost = _solve(dog_kind, maps, shape, gaussian_starts(maps, shape),
                                 single_free, 0, max_iter)
    dog, dog_cost = _solve(dog_kind, maps, shape, surround_starts(maps, shape, single),
                           every, 0, max_iter)
    log_n = np.log(n_pixels)
    bic_gabor = _bic(gabor_cost, n_pixels) + N_PARAMS[gabor_kind] * log_n
    bic_single = _bic(single_cost, n_pixels) + N_GAUSSIAN[n_dims] * log_n
    bic_dog = _bic(dog_cost, n_pixels) + N_PARAMS[dog_kind] * log_n
    surround = bic_dog < bic_single
    gaussian = np.where(surround[:, None], dog, single)
    gaussian_cost = np.where(surround, dog_cost, single_cost)
    bic_gaussian = np.minimum(bic_dog, bic_single)
    return {
        "gabor": canonical_gabor(gabor, n_dims),
        "r2": 1.0 - gabor_cost / n_pixels,
        "null_r2": null_r2,
        "gaussian": canonical_gaussian(gaussian, n_dims),
        "r2_gaussian": 1.0 - gaussian_cost / n_pixels,
        "bic_gabor": bic_gabor,
        "bic_gaussian": bic_gaussian,
        "model": np.where(bic_gabor < bic_gaussian - bic_margin, "gabor", "gaussian"),
    }


def _bic(cost: NDArray[np.float64], n_pixels: int) -> NDArray[np.float64]:
    """``n ln(RSS / n)``, the fit term of the BIC (RSS floored at 1e-300 n)."""
    return n_pixels * np.log(np.maximum(cost / n_pixels, 1e-300))
