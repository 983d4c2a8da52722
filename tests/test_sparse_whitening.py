"""Tests for sparsefield.sparse.whitening: ZCA, Olshausen's frequency filter, unit norms."""

import numpy as np
import pytest

from sparsefield.errors import InputError
from sparsefield.sparse.images import ImageSet
from sparsefield.sparse.whitening import (
    ZCA,
    frequency_whiten,
    unit_norm,
    whiten_images,
    whitening_filter,
)


def _correlated_patches(n=3000, n_pixels=6, seed=0):
    rng = np.random.default_rng(seed)
    mixing = rng.standard_normal((n_pixels, n_pixels)) * np.linspace(0.1, 3.0, n_pixels)
    return rng.standard_normal((n, n_pixels)) @ mixing.T + rng.standard_normal(n_pixels)


def _covariance(data):
    centred = data - data.mean(axis=0)
    return centred.T @ centred / data.shape[0]


# --- ZCA -------------------------------------------------------------------------------


def test_zca_without_regulariser_whitens_training_patches_exactly():
    patches = _correlated_patches()
    zca = ZCA.fit(patches, epsilon=0.0)
    np.testing.assert_allclose(_covariance(zca.apply(patches)), np.eye(6), atol=1e-10)
    np.testing.assert_allclose(zca.apply(patches).mean(axis=0), 0.0, atol=1e-12)


def test_zca_regularised_covariance_is_lambda_over_lambda_plus_epsilon():
    # Known answer: with C = U diag(λ) Uᵀ and W = U diag(1/sqrt(λ + ε)) Uᵀ,
    # cov(W x) = W C W = U diag(λ / (λ + ε)) Uᵀ, with ε = epsilon * mean(λ).
    patches = _correlated_patches(seed=1)
    eigenvalues, vectors = np.linalg.eigh(_covariance(patches))
    epsilon = 0.3
    zca = ZCA.fit(patches, epsilon=epsilon)
    regulariser = epsilon * eigenvalues.mean()
    assert zca.regulariser == pytest.approx(regulariser)
    np.testing.assert_allclose(zca.eigenvalues, eigenvalues[::-1])
    in_eigenbasis = vectors.T @ _covariance(zca.apply(patches)) @ vectors
    np.testing.assert_allclose(
        in_eigenbasis, np.diag(eigenvalues / (eigenvalues + regulariser)), atol=1e-10
    )


def test_zca_matrix_is_symmetric_and_apply_is_the_closed_form():
    patches = _correlated_patches(seed=2)
    zca = ZCA.fit(patches)  # default epsilon
    assert zca.epsilon == 0.01
    np.testing.assert_array_equal(zca.matrix, zca.matrix.T)
    eigenvalues, vectors = np.linalg.eigh(_covariance(patches))
    gains = 1 / np.sqrt(eigenvalues + 0.01 * eigenvalues.mean())
    expected_matrix = vectors @ np.diag(gains) @ vectors.T
    np.testing.assert_allclose(zca.matrix, expected_matrix, rtol=1e-10, atol=1e-12)
    new = _correlated_patches(n=7, seed=3)
    np.testing.assert_allclose(zca.apply(new), (new - patches.mean(axis=0)) @ expected_matrix,
                               rtol=1e-10, atol=1e-12)
    # Fitting again on the same data gives the same transform.
    np.testing.assert_array_equal(ZCA.fit(patches).apply(new), zca.apply(new))


def test_zca_refuses_bad_input():
    patches = _correlated_patches(n=50)
    with pytest.raises(InputError, match="have 5 pixels, but the whitening was fit to 6"):
        ZCA.fit(patches).apply(patches[:, :5])
    rank_deficient = np.column_stack([patches, patches[:, 0] + patches[:, 1]])
    with pytest.raises(InputError, match="singular"):
        ZCA.fit(rank_deficient, epsilon=0.0)
    ZCA.fit(rank_deficient, epsilon=0.01)  # regularised: fine
    with pytest.raises(InputError, match="identical"):
        ZCA.fit(np.ones((10, 4)))
    # identical patches whose covariance is rounding noise, not exactly zero
    noisy = np.full((1000, 64), 128.0) + np.random.default_rng(0).normal(0, 1e-13, (1000, 64))
    assert np.linalg.eigvalsh(np.cov(noisy.T)).mean() > 0.0
    with pytest.raises(InputError, match="identical"):
        ZCA.fit(noisy)
    with pytest.raises(InputError, match="epsilon"):
        ZCA.fit(patches, epsilon=-0.1)
    with pytest.raises(InputError, match="at least 2 patches"):
        ZCA.fit(patches[:1])


def test_zca_npz_round_trip(tmp_path):
    zca = ZCA.fit(_correlated_patches(n=100))
    np.savez(tmp_path / "zca.npz", **zca.to_npz_dict())
    with np.load(tmp_path / "zca.npz", allow_pickle=False) as archive:
        restored = ZCA.from_npz(archive)
    assert restored.epsilon == zca.epsilon
    np.testing.assert_array_equal(restored.matrix, zca.matrix)
    np.testing.assert_array_equal(restored.mean, zca.mean)


# --- frequency whitening ---------------------------------------------------------------


@pytest.mark.parametrize("shape", [(32, 32), (24, 40), (17, 12)])
def test_an_impulse_is_whitened_to_the_filter_itself(shape):
    impulse = np.zeros(shape)
    impulse[0, 0] = 1.0  # its spectrum is 1 everywhere
    whitened = frequency_whiten(impulse, f0_fraction=0.3)
    np.testing.assert_allclose(np.fft.fft2(whitened).real, whitening_filter(shape, 0.3), atol=1e-12)
    np.testing.assert_allclose(np.fft.fft2(whitened).imag, 0.0, atol=1e-12)


def test_filter_values_and_a_cosine_on_a_non_square_image():
    filt = whitening_filter((24, 40), 0.4)
    assert filt[0, 0] == 0.0  # the mean is removed
    # Row frequency 3/24 = 0.125 and column frequency 5/40 = 0.125 cycles per pixel.
    radius = np.hypot(0.125, 0.125)
    assert filt[3, 5] == pytest.approx(radius * np.exp(-((radius / 0.4) ** 4)))
    rows, cols = np.mgrid[:24, :40]
    cosine = np.cos(2 * np.pi * (3 * rows / 24 + 5 * cols / 40))
    np.testing.assert_allclose(frequency_whiten(cosine + 7.0), filt[3, 5] * cosine, atol=1e-12)


def test_whiten_images_scales_the_set_to_the_mean_variance():
    rng = np.random.default_rng(4)
    images = ImageSet(images=[rng.random((20, 30)), rng.random((16, 16)) * 3], names=("x", "y"))
    whitened = whiten_images(images, variance=0.1)
    assert whitened.names == ("x", "y")
    assert np.mean([image.var() for image in whitened.images]) == pytest.approx(0.1)
    plain = whiten_images(images.images, variance=0.1)
    np.testing.assert_allclose(plain[1], whitened.images[1])
    ratio = whitened.images[0] / frequency_whiten(images.images[0])
    np.testing.assert_allclose(ratio, ratio.flat[0])  # one factor for the whole set
    with pytest.raises(InputError, match="f0_fraction"):
        frequency_whiten(images.images[0], f0_fraction=0.0)


# --- unit norm -------------------------------------------------------------------------


def test_unit_norm_keeps_zero_rows_zero():
    patches = np.array([[3.0, 4.0], [0.0, 0.0], [-1e-3, 0.0]])
    np.testing.assert_allclose(unit_norm(patches), [[0.6, 0.8], [0.0, 0.0], [-1.0, 0.0]])
    with pytest.raises(InputError, match="patches"):
        unit_norm(np.array([1.0, 2.0]))
