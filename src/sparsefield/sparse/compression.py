"""Compression matrices Φ (M × N) for compressed dictionary learning.

A patch ``x`` (N pixels in raster order) is measured as ``y = Φ x``
(M measurements, ``M <= N``).  Schemes (Fallah, Willats, Liu & Rozell,
NeurIPS 2020):

``"none"``
    ``Φ = I_N`` (requires ``M == N`` and ``J == 1``): no compression.
``"dense"``
    Every entry ``N(0, 1/M)`` (requires ``J == 1``).
``"bdm"`` (block diagonal)
    ``J`` independent Gaussian blocks of ``(M/J) × (N/J)`` on the block
    diagonal, entries ``N(0, J/M)``; zero elsewhere.  Measurement block ``b``
    sees only pixel block ``b``.
``"brm"`` (banded random)
    Gaussian entries inside a band around the diagonal: row ``i`` and column
    ``j`` are connected when ``j`` maps into a window of ``w = M/J`` grid
    columns around ``i`` (:func:`band_mask`).  Near the corners the band is
    cut off, not wrapped round.

The localization ``J`` (the paper's ``L = 1/J``) must divide ``M`` (and
``N`` for ``"bdm"``); ``J = 1`` means no localization.

Normalisation
-------------
With ``normalise="expected"`` (the default) every column ``j`` has unit
*expected* squared norm: its ``k_j`` non-zero entries are ``N(0, 1/k_j)``,
with ``k_j`` the number of measurements that see pixel ``j``.  This is what
the original code does for ``"dense"`` (``k_j = M``) and ``"bdm"``
(``k_j = M/J``), and it makes ``"brm"`` comparable to them: every pixel
feeds the same expected energy into the measurements, whatever the scheme
and ``J``.  ``normalise="none"`` reproduces the original ``"brm"``, whose
entries are ``N(0, 1/M)`` whatever the band, so its expected squared column
norm is ``k_j / M`` (about 0.75, 0.44, 0.23, 0.12 on average for
``J = 1, 2, 4, 8``); for ``"dense"`` and ``"bdm"`` both settings give the
same matrix.

Pixel order
-----------
With ``order="raster"`` column ``j`` of Φ is pixel ``j`` of the raster-order
patch, so a ``"bdm"`` block with ``N/J`` columns sees ``N/(J·side)`` whole
rows of the patch.  With ``order="hilbert"`` the scheme's columns are laid
along a Hilbert curve over the patch (:func:`hilbert_order`): the scheme's
``k``-th column becomes column ``hilbert_order(side)[k]`` of Φ.  Patches stay
in raster order everywhere else; only Φ changes.  A block of ``N/J``
consecutive curve points covers a compact tile (for ``J = 4`` on 16 × 16, an
8 × 8 quadrant; for ``J = 2`` an 8 × 16 half), and a ``"brm"`` row sees a
contiguous stretch of the curve.  The original code meant to do this but its
helper returned nothing, so it ran in raster order.
"""

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_float_array, as_int
from sparsefield.errors import InputError
from sparsefield.sparse.patches import as_generator

#: Compression schemes.
SCHEMES = ("none", "dense", "bdm", "brm")
#: Schemes with a localization ``J`` (the others accept only ``J = 1``).
LOCALIZED_SCHEMES = ("bdm", "brm")
#: Pixel orders.
ORDERS = ("raster", "hilbert")
#: Normalisations.
NORMALISATIONS = ("expected", "none")


def hilbert_order(side: int) -> NDArray[np.int64]:
    """Raster indices of the points of a Hilbert curve over a square patch.

    Parameters
    ----------
    side : int
        Side of the patch, a power of two (1, 2, 4, ...).

    Returns
    -------
    order : ndarray of shape (side ** 2,), int64
        A permutation of ``range(side ** 2)``: ``order[k] = row * side + col``
        of the ``k``-th point on the curve.  The curve starts at the top-left
        pixel (0, 0), ends at the top-right pixel (0, side - 1), and
        consecutive points are 4-neighbours.  Its first ``side² / 4`` points
        fill one quadrant, and so on recursively.

    Raises
    ------
    InputError
        If ``side`` is not a power of two.
    """
    side = as_int(side, "patch_size", minimum=1)
    if side & (side - 1):
        raise InputError(
            "patch_size", f"a Hilbert order needs a power-of-two patch side, got {side}"
        )
    distance = np.arange(side * side, dtype=np.int64)
    row = np.zeros_like(distance)
    col = np.zeros_like(distance)
    remaining = distance.copy()
    step = 1
    while step < side:
        # Classic distance-to-coordinates walk, one level of the curve at a time.
        quadrant_col = (remaining // 2) & 1
        quadrant_row = (remaining ^ quadrant_col) & 1
        flip = (quadrant_row == 0) & (quadrant_col == 1)
        col = np.where(flip, step - 1 - col, col)
        row = np.where(flip, step - 1 - row, row)
        swap = quadrant_row == 0
        col, row = np.where(swap, row, col), np.where(swap, col, row)
        col = col + step * quadrant_col
        row = row + step * quadrant_row
        remaining = remaining // 4
        step *= 2
    return row * side + col


def band_mask(n_measurements: int, n_pixels: int, localization: int) -> NDArray[np.bool_]:
    """Connections of the banded scheme ``"brm"``.

    Parameters
    ----------
    n_measurements : int
        ``M``, rows.
    n_pixels : int
        ``N``, columns, ``N >= M``.
    localization : int
        ``J``, dividing ``M``; the band is ``w = M / J`` grid columns wide.

    Returns
    -------
    mask : ndarray of shape (n_measurements, n_pixels), bool
        ``mask[i, j]`` is true when ``-(w // 2) <= g(j) - i < w - w // 2``,
        where ``g(j) = floor((j + 1/2) · M / N)`` is the column of an M × M
        grid that pixel ``j`` falls in when that grid is stretched to M × N
        (slope ``N / M``).  Every row and every column has at least one
        connection.  Inputs are trusted (checked by
        :func:`compression_matrix`).
    """
    width = n_measurements // localization
    grid = ((2 * np.arange(n_pixels) + 1) * n_measurements) // (2 * n_pixels)
    offset = grid[None, :] - np.arange(n_measurements)[:, None]
    return (offset >= -(width // 2)) & (offset < width - width // 2)


def compression_matrix(scheme: str, n_measurements: int, n_pixels: int, localization: int = 1,
                       seed: int | np.random.Generator | None = None, *, order: str = "raster",
                       patch_size: int | None = None,
                       normalise: str = "expected") -> NDArray[np.float64]:
    """Draw a compression matrix Φ.

    Parameters
    ----------
    scheme : {"none", "dense", "bdm", "brm"}
        See the module docstring.
    n_measurements : int
        ``M``, number of measurements (rows), ``1 <= M <= N``.
    n_pixels : int
        ``N``, pixels per patch (columns), ``>= 1``.
    localization : int, default 1
        ``J >= 1``.  ``"bdm"``: number of blocks, must divide ``M`` and ``N``.
        ``"brm"``: band width ``M / J``, must divide ``M``.  ``"none"`` and
        ``"dense"`` accept only 1.
    seed : int or numpy.random.Generator, optional
        Source of randomness; required for every scheme but ``"none"``.
    order : {"raster", "hilbert"}, default "raster"
        How the scheme's columns map onto the patch's pixels (module
        docstring).  Ignored for ``"none"``, which is always ``I_N``.
    patch_size : int, optional
        Side of the square patch, for ``order="hilbert"``; by default
        ``sqrt(N)``.  Must be a power of two with ``patch_size² == N``.
    normalise : {"expected", "none"}, default "expected"
        ``"expected"``: every column has unit expected squared norm.
        ``"none"``: entries ``N(0, 1/M)`` for ``"brm"`` as in the original
        code.  No effect on the other schemes.

    Returns
    -------
    phi : ndarray of shape (n_measurements, n_pixels), float64

    Raises
    ------
    InputError
        Naming the parameter: unknown scheme, order or normalisation;
        ``M > N`` (compression must not expand); ``J < 1``; ``J`` not dividing
        ``M`` (or ``N``); ``J != 1`` for ``"none"``/``"dense"``; ``M != N``
        for ``"none"``; a missing seed; a patch side that is not a power of
        two or does not match ``N``.
    """
    _check_choices(scheme, order, normalise)
    n_measurements = as_int(n_measurements, "n_measurements", minimum=1)
    n_pixels = as_int(n_pixels, "n_pixels", minimum=1)
    localization = as_int(localization, "localization", minimum=1)
    size = f"M={n_measurements}"
    if n_measurements > n_pixels:
        raise InputError(
            "n_measurements",
            f"{size} > n_pixels N={n_pixels}: compression must not expand",
        )
    if scheme not in LOCALIZED_SCHEMES and localization != 1:
        raise InputError(
            "localization",
            f"J={localization}, but scheme {scheme!r} has no localization (use J=1, or "
            "scheme 'bdm' or 'brm')",
        )
    if scheme == "none":
        if n_measurements != n_pixels:
            raise InputError(
                "n_measurements",
                f"{size}, but scheme 'none' measures every pixel: it needs M = n_pixels "
                f"N={n_pixels}",
            )
        return np.eye(n_pixels)
    if n_measurements % localization:
        raise InputError(
            "localization", f"J={localization} must divide n_measurements {size}"
        )
    if scheme == "bdm" and n_pixels % localization:
        raise InputError(
            "localization", f"J={localization} must divide n_pixels N={n_pixels} for scheme 'bdm'"
        )
    columns = None
    if order == "hilbert":
        columns = _hilbert_columns(n_pixels, patch_size)
    if seed is None:
        raise InputError(
            "seed", f"scheme {scheme!r} is random: give an integer seed or a numpy Generator"
        )
    rng = as_generator(seed)
    base = _draw_scheme(rng, scheme, n_measurements, n_pixels, localization, normalise)
    if columns is None:
        return base
    phi = np.empty_like(base)
    phi[:, columns] = base
    return phi


def _check_choices(scheme: str, order: str, normalise: str) -> None:
    """Raise for an unknown scheme, order or normalisation (in that order)."""
    if scheme not in SCHEMES:
        raise InputError("scheme", f"must be one of {', '.join(SCHEMES)}, got {scheme!r}")
    if order not in ORDERS:
        raise InputError("order", f"must be one of {', '.join(ORDERS)}, got {order!r}")
    if normalise not in NORMALISATIONS:
        raise InputError(
            "normalise", f"must be one of {', '.join(NORMALISATIONS)}, got {normalise!r}"
        )


def _draw_scheme(rng: np.random.Generator, scheme: str, n_measurements: int, n_pixels: int,
                 localization: int, normalise: str) -> NDArray[np.float64]:
    """The scheme's matrix in its own column order (checked sizes; ``"dense"``, ``"bdm"``
    or ``"brm"``), drawn from ``rng``.
    """
    if scheme == "dense":
        base = rng.standard_normal((n_measurements, n_pixels)) / math.sqrt(n_measurements)
    elif scheme == "bdm":
        rows, cols = n_measurements // localization, n_pixels // localization
        blocks = rng.standard_normal((localization, rows, cols)) / math.sqrt(rows)
        base = np.zeros((n_measurements, n_pixels))
        for block in range(localization):
            base[block * rows:(block + 1) * rows, block * cols:(block + 1) * cols] = blocks[block]
    else:
        mask = band_mask(n_measurements, n_pixels, localization)
        if normalise == "expected":
            scale = 1.0 / np.sqrt(mask.sum(axis=0))
        else:
            scale = np.full(n_pixels, 1.0 / math.sqrt(n_measurements))
        base = rng.standard_normal((n_measurements, n_pixels)) * scale[None, :]
        base[~mask] = 0.0
    return base


def _hilbert_columns(n_pixels: int, patch_size: int | None) -> NDArray[np.int64]:
    """Hilbert order of the patch's pixels, after checking the patch side."""
    if patch_size is None:
        side = math.isqrt(n_pixels)
        if side * side != n_pixels:
            raise InputError(
                "n_pixels",
                f"N={n_pixels} is not a square number: order 'hilbert' needs a square patch",
            )
    else:
        side = as_int(patch_size, "patch_size", minimum=1)
        if side * side != n_pixels:
            raise InputError(
                "patch_size",
                f"{side}×{side} = {side * side} pixels, but n_pixels N={n_pixels}",
            )
    return hilbert_order(side)


def wiring_mask(phi: ArrayLike) -> NDArray[np.bool_]:
    """Which measurement sees which pixel.

    Parameters
    ----------
    phi : ndarray of shape (n_measurements, n_pixels)

    Returns
    -------
    mask : ndarray of shape (n_measurements, n_pixels), bool
        ``phi != 0``.

    Raises
    ------
    InputError
        If ``phi`` is not a finite 2-D real array.
    """
    return as_float_array(phi, "phi", 2) != 0.0
