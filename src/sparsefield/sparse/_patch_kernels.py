"""Numba kernel that copies square patches out of images packed into one buffer.

Plain arrays in and out; :func:`sparsefield.sparse.patches.extract_patches`
packs the images, checks that every patch lies inside its image and allocates
nothing here but the result.
"""

from sparsefield._numba import numba

import numpy as np
from numpy.typing import NDArray


@numba.njit(cache=True)
def copy_patches(pixels: NDArray[np.float64], offsets: NDArray[np.int64], widths: NDArray[np.int64],
                 positions: NDArray[np.int64], patch_size: int) -> NDArray[np.float64]:
    """Copy ``patch_size × patch_size`` patches in raster (row-major) order.

    Parameters
    ----------
    pixels : ndarray of shape (n_pixels_total,), float64
        All images, each flattened row-major, one after the other.
    offsets : ndarray of shape (n_images,), int64
        Where image ``i`` starts in ``pixels``.
    widths : ndarray of shape (n_images,), int64
        Width (number of columns) of image ``i``.
    positions : ndarray of shape (n_patches, 3), int64
        ``(image, row, col)`` of each patch's top-left pixel; every patch lies
        inside its image.
    patch_size : int
        Side of the square patch, in pixels.

    Returns
    -------
    patches : ndarray of shape (n_patches, patch_size ** 2), float64
        ``patches[k, r * patch_size + c]`` is pixel
        ``(row + r, col + c)`` of image ``positions[k, 0]``.
    """
    n_patches = positions.shape[0]
    patches = np.empty((n_patches, patch_size * patch_size), dtype=np.float64)
    for k in range(n_patches):
        image = positions[k, 0]
        width = widths[image]
        start = offsets[image] + positions[k, 1] * width + positions[k, 2]
        for r in range(patch_size):
            source = start + r * width
            target = r * patch_size
            for c in range(patch_size):
                patches[k, target + c] = pixels[source + c]
    return patches
