"""Square image patches: where to cut them, cutting them, and the three sets a run needs.

Conventions:

- A patch is ``patch_size × patch_size`` pixels flattened in raster
  (row-major) order: pixel ``(r, c)`` of the patch is entry
  ``r * patch_size + c``.
- A position is ``(image, row, col)``: the index of the image in its list and
  the patch's top-left pixel.  Image ``i`` of shape ``(H, W)`` has
  ``(H - patch_size + 1) * (W - patch_size + 1)`` valid positions (stride 1).
- Randomness comes only from a seed passed in (an integer or a
  :class:`numpy.random.Generator`); nothing reads numpy's global state.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_int
from sparsefield._npz import NpzMixin
from sparsefield.errors import InputError
from sparsefield.sparse._patch_kernels import copy_patches

if TYPE_CHECKING:
    from sparsefield.sparse.images import ImageSet


def as_generator(seed: int | np.integer | np.random.Generator,
                 name: str = "seed") -> np.random.Generator:
    """A :class:`numpy.random.Generator` from an integer seed or a Generator.

    Parameters
    ----------
    seed : int or numpy.random.Generator
        A non-negative integer (a fresh ``np.random.default_rng(seed)``) or a
        Generator, used as it is (and advanced by the caller's draws).
    name : str, default "seed"
        Source named in the error message.

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    InputError
        For anything else, ``None`` included: results must be reproducible.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (numbers.Integral, np.integer)) and not isinstance(seed, (bool, np.bool_)):
        if seed >= 0:
            return np.random.default_rng(int(seed))
    raise InputError(
        name, f"must be a non-negative integer or a numpy.random.Generator, got {seed!r}"
    )


@dataclass(frozen=True)
class PatchSets(NpzMixin):
    """Training, validation and correlation patches, and where they were cut.

    Attributes
    ----------
    train : ndarray of shape (n_train, patch_size ** 2), float64
        Patches from the training images, raster order.
    validation : ndarray of shape (n_validation, patch_size ** 2), float64
        Patches from the held-out (validation) images only.
    correlation : ndarray of shape (n_correlation, patch_size ** 2), float64
        Patches from the training images at positions not used by ``train``
        (for recovering a dictionary from compressed measurements).
    train_positions, validation_positions, correlation_positions : ndarray of shape (n, 3), int64
        ``(image, row, col)`` of each patch; ``image`` indexes ``image_names``.
    image_names : tuple of str
        Names of the images the positions refer to.
    patch_size : int
        Side of the patches, in pixels.
    """

    train: np.ndarray
    validation: np.ndarray
    correlation: np.ndarray
    train_positions: np.ndarray
    validation_positions: np.ndarray
    correlation_positions: np.ndarray
    image_names: tuple
    patch_size: int


def _image_shapes(image_shapes: Iterable[Sequence[int]],
                  names: Iterable[str] | None) -> tuple[NDArray[np.int64], tuple[str, ...]]:
    """Check shapes and names; return an (n_images, 2) int64 array and the names."""
    shapes = []
    for index, shape in enumerate(image_shapes):
        try:
            height, width = (int(size) for size in shape)
        except (TypeError, ValueError):
            raise InputError(
                "image_shapes", f"entry {index} must be (height, width), got {shape!r}"
            ) from None
        if height < 1 or width < 1:
            raise InputError("image_shapes", f"entry {index} is empty: {shape!r}")
        shapes.append((height, width))
    if not shapes:
        raise InputError("image_shapes", "no images given")
    if names is None:
        names = tuple(f"image {index}" for index in range(len(shapes)))
    else:
        names = tuple(str(name) for name in names)
        if len(names) != len(shapes):
            raise InputError("names", f"{len(names)} names for {len(shapes)} images")
    return np.array(shapes, dtype=np.int64).reshape(-1, 2), names


def _valid_counts(shapes: NDArray[np.int64], names: Sequence[str],
                  patch_size: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Valid top-left positions per image: (rows, cols), each (n_images,)."""
    for (height, width), name in zip(shapes, names, strict=True):
        if height < patch_size or width < patch_size:
            raise InputError(
                "patch_size",
                f"image {name!r} ({height}×{width}) is smaller than a "
                f"{patch_size}×{patch_size} patch",
            )
    return shapes[:, 0] - patch_size + 1, shapes[:, 1] - patch_size + 1


def _check_positions(positions: ArrayLike, shapes: NDArray[np.int64], patch_size: int,
                     name: str) -> NDArray[np.int64]:
    """(n, 3) int64 positions whose patches lie inside their images."""
    array = np.asarray(positions)
    if array.ndim != 2 or array.shape[1] != 3:
        raise InputError(name, f"expected shape (n, 3) of (image, row, col), got {array.shape}")
    if array.size and array.dtype.kind not in "iu":
        raise InputError(name, f"expected integers, got dtype {array.dtype}")
    array = np.ascontiguousarray(array, dtype=np.int64)
    image = array[:, 0]
    bad = (image < 0) | (image >= shapes.shape[0])
    if np.any(bad):
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            name, f"row {row} names image {int(image[row])}, but there are {shapes.shape[0]}"
        )
    heights = shapes[image, 0] - patch_size
    widths = shapes[image, 1] - patch_size
    bad = (array[:, 1] < 0) | (array[:, 2] < 0) | (array[:, 1] > heights) | (array[:, 2] > widths)
    if np.any(bad):
        row = int(np.flatnonzero(bad)[0])
        height, width = shapes[image[row]]
        raise InputError(
            name,
            f"row {row}: a {patch_size}×{patch_size} patch at (row {int(array[row, 1])}, "
            f"col {int(array[row, 2])}) does not fit in image {int(image[row])} "
            f"({int(height)}×{int(width)})",
        )
    return array


def sample_positions(image_shapes: Iterable[Sequence[int]], n: int, patch_size: int,
                     seed: int | np.random.Generator, *, exclude: ArrayLike | None = None,
                     names: Iterable[str] | None = None) -> NDArray[np.int64]:
    """Draw patch positions uniformly over all valid positions of all images.

    Every valid top-left position of every image is equally likely, so an
    image contributes in proportion to its number of valid positions.

    Parameters
    ----------
    image_shapes : sequence of (int, int)
        ``(height, width)`` of each image.
    n : int
        Number of positions to draw, ``n >= 0``.
    patch_size : int
        Side of the square patch, ``>= 1``.
    seed : int or numpy.random.Generator
        Source of randomness (see :func:`as_generator`).
    exclude : ndarray of shape (n_excluded, 3), optional
        Positions ``(image, row, col)`` that must not be drawn (e.g. the
        training positions, when drawing correlation patches).  Duplicates are
        allowed.
    names : sequence of str, optional
        Image names used in error messages (default ``"image 0"``, ...).

    Returns
    -------
    positions : ndarray of shape (n, 3), int64
        ``(image, row, col)`` in the order drawn (random, not sorted).
        Drawn without replacement when ``n`` does not exceed the number of
        positions left after ``exclude``; otherwise every such position is
        used once (in random order) and the remaining ``n - available`` are
        drawn with replacement.

    Raises
    ------
    InputError
        If an image is smaller than the patch (naming the image), ``exclude``
        holds a position outside the images, or every position is excluded
        while ``n > 0``.
    """
    shapes, names = _image_shapes(image_shapes, names)
    n = as_int(n, "n")
    patch_size = as_int(patch_size, "patch_size", minimum=1)
    rng = as_generator(seed)
    valid_rows, valid_cols = _valid_counts(shapes, names, patch_size)
    counts = valid_rows * valid_cols
    starts = np.concatenate(([0], np.cumsum(counts)))
    total = int(starts[-1])
    if exclude is None:
        excluded = np.empty(0, dtype=np.int64)
    else:
        exclude = _check_positions(exclude, shapes, patch_size, "exclude")
        image = exclude[:, 0]
        excluded = np.unique(starts[image] + exclude[:, 1] * valid_cols[image] + exclude[:, 2])
    available = total - excluded.size
    if n == 0:
        return np.empty((0, 3), dtype=np.int64)
    if available == 0:
        raise InputError("exclude", f"excludes all {total} valid positions; none is left to draw")
    if n <= available:
        ranks = rng.choice(available, size=n, replace=False, shuffle=True)
    else:
        ranks = np.concatenate(
            (rng.permutation(available), rng.integers(0, available, size=n - available))
        )
    ranks = np.asarray(ranks, dtype=np.int64)
    # The k-th position not excluded is k plus the number of excluded positions
    # at or before it: excluded[j] - j counts the free positions before excluded[j].
    linear = ranks + np.searchsorted(
        excluded - np.arange(excluded.size), ranks, side="right"
    )
    image = np.searchsorted(starts, linear, side="right") - 1
    local = linear - starts[image]
    positions = np.empty((n, 3), dtype=np.int64)
    positions[:, 0] = image
    positions[:, 1] = local // valid_cols[image]
    positions[:, 2] = local % valid_cols[image]
    return positions


def extract_patches(images: ImageSet | Sequence[ArrayLike] | NDArray[np.float64],
                    positions: ArrayLike, patch_size: int) -> NDArray[np.float64]:
    """Cut square patches out of images.

    Parameters
    ----------
    images : sequence of ndarray of shape (height_i, width_i), or ImageSet
        Greyscale images (sizes may differ); real, finite values.
    positions : ndarray of shape (n_patches, 3)
        Integer ``(image, row, col)`` of each patch's top-left pixel.
    patch_size : int
        Side of the square patch, ``>= 1``.

    Returns
    -------
    patches : ndarray of shape (n_patches, patch_size ** 2), float64
        Raster (row-major) order: ``patches[k].reshape(patch_size, patch_size)``
        equals ``images[i][row:row + patch_size, col:col + patch_size]``.

    Raises
    ------
    InputError
        If an image is not 2-D real and finite, or a patch does not fit in
        its image.
    """
    images = _as_image_list(images)
    patch_size = as_int(patch_size, "patch_size", minimum=1)
    shapes = np.array([image.shape for image in images], dtype=np.int64).reshape(-1, 2)
    positions = _check_positions(positions, shapes, patch_size, "positions")
    sizes = shapes[:, 0] * shapes[:, 1]
    offsets = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    pixels = np.concatenate([image.ravel() for image in images]) if images else np.empty(0)
    return copy_patches(pixels, offsets, shapes[:, 1].copy(), positions, patch_size)


def make_patch_sets(image_set: ImageSet, validation_names: str | Iterable[str], patch_size: int,
                    n_train: int, n_validation: int, n_correlation: int,
                    seed: int | np.random.Generator) -> PatchSets:
    """Training, validation and correlation patches from one image set.

    Parameters
    ----------
    image_set : ImageSet
        From :func:`sparsefield.sparse.images.load_images`.
    validation_names : sequence of str
        Names (from ``image_set.names``) of the held-out images; every other
        image is a training image.  May be empty when ``n_validation == 0``.
    patch_size : int
        Side of the square patches, ``>= 1``.
    n_train, n_validation, n_correlation : int
        Number of patches in each set, ``>= 0``.
    seed : int or numpy.random.Generator
        Source of randomness (see :func:`as_generator`).  It is split into
        independent streams for the three sets, so changing ``n_correlation``
        does not change the training or validation patches, and changing
        ``n_train`` leaves the validation patches as they were.

    Returns
    -------
    PatchSets
        Raw pixel values (no whitening, no normalisation).  Training positions
        are drawn uniformly over the training images (:func:`sample_positions`),
        validation positions over the validation images, and correlation
        positions over the training images minus the training positions.

    Raises
    ------
    InputError
        If a validation name is unknown or repeated, no training image is
        left, ``n_validation > 0`` without validation images, an image is
        smaller than the patch or blank (one value), or the images hold fewer distinct
        patch positions than asked for (``n_train`` or ``n_validation`` more than
        their images' positions; ``n_correlation`` more than the training
        images' positions left after the training patches): patches would
        repeat, and correlation patches must differ from the training ones.
    """
    from sparsefield.sparse.images import ImageSet

    if not isinstance(image_set, ImageSet):
        raise InputError("image_set", f"expected an ImageSet, got {type(image_set).__name__}")
    images = _as_image_list(image_set.images)
    names = tuple(image_set.names)
    patch_size = as_int(patch_size, "patch_size", minimum=1)
    n_train = as_int(n_train, "n_train")
    n_validation = as_int(n_validation, "n_validation")
    n_correlation = as_int(n_correlation, "n_correlation")
    train_images, validation_images = _split_images(names, validation_names, n_validation)
    shapes = [images[index].shape for index in range(len(images))]
    # Check every image against the patch size up front, naming the image.
    valid_rows, valid_cols = _valid_counts(np.array(shapes, dtype=np.int64).reshape(-1, 2),
                                           names, patch_size)
    _check_enough_positions(valid_rows * valid_cols, names, train_images, validation_images,
                            patch_size, n_train, n_validation, n_correlation)
    _check_not_blank(images, names)

    train_rng, correlation_rng, validation_rng = as_generator(seed).spawn(3)
    train_shapes = [shapes[index] for index in train_images]
    train_names = [names[index] for index in train_images]
    train_local = sample_positions(
        train_shapes, n_train, patch_size, train_rng, names=train_names
    )
    correlation_local = sample_positions(
        train_shapes, n_correlation, patch_size, correlation_rng,
        exclude=train_local, names=train_names,
    )
    if validation_images:
        validation_local = sample_positions(
            [shapes[index] for index in validation_images], n_validation, patch_size,
            validation_rng, names=[names[index] for index in validation_images],
        )
    else:
        validation_local = np.empty((0, 3), dtype=np.int64)

    train_positions = _to_global(train_local, train_images)
    correlation_positions = _to_global(correlation_local, train_images)
    validation_positions = _to_global(validation_local, validation_images)
    return PatchSets(
        train=extract_patches(images, train_positions, patch_size),
        validation=extract_patches(images, validation_positions, patch_size),
        correlation=extract_patches(images, correlation_positions, patch_size),
        train_positions=train_positions,
        validation_positions=validation_positions,
        correlation_positions=correlation_positions,
        image_names=names,
        patch_size=patch_size,
    )


def _split_images(names: tuple[str, ...], validation_names: str | Iterable[str],
                  n_validation: int) -> tuple[list[int], list[int]]:
    """Indices of the training and of the validation images, after checking the names."""
    if isinstance(validation_names, str):
        validation_names = [validation_names]
    validation_names = list(validation_names)
    for name in validation_names:
        if name not in names:
            raise InputError(
                "validation_names",
                f"{name!r} is not an image of the set (it holds: {', '.join(map(repr, names))})",
            )
    if len(set(validation_names)) != len(validation_names):
        raise InputError("validation_names", "names an image more than once")
    held_out = set(validation_names)
    train_images = [index for index, name in enumerate(names) if name not in held_out]
    validation_images = [index for index, name in enumerate(names) if name in held_out]
    if not train_images:
        raise InputError("validation_names", "holds out every image: none is left for training")
    if n_validation > 0 and not validation_images:
        raise InputError(
            "validation_names", f"is empty, but n_validation={n_validation} patches are asked for"
        )
    return train_images, validation_images


def _check_not_blank(images: Sequence[NDArray[np.float64]], names: Sequence[str]) -> None:
    """Raise for an image of one value (naming it)."""
    for image, name in zip(images, names, strict=True):
        low = float(image.min())
        if not float(image.max()) > low:
            raise InputError(
                f"image {name!r}",
                f"every pixel is {low:.4g}: a blank image holds nothing to learn from (its "
                "patches are all alike); remove it from the images",
            )


def _to_global(local: NDArray[np.int64], indices: Sequence[int]) -> NDArray[np.int64]:
    """Positions ``(image, row, col)`` with each image index mapped through ``indices``."""
    positions = local.copy()
    positions[:, 0] = np.asarray(indices, dtype=np.int64)[local[:, 0]] if len(local) else 0
    return positions


def _named(names: Sequence[str], indices: Sequence[int], limit: int = 4) -> str:
    """``'a', 'b' and 3 more``: images named in a message."""
    shown = ", ".join(repr(names[index]) for index in indices[:limit])
    return shown + (f" and {len(indices) - limit} more" if len(indices) > limit else "")


def _check_enough_positions(positions: NDArray[np.int64], names: Sequence[str],
                            train_images: Sequence[int], validation_images: Sequence[int],
                            patch_size: int, n_train: int, n_validation: int,
                            n_correlation: int) -> None:
    """Raise (naming the count that is too large) when the images hold fewer distinct
    patch positions than the sets need; ``positions`` is per image.
    """
    size = f"{patch_size}×{patch_size}"
    advice = "use more or larger images, a smaller patch_size or fewer patches"
    train_total = int(sum(positions[index] for index in train_images))
    if n_train > train_total:
        raise InputError(
            "n_train",
            f"{n_train} training patches asked for, but the training images "
            f"({_named(names, train_images)}) hold only {train_total} distinct positions of a "
            f"{size} patch, so patches would repeat; {advice} (n_train)",
        )
    if n_correlation > train_total - n_train:
        raise InputError(
            "n_correlation",
            f"{n_correlation} correlation patches must come from positions of the training "
            f"images ({_named(names, train_images)}) that no training patch uses, but of their "
            f"{train_total} positions of a {size} patch the {n_train} training patches leave "
            f"{train_total - n_train}; {advice} (n_train, n_correlation)",
        )
    validation_total = int(sum(positions[index] for index in validation_images))
    if validation_images and n_validation > validation_total:
        raise InputError(
            "n_validation",
            f"{n_validation} validation patches asked for, but the validation images "
            f"({_named(names, validation_images)}) hold only {validation_total} distinct "
            f"positions of a {size} patch, so patches would repeat; {advice} (n_validation)",
        )


def _as_image_list(images: Any) -> list[NDArray[np.float64]]:
    """List of C-contiguous float64 2-D finite arrays (accepts an ImageSet)."""
    from sparsefield._checks import as_float_array

    images = getattr(images, "images", images)
    if isinstance(images, np.ndarray) and images.ndim == 2:
        images = [images]
    result = []
    for index, image in enumerate(images):
        result.append(as_float_array(image, f"images[{index}]", 2, allow_empty=False))
    if not result:
        raise InputError("images", "no images given")
    return result
