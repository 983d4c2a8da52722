"""Greyscale images for sparse coding: scikit-image's photographs, a folder, or an array file.

:func:`load_images` turns one ``source`` into an :class:`ImageSet`: a list of
2-D float64 arrays and one name per image.  Three kinds of source are
understood:

scikit-image names
    A list or tuple of names from :data:`SKIMAGE_IMAGES`, e.g.
    ``["camera", "grass"]``.  These photographs and textures ship inside
    scikit-image's wheel; they are read from the package folder itself, so
    nothing is ever downloaded.
a folder
    Every ``.png``, ``.jpg``, ``.jpeg``, ``.tif`` or ``.tiff`` file in it,
    in order of file name.  Any other entry (a text file, a subfolder, a
    hidden file) is refused by name, so a stray file is never skipped
    silently.  An image is named by its file name (``"img03.png"``).
an array file
    ``.npy`` (read with ``allow_pickle=False``) or ``.mat`` (MATLAB v5 or
    v7.3, read by :func:`sparsefield.io.readers.read_variables`) holding one
    2-D image or a 3-D stack.  See :func:`load_images` for the axis
    convention.  Image ``k`` of a stack in ``IMAGES.mat`` is named
    ``"IMAGES[k]"``; a single 2-D image is named by the file's stem.

A single image file (``.png`` etc.) is accepted as well.

Conversion
----------
Integer images are divided by their dtype's maximum (``uint8`` by 255,
``uint16`` by 65535, bool as 0/1); colour images become grey with
:func:`skimage.color.rgb2gray` (an alpha channel is dropped first; a
grey + alpha image keeps its grey channel).  With the default
``scale="unit"`` every value must then lie in [0, 1]; float images outside
that range are refused with a message that offers ``scale="minmax"`` (one
linear map of the whole source onto [0, 1]) or ``scale="none"`` (keep the
values, e.g. for pre-whitened images such as Olshausen's ``IMAGES.mat``).
"""

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sparsefield._typing import StrPath
from sparsefield.errors import InputError

#: scikit-image images that ship inside its wheel (read offline) and are
#: natural photographs or textures, with their file in ``skimage/data``.
_SKIMAGE_FILES = {
    "camera": "camera.png",
    "astronaut": "astronaut.png",
    "coffee": "coffee.png",
    "chelsea": "chelsea.png",
    "rocket": "rocket.jpg",
    "moon": "moon.png",
    "coins": "coins.png",
    "grass": "grass.png",
    "gravel": "gravel.png",
    "brick": "brick.png",
}

#: Names :func:`load_images` accepts in a list: natural photographs
#: (camera, astronaut, coffee, chelsea, rocket, moon, coins) and textures
#: (grass, gravel, brick), all read from scikit-image's own package folder.
#: Left out on purpose: synthetic or binary images (horse, checkerboard,
#: logo, shepp_logan_phantom), text (text, page), microscopy and medical
#: images (cell, retina, microaneurysms, immunohistochemistry), motion-blurred
#: or mostly empty ones (clock, hubble_deep_field), and everything scikit-image
#: would have to download.
SKIMAGE_IMAGES = tuple(_SKIMAGE_FILES)

#: Extensions (lower case) read as image files.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff")

#: Extensions (lower case) read as array files.
ARRAY_EXTENSIONS = (".npy", ".mat")

#: Values of ``scale`` in :func:`load_images`.
SCALES = ("unit", "minmax", "none")


@dataclass(frozen=True)
class ImageSet:
    """Greyscale images and their names.

    Attributes
    ----------
    images : list of ndarray of shape (height_i, width_i)
        float64, C-contiguous, finite; sizes may differ between images.
    names : tuple of str
        One unique name per image, in the same order.
    """

    images: list
    names: tuple

    @property
    def shapes(self) -> tuple[tuple[int, int], ...]:
        """``(height, width)`` of each image, as a tuple of int pairs."""
        return tuple((int(image.shape[0]), int(image.shape[1])) for image in self.images)

    def __len__(self) -> int:
        return len(self.images)


def load_images(source: StrPath | Sequence[str], *, variable: str | None = None,
                axis: int | None = None, scale: str = "unit") -> ImageSet:
    """Read greyscale images from scikit-image, a folder or an array file.

    Parameters
    ----------
    source : list of str, or str or os.PathLike
        A list/tuple of names from :data:`SKIMAGE_IMAGES`; or the path of a
        folder of images, of a ``.npy`` / ``.mat`` array file, or of one image
        file (see the module docstring).
    variable : str, optional
        ``.mat`` only: the variable holding the images.  By default the file
        must hold exactly one 2-D or 3-D numeric variable, which is used.
    axis : int, optional
        Array files only: the axis of a 3-D array that counts images.
        Default ``0`` for ``.npy`` (shape ``(n_images, height, width)``, as
        numpy code writes stacks) and ``2`` for ``.mat`` (shape
        ``(height, width, n_images)``, as MATLAB code and Olshausen's
        ``IMAGES.mat`` do).  Ignored for a 2-D array (one image).  Array files
        hold greyscale images only.
    scale : {"unit", "minmax", "none"}, default "unit"
        ``"unit"``: after integer images are divided by their dtype maximum,
        every value must lie in [0, 1].  ``"minmax"``: one linear map takes
        the smallest value of the whole source to 0 and the largest to 1.
        ``"none"``: values are kept as read (after the integer division).

    Returns
    -------
    ImageSet
        2-D float64 images with finite values, and their names.

    Raises
    ------
    InputError
        Naming the file (or ``source`` / the scikit-image name) when a path is
        missing, a folder holds a non-image file or no image, a file cannot be
        read, an image is not 2-D greyscale or RGB(A), holds NaN or infinite
        values, or falls outside [0, 1] under ``scale="unit"``.
    """
    if scale not in SCALES:
        raise InputError("scale", f"must be one of {', '.join(SCALES)}, got {scale!r}")
    if isinstance(source, (list, tuple)):
        if variable is not None or axis is not None:
            raise InputError("variable", "variable and axis apply only to array files")
        images, names, sources = _load_skimage(source)
    elif isinstance(source, (str, os.PathLike)):
        images, names, sources = _load_path(os.fspath(source), variable, axis)
    else:
        raise InputError(
            "source",
            "must be a list of scikit-image names or the path of a folder or array file, "
            f"got {type(source).__name__}",
        )
    images = _apply_scale(images, sources, scale, source)
    return ImageSet(images=images, names=tuple(names))


# --- sources ---------------------------------------------------------------------------


def _skimage_folder() -> str:
    import skimage.data

    return os.path.dirname(skimage.data.__file__)


def _load_skimage(names: Sequence[str]) -> tuple[list[NDArray[np.float64]], list[str], list[str]]:
    if len(names) == 0:
        raise InputError("source", "the list of scikit-image names is empty")
    for name in names:
        if not isinstance(name, str) or name not in _SKIMAGE_FILES:
            raise InputError(
                "source",
                f"{name!r} is not one of the scikit-image images read offline "
                f"(known: {', '.join(SKIMAGE_IMAGES)})",
            )
    _check_unique(names)
    folder = _skimage_folder()
    images, sources = [], []
    for name in names:
        where = f"scikit-image image {name!r}"
        path = os.path.join(folder, _SKIMAGE_FILES[name])
        if not os.path.isfile(path):
            raise InputError(
                where,
                f"is not shipped with this scikit-image installation ({path} is missing); "
                "use a folder of images instead",
            )
        images.append(_to_grey(_read_image_file(path), where))
        sources.append(where)
    return images, list(names), sources


def _load_path(path: str, variable: str | None,
               axis: int | None) -> tuple[list[NDArray[np.float64]], list[str], list[str]]:
    if not os.path.exists(path):
        hint = ""
        if path in _SKIMAGE_FILES:
            hint = f"; to use scikit-image's image pass a list, e.g. [{path!r}]"
        raise InputError(path, f"not found{hint}")
    if os.path.isdir(path):
        if variable is not None or axis is not None:
            raise InputError("variable", "variable and axis apply only to array files")
        return _load_folder(path)
    extension = os.path.splitext(path)[1].lower()
    if extension in ARRAY_EXTENSIONS:
        return _load_array_file(path, extension, variable, axis)
    if extension in IMAGE_EXTENSIONS:
        if variable is not None or axis is not None:
            raise InputError("variable", "variable and axis apply only to array files")
        return [_to_grey(_read_image_file(path), path)], [os.path.basename(path)], [path]
    expected = ", ".join(IMAGE_EXTENSIONS + ARRAY_EXTENSIONS)
    raise InputError(path, f"is neither an image nor an array file (expected {expected})")


def _load_folder(folder: str) -> tuple[list[NDArray[np.float64]], list[str], list[str]]:
    entries = sorted(os.listdir(folder))
    images, names, sources = [], [], []
    for entry in entries:
        path = os.path.join(folder, entry)
        if not os.path.isfile(path) or os.path.splitext(entry)[1].lower() not in IMAGE_EXTENSIONS:
            raise InputError(
                path, f"is not an image (expected {', '.join(IMAGE_EXTENSIONS)})"
            )
        images.append(_to_grey(_read_image_file(path), path))
        names.append(entry)
        sources.append(path)
    if not images:
        raise InputError(folder, f"holds no images (expected {', '.join(IMAGE_EXTENSIONS)} files)")
    return images, names, sources


def _read_image_file(path: str) -> np.ndarray:
    import skimage.io

    try:
        return np.asarray(skimage.io.imread(path))
    except Exception as error:  # noqa: BLE001 - any reader failure means unreadable
        text = " ".join(str(error).split()) or type(error).__name__
        raise InputError(path, f"cannot be read as an image ({text[:120]})") from error


def _load_array_file(path: str, extension: str, variable: str | None,
                     axis: int | None) -> tuple[list[NDArray[np.float64]], list[str], list[str]]:
    stem = os.path.splitext(os.path.basename(path))[0]
    if extension == ".npy":
        if variable is not None:
            raise InputError("variable", f"applies only to .mat files, not {path}")
        array = _read_npy(path)
        default_axis = 0
    else:
        array = _read_mat_images(path, variable)
        default_axis = 2
    if array.dtype.kind not in "biuf":
        raise InputError(path, f"holds values of type {array.dtype}, not real numbers")
    if array.ndim == 2:
        return [_to_grey(array, path)], [stem], [path]
    if array.ndim != 3:
        raise InputError(
            path, f"expected one 2-D image or a 3-D stack of images, got shape {array.shape}"
        )
    if axis is None:
        axis = default_axis
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -3 <= axis <= 2:
        raise InputError("axis", f"must be 0, 1 or 2 for a 3-D array, got {axis!r}")
    stack = np.moveaxis(array, int(axis), 0)
    images, names, sources = [], [], []
    for index in range(stack.shape[0]):
        name = f"{stem}[{index}]"
        images.append(_to_grey(stack[index], f"{path} image {index}"))
        names.append(name)
        sources.append(f"{path} image {index}")
    if not images:
        raise InputError(path, f"holds no images (shape {array.shape}, axis {axis})")
    return images, names, sources


def _read_npy(path: str) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise InputError(
                path, "holds an object array, which is refused (it would have to be unpickled)"
            ) from error
        raise InputError(path, f"cannot be read as a .npy array ({error})") from error
    except Exception as error:  # noqa: BLE001 - rephrased for the user
        raise InputError(path, f"cannot be read as a .npy array ({error})") from error
    if not isinstance(array, np.ndarray):
        raise InputError(path, "is an .npz archive, not a single .npy array")
    return array


def _read_mat_images(path: str, variable: str | None) -> np.ndarray:
    from sparsefield.io.readers import read_variables

    if variable is None:
        candidates = _mat_image_variables(path)
        if len(candidates) != 1:
            listed = ", ".join(repr(name) for name in candidates) or "none"
            raise InputError(
                path,
                f"holds {len(candidates)} 2-D or 3-D numeric variables ({listed}); "
                "name the one to use with variable=",
            )
        variable = candidates[0]
    return read_variables(path, "mat", [variable])[variable]


def _mat_image_variables(path: str) -> list[str]:
    """Names of the 2-D and 3-D numeric variables of a MATLAB file (v5 or v7.3)."""
    import h5py
    import scipy.io

    numeric = {
        "double", "single", "logical", "int8", "int16", "int32", "int64",
        "uint8", "uint16", "uint32", "uint64",
    }
    try:
        if h5py.is_hdf5(path):
            with h5py.File(path, "r") as handle:
                names = []
                for name, node in handle.items():
                    if name.startswith("#") or not isinstance(node, h5py.Dataset):
                        continue
                    matlab_class = node.attrs.get("MATLAB_class", b"double")
                    if isinstance(matlab_class, bytes):
                        matlab_class = matlab_class.decode("ascii", "replace")
                    if str(matlab_class) in numeric and node.ndim in (2, 3):
                        names.append(name)
                return names
        return [
            name
            for name, shape, matlab_class in scipy.io.whosmat(path)
            if matlab_class in numeric and len(shape) in (2, 3)
        ]
    except Exception as error:  # noqa: BLE001 - rephrased for the user
        text = " ".join(str(error).split()) or type(error).__name__
        raise InputError(path, f"cannot be read as a MATLAB file ({text[:120]})") from error


# --- conversion ------------------------------------------------------------------------


def _to_grey(array: np.ndarray, source: str) -> NDArray[np.float64]:
    """2-D float64 greyscale image; integers divided by their dtype's maximum."""
    array = np.asarray(array)
    if array.dtype.kind not in "biuf":
        raise InputError(source, f"holds values of type {array.dtype}, not real numbers")
    if array.dtype.kind == "b":
        array = array.astype(np.float64)
    elif array.dtype.kind in "iu":
        array = array.astype(np.float64) / float(np.iinfo(array.dtype).max)
    else:
        array = array.astype(np.float64)
    if array.ndim == 3 and array.shape[2] in (2, 3, 4):
        if array.shape[2] == 2:  # grey + alpha
            array = array[:, :, 0]
        else:
            from skimage.color import rgb2gray

            array = rgb2gray(array[:, :, :3])
    if array.ndim != 2:
        raise InputError(
            source,
            f"expected a 2-D greyscale or an RGB(A) image of shape (height, width, 3 or 4), "
            f"got shape {array.shape}",
        )
    if array.size == 0:
        raise InputError(source, f"is empty (shape {array.shape})")
    if not np.all(np.isfinite(array)):
        raise InputError(source, "contains NaN or infinite values")
    return np.ascontiguousarray(array, dtype=np.float64)


def _apply_scale(images: list[NDArray[np.float64]], sources: list[str], scale: str,
                 source: object) -> list[NDArray[np.float64]]:
    if scale == "none":
        return images
    if scale == "unit":
        for image, where in zip(images, sources, strict=True):
            low, high = float(image.min()), float(image.max())
            if low < 0.0 or high > 1.0:
                raise InputError(
                    where,
                    f"values span [{low:.4g}, {high:.4g}], outside [0, 1]; pass scale='minmax' "
                    "to map the whole source linearly onto [0, 1], or scale='none' to keep the "
                    "values (e.g. for pre-whitened images)",
                )
        return images
    low = min(float(image.min()) for image in images)
    high = max(float(image.max()) for image in images)
    if not high > low:
        raise InputError(source, f"every value is {low:.4g}: cannot scale a constant source")
    return [(image - low) / (high - low) for image in images]


def _check_unique(names: Iterable[str]) -> None:
    seen = set()
    for name in names:
        if name in seen:
            raise InputError("source", f"names {name!r} more than once")
        seen.add(name)
