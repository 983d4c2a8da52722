"""Start values, parameter boxes, per-map checks and conventions of the Gabor fits.

The pieces of :mod:`sparsefield.gabor` that are plain numpy: which maps can be fitted
(:func:`map_problems`), where the fits start (:func:`gabor_starts`,
:func:`gaussian_starts`, :func:`surround_starts`), the box each parameter is kept in
(:func:`parameter_box`) and the canonical form of fitted parameters
(:func:`canonical_gabor`, :func:`canonical_gaussian`).

Starts
------
The position and envelope size come from the map's energy: with ``d`` the map minus its
mean and ``e = max(d^2 - median(d^2), 0)`` (the median removes the noise floor), the
start centre is the ``e``-weighted centroid and the start envelope SD is
``sqrt(2 v / n_dims)``, ``v`` the ``e``-weighted variance of the position (the energy of
a Gabor or Gaussian of SD ``sigma`` has SD ``sigma / sqrt(2)`` along each axis).  The
carrier comes from the power spectrum: ``|FFT(d)|^2`` zero-padded to four times the map
(a quarter-bin grid), searched between ``0.5 / max(height, width)`` and 0.5 cycles per
pixel; its peak gives ``(f0, theta0)``, and the grid of starts is
``theta0 + (k - (n_orientations - 1) / 2) orientation_step`` times
``f0 * frequency_ratio ** (j - (n_frequencies - 1) / 2)``.  Each start's phase,
amplitude and offset are then set by linear least squares (the model is linear in
them once the envelope and carrier are held), so that no start depends on a guessed
phase.
"""

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from sparsefield._gabor_kernels import (
    DOG_1D,
    DOG_2D,
    GABOR_1D,
    GABOR_2D,
    linear_dog_starts,
    linear_gabor_starts,
)

#: Parameters of the 2-D Gabor, in the order of :attr:`GaborFits.params`.
GABOR_NAMES = ("x0", "y0", "sigma_x", "sigma_y", "theta", "frequency", "phase", "amplitude",
               "offset")
#: Parameters of the 2-D difference of Gaussians (``surround`` 0: a single Gaussian).
GAUSSIAN_NAMES = ("x0", "y0", "sigma_x", "sigma_y", "theta", "amplitude", "offset", "surround",
                  "surround_ratio")
#: Parameters of the 1-D Gabor.
GABOR_1D_NAMES = ("x0", "sigma", "frequency", "phase", "amplitude", "offset")
#: Parameters of the 1-D difference of Gaussians.
GAUSSIAN_1D_NAMES = ("x0", "sigma", "amplitude", "offset", "surround", "surround_ratio")
#: Smallest envelope SD in pixels (a narrower Gaussian is one pixel).
MIN_SIGMA = 0.3
#: Surround SD over centre SD, least and most (near 1 the two Gaussians cancel).
SURROUND_RATIOS = (1.1, 10.0)
#: Zero padding of the power spectrum (times the map's size).
PAD = 4


def pixel_coordinates(shape: Sequence[int]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Coordinates of each pixel of a map in C order.

    Parameters
    ----------
    shape : tuple of int
        ``(height, width)`` or ``(n_positions,)``.

    Returns
    -------
    xs, ys : ndarray of shape (n_pixels,)
        Column and row (2-D); position and zeros (1-D).
    """
    if len(shape) == 1:
        return np.arange(shape[0], dtype=np.float64), np.zeros(shape[0])
    rows, cols = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float64)
    return cols.ravel(), rows.ravel()


def map_problems(maps: NDArray[np.float64], min_size: int) -> NDArray[np.str_]:
    """Why each map cannot be fitted ('' when it can).

    Parameters
    ----------
    maps : ndarray of shape (n_maps, ...)
    min_size : int
        Fewest pixels along each map axis.

    Returns
    -------
    why : ndarray of shape (n_maps,), str
        ``"smaller than 3 x 3 pixels"``, ``"has 4 NaN or infinite pixels"``,
        ``"is all zero"``, ``"is constant (every pixel 0.5)"`` or ``""``.
    """
    n_maps = maps.shape[0]
    why = np.full(n_maps, "", dtype=object)
    if min(maps.shape[1:]) < min_size:
        size = " x ".join([str(min_size)] * (maps.ndim - 1))
        unit = "pixels" if maps.ndim == 3 else "positions"
        why[:] = f"smaller than {size} {unit} (shape {' x '.join(map(str, maps.shape[1:]))})"
        return why.astype(str)
    flat = maps.reshape(n_maps, int(np.prod(maps.shape[1:])))
    n_bad = np.sum(~np.isfinite(flat), axis=1)
    for i in range(n_maps):
        if n_bad[i]:
            why[i] = f"has {n_bad[i]} NaN or infinite pixels of {flat.shape[1]}"
        elif not np.any(flat[i]):
            why[i] = "is all zero"
        elif np.all(flat[i] == flat[i, 0]):
            why[i] = f"is constant (every pixel {flat[i, 0]:g})"
    return why.astype(str)


def energy_centre(maps: NDArray[np.float64], xs: NDArray[np.float64], ys: NDArray[np.float64],
                  n_dims: int) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                        NDArray[np.float64]]:
    """Energy centroid and envelope SD of each map (module docstring).

    Parameters
    ----------
    maps : ndarray of shape (n_maps, n_pixels)
        Finite, not constant.
    xs, ys : ndarray of shape (n_pixels,)
        :func:`pixel_coordinates`.
    n_dims : int
        1 or 2.

    Returns
    -------
    centre_x, centre_y, sigma : ndarray of shape (n_maps,)
        ``sigma`` clipped to ``[1, n_pixels_along_longest_axis / 3]``.
    """
    centred = maps - maps.mean(axis=1, keepdims=True)
    energy = centred**2
    energy = np.maximum(energy - np.median(energy, axis=1, keepdims=True), 0.0)
    # A map whose energy sits at the floor everywhere (e.g. two values): plain energy.
    flat = energy.sum(axis=1) <= 0
    energy[flat] = centred[flat] ** 2
    total = energy.sum(axis=1)
    centre_x = energy @ xs / total
    centre_y = energy @ ys / total
    spread = (energy * ((xs - centre_x[:, None]) ** 2 + (ys - centre_y[:, None]) ** 2)).sum(1)
    longest = max(np.ptp(xs), np.ptp(ys)) + 1.0
    sigma = np.clip(np.sqrt(2.0 * spread / total / n_dims), 1.0, max(longest / 3.0, 1.0))
    return centre_x, centre_y, sigma


def spectral_peak(maps: NDArray[np.float64], shape: Sequence[int]
                  ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Frequency and direction of the peak of each map's power spectrum.

    Parameters
    ----------
    maps : ndarray of shape (n_maps, n_pixels)
    shape : tuple of int
        ``(height, width)`` or ``(n_positions,)``.

    Returns
    -------
    frequency : ndarray of shape (n_maps,)
        Cycles per pixel, in ``[0.5 / max(shape), 0.5]``.
    theta : ndarray of shape (n_maps,)
        Direction of the wave vector in radians (module :mod:`sparsefield.gabor`'s
        convention); 0 for 1-D maps.
    """
    n_maps = maps.shape[0]
    centred = (maps - maps.mean(axis=1, keepdims=True)).reshape(n_maps, *shape)
    padded = [PAD * size for size in shape]
    if len(shape) == 1:
        power = np.abs(np.fft.rfft(centred, n=padded[0], axis=1)) ** 2
        k_x = np.fft.rfftfreq(padded[0])
        k_y = np.zeros_like(k_x)
    else:
        power = np.abs(np.fft.rfft2(centred, s=padded, axes=(1, 2))) ** 2
        k_y = np.fft.fftfreq(padded[0])[:, None] * np.ones((1, padded[1] // 2 + 1))
        k_x = np.fft.rfftfreq(padded[1])[None, :] * np.ones((padded[0], 1))
    frequency = np.hypot(k_x, k_y)
    outside = (frequency < 0.5 / max(shape)) | (frequency > 0.5)
    power[:, outside] = -1.0
    peak = power.reshape(n_maps, -1).argmax(axis=1)
    peak_x, peak_y = k_x.ravel()[peak], k_y.ravel()[peak]
    # The carrier cos(2 pi f x'), x' = dx cos(theta) - dy sin(theta), has the wave
    # vector (k_x, k_y) = f (cos(theta), -sin(theta)) over (column, row).
    return np.hypot(peak_x, peak_y), np.arctan2(-peak_y, peak_x)


def gabor_starts(maps: NDArray[np.float64], shape: Sequence[int], *, n_orientations: int,
                 n_frequencies: int, orientation_step: float, frequency_ratio: float
                 ) -> NDArray[np.float64]:
    """The grid of Gabor starts of each map (module docstring).

    Parameters
    ----------
    maps : ndarray of shape (n_maps, n_pixels)
        Finite, not constant.
    shape : tuple of int
        ``(height, width)`` (2-D Gabor) or ``(n_positions,)`` (1-D).
    n_orientations, n_frequencies : int
        Grid size (orientations are not used in 1-D).
    orientation_step : float
        Radians between orientations.
    frequency_ratio : float
        Ratio between neighbouring frequencies (> 1).

    Returns
    -------
    starts : ndarray of shape (n_maps, n_starts, 9)
        ``n_starts = n_orientations * n_frequencies`` (2-D) or ``n_frequencies``
        (1-D); parameters in the order of :data:`GABOR_NAMES` (2-D) or
        :data:`GABOR_1D_NAMES` (1-D), unused entries 0.
    """
    n_maps = maps.shape[0]
    xs, ys = pixel_coordinates(shape)
    centre_x, centre_y, sigma = energy_centre(maps, xs, ys, len(shape))
    frequency, theta = spectral_peak(maps, shape)
    ratios = frequency_ratio ** (np.arange(n_frequencies) - (n_frequencies - 1) / 2.0)
    frequencies = np.minimum(frequency[:, None] * ratios[None, :], 0.5)
    if len(shape) == 1:
        starts = np.zeros((n_maps, n_frequencies, 9))
        starts[:, :, 0] = centre_x[:, None]
        starts[:, :, 1] = sigma[:, None]
        starts[:, :, 2] = frequencies
        kind = GABOR_1D
    else:
        offsets = (np.arange(n_orientations) - (n_orientations - 1) / 2.0) * orientation_step
        starts = np.zeros((n_maps, n_orientations, n_frequencies, 9))
        starts[..., 0] = centre_x[:, None, None]
        starts[..., 1] = centre_y[:, None, None]
        starts[..., 2] = sigma[:, None, None]
        starts[..., 3] = sigma[:, None, None]
        starts[..., 4] = theta[:, None, None] + offsets[None, :, None]
        starts[..., 5] = frequencies[:, None, :]
        starts = starts.reshape(n_maps, n_orientations * n_frequencies, 9)
        kind = GABOR_2D
    linear_gabor_starts(maps, xs, ys, starts, kind)
    return starts


def gaussian_starts(maps: NDArray[np.float64], shape: Sequence[int],
                    sizes: Sequence[float] = (1.0,)) -> NDArray[np.float64]:
    """Starts of the single Gaussian: the energy centroid, an isotropic envelope of
    ``sizes`` times the energy's SD, amplitude and offset by linear least squares.

    Parameters
    ----------
    maps : ndarray of shape (n_maps, n_pixels)
    shape : tuple of int
    sizes : sequence of float

    Returns
    -------
    starts : ndarray of shape (n_maps, len(sizes), 9)
        In the order of :data:`GAUSSIAN_NAMES` (2-D) or :data:`GAUSSIAN_1D_NAMES`
        (1-D); ``surround`` 0 and ``surround_ratio`` 2.
    """
    xs, ys = pixel_coordinates(shape)
    centre_x, centre_y, sigma = energy_centre(maps, xs, ys, len(shape))
    scaled = sigma[:, None] * np.asarray(sizes)[None, :]
    starts = np.zeros((maps.shape[0], len(sizes), 9))
    if len(shape) == 1:
        starts[..., 0] = centre_x[:, None]
        starts[..., 1] = scaled
        starts[..., 5] = 2.0
        kind = DOG_1D
    else:
        starts[..., 0] = centre_x[:, None]
        starts[..., 1] = centre_y[:, None]
        starts[..., 2] = scaled
        starts[..., 3] = scaled
        starts[..., 8] = 2.0
        kind = DOG_2D
    linear_dog_starts(maps, xs, ys, starts, kind, False)
    return starts


def surround_starts(maps: NDArray[np.float64], shape: Sequence[int],
                    gaussians: NDArray[np.float64],
                    ratios: Sequence[float] = (2.0, 3.5)) -> NDArray[np.float64]:
    """Starts of the difference of Gaussians: each map's fitted single Gaussian with a
    surround of each SD ratio in ``ratios``, centre, surround and offset amplitudes by
    linear least squares.

    Parameters
    ----------
    maps : ndarray of shape (n_maps, n_pixels)
    shape : tuple of int
    gaussians : ndarray of shape (n_maps, 9)
        Fitted single Gaussians.
    ratios : sequence of float

    Returns
    -------
    starts : ndarray of shape (n_maps, len(ratios), 9)
    """
    xs, ys = pixel_coordinates(shape)
    starts = np.repeat(gaussians[:, None, :], len(ratios), axis=1)
    starts[..., 5 if len(shape) == 1 else 8] = np.asarray(ratios)[None, :]
    linear_dog_starts(maps, xs, ys, starts, DOG_1D if len(shape) == 1 else DOG_2D, True)
    return starts


def parameter_box(kind: int, shape: Sequence[int], n_maps: int
                  ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The box each parameter is kept in during a fit.

    Centres within a quarter of the map beyond its edges; envelope SDs in
    ``[MIN_SIGMA, 2 max(shape)]``; frequencies in ``[-0.5, 0.5]`` cycles per pixel
    (Nyquist; the sign is made positive afterwards); surround ratios in
    :data:`SURROUND_RATIOS`; the rest free.

    Parameters
    ----------
    kind : int
        A model of :mod:`sparsefield._gabor_kernels`.
    shape : tuple of int
    n_maps : int

    Returns
    -------
    lower, upper : ndarray of shape (n_maps, 9)
    """
    lower = np.full(9, -np.inf)
    upper = np.full(9, np.inf)
    largest = 2.0 * max(shape)
    width = shape[-1]
    lower[0], upper[0] = -0.25 * width, 1.25 * width
    if kind in (GABOR_2D, DOG_2D):
        lower[1], upper[1] = -0.25 * shape[0], 1.25 * shape[0]
        sigmas = [2, 3]
    else:
        sigmas = [1]
    lower[sigmas], upper[sigmas] = MIN_SIGMA, largest
    if kind == GABOR_2D:
        lower[5], upper[5] = -0.5, 0.5
    elif kind == GABOR_1D:
        lower[2], upper[2] = -0.5, 0.5
    else:
        ratio = 8 if kind == DOG_2D else 5
        lower[ratio], upper[ratio] = SURROUND_RATIOS
    return np.tile(lower, (n_maps, 1)), np.tile(upper, (n_maps, 1))


def canonical_gabor(params: NDArray[np.float64], n_dims: int) -> NDArray[np.float64]:
    """Fitted Gabors in the canonical form: ``amplitude > 0``, ``frequency >= 0``,
    ``phase`` in ``[0, 2 pi)``, and (2-D) ``theta`` in ``[0, pi)``; the same maps.

    A negative amplitude adds pi to the phase; a negative frequency turns the carrier
    round (2-D: ``theta + pi``; 1-D: the phase changes sign); a ``theta`` in
    ``[pi, 2 pi)`` becomes ``theta - pi`` with the phase's sign changed (``x'`` changes
    sign).

    Parameters
    ----------
    params : ndarray of shape (n_maps, 9)
        Order of :data:`GABOR_NAMES` (``n_dims`` 2) or :data:`GABOR_1D_NAMES` (1).
    n_dims : int

    Returns
    -------
    params : ndarray of shape (n_maps, 9)
        A new array.
    """
    params = params.copy()
    if n_dims == 1:
        freq, phase, amp = 2, 3, 4
        params[:, 1] = np.abs(params[:, 1])
    else:
        theta, freq, phase, amp = 4, 5, 6, 7
        params[:, [2, 3]] = np.abs(params[:, [2, 3]])
    negative = params[:, amp] < 0
    params[negative, amp] *= -1.0
    params[negative, phase] += np.pi
    negative = params[:, freq] < 0
    params[negative, freq] *= -1.0
    if n_dims == 1:
        params[negative, phase] *= -1.0
    else:
        params[negative, theta] += np.pi
        params[:, theta] = np.mod(params[:, theta], 2.0 * np.pi)
        turned = params[:, theta] >= np.pi
        params[turned, theta] -= np.pi
        params[turned, phase] *= -1.0
        params[:, theta] = np.mod(params[:, theta], np.pi)
    params[:, phase] = np.mod(params[:, phase], 2.0 * np.pi)
    return params


def canonical_gaussian(params: NDArray[np.float64], n_dims: int) -> NDArray[np.float64]:
    """Fitted differences of Gaussians with positive SDs and (2-D) ``theta`` in
    ``[0, pi)`` (the ellipse is the same turned by pi); a new array.

    Parameters
    ----------
    params : ndarray of shape (n_maps, 9)
        Order of :data:`GAUSSIAN_NAMES` (``n_dims`` 2) or :data:`GAUSSIAN_1D_NAMES` (1).
    n_dims : int

    Returns
    -------
    params : ndarray of shape (n_maps, 9)
    """
    params = params.copy()
    if n_dims == 1:
        params[:, 1] = np.abs(params[:, 1])
    else:
        params[:, [2, 3]] = np.abs(params[:, [2, 3]])
        params[:, 4] = np.mod(params[:, 4], np.pi)
    return params
