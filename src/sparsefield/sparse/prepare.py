"""From images to the patch sets a dictionary is learned from, in one call.

Order of operations (each step is a function of its own module):

1. optional whole-image frequency whitening (:func:`sparsefield.sparse.whitening.whiten_images`,
   Olshausen's filter ``f·exp(−(f/f0)⁴)``, set scaled to variance 0.1);
2. training / validation / correlation patches (:func:`sparsefield.sparse.patches.make_patch_sets`;
   validation patches only from the held-out images);
3. optional ZCA whitening fitted on the training patches and applied to all three
   sets (:class:`sparsefield.sparse.whitening.ZCA`);
4. optional unit L2 norm per patch (:func:`sparsefield.sparse.whitening.unit_norm`, as the
   original code does).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sparsefield._npz import NpzMixin
from sparsefield.sparse.patches import make_patch_sets
from sparsefield.sparse.whitening import ZCA, unit_norm, whiten_images

if TYPE_CHECKING:
    from sparsefield.sparse.images import ImageSet


@dataclass(frozen=True)
class PreparedPatches(NpzMixin):
    """Patches ready for learning, and how they were made.

    Attributes
    ----------
    train : ndarray of shape (n_train, n_pixels)
    validation : ndarray of shape (n_validation, n_pixels)
    correlation : ndarray of shape (n_correlation, n_pixels)
    patch_size : int
    image_names : tuple of str
    validation_names : tuple of str
    zca_mean : ndarray of shape (n_pixels,)
        Empty when ZCA was not applied.
    zca_matrix : ndarray of shape (n_pixels, n_pixels)
        Empty (0 x 0) when ZCA was not applied.
    zca_epsilon : float
        NaN when ZCA was not applied.
    """

    train: np.ndarray
    validation: np.ndarray
    correlation: np.ndarray
    patch_size: int
    image_names: tuple
    validation_names: tuple
    zca_mean: np.ndarray
    zca_matrix: np.ndarray
    zca_epsilon: float


def prepare_patches(image_set: ImageSet, validation_names: Sequence[str], patch_size: int,
                    n_train: int, n_validation: int, n_correlation: int,
                    seed: int | np.random.Generator, *, frequency_whitening: bool = False,
                    f0_fraction: float = 0.4, zca: bool = True, zca_epsilon: float = 0.01,
                    normalise: bool = True) -> PreparedPatches:
    """Patch sets from an image set (see the module docstring for the steps).

    Parameters
    ----------
    image_set : sparsefield.sparse.images.ImageSet
    validation_names : sequence of str
        Held-out images (names in ``image_set.names``).
    patch_size, n_train, n_validation, n_correlation : int
    seed : int
    frequency_whitening : bool
    f0_fraction : float
    zca : bool
    zca_epsilon : float
        Relative to the mean eigenvalue of the training covariance.
    normalise : bool
        Unit-norm patches.

    Returns
    -------
    PreparedPatches
    """
    if frequency_whitening:
        image_set = whiten_images(image_set, f0_fraction=f0_fraction)
    sets = make_patch_sets(image_set, validation_names, patch_size, n_train, n_validation,
                           n_correlation, seed)
    patches = {"train": sets.train, "validation": sets.validation, "correlation": sets.correlation}
    n_pixels = patch_size * patch_size
    zca_mean, zca_matrix, epsilon = np.zeros(0), np.zeros((0, 0)), float("nan")
    if zca:
        fitted = ZCA.fit(sets.train, epsilon=zca_epsilon)
        patches = {name: fitted.apply(values) for name, values in patches.items()}
        zca_mean, zca_matrix, epsilon = fitted.mean, fitted.matrix, fitted.epsilon
    if normalise:
        patches = {name: unit_norm(values) for name, values in patches.items()}
    patches = {name: np.ascontiguousarray(values).reshape(-1, n_pixels)
               for name, values in patches.items()}
    return PreparedPatches(
        **patches,
        patch_size=int(patch_size),
        image_names=tuple(image_set.names),
        validation_names=tuple(validation_names),
        zca_mean=zca_mean,
        zca_matrix=zca_matrix,
        zca_epsilon=epsilon,
    )
