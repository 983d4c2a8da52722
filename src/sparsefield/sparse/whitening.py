"""Whitening: ZCA on patches, Olshausen's frequency filter on whole images, unit-norm patches.

Two ways to flatten the power spectrum of natural images before sparse coding:

:class:`ZCA`
    Learned from training patches: ``W = U diag(1 / sqrt(λ + ε)) Uᵀ`` from the
    eigen-decomposition ``C = U diag(λ) Uᵀ`` of the patch covariance.
:func:`frequency_whiten` / :func:`whiten_images`
    Olshausen & Field's fixed filter ``f · exp(-(f / f0)^4)`` applied to whole
    images in the Fourier domain (the preprocessing of Olshausen's
    ``IMAGES.mat``, which the compressed dictionary learning paper used).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Self, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_float, as_float_array
from sparsefield._npz import NpzMixin
from sparsefield.errors import InputError

if TYPE_CHECKING:
    from sparsefield.sparse.images import ImageSet

#: Default ZCA regulariser, as a fraction of the mean covariance eigenvalue.
DEFAULT_EPSILON = 0.01

#: Default cut-off ``f0`` of Olshausen's whole-image whitening, in cycles per pixel.
DEFAULT_F0_FRACTION = 0.4


@dataclass(frozen=True)
class ZCA(NpzMixin):
    """ZCA whitening learned from training patches.

    Attributes
    ----------
    mean : ndarray of shape (n_pixels,)
        Mean training patch, subtracted before whitening.
    matrix : ndarray of shape (n_pixels, n_pixels)
        Symmetric whitening matrix ``U diag(1 / sqrt(λ + regulariser)) Uᵀ``.
    eigenvalues : ndarray of shape (n_pixels,)
        Eigenvalues ``λ`` of the training covariance, in decreasing order
        (tiny negative rounding errors clipped to 0).
    epsilon : float
        The regulariser relative to the mean eigenvalue (see :meth:`fit`).

    Notes
    -----
    The covariance is ``Xcᵀ Xc / n`` (divided by ``n``, not ``n - 1``) with
    ``Xc`` the mean-subtracted training patches, so that with ``epsilon = 0``
    the whitened training patches have covariance exactly ``I``.  In general
    the whitened training covariance is ``U diag(λ / (λ + regulariser)) Uᵀ``:
    directions with variance well above the regulariser come out with unit
    variance, those well below it are damped instead of amplified.
    """

    mean: np.ndarray
    matrix: np.ndarray
    eigenvalues: np.ndarray
    epsilon: float

    @property
    def regulariser(self) -> float:
        """Absolute regulariser added to every eigenvalue: ``epsilon * mean(λ)``."""
        return float(self.epsilon * self.eigenvalues.mean())

    @classmethod
    def fit(cls, patches: ArrayLike, epsilon: float = DEFAULT_EPSILON) -> Self:
        """Learn the whitening from training patches.

        Parameters
        ----------
        patches : ndarray of shape (n_patches, n_pixels)
            Training patches (rows), ``n_patches >= 2``.
        epsilon : float, default 0.01
            Regulariser as a fraction of the mean eigenvalue of the covariance
            (the mean pixel variance, ``trace(C) / n_pixels``): the matrix uses
            ``λ + epsilon * mean(λ)``.  Being relative, the same value suits
            any scaling of the images.  On natural-image patches the mean
            eigenvalue is dominated by the few lowest-frequency directions
            (16 × 16 patches of scikit-image's photographs: the top eigenvalue
            holds three quarters of the variance) and the highest-frequency
            eigenvalues are about 1 % of the mean, so the default 0.01 rolls
            the whitened spectrum off near the Nyquist frequency (as
            Olshausen's ``exp(-(f/f0)^4)`` does) instead of amplifying the
            highest-frequency noise; 0.1 would damp about three quarters of
            the directions.  ``0`` gives exact whitening and needs a
            full-rank covariance.

        Returns
        -------
        ZCA

        Raises
        ------
        InputError
            If ``patches`` is not 2-D, finite, with at least two rows; if the
            patches are all identical; or if ``epsilon == 0`` and the
            covariance is singular.
        """
        patches = as_float_array(patches, "patches", 2)
        if patches.shape[0] < 2 or patches.shape[1] < 1:
            raise InputError(
                "patches", f"needs at least 2 patches of at least 1 pixel, got {patches.shape}"
            )
        epsilon = as_float(epsilon, "epsilon", minimum=0.0)
        mean = patches.mean(axis=0)
        centred = patches - mean
        covariance = centred.T @ centred / patches.shape[0]
        eigenvalues, vectors = np.linalg.eigh(covariance)
        eigenvalues = np.clip(eigenvalues[::-1], 0.0, None)
        vectors = vectors[:, ::-1]
        mean_eigenvalue = eigenvalues.mean()
        # Relative to the patches' mean square: identical patches leave rounding noise
        # (~1e-16 of it) in the covariance, which must not be whitened up to unit variance.
        if not mean_eigenvalue > 1e-12 * float(np.mean(np.square(mean))):
            raise InputError("patches", "are all identical: there is nothing to whiten")
        regulariser = epsilon * mean_eigenvalue
        smallest = eigenvalues[-1] + regulariser
        if not smallest > 1e-12 * (eigenvalues[0] + regulariser):
            rank = int(np.sum(eigenvalues > 1e-12 * eigenvalues[0]))
            raise InputError(
                "epsilon",
                f"is 0 but the patch covariance is singular (rank {rank} < "
                f"{patches.shape[1]}); use epsilon > 0",
            )
        matrix = (vectors / np.sqrt(eigenvalues + regulariser)) @ vectors.T
        matrix = (matrix + matrix.T) / 2.0
        return cls(mean=mean, matrix=matrix, eigenvalues=eigenvalues, epsilon=epsilon)

    def apply(self, patches: ArrayLike) -> NDArray[np.float64]:
        """Whiten patches: ``(patches - mean) @ matrix``.

        Parameters
        ----------
        patches : ndarray of shape (n_patches, n_pixels)

        Returns
        -------
        whitened : ndarray of shape (n_patches, n_pixels), float64

        Raises
        ------
        InputError
            If ``patches`` is not 2-D and finite with ``n_pixels`` columns.
        """
        patches = as_float_array(patches, "patches", 2)
        if patches.shape[1] != self.mean.shape[0]:
            raise InputError(
                "patches",
                f"have {patches.shape[1]} pixels, but the whitening was fit to "
                f"{self.mean.shape[0]}",
            )
        return (patches - self.mean) @ self.matrix


def whitening_filter(shape: tuple[int, int],
                     f0_fraction: float = DEFAULT_F0_FRACTION) -> NDArray[np.float64]:
    """Olshausen's whitening / low-pass filter on the grid of :func:`numpy.fft.fft2`.

    Parameters
    ----------
    shape : (int, int)
        ``(height, width)`` of the image.
    f0_fraction : float, default 0.4
        Cut-off frequency ``f0`` in cycles per pixel (the Nyquist frequency is
        0.5).  For a square ``N × N`` image this is Olshausen's
        ``f0 = 0.4 N`` cycles per image.

    Returns
    -------
    filter : ndarray of shape (height, width), float64
        ``f · exp(-(f / f0)^4)`` with ``f = sqrt(fy² + fx²)`` the radial
        frequency in cycles per pixel, ``fy = numpy.fft.fftfreq(height)`` and
        ``fx = numpy.fft.fftfreq(width)`` (entry ``[0, 0]`` is the mean, which
        the filter removes).

    Notes
    -----
    Frequencies are measured in cycles per pixel along each axis on the
    image's own frequency grid, so a non-square image is filtered
    isotropically in space (the same physical frequency gets the same gain
    along rows and columns).  Olshausen measured ``f`` in cycles per image of
    a square image, which makes his filter ``N`` times this one; the constant
    does not matter because :func:`whiten_images` rescales the set and patches
    are usually scaled to unit norm afterwards.
    """
    height, width = (int(size) for size in shape)
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.fftfreq(width)[None, :]
    radius = np.sqrt(fy * fy + fx * fx)
    return radius * np.exp(-((radius / f0_fraction) ** 4))


def frequency_whiten(image: ArrayLike,
                     f0_fraction: float = DEFAULT_F0_FRACTION) -> NDArray[np.float64]:
    """Whiten one whole image with Olshausen's filter ``f · exp(-(f / f0)^4)``.

    Parameters
    ----------
    image : ndarray of shape (height, width)
        Greyscale image, finite values, any size (need not be square).
    f0_fraction : float, default 0.4
        Cut-off in cycles per pixel (see :func:`whitening_filter`).

    Returns
    -------
    whitened : ndarray of shape (height, width), float64
        ``real(ifft2(fft2(image) * whitening_filter(image.shape, f0_fraction)))``:
        zero mean; the gain ``f`` flattens the ``1/f`` amplitude spectrum of
        natural images up to about ``f0``, above which ``exp(-(f/f0)^4)`` cuts
        off.  The image is treated as periodic (as Olshausen did), so opposite
        edges interact slightly.

    Raises
    ------
    InputError
        If ``image`` is not a non-empty 2-D finite array or ``f0_fraction`` is
        not positive.
    """
    image = as_float_array(image, "image", 2, allow_empty=False)
    f0_fraction = as_float(f0_fraction, "f0_fraction", minimum=0.0, strict=True)
    spectrum = np.fft.fft2(image) * whitening_filter(image.shape, f0_fraction)
    return np.ascontiguousarray(np.fft.ifft2(spectrum).real)


@overload
def whiten_images(images: ImageSet, f0_fraction: float = ...,
                  variance: float = ...) -> ImageSet: ...


@overload
def whiten_images(images: Sequence[ArrayLike], f0_fraction: float = ...,
                  variance: float = ...) -> list[NDArray[np.float64]]: ...


def whiten_images(images: ImageSet | Sequence[ArrayLike], f0_fraction: float = DEFAULT_F0_FRACTION,
                  variance: float = 0.1) -> ImageSet | list[NDArray[np.float64]]:
    """Frequency-whiten a set of images and scale the set to a mean variance.

    Parameters
    ----------
    images : ImageSet or sequence of ndarray of shape (height_i, width_i)
    f0_fraction : float, default 0.4
        Cut-off in cycles per pixel (see :func:`whitening_filter`).
    variance : float, default 0.1
        Mean over images of each whitened image's variance after scaling (one
        factor for the whole set, as for Olshausen's ``IMAGES.mat``).

    Returns
    -------
    ImageSet or list of ndarray
        Same type as given (an ImageSet keeps its names).

    Raises
    ------
    InputError
        If an image is not 2-D and finite, a parameter is not positive, or
        every whitened image is constant.
    """
    from sparsefield.sparse.images import ImageSet

    variance = as_float(variance, "variance", minimum=0.0, strict=True)
    arrays = images.images if isinstance(images, ImageSet) else list(images)
    if not arrays:
        raise InputError("images", "no images given")
    whitened = [frequency_whiten(image, f0_fraction) for image in arrays]
    mean_variance = float(np.mean([image.var() for image in whitened]))
    if not mean_variance > 0.0:
        raise InputError("images", "are constant: whitening leaves nothing")
    factor = np.sqrt(variance / mean_variance)
    whitened = [image * factor for image in whitened]
    if isinstance(images, ImageSet):
        return ImageSet(images=whitened, names=images.names)
    return whitened


def unit_norm(patches: ArrayLike) -> NDArray[np.float64]:
    """Scale each patch (row) to unit Euclidean norm.

    Parameters
    ----------
    patches : ndarray of shape (n_patches, n_pixels)

    Returns
    -------
    normalised : ndarray of shape (n_patches, n_pixels), float64
        ``patches[k] / ||patches[k]||``; an all-zero row stays zero.

    Raises
    ------
    InputError
        If ``patches`` is not 2-D and finite.
    """
    patches = as_float_array(patches, "patches", 2)
    norms = np.sqrt(np.einsum("ij,ij->i", patches, patches))
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0.0)
    return patches * scale[:, None]
