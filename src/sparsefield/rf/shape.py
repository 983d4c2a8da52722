"""Where a receptive field lies and how large it is, from its spatial map.

Three stimulus geometries are told apart by the frame shape alone, in one place
(:func:`stimulus_geometry`): a full-field flicker ``(1, 1)`` has no space, bars
``(1, width)`` or ``(height, 1)`` have one spatial axis, and a checkerboard
``(height, width)`` has two.  The figures of :mod:`sparsefield.plots` and the
moment fit here both follow it.

:func:`moment_fit` summarises a spatial map by the second moments of its
dominant-sign mass: the sign of the largest ``|value|`` is the polarity (ON for
+, OFF for -), the pixels of that sign whose magnitude is above ``threshold``
times the peak's are kept, and their magnitudes minus that level are the
weights of a mean (the centre) and a covariance (the 1-σ ellipse).  Weighting
by the excess over the level, rather than by the magnitude itself, lets a pixel
enter the sums continuously as the field moves across the pixel grid (the hard
cut biased the centre of a sampled Gaussian by up to 0.1 px).  Cutting a
Gaussian at a fraction of its peak removes its tails and shrinks its second
moments by a factor that depends only on the fraction; by default that factor
is divided out, so that a Gaussian blob gives back its own covariance.
:func:`peak_position` is the pixel of the largest ``|value|``.

Coordinates are pixels: ``row`` down the frame, ``col`` across it, the centre
of the top-left pixel at ``(0, 0)``.  Maps are flattened frames in C order
(``pixel = row * width + col``), or the frames themselves.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_float
from sparsefield.errors import InputError

#: The stimulus geometries :func:`stimulus_geometry` tells apart.
GEOMETRIES = ("full_field", "bars", "grid")

#: Default fraction of the peak below which pixels do not count in :func:`moment_fit`.
DEFAULT_THRESHOLD = 0.2


def stimulus_geometry(frame_shape: Sequence[int]) -> str:
    """The kind of stimulus a frame shape describes.

    Parameters
    ----------
    frame_shape : tuple of int
        ``(height, width)``, both >= 1.

    Returns
    -------
    {"full_field", "bars", "grid"}
        ``"full_field"`` for ``(1, 1)`` (one intensity per frame);
        ``"bars"`` when exactly one of height and width is 1 (``(1, width)``:
        bars side by side along the columns; ``(height, 1)``: along the rows);
        ``"grid"`` otherwise (a checkerboard).

    Raises
    ------
    sparsefield.errors.InputError
        When ``frame_shape`` is not two positive integers.
    """
    height, width = frame_size(frame_shape)
    if height == 1 and width == 1:
        return "full_field"
    if height == 1 or width == 1:
        return "bars"
    return "grid"


def frame_size(frame_shape: Sequence[int]) -> tuple[int, int]:
    """``(height, width)`` as two Python ints >= 1, or InputError naming ``frame_shape``."""
    try:
        sizes = tuple(frame_shape)
    except TypeError:
        raise InputError("frame_shape", f"expected (height, width), got {frame_shape!r}") from None
    if len(sizes) != 2:
        raise InputError("frame_shape", f"expected (height, width), got {frame_shape!r}")
    checked = []
    for size in sizes:
        integral = isinstance(size, (int, np.integer)) and not isinstance(size, (bool, np.bool_))
        if not integral and isinstance(size, (float, np.floating)) and float(size).is_integer():
            integral = True
        if not integral or int(size) < 1:
            raise InputError("frame_shape",
                             f"expected two integers >= 1 (height, width), got {frame_shape!r}")
        checked.append(int(size))
    return checked[0], checked[1]


@dataclass(frozen=True)
class MomentFit:
    """Centre and extent of a receptive field from the moments of its map.

    Attributes
    ----------
    geometry : {"full_field", "bars", "grid"}
        :func:`stimulus_geometry` of the frame shape.
    polarity : int
        +1 when the largest ``|value|`` is positive (ON), -1 when negative
        (OFF), 0 when the map is all zero.
    centre : ndarray of shape (2,)
        ``(row, col)`` in pixels, weighted mean of the kept pixels.  For bars
        the coordinate across the bars is 0; NaN for a full field or an
        all-zero map.
    covariance : ndarray of shape (2, 2)
        Covariance of ``(row, col)`` in pixels²; for bars only the entry
        along the bars is non-zero.  NaN for a full field or an all-zero map.
    major, minor : float
        Semi-axes of the 1-σ ellipse (square roots of the covariance's
        eigenvalues), pixels; ``minor`` is 0 for bars.
    angle_deg : float
        Direction of the major axis, degrees in (-90, 90], from the column
        axis (to the right) towards increasing rows (down the frame); the
        ``angle`` of :class:`matplotlib.patches.Ellipse` drawn at
        ``(col, row)`` on an image shown with rows down.  0 when the ellipse
        is a circle; 0 for bars along columns, 90 for bars along rows.
    n_pixels : int
        Number of pixels that carried weight.
    threshold : float
        Fraction of the peak used.
    """

    geometry: str
    polarity: int
    centre: np.ndarray
    covariance: np.ndarray
    major: float
    minor: float
    angle_deg: float
    n_pixels: int
    threshold: float

    @property
    def ellipse(self) -> tuple[float, float, float]:
        """``(major, minor, angle_deg)``, the 1-σ ellipse."""
        return self.major, self.minor, self.angle_deg

    @property
    def position(self) -> float:
        """Bars: the centre along the bars, else NaN.

        The column for ``(1, width)``, the row for ``(height, 1)``.
        """
        if self.geometry != "bars":
            return math.nan
        return float(self.centre[1] if self.angle_deg == 0.0 else self.centre[0])

    @property
    def width(self) -> float:
        """Bars: the standard deviation σ along the bars (1-σ half-width, pixels); else NaN."""
        return self.major if self.geometry == "bars" else math.nan


def moment_fit(spatial_map: ArrayLike, frame_shape: Sequence[int], *,
               threshold: float = DEFAULT_THRESHOLD, gaussian: bool = True) -> MomentFit:
    """Centre, covariance and 1-σ ellipse of a spatial map's dominant-sign mass.

    Parameters
    ----------
    spatial_map : array_like of shape (n_pixels,) or (height, width)
        One map, pixels in C order when flattened; NaN entries are ignored.
    frame_shape : tuple of int
        ``(height, width)`` with ``height * width == n_pixels``.
    threshold : float in [0, 1), default 0.2
        Pixels whose value has the polarity's sign and a magnitude of at
        least ``level = threshold * |peak|`` are kept, with weight
        ``magnitude - level``.
    gaussian : bool, default True
        Divide the covariance by the factor by which cutting a Gaussian
        profile at ``threshold`` of its peak shrinks its second moments (in
        two dimensions for a grid, one for bars), so that a Gaussian blob
        gives back its own covariance.  The factor is 1 at ``threshold=0``.
        False gives the plain moments of the kept pixels.

    Returns
    -------
    MomentFit
        For a full field (``(1, 1)``) there is no position or extent: the
        centre, covariance and ellipse are NaN, only the polarity is set.

    Raises
    ------
    sparsefield.errors.InputError
        On a map whose size does not match ``frame_shape``, a map with no
        finite value, or a threshold outside [0, 1).
    """
    height, width = frame_size(frame_shape)
    geometry = stimulus_geometry((height, width))
    threshold = as_float(threshold, "threshold", minimum=0.0)
    if threshold >= 1.0:
        raise InputError("threshold", f"must be in [0, 1), got {threshold}")
    image = _as_map(spatial_map, (height, width), "spatial_map")
    finite = np.where(np.isfinite(image), image, 0.0)
    peak = float(finite.flat[int(np.argmax(np.abs(finite)))])
    polarity = int(np.sign(peak))
    empty = np.full(2, math.nan), np.full((2, 2), math.nan)
    if polarity == 0 or geometry == "full_field":
        return MomentFit(geometry, polarity, *empty, math.nan, math.nan, math.nan, 0, threshold)
    mass = polarity * finite
    level = threshold * abs(peak)
    weights = np.where(mass >= level, mass - level, 0.0) if level > 0.0 else np.maximum(mass, 0.0)
    rows, cols = np.indices((height, width), dtype=float)
    total = weights.sum()
    centre = np.array([(weights * rows).sum(), (weights * cols).sum()]) / total
    d_row, d_col = rows - centre[0], cols - centre[1]
    covariance = np.array([
        [(weights * d_row * d_row).sum(), (weights * d_row * d_col).sum()],
        [(weights * d_col * d_row).sum(), (weights * d_col * d_col).sum()],
    ]) / total
    if gaussian:
        covariance = covariance / _truncation_factor(threshold, 2 if geometry == "grid" else 1)
    major, minor, angle_deg = _ellipse(covariance)
    if geometry == "bars":  # the ellipse lies along the bars, whatever its length
        angle_deg = 0.0 if height == 1 else 90.0
    return MomentFit(geometry, polarity, centre, covariance, major, minor, angle_deg,
                     int(np.count_nonzero(weights)), threshold)


def peak_position(spatial_map: ArrayLike, frame_shape: Sequence[int]) -> tuple[int, int]:
    """Pixel of the largest ``|value|`` of a map.

    Parameters
    ----------
    spatial_map : array_like of shape (n_pixels,) or (height, width)
        One map, pixels in C order when flattened; NaN entries are ignored.
    frame_shape : tuple of int
        ``(height, width)``.

    Returns
    -------
    row, col : int
        The first such pixel in C order when there are ties.

    Raises
    ------
    sparsefield.errors.InputError
        On a size mismatch or a map with no finite value.
    """
    height, width = frame_size(frame_shape)
    image = _as_map(spatial_map, (height, width), "spatial_map")
    flat = np.where(np.isfinite(image), np.abs(image), -1.0).reshape(-1)
    row, col = divmod(int(np.argmax(flat)), width)
    return row, col


def _as_map(spatial_map: ArrayLike, frame_shape: tuple[int, int], name: str) -> NDArray[np.float64]:
    """The map as a float (height, width) array with at least one finite value."""
    array = np.asarray(spatial_map)
    if array.dtype.kind not in "biuf":
        raise InputError(name, f"expected real numbers, got dtype {array.dtype}")
    n_pixels = frame_shape[0] * frame_shape[1]
    if array.shape not in ((n_pixels,), tuple(frame_shape)):
        raise InputError(
            name, f"expected shape ({n_pixels},) or {tuple(frame_shape)} for frame_shape "
            f"{frame_shape}, got {array.shape}"
        )
    image = np.asarray(array, dtype=float).reshape(frame_shape)
    if not np.any(np.isfinite(image)):
        raise InputError(name, "has no finite values")
    return image


def _truncation_factor(threshold: float, n_dims: int) -> float:
    """Per-axis second moment of a cut Gaussian over that of the whole Gaussian.

    The profile ``g(x) = exp(-|x|^2 / 2)`` (σ = 1) is weighted by ``g - t``
    inside its level set ``g >= t`` (``t = threshold``), i.e. ``|x|^2 <= 2 L``
    with ``L = ln(1 / t)``; the moments are closed forms.
    """
    if threshold <= 0.0:
        return 1.0
    level = math.log(1.0 / threshold)
    # 2-D, polar, u = |x|^2 / 2 over [0, L]: mass ∫(e^-u - t) du, second moment ∫(e^-u - t) 2u du
    if n_dims == 2:
        mass = 1.0 - threshold - threshold * level
        second = 2.0 * (1.0 - threshold * (1.0 + level)) - threshold * level * level
        return second / (2.0 * mass)
    edge = math.sqrt(2.0 * level)  # 1-D over |x| <= a: ∫(g - t) dx and ∫x^2 (g - t) dx
    gaussian = math.sqrt(2.0 * math.pi) * math.erf(edge / math.sqrt(2.0))
    mass = gaussian - 2.0 * edge * threshold
    second = gaussian - 2.0 * edge * threshold - 2.0 * threshold * edge**3 / 3.0
    return second / mass


def _ellipse(covariance: NDArray[np.float64]) -> tuple[float, float, float]:
    """Semi-axes and angle of the 1-σ ellipse of a (row, col) covariance.

    The angle is in degrees, from columns towards rows.
    """
    var_row, cov, var_col = covariance[0, 0], covariance[0, 1], covariance[1, 1]
    mean = 0.5 * (var_row + var_col)
    spread = math.hypot(0.5 * (var_col - var_row), cov)
    major = math.sqrt(max(mean + spread, 0.0))
    minor = math.sqrt(max(mean - spread, 0.0))
    if spread <= 1e-12 * max(mean, 1e-300):
        return major, minor, 0.0
    angle = 0.5 * math.degrees(math.atan2(2.0 * cov, var_col - var_row))
    if angle <= -90.0:
        angle += 180.0
    return major, minor, angle
