"""Tests for sparsefield.sparse.compression: the compression matrices and the Hilbert order.

Statistical tolerances: a sum of ``K`` independent squared Gaussian entries of
variance ``v`` has mean ``K v`` and variance ``2 K v²``.  So the mean of the
``K`` squared entries has relative standard deviation ``sqrt(2 / K)``, and the
average over ``N`` columns of squared column norms (column ``j`` holding
``k_j`` entries of variance ``1 / k_j``) has standard deviation
``sqrt(Σ_j 2 / k_j) / N``; each test writes its own out.  Every check allows
5 standard deviations: the seeds are fixed, so a test passes or fails for
good, and 5 sd keeps a correct implementation far from the edge.
"""

import numpy as np
import pytest

from sparsefield.errors import InputError
from sparsefield.sparse.compression import (
    band_mask,
    compression_matrix,
    hilbert_order,
    wiring_mask,
)


def _block_mask(m, n, j):
    mask = np.zeros((m, n), dtype=bool)
    for block in range(j):
        mask[block * m // j:(block + 1) * m // j, block * n // j:(block + 1) * n // j] = True
    return mask


# --- shapes, patterns ------------------------------------------------------------------


def test_none_is_the_identity():
    np.testing.assert_array_equal(compression_matrix("none", 16, 16), np.eye(16))
    np.testing.assert_array_equal(
        compression_matrix("none", 16, 16, order="hilbert", seed=0), np.eye(16)
    )


@pytest.mark.parametrize(
    "scheme, j", [("dense", 1), ("bdm", 1), ("bdm", 4), ("brm", 1), ("brm", 8)]
)
def test_shape_dtype_and_determinism(scheme, j):
    phi = compression_matrix(scheme, 128, 256, j, seed=3)
    assert phi.shape == (128, 256) and phi.dtype == np.float64
    np.testing.assert_array_equal(phi, compression_matrix(scheme, 128, 256, j, seed=3))
    np.testing.assert_array_equal(
        phi, compression_matrix(scheme, 128, 256, j, seed=np.random.default_rng(3))
    )
    assert not np.array_equal(phi, compression_matrix(scheme, 128, 256, j, seed=4))


@pytest.mark.parametrize("j", [1, 2, 4, 8])
def test_bdm_is_zero_outside_its_blocks_and_full_inside(j):
    phi = compression_matrix("bdm", 128, 256, j, seed=j)
    np.testing.assert_array_equal(wiring_mask(phi), _block_mask(128, 256, j))


@pytest.mark.parametrize("j, density", [(1, 0.75), (2, 0.44), (4, 0.23), (8, 0.12)])
def test_brm_is_zero_outside_the_band_with_the_original_density(j, density):
    mask = band_mask(128, 256, j)
    phi = compression_matrix("brm", 128, 256, j, seed=j)
    np.testing.assert_array_equal(wiring_mask(phi), mask)
    assert mask.mean() == pytest.approx(density, abs=0.006)  # the densities of the paper's code
    rows, cols = np.nonzero(mask)
    # |row - stretched column| stays within half a band (M / 2J) of the diagonal.
    assert np.max(np.abs(rows - (cols + 0.5) * 128 / 256)) <= 128 / (2 * j) + 1
    assert mask.any(axis=0).all() and mask.any(axis=1).all()


def test_dense_has_every_entry():
    assert wiring_mask(compression_matrix("dense", 64, 256, seed=0)).all()


# --- scales ----------------------------------------------------------------------------


def test_dense_entry_variance_and_column_norms():
    m = n = 512
    phi = compression_matrix("dense", m, n, seed=10)
    # Mean of M·N squared entries, each mean 1/M, variance 2/M²: relative sd sqrt(2 / (M N)).
    assert phi.var() * m == pytest.approx(1.0, abs=5 * np.sqrt(2 / (m * n)))
    assert np.mean(np.sum(phi**2, axis=0)) == pytest.approx(1.0, abs=5 * np.sqrt(2 / (m * n)))


@pytest.mark.parametrize("j", [1, 2, 8])
def test_bdm_entry_variance_and_column_norms(j):
    m = n = 512
    phi = compression_matrix("bdm", m, n, j, seed=20 + j)
    inside = phi[_block_mask(m, n, j)]
    # M N / J entries of variance J/M: relative sd of their mean square sqrt(2 J / (M N)).
    tolerance = 5 * np.sqrt(2 * j / (m * n))
    assert np.mean(inside**2) * m / j == pytest.approx(1.0, abs=tolerance)
    assert np.mean(np.sum(phi**2, axis=0)) == pytest.approx(1.0, abs=tolerance)


@pytest.mark.parametrize("j", [1, 4, 8])
def test_brm_expected_normalisation_gives_unit_column_norms(j):
    m = n = 512
    phi = compression_matrix("brm", m, n, j, seed=30 + j)
    connections = band_mask(m, n, j).sum(axis=0)  # k_j
    # Column j: k_j entries of variance 1/k_j, squared norm has variance 2/k_j.
    tolerance = 5 * np.sqrt(np.sum(2 / connections)) / n
    assert np.mean(np.sum(phi**2, axis=0)) == pytest.approx(1.0, abs=tolerance)
    # Each column's entries share one variance, 1 / k_j: pooled over columns.
    scaled = phi * np.sqrt(connections)[None, :]
    nonzero = scaled[band_mask(m, n, j)]
    assert np.mean(nonzero**2) == pytest.approx(1.0, abs=5 * np.sqrt(2 / nonzero.size))


@pytest.mark.parametrize("j, density", [(1, 0.75), (8, 0.12)])
def test_brm_without_normalisation_is_the_original(j, density):
    m = n = 512
    phi = compression_matrix("brm", m, n, j, seed=40 + j, normalise="none")
    nonzero = phi[band_mask(m, n, j)]
    assert np.mean(nonzero**2) * m == pytest.approx(1.0, abs=5 * np.sqrt(2 / nonzero.size))
    # Squared column norm = band density, as the original code gives.
    assert np.mean(np.sum(phi**2, axis=0)) == pytest.approx(density, abs=0.02)
    # normalise has no effect on the schemes that are already unit-norm.
    np.testing.assert_array_equal(
        compression_matrix("bdm", 64, 128, 2, seed=5, normalise="none"),
        compression_matrix("bdm", 64, 128, 2, seed=5),
    )


# --- Hilbert order ---------------------------------------------------------------------


@pytest.mark.parametrize("side", [1, 2, 4, 8, 16, 32])
def test_hilbert_order_is_a_permutation_of_4_neighbours(side):
    order = hilbert_order(side)
    assert order.shape == (side * side,)
    np.testing.assert_array_equal(np.sort(order), np.arange(side * side))
    rows, cols = np.divmod(order, side)
    steps = np.abs(np.diff(rows)) + np.abs(np.diff(cols))
    assert np.all(steps == 1)
    assert order[0] == 0


def test_hilbert_order_needs_a_power_of_two():
    with pytest.raises(InputError, match="patch_size.*power-of-two.*12"):
        hilbert_order(12)


@pytest.mark.parametrize("j, tile", [(1, (16, 16)), (2, (8, 16)), (4, (8, 8)), (16, (4, 4))])
def test_hilbert_bdm_blocks_see_compact_tiles(j, tile):
    phi = compression_matrix("bdm", 128, 256, j, seed=50, order="hilbert")
    rows_per_block = 128 // j
    for block in range(j):
        block_rows = phi[block * rows_per_block:(block + 1) * rows_per_block]
        pixels = np.flatnonzero(wiring_mask(block_rows).any(axis=0))
        assert pixels.size == 256 // j
        rows, cols = np.divmod(pixels, 16)
        extent = (rows.max() - rows.min() + 1, cols.max() - cols.min() + 1)
        assert sorted(extent) == sorted(tile)  # a full rectangle: size == area
        assert extent[0] * extent[1] == pixels.size


def test_hilbert_order_permutes_the_raster_matrix_columns():
    raster = compression_matrix("brm", 64, 256, 4, seed=60)
    hilbert = compression_matrix("brm", 64, 256, 4, seed=60, order="hilbert", patch_size=16)
    np.testing.assert_array_equal(hilbert[:, hilbert_order(16)], raster)
    patch = np.random.default_rng(0).random(256)
    np.testing.assert_allclose(hilbert @ patch, raster @ patch[hilbert_order(16)])


# --- checks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments, keywords, message",
    [
        (("dense", 300, 256), {"seed": 0},
         "n_measurements: M=300 > n_pixels N=256: compression must not expand"),
        (("bdm", 128, 256, 3), {"seed": 0}, "localization: J=3 must divide n_measurements M=128"),
        (("bdm", 96, 100, 8), {"seed": 0}, "localization: J=8 must divide n_pixels N=100"),
        (("brm", 128, 256, 0), {"seed": 0}, "localization: must be an integer >= 1"),
        (("dense", 128, 256, 2), {"seed": 0}, "localization: J=2, but scheme 'dense'"),
        (("none", 128, 256), {}, "n_measurements: M=128, but scheme 'none'"),
        (("sparse", 128, 256), {"seed": 0}, "scheme: must be one of none, dense, bdm, brm"),
        (("dense", 128, 256), {}, "seed: scheme 'dense' is random"),
        (("dense", 128, 256), {"seed": 0, "order": "zigzag"}, "order: must be one of"),
        (("brm", 128, 256), {"seed": 0, "normalise": "row"}, "normalise: must be one of"),
        (("bdm", 72, 144, 2), {"seed": 0, "order": "hilbert", "patch_size": 12},
         "patch_size: a Hilbert order needs a power-of-two patch side, got 12"),
        (("bdm", 100, 200, 2), {"seed": 0, "order": "hilbert"}, "n_pixels: N=200 is not a square"),
        (("bdm", 128, 256, 2), {"seed": 0, "order": "hilbert", "patch_size": 8},
         "patch_size: 8×8 = 64 pixels, but n_pixels N=256"),
        (("dense", 128.0, 256), {"seed": 0}, "n_measurements: must be an integer"),
    ],
)
def test_bad_arguments_name_the_parameter(arguments, keywords, message):
    with pytest.raises(InputError) as caught:
        compression_matrix(*arguments, **keywords)
    assert message in str(caught.value), str(caught.value)


def test_wiring_mask():
    phi = np.array([[0.0, 2.0], [-1.0, 0.0]])
    np.testing.assert_array_equal(wiring_mask(phi), [[False, True], [True, False]])
    with pytest.raises(InputError, match="phi"):
        wiring_mask(np.zeros(3))
